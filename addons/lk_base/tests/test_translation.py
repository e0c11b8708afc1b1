# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.tests.test_tryton import _DBTestCase, with_transaction

from .translation import not_english, untranslated


class TranslationTestCase(_DBTestCase):
    """Every string lk_base shows to staff or subscribers (descriptions,
    help, selections, views, menus, actions, buttons, groups, messages,
    e-mail templates) has its Russian translation"""
    module = 'lk_base'

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
