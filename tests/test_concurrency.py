# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Concurrent requests against the demo served over HTTP (a threaded
server, real sockets; on PostgreSQL with LK_TEST_BACKEND=postgresql):
parallel requests of one session never fail, even when each of them
touches the session; concurrent submissions of one meter leave one new
reading per channel, the others superseded as if sent one after another;
a POST sent again with its Idempotency-Key is applied once."""
import datetime as dt
import http.client
import json
import threading
import urllib.parse
from decimal import Decimal

import pytest

from metering_data import next_values, own_meter, require_metering, window

SUBSCRIBER = 'abonent1@example.com'
PASSWORD = 'demo'
API = '/api/v1'
THREADS = 8


def call(url, method, path, body=None, headers=None):
    """(status, headers, body) of one request on a connection of its own;
    headers an http.client.HTTPMessage"""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(
        parts.hostname, parts.port, timeout=60)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return (
            response.status, response.headers,
            response.read().decode('utf-8'))
    finally:
        connection.close()


def cookie_of(headers, name):
    "The name=value of the cookie the answer sets"
    for value in headers.get_all('Set-Cookie') or []:
        pair = value.split(';', 1)[0]
        if pair.startswith(name + '='):
            return pair
    raise AssertionError(f"no cookie {name}")


def together(function, count=THREADS):
    "The results of count calls of function started at the same moment"
    barrier = threading.Barrier(count)
    results = [None] * count

    def run(index):
        barrier.wait()
        try:
            results[index] = function(index)
        except Exception as exception:
            results[index] = exception
    threads = [
        threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.fixture(scope='module')
def token(demo_server):
    status, _, body = call(
        demo_server.url, 'POST', f'{API}/auth/token',
        json.dumps({'email': SUBSCRIBER, 'password': PASSWORD}),
        {'Content-Type': 'application/json'})
    assert status == 201, body
    return json.loads(body)['token']


@pytest.fixture(scope='module')
def cookie(demo_server):
    "The portal session cookie of the subscriber, signed in by the form"
    status, headers, body = call(demo_server.url, 'GET', '/login')
    assert status == 200, body
    csrf = cookie_of(headers, 'lk_csrf')
    token = body.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    status, headers, body = call(
        demo_server.url, 'POST', '/login', urllib.parse.urlencode({
                'email': SUBSCRIBER, 'password': PASSWORD,
                'csrf_token': token}),
        {'Content-Type': 'application/x-www-form-urlencoded',
            'Cookie': csrf})
    assert status == 303, body
    return cookie_of(headers, 'lk_session')


def age_sessions(db, *keys):
    "Make the sessions' last use two minutes old: the next request touches"
    from trytond.transaction import Transaction

    def run(pool):
        table = pool.get('web.user.session').__table__()
        Transaction().connection.cursor().execute(*table.update(
                [table.write_date],
                [dt.datetime.now() - dt.timedelta(minutes=2)],
                where=table.key.in_(list(keys))))
    db(run)


def test_parallel_requests_of_one_session(demo_server, db, token, cookie):
    """Parallel pages and API calls of one session all answer 200, also when
    each of them finds the session due for its once-a-minute touch"""
    key = cookie.split('=', 1)[1]
    requests = [
        ('/', {'Cookie': cookie}),
        ('/readings', {'Cookie': cookie}),
        (f'{API}/accounts', {'Authorization': f'Bearer {token}'}),
        (f'{API}/me', {'Authorization': f'Bearer {token}'}),
        ]
    for _ in range(4):
        age_sessions(db, key, token)
        results = together(lambda i: call(
                demo_server.url, 'GET', requests[i % len(requests)][0],
                headers=requests[i % len(requests)][1]))
        statuses = [
            r[0] if isinstance(r, tuple) else repr(r) for r in results]
        assert statuses == [200] * THREADS, statuses

    def touched(pool):
        Session = pool.get('web.user.session')
        sessions = Session.search([('key', 'in', [key, token])])
        return [s.write_date for s in sessions]
    for write_date in db(touched):
        assert dt.datetime.now() - write_date < dt.timedelta(minutes=1)


@pytest.fixture
def meter(db):
    require_metering(db)
    meter = own_meter(db, channels=3)
    with window(db, meter['id'], 'open'):
        yield meter


def readings_of(db, meter_id, after=0):
    "(id, channel id, value, state) of the meter's readings after the id"
    def read(pool):
        Reading = pool.get('lk.meter.reading')
        return [
            (r.id, r.channel.id, r.value, r.state)
            for r in Reading.search([
                    ('meter', '=', meter_id), ('id', '>', after)],
                order=[('id', 'ASC')])]
    return db(read)


def last_id(db):
    def read(pool):
        readings = pool.get('lk.meter.reading').search(
            [], order=[('id', 'DESC')], limit=1)
        return readings[0].id if readings else 0
    return db(read)


def post_readings(demo_server, token, meter, values, key=None):
    body = json.dumps({'readings': [
                {'channel_id': c, 'value': str(v)}
                for c, v in values.items()]})
    headers = {
        'Authorization': f'Bearer {token}',
        'Content-Type': 'application/json'}
    if key is not None:
        headers['Idempotency-Key'] = key
    return call(
        demo_server.url, 'POST', f"{API}/meters/{meter['id']}/readings",
        body, headers)


def test_concurrent_submissions_of_one_meter(demo_server, db, token, meter):
    """8 submissions of one meter at once: each answered 201, one reading
    per channel left new, the others superseded"""
    values = next_values(db, meter['id'])
    after = last_id(db)
    results = together(lambda i: post_readings(
            demo_server, token, meter,
            {c: v + Decimal(i) for c, v in values.items()}))
    statuses = [r[0] if isinstance(r, tuple) else repr(r) for r in results]
    assert statuses == [201] * THREADS, [
        r if not isinstance(r, tuple) else r[2] for r in results]
    readings = readings_of(db, meter['id'], after)
    channels = [c for c, _ in meter['channels']]
    assert len(readings) == THREADS * len(channels)
    for channel in channels:
        states = [s for _, c, _, s in readings if c == channel]
        assert states.count('new') == 1, states
        assert states.count('superseded') == THREADS - 1, states
        # the new one is the last submission, as when sent one by one
        assert [s for _, c, _, s in readings if c == channel][-1] == 'new'


def test_idempotency_key_replays(demo_server, db, token, meter):
    """The same key and body answer the first answer again without a second
    submission; another body with the key is a 422; a bad key a 400"""
    values = next_values(db, meter['id'])
    after = last_id(db)
    key = f'lk-test-{dt.datetime.now().timestamp()}'
    status, headers, first = post_readings(
        demo_server, token, meter, values, key)
    assert status == 201, first
    assert 'Idempotent-Replayed' not in headers
    created = readings_of(db, meter['id'], after)
    assert len(created) == len(meter['channels'])

    status, headers, again = post_readings(
        demo_server, token, meter, values, key)
    assert status == 201, again
    assert headers['Idempotent-Replayed'] == 'true'
    assert json.loads(again) == json.loads(first)
    assert readings_of(db, meter['id'], after) == created

    other = {c: v + 1 for c, v in values.items()}
    status, headers, body = post_readings(
        demo_server, token, meter, other, key)
    assert status == 422, body
    assert headers['Content-Type'] == 'application/problem+json'
    assert 'Idempotency-Key' in json.loads(body)['detail']
    assert readings_of(db, meter['id'], after) == created

    for bad in ['', 'x' * 256, 'a key', 'clé']:
        status, _, body = post_readings(
            demo_server, token, meter, other, bad)
        assert status == 400, (bad, body)
    assert readings_of(db, meter['id'], after) == created


def test_idempotency_key_concurrent_retries(demo_server, db, token, meter):
    "Retries of one request at once, same key: one submission, one answer"
    values = next_values(db, meter['id'])
    after = last_id(db)
    key = f'lk-test-concurrent-{dt.datetime.now().timestamp()}'
    results = together(lambda i: post_readings(
            demo_server, token, meter, values, key), count=4)
    assert [r[0] for r in results] == [201] * 4, results
    assert len({json.dumps(json.loads(r[2]), sort_keys=True)
                for r in results}) == 1
    readings = readings_of(db, meter['id'], after)
    assert len(readings) == len(meter['channels'])
    assert {s for *_, s in readings} == {'new'}


def test_idempotency_keys_hidden_from_portal(demo_server, db, token, meter):
    "The portal user may not read the stored keys, not even its own"
    values = next_values(db, meter['id'])
    key = f'lk-test-hidden-{dt.datetime.now().timestamp()}'
    status, _, body = post_readings(demo_server, token, meter, values, key)
    assert status == 201, body

    def check(pool):
        from trytond.model.exceptions import AccessError
        from trytond.modules.lk_base.portal import as_subscriber
        WebUser = pool.get('web.user')
        Key = pool.get('lk.portal.idempotency_key')
        stored = Key.search([('key', '=', key)])
        assert [k.web_user.email for k in stored] == [SUBSCRIBER]
        user, = WebUser.search([('email', '=', SUBSCRIBER)])
        with as_subscriber(user):
            with pytest.raises(AccessError):
                Key.search([])
            with pytest.raises(AccessError):
                Key.read([stored[0].id], ['body'])
    db(check)
