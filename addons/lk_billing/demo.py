# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Demo data of services, charges, payments received and balances, after
lk_base's and lk_metering's (scripts/lkdemo.py).

Call `generate(organizations)` with what lk_base's `demo.generate()` returned,
inside the same transaction of user 0. The energy supplier's electricity is
billed from lk_metering's demo readings when lk_metering is activated.

24 months per account: the charges of each month are paid in the next one
(now and then a month is skipped and paid later), so the debt of an account
is usually its last month's charges. The stories: the demo subscriber has a
debt on both accounts and an online payment in transit; an account of the
housing company pays nothing for ten months (a large debt, with пени);
another paid far too much (переплата); the subscriber's hot water has a
recalculation."""
import datetime as dt
import random
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from types import SimpleNamespace

from trytond.modules.lk_base.demo import (
    SUBSCRIBER, bulk_available, bulk_create)
from trytond.pool import Pool
from trytond.transaction import Transaction

from .period import previous_period

BATCH = 1000
MONTHS = 24
CENT = Decimal('0.01')
MILLI = Decimal('0.001')

# code, name, unit, kind, tariff
HOUSING_SERVICES = [
    ('maintenance', "Содержание жилого помещения", "м²", 'housing',
        Decimal('28.50')),
    ('cold_water', "Холодное водоснабжение", "м³", 'resource',
        Decimal('48.12')),
    ('hot_water', "Горячее водоснабжение", "м³", 'resource',
        Decimal('235.45')),
    ('sewerage', "Водоотведение", "м³", 'resource', Decimal('39.80')),
    ('heating', "Отопление", "Гкал", 'resource', Decimal('2487.38')),
    ('common_electricity', "Электроэнергия на содержание общего имущества",
        "кВт·ч", 'housing', Decimal('5.87')),
    ]
ELECTRICITY_SERVICES = [
    ('electricity_single', "Электроэнергия", "кВт·ч", 'resource',
        Decimal('6.57')),
    ('electricity_day', "Электроэнергия, дневная зона", "кВт·ч",
        'resource', Decimal('7.52')),
    ('electricity_night', "Электроэнергия, ночная зона", "кВт·ч",
        'resource', Decimal('3.25')),
    ('electricity_peak', "Электроэнергия, пиковая зона", "кВт·ч",
        'resource', Decimal('8.40')),
    ('electricity_half_peak', "Электроэнергия, полупиковая зона", "кВт·ч",
        'resource', Decimal('6.57')),
    ]
CHANNEL_NAMES = {
    'day': "день", 'night': "ночь", 'peak': "пик", 'half_peak': "полупик"}
# monthly norms per resident (m³), heat per m² (Gcal, paid over 12 months),
# common electricity per m² (kWh)
NORMS = {
    'cold_water': Decimal('4.90'),
    'hot_water': Decimal('3.50'),
    'heating': Decimal('0.0130'),
    'common_electricity': Decimal('0.55'),
    }
RAISING = Decimal('1.50')
RECALCULATION_REASON = (
    "Горячая вода не подавалась с 12 по 26 число (ремонт теплосети)")
PENALTY_DETAILS = "1/300 ключевой ставки ЦБ РФ за каждый день просрочки"


def money(value):
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def format_number(value, places):
    "«1 234,567»: Russian digit grouping with a non-breaking space"
    text = f'{value:,.{places}f}'
    return text.replace(',', '\u00a0').replace('.', ',')


def _accounts(organization):
    "The organization's accounts with their area and residents, by number"
    pool = Pool()
    Account = pool.get('lk.account')
    table = Account.__table__()
    cursor = Transaction().connection.cursor()
    cursor.execute(*table.select(
            table.id, table.number, table.area, table.residents,
            where=table.company == organization.id,
            order_by=[table.number.asc, table.id.asc]))
    return [SimpleNamespace(
            id=id_, number=number, area=Decimal(area or 50),
            residents=residents or 1)
        for id_, number, area, residents in cursor]


def _consumption(organization, periods):
    """The metered consumption of the organization's accounts from
    lk_metering's accepted readings: {account id: {key: {period: (volume,
    details)}}} with key the service for water, the channel's code for
    electricity; {} without lk_metering"""
    pool = Pool()
    try:
        Meter = pool.get('lk.meter')
        Reading = pool.get('lk.meter.reading')
        Channel = pool.get('lk.meter.channel')
    except KeyError:
        return {}
    meter = Meter.__table__()
    reading = Reading.__table__()
    channel = Channel.__table__()
    cursor = Transaction().connection.cursor()
    cursor.execute(*reading.join(
            meter, condition=reading.meter == meter.id
            ).join(channel, condition=reading.channel == channel.id
            ).select(
            meter.account, meter.service, meter.serial, meter.decimals,
            channel.code, reading.period, reading.value,
            where=(meter.company == organization.id)
            & reading.state.in_(['accepted', 'exported']),
            order_by=[meter.id, channel.id, reading.date, reading.id]))
    result = defaultdict(lambda: defaultdict(dict))
    previous = None
    for account, service, serial, decimals, code, period, value in cursor:
        if isinstance(period, str):
            period = dt.date.fromisoformat(period)
        value = Decimal(value)
        key = service if service != 'electricity' else code
        if previous and previous[0] == (account, serial, code):
            volume = value - previous[1]
            if volume >= 0 and period in periods:
                zone = CHANNEL_NAMES.get(code)
                zone = f' ({zone})' if zone else ''
                result[account][key][period] = (
                    volume.quantize(MILLI), f'ПУ № {serial}{zone}: '
                    f'{format_number(previous[1], decimals)} → '
                    f'{format_number(value, decimals)}')
        previous = ((account, serial, code), value)
    return result


def _services(organization, definitions):
    pool = Pool()
    Service = pool.get('lk.service')
    services = Service.create([{
                'company': organization.id,
                'code': code,
                'name': name,
                'unit': unit,
                'kind': kind,
                } for code, name, unit, kind, _ in definitions])
    return {
        code: (service, tariff)
        for service, (code, _, _, _, tariff) in zip(services, definitions)}


def _metered_or(metered, period, fallback):
    """The metered volume of the period, else the average of the meter
    (basis 'average'), else the fallback (volume, basis, details,
    coefficient)"""
    if period in metered:
        volume, details = metered[period]
        return volume, 'meter', details, None
    if metered:
        volumes = [v for v, _ in metered.values()]
        average = (sum(volumes) / len(volumes)).quantize(MILLI)
        serial = next(iter(metered.values()))[1].split(':')[0]
        return (average, 'average',
            f"{serial}: среднемесячный расход", None)
    return fallback


def _housing_lines(account, period, metered):
    "(code, volume, basis, details, coefficient) of the month's charges"
    area, residents = account.area, Decimal(account.residents)
    lines = [('maintenance', area, 'fixed',
            f"Площадь {format_number(area, 2)} м²", None)]
    volumes = {}
    for code in ['cold_water', 'hot_water']:
        norm = (NORMS[code] * residents).quantize(MILLI)
        line = _metered_or(
            metered.get(code, {}), period,
            (norm, 'norm',
                f"Норматив {format_number(NORMS[code], 2)} м³ × "
                f"{account.residents} чел., без прибора учёта", RAISING))
        volumes[code] = line
        lines.append((code, *line))
    cold, hot = volumes['cold_water'], volumes['hot_water']
    lines.append((
            'sewerage', cold[0] + hot[0],
            'meter' if cold[1] == hot[1] == 'meter' else cold[1],
            "Объём ХВС + ГВС", None))
    lines.append((
            'heating', (NORMS['heating'] * area).quantize(MILLI), 'norm',
            f"Норматив {format_number(NORMS['heating'], 4)} Гкал/м² × "
            f"{format_number(area, 2)} м²", None))
    lines.append((
            'common_electricity',
            (NORMS['common_electricity'] * area).quantize(MILLI), 'norm',
            "Норматив на общедомовые нужды", None))
    return lines


def _electricity_lines(account, period, metered):
    if not metered:
        volume = (Decimal(150) * Decimal(account.residents)).quantize(MILLI)
        return [('electricity_single', volume, 'norm',
                f"Норматив 150 кВт·ч × {account.residents} чел.", None)]
    return [
        (f'electricity_{code}', *_metered_or(by_period, period, None))
        for code, by_period in sorted(metered.items())]


def generate(organizations, seed=1, bulk=None, today=None):
    """Create services, 24 months of charges, payments received and
    balances for the organizations of lk_base's demo

    bulk inserts the charges, payments and balances with lk_base's
    bulk_create(), by default where the database allows it (PostgreSQL);
    the data are the same."""
    pool = Pool()
    Date = pool.get('ir.date')
    Company = pool.get('company.company')
    Access = pool.get('lk.account.access')
    Charge = pool.get('lk.charge')
    Payment = pool.get('lk.payment.received')
    Balance = pool.get('lk.balance')

    rng = random.Random(seed)
    bulk = bulk_available(bulk)
    today = today or Date.today()
    latest = previous_period(today.replace(day=1))
    periods = [latest]
    while len(periods) < MONTHS:
        periods.insert(0, previous_period(periods[0]))
    subscriber_accounts = {a.account.id for a in Access.search([
                ('web_user.email', '=', SUBSCRIBER)])}

    if bulk:
        def create(Model, vlist):
            bulk_create(Model, vlist)
    else:
        def create(Model, vlist):
            Model.create(vlist)
    pending = defaultdict(list)

    def add(Model, values):
        pending[Model].append(values)
        if len(pending[Model]) >= BATCH:
            create(Model, pending.pop(Model))

    stories = {}
    for index, organization in enumerate(organizations):
        electricity = index == 2
        services = _services(
            organization,
            ELECTRICITY_SERVICES if electricity else HOUSING_SERVICES)
        consumption = _consumption(organization, set(periods))
        accounts = _accounts(organization)
        if index == 0 and len(accounts) >= 3:
            stories[accounts[1].id] = 'debtor'
            stories[accounts[2].id] = 'overpayment'
        lines_of = _electricity_lines if electricity else _housing_lines
        for account in accounts:
            story = stories.get(account.id)
            if account.id in subscriber_accounts:
                story = 'subscriber'
            metered = consumption.get(account.id, {})
            closing = {}
            for period in periods:
                charged = defaultdict(Decimal)
                for code, volume, basis, details, coefficient in lines_of(
                        account, period, metered):
                    service, tariff = services[code]
                    amount = money(volume * tariff * (coefficient or 1))
                    recalculation, reason = Decimal(0), None
                    if (story == 'subscriber' and period == latest
                            and code == 'hot_water'):
                        recalculation = -money(amount * Decimal('0.45'))
                        reason = RECALCULATION_REASON
                    charged[code] += amount + recalculation
                    add(Charge, {
                            'company': organization.id,
                            'account': account.id,
                            'service': service.id,
                            'period': period,
                            'kind': 'charge',
                            'volume': volume,
                            'tariff': tariff,
                            'amount': amount,
                            'recalculation': recalculation,
                            'recalculation_reason': reason,
                            'basis': basis,
                            'basis_details': details,
                            'coefficient': coefficient,
                            })
                if story == 'debtor' and period == latest:
                    debt = sum(closing.values(), Decimal(0))
                    penalty = money(debt * Decimal('0.012'))
                    charged['maintenance'] += penalty
                    add(Charge, {
                            'company': organization.id,
                            'account': account.id,
                            'service': services['maintenance'][0].id,
                            'period': period,
                            'kind': 'penalty',
                            'amount': penalty,
                            'recalculation': Decimal(0),
                            'basis_details': PENALTY_DETAILS,
                            })
                # the debt of the month before, paid on the 10th or skipped
                paid = {
                    c: v for c, v in closing.items() if v > 0}
                if (story == 'debtor' and period > periods[-11]) or (
                        story is None and rng.random() < 0.08):
                    paid = {}
                if story == 'overpayment' and period == latest:
                    paid['maintenance'] = (
                        paid.get('maintenance', Decimal(0))
                        + Decimal('8000.00'))
                amount = sum(paid.values(), Decimal(0))
                if amount > 0:
                    add(Payment, {
                            'company': organization.id,
                            'account': account.id,
                            'date': period.replace(
                                day=rng.randrange(3, 20)),
                            'amount': amount,
                            'source': 'organization',
                            'reference': str(rng.randrange(10**9, 10**10)),
                            'period': period,
                            })
                for code in sorted(charged.keys() | closing.keys()):
                    service, _ = services[code]
                    opening = closing.get(code, Decimal(0))
                    closing[code] = (
                        opening + charged[code] - paid.get(code, 0))
                    add(Balance, {
                            'company': organization.id,
                            'account': account.id,
                            'service': service.id,
                            'period': period,
                            'opening': opening,
                            'charged': charged[code],
                            'paid': paid.get(code, Decimal(0)),
                            'closing': closing[code],
                            })
            if story == 'subscriber' and not electricity:
                # paid in lk this month: in transit until the next upload
                debt = sum(closing.values(), Decimal(0))
                add(Payment, {
                        'company': organization.id,
                        'account': account.id,
                        'date': today,
                        'amount': min(Decimal('1000.00'), money(debt / 2)),
                        'source': 'lk',
                        'reference': 'LK-DEMO-0001',
                        })
    for Model, vlist in pending.items():
        create(Model, vlist)
    if bulk:
        Transaction().connection.cursor().execute(
            'ANALYZE "lk_charge", "lk_payment_received", "lk_balance"')
    # the older periods are closed: their data no longer change
    Company.write(list(organizations), {
            'billing_closed_until': previous_period(
                previous_period(latest)),
            })
    return periods
