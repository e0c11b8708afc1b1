# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.model.exceptions import AccessError
from trytond.modules.lk_base.portal import as_subscriber
from trytond.pool import Pool
# _DBTestCase, as Tryton's RouteTestCase: test_module runs the generic
# ModuleTestCase tests, which a second subclass would run again
from trytond.tests.test_tryton import _DBTestCase, with_transaction

from .helpers import (
    as_staff, create_account, create_organizations, create_staff,
    create_web_user, grant)


def two_organizations():
    """Staff of an organization and a subscriber user holding an account
    there and one at another organization, each with its access code"""
    pool = Pool()
    Account = pool.get('lk.account')
    company, other = create_organizations("Other")
    account = create_account(company, '1')
    foreign = create_account(other, '2')
    account.access_code = 'AAAA-1111'
    foreign.access_code = 'HJZ4-2222'
    Account.save([account, foreign])
    user = create_web_user('holder@example.com')
    access = grant(user, account)
    grant(user, foreign)
    staff = create_staff('staff', company, ['group_subscriber_users'])
    return company, other, account, foreign, user, access, staff


class LkBaseRuleJoinTestCase(_DBTestCase):
    "Test record rules on the far side of search paths"
    module = 'lk_base'

    @with_transaction()
    def test_web_user_search_by_foreign_account(self):
        "Test a foreign account's code does not decide a web user search"
        pool = Pool()
        WebUser = pool.get('web.user')
        company, other, account, foreign, user, _, staff = two_organizations()

        with as_staff(staff):
            # The same answer for the right and a wrong foreign prefix
            for prefix in ['HJZ4', 'ZZZZ']:
                self.assertEqual(WebUser.search([
                            ('lk_accesses.account.access_code', 'like',
                                prefix + '%'),
                            ('lk_accesses.account.company', '=', other.id),
                            ]), [])
            self.assertEqual(WebUser.search([
                        ('lk_accesses', 'where', [
                                ('account.company', '=', other.id)]),
                        ]), [])
            self.assertEqual(WebUser.search_count([
                        ('lk_accesses.account.number', '=', '2'),
                        ]), 0)
            # The staff's own account still matches through the same paths
            self.assertEqual(WebUser.search([
                        ('lk_accesses.account.access_code', 'like', 'AAAA%'),
                        ('lk_accesses.account.company', '=', company.id),
                        ]), [user])
            self.assertEqual(WebUser.search([
                        ('lk_accesses', 'where', [
                                ('account.company', '=', company.id)]),
                        ]), [user])
            self.assertEqual(WebUser.search_read([
                        ('lk_accesses.account.number', '=', '1'),
                        ], fields_names=['email']),
                [{'id': user.id, 'email': 'holder@example.com'}])

    @with_transaction()
    def test_access_search_by_foreign_account(self):
        "Test an access search crossing to a foreign account answers alike"
        pool = Pool()
        Access = pool.get('lk.account.access')
        company, other, account, foreign, user, access, staff = (
            two_organizations())

        with as_staff(staff):
            for prefix in ['HJZ4', 'ZZZZ']:
                self.assertEqual(Access.search([
                            ('web_user.lk_accesses.account.access_code',
                                'like', prefix + '%'),
                            ]), [])
            self.assertEqual(Access.search([
                        ('web_user.lk_accesses', 'where', [
                                ('account', '=', foreign.id)]),
                        ]), [])
            self.assertEqual(Access.search([
                        ('web_user.lk_accesses', 'in', [foreign.id]),
                        ]), [])
            self.assertEqual(Access.search([
                        ('web_user.lk_accesses.account.access_code',
                            'like', 'AAAA%'),
                        ]), [access])
            self.assertEqual(Access.search([
                        ('web_user.lk_accesses', 'in', [access.id]),
                        ]), [access])

    @with_transaction()
    def test_negative_operators_ignore_foreign_records(self):
        "Test a negative clause answers as if foreign records did not exist"
        pool = Pool()
        WebUser = pool.get('web.user')
        Access = pool.get('lk.account.access')
        company, other, account, foreign, user, _, staff = two_organizations()
        # Created by the staff's organization, both: one holds an account
        # elsewhere only
        alone, elsewhere = WebUser.create([
                {'email': 'alone@example.com', 'company': company.id},
                {'email': 'elsewhere@example.com', 'company': company.id},
                ])
        Access.create([{
                    'web_user': elsewhere.id, 'account': foreign.id,
                    'role': 'owner',
                    }])

        with as_staff(staff):
            self.assertEqual(
                WebUser.search([('lk_accesses', '=', None)], order=[
                        ('id', 'ASC')]),
                [alone, elsewhere])
            self.assertEqual(
                WebUser.search([('lk_accesses', '!=', None)]), [user])
            self.assertEqual(
                WebUser.search([
                        ('lk_accesses.account.number', '!=', '1'),
                        ], order=[('id', 'ASC')]),
                [alone, elsewhere])
            self.assertEqual(
                WebUser.search([
                        ('lk_accesses', 'not where', [
                                ('account.number', '=', '2')]),
                        ], order=[('id', 'ASC')]),
                [user, alone, elsewhere])

    @with_transaction()
    def test_reference_search_applies_target_rules(self):
        "Test a search through a reference applies the target's rules"
        pool = Pool()
        Note = pool.get('ir.note')
        company, other, account, foreign, user, _, staff = two_organizations()
        note, foreign_note = Note.create([
                {'resource': str(account), 'message': "Own"},
                {'resource': str(foreign), 'message': "Foreign"},
                ])

        with as_staff(staff):
            self.assertEqual(Note.search([
                        ('resource.number', '=', '1', 'lk.account'),
                        ]), [note])
            self.assertEqual(Note.search([
                        ('resource.number', '=', '2', 'lk.account'),
                        ]), [])

    @with_transaction()
    def test_order_by_foreign_target(self):
        "Test a dotted order keeps only records with readable targets"
        pool = Pool()
        WebUser = pool.get('web.user')
        company, other, account, foreign, user, _, staff = two_organizations()
        # Created by the other organization, holding an account here
        WebUser.write([user], {'company': other.id})

        with as_staff(staff):
            self.assertEqual(WebUser.search([]), [user])
            self.assertEqual(WebUser.search(
                    [], order=[('company.party.name', 'ASC')]), [])
            # Ordered by the column itself, nothing hidden decides
            self.assertEqual(
                WebUser.search([], order=[('company', 'ASC')]), [user])
        WebUser.write([user], {'company': company.id})
        with as_staff(staff):
            self.assertEqual(WebUser.search(
                    [], order=[('company.party.name', 'ASC')]), [user])

    @with_transaction()
    def test_where_checks_field_access(self):
        "Test a where clause needs read access to the fields it names"
        pool = Pool()
        Account = pool.get('lk.account')
        WebUser = pool.get('web.user')
        company, other, account, foreign, user, _, staff = two_organizations()
        WebUser.write([user], {'reset_password_token': 'secret-token'})

        def by_web_user(domain):
            return [('accesses', 'where', [('web_user', 'where', domain)])]

        with as_staff(staff):
            # The token signs in as the subscriber, at every organization
            for token in ['secret-token', 'wrong-token']:
                with self.assertRaises(AccessError):
                    Account.search(by_web_user([
                                ('reset_password_token', '=', token)]))
            with self.assertRaises(AccessError):
                Account.search([
                        ('accesses.web_user.reset_password_token', '=',
                            'secret-token'),
                        ])
            self.assertEqual(
                Account.search(by_web_user([
                            ('email', '=', 'holder@example.com')])),
                [account])

    @with_transaction()
    def test_subscriber_paths(self):
        "Test the portal's searches through relations see their own only"
        pool = Pool()
        Account = pool.get('lk.account')
        WebUser = pool.get('web.user')
        Access = pool.get('lk.account.access')
        company, other, account, foreign, user, _, staff = two_organizations()
        owner, stranger = WebUser.create([
                {'email': 'owner@example.com'},
                {'email': 'stranger@example.com'},
                ])
        # The subscriber is a delegate of the owner's account
        shared = create_account(company, '3')
        Access.create([{
                    'web_user': owner.id, 'account': shared.id,
                    'role': 'owner',
                    }, {
                    'web_user': user.id, 'account': shared.id,
                    'role': 'delegate', 'right_readings': True,
                    }])

        with as_subscriber(user):
            self.assertEqual(
                Account.search([('accesses.web_user', '=', user.id)],
                    order=[('number', 'ASC')]),
                [account, foreign, shared])
            # A delegate does not see the other accesses of the account
            for web_user in [owner, stranger]:
                self.assertEqual(Account.search([
                            ('accesses.web_user', '=', web_user.id),
                            ]), [])
        with as_subscriber(owner):
            self.assertEqual(
                Account.search([('accesses.web_user', '=', user.id)]),
                [shared])
        with as_subscriber(stranger):
            self.assertEqual(
                Account.search([('accesses.web_user', '=', user.id)]), [])


del _DBTestCase
