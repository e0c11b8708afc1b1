# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import csv
import datetime as dt
import io
import math
from bisect import bisect_left
from collections import defaultdict, namedtuple
from decimal import Decimal, InvalidOperation

from trytond import backend, config
from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Workflow, fields
from trytond.model.exceptions import AccessError
from trytond.modules.lk_base.model import (
    CompanyDefaultMixin, check_readable, start_view)
from trytond.modules.lk_base.report import Report
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.rpc import RPC
from trytond.tools import grouped_slice
from trytond.transaction import Transaction, check_access, without_check_access
from trytond.wizard import Button, StateTransition, StateView, Wizard

from .exceptions import (
    ReadingJumpError, ReadingModificationError, ReadingValidationError,
    WindowClosedError)

STATES = [
    ('new', "New"),
    ('accepted', "Accepted"),
    ('rejected', "Rejected"),
    ('exported', "Exported"),
    ('superseded', "Superseded"),
    ]
SOURCES = [
    ('portal', "Portal"),
    ('api', "API"),
    ('staff', "Staff"),
    ('import', "Import"),
    ]
# The readings that count: consumption is taken against them
COUNTED = ['accepted', 'exported']
ALIVE = ['new', 'accepted', 'exported']
# submissions submit_batch checks and creates at once
BATCH_SLICE = 200
# the sources of the subscribers, whose readings keep to the window and to
# the backdating periods
SUBSCRIBER_SOURCES = {'portal', 'api'}
# what staff may still change on a new reading; the rest is set when it is
# created and by the workflow
WRITABLE = {'date', 'value', 'period', 'reject_reason', 'photo', 'photo_name'}
# the photos taken: what a phone's camera or gallery gives
PHOTO_TYPES = [
    (b'\xff\xd8\xff', 'JPEG'),
    (b'\x89PNG\r\n\x1a\n', 'PNG'),
    ]


def consumption(meter, previous, value):
    """The consumption from previous to value on the meter's register, None
    when value is below previous without a plausible rollover

    The register rolls over to zero after 10^digits: a lower value counts
    as a rollover only from the top tenth of the range to the bottom one."""
    if value >= previous:
        return value - previous
    size = Decimal(10) ** meter.digits
    if previous >= size * Decimal('0.9') and value < size * Decimal('0.1'):
        return size - previous + value
    return None


def months_between(start, end):
    return max(1, (end.year - start.year) * 12 + end.month - start.month)


# A counted reading as the history of its channel keeps it
Counted = namedtuple('Counted', ['id', 'date', 'value', 'kind'])
# A value far above the usual consumption of its channel (Reading.jumps):
# the consumption since the previous counted reading and the average month
Jump = namedtuple(
    'Jump', ['channel', 'value', 'consumption', 'average', 'previous_date'])


def _select_by_meter(table, meter_ids, columns, where=None, order_by=None):
    "The rows (meter, *columns) of the table for the meters, in few queries"
    cursor = Transaction().connection.cursor()
    for sub_ids in grouped_slice(
            sorted(set(meter_ids)), backend.MAX_QUERY_PARAMS):
        condition = fields.SQL_OPERATORS['in'](table.meter, sub_ids)
        if where is not None:
            condition &= where
        cursor.execute(*table.select(
                table.meter, *columns, where=condition, order_by=order_by))
        yield from cursor


def last_counted_date(history, meter_id, channel_ids, id=None):
    """The date of the meter's last counted reading on any of the channels,
    but the reading with the id"""
    dates = []
    for channel_id in channel_ids:
        for counted in reversed(history.get((meter_id, channel_id), ())):
            if counted.id != id:
                dates.append(counted.date)
                break
    return max(dates, default=None)


