# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Benchmark: demo data at scale and what staff record rules cost.

    .venv/bin/python bench/bench_accounts.py [--accounts 100000]
        [--backend sqlite|postgresql]

Creates a throw-away database with lk_base, generates the demo data with the
given number of accounts (the generator `make demo` uses), then, as the staff
user `bizuser` (record rules on) and as the operator `admin`, times a count of
the accounts and the first page of the accounts list (80 rows, rec_name and
address as sao shows them). Prints the timings and the peak memory.
"""
import argparse
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / 'scripts'))
import lkdemo  # noqa: E402


def timed(function, repeat=5):
    durations = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        durations.append(time.perf_counter() - started)
    return result, statistics.median(durations)


def peak_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--accounts', type=int, default=100_000)
    parser.add_argument(
        '--backend', choices=['sqlite', 'postgresql'], default='sqlite')
    args = parser.parse_args()

    with lkdemo.throwaway_database(args.backend) as name:
        started = time.perf_counter()
        lkdemo.generate(name, accounts=args.accounts)
        duration = time.perf_counter() - started
        print(f"{args.backend}: generated {args.accounts} accounts "
            f"in {duration:.1f} s "
            f"({args.accounts / duration:.0f} accounts/s), "
            f"peak memory {peak_mib():.0f} MiB")
        measure(name)
    print(f"peak memory {peak_mib():.0f} MiB")


def measure(name):
    from trytond.pool import Pool
    from trytond.transaction import Transaction, check_access

    pool = Pool(name)
    with Transaction().start(name, 0, readonly=True):
        User = pool.get('res.user')
        Account = pool.get('lk.account')
        users = {u.login: u.id for u in User.search([])}
        total = Account.search_count([])
    for login in ['bizuser', 'admin']:
        with Transaction().start(name, users[login], readonly=True), \
                check_access():
            with Transaction().set_context(User.get_preferences(
                        context_only=True)):
                count, count_time = timed(lambda: Account.search_count([]))

                def first_page():
                    accounts = Account.search([], limit=80)
                    return [(a.rec_name, a.address) for a in accounts]
                rows, page_time = timed(first_page)
        print(f"{login}: sees {count} of {total} accounts; "
            f"count {count_time * 1000:.1f} ms, list page of {len(rows)} "
            f"{page_time * 1000:.1f} ms (median of 5)")


if __name__ == '__main__':
    main()
