# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The staff backend in sao, as `admin` (the service operator) and `bizuser`
(staff of one organization): every menu entry of the lk modules opens its
list (then the form of its first record) or its wizard, with no client-side
error, no error dialog and nothing that never loads; sao speaks Russian,
from its sign-in dialog on; the admin lands on the backend, not on Tryton's
configuration wizard; staff see no menu they do not need.

One browser for the module, one sign-in per user; screenshots go to
$LK_SAO_SHOTS (default test-results/sao)."""
import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAO = ROOT / 'var' / 'sao' / 'node_modules' / 'tryton-sao'
SHOTS = Path(os.environ.get('LK_SAO_SHOTS') or ROOT / 'test-results' / 'sao')
USERS = {'admin': 'admin', 'bizuser': 'demo'}
# How long a list, a form or a wizard may take to show (ms)
LOAD = 15000
# What sao shows when Tryton's answer is an error: the error, a user error
# or warning, a concurrency or an access error
ERROR_DIALOGS = (
    '.error-dialog.in, .warning-dialog.in, .user-warning-dialog.in, '
    '.concurrency-dialog.in')


def sao_widgets(path, name):
    "The widget names of a mapping of sao's source, e.g. its list columns"
    text = (SAO / 'src' / 'view' / path).read_text(encoding='utf-8')
    block = text[text.index(name + ' = {'):]
    return set(re.findall(r"'(\w+)':", block[:block.index('};')]))


def lk_menus(pool, login=None):
    """The menu entries of the lk modules, as (id, path, action type, model
    of a window action), that the user sees (all of them without login)"""
    from trytond.transaction import Transaction, check_access

    Menu = pool.get('ir.ui.menu')
    ModelData = pool.get('ir.model.data')
    User = pool.get('res.user')
    ids = [
        d.db_id for d in ModelData.search([
                ('model', '=', 'ir.ui.menu'),
                ('module', 'like', 'lk\\_%'),
                ])]
    if login:
        user, = User.search([('login', '=', login)])
        with Transaction().set_user(user.id), check_access():
            ids = [m.id for m in Menu.search([('id', 'in', ids)])]
    return [
        (m.id, m.complete_name, m.action.type if m.action else None,
            getattr(m.action, 'res_model', None))
        for m in Menu.browse(sorted(ids))]


def test_lk_lists_use_sao_widgets(db):
    """Every field of the lk views has a widget sao 8.0 knows: a list
    column of an unknown one ("ColumnFactory is not a constructor", e.g. a
    Timestamp, which lists show with widget="date" and "time") never loads"""
    from lxml import etree

    tree = sao_widgets('tree.js', 'Sao.View.TreeXMLViewParser.WIDGETS')
    editable = sao_widgets('tree.js', 'Sao.View.EditableTree.WIDGETS')
    form = sao_widgets('form.js', 'Sao.View.FormXMLViewParser.WIDGETS')

    def unknown(pool):
        View = pool.get('ir.ui.view')
        found = []
        for view in View.search([('module', 'like', 'lk\\_%')]):
            # an extension shows in the view it extends
            target = view.inherit or view
            Model = pool.get(target.model)
            result = Model.fields_view_get(view_id=target.id)
            arch = etree.fromstring(result['arch'])
            if arch.tag == 'tree':
                known = tree & editable if arch.get('editable') else tree
            elif arch.tag == 'form':
                known = form
            else:
                continue
            for node in arch.iter('field'):
                name = node.get('name')
                widget = node.get('widget') or result['fields'][name]['type']
                if widget not in known:
                    found.append((view.module, view.name, name, widget))
        return found
    assert not db(unknown)


def test_staff_menus(db):
    """Staff of an organization see the lk menus of their rights and none
    of Tryton's own (Parties, Administration…); the operator sees them all"""
    def menus(pool):
        Menu = pool.get('ir.ui.menu')
        User = pool.get('res.user')
        from trytond.transaction import Transaction, check_access
        result = {}
        for login in USERS:
            user, = User.search([('login', '=', login)])
            with Transaction().set_user(user.id), check_access():
                result[login] = {
                    m.complete_name.split(' / ')[0]
                    for m in Menu.search([('parent', '=', None)])}
        return result, {m[0] for m in lk_menus(pool)}, {
            m[0] for m in lk_menus(pool, 'admin')}
    roots, all_lk, admin_lk = db(menus)
    assert admin_lk == all_lk
    assert roots['bizuser'] == {'Личный кабинет'}, roots['bizuser']
    assert {'Administration', 'Parties'} <= roots['admin']


