# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Months and days as a subscriber reads them, in Russian or English"""
from trytond.transaction import Transaction

# The months as a subscriber reads them: Tryton's calendar has no Russian
# names, and Russian names a period in the nominative («ноябрь 2026») but a
# day in the genitive («25 ноября»)
MONTHS = {
    'en': [
        "January", "February", "March", "April", "May", "June", "July",
        "August", "September", "October", "November", "December"],
    'ru': [
        "январь", "февраль", "март", "апрель", "май", "июнь", "июль",
        "август", "сентябрь", "октябрь", "ноябрь", "декабрь"],
    }
MONTHS_OF = {
    'en': MONTHS['en'],
    'ru': [
        "января", "февраля", "марта", "апреля", "мая", "июня", "июля",
        "августа", "сентября", "октября", "ноября", "декабря"],
    }
MONTHS_SHORT = {
    'en': [m[:3] for m in MONTHS['en']],
    'ru': [
        "янв", "фев", "мар", "апр", "май", "июн", "июл", "авг", "сен",
        "окт", "ноя", "дек"],
    }


def _language(language=None):
    "The code of MONTHS for the language, by default the transaction's"
    code = (language or Transaction().language or 'ru').replace('-', '_')
    code = code.split('_')[0].lower()
    return code if code in MONTHS else 'en'


def format_period(period, language=None):
    "The month of the period: «ноябрь 2026», «November 2026»"
    if not period:
        return ''
    return f'{MONTHS[_language(language)][period.month - 1]} {period.year}'


def format_day(date, language=None):
    "The day and month of the date: «25 ноября», «25 November»"
    if not date:
        return ''
    return f'{date.day} {MONTHS_OF[_language(language)][date.month - 1]}'


def format_month_short(date, language=None):
    "The month of the date in short: «ноя», «Nov»"
    return MONTHS_SHORT[_language(language)][date.month - 1]
