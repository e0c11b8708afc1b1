# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""config/wsgi.py over real HTTP on the demo database: sao at /admin/, its
JSON-RPC under /admin/, the plain JSON-RPC, and what each demo login sees."""
import base64
import http.client
import json
import urllib.parse

import pytest


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


def test_admin_rpc_lists_database(demo_server):
    databases = rpc(demo_server, '/admin/rpc/', 'common.db.list', [])
    assert demo_server.database in databases


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
