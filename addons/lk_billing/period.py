# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Billing periods: months stored as the date of their first day"""
import datetime as dt

from trytond.i18n import gettext

from .exceptions import BillingValidationError


def next_period(period):
    "The first day of the month after the period's"
    if period.month == 12:
        return dt.date(period.year + 1, 1, 1)
    return dt.date(period.year, period.month + 1, 1)


def previous_period(period):
    "The first day of the month before the period's"
    if period.month == 1:
        return dt.date(period.year - 1, 12, 1)
    return dt.date(period.year, period.month - 1, 1)


def check_period(record, period):
    "Raise BillingValidationError unless the period is a month's first day"
    if period and period.day != 1:
        raise BillingValidationError(gettext(
                'lk_billing.msg_period_first_day',
                record=record.rec_name,
                date=period.strftime('%d.%m.%Y')))
