# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Record rules on the far side of a search's relations

Tryton applies the read rules of the model searched, but converts the
clauses that cross a relation — ``('lk_accesses.account.access_code',
'like', 'HJZ4%')``, ``('lk_accesses', 'where', [...])``, ``('resource.name',
'=', x, 'lk.account')`` — without the target's rules: a staff member who
sees a subscriber user could ask, one letter at a time, for the access codes
of the accounts the user holds at another organization.

RuleJoinMixin, registered by lk_base for every ModelStorage of the pool
(``[register_mixin]`` of tryton.cfg), rewrites the domain that reaches
``search`` when the transaction checks access, so that the records on the
far side of each relation count only when the user may read them: as if the
others did not exist.  Each hop becomes a ``where`` on the relation field
with the target's read rule (``ir.rule.domain_get``) added, the form Tryton
itself uses for the rules of ``__access__`` models:

    ('a.b.c', op, v)  ->  ('a', 'where', [('b', 'where', [
                              [('c', op, v)], rule(B)]), rule(A)])

The negative operators keep Tryton's meaning for records without any (now:
any readable) target; a reference goes through a sub-query of the target
searched with its rules; the searchers of Function fields are expanded so
that the clauses they return are rewritten too.  search_count, search_read
and export_data_domain go through search; export_data reads the exported
records and those on each path with the rules before Tryton's export (whose
own test of the rules in Python lets "where" rules through).  Explicit
``where`` clauses are also checked for the model and field access rights,
which Tryton checks for dotted paths only.  ReadableValuesMixin, registered
for every ModelView, reads with the rules the records named by the values
of an on_change or on_change_with before Tryton answers their names.

A dotted order (``meter.account.number``) sorts by the values of the
targets: the search then keeps only the records whose targets on the path
are readable (or empty), so that hidden values never decide a position.

