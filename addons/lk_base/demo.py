# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Demo data shared by `make demo`, the tests and the benchmarks.

Call `generate(accounts=…)` inside a transaction of user 0 on a database
where lk_base is activated.
"""
import datetime as dt
import random
from decimal import Decimal

from sql import Cast, Select
from sql.functions import CurrentTimestamp
from stdnum.ru import inn as ru_inn

from trytond import backend
from trytond.model import fields
from trytond.pool import Pool
from trytond.transaction import Transaction

from .company import _bank_account_key_valid

BATCH = 1000
STAFF_RIGHTS = [
    'group_data_edit', 'group_readings', 'group_appeals',
    'group_announcements', 'group_data_upload']

# name, short name, city, streets, share of the accounts, parent index
ORGANIZATIONS = [
    ("ООО «Управляющая компания «Отрадный»", "УК «Отрадный»",
        "Отрадный", ["Ленина", "Гагарина", "Советская"], 0.5, None),
    ("ООО «УК «Отрадный», участок «Северный»", "Участок «Северный»",
        "Отрадный", ["Северная", "Нефтяников"], 0.2, 0),
    ("АО «Волжская энергосбытовая компания»", "Волжская ЭСК",
        "Волжский", ["Ленина", "Мира"], 0.3, None),
    ]
# The electricity supplier links accounts on its staff's approval
POLICIES = ['verification', 'verification', 'approval']
SUBSCRIBER = 'abonent1@example.com'

OPERATOR = ("ООО «Коммунальщик»", "Коммунальщик")
SURNAMES = [
    "Иванов", "Петров", "Сидоров", "Смирнов", "Кузнецов", "Попов",
    "Васильев", "Соколов", "Михайлов", "Новиков", "Фёдоров", "Морозов"]
NAMES = ["А. И.", "Б. В.", "В. Г.", "Г. Д.", "Е. С.", "Н. П.", "О. К."]


def _inn(rng):
    base = ''.join(str(rng.randrange(10)) for _ in range(9))
    return base + ru_inn.calc_company_check_digit(base)


def _bank_account(rng, bik, prefix, correspondent=False):
    "A 20-digit account whose control key matches the БИК"
    digits = prefix + ''.join(
        str(rng.randrange(10)) for _ in range(20 - len(prefix)))
    for key in '0123456789':
        account = digits[:8] + key + digits[9:]
        if _bank_account_key_valid(bik, account, correspondent):
            return account


def _bank_details(rng):
    bik = '0436' + ''.join(str(rng.randrange(10)) for _ in range(2)) + '607'
    return {
        'inn': _inn(rng),
        'kpp': '63' + ''.join(str(rng.randrange(10)) for _ in range(2))
        + '01001',
        'bank_name': "ПАО Сбербанк, Поволжский банк",
        'bank_bik': bik,
        'bank_account': _bank_account(rng, bik, '40702810'),
        'bank_correspondent_account': _bank_account(
            rng, bik, '301018102' + bik[6:], correspondent=True),
        }


def _ruble():
    pool = Pool()
    Currency = pool.get('currency.currency')
    rubles = Currency.search([('code', '=', 'RUB')], limit=1)
    if rubles:
        return rubles[0]
    ruble, = Currency.create([{
                'name': "Российский рубль",
                'code': 'RUB',
                'numeric_code': '643',
                'symbol': '₽',
                'rounding': Decimal('0.01'),
                'digits': 2,
                }])
    return ruble


def bulk_available(asked=None):
    """Whether to insert with bulk_create: as asked, by default where the
    database allows it (PostgreSQL's COPY)"""
    if asked is not None:
        return asked
    return backend.name == 'postgresql'


def _copy_text(value):
    "The value in PostgreSQL's COPY text format"
    if value is None:
        return '\\N'
    if isinstance(value, bool):
        return 't' if value else 'f'
    if isinstance(value, str):
        return (value.replace('\\', '\\\\').replace('\t', '\\t')
            .replace('\n', '\\n').replace('\r', '\\r'))
    return str(value)


def bulk_create(Model, vlist):
    """Insert the records of vlist as Model.create() would, without its
    validation: for the demo's values, right by construction; a hundred
    thousand accounts take minutes instead of hours. Returns their ids, in
    the order of vlist.

    The access checks, preprocess_values(), the defaults of missing fields
    and create_uid / create_date are the ORM's; a Many2Many value may only
    be [('add', ids)], other fields with a setter only empty. Needs ids in
    advance and COPY (PostgreSQL): see bulk_available()."""
    if not vlist:
        return []
    transaction = Transaction()
    cursor = transaction.connection.cursor()
    vlist = Model._before_create(vlist)
    names = set().union(*vlist)
    missing = [
        n for n, f in Model._fields.items()
        if n not in names and n not in {
            'id', 'create_uid', 'create_date', 'write_uid', 'write_date'}
        and not (isinstance(f, fields.Function) and not f.setter)]
    defaults = Model._clean_defaults(
        Model.default_get(missing, with_rec_name=False))
    columns, relations = [], []
    for name in sorted(names | defaults.keys()):
        field = Model._fields[name]
        if isinstance(field, fields.Many2Many):
            relations.append((name, field))
        elif hasattr(field, 'set'):
            if any(v.get(name, defaults.get(name)) for v in vlist):
                raise NotImplementedError(f"bulk_create of {name}")
        else:
            columns.append((name, field))
    if not bulk_available():
        raise NotImplementedError("bulk_create needs PostgreSQL")
    # A range of ids at once: while the demo is created no one else
    # inserts (nextid's count=n takes a second per 20,000 ids)
    cursor.execute(
        "SELECT setval(pg_get_serial_sequence(%s, 'id'), "
        "nextval(pg_get_serial_sequence(%s, 'id')) + %s - 1)",
        (f'"{Model._table}"', f'"{Model._table}"', len(vlist)))
    last, = cursor.fetchone()
    ids = list(range(last - len(vlist) + 1, last + 1))
    # the transaction's time, as the ORM's CURRENT_TIMESTAMP stores it
    cursor.execute(*Select([Cast(CurrentTimestamp(), 'TIMESTAMP')]))
    now, = cursor.fetchone()
    names = ', '.join(
        f'"{n}"' for n in ['id', 'create_uid', 'create_date'] + [
            n for n, _ in columns])
    prefix = f'\t{transaction.user}\t{now}\t'
    with cursor.copy(
            f'COPY "{Model._table}" ({names}) FROM STDIN') as copy:
        copy.write(''.join(
                str(id_) + prefix + '\t'.join(
                    _copy_text(f.sql_format(values.get(n, defaults.get(n))))
                    for n, f in columns) + '\n'
                for id_, values in zip(ids, vlist)))
    for name, field in relations:
        Relation = Pool().get(field.relation_name)
        links = []
        for id_, values in zip(ids, vlist):
            for action in values.get(name) or []:
                if action[0] != 'add':
                    raise NotImplementedError(f"bulk_create of {name}")
                links.extend(
                    {field.origin: id_, field.target: t} for t in action[1])
        if links:
            bulk_create(Relation, links)
    transaction.create_records[Model.__name__].extend(ids)
    return ids


def _organization(name, short_name, currency, parent=None, **values):
    pool = Pool()
    Party = pool.get('party.party')
    Company = pool.get('company.company')
    party, = Party.create([{'name': name}])
    company, = Company.create([{
                'party': party.id,
                'currency': currency.id,
                'timezone': 'Europe/Samara',
                'short_name': short_name,
                'parent': parent.id if parent else None,
                **values,
                }])
    return company


def generate(accounts=50, seed=1, bulk=None):
    """Create the demo organizations, buildings, accounts and staff users

    bulk inserts the accounts with bulk_create(), by default where the
    database allows it (PostgreSQL); the data are the same."""
    pool = Pool()
    User = pool.get('res.user')
    Lang = pool.get('ir.lang')
    ModelData = pool.get('ir.model.data')
    ConfigItem = pool.get('ir.module.config_wizard.item')
    Building = pool.get('lk.building')
    Account = pool.get('lk.account')

    rng = random.Random(seed)
    bulk = bulk_available(bulk)
    create = (lambda v: bulk_create(Account, v)) if bulk else Account.create
    ruble = _ruble()
    operator = _organization(
        *OPERATOR, ruble,
        description="Оператор сервиса «Личный кабинет»",
        email='support@example.com', phone='+7 846 200-00-00',
        **_bank_details(rng))

    organizations = []
    for (name, short_name, city, streets, share, parent) in ORGANIZATIONS:
        organization = _organization(
            name, short_name, ruble,
            parent=organizations[parent] if parent is not None else None,
            public_address=f"г. {city}, ул. {streets[0]}, д. 10",
            phone='+7 846 555-12-34',
            emergency_phone='+7 846 555-00-04',
            email='info@example.com',
            office_hours="Пн–Чт 8:00–17:00, Пт 8:00–16:00, обед 12:00–13:00",
            website='https://example.com',
            description=f"{short_name} обслуживает дома г. {city}.",
            registration_policy=POLICIES[len(organizations)],
            **_bank_details(rng))
        organizations.append(organization)

        count = max(1, round(accounts * share))
        buildings = Building.create([{
                    'company': organization.id,
                    'region': "Самарская обл.",
                    'city': city,
                    'street': street,
                    'house': str(house),
                    'postal_code': '446300',
                    }
                for street in streets
                for house in range(1, max(1, count // 40 // len(streets)) + 2)
                ])
        values = []
        prefix = str(len(organizations))
        for i in range(count):
            building = buildings[i % len(buildings)]
            values.append({
                    'company': organization.id,
                    'number': f'{prefix}{i + 1:07d}',
                    'building': building.id,
                    'apartment': str(i // len(buildings) + 1),
                    'holder': f"{rng.choice(SURNAMES)} {rng.choice(NAMES)}",
                    'area': Decimal(rng.randrange(2500, 9500)) / 100,
                    'residents': rng.randrange(1, 5),
                    # printed on the bills
                    'access_code': Account.new_access_code(),
                    'opened_on': dt.date(2015, 1, 1) + dt.timedelta(
                        days=rng.randrange(3000)),
                    })
            if len(values) >= BATCH:
                create(values)
                values = []
        if values:
            create(values)
    if bulk:
        # the planner's statistics, which autovacuum would take a while to
        # gather: without them the portal's queries are several times slower
        Transaction().connection.cursor().execute('ANALYZE "lk_account"')

    russian = Lang.search([('code', '=', 'ru'), ('translatable', '=', True)])
    language = russian[0].id if russian else None
    admin, = User.search([('login', '=', 'admin')])
    User.write([admin], {
            'companies': [
                ('add', [operator.id] + [o.id for o in organizations])],
            'company': operator.id,
            'language': language,
            })
    # The company, users and modules are set: the admin's first sign-in
    # opens the backend, not Tryton's module configuration wizard
    ConfigItem.write(ConfigItem.search([]), {'state': 'done'})
    _subscriber(organizations)
    User.create([{
                'login': 'bizuser',
                'name': "Сотрудник",
                'password': 'demo',
                'language': language,
                'companies': [('add', [organizations[0].id])],
                'company': organizations[0].id,
                'groups': [('add', [
                            ModelData.get_id('lk_base', g)
                            for g in STAFF_RIGHTS])],
                }])
    return organizations


def _subscriber(organizations):
    "The demo subscriber owns the first account of two organizations"
    pool = Pool()
    WebUser = pool.get('web.user')
    Account = pool.get('lk.account')
    Access = pool.get('lk.account.access')
    subscriber, = WebUser.create([{
                'email': SUBSCRIBER,
                'email_valid': True,
                'password_hash': WebUser.hash_password('demo'),
                }])
    accounts = [
        Account.search([('company', '=', o.id)], limit=1)[0]
        for o in [organizations[0], organizations[2]]]
    Access.create([{
                'web_user': subscriber.id,
                'account': a.id,
                'role': 'owner',
                } for a in accounts])
    return subscriber
