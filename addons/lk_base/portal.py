# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from contextlib import contextmanager

from trytond.pool import Pool
from trytond.transaction import Transaction, check_access


@contextmanager
def as_subscriber(web_user):
    """Run as the portal user for web_user (or for no one), with access
    rights checked: the portal rules of portal.xml then decide"""
    pool = Pool()
    ModelData = pool.get('ir.model.data')
    portal = ModelData.get_id('lk_base', 'user_portal')
    transaction = Transaction()
    with transaction.set_user(portal), \
            transaction.set_context(
                web_user=web_user.id if web_user else None), \
            check_access():
        yield
