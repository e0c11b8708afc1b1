# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from sql import Literal, Null
from sql.aggregate import Max
from sql.conditionals import Case

from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction, without_check_access

PERMS = ['read', 'write', 'create', 'delete']


def _portal_groups():
    """The groups of the user and the portal group when the user is the
    portal user, else None"""
    pool = Pool()
    ModelData = pool.get('ir.model.data')
    User = pool.get('res.user')
    if not Transaction().user:
        return None
    with without_check_access():
        try:
            portal = ModelData.get_id('lk_base', 'group_portal')
        except KeyError:
            # lk_base is being activated
            return None
    groups = User.get_groups()
    if portal in groups:
        return groups, portal
    return None


class ModelAccess(metaclass=PoolMeta):
    __name__ = 'ir.model.access'

    @classmethod
    def get_access(cls, models):
        """For the portal user, the access its group is granted, nothing
        by default

        The portal user acts for any subscriber: it reaches a model only
        when an access record of its group grants it, never through the
        records without a group or the defaults that backend users rely on
        (sessions, users, scheduled actions…)."""
        if not (portal_groups := _portal_groups()):
            return super().get_access(models)
        groups, portal = portal_groups
        access = {}
        for model in models:
            # The key holds the portal group: only this method fills it
            maccess = cls._get_access_cache.get((groups, model), default=-1)
            if maccess == -1:
                break
            access[model] = maccess
        else:
            return access

        # Not the parent's (__access__) as for other users: a model that
        # belongs to a public one (the tax identifiers of an organization)
        # is not public for that
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(
                table.model,
                *(Max(Case(
                            (getattr(table, f'perm_{p}') == Literal(True), 1),
                            else_=0))
                    for p in PERMS),
                where=table.model.in_(list(models))
                & (table.active == Literal(True))
                & (table.group == portal),
                group_by=table.model))
        granted = {m: dict(zip(PERMS, perms)) for m, *perms in cursor}
        access = {}
        for model in models:
            access[model] = maccess = {
                p: bool(granted.get(model, {}).get(p)) for p in PERMS}
            cls._get_access_cache.set((groups, model), maccess)
        return access


class ModelFieldAccess(metaclass=PoolMeta):
    __name__ = 'ir.model.field.access'

    @classmethod
    def get_access(cls, models):
        """For the portal user, a field that any group is refused (a
        password hash, a token) is refused too unless an access record of
        the portal group or without a group says otherwise"""
        if not (portal_groups := _portal_groups()):
            return super().get_access(models)
        groups, portal = portal_groups
        key = (groups, tuple(models), 'lk_portal')
        if (result := cls._get_access_cache.get(key)) is not None:
            return result
        accesses = super().get_access(models)
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(
                table.model, table.field,
                where=table.model.in_(list(models))
                & (table.active == Literal(True))
                & (table.group != Null)
                & (table.group != portal)))
        result = {m: dict(a) for m, a in accesses.items()}
        for model, field in cursor:
            result[model].setdefault(field, dict.fromkeys(PERMS, False))
        return cls._get_access_cache.set(key, result)


class Rule(metaclass=PoolMeta):
    __name__ = 'ir.rule'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.domain.help += (
            '\n- "web_user" as the id of the subscriber user of the portal'
            '\n- "today" as the current date')

    @classmethod
    def _get_cache_key(cls, model_names):
        pool = Pool()
        Date = pool.get('ir.date')
        key = super()._get_cache_key(model_names)
        return (*key, Transaction().context.get('web_user'), Date.today())

    @classmethod
    def _get_context(cls, model_name):
        pool = Pool()
        Date = pool.get('ir.date')
        context = super()._get_context(model_name)
        # The portal runs as the portal user with the signed-in subscriber
        # user in the context: its rules are keyed to it
        context['web_user'] = Transaction().context.get('web_user') or -1
        context['today'] = Date.today()
        return context


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.append(
            ('lk.mail.outbox|send_queued', "Send Queued E-mails"))
