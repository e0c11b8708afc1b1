# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import datetime as dt
from decimal import Decimal

from trytond.exceptions import UserError
from trytond.model.exceptions import AccessError
from trytond.modules.company.tests import CompanyTestMixin, create_company
from trytond.modules.lk_base.portal import as_subscriber
from trytond.modules.lk_base.tests.test_module import (
    create_account, create_staff, unrestricted_actions)
from trytond.modules.lk_base.tests.tools import set_config
from trytond.modules.lk_metering.reading import (
    consumption, first_of_months_before)
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


def execute_wizard(name, data, state, context=None):
    """Run the wizard as the client does over RPC: the session is created
    with access checks, its states execute without"""
    pool = Pool()
    Wizard = pool.get(name, type='wizard')
    with Transaction().set_context(context or {}):
        with check_access():
            session_id, _, _ = Wizard.create()
        return Wizard.execute(session_id, data, state)


def create_subscriber(account, email='owner@example.com'):
    "A subscriber user owning the account"
    pool = Pool()
    WebUser = pool.get('web.user')
    Access = pool.get('lk.account.access')
    user, = WebUser.create([{'email': email}])
    Access.create([{
                'web_user': user.id, 'account': account.id, 'role': 'owner'}])
    return user


def accepted(meter, value, date):
    "An accepted reading of the meter's first channel"
    pool = Pool()
    Reading = pool.get('lk.meter.reading')
    reading, = Reading.create([{
                'meter': meter.id, 'channel': meter.channels[0].id,
                'date': date, 'value': Decimal(value), 'state': 'accepted',
                }])
    return reading


