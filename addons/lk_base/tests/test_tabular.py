# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import datetime as dt
import io
import time
import tracemalloc
import zipfile
from contextlib import contextmanager
from decimal import Decimal

import openpyxl
import xlwt
from odf.opendocument import OpenDocumentSpreadsheet
from odf.table import Table as OdsTable
from odf.table import TableCell, TableRow
from odf.text import P

from trytond.modules.lk_base.exceptions import ImportFileError
from trytond.modules.lk_base.tabular import Column, Table, parse
from trytond.pool import Pool
# _DBTestCase: gettext needs a transaction, and test_module already runs
# the generic ModuleTestCase tests
from trytond.tests.test_tryton import _DBTestCase, with_transaction
from trytond.transaction import Transaction

from .tools import set_config

COLUMNS = [
    Column('account', "Лицевой счёт", 'char', True, '00012345'),
    Column('amount', "Сумма", 'numeric', True, '1234,56'),
    Column('date', "Дата", 'date', False, '25.01.2026'),
    Column('closed', "Закрыт", 'boolean', False, 'нет'),
    ]
EXPECTED = [
    (2, {
            'account': '0001', 'amount': Decimal('1234.56'),
            'date': dt.date(2026, 1, 25), 'closed': False}),
    (3, {
            'account': '0002', 'amount': Decimal('-7'),
            'date': dt.date(2026, 2, 1), 'closed': True}),
    ]


def read(data, columns=COLUMNS):
    rows, errors = parse(Table(data), columns)
    return list(rows), errors


def xlsx(rows):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def zip_file(entries, compression=zipfile.ZIP_DEFLATED):
    out = io.BytesIO()
    with zipfile.ZipFile(out, 'w', compression) as archive:
        for name, content in entries:
            archive.writestr(name, content)
    return out.getvalue()


def import_limit(name, value):
    return set_config('lk_import', name, str(value))


