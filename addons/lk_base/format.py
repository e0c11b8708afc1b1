# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""How amounts, dates and times read for a subscriber, on the portal, in
e-mails and in documents alike"""
import datetime as dt
from zoneinfo import ZoneInfo


def format_money(amount, language='ru'):
    """«1 234,56 ₽» with no-break spaces, «−12,00 ₽» below zero; «1,234.56
    ₽» in English"""
    if amount is None:
        return ''
    text = f'{abs(amount):,.2f}'
    if language == 'ru':
        text = text.replace(',', '\u00a0').replace('.', ',')
    sign = '\u2212' if amount < 0 else ''
    return f'{sign}{text}\u00a0₽'


def format_date(date):
    "DD.MM.YYYY"
    return date.strftime('%d.%m.%Y') if date else ''


def format_datetime(value, timezone=None):
    """DD.MM.YYYY HH:MM of a date-time as Tryton stores it (naive UTC), in
    the timezone given (the organization's, one of its selection) or else
    in UTC"""
    if not value:
        return ''
    if timezone:
        value = value.replace(tzinfo=dt.timezone.utc).astimezone(
            ZoneInfo(timezone))
    return value.strftime('%d.%m.%Y %H:%M')
