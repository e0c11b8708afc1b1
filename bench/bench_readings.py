# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Benchmark: meter readings submitted through the ORM batch path and
through the subscriber API.

    .venv/bin/python bench/bench_readings.py [--readings 100000]
        [--batch 1000] [--backend sqlite|postgresql] [--api-readings N]

Creates a throw-away database with the demo's modules and data (the demo
generator `make demo` uses), then submits the readings with
`lk.meter.reading.submit_batch` in batches of --batch readings, one
transaction per batch, dated today above the meter's last accepted
reading so that the validation of every reading runs.  Prints the
throughput and the peak memory.

With --api-readings, one subscriber then owns every demo account and posts
readings to POST /api/v1/meters/{id}/readings, one request per meter and
date, through config/wsgi.py's application in process (werkzeug's test
client: the WSGI stack, routing, sessions, rules and validation, without
the sockets).
"""
import argparse
import datetime as dt
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / 'scripts'))
import lkdemo  # noqa: E402


def peak_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--readings', type=int, default=100_000)
    parser.add_argument('--batch', type=int, default=1000)
    parser.add_argument('--accounts', type=int, default=1000)
    parser.add_argument(
        '--backend', choices=['sqlite', 'postgresql'], default='sqlite')
    parser.add_argument('--api-readings', type=int, default=0)
    args = parser.parse_args()

    with lkdemo.throwaway_database(args.backend) as name:
        lkdemo.generate(name, accounts=args.accounts)
        print(f"{args.backend}: demo with {args.accounts} accounts, "
            f"peak memory {peak_mib():.0f} MiB")
        if args.readings:
            measure(name, args)
        if args.api_readings:
            measure_api(name, args)
    print(f"peak memory {peak_mib():.0f} MiB")


def measure(name, args):
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    pool = Pool(name)
    with Transaction().start(name, 0, readonly=True):
        Meter = pool.get('lk.meter')
        meters = [(m.id, [c.id for c in m.channels])
            for m in Meter.search([('state', '=', 'active')])]
    # every channel of every meter in turn
    today = dt.date.today()
    submissions, count, day = [], 0, 0
    while count < args.readings:
        day += 1
        for meter_id, channels in meters:
            submissions.append((meter_id, channels, day))
            count += len(channels)
            if count >= args.readings:
                break

    started = time.perf_counter()
    done = 0
    for i in range(0, len(submissions), args.batch):
        batch = submissions[i:i + args.batch]
        with Transaction().start(name, 0) as transaction:
            Reading = pool.get('lk.meter.reading')
            created = Reading.submit_batch([
                    # above the demo's readings, within 5 digits
                    (meter_id, {c: 50_000 + d for c in channels}, today)
                    for meter_id, channels, d in batch])
            done += len(created)
            transaction.commit()
    duration = time.perf_counter() - started
    print(f"{args.backend}: submitted {done} readings in {duration:.1f} s "
        f"({done / duration:.0f} readings/s) in batches of "
        f"{args.batch} submissions, peak memory {peak_mib():.0f} MiB")


def measure_api(name, args):
    from werkzeug.test import Client

    from trytond.pool import Pool
    from trytond.transaction import Transaction

    os.environ['LK_PORTAL_DATABASE'] = name
    pool = Pool(name)
    password = 'bench-pass-1'
    with Transaction().start(name, 0) as transaction:
        WebUser = pool.get('web.user')
        Account = pool.get('lk.account')
        Access = pool.get('lk.account.access')
        Meter = pool.get('lk.meter')
        user, = WebUser.create([{
                    'email': 'bench@example.com', 'email_valid': True,
                    'password_hash': WebUser.hash_password(password)}])
        Access.create([{
                    'web_user': user.id, 'account': a.id, 'role': 'owner'}
                for a in Account.search([])])
        meters = [(m.id, [c.id for c in m.channels])
            for m in Meter.search([('state', '=', 'active')])]
        transaction.commit()

    client = Client(lkdemo.load_application())
    token = client.post('/api/v1/auth/token', json={
            'email': 'bench@example.com', 'password': password}).json['token']
    headers = {'Authorization': f'Bearer {token}'}
    started = time.perf_counter()
    done = requests = 0
    value = 60_000
    while done < args.api_readings:
        value += 1
        for meter_id, channels in meters:
            response = client.post(
                f'/api/v1/meters/{meter_id}/readings', headers=headers,
                json={'readings': [
                        {'channel_id': c, 'value': str(value)}
                        for c in channels]})
            assert response.status_code == 201, response.get_data()
            requests += 1
            done += len(channels)
            if done >= args.api_readings:
                break
    duration = time.perf_counter() - started
    print(f"{args.backend}: API took {done} readings in {requests} requests "
        f"in {duration:.1f} s ({done / duration:.0f} readings/s, "
        f"{requests / duration:.0f} requests/s), "
        f"peak memory {peak_mib():.0f} MiB")


if __name__ == '__main__':
    main()
