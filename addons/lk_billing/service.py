# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.model import DeactivableMixin, ModelSQL, ModelView, fields
from trytond.modules.lk_base.model import (
    CompanyDefaultMixin, company_field, search_fields_domain,
    unique_in_company)

KINDS = [
    ('housing', "Housing"),
    ('resource', "Utility Resource"),
    ('other', "Other"),
    ]


class Service(CompanyDefaultMixin, DeactivableMixin, ModelSQL, ModelView):
    "A service an organization charges its subscribers for"
    __name__ = 'lk.service'
    __string__ = "Service"

    company = company_field(ondelete='CASCADE', fixed=True)
    code = fields.Char(
        "Code", required=True, strip=True, size=50,
        help="The code of the service in the organization's billing system, "
        "unique within the organization.")
    name = fields.Char("Name", required=True, size=255)
    unit = fields.Char(
        "Unit", size=20, help="The unit of the volume: m³, kWh, m², Gcal.")
    kind = fields.Selection(KINDS, "Kind", required=True)
    kind_string = kind.translated('kind')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._sql_constraints.append(unique_in_company(
                cls, 'code', 'lk_billing.msg_service_code_unique'))
        cls._order = [('company', 'ASC'), ('code', 'ASC'), ('id', 'ASC')]

    @classmethod
    def default_kind(cls):
        return 'resource'

    @classmethod
    def search_rec_name(cls, name, clause):
        return search_fields_domain(clause, ['name', 'code'])
