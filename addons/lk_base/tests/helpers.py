# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Helpers for the Tryton tests of lk modules (in a test transaction)

The set-up every test repeats (organizations, staff, accounts, subscribers)
and the checks of access rights: refused as one user, allowed as another."""
from contextlib import contextmanager

from trytond.model.exceptions import AccessError
from trytond.modules.company.tests import create_company
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction
from trytond.transaction import Transaction, check_access

__all__ = [
    'create_organizations', 'create_staff', 'create_account',
    'create_web_user', 'grant', 'create_subscriber',
    'create_shared_subscriber', 'as_staff', 'email_text',
    'unrestricted_actions', 'AccessAssertions', 'LkModuleTestMixin']


def create_organizations(*names):
    "An organization and another of each name, in the same currency"
    company = create_company()
    return [company] + [
        create_company(name=name, currency=company.currency)
        for name in names]


def create_staff(login, company, rights):
    "A staff user of the organization with the lk_base rights (groups) named"
    pool = Pool()
    User = pool.get('res.user')
    ModelData = pool.get('ir.model.data')
    user, = User.create([{
                'login': login,
                'companies': [('add', [company.id])],
                'company': company.id,
                'groups': [('add', [
                            ModelData.get_id('lk_base', r) for r in rights])],
                }])
    return user


def create_account(company, number):
    "An account of the organization, numbered, in a building of its own"
    pool = Pool()
    Building = pool.get('lk.building')
    Account = pool.get('lk.account')
    building, = Building.create([{
                'company': company.id,
                'city': "Отрадный",
                'street': "Ленина",
                'house': number,
                }])
    account, = Account.create([{
                'company': company.id,
                'number': number,
                'building': building.id,
                }])
    return account


def create_web_user(email, **values):
    "A subscriber user with the e-mail"
    pool = Pool()
    WebUser = pool.get('web.user')
    user, = WebUser.create([{'email': email, **values}])
    return user


def grant(web_user, account, role='owner', **values):
    "The access of the web user to the account in the role"
    pool = Pool()
    Access = pool.get('lk.account.access')
    access, = Access.create([{
                'web_user': web_user.id, 'account': account.id,
                'role': role, **values}])
    return access


def create_subscriber(account, email='owner@example.com', **values):
    "A subscriber user owning the account"
    user = create_web_user(email, **values)
    grant(user, account)
    return user


def create_shared_subscriber():
    """Two organizations and a subscriber user owning an account of each,
    with a password and a confirmed e-mail: (company, other, user)"""
    company, other = create_organizations("Other")
    user = create_web_user(
        'shared@example.com', email_valid=True, password='Otradny-2026!')
    for organization, number in [(company, '1'), (other, '2')]:
        grant(user, create_account(organization, number))
    return company, other, user


@contextmanager
def as_staff(user, company=None):
    """Run as the backend user with access rights checked, as over RPC;
    working for the organization if given"""
    transaction = Transaction()
    context = {'company': company.id} if company else {}
    with transaction.set_user(user.id), transaction.set_context(context), \
            check_access():
        yield


def email_text(message):
    "The text parts of the e-mail message, decoded"
    return ''.join(
        part.get_payload(decode=True).decode(
            part.get_content_charset() or 'utf-8')
        for part in message.walk()
        if part.get_content_maintype() == 'text')


def unrestricted_actions():
    """The buttons of lk's models and lk's wizards that no group restricts:
    (model, button) and (wizard, None)"""
    pool = Pool()
    Button = pool.get('ir.model.button')
    ActionWizard = pool.get('ir.action.wizard')
    unrestricted = []
    for type_ in ['model', 'wizard']:
        for name, klass in pool.iterobject(type=type_):
            if not (name.startswith('lk.') or name == 'web.user'):
                continue
            if type_ == 'model':
                for button in getattr(klass, '_buttons', {}):
                    if not Button.get_groups(name, button):
                        unrestricted.append((name, button))
            elif not ActionWizard.get_groups(name):
                unrestricted.append((name, None))
    return unrestricted


class AccessAssertions:
    "Assertions on what a user may do, for unittest test cases"

    def assertRefused(self, call, cases, exception=AccessError):
        "call(case) raises the exception for every one of the cases"
        for case in cases:
            with self.subTest(case=case):
                with self.assertRaises(exception):
                    call(case)

    def assertRefusedThenAllowed(
            self, refused, allowed, call, exception=AccessError):
        """call() raises the exception as the staff user refused and
        succeeds as the staff user allowed: its result"""
        with as_staff(refused), self.assertRaises(exception):
            call()
        with as_staff(allowed):
            return call()


class LkModuleTestMixin(AccessAssertions):
    "The tests of every lk module, for its ModuleTestCase"

    @with_transaction()
    def test_actions_restricted_to_groups(self):
        "Test every button and wizard is restricted to the groups of a right"
        self.assertEqual(unrestricted_actions(), [])
