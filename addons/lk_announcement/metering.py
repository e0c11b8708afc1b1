# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The readings reminders, where lk_metering is activated: when a window
opens and two days before it closes, to the users who may enter readings
of meters still waiting for the period"""

from collections import defaultdict

from trytond.pool import Pool, PoolMeta
from trytond.transaction import without_check_access

# The days before the last day of a window the second reminder goes
CLOSING_DAYS = 2


class Reminder(metaclass=PoolMeta):
    __name__ = 'lk.reminder'

    @classmethod
    def send_reminders(cls):
        super().send_reminders()
        cls.remind_readings()

    @classmethod
    def remind_readings(cls, date=None):
        """Remind of every open window of the organizations that remind of
        readings: the number of e-mails"""
        pool = Pool()
        Date = pool.get('ir.date')
        Meter = pool.get('lk.meter')
        Window = pool.get('lk.meter.window')
        date = date or Date.today()
        count = 0
        with without_check_access():
            windows = Window.search([('company.remind_readings', '=', True)])
            for window in windows:
                start, end = window.dates(date)
                if not (start <= date <= end):
                    continue
                closing = (end - date).days <= CLOSING_DAYS
                kind = 'readings_close' if closing else 'readings_open'
                period = date.replace(day=1)
                key = f'{window.id}:{period:%Y-%m}'
                meters = [
                    m for m in Meter.search([
                            ('company', '=', window.company.id),
                            ('state', '=', 'active'),
                            ])
                    if Window.get_window(m) == window]
                waiting = Meter.waiting(meters, date)
                by_account = defaultdict(list)
                for meter in waiting:
                    by_account[meter.account.id].append(meter)
                if not by_account:
                    continue
                users = defaultdict(list)
                for access in cls.accesses(by_account, 'readings'):
                    users[access.web_user].extend(
                        m.id for m in by_account[access.account.id])
                count += cls.remind(
                    kind, key, list(users),
                    'lk.reminder.email_readings', lambda u: u,
                    lambda u: {'lk_reminder': {
                            'closing': closing,
                            'organization': window.company.rec_name,
                            'start': start.strftime('%d.%m.%Y'),
                            'end': end.strftime('%d.%m.%Y'),
                            'meters': users[u],
                            }})
        return count
