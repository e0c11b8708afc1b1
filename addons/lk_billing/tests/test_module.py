# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import datetime as dt
from decimal import Decimal

from trytond.model.exceptions import (
    AccessError, DomainValidationError, SQLConstraintError)
from trytond.modules.company.tests import CompanyTestMixin, create_company
from trytond.modules.lk_base.portal import as_subscriber
from trytond.modules.lk_base.tests import (
    LkModuleTestMixin, as_staff, create_account, create_organizations,
    create_staff, create_subscriber, grant)
from trytond.modules.lk_billing.exceptions import (
    BillingValidationError, PeriodClosedError)
from trytond.pool import Pool
from trytond.tests.test_tryton import ModuleTestCase, with_transaction

OCTOBER = dt.date(2026, 10, 1)
NOVEMBER = dt.date(2026, 11, 1)
# a change each model's staff editors may make
WRITES = {
    'lk.service': {'name': "Вода"},
    'lk.charge': {'basis_details': "ПУ № 1"},
    'lk.balance': {'paid': Decimal(0)},
    'lk.payment.received': {'reference': "1"},
    }


def create_service(company, code='water'):
    pool = Pool()
    Service = pool.get('lk.service')
    service, = Service.create([{
                'company': company.id, 'code': code, 'name': code.title(),
                'unit': "м³"}])
    return service


def create_charge(account, service, period=OCTOBER, amount='100.00',
        **values):
    pool = Pool()
    Charge = pool.get('lk.charge')
    charge, = Charge.create([{
                'account': account.id, 'service': service.id,
                'period': period, 'amount': Decimal(amount), **values}])
    return charge


def create_balance(account, service, period, opening, charged, paid):
    pool = Pool()
    Balance = pool.get('lk.balance')
    opening, charged, paid = map(Decimal, [opening, charged, paid])
    balance, = Balance.create([{
                'account': account.id, 'service': service.id,
                'period': period, 'opening': opening, 'charged': charged,
                'paid': paid, 'closing': opening + charged - paid}])
    return balance


def create_payment(account, date, amount, source='organization'):
    pool = Pool()
    Payment = pool.get('lk.payment.received')
    payment, = Payment.create([{
                'account': account.id, 'date': date,
                'amount': Decimal(amount), 'source': source}])
    return payment


def create_billed(company):
    """An account of the organization with a service, charged and balanced
    in October: (account, service, charge, balance)"""
    account = create_account(company, '1')
    service = create_service(company)
    return (
        account, service, create_charge(account, service),
        create_balance(account, service, OCTOBER, '0', '1', '0'))


