# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The portal's translations: one catalog per language for every module.

A module brings portal pages by holding a folder `templates/` (Genshi
templates) and a folder `i18n/` (`ru.po`, `en.po`) next to its routes.py:
nothing to register. The portal's template loader searches the
`templates/` of lk_portal first, then of every other such module (so a
feature's page includes lk_portal's `layout.html`; template names must
differ between modules), and the catalog of a language merges the
`i18n/<code>.po` of all of them. Tryton's own messages (`gettext(
'lk_x.msg_…')`, message.xml) stay Tryton's, translated in locale/ru.po.

What is translated (English is the source language):
- templates: every text node, the attributes of ATTRIBUTES (title, alt,
  placeholder, aria-label…) and `${_('…')}` in expressions. Nothing else:
  a literal in an expression, a data-confirm, literal text mixed with
  `${…}` in an attribute are shown as they are; write `${_('…')}`.
- Python: `_(request, "…")` (`translate as _` of portal.py) translates a
  message at once; `N_("…")` marks one translated later by `_(request,
  value)` or `${_(value)}` (the titles of a dict of constants). Only
  literals are extracted. Human text is double quoted (STYLE.md): a double
  quoted literal of routes.py, portal.py or extension.py outside `_()`,
  `N_()`, gettext and log calls counts as forgotten (api.py's are the
  OpenAPI document's, for developers).
- No plural forms: write «Счётчиков: %(count)s», not «%(count)s meters».

`make i18n` (`python scripts/i18n.py extract [module …]`; `check` only
reports) extracts the messages of every such module and updates its
i18n/ru.po and en.po: a new message is added untranslated (or with its
translation in another module, when a page moves), a vanished one becomes
obsolete (#~, kept for its translation), translations stay; then translate
the empty msgstr of ru.po. tests/test_portal_translations.py fails while a
message has no Russian translation or a text escapes the extraction.
"""
import ast
import importlib.util
import io
import re
import sys
import tokenize
from pathlib import Path

import polib
from genshi.core import START
from genshi.filters import Translator
from genshi.filters.i18n import GETTEXT_FUNCTIONS, extract_from_code
from genshi.template import MarkupTemplate, TemplateLoader
from genshi.template.base import EXPR, SUB
from genshi.template.eval import Expression

HERE = Path(__file__).resolve().parent
MODULE = 'lk_portal'
# The portal's languages; the source language has an empty catalog
LANGUAGES = ['ru', 'en']
# The attributes translated as a whole besides the text nodes
ATTRIBUTES = Translator.INCLUDE_ATTRS | {'aria-label'}
# The marker of Python messages translated later
MARKER = 'N_'
PLACEHOLDER = re.compile(r'%(?:\([A-Za-z_]+\))?[sdif]')
# Language names are written in their own language
ENDONYMS = {'Русский', 'English'}
# The attributes that a user reads or hears besides ATTRIBUTES
HUMAN_ATTRIBUTES = {
    'aria-description', 'aria-roledescription', 'aria-valuetext',
    'data-confirm', 'data-message'}
HEADER = {
    'Project-Id-Version': 'lk 8.0',
    'MIME-Version': '1.0',
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Transfer-Encoding': '8bit',
    }


def N_(message):
    "Marks message for extraction; it is translated where it is shown"
    return message


def portal_modules():
    """The modules with portal templates or translations by name, their
    folder as value, lk_portal first"""
    from trytond.modules import get_modules
    found = {MODULE: HERE}
    for name in sorted(get_modules()):
        if name in found:
            continue
        try:
            spec = importlib.util.find_spec(f'trytond.modules.{name}')
        except (ImportError, ValueError):
            continue
        if not spec or not spec.submodule_search_locations:
            continue
        path = Path(list(spec.submodule_search_locations)[0])
        if (any((path / 'templates').glob('*.html'))
                or any((path / 'i18n').glob('*.po'))):
            found[name] = path
    return found


class Catalog:
    "The portal's translations of one language: i18n/<code>.po of modules"

    def __init__(self, code, paths=None):
        self.messages = {}
        for path in (paths or portal_modules().values()):
            file = Path(path) / 'i18n' / f'{code}.po'
            if not file.exists():
                continue
            for entry in polib.pofile(str(file)):
                if (entry.msgstr and not entry.obsolete
                        and 'fuzzy' not in entry.flags):
                    # the first module's translation of a message wins
                    self.messages.setdefault(entry.msgid, entry.msgstr)

    def gettext(self, message):
        return self.messages.get(message, message)

    ugettext = gettext

    def ngettext(self, singular, plural, n):
        return self.gettext(singular if n == 1 else plural)

    ungettext = ngettext


_catalogs = {}
_loaders = {}


def catalog(code):
    if code not in _catalogs:
        _catalogs[code] = Catalog(code)
    return _catalogs[code]


def translator(code):
    return Translator(catalog(code), include_attrs=ATTRIBUTES)


def loader(code):
    "A template loader whose templates translate their text into code"
    if code not in _loaders:
        filter_ = translator(code)

        def callback(template):
            filter_.setup(template)
        _loaders[code] = TemplateLoader(
            [str(p / 'templates') for p in portal_modules().values()
                if (p / 'templates').is_dir()],
            auto_reload=False, callback=callback)
    return _loaders[code]


# Extraction

def template_messages(path):
    "(line, message) of the template at path"
    with open(path, 'rb') as file:
        template = MarkupTemplate(file, filename=str(path))
    template.loader = None
    extractor = Translator(None, include_attrs=ATTRIBUTES)
    template.add_directives(Translator.NAMESPACE, extractor)
    # genshi leaves out the expressions of py:attrs, py:with… (and drops
    # the directives as it extracts)
    found = [
        (line, function, strings, [])
        for line, expression in _directive_expressions(template.stream)
        for function, strings in extract_from_code(
            expression, GETTEXT_FUNCTIONS)]
    found += extractor.extract(
        template.stream, gettext_functions=GETTEXT_FUNCTIONS)
    seen = set()
    for line, function, strings, comments in sorted(
            found, key=lambda m: m[0]):
        for string in strings if isinstance(strings, tuple) else [strings]:
            if string and (line, string) not in seen:
                seen.add((line, string))
                yield line, string


def _directive_expressions(events):
    "(line, expression) of the directives in the template's events"
    for kind, data, pos in events:
        if kind is SUB:
            directives, substream = data
            for directive in directives:
                expressions = [getattr(directive, 'expr', None)] + [
                    e for _names, e in getattr(directive, 'vars', [])]
                for expression in expressions:
                    if isinstance(expression, Expression):
                        yield pos[1] if pos else 0, expression
            yield from _directive_expressions(substream)


def _message_argument(node):
    """The message node of a call _(request, "…") or N_("…"), None for
    another call, False for a message that is not a literal"""
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
        return None
    if node.func.id == '_' and len(node.args) == 2:
        argument = node.args[1]
    elif node.func.id == MARKER and len(node.args) == 1:
        argument = node.args[0]
    else:
        return None
    if isinstance(argument, ast.Constant) and isinstance(
            argument.value, str):
        return argument
    return False


def python_messages(path):
    """(line, message) of the Python file at path, and the lines of the
    calls whose message is not a literal"""
    tree = ast.parse(Path(path).read_text(encoding='utf-8'), str(path))
    messages, dynamic = [], []
    for node in ast.walk(tree):
        argument = _message_argument(node)
        if argument:
            messages.append((argument.lineno, argument.value))
        elif argument is False:
            dynamic.append(node.lineno)
    return sorted(messages), dynamic


def python_files(path):
    "The Python files of the module at path, its tests aside"
    return sorted(
        p for p in Path(path).rglob('*.py')
        if 'tests' not in p.relative_to(path).parts)


# The files of a module whose literals a subscriber reads: the pages and
# the extension of lk.portal. The others are Tryton's (fields, ir.message)
# and api.py's are the OpenAPI document's, for developers (its messages are
# ir.message or N_ marked).
PORTAL_FILES = {'routes.py', 'portal.py', 'extension.py'}


def template_files(path):
    return sorted((Path(path) / 'templates').rglob('*.html'))


def extract(path):
    """The messages of the module at path: {msgid: [(file, line)]}, in the
    order found, templates then Python"""
    path = Path(path)
    messages = {}

    def add(file, line, msgid):
        messages.setdefault(msgid, []).append(
            (str(file.relative_to(path)), str(line)))
    for file in template_files(path):
        for line, msgid in template_messages(file):
            add(file, line, msgid)
    for file in python_files(path):
        found, _dynamic = python_messages(file)
        for line, msgid in found:
            add(file, line, msgid)
    return messages


def dynamic_calls(path):
    "file:line of the calls that translate a value, not a literal"
    path = Path(path)
    calls = []
    for file in python_files(path):
        _found, dynamic = python_messages(file)
        calls.extend(f'{file.relative_to(path)}:{line}' for line in dynamic)
    return calls


def translations(code, paths, obsolete=True):
    """The translations of code in the modules at paths, obsolete ones
    too unless obsolete is False"""
    found = {}
    for path in paths:
        file = Path(path) / 'i18n' / f'{code}.po'
        if file.exists():
            for entry in polib.pofile(str(file)):
                if entry.msgid and entry.msgstr and (
                        obsolete or not entry.obsolete):
                    found.setdefault(entry.msgid, entry.msgstr)
    return found


def update(path, languages=LANGUAGES, others=()):
    """Update the i18n/<code>.po of the module at path with its messages;
    return {code: (added, obsoleted)}

    A new message is translated as in the modules at others if one of them
    has it (a page that moves keeps its translations); a vanished one is
    kept as obsolete unless another module translates it."""
    path = Path(path)
    messages = extract(path)
    result = {}
    (path / 'i18n').mkdir(exist_ok=True)
    for code in languages:
        file = path / 'i18n' / f'{code}.po'
        old = polib.pofile(str(file)) if file.exists() else []
        known = {e.msgid: e for e in old if e.msgid}
        elsewhere = translations(code, others)
        current = translations(code, others, obsolete=False)
        po = polib.POFile(wrapwidth=79)
        po.header = (
            f"Translations of {path.name}'s portal pages and messages "
            f"({code}).\nUpdated by `make i18n`: translate the empty "
            "msgstr, edit nothing else by hand.")
        po.metadata = dict(HEADER, Language=code)
        added = obsoleted = 0
        for msgid, occurrences in messages.items():
            entry = known.pop(msgid, None)
            if entry is None or entry.obsolete:
                added += 1
            msgstr = (entry.msgstr if entry else '') or elsewhere.get(
                msgid, '')
            flags = ['python-format'] if PLACEHOLDER.search(msgid) else []
            if entry and 'fuzzy' in entry.flags:
                flags.insert(0, 'fuzzy')
            po.append(polib.POEntry(
                    msgid=msgid, msgstr=msgstr,
                    occurrences=occurrences, flags=flags,
                    tcomment=entry.tcomment if entry else ''))
        for entry in known.values():
            if entry.msgstr and entry.msgid not in current:
                obsoleted += not entry.obsolete
                po.append(polib.POEntry(
                        msgid=entry.msgid, msgstr=entry.msgstr,
                        obsolete=True))
        text = str(po)
        if not file.exists() or file.read_text(encoding='utf-8') != text:
            file.write_text(text, encoding='utf-8')
        result[code] = (added, obsoleted)
    return result


def untranslatable(path):
    """Text of the module at path that no one translates: (file:line,
    text) of English or Russian words in a template outside the text nodes,
    translated attributes and `_()` calls, and of human text (a double
    quoted literal, see STYLE.md) in the Python code outside `_()`, `N_()`,
    trytond's gettext and log calls"""
    path = Path(path)
    found = []
    for file in template_files(path):
        for line, text in _template_literals(file):
            found.append((f'{file.relative_to(path)}:{line}', text))
    for file in python_files(path):
        if file.name not in PORTAL_FILES:
            continue
        for line, text in _python_literals(file):
            found.append((f'{file.relative_to(path)}:{line}', text))
    return found


def _template_literals(file):
    "(line, text) of the words of the template no one translates"
    with open(file, 'rb') as stream:
        template = MarkupTemplate(stream, filename=str(file))
    template.loader = None

    def expression_literals(expression, line):
        if not isinstance(expression, Expression):
            return
        translated = set()
        for node in ast.walk(expression.ast):
            if isinstance(node, ast.Call) and isinstance(
                    node.func, ast.Name) and (
                    node.func.id in GETTEXT_FUNCTIONS):
                translated.update(id(a) for a in node.args)
        for node in ast.walk(expression.ast):
            if (isinstance(node, ast.Constant) and isinstance(node.value, str)
                    and id(node) not in translated
                    and node.value not in ENDONYMS
                    and _is_human(node.value)):
                yield line, node.value

    def walk(events):
        for kind, data, pos in events:
            line = pos[1] if pos else 0
            if kind is START:
                tag, attrs = data
                for name, value in attrs:
                    name = str(name)
                    if isinstance(value, str):
                        if name in HUMAN_ATTRIBUTES and _is_words(value):
                            yield line, f'{name}="{value}"'
                        elif (name == 'value' and attrs.get('type') in {
                                    'submit', 'button', 'reset'}
                                and _is_words(value)):
                            yield line, f'{name}="{value}"'
                        continue
                    for sub_kind, sub_data, sub_pos in value:
                        if sub_kind is EXPR:
                            yield from expression_literals(sub_data, line)
                        elif (name in ATTRIBUTES or name in HUMAN_ATTRIBUTES
                                ) and _is_words(sub_data):
                            yield line, f'{name}="{sub_data}…"'
            elif kind is EXPR:
                yield from expression_literals(data, line)
            elif kind is SUB:
                directives, substream = data
                yield from walk(substream)
    yield from walk(template.stream)
    for line, expression in _directive_expressions(template.stream):
        yield from expression_literals(expression, line)


def _is_words(text):
    "Whether text has a word a reader reads: two letters or more"
    return bool(re.search(r'[A-Za-zА-Яа-яЁё]{2,}', text))


def _is_human(text):
    "A literal that reads as a message: words with a space, or a capital"
    if not _is_words(text):
        return False
    if re.fullmatch(r'[a-z0-9_.:/#?=&%{}\-]*', text):
        # an identifier, a state, a path or a format
        return False
    return bool(re.search(r'[A-Za-zА-Яа-яЁё]{2,}[ ,.!?:]+[A-Za-zА-Яа-яЁё]',
            text) or re.match(r'[A-ZА-ЯЁ][a-zа-яё]', text))


def _python_literals(file):
    "(line, text) of the double quoted literals outside messages"
    source = Path(file).read_text(encoding='utf-8')
    tree = ast.parse(source, str(file))
    # where each literal starts → whether it is double quoted
    double = {}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.STRING:
            quote = token.string.lstrip('rRbBuUfF')
            double.setdefault(token.start, quote.startswith('"') and not (
                    quote.startswith('"""')))
    skip = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            function = node.func
            name = (function.id if isinstance(function, ast.Name)
                else function.attr if isinstance(function, ast.Attribute)
                else None)
            if name in {'_', MARKER, 'gettext', 'debug', 'info', 'warning',
                    'error', 'exception', 'critical', 'log'}:
                for argument in ast.walk(node):
                    skip.add(id(argument))
        if (isinstance(node, ast.Assign)
                and isinstance(node.targets[0], ast.Subscript)
                and isinstance(node.targets[0].value, ast.Attribute)
                and node.targets[0].value.attr == 'headers'):
            # an HTTP header
            skip.add(id(node.value))
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef,
                    ast.AsyncFunctionDef)):
            if (node.body and isinstance(node.body[0], ast.Expr)
                    and isinstance(node.body[0].value, ast.Constant)):
                skip.add(id(node.body[0].value))
    for node in ast.walk(tree):
        if (isinstance(node, ast.Constant) and isinstance(node.value, str)
                and id(node) not in skip
                and double.get((node.lineno, node.col_offset))
                and _is_words(node.value)):
            yield node.lineno, node.value


def main(arguments=None):
    import argparse
    parser = argparse.ArgumentParser(
        prog='i18n', description="Extract the portal's messages into "
        "addons/<module>/i18n/<code>.po")
    parser.add_argument('command', choices=['extract', 'check'])
    parser.add_argument('modules', nargs='*', help="default: all")
    options = parser.parse_args(arguments)
    modules = portal_modules()
    names = options.modules or list(modules)
    if options.command == 'extract':
        others = {
            name: [p for n, p in modules.items() if n != name]
            for name in names}
        for name in names:
            for code, (added, obsoleted) in update(
                    modules[name], others=others[name]).items():
                print(f"{name}/i18n/{code}.po: {added} new, "
                    f"{obsoleted} obsolete")
        # once more: the obsolete messages of a module the others took
        for name in names:
            update(modules[name], others=others[name])
    status = 0
    for name in names:
        path = modules[name]
        translated = translations('ru', [path], obsolete=False)
        missing = [m for m in extract(path) if m not in translated]
        for msgid in missing:
            print(f"{name}: no Russian translation: {msgid!r}")
        for where, text in untranslatable(path):
            print(f"{name}/{where}: not translatable: {text!r}")
        for where in dynamic_calls(path):
            print(f"{name}/{where}: translates a value: its literals "
                f"need {MARKER}()")
        if missing and options.command == 'check':
            status = 1
    return status


if __name__ == '__main__':
    sys.exit(main())
