# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The portal's «Показания» pages (registered by portal.py: they answer
only where lk_metering and lk_portal are activated)

The meters of every account of the user, grouped by address; one meter's
entry form (one field per channel), its history and its monthly
consumption chart (inline SVG drawn here). The record rules of lk_metering
decide what the subscriber sees and may create: another subscriber's meter
is a 404, a delegate without the readings right is refused the create.
"""
import datetime as dt
import re
from collections import OrderedDict
from decimal import Decimal, InvalidOperation
from html import escape
from types import SimpleNamespace

from genshi.core import Markup
from werkzeug.exceptions import Forbidden
from werkzeug.utils import redirect

from trytond.exceptions import UserError
from trytond.i18n import gettext
from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.protocols.wrappers import with_pool, with_transaction
from trytond.transaction import Transaction

from trytond.modules.lk_base.month import (
    format_day, format_month_short, format_period)
from trytond.modules.lk_portal.i18n import N_
from trytond.modules.lk_portal.portal import (
    check_csrf, get_or_404, language, not_found, render, route, subscriber,
    translate as _, valid_access)

from .exceptions import ReadingJumpError

PERIOD = re.compile(r'^(\d{4})-(\d{2})$')
CHART_MONTHS = 12
# The most digits before the point of any meter's register (lk.meter)
VALUE_DIGITS = 12

# The states of a reading as the subscriber reads them (portal catalog):
# a new one waits for the organization's check
STATES = {
    'new': N_("awaiting check"),
    'accepted': N_("accepted"),
    'rejected': N_("rejected"),
    'exported': N_("sent to billing"),
    'superseded': N_("replaced"),
    }


def valid_accesses(pool, web_user):
    "The user's valid accesses by account id"
    Access = pool.get('lk.account.access')
    return Access.valid_for(web_user)


def visible_meters(pool, accesses, account=None):
    Meter = pool.get('lk.meter')
    ids = [account] if account is not None else list(accesses)
    if not ids:
        return []
    return Meter.search([
            ('account', 'in', ids),
            ('state', '=', 'active'),
            ])


def meter_access(pool, web_user, meter_id):
    "The meter and the user's access to its account, or 404"
    Meter = pool.get('lk.meter')
    meter = get_or_404(Meter, meter_id)
    return meter, valid_access(web_user, meter.account)


def format_value(value, decimals=None):
    "A reading's value as a string, with the register's decimals"
    if value is None:
        return ''
    value = Decimal(value)
    if decimals is not None:
        value = value.quantize(Decimal(1).scaleb(-int(decimals)))
    return str(value)


def whole(text):
    "The text kept on one line: «25 ноября», «ноябрь 2026»"
    return text.replace(' ', '\u00a0')


def show_value(value, decimals, code):
    "A value as the page's language writes it: «12345,6» in Russian"
    text = format_value(value, decimals)
    return text.replace('.', ',') if code == 'ru' else text


def parse_value(text):
    """A value typed by the subscriber (comma or point), or None

    ValueError unless it is a number from 0 with at most VALUE_DIGITS
    digits before the point: the meter's own register is checked by
    lk_metering, which needs a number within that to compare."""
    text = (text or '').strip().replace('\u00a0', '').replace(' ', '')
    text = text.replace(',', '.')
    if not text:
        return None
    if len(text) > 2 * VALUE_DIGITS or not text.isascii():
        raise ValueError(text)
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(text)
    if (not value.is_finite() or value < 0
            or value.adjusted() >= VALUE_DIGITS):
        raise ValueError(text)
    return value


def window_status(pool, meter, date=None):
    Window = pool.get('lk.meter.window')
    is_open, period, next_from, next_to = Window.status(
        meter, date or dt.date.today())
    window = Window.get_window(meter) if hasattr(Window, 'get_window') \
        else None
    return SimpleNamespace(
        open=bool(is_open), period=period, next_from=next_from,
        next_to=next_to,
        # outside the window: refused, or counted for the next period
        next_period=bool(
            not is_open and window and window.outside == 'next_period'))


def monthly_consumption(readings, months=CHART_MONTHS, today=None):
    """The consumption of the readings (all channels) by period, for the
    last months: [(period, Decimal)]"""
    today = today or dt.date.today()
    totals = OrderedDict()
    year, month = today.year, today.month
    for __ in range(months):
        totals[dt.date(year, month, 1)] = Decimal(0)
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    for reading in readings:
        if reading.state not in {'new', 'accepted', 'exported'}:
            continue
        if reading.period in totals and reading.consumption:
            totals[reading.period] += reading.consumption
    return list(reversed(totals.items()))


def chart_svg(series, title, unit='', code='en'):
    """Server-drawn bars of [(period, value)] as inline SVG markup, each
    month labelled with its year (a year of bars spans two)"""
    # narrow enough that its labels stay legible on a phone
    width, height, top, bottom, left = 420, 240, 18, 40, 6
    maximum = max((v for _, v in series), default=0) or Decimal(1)
    step = (width - 2 * left) / max(len(series), 1)
    bar = step * 0.7
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" '
        f'viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}">',
        f'<title>{escape(title)}</title>',
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - left}" '
        f'y2="{height - bottom}" class="axis" stroke="#c5ccd3"/>',
        ]
    for index, (period, value) in enumerate(series):
        plot = height - top - bottom
        h = float(value / maximum) * plot if value > 0 else 0
        x = left + index * step + (step - bar) / 2
        y = height - bottom - h
        label = format_period(period, code)
        shown = value.quantize(Decimal(1) if value >= 100 else Decimal('0.1'))
        text = show_value(f'{shown.normalize():f}', None, code) \
            if value else '0'
        middle = f'{x + bar / 2:.1f}'
        parts.append(
            f'<g class="bar"><title>{escape(label)}: {escape(text)} '
            f'{escape(unit)}</title>'
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" '
            f'height="{h:.1f}" fill="#0b5394"/>'
            f'<text x="{middle}" y="{height - bottom + 15}" '
            f'text-anchor="middle" font-size="13" fill="#4a5360" '
            f'class="month">{escape(format_month_short(period, code))}'
            f'<tspan x="{middle}" dy="15" font-size="11" class="year">'
            f'{period.year}</tspan></text>'
            + (f'<text x="{middle}" y="{max(y - 4, 12):.1f}" '
                f'text-anchor="middle" font-size="11" fill="#222">'
                f'{escape(text)}</text>' if value else '')
            + '</g>')
    parts.append('</svg>')
    return Markup(''.join(parts))


def submissions(readings):
    """The readings as the subscriber sent them, the last first: one row per
    submission (the channels of one date, period, state and subscriber)
    with its values by channel id and the reasons of a rejection"""
    rows = []
    for reading in readings:
        key = (reading.date, reading.period, reading.state,
            reading.web_user.id if reading.web_user else None)
        row = rows[-1] if rows else None
        if row is None or row.key != key or reading.channel.id in row.values:
            row = SimpleNamespace(
                key=key, date=reading.date, period=reading.period,
                state=reading.state, values={}, reasons=[])
            rows.append(row)
        row.values[reading.channel.id] = reading
        if reading.reject_reason and reading.reject_reason not in row.reasons:
            row.reasons.append(reading.reject_reason)
    return rows


def meter_groups(pool, accesses, meters):
    "The meters by the address of their account"
    groups = OrderedDict()
    for meter in sorted(meters, key=lambda m: (
                m.account.address or '', m.account.number, m.rec_name)):
        account = meter.account
        access = accesses[account.id]
        groups.setdefault(account.building.address, []).append(
            SimpleNamespace(
                meter=meter, account=account, access=access,
                organization=account.company.display_name,
                can_submit=access.has_right('readings')))
    return groups


def readings_list(request, pool, web_user, account_id=None):
    Meter = pool.get('lk.meter')
    accesses = valid_accesses(pool, web_user)
    if account_id is not None and account_id not in accesses:
        raise not_found()
    meters = visible_meters(pool, accesses, account_id)
    meters = [m for m in meters if m.account.id in accesses]
    submittable = [
        m for m in meters if accesses[m.account.id].has_right('readings')]
    waiting = {m.id for m in Meter.waiting(submittable)} \
        if submittable else set()
    return render(
        request, 'readings.html',
        groups=meter_groups(pool, accesses, meters), waiting=waiting,
        account_id=account_id)


@route('/readings')
@with_pool
@with_transaction()
@subscriber
def readings(request, pool, web_user):
    return readings_list(request, pool, web_user)


@route('/accounts/<int:account_id>/readings')
@with_pool
@with_transaction()
@subscriber
def account_readings(request, pool, web_user, account_id):
    return readings_list(request, pool, web_user, account_id)


def history(pool, meter):
    Reading = pool.get('lk.meter.reading')
    return Reading.search([
            ('meter', '=', meter.id),
            ], order=[('date', 'DESC'), ('id', 'DESC')])


def channel_label(request, meter, channel):
    "A channel as the page names it: a single one is just the reading"
    if len(meter.channels) > 1:
        return channel.name
    return _(request, "Reading")


def meter_page(request, pool, meter, access, status=200, error=None,
        values=None, sent=None, jump=None):
    Meter = pool.get('lk.meter')
    code = language(request)
    channels = list(meter.channels)
    last = Meter.last_readings(meter) or {}
    readings = history(pool, meter)
    rows = submissions(readings)
    # the columns of the history: the meter's channels, then the ones a
    # former setup of the meter had
    columns = channels + list({
            r.channel: None for r in readings
            if r.channel not in channels})
    title = _(request, "Monthly consumption") + f', {meter.unit}'
    received = None
    if sent:
        received = max(
            (r for r in rows
                if r.period == sent and r.key[3] == request.lk_web_user.id),
            key=lambda r: max(v.id for v in r.values.values()),
            default=None)
    return render(
        request, 'readings_meter.html', status=status, meter=meter,
        account=meter.account, organization=meter.account.company,
        channels=channels, columns=columns, last=last,
        window=window_status(pool, meter),
        can_submit=access.has_right('readings'), history=rows,
        chart=chart_svg(
            monthly_consumption(readings), title, meter.unit, code),
        error=error, jump=jump, values=values or {}, received=received,
        states=STATES, unit=meter.unit,
        label=lambda c: channel_label(request, meter, c),
        show_value=lambda v: show_value(v, meter.decimals, code),
        format_period=lambda p: whole(format_period(p, code)),
        format_day=lambda d: whole(format_day(d, code)))


@route('/readings/<int:meter_id>', methods=('GET', 'POST'))
@with_pool
@with_transaction()
@subscriber
def meter_readings(request, pool, web_user, meter_id):
    Reading = pool.get('lk.meter.reading')
    meter, access = meter_access(pool, web_user, meter_id)
    if request.method == 'GET':
        sent = None
        if match := PERIOD.match(request.args.get('sent') or ''):
            sent = dt.date(int(match[1]), int(match[2]), 1)
        return meter_page(request, pool, meter, access, sent=sent)

    check_csrf(request)
    if not access.has_right('readings'):
        raise Forbidden(gettext('lk_metering.msg_readings_right'))
    values, typed = {}, {}
    for channel in meter.channels:
        text = request.form.get(f'channel_{channel.id}', '')
        typed[channel.id] = text
        try:
            value = parse_value(text)
        except ValueError:
            return meter_page(
                request, pool, meter, access, status=400, values=typed,
                error=_(request, "«%(channel)s»: enter a number from 0 "
                    "with at most %(digits)s digits before the comma, "
                    "e.g. 12345,6.") % {
                    'channel': channel_label(request, meter, channel),
                    'digits': VALUE_DIGITS})
        if value is not None:
            values[channel.id] = value
    photo = request.files.get('photo')
    photo_data = photo_name = None
    if photo and photo.filename:
        if not (photo.mimetype or '').startswith('image/'):
            return meter_page(
                request, pool, meter, access, status=400, values=typed,
                error=_(request, "The photo must be an image."))
        photo_data = photo.read()
        photo_name = photo.filename
    try:
        created = Reading.submit(
            meter, values, source='portal', web_user=web_user,
            photo=photo_data, photo_name=photo_name,
            confirm=request.form.get('confirm') == '1')
    except AccessError:
        Transaction().rollback()
        raise Forbidden(gettext('lk_metering.msg_readings_right'))
    except ReadingJumpError as exception:
        # far above the usual: the subscriber checks and confirms
        Transaction().rollback()
        return meter_page(
            request, pool, meter, access, values=typed,
            jump=exception.message)
    except UserError as exception:
        Transaction().rollback()
        return meter_page(
            request, pool, meter, access, status=400, values=typed,
            error=exception.message)
    period = created[0].period if created else None
    target = f'/readings/{meter.id}'
    if period:
        target += f'?sent={period:%Y-%m}'
    return redirect(target, code=303)


def deadlines_text(request, meters):
    """Until when the windows of the meters take readings: «Показания
    принимаются до 25 ноября», by organization when their dates differ"""
    pool = Pool()
    Window = pool.get('lk.meter.window')
    code = language(request)
    dates = OrderedDict()
    for deadline in Window.deadlines(meters):
        if deadline.open:
            text = _(request, "until %(end)s") % {
                'end': whole(format_day(deadline.end, code))}
        else:
            text = _(request, "from %(start)s to %(end)s") % {
                'start': whole(format_day(deadline.start, code)),
                'end': whole(format_day(deadline.end, code))}
        organizations = dates.setdefault(text, [])
        name = deadline.window.company.display_name
        if name not in organizations:
            organizations.append(name)
    if not dates:
        return ''
    if len(dates) == 1:
        text, = dates
    else:
        text = '; '.join(
            f'{", ".join(o)} — {t}' for t, o in dates.items())
    return _(request, "Readings are taken %(dates)s.") % {'dates': text}


def home_panel(request, web_user):
    "The home tile: the meters still waiting for readings and until when"
    pool = Pool()
    Meter = pool.get('lk.meter')
    accesses = valid_accesses(pool, web_user)
    meters = [
        m for m in visible_meters(pool, accesses)
        if m.account.id in accesses
        and accesses[m.account.id].has_right('readings')]
    if not meters:
        return None
    waiting = len(Meter.waiting(meters))
    text = ((_(request, "Meters waiting for readings: %(count)s")
            % {'count': waiting}) if waiting
        else _(request, "All readings are submitted."))
    if deadlines := deadlines_text(request, meters):
        text = f'{text}. {deadlines}' if text[-1].isalnum() \
            else f'{text} {deadlines}'
    return SimpleNamespace(
        name='readings', url='/readings', title=_(request, "Meter readings"),
        count=waiting, text=text, deadlines=deadlines)
