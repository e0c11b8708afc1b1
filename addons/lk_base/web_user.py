# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import datetime as dt

import trytond.config as config
from trytond.model import ModelView, fields
from trytond.modules.web_user.user import _send_email
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.report import Report, get_email
from trytond.transaction import Transaction, without_check_access

# What lets someone sign in as the subscriber: never sent to the backend
SECRETS = ['password_hash', 'reset_password_token', 'email_token']


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
    lk_account_count = fields.Function(
        fields.Integer(
            "Accounts",
            help="The number of accounts the user currently has access to."),
        'get_lk_account_count')

    @classmethod
    def __setup__(cls):
        super().__setup__()
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
                    'invisible': ~Eval('blocked', False),
                    'depends': ['blocked'],
                    },
                })

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_blocked(cls):
        return False

    @classmethod
    def get_lk_account_count(cls, users, name):
        pool = Pool()
        Access = pool.get('lk.account.access')
        ResUser = pool.get('res.user')
        counts = dict.fromkeys([u.id for u in users], 0)
        domain = [
            ('web_user', 'in', list(counts)),
            ('state', '=', 'active'),
            ]
        if Transaction().user:
            # Staff count only the accounts of their organizations
            domain.append(('account.company', 'in', ResUser.get_companies()))
        for access in Access.search(domain):
            counts[access.web_user.id] += 1
        return counts

    @classmethod
    def copy(cls, users, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('lk_accesses')
        default.setdefault('blocked')
        default.setdefault('last_sign_in')
        return super().copy(users, default=default)

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
            _send_email(
                from_ or (user.company.email if user.company else None),
                [user], cls.get_email_invitation)

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
        "Refuse the users' sign-in and end their sessions at once"
        pool = Pool()
        Session = pool.get('web.user.session')
        cls.write(users, {
                'blocked': True,
                'reset_password_token': None,
                'reset_password_token_expire': None,
                })
        Session.delete(Session.search([
                    ('user', 'in', [u.id for u in users]),
                    ]))

    @classmethod
    @ModelView.button
    def unblock(cls, users):
        cls.write(users, {'blocked': False})


class EmailInvitation(Report):
    __name__ = 'web.user.email_invitation'
