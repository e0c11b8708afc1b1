# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""What the feature modules add to the portal's pages

A feature module extends `lk.portal` with PoolMeta from a class it registers
under `[register lk_portal]` in its tryton.cfg, so the extension exists only
in a database where both modules are activated; importing that class's file
also registers the module's routes and API operations (see portal.route).
Each method returns the base's items plus the module's own, in the
request's language, and only what the subscriber has the right to use."""
from types import SimpleNamespace

from trytond.model import Model


def item(url, title, **values):
    "A menu entry, home panel or account action"
    return SimpleNamespace(url=url, title=title, **values)


class Portal(Model):
    "Subscriber Portal"
    __name__ = 'lk.portal'

    @classmethod
    def menu(cls, request, web_user):
        "The entries of the main menu after «My accounts»: [item]"
        return []

    @classmethod
    def rights(cls, request):
        """The rights on an account an owner may give a delegate, beyond
        seeing it: [item] with name (of lk.account.access has_right),
        title, short (a badge) and default (checked in the invitation)"""
        return []

    @classmethod
    def header(cls, request, web_user):
        """What the header shows beside the menu on every signed-in page
        (computed once per page, so cheap): [item] with name, title and
        value (shown strong, or None); url None for a plain text"""
        return []

    @classmethod
    def home_panels(cls, request, web_user):
        """The panels of the home page: [item] with name, title, url, text
        and count (None when there is nothing to count)"""
        return []

    @classmethod
    def account_actions(cls, request, access):
        """What the user may do on the account of the valid access:
        [item] with name"""
        return []

    @classmethod
    def organization_sections(cls, request, organization_id):
        """The sections of the organization's public page, shown to anyone:
        [item] with name, title and entries ([item] with url, title, text)"""
        return []
