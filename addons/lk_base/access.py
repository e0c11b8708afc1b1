# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import secrets
from hmac import compare_digest

from trytond import config
from sql.operators import Equal

from trytond.exceptions import RateLimitException
from trytond.i18n import gettext
from trytond.model import (
    Exclude, Index, ModelSQL, ModelView, Unique, Workflow, fields)
from trytond.pool import Pool
from trytond.pyson import Eval, If
from trytond.transaction import Transaction, without_check_access

from .exceptions import AccessModificationError, AccessValidationError
from .model import (
    EMAIL_SIZE, check_email_field, check_readable, company_field, shown_in)
from .report import Report

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
# What staff and the portal may change on an access; the rest is set when it
# is created or by the workflow's buttons
WRITABLE = set(RIGHTS) | {
    'end_date', 'invitation_email', 'decline_reason', 'account'}
CLOSED = ['declined', 'revoked']


def right_field(string, help):
    "A right of the access: a delegate's is chosen, an owner has every one"
    return fields.Boolean(
        string, help=help,
        states={
            'readonly': Eval('role') == 'owner',
            })


class AccountAccess(Workflow, ModelSQL, ModelView):
    """A subscriber user's access to an account

    The owner proved they hold the account (access code or staff approval)
    and has every right; a delegate was invited by an owner with the rights
    chosen, optionally until an end date."""
    __name__ = 'lk.account.access'
    __string__ = "Account Access"

    company = company_field(ondelete='CASCADE', readonly=True)
    # Empty on the request for a number the organization has no account
    # with, which staff decline or link to the account the subscriber meant
    # before they approve it
    account = fields.Many2One(
        'lk.account', "Account", ondelete='CASCADE',
        domain=[
            If(Eval('company'),
                ('company', '=', Eval('company', -1)),
                ()),
            ],
        states={
            'required': ~Eval('state').in_(['requested', 'declined']),
            'readonly': (Eval('id', -1) >= 0) & (Eval('state') != 'requested'),
            })
    requested_number = fields.Char(
        "Requested Number", readonly=True, size=50,
        states={
            'required': Eval('state') == 'requested',
            'invisible': ~Eval('requested_number'),
            },
        help="The account number as the subscriber typed it in the request.")
    web_user = fields.Many2One(
        'web.user', "User", ondelete='CASCADE',
        states={
            # an invitation revoked before anyone accepted it has no user
            'required': ~Eval('state').in_(['invited', 'revoked']),
            'readonly': Eval('id', -1) >= 0,
            })
    role = fields.Selection(
        ROLES, "Role", required=True,
        states={
            'readonly': Eval('id', -1) >= 0,
            })
    valid = fields.Function(
        fields.Boolean(
            "Valid", help="The access lets its user see the account today."),
        'get_valid', searcher='search_valid')
    right_view = fields.Function(
        fields.Boolean("View"), 'get_right_view')
    right_readings = right_field("Readings", "Enter meter readings.")
    right_payment = right_field("Payment", "Pay online.")
    right_appeals = right_field(
        "Appeals", "Write appeals to the organization.")
    end_date = fields.Date(
        "End Date", help="The last day the access is valid.",
        states={
            'invisible': Eval('role') != 'delegate',
            })
    state = fields.Selection(
        STATES, "State", readonly=True, required=True, sort=False)
    state_string = state.translated('state')
    granted_by = fields.Many2One(
        'web.user', "Granted by", readonly=True, ondelete='SET NULL',
        help="The owner who invited the delegate.")
    approved_by = fields.Many2One(
        'res.user', "Approved by", readonly=True, ondelete='SET NULL',
        help="The staff member who approved or declined the request.")
    invitation_email = fields.Char(
        "Invitation E-mail", size=EMAIL_SIZE,
        states={
            'invisible': Eval('role') != 'delegate',
            'readonly': Eval('state') != 'invited',
            })
    invitation_token = fields.Char(
        "Invitation Token", readonly=True, strip=False)
    request_message = fields.Text(
        "Request Message", readonly=True, size=2000,
        help="What the subscriber wrote with the request.")
    decline_reason = fields.Text(
        "Decline Reason", size=2000,
        states={
            'invisible': ~Eval('state').in_(['requested', 'declined']),
            'readonly': Eval('state') != 'requested',
            })

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('invitation_token_unique', Unique(t, t.invitation_token),
                'lk_base.msg_access_invitation_token_unique'),
            ('request_open_exclude', Exclude(t,
                    (t.web_user, Equal), (t.company, Equal),
                    (t.requested_number, Equal),
                    where=t.state == 'requested'),
                'lk_base.msg_access_request_open'),
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
                'approve': shown_in('requested'),
                'decline': {
                    'invisible': Eval('state') != 'requested',
                    'readonly': ~Eval('decline_reason'),
                    'depends': ['state', 'decline_reason'],
                    },
                'block': shown_in('active'),
                'unblock': shown_in('blocked'),
                'revoke': shown_in('invited', 'active', 'blocked'),
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

    @classmethod
    def right_fields(cls):
        "The fields of the rights a delegate may be given"
        return list(RIGHTS)

    def get_right_view(self, name):
        return self.valid

    @classmethod
    def valid_domain(cls):
        """What makes an access valid today: the one definition, used by
        the `valid` field, its searcher and so the record rules"""
        pool = Pool()
        Date = pool.get('ir.date')
        return [
            ('state', '=', 'active'),
            ['OR',
                ('end_date', '=', None),
                ('end_date', '>=', Date.today()),
                ],
            ]

    def get_valid(self, name):
        pool = Pool()
        Date = pool.get('ir.date')
        return (self.state == 'active'
            and (not self.end_date or self.end_date >= Date.today()))

    @classmethod
    def search_valid(cls, name, clause):
        _, operator, value = clause[:3]
        pool = Pool()
        Date = pool.get('ir.date')
        if (operator, bool(value)) in {('=', True), ('!=', False)}:
            return cls.valid_domain()
        return ['OR',
            ('state', '!=', 'active'),
            ('end_date', '<', Date.today()),
            ]

    @classmethod
    def valid_for(cls, web_user, accounts=None):
        """The valid accesses of web_user by account id, to the accounts
        given or to all"""
        domain = [
            ('web_user', '=', web_user.id),
            ('valid', '=', True),
            ]
        if accounts is not None:
            domain.append(('account', 'in', [int(a) for a in accounts]))
        return {a.account.id: a for a in cls.search(domain)}

    @fields.depends('account', '_parent_account.company')
    def on_change_account(self):
        if self.account:
            # from the client, which sent the account's id
            check_readable([self.account])
            self.company = self.account.company

    def has_right(self, right):
        "Whether the access is valid with the right (view, readings…)"
        if not self.valid:
            return False
        return (right == 'view' or self.role == 'owner'
            or bool(getattr(self, f'right_{right}')))

    def get_rec_name(self, name):
        who = self.web_user.rec_name if self.web_user else (
            self.invitation_email or '')
        if self.account:
            return f'{who} → {self.account.rec_name}'
        return f'{who} → {self.requested_number} ({self.company.rec_name})'

    @classmethod
    def preprocess_values(cls, mode, values):
        pool = Pool()
        Account = pool.get('lk.account')
        values = super().preprocess_values(mode, values)
        if mode == 'create' and values.get('account'):
            account = Account(values['account'])
            values['company'] = account.company.id
            if (values.get('state') == 'requested'
                    and not values.get('requested_number')):
                values['requested_number'] = account.number
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
    def create(cls, vlist):
        pool = Pool()
        WebUser = pool.get('web.user')
        # Checked before the access exists: once it does, the staff rule of
        # web.user lets its organization see the user it links
        if Transaction().user and Transaction().check_access:
            check_readable(WebUser.browse({
                        values[name] for values in vlist
                        for name in ['web_user', 'granted_by']
                        if values.get(name) is not None}))
        return super().create(vlist)

    @classmethod
    def check_modification(cls, mode, accesses, values=None, external=False):
        """Over RPC or in the portal only the rights, the end date, the
        invitation's address, the account and the reason of a decline of a
        request change; the workflow's buttons do the rest, and closed
        accesses stay as they are"""
        pool = Pool()
        Account = pool.get('lk.account')
        super().check_modification(
            mode, accesses, values=values, external=external)
        if external and mode == 'create':
            cls.check_end_date([a.end_date for a in accesses])
        elif external and mode == 'write' and 'end_date' in values:
            cls.check_end_date([values['end_date']])
        if not external or mode != 'write':
            return
        if values.get('account'):
            # Read with the rules: the error of the account's domain would
            # name any account
            check_readable([Account(values['account'])])
        refused = values.keys() - WRITABLE
        for access in accesses:
            if access.state in CLOSED:
                raise AccessModificationError(gettext(
                        'lk_base.msg_access_closed',
                        access=access.rec_name,
                        state=access.state_string))
            if refused:
                strings = cls.fields_get(list(refused))
                raise AccessModificationError(gettext(
                        'lk_base.msg_access_readonly',
                        access=access.rec_name,
                        fields=', '.join(
                            strings.get(n, {}).get('string', n)
                            for n in sorted(refused))))
            for name, state in [
                    ('invitation_email', 'invited'),
                    ('account', 'requested'),
                    ('decline_reason', 'requested')]:
                if name in values and access.state != state:
                    raise AccessModificationError(gettext(
                            'lk_base.msg_access_readonly',
                            access=access.rec_name,
                            fields=cls.fields_get([name])[name]['string']))

    @classmethod
    def validate_fields(cls, accesses, field_names):
        super().validate_fields(accesses, field_names)
        cls.check_unique_valid(accesses, field_names)
        check_email_field(accesses, field_names, 'invitation_email')

    @classmethod
    def check_end_date(cls, dates):
        """An end date given in the past would grant nothing (a date that
        passed since is how a delegation ends)"""
        pool = Pool()
        Date = pool.get('ir.date')
        today = Date.today()
        for date in dates:
            if date and date < today:
                raise AccessValidationError(gettext(
                        'lk_base.msg_access_end_date_past',
                        date=date.strftime('%d.%m.%Y'),
                        today=today.strftime('%d.%m.%Y')))

    @classmethod
    def check_unique_valid(cls, accesses, field_names=None):
        "One user holds one live access to an account at a time"
        if field_names and not (field_names & {
                    'state', 'web_user', 'account'}):
            return
        live = ['requested', 'active', 'blocked']
        for access in accesses:
            if (access.state not in live or not access.web_user
                    or not access.account):
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
        for access in accesses:
            if not access.account:
                raise AccessValidationError(gettext(
                        'lk_base.msg_access_approve_number_unknown',
                        access=access.rec_name,
                        number=access.requested_number,
                        organization=access.company.rec_name))
        cls.record_decision(accesses, 'lk.account.access.email_approved')
        # the list's tab of requests no longer shows them
        return 'reload'

    @classmethod
    @ModelView.button
    @Workflow.transition('declined')
    def decline(cls, accesses):
        for access in accesses:
            if not access.decline_reason:
                raise AccessValidationError(gettext(
                        'lk_base.msg_access_decline_reason',
                        access=access.rec_name))
        cls.record_decision(accesses, 'lk.account.access.email_declined')
        return 'reload'

    @classmethod
    def record_decision(cls, accesses, report):
        "Store who decided on the requests and e-mail the report to the users"
        cls.write(accesses, {'approved_by': Transaction().user or None})
        cls.send_email(accesses, report)

    @classmethod
    @ModelView.button
    @Workflow.transition('blocked')
    def block(cls, accesses):
        return 'reload'

    @classmethod
    @ModelView.button
    @Workflow.transition('active')
    def unblock(cls, accesses):
        return 'reload'

    @classmethod
    @ModelView.button
    @Workflow.transition('revoked')
    def revoke(cls, accesses):
        cls.write(accesses, {'invitation_token': None})
        return 'reload'

    @classmethod
    def send_email(cls, accesses, report):
        """E-mail the report about each access to its user, in their
        language, when the transaction commits"""
        pool = Pool()
        Outbox = pool.get('lk.mail.outbox')
        for access in accesses:
            user = access.web_user
            if not user or not user.email:
                continue
            # Replies go to the organization
            Outbox.enqueue_report(
                report, access, user.languages, user.email,
                from_=access.company.email)

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
    def find_invitation(cls, token):
        "The invitation with the token still pending, or None"
        if not token:
            return None
        with without_check_access():
            invitations = cls.search([
                    ('invitation_token', '=', token),
                    ('state', '=', 'invited'),
                    ], limit=1)
        return invitations[0] if invitations else None

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
        return cls._grant_owner(web_user, company, account, state='active')

    @classmethod
    def request(cls, web_user, company, number, message=None):
        """Ask the organization's staff to make the user owner of the account
        with the number

        The request is recorded and answered alike whether the organization
        has an active account with the number or not, so that it tells
        nobody which numbers exist: what may refuse it (lengths, throttle
        per user and per network) is checked before the number is looked
        up, staff decline the requests for unknown numbers, and asking again
        for the same number returns the open request."""
        pool = Pool()
        Attempt = pool.get('web.user.authenticate.attempt')
        if company.registration_policy == 'closed':
            raise AccessValidationError(gettext(
                    'lk_base.msg_access_registration_closed',
                    organization=company.display_name))
        number = (number or '').strip()
        if not number:
            raise AccessValidationError(gettext(
                    'lk_base.msg_access_request_number_required',
                    organization=company.display_name))
        if len(number) > cls.requested_number.size:
            raise AccessValidationError(gettext(
                    'lk_base.msg_access_request_number_size',
                    size=cls.requested_number.size))
        if message and len(message) > cls.request_message.size:
            raise AccessValidationError(gettext(
                    'lk_base.msg_access_request_message_size',
                    size=cls.request_message.size))
        key = f'lk.account.request:{web_user.id}'
        if (Attempt.count_ip() > config.getint(
                    'session', 'max_attempt_ip_network', default=300)
                or Attempt.count(key) > config.getint(
                    'session', 'max_attempt', default=5)):
            raise RateLimitException()
        Attempt.add(key)
        with without_check_access():
            requests = cls.search([
                    ('web_user', '=', web_user.id),
                    ('company', '=', company.id),
                    ('requested_number', '=', number),
                    ('state', '=', 'requested'),
                    ], limit=1)
        if requests:
            return requests[0]
        account = cls.find_account(company, number)
        if account:
            with without_check_access():
                live = cls.search([
                        ('web_user', '=', web_user.id),
                        ('account', '=', account.id),
                        ('state', 'in', ['requested', 'active', 'blocked']),
                        ], limit=1)
            # Only who has access to the account learns it exists
            if live:
                raise AccessValidationError(gettext(
                        'lk_base.msg_access_duplicate',
                        user=web_user.rec_name, account=account.rec_name))
        return cls._grant_owner(
            web_user, company, account, state='requested',
            requested_number=number, request_message=message)

    @classmethod
    def _grant_owner(cls, web_user, company, account, **values):
        with without_check_access():
            access, = cls.create([{
                        'web_user': web_user.id,
                        'company': company.id,
                        'account': account.id if account else None,
                        'role': 'owner',
                        **values,
                        }])
        return access


class AccessEmailApproved(Report):
    __name__ = 'lk.account.access.email_approved'


class AccessEmailDeclined(Report):
    __name__ = 'lk.account.access.email_declined'
