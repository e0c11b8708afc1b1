# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from collections import defaultdict, namedtuple
from decimal import Decimal

from sql.aggregate import Count, Max, Min, Sum

from trytond.model import ModelSQL, ModelView, Unique, fields
from trytond.modules.lk_base.model import check_readable
from trytond.pool import Pool
from trytond.tools import grouped_slice, reduce_ids
from trytond.transaction import Transaction

from .model import AccountRecordMixin
from .period import next_period

CENT = Decimal('0.01')

Debt = namedtuple('Debt', [
        'account', 'period', 'closing', 'in_transit', 'debt', 'deadline',
        'services'])
Debt.__doc__ = """The debt of an account

period: its latest balance period (None without balances);
closing: the sum of the closing balances of that period;
in_transit: the lk payments received dated after that period;
debt: closing - in_transit, negative for an overpayment;
deadline: the organization's payment deadline of the period;
services: [(service, closing)] of that period"""
HistoryLine = namedtuple('HistoryLine', [
        'period', 'opening', 'charged', 'paid', 'closing'])


def cents(value):
    "The amount as a Decimal with two places"
    return Decimal(value or 0).quantize(CENT)


class Balance(AccountRecordMixin, ModelSQL, ModelView):
    "The balance of an account for a service in a period"
    __name__ = 'lk.balance'
    __string__ = "Balance"

    service = fields.Many2One(
        'lk.service', "Service", required=True, ondelete='RESTRICT')
    period = fields.Date(
        "Period", required=True, help="The first day of the month.")
    opening = fields.Numeric(
        "Opening Balance", digits=(16, 2), required=True,
        help="The debt at the start of the period, negative for an "
        "overpayment.")
    charged = fields.Numeric("Charged", digits=(16, 2), required=True)
    paid = fields.Numeric("Paid", digits=(16, 2), required=True)
    closing = fields.Numeric(
        "Closing Balance", digits=(16, 2), required=True,
        help="The debt at the end of the period, negative for an "
        "overpayment.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('account_service_period_unique',
                Unique(t, t.account, t.service, t.period),
                'lk_billing.msg_balance_unique'),
            ]
        cls._order = [
            ('period', 'DESC'), ('account', 'ASC'), ('service', 'ASC'),
            ('id', 'ASC')]

    @staticmethod
    def default_opening():
        return Decimal(0)
    default_charged = default_paid = default_closing = default_opening

    def get_rec_name(self, name):
        return (f'{self.account.number} {self.service.rec_name} '
            f'{self.period:%m.%Y}')

    @classmethod
    def debts(cls, accounts):
        """The debt of each account: {account id: Debt}

        The user must be allowed to read the accounts."""
        pool = Pool()
        Payment = pool.get('lk.payment.received')
        Service = pool.get('lk.service')
        check_readable(accounts)
        cursor = Transaction().connection.cursor()
        balance = cls.__table__()
        latest = cls.__table__()
        payment = Payment.__table__()
        closings = defaultdict(list)
        periods = {}
        transit = defaultdict(list)
        accounts = list({a.id: a for a in accounts}.values())
        for sub_ids in grouped_slice([a.id for a in accounts]):
            sub_ids = list(sub_ids)
            cursor.execute(*balance.select(
                    balance.account, balance.period, balance.service,
                    balance.closing,
                    where=reduce_ids(balance.account, sub_ids)
                    & (balance.period == latest.select(
                            Max(latest.period),
                            where=latest.account == balance.account)),
                    order_by=[balance.account, balance.service]))
            for account, period, service, closing in cursor:
                periods[account] = period
                closings[account].append((service, cents(closing)))
            cursor.execute(*payment.select(
                    payment.account, payment.date, payment.amount,
                    where=reduce_ids(payment.account, sub_ids)
                    & (payment.source == 'lk')))
            for account, date, amount in cursor:
                transit[account].append((date, cents(amount)))
        debts = {}
        for account in accounts:
            period = periods.get(account.id)
            closing = sum(
                (c for _, c in closings[account.id]), Decimal(0))
            end = next_period(period) if period else None
            in_transit = sum(
                (a for d, a in transit[account.id] if not end or d >= end),
                Decimal(0))
            debts[account.id] = Debt(
                account=account,
                period=period,
                closing=cents(closing),
                in_transit=cents(in_transit),
                debt=cents(closing - in_transit),
                deadline=account.company.billing_deadline(period),
                services=[
                    (Service(s), c) for s, c in closings[account.id]])
        return debts

    @classmethod
    def history(cls, account):
        """The account's balances summed per period, newest first:
        [HistoryLine(period, opening, charged, paid, closing)]

        The user must be allowed to read the account."""
        check_readable([account])
        cursor = Transaction().connection.cursor()
        balance = cls.__table__()
        cursor.execute(*balance.select(
                balance.period, balance.opening, balance.charged,
                balance.paid, balance.closing,
                where=balance.account == account.id))
        totals = defaultdict(lambda: [Decimal(0)] * 4)
        for period, *amounts in cursor:
            line = totals[period]
            for i, amount in enumerate(amounts):
                line[i] += cents(amount)
        return [
            HistoryLine(period, *map(cents, totals[period]))
            for period in sorted(totals, reverse=True)]


class BalanceTotal(ModelSQL, ModelView):
    "The balances of an organization's accounts summed per period"
    __name__ = 'lk.balance.total'
    __string__ = "Balance Total"

    company = fields.Many2One('company.company', "Organization")
    period = fields.Date("Period")
    accounts = fields.Integer("Accounts")
    opening = fields.Numeric("Opening Balance", digits=(16, 2))
    charged = fields.Numeric("Charged", digits=(16, 2))
    paid = fields.Numeric("Paid", digits=(16, 2))
    closing = fields.Numeric(
        "Closing Balance", digits=(16, 2),
        help="The debt of the organization's subscribers at the end of the "
        "period, less their overpayments.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('period', 'DESC'), ('company', 'ASC'), ('id', 'ASC')]

    @classmethod
    def table_query(cls):
        pool = Pool()
        Balance = pool.get('lk.balance')
        balance = Balance.__table__()
        return balance.select(
            Min(balance.id).as_('id'),
            Max(balance.create_uid).as_('create_uid'),
            Max(balance.create_date).as_('create_date'),
            Max(balance.write_uid).as_('write_uid'),
            Max(balance.write_date).as_('write_date'),
            balance.company.as_('company'),
            balance.period.as_('period'),
            Count(balance.account, distinct=True).as_('accounts'),
            *(Sum(getattr(balance, n)).as_(n)
                for n in ['opening', 'charged', 'paid', 'closing']),
            group_by=[balance.company, balance.period])
