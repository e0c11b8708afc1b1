# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.i18n import gettext
from trytond.model import (
    Index, ModelSQL, ModelView, Workflow, fields, sequence_ordered)
from trytond.modules.lk_base.model import (
    CompanyDefaultMixin, check_readable, company_field, search_fields_domain,
    shown_in, start_view, unique_in_company)
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.rpc import RPC
from trytond.transaction import Transaction, without_check_access
from trytond.wizard import StateAction, Wizard

from .exceptions import MeterValidationError
from .reading import ALIVE, COUNTED

SERVICES = [
    ('electricity', "Electricity"),
    ('cold_water', "Cold Water"),
    ('hot_water', "Hot Water"),
    ('gas', "Gas"),
    ('heat', "Heat"),
    ]
# The message of the unit a meter of the service counts in
UNITS = {
    'electricity': 'msg_unit_kwh',
    'cold_water': 'msg_unit_m3',
    'hot_water': 'msg_unit_m3',
    'gas': 'msg_unit_m3',
    'heat': 'msg_unit_gcal',
    }
# code, name, sequence: the tariff zones every organization starts with
DEFAULT_CHANNELS = [
    ('single', "Сутки", 10),
    ('day', "День", 20),
    ('peak', "Пик", 30),
    ('half_peak', "Полупик", 40),
    ('night', "Ночь", 50),
    ]


class Channel(
        CompanyDefaultMixin, sequence_ordered(), ModelSQL, ModelView):
    "A consumption channel: the tariff zone a register counts"
    __name__ = 'lk.meter.channel'
    __string__ = "Consumption Channel"

    company = company_field(ondelete='CASCADE')
    name = fields.Char("Name", required=True, translate=True, size=100)
    code = fields.Char("Code", required=True, strip=True, size=50)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._sql_constraints.append(unique_in_company(
                cls, 'code', 'lk_metering.msg_channel_code_unique'))

    @classmethod
    def defaults(cls, company):
        "The default channels of the organization by code, created if missing"
        channels = {c.code: c for c in cls.search([
                    ('company', '=', company.id),
                    ('code', 'in', [c for c, _, _ in DEFAULT_CHANNELS]),
                    ])}
        missing = [{
                'company': company.id,
                'code': code,
                'name': name,
                'sequence': sequence,
                } for code, name, sequence in DEFAULT_CHANNELS
            if code not in channels]
        if missing:
            channels.update({c.code: c for c in cls.create(missing)})
        return channels


