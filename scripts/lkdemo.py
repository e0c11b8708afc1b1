# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Create and fill the demo database; used by scripts/demo.py and tests/.

trytond reads its configuration and picks its database backend when it is
first imported: call write_config() before anything imports trytond.
"""
import configparser
import contextlib
import importlib.util
import logging
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / 'config' / 'trytond.conf'
MODULE = 'lk_portal'
# activated with MODULE
MODULES = [MODULE, 'lk_metering', 'lk_billing', 'lk_announcement']
LANGUAGE = 'ru'
logger = logging.getLogger(__name__)


def write_config(path, backend='sqlite', data_dir=None,
        listen='127.0.0.1:8000', database='lk_demo', email_uri=None,
        url=None):
    """Write the demo's trytond.conf from the template and use it from now on

    email_uri is the SMTP server of the outgoing mail (the tests' local one);
    url the portal's address in the links of its e-mails (http://<listen>)
    """
    data_dir = Path(data_dir or Path(path).parent).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(TEMPLATE, encoding='utf-8')
    parser['web']['listen'] = listen
    # web_user's e-mailed links (invitations, password resets, address
    # validations) lead to the portal's pages
    base = url or f'http://{listen}'
    parser['web']['reset_password_url'] = f'{base}/reset'
    parser['web']['email_validation_url'] = f'{base}/validate'
    parser['database']['uri'] = {
        'sqlite': 'sqlite://',
        'postgresql': os.environ.get(
            'LK_DEMO_POSTGRESQL_URI', 'postgresql:///'),
        }[backend]
    parser['database']['path'] = str(data_dir)
    # sao opens the database of its URL (/admin/#lk_demo): no one may list
    parser['database']['list'] = 'False'
    # The demo passwords (admin, demo) are short
    parser['password']['length'] = '4'
    if not parser.has_section('lk_portal'):
        parser.add_section('lk_portal')
    parser['lk_portal']['database'] = database
    parser['lk_portal']['url'] = url or f'http://{listen}'
    if email_uri:
        parser['email']['uri'] = email_uri
    with open(path, 'w', encoding='utf-8') as file:
        file.write("# Written by scripts/lkdemo.py from config/trytond.conf\n")
        parser.write(file)
    os.environ['TRYTOND_CONFIG'] = str(path)
    return Path(path)


def database_ready(name, modules=None):
    """Whether the database exists with the demo's modules (or these of
    them) activated, and not the others"""
    from sql import Table

    from trytond import backend
    from trytond.transaction import Transaction

    modules = modules or MODULES
    if name not in backend.Database().connect().list():
        return False
    module = Table('ir_module')
    with Transaction().start(
            name, 0, readonly=True, close=True) as transaction:
        cursor = transaction.connection.cursor()
        cursor.execute(*module.select(
                module.name, module.state,
                where=module.name.in_(MODULES)))
        states = dict(cursor)
    return all(
        (states.get(m) == 'activated') == (m in modules) for m in MODULES)


def create_database(name, accounts=50, password='admin', modules=None):
    """Create the database with the demo's modules (or these of them) and
    Russian, then the demo data of the activated ones.

    A failed or interrupted creation drops the database again, so that
    database_ready() means "complete"."""
    from trytond.transaction import Transaction

    with Transaction().start(
            None, 0, close=True, autocommit=True) as transaction:
        transaction.database.create(transaction.connection, name)
    try:
        _trytond_admin(name, modules=modules)
        generate(name, accounts=accounts, password=password)
    except BaseException:
        drop_database(name)
        raise


def _trytond_admin(name, modules=None):
    bin_dir = os.path.dirname(sys.executable)
    command = shutil.which('trytond-admin', path=bin_dir) or 'trytond-admin'
    # The admin password is set by generate(): Tryton refuses one equal to
    # the login, so trytond-admin gets a throw-away one.
    with tempfile.NamedTemporaryFile('w', suffix='.txt') as passfile:
        passfile.write(secrets.token_urlsafe() + '\n')
        passfile.flush()
        subprocess.run([
                command, '-c', os.environ['TRYTOND_CONFIG'], '-d', name,
                '-u', *(modules or MODULES), '--activate-dependencies',
                '-l', LANGUAGE,
                '--email', 'admin@example.com'],
            env=dict(os.environ, TRYTONPASSFILE=passfile.name), check=True)


def generate(name, accounts=50, password='admin'):
    """Fill the database with the demo data of lk_base, lk_metering and
    lk_billing, those activated"""
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    Pool(name).init()
    from trytond.modules.lk_base import demo
    from trytond.modules.lk_billing import demo as billing_demo
    from trytond.modules.lk_metering import demo as metering_demo
    with Transaction().start(
            name, 0, context={'language': LANGUAGE}) as transaction:
        activated = {m.name for m in Pool().get('ir.module').search([
                    ('state', '=', 'activated'),
                    ])}
        organizations = demo.generate(accounts=accounts)
        if 'lk_metering' in activated:
            metering_demo.generate(organizations)
        if 'lk_billing' in activated:
            billing_demo.generate(organizations)
        if 'lk_announcement' in activated:
            from trytond.modules.lk_announcement import demo as news_demo
            news_demo.generate(organizations)
        User = Pool().get('res.user')
        admin, = User.search([('login', '=', 'admin')])
        # Written as a hash to skip the password rules
        User.write([admin], {'password_hash': User.hash_password(password)})
        transaction.commit()


def drop_database(name):
    from trytond import backend
    from trytond.transaction import Transaction

    try:
        backend.Database(name).close()
        with Transaction().start(
                None, 0, close=True, autocommit=True) as transaction:
            transaction.database.drop(transaction.connection, name)
    except Exception:
        logger.exception("could not drop database %s", name)


def load_application():
    "config/wsgi.py's WSGI application (config/ is no package)"
    if not (module := sys.modules.get('lk_wsgi')):
        spec = importlib.util.spec_from_file_location(
            'lk_wsgi', ROOT / 'config' / 'wsgi.py')
        module = sys.modules['lk_wsgi'] = importlib.util.module_from_spec(
            spec)
        spec.loader.exec_module(module)
    return module.application


@contextlib.contextmanager
def throwaway_database(backend='sqlite'):
    """A new database with the demo's modules activated and no data, in a
    temporary directory, dropped afterwards; for the benchmarks"""
    with tempfile.TemporaryDirectory(prefix='lk-bench-') as directory:
        write_config(
            Path(directory, 'trytond.conf'), backend=backend,
            data_dir=directory)
        name = f'lk_bench_{os.getpid()}'
        from trytond.transaction import Transaction
        with Transaction().start(
                None, 0, close=True, autocommit=True) as transaction:
            transaction.database.create(transaction.connection, name)
        try:
            _trytond_admin(name)
            yield name
        finally:
            if backend == 'postgresql':
                drop_database(name)
