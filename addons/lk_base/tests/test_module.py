# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.

import datetime
from unittest.mock import patch

from trytond.exceptions import RateLimitException, UserError
from trytond.model.exceptions import AccessError
from trytond.model.modelview import AccessButtonError
from trytond.modules.company.tests import CompanyTestMixin, create_company
from trytond.modules.lk_base import access as access_module
from trytond.modules.lk_base.company import _bank_account_key_valid
from trytond.modules.lk_base.portal import as_subscriber
from trytond.modules.web_user import user as web_user_module
from trytond.pool import Pool
from trytond.tests.test_tryton import ModuleTestCase, with_transaction
from trytond.transaction import Transaction, check_access


def create_staff(login, company, rights):
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


def email_text(message):
    "The text parts of the e-mail message, decoded"
    return ''.join(
        part.get_payload(decode=True).decode(
            part.get_content_charset() or 'utf-8')
        for part in message.walk()
        if part.get_content_maintype() == 'text')


def create_shared_subscriber(company, other):
    """A subscriber user owning an account of each organization, with a
    password and a confirmed e-mail"""
    pool = Pool()
    WebUser = pool.get('web.user')
    Access = pool.get('lk.account.access')
    user, = WebUser.create([{
                'email': 'shared@example.com', 'email_valid': True,
                'password': 'Otradny-2026!',
                }])
    Access.create([{
                'web_user': user.id, 'role': 'owner',
                'account': create_account(c, n).id,
                } for c, n in [(company, '1'), (other, '2')]])
    return user


