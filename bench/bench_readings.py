# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Benchmark: meter readings submitted through the ORM batch path.

    .venv/bin/python bench/bench_readings.py [--readings 100000]
        [--batch 1000] [--backend sqlite|postgresql]

Creates a throw-away database with the demo's modules and data (the demo
generator `make demo` uses), then submits the readings with
`lk.meter.reading.submit_batch` in batches of --batch readings, one
transaction per batch, dated today above the meter's last accepted
reading so that the validation of every reading runs.  Prints the
throughput and the peak memory.
"""
import argparse
import datetime as dt
import os
import resource
import sys
import tempfile
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
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix='lk-bench-') as directory:
        lkdemo.write_config(
            Path(directory, 'trytond.conf'), backend=args.backend,
            data_dir=directory)
        name = f'lk_bench_{os.getpid()}'
        from trytond.transaction import Transaction
        with Transaction().start(
                None, 0, close=True, autocommit=True) as transaction:
            transaction.database.create(transaction.connection, name)
        try:
            lkdemo._trytond_admin(name)
            lkdemo.generate(name, accounts=args.accounts)
            print(f"{args.backend}: demo with {args.accounts} accounts, "
                f"peak memory {peak_mib():.0f} MiB")
            measure(name, args)
        finally:
            if args.backend == 'postgresql':
                lkdemo.drop_database(name)
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
            Meter = pool.get('lk.meter')
            created = Reading.submit_batch([
                    # above the demo's readings, within 5 digits
                    (Meter(meter_id), {c: 50_000 + d for c in channels},
                        today)
                    for meter_id, channels, d in batch])
            done += len(created)
            transaction.commit()
    duration = time.perf_counter() - started
    print(f"{args.backend}: submitted {done} readings in {duration:.1f} s "
        f"({done / duration:.0f} readings/s) in batches of "
        f"{args.batch} submissions, peak memory {peak_mib():.0f} MiB")


if __name__ == '__main__':
    main()
