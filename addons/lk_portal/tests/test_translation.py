# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.modules.lk_base.tests.translation import (
    not_english, untranslated)
from trytond.tests.test_tryton import _DBTestCase, with_transaction


class TranslationTestCase(_DBTestCase):
    """Every string lk_portal shows to staff or subscribers has its Russian
    translation (see lk_base/tests/translation.py)"""
    module = 'lk_portal'
    # what lk_portal registers only with lk_metering too
    extras = ['lk_metering']

    @with_transaction()
    def test_russian_complete(self):
        "Every source string has a Russian translation in locale/ru.po"
        missing = untranslated(self.module, 'ru')
        self.assertFalse(missing, "untranslated:\n" + '\n'.join(
                f'{c} {i!r}' for c, i in missing))

    @with_transaction()
    def test_sources_english(self):
        "The source strings are English, Russian comes from locale/ru.po"
        self.assertFalse(not_english(self.module))


del _DBTestCase
