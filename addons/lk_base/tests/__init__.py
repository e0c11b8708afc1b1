# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from .helpers import (
    AccessAssertions, LkModuleTestMixin, as_staff, create_account,
    create_organizations, create_shared_subscriber, create_staff,
    create_subscriber, create_web_user, email_text, grant,
    unrestricted_actions)

__all__ = [
    'AccessAssertions', 'LkModuleTestMixin', 'as_staff', 'create_account',
    'create_organizations', 'create_shared_subscriber', 'create_staff',
    'create_subscriber', 'create_web_user', 'email_text', 'grant',
    'unrestricted_actions']
