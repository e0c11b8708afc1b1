# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.modules.lk_base.tests.translation import TranslationTestMixin
from trytond.tests.test_tryton import _DBTestCase


class TranslationTestCase(TranslationTestMixin, _DBTestCase):
    """Every string lk_metering shows to staff or subscribers has its Russian
    translation (see lk_base/tests/translation.py)"""
    module = 'lk_metering'
    # what lk_metering registers only with lk_portal too
    extras = ['lk_portal']


del _DBTestCase
