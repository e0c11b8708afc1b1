# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.model import ModelSQL, ModelView, fields
from trytond.transaction import Transaction

from .model import search_fields_domain

SETTLEMENT_KINDS = [
    ('г.', "city (г.)"),
    ('пгт', "urban-type settlement (пгт)"),
    ('пос.', "settlement (пос.)"),
    ('с.', "village (с.)"),
    ('д.', "hamlet (д.)"),
    ]
STREET_KINDS = [
    ('ул.', "street (ул.)"),
    ('пр-кт', "avenue (пр-кт)"),
    ('пер.', "lane (пер.)"),
    ('б-р', "boulevard (б-р)"),
    ('ш.', "highway (ш.)"),
    ('пл.', "square (пл.)"),
    ('наб.', "embankment (наб.)"),
    ('проезд', "passage (проезд)"),
    ('мкр.', "microdistrict (мкр.)"),
    ]


class Building(ModelSQL, ModelView):
    __name__ = 'lk.building'
    __string__ = "Building"

    company = fields.Many2One(
        'company.company', "Organization", required=True,
        ondelete='RESTRICT')
    region = fields.Char(
        "Region", size=100,
        help="The federal subject, e.g. «Самарская обл.».")
    settlement_kind = fields.Selection(
        SETTLEMENT_KINDS, "Settlement Kind", sort=False, required=True)
    city = fields.Char("City", required=True, size=100)
    street_kind = fields.Selection(
        STREET_KINDS, "Street Kind", sort=False, required=True)
    street = fields.Char("Street", required=True, size=100)
    house = fields.Char(
        "House", required=True, size=20, help="The house number.")
    block = fields.Char("Block", size=20, help="Корпус, if any.")
    structure = fields.Char(
        "Structure", size=20, help="Строение, if any.")
    postal_code = fields.Char("Postal Code", size=6)
    accounts = fields.One2Many('lk.account', 'building', "Accounts")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [
            ('city', 'ASC'), ('street', 'ASC'), ('house', 'ASC'),
            ('id', 'ASC')]

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_settlement_kind(cls):
        return 'г.'

    @classmethod
    def default_street_kind(cls):
        return 'ул.'

    @property
    def address(self):
        "The address the Russian way: «г. Отрадный, ул. Ленина, д. 1»"
        parts = [
            f'{self.settlement_kind} {self.city}',
            f'{self.street_kind} {self.street}',
            f'д. {self.house}',
            ]
        if self.block:
            parts.append(f'корп. {self.block}')
        if self.structure:
            parts.append(f'стр. {self.structure}')
        return ', '.join(parts)

    def get_rec_name(self, name):
        return self.address

    @classmethod
    def search_rec_name(cls, name, clause):
        return search_fields_domain(clause, ['city', 'street', 'house'])