class LkBaseTestCase(CompanyTestMixin, ModuleTestCase):
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
        parent = create_company(name="Parent")
        child = create_company(name="Child", currency=parent.currency)
        grandchild = create_company(
            name="Grandchild", currency=parent.currency)
        other = create_company(name="Other", currency=parent.currency)
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
        company = create_company()
        other = create_company(name="Other", currency=company.currency)
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

        with Transaction().set_user(clerk.id), check_access():
            account, = Account.search([])
            with self.assertRaises(AccessError):
                Account.write([account], {'holder': "X"})
            with self.assertRaises(AccessButtonError):
                Account.close([account])
        with Transaction().set_user(editor.id), check_access():
            Account.write([Account(account.id)], {'holder': "X"})
            self.assertEqual(Account(account.id).holder, "X")

    @with_transaction()
    def test_account_invisible_to_other_organization(self):
        "Test another organization's staff neither see nor change"
        pool = Pool()
        Account = pool.get('lk.account')
        Building = pool.get('lk.building')
        company = create_company()
        other = create_company(name="Other", currency=company.currency)
        account = create_account(company, '1')
        staff = create_staff('staff', other, ['group_data_edit'])

        with Transaction().set_user(staff.id), check_access():
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
        User = pool.get('res.user')
        company = create_company()
        create_account(company, '1')
        user, = User.create([{
                    'login': 'nobody',
                    'companies': [('add', [company.id])],
                    'company': company.id,
                    }])
        with Transaction().set_user(user.id), check_access():
            with self.assertRaises(AccessError):
                Account.search([])

    @with_transaction()
    def test_parent_only_changed_by_operator(self):
        "Test staff cannot move their organization under another one"
        pool = Pool()
        Company = pool.get('company.company')
        company = create_company()
        other = create_company(name="Other", currency=company.currency)
        staff = create_staff('staff', company, ['group_organization'])

        with Transaction().set_user(staff.id), check_access():
            Company.write([Company(company.id)], {'short_name': "УК"})
            with self.assertRaises(AccessError):
                Company.write([Company(company.id)], {'parent': other.id})

    @with_transaction()
    def test_account_closing_needs_date(self):
        "Test a closed account needs its closing date"
        pool = Pool()
        Account = pool.get('lk.account')
        company = create_company()
        account = create_account(company, '1')
        with self.assertRaises(UserError):
            Account.write([account], {'state': 'closed'})

    @with_transaction()
    def test_portal_sees_only_linked_accounts(self):
        "Test the portal user sees the accounts of the web user only"
        pool = Pool()
        Account = pool.get('lk.account')
        Access = pool.get('lk.account.access')
        WebUser = pool.get('web.user')
        company = create_company()
        mine = create_account(company, '1')
        theirs = create_account(company, '2')
        me, other = WebUser.create([
                {'email': 'me@example.com'}, {'email': 'other@example.com'}])
        access, = Access.create([{
                    'web_user': me.id, 'account': mine.id, 'role': 'owner'}])
        Access.create([{
                    'web_user': other.id, 'account': theirs.id,
                    'role': 'owner'}])

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
        WebUser = pool.get('web.user')
        company = create_company()
        account = create_account(company, '1')
        owner, delegate, other = WebUser.create([
                {'email': 'owner@example.com'},
                {'email': 'delegate@example.com'},
                {'email': 'other@example.com'}])
        Access.create([{
                    'web_user': owner.id, 'account': account.id,
                    'role': 'owner'}])
        delegation, other_delegation = Access.create([{
                    'web_user': u.id, 'account': account.id,
                    'role': 'delegate', 'right_readings': True}
                for u in [delegate, other]])
        with as_subscriber(delegate):
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
        WebUser = pool.get('web.user')
        company = create_company()
        account = create_account(company, '1')
        Account.generate_access_code([account])
        user, = WebUser.create([{'email': 'me@example.com'}])

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
        company = create_company()
        company.registration_policy = 'approval'
        company.save()
        other = create_company(name="Other", currency=company.currency)
        account = create_account(company, '1')
        create_account(other, '999')
        real_user, unknown_user = WebUser.create([
                {'email': 'real@example.com'},
                {'email': 'unknown@example.com'}])
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

        with Transaction().set_user(staff.id), check_access():
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
            with patch.object(
                    access_module, 'send_message_transactional') as send:
                Access.decline([Access(unknown.id)])
        (message,), _ = send.call_args
        self.assertEqual(message['To'], 'unknown@example.com')
        self.assertIn('999', email_text(message))
        self.assertIn("Такого лицевого счёта нет.", email_text(message))
        self.assertEqual(Access(unknown.id).state, 'declined')
        with Transaction().set_user(other_staff.id), \
                Transaction().set_context(company=other.id), check_access():
            self.assertEqual(Access.search([]), [])
            self.assertEqual(WebUser.search([]), [])

    @with_transaction()
    def test_request_mistyped_number_linked_by_staff(self):
        "Test staff approve a request once they chose the account meant"
        pool = Pool()
        Access = pool.get('lk.account.access')
        WebUser = pool.get('web.user')
        company = create_company()
        account = create_account(company, '1000001')
        user, = WebUser.create([{'email': 'me@example.com'}])
        staff = create_staff('users', company, ['group_subscriber_users'])
        request = Access.request(user, company, '100001')

        with Transaction().set_user(staff.id), check_access():
            Access.write([Access(request.id)], {'account': account.id})
            with patch.object(access_module, 'send_message_transactional'):
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
        WebUser = pool.get('web.user')
        company = create_company()
        create_account(company, '1')
        user, other = WebUser.create([
                {'email': 'me@example.com'}, {'email': 'other@example.com'}])

        with as_subscriber(user):
            requests = [
                Access.request(user, company, number)
                for number in ['1', '999'] for _ in range(3)]
            self.assertEqual(requests, [requests[0]] * 3 + [requests[3]] * 3)
            # throttled before anything looks the number up
            for number in ['1', '999']:
                with self.subTest(number=number):
                    with self.assertRaises(RateLimitException):
                        Access.request(user, company, number)
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
        WebUser = pool.get('web.user')
        company = create_company()
        create_account(company, '1')
        user, = WebUser.create([{'email': 'me@example.com'}])

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
        Access.create([{
                    'web_user': user.id, 'account': Access.find_account(
                        company, '1').id,
                    'role': 'owner'}])
        # who has access to the account is told so
        with as_subscriber(user), self.assertRaises(UserError):
            Access.request(user, company, '1')

    @with_transaction()
    def test_web_user_seen_by_staff_of_its_organizations(self):
        "Test staff see the web users of their organizations' accounts only"
        pool = Pool()
        WebUser = pool.get('web.user')
        Access = pool.get('lk.account.access')
        company = create_company()
        other = create_company(name="Other", currency=company.currency)
        account = create_account(company, '1')
        holder, asking, unlinked = WebUser.create([
                {'email': 'holder@example.com'},
                {'email': 'asking@example.com'},
                {'email': 'unlinked@example.com'},
                ])
        Access.create([{
                    'web_user': holder.id, 'account': account.id,
                    'role': 'owner',
                    }, {
                    'web_user': asking.id, 'account': account.id,
                    'role': 'owner', 'state': 'requested',
                    }])
        staff = create_staff('staff', company, ['group_readings'])
        other_staff = create_staff(
            'other', other, ['group_subscriber_users'])
        operator = create_staff('operator', other, ['group_operator'])

        with Transaction().set_user(staff.id), check_access():
            self.assertEqual(
                sorted(u.email for u in WebUser.search([])),
                ['asking@example.com', 'holder@example.com'])
        with Transaction().set_user(other_staff.id), \
                Transaction().set_context(company=other.id), check_access():
            self.assertEqual(WebUser.search([]), [])
            with self.assertRaises(AccessError):
                WebUser.read([holder.id], ['email'])
            with self.assertRaises(AccessError):
                WebUser.write([WebUser(holder.id)], {'email': 'x@example.com'})
            # The users they create stay theirs
            with patch.object(
                    web_user_module, 'send_message_transactional'):
                own, = WebUser.create([{'email': 'own@example.com'}])
            self.assertEqual(own.company, other)
            self.assertEqual(WebUser.search([]), [own])
        with Transaction().set_user(operator.id), check_access():
            self.assertEqual(WebUser.search([], count=True), 4)

    @with_transaction()
    def test_web_user_secrets_hidden_from_staff(self):
        "Test staff can neither read nor search the web user's secrets"
        pool = Pool()
        WebUser = pool.get('web.user')
        company = create_company()
        user, = WebUser.create([{
                    'email': 'me@example.com', 'company': company.id,
                    'password': 'Otradny-2026!',
                    }])
        staff = create_staff('staff', company, ['group_operator'])
        with Transaction().set_user(staff.id), check_access():
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
        user, = WebUser.create([{
                    'email': 'me@example.com', 'company': company.id,
                    'password': 'Otradny-2026!',
                    }])
        key = user.new_session()
        self.assertEqual(WebUser.get_user(key), user)
        self.assertTrue(user.last_sign_in)
        staff = create_staff('staff', company, ['group_operator'])
        clerk = create_staff('clerk', company, ['group_readings'])

        with Transaction().set_user(clerk.id), check_access():
            with self.assertRaises(AccessButtonError):
                WebUser.block([WebUser(user.id)])
        with Transaction().set_user(staff.id), check_access():
            WebUser.block([WebUser(user.id)])

        self.assertTrue(WebUser(user.id).blocked)
        self.assertEqual(Session.search([('user', '=', user.id)]), [])
        self.assertIsNone(WebUser.get_user(key))
        self.assertIsNone(
            WebUser.authenticate('me@example.com', 'Otradny-2026!'))
        # Sessions opened anyhow are refused too
        self.assertIsNone(WebUser.get_user(WebUser(user.id).new_session()))

        with Transaction().set_user(staff.id), check_access():
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

        by_code, = WebUser.create([{'email': 'code@example.com'}])
        self.assertFalse(by_code.reset_password_token)
        with Transaction().set_user(staff.id), \
                Transaction().set_context(company=company.id), \
                check_access(), \
                patch.object(web_user_module, 'send_message_transactional'
                    ) as send:
            invited, = WebUser.create([{'email': 'invited@example.com'}])
        (message,), _ = send.call_args
        self.assertEqual(send.call_count, 1)
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
        Access = pool.get('lk.account.access')
        company = create_company()
        other = create_company(name="Other", currency=company.currency)
        user, = WebUser.create([{'email': 'me@example.com'}])
        Access.create([{
                    'web_user': user.id, 'role': 'owner',
                    'account': create_account(c, n).id,
                    } for c, n in [(company, '1'), (other, '2')]])
        staff = create_staff('staff', company, ['group_readings'])

        self.assertEqual(WebUser(user.id).lk_account_count, 2)
        with Transaction().set_user(staff.id), check_access():
            self.assertEqual(WebUser(user.id).lk_account_count, 1)

    @with_transaction()
    def test_actions_restricted_to_groups(self):
        "Test every button and wizard is restricted to the groups of a right"
        self.assertEqual(unrestricted_actions(), [])

    @with_transaction()
    def test_staff_cannot_take_over_shared_subscriber(self):
        "Test staff of one organization cannot take over a shared subscriber"
        pool = Pool()
        WebUser = pool.get('web.user')
        company = create_company()
        other = create_company(name="Other", currency=company.currency)
        user = create_shared_subscriber(company, other)
        staff = create_staff('users', company, ['group_subscriber_users'])
        operator = create_staff('operator', other, ['group_operator'])

        with Transaction().set_user(staff.id), \
                Transaction().set_context(company=company.id), \
                check_access():
            for values in [
                    {'password': 'Taken-over-2026!'},
                    {'password_hash': WebUser.hash_password('Taken-2026!')},
                    {'email': 'staff@example.com'},
                    {'email_valid': False},
                    {'active': False},
                    {'blocked': True},
                    {'company': company.id},
                    ]:
                with self.subTest(values=list(values)):
                    with self.assertRaises(AccessError):
                        WebUser.write([WebUser(user.id)], values)
            # a reset link goes to the subscriber's own address
            with patch.object(
                    web_user_module, 'send_message_transactional') as send:
                WebUser.reset_password([WebUser(user.id)])
        (message,), _ = send.call_args
        self.assertEqual(message['To'], 'shared@example.com')
        user = WebUser(user.id)
        self.assertEqual(
            (user.email, user.email_valid, user.active, user.blocked,
                user.company),
            ('shared@example.com', True, True, False, None))
        self.assertEqual(
            WebUser.authenticate('shared@example.com', 'Otradny-2026!'), user)

        with Transaction().set_user(operator.id), check_access():
            WebUser.write([WebUser(user.id)], {'email': 'new@example.com'})
        self.assertEqual(WebUser(user.id).email, 'new@example.com')

    @with_transaction()
    def test_staff_change_email_of_their_invited_user(self):
        "Test staff fix the e-mail of their user only until it is shared"
        pool = Pool()
        WebUser = pool.get('web.user')
        Access = pool.get('lk.account.access')
        company = create_company()
        other = create_company(name="Other", currency=company.currency)
        staff = create_staff('users', company, ['group_subscriber_users'])

        def write_email(user, email):
            with Transaction().set_user(staff.id), \
                    Transaction().set_context(company=company.id), \
                    check_access(), \
                    patch.object(
                        web_user_module, 'send_message_transactional'):
                WebUser.write([WebUser(user.id)], {'email': email})

        account = create_account(company, '1')
        with Transaction().set_user(staff.id), \
                Transaction().set_context(company=company.id), \
                check_access(), \
                patch.object(web_user_module, 'send_message_transactional'):
            invited, chosen = WebUser.create([
                    {'email': 'ivanov@exmaple.com'},
                    {'email': 'petrov@example.com'},
                    ])
            Access.create([{
                        'web_user': invited.id, 'role': 'owner',
                        'account': account.id,
                        }])
        write_email(invited, 'ivanov@example.com')
        self.assertEqual(WebUser(invited.id).email, 'ivanov@example.com')

        # once the user holds another organization's account, or chose a
        # password, the e-mail is the subscriber's
        Access.create([{
                    'web_user': invited.id, 'role': 'owner',
                    'account': create_account(other, '2').id,
                    }])
        WebUser.write([chosen], {
                'password_hash': WebUser.hash_password('Otradny-2026!')})
        for user in [invited, chosen]:
            with self.subTest(user=user.email):
                with self.assertRaises(AccessError):
                    write_email(user, 'staff@example.com')

    @with_transaction()
    def test_staff_create_web_user_without_identity(self):
        "Test staff create users without password, for their organizations"
        pool = Pool()
        WebUser = pool.get('web.user')
        company = create_company()
        other = create_company(name="Other", currency=company.currency)
        staff = create_staff('users', company, ['group_subscriber_users'])

        for n, values in enumerate([
                    {'password': 'Otradny-2026!'},
                    {'email_valid': True},
                    {'blocked': True},
                    {'company': other.id},
                    ]):
            with self.subTest(values=list(values)):
                with Transaction().set_user(staff.id), \
                        Transaction().set_context(company=company.id), \
                        check_access(), \
                        self.assertRaises(AccessError), \
                        patch.object(
                            web_user_module, 'send_message_transactional'):
                    WebUser.create([{
                                'email': f'new{n}@example.com', **values}])

    @with_transaction()
    def test_staff_block_accesses_of_their_organization(self):
        "Test staff block the accesses to their accounts, not the user"
        pool = Pool()
        WebUser = pool.get('web.user')
        Access = pool.get('lk.account.access')
        company = create_company()
        other = create_company(name="Other", currency=company.currency)
        user = create_shared_subscriber(company, other)
        key = user.new_session()
        staff = create_staff('users', company, ['group_subscriber_users'])
        operator = create_staff('operator', other, ['group_operator'])

        def states():
            return sorted(
                (a.account.company.id, a.state)
                for a in Access.search([('web_user', '=', user.id)]))

        with Transaction().set_user(staff.id), check_access():
            WebUser.block([WebUser(user.id)])
            self.assertTrue(WebUser(user.id).lk_accesses_blocked)
        self.assertEqual(
            states(), sorted([(company.id, 'blocked'), (other.id, 'active')]))
        self.assertFalse(WebUser(user.id).blocked)
        self.assertEqual(WebUser.get_user(key), user)

        with Transaction().set_user(staff.id), check_access():
            WebUser.unblock([WebUser(user.id)])
        self.assertEqual(
            states(), sorted([(company.id, 'active'), (other.id, 'active')]))

        # the operator's block is everywhere: only the operator lifts it
        with Transaction().set_user(operator.id), check_access():
            WebUser.block([WebUser(user.id)])
        self.assertTrue(WebUser(user.id).blocked)
        self.assertIsNone(WebUser.get_user(key))
        with Transaction().set_user(staff.id), check_access():
            with self.assertRaises(AccessError):
                WebUser.unblock([WebUser(user.id)])
        self.assertTrue(WebUser(user.id).blocked)

    @with_transaction()
    def test_web_user_seen_as_their_organization(self):
        "Test staff see a shared user's accesses to their accounts only"
        pool = Pool()
        WebUser = pool.get('web.user')
        company = create_company()
        other = create_company(name="Other", currency=company.currency)
        user = create_shared_subscriber(company, other)
        staff = create_staff('users', company, ['group_subscriber_users'])

        with Transaction().set_user(staff.id), check_access():
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
        company = create_company()
        other = create_company(name="Other", currency=company.currency)
        account = create_account(company, '1')
        stranger, = WebUser.create([{'email': 'stranger@example.com'}])
        Access.create([{
                    'web_user': stranger.id, 'role': 'owner',
                    'account': create_account(other, '2').id,
                    }])
        own, = WebUser.create([
                {'email': 'own@example.com', 'company': company.id}])
        staff = create_staff('users', company, ['group_subscriber_users'])

        with Transaction().set_user(staff.id), check_access():
            for values in [
                    {'web_user': stranger.id},
                    {'web_user': own.id, 'role': 'delegate',
                        'granted_by': stranger.id},
                    ]:
                with self.subTest(values=list(values)):
                    with self.assertRaises(AccessError):
                        Access.create([{
                                    'account': account.id, 'role': 'owner',
                                    **values}])
            self.assertEqual(
                [u.email for u in WebUser.search([])], ['own@example.com'])
            access, = Access.create([{
                        'web_user': own.id, 'account': account.id,
                        'role': 'owner'}])
            self.assertEqual(access.state, 'active')

    @with_transaction()
    def test_access_changes_over_rpc(self):
        "Test staff change only the rights and dates of a live access"
        pool = Pool()
        WebUser = pool.get('web.user')
        Access = pool.get('lk.account.access')
        company = create_company()
        account = create_account(company, '1')
        other_account = create_account(company, '2')
        holder, other = WebUser.create([
                {'email': 'holder@example.com', 'company': company.id},
                {'email': 'other@example.com', 'company': company.id}])
        access, = Access.create([{
                    'web_user': holder.id, 'account': account.id,
                    'role': 'delegate', 'right_payment': False}])
        staff = create_staff('users', company, ['group_subscriber_users'])

        with Transaction().set_user(staff.id), check_access():
            for values in [
                    {'account': other_account.id},
                    {'web_user': other.id},
                    {'role': 'owner'},
                    {'state': 'revoked'},
                    {'decline_reason': "Нет"},
                    ]:
                with self.subTest(values=list(values)):
                    with self.assertRaises(AccessError):
                        Access.write([Access(access.id)], values)
            Access.write([Access(access.id)], {'right_payment': True})
            Access.revoke([Access(access.id)])
            with self.assertRaises(AccessError):
                Access.write([Access(access.id)], {'right_payment': False})
        access = Access(access.id)
        self.assertEqual(
            (access.account, access.web_user, access.role, access.state,
                access.right_payment),
            (account, holder, 'delegate', 'revoked', True))

    @with_transaction()
    def test_access_end_date_not_in_the_past(self):
        "Test an end date given in the past is refused, today is not"
        pool = Pool()
        WebUser = pool.get('web.user')
        Access = pool.get('lk.account.access')
        Date = pool.get('ir.date')
        company = create_company()
        account = create_account(company, '1')
        owner, = WebUser.create([{'email': 'owner@example.com'}])
        Access.create([{
                    'web_user': owner.id, 'account': account.id,
                    'role': 'owner'}])
        today = Date.today()
        yesterday = today - datetime.timedelta(days=1)

        with as_subscriber(owner):
            with self.assertRaisesRegex(
                    UserError, yesterday.strftime('%d.%m.%Y')):
                Access.create([{
                            'account': account.id, 'role': 'delegate',
                            'state': 'invited',
                            'invitation_email': 'friend@example.com',
                            'granted_by': owner.id,
                            'end_date': yesterday}])
            invitation, = Access.create([{
                        'account': account.id, 'role': 'delegate',
                        'state': 'invited',
                        'invitation_email': 'friend@example.com',
                        'granted_by': owner.id, 'end_date': today}])
            with self.assertRaises(UserError):
                Access.write([invitation], {
                        'end_date': datetime.date(1, 1, 1)})
        self.assertEqual(Access(invitation.id).end_date, today)

    @with_transaction()
    def test_portal_changes_own_user_only(self):
        "Test the portal changes no other user than the signed-in one"
        pool = Pool()
        WebUser = pool.get('web.user')
        Access = pool.get('lk.account.access')
        company = create_company()
        account = create_account(company, '1')
        owner, delegate = WebUser.create([
                {'email': 'owner@example.com'},
                {'email': 'delegate@example.com'}])
        Access.create([{
                    'web_user': u.id, 'account': account.id, 'role': role,
                    } for u, role in [
                    (owner, 'owner'), (delegate, 'delegate')]])
        with as_subscriber(owner):
            with self.assertRaises(AccessError):
                WebUser.write(
                    [WebUser(delegate.id)], {'email': 'taken@example.com'})
        self.assertEqual(WebUser(delegate.id).email, 'delegate@example.com')

    @with_transaction()
    def test_web_user_invisible_without_lk_right(self):
        "Test a backend user without an lk right reads no subscriber user"
        pool = Pool()
        WebUser = pool.get('web.user')
        User = pool.get('res.user')
        company = create_company()
        user, = WebUser.create([
                {'email': 'me@example.com', 'company': company.id}])
        nobody, = User.create([{
                    'login': 'nobody',
                    'companies': [('add', [company.id])],
                    'company': company.id,
                    }])
        with Transaction().set_user(nobody.id), check_access():
            self.assertEqual(WebUser.search([]), [])
            with self.assertRaises(AccessError):
                WebUser.read([user.id], ['email'])

    @with_transaction()
    def test_preferences_company_among_the_users(self):
        "Test staff work only for their organizations and sub-organizations"
        pool = Pool()
        User = pool.get('res.user')
        company = create_company()
        child = create_company(name="Child", currency=company.currency)
        other = create_company(name="Other", currency=company.currency)
        child.parent = company
        child.save()
        staff = create_staff('staff', company, ['group_readings'])

        with Transaction().set_user(staff.id):
            for values in [
                    {'company': other.id},
                    {'companies': [company.id, other.id]},
                    {'company': "x"},
                    ]:
                with self.subTest(values=values):
                    with self.assertRaises(AccessError):
                        User.set_preferences(values)
            self.assertEqual(User(staff.id).company, company)
            User.set_preferences({'company': child.id})
        self.assertEqual(User(staff.id).company, child)
        self.assertEqual(list(User(staff.id).companies), [company])

    @with_transaction()
    def test_email_syntax(self):
        "Test e-mail addresses are plain addresses"
        pool = Pool()
        WebUser = pool.get('web.user')
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
                    WebUser.create([{'email': email}])
                with self.assertRaises(UserError):
                    Access.create([{
                                'account': account.id, 'role': 'delegate',
                                'state': 'invited',
                                'invitation_email': email}])
                with self.assertRaises(UserError):
                    Company.write([company], {'email': email})
        user, = WebUser.create([{'email': 'Иван.Петров@почта.рф'}])
        self.assertEqual(user.email, 'иван.петров@почта.рф')

    @with_transaction()
    def test_text_length(self):
        "Test a 100,000 character e-mail, name or message is refused"
        pool = Pool()
        WebUser = pool.get('web.user')
        Access = pool.get('lk.account.access')
        Account = pool.get('lk.account')
        Company = pool.get('company.company')
        company = create_company()
        account = create_account(company, '1')
        user, = WebUser.create([{'email': 'me@example.com'}])
        access, = Access.create([{
                    'account': account.id, 'web_user': user.id,
                    'role': 'owner', 'state': 'requested'}])
        long_ = 'x' * 100_000

        for model, record, name, value in [
                (WebUser, user, 'email', long_ + '@example.com'),
                (Company, company, 'description', long_),
                (Access, access, 'decline_reason', long_),
                ]:
            with self.subTest(field=name):
                with self.assertRaises(UserError):
                    model.write([record], {name: value})
        # last: PostgreSQL refuses it in the column, which ends the
        # transaction
        with self.assertRaises(UserError):
            Account.write([account], {'holder': long_})


del ModuleTestCase
