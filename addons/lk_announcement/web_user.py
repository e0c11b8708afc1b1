# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""A subscriber user's notification settings and the signed token of the
unsubscribe links of their reminders"""
import hashlib
import hmac
import secrets

from trytond.model import fields
from trytond.pool import PoolMeta
from trytond.transaction import without_check_access

# The reminders a user may switch off, by the field that switches them
REMINDERS = {
    'readings': 'remind_readings',
    'debt': 'remind_debt',
    }


class User(metaclass=PoolMeta):
    __name__ = 'web.user'

    remind_readings = fields.Boolean(
        "Readings Reminders",
        help="E-mails when the readings window opens and before it closes.")
    remind_debt = fields.Boolean(
        "Debt Reminders", help="A monthly e-mail while there is a debt.")
    notification_key = fields.Char(
        "Notification Key", readonly=True, strip=False,
        help="Signs the unsubscribe links of the user's reminders.")

    @classmethod
    def default_remind_readings(cls):
        return True

    @classmethod
    def default_remind_debt(cls):
        return True

    def _notification_signature(self, kind):
        return hmac.new(
            self.notification_key.encode('utf-8'),
            f'{self.id}:{kind}'.encode('utf-8'),
            hashlib.sha256).hexdigest()[:32]

    def unsubscribe_token(self, kind):
        "The token of the link that switches the reminders of kind off"
        if not self.notification_key:
            with without_check_access():
                self.notification_key = secrets.token_urlsafe(32)
                self.save()
        return f'{self.id}-{kind}-{self._notification_signature(kind)}'

    @classmethod
    def from_unsubscribe_token(cls, token):
        "(user, kind) of a valid token, else None"
        try:
            user_id, kind, signature = token.split('-', 2)
            user_id = int(user_id)
        except (ValueError, AttributeError):
            return None
        if kind not in REMINDERS or not (0 < user_id < 2 ** 31):
            return None
        with without_check_access():
            users = cls.search([('id', '=', user_id)], limit=1)
        if not users or not users[0].notification_key:
            return None
        user, = users
        if not hmac.compare_digest(
                user._notification_signature(kind), signature):
            return None
        return user, kind

    def reminded(self, kind):
        "Whether the user wants the reminders of kind"
        return bool(getattr(self, REMINDERS[kind]))
