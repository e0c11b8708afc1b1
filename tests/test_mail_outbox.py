# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""lk's e-mail through one outbox: a mail server outage loses nothing and
what it delays goes out once; the backend's reset-password mail is the
portal's; the sign-in page sends a new validation link"""
import asyncio
import datetime as dt
import html
import re
import threading
import time

import pytest

import conftest
from test_portal_security import Browser, text

PASSWORD = 'Str0ng-pass-5'


@pytest.fixture
def smtp_stopped(mailbox):
    "The local mail server stopped for the test's first part"
    server = conftest._smtp
    server.stop()
    state = {'running': False}

    def start():
        # stop() closed its event loop
        server.loop = asyncio.new_event_loop()
        server.start()
        state['running'] = True
    try:
        yield start
    finally:
        if not state['running']:
            start()


def outbox_of(db, email):
    "The (state, attempts, last error) of the messages to the address"
    def read(pool):
        Outbox = pool.get('lk.mail.outbox')
        return [
            (o.state, o.attempts, o.last_error)
            for o in Outbox.search(
                [('to', '=', email)], order=[('id', 'ASC')])]
    return db(read)


def make_due(db, email):
    "The queued messages to the address due now, as after their delay"
    def write(pool):
        Outbox = pool.get('lk.mail.outbox')
        Outbox.write(Outbox.search([('to', '=', email)]), {
                'next_attempt': dt.datetime.now() - dt.timedelta(seconds=1),
                })
    db(write)


def send_queued(db):
    "What the cron task does every minute"
    db(lambda pool: pool.get('lk.mail.outbox').send_queued())


def to(mailbox, email):
    return [m for m in mailbox.messages if m['To'] == email]


def wait(condition, timeout=10):
    deadline = time.monotonic() + timeout
    while not (result := condition()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return result


def page_text(response):
    return ' '.join(html.unescape(
            re.sub(r'<[^>]+>', ' ', text(response))).split())


def test_registration_survives_mail_outage(db, mailbox, smtp_stopped):
    """Registered while the mail server is down, the subscriber is told
    the message is on its way; it goes out once the server is back, once"""
    email = 'outage@example.com'
    browser = Browser(address='192.0.2.150')
    browser.get('/register')
    response = browser.post('/register', {
            'email': email, 'password': PASSWORD, 'password2': PASSWORD,
            'consent': '1'})
    assert response.status_code == 200
    page = page_text(response)
    assert "Мы отправляем письмо со ссылкой" in page
    assert "Мы отправили" not in page

    # the thread after the commit tried, and keeps it (it is sending,
    # attempt 1, while the connection is refused)
    assert wait(lambda: outbox_of(db, email)[0][:2] == ('queued', 1), 30)
    (state, attempts, error), = outbox_of(db, email)
    assert (state, attempts) == ('queued', 1)
    assert 'ConnectionRefusedError' in error
    send_queued(db)  # not due yet
    assert outbox_of(db, email)[0][:2] == ('queued', 1)
    assert to(mailbox, email) == []

    smtp_stopped()
    make_due(db, email)
    send_queued(db)
    message, = to(mailbox, email)
    assert message['Subject'] == "Подтвердите адрес e-mail"
    assert outbox_of(db, email)[0][:2] == ('sent', 2)
    send_queued(db)
    make_due(db, email)
    send_queued(db)
    assert len(to(mailbox, email)) == 1

    body = html.unescape(message.get_content())
    link, *_ = re.findall(r'https?://[^\s"<>]+/validate\?token=\w+', body)
    response = Browser(address='192.0.2.150').get(
        '/' + link.split('/', 3)[3])
    assert response.status_code == 200
    assert "Адрес подтверждён" in page_text(response)


def test_concurrent_senders_send_once(db, mailbox, demo_server):
    """Eight senders at once (the cron task, threads after commits) hand
    a queued message to the mail server once"""
    from trytond.modules.lk_base.mail import deliver
    email = 'concurrent@example.com'

    def create(pool):
        Outbox = pool.get('lk.mail.outbox')
        message = (
            f"From: lk@example.com\nTo: {email}\nSubject: Once\n"
            "Message-ID: <once@example.com>\n\nOnce.\n")
        # stored like enqueue does, without its sending after commit
        outbox, = Outbox.create([{
                    'to': email, 'subject': "Once", 'message': message,
                    'message_id': '<once@example.com>'}])
        return outbox.id
    outbox_id = db(create)
    barrier = threading.Barrier(8)

    def sender():
        barrier.wait()
        deliver(demo_server.database, [outbox_id])
    mailbox.delay = 0.3
    try:
        threads = [threading.Thread(target=sender) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        mailbox.delay = 0
    assert len(to(mailbox, email)) == 1
    assert outbox_of(db, email)[0][:2] == ('sent', 1)


def test_backend_reset_mail_is_the_portal_one(db, mailbox, new_subscriber):
    """The «Reset password» button of the backend sends the Russian mail
    the portal sends"""
    from trytond.transaction import Transaction, check_access
    email = 'reset-both@example.com'
    user_id, _ = new_subscriber(email, PASSWORD)
    sent = len(mailbox.messages)
    browser = Browser(address='192.0.2.151')
    browser.get('/reset-request')
    assert browser.post(
        '/reset-request', {'email': email}).status_code == 200
    portal = mailbox.wait_for(email, after=sent)
    sent = len(mailbox.messages)

    def press(pool):
        User = pool.get('res.user')
        WebUser = pool.get('web.user')
        admin, = User.search([('login', '=', 'admin')])
        with Transaction().set_user(admin.id), \
                Transaction().set_context(
                    User.get_preferences(context_only=True)), \
                check_access():
            WebUser.reset_password([WebUser(user_id)])
    db(press)
    backend = mailbox.wait_for(email, after=sent)

    def body(message):
        # the time left of the link changes by the minute
        return re.sub(
            r'<time[^>]*>.*?</time>', '', message.get_content(), flags=re.S)
    assert portal['Subject'] == backend['Subject'] == "Восстановление пароля"
    assert body(portal) == body(backend)
    assert "Выбрать новый пароль" in body(portal)


def test_sign_in_page_resends_validation(db, mailbox):
    """A user whose address is not confirmed gets a new link from the
    sign-in page; the answer is the same for any address; throttled"""
    email = 'resend-me@example.com'

    def create(pool):
        WebUser = pool.get('web.user')
        WebUser.create([{
                    'email': email,
                    'password_hash': WebUser.hash_password(PASSWORD),
                    }])
    db(create)
    browser = Browser(address='192.0.2.152')
    response = browser.sign_in(email, PASSWORD)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'id="resend-form"' in page
    assert "Отправить письмо ещё раз" in page

    sent = len(mailbox.messages)
    answer = browser.post('/resend-validation', {'email': email})
    assert answer.status_code == 200
    message = mailbox.wait_for(email, "Подтвердите адрес e-mail", after=sent)
    assert '/validate?token=' in message.get_content()
    unknown = browser.post(
        '/resend-validation', {'email': 'nobody-here@example.com'})
    assert page_text(unknown) == page_text(answer)
    assert "новую ссылку" in page_text(answer)

    # two more, then no more in the window
    for _ in range(4):
        browser.post('/resend-validation', {'email': email})
    time.sleep(1)
    assert len(to(mailbox, email)) == 3
    # a wrong password is not offered the form
    assert 'resend-form' not in Browser(address='192.0.2.153').sign_in(
        'nobody-here@example.com', PASSWORD).get_data(as_text=True)
