# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Security probes of the portal's pages, in process with werkzeug's test
client on config/wsgi.py's application and the demo database: another
subscriber's account is a 404, forms need their CSRF token, sign-in is
throttled, a blocked user's session ends, the password reset tells nothing
about who has a user, the password policy holds."""
import contextlib
import html
import re
import time

import pytest

SUBSCRIBER = 'abonent1@example.com'
PASSWORD = 'demo'
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Browser:
    """A werkzeug test client that repeats the CSRF token of the last form,
    from the client address `address`, with `headers` on every request.
    `elapsed` is how long the last answer took, without what the portal
    does once it is sent (e-mails)."""

    def __init__(self, address='127.0.0.1', base_url='http://localhost',
            headers=None):
        import lkdemo
        from werkzeug.test import Client
        self.client = Client(lkdemo.load_application())
        self.address = address
        self.base_url = base_url
        self.headers = headers or {}
        self.token = None
        self.elapsed = None

    def open(self, path, method='GET', headers=None, **kwargs):
        started = time.perf_counter()
        response = self.client.open(
            path, method=method, base_url=self.base_url,
            headers={**self.headers, **(headers or {})},
            environ_base={'REMOTE_ADDR': self.address}, **kwargs)
        response.get_data()
        self.elapsed = time.perf_counter() - started
        # as a server does once the answer is sent
        response.close()
        return response

    def get(self, path, **kwargs):
        response = self.open(path, **kwargs)
        if match := CSRF.search(response.get_data(as_text=True)):
            self.token = match.group(1)
        return response

    def post(self, path, data, csrf=True, **kwargs):
        data = dict(data)
        if csrf:
            if not self.token:
                self.get('/login')
            data['csrf_token'] = self.token
        return self.open(path, method='POST', data=data, **kwargs)

    def sign_in(self, email, password):
        self.get('/login')
        return self.post('/login', {'email': email, 'password': password})


def text(response):
    "The page without what changes with each request (the CSRF token)"
    return CSRF.sub('', response.get_data(as_text=True))


def error_items(response, id_):
    "The texts of the items of the error list with that id"
    page = response.get_data(as_text=True)
    match = re.search(
        rf'<ul[^>]*id="{id_}"[^>]*>(.*?)</ul>', page, re.DOTALL)
    assert match, f"no #{id_} in the page"
    return [
        html.unescape(re.sub(r'<[^>]+>', '', item)).strip()
        for item in re.findall(r'<li>(.*?)</li>', match.group(1), re.DOTALL)]


def error_text(response, id_):
    "The text of the element with that id"
    page = response.get_data(as_text=True)
    match = re.search(
        rf'<(\w+)[^>]*id="{id_}"[^>]*>(.*?)</\1>', page, re.DOTALL)
    assert match, f"no #{id_} in the page"
    return html.unescape(re.sub(r'<[^>]+>', ' ', match.group(2)))


@contextlib.contextmanager
def configured(section, option, value):
    "trytond's configuration with the option set to value for a while"
    from trytond import config
    old = config.get(section, option)
    config.set(section, option, value)
    try:
        yield
    finally:
        config.set(section, option, old)


def session_cookie_set(response):
    return any(
        c.startswith('lk_session=') and not c.startswith('lk_session=;')
        for c in response.headers.getlist('Set-Cookie'))


@pytest.fixture(scope='module')
def new_user(db, new_subscriber):
    """A function creating a validated web user, owner of the account
    number if given; it returns the user's and the account's ids"""
    def create(email, password='Secret-pass-1', account=None):
        def account_id(pool):
            Account = pool.get('lk.account')
            record, = Account.search([('number', '=', account)])
            return record.id
        record = db(account_id) if account else None
        user, _ = new_subscriber(email, password, account=record)
        return user, record
    return create


def test_other_subscribers_account_is_404(db, new_user):
    _, other = new_user('neighbour@example.com', account='10000003')
    browser = Browser()
    response = browser.sign_in(SUBSCRIBER, PASSWORD)
    assert response.status_code == 303, text(response)

    for path in [f'/accounts/{other}', f'/accounts/{other}/delegates']:
        response = browser.get(path)
        assert response.status_code == 404, path
        assert '10000003' not in text(response)
    # an id that exists nowhere answers the same
    response = browser.get('/accounts/999999')
    assert response.status_code == 404

    # the subscriber's own account is there
    response = browser.get('/')
    assert response.status_code == 200
    own = re.findall(r'href="/accounts/(\d+)"', text(response))
    assert own and str(other) not in own
    assert browser.get(f'/accounts/{own[0]}').status_code == 200


def test_removing_the_link_removes_the_account(db, new_user):
    "The rules, not the routes, decide: revoking the access hides it all"
    user, account = new_user('leaving@example.com', account='10000004')
    browser = Browser()
    browser.sign_in('leaving@example.com', 'Secret-pass-1')
    assert browser.get(f'/accounts/{account}').status_code == 200

    def revoke(pool):
        Access = pool.get('lk.account.access')
        Access.revoke(Access.search([('web_user', '=', user)]))
    db(revoke)
    assert browser.get(f'/accounts/{account}').status_code == 404
    assert '10000004' not in text(browser.get('/'))
    assert '10000004' not in text(browser.get('/organizations'))


def test_post_without_csrf_is_403():
    browser = Browser()
    browser.sign_in(SUBSCRIBER, PASSWORD)
    for path, data in [
            ('/accounts/add', {'organization': '2', 'number': '10000005'}),
            ('/logout', {}),
            ('/login', {'email': SUBSCRIBER, 'password': PASSWORD}),
            ('/reset-request', {'email': SUBSCRIBER}),
            ]:
        response = browser.post(path, data, csrf=False)
        assert response.status_code == 403, path
        response = browser.post(
            path, dict(data, csrf_token='forged'), csrf=False)
        assert response.status_code == 403, path
    # still signed in: the forged sign-out did nothing
    assert browser.get('/').status_code == 200


def test_wrong_passwords_throttle_the_address_not_the_subscriber(
        new_user):
    """Six wrong passwords from one address: that address waits, told at
    once and for how long; the subscriber at home signs in"""
    email = 'throttled@example.com'
    new_user(email, password='Right-pass-1')
    attacker = Browser(address='198.51.100.7')
    failures = []
    for _ in range(6):
        response = attacker.sign_in(email, 'wrong-pass')
        assert response.status_code == 200
        assert not session_cookie_set(response)
        # no answer waits (a sleeping worker serves no one else)
        assert attacker.elapsed < 2
        failures.append(text(response))
    unknown = Browser(address='198.51.100.8').sign_in(
        'nobody@example.com', 'wrong-pass')
    # the same message whether the e-mail exists or not
    assert text(unknown).replace('nobody@example.com', email) \
        == failures[0]

    # the seventh try from there waits, even with the right password
    response = attacker.sign_in(email, 'Right-pass-1')
    assert response.status_code == 429
    assert attacker.elapsed < 2
    assert 0 < int(response.headers['Retry-After']) <= 300
    assert not session_cookie_set(response)
    assert attacker.get('/').status_code == 302
    # and so does the API
    response = attacker.client.post(
        '/api/v1/auth/token', environ_base={'REMOTE_ADDR': attacker.address},
        json={'email': email, 'password': 'Right-pass-1'})
    assert response.status_code == 429
    assert 0 < int(response.headers['Retry-After']) <= 300

    home = Browser(address='203.0.113.7')
    assert home.sign_in(email, 'Right-pass-1').status_code == 303
    assert home.get('/').status_code == 200


def test_many_emails_from_one_address_wait(demo_server):
    "An address trying e-mail after e-mail waits too"
    with configured('session', 'max_attempt_ip_network', '4'):
        sprayer = Browser(address='198.51.100.99')
        statuses = [
            sprayer.sign_in(f'spray{n}@example.com', 'wrong').status_code
            for n in range(6)]
        assert statuses == [200] * 5 + [429]
        assert Browser(address='198.51.100.100').sign_in(
            'spray0@example.com', 'wrong').status_code == 200


def test_reset_does_not_wait(db, new_user):
    "Failed sign-ins do not make the password reset hold the worker"
    email = 'reset-wait@example.com'
    new_user(email, password='Right-pass-1')

    def prepare(pool):
        WebUser = pool.get('web.user')
        Attempt = pool.get('web.user.authenticate.attempt')
        user, = WebUser.search([('email', '=', email)])
        user.set_reset_password_token()
        user.save()
        for _ in range(6):
            Attempt.add(email)
        return user.reset_password_token
    token = db(prepare)
    browser = Browser(address='203.0.113.20')
    browser.get(f'/reset?token={token}&email={email}')
    response = browser.post('/reset', {
            'token': token, 'email': email,
            'password': 'New-wait-pass', 'password2': 'New-wait-pass'})
    assert response.status_code == 200, text(response)
    assert browser.elapsed < 2
    assert Browser(address='203.0.113.21').sign_in(
        email, 'New-wait-pass').status_code == 303


def test_blocked_users_session_ends(db, new_user):
    email = 'blocked@example.com'
    user, _ = new_user(email, account='20000001')
    browser = Browser()
    assert browser.sign_in(email, 'Secret-pass-1').status_code == 303
    assert browser.get('/').status_code == 200

    def block(pool):
        WebUser = pool.get('web.user')
        user_ = WebUser(user)
        if 'blocked' in WebUser._fields:
            WebUser.write([user_], {'blocked': True})
        else:
            WebUser.write([user_], {'active': False})
    db(block)
    response = browser.get('/')
    assert response.status_code == 302
    assert '/login' in response.headers['Location']
    # and signing in again is refused with the generic answer
    response = browser.sign_in(email, 'Secret-pass-1')
    assert response.status_code == 200
    assert not session_cookie_set(response)


def test_reset_answers_the_same(db, mailbox):
    sent = len(mailbox.messages)
    known = Browser()
    known.get('/reset-request')
    response_known = known.post('/reset-request', {'email': SUBSCRIBER})
    unknown = Browser()
    unknown.get('/reset-request')
    response_unknown = unknown.post(
        '/reset-request', {'email': 'nobody@example.com'})
    assert response_known.status_code == response_unknown.status_code == 200
    assert text(response_known) == text(response_unknown)

    message = mailbox.wait_for(SUBSCRIBER, "Восстановление пароля", after=sent)
    # web_user's mail: HTML, the link in the button and in the text
    body = html.unescape(message.get_content())
    url, *_ = re.findall(r'(http://[^\s"<>]+/reset\?[^\s"<>]+)', body)
    path = url.split('/', 3)[3]
    browser = Browser()
    response = browser.get('/' + path)
    assert response.status_code == 200
    token = re.search(r'name="token" value="([^"]+)"', text(response))[1]
    email = re.search(r'name="email" value="([^"]+)"', text(response))[1]
    # the policy holds here too
    response = browser.post('/reset', {
            'token': token, 'email': email,
            'password': 'password', 'password2': 'password'})
    assert response.status_code == 400
    assert 'распространённый пароль' in error_text(response, 'reset-errors')
    try:
        response = browser.post('/reset', {
                'token': token, 'email': email,
                'password': 'New-demo-pass', 'password2': 'New-demo-pass'})
        assert response.status_code == 200
        # single use
        response = browser.post('/reset', {
                'token': token, 'email': email,
                'password': 'Other-demo-pass',
                'password2': 'Other-demo-pass'})
        assert response.status_code == 400

        assert Browser().sign_in(
            SUBSCRIBER, 'New-demo-pass').status_code == 303
    finally:
        # the other tests sign in with the demo password
        def restore(pool):
            WebUser = pool.get('web.user')
            user, = WebUser.search([('email', '=', SUBSCRIBER)])
            WebUser.write([user], {
                    'password_hash': WebUser.hash_password(PASSWORD)})
        db(restore)


@pytest.mark.parametrize('password, message', [
        ('abc', "не менее 4 символов"),
        ('password', "слишком распространённый пароль"),
        ('qwerty123', "слишком распространённый пароль"),
        ('Policy@Example.com', "не может совпадать с адресом"),
        ('x' * 100_000, "слишком длинный"),
        ])
def test_registration_password_policy(db, password, message):
    "Each rule refuses its password with its own message, and only it"
    email = 'policy@example.com'
    browser = Browser()
    browser.get('/register')
    response = browser.post('/register', {
            'email': email,
            'password': password, 'password2': password, 'consent': '1'})
    assert response.status_code == 400
    errors = error_items(response, 'register-errors')
    assert len(errors) == 1 and message in errors[0], errors

    def count(pool):
        return pool.get('web.user').search_count([('email', '=', email)])
    assert db(count) == 0


def test_registration_needs_consent(demo_server):
    browser = Browser()
    browser.get('/register')
    response = browser.post('/register', {
            'email': 'noconsent@example.com',
            'password': 'Str0ng-pass', 'password2': 'Str0ng-pass'})
    assert response.status_code == 400


def test_session_cookie_flags(demo_server):
    for base_url, secure in [
            ('http://localhost', False), ('https://localhost', True)]:
        browser = Browser()
        browser.client.get('/login', base_url=base_url)
        token = browser.client.get_cookie('lk_csrf', domain='localhost')
        response = browser.client.post('/login', base_url=base_url, data={
                'csrf_token': token.value,
                'email': SUBSCRIBER, 'password': PASSWORD})
        assert response.status_code == 303
        cookie, = [
            c for c in response.headers.getlist('Set-Cookie')
            if c.startswith('lk_session=')]
        assert 'HttpOnly' in cookie
        assert 'SameSite=Lax' in cookie
        assert ('Secure' in cookie) == secure


def test_organization_logo_public(demo_server, db):
    "An organization's logo shows on its public page, without sign-in"
    from pathlib import Path

    import lkdemo
    png = Path(lkdemo.ROOT, 'addons', 'lk_portal', 'static', 'icons',
        'icon-192.png').read_bytes()

    def set_logo(pool):
        Company = pool.get('company.company')
        company, = Company.search([('short_name', '=', "Волжская ЭСК")])
        Company.write([company], {'logo': png})
        return company.id
    organization = db(set_logo)
    # company stores it converted (to PNG) where Pillow is installed
    stored = db(lambda pool: bytes(
            pool.get('company.company')(organization).logo))
    assert stored.startswith(b'\x89PNG')
    browser = Browser()
    assert f'src="/o/{organization}/logo"' in text(
        browser.get(f'/o/{organization}'))
    logo = browser.client.get(f'/o/{organization}/logo')
    assert logo.status_code == 200
    assert logo.mimetype == 'image/png'
    assert logo.get_data() == stored
    assert browser.client.get('/o/999999/logo').status_code == 404
