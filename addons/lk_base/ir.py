# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction


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
