# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import datetime as dt
import os
import re
import time
from unittest.mock import patch

from werkzeug.test import Client

from trytond import config
from trytond.exceptions import RateLimitException
from trytond.model.exceptions import AccessError
from trytond.modules.company.tests import CompanyTestMixin, create_company
from trytond.modules.lk_base.tests import create_account, create_staff
from trytond.modules.lk_base.tests.tools import SMTPServer, set_config
from trytond.pool import Pool
from trytond.tests.test_tryton import (
    DB_NAME, ModuleTestCase, RouteTestCase, with_transaction)
from trytond.transaction import Transaction, check_access

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def from_address(address):
    "The context of a request from the client address"
    return Transaction().set_context(_request={'remote_addr': address})


class LkPortalTestCase(CompanyTestMixin, ModuleTestCase):
    "Test lk_portal module"
    module = 'lk_portal'

    @property
    def _skip_company_rule(self):
        # As in lk_base: subscriber users are shared by organizations
        return super()._skip_company_rule | {
            ('web.user', 'company'),
            }

    @with_transaction()
    def test_accept_invitation(self):
        "Only the invited e-mail accepts the invitation, once"
        pool = Pool()
        WebUser = pool.get('web.user')
        Access = pool.get('lk.account.access')
        company = create_company()
        account = create_account(company, '1001')
        owner, invitee, stranger = WebUser.create([
                {'email': 'owner@example.com'},
                {'email': 'invitee@example.com'},
                {'email': 'stranger@example.com'},
                ])
        Access.create([{
                    'web_user': owner.id, 'account': account.id,
                    'role': 'owner'}])
        invitation, = Access.create([{
                    'account': account.id,
                    'role': 'delegate',
                    'state': 'invited',
                    'invitation_email': 'Invitee@Example.com',
                    'granted_by': owner.id,
                    'right_readings': True,
                    'right_payment': False,
                    'right_appeals': False,
                    }])
        token = invitation.invitation_token
        self.assertTrue(token)

        self.assertIsNone(WebUser.lk_accept_invitation(stranger, token))
        self.assertIsNone(WebUser.lk_accept_invitation(invitee, 'wrong'))
        self.assertIsNone(WebUser.lk_accept_invitation(invitee, None))
        access = WebUser.lk_accept_invitation(invitee, token)

        self.assertEqual(access, invitation)
        access = Access(access.id)
        self.assertEqual(access.web_user, invitee)
        self.assertEqual(access.state, 'active')
        self.assertIsNone(access.invitation_token)
        self.assertTrue(access.has_right('readings'))
        self.assertFalse(access.has_right('payment'))
        self.assertIsNone(WebUser.lk_accept_invitation(invitee, token))

    @with_transaction()
    def test_consent_date_not_for_staff(self):
        "No staff member, the operator included, sets the consent date"
        pool = Pool()
        WebUser = pool.get('web.user')
        company = create_company()
        operator = create_staff('operator', company, ['group_operator'])
        user, = WebUser.create([{'email': 'subscriber@example.com'}])

        with Transaction().set_user(operator.id), check_access():
            with self.assertRaises(AccessError):
                WebUser.write([WebUser(user.id)], {
                        'lk_consent_date': dt.datetime(2026, 1, 1, 10)})
            with self.assertRaises(AccessError):
                WebUser.create([{
                            'email': 'forged@example.com',
                            'lk_consent_date': dt.datetime(2026, 1, 1, 10),
                            }])
            # the rest stays the operator's to write
            WebUser.write([WebUser(user.id)], {'email': 'new@example.com'})
            WebUser.create([{
                        'email': 'by-operator@example.com', 'active': False}])
        self.assertIsNone(WebUser(user.id).lk_consent_date)

    @with_transaction()
    def test_sign_in(self):
        "One answer for a wrong e-mail, a wrong password and a block"
        pool = Pool()
        WebUser = pool.get('web.user')
        from trytond.modules.lk_portal.exceptions import SignInError
        hash_ = WebUser.hash_password('Right-pass-1')
        valid, unconfirmed, blocked = WebUser.create([
                {'email': 'valid@example.com', 'email_valid': True,
                    'password_hash': hash_},
                {'email': 'unconfirmed@example.com', 'password_hash': hash_},
                {'email': 'blocked@example.com', 'email_valid': True,
                    'password_hash': hash_, 'blocked': True},
                ])
        with from_address('192.0.2.1'):
            self.assertEqual(
                WebUser.lk_sign_in(' Valid@Example.com ', 'Right-pass-1'),
                valid)
            self.assertIsNone(
                WebUser.lk_sign_in('valid@example.com', 'wrong'))
            self.assertIsNone(
                WebUser.lk_sign_in('nobody@example.com', 'Right-pass-1'))
            self.assertIsNone(
                WebUser.lk_sign_in('blocked@example.com', 'Right-pass-1'))
            with self.assertRaises(SignInError):
                WebUser.lk_sign_in('unconfirmed@example.com', 'Right-pass-1')
            # a wrong password of an unconfirmed address says nothing more
            self.assertIsNone(
                WebUser.lk_sign_in('unconfirmed@example.com', 'wrong'))

    @with_transaction()
    def test_sign_in_throttled_per_address(self):
        """Six failures from one network make it wait, not the subscriber
        elsewhere; a success forgets its network's failures"""
        pool = Pool()
        WebUser = pool.get('web.user')
        user, = WebUser.create([{
                    'email': 'target@example.com', 'email_valid': True,
                    'password_hash': WebUser.hash_password('Right-pass-1'),
                    }])
        with from_address('198.51.100.1'):
            for _ in range(6):
                self.assertIsNone(
                    WebUser.lk_sign_in('target@example.com', 'wrong'))
            wait = WebUser.lk_sign_in_wait('target@example.com')
            self.assertTrue(
                0 < wait <= config.getint('session', 'timeout'), wait)
            with self.assertRaises(RateLimitException):
                WebUser.lk_sign_in('target@example.com', 'Right-pass-1')
        with from_address('203.0.113.1'):
            self.assertEqual(WebUser.lk_sign_in_wait('target@example.com'), 0)
            for _ in range(5):
                WebUser.lk_sign_in('target@example.com', 'wrong')
            self.assertEqual(
                WebUser.lk_sign_in('target@example.com', 'Right-pass-1'),
                user)
            for _ in range(5):
                WebUser.lk_sign_in('target@example.com', 'wrong')
            self.assertEqual(
                WebUser.lk_sign_in('target@example.com', 'Right-pass-1'),
                user)

    def test_common_passwords(self):
        "The shipped list of common passwords is loaded in lower case"
        from trytond.modules.lk_portal.routes import common_passwords
        passwords = common_passwords()
        self.assertIn('password', passwords)
        self.assertIn('qwerty123', passwords)
        self.assertTrue(all(p == p.lower() for p in passwords))
        self.assertFalse(any(p.startswith('#') for p in passwords))