The rule domains themselves are evaluated by Tryton and never rewritten, and
nothing changes for root or code running without access checks."""
from collections import defaultdict

from trytond.i18n import gettext
from trytond.model import ModelStorage, fields
from trytond.model.exceptions import AccessError
from trytond.model.modelstorage import is_leaf
from trytond.pool import Pool
from trytond.transaction import (
    Transaction, inactive_records, without_check_access)

from .model import check_readable

RELATIONS = {'many2one', 'one2many', 'many2many', 'one2one'}


class RuleJoinMixin:
    __slots__ = ()

    @classmethod
    def search(
            cls, domain, offset=0, limit=None, order=None, count=False,
            **kwargs):
        transaction = Transaction()
        if transaction.user and transaction.check_access:
            domain = _restrict(cls, domain, order)
        return super().search(
            domain, offset=offset, limit=limit, order=order, count=count,
            **kwargs)

    @classmethod
    def check_modification(cls, mode, records, values=None, external=False):
        # Tryton checks the rules of a write or delete after this method,
        # whose errors name the records: a foreign id would answer its name
        if external and mode in {'write', 'delete'}:
            check_readable(records)
        super().check_modification(
            mode, records, values=values, external=external)

    @classmethod
    def export_data(cls, records, fields_names, header=False):
        transaction = Transaction()
        if transaction.user and transaction.check_access:
            _check_export(cls, records, [n.split('/') for n in fields_names])
        return super().export_data(records, fields_names, header=header)


class ReadableValuesMixin:
    """Refuse on_change and on_change_with of values naming records the
    user may not read

    The client sends the form's values; Tryton builds the record from them
    and answers the changed values with the rec_name of every linked record,
    read without the rules: any id of any model would answer its name."""
    __slots__ = ()

    def on_change(self, fieldnames):
        _check_values(self)
        return super().on_change(fieldnames)

    def on_change_with(self, fieldnames):
        _check_values(self)
        return super().on_change_with(fieldnames)


def _check_values(record):
    "Read with the rules every record the values of the record link to"
    transaction = Transaction()
    if not (transaction.user and transaction.check_access):
        return
    ids = defaultdict(set)

    def collect(record, seen):
        if id(record) in seen:
            return
        seen.add(id(record))
        if record.id is not None and record.id >= 0:
            ids[record.__class__].add(record.id)
        values = record._values
        for name, value in (values._items() if values is not None else []):
            field = record._fields.get(name)
            if field is None or field._type not in RELATIONS | {'reference'}:
                continue
            for target in (
                    value if isinstance(value, (list, tuple)) else [value]):
                if isinstance(target, ModelStorage):
                    collect(target, seen)
    collect(record, set())
    for Model, model_ids in ids.items():
        if issubclass(Model, ModelStorage):
            Model.read(sorted(model_ids), ['id'])


def _check_export(Model, records, paths):
    """Read the records and those each path goes through with the rules,
    evaluated by the database: Tryton's export tests them in Python, where
    a rule with a "where" clause lets every record through"""
    ids = sorted({r.id for r in records if r.id is not None and r.id >= 0})
    if not ids:
        return
    Model.read(ids, ['id'])
    by_field = defaultdict(list)
    for path in paths:
        if len(path) > 1:
            name = path[0].split('.')[0].split(':lang=')[0]
            by_field[name].append(path[1:])
    for name, subpaths in by_field.items():
        if not hasattr(Model._fields.get(name), 'get_target') and (
                getattr(Model._fields.get(name), '_type', None)
                != 'reference'):
            continue
        targets = defaultdict(list)
        with without_check_access():
            for record in Model.browse(ids):
                value = getattr(record, name)
                for target in (
                        value if isinstance(value, (list, tuple))
                        else [value]):
                    if target is not None:
                        targets[target.__class__].append(target)
        for Target, records in targets.items():
            _check_export(Target, records, subpaths)


def _restrict(Model, domain, order):
    pool = Pool()
    ModelAccess = pool.get('ir.model.access')
    ModelFieldAccess = pool.get('ir.model.field.access')
    rewriter = _Rewriter()
    restricted = rewriter.domain(Model, domain) if domain else domain
    for name, field_names in rewriter.to_check.items():
        ModelAccess.check(name, 'read')
        ModelFieldAccess.check(name, field_names, 'read')
    orders = [
        d for d in (_order_domain(Model, oexpr) for oexpr, _ in order or [])
        if d]
    if orders:
        restricted = [restricted or [], *orders]
    return restricted


def _rule(Target):
    pool = Pool()
    Rule = pool.get('ir.rule')
    return Rule.domain_get(Target.__name__, mode='read')


class _Rewriter:
    "Rewrite a domain, collecting the fields it reads per model"

    def __init__(self):
        self.to_check = defaultdict(set)

    def domain(self, Model, domain, check=True, expanded=frozenset()):
        """The domain with the rules of every target crossed, or domain
        itself when nothing needs them"""
        if is_leaf(domain):
            return self.clause(Model, domain, check, expanded)
        if not isinstance(domain, (list, tuple)):
            return domain
        new = [self.domain(Model, d, check, expanded) for d in domain]
        if all(n is d for n, d in zip(new, domain)):
            return domain
        return new

    def clause(self, Model, clause, check, expanded):
        name, operator, value, *extra = clause
        if not isinstance(name, str):
            return clause
        fname, _, rest = name.partition('.')
        field = Model._fields.get(fname)
        if field is None:
            # Tryton raises its own error
            return clause
        if check:
            self.to_check[Model.__name__].add(fname)
        if isinstance(field, fields.Function):
            if field.searcher:
                if (Model.__name__, fname) in expanded:
                    return clause
                # Called as Tryton does, to rewrite what it returns
                with without_check_access():
                    result = getattr(Model, field.searcher)(fname, clause)
                new = self.domain(
                    Model, result, False, expanded | {(Model.__name__, fname)})
                return clause if new is result else new
            elif field.getter:
                return clause
            field = field._field
        if field._type == 'reference':
            return self.reference(Model, clause, field, check)
        if field._type not in RELATIONS:
            return clause
        to_many = field._type != 'many2one'
        if rest:
            nested = [(rest, operator, value, *extra)]
        elif operator in {'where', 'not where'}:
            nested = value
        elif operator.endswith('child_of') or operator.endswith('parent_of'):
            return clause
        elif isinstance(value, str):
            nested = [('rec_name', operator, value, *extra)]
        elif not to_many:
            # The column itself
            return clause
        elif value is None and operator in {'=', '!='}:
            nested = None
        else:
            nested = [('id', operator, value, *extra)]

        Target = field.get_target()
        rule = _rule(Target)
        if nested is None:
            # Whether the record has any (readable) target
            if not rule:
                return clause
            return (fname, 'not where' if operator == '=' else 'where', rule)
        new = self.domain(Target, nested, check, expanded)
        if not rule and new is nested:
            return clause
        if getattr(Model, f'domain_{fname}', None):
            # Converted by the model's own method, which may not know where
            raise AccessError(gettext(
                    'lk_base.msg_search_related_rule',
                    **Model.__names__(fname)))
        target_domain = [new, rule] if rule else [new]
        if operator in {'where', 'not where'}:
            return (fname, operator, target_domain)
        where = (fname, 'where', target_domain)
        if to_many:
            if operator.startswith('!') or operator.startswith('not '):
                # or without any readable target
                return ['OR', where, (fname, 'not where', rule or [])]
        elif _matches_empty(operator, value):
            return ['OR', where, (fname, '=', None)]
        return where

    def reference(self, Model, clause, field, check):
        pool = Pool()
        name, operator, value, *extra = clause
        fname, _, rest = name.partition('.')
        if not rest or not extra:
            # The column itself
            return clause
        target, *extra = extra
        Target = pool.get(target)
        # Searched with its rules (and this rewrite) like any search of the
        # user, inactive records included as Tryton does for references
        with inactive_records():
            query = Target.search(
                [(rest, operator, value, *extra)], order=[], query=True)
        where = (f'{fname}.id', 'in', query, target)
        if _matches_empty(operator, value):
            return ['OR', where, (fname, '=', None)]
        return where


def _matches_empty(operator, value):
    "Whether Tryton matches an empty many2one or reference with the clause"
    return ((operator.startswith('not')
            and not (operator == 'not in' and None in value))
        or (operator == '!=' and value is not None))


def _order_domain(Model, oexpr, depth=0):
    """The domain keeping the records whose targets on the dotted order path
    are readable or empty, None when nothing restricts it"""
    fname, _, rest = oexpr.partition('.')
    if not rest and not depth:
        return None
    field = Model._fields.get(fname)
    if field is None:
        return None
    if isinstance(field, fields.Function):
        if field.getter:
            return None
        field = field._field
    if field._type != 'many2one':
        return None
    Target = field.get_target()
    target_domain = []
    if rule := _rule(Target):
        target_domain.append(rule)
    if rest and (inner := _order_domain(Target, rest, depth + 1)):
        target_domain.append(inner)
    if not target_domain:
        return None
    return ['OR', (fname, '=', None), (fname, 'where', target_domain)]
