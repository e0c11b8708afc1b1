# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Security and contract of the meter readings in the portal and the API
(lk_metering), with werkzeug's test client on the demo database: another
subscriber's meter is a 404, a delegate without the readings right cannot
submit, the API answers what its OpenAPI document says."""
import re
from decimal import Decimal

import pytest

from metering_data import (
    SUBSCRIBER, next_values, other_meter, own_meter, require_metering,
    window)
from test_portal_security import Browser, text

PASSWORD = 'demo'
API = '/api/v1'


@pytest.fixture(scope='module')
def metering(db):
    require_metering(db)


@pytest.fixture(scope='module')
def meter(db, metering):
    return own_meter(db, channels=3)


@pytest.fixture(scope='module')
def other(db, metering):
    return other_meter(db)


@pytest.fixture(scope='module')
def client(demo_server):
    import lkdemo
    from werkzeug.test import Client
    return Client(lkdemo.load_application())


def token(client, email=SUBSCRIBER, password=PASSWORD):
    response = client.post(
        f'{API}/auth/token', json={'email': email, 'password': password})
    assert response.status_code == 201, response.get_data(as_text=True)
    return {'Authorization': f"Bearer {response.json['token']}"}


def assert_problem(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == 'application/problem+json'
    assert response.json['status'] == status and response.json['detail']
    return response.json


@pytest.fixture(scope='module')
def delegate(db, new_subscriber, meter):
    "A delegate of the subscriber's account without the readings right"
    email = 'no-readings.delegate@example.com'
    new_subscriber(
        email, 'Secret-pass-1', account=meter['account'],
        role='delegate', state='active', right_readings=False,
        right_payment=True)
    return email


def count_readings(db, meter_id):
    def count(pool):
        return pool.get('lk.meter.reading').search_count([
                ('meter', '=', meter_id)])
    return db(count)


def form(meter, values):
    return {f'channel_{c}': str(v).replace('.', ',')
        for c, v in values.items()}


def test_other_subscribers_meter_is_404(db, client, meter, other):
    other_id, other_account = other
    browser = Browser()
    assert browser.sign_in(SUBSCRIBER, PASSWORD).status_code == 303
    page = browser.get('/readings')
    assert page.status_code == 200
    assert f'/readings/{meter["id"]}' in text(page)
    assert f'/readings/{other_id}"' not in text(page)
    assert browser.get(f'/readings/{other_id}').status_code == 404
    assert browser.get(
        f'/accounts/{other_account}/readings').status_code == 404
    before = count_readings(db, other_id)
    response = browser.post(
        f'/readings/{other_id}', form(meter, {1: '1'}))
    assert response.status_code == 404
    assert browser.get('/readings/999999').status_code == 404

    headers = token(client)
    assert_problem(client.get(
            f'{API}/meters/{other_id}/readings', headers=headers), 404)
    assert_problem(client.get(
            f'{API}/accounts/{other_account}/meters', headers=headers), 404)
    assert_problem(client.post(
            f'{API}/meters/{other_id}/readings', headers=headers,
            json={'readings': [{'channel_id': 1, 'value': '1'}]}), 404)
    assert count_readings(db, other_id) == before


def test_delegate_without_readings_right_cannot_submit(
        db, client, meter, delegate):
    values = next_values(db, meter['id'])
    before = count_readings(db, meter['id'])
    with window(db, meter['id'], 'open'):
        browser = Browser()
        assert browser.sign_in(delegate, 'Secret-pass-1').status_code == 303
        # the history only, no form
        page = browser.get(f'/readings/{meter["id"]}')
        assert page.status_code == 200
        assert 'no-readings-right' in text(page)
        assert 'name="channel_' not in text(page)
        response = browser.post(
            f'/readings/{meter["id"]}', form(meter, values))
        assert response.status_code == 403
        # and no home tile asking for readings
        assert 'data-panel="readings"' not in text(browser.get('/'))

        headers = token(client, delegate, 'Secret-pass-1')
        meters = client.get(
            f'{API}/accounts/{meter["account"]}/meters', headers=headers)
        assert meters.status_code == 200
        assert not [m for m in meters.json if m['id'] == meter['id']][0][
            'can_submit']
        assert client.get(f'{API}/meters/{meter["id"]}/readings',
            headers=headers).status_code == 200
        assert_problem(client.post(
                f'{API}/meters/{meter["id"]}/readings', headers=headers,
                json={'readings': [
                        {'channel_id': c, 'value': str(v)}
                        for c, v in values.items()]}), 403)
    assert count_readings(db, meter['id']) == before


def test_post_without_csrf_is_403(db, meter):
    browser = Browser()
    browser.sign_in(SUBSCRIBER, PASSWORD)
    values = next_values(db, meter['id'])
    response = browser.post(
        f'/readings/{meter["id"]}', form(meter, values), csrf=False)
    assert response.status_code == 403


def test_api_submit_and_history(db, client, meter):
    headers = token(client)
    values = next_values(db, meter['id'], step=Decimal('1.5'))
    with window(db, meter['id'], 'open') as status:
        meters = client.get(
            f'{API}/accounts/{meter["account"]}/meters', headers=headers)
        assert meters.status_code == 200, meters.get_data(as_text=True)
        found, = [m for m in meters.json if m['id'] == meter['id']]
        assert found['can_submit'] and found['window']['open']
        assert [c['id'] for c in found['channels']] == [
            c for c, _ in meter['channels']]

        # a missing channel: the translated message of lk_metering
        first = next(iter(values))
        response = client.post(
            f'{API}/meters/{meter["id"]}/readings',
            headers={**headers, 'Accept-Language': 'ru'},
            json={'readings': [
                    {'channel_id': first, 'value': str(values[first])}]})
        document = assert_problem(response, 422)
        assert re.search('[а-яА-Я]', document['detail'])
        # not a document of readings
        assert_problem(client.post(
                f'{API}/meters/{meter["id"]}/readings', headers=headers,
                json={'readings': 'many'}), 400)

        response = client.post(
            f'{API}/meters/{meter["id"]}/readings', headers=headers,
            json={'readings': [
                    {'channel_id': c, 'value': str(v)}
                    for c, v in values.items()]})
        assert response.status_code == 201, response.get_data(as_text=True)
        submitted = response.json
        assert submitted['period'] == status[1].isoformat()
        assert {r['channel_id']: r['value'] for r in submitted[
                'readings']} == {c: str(v) for c, v in values.items()}
        assert {r['state'] for r in submitted['readings']} == {'new'}

        history = client.get(
            f'{API}/meters/{meter["id"]}/readings', headers=headers)
        assert history.status_code == 200
        ids = {r['id'] for r in history.json}
        assert {r['id'] for r in submitted['readings']} <= ids
        assert all(isinstance(r['value'], str) for r in history.json)


def test_api_contract(client, meter):
    "The readings' operations are in the document, with their statuses"
    document = client.get(f'{API}/openapi.json').json
    paths = document['paths']
    assert 'get' in paths[f'{API}/accounts/{{account_id}}/meters']
    operations = paths[f'{API}/meters/{{meter_id}}/readings']
    assert {'get', 'post'} <= set(operations)
    assert {'201', '400', '401', '403', '404', '422'} <= set(
        operations['post']['responses'])
    assert operations['post']['requestBody']
