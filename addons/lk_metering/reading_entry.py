# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.model import ModelView, fields
from trytond.modules.lk_base.model import check_readable, start_view
from trytond.pool import Pool
from trytond.transaction import check_access
from trytond.wizard import StateAction, Wizard

from .meter import ChannelLineMixin


class EnterStart(ModelView):
    __name__ = 'lk.meter.reading.enter.start'
    __string__ = "Enter Readings"

    meter = fields.Many2One(
        'lk.meter', "Meter", required=True,
        domain=[
            ('state', '=', 'active'),
            ],
        help="Type the serial number, the account number or the address "
        "to find the meter.")
    account = fields.Function(
        fields.Many2One('lk.account', "Account"), 'on_change_with_account')
    date = fields.Date(
        "Date", required=True,
        help="The day the meter was read: the readings count for its month.")
    photo = fields.Binary("Photo", filename='photo_name')
    photo_name = fields.Char("Photo Name", size=255)
    lines = fields.One2Many(
        'lk.meter.reading.enter.start.line', None, "Readings",
        help="The value of each channel of the meter.")

    @classmethod
    def default_date(cls):
        return Pool().get('ir.date').today()

    @fields.depends('meter')
    def on_change_with_account(self, name=None):
        if self.meter:
            # the meter's id comes from the client (see _set_lines)
            check_readable([self.meter])
            return self.meter.account

    @fields.depends('meter', 'date', 'lines')
    def _set_lines(self):
        "One line per channel of the meter, keeping the values entered"
        pool = Pool()
        Line = pool.get('lk.meter.reading.enter.start.line')
        values = {
            l.channel.id: l.value for l in self.lines or [] if l.channel}
        lines = []
        if self.meter:
            # the meter's id comes from the client: its channels and last
            # readings are shown only when the user may read it
            check_readable([self.meter])
            for line in Line.channel_lines(self.meter, self.date):
                lines.append(Line(value=values.get(line['channel']), **line))
        self.lines = lines

    @fields.depends(methods=['_set_lines'])
    def on_change_meter(self):
        self._set_lines()

    @fields.depends(methods=['_set_lines'])
    def on_change_date(self):
        self._set_lines()


class EnterStartLine(ChannelLineMixin, ModelView):
    __name__ = 'lk.meter.reading.enter.start.line'
    __string__ = "Enter Readings Line"

    value = fields.Numeric("Reading", digits=(16, 3), required=True)


class Enter(Wizard):
    """Enter the readings of a meter as staff: any day, for the month of the
    date, superseding the still-new readings of that month"""
    __name__ = 'lk.meter.reading.enter'
    start = start_view(
        'lk.meter.reading.enter.start',
        'lk_metering.reading_enter_start_view_form', 'enter', "Enter")
    enter = StateAction('lk_metering.act_reading_form')

    def default_start(self, fields):
        pool = Pool()
        Line = pool.get('lk.meter.reading.enter.start.line')
        # launched from a meter rather than from the menu
        if (self.model and self.model.__name__ == 'lk.meter'
                and self.record and self.record.state == 'active'):
            values = Line.start_values(self.record)
            values['meter'] = self.record.id
            values['account'] = self.record.account.id
        else:
            values = Line.start_values()
        return values

    def do_enter(self, action):
        pool = Pool()
        Reading = pool.get('lk.meter.reading')
        # The wizard runs without access checks, but the meter comes from the
        # client: the staff member's rights and organizations must decide
        with check_access():
            readings = Reading.submit(
                self.start.meter,
                {l.channel.id: l.value for l in self.start.lines},
                date=self.start.date, source='staff',
                photo=self.start.photo, photo_name=self.start.photo_name)
        if len(readings) == 1:
            action['views'].reverse()
        return action, {'res_id': [r.id for r in readings]}
