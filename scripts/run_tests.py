# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Run lk's tests (run by `make test`).

Every addon's Tryton tests run with unittest on SQLite and on PostgreSQL, each
backend in its own process (trytond picks its backend when imported); then
the cross-module tests under tests/ run with pytest on SQLite, and the
tenancy probes (tests/test_tenancy_probe.py) again on PostgreSQL. The last
line totals everything: "N passed, N failed, N skipped"; the exit status is
non-zero when a test failed or none ran.

    scripts/run_tests.py [--backend sqlite|postgresql] [--module lk_base]
        [-k PATTERN] [--no-cross | --cross-only] [-v]

Databases with the modules activated are cached (DB_CACHE) under
var/db_cache/<backend>/<hash of the addons' sources>, so only the first run
after a change of an addon (tests excepted) pays for the activation.
Environment: LK_TEST_POSTGRESQL_URI (default postgresql:///).
"""
import argparse
import fnmatch
import hashlib
import importlib
import importlib.metadata
import json
import os
import pkgutil
import shutil
import subprocess
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BACKENDS = ['sqlite', 'postgresql']


def addons():
    return sorted(
        p.name for p in (ROOT / 'addons').iterdir()
        if (p / 'tryton.cfg').is_file())


@cache
def source_hash():
    "Hash of what an activated database depends on: addons and trytond"
    digest = hashlib.sha256()
    for path in sorted((ROOT / 'addons').rglob('*')):
        parts = path.relative_to(ROOT / 'addons').parts
        if (path.is_file() and 'tests' not in parts
                and '__pycache__' not in parts):
            digest.update(str(path.relative_to(ROOT)).encode())
            digest.update(path.read_bytes())
    for dist in sorted(
            f"{d.metadata['Name']}=={d.version}"
            for d in importlib.metadata.distributions()
            if d.metadata['Name'].lower().startswith('trytond')):
        digest.update(dist.encode())
    return digest.hexdigest()[:16]


def clean_env():
    "This environment without any database setting a developer may have"
    env = {
        k: v for k, v in os.environ.items()
        if k not in {'TRYTOND_CONFIG', 'DB_NAME', 'DB_CACHE'}
        and not k.startswith('TRYTOND_DATABASE')}
    env.update(TRYTOND_EMAIL__FROM='lk-tests@example.com', TEST_NETWORK='0')
    return env


def backend_env(backend):
    env = clean_env()
    cache = ROOT / 'var' / 'db_cache' / backend
    if cache.is_dir():
        for old in cache.iterdir():
            if old.name != source_hash():
                shutil.rmtree(old, ignore_errors=True)
    env['DB_CACHE'] = str(cache / source_hash())
    if backend == 'sqlite':
        env.update(TRYTOND_DATABASE__URI='sqlite://', DB_NAME=':memory:')
    else:
        env.update(
            TRYTOND_DATABASE__URI=os.environ.get(
                'LK_TEST_POSTGRESQL_URI', 'postgresql:///'),
            # one database per run: two runs at once must not collide
            DB_NAME=f'test_lk_{os.getpid()}')
    return env


def postgresql_error(uri):
    import psycopg
    try:
        psycopg.connect(uri, dbname='template1', connect_timeout=5).close()
    except psycopg.Error as e:
        return str(e).strip()


def run_backend(backend, args):
    print(f"\n=== {backend}: {', '.join(args.module)}", flush=True)
    env = backend_env(backend)
    if backend == 'postgresql' and (
            error := postgresql_error(env['TRYTOND_DATABASE__URI'])):
        print(f"cannot connect to PostgreSQL: {error}\n"
            "Start it, set LK_TEST_POSTGRESQL_URI or use --backend sqlite")
        return {'passed': 0, 'failed': 1, 'skipped': 0}
    with tempfile.TemporaryDirectory() as tmp:
        result = Path(tmp, 'result.json')
        command = [sys.executable, __file__, '--worker', str(result)]
        for module in args.module:
            command += ['--module', module]
        for pattern in args.k:
            command += ['-k', pattern]
        command += ['-v'] * args.verbose
        code = subprocess.call(command, env=env, cwd=ROOT)
        if not result.exists():
            print(f"{backend}: the test process ended with {code}")
            return {'passed': 0, 'failed': 1, 'skipped': 0}
        return json.loads(result.read_text())


def run_cross(args, backend='sqlite', paths=('tests',)):
    """Run pytest on the cross-module tests, their demo database on the
    backend (conftest.py's LK_TEST_BACKEND)"""
    print(f"\n=== {' '.join(paths)} (pytest, {backend})", flush=True)
    if not any((ROOT / 'tests').glob('test_*.py')):
        print("no cross-module tests")
        return {'passed': 0, 'failed': 0, 'skipped': 0}
    env = clean_env()
    env['LK_TEST_BACKEND'] = backend
    if backend == 'postgresql' and (
            error := postgresql_error(os.environ.get(
                    'LK_TEST_POSTGRESQL_URI', 'postgresql:///'))):
        print(f"cannot connect to PostgreSQL: {error}")
        return {'passed': 0, 'failed': 1, 'skipped': 0}
    with tempfile.TemporaryDirectory() as tmp:
        junit = Path(tmp, 'junit.xml')
        command = [
            sys.executable, '-m', 'pytest', *paths,
            '-p', 'no:cacheprovider', f'--junitxml={junit}',
            '-v' if args.verbose else '-q']
        if args.k:
            command += ['-k', ' or '.join(args.k)]
        code = subprocess.call(command, env=env, cwd=ROOT)
        if code == 5 and args.k:  # -k selected nothing
            return {'passed': 0, 'failed': 0, 'skipped': 0}
        if not junit.exists():
            print(f"pytest ended with {code} without a report")
            return {'passed': 0, 'failed': 1, 'skipped': 0}
        total = {'tests': 0, 'failures': 0, 'errors': 0, 'skipped': 0}
        for suite in ET.parse(junit).getroot().iter('testsuite'):
            for key in total:
                total[key] += int(suite.get(key, 0))
    failed = total['failures'] + total['errors']
    if code and not failed:  # e.g. nothing collected, internal error
        failed = 1
    return {
        'passed': total['tests'] - total['failures'] - total['errors']
        - total['skipped'],
        'failed': failed,
        'skipped': total['skipped'],
        }


def summary(counts):
    return ("{passed} passed, {failed} failed, {skipped} skipped"
        .format(**counts))


def main():
    parser = argparse.ArgumentParser(
        description="Run every lk test and total the results.")
    parser.add_argument(
        '--backend', action='append', choices=BACKENDS,
        help="only this backend for the addons' tests (repeatable)")
    parser.add_argument(
        '--module', action='append',
        help="only this addon, e.g. lk_base (repeatable); "
        "implies --no-cross")
    parser.add_argument(
        '-k', action='append', default=[], metavar='PATTERN',
        help="only tests whose id contains PATTERN (repeatable)")
    parser.add_argument(
        '--no-cross', action='store_true', help="skip the tests under tests/")
    parser.add_argument(
        '--cross-only', action='store_true',
        help="only the tests under tests/")
    parser.add_argument('-v', '--verbose', action='count', default=0)
    parser.add_argument('--worker', metavar='RESULT', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args)

    results = {}
    if not args.cross_only:
        cross = not (args.module or args.no_cross)
        args.module = args.module or addons()
        for backend in args.backend or BACKENDS:
            results[backend] = run_backend(backend, args)
    else:
        cross = True
    if cross:
        results['tests'] = run_cross(args)
        # The tenancy probes walk the ORM: on each database
        if 'postgresql' in (args.backend or BACKENDS):
            results['tests (postgresql)'] = run_cross(
                args, 'postgresql', ['tests/test_tenancy_probe.py'])

    print()
    for name, counts in results.items():
        print(f"{name}: {summary(counts)}")
    total = {
        key: sum(counts[key] for counts in results.values())
        for key in ['passed', 'failed', 'skipped']}
    if not total['passed'] + total['failed']:
        print("no test ran")
    print(summary(total))
    return 1 if total['failed'] or not total['passed'] else 0


def worker(args):
    "Run the addons' tests in this process, whose environment is set"
    class Result(unittest.TextTestResult):
        passed = 0

        def addSuccess(self, test):
            super().addSuccess(test)
            self.passed += 1

    loader = unittest.TestLoader()
    suite = unittest.TestSuite()
    for module in args.module:
        package = f'trytond.modules.{module}.tests'
        try:
            names = [
                f'{package}.{info.name}' for info in pkgutil.iter_modules(
                    importlib.import_module(package).__path__)
                if info.name.startswith('test')]
        except Exception:
            names = [package]  # unittest turns the error into a failed test
        suite.addTests(loader.loadTestsFromNames(names))
    if args.k:
        suite = unittest.TestSuite(
            t for t in _flatten(suite)
            if type(t).__name__ == '_FailedTest'
            or any(fnmatch.fnmatchcase(t.id(), p if '*' in p else f'*{p}*')
                for p in args.k))

    if not os.environ['DB_NAME'].startswith(':'):
        # A database left by an interrupted run would be reused as is
        from trytond.tests.test_tryton import drop_db
        drop_db()
    result = unittest.TextTestRunner(
        resultclass=Result, verbosity=1 + args.verbose).run(suite)
    Path(args.worker).write_text(json.dumps({
                'passed': result.passed + len(result.expectedFailures),
                'failed': (len(result.failures) + len(result.errors)
                    + len(result.unexpectedSuccesses)),
                'skipped': len(result.skipped),
                }))


def _flatten(suite):
    for test in suite:
        if isinstance(test, unittest.TestSuite):
            yield from _flatten(test)
        else:
            yield test


if __name__ == '__main__':
    sys.exit(main())
