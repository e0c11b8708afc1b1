# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Billing periods: months stored as the date of their first day"""
import calendar
import datetime as dt

from trytond.i18n import gettext
from trytond.transaction import Transaction

from .exceptions import BillingValidationError

# Tryton's calendar has no Russian month names; a period is named in the
# nominative («ноябрь 2026»)
MONTHS = {
    'ru': (
        "январь февраль март апрель май июнь июль август сентябрь октябрь "
        "ноябрь декабрь").split(),
    'en': list(calendar.month_name)[1:],
    }


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


def format_period(period, language=None):
    "The month of the period: «ноябрь 2026», «November 2026»"
    if not period:
        return ''
    names = MONTHS.get(
        (language or Transaction().language or 'en')[:2], MONTHS['en'])
    return f'{names[period.month - 1]} {period.year}'


def check_period(record, period):
    "Raise BillingValidationError unless the period is a month's first day"
    if period and period.day != 1:
        raise BillingValidationError(gettext(
                'lk_billing.msg_period_first_day',
                record=record.rec_name,
                date=period.strftime('%d.%m.%Y')))
