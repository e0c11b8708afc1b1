# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import datetime as dt
from decimal import Decimal

from trytond.exceptions import UserError
from trytond.model.exceptions import AccessError
from trytond.modules.company.tests import CompanyTestMixin, create_company
from trytond.modules.lk_base.tests.test_module import (
    create_account, create_staff)
from trytond.modules.lk_base.portal import as_subscriber
from trytond.modules.lk_metering.reading import consumption
from trytond.pool import Pool
from trytond.tests.test_tryton import ModuleTestCase, with_transaction
from trytond.transaction import Transaction, check_access


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


del ModuleTestCase
