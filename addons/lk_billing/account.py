# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.model import fields
from trytond.pool import Pool, PoolMeta

DEBT_FIELDS = {
    'debt': 'debt',
    'debt_period': 'period',
    'in_transit': 'in_transit',
    'payment_deadline': 'deadline',
    }


class Account(metaclass=PoolMeta):
    __name__ = 'lk.account'

    debt = fields.Function(
        fields.Numeric(
            "Debt", digits=(16, 2),
            help="The latest closing balance less the online payments in "
            "transit; negative for an overpayment."),
        'get_debt')
    debt_period = fields.Function(
        fields.Date("Debt Period", help="The latest billed period."),
        'get_debt')
    in_transit = fields.Function(
        fields.Numeric(
            "In Transit", digits=(16, 2),
            help="The payments made in lk after the latest billed period, "
            "until the organization's next upload contains them."),
        'get_debt')
    payment_deadline = fields.Function(
        fields.Date("Payment Deadline"), 'get_debt')

    @classmethod
    def get_debt(cls, accounts, names):
        pool = Pool()
        Balance = pool.get('lk.balance')
        debts = Balance.debts(accounts)
        return {
            name: {
                a.id: getattr(debts[a.id], DEBT_FIELDS[name])
                for a in accounts}
            for name in names}
