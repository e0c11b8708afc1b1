# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import csv
import io
from decimal import Decimal

import openpyxl
import python_calamine

from trytond.model.exceptions import AccessError
from trytond.modules.lk_base.exceptions import ImportJobError
from trytond.pool import Pool
# _DBTestCase: test_module already runs the generic ModuleTestCase tests
from trytond.tests.test_tryton import _DBTestCase, with_transaction
from trytond.transaction import Transaction

from .helpers import as_staff, create_organizations, create_staff

HEADER = "Лицевой счёт;Город;Улица;Дом;Квартира;Владелец;Площадь;Код доступа"


def accounts_csv(count, bad=None, encoding='utf-8'):
    "count accounts in 1 building per 100; row bad (1-based) has bad area"
    lines = [HEADER]
    for i in range(1, count + 1):
        area = 'много' if i == bad else f'{40 + i % 30},5'
        lines.append(
            f'{i:06d};Самара;Ленина;{i // 100 + 1};{i % 100};'
            f'Абонент {i};{area};CODE-{i:04d}')
    return ('\r\n'.join(lines) + '\r\n').encode(encoding)


def sheet_rows(data):
    workbook = python_calamine.CalamineWorkbook.from_filelike(
        io.BytesIO(data))
    return workbook.get_sheet_by_index(0).to_python()