def first_of_months_before(date, months):
    "The first day of the month the number of months before the date's"
    month = date.year * 12 + date.month - 1 - months
    return dt.date(month // 12, month % 12 + 1, 1)


def photo_type(data):
    "The name of the image format of the bytes, None when not a photo's"
    for magic, name in PHOTO_TYPES:
        if data.startswith(magic):
            return name
    if data[:4] == b'RIFF' and data[8:12] == b'WEBP':
        return 'WebP'
    return None


def counted_before(history, date, id=None):
    """The last of the counted readings of a channel (oldest first) before
    the reading with the id on the date; without id, the last on the date"""
    key = (date, id if id is not None else math.inf)
    index = bisect_left(history, key, key=lambda r: (r.date, r.id))
    return history[index - 1] if index else None


class Reading(Workflow, ModelSQL, ModelView):
    "A meter reading of one channel"
    __name__ = 'lk.meter.reading'
    __string__ = "Meter Reading"

    company = fields.Many2One(
        'company.company', "Organization", required=True, readonly=True,
        ondelete='RESTRICT')
    # set by submit() and the replacement, which check them (clearer than
    # domains, and without a search per created batch)
    meter = fields.Many2One(
        'lk.meter', "Meter", required=True, readonly=True,
        ondelete='CASCADE')
    account = fields.Function(
        fields.Many2One('lk.account', "Account"),
        'on_change_with_account', searcher='search_account')
    channel = fields.Many2One(
        'lk.meter.channel', "Channel", required=True, readonly=True,
        ondelete='RESTRICT')
    date = fields.Date(
        "Date", required=True,
        states={
            'readonly': Eval('state') != 'new',
            })
    value = fields.Numeric(
        "Value", digits=(16, 3), required=True,
        domain=[('value', '>=', 0)],
        states={
            'readonly': Eval('state') != 'new',
            })
    period = fields.Date(
        "Period", required=True,
        help="The first day of the billing month the reading counts for.",
        states={
            'readonly': Eval('state') != 'new',
            })
    source = fields.Selection(
        SOURCES, "Source", required=True, readonly=True)
    web_user = fields.Many2One(
        'web.user', "Subscriber User", readonly=True, ondelete='SET NULL',
        help="Who submitted the reading in the portal or the API.")
    author = fields.Many2One(
        'res.user', "Author", readonly=True, ondelete='SET NULL',
        help="The staff member who entered the reading.")
    state = fields.Selection(
        STATES, "State", required=True, readonly=True, sort=False)
    state_string = state.translated('state')
    reject_reason = fields.Text(
        "Reject Reason", size=2000,
        states={
            'invisible': ~Eval('state').in_(['new', 'rejected']),
            'readonly': Eval('state') != 'new',
            })
    kind = fields.Selection([
            ('regular', "Regular"),
            ('initial', "Initial"),
            ('final', "Final"),
            ], "Kind", required=True, readonly=True)
    consumption = fields.Function(
        fields.Numeric("Consumption", digits=(16, 3)), 'get_consumption')
    flagged_jump = fields.Boolean(
        "Jump", readonly=True,
        help="The consumption is far above the meter's average: check it.")
    flagged_verification = fields.Boolean(
        "Verification Overdue", readonly=True,
        help="Taken after the meter's verification date: "
        "not to be used for billing.")
    photo = fields.Binary(
        "Photo", filename='photo_name', file_id='photo_id')
    photo_id = fields.Char("Photo ID", readonly=True)
    photo_name = fields.Char("Photo Name", size=255)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('meter')
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(
                    t, (t.meter, Index.Range()),
                    (t.channel, Index.Range()),
                    (t.date, Index.Range())),
                Index(
                    t, (t.company, Index.Range()),
                    (t.period, Index.Range())),
                Index(
                    t, (t.state, Index.Equality()),
                    where=t.state == 'new'),
                })
        cls._order = [('date', 'DESC'), ('id', 'DESC')]
        # manual entry by staff; access rights and rules apply
        cls.__rpc__.update({
                'submit': RPC(
                    readonly=False, result=lambda r: list(map(int, r))),
                })
        cls._transitions |= {
            ('new', 'accepted'),
            ('new', 'rejected'),
            ('new', 'superseded'),
            ('accepted', 'exported'),
            ('exported', 'exported'),
            }
        cls._buttons.update({
                'accept': {
                    'invisible': Eval('state') != 'new',
                    'depends': ['state'],
                    },
                'reject': {
                    'invisible': Eval('state') != 'new',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_date(cls):
        return Pool().get('ir.date').today()

    @classmethod
    def default_source(cls):
        return 'staff'

    @classmethod
    def default_state(cls):
        return 'new'

    @classmethod
    def default_kind(cls):
        return 'regular'

    @classmethod
    def default_flagged_jump(cls):
        return False

    @classmethod
    def default_flagged_verification(cls):
        return False

    @classmethod
    def copy(cls, readings, default=None):
        "A copy is a new reading of staff, checked like one"
        default = default.copy() if default is not None else {}
        default.setdefault('state', 'new')
        default.setdefault('kind', 'regular')
        default.setdefault('source', 'staff')
        default.setdefault('web_user')
        default.setdefault('author')
        default.setdefault('reject_reason')
        default.setdefault('flagged_jump', False)
        default.setdefault('flagged_verification', False)
        return super().copy(readings, default=default)

    @fields.depends('meter', '_parent_meter.company')
    def on_change_meter(self):
        if self.meter:
            check_readable([self.meter])
            self.company = self.meter.company

    @fields.depends('date', 'period')
    def on_change_date(self):
        if self.date and not self.period:
            self.period = self.date.replace(day=1)

    @fields.depends('meter', '_parent_meter.account')
    def on_change_with_account(self, name=None):
        if name is None:
            # from the client, which sent the meter's id
            check_readable([self.meter])
        return self.meter.account if self.meter else None

    @classmethod
    def search_account(cls, name, clause):
        return [('meter.' + clause[0],) + tuple(clause[1:])]

    def get_rec_name(self, name):
        return (f'{self.meter.rec_name} {self.channel.rec_name} '
            f'{self.date:%d.%m.%Y}: {self.value}')

    @classmethod
    def preprocess_values(cls, mode, values):
        pool = Pool()
        Meter = pool.get('lk.meter')
        values = super().preprocess_values(mode, values)
        if mode == 'create':
            if values.get('meter') and not values.get('company'):
                values['company'] = Meter(values['meter']).company.id
            if values.get('date') and not values.get('period'):
                values['period'] = values['date'].replace(day=1)
            if (values.get('source', 'staff') == 'staff'
                    and not values.get('author')):
                values['author'] = Transaction().user or None
        return values

    @classmethod
    def counted_history(cls, meter_ids):
        """The counted readings of the meters by (meter id, channel id),
        oldest first

        One query for a whole batch: validation, flags and consumption look
        the previous readings up here instead of searching one by one.  The
        caller has access to the meters; their readings are read as such."""
        table = cls.__table__()
        history = defaultdict(list)
        for meter, channel, id_, date, value, kind in _select_by_meter(
                table, meter_ids,
                [table.channel, table.id, table.date, table.value,
                    table.kind],
                where=table.state.in_(COUNTED),
                order_by=[table.date.asc, table.id.asc]):
            history[meter, channel].append(
                Counted(id_, date, Decimal(str(value)), kind))
        return history

    @classmethod
    def meter_channels(cls, meter_ids):
        "The channel ids of each meter by meter id, in one query"
        pool = Pool()
        MeterChannel = pool.get('lk.meter-lk.meter.channel')
        table = MeterChannel.__table__()
        channels = defaultdict(set)
        for meter, channel in _select_by_meter(
                table, meter_ids, [table.channel]):
            channels[meter].add(channel)
        return channels

    @classmethod
    def get_consumption(cls, readings, name):
        history = cls.counted_history({r.meter.id for r in readings})
        result = {}
        for reading in readings:
            result[reading.id] = None
            if reading.kind == 'initial':
                continue
            meter = reading.meter
            previous = counted_before(
                history[meter.id, reading.channel.id],
                reading.date, reading.id)
            if previous is None:
                continue
            used = consumption(meter, previous.value, reading.value)
            if used is not None:
                used = used.quantize(Decimal(1).scaleb(-meter.decimals))
            result[reading.id] = used
        return result

    @classmethod
    def validate_fields(cls, readings, field_names):
        super().validate_fields(readings, field_names)
        cls.check_value(readings, field_names)
        cls.check_photo(readings, field_names)

    @classmethod
    def check_value(cls, readings, field_names=None):
        "Check what a new reading may hold: the date, decimals and value"
        pool = Pool()
        Date = pool.get('ir.date')
        if field_names and not (field_names & {
                    'value', 'date', 'period', 'meter', 'channel', 'company',
                    'state'}):
            return
        today = Date.today()
        meter_ids = {r.meter.id for r in readings}
        channels = cls.meter_channels(meter_ids)
        for reading in readings:
            meter = reading.meter
            if reading.company != meter.company:
                raise reading._value_error('msg_reading_company')
            if reading.channel.id not in channels[meter.id]:
                raise reading._value_error('msg_reading_channel_unknown')
        # new readings, and the final ones replacement saves accepted
        readings = [
            r for r in readings if r.state == 'new' or r.kind == 'final']
        history = cls.counted_history({r.meter.id for r in readings})
        for reading in readings:
            meter = reading.meter
            if reading.date > today:
                raise reading._value_error(
                    'msg_reading_future',
                    date=reading.date.strftime('%d.%m.%Y'))
            if meter.state == 'removed' and (
                    not meter.removed_on or reading.date > meter.removed_on):
                raise reading._value_error('msg_reading_meter_removed')
            earliest = cls.earliest_date(
                meter, history, channels[meter.id], id=reading.id)
            if earliest and reading.date < earliest:
                raise reading._value_error(
                    'msg_reading_date_range',
                    date=reading.date.strftime('%d.%m.%Y'),
                    date_from=earliest.strftime('%d.%m.%Y'),
                    date_to=today.strftime('%d.%m.%Y'))
            first = reading.date.replace(day=1)
            following = first_of_months_before(first, -1)
            if reading.period not in {first, following}:
                raise reading._value_error(
                    'msg_reading_period',
                    date=reading.date.strftime('%d.%m.%Y'),
                    period=first.strftime('%m.%Y'),
                    next_period=following.strftime('%m.%Y'))
            value = reading.value
            # digits first: round() of a huge value fails
            if value >= Decimal(10) ** meter.digits:
                raise reading._value_error(
                    'msg_reading_too_many_digits', digits=meter.digits)
            if value != round(value, meter.decimals):
                raise reading._value_error(
                    'msg_reading_decimals', decimals=meter.decimals)
            if reading.kind == 'initial':
                continue
            previous = counted_before(
                history[meter.id, reading.channel.id],
                reading.date, reading.id)
            if (previous
                    and consumption(meter, previous.value, value) is None):
                raise reading._value_error(
                    'msg_reading_below_previous',
                    previous=previous.value,
                    previous_date=previous.date.strftime('%d.%m.%Y'))

    @classmethod
    def earliest_date(cls, meter, history, channel_ids, subscriber=False,
            id=None):
        """The earliest date a reading of the meter may have: not before its
        installation nor its last counted reading, and for subscribers not
        before the periods their organization lets them backdate to"""
        pool = Pool()
        Date = pool.get('ir.date')
        Window = pool.get('lk.meter.window')
        dates = [meter.installed_on, last_counted_date(
                history, meter.id, channel_ids, id=id)]
        if subscriber:
            window = Window.get_window(meter)
            periods = window.backdate_periods if window else 1
            dates.append(first_of_months_before(Date.today(), periods))
        return max(filter(None, dates), default=None)

    @classmethod
    def check_photo(cls, readings, field_names=None):
        "Take only the photos of a camera, within the size configured"
        if field_names and 'photo' not in field_names:
            return
        max_size = config.getint(
            'lk_metering', 'photo_max_size', default=5 * 1024 * 1024)
        # a photo is stored in the file store under photo_id
        for reading in filter(lambda r: r.photo_id, readings):
            data = bytes(reading.photo or b'')
            if len(data) > max_size:
                raise reading._photo_error(
                    'msg_reading_photo_size',
                    size=f'{len(data) / 1024 / 1024:.1f}',
                    max_size=f'{max_size / 1024 / 1024:.1f}')
            if not photo_type(data):
                raise reading._photo_error('msg_reading_photo_type')

    def _photo_error(self, message, **values):
        return ReadingValidationError(gettext(
                'lk_metering.' + message, meter=self.meter.rec_name,
                name=self.photo_name or '', **values))

    @classmethod
    def check_modification(cls, mode, readings, values=None, external=False):
        """Counted readings are for billing: over RPC, in the portal and in
        the backend they are neither changed nor deleted, and only a new
        reading's date, value, period, photo and reject reason change.  The
        workflow moves the states itself."""
        pool = Pool()
        User = pool.get('res.user')
        super().check_modification(
            mode, readings, values=values, external=external)
        if not external:
            return
        if mode == 'delete':
            for reading in readings:
                if reading.state in COUNTED:
                    raise reading._modification_error(
                        'msg_reading_counted_delete')
        elif mode == 'write':
            refused = values.keys() - WRITABLE
            for reading in readings:
                if reading.state != 'new':
                    raise reading._modification_error(
                        'msg_reading_not_new')
                if refused:
                    strings = cls.fields_get(list(refused))
                    raise reading._modification_error(
                        'msg_reading_readonly',
                        fields=', '.join(
                            strings.get(n, {}).get('string', n)
                            for n in sorted(refused)))
        elif mode == 'create':
            web_user = Transaction().context.get('web_user')
            portal = User.lk_portal()
            for reading in readings:
                if portal:
                    # the subscriber user signed in, in the portal or API
                    derived = (reading.source in SUBSCRIBER_SOURCES
                        and reading.web_user
                        and reading.web_user.id == web_user
                        and not reading.author)
                else:
                    derived = (reading.source in {'staff', 'import'}
                        and not reading.web_user)
                if (not derived or reading.state != 'new'
                        or reading.kind != 'regular'):
                    raise reading._modification_error(
                        'msg_reading_create')

    def _modification_error(self, message, **values):
        return ReadingModificationError(gettext(
                'lk_metering.' + message, reading=self.rec_name,
                state=self.state_string, **values))

    def _value_error(self, message, **values):
        "The error of the message naming the reading's meter and channel"
        return ReadingValidationError(gettext(
                'lk_metering.' + message, meter=self.meter.rec_name,
                channel=self.channel.rec_name, value=self.value, **values))

    @classmethod
    def average_consumption(cls, meter, history, date):
        """The average monthly consumption over the 12 months of counted
        readings of the channel's history before the date, None without two
        of them"""
        start = date - dt.timedelta(days=366)
        readings = [r for r in history if start <= r.date <= date]
        if len(readings) < 2:
            return None
        total = Decimal(0)
        for before, after in zip(readings, readings[1:]):
            if after.kind == 'initial':
                continue
            total += consumption(meter, before.value, after.value) or 0
        return total / months_between(readings[0].date, readings[-1].date)

    @classmethod
    def submit(cls, meter, values, date=None, source='portal', web_user=None,
            photo=None, photo_name=None, confirm=False):
        """Take the readings of every channel of the meter on the date

        values maps channel ids to values.  Refuses what cannot be right,
        supersedes the still-new readings of the same period, flags jumps
        and overdue verification.  Returns the readings created.
        A subscriber's jump (see jumps) is refused with ReadingJumpError
        unless confirm: the subscriber checks the value and confirms it.

        Over RPC and in the portal, source and web_user come from who calls:
        the portal's subscriber user, or staff (source 'staff').  Subscribers
        and staff without «Новые показания» keep to the window and date
        their readings from the periods their organization lets them
        backdate to; no one before the meter's last counted reading."""
        pool = Pool()
        Date = pool.get('ir.date')
        Window = pool.get('lk.meter.window')
        Meter = pool.get('lk.meter')
        User = pool.get('res.user')
        transaction = Transaction()
        if not isinstance(meter, Meter):
            meter = Meter(int(meter))
        if transaction.user and transaction.check_access:
            # names and channels of a meter the user may not read stay
            # unsaid in the errors below
            check_readable([meter])
            if User.lk_portal():
                web_user = transaction.context.get('web_user')
                if source not in SUBSCRIBER_SOURCES:
                    source = 'portal'
            else:
                web_user, source = None, 'staff'
        # One submission per meter at a time, so that a concurrent one (an
        # app's retry, a second tab) sees this one's readings and supersedes
        # them: the transaction starts again holding the lock
        Meter.lock([meter])
        if backend.name == 'sqlite':
            # where lock() does nothing: take the database's write lock
            # now, before the reads below (a no-op write begins it)
            table = Meter.__table__()
            transaction.connection.cursor().execute(*table.update(
                    [table.id], [table.id], where=table.id == meter.id))
        if date is None:
            date = Date.today()
        values = cls._check_submission(meter, values, date)

        staff = source in {'staff', 'import'} and cls._staff_entry()
        history = cls.counted_history([meter.id])
        earliest = cls.earliest_date(
            meter, history, [c.id for c in meter.channels],
            subscriber=not staff)
        if earliest and date < earliest:
            raise ReadingValidationError(gettext(
                    'lk_metering.msg_reading_date_range',
                    meter=meter.rec_name, date=date.strftime('%d.%m.%Y'),
                    date_from=earliest.strftime('%d.%m.%Y'),
                    date_to=Date.today().strftime('%d.%m.%Y')))
        if staff:
            period = date.replace(day=1)
        else:
            is_open, period, next_from, next_to = Window.status(meter, date)
            if not is_open:
                window = Window.get_window(meter)
                if window.outside == 'refuse':
                    raise WindowClosedError(gettext(
                            'lk_metering.msg_reading_window_closed',
                            meter=meter.rec_name,
                            day_from=window.day_from, day_to=window.day_to,
                            next_from=next_from.strftime('%d.%m.%Y'),
                            next_to=next_to.strftime('%d.%m.%Y')))
        if source in SUBSCRIBER_SOURCES and not confirm:
            cls.check_jumps(meter, values, date, history)

        with without_check_access():
            superseded = cls.search([
                    ('meter', '=', meter.id),
                    ('period', '=', period),
                    ('state', '=', 'new'),
                    ])
            if superseded:
                cls.write(superseded, {'state': 'superseded'})

        to_create = cls._submission_values(
            meter, values, date, period, source, history)
        for reading in to_create:
            reading.update({
                    'web_user': getattr(web_user, 'id', web_user),
                    'photo': photo,
                    'photo_name': photo_name,
                    })
        return cls.create(to_create)

    @classmethod
    def _check_submission(cls, meter, values, date):
        """Refuse a submission of the meter on the date that cannot be right
        before anything is created; return its values by channel id"""
        pool = Pool()
        Date = pool.get('ir.date')

        def error(message, **values):
            return ReadingValidationError(gettext(
                    'lk_metering.' + message, meter=meter.rec_name, **values))

        if meter.state == 'removed':
            raise error('msg_reading_meter_removed')
        channel_ids = {c.id for c in meter.channels}
        values = {int(c): v for c, v in values.items()}
        missing = [c for c in meter.channels if values.get(c.id) is None]
        if missing:
            raise error(
                'msg_reading_channels_missing',
                channels=", ".join(c.rec_name for c in missing))
        if set(values) - channel_ids:
            raise error(
                'msg_reading_channel_unknown',
                channel=", ".join(map(str, set(values) - channel_ids)),
                value='')
        if date > Date.today():
            raise error('msg_reading_future', date=date.strftime('%d.%m.%Y'))
        checked = {}
        for channel in meter.channels:
            try:
                value = Decimal(str(values[channel.id]))
            except InvalidOperation:
                value = None
            if value is None or not value.is_finite() or value < 0:
                raise error(
                    'msg_reading_value_invalid', channel=channel.rec_name,
                    value=str(values[channel.id])[:20])
            if value >= Decimal(10) ** meter.digits:
                raise error(
                    'msg_reading_too_many_digits', channel=channel.rec_name,
                    value=value if len(str(value)) <= 20 else f'{value:.3E}',
                    digits=meter.digits)
            if value != round(value, meter.decimals):
                # before the field's digits refuse it less clearly
                raise error(
                    'msg_reading_decimals', channel=channel.rec_name,
                    value=value, decimals=meter.decimals)
            checked[channel.id] = value
        return checked

    @classmethod
    def _submission_values(cls, meter, values, date, period, source,
            history):
        """The values to create the new readings of a checked submission,
        flagged against the counted history of the meter's channels"""
        pool = Pool()
        Window = pool.get('lk.meter.window')
        window = Window.get_window(meter)
        factor = window.jump_factor if window else Decimal(3)
        overdue = bool(
            meter.verification_date and meter.verification_date < date)
        return [{
                'company': meter.company.id,
                'meter': meter.id,
                'channel': channel.id,
                'date': date,
                'value': values[channel.id],
                'period': period,
                'source': source,
                'state': 'new',
                'kind': 'regular',
                'flagged_jump': cls._jump(
                    meter, history[meter.id, channel.id], date,
                    values[channel.id], factor),
                'flagged_verification': overdue,
                } for channel in meter.channels]

    @classmethod
    def _staff_entry(cls):
        "Whether the user may enter readings outside the window"
        pool = Pool()
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        transaction = Transaction()
        if not transaction.check_access or not transaction.user:
            return True
        groups = {
            ModelData.get_id('lk_base', 'group_readings'),
            ModelData.get_id('lk_base', 'group_operator'),
            }
        return bool(groups & set(User.get_groups()))

    @classmethod
    def _jump(cls, meter, history, date, value, factor):
        "Whether the value is an implausible jump on the channel's history"
        average = cls.average_consumption(meter, history, date)
        if not average:
            return False
        previous = counted_before(history, date)
        if not previous:
            return False
        used = consumption(meter, previous.value, value)
        if used is None:
            return False
        return used / months_between(previous.date, date) > factor * average

    @classmethod
    def jumps(cls, meter, values, date, history=None):
        """The values of the meter on the date far above its usual
        consumption, as flagged_jump flags them: more than the window's jump
        factor (3 by default) times the average monthly consumption of the
        last year's counted readings of the channel

        values maps channel ids to Decimal values.  Returns a Jump for each
        of them, the channels' order; nothing without a year's history."""
        pool = Pool()
        Window = pool.get('lk.meter.window')
        window = Window.get_window(meter)
        factor = window.jump_factor if window else Decimal(3)
        if history is None:
            history = cls.counted_history([meter.id])
        jumps = []
        for channel in meter.channels:
            value = values.get(channel.id)
            counted = history[meter.id, channel.id]
            if value is None or not cls._jump(
                    meter, counted, date, value, factor):
                continue
            previous = counted_before(counted, date)
            jumps.append(Jump(
                    channel, value,
                    consumption(meter, previous.value, value),
                    cls.average_consumption(meter, counted, date),
                    previous.date))
        return jumps

    @classmethod
    def check_jumps(cls, meter, values, date, history=None):
        "Refuse the jumps of the values until the subscriber confirms them"
        pool = Pool()
        Lang = pool.get('ir.lang')
        jumps = cls.jumps(meter, values, date, history=history)
        if not jumps:
            return
        lang = Lang.get()
        step = Decimal(1).scaleb(-meter.decimals)
        messages = []
        for jump in jumps:
            messages.append(gettext(
                    'lk_metering.msg_reading_jump',
                    meter=meter.rec_name,
                    channel=(f' ({jump.channel.rec_name})'
                        if len(meter.channels) > 1 else ''),
                    value=lang.format_number(
                        jump.value, meter.decimals, grouping=False),
                    consumption=lang.format_number(
                        jump.consumption.quantize(step), meter.decimals),
                    average=lang.format_number(
                        jump.average.quantize(step), meter.decimals),
                    unit=meter.unit,
                    previous_date=lang.strftime(jump.previous_date)))
        raise ReadingJumpError('\n'.join(messages))

    @classmethod
    def submit_batch(cls, submissions, source='import'):
        """Take many submissions at once: a list of (meter, values, date)

        Checks and flags every submission like submit(), but applies neither
        the window nor the supersession: for imports from the organization's
        own systems.  The meters and their history are read once per slice
        of the batch."""
        pool = Pool()
        Meter = pool.get('lk.meter')
        readings = []
        # Tryton checks the whole id list of a browse for each record: slices
        # keep large batches linear
        for batch in grouped_slice(submissions, BATCH_SLICE):
            batch = list(batch)
            meters = {m.id: m for m in Meter.browse(
                        sorted({int(m) for m, _, _ in batch}))}
            history = cls.counted_history(meters)
            to_create = []
            for meter, values, date in batch:
                meter = meters[int(meter)]
                values = cls._check_submission(meter, values, date)
                to_create.extend(cls._submission_values(
                        meter, values, date, date.replace(day=1), source,
                        history))
            readings.extend(cls.create(to_create))
        return readings

    @classmethod
    @ModelView.button
    @Workflow.transition('accepted')
    def accept(cls, readings):
        # the list's tab of new readings no longer shows them
        return 'reload'

    @classmethod
    @ModelView.button_action('lk_metering.wizard_reading_reject')
    def reject(cls, readings):
        pass

    @classmethod
    @Workflow.transition('rejected')
    def do_reject(cls, readings, reason=None):
        if reason:
            cls.write(readings, {'reject_reason': reason})
        for reading in readings:
            if not reading.reject_reason:
                raise ReadingValidationError(gettext(
                        'lk_metering.msg_reading_reject_reason',
                        meter=reading.meter.rec_name,
                        channel=reading.channel.rec_name,
                        value=reading.value))
        cls.send_rejected(readings)

    @classmethod
    def send_rejected(cls, readings):
        """E-mail the subscribers who sent the readings that they are
        rejected and why: one message per submission (meter and date), in
        the subscriber's language, sent once the transaction commits"""
        pool = Pool()
        Outbox = pool.get('lk.mail.outbox')
        submissions = defaultdict(list)
        for reading in readings:
            user = reading.web_user
            if user and user.email:
                submissions[user, reading.meter, reading.date].append(
                    reading.id)
        for (user, meter, _), ids in submissions.items():
            # the e-mail lists the readings of the submission rejected here
            with Transaction().set_context(lk_rejected_readings=ids):
                Outbox.enqueue_report(
                    'lk.meter.reading.email_rejected', cls(ids[0]),
                    user.languages, user.email, from_=meter.company.email)

    @classmethod
    @Workflow.transition('exported')
    def export(cls, readings):
        pass

    @classmethod
    def export_rows(cls, readings):
        "The header and rows of the layout documented in doc/index.rst"
        sources = dict(cls.fields_get(['source'])['source']['selection'])
        rows = [COLUMNS]
        for reading in readings:
            meter = reading.meter
            flags = []
            if reading.flagged_jump:
                flags.append("скачок")
            if reading.flagged_verification:
                flags.append("поверка просрочена")
            if reading.kind == 'initial':
                flags.append("начальное")
            elif reading.kind == 'final':
                flags.append("конечное")
            used = reading.consumption
            step = Decimal(1).scaleb(-meter.decimals)
            rows.append([
                    meter.company.inn or '',
                    meter.account.number,
                    meter.account.address,
                    meter.serial,
                    meter.service_string,
                    reading.channel.name,
                    reading.date.strftime('%d.%m.%Y'),
                    reading.value.quantize(step),
                    used if used is not None else '',
                    sources.get(reading.source, reading.source),
                    ", ".join(flags),
                    ])
        return rows

    @classmethod
    def export_csv(cls, rows):
        "CSV as Excel opens it: semicolons, decimal commas, UTF-8 with BOM"
        output = io.StringIO()
        writer = csv.writer(output, delimiter=';', lineterminator='\r\n')
        for row in rows:
            writer.writerow([
                    str(v).replace('.', ',') if isinstance(v, Decimal)
                    else v for v in row])
        return output.getvalue().encode('utf-8-sig')

    @classmethod
    def export_xlsx(cls, rows):
        from openpyxl import Workbook
        workbook = Workbook()
        sheet = workbook.active
        sheet.title = "Показания"
        for row in rows:
            sheet.append(row)
        output = io.BytesIO()
        workbook.save(output)
        return output.getvalue()


class RejectedEmail(Report):
    "The e-mail telling a subscriber their readings were rejected"
    __name__ = 'lk.meter.reading.email_rejected'

    @classmethod
    def get_context(cls, records, header, data):
        pool = Pool()
        Reading = pool.get('lk.meter.reading')
        context = super().get_context(records, header, data)
        ids = Transaction().context.get('lk_rejected_readings')
        readings = Reading.browse(ids) if ids else records
        context['readings'] = readings
        context['reasons'] = list(dict.fromkeys(
                r.reject_reason for r in readings if r.reject_reason))
        context['portal_url'] = (
            config.get('lk_portal', 'url', default='') or '').rstrip('/')
        return context


class RejectStart(ModelView):
    __name__ = 'lk.meter.reading.reject.start'
    __string__ = "Reject Readings"

    reason = fields.Text(
        "Reason", required=True, size=2000,
        help="The subscriber sees it in the history of the reading.")


class Reject(Wizard):
    "Reject the selected readings with a reason"
    __name__ = 'lk.meter.reading.reject'
    start = start_view(
        'lk.meter.reading.reject.start',
        'lk_metering.reading_reject_start_view_form', 'reject', "Reject")
    reject = StateTransition()

    def transition_reject(self):
        self.model.do_reject(
            [r for r in self.records if r.state == 'new'],
            reason=self.start.reason)
        return 'end'

    def end(self):
        # the list's tab of new readings no longer shows them
        return 'reload'


FORMATS = [
    ('xlsx', "Excel (xlsx)"),
    ('csv', "CSV"),
    ]
COLUMNS = [
    "ИНН организации", "Лицевой счёт", "Адрес", "Заводской номер",
    "Услуга", "Канал", "Дата", "Показание", "Расход", "Источник",
    "Признаки"]


class ExportStart(CompanyDefaultMixin, ModelView):
    __name__ = 'lk.meter.reading.export.start'
    __string__ = "Export Readings"

    company = fields.Many2One('company.company', "Organization", required=True)
    period = fields.Date(
        "Period", required=True,
        help="Any day of the billing month to export.")
    format = fields.Selection(FORMATS, "Format", required=True)

    @classmethod
    def default_period(cls):
        pool = Pool()
        Date = pool.get('ir.date')
        return Date.today().replace(day=1)

    @classmethod
    def default_format(cls):
        return 'xlsx'


class ExportResult(ModelView):
    __name__ = 'lk.meter.reading.export.result'
    __string__ = "Export Readings"

    file = fields.Binary("File", filename='filename', readonly=True)
    filename = fields.Char("File Name", readonly=True)
    message = fields.Text("Message", readonly=True)


class Export(Wizard):
    """Export the accepted readings of a period for the billing system

    Marks them exported; a period already exported is exported again whole,
    and the message says so."""
    __name__ = 'lk.meter.reading.export'
    start = start_view(
        'lk.meter.reading.export.start',
        'lk_metering.reading_export_start_view_form', 'export', "Export")
    export = StateTransition()
    result = StateView(
        'lk.meter.reading.export.result',
        'lk_metering.reading_export_result_view_form', [
            Button("Close", 'end', 'tryton-close', default=True),
            ])

    def transition_export(self):
        pool = Pool()
        Reading = pool.get('lk.meter.reading')
        User = pool.get('res.user')
        period = self.start.period.replace(day=1)
        # The wizard runs without access checks, but the organization comes
        # from the client: the user's organizations and rules decide
        company = self.start.company
        if Transaction().user and company.id not in User.get_companies():
            raise AccessError(gettext(
                    'lk_metering.msg_export_company', company=company.id))
        if self.start.format not in dict(FORMATS):
            raise ReadingValidationError(gettext(
                    'lk_metering.msg_export_format',
                    format=str(self.start.format)[:20]))
        with check_access():
            readings = Reading.search([
                    ('company', '=', company.id),
                    ('period', '=', period),
                    ('state', 'in', COUNTED),
                    ])
        readings.sort(key=lambda r: (
                r.meter.account.number, r.meter.serial,
                r.channel.sequence or 0, r.date, r.id))
        already = any(r.state == 'exported' for r in readings)
        rows = Reading.export_rows(readings)
        name = f'readings-{period:%Y-%m}.{self.start.format}'
        data = getattr(Reading, f'export_{self.start.format}')(rows)
        Reading.export([r for r in readings if r.state in COUNTED])
        self.result.file = data
        self.result.filename = name
        if already:
            message = gettext(
                'lk_metering.msg_export_again',
                period=f'{period:%m.%Y}', count=len(readings))
        else:
            message = gettext(
                'lk_metering.msg_export_done',
                period=f'{period:%m.%Y}', count=len(readings))
        self.result.message = message
        return 'result'

    def default_result(self, fields):
        return {
            'file': self.result.file,
            'filename': self.result.filename,
            'message': self.result.message,
            }
