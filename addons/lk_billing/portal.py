# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""What billing adds to the subscriber portal, where lk_portal is activated
too ([register lk_portal] in tryton.cfg): the debt in the header, a home
panel and actions per account, the «Задолженность» menu entry"""
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
            item('/debt', _(request, "Debt"))]

    @classmethod
    def header(cls, request, web_user):
        items = super().header(request, web_user)
        if debt := routes.header_item(request, web_user):
            items.append(debt)
        return items

    @classmethod
    def home_panels(cls, request, web_user):
        return (super().home_panels(request, web_user)
            + routes.home_panels(request, web_user))

    @classmethod
    def account_actions(cls, request, access):
        actions = super().account_actions(request, access)
        if access.has_right('view'):
            actions += routes.account_actions(request, access)
        return actions
