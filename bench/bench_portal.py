# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Benchmark: the portal's hot path under a multi-process WSGI server.

    .venv/bin/python bench/bench_portal.py [--accounts 50]
        [--database lk_bench_portal] [--recreate] [--port 8765]
        [--workers 2] [--duration 10] [--concurrency 1,8]
        [--load wrk|python]

Creates (or reuses) a PostgreSQL database with the demo data of `make demo`
and --accounts accounts (DEMO_SIZE; 100000 for the note), serves
config/wsgi.py's application with gunicorn (--workers sync workers), signs
the demo subscriber in (a portal session and an API token) and runs
loopback load on the anonymous sign-in page, the signed-in portal home,
an account page, the readings page and GET /api/v1/accounts (with
lk_billing: /debt, an account's history and GET /api/v1/debt), at each
concurrency, with wrk (Debian's, with a Lua report of the percentiles) if
installed, else a Python generator (threads, http.client keep-alive).
Prints a table of requests per second, p50 and p95 latency and the
answers other than 200 (which count as errors: the run is then worth
nothing).

For a before/after comparison, --checkout DIR serves another version of
lk on the same database: DIR holds its addons/ and config/, e.g.
`git archive HEAD addons config | tar -x -C DIR`; its modules are found
before the installed ones.

The database stays for the next run (--recreate drops it first; dropdb
to remove it). PostgreSQL on the local socket, or LK_DEMO_POSTGRESQL_URI.
"""
import argparse
import http.client
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / 'scripts'))
import lkdemo  # noqa: E402

SUBSCRIBER = ('abonent1@example.com', 'demo')
WRK_REPORT = """
done = function(summary, latency, requests)
  io.write(string.format(
    "LK %d %d %d %d %d %d %d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(95),
    summary.errors.status, summary.errors.connect + summary.errors.read
      + summary.errors.write + summary.errors.timeout,
    latency.max))
end
"""


def prepare(args, directory, modules=None):
    """The configuration and the database with the demo's modules (or these
    of them), created when missing"""
    config = lkdemo.write_config(
        Path(directory, 'trytond.conf'), backend='postgresql',
        data_dir=directory, listen=f'127.0.0.1:{args.port}',
        database=args.database)
    if args.recreate:
        lkdemo.drop_database(args.database)
    if lkdemo.database_ready(args.database, modules):
        print(f"Using the database {args.database}", flush=True)
    else:
        from trytond import backend
        if args.database in backend.Database().connect().list():
            sys.exit(f"{args.database} exists with other modules: "
                "--recreate or dropdb it")
        print(f"Creating {args.database} with {args.accounts} accounts…",
            flush=True)
        started = time.monotonic()
        lkdemo.create_database(
            args.database, accounts=args.accounts, modules=modules)
        print(f"Created in {time.monotonic() - started:.0f} s", flush=True)
    from trytond import backend
    backend.Database(args.database).close()
    return config


def serve(args, config, directory):
    "gunicorn serving config/wsgi.py, ready"
    gunicorn = shutil.which(
        'gunicorn', path=os.path.dirname(sys.executable)) or 'gunicorn'
    env = dict(os.environ, TRYTOND_CONFIG=str(config),
        TRYTOND_DATABASE_NAMES=args.database)
    root = ROOT
    if args.checkout:
        root = Path(args.checkout).resolve()
        # the checkout's modules before the installed ones
        Path(directory, 'sitecustomize.py').write_text(
            "import trytond.modules\n"
            f"trytond.modules.__path__.insert(0, {str(root / 'addons')!r})\n")
        env['PYTHONPATH'] = os.pathsep.join(
            filter(None, [directory, env.get('PYTHONPATH')]))
    process = subprocess.Popen([
            gunicorn, '--workers', str(args.workers),
            '--worker-class', 'sync', '--bind', f'127.0.0.1:{args.port}',
            '--chdir', str(root), '--log-level', 'warning',
            'config.wsgi:application'], env=env, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit("gunicorn stopped")
        try:
            status, _, _ = request(args.port, 'GET', '/login')
            if status == 200:
                return process
        except OSError:
            pass
        time.sleep(0.5)
    stop(process)
    sys.exit("gunicorn did not answer")


def stop(process):
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(30)


def request(port, method, path, body=None, headers=None):
    connection = http.client.HTTPConnection('127.0.0.1', port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.getheaders(), response.read()
    finally:
        connection.close()


def cookies(headers):
    found = {}
    for name, value in headers:
        if name.lower() == 'set-cookie':
            key, _, rest = value.partition('=')
            found[key] = rest.split(';', 1)[0]
    return found


def sign_in(port):
    "The subscriber's portal cookie header and API authorization header"
    status, headers, body = request(port, 'GET', '/login')
    csrf = cookies(headers)['lk_csrf']
    token = re.search(
        rb'name="csrf_token" value="([^"]+)"', body).group(1).decode()
    form = urllib.parse.urlencode({
            'email': SUBSCRIBER[0], 'password': SUBSCRIBER[1],
            'csrf_token': token})
    status, headers, _ = request(port, 'POST', '/login', form, {
            'Content-Type': 'application/x-www-form-urlencoded',
            'Cookie': f'lk_csrf={csrf}'})
    assert status == 303, status
    cookie = f"lk_session={cookies(headers)['lk_session']}"
    status, _, body = request(
        port, 'POST', '/api/v1/auth/token', json.dumps({
                'email': SUBSCRIBER[0], 'password': SUBSCRIBER[1]}),
        {'Content-Type': 'application/json'})
    assert status == 201, status
    authorization = f"Bearer {json.loads(body)['token']}"
    return cookie, authorization


def targets(port, cookie, authorization):
    "(name, path, headers) of the measured requests"
    api = {'Authorization': authorization}
    status, _, body = request(port, 'GET', '/api/v1/accounts', headers=api)
    assert status == 200, status
    account = json.loads(body)[0]['id']
    page = {'Cookie': cookie}
    measured = [
        ("anonymous /login", '/login', {}),
        ("home /", '/', page),
        ("account page", f'/accounts/{account}', page),
        ("readings /readings", '/readings', page),
        ("GET /api/v1/accounts", '/api/v1/accounts', api),
        ]
    status, _, _ = request(port, 'GET', '/api/v1/debt', headers=api)
    if status == 200:
        # lk_billing is activated
        measured += [
            ("debt /debt", '/debt', page),
            ("history page", f'/accounts/{account}/history', page),
            ("GET /api/v1/debt", '/api/v1/debt', api),
            ]
    return measured


def load_wrk(port, path, headers, concurrency, duration, script):
    command = [
        'wrk', '-t', str(min(concurrency, 2)), '-c', str(concurrency),
        '-d', f'{duration}s', '-s', script, '--timeout', '30s']
    for name, value in headers.items():
        command += ['-H', f'{name}: {value}']
    output = subprocess.run(
        command + [f'http://127.0.0.1:{port}{path}'],
        capture_output=True, text=True, check=True).stdout
    line = next(x for x in output.splitlines() if x.startswith('LK '))
    count, micros, p50, p95, bad, failed, worst = map(int, line.split()[1:])
    return {
        'rps': count / (micros / 1e6), 'p50': p50 / 1000, 'p95': p95 / 1000,
        'errors': bad + failed, 'max': worst / 1000, 'count': count}


def load_python(port, path, headers, concurrency, duration, script=None):
    "Each thread keeps its connection alive and records its latencies"
    latencies, errors = [], [0]
    lock = threading.Lock()
    deadline = time.perf_counter() + duration

    def worker():
        connection = http.client.HTTPConnection('127.0.0.1', port, timeout=30)
        mine, bad = [], 0
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            try:
                connection.request('GET', path, headers=headers)
                response = connection.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                connection.close()
                status = 0
            mine.append(time.perf_counter() - started)
            bad += status != 200
        connection.close()
        with lock:
            latencies.extend(mine)
            errors[0] += bad

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    quantiles = statistics.quantiles(latencies, n=100) \
        if len(latencies) > 1 else latencies * 99
    return {
        'rps': len(latencies) / elapsed, 'p50': quantiles[49] * 1000,
        'p95': quantiles[94] * 1000, 'errors': errors[0],
        'max': latencies[-1] * 1000, 'count': len(latencies)}


def add_arguments(parser, database='lk_bench_portal', concurrency='1,8'):
    "The options of the database, the server and the load"
    parser.add_argument('--accounts', type=int, default=int(
            os.environ.get('DEMO_SIZE') or 50))
    parser.add_argument('--database', default=database)
    parser.add_argument('--recreate', action='store_true')
    parser.add_argument('--port', type=int, default=8765)
    parser.add_argument('--workers', type=int, default=2)
    parser.add_argument('--duration', type=int, default=10)
    parser.add_argument('--concurrency', default=concurrency)
    parser.add_argument('--only', help="measure the targets whose name "
        "contains this")
    parser.add_argument('--checkout', help="serve the addons/ and config/ "
        "of this directory (another version of lk)")
    parser.add_argument(
        '--load', choices=['wrk', 'python'],
        default='wrk' if shutil.which('wrk') else 'python')


def run(args, config, directory):
    """Serve the database of config, sign in and load each target at each
    concurrency: [(name, concurrency, result)]"""
    concurrencies = [int(c) for c in args.concurrency.split(',')]
    script = Path(directory, 'report.lua')
    script.write_text(WRK_REPORT)
    load = load_wrk if args.load == 'wrk' else load_python
    process = serve(args, config, directory)
    rows = []
    try:
        cookie, authorization = sign_in(args.port)
        for name, path, headers in targets(args.port, cookie, authorization):
            if args.only and args.only not in name:
                continue
            # warm both workers' caches
            load_python(args.port, path, headers, 4, 1)
            for concurrency in concurrencies:
                result = load(
                    args.port, path, headers, concurrency, args.duration,
                    str(script))
                rows.append((name, concurrency, result))
                print(f"{name} c={concurrency}: {result['rps']:.0f}/s "
                    f"p50 {result['p50']:.1f} ms p95 "
                    f"{result['p95']:.1f} ms errors {result['errors']}",
                    flush=True)
    finally:
        stop(process)
    return rows


def describe(args):
    "What was measured, how"
    return (f"{args.checkout or ROOT}, gunicorn {args.workers} sync workers, "
        f"{args.load}, {args.duration} s each, {os.cpu_count()} CPUs")


def main():
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix='lk-bench-portal-') as directory:
        config = prepare(args, directory)
        rows = run(args, config, directory)

    print(f"\n{args.database} ({args.accounts} accounts if created), "
        f"{describe(args)}\n")
    print("| request | concurrency | req/s | p50 ms | p95 ms | errors |")
    print("|---|---|---|---|---|---|")
    for name, concurrency, result in rows:
        print(f"| {name} | {concurrency} | {result['rps']:.0f} "
            f"| {result['p50']:.1f} | {result['p95']:.1f} "
            f"| {result['errors']} |")
    if any(r['errors'] for _, _, r in rows):
        sys.exit("some requests failed")


if __name__ == '__main__':
    main()
