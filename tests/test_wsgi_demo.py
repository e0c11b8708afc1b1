# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""config/wsgi.py over real HTTP on the demo database: sao at /admin/ (only
the files it loads, signing in without the database list), its JSON-RPC
under /admin/, the plain JSON-RPC, what each demo login sees, the headers
that keep every answer from being sniffed or framed, and the portal's pages
answering bad input (huge ids, control characters in next=, numbers out of
range) with a 4xx page, never a server error."""
import base64
import http.client
import json
import re
import urllib.parse
from pathlib import Path

import pytest

from metering_data import SUBSCRIBER, own_meter, require_metering


def request(server, method, path, body=None, headers=None):
    url = urllib.parse.urlsplit(server.url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response, response.read()
    finally:
        connection.close()


def rpc(server, path, method, params, session=None):
    headers = {'Content-Type': 'application/json'}
    if session:
        login, user_id, token = session
        headers['Authorization'] = 'Session ' + base64.b64encode(
            f'{login}:{user_id}:{token}'.encode()).decode()
    response, body = request(server, 'POST', path, json.dumps({
                'id': 1, 'method': method, 'params': params}), headers)
    assert response.status == 200, (method, response.status, body[:500])
    data = json.loads(body)
    assert not data.get('error'), (method, data['error'])
    return data['result']


def login(server, login, password, prefix='/admin'):
    user_id, token, _ = rpc(
        server, f'{prefix}/{server.database}/rpc/', 'common.db.login',
        [login, {'password': password}, 'ru'])
    return login, user_id, token


def count_accounts(server, session, prefix='/admin'):
    return rpc(
        server, f'{prefix}/{server.database}/rpc/',
        'model.lk.account.search_count', [[], {}], session=session)


@pytest.fixture(scope='module')
def all_accounts(demo_server):
    "The number of accounts in the demo database, counted as root"
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    with Transaction().start(demo_server.database, 0, readonly=True):
        return Pool().get('lk.account').search_count([])


def test_admin_serves_sao(demo_server):
    response, body = request(demo_server, 'GET', '/admin/')
    assert response.status == 200
    assert b'tryton-sao' in body

    for path in [
            '/admin/dist/tryton-sao.js',
            '/admin/node_modules/jquery/dist/jquery.js']:
        response, _ = request(demo_server, 'GET', path)
        assert response.status == 200, path


def test_admin_without_slash_redirects(demo_server):
    response, _ = request(demo_server, 'GET', '/admin')
    assert response.status in {301, 302, 308}
    assert response.headers['Location'].endswith('/admin/')


def test_root_is_the_portal(demo_server):
    "The portal answers / and sends a visitor to its sign-in page"
    response, _ = request(demo_server, 'GET', '/')
    assert response.status == 302
    assert '/login' in response.headers['Location']


@pytest.mark.parametrize('path', ['/admin/rpc/', '/rpc/'])
def test_database_list_is_closed(demo_server, path):
    "No one learns the databases' names: [database] list = False"
    response, body = request(demo_server, 'POST', path, json.dumps({
                'id': 1, 'method': 'common.db.list', 'params': []}),
        {'Content-Type': 'application/json'})
    assert response.status == 403
    assert demo_server.database.encode() not in body


def test_sao_signs_in_with_the_database_of_its_url(demo_server):
    "Without the list, sao takes the database of /admin/#<database>"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path='/usr/bin/chromium',
            args=['--no-sandbox', '--disable-gpu'])
        try:
            page = browser.new_page(base_url=demo_server.url)
            page.set_default_timeout(30000)
            page.goto(f'/admin/#{demo_server.database}')
            page.locator('.login-dialog input#login').fill('bizuser')
            page.locator('.login-dialog button[type=submit]').click()
            page.locator('input[type=password]').fill('demo')
            page.keyboard.press('Enter')
            # the user's name in the header: signed in
            page.get_by_text('Сотрудник').first.wait_for()
            assert page.locator('.login-dialog').count() == 0
        finally:
            browser.close()


def test_admin_sees_all_accounts(demo_server, all_accounts):
    session = login(demo_server, 'admin', 'admin')
    assert all_accounts >= 10
    assert count_accounts(demo_server, session) == all_accounts


def test_staff_sees_own_organization(demo_server, all_accounts):
    session = login(demo_server, 'bizuser', 'demo')
    assert 0 < count_accounts(demo_server, session) < all_accounts


def test_plain_rpc_for_other_clients(demo_server, all_accounts):
    "proteus and other clients use /<db>/rpc/ without the /admin prefix"
    session = login(demo_server, 'admin', 'admin', prefix='')
    assert count_accounts(demo_server, session, prefix='') == all_accounts


def test_sao_cookie_session(demo_server, all_accounts):
    "sao logs in with /session/login and then sends only the cookie"
    database = demo_server.database
    response, _ = request(
        demo_server, 'POST', f'/admin/{database}/session/login',
        json.dumps({'id': 1, 'method': 'common.db.login',
                'params': ['bizuser', {'password': 'demo'}, 'ru']}),
        {'Content-Type': 'application/json'})
    assert response.status == 200
    cookie = response.headers['Set-Cookie']
    assert f'Path=/admin/{database}' in cookie

    response, body = request(
        demo_server, 'POST', f'/admin/{database}/rpc/',
        json.dumps({'id': 2, 'method': 'model.lk.account.search_count',
                'params': [[], {}]}),
        {'Content-Type': 'application/json',
            'Cookie': cookie.split(';', 1)[0]})
    assert response.status == 200, body[:300]
    assert 0 < json.loads(body)['result'] < all_accounts


def test_wrong_password_is_refused(demo_server):
    response, _ = request(
        demo_server, 'POST', f'/admin/{demo_server.database}/rpc/',
        json.dumps({'id': 1, 'method': 'common.db.login',
                'params': ['admin', {'password': 'wrong'}, 'ru']}),
        {'Content-Type': 'application/json'})
    assert response.status == 401


# Hardening: what every answer carries, what /admin/ serves

def assert_secured(response, path):
    "Neither sniffed nor framed"
    assert response.getheader('X-Content-Type-Options') == 'nosniff', path
    assert response.getheader('X-Frame-Options') == 'DENY', path
    assert "frame-ancestors 'none'" in response.getheader(
        'Content-Security-Policy', ''), path


def test_every_answer_is_neither_sniffed_nor_framed(demo_server):
    database = demo_server.database
    answers = [
        ('GET', '/login', None, 200),
        ('GET', '/', None, 302),
        ('GET', '/o/999999', None, 404),
        ('GET', '/static/portal.css', None, 200),
        ('GET', '/sw.js', None, 200),
        ('GET', '/api/v1/openapi.json', None, 200),
        ('GET', '/api/v1/me', None, 401),
        ('GET', '/api/v1/nothing', None, 404),
        ('GET', '/admin/', None, 200),
        ('GET', '/admin/dist/tryton-sao.js', None, 200),
        ('GET', '/admin/node_modules/jquery/dist/jquery.js', None, 200),
        ('GET', '/admin/node_modules/.package-lock.json', None, 404),
        ('POST', '/admin/rpc/', json.dumps({
                    'id': 1, 'method': 'common.server.version',
                    'params': []}), 200),
        ('POST', f'/{database}/rpc/', json.dumps({
                    'id': 1, 'method': 'model.lk.account.search_count',
                    'params': [[], {}]}), 401),
        # not trytond's: the portal's 404 page
        ('GET', f'/{database}/no-such-route', None, 404),
        ]
    for method, path, body, status in answers:
        response, _ = request(
            demo_server, method, path, body,
            {'Content-Type': 'application/json'} if body else {})
        assert response.status == status, (path, response.status)
        assert_secured(response, path)


def sao_files():
    """The files sao loads, by URL path: what its index.html and its CSS
    name, and its translation"""
    import lkdemo
    lkdemo.load_application()
    import lk_wsgi
    root = lk_wsgi.SAO_ROOT
    index = (root / 'index.html').read_text(encoding='utf-8')
    paths = {
        '/admin/' + p
        for p in re.findall(r'<(?:script|link)[^>]* (?:src|href)="([^":#?]+)"',
            index)
        if (root / p).is_file() or (
            lk_wsgi.NODE_MODULES / p.removeprefix('node_modules/')).is_file()}
    css = (root / 'dist' / 'tryton-sao.css').read_text(encoding='utf-8')
    for url in re.findall(r'url\("?\.\./([^")?#]+)', css):
        paths.add('/admin/' + url)
    paths.add('/admin/locale/ru.json')
    return sorted(paths)


def test_admin_serves_what_sao_loads(demo_server):
    paths = sao_files()
    assert '/admin/node_modules/jquery/dist/jquery.js' in paths
    assert any(p.endswith('.woff2') for p in paths)
    for path in paths:
        response, _ = request(demo_server, 'GET', path)
        assert response.status == 200, path
    response, body = request(demo_server, 'GET', '/admin/custom.js')
    assert response.status == 200
    assert b'input#database' in body


def test_admin_serves_nothing_else(demo_server):
    "No dotfile, package metadata, sources or build tools of sao's folders"
    import lkdemo
    lkdemo.load_application()
    import lk_wsgi
    root, node_modules = lk_wsgi.SAO_ROOT, lk_wsgi.NODE_MODULES
    refused = {
        '/admin/node_modules/.package-lock.json':
            node_modules / '.package-lock.json',
        '/admin/node_modules/jquery/package.json':
            node_modules / 'jquery' / 'package.json',
        '/admin/node_modules/jquery/README.md':
            node_modules / 'jquery' / 'README.md',
        '/admin/node_modules/grunt/lib/grunt.js':
            node_modules / 'grunt' / 'lib' / 'grunt.js',
        '/admin/node_modules/tryton-sao/index.html':
            node_modules / 'tryton-sao' / 'index.html',
        '/admin/package.json': root / 'package.json',
        '/admin/Gruntfile.js': root / 'Gruntfile.js',
        '/admin/src/sao.js': root / 'src' / 'sao.js',
        }
    for path, file in refused.items():
        # served before: the file is there
        assert Path(file).is_file(), file
        response, body = request(demo_server, 'GET', path)
        assert response.status == 404, path
        assert_secured(response, path)


# Bad input on the portal's pages: a 4xx page, never a server error

BAD_IDS = [
    str(2 ** 31), str(2 ** 63), str(2 ** 64), '1' + '0' * 30, '9' * 100000]


def portal_rules():
    "The portal's rules (not the API's) with an id in their path"
    import lkdemo
    lkdemo.load_application()
    from trytond.modules.lk_portal import portal
    return [
        r for r in portal.url_map.iter_rules()
        if not r.rule.startswith('/api/') and '<int:' in r.rule]


@pytest.mark.parametrize('bad_id', BAD_IDS, ids=lambda i: f'{len(i)}d')
def test_portal_ids_beyond_the_database_are_not_found(demo_server, bad_id):
    from test_portal_security import Browser

    rules = portal_rules()
    assert len(rules) >= 7
    anonymous, signed_in = Browser(), Browser()
    assert signed_in.sign_in(SUBSCRIBER, 'demo').status_code == 303
    signed_in.get('/')
    for browser in [anonymous, signed_in]:
        for rule in rules:
            path = re.sub(r'<int:\w+>', bad_id, rule.rule)
            if 'GET' in rule.methods:
                response = browser.get(path)
            else:
                response = browser.post(path, {})
            assert response.status_code == 404, (rule.rule, response.status)
            assert response.mimetype == 'text/html', rule.rule
            assert 'Такой страницы нет.' in response.get_data(as_text=True)
    # and over HTTP, as far as its request line goes
    response, body = request(demo_server, 'GET', f'/accounts/{2 ** 63}')
    assert response.status == 404
    assert 'Такой страницы нет.' in body.decode()


@pytest.mark.parametrize('target', [
        '/\r\nSet-Cookie: evil=1', '/\nLocation: https://evil.example',
        '/\tevil', '/\\evil.example', '/\x00', '//evil.example',
        'https://evil.example/'])
def test_next_outside_the_portal_goes_home(demo_server, target):
    "A redirection goes to a local path only, and never splits its header"
    from test_portal_security import Browser

    browser = Browser()
    response = browser.get(
        '/lang/en?' + urllib.parse.urlencode({'next': target}))
    assert response.status_code == 303
    assert response.headers['Location'] == '/'
    assert 'evil' not in str(response.headers)
    browser.get('/login')
    response = browser.post(
        '/login?' + urllib.parse.urlencode({'next': target}),
        {'email': SUBSCRIBER, 'password': 'demo'})
    assert response.status_code == 303
    assert response.headers['Location'] == '/'
    assert 'evil' not in str(response.headers)


@pytest.mark.parametrize('value', [
        '1e308', '1e999999999', '9' * 100000, '-1', '1234567890123', 'NaN',
        'Infinity', '١٢٣'],
    ids=lambda v: v[:14])
def test_portal_reading_out_of_range_is_400(db, value):
    from test_portal_security import Browser

    require_metering(db)
    meter = own_meter(db, channels=3)
    (first, name), *others = meter['channels']

    def count(pool):
        return pool.get('lk.meter.reading').search_count([
                ('meter', '=', meter['id'])])
    before = db(count)
    browser = Browser()
    assert browser.sign_in(SUBSCRIBER, 'demo').status_code == 303
    browser.get(f'/readings/{meter["id"]}')
    response = browser.post(f'/readings/{meter["id"]}', {
            f'channel_{first}': value,
            **{f'channel_{c}': '1' for c, _ in others}})
    assert response.status_code == 400
    assert response.mimetype == 'text/html'
    page = response.get_data(as_text=True)
    assert f'«{name}»: введите число от 0, не больше 12 цифр до запятой' in (
        page.replace('&laquo;', '«').replace('&raquo;', '»'))
    assert db(count) == before


def test_portal_server_error_is_a_page_without_its_cause(
        demo_server, monkeypatch, caplog):
    "The last resort: a 500 page that tells nothing, and a log entry"
    from trytond.modules.lk_portal import portal

    def broken(request, database_name, **kwargs):
        raise RuntimeError("secret cause 4242")
    monkeypatch.setitem(
        portal._endpoints,
        'trytond.modules.lk_portal.routes.organization_public', broken)
    response, body = request(demo_server, 'GET', '/o/1')
    assert response.status == 500
    assert response.getheader('Content-Type').startswith('text/html')
    assert 'Что-то пошло не так на нашей стороне' in body.decode()
    assert b'4242' not in body
    assert_secured(response, '/o/1')
    assert '4242' in caplog.text
    caplog.clear()


def test_method_not_allowed_is_a_page(demo_server):
    "The portal's own page, with the methods the address answers"
    response, body = request(demo_server, 'GET', '/logout')
    assert response.status == 405
    assert response.getheader('Content-Type').startswith('text/html')
    assert response.getheader('Allow') == 'POST'
    assert 'Этот адрес не принимает такой запрос.' in body.decode()


@pytest.mark.parametrize('error, status, text', [
        ('access', 403, 'У вас нет права это сделать.'),
        ('user', 400, 'Проверьте показание.')])
def test_tryton_errors_are_pages(
        demo_server, monkeypatch, error, status, text):
    """A Tryton error that a handler lets through is a page with its
    message; an access error a 403 naming no model"""
    from trytond.exceptions import UserError
    from trytond.model.exceptions import AccessError
    from trytond.modules.lk_portal import portal
    from trytond.protocols.wrappers import with_pool

    @with_pool
    def failing(request, pool, **kwargs):
        if error == 'access':
            raise AccessError('You are not allowed to access "Model Button".')
        raise UserError('Проверьте показание.')
    monkeypatch.setitem(
        portal._endpoints,
        'trytond.modules.lk_portal.routes.organization_public', failing)
    response, body = request(demo_server, 'GET', '/o/1')
    assert response.status == status
    assert response.getheader('Content-Type').startswith('text/html')
    assert text in body.decode()
    assert b'Model Button' not in body
