# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import datetime as dt

from trytond.model import fields
from trytond.pool import PoolMeta

from .period import next_period


class Company(metaclass=PoolMeta):
    __name__ = 'company.company'

    billing_due_day = fields.Integer(
        "Payment Due Day", required=True,
        domain=[
            ('billing_due_day', '>=', 1),
            ('billing_due_day', '<=', 28),
            ],
        help="The day of the month after the period by which its charges "
        "are to be paid.")
    billing_closed_until = fields.Date(
        "Billing Closed Until",
        help="The periods up to and including this month are closed: "
        "their charges, payments and balances are no longer changed.")

    @classmethod
    def default_billing_due_day(cls):
        return 15

    def billing_deadline(self, period):
        "The date by which the charges of the period are to be paid"
        if period is None:
            return None
        return next_period(period).replace(day=self.billing_due_day or 15)

    def billing_closed(self, period):
        "Whether the period is closed for the organization"
        closed = self.billing_closed_until
        return bool(period and closed
            and period <= dt.date(closed.year, closed.month, 1))
