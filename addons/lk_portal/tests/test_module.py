# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.modules.company.tests import CompanyTestMixin, create_company
from trytond.modules.lk_base.tests import create_account
from trytond.pool import Pool
from trytond.tests.test_tryton import ModuleTestCase, with_transaction


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
    def test_consent_date_readonly(self):
        "The consent date is set by the registration only"
        pool = Pool()
        WebUser = pool.get('web.user')
        self.assertTrue(WebUser.lk_consent_date.readonly)

    def test_common_passwords(self):
        "The shipped list of common passwords is loaded in lower case"
        from trytond.modules.lk_portal.routes import common_passwords
        passwords = common_passwords()
        self.assertIn('password', passwords)
        self.assertIn('qwerty123', passwords)
        self.assertTrue(all(p == p.lower() for p in passwords))
        self.assertFalse(any(p.startswith('#') for p in passwords))

    def test_routes_registered(self):
        "Every page of the portal answers its path"
        from trytond.modules.lk_portal import portal
        for path in [
                '/', '/login', '/register', '/validate', '/reset-request',
                '/reset', '/accounts/1', '/accounts/add',
                '/accounts/1/delegates', '/invitations/abc',
                '/organizations', '/o/1', '/lang/en', '/static/portal.css',
                '/sw.js', '/manifest.webmanifest']:
            self.assertTrue(portal.owns(path), path)
        self.assertFalse(portal.owns('/admin/'))


del ModuleTestCase
