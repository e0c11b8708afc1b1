# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import datetime as dt
import math
import secrets
from hmac import compare_digest
from urllib.parse import urlencode

from sql import Null
from sql.aggregate import Count

from trytond import config
from trytond.exceptions import RateLimitException
from trytond.i18n import gettext
from trytond.model import fields
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction, without_check_access

from .exceptions import ConsentDateError, SignInError

_dummy_hash = None


def max_attempt():
    "Failed sign-ins allowed per e-mail and network in the window"
    return config.getint('session', 'max_attempt', default=5)


def max_attempt_network():
    "Attempts of any kind allowed per network in the window"
    return config.getint('session', 'max_attempt_ip_network', default=300)


class User(metaclass=PoolMeta):
    __name__ = 'web.user'

    lk_consent_date = fields.Timestamp(
        "Personal Data Consent", readonly=True,
        help="When the user consented to the processing of their personal "
        "data (152-ФЗ) at registration.")

    @classmethod
    def check_modification(cls, mode, users, values=None, external=False):
        super().check_modification(
            mode, users, values=values, external=external)
        # The consent is the subscriber's own act, recorded by the portal
        if external and mode in {'create', 'write'}:
            for user in users:
                if ('lk_consent_date' in values if mode == 'write'
                        else user.lk_consent_date):
                    raise ConsentDateError(gettext(
                            'lk_portal.msg_consent_date_by_registration',
                            user=user.rec_name))

    @classmethod
    def lk_sign_in(cls, email, password):
        """The user of the e-mail and password, let into the portal

        Returns None for a wrong e-mail or password and for a blocked or
        deactivated user, who get the same answer in the same time. Raises
        RateLimitException while lk_sign_in_wait(email) is not 0 and
        SignInError when the password is right but the address is not
        confirmed. No answer sleeps: see the policy in doc/index.rst."""
        pool = Pool()
        Attempt = pool.get('web.user.authenticate.attempt')
        email = (email or '').strip().lower()
        if cls.lk_sign_in_wait(email):
            raise RateLimitException()
        users = cls.search([('email', '=', email)], limit=1) if email else []
        user = users[0] if users else None
        # An unknown e-mail costs a hash check like a known one
        hash_ = user.password_hash if user else None
        valid, new_hash = cls.check_password(
            password or '', hash_ or cls._lk_dummy_hash())
        if not (hash_ and valid):
            Attempt.add(email)
            return None
        if new_hash:
            with Transaction().new_transaction():
                cls.write([cls(user.id)], {'password_hash': new_hash})
        Attempt.lk_remove(email)
        if user.blocked:
            return None
        if not user.email_valid:
            raise SignInError(gettext(
                    'lk_portal.msg_sign_in_email_not_valid',
                    email=user.email))
        return user

    @classmethod
    def lk_sign_in_wait(cls, email):
        """Seconds the request's network must wait before it may try to
        sign in with the e-mail again, 0 when it may now"""
        pool = Pool()
        Attempt = pool.get('web.user.authenticate.attempt')
        email = (email or '').strip().lower()
        waits = [0]
        if Attempt.count_ip() > max_attempt_network():
            waits.append(Attempt.lk_wait())
        if Attempt.lk_count(email) > max_attempt():
            waits.append(Attempt.lk_wait(email))
        return max(waits)

    @classmethod
    def _lk_dummy_hash(cls):
        global _dummy_hash
        if _dummy_hash is None:
            _dummy_hash = cls.hash_password(secrets.token_urlsafe())
        return _dummy_hash

    @classmethod
    def lk_resend_validation(cls, email):
        """E-mail a new link to confirm the address to the user of the
        e-mail if it is not confirmed yet

        At most [session] max_resend (3) times per e-mail in the window of
        the sign-in attempts; the same nothing is returned for any e-mail."""
        pool = Pool()
        Attempt = pool.get('web.user.authenticate.attempt')
        email = (email or '').strip().lower()
        key = f'lk.resend:{email}'
        if (Attempt.count(key) >= config.getint(
                    'session', 'max_resend', default=3)
                or Attempt.count_ip() > max_attempt_network()):
            return
        Attempt.add(key)
        users = cls.search([('email', '=', email)], limit=1)
        if users and not (users[0].email_valid or users[0].blocked):
            cls.validate_email(users)

    def get_email_validation_url(self, url=None):
        """web_user's link, with the portal's page the user was going to
        (context lk_next, e.g. an invitation): it survives the mail"""
        url = super().get_email_validation_url(url=url)
        if url and (next_ := Transaction().context.get('lk_next')):
            url += ('&' if '?' in url else '?') + urlencode({'next': next_})
        return url

    @classmethod
    def lk_reset_token_valid(cls, email, token):
        "Whether the reset token is the user's of the e-mail and not expired"
        email = (email or '').strip().lower()
        users = cls.search([('email', '=', email)], limit=1) if email else []
        if not users or not token:
            return False
        user, = users
        expected = user.reset_password_token
        expire = user.reset_password_token_expire
        return bool(expected and compare_digest(
                expected.encode(), token.encode())
            and expire and expire > dt.datetime.now())

    @classmethod
    def lk_reset_password(cls, email, token, password):
        """Set the password of the user of the e-mail if the reset token is
        theirs and not expired; returns whether it was

        web_user's set_password_token without its sleep: the token cannot
        be guessed, and a sleeping worker serves no one else. The token came
        by e-mail, so the address is proven."""
        pool = Pool()
        Attempt = pool.get('web.user.authenticate.attempt')
        email = (email or '').strip().lower()
        users = cls.search([('email', '=', email)], limit=1) if email else []
        if not users:
            return False
        user, = users
        expected = user.reset_password_token
        if not (expected and token and compare_digest(
                expected.encode(), token.encode())):
            return False
        expire = user.reset_password_token_expire
        valid = bool(expire and expire > dt.datetime.now())
        user.clear_reset_password_token()
        if valid:
            user.password_hash = cls.hash_password(password)
            user.email_valid = True
        user.save()
        if valid:
            Attempt.remove(email)
        return valid

    @classmethod
    def lk_accept_invitation(cls, web_user, token):
        """Make web_user the delegate of the invitation with the token

        Returns the access or None when no pending invitation has this token
        for the user's e-mail: the invitee is not yet a user of the account,
        so the portal rules would not let them see it."""
        pool = Pool()
        Access = pool.get('lk.account.access')
        with without_check_access():
            access = Access.find_invitation(token)
            if not access:
                return None
            if (access.invitation_email or '').lower() != (
                    web_user.email or '').lower():
                return None
            Access.write([access], {
                    'web_user': web_user.id,
                    'state': 'active',
                    'invitation_token': None,
                    })
        return access


