# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from .test_module import create_account, create_staff

__all__ = ['create_account', 'create_staff']
