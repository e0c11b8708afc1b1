# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""What the readings tests need in the demo database (lk_metering): whether
the module is activated, the demo subscriber's three-channel meter, a meter
of another subscriber, and the submission window of an organization set
open or closed for a while. Functions take the `db` fixture."""
import datetime as dt
from contextlib import contextmanager
from decimal import Decimal

SUBSCRIBER = 'abonent1@example.com'


def require_metering(db):
    "Fail unless lk_metering is activated in the demo database"
    def check(pool):
        Module = pool.get('ir.module')
        return bool(Module.search([
                    ('name', '=', 'lk_metering'),
                    ('state', '=', 'activated'),
                    ]))
    assert db(check), "lk_metering is not activated in the demo database"


def _meter(pool, account, channels):
    "A meter of the account with that many channels, created if missing"
    Meter = pool.get('lk.meter')
    Channel = pool.get('lk.meter.channel')
    for meter in Meter.search([
                ('account', '=', account.id), ('state', '=', 'active')]):
        if len(meter.channels) == channels:
            return meter
    defaults = Channel.defaults(account.company)
    codes = {
        1: ['single'], 2: ['day', 'night'],
        3: ['peak', 'half_peak', 'night']}[channels]
    meter, = Meter.create([{
                'company': account.company.id,
                'account': account.id,
                'serial': f'T{account.number}{channels}',
                'service': 'electricity',
                'place': 'kitchen',
                'channels': [('add', [defaults[c].id for c in codes])],
                'digits': 6,
                'decimals': 1,
                'installed_on': dt.date.today() - dt.timedelta(days=400),
                'verification_date': dt.date.today() + dt.timedelta(days=900),
                }])
    return meter


def own_meter(db, channels=3):
    """The id of a meter of the demo subscriber (an owner) with the number
    of channels, its account's id and its channels' ids and names"""
    def find(pool):
        Account = pool.get('lk.account')
        accounts = Account.search([
                ('accesses.web_user.email', '=', SUBSCRIBER),
                ('accesses.role', '=', 'owner'),
                ('accesses.state', '=', 'active'),
                ], order=[('number', 'ASC')])
        Meter = pool.get('lk.meter')
        for account in accounts:
            for meter in Meter.search([
                        ('account', '=', account.id),
                        ('state', '=', 'active')]):
                if len(meter.channels) == channels:
                    break
            else:
                continue
            break
        else:
            meter = _meter(pool, accounts[0], channels)
        return {
            'id': meter.id, 'account': meter.account.id,
            'number': meter.account.number, 'name': meter.rec_name,
            'decimals': meter.decimals,
            'channels': [(c.id, c.name) for c in meter.channels]}
    return db(find)


def other_meter(db):
    "The id of a meter and its account's on an account not the subscriber's"
    def find(pool):
        Account = pool.get('lk.account')
        own = Account.search([('accesses.web_user.email', '=', SUBSCRIBER)])
        account = Account.search([
                ('id', 'not in', [a.id for a in own]),
                ], order=[('number', 'ASC')], limit=1)[0]
        meter = _meter(pool, account, 1)
        return meter.id, account.id
    return db(find)


def next_values(db, meter_id, step=Decimal(1)):
    "Values above the last ones of each channel: {channel id: Decimal}"
    def read(pool):
        Meter = pool.get('lk.meter')
        meter = Meter(meter_id)
        last = Meter.last_readings(meter)
        values = {}
        for channel in meter.channels:
            previous = last[channel.id].value if channel.id in last else 0
            values[channel.id] = (Decimal(previous) + step).quantize(
                Decimal(1).scaleb(-meter.decimals))
        return values
    return db(read)


def _closed_days(today):
    "A window of days of the month that does not hold today"
    if today.day < 27:
        return today.day + 1, 28
    return 1, 5


@contextmanager
def window(db, meter_id, state):
    """The submission window of the meter's organization open every day
    (state 'open') or closed today, refusing readings ('closed'), restored
    afterwards; yields Window.status(meter, today) as root"""
    def set_(pool):
        Meter = pool.get('lk.meter')
        Window = pool.get('lk.meter.window')
        meter = Meter(meter_id)
        windows = Window.search([
                ('company', '=', meter.company.id),
                ('service', 'in', [meter.service, None]),
                ])
        saved = [
            (w.id, w.day_from, w.day_to, w.outside) for w in windows]
        created = []
        if not windows:
            windows = created = Window.create([{
                        'company': meter.company.id,
                        }])
        if state == 'open':
            day_from, day_to, outside = 1, 31, 'refuse'
        else:
            (day_from, day_to), outside = (
                _closed_days(dt.date.today()), 'refuse')
        Window.write(windows, {
                'day_from': day_from, 'day_to': day_to,
                'outside': outside})
        status = Window.status(meter, dt.date.today())
        return saved, [w.id for w in created], status

    saved, created, status = db(set_)
    try:
        yield status
    finally:
        def restore(pool):
            Window = pool.get('lk.meter.window')
            Window.delete(Window.browse(created))
            for id_, day_from, day_to, outside in saved:
                Window.write([Window(id_)], {
                        'day_from': day_from, 'day_to': day_to,
                        'outside': outside})
        db(restore)