class LkBaseTabularTestCase(_DBTestCase):
    "Reading uploaded tables"
    module = 'lk_base'

    @contextmanager
    def refused(self, message):
        "Refused with the message, within a second, in bounded memory"
        tracemalloc.start()
        started = time.perf_counter()
        try:
            with self.assertRaises(ImportFileError) as context:
                yield
        finally:
            duration = time.perf_counter() - started
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        self.assertIn(message, context.exception.message)
        self.assertLess(duration, 1)
        self.assertLess(peak, 32 * 1024 * 1024)

    @with_transaction()
    def test_csv_utf8_bom_comma_iso(self):
        "UTF-8 csv with a BOM, commas, ISO dates and decimal points"
        data = (
            '\ufeffAccount,Amount,Date,Closed\r\n'
            '0001,1234.56,2026-01-25,no\r\n'
            '0002,-7,2026-02-01,yes\r\n').encode('utf-8')
        table = Table(data)
        self.assertEqual(
            (table.format, table.encoding, table.delimiter),
            ('csv', 'utf-8', ','))
        self.assertEqual(read(data), (EXPECTED, []))

    @with_transaction()
    def test_csv_cp1251_semicolon_russian_reordered(self):
        "Windows-1251 csv, semicolons, Russian headers in another order"
        data = (
            'ЗАКРЫТ;  дата ;Сумма;Лицевой   СЧЁТ\r\n'
            'нет;25.01.2026;"1 234,56";0001\r\n'
            '\r\n'
            'да;01.02.2026;-7;0002\r\n').encode('cp1251')
        table = Table(data)
        self.assertEqual(
            (table.format, table.encoding, table.delimiter),
            ('csv', 'cp1251', ';'))
        rows, errors = read(data)
        self.assertEqual(errors, [])
        self.assertEqual(rows, [EXPECTED[0], (4, EXPECTED[1][1])])

    @with_transaction()
    def test_csv_tab(self):
        "Tab separated values"
        data = (
            'Лицевой счёт\tСумма\n0001\t1234,56\n').encode('utf-8')
        self.assertEqual(Table(data).delimiter, '\t')
        rows, errors = read(data)
        self.assertEqual(rows[0][1]['amount'], Decimal('1234.56'))

    @with_transaction()
    def test_cell_errors_named(self):
        "Every bad cell is reported with its line, column and value"
        data = (
            'Лицевой счёт;Сумма;Дата;Закрыт\n'
            '0001;12,3,4;31.02.2026;может быть\n'
            ';5;;\n').encode('utf-8')
        rows, errors = read(data)
        self.assertEqual(len(rows), 2)
        self.assertEqual(
            [(e.line, e.column, e.value) for e in errors], [
                (2, "Сумма", '12,3,4'),
                (2, "Дата", '31.02.2026'),
                (2, "Закрыт", 'может быть'),
                (3, "Лицевой счёт", ''),
                ])
        self.assertTrue(all(e.message for e in errors))

    @with_transaction()
    def test_missing_columns(self):
        "A missing required column is named with the header found"
        with self.refused("«Сумма»"):
            read('Лицевой счёт;Дата\n1;01.01.2026\n'.encode('utf-8'))
        with self.refused("amount"):
            read('Сумма;Лицевой счёт;amount\n1;2;3\n'.encode('utf-8'))

    @with_transaction()
    def test_xlsx(self):
        "xlsx with numbers, dates and text cells, whatever its name"
        data = xlsx([
                ["Закрыт", "Сумма", "Лицевой счёт", "Дата"],
                [None, None, None, None],
                ["нет", 1234.56, "0001", dt.date(2026, 1, 25)],
                [True, "-7", "0002", "01.02.2026"],
                ])
        self.assertEqual(Table(data).format, 'xlsx')
        self.assertEqual(read(data), ([
                    (3, EXPECTED[0][1]), (4, EXPECTED[1][1])], []))

    @with_transaction()
    def test_xls(self):
        "An xls as old billing programs write it (BIFF8 by xlwt)"
        workbook = xlwt.Workbook(encoding='cp1251')
        sheet = workbook.add_sheet("Лист1")
        date = xlwt.easyxf(num_format_str='DD.MM.YYYY')
        for c, value in enumerate(["Лицевой счёт", "Сумма", "Дата"]):
            sheet.write(0, c, value)
        sheet.write(1, 0, 1)  # numbers where text is expected
        sheet.write(1, 1, 1234.56)
        sheet.write(1, 2, dt.date(2026, 1, 25), date)
        out = io.BytesIO()
        workbook.save(out)
        data = out.getvalue()
        self.assertEqual(Table(data).format, 'xls')
        self.assertEqual(read(data), ([(2, {
                            'account': '1', 'amount': Decimal('1234.56'),
                            'date': dt.date(2026, 1, 25)})], []))

    @with_transaction()
    def test_ods(self):
        "OpenDocument spreadsheet"
        document = OpenDocumentSpreadsheet()
        table = OdsTable(name="Лист1")
        for values in [("Лицевой счёт", "Сумма"), ("0001", 1234.56)]:
            tr = TableRow()
            for value in values:
                if isinstance(value, float):
                    cell = TableCell(valuetype='float', value=value)
                else:
                    cell = TableCell(valuetype='string')
                cell.addElement(P(text=str(value)))
                tr.addElement(cell)
            table.addElement(tr)
        document.spreadsheet.addElement(table)
        out = io.BytesIO()
        document.write(out)
        data = out.getvalue()
        self.assertEqual(Table(data).format, 'ods')
        self.assertEqual(read(data), ([(2, {
                            'account': '0001',
                            'amount': Decimal('1234.56')})], []))

    @with_transaction()
    def test_wrong_format(self):
        "A PDF, a binary or a zip that is no spreadsheet is refused"
        for data in [
                b'%PDF-1.7\n...', b'\x00\x01\x02garbage',
                zip_file([('readme.txt', 'hello')]),
                b'PK\x03\x04 truncated',
                'Лицевой счёт;Сумма'.encode('utf-16')]:
            with self.subTest(data=data[:10]), self.refused(
                    "csv, xlsx, xls"):
                Table(data)

    @with_transaction()
    def test_encoding_refused(self):
        "Russian text in KOI8-R or CP866 is neither UTF-8 nor Windows-1251"
        text = (
            'Лицевой счёт;Сумма;Дата\n'
            + 'квартира на улице Ленина;1;01.01.2026\n' * 5)
        for encoding in ['koi8-r', 'cp866']:
            with self.subTest(encoding=encoding), self.refused("UTF-8"):
                Table(text.encode(encoding))

    @with_transaction()
    def test_zip_bomb(self):
        "A zip unpacking to far more than its size is refused unread"
        zeros = b'\0' * (64 * 1024 * 1024)
        data = zip_file([
                ('[Content_Types].xml', '<Types/>'),
                ('xl/worksheets/sheet1.xml', zeros)])
        self.assertLess(len(data), 1024 * 1024)
        del zeros
        with self.refused("unpacks"):
            Table(data)

    @with_transaction()
    def test_zip_lying_size(self):
        "An entry whose directory understates its size fails unpacking"
        content = b'<x>' + b'a' * 4 * 1024 * 1024 + b'</x>'
        data = bytearray(zip_file([
                    ('[Content_Types].xml', '<Types/>'),
                    ('xl/worksheets/sheet1.xml', content)],
                compression=zipfile.ZIP_STORED))
        # the declared size in both headers: 4 bytes before the name length
        declared = len(content).to_bytes(4, 'little')
        small = (1000).to_bytes(4, 'little')
        self.assertEqual(data.count(declared), 4)  # compressed and unpacked
        data = bytes(data).replace(declared, small)
        with self.refused("unpacks"):
            Table(data)

    @with_transaction()
    def test_zip_entries_and_paths(self):
        "Too many entries or a path leaving the archive is refused"
        many = zip_file(
            [('[Content_Types].xml', '<Types/>')]
            + [(f'xl/{i}.xml', '') for i in range(1001)])
        with self.refused("1002"):
            Table(many)
        for path in ['../../etc/cron.d/x', '/etc/passwd', 'C:\\x.xml']:
            with self.subTest(path=path), self.refused(path):
                Table(zip_file([
                            ('[Content_Types].xml', '<Types/>'),
                            (path, '<x/>')]))

    @with_transaction()
    def test_xml_entities(self):
        "An XML part declaring entities (billion laughs, XXE) is refused"
        data = xlsx([["Лицевой счёт", "Сумма"], ["0001", 1]])
        source = zipfile.ZipFile(io.BytesIO(data))
        entries = []
        for info in source.infolist():
            content = source.read(info)
            if info.filename == 'xl/worksheets/sheet1.xml':
                content = (
                    b'<!DOCTYPE lolz [<!ENTITY lol "lol">'
                    b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;">]>'
                    + content.split(b'?>', 1)[-1])
            entries.append((info.filename, content))
        with self.refused("xl/worksheets/sheet1.xml"):
            Table(zip_file(entries))

    @with_transaction()
    def test_limits(self):
        "Size and row limits come from the configuration"
        data = ('Лицевой счёт;Сумма\n' + '0001;1\n' * 10).encode('utf-8')
        with import_limit('max_rows', 5), self.refused("5"):
            read(data)
        with import_limit('max_size', 100), self.refused("MB"):
            Table(data)
        rows, errors = read(data)
        self.assertEqual(len(rows), 10)

    @with_transaction()
    def test_empty(self):
        "An empty file or one of blank lines is refused"
        for data in [b'', b'\r\n;;\r\n']:
            with self.subTest(data=data), self.refused("empty"):
                Table(data)

    @with_transaction()
    def test_russian_messages(self):
        "Errors speak Russian to Russian staff"
        Lang = Pool().get('ir.lang')
        russian, = Lang.search([('code', '=', 'ru')])
        Lang.load_translations([russian])
        with Transaction().set_context(language='ru'):
            with self.refused("Нет обязательных столбцов «Сумма»"):
                read('Лицевой счёт\n1\n'.encode('utf-8'))
            rows, errors = read(
                'Лицевой счёт;Сумма\n1;abc\n'.encode('utf-8'))
            self.assertEqual(errors[0].message, "Это не число "
                "(пишите, например, 1234,56).")
