# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from decimal import Decimal

from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, Unique, fields
from trytond.pyson import Eval

from .exceptions import BillingValidationError
from .model import AccountRecordMixin

KINDS = [
    ('charge', "Charge"),
    ('penalty', "Penalty"),
    ]
BASES = [
    (None, ""),
    ('meter', "Meter Readings"),
    ('average', "Average Consumption"),
    ('norm', "Consumption Norm"),
    ('fixed', "Fixed or by Area"),
    ]


class Charge(AccountRecordMixin, ModelSQL, ModelView):
    "A line of the payment document: a service charged for a period"
    __name__ = 'lk.charge'
    __string__ = "Charge"

    service = fields.Many2One(
        'lk.service', "Service", required=True, ondelete='RESTRICT',
        help="A service of the account's organization or of its parent.")
    period = fields.Date(
        "Period", required=True,
        help="The first day of the month charged.")
    kind = fields.Selection(KINDS, "Kind", required=True)
    kind_string = kind.translated('kind')
    volume = fields.Numeric("Volume", digits=(16, 3))
    unit = fields.Function(fields.Char("Unit"), 'on_change_with_unit')
    tariff = fields.Numeric("Tariff", digits=(16, 4))
    amount = fields.Numeric(
        "Amount", digits=(16, 2), required=True,
        help="The amount charged before recalculation.")
    recalculation = fields.Numeric(
        "Recalculation", digits=(16, 2), required=True)
    recalculation_reason = fields.Char(
        "Recalculation Reason", size=255,
        states={
            'required': Eval('recalculation', 0) != 0,
            })
    total = fields.Function(
        fields.Numeric("Total", digits=(16, 2)), 'on_change_with_total')
    basis = fields.Selection(
        BASES, "Basis",
        help="How the amount was computed: by meter readings, by average "
        "consumption, by norm or fixed (by area).")
    basis_string = basis.translated('basis')
    basis_details = fields.Char(
        "Basis Details", size=255,
        help="The readings, average or norm the amount comes from.")
    coefficient = fields.Numeric(
        "Raising Coefficient", digits=(16, 2),
        help="The raising coefficient applied to the norm, if any.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('account_service_period_kind_unique',
                Unique(t, t.account, t.service, t.period, t.kind),
                'lk_billing.msg_charge_unique'),
            ]
        cls._order = [
            ('period', 'DESC'), ('account', 'ASC'), ('service', 'ASC'),
            ('kind', 'ASC'), ('id', 'ASC')]

    @classmethod
    def default_kind(cls):
        return 'charge'

    @classmethod
    def default_recalculation(cls):
        return Decimal(0)

    @fields.depends('service', '_parent_service.unit')
    def on_change_with_unit(self, name=None):
        return self.service.unit if self.service else None

    @fields.depends('amount', 'recalculation')
    def on_change_with_total(self, name=None):
        return (self.amount or 0) + (self.recalculation or 0)

    def get_rec_name(self, name):
        return (f'{self.account.number} {self.service.rec_name} '
            f'{self.period:%m.%Y}')

    @classmethod
    def validate_fields(cls, charges, field_names):
        super().validate_fields(charges, field_names)
        if field_names and not (field_names & {'account', 'service'}):
            return
        for charge in charges:
            organization = charge.account.company
            organizations = {organization}
            while organization.parent:
                organization = organization.parent
                organizations.add(organization)
            if charge.service.company not in organizations:
                raise BillingValidationError(gettext(
                        'lk_billing.msg_charge_service_company',
                        charge=charge.rec_name,
                        service=charge.service.rec_name,
                        account=charge.account.rec_name))
