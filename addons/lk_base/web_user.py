# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.model import fields
from trytond.pool import PoolMeta


class User(metaclass=PoolMeta):
    __name__ = 'web.user'

    lk_accesses = fields.One2Many(
        'lk.account.access', 'web_user', "Account Accesses")
