# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Pages a subscriber trusts, over HTTP and in headless Chromium on the
demo server: error pages in the layout and the user's language for any
unknown address, a favicon, no cached personal data after the sign-out,
only the organizations that serve subscribers to add an account of, a
confirmed revocation of a delegate (without JavaScript too), the backend's
confirmed account closing, an invitation that survives the e-mail
validation, and a used reset link refused at once. Every new page passes
axe-core."""
import html
import http.client
import json
import os
import re
import urllib.parse
from pathlib import Path

import pytest

SUBSCRIBER = 'abonent1@example.com'
PASSWORD = 'demo'
LINK = re.compile(r'(https?://[^\s"<>]+)')
RESULTS = Path(os.environ.get('LK_SCREENSHOTS') or (
        Path(__file__).resolve().parent.parent / 'test-results'))
TITLES = {
    403: 'Доступ запрещён',
    404: 'Страница не найдена',
    405: 'Недопустимый запрос',
    500: 'Ошибка на сервере',
    }


def request(server, method, path, body=None, headers=None):
    url = urllib.parse.urlsplit(server.url)
    connection = http.client.HTTPConnection(
        url.hostname, url.port, timeout=60)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response, response.read().decode('utf-8', 'replace')
    finally:
        connection.close()


def assert_error_page(response, body, status, title=None):
    "The portal's error page: in the layout, Russian, with a way home"
    assert response.status == status, (status, body[:300])
    assert response.getheader('Content-Type').startswith('text/html')
    assert '<html lang="ru"' in body
    assert re.search(
        r'<h1[^>]*>\s*' + re.escape(title or TITLES[status]), body), body
    assert 'class="top"' in body and 'class="bottom"' in body
    assert re.search(r'<a [^>]*href="/"[^>]*>\s*На главную', body), body
    assert response.getheader('Cache-Control') == 'no-store'


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


@pytest.fixture
def context(browser, demo_server):
    contexts = []

    def new(width=1024, **kwargs):
        context = browser.new_context(
            base_url=demo_server.url, locale='ru-RU',
            viewport={'width': width, 'height': 800}, **kwargs)
        context.set_default_timeout(30000)
        contexts.append(context)
        return context
    yield new
    for context in contexts:
        context.close()


@pytest.fixture
def page(context):
    return context().new_page()


def assert_accessible(page):
    "axe-core finds no violation on the page"
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    violations = results.response['violations']
    assert not violations, [
        (v['id'], v['help'], [n['target'] for n in v['nodes']])
        for v in violations]


def screenshot(page, name):
    RESULTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(RESULTS / name), full_page=True)


def sign_in(page, email, password, next_=None):
    page.goto('/login' + (f'?next={next_}' if next_ else ''))
    fill_sign_in(page, email, password)


def fill_sign_in(page, email, password):
    page.get_by_label('Эл. почта').fill(email)
    page.get_by_label('Пароль').fill(password)
    page.locator('form.form button[type=submit]').click()
    page.wait_for_load_state()


def link_in(message, path):
    "The URL of the portal's path in the e-mail (plain text or HTML)"
    text = html.unescape(message.get_body(('plain', 'html')).get_content())
    for url in LINK.findall(text):
        if path in url:
            return url
    raise AssertionError(f"no {path} link in {text!r}")


def account_id(db, number):
    def read(pool):
        account, = pool.get('lk.account').search([('number', '=', number)])
        return account.id
    return db(read)


# Error pages

@pytest.mark.parametrize('method, path', [
        ('GET', '/foo'),
        ('GET', '/accounts/abc'),
        ('GET', '/accounts/1/nothing'),
        ('GET', '/foo/bar/baz'),
        ('GET', '/static/nothing.css'),
        ('POST', '/foo'),
        ('HEAD', '/accounts/abc'),
        ])
def test_unknown_address_is_the_portals_404(demo_server, method, path):
    "Not trytond's English 405: the portal's page, in the layout"
    response, body = request(
        demo_server, method, path, headers={'Accept-Language': 'ru'})
    if method == 'HEAD':
        assert response.status == 404
        return
    assert_error_page(response, body, 404)
    assert 'Такой страницы нет.' in body


def test_error_page_in_english(demo_server):
    response, body = request(
        demo_server, 'GET', '/accounts/abc', headers={'Cookie': 'lk_lang=en'})
    assert response.status == 404
    assert '<html lang="en"' in body
    assert re.search(r'<h1[^>]*>\s*Page not found', body)
    assert 'There is no such page.' in body


def test_error_page_links_back_to_the_page_before(demo_server):
    "A way back: the referring page of the portal, never another site's"
    response, body = request(
        demo_server, 'GET', '/foo',
        headers={'Referer': f'{demo_server.url}/organizations?x=1'})
    assert re.search(r'<a [^>]*href="/organizations\?x=1"[^>]*>\s*Назад',
        body), body
    response, body = request(
        demo_server, 'GET', '/foo',
        headers={'Referer': 'https://evil.example.com/organizations'})
    assert 'evil' not in body
    assert 'Назад' not in body


def test_trytond_still_answers_its_own_addresses(demo_server):
    "JSON-RPC at /<database>/rpc/ and /rpc/, and its 405 on them"
    database = demo_server.database
    response, body = request(
        demo_server, 'POST', f'/{database}/rpc/', json.dumps({
                'id': 1, 'method': 'common.db.login',
                'params': ['admin', {'password': 'admin'}, 'ru']}),
        {'Content-Type': 'application/json'})
    assert response.status == 200, body
    assert json.loads(body)['result'][0]
    response, body = request(
        demo_server, 'POST', '/rpc/', json.dumps({
                'id': 1, 'method': 'common.server.version', 'params': []}),
        {'Content-Type': 'application/json'})
    assert response.status == 200, body
    assert json.loads(body)['result'].startswith('8.0')
    response, _ = request(demo_server, 'GET', f'/{database}/rpc/')
    assert response.status == 405
    response, _ = request(demo_server, 'GET', '/admin/')
    assert response.status == 200


def test_other_errors_are_pages_in_the_layout(
        demo_server, monkeypatch, caplog):
    # 403: a form without its CSRF token
    response, body = request(demo_server, 'POST', '/logout')
    assert_error_page(response, body, 403)
    # 405: an address of the portal, another method
    response, body = request(demo_server, 'GET', '/logout')
    assert_error_page(response, body, 405)
    assert response.getheader('Allow') == 'POST'
    # 429: too many sign-in attempts, the sign-in page says so
    email = 'nobody.429@example.com'
    for _ in range(12):
        response, body = request(demo_server, 'GET', '/login')
        cookie = response.getheader('Set-Cookie').split(';')[0]
        token = re.search(r'name="csrf_token" value="([^"]+)"', body)[1]
        response, body = request(
            demo_server, 'POST', '/login', urllib.parse.urlencode({
                    'csrf_token': token, 'email': email,
                    'password': 'wrong'}),
            {'Content-Type': 'application/x-www-form-urlencoded',
                'Cookie': cookie})
        if response.status == 429:
            break
    assert response.status == 429
    assert 'class="top"' in body and 'Слишком много попыток' in body
    assert response.getheader('Retry-After')
    # 500: the last resort
    from trytond.modules.lk_portal import portal

    def broken(request, database_name, **kwargs):
        raise RuntimeError("secret cause 4343")
    monkeypatch.setitem(
        portal._endpoints,
        'trytond.modules.lk_portal.routes.organization_public', broken)
    response, body = request(demo_server, 'GET', '/o/1')
    assert_error_page(response, body, 500)
    assert '4343' not in body
    caplog.clear()


def test_favicon(demo_server):
    response, body = request(demo_server, 'GET', '/favicon.ico')
    assert response.status == 200
    assert response.getheader('Content-Type') in {
        'image/x-icon', 'image/vnd.microsoft.icon'}


@pytest.mark.parametrize('width', [375, 1366])
def test_error_page_in_a_browser(context, db, width):
    "Accessible, fits the phone, and shows the signed-in header"
    page = context(width).new_page()
    response = page.goto('/accounts/abc')
    assert response.status == 404
    assert page.locator('h1').inner_text() == 'Страница не найдена'
    assert_accessible(page)
    assert page.evaluate(
        'document.documentElement.scrollWidth - window.innerWidth') <= 0
    screenshot(page, f'error-404-{width}.png')
    page.get_by_role('link', name='На главную').click()
    page.wait_for_url(re.compile(r'/login'))

    sign_in(page, SUBSCRIBER, PASSWORD)
    response = page.goto(f'/accounts/{account_id(db, "30000002")}')
    assert response.status == 404
    assert_accessible(page)
    screenshot(page, f'error-404-signed-in-{width}.png')


# No cached personal data

def test_signed_in_answers_are_not_stored(context, db, demo_server):
    account = account_id(db, '10000001')
    page = context().new_page()
    sign_in(page, SUBSCRIBER, PASSWORD)
    http = page.request
    for path in [
            '/', f'/accounts/{account}', '/accounts/add', '/organizations',
            f'/accounts/{account}/delegates', f'/accounts/{account}/readings',
            '/o/1', '/accounts/999999', '/lang/ru?next=/',
            f'/accounts/{account}/delegates/999999/revoke']:
        response = http.get(path, max_redirects=0)
        assert response.status in {200, 303, 404}, (path, response.status)
        assert response.headers.get('cache-control') == 'no-store', path

    # The sign-in itself: its redirect carries the session
    other = context().new_page()
    other.goto('/login')
    token = other.locator('input[name=csrf_token]').first.input_value()
    response = other.request.post('/login', form={
            'csrf_token': token, 'email': SUBSCRIBER,
            'password': PASSWORD}, max_redirects=0)
    assert response.status == 303
    assert response.headers.get('cache-control') == 'no-store'

    # The API, its answers and its refusals
    response = other.request.post('/api/v1/auth/token', data={
            'email': SUBSCRIBER, 'password': PASSWORD})
    assert response.status == 201, response.text()
    bearer = {'Authorization': f'Bearer {response.json()["token"]}'}
    assert response.headers.get('cache-control') == 'no-store'
    for path, status in [
            ('/api/v1/accounts', 200), (f'/api/v1/accounts/{account}', 200),
            ('/api/v1/accounts/999999', 404)]:
        response = other.request.get(path, headers=bearer)
        assert response.status == status, path
        assert response.headers.get('cache-control') == 'no-store', path
    response = other.request.get('/api/v1/accounts')
    assert response.status == 401
    assert response.headers.get('cache-control') == 'no-store'


def test_back_after_sign_out_shows_no_personal_data(page, db):
    account = account_id(db, '10000001')
    sign_in(page, SUBSCRIBER, PASSWORD)
    page.goto(f'/accounts/{account}')
    assert '10000001' in page.locator('h1').inner_text()
    page.get_by_role('button', name='Выйти').click()
    page.wait_for_url(re.compile(r'/login$'))
    page.go_back()
    page.wait_for_load_state()
    assert re.search(r'/login\?next=', page.url), page.url
    assert '10000001' not in page.content()
    assert SUBSCRIBER not in page.content()


# Adding an account

def test_add_account_lists_only_organizations_serving_subscribers(
        page, db):
    def companies(pool):
        Company = pool.get('company.company')
        Account = pool.get('lk.account')
        return {
            c.display_name: bool(Account.search([('company', '=', c.id)]))
            for c in Company.search([])}
    serving = db(companies)
    assert 'Коммунальщик' in serving and not serving['Коммунальщик']

    sign_in(page, SUBSCRIBER, PASSWORD)
    page.goto('/accounts/add')
    options = [
        o.split(' (')[0] for o in page.locator(
            '#organization option').all_inner_texts()[1:]]
    assert sorted(options) == sorted(n for n, s in serving.items() if s)
    assert_accessible(page)

    # nor may a crafted form name the operator
    def operator(pool):
        Company = pool.get('company.company')
        company, = Company.search([('short_name', '=', 'Коммунальщик')])
        return company.id
    token = page.locator('input[name=csrf_token]').first.input_value()
    response = page.request.post('/accounts/add', form={
            'csrf_token': token, 'organization': str(db(operator)),
            'number': '1', 'code': 'ABCD-EFGH'})
    assert response.status == 400
    assert 'Выберите организацию' in response.text()


# Destructive actions

@pytest.mark.parametrize('javascript', [True, False])
def test_revoking_a_delegate_asks_and_reports(
        context, db, new_subscriber, javascript):
    number = '10000004' if javascript else '10000005'
    owner = f'owner.{number}@example.com'
    delegate = f'delegate.{number}@example.com'
    _, access = new_subscriber(
        owner, 'Str0ng-pass-9', account=account_id(db, number),
        state='active')

    def invite(pool):
        Access = pool.get('lk.account.access')
        owner_access = Access(access)
        invited, = Access.create([{
                    'account': owner_access.account.id,
                    'role': 'delegate', 'state': 'invited',
                    'invitation_email': delegate,
                    'granted_by': owner_access.web_user.id,
                    'right_readings': True}])
        return invited.id
    invited = db(invite)

    for width in [375, 1366]:
        page = context(width, java_script_enabled=javascript).new_page()
        sign_in(page, owner, 'Str0ng-pass-9')
        page.goto(f'/accounts/{account_id(db, number)}/delegates')
        row = page.locator('.delegates li', has_text=delegate)
        row.get_by_role('link', name='Отозвать').click()
        page.wait_for_load_state()
        assert page.locator('h1').inner_text() == 'Отозвать доступ?'
        assert delegate in page.locator('main').inner_text()
        if javascript:
            assert_accessible(page)
            screenshot(page, f'revoke-confirm-{width}.png')
        if width == 375:
            # Cancel: nothing changed
            page.get_by_role('link', name='Отмена').click()
            page.wait_for_load_state()
            assert page.locator(
                '.delegates li', has_text=delegate).count() == 1
            continue
        page.get_by_role('button', name='Отозвать доступ').click()
        page.wait_for_load_state()
        assert re.search(r'/delegates\?revoked=1$', page.url), (
            page.url, page.inner_text('main'))
        assert page.locator(
            '.notice.success').inner_text() == 'Доступ отозван.'
        assert page.locator('.delegates li', has_text=delegate).count() == 0
        if javascript:
            assert_accessible(page)

    def state(pool):
        return pool.get('lk.account.access')(invited).state
    assert db(state) == 'revoked'


def test_closing_an_account_in_the_backend_asks_and_reports(db, demo_server):
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    def form(pool):
        Account = pool.get('lk.account')
        with Transaction().set_context(language='ru'):
            arch = Account.fields_view_get(view_type='form')['arch']
        return re.search(r'<button [^>]*name="close"[^>]*>', arch)[0]
    button = db(form)
    assert 'confirm="Закрыть лицевой счёт?' in button, button

    def admin(pool):
        return pool.get('res.user').search([('login', '=', 'admin')])[0].id
    user = db(admin)
    number = '30000003'
    # as sao runs the button: the admin with their preferences' context
    with Transaction().start(demo_server.database, user) as transaction:
        pool = Pool()
        User = pool.get('res.user')
        Account = pool.get('lk.account')
        with transaction.set_context(
                User.get_preferences(context_only=True)):
            account, = Account.search([('number', '=', number)])
            Account.close([account])
        transaction.commit()

    def notifications(pool):
        Notification = pool.get('res.notification')
        return [
            (n.label, n.description) for n in Notification.search([
                    ('user', '=', user), ('model', '=', 'lk.account')])]
    found = db(notifications)
    assert (f'Лицевой счёт «{number}» закрыт', number) in found, found


# Invitation and reset links

def test_invitation_survives_validation_and_sign_in(
        context, db, mailbox, new_subscriber):
    number = '20000002'
    owner = 'inviting.owner@example.com'
    delegate = 'invited.later@example.com'
    _, access = new_subscriber(
        owner, 'Str0ng-pass-8', account=account_id(db, number),
        state='active')

    def invite(pool):
        Access = pool.get('lk.account.access')
        owner_access = Access(access)
        invited, = Access.create([{
                    'account': owner_access.account.id,
                    'role': 'delegate', 'state': 'invited',
                    'invitation_email': delegate,
                    'granted_by': owner_access.web_user.id}])
        return invited.invitation_token
    token = db(invite)

    page = context().new_page()
    page.goto(f'/invitations/{token}')
    page.get_by_role('link', name='Зарегистрироваться').click()
    sent = len(mailbox.messages)
    page.get_by_label('Пароль', exact=True).fill('Str0ng-pass-7')
    page.get_by_label('Пароль ещё раз').fill('Str0ng-pass-7')
    page.get_by_label(re.compile('согласие на обработку')).check()
    page.locator('form.form button[type=submit]').click()
    page.wait_for_load_state()
    assert page.locator('h1').inner_text() == 'Проверьте почту'

    # The mail is opened in another browser: only its link carries on
    message = mailbox.wait_for(delegate, after=sent)
    other = context().new_page()
    other.goto(link_in(message, '/validate?token='))
    assert other.locator('h1').inner_text() == 'Адрес подтверждён'
    other.get_by_role('link', name='Войти').click()
    other.wait_for_load_state()
    fill_sign_in(other, delegate, 'Str0ng-pass-7')
    assert other.url.endswith(f'/invitations/{token}'), other.url
    other.get_by_role('button', name='Принять приглашение').click()
    other.wait_for_url(re.compile(r'/accounts/\d+$'))
    assert number in other.locator('h1').inner_text()


def test_used_reset_link_says_so_at_once(page, db, new_subscriber):
    email = 'resetting@example.com'
    new_subscriber(email, 'Str0ng-pass-6')

    def token(pool):
        WebUser = pool.get('web.user')
        user, = WebUser.search([('email', '=', email)])
        user.set_reset_password_token()
        user.save()
        return user.reset_password_token
    link = '/reset?' + urllib.parse.urlencode(
        {'token': db(token), 'email': email})

    page.goto(link)
    page.get_by_label('Новый пароль').fill('Str0ng-pass-5')
    page.get_by_label('Пароль ещё раз').fill('Str0ng-pass-5')
    page.locator('form.form button[type=submit]').click()
    page.wait_for_load_state()
    assert page.locator('h1').inner_text() == 'Пароль изменён'

    for target in [link, '/reset?token=made-up&email=' + email,
            '/reset?token=&email=']:
        response = page.goto(target)
        assert response.status == 400
        assert page.locator('h1').inner_text() == 'Ссылка недействительна'
        assert 'устарела или уже использована' in page.inner_text('main')
        assert page.locator('input[type=password]').count() == 0
        assert_accessible(page)
