# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The world of the tenancy probes (tests/test_tenancy_probe.py): actors,
the models probed and what each actor may see of them, computed from the
pool's registry and from the data, never from the rules under test.

Everything runs inside one transaction of the demo database that is rolled
back at the end; each probe in a savepoint of its own."""
import datetime as dt
import io
import itertools
import re
import zipfile
from collections import Counter, defaultdict
from contextlib import contextmanager
from decimal import Decimal

LK_MODULES = [
    'lk_announcement', 'lk_base', 'lk_billing', 'lk_metering', 'lk_portal']
# Models the portal user reads without a rule of its own, and why
PUBLIC_TO_PORTAL = {
    'company.company': "the organizations' public pages",
    'lk.meter.channel': "an organization's tariff zone names",
    'lk.meter.window': "an organization's reading days",
    'lk.service': "an organization's service names",
    'lk.public.document': "an organization's public documents",
    }
# The access right a delegate needs to create records of a model on an
# account; a model missing here may not be created by a delegate at all
DELEGATE_RIGHTS = {
    'lk.meter.reading': 'right_readings',
    }
# (model, field) whose company is not the tenant of the record: guarded
# otherwise (see lk_base's test_module _skip_company_rule)
COMPANY_RULE_EXCEPTIONS = {
    ('company.company', 'parent'),
    ('web.user', 'company'),
    ('res.user', 'company'),
    ('company.employee', 'company'),
    }
# Who wrote a record: res.user, no tenant data behind
AUDIT_FIELDS = {'create_uid', 'write_uid'}
RELATIONAL = {'many2one', 'one2many', 'many2many', 'one2one'}
SCALARS = {'char', 'integer', 'date', 'numeric', 'text'}
NOTHING = {
    'char': "lk-probe-no-such-value", 'text': "lk-probe-no-such-value",
    'integer': -987654321, 'date': dt.date(1901, 1, 1),
    'numeric': Decimal('-987654.321'),
    }
SAMPLE = 2
MAX_DEPTH = 3


class Probes:
    "Counts per model × actor × operation and the failures"

    def __init__(self):
        self.counts = Counter()
        self.failures = []

    def fail(self, model, actor, operation, detail):
        self.failures.append(f"{model} × {actor} × {operation}: {detail}")

    def assert_none(self, category):
        failures = [f for f in self.failures]
        assert not failures, (
            f"{len(failures)} {category} probe(s) failed:\n"
            + "\n".join(failures[:200]))


class Actor:
    def __init__(self, name, kind, user, context, web_user=None,
            companies=(), accounts=(), groups=()):
        self.name = name
        self.kind = kind  # 'staff' or 'portal'
        self.user = user
        self.context = context
        self.web_user = web_user
        self.companies = set(companies)
        self.accounts = set(accounts)
        self.groups = set(groups)

    def __repr__(self):
        return self.name


class World:
    "The actors, the probed models and the ground truth of visibility"

    def __init__(self, pool, transaction):
        self.pool = pool
        self.transaction = transaction
        self._visible = {}
        self._all = {}
        self._paths = {}

    # models ------------------------------------------------------------
    def lk_models(self):
        from trytond.model import ModelStorage
        from trytond.pool import isregisteredby
        return sorted(
            name for name, Model in self.pool.iterobject()
            if issubclass(Model, ModelStorage)
            and (name.startswith('lk.') or name in {
                    'company.company', 'web.user'})
            and any(isregisteredby(Model, m) for m in LK_MODULES))

    def probed_models(self):
        """The lk models and every model with a relation to one of them
        (the resource of attachments, notes… included)"""
        from trytond.model import ModelSQL
        lk = set(self.lk_models())
        models = set(lk)
        for name, Model in self.pool.iterobject():
            if not issubclass(Model, ModelSQL) or Model._is_table_query():
                continue
            for fname, field in Model._fields.items():
                if fname in AUDIT_FIELDS:
                    continue
                if field._type == 'reference' and fname == 'resource':
                    models.add(name)
                elif field._type in RELATIONAL:
                    if field.get_target().__name__ in lk:
                        models.add(name)
        return sorted(models)

    def lk_view_models(self):
        "The lk models with views: those whose on_change are probed"
        from trytond.model import ModelView
        from trytond.pool import isregisteredby
        return sorted(
            name for name, Model in self.pool.iterobject()
            if issubclass(Model, ModelView)
            and any(isregisteredby(Model, m) for m in LK_MODULES))

    def lk_wizards(self):
        from trytond.pool import isregisteredby
        return sorted(
            name for name, Wizard in self.pool.iterobject('wizard')
            if any(isregisteredby(Wizard, m, 'wizard') for m in LK_MODULES))

    def tenant_path(self, model, target):
        """The shortest stored relational path from model to target, None
        if there is none within MAX_DEPTH"""
        key = (model, target)
        if key not in self._paths:
            self._paths[key] = self._find_path(model, target)
        return self._paths[key]

    def _find_path(self, model, target):
        from trytond.model import fields
        if model == target:
            return 'id'
        queue = [(model, '')]
        seen = {model}
        for _ in range(MAX_DEPTH):
            next_queue = []
            for name, path in queue:
                Model = self.pool.get(name)
                # __access__ first: the parent the record belongs to
                names = sorted(
                    Model._fields, key=lambda f: (f not in Model.__access__,
                        f != 'company', f))
                for fname in names:
                    field = Model._fields[fname]
                    if (fname in AUDIT_FIELDS
                            or (name, fname) in COMPANY_RULE_EXCEPTIONS):
                        continue
                    if isinstance(field, fields.Function) and (
                            not field.searcher):
                        continue
                    if field._type not in {'many2one', 'one2many'}:
                        continue
                    Target = field.get_target()
                    sub = f'{path}.{fname}' if path else fname
                    if Target.__name__ == target:
                        return sub
                    if Target.__name__ not in seen:
                        seen.add(Target.__name__)
                        next_queue.append((Target.__name__, sub))
            queue = next_queue
        return None

    # ground truth ------------------------------------------------------
    def all_ids(self, model):
        if model not in self._all:
            self._all[model] = set(self.root_search(model, []))
        return self._all[model]

    def root_search(self, model, domain):
        from trytond.transaction import inactive_records
        Model = self.pool.get(model)
        with self.transaction.set_user(0), inactive_records():
            return [r.id for r in Model.search(domain, order=[])]

    def has_truth(self, model, actor):
        return self.visible(model, actor) is not None

    def visible(self, model, actor):
        """The ids of model the actor may see, None when no tenant decides
        (public or not a tenant's data)"""
        key = (model, actor.name)
        if key not in self._visible:
            self._visible[key] = self._compute_visible(model, actor)
        return self._visible[key]

    def _compute_visible(self, model, actor):
        if actor.kind == 'staff':
            if model == 'web.user':
                companies = list(actor.companies)
                return set(self.root_search(model, ['OR',
                            ('company', 'in', companies),
                            # requests for unknown numbers included
                            ('lk_accesses.company', 'in', companies),
                            ]))
            path = self.tenant_path(model, 'company.company')
            if path is None:
                return self._resource_visible(model, actor)
            # without a company: shared, no tenant's
            return set(self.root_search(model, ['OR',
                        (path, 'in', list(actor.companies)),
                        (path, '=', None),
                        ]))
        # portal
        if model in PUBLIC_TO_PORTAL:
            return None
        web_user = actor.web_user
        if model == 'web.user':
            if not web_user:
                return set()
            return {web_user} | set(self.root_search(model, [
                        ('lk_accesses.account', 'in', list(self.owned(actor))),
                        ]))
        if model == 'lk.account.access':
            if not web_user:
                return set()
            return set(self.root_search(model, ['OR',
                        ('web_user', '=', web_user),
                        ('account', 'in', list(self.owned(actor))),
                        ]))
        if model == 'lk.announcement':
            return self._announcements_visible(actor)
        path = self.tenant_path(model, 'lk.account')
        company = self.tenant_path(model, 'company.company')
        if path is None and company is None:
            return self._resource_visible(model, actor)
        domain = ['OR']
        if path is not None:
            domain.append((path, 'in', list(actor.accounts)))
        if company is not None:
            # without a company: shared, no tenant's
            domain.append((company, '=', None))
        return set(self.root_search(model, domain))

    def _announcements_visible(self, actor):
        "The announcements whose audience holds one of the actor's accounts"
        accounts = list(actor.accounts)
        if not accounts:
            return set()
        with self.transaction.set_user(0):
            companies = list({
                    a.company.id for a in self.pool.get('lk.account').browse(
                        accounts)})
        return set(self.root_search('lk.announcement', ['OR',
                    [('audience', '=', 'all'),
                        ('company', 'in', companies)],
                    [('audience', '=', 'buildings'),
                        ('buildings.accounts', 'in', accounts)],
                    [('audience', '=', 'accounts'),
                        ('accounts', 'in', accounts)],
                    ]))

    def _resource_visible(self, model, actor):
        "Records of a resource (attachments, notes…): their resource decides"
        Model = self.pool.get(model)
        field = Model._fields.get('resource')
        if not field or field._type != 'reference':
            return None
        visible = set()
        with self.transaction.set_user(0):
            for record in Model.browse(list(self.all_ids(model))):
                resource = record.resource
                if resource is None or resource.id is None or (
                        resource.id < 0):
                    visible.add(record.id)
                    continue
                ids = self.visible(resource.__name__, actor)
                if ids is None or resource.id in ids:
                    visible.add(record.id)
        return visible

    def foreign(self, model, actor, limit=SAMPLE):
        "A sample of the records of model that are foreign to the actor"
        visible = self.visible(model, actor)
        if visible is None:
            return []
        ids = sorted(self.all_ids(model) - visible)
        return spread(ids, limit)

    def owned(self, actor):
        "The accounts the portal actor owns"
        if not actor.web_user:
            return set()
        return set(self.root_search('lk.account', [
                    ('accesses', 'where', [
                            ('web_user', '=', actor.web_user),
                            ('role', '=', 'owner'),
                            ('state', '=', 'active'),
                            ]),
                    ]))

    def snapshot(self, actor, models=None):
        """What the foreign records of the models are now: count and last
        change, to see whether a probe changed them"""
        from sql.aggregate import Count, Max
        from sql.conditionals import Coalesce
        result = {}
        cursor = self.transaction.connection.cursor()
        for model in models or self.tenant_models:
            visible = self.visible(model, actor)
            if visible is None:
                continue
            Model = self.pool.get(model)
            table = Model.__table__()
            foreign = self.all_ids(model) - visible
            cursor.execute(*table.select(
                    Count(table.id),
                    Max(Coalesce(table.write_date, table.create_date)),
                    where=~table.id.in_(list(visible) or [-1])))
            count, last = cursor.fetchone()
            result[model] = (count, str(last), len(foreign))
        return result

    def fingerprints(self, actor):
        """Text of the foreign records the actor must never receive: the
        stored char values of foreign tenant records that no visible record
        of the same model also holds"""
        key = ('fingerprints', actor.name)
        if key in self._visible:
            return self._visible[key]
        from trytond.transaction import inactive_records
        prints, seen_text = set(), set()
        for model in self.tenant_models:
            visible = self.visible(model, actor)
            if visible is None:
                continue
            Model = self.pool.get(model)
            names = [
                n for n, f in Model._fields.items()
                if f._type == 'char' and not hasattr(f, 'get')
                and n not in {'rec_name'}
                and not getattr(f, 'translate', False)]
            if not names:
                continue
            with self.transaction.set_user(0), inactive_records():
                rows = Model.read(list(self.all_ids(model)), names)
            seen, hidden = set(), set()
            for row in rows:
                target = seen if row['id'] in visible else hidden
                target.update(
                    v for n in names if isinstance(v := row[n], str)
                    and len(v) >= 6)
            seen_text.update(seen)
            with self.transaction.set_user(0), inactive_records():
                seen_text.update(
                    r.rec_name for r in Model.browse(sorted(visible)))
            prints |= hidden - seen
        # nor what a visible value contains (a sub-organization's name
        # holds its parent's)
        prints = {
            p for p in prints if not any(p in v for v in seen_text)}
        self._visible[key] = prints
        return prints

    def leaked_text(self, actor, value):
        "The fingerprints of the actor found in the value, if any"
        text = flatten_text(value)
        if not text:
            return []
        words = set(re.findall(r'\w[\w-]*\w', text))
        return sorted(
            p for p in self.fingerprints(actor)
            if p in text and (p in words or not re.fullmatch(r'[\w-]+', p))
            )[:3]

    @property
    def tenant_models(self):
        return [
            m for m in self.probed_models()
            if self.tenant_path(m, 'company.company') is not None
            or m == 'web.user']

    # paths -------------------------------------------------------------
    def relational_paths(self, model, max_depth=MAX_DEPTH):
        """Every path of relational fields from the model (the searchable
        ones), as (path, target model)"""
        from trytond.model import fields
        paths = []

        def walk(name, prefix, depth):
            Model = self.pool.get(name)
            for fname, field in sorted(Model._fields.items()):
                if fname in AUDIT_FIELDS:
                    continue
                if isinstance(field, fields.Function) and (
                        not field.searcher):
                    continue
                if field._type not in RELATIONAL:
                    continue
                Target = field.get_target()
                path = f'{prefix}.{fname}' if prefix else fname
                paths.append((path, Target.__name__))
                if depth < max_depth:
                    walk(Target.__name__, path, depth + 1)
        walk(model, '', 1)
        return paths

    def scalar_fields(self, model):
        "The stored scalar fields of the model a search may compare"
        Model = self.pool.get(model)
        return [
            (n, f._type) for n, f in sorted(Model._fields.items())
            if f._type in SCALARS and not hasattr(f, 'get')
            and not getattr(f, 'translate', False)
            and n not in {'create_date', 'write_date'}]

    def secret_value(self, model, actor):
        """(field, type, value, record) of a foreign record of the model
        whose value no record visible to the actor holds, or None"""
        from trytond.transaction import inactive_records
        key = ('secret', model, actor.name)
        if key in self._visible:
            return self._visible[key]
        result = None
        visible = self.visible(model, actor)
        foreign = sorted(self.all_ids(model) - (visible or set()))
        if visible is not None and foreign:
            Model = self.pool.get(model)
            for fname, ftype in self.scalar_fields(model):
                with self.transaction.set_user(0), inactive_records():
                    rows = Model.read(sorted(self.all_ids(model)), [fname])
                seen = {r[fname] for r in rows if r['id'] in visible}
                for row in rows:
                    value = row[fname]
                    if (row['id'] not in visible and value is not None
                            and value != '' and value not in seen):
                        result = (fname, ftype, value, row['id'])
                        break
                if result:
                    break
        self._visible[key] = result
        return result


def spread(ids, limit):
    "At most limit of the ids, taken across the list"
    if len(ids) <= limit:
        return list(ids)
    step = len(ids) / limit
    return [ids[int(i * step)] for i in range(limit)]


def flatten_text(value):
    "The text in a result: strings, and the XML of xlsx files"
    parts = []

    def walk(value):
        if isinstance(value, str):
            parts.append(value)
        elif isinstance(value, (bytes, bytearray, memoryview)):
            data = bytes(value)
            if data[:2] == b'PK':
                try:
                    with zipfile.ZipFile(io.BytesIO(data)) as archive:
                        for name in archive.namelist():
                            parts.append(archive.read(name).decode(
                                    'utf-8', 'replace'))
                    return
                except zipfile.BadZipFile:
                    pass
            parts.append(data.decode('utf-8', 'replace'))
        elif isinstance(value, dict):
            for item in itertools.chain(value.keys(), value.values()):
                walk(item)
        elif isinstance(value, (list, tuple, set)):
            for item in value:
                walk(item)
    walk(value)
    return '\n'.join(parts)


@contextmanager
def savepoint(transaction):
    "Run the block in a savepoint rolled back afterwards"
    cursor = transaction.connection.cursor()
    cursor.execute('SAVEPOINT lk_probe')
    try:
        yield
    finally:
        cursor.execute('ROLLBACK TO SAVEPOINT lk_probe')
        cursor.execute('RELEASE SAVEPOINT lk_probe')
        transaction.cache.clear()
        for records in (
                transaction.create_records, transaction.delete_records,
                transaction.trigger_records, transaction.check_warnings):
            records.clear()
        transaction.log_records.clear()


class NotExposed(Exception):
    "The method is not an RPC method of the model: no client can call it"


def refused(error):
    "Whether the exception is Tryton refusing, not a crash"
    from trytond.exceptions import UserError, UserWarning
    return isinstance(error, (UserError, UserWarning))


def rpc(world, actor, model, method, *args, type_='model', context=None):
    """Call the RPC method as the dispatcher does for the actor: access
    checked, instances built from the arguments, the result converted"""
    pool = world.pool
    Model = pool.get(model, type=type_)
    if method not in Model.__rpc__:
        raise NotExposed(method)
    spec = Model.__rpc__[method]
    transaction = world.transaction
    rpc_context = dict(actor.context, **(context or {}))
    with transaction.set_user(actor.user), \
            transaction.set_context(_check_access=False):
        c_args, c_kwargs, c_context, _ = spec.convert(
            Model, *args, rpc_context)
    with transaction.set_user(actor.user), \
            transaction.reset_context(), \
            transaction.set_context(c_context):
        meth = getattr(Model, method)
        if (spec.instantiate is None
                or not _is_instance_method(Model, method)):
            return spec.result(meth(*c_args, **c_kwargs))
        inst = c_args.pop(0)
        if hasattr(inst, method):
            return spec.result(meth(inst, *c_args, **c_kwargs))
        return [spec.result(meth(i, *c_args, **c_kwargs)) for i in inst]


def _is_instance_method(Model, method):
    from trytond.protocols.dispatcher import is_instance_method
    return is_instance_method(Model, method)


def build_world(pool, transaction):
    """Create the actors in the demo's organizations: staff of another
    organization, of the sub-organization, of the parent, staff without
    rights, another subscriber, a delegate with partial rights and no one"""
    from trytond.modules.lk_base import demo
    World_ = World(pool, transaction)
    User = pool.get('res.user')
    Company = pool.get('company.company')
    ModelData = pool.get('ir.model.data')
    WebUser = pool.get('web.user')
    Account = pool.get('lk.account')
    Access = pool.get('lk.account.access')

    def company(name):
        company, = Company.search([('party.name', '=', name)])
        return company
    parent, sub, other = [company(o[0]) for o in demo.ORGANIZATIONS]
    assert sub.parent == parent
    rights = [
        'group_organization', 'group_subscriber_users',
        'group_staff_members', 'group_data_upload', 'group_data_edit',
        'group_channels', 'group_readings', 'group_appeals',
        'group_announcements']

    def staff(login, organization, groups):
        user, = User.create([{
                    'login': login,
                    'name': login,
                    'companies': [('add', [organization.id])],
                    'company': organization.id,
                    'groups': [('add', [
                                ModelData.get_id('lk_base', g)
                                for g in groups])],
                    }])
        with transaction.set_user(user.id):
            context = User.get_preferences(context_only=True)
            companies = set(User.get_companies())
            groups = set(User.get_groups())
        return user.id, context, companies, groups

    actors = []
    for name, organization, groups in [
            ('staff of another organization', other, rights),
            ('staff of the sub-organization', sub, rights),
            ('staff of the parent', parent, rights),
            ('staff without rights', parent, ['group_staff']),
            ]:
        login = 'probe-' + name.replace(' ', '-')
        uid, context, companies, groups = staff(login, organization, groups)
        actors.append(Actor(
                name, 'staff', uid, context, companies=companies,
                groups=groups))

    portal = ModelData.get_id('lk_base', 'user_portal')
    subscriber, = WebUser.search([('email', '=', demo.SUBSCRIBER)])
    # an account of the parent nobody holds, whatever the other tests did
    # to the demo's accounts (the world is rolled back)
    neighbour_account, = Account.copy(Account.search([
                ('company', '=', parent.id),
                ], limit=1, order=[('number', 'DESC')]),
        default={'number': 'probe-neighbour', 'accesses': None})
    held, = Access.search([
            ('web_user', '=', subscriber.id),
            ('account.company', '=', parent.id),
            ])
    another, delegate = WebUser.create([
            {'email': 'tenancy-another@example.com', 'email_valid': True},
            {'email': 'tenancy-delegate@example.com', 'email_valid': True},
            ])
    Access.create([{
                'web_user': another.id, 'account': neighbour_account.id,
                'role': 'owner',
                }, {
                'web_user': delegate.id, 'account': held.account.id,
                'role': 'delegate', 'right_readings': False,
                'right_payment': True, 'right_appeals': False,
                }])
    for name, web_user in [
            ('another subscriber', another),
            ('delegate with partial rights', delegate),
            ('anonymous', None),
            ]:
        accounts = set()
        if web_user:
            accounts = {a.account.id for a in Access.search([
                        ('web_user', '=', web_user.id),
                        ('state', '=', 'active'),
                        ])}
        actors.append(Actor(
                name, 'portal', portal,
                {'web_user': web_user.id if web_user else None},
                web_user=web_user.id if web_user else None,
                accounts=accounts))
    World_.actors = actors
    World_.subscriber = subscriber.id
    World_.portal = portal
    return World_


def group_counts(counts):
    "Lines of the counts per model × actor × operation, and the total"
    by_model = defaultdict(Counter)
    for (model, actor, operation), count in counts.items():
        by_model[model][f'{actor} × {operation}'] += count
    lines = []
    for model in sorted(by_model):
        total = sum(by_model[model].values())
        lines.append(f"{model}: {total}")
        for key, count in sorted(by_model[model].items()):
            lines.append(f"    {key}: {count}")
    lines.append(f"total: {sum(counts.values())} probes")
    return lines