class LkPortalRouteTestCase(RouteTestCase):
    "Test the pages of lk_portal"
    module = 'lk_portal'

    def setUp(self):
        super().setUp()
        from trytond.modules.lk_portal import portal
        self.client = Client(portal.application)
        environ = patch.dict(os.environ, {'LK_PORTAL_DATABASE': DB_NAME})
        environ.start()
        self.addCleanup(environ.stop)
        if not config.has_section('lk_portal'):
            config.add_section('lk_portal')
        url = config.get('lk_portal', 'url', default='')
        config.set('lk_portal', 'url', 'https://lk.example.com')
        self.addCleanup(config.set, 'lk_portal', 'url', url)
        # web_user's mails link to the portal's pages
        for option, path in [
                ('email_validation_url', '/validate'),
                ('reset_password_url', '/reset')]:
            self.enterContext(set_config(
                    'web', option, 'https://lk.example.com' + path))

    def test_anonymous_pages(self):
        "A visitor gets the sign-in page, the public files, and no data"
        response = self.client.get('/login')
        self.assertEqual(response.status_code, 200)
        self.assertIn('action="/login"', response.get_data(as_text=True))
        self.assertEqual(response.headers['Cache-Control'], 'no-store')
        self.assertIsNotNone(self.client.get_cookie('lk_csrf'))
        for path in ['/', '/accounts/1', '/accounts/add', '/organizations']:
            response = self.client.get(path)
            self.assertEqual(response.status_code, 302, path)
            self.assertEqual(
                response.headers['Location'], f'/login?next={path}')
        response = self.client.get('/static/portal.css')
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.mimetype, 'text/css')
        response.close()
        self.assertEqual(self.client.get('/o/999999').status_code, 404)

    def test_registration(self):
        """Registration records the consent and mails a link of the
        configured address, whatever the Host header says"""
        page = self.client.get('/register', base_url='http://evil.example')
        token = CSRF.search(page.get_data(as_text=True))[1]
        with patch('trytond.modules.lk_base.mail.send_message') as send:
            response = self.client.post(
                '/register', base_url='http://evil.example', buffered=True,
                data={
                    'csrf_token': token, 'email': 'New@Example.com',
                    'password': 'Str0ng-pass-1', 'password2': 'Str0ng-pass-1',
                    'consent': '1'})
            # sent by a thread once the transaction committed
            for _ in range(100):
                if send.called:
                    break
                time.sleep(0.05)
        self.assertEqual(response.status_code, 200)
        (message, *_), _ = send.call_args
        self.assertEqual(message['To'], 'new@example.com')
        body = SMTPServer.text(message)
        self.assertNotIn('evil.example', body)
        link, *_ = re.findall(
            r'https://lk\.example\.com/validate\?token=\w+', body)

        with Transaction().start(DB_NAME, 0):
            WebUser = Pool().get('web.user')
            user, = WebUser.search([('email', '=', 'new@example.com')])
            self.assertTrue(user.lk_consent_date)
            self.assertFalse(user.email_valid)
        response = self.client.get(link.split('lk.example.com', 1)[1])
        self.assertEqual(response.status_code, 200)
        with Transaction().start(DB_NAME, 0):
            WebUser = Pool().get('web.user')
            user, = WebUser.search([('email', '=', 'new@example.com')])
            self.assertTrue(user.email_valid)

    def signed_in_owner(self, email, number, missing):
        """Sign in a new owner of a new account (number) in this database,
        where the model missing (of a feature) does not exist: the session
        key and the account's id"""
        with Transaction().start(DB_NAME, 0) as transaction:
            pool = Pool()
            WebUser = pool.get('web.user')
            Access = pool.get('lk.account.access')
            with self.assertRaises(KeyError):
                pool.get(missing)
            company = create_company()
            account = create_account(company, number)
            user, = WebUser.create([{
                        'email': email,
                        'email_valid': True}])
            Access.create([{
                        'web_user': user.id, 'account': account.id,
                        'role': 'owner'}])
            key = user.new_session()
            account_id = account.id
            transaction.commit()
        self.client.set_cookie('lk_session', key)
        return key, account_id

    def test_feature_not_activated(self):
        """Where lk_metering is not activated (this database), its pages,
        API operations, menu entry, home panel and account action do not
        exist, though the process has loaded its routes"""
        from trytond.modules.lk_metering import portal  # noqa: F401
        key, account_id = self.signed_in_owner(
            'boxed@example.com', '2001', 'lk.meter')
        home = self.client.get('/')
        self.assertEqual(home.status_code, 200)
        page = home.get_data(as_text=True)
        self.assertIn('2001', page)
        self.assertNotIn('/readings', page)
        account_page = self.client.get(f'/accounts/{account_id}')
        self.assertEqual(account_page.status_code, 200)
        self.assertNotIn('readings', account_page.get_data(as_text=True))
        for path in ['/readings', f'/accounts/{account_id}/readings',
                '/readings/1']:
            self.assertEqual(self.client.get(path).status_code, 404, path)
        headers = {'Authorization': f'Bearer {key}'}
        response = self.client.get(
            f'/api/v1/accounts/{account_id}/meters', headers=headers)
        self.assertEqual(response.status_code, 404)
        self.assertEqual(response.mimetype, 'application/problem+json')
        document = self.client.get('/api/v1/openapi.json').json
        self.assertIn('/api/v1/accounts', document['paths'])
        self.assertFalse([
                p for p in document['paths'] if 'meter' in p])

    def test_billing_not_activated(self):
        """Where lk_billing is not activated (this database), no debt shows
        in the header nor as a panel, menu entry or account action, and its
        pages and API operations do not exist"""
        from trytond.modules.lk_billing import portal  # noqa: F401
        key, account_id = self.signed_in_owner(
            'unbilled@example.com', '2002', 'lk.balance')
        for path in ['/', f'/accounts/{account_id}']:
            response = self.client.get(path)
            self.assertEqual(response.status_code, 200)
            page = response.get_data(as_text=True)
            self.assertIn('2002', page)
            self.assertNotIn('data-header', page)
            self.assertNotIn('/debt', page)
            self.assertNotIn('/history', page)
        for path in ['/debt', f'/accounts/{account_id}/history',
                f'/accounts/{account_id}/charges/2026-01',
                f'/accounts/{account_id}/documents/2026-01.pdf']:
            self.assertEqual(self.client.get(path).status_code, 404, path)
        headers = {'Authorization': f'Bearer {key}'}
        for path in ['/api/v1/debt', f'/api/v1/accounts/{account_id}/history',
                f'/api/v1/accounts/{account_id}/charges?period=2026-01',
                f'/api/v1/accounts/{account_id}/documents/2026-01.pdf']:
            response = self.client.get(path, headers=headers)
            self.assertEqual(response.status_code, 404, path)
            self.assertEqual(response.mimetype, 'application/problem+json')
        document = self.client.get('/api/v1/openapi.json').json
        self.assertFalse([
                p for p in document['paths']
                if p.endswith(('/debt', '/history', '/charges', '.pdf'))])
        self.assertNotIn('Money', document['components']['schemas'])


del ModuleTestCase, RouteTestCase
