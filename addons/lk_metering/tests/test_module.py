# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import datetime as dt
import email
import email.policy
from decimal import Decimal

from trytond.exceptions import UserError
from trytond.model.exceptions import AccessError
from trytond.modules.company.tests import CompanyTestMixin, create_company
from trytond.modules.lk_base.portal import as_subscriber
from trytond.modules.lk_base.tests import (
    LkModuleTestMixin, as_staff, create_account, create_organizations,
    create_staff, create_subscriber, create_web_user, grant)
from trytond.modules.lk_base.tests.tools import set_config
from trytond.modules.lk_metering.exceptions import ReadingJumpError
from trytond.modules.lk_metering.reading import (
    consumption, first_of_months_before)
from trytond.modules.lk_base.month import (
    format_day, format_month_short, format_period)
from trytond.pool import Pool
from trytond.tests.test_tryton import ModuleTestCase, with_transaction
from trytond.transaction import Transaction, check_access

PNG = b'\x89PNG\r\n\x1a\n' + b'\x00' * 64


def create_meter(account, codes=('single',), digits=5):
    pool = Pool()
    Channel = pool.get('lk.meter.channel')
    Meter = pool.get('lk.meter')
    channels = Channel.defaults(account.company)
    meter, = Meter.create([{
                'company': account.company.id,
                'account': account.id,
                'serial': f'S{account.number}',
                'service': 'cold_water',
                'digits': digits,
                'channels': [('add', [channels[c].id for c in codes])],
                }])
    return meter


def enter_readings(meter, value, context=None):
    "Run the entry wizard on the meter's first channel as the current user"
    pool = Pool()
    Enter = pool.get('lk.meter.reading.enter', type='wizard')
    with Transaction().set_context(context or {}):
        session_id, _, _ = Enter.create()
        Enter.execute(session_id, {}, 'start')
        return Enter.execute(session_id, {
                'start': {
                    'meter': meter.id,
                    'date': dt.date.today(),
                    'lines': [{
                            'channel': meter.channels[0].id,
                            'value': value,
                            }],
                    },
                }, 'enter')


def active(model, id_):
    "The context of a wizard started on the record"
    return {'active_model': model, 'active_id': id_, 'active_ids': [id_]}


def execute_wizard(name, data, state, context=None):
    """Run the wizard as the client does over RPC: the session is created
    with access checks, its states execute without"""
    pool = Pool()
    Wizard = pool.get(name, type='wizard')
    with Transaction().set_context(context or {}):
        with check_access():
            session_id, _, _ = Wizard.create()
        return Wizard.execute(session_id, data, state)


def submit_reading(meter, value, web_user=None, **kwargs):
    """Submit the value of the meter's first channel: in the portal as the
    web user if given, by the meter's id as the portal does"""
    pool = Pool()
    Reading = pool.get('lk.meter.reading')
    values = {meter.channels[0].id: Decimal(value)}
    if web_user is None:
        return Reading.submit(meter, values, **kwargs)
    with as_subscriber(web_user):
        return Reading.submit(meter.id, values, web_user=web_user, **kwargs)


def accepted(meter, value, date):
    "An accepted reading of the meter's first channel"
    pool = Pool()
    Reading = pool.get('lk.meter.reading')
    reading, = Reading.create([{
                'meter': meter.id, 'channel': meter.channels[0].id,
                'date': date, 'value': Decimal(value), 'state': 'accepted',
                }])
    return reading


