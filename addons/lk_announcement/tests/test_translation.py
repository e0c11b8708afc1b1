# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.modules.lk_base.tests.translation import TranslationTestMixin
from trytond.tests.test_tryton import _DBTestCase


class TranslationTestCase(TranslationTestMixin, _DBTestCase):
    """Every string lk_announcement shows to staff or subscribers has its
    Russian translation (see lk_base/tests/translation.py)"""
    module = 'lk_announcement'
    # what lk_announcement registers only with these modules too
    extras = ['lk_portal', 'lk_metering', 'lk_billing']


del _DBTestCase
