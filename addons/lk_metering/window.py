# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import calendar
import datetime as dt
from collections import namedtuple
from decimal import Decimal

from trytond.cache import Cache
from trytond.model import ModelSQL, ModelView, fields
from trytond.modules.lk_base.model import (
    CompanyDefaultMixin, company_field)
from trytond.pool import Pool
from trytond.pyson import Eval

from .meter import SERVICES

# The window of meters as a subscriber follows it: open or not on a day,
# the period a reading sent that day counts for and the first and last days
# it is taken (the current window while open, else the next one)
Deadline = namedtuple('Deadline', ['window', 'open', 'period', 'start', 'end'])


def _day(year, month, day):
    "The day of the month, the last one when the month is shorter"
    return dt.date(year, month, min(day, calendar.monthrange(year, month)[1]))


def _next_month(date):
    return (date.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


class Window(CompanyDefaultMixin, ModelSQL, ModelView):
    "The days of the month an organization takes readings"
    __name__ = 'lk.meter.window'
    __string__ = "Readings Window"

    company = company_field(ondelete='CASCADE')
    service = fields.Selection(
        [(None, "")] + SERVICES, "Service",
        help="Leave empty for every service without a window of its own.")
    service_string = service.translated('service')
    day_from = fields.Integer(
        "From Day", required=True,
        domain=[('day_from', '>=', 1), ('day_from', '<=', 31)])
    day_to = fields.Integer(
        "To Day", required=True,
        domain=[
            ('day_to', '>=', Eval('day_from', 1)),
            ('day_to', '<=', 31),
            ],
        help="The last day, included; 31 means the end of every month.")
    outside = fields.Selection([
            ('refuse', "Refuse"),
            ('next_period', "Accept for the Next Period"),
            ], "Outside the Window", required=True,
        help="What happens to a reading submitted outside the window.")
    jump_factor = fields.Numeric(
        "Jump Factor", digits=(16, 1), required=True,
        domain=[('jump_factor', '>', 0)],
        help="A consumption above this multiple of the meter's average "
        "monthly consumption is accepted but flagged for review.")
    backdate_periods = fields.Integer(
        "Backdate Periods", required=True,
        domain=[('backdate_periods', '>=', 0), ('backdate_periods', '<=', 12)],
        help="How many periods before the current one subscribers may date "
        "their readings in (1: the current and the previous month).")
    # every submission asks for its window
    _get_window_cache = Cache('lk.meter.window.get_window', context=False)

    @classmethod
    def default_day_from(cls):
        return 20

    @classmethod
    def default_day_to(cls):
        return 25

    @classmethod
    def default_outside(cls):
        return 'refuse'

    @classmethod
    def default_jump_factor(cls):
        return Decimal(3)

    @classmethod
    def default_backdate_periods(cls):
        return 1

    def get_rec_name(self, name):
        service = self.service_string if self.service else "*"
        return (f'{self.company.rec_name}: {service} '
            f'{self.day_from}–{self.day_to}')

    @classmethod
    def on_modification(cls, mode, windows, field_names=None):
        super().on_modification(mode, windows, field_names=field_names)
        cls._get_window_cache.clear()

    @classmethod
    def get_window(cls, meter):
        "The window of the meter's service, else the organization's"
        key = (meter.company.id, meter.service)
        window_id = cls._get_window_cache.get(key, -1)
        if window_id == -1:
            windows = cls.search([
                    ('company', '=', meter.company.id),
                    ('service', 'in', [meter.service, None]),
                    ])
            windows.sort(key=lambda w: w.service is None)
            window_id = windows[0].id if windows else None
            cls._get_window_cache.set(key, window_id)
        return cls(window_id) if window_id is not None else None

    def dates(self, date):
        "The first and last days of the window in the month of the date"
        return (
            _day(date.year, date.month, self.day_from),
            _day(date.year, date.month, self.day_to))

    @classmethod
    def status(cls, meter, date):
        """(is_open, period, next_from, next_to) for a reading of the meter
        on the date

        When open, period is the month of the date and next_from–next_to the
        current window; when closed, they are the next window and its month.
        Without a window, readings are taken any day."""
        window = cls.get_window(meter)
        period = date.replace(day=1)
        if not window:
            return True, period, None, None
        start, end = window.dates(date)
        if start <= date <= end:
            return True, period, start, end
        if date > end:
            start, end = window.dates(_next_month(date))
        return False, start.replace(day=1), start, end

    @classmethod
    def deadlines(cls, meters, date=None):
        """The windows of the meters, each once, as Deadline on the date
        (by default today), the earliest last day first; meters without a
        window take readings any day and have none"""
        pool = Pool()
        Date = pool.get('ir.date')
        if date is None:
            date = Date.today()
        deadlines = {}
        for meter in meters:
            window = cls.get_window(meter)
            if window and window.id not in deadlines:
                deadlines[window.id] = Deadline(
                    window, *cls.status(meter, date))
        return sorted(deadlines.values(), key=lambda d: (d.end, d.window.id))
