# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Shared fixtures of the cross-module tests.

trytond reads its configuration once per process, when first imported: the
whole pytest session uses one written here, in a temporary directory that
also holds the SQLite databases. Do not import trytond before
pytest_configure has run (i.e. not at the top of a conftest).
"""
import shutil
import sys
import tempfile
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / 'scripts'))
import lkdemo  # noqa: E402

_directory = None


def pytest_configure(config):
    global _directory
    _directory = Path(tempfile.mkdtemp(prefix='lk-tests-'))
    lkdemo.write_config(
        _directory / 'trytond.conf', data_dir=_directory, database='lk_test')


def pytest_unconfigure(config):
    if _directory:
        shutil.rmtree(_directory, ignore_errors=True)


@pytest.fixture(scope='session')
def demo_server():
    """The demo database, created like `make demo` does with 10 accounts,
    served over HTTP by config/wsgi.py's application on a free port"""
    from werkzeug.serving import make_server

    name = 'lk_test'
    lkdemo.create_database(name, accounts=10)
    server = make_server(
        '127.0.0.1', 0, lkdemo.load_application(), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield SimpleNamespace(
        url=f'http://127.0.0.1:{server.server_port}', database=name)
    server.shutdown()
    thread.join()
