# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The portal in headless Chromium (Playwright) on the demo server, with the
e-mails received by a local SMTP server and their links followed:
registration, linking an account by code and by request, delegation, and the
home page on a phone."""
import html
import re
from pathlib import Path

import pytest

SUBSCRIBER = 'abonent1@example.com'
PASSWORD = 'demo'
RESULTS = Path(__file__).resolve().parent.parent / 'test-results'
LINK = re.compile(r'(https?://[^\s"<>]+)')


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
def page(browser, demo_server):
    context = browser.new_context(
        base_url=demo_server.url, locale='ru-RU',
        viewport={'width': 1024, 'height': 800})
    context.set_default_timeout(30000)
    page = context.new_page()
    yield page
    context.close()


def link_in(message, path):
    "The URL of the portal's path in the e-mail"
    # the body of web_user's mails is HTML
    text = html.unescape(message.get_body(('plain', 'html')).get_content())
    for url in LINK.findall(text):
        if path in url:
            return url
    raise AssertionError(f"no {path} link in {text!r}")


def sign_in(page, email, password, next_=None):
    page.goto('/login' + (f'?next={next_}' if next_ else ''))
    page.get_by_label('Эл. почта').fill(email)
    page.get_by_label('Пароль').fill(password)
    page.locator('form.form button[type=submit]').click()
    page.wait_for_load_state()


def register(page, mailbox, email, password):
    "Fill the registration form and follow the validation link"
    sent = len(mailbox.messages)
    page.get_by_label('Эл. почта').fill(email)
    page.get_by_label('Пароль', exact=True).fill(password)
    page.get_by_label('Пароль ещё раз').fill(password)
    page.get_by_label(re.compile('согласие на обработку')).check()
    page.locator('form.form button[type=submit]').click()
    page.wait_for_load_state()
    assert page.locator('h1').inner_text() == 'Проверьте почту'

    message = mailbox.wait_for(email, after=sent)
    page.goto(link_in(message, '/validate?token='))
    assert page.locator('h1').inner_text() == 'Адрес подтверждён'


def access_code(db, number):
    def read(pool):
        Account = pool.get('lk.account')
        account, = Account.search([('number', '=', number)])
        return (account.access_code, account.company.short_name,
            account.company.id)
    return db(read)


def test_register_validate_and_add_account(page, mailbox, db):
    email = 'new.subscriber@example.com'
    page.goto('/register')
    register(page, mailbox, email, 'Str0ng-pass-1')

    sign_in(page, email, 'Str0ng-pass-1')
    assert page.url.endswith('/')
    assert page.locator('.account-card').count() == 0

    code, organization, _ = access_code(db, '10000002')
    page.goto('/accounts/add')
    page.get_by_label('Организация').select_option(label=organization)
    page.get_by_label('Номер лицевого счёта').fill('10000002')
    # a wrong code first: a translated error, nothing linked
    page.get_by_label('Код доступа').fill('WRON-GCOD')
    page.locator('form.form button[type=submit]').click()
    assert 'не соответствуют' in page.locator('#add-error').inner_text()

    page.get_by_label('Код доступа').fill(code.lower())
    page.locator('form.form button[type=submit]').click()
    page.wait_for_url(re.compile(r'/accounts/\d+$'))
    assert '10000002' in page.locator('h1').inner_text()
    assert page.locator('.org-name').inner_text() == organization

    page.goto('/')
    card = page.locator('.account-card')
    assert card.count() == 1
    assert '10000002' in card.inner_text()
    assert organization in card.inner_text()
    assert 'Владелец' in card.inner_text()


def test_request_approved_by_staff(page, db):
    email = 'requester@example.com'

    def create(pool):
        WebUser = pool.get('web.user')
        WebUser.create([{
                    'email': email, 'email_valid': True,
                    'password_hash': WebUser.hash_password('Str0ng-pass-2'),
                    }])
    db(create)
    _, _, organization = access_code(db, '30000002')

    sign_in(page, email, 'Str0ng-pass-2')
    page.goto('/accounts/add')
    page.get_by_label('Организация').select_option(value=str(organization))
    # portal.js hides the access code this organization does not use
    assert not page.get_by_label('Код доступа').is_visible()
    page.get_by_label('Номер лицевого счёта').fill('30000002')
    page.get_by_label('Сообщение организации').fill("Я собственник")
    page.locator('form.form button[type=submit]').click()
    page.wait_for_url(re.compile(r'/\?sent=1$'))
    assert page.locator('.notice.success').is_visible()
    pending = page.locator('.requests li')
    assert '30000002' in pending.inner_text()
    assert 'На рассмотрении' in pending.inner_text()
    assert page.locator('.account-card').count() == 0

    def approve(pool):
        Access = pool.get('lk.account.access')
        access, = Access.search([
                ('web_user.email', '=', email), ('state', '=', 'requested')])
        Access.approve([access])
    db(approve)

    page.reload()
    card = page.locator('.account-card')
    assert card.count() == 1
    assert '30000002' in card.inner_text()
    assert page.locator('.requests li').count() == 0


def test_delegate_with_readings_only(page, browser, demo_server, mailbox):
    delegate = 'readings-only.delegate@example.com'
    sign_in(page, SUBSCRIBER, PASSWORD)
    page.locator('.account-card a', has_text='10000001').click()
    page.locator('[data-action=delegates]').click()
    sent = len(mailbox.messages)
    page.get_by_label('Эл. почта', exact=True).fill(delegate)
    page.get_by_label('Передать показания счётчиков').check()
    # only the rights of the activated modules are offered
    assert page.get_by_label('Оплатить онлайн').count() == 0
    assert page.get_by_label('Писать обращения').count() == 0
    page.locator('form.form button[type=submit]').click()
    page.wait_for_url(re.compile(r'/delegates\?sent=1$'))
    row = page.locator('.delegates li', has_text=delegate)
    assert 'Приглашён' in row.inner_text()

    invitation = link_in(
        mailbox.wait_for(delegate, after=sent), '/invitations/')

    # The invitee: registers from the invitation, confirms, signs in, accepts
    context = browser.new_context(base_url=demo_server.url, locale='ru-RU')
    other = context.new_page()
    other.goto(invitation)
    other.get_by_role('link', name='Зарегистрироваться').click()
    assert other.get_by_label('Эл. почта').input_value() == delegate
    register(other, mailbox, delegate, 'Str0ng-pass-3')
    sign_in(other, delegate, 'Str0ng-pass-3',
        next_='/' + invitation.split('/', 3)[3])
    assert '/invitations/' in other.url
    other.get_by_role('button', name='Принять приглашение').click()
    other.wait_for_url(re.compile(r'/accounts/\d+$'))

    assert '10000001' in other.locator('h1').inner_text()
    assert other.locator('[data-action=readings]').count() == 1
    assert other.locator('[data-action=payment]').count() == 0
    assert other.locator('[data-action=appeals]').count() == 0
    assert other.locator('[data-action=delegates]').count() == 0
    assert 'Доверенное лицо' in other.locator('.account-details').inner_text()

    other.goto('/')
    card = other.locator('.account-card')
    assert card.count() == 1
    assert 'Показания' in card.inner_text()
    assert 'Оплата' not in card.inner_text()

    # The owner sees the delegate active, then revokes the access
    page.reload()
    row = page.locator('.delegates li', has_text=delegate)
    assert 'Действует' in row.inner_text()
    row.get_by_role('link', name='Отозвать').click()
    page.get_by_role('button', name='Отозвать доступ').click()
    page.wait_for_url(re.compile(r'/delegates\?revoked=1$'))
    assert page.locator('.delegates li', has_text=delegate).count() == 0
    other.reload()
    assert other.locator('.account-card').count() == 0
    context.close()


def test_home_on_a_phone(browser, demo_server):
    context = browser.new_context(
        base_url=demo_server.url, locale='ru-RU',
        viewport={'width': 375, 'height': 812}, device_scale_factor=2,
        is_mobile=True, has_touch=True)
    page = context.new_page()
    sign_in(page, SUBSCRIBER, PASSWORD)
    page.goto('/')
    assert page.locator('.account-card').count() >= 2
    RESULTS.mkdir(exist_ok=True)
    page.screenshot(path=str(RESULTS / 'home-375.png'), full_page=True)

    account = page.locator('.account-card a').first.get_attribute('href')
    for path in ['/', account, '/accounts/add', '/organizations',
            f'{account}/delegates', '/login']:
        page.goto(path)
        width = page.evaluate(
            'document.documentElement.scrollWidth - window.innerWidth')
        assert width <= 0, f"{path} overflows by {width}px"
    context.close()


def test_language_switch_and_public_page(page, db):
    def first_organization(pool):
        Company = pool.get('company.company')
        company, = Company.search([('short_name', '=', "УК «Отрадный»")])
        return company.id
    organization = db(first_organization)

    page.goto(f'/o/{organization}')
    assert page.locator('h1').inner_text() == "УК «Отрадный»"
    assert 'Аварийно-диспетчерская служба' in page.inner_text('main')
    page.get_by_role('link', name='English').click()
    page.wait_for_url(re.compile(f'/o/{organization}$'))
    assert 'Emergency dispatch' in page.inner_text('main')
    assert page.locator('html').get_attribute('lang') == 'en'
    assert page.goto('/o/999999').status == 404


def test_pwa_shell(page):
    response = page.goto('/manifest.webmanifest')
    assert response.ok
    manifest = response.json()
    assert manifest['name'] == 'Личный кабинет'
    for icon in manifest['icons']:
        assert page.request.get(icon['src']).ok, icon['src']
    for path in ['/sw.js', '/static/portal.css', '/static/portal.js',
            '/static/offline.html']:
        assert page.request.get(path).ok, path
