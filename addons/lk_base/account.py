# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import secrets

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Workflow, fields
from trytond.pool import Pool
from trytond.pyson import Eval, If

from .building import search_address
from .exceptions import AccountValidationError
from .model import (
    CompanyDefaultMixin, company_field, search_fields_domain, shorten,
    shown_in, unique_in_company)

STATES = [
    ('active', "Active"),
    ('closed', "Closed"),
    ]


class Account(CompanyDefaultMixin, Workflow, ModelSQL, ModelView):
    __name__ = 'lk.account'
    __string__ = "Subscriber Account"
    _rec_name = 'number'

    company = company_field(fixed=True)
    number = fields.Char(
        "Number", required=True, strip=True, size=50,
        help="Unique within the organization.")
    building = fields.Many2One(
        'lk.building', "Building", required=True, ondelete='RESTRICT',
        domain=[
            ('company', '=', Eval('company', -1)),
            ])
    apartment = fields.Char(
        "Apartment", size=20, help="The apartment or other premises.")
    holder = fields.Char(
        "Holder", size=255, help="The name of the account holder.")
    area = fields.Numeric(
        "Area (m²)", digits=(16, 2),
        domain=[If(Eval('area'), ('area', '>', 0), ())])
    residents = fields.Integer(
        "Residents",
        domain=[If(Eval('residents'), ('residents', '>=', 0), ())])
    opened_on = fields.Date("Opened On")
    closed_on = fields.Date(
        "Closed On",
        domain=[
            If(Eval('closed_on') & Eval('opened_on'),
                ('closed_on', '>=', Eval('opened_on')),
                ()),
            ],
        states={
            'invisible': Eval('state') != 'closed',
            })
    address = fields.Function(
        fields.Char("Address"), 'get_address', searcher='search_address')
    access_code = fields.Char(
        "Access Code", strip=False, size=50,
        help="The secret printed on the bills with which the holder links "
        "the account in the portal.")
    accesses = fields.One2Many(
        'lk.account.access', 'account', "Accesses", readonly=True)
    state = fields.Selection(
        STATES, "State", readonly=True, required=True, sort=False)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints.append(unique_in_company(
                cls, 'number', 'lk_base.msg_account_number_unique'))
        cls._sql_indexes.update({
                Index(t, (t.building, Index.Range())),
                Index(t, (t.number, Index.Similarity())),
                })
        cls._order = [('number', 'ASC'), ('id', 'ASC')]
        cls._transitions |= {
            ('active', 'closed'),
            ('closed', 'active'),
            }
        cls._buttons.update({
                'close': shown_in('active'),
                'reopen': shown_in('closed'),
                'generate_access_code': shown_in('active'),
                })

    @classmethod
    def default_state(cls):
        return 'active'

    def get_address(self, name):
        address = self.building.address
        if self.apartment:
            address += f', кв. {self.apartment}'
        return address

    def get_rec_name(self, name):
        return f'{self.number} — {self.address}'

    @classmethod
    def search_address(cls, name, clause):
        return search_address(
            cls, clause, prefix='building.', apartment='apartment')

    @classmethod
    def search_rec_name(cls, name, clause):
        return search_fields_domain(clause, ['number', 'holder', 'address'])

    @classmethod
    def validate_fields(cls, accounts, field_names):
        super().validate_fields(accounts, field_names)
        cls.check_closing(accounts, field_names)

    @classmethod
    def check_closing(cls, accounts, field_names=None):
        if field_names and not (field_names & {'state', 'closed_on'}):
            return
        for account in accounts:
            if account.state == 'closed' and not account.closed_on:
                raise AccountValidationError(gettext(
                        'lk_base.msg_account_closed_without_date',
                        account=account.rec_name))

    @classmethod
    @ModelView.button
    @Workflow.transition('closed')
    def close(cls, accounts):
        pool = Pool()
        Date = pool.get('ir.date')
        today = Date.today()
        for account in accounts:
            if not account.closed_on:
                account.closed_on = today
        cls.save(accounts)
        # sao shows it in the user's notifications
        if len(accounts) == 1:
            label = gettext(
                'lk_base.msg_account_closed', account=accounts[0].number)
        else:
            label = gettext(
                'lk_base.msg_accounts_closed', count=len(accounts))
        cls.notify_user(
            accounts, 'tryton-ok', shorten(label, 100),
            description=shorten(', '.join(a.number for a in accounts), 250))

    @classmethod
    @ModelView.button
    @Workflow.transition('active')
    def reopen(cls, accounts):
        # the closing date goes with the state, else validation refuses it
        cls.write(accounts, {'state': 'active', 'closed_on': None})

    @classmethod
    @ModelView.button
    def generate_access_code(cls, accounts):
        "Give each account a new access code (the old one stops working)"
        for account in accounts:
            account.access_code = cls.new_access_code()
        cls.save(accounts)

    @staticmethod
    def new_access_code():
        # No 0/O, 1/I/L: the code is read from paper
        alphabet = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789'
        code = ''.join(secrets.choice(alphabet) for _ in range(8))
        return f'{code[:4]}-{code[4:]}'

    @staticmethod
    def normalize_access_code(code):
        return ''.join(c for c in (code or '').upper() if c.isalnum())
