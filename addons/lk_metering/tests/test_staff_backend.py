# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""What staff do in the backend: find accounts and meters as they know them
(number, address, serial), enter readings, and see their lists refresh after
an action on many records"""
import datetime as dt
from contextlib import contextmanager
from decimal import Decimal

from trytond import backend
from trytond.modules.company.tests import create_company
from trytond.modules.lk_base.tests.test_module import create_staff
from trytond.pool import Pool
from trytond.tests.test_tryton import _DBTestCase, with_transaction
from trytond.transaction import Transaction, check_access

from .test_module import create_meter, execute_wizard


def create_accounts(company):
    "Accounts 101 at ул. Ленина, д. 10, кв. 5 and 102 at ул. Мира, д. 1"
    pool = Pool()
    Building = pool.get('lk.building')
    Account = pool.get('lk.account')
    lenina, mira = Building.create([{
                'company': company.id, 'city': "Отрадный",
                'street': "Ленина", 'house': '10',
                }, {
                'company': company.id, 'city': "Отрадный",
                'street': "Мира", 'house': '1', 'block': '2',
                }])
    return Account.create([{
                'company': company.id, 'number': '101',
                'building': lenina.id, 'apartment': '5',
                'holder': "Иванов А. И.",
                }, {
                'company': company.id, 'number': '102',
                'building': mira.id, 'apartment': '10',
                'holder': "Петров Б. В.",
                }])


@contextmanager
def working_for_accounts():
    "The accounts of create_accounts, working for their new organization"
    company = create_company()
    with Transaction().set_context(company=company.id):
        yield create_accounts(company)


class StaffBackendTestCase(_DBTestCase):
    "Test the staff backend"
    module = 'lk_metering'

    def search(self, model, text, operator='ilike'):
        Model = Pool().get(model)
        if operator.endswith('like'):
            text = f'%{text}%'
        return sorted(
            r.rec_name for r in Model.search([('rec_name', operator, text)]))

    def assertFinds(self, model, cases):
        "Searching model by each text finds the records (text, records)"
        for text, found in cases:
            with self.subTest(text=text):
                self.assertEqual(
                    self.search(model, text),
                    sorted(r.rec_name for r in found))

    @with_transaction()
    def test_account_by_address(self):
        "Test accounts are found by their address, as staff type it"
        with working_for_accounts() as (first, second):
            self.assertFinds('lk.account', [
                    ("Ленина", [first]),
                    # (SQLite compares only ASCII letters case-insensitively)
                    ("Ленина 10", [first]),
                    ("ОТРАДНЫЙ ЛЕНИНА 10" if backend.name == 'postgresql'
                        else "Отрадный Ленина 10", [first]),
                    ("ул. Ленина, д. 10, кв. 5", [first]),
                    ("Ленина 10 кв 6", []),
                    ("Мира 1 корп. 2", [second]),
                    ("Отрадный", [first, second]),
                    # an apartment or a house number
                    ("10", [first, second]),
                    ("101", [first]),
                    ("Петров", [second]),
                    ])
            self.assertEqual(
                self.search('lk.account', "Ленина", 'not ilike'),
                [second.rec_name])
            Account = Pool().get('lk.account')
            self.assertEqual(
                Account.search([('address', 'ilike', '%Мира%')]), [second])
            self.assertEqual(
                self.search('lk.building', "Мира 1"),
                [second.building.rec_name])

    @with_transaction()
    def test_meter_by_account_address_serial(self):
        "Test meters are found by serial, account number or address"
        with working_for_accounts() as (first, second):
            meter1, meter2 = create_meter(first), create_meter(second)

            self.assertFinds('lk.meter', [
                    ("S101", [meter1]),
                    ("101", [meter1]),
                    ("Мира", [meter2]),
                    ("Ленина 10", [meter1]),
                    ("Иванов", [meter1]),
                    ])

    @with_transaction()
    def test_enter_readings_defaults(self):
        "Test the entry wizard starts today and shows the meter's account"
        pool = Pool()
        Date = pool.get('ir.date')
        EnterStart = pool.get('lk.meter.reading.enter.start')
        company = create_company()
        with Transaction().set_context(company=company.id):
            first, _ = create_accounts(company)
            meter = create_meter(first)
            clerk = create_staff('clerk', company, ['group_readings'])

            self.assertEqual(EnterStart.default_date(), Date.today())
            with Transaction().set_user(clerk.id):
                result = execute_wizard(
                    'lk.meter.reading.enter', {}, 'start')
                values = result['view']['defaults']
                self.assertEqual(values['date'], Date.today())
                self.assertEqual(values.get('meter'), None)

                result = execute_wizard(
                    'lk.meter.reading.enter', {}, 'start', {
                        'active_model': 'lk.meter',
                        'active_id': meter.id,
                        'active_ids': [meter.id]})
                values = result['view']['defaults']
                self.assertEqual(values['meter'], meter.id)
                self.assertEqual(values['account'], first.id)

                with check_access():
                    start = EnterStart(meter=meter.id, lines=[])
                    start.on_change(['meter'])
                self.assertEqual(start.account, first)

    @with_transaction()
    def test_bulk_actions_reload(self):
        """Test the actions on many records reload the list, whose tab (new
        readings, requests, blocked users) no longer shows them"""
        pool = Pool()
        Reading = pool.get('lk.meter.reading')
        Access = pool.get('lk.account.access')
        WebUser = pool.get('web.user')
        Reject = pool.get('lk.meter.reading.reject', type='wizard')
        company = create_company()
        with Transaction().set_context(company=company.id):
            first, second = create_accounts(company)
            meter = create_meter(first)
            readings = Reading.submit(
                meter, {meter.channels[0].id: Decimal(10)}, source='staff')
            user, = WebUser.create([{'email': 'owner@example.com'}])
            access, = Access.create([{
                        'web_user': user.id, 'account': first.id,
                        'role': 'owner'}])

            self.assertEqual(Reading.accept(readings), 'reload')
            self.assertEqual(Access.block([access]), 'reload')
            self.assertEqual(Access.unblock([access]), 'reload')
            self.assertEqual(Access.revoke([access]), 'reload')
            self.assertEqual(WebUser.block([user]), 'reload')
            self.assertEqual(WebUser.unblock([user]), 'reload')

            readings = Reading.submit(
                meter, {meter.channels[0].id: Decimal(11)}, source='staff',
                date=dt.date.today())
            session_id, _, _ = Reject.create()
            with Transaction().set_context(
                    active_model='lk.meter.reading',
                    active_id=readings[0].id,
                    active_ids=[r.id for r in readings]):
                Reject.execute(
                    session_id, {'start': {'reason': "Неразборчиво"}},
                    'reject')
            self.assertEqual(Reject.delete(session_id), 'reload')
            self.assertEqual(
                {r.state for r in Reading.browse(readings)}, {'rejected'})


del _DBTestCase
