# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The kinds of data organizations import

Each module registers its kinds as it registers its portal pages: it
extends `lk.exchange` with PoolMeta and returns the base's kinds plus its
own from `kinds()`.  A kind is a class deriving from Kind: its columns (see
tabular.Column), the natural key its rows are matched by and how a row
becomes the values of a record."""
import io
from collections import namedtuple

import openpyxl
from openpyxl.styles import Font

from trytond.i18n import gettext
from trytond.model import Model
from trytond.pool import Pool

from .tabular import CellError, Column

Plan = namedtuple('Plan', ['create', 'write', 'unchanged', 'absent'])
Plan.__doc__ = """What a file changes: create [values], write [(record,
values)], unchanged (count) and absent [record] (what full mode closes or
removes)"""

TYPES = {
    'char': "Текст",
    'integer': "Целое число",
    'numeric': "Число (1234,56)",
    'date': "Дата (ДД.ММ.ГГГГ)",
    'boolean': "Да / нет",
    }


class Kind:
    """A kind of data: name, string (the id of its ir.message), model,
    columns, key (the names of the columns making the natural key) and
    absent (what full mode does to the
    records the file does not name, or None when it has no full mode)"""
    name = string = model = None
    columns = []
    key = ()
    absent = None

    def __init__(self, company):
        self.company = company

    def error(self, line, column, value, message_id, **values):
        return CellError(
            line, column.string if column else '', value or '',
            gettext(message_id, **values))

    def column(self, name):
        return next(c for c in self.columns if c.name == name)

    def plan(self, rows, errors):
        """What the rows (line, {name: value}) change; the rows' errors
        are appended to errors"""
        seen = {}
        rows = [(line, values) for line, values in rows]
        for line, values in rows:
            key = self.row_key(values)
            if key in seen:
                errors.append(self.error(
                        line, self.column(self.key[0]), ' / '.join(
                            str(k) for k in key if k is not None),
                        'lk_base.msg_import_key_twice', first=seen[key]))
            seen.setdefault(key, line)
        rows = self.prepare(rows, errors)
        existing = self.existing()
        create, write, unchanged = [], [], 0
        for line, values in rows:
            key = self.row_key(values)
            values = self.values(values)
            record = existing.pop(key, None)
            if record is None:
                create.append(values)
                continue
            changed = {
                n: v for n, v in values.items() if not same(record, n, v)}
            if changed:
                write.append((record, changed))
            else:
                unchanged += 1
        absent = [
            r for r in existing.values() if self.is_present(r)]
        return Plan(create, write, unchanged, absent)

    def prepare(self, rows, errors):
        "The rows, completed (references resolved) and checked"
        return rows

    def existing(self):
        "The organization's records by natural key: {key: record}"
        Model = Pool().get(self.model)
        records = Model.search([('company', '=', self.company.id)])
        return {self.record_key(r): r for r in records}

    def row_key(self, values):
        return tuple(values.get(k) for k in self.key)

    def record_key(self, record):
        return tuple(getattr(record, k) for k in self.key)

    def values(self, row):
        "The values of the record for the parsed row"
        values = {n: v for n, v in row.items() if v is not None}
        values['company'] = self.company.id
        return values

    def is_present(self, record):
        "Whether full mode would close or remove the record"
        return True

    def apply(self, plan, full):
        Model = Pool().get(self.model)
        if plan.create:
            Model.create(plan.create)
        if plan.write:
            actions = []
            for record, values in plan.write:
                actions.extend(([record], values))
            Model.write(*actions)
        if full and plan.absent:
            self.remove(plan.absent)

    def remove(self, records):
        Pool().get(self.model).delete(records)

    def template(self):
        "An xlsx: the header row and one example row, and a notes sheet"
        workbook = openpyxl.Workbook()
        sheet = workbook.active
        sheet.title = "Данные"
        sheet.append([c.string for c in self.columns])
        sheet.append([c.example for c in self.columns])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        notes = workbook.create_sheet("Пояснения")
        notes.append(["Столбец", "Тип", "Обязательный", "Пример",
                "Другие названия"])
        for column in self.columns:
            notes.append([
                    column.string, TYPES[column.type],
                    "да" if column.required else "нет", column.example,
                    ', '.join((column.name,) + tuple(column.aliases))])
        for cell in notes[1]:
            cell.font = Font(bold=True)
        out = io.BytesIO()
        workbook.save(out)
        return out.getvalue()


def same(record, name, value):
    current = getattr(record, name)
    if isinstance(current, Model):
        current = current.id
    return current == value


BUILDING_COLUMNS = [
    Column('city', "Населённый пункт", 'char', True, "Самара", ('город',)),
    Column('street', "Улица", 'char', True, "Ленина"),
    Column('house', "Дом", 'char', True, "10"),
    Column('block', "Корпус", 'char', False, "1"),
    Column('structure', "Строение", 'char', False, ""),
    Column('postal_code', "Индекс", 'char', False, "443001"),
    Column('region', "Регион", 'char', False, "Самарская обл."),
    ]
BUILDING_KEY = ('city', 'street', 'house', 'block', 'structure')


def building_key(values):
    return tuple((values.get(k) or '').lower() for k in BUILDING_KEY)


class Buildings(Kind):
    name = 'lk_base.buildings'
    string = 'lk_base.msg_import_kind_buildings'
    model = 'lk.building'
    columns = BUILDING_COLUMNS
    key = BUILDING_KEY

    def row_key(self, values):
        return building_key(values)

    def record_key(self, building):
        return building_key({k: getattr(building, k) for k in BUILDING_KEY})


class Accounts(Kind):
    name = 'lk_base.accounts'
    string = 'lk_base.msg_import_kind_accounts'
    model = 'lk.account'
    columns = [
        Column('number', "Лицевой счёт", 'char', True, "00012345",
            ('номер лс', 'лс', 'account')),
        *BUILDING_COLUMNS,
        Column('apartment', "Квартира", 'char', False, "5"),
        Column('holder', "Владелец", 'char', False, "Иванов И. И.",
            ('фио',)),
        Column('area', "Площадь", 'numeric', False, "54,3"),
        Column('residents', "Проживает", 'integer', False, "3"),
        Column('opened_on', "Открыт", 'date', False, "01.01.2026"),
        Column('access_code', "Код доступа", 'char', False, "ABCD-2345"),
        ]
    key = ('number',)
    absent = "closes the accounts absent from the file"

    def prepare(self, rows, errors):
        "Find each row's building by its address, create those missing"
        pool = Pool()
        Building = pool.get('lk.building')
        buildings = {
            building_key({k: getattr(b, k) for k in BUILDING_KEY}): b
            for b in Building.search([('company', '=', self.company.id)])}
        new = {}
        for line, values in rows:
            key = building_key(values)
            if key not in buildings and key not in new:
                new[key] = {
                    c.name: values[c.name] for c in BUILDING_COLUMNS
                    if values.get(c.name) is not None}
                new[key]['company'] = self.company.id
        self.new_buildings = list(new.values())
        self.buildings = buildings
        for line, values in rows:
            if values.get('area') is not None and values['area'] <= 0:
                errors.append(self.error(
                        line, self.column('area'), str(values['area']),
                        'lk_base.msg_import_value_positive'))
            if (values.get('residents') is not None
                    and values['residents'] < 0):
                errors.append(self.error(
                        line, self.column('residents'),
                        str(values['residents']),
                        'lk_base.msg_import_value_positive'))
        return rows

    def values(self, row):
        values = {
            n: row[n] for n in [
                'number', 'apartment', 'holder', 'area', 'residents',
                'opened_on', 'access_code']
            if row.get(n) is not None}
        key = building_key(row)
        building = self.buildings.get(key)
        values['building'] = building.id if building else key
        values['company'] = self.company.id
        return values

    def is_present(self, record):
        return record.state == 'active'

    def apply(self, plan, full):
        pool = Pool()
        Building = pool.get('lk.building')
        created = {
            building_key({k: getattr(b, k) for k in BUILDING_KEY}): b.id
            for b in Building.create(self.new_buildings)}
        for values in plan.create:
            if isinstance(values['building'], tuple):
                values['building'] = created[values['building']]
        for record, values in plan.write:
            if isinstance(values.get('building'), tuple):
                values['building'] = created[values['building']]
        super().apply(plan, full)

    def remove(self, accounts):
        pool = Pool()
        Account = pool.get('lk.account')
        Date = pool.get('ir.date')
        Account.write(accounts, {
                'state': 'closed', 'closed_on': Date.today()})


class Exchange(Model):
    __name__ = 'lk.exchange'
    __string__ = "Data Exchange"

    @classmethod
    def kinds(cls):
        "The kinds of data that can be imported: [Kind subclass]"
        return [Accounts, Buildings]

    @classmethod
    def kind(cls, name):
        return next(k for k in cls.kinds() if k.name == name)
