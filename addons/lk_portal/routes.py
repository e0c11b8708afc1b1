# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"The portal's pages"
from trytond.protocols.wrappers import with_pool, with_transaction

from .portal import render, route, subscriber


@route('/')
@with_pool
@with_transaction()
@subscriber
def home(request, pool, web_user):
    Account = pool.get('lk.account')
    accounts = Account.search([])
    return render(request, 'home.html', accounts=accounts)
