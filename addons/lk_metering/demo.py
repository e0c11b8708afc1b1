# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Demo data of meters and readings, after lk_base's (scripts/lkdemo.py).

Call `generate(organizations)` with what lk_base's `demo.generate()` returned,
inside the same transaction of user 0.
"""
import datetime as dt
import random
from decimal import Decimal
from types import SimpleNamespace

from trytond.modules.lk_base.demo import (
    SUBSCRIBER, bulk_available, bulk_create)
from trytond.pool import Pool
from trytond.transaction import Transaction

BATCH = 1000
WATER_PLACES = ["кухня", "ванная", "санузел"]


def _months_back(today, count):
    "The reading dates: the 22nd of the count months before this one"
    first = today.replace(day=1)
    dates = []
    for _ in range(count):
        first = (first - dt.timedelta(days=1)).replace(day=1)
        dates.append(first.replace(day=22))
    return list(reversed(dates))


def _bulk_meters(Meter, values, channels):
    """The meters of values inserted with bulk_create, as the readings
    below read them: id, company, decimals and channels in their order"""
    by_id = {c.id: c for c in channels.values()}
    ids = bulk_create(Meter, values)
    return [SimpleNamespace(
            id=id_, company=SimpleNamespace(id=v['company']),
            decimals=v['decimals'],
            channels=sorted(
                (by_id[c] for c in v['channels'][0][1]),
                key=lambda c: (c.sequence, c.id)))
        for id_, v in zip(ids, values)]


def _account_ids(organization):
    "The ids of the organization's accounts in lk.account's order"
    pool = Pool()
    Account = pool.get('lk.account')
    table = Account.__table__()
    cursor = Transaction().connection.cursor()
    cursor.execute(*table.select(
            table.id, where=table.company == organization.id,
            order_by=[table.number.asc, table.id.asc]))
    return [i for i, in cursor]


def generate(organizations, seed=1, bulk=None):
    """Create channels, windows, meters and a year of accepted readings

    bulk inserts the meters and readings with lk_base's bulk_create(), by
    default where the database allows it (PostgreSQL); the data are the
    same."""
    pool = Pool()
    Date = pool.get('ir.date')
    Channel = pool.get('lk.meter.channel')
    Window = pool.get('lk.meter.window')
    Meter = pool.get('lk.meter')
    Account = pool.get('lk.account')
    Access = pool.get('lk.account.access')
    Reading = pool.get('lk.meter.reading')

    rng = random.Random(seed)
    bulk = bulk_available(bulk)
    today = Date.today()
    dates = _months_back(today, 12)
    subscriber_accounts = {a.account.id for a in Access.search([
                ('web_user.email', '=', SUBSCRIBER)])}

    # Open every day so that the demo takes a reading whenever it is tried
    Window.create([{
                'company': o.id,
                'day_from': 1,
                'day_to': 31,
                'outside': 'next_period',
                'jump_factor': Decimal(3),
                } for o in organizations])

    meters, usage = [], []
    for index, organization in enumerate(organizations):
        channels = Channel.defaults(organization)
        electricity = index == 2
        if bulk:
            # ids only: instances of many thousand records cost quadratic
            # time (ModelStorage.__init__ checks every id of the list)
            accounts = [
                SimpleNamespace(id=i) for i in _account_ids(organization)]
        else:
            accounts = Account.search([('company', '=', organization.id)])
        values = []
        for account in accounts:
            def add(service, codes, monthly, place=None, digits=5):
                serial = str(rng.randrange(10_000_000, 99_999_999))
                values.append({
                        'company': organization.id,
                        'account': account.id,
                        'serial': serial,
                        'service': service,
                        'place': place,
                        'digits': digits,
                        'decimals': 1 if service == 'electricity' else 3,
                        'channels': [
                            ('add', [channels[c].id for c in codes])],
                        'installed_on': dates[0] - dt.timedelta(
                            days=rng.randrange(30, 2000)),
                        'verification_date': today + dt.timedelta(
                            days=rng.randrange(5, 6 * 365)),
                        })
                usage.append([
                        monthly[i % len(monthly)] * rng.uniform(0.7, 1.3)
                        for i in range(len(codes))])
            three_zones = account.id in subscriber_accounts
            if electricity or three_zones:
                if three_zones:
                    add('electricity', ['peak', 'half_peak', 'night'],
                        [60, 110, 90], digits=6)
                else:
                    add('electricity', rng.choice(
                            [['single'], ['day', 'night']]),
                        [150], digits=6)
                if electricity:
                    continue
            place = rng.choice(WATER_PLACES)
            add('cold_water', ['single'], [4], place=place)
            if rng.random() < 0.7 or three_zones:
                add('hot_water', ['single'], [2.5], place=place)
        for i in range(0, len(values), BATCH):
            if bulk:
                meters.extend(_bulk_meters(
                        Meter, values[i:i + BATCH], channels))
            else:
                meters.extend(Meter.create(values[i:i + BATCH]))

    create = (lambda v: bulk_create(Reading, v)) if bulk else Reading.create
    readings = []
    for meter, monthly in zip(meters, usage):
        for channel, average in zip(meter.channels, monthly):
            value = Decimal(rng.randrange(100, 5000))
            step = Decimal(1).scaleb(-meter.decimals)
            for date in dates:
                value += Decimal(
                    str(round(average * rng.uniform(0.6, 1.4), 1)))
                readings.append({
                        'company': meter.company.id,
                        'meter': meter.id,
                        'channel': channel.id,
                        'date': date,
                        'period': date.replace(day=1),
                        'value': value.quantize(step),
                        'source': rng.choice(['portal', 'portal', 'api']),
                        'state': 'accepted',
                        'kind': 'regular',
                        })
            if len(readings) >= BATCH:
                create(readings)
                readings = []
    if readings:
        create(readings)
    if bulk:
        # the planner's statistics (see lk_base's demo)
        Transaction().connection.cursor().execute(
            'ANALYZE "lk_meter", "lk_meter-lk_meter_channel", '
            '"lk_meter_reading"')
    return meters
