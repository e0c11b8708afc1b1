# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""What announcements add to the subscriber portal, where lk_portal is
activated too ([register lk_portal] in tryton.cfg): the «Объявления» and
«Уведомления» menu entries, the home tile with the unread count and the
latest news, the documents on the organization's public page"""
from trytond.modules.lk_portal.extension import item
from trytond.modules.lk_portal.portal import translate as _
from trytond.pool import PoolMeta

# Loading this extension registers the pages and the API operations
from . import api, routes  # noqa: F401


class Portal(metaclass=PoolMeta):
    __name__ = 'lk.portal'

    @classmethod
    def menu(cls, request, web_user):
        return super().menu(request, web_user) + [
            item('/announcements', _(request, "Announcements")),
            item('/notifications', _(request, "Notifications")),
            ]

    @classmethod
    def home_panels(cls, request, web_user):
        return (super().home_panels(request, web_user)
            + routes.home_panels(request, web_user))

    @classmethod
    def organization_sections(cls, request, organization_id):
        return (super().organization_sections(request, organization_id)
            + routes.organization_sections(request, organization_id))
