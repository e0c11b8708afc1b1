# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.

import datetime

from trytond.exceptions import UserError
from trytond.model.exceptions import AccessError
from trytond.model.modelview import AccessButtonError
from trytond.modules.company.tests import CompanyTestMixin, create_company
from trytond.modules.lk_base.company import _bank_account_key_valid
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
        # The parent of an organization is the organization's own record,
        # guarded by the rule on company.company itself
        return super()._skip_company_rule | {('company.company', 'parent')}

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
        ModelData = pool.get('ir.model.data')
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
        portal = ModelData.get_id('lk_base', 'user_portal')

        def visible():
            with Transaction().set_user(portal), \
                    Transaction().set_context(web_user=me.id), \
                    check_access():
                return [a.number for a in Account.search([])]

        self.assertEqual(visible(), ['1'])
        with Transaction().set_user(portal), \
                Transaction().set_context(web_user=me.id), check_access():
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


del ModuleTestCase
