# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Shared fixtures of the cross-module tests.

trytond reads its configuration once per process, when first imported: the
whole pytest session uses one written here, in a temporary directory that
also holds the SQLite databases. Do not import trytond before
pytest_configure has run (i.e. not at the top of a conftest).
"""
import asyncio
import email
import email.policy
import logging
import os
import shutil
import socket
import sys
import tempfile
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / 'scripts'))
import lkdemo  # noqa: E402

_directory = None
_smtp = None
# LK_TEST_BACKEND=postgresql runs the tests on PostgreSQL (the local socket,
# or LK_TEST_POSTGRESQL_URI) in a database of their own, dropped at the end
BACKEND = os.environ.get('LK_TEST_BACKEND', 'sqlite')
DATABASE = 'lk_test' if BACKEND == 'sqlite' else f'lk_test_{os.getpid()}'


class Mailbox:
    "What the local SMTP server received, as email.message.EmailMessage"

    def __init__(self):
        self.messages = []
        self._condition = threading.Condition()
        # Seconds each message takes, to play a slow mail server
        self.delay = 0

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        message = email.message_from_bytes(
            envelope.original_content or envelope.content,
            policy=email.policy.default)
        with self._condition:
            self.messages.append(message)
            self._condition.notify_all()
        return '250 OK'

    def wait_for(self, to, subject=None, after=0, timeout=30):
        """The last message to the address (and subject) after the first
        `after` ones, waiting for it"""
        def find():
            for message in reversed(self.messages[after:]):
                if to.lower() in message['To'].lower() and (
                        not subject or subject in message['Subject']):
                    return message
        with self._condition:
            self._condition.wait_for(find, timeout=timeout)
            found = find()
        assert found, f"no message to {to} ({subject})"
        return found


PORTAL_LOGGER = 'trytond.modules.lk_portal.portal'


@pytest.fixture(autouse=True)
def no_server_error(caplog):
    """No test reaches the portal's last resort, which logs the errors (the
    tests of the last resort itself clear what they made it log)"""
    caplog.set_level(logging.ERROR, logger=PORTAL_LOGGER)
    yield
    errors = [
        r for r in caplog.records
        if r.name == PORTAL_LOGGER and r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]


_reports = []


@pytest.fixture(scope='session')
def report():
    """Append a line to the terminal summary: the probe suites' counts, so
    that `make test` shows them"""
    return _reports.append


def pytest_terminal_summary(terminalreporter):
    if _reports:
        terminalreporter.section("probe counts")
        for line in _reports:
            terminalreporter.write_line(line)


def _free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def pytest_configure(config):
    global _directory, _smtp
    from aiosmtpd.controller import Controller

    _directory = Path(tempfile.mkdtemp(prefix='lk-tests-'))
    # A real SMTP server: trytond sends the portal's mail to it
    _smtp = Controller(Mailbox(), hostname='127.0.0.1', port=_free_port())
    _smtp.start()
    if BACKEND == 'postgresql':
        os.environ['LK_DEMO_POSTGRESQL_URI'] = os.environ.get(
            'LK_TEST_POSTGRESQL_URI', 'postgresql:///')
    lkdemo.write_config(
        _directory / 'trytond.conf', backend=BACKEND, data_dir=_directory,
        database=DATABASE, email_uri=f'smtp://127.0.0.1:{_smtp.port}')


def pytest_unconfigure(config):
    if _smtp:
        _smtp.stop()
    if _directory:
        shutil.rmtree(_directory, ignore_errors=True)


@pytest.fixture(scope='session')
def mailbox():
    "The messages trytond sent during the session"
    return _smtp.handler


@pytest.fixture(scope='session')
def demo_server():
    """The demo database, created like `make demo` does with 10 accounts,
    served over HTTP by config/wsgi.py's application on a free port"""
    from werkzeug.serving import make_server

    name = DATABASE
    lkdemo.create_database(name, accounts=10)
    server = make_server(
        '127.0.0.1', 0, lkdemo.load_application(), threaded=True)
    url = f'http://127.0.0.1:{server.server_port}'
    # The links of the portal's e-mails, known once the port is
    from trytond import config
    config.set('lk_portal', 'url', url)
    config.set('web', 'reset_password_url', f'{url}/reset')
    config.set('web', 'email_validation_url', f'{url}/validate')
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield SimpleNamespace(url=url, database=name)
    server.shutdown()
    thread.join()
    if BACKEND == 'postgresql':
        lkdemo.drop_database(name)


@pytest.fixture(scope='session')
def db(demo_server):
    "Runs its argument with the pool in a committed root transaction"
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    def run(func):
        with Transaction().start(demo_server.database, 0) as transaction:
            result = func(Pool())
            transaction.commit()
            return result
    return run


@pytest.fixture(scope='session')
def new_subscriber(db):
    """A function creating a validated web user, with an access to the
    account of id `account` if given; it returns the user's and the access'
    ids"""
    def create(email, password, account=None, **access):
        def run(pool):
            WebUser = pool.get('web.user')
            Access = pool.get('lk.account.access')
            user, = WebUser.create([{
                        'email': email,
                        'email_valid': True,
                        'password_hash': WebUser.hash_password(password),
                        }])
            if account is None:
                return user.id, None
            record, = Access.create([{
                        'web_user': user.id, 'account': account,
                        'role': 'owner', **access}])
            return user.id, record.id
        return db(run)
    return create