def test_demo_users(db):
    "The demo users speak Russian; no configuration wizard waits for admin"
    def read(pool):
        User = pool.get('res.user')
        ConfigItem = pool.get('ir.module.config_wizard.item')
        return ({
                u.login: u.language.code if u.language else None
                for u in User.search([('login', 'in', list(USERS))])},
            ConfigItem.search_count([('state', '=', 'open')]))
    languages, open_items = db(read)
    assert languages == {'admin': 'ru', 'bizuser': 'ru'}
    assert open_items == 0


@pytest.fixture(scope='module')
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path='/usr/bin/chromium',
            args=['--no-sandbox', '--disable-gpu',
                '--disable-background-networking',
                '--disable-component-update', '--disable-sync'])
        yield browser
        browser.close()


class Sao:
    "A page of sao signed in, and what went wrong on it"

    def __init__(self, page, shots):
        self.page = page
        self.errors = []
        self.shots = shots
        page.on('pageerror', lambda e: self.errors.append(f'page: {e}'))
        page.on('console', self._console)
        page.on('response', self._response)

    def _console(self, message):
        # a failed request is told by _response, with its URL
        if (message.type == 'error'
                and not message.text.startswith('Failed to load resource')):
            self.errors.append(f'console: {message.text}')

    def _response(self, response):
        request = response.request
        # sao asks for the database list, closed on purpose (403)
        if response.status >= 400 and not (
                request.method == 'POST'
                and response.url.endswith('/admin/rpc/')):
            self.errors.append(
                f'{request.method} {response.url}: {response.status}')

    def shot(self, name):
        self.shots.mkdir(parents=True, exist_ok=True)
        path = self.shots / (re.sub(r'\W+', '_', name).strip('_') + '.png')
        self.page.screenshot(path=str(path))
        return path

    def dialog_error(self):
        "The text of sao's error dialog, if one shows"
        dialog = self.page.locator(ERROR_DIALOGS)
        if dialog.count():
            return dialog.first.inner_text()

    def sign_in(self, database, login, password):
        page = self.page
        page.goto(f'/admin/#{database}')
        dialog = page.locator('.login-dialog')
        dialog.wait_for()
        self.shot(f'{login}-0-login')
        login_text = dialog.inner_text()
        page.locator('.login-dialog input#login').fill(login)
        page.locator('.login-dialog button[type=submit]').click()
        page.locator('input[type=password]').fill(password)
        page.keyboard.press('Enter')
        # the menu of lk, the first of the user's
        page.locator('#menu').get_by_text('Личный кабинет').first.wait_for()
        page.wait_for_load_state('networkidle')
        return login_text

    def open_menu(self, menu_id):
        "Run the menu entry's action as a click in sao's menu does"
        self.page.evaluate(
            """id => Sao.Action.exec_keyword(
                'tree_open', {model: 'ir.ui.menu', id: id}, null, false)""",
            menu_id)

    def wait(self, selector, what):
        """Wait for the selector in the current tab or dialog; an error
        dialog or a time-out fails"""
        page = self.page
        found = page.locator(f'{selector}, {ERROR_DIALOGS}').first
        try:
            found.wait_for(state='visible', timeout=LOAD)
        except Exception:
            raise AssertionError(
                f"{what} never loaded: {self.errors}") from None
        page.wait_for_load_state('networkidle')
        error = self.dialog_error()
        assert not error, f"{what}: {error}"

    def close_tab(self):
        self.page.evaluate('() => Sao.Tab.tabs.close_current()')
        self.page.wait_for_load_state('networkidle')