class Meter(CompanyDefaultMixin, Workflow, ModelSQL, ModelView):
    "A meter of an account"
    __name__ = 'lk.meter'
    __string__ = "Meter"
    _rec_name = 'serial'

    company = company_field(fixed=True)
    account = fields.Many2One(
        'lk.account', "Account", required=True, ondelete='RESTRICT',
        domain=[
            ('company', '=', Eval('company', -1)),
            ])
    serial = fields.Char(
        "Serial Number", required=True, strip=True, size=50)
    service = fields.Selection(SERVICES, "Service", required=True)
    service_string = service.translated('service')
    unit = fields.Function(
        fields.Char("Unit", help="What the register counts: kWh, m³, Gcal."),
        'get_unit')
    place = fields.Char(
        "Place", size=100, help="Where the meter is: kitchen, bathroom…")
    channels = fields.Many2Many(
        'lk.meter-lk.meter.channel', 'meter', 'channel', "Channels",
        order=[('channel.sequence', 'ASC'), ('channel.id', 'ASC')],
        domain=[
            ('company', '=', Eval('company', -1)),
            ],
        size=3,
        help="The tariff zones the meter counts, 1 to 3.")
    digits = fields.Integer(
        "Register Digits", required=True,
        domain=[('digits', '>', 0), ('digits', '<=', 12)],
        help="The digits before the decimal point: the register rolls over "
        "to zero after 10^digits.")
    decimals = fields.Integer(
        "Register Decimals", required=True,
        domain=[('decimals', '>=', 0), ('decimals', '<=', 3)])
    installed_on = fields.Date("Installed On")
    verification_date = fields.Date(
        "Next Verification",
        help="The date of the next поверка: readings after it are flagged "
        "and may not be used for billing.")
    verification_overdue = fields.Function(
        fields.Boolean("Verification Overdue"),
        'get_verification_overdue', searcher='search_verification_overdue')
    state = fields.Selection([
            ('active', "Active"),
            ('removed', "Removed"),
            ], "State", readonly=True, required=True, sort=False)
    removed_on = fields.Date(
        "Removed On", readonly=True,
        states={
            'invisible': Eval('state') != 'removed',
            })
    replaced_by = fields.Many2One(
        'lk.meter', "Replaced by", readonly=True, ondelete='SET NULL',
        states={
            'invisible': ~Eval('replaced_by'),
            })
    readings = fields.One2Many(
        'lk.meter.reading', 'meter', "Readings", readonly=True,
        order=[('date', 'DESC'), ('id', 'DESC')])

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.account, Index.Range())),
                Index(t, (t.serial, Index.Similarity())),
                })
        cls._order = [('account', 'ASC'), ('service', 'ASC'), ('id', 'ASC')]
        cls._transitions |= {
            ('active', 'removed'),
            }
        cls.__rpc__.update({
                'replace': RPC(readonly=False, instantiate=0, result=int),
                })
        cls._buttons.update({
                'start_replacement': shown_in('active'),
                'enter_readings': shown_in('active'),
                })

    @classmethod
    def default_digits(cls):
        return 5

    @classmethod
    @ModelView.button_action('lk_metering.wizard_meter_replace')
    def start_replacement(cls, meters):
        pass

    @classmethod
    @ModelView.button_action('lk_metering.wizard_reading_enter')
    def enter_readings(cls, meters):
        pass

    @classmethod
    def default_decimals(cls):
        return 3

    @classmethod
    def default_state(cls):
        return 'active'

    def get_rec_name(self, name):
        return f'{self.service_string} №{self.serial}'

    @classmethod
    def search_rec_name(cls, name, clause):
        "By serial number, or by the account's number, holder or address"
        return search_fields_domain(clause, ['serial', 'account.rec_name'])

    def get_unit(self, name):
        if self.service:
            return gettext('lk_metering.' + UNITS[self.service])

    def get_verification_overdue(self, name):
        pool = Pool()
        Date = pool.get('ir.date')
        return bool(self.verification_date
            and self.verification_date < Date.today())

    @classmethod
    def search_verification_overdue(cls, name, clause):
        pool = Pool()
        Date = pool.get('ir.date')
        _, operator, value = clause
        overdue = (operator == '=') == bool(value)
        if overdue:
            return [('verification_date', '<', Date.today())]
        return ['OR',
            ('verification_date', '=', None),
            ('verification_date', '>=', Date.today()),
            ]

    @classmethod
    def validate_fields(cls, meters, field_names):
        super().validate_fields(meters, field_names)
        cls.check_channels(meters, field_names)

    @classmethod
    def check_channels(cls, meters, field_names=None):
        if field_names and not (field_names & {'channels', 'account'}):
            return
        for meter in meters:
            if not meter.channels:
                raise MeterValidationError(gettext(
                        'lk_metering.msg_meter_no_channel',
                        meter=meter.rec_name))
            if meter.account.company != meter.company:
                raise MeterValidationError(gettext(
                        'lk_metering.msg_meter_account_company',
                        meter=meter.rec_name, account=meter.account.rec_name))

    @classmethod
    def waiting(cls, meters, date=None):
        "The active meters without a reading for the period open at the date"
        pool = Pool()
        Date = pool.get('ir.date')
        Window = pool.get('lk.meter.window')
        Reading = pool.get('lk.meter.reading')
        if date is None:
            date = Date.today()
        periods = {}
        for meter in meters:
            if meter.state != 'active':
                continue
            is_open, period, _, _ = Window.status(meter, date)
            if is_open:
                periods[meter] = period
        if not periods:
            return []
        # one search for every meter: the portal's home asks on each request
        taken = {(r.meter.id, r.period) for r in Reading.search([
                    ('meter', 'in', [m.id for m in periods]),
                    ('period', 'in', sorted(set(periods.values()))),
                    ('state', 'in', ['new', 'accepted', 'exported']),
                    ], order=[])}
        return [m for m, p in periods.items() if (m.id, p) not in taken]

    @classmethod
    def last_readings(cls, meter, states=ALIVE, date=None):
        """The last reading in the states (by default accepted, exported or
        new) of each channel by id, on or before the date when given"""
        pool = Pool()
        Reading = pool.get('lk.meter.reading')
        last = {}
        for channel in meter.channels:
            domain = [
                ('meter', '=', meter.id),
                ('channel', '=', channel.id),
                ('state', 'in', states),
                ]
            if date:
                domain.append(('date', '<=', date))
            readings = Reading.search(
                domain, order=[('date', 'DESC'), ('id', 'DESC')], limit=1)
            if readings:
                last[channel.id] = readings[0]
        return last

    @classmethod
    def replace(cls, old, new_values, final_values, initial_values, date):
        """Remove the old meter with its final readings and install a new
        one with its initial readings on the date

        final_values and initial_values map channel ids to values; the new
        meter takes the old one's company, account, service and place unless
        new_values says otherwise.  Returns the new meter."""
        pool = Pool()
        Reading = pool.get('lk.meter.reading')
        transaction = Transaction()
        if transaction.user and transaction.check_access:
            check_readable([old])
        channel_ids = {c.id for c in old.channels}
        for readings in [final_values, initial_values]:
            if {int(c) for c in readings} != channel_ids:
                raise MeterValidationError(gettext(
                        'lk_metering.msg_meter_replace_channels',
                        meter=old.rec_name,
                        channels=', '.join(c.rec_name for c in old.channels)))
        values = {
            'company': old.company.id,
            'account': old.account.id,
            'service': old.service,
            'place': old.place,
            'digits': old.digits,
            'decimals': old.decimals,
            'channels': [('add', [c.id for c in old.channels])],
            'installed_on': date,
            }
        values.update(new_values)
        new, = cls.create([values])
        # the readings of the workflow: counted at once, which only the
        # replacement does; the rules checked the meters above
        with without_check_access():
            Reading.create([{
                        'meter': meter.id,
                        'channel': int(channel),
                        'date': date,
                        'value': value,
                        'kind': kind,
                        'source': 'staff',
                        'state': 'accepted',
                        } for meter, kind, values in [
                        (old, 'final', final_values),
                        (new, 'initial', initial_values)]
                    for channel, value in values.items()])
        cls.write([old], {
                'state': 'removed',
                'removed_on': date,
                'replaced_by': new.id,
                })
        return new


