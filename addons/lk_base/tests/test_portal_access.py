# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.model.exceptions import AccessError
from trytond.modules.company.tests import create_company
from trytond.modules.lk_base.portal import as_subscriber
from trytond.pool import Pool
# _DBTestCase, as Tryton's RouteTestCase: test_module runs the generic
# ModuleTestCase tests, which a second subclass would run again
from trytond.tests.test_tryton import _DBTestCase, with_transaction
from trytond.transaction import Transaction

from .helpers import (
    as_staff, create_account, create_organizations, create_staff,
    create_subscriber, create_web_user, grant)


def subscriber_with_session(company, email, number):
    """A subscriber user owning an account of the company, signed in"""
    pool = Pool()
    Session = pool.get('web.user.session')
    account = create_account(company, number)
    user = create_subscriber(account, email, email_valid=True)
    session, = Session.create([{'user': user.id}])
    return user, account, session


class LkBasePortalAccessTestCase(_DBTestCase):
    """Test what the portal user and staff reach of Tryton's own models: the
    portal only what its group is granted, staff only their organizations'
    rows"""
    module = 'lk_base'

    @with_transaction()
    def test_portal_reads_own_accounts_not_core_models(self):
        "The portal user reads its accounts, not sessions, users or crons"
        pool = Pool()
        Account = pool.get('lk.account')
        Session = pool.get('web.user.session')
        User = pool.get('res.user')
        Cron = pool.get('ir.cron')
        TaxIdentifier = pool.get('company.company.tax_identifier')
        company = create_company()
        user, account, session = subscriber_with_session(
            company, 'one@example.com', '1')
        _, _, other_session = subscriber_with_session(
            company, 'two@example.com', '2')
        cron, = Cron.search([], limit=1)

        with as_subscriber(user):
            self.assertEqual(Account.search([]), [account])
            self.assertEqual(
                Account.read([account.id], ['number']),
                [{'id': account.id, 'number': '1'}])
            for Model, ids, field in [
                    (Session, [session.id, other_session.id], 'key'),
                    (User, [Transaction().user], 'login'),
                    (Cron, [cron.id], 'method'),
                    # belongs to the organization (__access__), public
                    # for its pages, but is not granted itself
                    (TaxIdentifier, [], None),
                    ]:
                with self.subTest(model=Model.__name__):
                    with self.assertRaises(AccessError):
                        Model.search([])
                    if ids:
                        with self.assertRaises(AccessError):
                            Model.read(ids, [field])

    @with_transaction()
    def test_portal_access_only_from_portal_group_records(self):
        """A model is the portal user's only through an access record of its
        group, not through one without a group"""
        pool = Pool()
        ModelAccess = pool.get('ir.model.access')
        ModelData = pool.get('ir.model.data')
        Cron = pool.get('ir.cron')
        company = create_company()
        user, _, _ = subscriber_with_session(company, 'one@example.com', '1')
        portal = ModelData.get_id('lk_base', 'group_portal')

        # as every backend user may
        everyone, = ModelAccess.create([{
                    'model': 'ir.cron', 'perm_read': True,
                    }])
        with as_subscriber(user):
            self.assertEqual(
                ModelAccess.get_access(['ir.cron'])['ir.cron'],
                {'read': False, 'write': False, 'create': False,
                    'delete': False})
        granted, = ModelAccess.create([{
                    'model': 'ir.cron', 'group': portal, 'perm_read': True,
                    }])
        with as_subscriber(user):
            self.assertEqual(
                ModelAccess.get_access(['ir.cron'])['ir.cron'],
                {'read': True, 'write': False, 'create': False,
                    'delete': False})
            self.assertTrue(Cron.search([]))
        ModelAccess.write([granted], {'active': False})
        with as_subscriber(user):
            with self.assertRaises(AccessError):
                Cron.search([])

    @with_transaction()
    def test_portal_owner_does_not_read_delegate_secrets(self):
        """An owner sees their delegates' e-mail but not the password hash
        or tokens that would sign them in as the delegate"""
        pool = Pool()
        WebUser = pool.get('web.user')
        owner, account, _ = subscriber_with_session(
            create_company(), 'owner@example.com', '1')
        delegate = create_web_user(
            'delegate@example.com', email_valid=True,
            password_hash='secret-hash',
            reset_password_token='secret-token',
            email_token='secret-email-token')
        grant(delegate, account, 'delegate')

        with as_subscriber(owner):
            self.assertEqual(
                WebUser.read([delegate.id], ['email']),
                [{'id': delegate.id, 'email': 'delegate@example.com'}])
            for field in [
                    'password_hash', 'reset_password_token', 'email_token']:
                with self.subTest(field=field):
                    with self.assertRaises(AccessError):
                        WebUser.read([delegate.id], [field])
                    with self.assertRaises(AccessError):
                        WebUser.search([(field, '=', 'secret-hash')])

    @with_transaction()
    def test_staff_access_unchanged(self):
        "Staff keep the access of the records without a group"
        pool = Pool()
        User = pool.get('res.user')
        Account = pool.get('lk.account')
        company = create_company()
        account = create_account(company, '1')
        staff = create_staff('staff', company, ['group_staff'])

        with as_staff(staff):
            self.assertEqual(Account.search([]), [account])
            self.assertEqual(
                User.read([staff.id], ['login']),
                [{'id': staff.id, 'login': 'staff'}])

    @with_transaction()
    def test_staff_do_not_see_who_works_elsewhere(self):
        "Staff see the organizations of other users only if theirs"
        pool = Pool()
        User = pool.get('res.user')
        UserCompany = pool.get('res.user-company.company')
        CronCompany = pool.get('ir.cron-company.company')
        Cron = pool.get('ir.cron')
        company, other = create_organizations("Other")
        staff = create_staff('staff', company, ['group_staff'])
        foreign = create_staff('foreign', other, ['group_staff'])
        cron, = Cron.search([], limit=1)
        Cron.write([cron], {'companies': [('add', [company.id, other.id])]})

        with as_staff(staff):
            self.assertEqual(
                {(r.user.id, r.company.id) for r in UserCompany.search([])},
                {(staff.id, company.id)})
            self.assertEqual(
                UserCompany.search([('user', '=', foreign.id)]), [])
            self.assertEqual(
                User.read([foreign.id], ['companies']),
                [{'id': foreign.id, 'companies': ()}])
            self.assertEqual(
                [r.company.id for r in CronCompany.search([
                            ('cron', '=', cron.id)])],
                [company.id])

    @with_transaction()
    def test_staff_do_not_see_party_values_of_other_organizations(self):
        """Staff see the languages set for a party by their organization
        and the default, not those of another organization"""
        pool = Pool()
        Party = pool.get('party.party')
        PartyLang = pool.get('party.party.lang')
        Lang = pool.get('ir.lang')
        company, other = create_organizations("Other")
        staff = create_staff('staff', company, ['group_staff'])
        english, = Lang.search([('code', '=', 'en')])
        party, = Party.create([{'name': "Holder"}])
        own, foreign = PartyLang.create([{
                    'party': party.id, 'company': c, 'lang': english.id,
                    } for c in [company.id, other.id]])
        default, = PartyLang.search([
                ('party', '=', party.id), ('company', '=', None)])

        with as_staff(staff):
            self.assertEqual(
                sorted(PartyLang.search([('party', '=', party.id)])),
                sorted([own, default]))
            self.assertEqual(
                PartyLang.search([('company', '=', other.id)]), [])


del _DBTestCase
