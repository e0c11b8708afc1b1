# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import re

from trytond.model import ModelSQL, ModelView, fields

from .model import CompanyDefaultMixin, company_field

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
# The words of a typed address that name a kind, not the place itself
ADDRESS_KIND_WORDS = {
    k.strip('.') for k, _ in SETTLEMENT_KINDS + STREET_KINDS} | {
    'обл', 'р-н', 'дом', 'корп', 'стр', 'кв', 'город', 'улица', 'квартира'}


def _like_escape(text):
    return (text.replace('\\', '\\\\').replace('%', '\\%')
        .replace('_', '\\_'))


def address_domain(text, prefix='', apartment=None):
    """The domain of the records whose address has every word of the text,
    typed as staff would: «Ленина 10», «ул. Ленина, д. 10, кв. 5».

    A word starting with a digit is the house, block or structure (or the
    apartment field, if given), another word a part of the city, street or
    region; kinds («г.», «ул.», «д.», «кв.»…) are skipped. prefix leads to
    the building's fields (e.g. 'building.')."""
    domain = []
    for word in re.findall(r'[^\W_]+(?:[/-][^\W_]+)*', text or ''):
        if word.lower() in ADDRESS_KIND_WORDS:
            continue
        word = _like_escape(word)
        if word[0].isdigit():
            clauses = [
                (prefix + n, 'ilike', word)
                for n in ['house', 'block', 'structure']]
            if apartment:
                clauses.append((apartment, 'ilike', word))
        else:
            clauses = [
                (prefix + n, 'ilike', f'%{word}%')
                for n in ['city', 'street', 'region']]
        domain.append(['OR', *clauses])
    return domain


def search_address(Model, clause, prefix='', apartment=None):
    """The domain of Model matching a text clause on an address: with
    «ilike» the words of the text in any order, a negative operator the
    records that do not match"""
    _, operator, value = clause[:3]
    negative = operator.startswith('!') or operator.startswith('not ')
    if not isinstance(value, str):
        # an address is never empty
        return [] if negative else [('id', '=', -1)]
    text = value
    if operator.endswith('like'):
        text = value.replace('%', ' ')
    domain = address_domain(text, prefix=prefix, apartment=apartment)
    if negative:
        if not domain:
            return [('id', '=', -1)]
        return [('id', 'not in', Model.search(domain, order=[], query=True))]
    return domain


class Building(CompanyDefaultMixin, ModelSQL, ModelView):
    __name__ = 'lk.building'
    __string__ = "Building"

    company = company_field()
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
    block = fields.Char(
        "Block", size=20, help="The block (корпус) of the building, if any.")
    structure = fields.Char(
        "Structure", size=20,
        help="The structure (строение) of the building, if any.")
    postal_code = fields.Char("Postal Code", size=6)
    accounts = fields.One2Many('lk.account', 'building', "Accounts")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [
            ('city', 'ASC'), ('street', 'ASC'), ('house', 'ASC'),
            ('id', 'ASC')]

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
        return search_address(cls, clause)
