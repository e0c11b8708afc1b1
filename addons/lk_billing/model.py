# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""What charges, payments received and balances share: the account they
belong to, its organization and the closed periods"""
from trytond.i18n import gettext
from trytond.model import Index, fields
from trytond.modules.lk_base.model import check_readable
from trytond.modules.lk_base.month import format_period
from trytond.pool import Pool

from .exceptions import BillingValidationError, PeriodClosedError
from .period import check_period


class AccountRecordMixin:
    "A record of an account in a billing period"
    __slots__ = ()

    account = fields.Many2One(
        'lk.account', "Account", required=True, ondelete='RESTRICT')
    company = fields.Many2One(
        'company.company', "Organization", required=True, readonly=True,
        ondelete='RESTRICT',
        help="The organization of the account.")
    building = fields.Function(
        fields.Many2One('lk.building', "Building"),
        'on_change_with_building', searcher='search_building')
    # the column the lists of an account and an organization go by
    _when = 'period'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        when = getattr(t, cls._when)
        cls._sql_indexes.update({
                Index(t, (t.account, Index.Range()), (when, Index.Range())),
                Index(t, (t.company, Index.Range()), (when, Index.Range())),
                })

    @fields.depends('account', '_parent_account.company')
    def on_change_account(self):
        if self.account:
            check_readable([self.account])
            self.company = self.account.company

    @fields.depends('account', '_parent_account.building')
    def on_change_with_building(self, name=None):
        return self.account.building if self.account else None

    @classmethod
    def search_building(cls, name, clause):
        return [('account.' + clause[0],) + tuple(clause[1:])]

    @classmethod
    def preprocess_values(cls, mode, values):
        pool = Pool()
        Account = pool.get('lk.account')
        values = super().preprocess_values(mode, values)
        # a bulk creation gives both: validate_fields checks they match
        if values.get('account') and not values.get('company'):
            values['company'] = Account(values['account']).company.id
        return values

    def billing_period(self):
        "The period the record counts in"
        return self.period

    @classmethod
    def check_modification(cls, mode, records, values=None, external=False):
        "Refuse any change in a period the organization closed"
        pool = Pool()
        Account = pool.get('lk.account')
        super().check_modification(
            mode, records, values=values, external=external)
        for record in records:
            record._check_period_open()
            if mode == 'write' and (
                    {'account', 'period', 'date'} & values.keys()):
                account = Account(values.get('account', record.account.id))
                moved = cls(
                    account=account, company=account.company,
                    **{n: values.get(n, getattr(record, n))
                        for n in ['period', 'date'] if n in cls._fields})
                moved._check_period_open(record)

    def _check_period_open(self, record=None):
        period = self.billing_period()
        if self.company.billing_closed(period):
            raise PeriodClosedError(gettext(
                    'lk_billing.msg_period_closed',
                    record=(record or self).rec_name,
                    period=format_period(period),
                    closed=format_period(self.company.billing_closed_until),
                    organization=self.company.rec_name))

    @classmethod
    def validate_fields(cls, records, field_names):
        super().validate_fields(records, field_names)
        if field_names and not (field_names & {
                    'account', 'company', 'period'}):
            return
        for record in records:
            check_period(record, record.period)
            if record.company != record.account.company:
                raise BillingValidationError(gettext(
                        'lk_billing.msg_account_company',
                        record=record.rec_name,
                        account=record.account.rec_name))
