# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Tenancy probes: what one tenant of the service must never reach of
another's, tried through the ORM as the RPC dispatcher calls it.

The models, paths, wizards and buttons come from the pool's registry: the
lk models (and the web and company models they extend), every model with a
relation to them (attachments, notes… through their resource), every lk
wizard and button. A model, field, wizard or button added later is probed
without anyone listing it.

Actors: staff of another organization, of the sub-organization, of the
parent organization, staff without rights (only «Личный кабинет»), and,
through the portal user with the subscriber in the context, another
subscriber, a delegate with partial rights (payment only) and anonymous (no
subscriber). What an actor may see is computed from the data (the
organization or account each record belongs to), not from the rules.

Operations, each on records foreign to the actor: read, search, search_count,
search_read, export_data, export_data_domain; search by a value that only
foreign records hold at the end of every relational path of depth 1 to 3
(dotted, "where" and negated: the answer must not depend on it); order by
every many2one path (no record sorted by a hidden value); write, delete,
copy, create with a foreign record's values; a delegate or staff without
the right creating or writing their own records; on_change and
on_change_with of every field with foreign ids in the values; every lk
wizard with foreign active ids and with foreign values in its start form;
every button on foreign records, and by staff not in the button's groups.
Refused means a Tryton error (UserError, AccessError…) that names nothing
foreign; invisible means empty, unchanged and without foreign text (the
char values of foreign records no visible record shares).

Structural checks: a model with a company field that staff can read has a
company rule; a model the portal user can read has a portal rule (or is
listed public in tests/tenancy.py). Every actor also finds its own records,
so that no probe passes because a rule hides everything.