class LkBaseImportTestCase(_DBTestCase):
    "Importing accounts and buildings"
    module = 'lk_base'

    def setUp(self):
        super().setUp()

    def organizations(self):
        company, other = create_organizations("Other")
        clerk = create_staff('clerk', company, ['group_data_upload'])
        return company, other, clerk

    def job(self, company, data, kind='lk_base.accounts', **values):
        Job = Pool().get('lk.import.job')
        job, = Job.create([{
                    'company': company.id, 'kind': kind, 'file': data,
                    'filename': 'file.csv', **values}])
        return job

    def accounts(self, company):
        Account = Pool().get('lk.account')
        return Account.search([('company', '=', company.id)])

    @with_transaction()
    def test_accounts_twice(self):
        "The same file twice: created, then all unchanged"
        pool = Pool()
        Job = pool.get('lk.import.job')
        Building = pool.get('lk.building')
        company, other, clerk = self.organizations()
        data = accounts_csv(250)
        with as_staff(clerk, company):
            job = self.job(company, data)
            Job.run([job])
            self.assertEqual(
                (job.state, job.rows, job.created, job.updated,
                    job.unchanged, job.error_count),
                ('done', 250, 250, 0, 0, 0))
            accounts = self.accounts(company)
            self.assertEqual(len(accounts), 250)
            account, = [a for a in accounts if a.number == '000101']
            self.assertEqual(
                (account.building.house, account.apartment, account.area,
                    account.access_code, account.holder),
                ('2', '1', Decimal('51.5'), 'CODE-0101', "Абонент 101"))
            self.assertEqual(account.create_uid.id, clerk.id)
            self.assertEqual(
                len(Building.search([('company', '=', company.id)])), 3)

            again = self.job(company, data)
            Job.run([again])
            self.assertEqual(
                (again.state, again.created, again.updated,
                    again.unchanged), ('done', 0, 0, 250))

            changed = data.replace(
                'Абонент 7;'.encode(), 'Петров П. П.;'.encode())
            third = self.job(company, changed)
            Job.run([third])
            self.assertEqual(
                (third.created, third.updated, third.unchanged),
                (0, 1, 249))
        self.assertEqual(len(self.accounts(other)), 0)

    @with_transaction()
    def test_one_bad_row_in_10000(self):
        "One bad row among 10,000: nothing imported, the report names it"
        pool = Pool()
        Job = pool.get('lk.import.job')
        company, other, clerk = self.organizations()
        with as_staff(clerk, company):
            job = self.job(company, accounts_csv(10000, bad=7777))
            Job.run([job])
            self.assertEqual((job.state, job.error_count), ('failed', 1))
            self.assertEqual(self.accounts(company), [])
            # the header is line 1
            self.assertIn('7778', job.errors)
            self.assertIn('"Площадь"', job.errors)
            self.assertIn('"много"', job.errors)
            self.assertEqual(job.report_filename, 'file-errors.csv')
            report = list(csv.reader(
                    io.StringIO(job.report.decode('utf-8-sig')),
                    delimiter=';'))
            self.assertEqual(report[0][-1], "Ошибка")
            self.assertEqual(len(report), 10001)
            self.assertEqual(report[7777][0], '007777')
            self.assertIn("Площадь", report[7777][-1])
            self.assertEqual(
                [r[0] for r in report if r[-1]], ['Лицевой счёт', '007777'])

    @with_transaction()
    def test_cp1251_reordered(self):
        "cp1251 csv with semicolons and Russian headers in another order"
        pool = Pool()
        Job = pool.get('lk.import.job')
        company, other, clerk = self.organizations()
        data = (
            'ДОМ;улица;  Лицевой  счёт ;Населённый пункт;Открыт\r\n'
            '5;Мира;77;Отрадный;25.01.2026\r\n').encode('cp1251')
        with as_staff(clerk, company):
            job = self.job(company, data)
            Job.run([job])
            self.assertEqual(job.state, 'done', job.errors)
            account, = self.accounts(company)
            self.assertEqual(
                (account.number, account.building.city,
                    account.building.street, account.opened_on.isoformat()),
                ('77', "Отрадный", "Мира", '2026-01-25'))

    @with_transaction()
    def test_buildings_xlsx(self):
        "Buildings from an xlsx; a duplicate row is named"
        pool = Pool()
        Job = pool.get('lk.import.job')
        Building = pool.get('lk.building')
        company, other, clerk = self.organizations()
        workbook = openpyxl.Workbook()
        sheet = workbook.active
        for row in [
                ["Street", "House", "City", "Postal code"],
                ["Ленина", 10, "Самара", 443001],
                ["Мира", "2а", "Самара", None]]:
            sheet.append(row)
        out = io.BytesIO()
        workbook.save(out)
        with as_staff(clerk, company):
            job = self.job(
                company, out.getvalue(), kind='lk_base.buildings')
            Job.run([job])
            self.assertEqual((job.state, job.created), ('done', 2))
            buildings = Building.search([('company', '=', company.id)])
            self.assertEqual(
                sorted((b.street, b.house, b.postal_code) for b in buildings),
                [("Ленина", '10', '443001'), ("Мира", '2а', None)])
            sheet.append(["ЛЕНИНА", "10", "самара", None])
            out = io.BytesIO()
            workbook.save(out)
            duplicate = self.job(
                company, out.getvalue(), kind='lk_base.buildings')
            Job.run([duplicate])
            self.assertEqual(duplicate.state, 'failed')
            self.assertIn("2", duplicate.errors)
            self.assertTrue(duplicate.report_filename.endswith('.xlsx'))
            rows = sheet_rows(duplicate.report)
            self.assertEqual(rows[0][-1], "Ошибка")
            self.assertEqual(rows[1][-1], '')
            self.assertIn("Населённый пункт", rows[3][-1])

    @with_transaction()
    def test_full_mode(self):
        "Full mode shows how many accounts it closes, then closes them"
        pool = Pool()
        Job = pool.get('lk.import.job')
        company, other, clerk = self.organizations()
        with as_staff(clerk, company):
            Job.run([self.job(company, accounts_csv(10))])
            job = self.job(company, accounts_csv(7), mode='full')
            with self.assertRaises(ImportJobError):
                Job.run([job])
            Job.check([job])
            self.assertEqual(
                (job.state, job.unchanged, job.absent), ('checked', 7, 3))
            self.assertEqual(
                [a.state for a in self.accounts(company)], ['active'] * 10)
            Job.run([job])
            self.assertEqual(job.state, 'done')
            self.assertEqual(
                sorted(a.number for a in self.accounts(company)
                    if a.state == 'closed'), ['000008', '000009', '000010'])
            self.assertTrue(all(
                    a.closed_on for a in self.accounts(company)
                    if a.state == 'closed'))
            with self.assertRaises(ImportJobError):
                Job.write([job], {'mode': 'partial'})
            buildings = self.job(
                company, b'City;Street;House\nA;B;1\n',
                kind='lk_base.buildings', mode='full')
            Job.check([buildings])
            self.assertEqual(buildings.state, 'failed')
            self.assertIn("Buildings", buildings.errors)

    @with_transaction()
    def test_hostile_file_changes_nothing(self):
        "A file that is no table fails the job with its reason"
        pool = Pool()
        Job = pool.get('lk.import.job')
        company, other, clerk = self.organizations()
        with as_staff(clerk, company):
            job = self.job(company, b'%PDF-1.4 not a table')
            Job.run([job])
            self.assertEqual(job.state, 'failed')
            self.assertIn("csv, xlsx", job.errors)
            self.assertEqual(self.accounts(company), [])

    @with_transaction()
    def test_template(self):
        "A template per kind: header, one example row, notes per column"
        pool = Pool()
        Job = pool.get('lk.import.job')
        Exchange = pool.get('lk.exchange')
        for kind in Exchange.kinds():
            job = Job(kind=kind.name)
            template = job.on_change_with_template()
            self.assertEqual(
                job.on_change_with_template_filename(),
                kind.name.split('.')[1] + '.xlsx')
            workbook = python_calamine.CalamineWorkbook.from_filelike(
                io.BytesIO(template))
            self.assertEqual(workbook.sheet_names, ["Данные", "Пояснения"])
            header, example = workbook.get_sheet_by_index(0).to_python()
            self.assertEqual(header, [c.string for c in kind.columns])
            notes = workbook.get_sheet_by_index(1).to_python()
            self.assertEqual(len(notes), len(kind.columns) + 1)
            self.assertEqual(notes[1][2], "да")
            # the template imports as it is
            company, = create_organizations()
            imported = self.job(company, template, kind=kind.name)
            Job.run([imported])
            self.assertEqual(
                (imported.state, imported.created), ('done', 1),
                imported.errors)

    @with_transaction()
    def test_access(self):
        "Only staff with «Загрузка данных» import, into their organization"
        pool = Pool()
        Job = pool.get('lk.import.job')
        company, other, clerk = self.organizations()
        stranger = create_staff('stranger', other, ['group_data_upload'])
        reader = create_staff('reader', company, ['group_data_edit'])
        with as_staff(clerk, company):
            job = self.job(company, accounts_csv(1, bad=1))
            Job.run([job])
        with as_staff(stranger, other):
            self.assertEqual(Job.search([]), [])
            with self.assertRaises(AccessError):
                Job.read([job.id], ['report', 'errors'])
            with self.assertRaises(AccessError):
                self.job(company, accounts_csv(1))
            with self.assertRaises(AccessError):
                Job.run([Job(job.id)])
        with as_staff(reader, company):
            with self.assertRaises(AccessError):
                Job.search([])
        self.assertEqual(self.accounts(company), [])
        Transaction().rollback()
