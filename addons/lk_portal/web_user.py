# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.model import fields
from trytond.pool import Pool, PoolMeta
from trytond.transaction import without_check_access


class User(metaclass=PoolMeta):
    __name__ = 'web.user'

    lk_consent_date = fields.Timestamp(
        "Personal Data Consent", readonly=True,
        help="When the user consented to the processing of their personal "
        "data (152-ФЗ) at registration.")

    @classmethod
    def lk_accept_invitation(cls, web_user, token):
        """Make web_user the delegate of the invitation with the token

        Returns the access or None when no pending invitation has this token
        for the user's e-mail: the invitee is not yet a user of the account,
        so the portal rules would not let them see it."""
        pool = Pool()
        Access = pool.get('lk.account.access')
        if not token:
            return None
        with without_check_access():
            accesses = Access.search([
                    ('invitation_token', '=', token),
                    ('state', '=', 'invited'),
                    ], limit=1)
            if not accesses:
                return None
            access, = accesses
            if (access.invitation_email or '').lower() != (
                    web_user.email or '').lower():
                return None
            Access.write([access], {
                    'web_user': web_user.id,
                    'state': 'active',
                    'invitation_token': None,
                    })
        return access
