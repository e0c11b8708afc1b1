# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The meter readings in headless Chromium (Playwright) on the demo server:
the demo subscriber enters a three-channel reading (Пик / Полупик / Ночь)
and finds it in the history, one row «на проверке»; outside the window the
form says when the next window opens."""
import re

import pytest

from test_readings_pages import MONTHS, MONTHS_OF

from metering_data import next_values, own_meter, require_metering, window
from test_portal_browser import (  # noqa: F401
    PASSWORD, RESULTS, SUBSCRIBER, browser, page, sign_in)


@pytest.fixture(scope='module')
def meter(db):
    require_metering(db)
    return own_meter(db, channels=3)


def test_three_channel_reading(page, db, meter):
    values = next_values(db, meter['id'])
    with window(db, meter['id'], 'open') as status:
        sign_in(page, SUBSCRIBER, PASSWORD)
        # the home tile leads to the meters grouped by address
        page.goto('/')
        assert page.locator('[data-panel=readings]').count() == 1
        page.locator('[data-panel=readings]').click()
        page.wait_for_url(re.compile(r'/readings$'))
        assert page.locator('h1').inner_text() == 'Показания'
        card = page.locator(f'.meter-card[data-meter="{meter["id"]}"]')
        assert meter['name'] in card.inner_text()
        assert meter['number'] in card.inner_text()
        card.get_by_role('link', name='Внести показания').click()
        page.wait_for_url(re.compile(rf'/readings/{meter["id"]}$'))

        assert 'принимаются до' in page.locator(
            '#window-status').inner_text()
        names = [name for _, name in meter['channels']]
        assert names == ['Пик', 'Полупик', 'Ночь']
        for channel, name in meter['channels']:
            page.get_by_label(f'{name}, кВт·ч', exact=True).fill(
                str(values[channel]).replace('.', ','))
        page.get_by_role('button', name='Передать показания').click()
        page.wait_for_url(re.compile(r'\?sent='))
        period = f'{MONTHS[status[1].month - 1]} {status[1].year}'
        assert f'будут учтены за {period}' in page.locator(
            '#readings-sent').inner_text().replace('\u00a0', ' ')

        today = page.evaluate(
            "new Date().toLocaleDateString('ru-RU')")
        # one row for the submission, a column per channel
        cells = page.locator(
            'table.history tbody tr').first.locator('td').all_inner_texts()
        assert cells[0].startswith(today) or re.match(
            r'\d\d\.\d\d\.\d{4}', cells[0])
        assert [c.split('\u00a0')[0] for c in cells[1:-1]] == [
            str(values[channel]).replace('.', ',')
            for channel, _ in meter['channels']]
        assert cells[-1] == 'на проверке'
        # the chart is the project's own inline SVG
        assert page.locator('.chart-card svg rect').count() >= 12
        RESULTS.mkdir(exist_ok=True)
        page.screenshot(
            path=str(RESULTS / 'readings-entry.png'), full_page=True)


def test_closed_window_says_when_it_opens(page, db, meter):
    with window(db, meter['id'], 'closed') as status:
        is_open, period, next_from, next_to = status
        assert not is_open
        sign_in(page, SUBSCRIBER, PASSWORD)
        page.goto(f'/readings/{meter["id"]}')
        notice = page.locator('#window-status').inner_text().replace(
            '\u00a0', ' ')
        assert 'закрыт' in notice
        for day in [next_from, next_to]:
            assert f'{day.day} {MONTHS_OF[day.month - 1]}' in notice

        # a submission is refused with lk_metering's message
        values = next_values(db, meter['id'])
        for channel, name in meter['channels']:
            page.get_by_label(f'{name}, кВт·ч', exact=True).fill(
                str(values[channel]).replace('.', ','))
        page.get_by_role('button', name='Передать показания').click()
        page.wait_for_load_state()
        error = page.locator('#readings-error').inner_text()
        assert next_from.strftime('%d.%m.%Y') in error


def test_readings_on_a_phone(browser, demo_server, meter):  # noqa: F811
    context = browser.new_context(
        base_url=demo_server.url, locale='ru-RU',
        viewport={'width': 375, 'height': 812}, is_mobile=True,
        has_touch=True)
    page = context.new_page()  # noqa: F811
    sign_in(page, SUBSCRIBER, PASSWORD)
    for path in ['/', '/readings', f'/readings/{meter["id"]}',
            f'/accounts/{meter["account"]}/readings']:
        assert page.goto(path).ok, path
        width = page.evaluate(
            'document.documentElement.scrollWidth - window.innerWidth')
        assert width <= 0, f"{path} overflows by {width}px"
    context.close()