class LkMeteringTestCase(CompanyTestMixin, ModuleTestCase):
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
        company = create_company()
        other = create_company(name="Other", currency=company.currency)
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
        company = create_company()
        other = create_company(name="Other", currency=company.currency)
        meter = create_meter(create_account(company, '1'))
        reading, = Reading.submit(
            meter, {meter.channels[0].id: Decimal(10)}, source='staff')
        clerk = create_staff('clerk', company, ['group_readings'])
        stranger = create_staff('stranger', other, ['group_readings'])

        with Transaction().set_user(stranger.id), check_access():
            self.assertEqual(Reading.search([]), [])
            self.assertEqual(Meter.search([]), [])
            with self.assertRaises(AccessError):
                Reading.accept([Reading(reading.id)])
        with Transaction().set_user(clerk.id), check_access():
            reading, = Reading.search([])
            Reading.accept([reading])
            self.assertEqual(reading.state, 'accepted')

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

        with Transaction().set_user(clerk.id), check_access():
            channel = Channel(meter.channels[0].id)
            with self.assertRaises(AccessError):
                Channel.write([channel], {'name': "Сутки (T1)"})
            with self.assertRaises(AccessError):
                Window.write([Window(window.id)], {'day_to': 26})
            with self.assertRaises(AccessError):
                Meter.write([Meter(meter.id)], {'place': "Кухня"})
        with Transaction().set_user(channels.id), check_access():
            channel = Channel(meter.channels[0].id)
            Channel.write([channel], {'name': "Сутки (T1)"})
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
        from_menu = {
            'active_model': 'ir.ui.menu',
            'active_id': menu,
            'active_ids': [menu],
            }

        with Transaction().set_user(editor.id), check_access():
            with self.assertRaises(AccessError):
                enter_readings(meter, Decimal('12.5'), from_menu)
        with Transaction().set_user(clerk.id), check_access():
            result = enter_readings(meter, Decimal('12.5'), from_menu)
        (_, data), = result['actions']
        reading, = Reading.browse(data['res_id'])
        self.assertEqual(reading.value, Decimal('12.5'))
        self.assertEqual(reading.source, 'staff')
        self.assertEqual(reading.author, clerk)

    @with_transaction()
    def test_enter_readings_other_organization(self):
        "Test staff enter no reading on a meter of another organization"
        company = create_company()
        other = create_company(name="Other", currency=company.currency)
        meter = create_meter(create_account(company, '1'))
        stranger = create_staff('stranger', other, ['group_readings'])

        with Transaction().set_user(stranger.id), check_access():
            with self.assertRaises(AccessError):
                enter_readings(meter, Decimal('12.5'))

    @with_transaction()
    def test_portal_delegate_readings_right(self):
        "Test a delegate needs the readings right to submit"
        pool = Pool()
        Reading = pool.get('lk.meter.reading')
        Meter = pool.get('lk.meter')
        WebUser = pool.get('web.user')
        Access = pool.get('lk.account.access')
        company = create_company()
        account = create_account(company, '1')
        create_meter(account)
        delegate, = WebUser.create([{'email': 'delegate@example.com'}])
        access, = Access.create([{
                    'account': account.id,
                    'web_user': delegate.id,
                    'role': 'delegate',
                    'right_readings': False,
                    }])

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
        WebUser = pool.get('web.user')
        company = create_company()
        create_meter(create_account(company, '1'))
        stranger, = WebUser.create([{'email': 'other@example.com'}])
        with as_subscriber(stranger):
            self.assertEqual(Meter.search([]), [])

    @with_transaction()
    def test_actions_restricted_to_groups(self):
        "Test every button and wizard is restricted to the groups of a right"
        self.assertEqual(unrestricted_actions(), [])

    @with_transaction()
    def test_export_other_organization(self):
        "Test staff export the readings of their organizations only"
        pool = Pool()
        Reading = pool.get('lk.meter.reading')
        company = create_company()
        other = create_company(name="Other", currency=company.currency)
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
        company = create_company()
        other = create_company(name="Other", currency=company.currency)
        mine = create_meter(create_account(company, '1'))
        theirs = create_meter(
            create_account(other, '2'), codes=('day', 'night'))
        clerk = create_staff('clerk', company, ['group_readings'])
        today = dt.date.today()

        with Transaction().set_user(clerk.id), check_access():
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
        company = create_company()
        other = create_company(name="Other", currency=company.currency)
        meter = create_meter(create_account(other, '2'))
        reading, = Reading.submit(
            meter, {meter.channels[0].id: Decimal(10)}, source='staff')
        stranger = create_staff(
            'stranger', company, ['group_readings', 'group_data_edit'])

        with Transaction().set_user(stranger.id):
            for name, data, state, context in [
                    ('lk.meter.reading.reject',
                        {'start': {'reason': "Нет"}}, 'reject',
                        {'active_model': 'lk.meter.reading',
                            'active_id': reading.id,
                            'active_ids': [reading.id]}),
                    ('lk.meter.replace', {}, 'start',
                        {'active_model': 'lk.meter',
                            'active_id': meter.id,
                            'active_ids': [meter.id]}),
                    ('lk.meter.reading.enter', {}, 'start',
                        {'active_model': 'lk.meter',
                            'active_id': meter.id,
                            'active_ids': [meter.id]}),
                    ]:
                with self.subTest(wizard=name):
                    with self.assertRaises(AccessError):
                        execute_wizard(name, data, state, context)
        self.assertEqual(Reading(reading.id).state, 'new')

    @with_transaction()
    def test_submit_over_rpc_derives_source(self):
        "Test staff submitting over RPC are staff, whatever they send"
        pool = Pool()
        Reading = pool.get('lk.meter.reading')
        company = create_company()
        other = create_company(name="Other", currency=company.currency)
        meter = create_meter(create_account(company, '1'))
        subscriber = create_subscriber(meter.account)
        theirs = create_meter(create_account(other, '2'))
        clerk = create_staff('clerk', company, ['group_readings'])

        with Transaction().set_user(clerk.id), check_access():
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
        reading, = Reading.submit(
            meter, {meter.channels[0].id: Decimal(10)}, source='staff')
        clerk = create_staff('clerk', company, ['group_readings'])
        operator = create_staff('operator', company, ['group_operator'])

        with Transaction().set_user(clerk.id), check_access():
            for values in [
                    {'state': 'accepted'},
                    {'source': 'portal'},
                    {'kind': 'initial'},
                    {'flagged_jump': True},
                    ]:
                with self.subTest(values=list(values)):
                    with self.assertRaises(AccessError):
                        Reading.write([Reading(reading.id)], values)
            Reading.accept([Reading(reading.id)])
            for values in [
                    {'value': Decimal(1)},
                    {'date': today - dt.timedelta(days=1)},
                    {'state': 'new'},
                    ]:
                with self.subTest(values=list(values)):
                    with self.assertRaises(AccessError):
                        Reading.write([Reading(reading.id)], values)
        with Transaction().set_user(operator.id), check_access():
            for record in [previous, reading]:
                with self.assertRaises(AccessError):
                    Reading.delete([Reading(record.id)])
        reading = Reading(reading.id)
        self.assertEqual(
            (reading.state, reading.value, reading.date),
            ('accepted', Decimal(10), today))

        # a new reading's value and period are checked again when written
        new, = Reading.submit(
            meter, {meter.channels[0].id: Decimal(12)}, source='staff')
        with Transaction().set_user(clerk.id), check_access():
            for values in [
                    {'value': Decimal(1)},
                    {'period': first_of_months_before(today, 3)},
                    ]:
                with self.subTest(values=list(values)):
                    with self.assertRaises(UserError):
                        Reading.write([Reading(new.id)], values)

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

        with Transaction().set_user(clerk.id), check_access():
            copy, = Reading.copy([Reading(counted.id)])
            for extra in [
                    {'source': 'portal'},
                    {'web_user': subscriber.id},
                    {'state': 'accepted'},
                    {'kind': 'initial'},
                    ]:
                with self.subTest(values=list(extra)):
                    with self.assertRaises(AccessError):
                        Reading.create([{**values, **extra}])
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
            with as_subscriber(subscriber):
                return Reading.submit(
                    meter.id, {channel: Decimal(value)}, date=date,
                    source='api', web_user=subscriber)

        def enter(date, value):
            with Transaction().set_user(clerk.id), check_access():
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
        pool = Pool()
        Reading = pool.get('lk.meter.reading')
        company = create_company()
        meter = create_meter(create_account(company, '1'))
        subscriber = create_subscriber(meter.account)

        def submit(photo, name):
            with as_subscriber(subscriber):
                return Reading.submit(
                    meter.id, {meter.channels[0].id: Decimal(10)},
                    web_user=subscriber, photo=photo, photo_name=name)

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
        company = create_company()
        other = create_company(name="Other", currency=company.currency)
        meter = create_meter(create_account(company, '1'))
        single = meter.channels[0].id
        foreign = create_meter(create_account(other, '2')).channels[0].id
        today = dt.date.today()

        for final, initial in [
                ({single: 5}, {foreign: 0}),
                ({single: 5, foreign: 1}, {single: 0}),
                ({}, {single: 0}),
                ]:
            with self.subTest(final=final, initial=initial):
                with self.assertRaises(UserError):
                    Meter.replace(
                        meter, {'serial': 'N1'}, final, initial, today)
        new = Meter.replace(meter, {'serial': 'N1'}, {single: 5}, {single: 0},
            today)
        self.assertEqual(
            [(r.kind, r.channel.id) for r in new.readings],
            [('initial', single)])


del ModuleTestCase
