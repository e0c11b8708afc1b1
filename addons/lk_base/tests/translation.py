# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The completeness of a module's Tryton catalogue (locale/<lang>.po)

Tryton's own machinery lists what a module shows: the «Set Translations»
wizard (ir.translation.set) extracts the strings of the views and reports,
and the export (ir.translation.translation_export) writes them with the
model and field descriptions, help texts, selection values, menus, actions,
buttons, groups and messages registered at activation, as the «Export
Translations» wizard does. Call within a transaction of a database where the
module is activated."""
import re

import polib

from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction
from trytond.tools import file_open

LATIN = re.compile(r'[A-Za-z]')
CYRILLIC = re.compile(r'[А-Яа-яЁё]')


def source_catalogue(module):
    "The module's source strings (English) as a polib.POFile"
    pool = Pool()
    Translation = pool.get('ir.translation')
    TranslationSet = pool.get('ir.translation.set', type='wizard')
    session_id, _, _ = TranslationSet.create()
    try:
        wizard = TranslationSet(session_id)
        wizard.set_report()
        wizard.set_view()
    finally:
        TranslationSet.delete(session_id)
    content = Translation.translation_export('en', module)
    return polib.pofile(content.decode('utf-8') if content else '')


def module_catalogue(module, lang):
    "The module's locale/<lang>.po as a polib.POFile"
    with file_open(f'{module}/locale/{lang}.po', 'rb') as file:
        return polib.pofile(file.read().decode('utf-8'))


def _key(entry):
    return entry.msgctxt, entry.msgid


def untranslated(module, lang='ru'):
    """The source entries (msgctxt, msgid) of the module with no translation
    in its catalogue: absent, empty or fuzzy (Tryton skips fuzzy ones)"""
    catalogue = {_key(e): e for e in module_catalogue(module, lang)}
    missing = []
    for entry in source_catalogue(module):
        translated = catalogue.get(_key(entry))
        if (translated is None or 'fuzzy' in translated.flags
                or not (translated.msgstr
                    or any(translated.msgstr_plural.values()))):
            missing.append(_key(entry))
    return missing


def obsolete(module, lang='ru'):
    "The catalogue's entries (msgctxt, msgid) the module no longer shows"
    sources = {_key(e) for e in source_catalogue(module)}
    return [
        _key(e) for e in module_catalogue(module, lang)
        if _key(e) not in sources]


def not_english(module):
    """The source strings written mostly in Cyrillic: the sources are
    English, Russian comes from the catalogue"""
    return [
        _key(e) for e in source_catalogue(module)
        if len(CYRILLIC.findall(e.msgid)) > len(LATIN.findall(e.msgid))]


class TranslationTestMixin:
    """The tests of the catalogue of the module named by the test case's
    module attribute, for a _DBTestCase"""

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
