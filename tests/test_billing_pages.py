# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The billing part of the portal and the API (lk_billing) on the demo
server: the header's debt is the sum of the subscriber's accounts' debts
computed here from the database; «Задолженность» per address, account and
service; the history of every month with a chart and each month's charges
with their basis; the payment document as PDF; another subscriber's
account, or a delegate whose access is no longer valid, is a 404; the API's
documents and problems; axe-core finds nothing and a phone (375 px) shows
the debt, the detail, a month's charges and downloads the document
(screenshots in LK_SCREENSHOTS or test-results)."""
import datetime as dt
import os
import re
from decimal import Decimal
from pathlib import Path

import pytest

from test_portal_browser import PASSWORD, SUBSCRIBER, browser  # noqa: F401
from test_portal_pages import assert_accessible

API = '/api/v1'
SHOTS = Path(os.environ.get('LK_SCREENSHOTS') or (
        Path(__file__).resolve().parent.parent / 'test-results'))
MONTHS = [
    "январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август",
    "сентябрь", "октябрь", "ноябрь", "декабрь"]


def rub(amount):
    "«1 234,56 ₽» as the Russian pages write it (no-break spaces as spaces)"
    text = f'{abs(amount):,.2f}'.replace(',', ' ').replace('.', ',')
    return ('−' if amount < 0 else '') + text + ' ₽'


SIMPLE = re.compile(
    r'(?P<tag>[a-z0-9]+)?(?P<rest>(?:\.[\w-]+|\[[\w-]+(?:=[^\]]+)?\])*)')


def select(element, selector):
    """The elements of the CSS selector (tags, classes, [attributes] and
    descendants only) below element, by XPath: lxml's cssselect needs a
    package the project does not use"""
    path = '.'
    for part in selector.split():
        match = SIMPLE.fullmatch(part)
        conditions = []
        for kind, name, value in re.findall(
                r'(\.|\[)([\w-]+)(?:=([^\]]+))?', match['rest']):
            if kind == '.':
                conditions.append(
                    'contains(concat(" ", normalize-space(@class), " "), '
                    f'" {name} ")')
            elif value:
                conditions.append(f'@{name}="{value.strip(chr(34))}"')
            else:
                conditions.append(f'@{name}')
        path += f"//{match['tag'] or '*'}" + ''.join(
            f'[{c}]' for c in conditions)
    return element.xpath(path)


def flat(text):
    return re.sub(r'\s+', ' ', text.replace('\u00a0', ' ')).strip()


def period_ru(date):
    return f'{MONTHS[date.month - 1]} {date.year}'


def month(date):
    return f'{date:%Y-%m}'


def next_month(date):
    return (date.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


# The database, read without lk_billing's own computation

def require_billing(db):
    def check(pool):
        Module = pool.get('ir.module')
        return bool(Module.search([
                    ('name', '=', 'lk_billing'),
                    ('state', '=', 'activated'),
                    ]))
    assert db(check), "lk_billing is not activated in the demo database"


def account_data(pool, account):
    """The account's debt, latest period, services' closing, and its
    periods, from the records (not Balance.debts nor history)"""
    Balance = pool.get('lk.balance')
    Payment = pool.get('lk.payment.received')
    balances = Balance.search([('account', '=', account.id)])
    periods = sorted({b.period for b in balances}, reverse=True)
    latest = periods[0] if periods else None
    services = {
        b.service.name: b.closing for b in balances if b.period == latest}
    closing = sum(services.values(), Decimal(0))
    transit = sum((
            p.amount for p in Payment.search([
                    ('account', '=', account.id), ('source', '=', 'lk')])
            if latest is None or p.date >= next_month(latest)), Decimal(0))
    by_period = {}
    for b in balances:
        line = by_period.setdefault(b.period, [Decimal(0)] * 3)
        line[0] += b.charged
        line[1] += b.paid
        line[2] += b.closing
    return {
        'id': account.id, 'number': account.number,
        'address': account.building.address,
        'organization': account.company.display_name,
        'latest': latest, 'services': services, 'closing': closing,
        'in_transit': transit, 'debt': closing - transit,
        'periods': periods, 'by_period': by_period,
        'deadline': (
            next_month(latest).replace(day=account.company.billing_due_day)
            if latest else None),
        }


def subscriber_accounts(db, email=SUBSCRIBER):
    "account_data of every account of a valid access of the user"
    def read(pool):
        Access = pool.get('lk.account.access')
        accesses = Access.search([
                ('web_user.email', '=', email), ('valid', '=', True)])
        return [account_data(pool, a.account) for a in accesses]
    return db(read)


@pytest.fixture(scope='module')
def own(db):
    require_billing(db)
    accounts = subscriber_accounts(db)
    assert len([a for a in accounts if a['latest']]) >= 2, accounts
    return accounts


@pytest.fixture(scope='module')
def stranger_account(db, own):
    "An account of another subscriber, billed, with a penalty line"
    def read(pool):
        Charge = pool.get('lk.charge')
        charge, = Charge.search([
                ('kind', '=', 'penalty'),
                ('account', 'not in', [a['id'] for a in own]),
                ], limit=1)
        return account_data(pool, charge.account) | {
            'penalty_period': charge.period}
    return db(read)


# HTTP

@pytest.fixture(scope='module')
def http(demo_server):
    return Client(demo_server.url)


class Client:
    "A requests session signed in on the pages and with a bearer token"

    def __init__(self, url):
        import requests
        self.url = url
        self.session = requests.Session()
        self.session.headers['Accept-Language'] = 'ru'

    def sign_in(self, email=SUBSCRIBER, password=PASSWORD):
        page = self.session.get(self.url + '/login', timeout=60).text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]
        answer = self.session.post(self.url + '/login', data={
                'csrf_token': token, 'email': email, 'password': password,
                'next': '/'}, timeout=60)
        assert 'name="password"' not in answer.text, "sign-in failed"
        answer = self.session.post(self.url + API + '/auth/token', json={
                'email': email, 'password': password}, timeout=60)
        assert answer.status_code == 201, answer.text
        self.token = answer.json()['token']
        return self

    def get(self, path, **kwargs):
        return self.session.get(self.url + path, timeout=120, **kwargs)

    def page(self, path):
        import lxml.html
        answer = self.get(path)
        return answer, lxml.html.fromstring(answer.content)

    def api(self, path, **kwargs):
        import requests
        return requests.get(
            self.url + API + path, timeout=120, headers={
                'Authorization': f'Bearer {self.token}',
                'Accept-Language': 'ru'}, **kwargs)


@pytest.fixture(scope='module')
def subscriber(http):
    return http.sign_in()


def header_text(document):
    found = select(document, '[data-header=debt]')
    return flat(found[0].text_content()) if found else None


def expected_header(accounts):
    billed = [a for a in accounts if a['latest'] or a['in_transit']]
    if not billed:
        return None
    total = sum((a['debt'] for a in billed), Decimal(0))
    if total > 0:
        return f"Долг: {rub(total)}"
    if total < 0:
        return f"Переплата: {rub(-total)}"
    return "Нет задолженности"


def test_header_debt_is_the_sum_of_the_accounts(subscriber, own):
    "On every signed-in page, the sum of the debts computed from the DB"
    expected = expected_header(own)
    assert expected and expected.startswith("Долг: ")
    for path in ['/', '/debt', '/organizations']:
        answer, document = subscriber.page(path)
        assert answer.status_code == 200, path
        assert header_text(document) == expected, path
        link, = select(document, '[data-header=debt]')
        assert link.get('href') == '/debt'


def test_debt_per_address_account_and_service(subscriber, own):
    answer, document = subscriber.page('/debt')
    assert answer.status_code == 200
    assert 'Задолженность' in select(document, 'h1')[0].text_content()
    total = sum((a['debt'] for a in own if a['latest']), Decimal(0))
    assert flat(document.get_element_by_id('debt-total').text_content()) \
        == f"Общий долг: {rub(total)}"
    for account in own:
        article = document.get_element_by_id(f"account-{account['id']}")
        group = article.getparent()
        assert flat(select(group, 'h2.address')[0].text_content()
            ).startswith(account['address'])
        text = flat(article.text_content())
        assert account['number'] in text
        assert account['organization'] in text
        assert f"Долг: {rub(account['debt'])}" in text
        rows = {
            flat(select(r, 'th')[0].text_content()):
            flat(select(r, 'td')[0].text_content())
            for r in select(article, 'table.debt-services tbody tr')}
        assert rows == {
            name: rub(amount)
            for name, amount in account['services'].items()}
        assert period_ru(account['latest']) in text
        if account['in_transit']:
            assert f"Платежи в пути: {rub(account['in_transit'])}" in text
        links = [a.get('href') for a in select(article, 'a')]
        assert f"/accounts/{account['id']}/history" in links
        assert (f"/accounts/{account['id']}/charges/"
            f"{month(account['latest'])}") in links
        assert (f"/accounts/{account['id']}/documents/"
            f"{month(account['latest'])}.pdf") in links
    # no payment module: nothing offers to pay
    assert not select(document, '[data-action=payment]')
    assert 'Оплатить онлайн' not in answer.text


def test_home_panels_and_actions(subscriber, own):
    "A panel per account with its debt and deadline; its actions"
    answer, document = subscriber.page('/')
    panels = select(document, '[data-panel=debt]')
    assert len(panels) == len([a for a in own if a['latest']])
    for account in own:
        panel, = [p for p in panels
            if account['number'] in p.text_content()]
        text = flat(panel.text_content())
        assert rub(account['debt']) in text
        assert account['deadline'].strftime('%d.%m.%Y') in text
        card, = [c for c in select(document, '.account-card')
            if account['number'] in c.text_content()]
        actions = {
            a.get('data-action'): a.get('href')
            for a in select(card, '[data-action]')}
        assert actions['history'] == f"/accounts/{account['id']}/history"
        assert actions['debt'] == f"/debt#account-{account['id']}"
    menu = [a.get('href') for a in select(document, 'nav.menu a')]
    assert '/debt' in menu


def test_history_every_month(subscriber, own):
    "Every period of the account (24 in the demo), its amounts, the chart"
    from trytond.modules.lk_billing.demo import MONTHS as DEMO_MONTHS
    account = own[0]
    answer, document = subscriber.page(f"/accounts/{account['id']}/history")
    assert answer.status_code == 200
    rows = select(document, 'table.settlements tbody tr')
    assert len(rows) == len(account['periods']) == DEMO_MONTHS
    assert [r.get('data-period') for r in rows] == [
        month(p) for p in account['periods']]
    for row, period in zip(rows, account['periods']):
        charged, paid, closing = account['by_period'][period]
        cells = [flat(c.text_content()) for c in select(row, 'td.number')]
        assert cells == [rub(charged), rub(paid), rub(closing)]
        assert flat(select(row, 'th')[0].text_content()) == \
            period_ru(period)
        assert select(row, 'a')[0].get('href') == (
            f"/accounts/{account['id']}/charges/{month(period)}")
    chart, = select(document, 'svg.chart')
    assert chart.get('role') == 'img'
    assert 'таблице' in chart.get('aria-label')
    assert len(select(chart, 'rect title')) == 2 * 12


def test_month_charges_with_basis(subscriber, own, db):
    "A month's lines: volume, unit, tariff, basis, recalculation and reason"
    account = own[0]

    def read(pool):
        Charge = pool.get('lk.charge')
        charges = Charge.search([('account', '=', account['id'])])
        recalculated = [c for c in charges if c.recalculation]
        period = (recalculated[0].period if recalculated
            else account['latest'])
        return period, [{
                'service': c.service.name, 'code': c.service.code,
                'total': c.total,
                'kind': c.kind, 'volume': c.volume, 'unit': c.unit,
                'recalculation': c.recalculation,
                'reason': c.recalculation_reason,
                'details': c.basis_details, 'basis': c.basis,
                } for c in charges if c.period == period]
    period, charges = db(read)
    answer, document = subscriber.page(
        f"/accounts/{account['id']}/charges/{month(period)}")
    assert answer.status_code == 200
    assert flat(select(document, 'h1')[0].text_content()) == \
        f"Начисления за {period_ru(period)}"
    assert len(select(document, 'li.charge')) == len(charges)
    for charge in charges:
        item, = select(document,
            f"li.charge.kind-{charge['kind']}"
            f"[data-service=\"{charge['code']}\"]")
        text = flat(item.text_content())
        assert text.startswith(charge['service'])
        assert rub(charge['total']) in text
        if charge['volume'] is not None:
            assert f" {charge['unit']}" in text
        if charge['details']:
            assert flat(charge['details']) in text
        if charge['basis'] == 'meter':
            assert "по показаниям прибора учёта" in text
        if charge['recalculation']:
            recalculation, = select(item, 'dd.recalculation')
            assert flat(recalculation.text_content()) == (
                f"{rub(charge['recalculation'])}: {charge['reason']}")
    assert any(c['recalculation'] for c in charges) or \
        period == account['latest']
    closing = account['by_period'][period][2]
    assert flat(document.get_element_by_id('period-closing').text_content()
        ) == rub(closing)


def test_penalty_and_coefficient_shown(http, db, new_subscriber,
        stranger_account):
    "A penalty is its own line; a raising coefficient is shown"
    email = 'billing.owner@example.com'
    new_subscriber(email, 'Str0ng-pass-b1', stranger_account['id'])
    client = type(http)(http.url).sign_in(email, 'Str0ng-pass-b1')
    period = stranger_account['penalty_period']
    answer, document = client.page(
        f"/accounts/{stranger_account['id']}/charges/{month(period)}")
    assert answer.status_code == 200
    penalties = select(document, 'li.charge.kind-penalty')
    assert penalties and 'пени' in penalties[0].text_content()

    def coefficient(pool):
        Charge = pool.get('lk.charge')
        found = Charge.search([('coefficient', '!=', None)], limit=1)
        return (found[0].account.id, found[0].period,
            found[0].coefficient) if found else None
    found = db(coefficient)
    assert found, "the demo has no raising coefficient"
    account_id, period, value = found
    client = type(http)(http.url)
    email = f'billing.coefficient.{account_id}@example.com'
    new_subscriber(email, 'Str0ng-pass-b2', account_id)
    client.sign_in(email, 'Str0ng-pass-b2')
    answer, document = client.page(
        f"/accounts/{account_id}/charges/{month(period)}")
    shown = [flat(c.text_content())
        for c in select(document, 'dd.coefficient')]
    assert f'{value.normalize():f}'.replace('.', ',') in shown


def test_payment_document_downloads(subscriber, own):
    account = own[0]
    for period in [account['latest'], account['periods'][-1]]:
        answer = subscriber.get(
            f"/accounts/{account['id']}/documents/{month(period)}.pdf")
        assert answer.status_code == 200
        assert answer.headers['Content-Type'] == 'application/pdf'
        assert 'attachment' in answer.headers['Content-Disposition']
        assert answer.content.startswith(b'%PDF')


def assert_not_found_page(answer):
    assert answer.status_code == 404
    assert 'Страница не найдена' in answer.text
    assert answer.headers['Content-Type'].startswith('text/html')


def test_other_subscribers_account_is_not_found(
        subscriber, stranger_account):
    other = stranger_account
    for path in [
            f"/accounts/{other['id']}/history",
            f"/accounts/{other['id']}/charges/{month(other['latest'])}",
            f"/accounts/{other['id']}/documents/{month(other['latest'])}"
            ".pdf",
            ]:
        assert_not_found_page(subscriber.get(path))
    for path in [
            f"/accounts/{other['id']}/history",
            f"/accounts/{other['id']}/charges?period="
            f"{month(other['latest'])}",
            f"/accounts/{other['id']}/documents/{month(other['latest'])}"
            ".pdf"]:
        answer = subscriber.api(path)
        assert answer.status_code == 404, path
        assert answer.headers['Content-Type'] == 'application/problem+json'
    document = subscriber.api('/debt').json()
    assert other['id'] not in [a['account_id'] for a in document['accounts']]


def test_own_account_without_the_period_is_not_found(subscriber, own):
    account = own[0]
    for path in ['/charges/2001-01', '/charges/2026-13',
            '/documents/2001-01.pdf', '/charges/26-11']:
        assert_not_found_page(
            subscriber.get(f"/accounts/{account['id']}{path}"))


def test_delegate_needs_a_valid_access(http, db, new_subscriber, own):
    """A delegate with a valid access and no other right sees the account's
    debt and history; once the access is blocked, nothing of it"""
    account = own[0]
    email = 'billing.delegate@example.com'
    _user, access_id = new_subscriber(
        email, 'Str0ng-pass-b3', account['id'], role='delegate',
        right_readings=False, right_payment=False, right_appeals=False)
    client = type(http)(http.url).sign_in(email, 'Str0ng-pass-b3')
    history = f"/accounts/{account['id']}/history"
    charges = f"/accounts/{account['id']}/charges/{month(account['latest'])}"
    answer, document = client.page('/')
    assert header_text(document) == expected_header([account])
    assert client.get(history).status_code == 200
    assert client.get(charges).status_code == 200
    assert client.api(f"/accounts/{account['id']}/history").ok

    def block(pool):
        Access = pool.get('lk.account.access')
        Access.block([Access(access_id)])
    db(block)
    answer, document = client.page('/')
    assert header_text(document) is None
    assert not select(document, '[data-panel=debt]')
    answer, document = client.page('/debt')
    assert not document.xpath(f'//*[@id="account-{account["id"]}"]')
    for path in [history, charges,
            f"/accounts/{account['id']}/documents/"
            f"{month(account['latest'])}.pdf"]:
        assert_not_found_page(client.get(path))
    assert client.api(f"/accounts/{account['id']}/history"
        ).status_code == 404
    assert client.api('/debt').json() == {'total': None, 'accounts': []}


# API

def test_api_debt(subscriber, own):
    answer = subscriber.api('/debt')
    assert answer.status_code == 200
    document = answer.json()
    total = sum((a['debt'] for a in own if a['latest']), Decimal(0))
    assert document['total'] == f'{total:.2f}'
    by_id = {a['account_id']: a for a in document['accounts']}
    assert set(by_id) == {a['id'] for a in own}
    for account in own:
        found = by_id[account['id']]
        assert found['debt'] == f"{account['debt']:.2f}"
        assert found['in_transit'] == f"{account['in_transit']:.2f}"
        assert found['period'] == month(account['latest'])
        assert found['deadline'] == account['deadline'].isoformat()
        assert {s['service']['name']: s['closing']
            for s in found['services']} == {
            n: f'{c:.2f}' for n, c in account['services'].items()}


def test_api_history_and_charges(subscriber, own):
    account = own[0]
    history = subscriber.api(f"/accounts/{account['id']}/history").json()
    assert [h['period'] for h in history] == [
        month(p) for p in account['periods']]
    latest = history[0]
    charged, paid, closing = account['by_period'][account['latest']]
    assert (latest['charged'], latest['paid'], latest['closing']) == (
        f'{charged:.2f}', f'{paid:.2f}', f'{closing:.2f}')
    answer = subscriber.api(
        f"/accounts/{account['id']}/charges",
        params={'period': month(account['latest'])})
    assert answer.status_code == 200
    document = answer.json()
    assert document['period'] == month(account['latest'])
    assert document['balance']['closing'] == f'{closing:.2f}'
    assert document['charges']
    for charge in document['charges']:
        assert re.fullmatch(r'-?\d+\.\d{2}', charge['total'])
        assert charge['basis'] in {'meter', 'average', 'norm', 'fixed', None}
        if charge['volume'] is not None:
            assert re.fullmatch(r'\d+\.\d{3}', charge['volume'])
    assert sum(Decimal(c['total']) for c in document['charges']) == charged


@pytest.mark.parametrize('query', [
        {'period': '2026-13'}, {'period': 'november'}, {'period': '2026-1'},
        {'period': '1999-12'}, {'period': '0000-05'},
        {'period': '２０２６-11'}, {}])
def test_api_charges_bad_period(subscriber, own, query):
    "A period that is no month is a 422 problem naming the parameter"
    answer = subscriber.api(
        f"/accounts/{own[0]['id']}/charges", params=query)
    assert answer.status_code == 422
    assert answer.headers['Content-Type'] == 'application/problem+json'
    problem = answer.json()
    assert problem['field'] == 'period'
    assert 'ГГГГ-ММ' in problem['detail']


def test_api_payment_document(subscriber, own):
    account = own[0]
    answer = subscriber.api(
        f"/accounts/{account['id']}/documents/{month(account['latest'])}"
        ".pdf")
    assert answer.status_code == 200
    assert answer.headers['Content-Type'] == 'application/pdf'
    assert answer.content.startswith(b'%PDF')
    answer = subscriber.api(
        f"/accounts/{account['id']}/documents/2001-01.pdf")
    assert answer.status_code == 404
    assert answer.headers['Content-Type'] == 'application/problem+json'


def test_api_openapi_documents_billing(http):
    import requests
    document = requests.get(
        http.url + API + '/openapi.json', timeout=60).json()
    paths = document['paths']
    for path in [
            f'{API}/debt', f'{API}/accounts/{{account_id}}/history',
            f'{API}/accounts/{{account_id}}/charges',
            f'{API}/accounts/{{account_id}}/documents/{{period}}.pdf']:
        assert path in paths, path
    charges = paths[f'{API}/accounts/{{account_id}}/charges']['get']
    period, = [p for p in charges['parameters'] if p.get('name') == 'period']
    assert period['in'] == 'query' and period['required']
    assert '422' in charges['responses']
    pdf = paths[f'{API}/accounts/{{account_id}}/documents/{{period}}.pdf']
    assert 'application/pdf' in pdf['get']['responses']['200']['content']
    money = document['components']['schemas']['Money']
    assert re.fullmatch(money['pattern'], '1234.56')


# In a browser

def signed_in_context(browser, demo_server, width):  # noqa: F811
    context = browser.new_context(
        base_url=demo_server.url, locale='ru-RU', accept_downloads=True,
        viewport={'width': width, 'height': 900},
        is_mobile=width < 800, has_touch=width < 800)
    context.set_default_timeout(60000)
    page = context.new_page()
    page.goto('/login')
    page.get_by_label('Эл. почта').fill(SUBSCRIBER)
    page.get_by_label('Пароль').fill(PASSWORD)
    page.locator('form.form button[type=submit]').click()
    page.wait_for_load_state()
    return context, page


def test_on_a_phone(browser, demo_server, own):  # noqa: F811
    """At 375 px: the debt in the header, the per-address detail, a month's
    charges with their basis, the document downloaded"""
    context, page = signed_in_context(browser, demo_server, 375)
    header = page.locator('[data-header=debt]')
    assert flat(header.inner_text()) == expected_header(own)
    assert header.is_visible()
    header.click()
    page.wait_for_url(re.compile(r'/debt$'))
    account = own[0]
    detail = page.locator(f"#account-{account['id']}")
    assert detail.is_visible()
    assert f"Долг: {rub(account['debt'])}" in flat(detail.inner_text())
    detail.get_by_role('link', name='История расчётов').click()
    page.wait_for_url(re.compile(r'/history$'))
    page.get_by_role(
        'link', name=period_ru(account['latest']), exact=True).click()
    page.wait_for_url(re.compile(r'/charges/\d{4}-\d{2}$'))
    first = page.locator('li.charge').first
    assert first.is_visible()
    assert 'Основание' in first.inner_text()
    with page.expect_download() as download:
        page.locator('#document-link').click()
    path = download.value.path()
    assert Path(path).read_bytes().startswith(b'%PDF')
    assert download.value.suggested_filename.endswith(
        f"{month(account['latest'])}.pdf")
    overflow = page.evaluate(
        'document.documentElement.scrollWidth - window.innerWidth')
    assert overflow <= 0
    context.close()


@pytest.mark.parametrize('width', [375, 1366])
def test_pages_accessible(browser, demo_server, own, width):  # noqa: F811
    "axe-core finds nothing on the billing pages; screenshots are kept"
    context, page = signed_in_context(browser, demo_server, width)
    account = own[0]
    SHOTS.mkdir(parents=True, exist_ok=True)
    for name, path in [
            ('home', '/'), ('debt', '/debt'),
            ('history', f"/accounts/{account['id']}/history"),
            ('charges', f"/accounts/{account['id']}/charges/"
                f"{month(account['latest'])}")]:
        assert page.goto(path).ok, path
        page.screenshot(
            path=str(SHOTS / f'billing-{name}-{width}.png'), full_page=True)
        overflow = page.evaluate(
            'document.documentElement.scrollWidth - window.innerWidth')
        assert overflow <= 0, f"{path} overflows by {overflow}px"
        assert_accessible(page)
    context.close()