class UserAuthenticateAttempt(metaclass=PoolMeta):
    __name__ = 'web.user.authenticate.attempt'

    @classmethod
    def _lk_where(cls, table, login=None, network=True):
        """The attempts in the window of login (if given) from the request's
        network (if network)"""
        where = table.create_date >= cls.delay()
        if network:
            _, network = Transaction().remote_address()
            where &= table.ip_network == (str(network) if network else Null)
        if login is not None:
            where &= table.login == login[:cls.login.size]
        return where

    @classmethod
    def lk_count(cls, login):
        "The attempts of login from the request's network in the window"
        cursor = Transaction().connection.cursor()
        table = cls.__table__()
        cursor.execute(*table.select(
                Count(table.id), where=cls._lk_where(table, login)))
        return cursor.fetchone()[0]

    @classmethod
    def lk_remove(cls, login):
        "Forget the attempts of login from the request's network"
        cursor = Transaction().connection.cursor()
        table = cls.__table__()
        cursor.execute(*table.delete(where=cls._lk_where(table, login)))

    @classmethod
    def lk_wait(cls, login=None, network=True):
        """Seconds until the oldest attempt (of login) from the request's
        network (or any, without network) leaves the window"""
        cursor = Transaction().connection.cursor()
        table = cls.__table__()
        cursor.execute(*table.select(
                table.create_date,
                where=cls._lk_where(table, login, network=network),
                order_by=table.create_date.asc, limit=1))
        row = cursor.fetchone()
        if not row:
            return 0
        oldest = row[0]
        if isinstance(oldest, str):
            oldest = dt.datetime.fromisoformat(oldest)
        left = oldest - cls.delay()
        return max(1, math.ceil(left.total_seconds()))
