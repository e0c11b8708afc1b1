# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The monthly debt reminder, where lk_billing is activated: once a month
per organization to the users of the accounts with a debt"""
from collections import defaultdict
from decimal import Decimal

from trytond.modules.lk_base.format import format_money
from trytond.pool import Pool, PoolMeta
from trytond.transaction import without_check_access


class Reminder(metaclass=PoolMeta):
    __name__ = 'lk.reminder'

    @classmethod
    def send_reminders(cls):
        super().send_reminders()
        cls.remind_debt()

    @classmethod
    def remind_debt(cls, date=None):
        """Remind the users of the accounts with a debt, once in the month
        of the date per organization: the number of e-mails"""
        pool = Pool()
        Date = pool.get('ir.date')
        Company = pool.get('company.company')
        Account = pool.get('lk.account')
        Balance = pool.get('lk.balance')
        date = date or Date.today()
        count = 0
        with without_check_access():
            for company in Company.search([('remind_debt', '=', True)]):
                accounts = Account.search([('company', '=', company.id)])
                if not accounts:
                    continue
                debts = Balance.debts(accounts)
                owing = {
                    a: d.debt for a, d in debts.items()
                    if d.debt and d.debt > 0}
                if not owing:
                    continue
                users = defaultdict(Decimal)
                numbers = defaultdict(list)
                for access in cls.accesses(owing):
                    users[access.web_user] += owing[access.account.id]
                    numbers[access.web_user].append(access.account.number)
                count += cls.remind(
                    'debt', f'{company.id}:{date:%Y-%m}', list(users),
                    'lk.reminder.email_debt', lambda u: u,
                    lambda u: {'lk_reminder': {
                            'organization': company.rec_name,
                            'debt': format_money(users[u]),
                            'accounts': ', '.join(sorted(numbers[u])),
                            }})
        return count
