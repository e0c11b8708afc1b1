# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.

import datetime
from email import message_from_bytes, policy
from unittest.mock import patch

from trytond.exceptions import RateLimitException, UserError
from trytond.model.exceptions import AccessError
from trytond.model.modelview import AccessButtonError
from trytond.modules.company.tests import CompanyTestMixin, create_company
from trytond.modules.lk_base import mail as mail_module
from trytond.modules.lk_base.company import _bank_account_key_valid
from trytond.modules.lk_base.portal import as_subscriber
from trytond.pool import Pool
from trytond.tests.test_tryton import ModuleTestCase, with_transaction
from trytond.transaction import Transaction

from .helpers import (
    LkModuleTestMixin, as_staff, create_account, create_organizations,
    create_shared_subscriber, create_staff, create_subscriber,
    create_web_user, email_text, grant)


def last_mail(to):
    "The last message queued to the address, rendered"
    Outbox = Pool().get('lk.mail.outbox')
    outbox, = Outbox.search(
        [('to', '=', to)], order=[('id', 'DESC')], limit=1)
    text = outbox.message or outbox.render_message()
    return message_from_bytes(
        text.encode('utf-8'), policy=policy.default)


class LkBaseTestCase(LkModuleTestMixin, CompanyTestMixin, ModuleTestCase):
    "Test lk_base module"
    module = 'lk_base'

    @property
    def _skip_company_rule(self):
        return super()._skip_company_rule | {
            # The parent of an organization is the organization's own
            # record, guarded by the rule on company.company itself
            ('company.company', 'parent'),
            # Subscriber users are shared by organizations: the rule of
            # staff ORs the organization that created them with those of
            # the accounts they hold (rule_group_web_user_companies)
            ('web.user', 'company'),
            }

    def test_bank_account_key(self):
        "Test the control key of bank accounts"
        # Real details of a Samara bank branch
        self.assertTrue(_bank_account_key_valid(
                '043601607', '30101810200000000607', True))
        self.assertTrue(_bank_account_key_valid(
                '043601607', '40702810154400000001'))
        self.assertFalse(_bank_account_key_valid(
                '043601607', '40702810254400000001'))

    @with_transaction()
    def test_companies_include_sub_organizations(self):
        "Test staff company list includes the sub-organizations"
        pool = Pool()
        User = pool.get('res.user')
        parent, child, grandchild, other = create_organizations(
            "Child", "Grandchild", "Other")
        child.parent = parent
        grandchild.parent = child
        type(child).save([child, grandchild])
        staff = create_staff('staff', parent, ['group_readings'])
        child_staff = create_staff('child', child, ['group_readings'])

        with Transaction().set_user(staff.id):
            self.assertEqual(
                sorted(User.get_companies()),
                sorted([parent.id, child.id, grandchild.id]))
        with Transaction().set_user(child_staff.id):
            self.assertEqual(
                sorted(User.get_companies()),
                sorted([child.id, grandchild.id]))
            self.assertNotIn(other.id, User.get_companies())

    @with_transaction()
    def test_operator_companies(self):
        "Test the operator's company list holds every organization"
        pool = Pool()
        User = pool.get('res.user')
        company, other = create_organizations("Other")
        operator = create_staff('operator', company, ['group_operator'])

        with Transaction().set_user(operator.id):
            self.assertEqual(
                set(User.get_companies()), {company.id, other.id})

    @with_transaction()
    def test_company_list_follows_new_sub_organization(self):
        "Test a new sub-organization shows up in the staff company list"
        pool = Pool()
        User = pool.get('res.user')
        Company = pool.get('company.company')
        parent = create_company(name="Parent")
        staff = create_staff('staff', parent, ['group_readings'])
        with Transaction().set_user(staff.id):
            self.assertEqual(list(User.get_companies()), [parent.id])
        child = create_company(name="Child", currency=parent.currency)
        Company.write([child], {'parent': parent.id})
        with Transaction().set_user(staff.id):
            self.assertEqual(
                sorted(User.get_companies()), sorted([parent.id, child.id]))

    @with_transaction()
    def test_account_write_needs_data_edit(self):
        "Test staff without «Ручное редактирование данных» cannot change"
        pool = Pool()
        Account = pool.get('lk.account')
        company = create_company()
        account = create_account(company, '1')
        clerk = create_staff('clerk', company, ['group_readings'])
        editor = create_staff('editor', company, ['group_data_edit'])

        with as_staff(clerk):
            self.assertEqual(Account.search([]), [account])
            with self.assertRaises(AccessButtonError):
                Account.close([Account(account.id)])
        self.assertRefusedThenAllowed(clerk, editor,
            lambda: Account.write([Account(account.id)], {'holder': "X"}))
        self.assertEqual(Account(account.id).holder, "X")

    @with_transaction()
    def test_account_invisible_to_other_organization(self):
        "Test another organization's staff neither see nor change"
        pool = Pool()
        Account = pool.get('lk.account')
        Building = pool.get('lk.building')
        company, other = create_organizations("Other")
        account = create_account(company, '1')
        staff = create_staff('staff', other, ['group_data_edit'])

        with as_staff(staff):
            self.assertEqual(Account.search([]), [])
            self.assertEqual(Building.search([]), [])
            with self.assertRaises(AccessError):
                Account.read([account.id], ['number'])
            with self.assertRaises(AccessError):
                Account.write([Account(account.id)], {'holder': "X"})
            with self.assertRaises(AccessError):
                Account.delete([Account(account.id)])
            with self.assertRaises(AccessError):
                Building.write([account.building], {'house': "2"})

    @with_transaction()
    def test_account_without_right_refused(self):
        "Test a user without any lk right cannot read accounts"
        pool = Pool()
        Account = pool.get('lk.account')
        company = create_company()
        create_account(company, '1')
        nobody = create_staff('nobody', company, [])
        with as_staff(nobody), self.assertRaises(AccessError):
            Account.search([])

    @with_transaction()
    def test_parent_only_changed_by_operator(self):
        "Test staff cannot move their organization under another one"
        pool = Pool()
        Company = pool.get('company.company')
        company, other = create_organizations("Other")
        staff = create_staff('staff', company, ['group_organization'])

        with as_staff(staff):
            Company.write([Company(company.id)], {'short_name': "УК"})
            with self.assertRaises(AccessError):
                Company.write([Company(company.id)], {'parent': other.id})

    @with_transaction()
    def test_account_closing_needs_date(self):
        "Test a closed account needs its closing date"
        pool = Pool()
        Account = pool.get('lk.account')
        account = create_account(create_company(), '1')
        with self.assertRaises(UserError):
            Account.write([account], {'state': 'closed'})

    @with_transaction()
    def test_portal_sees_only_linked_accounts(self):
        "Test the portal user sees the accounts of the web user only"
        pool = Pool()
        Account = pool.get('lk.account')
        Access = pool.get('lk.account.access')
        company = create_company()
        mine = create_account(company, '1')
        theirs = create_account(company, '2')
        me = create_web_user('me@example.com')
        access = grant(me, mine)
        create_subscriber(theirs, 'other@example.com')

        def visible():
            with as_subscriber(me):
                return [a.number for a in Account.search([])]

        self.assertEqual(visible(), ['1'])
        with as_subscriber(me):
            with self.assertRaises(AccessError):
                Account.read([theirs.id], ['number'])
            with self.assertRaises(AccessError):
                Account.write([Account(mine.id)], {'holder': "X"})
        Access.block([access])
        self.assertEqual(visible(), [])
        Access.unblock([access])
        Access.write([access], {'role': 'delegate'})
        Access.write([access], {'end_date': datetime.date(2000, 1, 1)})
        self.assertEqual(visible(), [])
        Access.delete([access])
        self.assertEqual(visible(), [])

    @with_transaction()
    def test_portal_revoke(self):
        "Test in the portal an owner revokes delegates, a delegate only self"
        pool = Pool()
        Access = pool.get('lk.account.access')
        account = create_account(create_company(), '1')
        owner = create_subscriber(account)
        delegation, other_delegation = [
            grant(create_web_user(email), account, 'delegate',
                right_readings=True)
            for email in ['delegate@example.com', 'other@example.com']]
        with as_subscriber(delegation.web_user):
            # neither the owner's access nor the other delegate's
            self.assertEqual(Access.search([]), [Access(delegation.id)])
            with self.assertRaises(AccessError):
                Access.revoke([Access(other_delegation.id)])
            Access.revoke([Access(delegation.id)])
        with as_subscriber(owner):
            Access.revoke([Access(other_delegation.id)])
        self.assertEqual(
            [Access(delegation.id).state, Access(other_delegation.id).state],
            ['revoked', 'revoked'])

    @with_transaction()
    def test_claim_with_access_code(self):
        "Test linking an account with the code printed on its bills"
        pool = Pool()
        Account = pool.get('lk.account')
        Access = pool.get('lk.account.access')
        company = create_company()
        account = create_account(company, '1')
        Account.generate_access_code([account])
        user = create_web_user('me@example.com')

        with self.assertRaises(UserError):
            Access.claim(user, company, '1', 'WRONG-CODE')
        access = Access.claim(
            user, company, ' 1 ', account.access_code.lower())
        self.assertEqual(
            (access.role, access.state, access.web_user, access.account),
            ('owner', 'active', user, account))
        self.assertTrue(access.has_right('payment'))

    @with_transaction()
    def test_request_alike_for_unknown_number(self):
        "Test a request for a number that is no account is kept alike"
        pool = Pool()
        Access = pool.get('lk.account.access')
        WebUser = pool.get('web.user')
        company, other = create_organizations("Other")
        company.registration_policy = 'approval'
        company.save()
        account = create_account(company, '1')
        create_account(other, '999')
        real_user = create_web_user('real@example.com')
        unknown_user = create_web_user('unknown@example.com')
        staff = create_staff('users', company, ['group_subscriber_users'])
        other_staff = create_staff(
            'other', other, ['group_subscriber_users'])

        with as_subscriber(real_user):
            real = Access.request(real_user, company, ' 1 ', "Собственник")
        with as_subscriber(unknown_user):
            unknown = Access.request(
                unknown_user, company, ' 999 ', "Собственник")
            # the subscriber sees their own request like any other
            self.assertEqual(Access.search([]), [unknown])
        self.assertEqual([
                (a.web_user, a.company, a.requested_number, a.role, a.state,
                    a.request_message) for a in [real, unknown]], [
                (u, company, n, 'owner', 'requested', "Собственник")
                for u, n in [(real_user, '1'), (unknown_user, '999')]])
        self.assertEqual((real.account, unknown.account), (account, None))

        with as_staff(staff):
            # the queue of «Requests», with the number as typed and the
            # requesting users
            requests = Access.search(
                [('state', '=', 'requested')], order=[('id', 'ASC')])
            self.assertEqual(
                [(a.requested_number, a.web_user.email) for a in requests],
                [('1', 'real@example.com'), ('999', 'unknown@example.com')])
            self.assertEqual(
                sorted(u.email for u in WebUser.search([])),
                ['real@example.com', 'unknown@example.com'])
            with self.assertRaises(UserError) as context:
                Access.approve([Access(unknown.id)])
            self.assertIn('"999"', context.exception.message)
            self.assertIn("Decline it", context.exception.message)
            # no account of another organization, even with its number
            with self.assertRaises(AccessError):
                Access.write([Access(unknown.id)], {
                        'account': Access.find_account(other, '999').id})
            Access.write([Access(unknown.id)], {
                    'decline_reason': "Такого лицевого счёта нет."})
            Access.decline([Access(unknown.id)])
        message = last_mail('unknown@example.com')
        self.assertEqual(message['To'], 'unknown@example.com')
        self.assertIn('999', email_text(message))
        self.assertIn("Такого лицевого счёта нет.", email_text(message))
        self.assertEqual(Access(unknown.id).state, 'declined')
        with as_staff(other_staff, other):
            self.assertEqual(Access.search([]), [])
            self.assertEqual(WebUser.search([]), [])

    @with_transaction()
    def test_request_mistyped_number_linked_by_staff(self):
        "Test staff approve a request once they chose the account meant"
        pool = Pool()
        Access = pool.get('lk.account.access')
        company = create_company()
        account = create_account(company, '1000001')
        user = create_web_user('me@example.com')
        staff = create_staff('users', company, ['group_subscriber_users'])
        request = Access.request(user, company, '100001')

        with as_staff(staff):
            Access.write([Access(request.id)], {'account': account.id})
            with patch.object(mail_module.Outbox, 'enqueue'):
                Access.approve([Access(request.id)])
            # an approved access keeps its account
            with self.assertRaises(AccessError):
                Access.write([Access(request.id)], {'account': None})
        request = Access(request.id)
        self.assertEqual(
            (request.state, request.account, request.requested_number),
            ('active', account, '100001'))
        self.assertTrue(request.has_right('payment'))

    @with_transaction()
    def test_request_once_per_number(self):
        "Test asking again for a number changes nothing, real or not"
        pool = Pool()
        Access = pool.get('lk.account.access')
        company = create_company()
        create_account(company, '1')
        user = create_web_user('me@example.com')
        other = create_web_user('other@example.com')

        with as_subscriber(user):
            requests = [
                Access.request(user, company, number)
                for number in ['1', '999'] for _ in range(3)]
            self.assertEqual(requests, [requests[0]] * 3 + [requests[3]] * 3)
            # throttled before anything looks the number up
            self.assertRefused(
                lambda number: Access.request(user, company, number),
                ['1', '999'], RateLimitException)
        self.assertEqual(
            sorted((a.requested_number, a.state) for a in Access.search(
                    [('web_user', '=', user.id)])),
            [('1', 'requested'), ('999', 'requested')])
        # per user
        with as_subscriber(other):
            self.assertEqual(
                Access.request(other, company, '999').web_user, other)
        # the database holds the rule too
        with self.assertRaises(UserError):
            Access.create([{
                        'web_user': user.id, 'company': company.id,
                        'requested_number': '999', 'role': 'owner',
                        'state': 'requested'}])

    @with_transaction()
    def test_request_checked_before_lookup(self):
        "Test a refused request is refused alike for a real number or not"
        pool = Pool()
        Access = pool.get('lk.account.access')
        company = create_company()
        create_account(company, '1')
        user = create_web_user('me@example.com')

        def refusal(number, message):
            with as_subscriber(user), self.assertRaises(UserError) as cm:
                Access.request(user, company, number, message)
            return cm.exception.message.replace(number.strip(), 'N')
        for number, message, error in [
                ('{}', 'x' * 2001, "2000"),
                ('{}' + 'x' * 50, None, "50"),
                ]:
            with self.subTest(error=error):
                real = refusal(number.format('1'), message)
                self.assertIn(error, real)
                self.assertEqual(real, refusal(number.format('999'), message))
        with as_subscriber(user), self.assertRaises(UserError):
            Access.request(user, company, '  ')
        self.assertEqual(Access.search([]), [])
        grant(user, Access.find_account(company, '1'))
        # who has access to the account is told so
        with as_subscriber(user), self.assertRaises(UserError):
            Access.request(user, company, '1')

    @with_transaction()
    def test_web_user_seen_by_staff_of_its_organizations(self):
        "Test staff see the web users of their organizations' accounts only"
        pool = Pool()
        WebUser = pool.get('web.user')
        company, other = create_organizations("Other")
        account = create_account(company, '1')
        holder = create_subscriber(account, 'holder@example.com')
        grant(create_web_user('asking@example.com'), account,
            state='requested')
        create_web_user('unlinked@example.com')
        staff = create_staff('staff', company, ['group_readings'])
        other_staff = create_staff(
            'other', other, ['group_subscriber_users'])
        operator = create_staff('operator', other, ['group_operator'])

        with as_staff(staff):
            self.assertEqual(
                sorted(u.email for u in WebUser.search([])),
                ['asking@example.com', 'holder@example.com'])
        with as_staff(other_staff, other):
            self.assertEqual(WebUser.search([]), [])
            with self.assertRaises(AccessError):
                WebUser.read([holder.id], ['email'])
            with self.assertRaises(AccessError):
                WebUser.write([WebUser(holder.id)], {'email': 'x@example.com'})
            # The users they create stay theirs
            with patch.object(mail_module.Outbox, 'enqueue'):
                own, = WebUser.create([{'email': 'own@example.com'}])
            self.assertEqual(own.company, other)
            self.assertEqual(WebUser.search([]), [own])
        with as_staff(operator):
            self.assertEqual(WebUser.search([], count=True), 4)

    @with_transaction()
    def test_web_user_secrets_hidden_from_staff(self):
        "Test staff can neither read nor search the web user's secrets"
        pool = Pool()
        WebUser = pool.get('web.user')
        company = create_company()
        user = create_web_user(
            'me@example.com', company=company.id, password='Otradny-2026!')
        staff = create_staff('staff', company, ['group_operator'])
        with as_staff(staff):
            self.assertEqual(
                WebUser.read([user.id], ['email'])[0]['email'],
                'me@example.com')
            for name in ['password_hash', 'reset_password_token',
                    'email_token']:
                with self.subTest(name=name):
                    with self.assertRaises(AccessError):
                        WebUser.read([user.id], [name])
                    with self.assertRaises(AccessError):
                        WebUser.search([(name, 'like', 'a%')])
        self.assertTrue(
            WebUser.authenticate('me@example.com', 'Otradny-2026!'))

    @with_transaction()
    def test_web_user_block(self):
        "Test the operator's block ends the sessions and refuses the sign-in"
        pool = Pool()
        WebUser = pool.get('web.user')
        Session = pool.get('web.user.session')
        company = create_company()
        user = create_web_user(
            'me@example.com', company=company.id, password='Otradny-2026!')
        key = user.new_session()
        self.assertEqual(WebUser.get_user(key), user)
        self.assertTrue(user.last_sign_in)
        staff = create_staff('staff', company, ['group_operator'])
        clerk = create_staff('clerk', company, ['group_readings'])

        self.assertRefusedThenAllowed(clerk, staff,
            lambda: WebUser.block([WebUser(user.id)]), AccessButtonError)

        self.assertTrue(WebUser(user.id).blocked)
        self.assertEqual(Session.search([('user', '=', user.id)]), [])
        self.assertIsNone(WebUser.get_user(key))
        self.assertIsNone(
            WebUser.authenticate('me@example.com', 'Otradny-2026!'))
        # Sessions opened anyhow are refused too
        self.assertIsNone(WebUser.get_user(WebUser(user.id).new_session()))

        with as_staff(staff):
            WebUser.unblock([WebUser(user.id)])
        self.assertEqual(
            WebUser.authenticate('me@example.com', 'Otradny-2026!'), user)

    @with_transaction()
    def test_web_user_invited_when_created_by_staff(self):
        "Test a web user created by staff gets a link to set the password"
        pool = Pool()
        WebUser = pool.get('web.user')
        company = create_company()
        staff = create_staff('staff', company, ['group_subscriber_users'])

        by_code = create_web_user('code@example.com')
        self.assertFalse(by_code.reset_password_token)
        with as_staff(staff, company):
            invited, = WebUser.create([{'email': 'invited@example.com'}])
        message = last_mail('invited@example.com')
        self.assertEqual(Pool().get('lk.mail.outbox').search_count([
                    ('to', '=', 'invited@example.com')]), 1)
        self.assertEqual(message['To'], 'invited@example.com')
        invited = WebUser(invited.id)
        self.assertTrue(invited.reset_password_token)
        self.assertGreater(
            invited.reset_password_token_expire,
            datetime.datetime.now() + datetime.timedelta(days=6))

        self.assertTrue(WebUser.set_password_token(
                'invited@example.com', invited.reset_password_token,
                'Otradny-2026!'))
        self.assertTrue(WebUser(invited.id).email_valid)

    @with_transaction()
    def test_web_user_account_count(self):
        "Test staff count the accounts of their organizations only"
        pool = Pool()
        WebUser = pool.get('web.user')
        company, other, user = create_shared_subscriber()
        staff = create_staff('staff', company, ['group_readings'])

        self.assertEqual(WebUser(user.id).lk_account_count, 2)
        with as_staff(staff):
            self.assertEqual(WebUser(user.id).lk_account_count, 1)

    @with_transaction()
    def test_staff_cannot_take_over_shared_subscriber(self):
        "Test staff of one organization cannot take over a shared subscriber"
        pool = Pool()
        WebUser = pool.get('web.user')
        company, other, user = create_shared_subscriber()
        staff = create_staff('users', company, ['group_subscriber_users'])
        operator = create_staff('operator', other, ['group_operator'])

        with as_staff(staff, company):
            self.assertRefused(
                lambda values: WebUser.write([WebUser(user.id)], values), [
                    {'password': 'Taken-over-2026!'},
                    {'password_hash': WebUser.hash_password('Taken-2026!')},
                    {'email': 'staff@example.com'},
                    {'email_valid': False},
                    {'active': False},
                    {'blocked': True},
                    {'company': company.id},
                    ])
            # a reset link goes to the subscriber's own address
            WebUser.reset_password([WebUser(user.id)])
        self.assertEqual(
            last_mail('shared@example.com')['To'], 'shared@example.com')
        user = WebUser(user.id)
        self.assertEqual(
            (user.email, user.email_valid, user.active, user.blocked,
                user.company),
            ('shared@example.com', True, True, False, None))
        self.assertEqual(
            WebUser.authenticate('shared@example.com', 'Otradny-2026!'), user)

        with as_staff(operator):
            WebUser.write([WebUser(user.id)], {'email': 'new@example.com'})
        self.assertEqual(WebUser(user.id).email, 'new@example.com')

    @with_transaction()
    def test_staff_change_email_of_their_invited_user(self):
        "Test staff fix the e-mail of their user only until it is shared"
        pool = Pool()
        WebUser = pool.get('web.user')
        company, other = create_organizations("Other")
        staff = create_staff('users', company, ['group_subscriber_users'])

        def write_email(user, email):
            with as_staff(staff, company), \
                    patch.object(mail_module.Outbox, 'enqueue'):
                WebUser.write([WebUser(user.id)], {'email': email})

        account = create_account(company, '1')
        with as_staff(staff, company), \
                patch.object(mail_module.Outbox, 'enqueue'):
            invited, chosen = WebUser.create([
                    {'email': 'ivanov@exmaple.com'},
                    {'email': 'petrov@example.com'},
                    ])
            grant(invited, account)
        write_email(invited, 'ivanov@example.com')
        self.assertEqual(WebUser(invited.id).email, 'ivanov@example.com')

        # once the user holds another organization's account, or chose a
        # password, the e-mail is the subscriber's
        grant(invited, create_account(other, '2'))
        WebUser.write([chosen], {
                'password_hash': WebUser.hash_password('Otradny-2026!')})
        self.assertRefused(
            lambda user: write_email(user, 'staff@example.com'),
            [invited, chosen])

    @with_transaction()
    def test_staff_create_web_user_without_identity(self):
        "Test staff create users without password, for their organizations"
        pool = Pool()
        WebUser = pool.get('web.user')
        company, other = create_organizations("Other")
        staff = create_staff('users', company, ['group_subscriber_users'])

        def create(values):
            with as_staff(staff, company), \
                    patch.object(mail_module.Outbox, 'enqueue'):
                WebUser.create([values])

        self.assertRefused(create, [
                {'email': 'new0@example.com', 'password': 'Otradny-2026!'},
                {'email': 'new1@example.com', 'email_valid': True},
                {'email': 'new2@example.com', 'blocked': True},
                {'email': 'new3@example.com', 'company': other.id},
                ])

    @with_transaction()
    def test_staff_block_accesses_of_their_organization(self):
        "Test staff block the accesses to their accounts, not the user"
        pool = Pool()
        WebUser = pool.get('web.user')
        Access = pool.get('lk.account.access')
        company, other, user = create_shared_subscriber()
        key = user.new_session()
        staff = create_staff('users', company, ['group_subscriber_users'])
        operator = create_staff('operator', other, ['group_operator'])

        def states():
            return sorted(
                (a.account.company.id, a.state)
                for a in Access.search([('web_user', '=', user.id)]))

        with as_staff(staff):
            WebUser.block([WebUser(user.id)])
            self.assertTrue(WebUser(user.id).lk_accesses_blocked)
        self.assertEqual(
            states(), sorted([(company.id, 'blocked'), (other.id, 'active')]))
        self.assertFalse(WebUser(user.id).blocked)
        self.assertEqual(WebUser.get_user(key), user)

        with as_staff(staff):
            WebUser.unblock([WebUser(user.id)])
        self.assertEqual(
            states(), sorted([(company.id, 'active'), (other.id, 'active')]))

        # the operator's block is everywhere: only the operator lifts it
        with as_staff(operator):
            WebUser.block([WebUser(user.id)])
        self.assertTrue(WebUser(user.id).blocked)
        self.assertIsNone(WebUser.get_user(key))
        with as_staff(staff), self.assertRaises(AccessError):
            WebUser.unblock([WebUser(user.id)])
        self.assertTrue(WebUser(user.id).blocked)

    @with_transaction()
    def test_web_user_seen_as_their_organization(self):
        "Test staff see a shared user's accesses to their accounts only"
        pool = Pool()
        WebUser = pool.get('web.user')
        company, other, user = create_shared_subscriber()
        staff = create_staff('users', company, ['group_subscriber_users'])

        with as_staff(staff):
            # as the client reads them
            values, = WebUser.read(
                [user.id], ['lk_accesses.account.number', 'lk_account_count'])
        self.assertEqual(
            [a['account.']['number'] for a in values['lk_accesses.']], ['1'])
        self.assertEqual(values['lk_account_count'], 1)

    @with_transaction()
    def test_access_links_only_readable_users(self):
        "Test staff cannot link an account to a subscriber they do not see"
        pool = Pool()
        WebUser = pool.get('web.user')
        Access = pool.get('lk.account.access')
        company, other = create_organizations("Other")
        account = create_account(company, '1')
        stranger = create_subscriber(
            create_account(other, '2'), 'stranger@example.com')
        own = create_web_user('own@example.com', company=company.id)
        staff = create_staff('users', company, ['group_subscriber_users'])

        with as_staff(staff):
            self.assertRefused(
                lambda values: Access.create([{
                            'account': account.id, 'role': 'owner',
                            **values}]), [
                    {'web_user': stranger.id},
                    {'web_user': own.id, 'role': 'delegate',
                        'granted_by': stranger.id},
                    ])
            self.assertEqual(
                [u.email for u in WebUser.search([])], ['own@example.com'])
            access = grant(own, account)
            self.assertEqual(access.state, 'active')

    @with_transaction()
    def test_access_changes_over_rpc(self):
        "Test staff change only the rights and dates of a live access"
        pool = Pool()
        Access = pool.get('lk.account.access')
        company = create_company()
        account = create_account(company, '1')
        other_account = create_account(company, '2')
        holder = create_web_user('holder@example.com', company=company.id)
        other = create_web_user('other@example.com', company=company.id)
        access = grant(holder, account, 'delegate', right_payment=False)
        staff = create_staff('users', company, ['group_subscriber_users'])

        def write(values):
            Access.write([Access(access.id)], values)

        with as_staff(staff):
            self.assertRefused(write, [
                    {'account': other_account.id},
                    {'web_user': other.id},
                    {'role': 'owner'},
                    {'state': 'revoked'},
                    {'decline_reason': "Нет"},
                    ])
            write({'right_payment': True})
            Access.revoke([Access(access.id)])
            with self.assertRaises(AccessError):
                write({'right_payment': False})
        access = Access(access.id)
        self.assertEqual(
            (access.account, access.web_user, access.role, access.state,
                access.right_payment),
            (account, holder, 'delegate', 'revoked', True))

    @with_transaction()
    def test_access_end_date_not_in_the_past(self):
        "Test an end date given in the past is refused, today is not"
        pool = Pool()
        Access = pool.get('lk.account.access')
        Date = pool.get('ir.date')
        account = create_account(create_company(), '1')
        owner = create_subscriber(account)
        today = Date.today()
        yesterday = today - datetime.timedelta(days=1)

        def invite(end_date):
            invitation, = Access.create([{
                        'account': account.id, 'role': 'delegate',
                        'state': 'invited',
                        'invitation_email': 'friend@example.com',
                        'granted_by': owner.id, 'end_date': end_date}])
            return invitation

        with as_subscriber(owner):
            with self.assertRaisesRegex(
                    UserError, yesterday.strftime('%d.%m.%Y')):
                invite(yesterday)
            invitation = invite(today)
            with self.assertRaises(UserError):
                Access.write([invitation], {
                        'end_date': datetime.date(1, 1, 1)})
        self.assertEqual(Access(invitation.id).end_date, today)

    @with_transaction()
    def test_portal_changes_own_user_only(self):
        "Test the portal changes no other user than the signed-in one"
        pool = Pool()
        WebUser = pool.get('web.user')
        account = create_account(create_company(), '1')
        owner = create_subscriber(account)
        delegate = create_web_user('delegate@example.com')
        grant(delegate, account, 'delegate')
        with as_subscriber(owner), self.assertRaises(AccessError):
            WebUser.write(
                [WebUser(delegate.id)], {'email': 'taken@example.com'})
        self.assertEqual(WebUser(delegate.id).email, 'delegate@example.com')

    @with_transaction()
    def test_web_user_invisible_without_lk_right(self):
        "Test a backend user without an lk right reads no subscriber user"
        pool = Pool()
        WebUser = pool.get('web.user')
        company = create_company()
        user = create_web_user('me@example.com', company=company.id)
        nobody = create_staff('nobody', company, [])
        with as_staff(nobody):
            self.assertEqual(WebUser.search([]), [])
            with self.assertRaises(AccessError):
                WebUser.read([user.id], ['email'])

    @with_transaction()
    def test_preferences_company_among_the_users(self):
        "Test staff work only for their organizations and sub-organizations"
        pool = Pool()
        User = pool.get('res.user')
        company, child, other = create_organizations("Child", "Other")
        child.parent = company
        child.save()
        staff = create_staff('staff', company, ['group_readings'])

        with Transaction().set_user(staff.id):
            self.assertRefused(User.set_preferences, [
                    {'company': other.id},
                    {'companies': [company.id, other.id]},
                    {'company': "x"},
                    ])
            self.assertEqual(User(staff.id).company, company)
            User.set_preferences({'company': child.id})
        self.assertEqual(User(staff.id).company, child)
        self.assertEqual(list(User(staff.id).companies), [company])

    @with_transaction()
    def test_email_syntax(self):
        "Test e-mail addresses are plain addresses"
        pool = Pool()
        Access = pool.get('lk.account.access')
        Company = pool.get('company.company')
        company = create_company()
        account = create_account(company, '1')

        for email in [
                'd">x@example.com', 'a b@example.com', '<a@example.com>',
                'a@example', 'a@example.com\nBcc: b@example.com',
                'a@' + 'x' * 64 + '.com']:
            with self.subTest(email=email):
                with self.assertRaises(UserError):
                    create_web_user(email)
                with self.assertRaises(UserError):
                    Access.create([{
                                'account': account.id, 'role': 'delegate',
                                'state': 'invited',
                                'invitation_email': email}])
                with self.assertRaises(UserError):
                    Company.write([company], {'email': email})
        user = create_web_user('Иван.Петров@почта.рф')
        self.assertEqual(user.email, 'иван.петров@почта.рф')

    @with_transaction()
    def test_text_length(self):
        "Test a 100,000 character e-mail, name or message is refused"
        company = create_company()
        account = create_account(company, '1')
        user = create_web_user('me@example.com')
        access = grant(user, account, state='requested')
        long_ = 'x' * 100_000

        for record, name, value in [
                (user, 'email', long_ + '@example.com'),
                (company, 'description', long_),
                (access, 'decline_reason', long_),
                ]:
            with self.subTest(field=name):
                with self.assertRaises(UserError):
                    type(record).write([record], {name: value})
        # last: PostgreSQL refuses it in the column, which ends the
        # transaction
        with self.assertRaises(UserError):
            type(account).write([account], {'holder': long_})


del ModuleTestCase
