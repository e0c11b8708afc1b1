# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.modules.lk_base.tests.translation import TranslationTestMixin
from trytond.tests.test_tryton import _DBTestCase


class TranslationTestCase(TranslationTestMixin, _DBTestCase):
    """Every string lk_portal shows to staff or subscribers has its Russian
    translation (see lk_base/tests/translation.py)"""
    module = 'lk_portal'
    # what lk_portal registers only with lk_metering too
    extras = ['lk_metering']


del _DBTestCase
