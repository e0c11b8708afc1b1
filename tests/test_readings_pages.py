# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The readings pages a subscriber can trust, in headless Chromium on the
demo server: the history one row per submission with units and decimal
commas, periods named «ноябрь 2026», the banner after sending telling what
happened, a jump far above the usual consumption confirmed before it is
sent (the page and the API), the e-mail of a rejection, a water meter
without a tariff name, the deadline on home; axe-core finds nothing and no
word is broken at 375 px (screenshots in LK_SCREENSHOTS or test-results)."""
import datetime as dt
import os
import re
from decimal import Decimal
from pathlib import Path

import pytest

from metering_data import next_values, own_meter, require_metering, window
from test_portal_browser import (  # noqa: F401
    PASSWORD, SUBSCRIBER, browser, page, sign_in)

API = '/api/v1'
SHOTS = Path(os.environ.get('LK_SCREENSHOTS') or (
        Path(__file__).resolve().parent.parent / 'test-results'))
MONTHS = [
    "январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август",
    "сентябрь", "октябрь", "ноябрь", "декабрь"]
MONTHS_OF = [
    "января", "февраля", "марта", "апреля", "мая", "июня", "июля",
    "августа", "сентября", "октября", "ноября", "декабря"]
# The words of a text node, as a reader would not want them cut
WORDS_BROKEN = """() => {
    const broken = [];
    const range = document.createRange();
    const walker = document.createTreeWalker(
        document.querySelector('main'), NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
        const node = walker.currentNode;
        const element = node.parentElement;
        if (!element.checkVisibility() || element.closest('thead')
                && getComputedStyle(element.closest('thead')).position
                == 'absolute') {
            continue;
        }
        const words = /[\\p{L}\\p{N}][\\p{L}\\p{N}·³,.]*/gu;
        for (const match of node.data.matchAll(words)) {
            range.setStart(node, match.index);
            range.setEnd(node, match.index + match[0].length);
            const tops = new Set([...range.getClientRects()]
                .filter(r => r.width > 0).map(r => Math.round(r.top)));
            if (tops.size > 1) {
                broken.push(match[0]);
            }
        }
    }
    return broken;
}"""


def text(locator):
    "The text of the element, its no-break spaces as spaces"
    return locator.inner_text().replace('\u00a0', ' ')


def period_ru(date):
    return f'{MONTHS[date.month - 1]} {date.year}'


def day_ru(date):
    return f'{date.day} {MONTHS_OF[date.month - 1]}'


def first_of_months_before(date, months):
    month = date.year * 12 + date.month - 1 - months
    return dt.date(month // 12, month % 12 + 1, 1)


@pytest.fixture(scope='module')
def meter(db):
    require_metering(db)
    return own_meter(db, channels=3)


@pytest.fixture(scope='module')
def water(db, meter):
    """A cold water meter of the demo subscriber (one channel, «Сутки») that
    counted 10 m³ a month over the last year"""
    def create(pool):
        Meter = pool.get('lk.meter')
        Channel = pool.get('lk.meter.channel')
        Reading = pool.get('lk.meter.reading')
        account = pool.get('lk.account')(meter['account'])
        single = Channel.defaults(account.company)['single']
        water, = Meter.create([{
                    'company': account.company.id,
                    'account': account.id,
                    'serial': f'W{account.number}6',
                    'service': 'cold_water',
                    'place': "ванная",
                    'channels': [('add', [single.id])],
                    'digits': 5,
                    'decimals': 3,
                    }])
        today = dt.date.today()
        Reading.create([{
                    'meter': water.id, 'channel': single.id,
                    'date': first_of_months_before(today, months),
                    'value': Decimal(value), 'state': 'accepted',
                    'source': 'staff',
                    } for months, value in [(11, 100), (8, 130), (2, 190)]])
        return {'id': water.id, 'channel': single.id, 'name': water.rec_name}
    return db(create)


def new_readings(db, meter_id):
    def read(pool):
        Reading = pool.get('lk.meter.reading')
        return [(r.id, r.value) for r in Reading.search([
                    ('meter', '=', meter_id), ('state', '=', 'new')])]
    return db(read)


def assert_accessible(page):  # noqa: F811
    "axe-core finds no violation on the page"
    from axe_playwright_python.sync_playwright import Axe

    violations = Axe().run(page).response['violations']
    assert not violations, [
        (v['id'], v['help'], [n['target'] for n in v['nodes']])
        for v in violations]


def test_history_grouped_with_units(page, db, meter):  # noqa: F811
    """One row per submission, its channels as columns, values with their
    unit and a decimal comma; the banner tells what happened and matches
    the status of the row"""
    values = next_values(db, meter['id'], step=Decimal('1.5'))
    with window(db, meter['id'], 'open') as status:
        _, period, _, end = status
        sign_in(page, SUBSCRIBER, PASSWORD)
        page.goto(f'/readings/{meter["id"]}')
        notice = text(page.locator('#window-status'))
        assert notice == (
            f"Показания принимаются до {day_ru(end)} и будут учтены за "
            f"{period_ru(period)}.")
        for channel, name in meter['channels']:
            field = page.get_by_label(f'{name}, кВт·ч', exact=True)
            field.fill(str(values[channel]).replace('.', ','))
            assert 'кВт·ч' in page.locator(
                f'#previous_{channel}').inner_text()
        page.get_by_role('button', name='Передать показания').click()
        page.wait_for_url(re.compile(r'\?sent=\d{4}-\d\d$'))

        assert text(page.locator('#readings-sent')) == (
            f"Показания получены. Они будут учтены за {period_ru(period)} "
            "после проверки организацией, а пока их статус — «на проверке».")
        headers = page.locator(
            'table.history thead th').all_inner_texts()
        assert headers == (
            ['Дата'] + [name for _, name in meter['channels']] + ['Статус'])
        row = page.locator('table.history tbody tr').first
        assert 'sent' in row.get_attribute('class')
        cells = [text(c) for c in row.locator('td').all()]
        assert cells[0].startswith(dt.date.today().strftime('%d.%m.%Y'))
        assert f'за {period_ru(period)}' in cells[0]
        assert cells[1:-1] == [
            f"{str(values[c]).replace('.', ',')} кВт·ч"
            for c, _ in meter['channels']]
        assert cells[-1] == 'на проверке'
        # one row for the three channels
        assert page.locator('table.history tbody tr').filter(
            has_text=str(values[meter['channels'][0][0]]).replace(
                '.', ',')).count() == 1

        # the chart's months carry their year
        months = page.locator('.chart text.month').all_text_contents()
        assert len(months) == 12
        today = dt.date.today()
        assert months[-1] == (
            MONTHS[today.month - 1][:3] + str(today.year))
        assert page.locator('.chart .year').last.text_content() == str(
            today.year)
        assert 'кВт·ч' in page.locator('.chart').get_attribute('aria-label')


def test_water_meter_and_jump_confirmed(page, db, water):  # noqa: F811
    """A single-channel meter names no tariff; a value far above the usual
    consumption is sent only once the subscriber confirms it"""
    with window(db, water['id'], 'open'):
        sign_in(page, SUBSCRIBER, PASSWORD)
        page.goto(f'/readings/{water["id"]}')
        main = page.locator('main')
        assert 'Сутки' not in main.inner_text()
        field = page.get_by_label('Показание, м³', exact=True)
        assert 'м³' in page.locator(
            f'#previous_{water["channel"]}').inner_text()
        field.fill('400,5')
        page.get_by_role('button', name='Передать показания').click()
        page.wait_for_load_state()
        jump = page.locator('#readings-jump').inner_text()
        assert '210,500 м³' in jump.replace('\u00a0', ' ')
        assert 'в среднем 10,000 м³ в месяц' in jump.replace('\u00a0', ' ')
        assert 'Сутки' not in main.inner_text()
        assert new_readings(db, water['id']) == []
        assert page.get_by_label('Показание, м³', exact=True).input_value() \
            == '400,5'

        page.get_by_role(
            'button', name='Да, показания верные — передать').click()
        page.wait_for_url(re.compile(r'\?sent='))
        (_, value), = new_readings(db, water['id'])
        assert value == Decimal('400.5')
        row = page.locator('table.history tbody tr').first
        assert row.locator('td').nth(1).inner_text().replace(
            '\u00a0', ' ') == '400,500 м³'
        assert page.locator('table.history thead th').all_inner_texts() == [
            'Дата', 'Показание', 'Статус']


def test_jump_confirmed_in_api(db, water):
    "The API answers a jump with a 409 problem until confirm is true"
    import lkdemo
    from werkzeug.test import Client

    client = Client(lkdemo.load_application())
    response = client.post(
        f'{API}/auth/token', json={'email': SUBSCRIBER, 'password': PASSWORD})
    headers = {
        'Authorization': f'Bearer {response.json["token"]}',
        'Accept-Language': 'ru'}
    body = {'readings': [{'channel_id': water['channel'], 'value': '900'}]}
    with window(db, water['id'], 'open'):
        response = client.post(
            f'{API}/meters/{water["id"]}/readings', json=body,
            headers=headers)
        assert response.status_code == 409, response.get_data(as_text=True)
        assert response.mimetype == 'application/problem+json'
        problem = response.json
        assert problem['field'] == 'confirm'
        assert problem['confirm_required'] is True
        assert 'м³' in problem['detail']
        before = new_readings(db, water['id'])

        response = client.post(
            f'{API}/meters/{water["id"]}/readings',
            json={**body, 'confirm': 'yes'}, headers=headers)
        assert response.status_code == 422
        assert response.json['field'] == 'confirm'

        response = client.post(
            f'{API}/meters/{water["id"]}/readings',
            json={**body, 'confirm': True}, headers=headers)
        assert response.status_code == 201, response.get_data(as_text=True)
        reading, = response.json['readings']
        assert reading['value'] == '900.000'
        assert new_readings(db, water['id']) != before


def test_rejection_mailed(page, db, mailbox, meter):  # noqa: F811
    """Staff rejecting a submission e-mails the subscriber the reason in
    Russian; the history shows the same"""
    values = next_values(db, meter['id'], step=Decimal('2'))
    reason = "Фото не читается, передайте показания ещё раз"
    with window(db, meter['id'], 'open'):
        sign_in(page, SUBSCRIBER, PASSWORD)
        page.goto(f'/readings/{meter["id"]}')
        for channel, name in meter['channels']:
            page.get_by_label(f'{name}, кВт·ч', exact=True).fill(
                str(values[channel]).replace('.', ','))
        page.get_by_role('button', name='Передать показания').click()
        page.wait_for_url(re.compile(r'\?sent='))

    def reject(pool):
        Reading = pool.get('lk.meter.reading')
        readings = Reading.search([
                ('meter', '=', meter['id']), ('state', '=', 'new')])
        assert len(readings) == len(meter['channels'])
        Reading.do_reject(readings, reason=reason)
    after = len(mailbox.messages)
    db(reject)
    message = mailbox.wait_for(
        SUBSCRIBER, subject="Показания не приняты", after=after)
    text = message.get_body(('html', 'plain')).get_content()
    assert reason in text
    assert "не приняла показания счётчика" in text
    for channel, name in meter['channels']:
        assert name in text
        assert str(values[channel]).replace('.', ',') in text

    page.goto(f'/readings/{meter["id"]}')
    row = page.locator('table.history tbody tr').first
    assert row.locator('td.status').inner_text().startswith('отклонено')
    assert reason in row.locator('td.status').inner_text()


def test_deadline_on_home(page, db, meter):  # noqa: F811
    with window(db, meter['id'], 'open') as status:
        sign_in(page, SUBSCRIBER, PASSWORD)
        page.goto('/')
        panel = text(page.locator('[data-panel=readings]'))
        assert f"Показания принимаются до {day_ru(status[3])}." in panel


@pytest.mark.parametrize('width', [375, 1366])
def test_pages_whole_words_and_accessible(
        browser, demo_server, meter, water, width):  # noqa: F811
    """At 375 and 1366 px the readings pages break no word and axe-core
    finds nothing; the screenshots are kept"""
    context = browser.new_context(
        base_url=demo_server.url, locale='ru-RU',
        viewport={'width': width, 'height': 900},
        is_mobile=width < 800, has_touch=width < 800)
    context.set_default_timeout(30000)
    page = context.new_page()  # noqa: F811
    sign_in(page, SUBSCRIBER, PASSWORD)
    SHOTS.mkdir(parents=True, exist_ok=True)
    for name, path in [('home', '/'), ('readings', '/readings'),
            ('meter', f'/readings/{meter["id"]}'),
            ('water', f'/readings/{water["id"]}')]:
        assert page.goto(path).ok, path
        page.screenshot(
            path=str(SHOTS / f'readings-{name}-{width}.png'), full_page=True)
        assert page.evaluate(WORDS_BROKEN) == [], path
        overflow = page.evaluate(
            'document.documentElement.scrollWidth - window.innerWidth')
        assert overflow <= 0, f"{path} overflows by {overflow}px"
        assert_accessible(page)
    context.close()


def test_english_page(page, db, meter):  # noqa: F811
    "In English the same page writes «November 2026» and a decimal point"
    with window(db, meter['id'], 'open') as status:
        _, period, _, end = status
        sign_in(page, SUBSCRIBER, PASSWORD)
        page.goto(f'/lang/en?next=/readings/{meter["id"]}')
        page.wait_for_url(re.compile(rf'/readings/{meter["id"]}$'))
        month = period.strftime('%B')
        assert text(page.locator('#window-status')) == (
            f"Submission is open until {end.day} {end:%B}: the readings "
            f"count for {month} {period.year}.")
        channel, name = meter['channels'][0]
        assert page.get_by_label(f'{name}, kWh', exact=True).count() == 1
        cells = [text(c) for c in page.locator(
                'table.history tbody tr').first.locator('td').all()]
        assert re.fullmatch(r'\d+\.\d kWh', cells[1]), cells
        assert 'for ' in cells[0] and re.search(r'[A-Z][a-z]+ \d{4}', cells[0])
        months = page.locator('.chart text.month').all_text_contents()
        assert months[-1] == dt.date.today().strftime('%b%Y')