class LkBillingTestCase(
        LkModuleTestMixin, CompanyTestMixin, ModuleTestCase):
    "Test lk_billing module"
    module = 'lk_billing'
    extras = ['lk_portal']

    @property
    def _skip_company_rule(self):
        return super()._skip_company_rule | {
            # lk_billing extends company.company: its parent is guarded by
            # the rule on company.company itself (see lk_base)
            ('company.company', 'parent'),
            }

    @with_transaction()
    def test_deadline(self):
        "Test the payment deadline is the due day of the next month"
        company, = create_organizations()
        self.assertEqual(company.billing_due_day, 15)
        self.assertEqual(
            company.billing_deadline(dt.date(2026, 12, 1)),
            dt.date(2027, 1, 15))
        company.billing_due_day = 28
        self.assertEqual(
            company.billing_deadline(dt.date(2026, 1, 1)),
            dt.date(2026, 2, 28))
        self.assertIsNone(company.billing_deadline(None))
        company.billing_due_day = 29
        with self.assertRaises(DomainValidationError):
            company.save()

    @with_transaction()
    def test_debts(self):
        "Test the debt is the latest closing less the lk payments after it"
        pool = Pool()
        Balance = pool.get('lk.balance')
        company, = create_organizations()
        account = create_account(company, '1')
        empty = create_account(company, '2')
        water = create_service(company)
        heat = create_service(company, 'heat')
        create_balance(account, water, OCTOBER, '0', '100.10', '0')
        create_balance(account, heat, OCTOBER, '0', '0.20', '0')
        create_balance(account, water, NOVEMBER, '100.10', '50.05', '100')
        create_balance(account, heat, NOVEMBER, '0.20', '0.01', '0')
        # counted in November's balance already, and a payment in transit
        create_payment(account, dt.date(2026, 11, 30), '30.00', 'lk')
        create_payment(account, dt.date(2026, 12, 2), '20.10', 'lk')
        create_payment(account, dt.date(2026, 12, 3), '99.00')

        debts = Balance.debts([account, empty, account])
        debt = debts[account.id]
        self.assertEqual(debt.period, NOVEMBER)
        self.assertEqual(debt.closing, Decimal('50.36'))
        self.assertEqual(debt.in_transit, Decimal('20.10'))
        self.assertEqual(debt.debt, Decimal('30.26'))
        self.assertEqual(str(debt.debt), '30.26')
        self.assertEqual(debt.deadline, dt.date(2026, 12, 15))
        self.assertEqual(
            [(s.code, c) for s, c in debt.services],
            [('water', Decimal('50.15')), ('heat', Decimal('0.21'))])
        self.assertEqual(
            debts[empty.id][1:],
            (None, Decimal('0.00'), Decimal('0.00'), Decimal('0.00'), None,
                []))
        self.assertEqual(
            (account.debt, account.debt_period, account.in_transit,
                account.payment_deadline),
            (Decimal('30.26'), NOVEMBER, Decimal('20.10'),
                dt.date(2026, 12, 15)))

        self.assertEqual(
            [tuple(line) for line in Balance.history(account)],
            [
                (NOVEMBER, Decimal('100.30'), Decimal('50.06'),
                    Decimal('100.00'), Decimal('50.36')),
                (OCTOBER, Decimal('0.00'), Decimal('100.30'),
                    Decimal('0.00'), Decimal('100.30')),
                ])

    @with_transaction()
    def test_overpayment(self):
        "Test a payment in transit above the debt is an overpayment"
        pool = Pool()
        Balance = pool.get('lk.balance')
        company, = create_organizations()
        account = create_account(company, '1')
        create_balance(
            account, create_service(company), OCTOBER, '0', '10.00', '0')
        create_payment(account, NOVEMBER, '25.50', 'lk')
        self.assertEqual(
            Balance.debts([account])[account.id].debt, Decimal('-15.50'))

    @with_transaction()
    def test_constraints(self):
        "Test periods, amounts and the service's organization"
        pool = Pool()
        Charge = pool.get('lk.charge')
        company, other = create_organizations("Other")
        child = create_company(name="Child", currency=company.currency)
        child.parent = company
        child.save()
        account = create_account(company, '1')
        service = create_service(company)
        charge = create_charge(account, service)
        penalty = create_charge(account, service, kind='penalty')
        self.assertEqual(penalty.total, Decimal('100.00'))

        with self.assertRaises(BillingValidationError):
            create_charge(account, service, period=dt.date(2026, 9, 2))
        with self.assertRaises(BillingValidationError):
            create_balance(
                account, service, dt.date(2026, 10, 31), '0', '1', '0')
        # a service of another organization, the account's child's or
        # the same code in another organization
        create_service(other)
        with self.assertRaises(BillingValidationError):
            create_charge(account, create_service(other, 'heat'))
        with self.assertRaises(BillingValidationError):
            create_charge(account, create_service(child, 'heat'))
        # a sub-organization's account with its parent's service
        child_account = create_account(child, '2')
        recalculated = create_charge(
            child_account, service, recalculation=Decimal('-10.50'),
            recalculation_reason="Отсутствие ГВС")
        self.assertEqual(recalculated.company, child)
        self.assertEqual(recalculated.total, Decimal('89.50'))
        # the organization always follows the account
        with self.assertRaises(BillingValidationError):
            Charge.write([charge], {'company': other.id})
        Charge.write(
            [charge], {'account': child_account.id, 'period': NOVEMBER})
        self.assertEqual(charge.company, child)

    @with_transaction()
    def test_charge_unique(self):
        "Test one charge per account, service, period and kind"
        company, = create_organizations()
        account = create_account(company, '1')
        service = create_service(company)
        create_charge(account, service)
        with self.assertRaises(SQLConstraintError):
            create_charge(account, service)

    @with_transaction()
    def test_balance_unique(self):
        "Test one balance per account, service and period"
        company, = create_organizations()
        account = create_account(company, '1')
        service = create_service(company)
        create_balance(account, service, OCTOBER, '0', '1', '0')
        with self.assertRaises(SQLConstraintError):
            create_balance(account, service, OCTOBER, '0', '1', '0')

    @with_transaction()
    def test_payment_amount_positive(self):
        "Test a payment received is of a positive amount"
        company, = create_organizations()
        account = create_account(company, '1')
        # the check constraint of PostgreSQL comes before the domain
        with self.assertRaises((DomainValidationError, SQLConstraintError)):
            create_payment(account, OCTOBER, '0')

    @with_transaction()
    def test_service_code_unique(self):
        "Test the service codes are unique within an organization"
        company, other = create_organizations("Other")
        create_service(company)
        create_service(other)
        with self.assertRaises(SQLConstraintError):
            create_service(company)

    @with_transaction()
    def test_closed_period(self):
        "Test no record of a closed period is created, changed or deleted"
        pool = Pool()
        Charge = pool.get('lk.charge')
        Balance = pool.get('lk.balance')
        company, = create_organizations()
        account, service, charge, balance = create_billed(company)
        november = create_charge(account, service, period=NOVEMBER)
        payment = create_payment(account, dt.date(2026, 10, 5), '1.00')
        company.billing_closed_until = dt.date(2026, 10, 31)
        company.save()

        with self.assertRaises(PeriodClosedError) as cm:
            Charge.write([charge], {'amount': Decimal('1.00')})
        self.assertIn("10.2026", cm.exception.message)
        self.assertIn("October 2026", cm.exception.message)
        self.assertRefused(lambda r: r.__class__.delete([r]), [
                charge, balance, payment], PeriodClosedError)
        self.assertRefused(
            lambda values: create_charge(account, service, **values), [
                {'period': OCTOBER, 'kind': 'penalty'},
                {'period': dt.date(2025, 1, 1)},
                ], PeriodClosedError)
        with self.assertRaises(PeriodClosedError):
            create_payment(account, dt.date(2026, 10, 31), '1.00')
        # nor moved into a closed period
        with self.assertRaises(PeriodClosedError):
            Charge.write([november], {'period': OCTOBER})
        with self.assertRaises(PeriodClosedError):
            Balance.write([balance], {'period': NOVEMBER})
        # the open periods stay editable
        Charge.write([november], {'amount': Decimal('5.00')})
        create_payment(account, NOVEMBER, '1.00')

    @with_transaction()
    def test_staff_of_other_organization(self):
        "Test staff see no billing record of another organization"
        pool = Pool()
        company, other = create_organizations("Other")
        account, service, charge, balance = create_billed(company)
        records = {
            'lk.service': service,
            'lk.charge': charge,
            'lk.balance': balance,
            'lk.payment.received': create_payment(account, OCTOBER, '1'),
            }
        mine = create_staff('mine', company, ['group_data_edit'])
        theirs = create_staff('theirs', other, ['group_data_edit'])
        for name, record in records.items():
            Model = pool.get(name)
            with self.subTest(model=name):
                with as_staff(theirs):
                    self.assertEqual(Model.search([]), [])
                    with self.assertRaises(AccessError):
                        Model.read([record.id], ['company'])
                    with self.assertRaises(AccessError):
                        Model.write([Model(record.id)], WRITES[name])
                with as_staff(mine):
                    self.assertEqual(Model.search([]), [record])
                    Model.write([Model(record.id)], WRITES[name])
        Total = pool.get('lk.balance.total')
        with as_staff(theirs):
            self.assertEqual(Total.search([]), [])
        with as_staff(mine):
            total, = Total.search([])
            self.assertEqual(
                (total.company, total.period, total.accounts,
                    total.closing),
                (company, OCTOBER, 1, Decimal('1.00')))

    @with_transaction()
    def test_staff_edit_right(self):
        "Test only staff with «Ручное редактирование данных» edit billing"
        pool = Pool()
        Charge = pool.get('lk.charge')
        Balance = pool.get('lk.balance')
        company, = create_organizations()
        account, service, charge, balance = create_billed(company)
        reader = create_staff(
            'reader', company, ['group_readings', 'group_data_upload'])
        editor = create_staff('editor', company, ['group_data_edit'])

        with as_staff(reader):
            self.assertEqual(Charge.search([]), [charge])
        self.assertRefusedThenAllowed(reader, editor, lambda: Balance.write(
                [Balance(balance.id)], {'closing': Decimal('2.00')}))
        self.assertRefusedThenAllowed(reader, editor, lambda: Charge.create([{
                        'account': account.id, 'service': service.id,
                        'period': NOVEMBER, 'amount': Decimal(1)}]))
        self.assertRefusedThenAllowed(
            reader, editor, lambda: create_service(company, 'heat'))
        self.assertRefusedThenAllowed(
            reader, editor, lambda: Charge.delete([Charge(charge.id)]))

    @with_transaction()
    def test_subscriber_sees_own(self):
        "Test a subscriber reads the billing of accounts validly theirs only"
        pool = Pool()
        Access = pool.get('lk.account.access')
        company, other = create_organizations("Other")
        mine = create_account(company, '1')
        theirs = create_account(company, '2')
        lapsed = create_account(other, '3')
        service = create_service(company)
        other_service = create_service(other)
        subscriber = create_subscriber(mine)
        access = grant(subscriber, lapsed, role='delegate')
        Access.write([access], {'end_date': dt.date(2000, 1, 1)})
        records = {}
        for account, svc in [
                (mine, service), (theirs, service), (lapsed, other_service)]:
            records[account] = {
                'lk.charge': create_charge(account, svc),
                'lk.balance': create_balance(
                    account, svc, OCTOBER, '0', '1', '0'),
                'lk.payment.received': create_payment(
                    account, NOVEMBER, '1', 'lk'),
                }
        for name in ['lk.charge', 'lk.balance', 'lk.payment.received']:
            Model = pool.get(name)
            with self.subTest(model=name), as_subscriber(subscriber):
                self.assertEqual(Model.search([]), [records[mine][name]])
                for account in [theirs, lapsed]:
                    with self.assertRaises(AccessError):
                        Model.read([records[account][name].id], ['amount'
                                if name != 'lk.balance' else 'closing'])
                with self.assertRaises(AccessError):
                    Model.write(
                        [Model(records[mine][name].id)], WRITES[name])
                with self.assertRaises(AccessError):
                    Model.delete([Model(records[mine][name].id)])

        Balance = pool.get('lk.balance')
        with as_subscriber(subscriber):
            self.assertEqual(
                Balance.debts([mine])[mine.id].debt, Decimal('0.00'))
            with self.assertRaises(AccessError):
                Balance.debts([theirs])
            with self.assertRaises(AccessError):
                Balance.history(lapsed)
        with as_subscriber(None):
            with self.assertRaises(AccessError):
                Balance.debts([mine])


del ModuleTestCase
