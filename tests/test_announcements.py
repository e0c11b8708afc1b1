# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Announcements and reminders (lk_announcement) on the demo server: an
announcement to one building reaches only its accounts' users on the pages,
the API and by e-mail (the local SMTP server); its queue task run twice
mails each user once; the reminders' cron task run twice (a restart) sends
a readings reminder once, none to a user who unsubscribed through the
link, without signing in; the pages pass axe-core and a phone (375 px)
shows them (screenshots in LK_SCREENSHOTS or test-results)."""
import datetime as dt
import re
import time
from zoneinfo import ZoneInfo

import pytest
from test_billing_pages import SHOTS, Client
from test_portal_browser import PASSWORD, SUBSCRIBER, browser  # noqa: F401
from test_portal_pages import assert_accessible, sign_in

API = '/api/v1'
NEAR, FAR = 'news-near@example.com', 'news-far@example.com'
USER_PASSWORD = 'News-pass-1'
TITLE = "Отключение холодной воды (тест)"
REMINDER = "Напоминание о показаниях"


def outbox_to(db, address, origin=None):
    "The outbox's messages to the address (about the record)"
    def read(pool):
        Outbox = pool.get('lk.mail.outbox')
        domain = [('to', '=', address)]
        if origin:
            domain.append(('origin', '=', origin))
        return [(o.subject, o.state) for o in Outbox.search(domain)]
    return db(read)


def wait_sent(db, address, origin=None, timeout=30):
    "The outbox's messages to the address once none is still queued"
    deadline = time.monotonic() + timeout
    while True:
        found = outbox_to(db, address, origin)
        if all(state == 'sent' for _, state in found) or (
                time.monotonic() > deadline):
            return found
        time.sleep(0.2)


@pytest.fixture(scope='module')
def world(db, new_subscriber):
    """Two users of accounts in two buildings of the first organization,
    each account with a meter, and an urgent announcement to the first
    building saved (its queue task not run yet)"""
    def accounts(pool):
        Account = pool.get('lk.account')
        Access = pool.get('lk.account.access')
        Company = pool.get('company.company')
        taken = {a.account.id for a in Access.search([])}
        company = Account.search([], order=[('id', 'ASC')], limit=1)[
            0].company
        free = [
            a for a in Account.search([('company', '=', company.id)])
            if a.id not in taken]
        near = free[0]
        far = next(a for a in free if a.building != near.building)
        assert Company(company.id).remind_readings
        return near.id, far.id
    near, far = db(accounts)
    new_subscriber(NEAR, USER_PASSWORD, account=near)
    new_subscriber(FAR, USER_PASSWORD, account=far)

    def announce(pool):
        Account = pool.get('lk.account')
        Announcement = pool.get('lk.announcement')
        Queue = pool.get('ir.queue')
        Channel = pool.get('lk.meter.channel')
        Meter = pool.get('lk.meter')
        account = Account(near)
        for account_id in [near, far]:
            other = Account(account_id)
            Meter.create([{
                        'company': other.company.id,
                        'account': other.id,
                        'serial': f'NEWS-{account_id}',
                        'service': 'cold_water',
                        'channels': [('add', [
                                    Channel.defaults(other.company)[
                                        'single'].id])],
                        }])
        before = {q.id for q in Queue.search([])}
        # Tryton stores date-times as naive UTC
        now = dt.datetime.now(dt.timezone.utc).replace(
            microsecond=0, tzinfo=None)
        announcement, = Announcement.create([{
                    'company': account.company.id,
                    'title': TITLE,
                    'body': "Ремонт трубопровода.",
                    'audience': 'buildings',
                    'buildings': [('add', [account.building.id])],
                    'urgent': True,
                    'outage_what': "Холодная вода",
                    'outage_where': account.building.rec_name,
                    'outage_from': now + dt.timedelta(hours=1),
                    'outage_until': now + dt.timedelta(hours=5),
                    'publish_from': now - dt.timedelta(minutes=1),
                    }])
        tasks = [
            q.id for q in Queue.search([('id', 'not in', list(before))])
            if q.data['model'] == 'lk.announcement'
            and q.data['method'] == 'mail_urgent']
        return announcement.id, tasks, announcement.outage_from, str(
            announcement.company.timezone)
    announcement, tasks, outage_from, timezone = db(announce)
    assert len(tasks) == 1, tasks
    # the outage starts at this time of the organization's clock
    start = outage_from.replace(tzinfo=dt.timezone.utc).astimezone(
        ZoneInfo(timezone)).strftime('%d.%m.%Y %H:%M')
    return {'near': near, 'far': far, 'announcement': announcement,
        'task': tasks[0], 'start': start}


def run_task(db, task_id):
    "The queue task run as trytond's worker runs it"
    def run(pool):
        Queue = pool.get('ir.queue')
        Queue(task_id).run()
    db(run)


def test_urgent_announcement_mailed_once(db, mailbox, world):
    "The queue task run twice e-mails the building's user once"
    origin = f"lk.announcement,{world['announcement']}"
    after = len(mailbox.messages)
    run_task(db, world['task'])
    run_task(db, world['task'])
    message = mailbox.wait_for(NEAR, subject=TITLE, after=after)
    html = message.get_body(('html',)).get_content()
    assert "Холодная вода" in html and world['start'] in html
    sent = wait_sent(db, NEAR, origin)
    assert len(sent) == 1 and sent[0][1] == 'sent', sent
    assert outbox_to(db, FAR, origin) == []
    time.sleep(1)
    to_near = [
        m for m in mailbox.messages[after:]
        if NEAR in m['To'] and TITLE in m['Subject']]
    assert len(to_near) == 1
    assert not [m for m in mailbox.messages[after:] if FAR in m['To']]


def test_announcement_reaches_only_its_building(demo_server, world):
    "The near user sees it on the pages and the API; the far one cannot"
    near = Client(demo_server.url).sign_in(NEAR, USER_PASSWORD)
    far = Client(demo_server.url).sign_in(FAR, USER_PASSWORD)
    path = f"/announcements/{world['announcement']}"

    answer = near.get('/announcements')
    assert answer.status_code == 200 and TITLE in answer.text
    home = near.get('/').text
    tile = re.search(
        r'data-panel="announcements".*?</a>', home, re.S)[0]
    unread = int(re.search(r'panel-count">(\d+)<', tile)[1])
    assert TITLE in tile
    answer = near.get(path)
    assert answer.status_code == 200 and "Холодная вода" in answer.text
    assert world['start'] in answer.text
    tile = re.search(
        r'data-panel="announcements".*?</a>', near.get('/').text, re.S)[0]
    count = re.search(r'panel-count">(\d+)<', tile)
    assert (int(count[1]) if count else 0) == unread - 1
    listed = near.api('/announcements').json()
    found = [a for a in listed['announcements']
        if a['id'] == world['announcement']]
    assert found and found[0]['read'] and found[0]['urgent']
    assert found[0]['outage']['what'] == "Холодная вода"

    assert TITLE not in far.get('/announcements').text
    assert far.get(path).status_code == 404
    assert world['announcement'] not in [
        a['id'] for a in far.api('/announcements').json()['announcements']]
    assert far.api(path).status_code == 404
    answer = far.session.post(
        far.url + API + path + '/read', timeout=60,
        headers={'Authorization': f'Bearer {far.token}'})
    assert answer.status_code == 404


def test_unsubscribed_user_gets_no_reminder_and_none_twice(
        db, demo_server, mailbox, world):
    """The far user unsubscribes through the link of their reminders
    without signing in; the cron task run twice reminds the near user of
    the open window once and the far one never"""
    import requests

    def token(pool):
        WebUser = pool.get('web.user')
        user, = WebUser.search([('email', '=', FAR)])
        return user.unsubscribe_token('readings')
    link = f'{demo_server.url}/unsubscribe/{db(token)}'
    session = requests.Session()
    page = session.get(link, timeout=60)
    assert page.status_code == 200 and 'name="csrf_token"' in page.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)[1]
    done = session.post(link, data={'csrf_token': csrf}, timeout=60)
    assert done.status_code == 200
    assert "больше не будут приходить" in done.text
    assert requests.get(
        link.replace('-readings-', '-debt-'), timeout=60).status_code == 404

    def remind(pool):
        pool.get('lk.reminder').send_reminders()
    after = len(mailbox.messages)
    db(remind)
    # a restart: the same window's reminders are not sent again
    db(remind)
    message = mailbox.wait_for(NEAR, subject=REMINDER, after=after)
    unsubscribe = re.search(
        r'href="([^"]*/unsubscribe/[^"]+)"',
        message.get_body(('html',)).get_content())[1]
    assert requests.get(unsubscribe, timeout=60).status_code == 200
    sent = wait_sent(db, NEAR)
    time.sleep(1)
    reminders = [
        m for m in mailbox.messages[after:]
        if NEAR in m['To'] and REMINDER in m['Subject']]
    assert len(reminders) == 1, [m['Subject'] for m in reminders]
    assert not [m for m in mailbox.messages[after:] if FAR in m['To']]
    assert not [s for s in outbox_to(db, FAR) if REMINDER in s[0]]
    assert sent


def test_announcements_in_a_browser(browser, demo_server, db):  # noqa: F811
    """The demo subscriber opens the announcements on a phone, reads the
    outage, and switches the debt reminders off; axe-core finds nothing"""
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(
        base_url=demo_server.url, locale='ru-RU',
        viewport={'width': 375, 'height': 800})
    context.set_default_timeout(30000)
    try:
        page = context.new_page()
        sign_in(page, SUBSCRIBER, PASSWORD)
        tile = page.locator('[data-panel=announcements]')
        assert "Объявления" in tile.inner_text()
        tile.click()
        page.wait_for_url('**/announcements')
        assert page.locator('h1').inner_text() == "Объявления"
        items = page.locator('li.announcement')
        assert items.count() >= 3
        assert page.locator('li.announcement.urgent').count() >= 1
        assert_accessible(page)
        page.screenshot(
            path=str(SHOTS / 'announcements-375.png'), full_page=True)
        page.locator('li.announcement.urgent h2 a').first.click()
        page.wait_for_load_state()
        assert "Горячая вода" in page.locator('article').inner_text()
        assert_accessible(page)
        page.screenshot(
            path=str(SHOTS / 'announcement-375.png'), full_page=True)

        page.goto('/notifications')
        debt = page.get_by_label("Напоминания о задолженности")
        assert debt.is_checked()
        debt.uncheck()
        page.get_by_role('button', name="Сохранить").click()
        page.wait_for_load_state()
        assert "Настройки сохранены" in page.locator('main').inner_text()
        assert not page.get_by_label(
            "Напоминания о задолженности").is_checked()
        assert_accessible(page)
        page.screenshot(
            path=str(SHOTS / 'notifications-375.png'), full_page=True)

        def setting(pool):
            WebUser = pool.get('web.user')
            user, = WebUser.search([('email', '=', SUBSCRIBER)])
            value = user.remind_debt
            WebUser.write([user], {'remind_debt': True})
            return value
        assert not db(setting)
    finally:
        context.close()
