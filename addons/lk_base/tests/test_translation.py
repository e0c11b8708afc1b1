# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.tests.test_tryton import _DBTestCase

from .translation import TranslationTestMixin


class TranslationTestCase(TranslationTestMixin, _DBTestCase):
    """Every string lk_base shows to staff or subscribers (descriptions,
    help, selections, views, menus, actions, buttons, groups, messages,
    e-mail templates) has its Russian translation"""
    module = 'lk_base'


del _DBTestCase
