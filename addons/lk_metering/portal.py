# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""What meter readings add to the subscriber portal, where lk_portal is
activated too ([register lk_portal] in tryton.cfg)"""
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
            item('/readings', _(request, "Meter readings"))]

    @classmethod
    def rights(cls, request):
        return super().rights(request) + [
            item(None, _(request, "Submit meter readings"), name='readings',
                short=_(request, "Readings"), default=True)]

    @classmethod
    def home_panels(cls, request, web_user):
        panels = super().home_panels(request, web_user)
        if panel := routes.home_panel(request, web_user):
            panels.append(panel)
        return panels

    @classmethod
    def account_actions(cls, request, access):
        actions = super().account_actions(request, access)
        if access.has_right('readings'):
            actions.append(item(
                    f'/accounts/{access.account.id}/readings',
                    _(request, "Submit meter readings"), name='readings'))
        return actions
