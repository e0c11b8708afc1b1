# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.

import datetime
from unittest.mock import patch

from trytond.exceptions import UserError
from trytond.model.exceptions import AccessError
from trytond.model.modelview import AccessButtonError
from trytond.modules.company.tests import CompanyTestMixin, create_company
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
            own, = WebUser.create([{
                        'email': 'own@example.com',
                        'password': 'Otradny-2026!',
                        }])
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
        "Test blocking ends the sessions and refuses the sign-in"
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
        staff = create_staff('staff', company, ['group_subscriber_users'])
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
            invited, with_password = WebUser.create([
                    {'email': 'invited@example.com'},
                    {'email': 'self@example.com', 'password': 'Otradny-2026!'},
                    ])
        (message,), _ = send.call_args
        self.assertEqual(send.call_count, 1)
        self.assertEqual(message['To'], 'invited@example.com')
        invited, with_password = WebUser.browse([invited, with_password])
        self.assertTrue(invited.reset_password_token)
        self.assertGreater(
            invited.reset_password_token_expire,
            datetime.datetime.now() + datetime.timedelta(days=6))
        self.assertFalse(with_password.reset_password_token)

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


del ModuleTestCase
