# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import datetime as dt

import trytond.config as config
from trytond.i18n import gettext
from trytond.model import ModelView, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval, Id
from trytond.report import get_email
from trytond.transaction import Transaction, without_check_access

from .exceptions import WebUserModificationError
from .model import check_email_field
from .report import Report

# The language of the e-mails of a user who chose none
DEFAULT_LANGUAGE = 'ru'
# What lets someone sign in as the subscriber: never sent to the backend
SECRETS = ['password_hash', 'reset_password_token', 'email_token']
# A subscriber's identity spans organizations: the staff of one may change
# only these (the e-mail under conditions, see check_modification)
STAFF_WRITABLE = {
    'email', 'party', 'secondary_parties', 'lk_accesses', 'language'}


def mail_language(code):
    "The id of the language of the code for e-mails, None if not offered"
    pool = Pool()
    Lang = pool.get('ir.lang')
    langs = Lang.search([
            ('code', '=', code),
            ('translatable', '=', True),
            ], limit=1)
    return langs[0].id if langs else None


def send_email(from_, users, email_func):
    """web_user's _send_email through the outbox: each user gets the
    message of email_func(user), sent once the transaction commits and
    retried until the mail server takes it"""
    pool = Pool()
    Outbox = pool.get('lk.mail.outbox')
    for user in users:
        # rendered by the sender
        Outbox.enqueue_method(user, email_func.__name__, user.email, from_)


