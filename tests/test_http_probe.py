# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The HTTP tenancy probe: every rule of the portal's url_map (its pages,
every feature's pages and the API's operations, declared or not), for
every method it answers, as an anonymous visitor, another subscriber and a
delegate with the view right only, with someone else's ids in its path.

What is someone else's is made here: subscriber V owns account A (with a
meter and an invitation) of one organization, subscriber O owns account B
(with a meter and an invitation) of another; delegate D sees A with the
view right only. A probe puts, for each path argument, the id of that kind
from a set that is not the actor's (all arguments, and one at a time beside
the actor's own ids), GET and POST (with the actor's valid CSRF token and a
form or JSON body a careless handler would act on).

Everything foreign answers 401, 403, 404, 405 or a redirection to the
sign-in page, never a server error, and no answer shows the foreign
account's number, holder or meter; the public routes (PUBLIC) may answer,
without that data. D may see A through DELEGATE_VIEWS only. Afterwards
nobody holds a new active access to A or B and their meters have no new
reading. The counts per route and actor are printed.

A rule whose path argument is of a kind the probe does not know (KINDS)
fails the test: the next feature teaches it what that kind's foreign value
is."""
import datetime as dt
import re
from collections import Counter
from urllib.parse import urlsplit

from metering_data import require_metering
from test_portal_security import Browser

PASSWORD = 'Probe-pass-1'
API = '/api/v1'
# The path arguments the probe knows: the key of their value in a set
KINDS = {
    'account_id': 'account',
    'meter_id': 'meter',
    'access_id': 'access',
    'organization_id': 'organization',
    'token': 'token',
    'code': 'language',
    'rest': 'rest',
    'period': 'period',
    # lk_announcement
    'announcement_id': 'announcement',
    'document_id': 'document',
    }
# Rules anyone may see whatever their arguments, and why
PUBLIC = {
    '/o/<int:organization_id>': "an organization's public page",
    '/o/<int:organization_id>/logo': "an organization's public logo",
    f'{API}/organizations/<int:organization_id>/public':
        "an organization's public profile",
    '/invitations/<token>': "an invitation, to whoever holds its link",
    '/lang/<code>': "the choice of a language",
    '/o/<int:organization_id>/documents/<int:document_id>':
        "an organization's public document",
    }
# What a delegate with the view right only may GET of its account
DELEGATE_VIEWS = {
    '/accounts/<int:account_id>',
    '/accounts/<int:account_id>/readings',
    '/readings/<int:meter_id>',
    f'{API}/accounts/<int:account_id>',
    f'{API}/accounts/<int:account_id>/meters',
    f'{API}/meters/<int:meter_id>/readings',
    f'{API}/organizations/<int:organization_id>',
    # lk_billing: what a valid access with the view right shows
    '/accounts/<int:account_id>/history',
    '/accounts/<int:account_id>/charges/<month:period>',
    '/accounts/<int:account_id>/documents/<month:period>.pdf',
    f'{API}/accounts/<int:account_id>/history',
    f'{API}/accounts/<int:account_id>/charges',
    f'{API}/accounts/<int:account_id>/documents/<month:period>.pdf',
    # lk_announcement: the announcements to the account
    '/announcements/<int:announcement_id>',
    f'{API}/announcements/<int:announcement_id>',
    }
# What a delegate may do for themself on what they see of its account
DELEGATE_OWN = {
    # lk_announcement: their own read mark
    f'{API}/announcements/<int:announcement_id>/read',
    }
REFUSED = {401, 403, 404, 405}
CSRF_REFUSED = "Форма устарела"
METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE']


def create_world(db, new_subscriber):
    """The accounts A (of V, delegated to D) and B (of O) of two
    organizations, each with a meter and an invitation; the sets of ids
    and the markers of their private data"""
    def accounts(pool):
        Account = pool.get('lk.account')
        Building = pool.get('lk.building')
        Company = pool.get('company.company')
        companies = [
            c for c in Company.search([], order=[('id', 'ASC')])
            if Building.search([('company', '=', c.id)], limit=1)][:2]
        assert len(companies) == 2, "two organizations with buildings"
        created = []
        for letter, company in zip('AB', companies):
            building, = Building.search(
                [('company', '=', company.id)], limit=1)
            account, = Account.create([{
                        'company': company.id,
                        'number': f'PROBE-{letter}-4711',
                        'building': building.id,
                        'apartment': '77',
                        'holder': f'Зондов {letter} Пробович',
                        }])
            created.append(account.id)
        return created
    a, b = db(accounts)
    new_subscriber('probe-victim@example.com', PASSWORD, account=a)
    new_subscriber('probe-other@example.com', PASSWORD, account=b)
    new_subscriber(
        'probe-delegate@example.com', PASSWORD, account=a, role='delegate',
        state='active', right_readings=False, right_payment=False,
        right_appeals=False)

    def details(pool):
        Account = pool.get('lk.account')
        Access = pool.get('lk.account.access')
        Channel = pool.get('lk.meter.channel')
        Meter = pool.get('lk.meter')
        Announcement = pool.get('lk.announcement')
        Document = pool.get('lk.public.document')
        sets = {}
        for letter, account_id in zip('AB', [a, b]):
            account = Account(account_id)
            meter, = Meter.create([{
                        'company': account.company.id,
                        'account': account.id,
                        'serial': f'PROBE-{letter}-METER',
                        'service': 'cold_water',
                        'channels': [('add', [
                                    Channel.defaults(account.company)[
                                        'single'].id])],
                        }])
            owner, = Access.search([
                    ('account', '=', account.id), ('role', '=', 'owner')])
            news = f'Новость зонда {letter}'
            announcement, = Announcement.create([{
                        'company': account.company.id,
                        'title': news, 'body': news,
                        'audience': 'accounts',
                        'accounts': [('add', [account.id])],
                        }])
            document, = Document.create([{
                        'company': account.company.id,
                        'name': f'Документ зонда {letter}',
                        'data': b'%PDF-1.4 probe', 'filename': 'probe.pdf',
                        }])
            invited, = Access.create([{
                        'account': account.id,
                        'role': 'delegate',
                        'state': 'invited',
                        'invitation_email': (
                            f'probe-invitee-{letter.lower()}@example.com'),
                        'granted_by': owner.web_user.id,
                        }])
            sets[letter] = {
                'account': account.id,
                'meter': meter.id,
                'channels': [c.id for c in meter.channels],
                'access': invited.id,
                'organization': account.company.id,
                'token': invited.invitation_token,
                'language': 'en',
                'rest': 'v1/probe/nothing',
                'period': f'{dt.date.today():%Y-%m}',
                'announcement': announcement.id,
                'document': document.id,
                'number': account.number,
                'markers': [
                    account.number, account.holder, meter.serial, news],
                # what an actor did not type in a form
                'private': [account.holder, meter.serial],
                }
        return sets
    return db(details)


def state(db, sets):
    "Who holds an active access to the accounts, how many readings"
    def read(pool):
        Access = pool.get('lk.account.access')
        Reading = pool.get('lk.meter.reading')
        accounts = [s['account'] for s in sets.values()]
        return (
            sorted(
                (a.account.id, a.web_user.id if a.web_user else 0,
                    a.role, a.state, a.right_readings)
                for a in Access.search([
                        ('account', 'in', accounts),
                        ('state', 'in', ['active', 'invited'])])),
            Reading.search_count([
                    ('meter', 'in', [s['meter'] for s in sets.values()])]))
    return db(read)


class Actor:
    "A browser (pages) and a bearer token (API) of one signed-in user"

    def __init__(self, name, email, address):
        self.name, self.email = name, email
        self.browser = Browser(address=address)
        self.token = None
        self.sign_in()

    def sign_in(self):
        if not self.email:
            self.browser.get('/login')
            return
        response = self.browser.sign_in(self.email, PASSWORD)
        assert response.status_code == 303, (self.name, response.status_code)
        # the token of the signed-in pages
        self.browser.get('/')
        response = self.browser.client.post(
            f'{API}/auth/token', json={
                'email': self.email, 'password': PASSWORD},
            environ_base={'REMOTE_ADDR': self.browser.address})
        assert response.status_code == 201, response.get_data(as_text=True)
        self.token = response.json['token']

    def call(self, method, path, values):
        if path.startswith('/api/'):
            headers = {'Authorization': f'Bearer {self.token}'} \
                if self.token else {}
            body = {
                'readings': [
                    {'channel_id': c, 'value': '1'}
                    for c in values['channels']],
                'email': self.email or 'probe-nobody@example.com',
                'password': 'wrong-password',
                } if method != 'GET' else None
            response = self.browser.open(
                path, method=method, headers=headers, json=body)
            # signing out ends the token
            if (self.token and method == 'DELETE'
                    and response.status_code == 204):
                self.sign_in()
            return response
        if method == 'GET':
            return self.browser.get(path)
        form = {
            'email': 'probe-new@example.com',
            'password': 'wrong-password',
            'organization': str(values['organization']),
            'number': values['number'],
            'message': "probe",
            'readings': 'on', 'payment': 'on', 'appeals': 'on',
            **{f'channel_{c}': '1' for c in values['channels']},
            }
        response = self.browser.post(path, form) if method == 'POST' \
            else self.browser.open(path, method=method, data=form)
        cookies = response.headers.getlist('Set-Cookie')
        if any(c.startswith('lk_session=;') for c in cookies):
            self.sign_in()
        elif cookies:
            # a new session or CSRF cookie: the token of a page again
            self.browser.get('/' if self.email else '/login')
        return response


def refused(response):
    "401, 403, 404, 405 or a redirection to the sign-in page"
    if response.status_code in REFUSED:
        return True
    location = response.headers.get('Location', '')
    return response.status_code in {302, 303} and urlsplit(
        location).path == '/login'


def shows(response, markers):
    "The foreign markers the answer shows, in its headers or body"
    text = response.get_data(as_text=True) + str(response.headers)
    return [m for m in markers if m in text]


def path_of(rule, values):
    "The rule's path with the values of its arguments' kinds"
    def value(match):
        return str(values[KINDS[match[1]]])
    return re.sub(r'<(?:[^:>]+:)?(\w+)>', value, rule.rule)


def test_every_route_refuses_what_is_not_the_actor_s(
        db, new_subscriber, report):
    import lkdemo
    lkdemo.load_application()
    from trytond.modules.lk_portal import portal

    require_metering(db)
    sets = create_world(db, new_subscriber)
    before = state(db, sets)
    rules = sorted(portal.url_map.iter_rules(), key=lambda r: r.rule)
    unknown = sorted({
            f'{r.rule}: {a}' for r in rules for a in r.arguments
            if a not in KINDS})
    assert not unknown, (
        "teach the probe the kind of these path arguments (KINDS): "
        f"{unknown}")

    actors = [
        # name, e-mail, own set, foreign sets
        ('anonymous', None, None, ['A', 'B']),
        ('other', 'probe-other@example.com', 'B', ['A']),
        ('delegate', 'probe-delegate@example.com', None, ['B']),
        ]
    counts, failures = Counter(), []

    def label(rule):
        return rule.rule + ' ' + ','.join(
            m for m in METHODS if m in rule.methods)

    def probe(actor, rule, method, values, markers, allowed=False):
        """Call the rule with the values; a failure unless it is refused
        (or allowed) without a server error nor any of the markers"""
        path = path_of(rule, values)
        response = actor.call(method, path, values)
        counts[label(rule), actor.name] += 1
        where = f"{actor.name} {method} {path}"
        if response.status_code >= 500:
            failures.append(f"{where}: {response.status_code}")
        elif not (allowed or refused(response)):
            failures.append(
                f"{where}: {response.status_code}, not refused")
        elif (response.status_code == 403 and method == 'POST'
                and CSRF_REFUSED in response.get_data(as_text=True)):
            failures.append(f"{where}: the probe's CSRF token was refused")
        if found := shows(response, markers):
            failures.append(f"{where}: shows {found}")

    for index, (name, email, own, foreign) in enumerate(actors):
        actor = Actor(name, email, f'127.0.0.{90 + index}')
        for rule in rules:
            methods = [m for m in METHODS if m in rule.methods]
            public = rule.rule in PUBLIC
            for method in methods:
                if not rule.arguments:
                    # nothing to substitute: any answer, no foreign data
                    for letter in foreign:
                        probe(
                            actor, rule, method, sets[letter],
                            sets[letter]['private'], allowed=True)
                    continue
                for letter in foreign:
                    values = sets[letter]
                    probe(
                        actor, rule, method, values, values['markers'],
                        allowed=public)
                    # one foreign argument beside the actor's own ones
                    if own and len(rule.arguments) > 1:
                        for argument in rule.arguments:
                            mixed = dict(sets[own])
                            mixed[KINDS[argument]] = values[KINDS[argument]]
                            probe(
                                actor, rule, method, mixed,
                                values['markers'], allowed=public)
                if name == 'delegate':
                    # the delegated account: seen, never acted on
                    probe(
                        actor, rule, method, sets['A'], [],
                        allowed=public or (
                            method == 'GET' and rule.rule in DELEGATE_VIEWS)
                        or (method == 'POST' and rule.rule in DELEGATE_OWN))

    width = max(len(label(r)) for r in rules)
    report(f"{'route':{width}}  " + "  ".join(
            f'{n:>9}' for n, *_ in actors))
    for rule in rules:
        report(f'{label(rule):{width}}  ' + "  ".join(
                f'{counts[label(rule), n]:>9}' for n, *_ in actors))
    report(f"{len(rules)} routes, {sum(counts.values())} probes, "
        f"{len(failures)} failures")
    for failure in failures:
        report(f"FAILURE {failure}")
    assert not failures
    assert state(db, sets) == before
    # every route was probed by every actor
    assert all(counts[label(r), n] for r in rules for n, *_ in actors)


def test_delegate_views_are_routes():
    "The allow-lists name rules that exist (a renamed rule fails here)"
    import lkdemo
    lkdemo.load_application()
    from trytond.modules.lk_portal import portal
    rules = {r.rule for r in portal.url_map.iter_rules()}
    assert DELEGATE_VIEWS <= rules
    assert DELEGATE_OWN <= rules
    assert set(PUBLIC) <= rules
