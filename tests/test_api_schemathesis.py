# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Schemathesis against /api/v1/openapi.json of the demo server, over HTTP:
every operation gets generated requests, valid ones and invalid ones
(positive and negative), as the demo subscriber with a bearer token and
anonymously; no answer may be a server error, nor have a status, a content
type or a document the OpenAPI document does not declare.

The subscriber's requests use their own ids half of the time (else most
would only meet the 404 of an unknown id), and their readings go to a meter
made for this run on one of their accounts, removed afterwards. The run is
derandomized, so that a failure comes back at every run. Its requests come
from an address of their own, so that its failed sign-ins throttle no
other test."""
import datetime as dt

import pytest

from metering_data import SUBSCRIBER, require_metering

PASSWORD = 'demo'
API = '/api/v1'
MAX_EXAMPLES = 20
ADDRESS = '127.0.0.77'


@pytest.fixture(scope='module')
def session():
    "A requests session from ADDRESS"
    import requests
    from requests.adapters import HTTPAdapter

    class FromAddress(HTTPAdapter):
        def init_poolmanager(self, *args, **kwargs):
            kwargs['source_address'] = (ADDRESS, 0)
            super().init_poolmanager(*args, **kwargs)
    session = requests.Session()
    session.mount('http://', FromAddress())
    return session


@pytest.fixture(scope='module')
def schema(demo_server):
    import schemathesis
    return schemathesis.openapi.from_url(
        f'{demo_server.url}{API}/openapi.json', timeout=30)


@pytest.fixture(scope='module')
def own(db):
    """The subscriber's own ids by path parameter, with a meter of one
    channel made for this run (its readings are removed afterwards)"""
    require_metering(db)

    def create(pool):
        Account = pool.get('lk.account')
        Channel = pool.get('lk.meter.channel')
        Meter = pool.get('lk.meter')
        account = Account.search([
                ('accesses.web_user.email', '=', SUBSCRIBER),
                ('accesses.role', '=', 'owner'),
                ('accesses.state', '=', 'active'),
                ], order=[('number', 'ASC')], limit=1)[0]
        single = Channel.defaults(account.company)['single']
        meter, = Meter.create([{
                    'company': account.company.id,
                    'account': account.id,
                    'serial': 'SCHEMATHESIS-1',
                    'service': 'cold_water',
                    'place': 'kitchen',
                    'channels': [('add', [single.id])],
                    'digits': 6,
                    'decimals': 3,
                    'installed_on': dt.date.today() - dt.timedelta(days=30),
                    }])
        ids = {
            'account_id': account.id,
            'organization_id': account.company.id,
            'meter_id': meter.id,
            'channels': [c.id for c in meter.channels],
            }
        try:
            Announcement = pool.get('lk.announcement')
        except KeyError:
            pass
        else:
            # lk_announcement: the subscriber's newest announcement
            from trytond.modules.lk_base.portal import as_subscriber
            web_user, = pool.get('web.user').search(
                [('email', '=', SUBSCRIBER)])
            with as_subscriber(web_user):
                ids['announcement_id'] = Announcement.search(
                    Announcement.published_domain(), limit=1)[0].id
        try:
            Balance = pool.get('lk.balance')
        except KeyError:
            return ids
        # lk_billing: the account's latest billed month
        latest, = Balance.search([
                ('account', '=', account.id),
                ], order=[('period', 'DESC')], limit=1)
        return ids | {'period': f'{latest.period:%Y-%m}'}
    ids = db(create)
    yield ids

    def remove(pool):
        Meter = pool.get('lk.meter')
        Reading = pool.get('lk.meter.reading')
        Reading.delete(Reading.search([('meter', '=', ids['meter_id'])]))
        Meter.delete([Meter(ids['meter_id'])])
    db(remove)


def sign_in(demo_server, session):
    response = session.post(
        f'{demo_server.url}{API}/auth/token',
        json={'email': SUBSCRIBER, 'password': PASSWORD}, timeout=30)
    assert response.status_code == 201, response.text
    return {'Authorization': f"Bearer {response.json()['token']}"}


def with_own_ids(own):
    "Map a case and a coin to the case with the subscriber's own ids"
    def use(drawn):
        case, coin = drawn
        if coin:
            for name in case.path_parameters or {}:
                if name in own:
                    case.path_parameters[name] = own[name]
            readings = (case.body or {}).get('readings') \
                if isinstance(case.body, dict) else None
            if isinstance(readings, list):
                for index, item in enumerate(readings):
                    if isinstance(item, dict) and 'channel_id' in item:
                        item['channel_id'] = own['channels'][
                            index % len(own['channels'])]
        return case
    return use


def run(schema, demo_server, session, label, headers=None, own=None):
    """Run every operation of the schema in both generation modes; return
    the statuses answered by operation and the failures"""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import strategies as st
    from hypothesis.errors import Unsatisfiable
    from schemathesis import GenerationMode
    from schemathesis.checks import not_a_server_error
    from schemathesis.core.failures import Failure, FailureGroup
    from schemathesis.specs.openapi.checks import (
        content_type_conformance, response_schema_conformance,
        status_code_conformance)

    checks = [
        not_a_server_error, status_code_conformance,
        content_type_conformance, response_schema_conformance]
    answers, failures = {}, []
    for result in schema.get_all_operations():
        operation = result.ok()
        # Signing out ends the token: that operation gets one of its own
        signs_out = (operation.method.upper() == 'DELETE'
            and operation.path == f'{API}/auth/token')
        for mode in [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]:
            strategy = operation.as_strategy(generation_mode=mode)
            if own:
                strategy = st.tuples(strategy, st.booleans()).map(
                    with_own_ids(own))

            @settings(
                max_examples=MAX_EXAMPLES, deadline=None, database=None,
                derandomize=True, phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck))
            @given(case=strategy)
            def call(case):
                sent = headers
                if headers and signs_out:
                    sent = sign_in(demo_server, session)
                response = case.call(
                    base_url=demo_server.url, session=session, headers=sent,
                    timeout=60)
                statuses = answers.setdefault(operation.label, {})
                statuses[response.status_code] = statuses.get(
                    response.status_code, 0) + 1
                try:
                    case.validate_response(
                        response, checks=checks, headers=sent)
                except (Failure, FailureGroup) as failure:
                    for found in getattr(failure, 'exceptions', [failure]):
                        failures.append((
                                label, mode.value, operation.label,
                                response.status_code,
                                getattr(found, 'title', str(found))))
            try:
                call()
            except Unsatisfiable:
                # nothing of the operation can be made invalid
                assert mode == GenerationMode.NEGATIVE, operation.label
    return answers, failures


def test_api_conforms_to_its_openapi_document(
        schema, demo_server, session, own, report):
    # schemathesis leaves out the document's own operation
    documented = {
        f'{method.upper()} {path}'
        for path, item in schema.raw_schema['paths'].items()
        for method in item if path != f'{API}/openapi.json'}
    failures = []
    for label, kwargs in [
            ('subscriber', {
                    'headers': sign_in(demo_server, session), 'own': own}),
            ('anonymous', {})]:
        answers, found = run(
            schema, demo_server, session, label, **kwargs)
        failures += found
        report(f"schemathesis {label}: {len(answers)} operations, "
            f"{sum(sum(s.values()) for s in answers.values())} cases, "
            f"{len(found)} failures")
        for operation, statuses in sorted(answers.items()):
            report(f"  {operation}: " + ", ".join(
                    f"{s} ×{n}" for s, n in sorted(statuses.items())))
        assert set(answers) == documented
    for failure in sorted(set(failures)):
        report(" ".join(["FAILURE", *map(str, failure)]))
    assert not failures
