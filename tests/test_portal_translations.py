# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Every message of the portal's templates and routes has its Russian
translation (addons/<module>/i18n/ru.po, kept by `make i18n`), no text is
out of the extractor's sight, and the Russian pages show no English.

The catalog tests extract the messages in memory (no database); the walk
signs in on the demo server and reads every page it can reach in Russian.
"""
import html.parser
import http.cookiejar
import re
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import polib
import pytest

ADDONS = Path(__file__).resolve().parent.parent / 'addons'
PLACEHOLDER = re.compile(r'%(?:\([A-Za-z_]+\))?[sdif]')


def portal_modules():
    from trytond.modules.lk_portal import i18n
    return i18n.portal_modules()


def module_names():
    "The project's modules with portal templates or translations"
    return sorted(
        p.name for p in ADDONS.iterdir()
        if any(p.glob('templates/*.html')) or any(p.glob('i18n/*.po')))


def russian(path):
    "The ru.po of the module at path by msgid"
    file = Path(path) / 'i18n' / 'ru.po'
    return {e.msgid: e for e in polib.pofile(str(file))} if file.exists() \
        else {}


def test_extraction_sees_every_kind_of_text(tmp_path):
    "What the extractor finds and what it reports as never translated"
    from trytond.modules.lk_portal import i18n
    (tmp_path / 'templates').mkdir()
    (tmp_path / 'templates' / 'page.html').write_text('''\
<html xmlns="http://www.w3.org/1999/xhtml"
    xmlns:py="http://genshi.edgewall.org/">
<head><title>Page title</title></head>
<body>
  <p>Text node <b>${name}</b> after</p>
  <img src="/x.png" alt="Picture"/>
  <nav aria-label="Menu"><input placeholder="Your name"/></nav>
  <p title="${_('From an expression')}">${_('Called %(n)s') % {'n': 1}}</p>
  <p py:attrs="{'title': _('In py:attrs')}" py:content="_('In content')"/>
  <p>${code == 'ru' and 'Русский' or 'English'}</p>
  <p>${'Hard coded' if name else ''}</p>
  <p title="Mixed ${name}" data-confirm="Are you sure?">x</p>
  <input type="submit" value="Send"/>
  <p py:content="'In content literal'"/>
</body>
</html>''', encoding='utf-8')
    (tmp_path / 'routes.py').write_text('''\
TITLES = {'a': N_("Marked"), 'b': "Forgotten"}


def page(request, value):
    logger.info("Logged %s", value)
    return _(request, "Translated") + _(request, value), 'ident'
''', encoding='utf-8')
    assert set(i18n.extract(tmp_path)) == {
        'Page title', 'Text node', 'after', 'Picture', 'Menu', 'Your name',
        'From an expression', 'Called %(n)s', 'In py:attrs', 'In content',
        'x', 'Marked', 'Translated'}
    found = [text for _where, text in i18n.untranslatable(tmp_path)]
    assert sorted(found) == sorted([
            'Hard coded', 'title="Mixed …"', 'data-confirm="Are you sure?"',
            'value="Send"', 'In content literal', 'Forgotten'])
    assert i18n.dynamic_calls(tmp_path) == ['routes.py:6']


def test_update_keeps_translations(tmp_path):
    "make i18n adds new messages, keeps translations, obsoletes the gone"
    from trytond.modules.lk_portal import i18n
    (tmp_path / 'routes.py').write_text(
        'A = N_("Kept")\nB = N_("New")\n', encoding='utf-8')
    (tmp_path / 'i18n').mkdir()
    (tmp_path / 'i18n' / 'ru.po').write_text(
        'msgid "Kept"\nmsgstr "Оставлено"\n\n'
        'msgid "Gone"\nmsgstr "Удалено"\n', encoding='utf-8')
    assert i18n.update(tmp_path) == {'ru': (1, 1), 'en': (2, 0)}
    entries = {e.msgid: e for e in polib.pofile(
            str(tmp_path / 'i18n' / 'ru.po'))}
    assert entries['Kept'].msgstr == "Оставлено"
    assert entries['New'].msgstr == ''
    assert entries['Gone'].obsolete
    assert i18n.Catalog('ru', [tmp_path]).gettext('Gone') == 'Gone'
    assert i18n.Catalog('ru', [tmp_path]).gettext('Kept') == "Оставлено"


def test_portal_modules_found():
    "The portal's loader and catalog use every module that brings pages"
    assert set(module_names()) <= set(portal_modules())
    assert 'lk_portal' in module_names()


@pytest.mark.parametrize('module', module_names())
def test_russian_translation_complete(module):
    from trytond.modules.lk_portal import i18n
    path = portal_modules()[module]
    messages = i18n.extract(path)
    assert messages, "no message found"
    translated = russian(path)
    missing = [
        f"{where[0][0]}:{where[0][1]}: {msgid!r}"
        for msgid, where in messages.items()
        if not (msgid in translated and translated[msgid].msgstr
            and not translated[msgid].obsolete
            and 'fuzzy' not in translated[msgid].flags)]
    assert not missing, (
        f"{len(missing)} messages of {module} have no Russian translation "
        f"(make i18n, then translate {module}/i18n/ru.po):\n"
        + "\n".join(missing))


@pytest.mark.parametrize('module', module_names())
def test_no_stale_translation(module):
    "A translation whose message is gone is marked obsolete by make i18n"
    from trytond.modules.lk_portal import i18n
    path = portal_modules()[module]
    messages = i18n.extract(path)
    stale = [
        repr(msgid) for msgid, entry in russian(path).items()
        if msgid and not entry.obsolete and msgid not in messages]
    assert not stale, (
        f"{module}/i18n/ru.po translates messages that are gone (make "
        "i18n):\n" + "\n".join(stale))


@pytest.mark.parametrize('module', module_names())
def test_translation_keeps_placeholders(module):
    path = portal_modules()[module]
    wrong = [
        f"{msgid!r} → {entry.msgstr!r}"
        for msgid, entry in russian(path).items()
        if entry.msgstr and not entry.obsolete
        and sorted(PLACEHOLDER.findall(msgid))
        != sorted(PLACEHOLDER.findall(entry.msgstr))]
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize('module', module_names())
def test_no_untranslatable_text(module):
    """No text a subscriber reads is out of the extractor's sight: a
    literal in a template expression or in an attribute that is not
    translated, a double quoted literal of the routes outside _() or N_()"""
    from trytond.modules.lk_portal import i18n
    found = i18n.untranslatable(portal_modules()[module])
    assert not found, (
        f"text of {module} that is never translated (use _() or N_(), see "
        "lk_portal/i18n.py):\n"
        + "\n".join(f"{where}: {text!r}" for where, text in found))


def test_templates_load_in_russian():
    """The loader finds every module's template by its name alone (so no
    two modules have one of the same name) and translates it"""
    from trytond.modules.lk_portal import i18n
    names = {}
    for name, path in portal_modules().items():
        for file in i18n.template_files(path):
            relative = str(file.relative_to(path / 'templates'))
            assert relative not in names, (
                f"{name} and {names[relative]} both have {relative}")
            names[relative] = name
            template = i18n.loader('ru').load(relative)
            assert Path(template.filepath) == file


def test_one_translation_per_message():
    "Two modules that share a message translate it alike"
    seen, conflicts = {}, []
    for name, path in portal_modules().items():
        for msgid, entry in russian(path).items():
            if not msgid or not entry.msgstr or entry.obsolete:
                continue
            other = seen.setdefault(msgid, (name, entry.msgstr))
            if other[1] != entry.msgstr:
                conflicts.append(
                    f"{msgid!r}: {other[0]} {other[1]!r}, "
                    f"{name} {entry.msgstr!r}")
    assert not conflicts, "\n".join(conflicts)


def test_catalog_merges_modules():
    "A feature module's message is translated by the portal's catalog"
    from trytond.modules.lk_portal import i18n
    for name, path in portal_modules().items():
        catalog = i18n.Catalog('ru')
        for msgid, entry in russian(path).items():
            if msgid and entry.msgstr and not entry.obsolete:
                assert catalog.gettext(msgid) == (
                    i18n.catalog('ru').gettext(msgid))
                assert catalog.gettext(msgid) != msgid or (
                    entry.msgstr == msgid), (name, msgid)


# The walk of the Russian pages

SUBSCRIBER = 'abonent1@example.com'
PASSWORD = 'demo'
# Words that are right in a Russian page: language names, the formats
ALLOWED = {'English'}
# Attributes a reader reads or hears
READ_ATTRIBUTES = {
    'title', 'alt', 'aria-label', 'placeholder', 'label', 'summary',
    'data-confirm', 'aria-description'}
LATIN = re.compile(r"[A-Za-z][A-Za-z'’-]+")
NOT_A_WORD = re.compile(
    r'\S+@\S+|https?://\S+|\b[A-Z]{0,4}-?\d[\w-]*|\b\w*\d\w*\b')


class Text(html.parser.HTMLParser):
    "The text of a page a reader reads, and its links"

    def __init__(self):
        super().__init__()
        self.texts, self.links = [], []
        self._skip = 0
        self._ignored = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in {'script', 'style'}:
            self._skip += 1
        if tag == 'a' and attrs.get('href'):
            self.links.append(attrs['href'])
        for name in READ_ATTRIBUTES:
            if attrs.get(name):
                self.texts.append(attrs[name])
        if tag in {'input', 'button'} and attrs.get('type') in {
                'submit', 'button', 'reset'} and attrs.get('value'):
            self.texts.append(attrs['value'])

    def handle_endtag(self, tag):
        if tag in {'script', 'style'}:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.texts.append(data.strip())


def english(text, data):
    "The English words of text that are not data of the demo"
    text = NOT_A_WORD.sub(' ', text)
    for value in data:
        text = text.replace(value, ' ')
    return [
        w for w in LATIN.findall(text)
        if w not in ALLOWED]


@pytest.fixture(scope='module')
def demo_data(db):
    "Texts of the demo's records that may be written in Latin letters"
    def read(pool):
        values = set()
        for model, names in [
                ('lk.meter', ['serial', 'model', 'place']),
                ('company.company', ['rec_name', 'short_name', 'website']),
                ('lk.account', ['number']),
                # delegates the other tests invited show on the revoke page
                ('web.user', ['email'])]:
            try:
                Model = pool.get(model)
            except KeyError:
                continue
            for record in Model.search([]):
                for name in names:
                    value = getattr(record, name, None)
                    if isinstance(value, str) and value.strip():
                        values.add(value.strip())
        return sorted(values, key=len, reverse=True)
    return db(read)


class Browser:
    "A client with cookies speaking Russian"

    def __init__(self, url):
        self.url = url
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        self.opener.addheaders = [('Accept-Language', 'ru-RU,ru;q=0.9')]

    def open(self, path, form=None):
        data = urllib.parse.urlencode(form).encode() if form else None
        try:
            with self.opener.open(self.url + path, data) as response:
                return response.status, response.headers, \
                    response.read().decode('utf-8')
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read().decode('utf-8')


def csrf(page):
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def walk(browser, start, limit=60):
    "(path, status, page) of every page reachable from start"
    queue, seen = list(start), set()
    while queue and len(seen) < limit:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        status, headers, page = browser.open(path)
        if 'text/html' not in headers.get('Content-Type', ''):
            continue
        yield path, status, page
        parser = Text()
        parser.feed(page)
        for link in parser.links:
            link = urllib.parse.urljoin(path, link)
            if (link.startswith('/') and not link.startswith('//')
                    and not link.startswith(('/static', '/lang/', '/admin'))
                    and not link.endswith(('/logo', '.pdf'))
                    and link.split('#')[0] not in seen):
                queue.append(link.split('#')[0])


def test_russian_pages_show_no_english(demo_server, demo_data, report):
    """Signed out and signed in, every page the subscriber reaches in
    Russian (and the error pages) shows no English word"""
    browser = Browser(demo_server.url)
    found = {}
    pages = []

    def check(path, page):
        pages.append(path)
        parser = Text()
        parser.feed(page)
        for text in parser.texts:
            if english(text, demo_data):
                found.setdefault(text, []).append(path)

    def read(start, limit):
        for path, status, page in walk(browser, start, limit=limit):
            check(path, page)

    def submit(path, form):
        "The answer to the form of the page at path, as sent with form"
        status, headers, page = browser.open(path)
        status, headers, page = browser.open(
            path, {'csrf_token': csrf(page), **form})
        check(f'POST {path}', page)

    read([
            '/login', '/register', '/reset-request', '/reset?token=x',
            '/validate?token=x', '/invitations/x', '/no-such-page',
            '/accounts/999999'], limit=20)
    # the errors of the forms
    submit('/login', {'email': SUBSCRIBER, 'password': 'wrong'})
    submit('/register', {
            'email': 'not an address', 'password': 'x', 'password2': 'y'})
    submit('/reset-request', {'email': 'nobody@example.com'})
    status, headers, page = browser.open('/login')
    status, headers, page = browser.open('/login', {
            'csrf_token': csrf(page), 'email': SUBSCRIBER,
            'password': PASSWORD, 'next': '/'})
    assert 'name="password"' not in page, "sign-in failed"
    read(['/', '/no-such-page', '/accounts/999999'], limit=60)
    submit('/accounts/add', {'number': ''})
    report(f"Russian pages read for English: {len(pages)}")
    assert len(pages) > 10, pages
    assert not found, "English in the Russian pages:\n" + "\n".join(
        f"{text!r} on {', '.join(sorted(set(paths))[:5])}"
        for text, paths in found.items())