TAB = '#tabcontent > .tab-pane.active'
ROWS = f'{TAB} .treeview tbody > tr:not(.more-row)'


def searched(model):
    "Whether a response answers the search of the model's records"
    method = re.compile(r'"method":\s*"model\.%s\.search"' % re.escape(model))

    def test(response):
        return '/rpc/' in response.url and method.search(
            response.request.post_data or '') is not None
    return test


def walk(sao, menus, login):
    """Open every menu entry: a list and the form of its first record, or
    a wizard; returns what was seen, for the report"""
    page = sao.page
    seen = []
    for menu_id, path, action, model in menus:
        what = f"{login}: «{path}»"
        before = len(sao.errors)
        if action == 'ir.action.wizard':
            sao.open_menu(menu_id)
            sao.wait(f'.wizard-dialog.in .modal-body, {TAB} .wizard-form',
                what)
            sao.shot(f'{login}-{path}')
            # the wizard's first button is its way out (Cancel)
            page.locator(
                '.wizard-dialog.in .modal-footer button, '
                f'{TAB} .wizard-form .modal-footer button').first.click()
            page.wait_for_load_state('networkidle')
            seen.append((path, 'wizard'))
        else:
            try:
                with page.expect_response(
                        searched(model), timeout=LOAD) as answer:
                    sao.open_menu(menu_id)
                found = len(answer.value.json().get('result') or [])
            except Exception:
                raise AssertionError(
                    f"{what} never searched: {sao.errors}") from None
            sao.wait(f'{TAB} .treeview, {TAB} .form, {TAB} .graph', what)
            rows = page.locator(ROWS)
            if found:
                try:
                    rows.first.wait_for(timeout=LOAD)
                except Exception:
                    raise AssertionError(
                        f"{what}: the {found} records never showed: "
                        f"{sao.errors}") from None
            sao.shot(f'{login}-{path}')
            if found:
                # the first record in the form, as the switch button does
                page.evaluate("""() => {
                    const screen = Sao.Tab.tabs.get_current().screen;
                    screen.current_record = screen.group[0];
                    return screen.switch_view('form').then(() => null);
                    }""")
                sao.wait(f'{TAB} .form', f'{what}, form')
                sao.shot(f'{login}-{path}-form')
                seen.append((path, 'list and form'))
            else:
                seen.append((path, 'list (empty)'))
            sao.close_tab()
        assert sao.errors[before:] == [], f"{what}: {sao.errors[before:]}"
    return seen


@pytest.mark.parametrize('login', list(USERS))
def test_sao_menus(browser, demo_server, db, login, report):
    """Every lk menu entry the user sees opens in sao without a client
    error; the sign-in dialog and the menus are in Russian"""
    menus = db(lambda pool: lk_menus(pool, login))
    assert menus
    context = browser.new_context(
        base_url=demo_server.url, locale='en-US',
        viewport={'width': 1366, 'height': 800})
    context.set_default_timeout(LOAD)
    try:
        sao = Sao(context.new_page(), SHOTS)
        login_text = sao.sign_in(demo_server.database, login, USERS[login])
        # sao's own strings in Russian, whatever the browser's language
        assert 'Имя пользователя' in login_text, login_text
        assert not sao.errors, sao.errors
        # no configuration wizard: the user lands on the menu
        assert not sao.page.locator('.wizard-dialog.in').count()
        seen = walk(sao, [m for m in menus if m[2]], login)
    finally:
        context.close()
    report(f"sao menus of {login}: {len(seen)} entries opened, "
        f"{sum('form' in s for _, s in seen)} with a form")