class MeterChannel(ModelSQL):
    __name__ = 'lk.meter-lk.meter.channel'
    __string__ = "Meter - Channel"

    meter = fields.Many2One(
        'lk.meter', "Meter", required=True, ondelete='CASCADE')
    channel = fields.Many2One(
        'lk.meter.channel', "Channel", required=True, ondelete='RESTRICT')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('meter')


class ChannelLineMixin:
    """A line per channel of a meter in a wizard, showing the channel's last
    counted reading"""
    __slots__ = ()

    channel = fields.Many2One(
        'lk.meter.channel', "Channel", required=True, readonly=True)
    previous_value = fields.Numeric(
        "Previous Reading", digits=(16, 3), readonly=True)
    previous_date = fields.Date("Previous Reading Date", readonly=True)

    @classmethod
    def channel_lines(cls, meter, date=None):
        """The values of the lines of the meter for readings on the date, any
        date when None"""
        pool = Pool()
        Meter = pool.get('lk.meter')
        last = Meter.last_readings(meter, states=COUNTED, date=date)
        lines = []
        for channel in meter.channels:
            previous = last.get(channel.id)
            lines.append({
                    'channel': channel.id,
                    'previous_value': previous.value if previous else None,
                    'previous_date': previous.date if previous else None,
                    })
        return lines

    @classmethod
    def start_values(cls, meter=None):
        """The values of the wizard's form: today and the lines of the
        meter, if any"""
        pool = Pool()
        Date = pool.get('ir.date')
        today = Date.today()
        return {
            'date': today,
            'lines': cls.channel_lines(meter, today) if meter else [],
            }


class ReplaceStart(ModelView):
    __name__ = 'lk.meter.replace.start'
    __string__ = "Replace Meter"

    date = fields.Date("Date", required=True)
    serial = fields.Char("New Serial Number", required=True, size=50)
    verification_date = fields.Date("Next Verification of the New Meter")
    lines = fields.One2Many(
        'lk.meter.replace.start.line', None, "Readings",
        help="The final reading of the old meter and the initial reading "
        "of the new one, per channel.")


class ReplaceStartLine(ChannelLineMixin, ModelView):
    __name__ = 'lk.meter.replace.start.line'
    __string__ = "Replace Meter Reading"

    final_value = fields.Numeric(
        "Final Reading", digits=(16, 3), required=True)
    initial_value = fields.Numeric(
        "Initial Reading", digits=(16, 3), required=True)


class Replace(Wizard):
    "Replace a meter, keeping its final and the new one's initial reading"
    __name__ = 'lk.meter.replace'
    start = start_view(
        'lk.meter.replace.start', 'lk_metering.meter_replace_start_view_form',
        'replace', "Replace")
    replace = StateAction('lk_metering.act_meter_form')

    def default_start(self, fields):
        pool = Pool()
        Line = pool.get('lk.meter.replace.start.line')
        return Line.start_values(self.record)

    def do_replace(self, action):
        new = self.model.replace(
            self.record, {
                'serial': self.start.serial,
                'verification_date': self.start.verification_date,
                },
            {l.channel.id: l.final_value for l in self.start.lines},
            {l.channel.id: l.initial_value for l in self.start.lines},
            self.start.date)
        return action, {'res_id': [new.id]}
