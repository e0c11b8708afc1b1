# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from stdnum.ru import inn as ru_inn

from trytond.i18n import gettext
from trytond.model import fields, tree
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval

from .exceptions import BankDetailsValidationError
from .model import EMAIL_SIZE, check_email_field

REGISTRATION_POLICIES = [
    ('verification', "Open with verification"),
    ('approval', "On staff approval"),
    ('closed', "Closed"),
    ]


def _digits(value, length):
    return bool(value) and value.isdigit() and len(value) == length


def _bank_account_key_valid(bik, account, for_correspondent=False):
    "Check the control key of a Russian bank account against its БИК"
    # Bank of Russia rules 1997-05-08 № 385: weights 7, 1, 3 repeated over
    # the 3 digits of the БИК (or "0" + 2 digits of the correspondent
    # account) followed by the 20 digits of the account.
    prefix = ('0' + bik[4:6]) if for_correspondent else bik[-3:]
    digits = prefix + account
    weights = [7, 1, 3] * 8
    return sum(int(d) * w for d, w in zip(digits, weights)) % 10 == 0


class Company(tree(name='rec_name'), metaclass=PoolMeta):
    __name__ = 'company.company'

    parent = fields.Many2One(
        'company.company', "Parent Organization", ondelete='RESTRICT',
        domain=[('id', '!=', Eval('id', -1))],
        help="The organization this one is a division or subsidiary of.")
    childs = fields.One2Many(
        'company.company', 'parent', "Sub-organizations", readonly=True)
    short_name = fields.Char(
        "Short Name", size=100,
        help="The name shown to subscribers in the portal.")
    description = fields.Text("Description", size=5000)
    public_address = fields.Char("Address", size=255)
    phone = fields.Char("Phone", size=50)
    emergency_phone = fields.Char(
        "Emergency Dispatch Phone", size=50,
        help="The emergency dispatch line shown to subscribers.")
    email = fields.Char("E-mail", size=EMAIL_SIZE)
    office_hours = fields.Text("Office Hours", size=1000)
    website = fields.Char("Web Site", size=255)

    inn = fields.Char(
        "INN", size=12, help="Taxpayer identification number (ИНН).")
    kpp = fields.Char(
        "KPP", size=9, help="Tax registration reason code (КПП).")
    bank_bik = fields.Char(
        "BIC", size=9, help="Russian bank identification code (БИК).")
    bank_name = fields.Char("Bank", size=255)
    bank_account = fields.Char(
        "Settlement Account", size=20)
    bank_correspondent_account = fields.Char(
        "Correspondent Account", size=20)

    registration_policy = fields.Selection(
        REGISTRATION_POLICIES, "Self-registration",
        help="How subscribers get access to their accounts:\n"
        "- with the verification code printed on their bills,\n"
        "- after a staff member approves their request,\n"
        "- not by themselves at all.")

    @classmethod
    def default_registration_policy(cls):
        return 'verification'

    @property
    def display_name(self):
        return self.short_name or self.party.name

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        for name in [
                'inn', 'kpp', 'bank_bik', 'bank_account',
                'bank_correspondent_account']:
            if values.get(name):
                values[name] = values[name].replace(' ', '').strip()
        return values

    @classmethod
    def validate_fields(cls, companies, field_names):
        super().validate_fields(companies, field_names)
        cls.check_bank_details(companies, field_names)
        check_email_field(companies, field_names)

    @classmethod
    def check_bank_details(cls, companies, field_names=None):
        if field_names and not (field_names & {
                    'inn', 'kpp', 'bank_bik', 'bank_account',
                    'bank_correspondent_account'}):
            return
        for company in companies:
            company._check_bank_details()

    def _check_bank_details(self):
        def error(msg_id, **kwargs):
            raise BankDetailsValidationError(gettext(
                    msg_id, organization=self.rec_name, **kwargs))
        if self.inn and not ru_inn.is_valid(self.inn):
            error('lk_base.msg_organization_inn_invalid', inn=self.inn)
        if self.kpp and not (
                len(self.kpp) == 9 and self.kpp[:4].isdigit()
                and self.kpp[6:].isdigit() and self.kpp[4:6].isalnum()):
            error('lk_base.msg_organization_kpp_invalid', kpp=self.kpp)
        if self.bank_bik and not _digits(self.bank_bik, 9):
            error('lk_base.msg_organization_bik_invalid', bik=self.bank_bik)
        for field, for_correspondent in [
                ('bank_account', False),
                ('bank_correspondent_account', True)]:
            account = getattr(self, field)
            if not account:
                continue
            if not _digits(account, 20):
                error('lk_base.msg_organization_bank_account_digits',
                    account=account)
            if (_digits(self.bank_bik, 9)
                    and not _bank_account_key_valid(
                        self.bank_bik, account, for_correspondent)):
                error('lk_base.msg_organization_bank_account_key',
                    account=account, bik=self.bank_bik)

    @classmethod
    def on_modification(cls, mode, companies, field_names=None):
        pool = Pool()
        User = pool.get('res.user')
        super().on_modification(mode, companies, field_names=field_names)
        # The company list of staff includes sub-organizations
        User._get_companies_cache.clear()