Run with -s (or look at the end of the output) for the probe counts per
model × actor × operation."""
from collections import Counter
from types import SimpleNamespace

import pytest

import tenancy
from tenancy import (
    DELEGATE_RIGHTS, NOTHING, PUBLIC_TO_PORTAL, NotExposed, Probes, refused,
    rpc, savepoint)

COUNTS = Counter()


@pytest.fixture(scope='module', autouse=True)
def summary(report):
    yield
    report("tenancy probes per model × actor × operation:")
    for line in tenancy.group_counts(COUNTS):
        report(line)


@pytest.fixture
def world(demo_server):
    "The world of the probes in a transaction rolled back at the end"
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    with Transaction().start(demo_server.database, 0) as transaction:
        try:
            yield tenancy.build_world(Pool(), transaction)
        finally:
            transaction.rollback()


@pytest.fixture
def probes():
    probes = Probes()
    yield probes
    COUNTS.update(probes.counts)


def attempt(world, probes, model, actor, operation, call, check=None):
    """Run the call as a probe in a savepoint; check(result) runs before
    the rollback when the call succeeded. Returns (error, result)."""
    with savepoint(world.transaction):
        try:
            result = call()
        except NotExposed:
            return None, None
        except Exception as error:
            probes.counts[(model, actor.name, operation)] += 1
            if not refused(error):
                probes.fail(
                    model, actor, operation,
                    f"crashed: {type(error).__name__}: {error}")
            elif leaked := world.leaked_text(
                    actor, [str(error), getattr(error, 'description', '')]):
                probes.fail(
                    model, actor, operation,
                    f"the error names foreign data {leaked}: {error}")
            return error, None
        probes.counts[(model, actor.name, operation)] += 1
        if check:
            check(result)
        return None, result


def can(world, actor, model, mode='read'):
    ModelAccess = world.pool.get('ir.model.access')
    transaction = world.transaction
    with transaction.set_user(actor.user), \
            transaction.set_context(actor.context):
        return ModelAccess.get_access([model])[model][mode]


# structure ------------------------------------------------------------
def test_company_rules(world, probes):
    "Staff-readable models with a company field have a company rule"
    pool = world.pool
    RuleGroup = pool.get('ir.rule.group')
    staff = [a for a in world.actors if a.kind == 'staff']
    for model in world.probed_models():
        Model = pool.get(model)
        if Model.__access__ or not any(can(world, a, model) for a in staff):
            continue
        fields = [
            name for name, field in Model._fields.items()
            if field._type == 'many2one'
            and field.get_target().__name__ == 'company.company'
            and (model, name) not in tenancy.COMPANY_RULE_EXCEPTIONS
            and (not hasattr(field, 'get') or getattr(
                    field, 'searcher', None))]
        if not fields and model != 'company.company':
            continue
        probes.counts[(model, 'staff', 'company rule')] += 1
        with world.transaction.set_user(0):
            groups = RuleGroup.search([
                    ('model', '=', model),
                    ('perm_read', '=', True),
                    ])
        domains = [r.domain for g in groups for r in g.rules]
        if not any("companies" in d for d in domains):
            probes.fail(
                model, 'staff', 'company rule',
                f"readable by staff with {fields or ['id']} but no rule "
                "on Eval('companies')")
    probes.assert_none("company rule")


def test_portal_rules(world, probes):
    "Models the portal user can read have a portal rule or are public"
    from trytond.ir.resource import ResourceAccessMixin
    from trytond.ir.rule import _get_access_models
    pool = world.pool
    RuleGroup = pool.get('ir.rule.group')
    ModelData = pool.get('ir.model.data')
    portal_group = ModelData.get_id('lk_base', 'group_portal')
    subscriber = next(a for a in world.actors if a.kind == 'portal')
    for model in world.probed_models():
        Model = pool.get(model)
        if not can(world, subscriber, model):
            continue
        probes.counts[(model, 'portal', 'portal rule')] += 1
        if model in PUBLIC_TO_PORTAL:
            continue
        # the rule of the parent a child record belongs to
        names, _ = _get_access_models(Model)
        with world.transaction.set_user(0):
            groups = RuleGroup.search([
                    ('model', 'in', list(names)),
                    ('perm_read', '=', True),
                    ('groups', '=', portal_group),
                    ])
        if not groups and not issubclass(Model, ResourceAccessMixin):
            probes.fail(
                model, 'portal', 'portal rule',
                "readable by the portal user without a rule of the portal "
                "group: add one, or list it in PUBLIC_TO_PORTAL with why")
    probes.assert_none("portal rule")


# reading --------------------------------------------------------------
def test_read(world, probes):
    "Foreign records are refused or invisible to every way of reading"
    for model in world.probed_models():
        for actor in world.actors:
            if world.visible(model, actor) is None:
                continue
            if not can(world, actor, model):
                continue
            _own_records(world, probes, model, actor)
            foreign = world.foreign(model, actor)
            if not foreign:
                continue
            domain = [('id', 'in', foreign)]

            def no_rows(result, what="returned"):
                def check(rows):
                    if rows:
                        probes.fail(
                            model, actor, op, f"{what} {rows!r:.200}")
                return check
            for op, args in [
                    ('read', (foreign, ['id'])),
                    ('search', (domain, 0, None, None)),
                    ('search_count', (domain,)),
                    ('search_read', (domain, 0, None, None, ['id'])),
                    ('export_data_domain', (domain, ['id'])),
                    ('export_data', (foreign, ['id'])),
                    ]:
                attempt(
                    world, probes, model, actor, op,
                    lambda: rpc(world, actor, model, op, *args),
                    no_rows(None))
    probes.assert_none("read")


def _own_records(world, probes, model, actor):
    "The actor finds its own records: the probes are not vacuous"
    visible = sorted(world.visible(model, actor))
    if not visible:
        return
    sample = tenancy.spread(visible, tenancy.SAMPLE)

    def check(ids):
        if sorted(ids) != sorted(sample):
            probes.fail(
                model, actor, 'search own',
                f"its own records {sample} found as {ids}")
    attempt(
        world, probes, model, actor, 'search own',
        lambda: rpc(
            world, actor, model, 'search', [('id', 'in', sample)],
            0, None, None),
        check)


def test_search_paths(world, probes):
    """No search through a relational path answers by a value only a
    foreign record holds"""
    for model in world.probed_models():
        for actor in world.actors:
            if not can(world, actor, model):
                continue
            for path, target in world.relational_paths(model):
                secret = world.secret_value(target, actor)
                if not secret:
                    continue
                fname, ftype, value, _ = secret
                first, _, rest = path.partition('.')
                leaf = f'{rest}.{fname}' if rest else fname
                for op, domain in [
                        ('search path', [(f'{path}.{fname}', '=', value)]),
                        ('search where', [
                                (first, 'where', [(leaf, '=', value)])]),
                        ]:
                    def check(ids, op=op, domain=domain):
                        if ids:
                            probes.fail(
                                model, actor, op,
                                f"{domain} matched {ids} through a foreign "
                                f"{target}")
                    attempt(
                        world, probes, model, actor, op,
                        lambda domain=domain: rpc(
                            world, actor, model, 'search', domain,
                            0, None, None),
                        check)

                # a negated clause answers as if the value did not exist
                def negated(value):
                    return rpc(
                        world, actor, model, 'search_count',
                        [(f'{path}.{fname}', '!=', value)])
                error, counts = attempt(
                    world, probes, model, actor, 'search negated',
                    lambda: (negated(value), negated(NOTHING[ftype])))
                if counts and counts[0] != counts[1]:
                    probes.fail(
                        model, actor, 'search negated',
                        f"{path}.{fname} != a foreign {target}'s value "
                        f"counts {counts[0]}, != nothing counts {counts[1]}")
    probes.assert_none("search path")


def test_order_paths(world, probes):
    "No record is sorted by a value of a foreign record"
    for model in world.probed_models():
        for actor in world.actors:
            if not can(world, actor, model):
                continue
            for path, target in world.relational_paths(model):
                hops = _many2one_hops(world, model, path)
                if hops is None or '.' not in path and not hops:
                    continue
                truths = [(p, t) for p, t in hops
                    if world.visible(t, actor) is not None]
                if not truths:
                    continue
                scalars = world.scalar_fields(target)
                oexpr = f'{path}.{scalars[0][0]}' if scalars else (
                    f'{path}.id')

                def check(ids, truths=truths, oexpr=oexpr):
                    for prefix, hop in truths:
                        foreign = world.all_ids(hop) - world.visible(
                            hop, actor)
                        if not ids or not foreign:
                            continue
                        sorted_by = world.root_search(model, [
                                ('id', 'in', ids),
                                (prefix, 'in', list(foreign)),
                                ])
                        if sorted_by:
                            probes.fail(
                                model, actor, 'order',
                                f"{oexpr} sorted {sorted_by[:5]} by foreign "
                                f"{hop} records")
                attempt(
                    world, probes, model, actor, 'order',
                    lambda oexpr=oexpr: rpc(
                        world, actor, model, 'search', [], 0, None,
                        [(oexpr, 'ASC')]),
                    check)
    probes.assert_none("order")


def _many2one_hops(world, model, path):
    """[(prefix, model)] of each many2one hop of the path, None when the
    path is not of many2one fields only"""
    hops = []
    Model = world.pool.get(model)
    prefix = []
    for name in path.split('.'):
        field = Model._fields[name]
        if field._type != 'many2one' or hasattr(field, 'get'):
            return None
        prefix.append(name)
        Model = field.get_target()
        hops.append(('.'.join(prefix), Model.__name__))
    return hops


# writing --------------------------------------------------------------
def _create_values(world, model, record_id):
    "The stored values of a record, to create another like it"
    Model = world.pool.get(model)
    names = [
        n for n, f in Model._fields.items()
        if not hasattr(f, 'get') and n not in {
            'id', 'create_uid', 'create_date', 'write_uid', 'write_date'}
        and f._type not in {'one2many', 'many2many', 'binary', 'dict'}]
    with world.transaction.set_user(0):
        row, = Model.read([record_id], names)
    row.pop('id')
    for name in list(row):
        if name.endswith('.') or ':' in name:
            row.pop(name)
    return row


def _writable(world, model):
    "A stored field of the model a client may write, or None"
    Model = world.pool.get(model)
    for name, field in sorted(Model._fields.items()):
        if (field._type in tenancy.SCALARS and not hasattr(field, 'get')
                and not field.readonly and name not in {
                    'create_date', 'write_date'}):
            return name


def test_write(world, probes):
    "Foreign records cannot be written, deleted, copied or created"
    for model in world.probed_models():
        if world.pool.get(model)._is_table_query():
            # read-only: Tryton refuses any change before anything else
            continue
        for actor in world.actors:
            foreign = world.foreign(model, actor, limit=1)
            if not foreign:
                continue
            record, = foreign
            field = _writable(world, model)
            Model = world.pool.get(model)

            def changed(result, op, record=record):
                probes.fail(
                    model, actor, op,
                    f"accepted on foreign record {record}: {result!r:.150}")
            operations = [
                ('delete', lambda: rpc(
                        world, actor, model, 'delete', [record])),
                ('copy', lambda: rpc(
                        world, actor, model, 'copy', [record], {})),
                ('create', lambda: rpc(
                        world, actor, model, 'create',
                        [_create_values(world, model, record)])),
                ]
            if field:
                with world.transaction.set_user(0):
                    value = getattr(Model(record), field)
                operations.append(('write', lambda: rpc(
                            world, actor, model, 'write', [record],
                            {field: value})))
            for op, call in operations:
                attempt(
                    world, probes, model, actor, op, call,
                    lambda result, op=op: changed(result, op))
        _without_right(world, probes, model)
    probes.assert_none("write")


def _without_right(world, probes, model):
    """Staff without rights and the delegate change nothing of their own
    that the model's access rights or the delegate's rights refuse"""
    for actor in world.actors:
        if actor.name not in {
                'staff without rights', 'delegate with partial rights'}:
            continue
        visible = world.visible(model, actor)
        if not visible:
            continue
        record = sorted(visible)[0]
        if actor.kind == 'portal':
            held = {
                a for a in actor.accounts if a not in world.owned(actor)}
            right = DELEGATE_RIGHTS.get(model)
            path = world.tenant_path(model, 'lk.account')
            if not held or path is None or right == 'right_payment':
                continue
            mine = world.root_search(model, [
                    ('id', 'in', list(visible)), (path, 'in', list(held))])
            if not mine:
                continue
            record = mine[0]
            modes = ['create', 'write', 'delete']
        else:
            modes = [m for m in ['create', 'write', 'delete']
                if not can(world, actor, model, m)]
        for mode in modes:
            if mode == 'create':
                def call():
                    return rpc(world, actor, model, 'create',
                        [_create_values(world, model, record)])
            elif mode == 'write':
                field = _writable(world, model)
                if not field:
                    continue
                with world.transaction.set_user(0):
                    value = getattr(world.pool.get(model)(record), field)

                def call(field=field, value=value):
                    return rpc(world, actor, model, 'write', [record],
                        {field: value})
            else:
                def call():
                    return rpc(world, actor, model, 'delete', [record])

            def check(result, mode=mode):
                probes.fail(
                    model, actor, f'{mode} own',
                    f"accepted on {record} without the right")
            attempt(world, probes, model, actor, f'{mode} own', call, check)


# on_change ------------------------------------------------------------
def _foreign_ids_in(world, actor, model, value, sent):
    "The foreign ids of the result of an on_change in the model's fields"
    found = []
    Model = world.pool.get(model)

    def walk(Model, value):
        if isinstance(value, dict):
            for key, item in value.items():
                field = Model._fields.get(key) if isinstance(
                    key, str) else None
                if field is not None and field._type in tenancy.RELATIONAL:
                    Target = field.get_target()
                    visible = world.visible(Target.__name__, actor)
                    ids = item if isinstance(item, (list, tuple)) else [item]
                    for id_ in ids:
                        if (isinstance(id_, int) and visible is not None
                                and id_ >= 0 and id_ not in visible
                                and (key, id_) not in sent):
                            found.append((Target.__name__, id_))
                        elif isinstance(id_, (dict, list, tuple)):
                            walk(Target, id_)
                elif isinstance(item, (dict, list, tuple)):
                    walk(Model, item)
        elif isinstance(value, (list, tuple)):
            for item in value:
                walk(Model, item)
    walk(Model, value)
    return found


def test_on_change(world, probes):
    "on_change and on_change_with with foreign ids return nothing foreign"
    for model in world.lk_view_models():
        Model = world.pool.get(model)
        if 'on_change' not in Model.__rpc__:
            continue
        for actor in world.actors:
            values = {}
            for name, field in Model._fields.items():
                if field._type != 'many2one' or hasattr(field, 'get'):
                    continue
                foreign = world.foreign(field.get_target().__name__, actor)
                if foreign:
                    values[name] = foreign[0]
            if not values:
                continue
            sent = set(values.items())
            for name in sorted(Model._fields):
                for method in ['on_change', 'on_change_with']:
                    if not getattr(Model, f'{method}_{name}', None):
                        continue

                    def check(result, method=method, name=name):
                        if ids := _foreign_ids_in(
                                world, actor, model, result, sent):
                            probes.fail(
                                model, actor, f'{method} {name}',
                                f"returned foreign {ids[:3]}")
                        if text := world.leaked_text(actor, result):
                            probes.fail(
                                model, actor, f'{method} {name}',
                                f"returned foreign text {text}")
                    attempt(
                        world, probes, model, actor, f'{method} {name}',
                        lambda method=method, name=name: rpc(
                            world, actor, model, method, dict(values),
                            [name]),
                        check)
    probes.assert_none("on_change")


# wizards and buttons --------------------------------------------------
def _wizard_action(world, wizard):
    ActionWizard = world.pool.get('ir.action.wizard')
    with world.transaction.set_user(0):
        actions = ActionWizard.search([('wiz_name', '=', wizard)])
        return SimpleNamespace(
            id=actions[0].id if actions else None,
            model=actions[0].model if actions else None)


def _changes(world, actor, before):
    after = world.snapshot(actor)
    return {m: (before[m], after.get(m)) for m in before
        if before[m] != after.get(m)}


def test_wizards(world, probes):
    """Every lk wizard refuses foreign active ids and foreign values in its
    start form, or changes and returns nothing foreign"""
    for wizard in world.lk_wizards():
        Wizard = world.pool.get(wizard, type='wizard')
        action = _wizard_action(world, wizard)
        start = Wizard.start_state
        for actor in world.actors:
            before = world.snapshot(actor)

            def check(result, op):
                if changes := _changes(world, actor, before):
                    probes.fail(
                        wizard, actor, op, f"changed foreign {changes}")
                if text := world.leaked_text(actor, result):
                    probes.fail(
                        wizard, actor, op, f"returned foreign text {text}")

            def run(context, data, state):
                session, _, _ = rpc(
                    world, actor, wizard, 'create', type_='wizard',
                    context=context)
                return rpc(
                    world, actor, wizard, 'execute', session, data, state,
                    type_='wizard', context=context)

            context = {'action_id': action.id}
            if action.model and world.foreign(action.model, actor):
                foreign = world.foreign(action.model, actor)
                foreign_context = dict(
                    context, active_model=action.model,
                    active_id=foreign[0], active_ids=foreign)
                attempt(
                    world, probes, wizard, actor, 'foreign active ids',
                    lambda: run(foreign_context, {}, start),
                    lambda result: check(result, 'foreign active ids'))
            own = sorted(world.visible(action.model, actor) or []) if (
                action.model) else []
            if own:
                context = dict(
                    context, active_model=action.model, active_id=own[0],
                    active_ids=own[:1])
            error, form = attempt(
                world, probes, wizard, actor, 'start',
                lambda: run(context, {}, start),
                lambda result: check(result, 'start'))
            if error or 'view' not in (form or {}):
                continue
            view_model = form['view']['fields_view']['model']
            View = world.pool.get(view_model)
            values = {
                k: v for k, v in form['view']['defaults'].items()
                if not k.endswith('.') and k in View._fields}
            replaced = False
            for name, field in View._fields.items():
                if field._type == 'many2one':
                    foreign = world.foreign(
                        field.get_target().__name__, actor, limit=1)
                    if foreign:
                        values[name] = foreign[0]
                        replaced = True
            if not replaced:
                continue
            for button in form['view']['buttons']:
                state = button['state']
                if state == Wizard.end_state:
                    continue
                op = f'{state} with foreign values'
                attempt(
                    world, probes, wizard, actor, op,
                    lambda state=state: run(context, {start: values}, state),
                    lambda result, op=op: check(result, op))
    probes.assert_none("wizard")


def test_buttons(world, probes):
    """Every lk button refuses foreign records, and own records for staff
    outside its groups"""
    pool = world.pool
    Button = pool.get('ir.model.button')
    for model in world.lk_models():
        Model = pool.get(model)
        for button in sorted(getattr(Model, '_buttons', {})):
            with world.transaction.set_user(0):
                records = Button.search([
                        ('model', '=', model), ('name', '=', button)])
                groups = {g.id for b in records for g in b.groups}
            for actor in world.actors:
                before = world.snapshot(actor)

                def check(result, op):
                    if changes := _changes(world, actor, before):
                        probes.fail(
                            model, actor, op, f"changed foreign {changes}")
                    if text := world.leaked_text(actor, result):
                        probes.fail(
                            model, actor, op,
                            f"returned foreign text {text}")
                foreign = world.foreign(model, actor)
                if foreign:
                    op = f'button {button}'
                    attempt(
                        world, probes, model, actor, op,
                        lambda: rpc(world, actor, model, button, foreign),
                        lambda result, op=op: check(result, op))
                visible = sorted(world.visible(model, actor) or [])
                if (actor.kind == 'staff' and groups
                        and not groups & actor.groups and visible):
                    op = f'button {button} without its group'
                    attempt(
                        world, probes, model, actor, op,
                        lambda: rpc(
                            world, actor, model, button, visible[:1]),
                        lambda result, op=op: probes.fail(
                            model, actor, op,
                            f"ran on {visible[:1]}: {result!r:.100}"))
    probes.assert_none("button")
