# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The portal's ways in, as an attacker tries them: links of e-mails and
client addresses that a request cannot forge, one sign-in rule for the pages
and the API, answers (and their times) that tell nobody which e-mails and
account numbers exist, throttling that answers at once and locks no
subscriber out, pages that no cache keeps, CSRF tokens bound to the session,
and e-mail addresses checked before anything is sent to them."""
import html
import re
import statistics

import pytest

from test_portal_security import (
    PASSWORD, SUBSCRIBER, Browser, configured, error_items, error_text,
    session_cookie_set, text)

API = '/api/v1'
# links accounts on staff approval
APPROVAL = "Волжская ЭСК"


def bearer(key):
    return {'Authorization': f'Bearer {key}'}


def new_account(db, organization, number):
    """A new account with the number at the demo organization of that short
    name; the organization's and the account's ids"""
    def create(pool):
        Company = pool.get('company.company')
        Building = pool.get('lk.building')
        Account = pool.get('lk.account')
        company, = Company.search([('short_name', '=', organization)])
        building, = Building.search(
            [('company', '=', company.id)], limit=1)
        account, = Account.create([{
                    'company': company.id,
                    'number': number,
                    'building': building.id,
                    }])
        return company.id, account.id
    return db(create)


def owner_requests(db, user_id):
    "The (number as typed, account's number, state) of the user's requests"
    def read(pool):
        Access = pool.get('lk.account.access')
        return sorted(
            (a.requested_number, a.account.number if a.account else None,
                a.state)
            for a in Access.search([('web_user', '=', user_id)]))
    return db(read)


def users_with(db, email):
    def count(pool):
        return pool.get('web.user').search_count([('email', '=', email)])
    return db(count)


# 6. Links of e-mails and client addresses come from the configuration

def test_mail_links_come_from_the_configuration(demo_server, mailbox):
    "A forged Host header does not reach the links of the e-mails"
    browser = Browser(address='192.0.2.60', base_url='http://evil.example')
    sent = len(mailbox.messages)
    browser.get('/reset-request')
    assert browser.post(
        '/reset-request', {'email': SUBSCRIBER}).status_code == 200
    # web_user's mail: HTML
    body = html.unescape(mailbox.wait_for(
            SUBSCRIBER, "Восстановление пароля", after=sent).get_content())
    assert 'evil.example' not in body
    assert re.search(
        re.escape(demo_server.url) + r'/reset\?email=\S+&token=\w+', body)

    email = 'host-header@example.com'
    browser.get('/register')
    assert browser.post('/register', {
            'email': email, 'password': 'Str0ng-pass-6',
            'password2': 'Str0ng-pass-6', 'consent': '1'}).status_code == 200
    body = mailbox.wait_for(email, after=sent).get_content()
    assert 'evil.example' not in body
    assert re.search(
        re.escape(demo_server.url) + r'/validate\?token=\w+', body)


def test_no_mail_without_configured_url(db, mailbox, caplog):
    """Without [lk_portal] url the portal sends no links at all: a page
    says it cannot, the log says why"""
    browser = Browser(address='192.0.2.61', base_url='http://evil.example')
    browser.sign_in(SUBSCRIBER, PASSWORD)
    home = browser.get('/')
    account = re.search(r'href="/accounts/(\d+)"', text(home))[1]
    sent = len(mailbox.messages)
    with configured('lk_portal', 'url', ''):
        for path, data in [
                ('/reset-request', {'email': SUBSCRIBER}),
                ('/reset-request', {'email': 'nobody@example.com'}),
                ('/register', {
                        'email': 'no-url@example.com',
                        'password': 'Str0ng-pass-7',
                        'password2': 'Str0ng-pass-7', 'consent': '1'}),
                (f'/accounts/{account}/delegates', {
                        'email': 'no-url.delegate@example.com',
                        'readings': '1'}),
                ]:
            browser.get(path)
            response = browser.post(path, data)
            assert response.status_code == 503, path
            assert 'не может отправлять письма' in text(response)
            assert 'evil.example' not in text(response)
    assert len(mailbox.messages) == sent
    assert users_with(db, 'no-url@example.com') == 0
    assert '[lk_portal] url' in caplog.text


def test_proxy_headers_count_only_behind_proxies(new_subscriber):
    """X-Forwarded-* say the client's address and scheme only when
    [web] num_proxies says a proxy sets them"""
    email = 'proxied@example.com'
    new_subscriber(email, 'Right-pass-1')
    https = {'X-Forwarded-Proto': 'https'}

    def secure(response):
        cookie, = [
            c for c in response.headers.getlist('Set-Cookie')
            if c.startswith('lk_session=')]
        return 'Secure' in cookie

    with configured('web', 'num_proxies', '0'):
        # a client inventing addresses is still the one it is
        statuses = [
            Browser(address='192.0.2.10', headers={
                    'X-Forwarded-For': f'198.51.100.{n}'}).sign_in(
                email, 'wrong').status_code
            for n in range(7)]
        assert statuses == [200] * 6 + [429]
        response = Browser(address='192.0.2.11', headers=https).sign_in(
            email, 'Right-pass-1')
        assert response.status_code == 303
        assert not secure(response)

    with configured('web', 'num_proxies', '1'):
        proxy = '10.0.0.1'
        attacker = Browser(
            address=proxy, headers={'X-Forwarded-For': '198.51.100.50'})
        statuses = [
            attacker.sign_in(email, 'wrong').status_code for _ in range(7)]
        assert statuses == [200] * 6 + [429]
        subscriber = Browser(address=proxy, headers={
                'X-Forwarded-For': '203.0.113.50', **https})
        response = subscriber.sign_in(email, 'Right-pass-1')
        assert response.status_code == 303
        assert secure(response)


# 7. One sign-in rule for every way in

def test_unconfirmed_address_gets_in_nowhere(db, demo_server):
    email = 'unconfirmed@example.com'

    def create(pool):
        WebUser = pool.get('web.user')
        user, = WebUser.create([{
                    'email': email, 'email_valid': False,
                    'password_hash': WebUser.hash_password('Right-pass-1'),
                    }])
        return user.id
    user_id = db(create)
    browser = Browser(address='192.0.2.70')

    response = browser.client.post(
        f'{API}/auth/token', environ_base={'REMOTE_ADDR': browser.address},
        json={'email': email, 'password': 'Right-pass-1'})
    assert response.status_code == 403, response.get_data(as_text=True)
    assert 'token' not in response.json
    assert 'Подтвердите адрес' in response.json['detail']

    response = browser.sign_in(email, 'Right-pass-1')
    assert response.status_code == 200
    assert not session_cookie_set(response)
    assert 'Подтвердите адрес' in error_text(response, 'login-error')

    # a session of the user, however made, opens nothing
    def session(pool):
        WebUser = pool.get('web.user')
        return WebUser(user_id).new_session()
    key = db(session)
    assert browser.client.get('/', headers=bearer(key)).status_code == 302
    assert browser.client.get(
        f'{API}/me', headers=bearer(key)).status_code == 401
    browser.client.set_cookie('lk_session', key)
    assert browser.get('/').status_code == 302
    assert browser.get('/accounts/add').status_code == 302

    def confirm(pool):
        WebUser = pool.get('web.user')
        WebUser.write([WebUser(user_id)], {'email_valid': True})
    db(confirm)
    assert Browser(address='192.0.2.71').sign_in(
        email, 'Right-pass-1').status_code == 303


# 10. Nothing tells which e-mails and account numbers exist

def test_account_requests_tell_nothing(db, new_subscriber):
    """At an organization that links on request, an unknown number and a
    real one get the same answer; a request is queued once; requests are
    throttled per user"""
    organization, _ = new_account(db, APPROVAL, '39990001')
    user_id, _ = new_subscriber('prober@example.com', 'Right-pass-1')
    browser = Browser(address='192.0.2.80')
    assert browser.sign_in(
        'prober@example.com', 'Right-pass-1').status_code == 303

    def add(number):
        browser.get('/accounts/add')
        return browser.post('/accounts/add', {
                'organization': str(organization), 'number': number})
    unknown, real = add('39999999'), add('39990001')
    assert unknown.status_code == real.status_code == 303
    assert unknown.headers['Location'] == real.headers['Location']
    for _ in range(4):
        assert add('39990001').status_code == 303
    # both queued for the staff, who decline the unknown one
    assert owner_requests(db, user_id) == [
        ('39990001', '39990001', 'requested'),
        ('39999999', None, 'requested')]

    response = add('39990001')
    assert response.status_code == 429
    assert 0 < int(response.headers['Retry-After']) <= 300
    assert 'add-error' in text(response)


def test_account_requests_look_alike(db, new_subscriber):
    """A subscriber asking for a real number and one asking for an unknown
    number see the same answers and the same pages (the number and the
    user masked): a long message refused alike, six identical requests
    queued once, the home page listing the request"""
    organization, _ = new_account(db, APPROVAL, '39990005')

    def visit(number, address):
        email = f'alike-{number}@example.com'
        user_id, _ = new_subscriber(email, 'Right-pass-1')
        browser = Browser(address=address)
        assert browser.sign_in(email, 'Right-pass-1').status_code == 303

        def add(message="Собственник квартиры"):
            browser.get('/accounts/add')
            return browser.post('/accounts/add', {
                    'organization': str(organization), 'number': number,
                    'message': message})

        def masked(response):
            return (response.status_code, response.headers.get('Location'),
                text(response).replace(email, 'EMAIL').replace(
                    number, 'NUMBER'))
        long_message = add('x' * 2001)
        assert long_message.status_code == 400
        assert 'не больше 2000 символов' in error_text(
            long_message, 'add-error')
        answers = [masked(add()) for _ in range(6)]
        home = browser.get('/?sent=1')
        assert number in text(home)
        return {
            'long message': masked(long_message),
            'answers': answers,
            'home': masked(home),
            'requests': [
                (typed == number, state)
                for typed, _, state in owner_requests(db, user_id)],
            }
    real = visit('39990005', '192.0.2.110')
    unknown = visit('39999995', '192.0.2.111')
    assert real['answers'][0][:2] == (303, '/?sent=1')
    assert real['requests'] == [(True, 'requested')]
    for name in real:
        assert real[name] == unknown[name], name


def test_account_requests_throttled_per_address(db, new_subscriber):
    organization, _ = new_account(db, APPROVAL, '39990002')
    browsers = []
    for n in range(3):
        email = f'same-address{n}@example.com'
        new_subscriber(email, 'Right-pass-1')
        browser = Browser(address='192.0.2.90' if n < 2 else '192.0.2.91')
        assert browser.sign_in(email, 'Right-pass-1').status_code == 303
        browsers.append(browser)

    def add(browser, number):
        browser.get('/accounts/add')
        return browser.post('/accounts/add', {
                'organization': str(organization), 'number': number}
            ).status_code
    with configured('session', 'max_attempt_ip_network', '3'):
        first, second, elsewhere = browsers
        assert [add(first, '39999991'), add(first, '39999992')] == [303] * 2
        assert [add(second, '39999993'), add(second, '39999994')] \
            == [303] * 2
        assert add(second, '39990002') == 429
        assert add(elsewhere, '39990002') == 303


def assert_same_time(first, second, tries=5):
    """first and second (each a function doing one request and returning
    its time) take the same time: their medians, called in turn"""
    times = {first: [], second: []}
    for _ in range(tries):
        for function in times:
            times[function].append(function())
    a, b = (statistics.median(t) for t in times.values())
    assert abs(a - b) <= 0.05 + 0.25 * max(a, b), (
        f"{a * 1000:.0f} ms vs {b * 1000:.0f} ms")


@pytest.fixture
def slow_mail(mailbox):
    "A mail server that takes 0.3 s per message, like a distant one"
    mailbox.delay = 0.3
    try:
        yield mailbox
    finally:
        mailbox.delay = 0


def test_sign_in_takes_the_same_time(new_subscriber):
    email = 'timing@example.com'
    new_subscriber(email, 'Right-pass-1')
    known, unknown = Browser(address='192.0.2.100'), \
        Browser(address='192.0.2.101')
    known.get('/login')
    unknown.get('/login')

    def sign_in(browser, email):
        def run():
            response = browser.post(
                '/login', {'email': email, 'password': 'wrong-pass'})
            assert response.status_code == 200
            return browser.elapsed
        return run
    count = iter(range(100))

    def sign_in_unknown():
        return sign_in(unknown, f'nobody{next(count)}@example.com')()
    assert_same_time(sign_in(known, email), sign_in_unknown)


def test_registration_takes_the_same_time(slow_mail):
    known, unknown = Browser(address='192.0.2.102'), \
        Browser(address='192.0.2.103')
    known.get('/register')
    unknown.get('/register')
    count = iter(range(100))

    def register(browser, email):
        def run():
            response = browser.post('/register', {
                    'email': email or f'timing{next(count)}@example.com',
                    'password': 'Str0ng-pass-8', 'password2': 'Str0ng-pass-8',
                    'consent': '1'})
            assert response.status_code == 200, text(response)
            return browser.elapsed
        return run
    assert_same_time(register(known, SUBSCRIBER), register(unknown, None))


def test_reset_request_takes_the_same_time(slow_mail):
    known, unknown = Browser(address='192.0.2.104'), \
        Browser(address='192.0.2.105')
    known.get('/reset-request')
    unknown.get('/reset-request')

    def reset(browser, email):
        def run():
            response = browser.post('/reset-request', {'email': email})
            assert response.status_code == 200
            return browser.elapsed
        return run
    assert_same_time(
        reset(known, SUBSCRIBER), reset(unknown, 'nobody@example.com'))


def test_registration_of_a_known_address(db, mailbox):
    """Registering a known address again answers like a new one; its owner
    gets a message saying how to sign in"""
    sent = len(mailbox.messages)
    browser = Browser(address='192.0.2.106')
    browser.get('/register')
    response = browser.post('/register', {
            'email': SUBSCRIBER, 'password': 'Other-pass-9',
            'password2': 'Other-pass-9', 'consent': '1'})
    assert response.status_code == 200
    # other tests' mail to the demo subscriber may still arrive
    body = mailbox.wait_for(
        SUBSCRIBER, "У вас уже есть пользователь", after=sent).get_content()
    assert '/reset-request' in body
    # the password did not change
    assert Browser(address='192.0.2.107').sign_in(
        SUBSCRIBER, 'Other-pass-9').status_code == 200
    assert Browser(address='192.0.2.107').sign_in(
        SUBSCRIBER, PASSWORD).status_code == 303


# 12. No cache keeps personal pages; CSRF tokens follow the session

def test_personal_pages_are_not_stored(demo_server):
    browser = Browser(address='192.0.2.110')
    browser.sign_in(SUBSCRIBER, PASSWORD)
    home = browser.get('/')
    account = re.search(r'href="/accounts/(\d+)"', text(home))[1]
    for path in ['/', f'/accounts/{account}', f'/accounts/{account}/delegates',
            '/accounts/add', '/organizations']:
        response = browser.get(path)
        assert response.status_code == 200, path
        assert 'no-store' in response.headers.get('Cache-Control', ''), path


def test_csrf_token_follows_the_session(new_subscriber):
    for email in ['csrf-a@example.com', 'csrf-b@example.com']:
        new_subscriber(email, 'Right-pass-1')
    browser = Browser(address='192.0.2.111')
    browser.get('/login')
    anonymous = browser.token
    response = browser.post(
        '/login', {'email': 'csrf-a@example.com', 'password': 'Right-pass-1'})
    assert response.status_code == 303

    # the token of the form before the sign-in counts no more
    response = browser.post('/logout', {})
    assert response.status_code == 403
    browser.get('/accounts/add')
    signed_in = browser.token
    assert signed_in != anonymous
    # nor does another session's
    other = Browser(address='192.0.2.112')
    other.sign_in('csrf-b@example.com', 'Right-pass-1')
    other.get('/accounts/add')
    assert other.token != signed_in
    browser.token = other.token
    assert browser.post('/logout', {}).status_code == 403
    assert browser.get('/').status_code == 200

    browser.token = signed_in
    assert browser.post('/logout', {}).status_code == 303
    # signed out, the signed-in token counts no more
    response = browser.post(
        '/login', {'email': 'csrf-a@example.com', 'password': 'Right-pass-1'})
    assert response.status_code == 403
    browser.get('/login')
    assert browser.token not in {anonymous, signed_in}


def test_back_after_sign_out_shows_no_account(demo_server):
    "In Chromium, Back after «Выйти» asks the server again"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path='/usr/bin/chromium',
            args=['--no-sandbox', '--disable-gpu'])
        try:
            context = chromium.new_context(
                base_url=demo_server.url, locale='ru-RU')
            page = context.new_page()
            page.goto('/login')
            page.get_by_label('Эл. почта').fill(SUBSCRIBER)
            page.get_by_label('Пароль').fill(PASSWORD)
            page.locator('form.form button[type=submit]').click()
            page.wait_for_url(re.compile(r'/$'))
            page.locator('.account-card a').first.click()
            page.wait_for_url(re.compile(r'/accounts/\d+$'))
            number = page.locator('h1').inner_text()
            page.get_by_role('button', name='Выйти').click()
            page.wait_for_url(re.compile(r'/login$'))
            page.go_back()
            page.wait_for_load_state()
            assert '/login' in page.url
            assert number not in page.content()
        finally:
            chromium.close()


# 13. E-mail addresses are checked before anything is sent

@pytest.mark.parametrize('email, message', [
        ('d">x@example.com', "Введите правильный адрес"),
        ('no-at-sign.example.com', "Введите правильный адрес"),
        ('x' * 100_000 + '@example.com', "слишком длинный"),
        ])
def test_registration_refuses_bad_addresses(db, mailbox, email, message):
    sent = len(mailbox.messages)
    browser = Browser(address='192.0.2.120')
    browser.get('/register')
    response = browser.post('/register', {
            'email': email, 'password': 'Str0ng-pass-9',
            'password2': 'Str0ng-pass-9', 'consent': '1'})
    assert response.status_code == 400
    errors = error_items(response, 'register-errors')
    assert len(errors) == 1 and message in errors[0], errors
    assert users_with(db, email.lower()) == 0
    assert len(mailbox.messages) == sent


@pytest.fixture(scope='module')
def inviting_owner(db, new_subscriber):
    "An owner's browser, signed in, and the id of the account"
    _, account = new_account(db, "УК «Отрадный»", '19990001')
    new_subscriber('inviter@example.com', 'Right-pass-1', account=account)
    browser = Browser(address='192.0.2.121')
    assert browser.sign_in(
        'inviter@example.com', 'Right-pass-1').status_code == 303
    return browser, account


@pytest.mark.parametrize('email, message', [
        ('d">x@example.com', "Введите правильный адрес"),
        ('x' * 100_000 + '@example.com', "слишком длинный"),
        ])
def test_invitation_refuses_bad_addresses(
        db, mailbox, inviting_owner, email, message):
    browser, account = inviting_owner
    sent = len(mailbox.messages)
    browser.get(f'/accounts/{account}/delegates')
    response = browser.post(
        f'/accounts/{account}/delegates', {'email': email, 'readings': '1'})
    assert response.status_code == 400
    assert message in error_text(response, 'delegate-error')
    assert len(mailbox.messages) == sent

    def invitations(pool):
        Access = pool.get('lk.account.access')
        return Access.search_count([
                ('account', '=', account), ('role', '=', 'delegate')])
    assert db(invitations) == 0