class User(metaclass=PoolMeta):
    __name__ = 'web.user'

    lk_accesses = fields.One2Many(
        'lk.account.access', 'web_user', "Account Accesses")
    company = fields.Many2One(
        'company.company', "Organization", ondelete='SET NULL',
        help="The organization whose staff created the user.\n"
        "Its staff see the user even before an account is linked.")
    blocked = fields.Boolean(
        "Blocked", readonly=True,
        help="A blocked user cannot sign in to the portal.")
    last_sign_in = fields.Timestamp("Last Sign-in", readonly=True)
    language = fields.Many2One(
        'ir.lang', "Language", ondelete='SET NULL',
        domain=[('translatable', '=', True)],
        help="The language of the e-mails to the user.\n"
        "The portal sets the one the user registered in.")
    lk_account_count = fields.Function(
        fields.Integer(
            "Accounts",
            help="The number of accounts the user currently has access to."),
        'get_lk_accesses')
    lk_accesses_blocked = fields.Function(
        fields.Boolean(
            "Accesses Blocked",
            help="Some of the user's accesses to the accounts of your "
            "organizations are blocked."),
        'get_lk_accesses')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        # check_modification refuses them to staff; the form says so
        operator = Id('lk_base', 'group_operator').in_(
            Eval('context', {}).get('groups', []))
        for field in [cls.active, cls.email_valid, cls.company]:
            readonly = field.states.get('readonly')
            field.states = {
                **field.states,
                'readonly': (readonly | ~operator) if readonly else ~operator,
                }
        # Loaded only when asked for, so the clients of staff, who may not
        # read them, never ask for them
        for name in SECRETS:
            getattr(cls, name).loading = 'lazy'
        for field in [cls.party, cls.secondary_parties]:
            field.context = {**field.context, 'company': Eval('company', -1)}
            field.depends.add('company')
        cls._buttons.update({
                'invite': {
                    'invisible': (
                        Eval('email_valid', False)
                        | Eval('blocked', False)
                        | ~Eval('active', True)),
                    'depends': ['email_valid', 'blocked', 'active'],
                    },
                'block': {
                    'invisible': Eval('blocked', False),
                    'depends': ['blocked'],
                    },
                'unblock': {
                    'invisible': ~Eval('blocked', False)
                    & ~Eval('lk_accesses_blocked', False),
                    'depends': ['blocked', 'lk_accesses_blocked'],
                    },
                })

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_blocked(cls):
        return False

    @classmethod
    def default_language(cls):
        return mail_language(DEFAULT_LANGUAGE)

    @property
    def languages(self):
        if self.language:
            return [self.language]
        return super().languages

    @classmethod
    def get_lk_accesses(cls, users, names):
        pool = Pool()
        Access = pool.get('lk.account.access')
        ResUser = pool.get('res.user')
        ids = [u.id for u in users]
        result = {
            'lk_account_count': dict.fromkeys(ids, 0),
            'lk_accesses_blocked': dict.fromkeys(ids, False),
            }
        domain = [
            ('web_user', 'in', ids),
            ('state', 'in', ['active', 'blocked']),
            ]
        if Transaction().user:
            # Staff see the accesses to their organizations' accounts only
            domain.append(('company', 'in', ResUser.get_companies()))
        for access in Access.search(domain):
            user_id = access.web_user.id
            if access.state == 'active':
                result['lk_account_count'][user_id] += 1
            else:
                result['lk_accesses_blocked'][user_id] = True
        return {n: result[n] for n in names}

    @classmethod
    def copy(cls, users, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('lk_accesses')
        default.setdefault('blocked')
        default.setdefault('last_sign_in')
        return super().copy(users, default=default)

    @classmethod
    def validate_fields(cls, users, field_names):
        super().validate_fields(users, field_names)
        check_email_field(users, field_names)

    @classmethod
    def check_modification(cls, mode, users, values=None, external=False):
        """Refuse what would let one organization's staff, or the portal,
        take over a subscriber's identity, which spans organizations: only
        the service operator sets passwords, e-mails and blocks"""
        pool = Pool()
        ResUser = pool.get('res.user')
        super().check_modification(
            mode, users, values=values, external=external)
        if not external or ResUser.lk_operator():
            return
        if ResUser.lk_portal():
            # the portal changes the signed-in user only
            web_user = Transaction().context.get('web_user')
            for user in users:
                if user.id != web_user:
                    raise WebUserModificationError(gettext(
                            'lk_base.msg_web_user_portal_other',
                            user=user.rec_name))
            return
        companies = set(ResUser.get_companies())
        if mode == 'create':
            for user in users:
                if (user.password_hash or user.email_valid or user.blocked
                        or (user.company
                            and user.company.id not in companies)):
                    raise WebUserModificationError(gettext(
                            'lk_base.msg_web_user_create_identity',
                            user=user.rec_name))
        elif mode == 'write':
            refused = values.keys() - STAFF_WRITABLE
            if refused:
                strings = cls.fields_get(list(refused))
                raise WebUserModificationError(gettext(
                        'lk_base.msg_web_user_identity',
                        user=', '.join(u.rec_name for u in users[:5]),
                        fields=', '.join(
                            strings.get(n, {}).get('string', n)
                            for n in sorted(refused))))
            if 'email' in values:
                email = (values['email'] or '').strip().lower()
                for user in users:
                    if (user.email or '') != email and (
                            not user._lk_email_changeable(companies)):
                        raise WebUserModificationError(gettext(
                                'lk_base.msg_web_user_email',
                                user=user.rec_name))

    def _lk_email_changeable(self, companies):
        """Whether staff of the companies may change the user's e-mail: the
        user never chose a password and exists for their organizations
        only"""
        pool = Pool()
        Access = pool.get('lk.account.access')
        if self.password_hash:
            return False
        if not self.company or self.company.id not in companies:
            return False
        with without_check_access():
            accesses = Access.search([('web_user', '=', self.id)])
        return all(a.company.id in companies for a in accesses)

    @classmethod
    def create(cls, vlist):
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        transaction = Transaction()
        # on_modification cannot tell a user created by staff in the
        # backend, whose access is checked, from one created by code
        with without_check_access():
            portal = ModelData.get_id('lk_base', 'user_portal')
        by_staff = (transaction.user and transaction.check_access
            and transaction.user != portal)
        users = super().create(vlist)
        if by_staff:
            # The subscriber chooses the password
            cls.invite([
                    u for u in users
                    if u.email and u.active and not u.blocked
                    and not u.password_hash])
        return users

    @classmethod
    def authenticate(cls, email, password):
        user = super().authenticate(email, password)
        if user and user.blocked:
            return None
        return user

    @classmethod
    def get_user(cls, session):
        user = super().get_user(session)
        if user and user.blocked:
            return None
        return user

    def new_session(self):
        key = super().new_session()
        with without_check_access():
            self.__class__.write([self], {
                    'last_sign_in': dt.datetime.now(),
                    })
        return key

    @classmethod
    def set_password_token(cls, email, token, password):
        result = super().set_password_token(email, token, password)
        if result:
            # The token came by e-mail: the address is proven
            with without_check_access():
                users = cls.search([
                        ('email', '=', email.lower()),
                        ('email_valid', '=', False),
                        ])
                cls.write(users, {'email_valid': True})
        return result

    @classmethod
    @ModelView.button
    def invite(cls, users, from_=None):
        "E-mail the users a link to set their password and sign in"
        for user in users:
            user.set_invitation_token()
        cls.save(users)
        for user in users:
            # Replies go to the organization
            send_email(
                from_ or (user.company.email if user.company else None),
                [user], cls.get_email_invitation)

    @classmethod
    @ModelView.button
    def validate_email(cls, users, from_=None):
        "web_user's, through the outbox"
        for user in users:
            user.set_email_token()
        cls.save(users)
        send_email(from_, users, cls.get_email_validation)

    @classmethod
    @ModelView.button
    def reset_password(cls, users, from_=None):
        """web_user's, through the outbox, and a link not yet expired is
        sent again rather than nothing (the mail may have been lost)"""
        now = dt.datetime.now()
        for user in users:
            if not (user.reset_password_token
                    and user.reset_password_token_expire
                    and user.reset_password_token_expire > now):
                user.set_reset_password_token()
        cls.save(users)
        send_email(from_, users, cls.get_email_reset_password)

    def set_invitation_token(self, nbytes=None):
        self.set_reset_password_token(nbytes=nbytes)
        self.reset_password_token_expire = (
            dt.datetime.now() + dt.timedelta(
                seconds=config.getint(
                    'session', 'web_timeout_invitation',
                    default=7 * 24 * 60 * 60)))

    def get_email_invitation(self):
        return get_email('web.user.email_invitation', self, self.languages)

    @classmethod
    @ModelView.button
    def block(cls, users):
        """Refuse the users' sign-in and end their sessions at once

        Staff of an organization block the users' accesses to their
        organizations' accounts only: the users keep their other ones."""
        pool = Pool()
        Session = pool.get('web.user.session')
        Access = pool.get('lk.account.access')
        ResUser = pool.get('res.user')
        if not ResUser.lk_operator():
            Access.block(cls._lk_accesses_here(users, 'active'))
            return 'reload'
        cls.write(users, {
                'blocked': True,
                'reset_password_token': None,
                'reset_password_token_expire': None,
                })
        Session.delete(Session.search([
                    ('user', 'in', [u.id for u in users]),
                    ]))
        # the list's tab of blocked users shows them
        return 'reload'

    @classmethod
    @ModelView.button
    def unblock(cls, users):
        """Lift the blocks: everywhere for the operator, on the accesses to
        their organizations' accounts for staff"""
        pool = Pool()
        Access = pool.get('lk.account.access')
        ResUser = pool.get('res.user')
        accesses = cls._lk_accesses_here(users, 'blocked')
        if not ResUser.lk_operator():
            unblocked = {a.web_user for a in accesses}
            for user in users:
                if user.blocked and user not in unblocked:
                    raise WebUserModificationError(gettext(
                            'lk_base.msg_web_user_blocked_everywhere',
                            user=user.rec_name))
        else:
            cls.write(users, {'blocked': False})
        Access.unblock(accesses)
        return 'reload'

    @classmethod
    def _lk_accesses_here(cls, users, state):
        "The accesses of the users in the state to the user's organizations"
        pool = Pool()
        Access = pool.get('lk.account.access')
        ResUser = pool.get('res.user')
        with without_check_access():
            return Access.search([
                    ('web_user', 'in', [u.id for u in users]),
                    ('state', '=', state),
                    ('company', 'in', ResUser.get_companies()),
                    ])


class EmailInvitation(Report):
    __name__ = 'web.user.email_invitation'
