# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.model import fields
from trytond.pool import PoolMeta


class Company(metaclass=PoolMeta):
    __name__ = 'company.company'

    remind_readings = fields.Boolean(
        "Readings Reminders",
        help="E-mail the subscribers when the readings window opens and two "
        "days before it closes, while their meters wait for readings.")
    remind_debt = fields.Boolean(
        "Debt Reminders",
        help="E-mail the subscribers with a debt once a month.")

    @classmethod
    def default_remind_readings(cls):
        return True

    @classmethod
    def default_remind_debt(cls):
        return True
