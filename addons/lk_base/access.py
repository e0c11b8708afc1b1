# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import secrets
from hmac import compare_digest

from trytond import config
from trytond.exceptions import RateLimitException
from trytond.i18n import gettext
from trytond.model import (
    Index, ModelSQL, ModelView, Unique, Workflow, fields)
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.report import Report, get_email
from trytond.sendmail import send_message_transactional
from trytond.tools.email_ import set_from_header
from trytond.transaction import Transaction, without_check_access

from .exceptions import AccessValidationError

ROLES = [
    ('owner', "Owner"),
    ('delegate', "Delegate"),
    ]
STATES = [
    ('invited', "Invited"),
    ('requested', "Requested"),
    ('active', "Active"),
    ('blocked', "Blocked"),
    ('declined', "Declined"),
    ('revoked', "Revoked"),
    ]
RIGHTS = ['right_readings', 'right_payment', 'right_appeals']


class AccountAccess(Workflow, ModelSQL, ModelView):
    """A subscriber user's access to an account

    The owner proved they hold the account (access code or staff approval)
    and has every right; a delegate was invited by an owner with the rights
    chosen, optionally until an end date."""
    __name__ = 'lk.account.access'
    __string__ = "Account Access"

    account = fields.Many2One(
        'lk.account', "Account", required=True, ondelete='CASCADE',
        states={
            'readonly': Eval('id', -1) >= 0,
            })
    web_user = fields.Many2One(
        'web.user', "User", ondelete='CASCADE',
        states={
            'required': Eval('state') != 'invited',
            'readonly': Eval('id', -1) >= 0,
            })
    role = fields.Selection(
        ROLES, "Role", required=True,
        states={
            'readonly': Eval('id', -1) >= 0,
            })
    right_view = fields.Function(
        fields.Boolean("View"), 'get_right_view')
    right_readings = fields.Boolean(
        "Readings", help="Enter meter readings.",
        states={
            'readonly': Eval('role') == 'owner',
            })
    right_payment = fields.Boolean(
        "Payment", help="Pay online.",
        states={
            'readonly': Eval('role') == 'owner',
            })
    right_appeals = fields.Boolean(
        "Appeals", help="Write appeals to the organization.",
        states={
            'readonly': Eval('role') == 'owner',
            })
    end_date = fields.Date(
        "End Date", help="The last day the access is valid.",
        states={
            'invisible': Eval('role') != 'delegate',
            })
    state = fields.Selection(
        STATES, "State", readonly=True, required=True, sort=False)
    granted_by = fields.Many2One(
        'web.user', "Granted by", readonly=True, ondelete='SET NULL',
        help="The owner who invited the delegate.")
    approved_by = fields.Many2One(
        'res.user', "Approved by", readonly=True, ondelete='SET NULL',
        help="The staff member who approved or declined the request.")
    invitation_email = fields.Char(
        "Invitation E-mail",
        states={
            'invisible': Eval('role') != 'delegate',
            'readonly': Eval('state') != 'invited',
            })
    invitation_token = fields.Char(
        "Invitation Token", readonly=True, strip=False)
    request_message = fields.Text(
        "Request Message", readonly=True,
        help="What the subscriber wrote with the request.")
    decline_reason = fields.Text(
        "Decline Reason",
        states={
            'invisible': ~Eval('state').in_(['requested', 'declined']),
            'readonly': Eval('state') != 'requested',
            })
    company = fields.Function(
        fields.Many2One('company.company', "Organization"),
        'on_change_with_company', searcher='search_company')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('invitation_token_unique', Unique(t, t.invitation_token),
                'lk_base.msg_access_invitation_token_unique'),
            ]
        cls._sql_indexes.update({
                Index(
                    t, (t.web_user, Index.Range()),
                    (t.state, Index.Equality())),
                Index(
                    t, (t.account, Index.Range()),
                    (t.state, Index.Equality())),
                Index(
                    t, (t.state, Index.Equality()),
                    where=t.state == 'requested'),
                })
        cls._order = [('id', 'DESC')]
        cls._transitions |= {
            ('invited', 'active'),
            ('invited', 'revoked'),
            ('requested', 'active'),
            ('requested', 'declined'),
            ('active', 'blocked'),
            ('active', 'revoked'),
            ('blocked', 'active'),
            ('blocked', 'revoked'),
            }
        cls._buttons.update({
                'approve': {
                    'invisible': Eval('state') != 'requested',
                    'depends': ['state'],
                    },
                'decline': {
                    'invisible': Eval('state') != 'requested',
                    'readonly': ~Eval('decline_reason'),
                    'depends': ['state', 'decline_reason'],
                    },
                'block': {
                    'invisible': Eval('state') != 'active',
                    'depends': ['state'],
                    },
                'unblock': {
                    'invisible': Eval('state') != 'blocked',
                    'depends': ['state'],
                    },
                'revoke': {
                    'invisible': ~Eval('state').in_(
                        ['invited', 'active', 'blocked']),
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_role(cls):
        return 'owner'

    @classmethod
    def default_state(cls):
        return 'active'

    @classmethod
    def default_right_readings(cls):
        return True

    @classmethod
    def default_right_payment(cls):
        return True

    @classmethod
    def default_right_appeals(cls):
        return True

    def get_right_view(self, name):
        return self.valid

    @fields.depends('account', '_parent_account.company')
    def on_change_with_company(self, name=None):
        return self.account.company if self.account else None

    @classmethod
    def search_company(cls, name, clause):
        return [('account.' + clause[0],) + tuple(clause[1:])]

    @property
    def valid(self):
        "Whether the access lets its user see the account today"
        pool = Pool()
        Date = pool.get('ir.date')
        return (self.state == 'active'
            and (not self.end_date or self.end_date >= Date.today()))

    def has_right(self, right):
        "Whether the access is valid with the right (view, readings…)"
        if not self.valid:
            return False
        return (right == 'view' or self.role == 'owner'
            or bool(getattr(self, f'right_{right}')))

    def get_rec_name(self, name):
        who = self.web_user.rec_name if self.web_user else (
            self.invitation_email or '')
        return f'{who} → {self.account.rec_name}'

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        if values.get('role') == 'owner':
            values.update({r: True for r in RIGHTS})
        if values.get('invitation_email'):
            values['invitation_email'] = (
                values['invitation_email'].strip().lower())
        if mode == 'create' and values.get('state') == 'invited':
            values.setdefault(
                'invitation_token', secrets.token_urlsafe(32))
        return values

    @classmethod
    def validate_fields(cls, accesses, field_names):
        super().validate_fields(accesses, field_names)
        cls.check_unique_valid(accesses, field_names)

    @classmethod
    def check_unique_valid(cls, accesses, field_names=None):
        "One user holds one live access to an account at a time"
        if field_names and not (field_names & {
                    'state', 'web_user', 'account'}):
            return
        live = ['requested', 'active', 'blocked']
        for access in accesses:
            if access.state not in live or not access.web_user:
                continue
            others = cls.search([
                    ('id', '!=', access.id),
                    ('web_user', '=', access.web_user.id),
                    ('account', '=', access.account.id),
                    ('state', 'in', live),
                    ], limit=1)
            if others:
                raise AccessValidationError(gettext(
                        'lk_base.msg_access_duplicate',
                        user=access.web_user.rec_name,
                        account=access.account.rec_name))

    @classmethod
    @ModelView.button
    @Workflow.transition('active')
    def approve(cls, accesses):
        cls.write(accesses, {'approved_by': Transaction().user or None})
        cls.send_email(accesses, 'lk.account.access.email_approved')

    @classmethod
    @ModelView.button
    @Workflow.transition('declined')
    def decline(cls, accesses):
        for access in accesses:
            if not access.decline_reason:
                raise AccessValidationError(gettext(
                        'lk_base.msg_access_decline_reason',
                        access=access.rec_name))
        cls.write(accesses, {'approved_by': Transaction().user or None})
        cls.send_email(accesses, 'lk.account.access.email_declined')

    @classmethod
    @ModelView.button
    @Workflow.transition('blocked')
    def block(cls, accesses):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('active')
    def unblock(cls, accesses):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('revoked')
    def revoke(cls, accesses):
        cls.write(accesses, {'invitation_token': None})

    @classmethod
    def send_email(cls, accesses, report):
        """E-mail the report about each access to its user, in their
        language, when the transaction commits"""
        from_cfg = config.get('email', 'from')
        for access in accesses:
            user = access.web_user
            if not user or not user.email:
                continue
            msg, title = get_email(report, access, user.languages)
            # Replies go to the organization
            set_from_header(
                msg, from_cfg, access.account.company.email or from_cfg)
            msg['To'] = user.email
            msg['Subject'] = title
            send_message_transactional(msg)

    @classmethod
    def find_account(cls, company, number):
        "The active account of the organization with the number, or None"
        pool = Pool()
        Account = pool.get('lk.account')
        with without_check_access():
            accounts = Account.search([
                    ('company', '=', company.id),
                    ('number', '=', (number or '').strip()),
                    ('state', '=', 'active'),
                    ], limit=1)
        return accounts[0] if accounts else None

    @classmethod
    def claim(cls, web_user, company, number, code):
        """Make the user owner of the account if the code printed on its
        bills matches; throttled like a sign-in"""
        pool = Pool()
        Attempt = pool.get('web.user.authenticate.attempt')
        Account = pool.get('lk.account')
        if company.registration_policy != 'verification':
            raise AccessValidationError(gettext(
                    'lk_base.msg_access_code_not_used',
                    organization=company.display_name))
        key = f'lk.account.claim:{web_user.id}'
        if Attempt.count(key) > config.getint(
                'session', 'max_attempt', default=5):
            raise RateLimitException()
        account = cls.find_account(company, number)
        expected = Account.normalize_access_code(
            account.access_code if account else None)
        given = Account.normalize_access_code(code)
        if not (expected and compare_digest(expected, given)):
            Attempt.add(key)
            raise AccessValidationError(gettext(
                    'lk_base.msg_access_code_wrong',
                    number=number, organization=company.display_name))
        Attempt.remove(key)
        return cls._grant_owner(web_user, account, state='active')

    @classmethod
    def request(cls, web_user, company, number, message=None):
        "Ask the organization's staff to make the user owner of the account"
        if company.registration_policy == 'closed':
            raise AccessValidationError(gettext(
                    'lk_base.msg_access_registration_closed',
                    organization=company.display_name))
        account = cls.find_account(company, number)
        if not account:
            raise AccessValidationError(gettext(
                    'lk_base.msg_access_account_unknown',
                    number=number, organization=company.display_name))
        return cls._grant_owner(
            web_user, account, state='requested', request_message=message)

    @classmethod
    def _grant_owner(cls, web_user, account, **values):
        with without_check_access():
            access, = cls.create([{
                        'web_user': web_user.id,
                        'account': account.id,
                        'role': 'owner',
                        **values,
                        }])
        return access


class AccessEmailApproved(Report):
    __name__ = 'lk.account.access.email_approved'


class AccessEmailDeclined(Report):
    __name__ = 'lk.account.access.email_declined'