class LkMeteringTestCase(
        LkModuleTestMixin, CompanyTestMixin, ModuleTestCase):
    "Test lk_metering module"
    module = 'lk_metering'

    def test_consumption_rollover(self):
        "Test consumption over a register rolling over"
        class Meter:
            digits = 5
        self.assertEqual(
            consumption(Meter, Decimal('99990'), Decimal('5')), Decimal(15))
        self.assertEqual(
            consumption(Meter, Decimal('100'), Decimal('120')), Decimal(20))
        self.assertIsNone(consumption(Meter, Decimal('500'), Decimal('400')))

    @with_transaction()
    def test_window_status(self):
        "Test the window status gives the next window when closed"
        pool = Pool()
        Window = pool.get('lk.meter.window')
        company = create_company()
        meter = create_meter(create_account(company, '1'))
        self.assertEqual(
            Window.status(meter, dt.date(2026, 11, 3)),
            (True, dt.date(2026, 11, 1), None, None))
        Window.create([{
                    'company': company.id, 'day_from': 20, 'day_to': 25}])
        self.assertEqual(
            Window.status(meter, dt.date(2026, 11, 27)),
            (False, dt.date(2026, 12, 1),
                dt.date(2026, 12, 20), dt.date(2026, 12, 25)))
        self.assertEqual(
            Window.status(meter, dt.date(2026, 11, 3)),
            (False, dt.date(2026, 11, 1),
                dt.date(2026, 11, 20), dt.date(2026, 11, 25)))
        self.assertEqual(
            Window.status(meter, dt.date(2026, 11, 25))[:2],
            (True, dt.date(2026, 11, 1)))

    @with_transaction()
    def test_submit_batch(self):
        "Test a batch is checked and flagged like single submissions"
        pool = Pool()
        Reading = pool.get('lk.meter.reading')
        company = create_company()
        today = dt.date.today()
        meters = [
            create_meter(
                create_account(company, str(n)), codes=('day', 'night'))
            for n in range(1, 4)]
        # a year of 10 a month up to 190 on each channel, accepted
        for meter in meters:
            history = []
            for month in range(12, 0, -1):
                date = today - dt.timedelta(days=30 * month)
                history.extend({
                        'meter': meter.id, 'channel': c.id, 'date': date,
                        'value': Decimal(200 - 10 * month),
                        'state': 'accepted',
                        } for c in meter.channels)
            Reading.create(history)
        day, night = meters[0].channels

        readings = Reading.submit_batch([
                (meters[0], {day.id: 205, night.id: 204}, today),
                (meters[1].id, {day.id: 600, night.id: 204}, today),
                ])
        self.assertEqual(len(readings), 4)
        self.assertEqual({r.source for r in readings}, {'import'})
        self.assertEqual({r.period for r in readings}, {today.replace(day=1)})
        self.assertEqual(
            [(r.meter, r.channel, r.flagged_jump) for r in readings], [
                (meters[0], day, False), (meters[0], night, False),
                (meters[1], day, True), (meters[1], night, False)])

        for submission, message in [
                ((meters[2], {day.id: 205}, today), "Ночь"),
                ((meters[2], {day.id: 205, night.id: 50}, today), "50"),
                ((meters[2], {day.id: Decimal('205.0001'), night.id: 205},
                    today), "205.0001"),
                ((meters[2], {day.id: 205, night.id: 205},
                    today + dt.timedelta(days=1)), "not come yet"),
                ]:
            with self.subTest(message=message):
                with self.assertRaises(UserError) as cm:
                    Reading.submit_batch([
                            (meters[0], {day.id: 206, night.id: 206}, today),
                            submission])
                self.assertIn(meters[2].serial, cm.exception.message)

    @with_transaction()
    def test_create_checks_meter(self):
        "Test a reading created directly must fit its meter"
        pool = Pool()
        Reading = pool.get('lk.meter.reading')
        company, other = create_organizations("Other")
        meter = create_meter(create_account(company, '1'))
        night = create_meter(
            create_account(company, '2'), codes=('night',)).channels[0]
        single = meter.channels[0]

        for values, message in [
                ({'channel': night.id}, "no channel"),
                ({'channel': single.id, 'company': other.id},
                    "organization"),
                ({'channel': single.id, 'value': Decimal(-1)}, "Value"),
                ]:
            with self.subTest(message=message):
                with self.assertRaises(UserError) as cm:
                    Reading.create([{
                                'meter': meter.id, 'date': dt.date.today(),
                                'value': Decimal(1), **values}])
                self.assertIn(message, cm.exception.message)

    @with_transaction()
    def test_staff_other_organization(self):
        "Test staff of another organization neither see nor process readings"
        pool = Pool()
        Reading = pool.get('lk.meter.reading')
        Meter = pool.get('lk.meter')
        company, other = create_organizations("Other")
        meter = create_meter(create_account(company, '1'))
        reading, = submit_reading(meter, 10, source='staff')
        clerk = create_staff('clerk', company, ['group_readings'])
        stranger = create_staff('stranger', other, ['group_readings'])

        with as_staff(stranger):
            self.assertEqual(Reading.search([]), [])
            self.assertEqual(Meter.search([]), [])
        with as_staff(clerk):
            self.assertEqual(Reading.search([]), [reading])
        self.assertRefusedThenAllowed(stranger, clerk,
            lambda: Reading.accept([Reading(reading.id)]))
        self.assertEqual(Reading(reading.id).state, 'accepted')

    @with_transaction()
    def test_settings_need_their_right(self):
        "Test channels, windows and meters are changed only with the right"
        pool = Pool()
        Channel = pool.get('lk.meter.channel')
        Window = pool.get('lk.meter.window')
        Meter = pool.get('lk.meter')
        company = create_company()
        meter = create_meter(create_account(company, '1'))
        window, = Window.create([{
                    'company': company.id, 'day_from': 20, 'day_to': 25}])
        clerk = create_staff('clerk', company, ['group_readings'])
        channels = create_staff('channels', company, ['group_channels'])

        with as_staff(clerk):
            with self.assertRaises(AccessError):
                Window.write([Window(window.id)], {'day_to': 26})
            with self.assertRaises(AccessError):
                Meter.write([Meter(meter.id)], {'place': "Кухня"})
        channel, = meter.channels
        self.assertRefusedThenAllowed(clerk, channels, lambda: Channel.write(
                [Channel(channel.id)], {'name': "Сутки (T1)"}))
        self.assertEqual(Channel(channel.id).name, "Сутки (T1)")

    @with_transaction()
    def test_enter_readings_needs_right(self):
        "Test only staff with the readings right enter readings by the wizard"
        pool = Pool()
        Reading = pool.get('lk.meter.reading')
        ModelData = pool.get('ir.model.data')
        company = create_company()
        meter = create_meter(create_account(company, '1'))
        editor = create_staff('editor', company, ['group_data_edit'])
        clerk = create_staff('clerk', company, ['group_readings'])
        menu = ModelData.get_id('lk_metering', 'menu_reading_enter')
        from_menu = active('ir.ui.menu', menu)

        result = self.assertRefusedThenAllowed(editor, clerk,
            lambda: enter_readings(meter, Decimal('12.5'), from_menu))
        (_, data), = result['actions']
        reading, = Reading.browse(data['res_id'])
        self.assertEqual(reading.value, Decimal('12.5'))
        self.assertEqual(reading.source, 'staff')
        self.assertEqual(reading.author, clerk)

    @with_transaction()
    def test_enter_readings_other_organization(self):
        "Test staff enter no reading on a meter of another organization"
        company, other = create_organizations("Other")
        meter = create_meter(create_account(company, '1'))
        stranger = create_staff('stranger', other, ['group_readings'])

        with as_staff(stranger), self.assertRaises(AccessError):
            enter_readings(meter, Decimal('12.5'))

    @with_transaction()
    def test_portal_delegate_readings_right(self):
        "Test a delegate needs the readings right to submit"
        pool = Pool()
        Reading = pool.get('lk.meter.reading')
        Meter = pool.get('lk.meter')
        Access = pool.get('lk.account.access')
        account = create_account(create_company(), '1')
        create_meter(account)
        delegate = create_web_user('delegate@example.com')
        access = grant(delegate, account, 'delegate', right_readings=False)

        def submit():
            with as_subscriber(delegate):
                meter_, = Meter.search([])
                return Reading.submit(
                    meter_, {meter_.channels[0].id: Decimal(5)},
                    web_user=delegate)

        with self.assertRaises(AccessError):
            submit()
        Access.write([access], {'right_readings': True})
        reading, = submit()
        self.assertEqual(reading.web_user, delegate)
        self.assertEqual(reading.source, 'portal')

    @with_transaction()
    def test_portal_other_subscriber(self):
        "Test a subscriber sees no meter of another subscriber"
        pool = Pool()
        Meter = pool.get('lk.meter')
        create_meter(create_account(create_company(), '1'))
        stranger = create_web_user('other@example.com')
        with as_subscriber(stranger):
            self.assertEqual(Meter.search([]), [])

    @with_transaction()
    def test_export_other_organization(self):
        "Test staff export the readings of their organizations only"
        pool = Pool()
        Reading = pool.get('lk.meter.reading')
        company, other = create_organizations("Other")
        today = dt.date.today()
        mine = accepted(create_meter(create_account(company, '1')), 10, today)
        theirs = accepted(create_meter(create_account(other, '2')), 20, today)
        clerk = create_staff('clerk', company, ['group_readings'])

        def export(company):
            return execute_wizard('lk.meter.reading.export', {
                    'start': {
                        'company': company.id, 'period': today,
                        'format': 'csv'},
                    }, 'export')

        with Transaction().set_user(clerk.id):
            with self.assertRaises(AccessError):
                export(other)
            result = export(company)
        self.assertEqual(Reading(theirs.id).state, 'accepted')
        self.assertEqual(Reading(mine.id).state, 'exported')
        content = result['view']['defaults']['file'].decode('utf-8-sig')
        self.assertIn(';S1;', content)
        self.assertNotIn(';S2;', content)

    @with_transaction()
    def test_on_change_other_organization_meter(self):
        "Test on_change tells nothing of another organization's meter"
        pool = Pool()
        EnterStart = pool.get('lk.meter.reading.enter.start')
        Reading = pool.get('lk.meter.reading')
        company, other = create_organizations("Other")
        mine = create_meter(create_account(company, '1'))
        theirs = create_meter(
            create_account(other, '2'), codes=('day', 'night'))
        clerk = create_staff('clerk', company, ['group_readings'])
        today = dt.date.today()

        with as_staff(clerk):
            start = EnterStart(meter=theirs.id, date=today, lines=[])
            with self.assertRaises(AccessError):
                start.on_change(['meter'])
            reading = Reading(meter=theirs.id)
            with self.assertRaises(AccessError):
                reading.on_change(['meter'])
            with self.assertRaises(AccessError):
                reading.on_change_with(['account'])

            start = EnterStart(meter=mine.id, date=today, lines=[])
            start.on_change(['meter'])
            self.assertEqual(
                [l.channel.id for l in start.lines],
                [c.id for c in mine.channels])

    @with_transaction()
    def test_wizards_other_organization_records(self):
        "Test the wizards refuse the records of another organization"
        pool = Pool()
        Reading = pool.get('lk.meter.reading')
        company, other = create_organizations("Other")
        meter = create_meter(create_account(other, '2'))
        reading, = submit_reading(meter, 10, source='staff')
        stranger = create_staff(
            'stranger', company, ['group_readings', 'group_data_edit'])

        with Transaction().set_user(stranger.id):
            self.assertRefused(lambda wizard: execute_wizard(*wizard), [
                    ('lk.meter.reading.reject',
                        {'start': {'reason': "Нет"}}, 'reject',
                        active('lk.meter.reading', reading.id)),
                    ('lk.meter.replace', {}, 'start',
                        active('lk.meter', meter.id)),
                    ('lk.meter.reading.enter', {}, 'start',
                        active('lk.meter', meter.id)),
                    ])
        self.assertEqual(Reading(reading.id).state, 'new')

    @with_transaction()
    def test_submit_over_rpc_derives_source(self):
        "Test staff submitting over RPC are staff, whatever they send"
        pool = Pool()
        Reading = pool.get('lk.meter.reading')
        company, other = create_organizations("Other")
        meter = create_meter(create_account(company, '1'))
        subscriber = create_subscriber(meter.account)
        theirs = create_meter(create_account(other, '2'))
        clerk = create_staff('clerk', company, ['group_readings'])

        with as_staff(clerk):
            reading, = Reading.submit(
                meter.id, {meter.channels[0].id: Decimal(10)},
                source='portal', web_user=subscriber.id)
            with self.assertRaises(AccessError) as cm:
                Reading.submit(theirs.id, {})
            self.assertNotIn(theirs.serial, cm.exception.message)
        reading = Reading(reading.id)
        self.assertEqual(
            (reading.source, reading.web_user, reading.author),
            ('staff', None, clerk))

    @with_transaction()
    def test_counted_readings_unchanged_over_rpc(self):
        "Test staff change neither accepted nor exported readings over RPC"
        pool = Pool()
        Reading = pool.get('lk.meter.reading')
        company = create_company()
        meter = create_meter(create_account(company, '1'))
        today = dt.date.today()
        previous = accepted(meter, 5, today - dt.timedelta(days=40))
        reading, = submit_reading(meter, 10, source='staff')
        clerk = create_staff('clerk', company, ['group_readings'])
        operator = create_staff('operator', company, ['group_operator'])

        def write(record, values):
            Reading.write([Reading(record.id)], values)

        with as_staff(clerk):
            self.assertRefused(lambda values: write(reading, values), [
                    {'state': 'accepted'},
                    {'source': 'portal'},
                    {'kind': 'initial'},
                    {'flagged_jump': True},
                    ])
            Reading.accept([Reading(reading.id)])
            self.assertRefused(lambda values: write(reading, values), [
                    {'value': Decimal(1)},
                    {'date': today - dt.timedelta(days=1)},
                    {'state': 'new'},
                    ])
        with as_staff(operator):
            self.assertRefused(
                lambda record: Reading.delete([Reading(record.id)]),
                [previous, reading])
        reading = Reading(reading.id)
        self.assertEqual(
            (reading.state, reading.value, reading.date),
            ('accepted', Decimal(10), today))

        # a new reading's value and period are checked again when written
        new, = submit_reading(meter, 12, source='staff')
        with as_staff(clerk):
            self.assertRefused(lambda values: write(new, values), [
                    {'value': Decimal(1)},
                    {'period': first_of_months_before(today, 3)},
                    ], UserError)

    @with_transaction()
    def test_create_readings_over_rpc(self):
        "Test staff create only new readings of their own over RPC"
        pool = Pool()
        Reading = pool.get('lk.meter.reading')
        company = create_company()
        meter = create_meter(create_account(company, '1'))
        subscriber = create_subscriber(meter.account)
        today = dt.date.today()
        counted = accepted(meter, 5, today)
        clerk = create_staff('clerk', company, ['group_readings'])
        values = {
            'meter': meter.id, 'channel': meter.channels[0].id,
            'date': today, 'value': Decimal(8)}

        with as_staff(clerk):
            copy, = Reading.copy([Reading(counted.id)])
            self.assertRefused(
                lambda extra: Reading.create([{**values, **extra}]), [
                    {'source': 'portal'},
                    {'web_user': subscriber.id},
                    {'state': 'accepted'},
                    {'kind': 'initial'},
                    ])
        self.assertEqual(
            (copy.state, copy.source, copy.author), ('new', 'staff', clerk))

    @with_transaction()
    def test_backdated_readings(self):
        "Test how far back subscribers and staff may date readings"
        pool = Pool()
        Reading = pool.get('lk.meter.reading')
        Window = pool.get('lk.meter.window')
        Meter = pool.get('lk.meter')
        company = create_company()
        meter = create_meter(create_account(company, '1'))
        channel = meter.channels[0].id
        subscriber = create_subscriber(meter.account)
        clerk = create_staff('clerk', company, ['group_readings'])
        today = dt.date.today()
        previous = first_of_months_before(today, 1)

        def submit(date, value):
            return submit_reading(
                meter, value, subscriber, date=date, source='api')

        def enter(date, value):
            with as_staff(clerk):
                return Reading.submit(
                    meter.id, {channel: Decimal(value)}, date=date,
                    source='staff')

        allowed = (
            f"from {previous:%d.%m.%Y} to {today:%d.%m.%Y}")
        for date in [dt.date(2025, 1, 10), dt.date(1900, 1, 1),
                previous - dt.timedelta(days=1)]:
            with self.subTest(date=date):
                with self.assertRaises(UserError) as cm:
                    submit(date, 100)
                self.assertIn(allowed, cm.exception.message)
        reading, = submit(previous, 100)
        self.assertEqual(reading.period, previous)

        # staff with «Новые показания» go further back, but not before the
        # last counted reading nor the installation
        old = first_of_months_before(today, 14)
        entered, = enter(old, 50)
        self.assertEqual(entered.period, old)
        Reading.accept([entered])
        with self.assertRaises(UserError) as cm:
            enter(old - dt.timedelta(days=1), 40)
        self.assertIn(f"from {old:%d.%m.%Y} to", cm.exception.message)
        Meter.write([meter], {'installed_on': previous})
        with self.assertRaises(UserError) as cm:
            enter(old + dt.timedelta(days=1), 60)
        self.assertIn(f"from {previous:%d.%m.%Y} to", cm.exception.message)

        # the organization lets its subscribers go further back
        Meter.write([meter], {'installed_on': None})
        Window.create([{
                    'company': company.id, 'day_from': 1, 'day_to': 31,
                    'backdate_periods': 3}])
        reading, = submit(first_of_months_before(today, 3), 70)
        self.assertEqual(reading.source, 'api')
        with self.assertRaises(UserError):
            submit(first_of_months_before(today, 3) - dt.timedelta(days=1), 70)

    @with_transaction()
    def test_reading_photo(self):
        "Test a reading's photo is a JPEG, PNG or WebP image within a size"
        meter = create_meter(create_account(create_company(), '1'))
        subscriber = create_subscriber(meter.account)

        def submit(photo, name):
            return submit_reading(
                meter, 10, subscriber, photo=photo, photo_name=name)

        for photo, name in [
                (b'not an image', 'meter.jpg'),
                (b'<svg xmlns="http://www.w3.org/2000/svg">'
                    b'<script>alert(1)</script></svg>', 'meter.svg'),
                (b'GIF89a' + b'\x00' * 64, 'meter.gif'),
                ]:
            with self.subTest(name=name):
                with self.assertRaises(UserError) as cm:
                    submit(photo, name)
                self.assertIn(name, cm.exception.message)
        with set_config('lk_metering', 'photo_max_size', '50'):
            with self.assertRaises(UserError):
                submit(PNG, 'big.png')
        for photo, name in [
                (PNG, 'meter.png'),
                (b'\xff\xd8\xff\xe0' + b'\x00' * 64, 'meter.jpg'),
                (b'RIFF\x00\x00\x00\x00WEBPVP8 ' + b'\x00' * 64, 'meter.webp'),
                ]:
            with self.subTest(name=name):
                reading, = submit(photo, name)
                self.assertEqual(bytes(reading.photo), photo)

    @with_transaction()
    def test_replace_needs_the_meters_channels(self):
        "Test a replacement takes the readings of the meter's channels only"
        pool = Pool()
        Meter = pool.get('lk.meter')
        company, other = create_organizations("Other")
        meter = create_meter(create_account(company, '1'))
        single = meter.channels[0].id
        foreign = create_meter(create_account(other, '2')).channels[0].id
        today = dt.date.today()

        self.assertRefused(
            lambda readings: Meter.replace(
                meter, {'serial': 'N1'}, *readings, today), [
                ({single: 5}, {foreign: 0}),
                ({single: 5, foreign: 1}, {single: 0}),
                ({}, {single: 0}),
                ], UserError)
        new = Meter.replace(meter, {'serial': 'N1'}, {single: 5}, {single: 0},
            today)
        self.assertEqual(
            [(r.kind, r.channel.id) for r in new.readings],
            [('initial', single)])

    def test_format_period(self):
        "Test periods and days read as Russian and English do"
        may, november = dt.date(2026, 5, 1), dt.date(2026, 11, 25)
        self.assertEqual(format_period(november, 'ru'), "ноябрь 2026")
        self.assertEqual(format_period(may, 'ru'), "май 2026")
        self.assertEqual(format_period(november, 'en'), "November 2026")
        self.assertEqual(format_period(november, 'ru_RU'), "ноябрь 2026")
        self.assertEqual(format_day(november, 'ru'), "25 ноября")
        self.assertEqual(format_day(dt.date(2026, 5, 25), 'ru'), "25 мая")
        self.assertEqual(format_day(november, 'en'), "25 November")
        self.assertEqual(format_month_short(november, 'ru'), "ноя")
        self.assertEqual(format_period(None), '')

    @with_transaction()
    def test_window_deadlines(self):
        "Test the window of the meters says until when readings are taken"
        pool = Pool()
        Window = pool.get('lk.meter.window')
        company = create_company()
        account = create_account(company, '1')
        water = create_meter(account)
        power = create_meter(create_account(company, '2'))
        self.assertEqual(Window.deadlines([water, power]), [])
        window, = Window.create([{
                    'company': company.id, 'day_from': 20, 'day_to': 25}])
        self.assertEqual(
            Window.deadlines([water, power], dt.date(2026, 11, 22)), [
                (window, True, dt.date(2026, 11, 1),
                    dt.date(2026, 11, 20), dt.date(2026, 11, 25))])
        deadline, = Window.deadlines([water], dt.date(2026, 11, 27))
        self.assertEqual(
            (deadline.open, deadline.period, deadline.end),
            (False, dt.date(2026, 12, 1), dt.date(2026, 12, 25)))

    @with_transaction()
    def test_meter_unit(self):
        "Test the unit of a meter follows its service"
        pool = Pool()
        Meter = pool.get('lk.meter')
        meter = create_meter(create_account(create_company(), '1'))
        self.assertEqual(meter.unit, "m³")
        for service, unit in [('electricity', "kWh"), ('heat', "Gcal"),
                ('gas', "m³"), ('hot_water', "m³")]:
            Meter.write([meter], {'service': service})
            self.assertEqual(Meter(meter.id).unit, unit)

    @with_transaction()
    def test_jump_needs_confirmation(self):
        """Test a subscriber's value far above the usual consumption is
        taken only once confirmed, and staff's is flagged"""
        pool = Pool()
        Reading = pool.get('lk.meter.reading')
        company = create_company()
        meter = create_meter(create_account(company, '1'))
        channel = meter.channels[0]
        subscriber = create_subscriber(meter.account)
        today = dt.date.today()
        # 10 m³ a month over the last year
        for months, value in [(11, 100), (8, 130), (2, 190)]:
            accepted(meter, value, first_of_months_before(today, months))

        self.assertEqual(
            Reading.jumps(meter, {channel.id: Decimal(205)}, today), [])
        jump, = Reading.jumps(meter, {channel.id: Decimal(400)}, today)
        self.assertEqual(jump.channel, channel)
        self.assertEqual(jump.consumption, Decimal(210))
        self.assertEqual(jump.average, Decimal(10))
        self.assertEqual(
            jump.previous_date, first_of_months_before(today, 2))

        def submit(value, **kwargs):
            return submit_reading(meter, value, subscriber, **kwargs)

        with self.assertRaises(ReadingJumpError) as cm:
            submit(400)
        message = cm.exception.message
        self.assertIn("210.000 m³", message)
        self.assertIn("10.000 m³ a month", message)
        self.assertNotIn("Сутки", message)
        self.assertEqual(Reading.search([('state', '=', 'new')]), [])
        reading, = submit(400, confirm=True)
        self.assertTrue(reading.flagged_jump)
        # an ordinary value needs no confirmation
        reading, = submit(205)
        self.assertFalse(reading.flagged_jump)
        # staff's jumps are flagged for review, not refused
        reading, = submit_reading(meter, 500, source='staff')
        self.assertTrue(reading.flagged_jump)

    @with_transaction()
    def test_reject_emails_subscriber(self):
        """Test a rejected submission e-mails its subscriber the reason in
        their language, once per submission"""
        pool = Pool()
        Reading = pool.get('lk.meter.reading')
        Outbox = pool.get('lk.mail.outbox')
        Lang = pool.get('ir.lang')
        WebUser = pool.get('web.user')
        russian, = Lang.search([('code', '=', 'ru')])
        Lang.load_translations([russian])
        company = create_company()
        account = create_account(company, '1')
        meter = create_meter(account, codes=('day', 'night'))
        subscriber = create_subscriber(account)
        WebUser.write([subscriber], {'language': russian.id})
        with as_subscriber(subscriber):
            readings = Reading.submit(meter.id, {
                    c.id: Decimal('12.5') for c in meter.channels},
                web_user=subscriber)
        self.assertEqual(Outbox.search([]), [])

        Reading.do_reject(
            Reading.browse([r.id for r in readings]),
            reason="Фото не совпадает с показанием")
        # staff's own readings tell no subscriber
        staff = Reading.submit(
            meter.id, {c.id: Decimal(13) for c in meter.channels},
            source='staff')
        Reading.do_reject(staff, reason="Ошибка ввода")

        outbox, = Outbox.search([])
        self.assertEqual(outbox.to, 'owner@example.com')
        # rendered by the sender after the commit, the readings rejected
        message = email.message_from_bytes(
            (outbox.message or outbox.render_message()).encode('utf-8'),
            policy=email.policy.default)
        self.assertEqual(message['Subject'], "Показания не приняты")
        text = message.get_body(('html', 'plain')).get_content()
        self.assertIn("Фото не совпадает с показанием", text)
        self.assertIn("не приняла показания счётчика", text)
        self.assertIn("Причина", text)
        self.assertIn("12,500 м³", text.replace('\u00a0', ' '))
        self.assertIn("м³", text)
        self.assertIn("День", text)
        self.assertIn("Ночь", text)


del ModuleTestCase
