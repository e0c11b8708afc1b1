# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The subscriber JSON API (/api/v1/) on the demo database, in process with
werkzeug's test client: sign-in, the subscriber's own data only, problem
documents in the request's language, the OpenAPI document as a contract
that the routes keep, and bad input (huge ids and numbers, dates out of
range, deep or large bodies) answered 4xx, never 500."""
import re

import pytest

from metering_data import own_meter, require_metering

SUBSCRIBER = 'abonent1@example.com'
PASSWORD = 'demo'
API = '/api/v1'


@pytest.fixture(scope='module')
def client(demo_server):
    import lkdemo
    from werkzeug.test import Client

    return Client(lkdemo.load_application())


def sign_in(client, email=SUBSCRIBER, password=PASSWORD, **kwargs):
    return client.post(
        f'{API}/auth/token', json={'email': email, 'password': password},
        **kwargs)


def bearer(token):
    return {'Authorization': f'Bearer {token}'}


@pytest.fixture(scope='module')
def token(client):
    response = sign_in(client)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.json['token']


@pytest.fixture(scope='module')
def demo(db):
    """The demo subscriber's accounts, organizations and three-channel meter
    (made if missing), an account of another subscriber and the
    organizations where the subscriber has no account, read as root"""
    require_metering(db)
    meter = own_meter(db, channels=3)

    def read(pool):
        Account = pool.get('lk.account')
        Company = pool.get('company.company')
        WebUser = pool.get('web.user')
        user, = WebUser.search([('email', '=', SUBSCRIBER)])
        own = Account.search([
                ('accesses.web_user', '=', user.id),
                ('accesses.state', '=', 'active'),
                ])
        others = Account.search([('id', 'not in', [a.id for a in own])])
        return {
            'accounts': sorted(a.id for a in own),
            'organizations': sorted({a.company.id for a in own}),
            'other_account': others[0].id,
            'meter': meter['id'],
            'meter_account': meter['account'],
            'channels': [c for c, _ in meter['channels']],
            'other_organizations': sorted(
                {c.id for c in Company.search([])}
                - {a.company.id for a in own}),
            }
    data = db(read)
    # the demo's sub-organization at least: the 404 below is no accident
    assert data['other_organizations']
    return data


def assert_problem(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == 'application/problem+json'
    document = response.json
    assert document['status'] == status
    assert document['type'] and document['title'] and document['detail']
    return document


def test_sign_in(client):
    response = sign_in(client)
    assert response.status_code == 201
    assert response.mimetype == 'application/json'
    document = response.json
    assert document['token_type'] == 'Bearer'
    assert document['token'] and document['expires_in'] > 0
    assert response.headers['Cache-Control'] == 'no-store'


def test_me(client, token):
    response = client.get(f'{API}/me', headers=bearer(token))
    assert response.status_code == 200
    assert response.json['email'] == SUBSCRIBER
    assert response.json['email_valid'] is True
    assert response.json['language'] == 'ru'


def test_accounts_are_the_subscriber_s(client, token, demo):
    response = client.get(f'{API}/accounts', headers=bearer(token))
    assert response.status_code == 200
    accounts = response.json
    assert sorted(a['id'] for a in accounts) == demo['accounts']
    assert len(accounts) == 2
    assert len({a['organization']['id'] for a in accounts}) == 2
    for account in accounts:
        assert account['role'] == 'owner'
        assert set(account['rights']) == {
            'view', 'readings', 'payment', 'appeals'}
        assert account['state'] == 'active'
        assert account['number'] and account['address']
        assert account['organization']['name']


def test_one_account(client, token, demo):
    account_id = demo['accounts'][0]
    response = client.get(
        f'{API}/accounts/{account_id}', headers=bearer(token))
    assert response.status_code == 200
    assert response.json['id'] == account_id


def test_another_subscriber_s_account_is_not_found(client, token, demo):
    response = client.get(
        f'{API}/accounts/{demo["other_account"]}', headers=bearer(token))
    document = assert_problem(response, 404)
    assert str(demo['other_account']) not in document['detail']
    assert_problem(client.get(
            f'{API}/accounts/999999999', headers=bearer(token)), 404)


def test_organizations(client, token, demo):
    response = client.get(f'{API}/organizations', headers=bearer(token))
    assert response.status_code == 200
    assert sorted(o['id'] for o in response.json) == demo['organizations']
    for organization in response.json:
        assert organization['name']
        assert 'emergency_phone' in organization
    one = client.get(
        f'{API}/organizations/{demo["organizations"][0]}',
        headers=bearer(token))
    assert one.status_code == 200
    assert one.json['id'] == demo['organizations'][0]
    for organization_id in demo['other_organizations']:
        assert_problem(client.get(
                f'{API}/organizations/{organization_id}',
                headers=bearer(token)), 404)


def test_public_organization(client, demo):
    "Any organization's public profile answers without sign-in"
    for organization_id in demo['organizations'] + demo[
            'other_organizations']:
        response = client.get(
            f'{API}/organizations/{organization_id}/public')
        assert response.status_code == 200
        assert response.json['id'] == organization_id
        assert response.json['name']
        assert 'inn' not in response.json
    assert_problem(client.get(f'{API}/organizations/999999999/public'), 404)


@pytest.mark.parametrize('path', ['/me', '/accounts', '/organizations'])
def test_no_token(client, path):
    response = client.get(API + path)
    document = assert_problem(response, 401)
    assert response.headers['WWW-Authenticate'] == 'Bearer'
    assert document['detail'] == 'Войдите, чтобы продолжить.'


def test_bad_token(client):
    assert_problem(client.get(
            f'{API}/accounts', headers=bearer('not-a-session')), 401)
    assert_problem(client.delete(
            f'{API}/auth/token', headers=bearer('not-a-session')), 401)


def test_sign_out(client):
    token = sign_in(client).json['token']
    assert client.get(f'{API}/me', headers=bearer(token)).status_code == 200
    response = client.delete(f'{API}/auth/token', headers=bearer(token))
    assert response.status_code == 204
    assert_problem(client.get(f'{API}/me', headers=bearer(token)), 401)
    assert_problem(
        client.delete(f'{API}/auth/token', headers=bearer(token)), 401)


def test_wrong_password(client):
    wrong = assert_problem(sign_in(client, password='wrong'), 401)
    unknown = assert_problem(
        sign_in(client, email='nobody@example.com', password='wrong'), 401)
    # The same answer whether the e-mail exists or not
    assert wrong == unknown
    assert wrong['detail'] == 'Неверный e-mail или пароль.'
    # A success clears the count of failures
    assert sign_in(client).status_code == 201


def test_missing_credentials(client):
    assert_problem(client.post(f'{API}/auth/token', json={}), 400)
    assert_problem(client.post(
            f'{API}/auth/token', data='not json',
            content_type='application/json'), 400)


def test_messages_in_english(client):
    english = {'Accept-Language': 'en'}
    document = assert_problem(client.get(
            f'{API}/accounts', headers=english), 401)
    assert document['detail'] == 'Sign in to continue.'
    document = assert_problem(
        sign_in(client, password='wrong', headers=english), 401)
    assert document['detail'] == 'Wrong e-mail or password.'
    assert sign_in(client, headers=english).status_code == 201


def test_unknown_path_and_method(client, token):
    document = assert_problem(
        client.get(f'{API}/no-such-thing', headers=bearer(token)), 404)
    assert document['detail'] == 'Не найдено.'
    document = assert_problem(client.get(
            '/api/v2/accounts', headers={'Accept-Language': 'en'}), 404)
    assert document['detail'] == 'Not found.'
    response = client.put(f'{API}/accounts', headers=bearer(token))
    assert_problem(response, 405)
    assert 'GET' in response.headers['Allow']


def test_removed_link_removes_the_account(client, db, new_subscriber):
    "Revoking a user's access to an account hides it from every endpoint"
    email = 'api-revoked@example.com'

    def last_account(pool):
        Account = pool.get('lk.account')
        account = Account.search([], order=[('id', 'DESC')], limit=1)[0]
        return account.id, account.company.id
    account_id, organization_id = db(last_account)
    _, access_id = new_subscriber(email, 'api-pass-1', account=account_id)
    token = sign_in(client, email, 'api-pass-1').json['token']
    headers = bearer(token)
    assert [a['id'] for a in client.get(
                f'{API}/accounts', headers=headers).json] == [account_id]
    assert client.get(
        f'{API}/accounts/{account_id}', headers=headers).status_code == 200

    def revoke(pool):
        Access = pool.get('lk.account.access')
        Access.revoke([Access(access_id)])
    db(revoke)
    assert client.get(f'{API}/accounts', headers=headers).json == []
    assert client.get(f'{API}/organizations', headers=headers).json == []
    assert_problem(client.get(
            f'{API}/accounts/{account_id}', headers=headers), 404)
    assert_problem(client.get(
            f'{API}/organizations/{organization_id}', headers=headers), 404)


def test_delegate_sees_the_rights_granted(client, new_subscriber, demo):
    email = 'api-delegate@example.com'
    new_subscriber(
        email, 'api-pass-3', account=demo['accounts'][0], role='delegate',
        right_readings=True, right_payment=False, right_appeals=False)
    token = sign_in(client, email, 'api-pass-3').json['token']
    account, = client.get(f'{API}/accounts', headers=bearer(token)).json
    assert account['id'] == demo['accounts'][0]
    assert account['role'] == 'delegate'
    assert account['rights'] == ['view', 'readings']


def test_blocked_user(client, db, new_subscriber):
    "A blocked user's token stops working and they cannot sign in"
    email = 'api-blocked@example.com'
    user_id, _ = new_subscriber(email, 'api-pass-2')
    token = sign_in(client, email, 'api-pass-2').json['token']
    assert client.get(f'{API}/me', headers=bearer(token)).status_code == 200

    def block(pool):
        WebUser = pool.get('web.user')
        WebUser.write([WebUser(user_id)], {'blocked': True})
    db(block)
    assert_problem(client.get(f'{API}/me', headers=bearer(token)), 401)
    refused = assert_problem(sign_in(client, email, 'api-pass-2'), 401)
    assert refused['detail'] == 'Неверный e-mail или пароль.'


# The contract: openapi.json and what the routes answer

@pytest.fixture(scope='module')
def openapi(client):
    response = client.get(f'{API}/openapi.json')
    assert response.status_code == 200
    return response.json


def test_openapi_document(openapi):
    assert openapi['openapi'].startswith('3.1')
    assert openapi['components']['securitySchemes']['bearer'][
        'scheme'] == 'bearer'

    def refs(node):
        if isinstance(node, dict):
            if isinstance(node.get('$ref'), str):
                yield node['$ref']
            for value in node.values():
                yield from refs(value)
        elif isinstance(node, list):
            for value in node:
                yield from refs(value)
    for target in refs(openapi):
        node = openapi
        for part in target.removeprefix('#/').split('/'):
            node = node[part]
        assert node, target
    for path, item in openapi['paths'].items():
        for method, operation in item.items():
            assert operation['responses'] and operation['summary'], (
                method, path)
    import jsonschema
    for name, schema in openapi['components']['schemas'].items():
        jsonschema.Draft202012Validator.check_schema(schema)


def test_every_api_route_is_documented(openapi):
    from trytond.modules.lk_portal import api, portal

    rules = [
        r for r in portal.url_map.iter_rules()
        if r.rule.startswith(API + '/')]
    assert rules
    for rule in rules:
        path = re.sub(r'<(?:[^:>]+:)?(\w+)>', r'{\1}', rule.rule)
        assert path in openapi['paths'], rule.rule
        for method in rule.methods - {'HEAD', 'OPTIONS'}:
            assert method.lower() in openapi['paths'][path], (
                method, rule.rule)
    assert len(api.operations) == sum(
        len(item) for item in openapi['paths'].values())


def validate(openapi, schema, instance):
    "Validate instance against an OpenAPI schema with its $refs"
    import jsonschema
    jsonschema.validate(
        instance, {**schema, 'components': openapi['components']},
        cls=jsonschema.Draft202012Validator)


def test_operations_answer_what_they_document(client, token, demo, openapi):
    "Every GET operation on the subscriber's own ids answers its document"
    values = {
        'account_id': demo['meter_account'],
        'organization_id': demo['organizations'][0],
        'meter_id': demo['meter'],
        }
    if f'{API}/accounts/{{account_id}}/history' in openapi['paths']:
        # lk_billing: the latest billed month of the account
        history = client.get(
            f'{API}/accounts/{demo["meter_account"]}/history',
            headers=bearer(token)).json
        values['period'] = history[0]['period']
    if f'{API}/announcements' in openapi['paths']:
        # lk_announcement: the newest announcement the subscriber sees
        values['announcement_id'] = client.get(
            f'{API}/announcements', headers=bearer(token)).json[
            'announcements'][0]['id']
    checked = []
    for path, item in openapi['paths'].items():
        for method, operation in item.items():
            if method != 'get':
                continue
            url = re.sub(
                r'\{(\w+)\}', lambda m: str(values[m[1]]), path)
            headers = bearer(token) if operation['security'] else {}
            query = {
                p['name']: values[p['name']]
                for p in operation['parameters']
                if p.get('in') == 'query' and p.get('required')}
            response = client.get(url, headers=headers, query_string=query)
            assert response.status_code == 200, (
                url, response.get_data(as_text=True))
            (media, content), = operation['responses']['200'][
                'content'].items()
            assert response.mimetype == media
            if media == 'application/json':
                validate(openapi, content['schema'], response.json)
            else:
                assert media == 'application/pdf'
                assert response.data.startswith(b'%PDF')
            if operation['security']:
                # and without the token, the documented 401
                assert '401' in operation['responses']
                assert_problem(client.get(url), 401)
            checked.append(path)
    assert {
        f'{API}/accounts/{{account_id}}/meters',
        f'{API}/meters/{{meter_id}}/readings',
        f'{API}/organizations/{{organization_id}}/public',
        } <= set(checked)
    meters = client.get(
        f'{API}/accounts/{demo["meter_account"]}/meters',
        headers=bearer(token))
    assert demo['meter'] in {m['id'] for m in meters.json}


def test_sign_in_answers_what_it_documents(client, openapi):
    operation = openapi['paths'][f'{API}/auth/token']['post']
    response = sign_in(client)
    assert str(response.status_code) in operation['responses']
    validate(openapi, operation['responses']['201']['content'][
            'application/json']['schema'], response.json)
    validate(openapi, operation['requestBody']['content'][
            'application/json']['schema'],
        {'email': SUBSCRIBER, 'password': PASSWORD})


# Bad input: 4xx problems naming the field, never a server error

BAD_IDS = [
    str(2 ** 31), str(2 ** 63), str(2 ** 64), '1' + '0' * 30, '9' * 100000]


@pytest.mark.parametrize('bad_id', BAD_IDS, ids=lambda i: f'{len(i)}d')
def test_ids_beyond_the_database_are_not_found(client, token, bad_id):
    "Every operation with an id in its path answers 404 for any of these"
    from trytond.modules.lk_portal import api

    probed = 0
    for operation in api.operations:
        if '<' not in operation.path:
            continue
        url = re.sub(r'<(?:[^:>]+:)?\w+>', bad_id, operation.path)
        response = client.open(
            url, method=operation.method.upper(), headers=bearer(token),
            json={'readings': [{'channel_id': 1, 'value': '1'}]}
            if operation.request_schema else None)
        document = assert_problem(response, 404)
        assert document['detail'] == 'Не найдено.'
        assert bad_id[:50] not in response.get_data(as_text=True)
        probed += 1
    assert probed >= 6


def submit(client, token, demo, body, **headers):
    "POST body (a str: raw JSON) to the readings of the subscriber's meter"
    return client.post(
        f'{API}/meters/{demo["meter"]}/readings', data=body,
        content_type='application/json', headers={**bearer(token), **headers})


def readings_body(demo, value, date=None):
    "The readings of every channel, the first one's value as raw JSON"
    items = [f'{{"channel_id": {demo["channels"][0]}, "value": {value}}}'] + [
        f'{{"channel_id": {c}, "value": "1"}}' for c in demo['channels'][1:]]
    body = f'{{"readings": [{", ".join(items)}]'
    if date is not None:
        body += f', "date": {date}'
    return body + '}'


def count_readings(db, meter_id):
    def count(pool):
        return pool.get('lk.meter.reading').search_count([
                ('meter', '=', meter_id)])
    return db(count)


@pytest.mark.parametrize('value', [
        '1e308', '"1e308"', '"1e999999999"', '9' * 60000, '"' + '9' * 60000
        + '"', '-1', '"-0.5"', '"1234567890123"', '"NaN"', '"Infinity"',
        '"12,3,4"', '""', '"١٢٣"'],
    ids=lambda v: v[:14])
def test_reading_value_out_of_range_is_422(client, token, demo, db, value):
    before = count_readings(db, demo['meter'])
    response = submit(client, token, demo, readings_body(demo, value))
    document = assert_problem(response, 422)
    assert document['field'] == 'readings[0].value'
    assert document['detail'].startswith('readings[0].value: укажите число')
    english = assert_problem(submit(
            client, token, demo, readings_body(demo, value),
            **{'Accept-Language': 'en'}), 422)
    assert english['detail'].startswith('readings[0].value: enter a number')
    assert count_readings(db, demo['meter']) == before


@pytest.mark.parametrize('date', [
        '"0001-01-01"', '"9999-12-31"', '"1999-12-31"', '"2100-01-01"',
        '"2025-02-30"', '"2025-1-1"', '"+2025-01-01"', '20250101',
        '"' + 'x' * 60000 + '"', '[]'],
    ids=lambda d: d[:14])
def test_reading_date_out_of_range_is_422(client, token, demo, db, date):
    before = count_readings(db, demo['meter'])
    response = submit(client, token, demo, readings_body(demo, '"1"', date))
    document = assert_problem(response, 422)
    assert document['field'] == 'date'
    assert document['detail'] == (
        'date: укажите дату с 2000-01-01 по 2099-12-31 в виде ГГГГ-ММ-ДД.')
    assert count_readings(db, demo['meter']) == before


NOT_JSON = {
    'deep': '[' * 5000 + ']' * 5000,
    'nested': '{"readings": ' + '[' * 20 + ']' * 20 + '}',
    'nan': '{"readings": [{"channel_id": 1, "value": NaN}]}',
    'infinity': '{"email": Infinity, "password": "x"}',
    'truncated': '{"readings": [',
    'latin-1': '{"email": "\xe9t\xe9"}'.encode('latin-1'),
    }


@pytest.mark.parametrize('body', NOT_JSON.values(), ids=NOT_JSON.keys())
def test_body_not_json_is_400(client, token, demo, body):
    for response in [
            submit(client, token, demo, body),
            client.post(
                f'{API}/auth/token', data=body,
                content_type='application/json')]:
        document = assert_problem(response, 400)
        assert document['detail'] == (
            'Передайте тело запроса в JSON (Content-Type: application/json) '
            'в UTF-8 с вложенностью не глубже 16 уровней.')


def test_body_of_a_form_is_400(client, token, demo, db):
    """A cross-site form may post text/plain that reads as JSON: the API
    takes application/json only"""
    before = count_readings(db, demo['meter'])
    body = readings_body(demo, '"1"')
    response = client.post(
        f'{API}/meters/{demo["meter"]}/readings', data=body,
        content_type='text/plain', headers=bearer(token))
    assert_problem(response, 400)
    assert count_readings(db, demo['meter']) == before


def test_body_too_large_is_413(client, token, demo):
    body = readings_body(demo, '"1"')[:-1] + ', "x": "' + 'x' * 70000 + '"}'
    for response in [
            submit(client, token, demo, body),
            client.post(
                f'{API}/auth/token', data=body,
                content_type='application/json')]:
        document = assert_problem(response, 413)
        assert document['detail'] == 'Тело запроса больше 65536 байт.'


@pytest.mark.parametrize('field', ['email', 'password'])
def test_sign_in_field_too_long_is_422(client, field):
    credentials = {'email': SUBSCRIBER, 'password': PASSWORD}
    credentials[field] = 'a' * 60000 + '@example.com'
    response = client.post(f'{API}/auth/token', json=credentials)
    document = assert_problem(response, 422)
    assert document['field'] == field
    assert document['detail'].startswith(f'{field}: не больше ')


def test_server_error_is_a_problem_without_its_cause(
        client, token, monkeypatch, caplog):
    "The last resort: a 500 problem that tells nothing, and a log entry"
    from trytond.modules.lk_portal import portal

    def broken(request, database_name, **kwargs):
        raise RuntimeError("secret cause 4242")
    monkeypatch.setitem(
        portal._endpoints, 'trytond.modules.lk_portal.api.me', broken)
    response = client.get(f'{API}/me', headers=bearer(token))
    document = assert_problem(response, 500)
    assert document['detail'] == (
        'Что-то пошло не так на нашей стороне: попробуйте позже.')
    assert '4242' not in response.get_data(as_text=True)
    logged, = [
        r for r in caplog.records
        if r.name == 'trytond.modules.lk_portal.portal']
    assert '4242' in caplog.text and logged.exc_info
    caplog.clear()
