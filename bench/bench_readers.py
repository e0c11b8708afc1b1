# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Benchmark: which library reads the spreadsheets organizations upload.

    .venv/bin/python bench/bench_readers.py [--rows 60000]

Writes one table of balance rows (account, service, period, amounts, date)
as xlsx (openpyxl), xls (xlwt; at most 65,535 rows) and ods (odfpy, a tenth
of the rows: odfpy writes slowly), then reads every cell of each file with
each library able to: python-calamine (xlsx, xls, ods), openpyxl read-only
(xlsx), xlrd (xls). Prints rows per second; lk_base/tabular.py uses the
fastest.
"""
import argparse
import datetime as dt
import io
import time

import openpyxl
import python_calamine
import xlrd
import xlwt
from odf.opendocument import OpenDocumentSpreadsheet
from odf.table import Table, TableCell, TableRow
from odf.text import P

HEADER = ['Лицевой счёт', 'Услуга', 'Период', 'Начислено', 'Оплачено', 'Дата']


def row(i):
    return [f'{i:08d}', 'HEAT', '01.2026', 1234.56 + i % 100, 1000.0,
        dt.date(2026, 1, 1 + i % 28)]


def write_xlsx(rows):
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(HEADER)
    for i in range(rows):
        sheet.append(row(i))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def write_xls(rows):
    workbook = xlwt.Workbook(encoding='utf-8')
    sheet = workbook.add_sheet('Данные')
    date = xlwt.easyxf(num_format_str='DD.MM.YYYY')
    for c, value in enumerate(HEADER):
        sheet.write(0, c, value)
    for i in range(min(rows, 65535)):
        for c, value in enumerate(row(i)):
            sheet.write(i + 1, c, value, *([date] if c == 5 else []))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def write_ods(rows):
    document = OpenDocumentSpreadsheet()
    table = Table(name='Данные')
    for values in [HEADER] + [row(i) for i in range(rows)]:
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
    return out.getvalue()


def read_calamine(data):
    sheet = python_calamine.CalamineWorkbook.from_filelike(
        io.BytesIO(data)).get_sheet_by_index(0)
    return sum(1 for _ in sheet.iter_rows())


def read_openpyxl(data):
    workbook = openpyxl.load_workbook(
        io.BytesIO(data), read_only=True, data_only=True)
    return sum(1 for _ in workbook.worksheets[0].iter_rows(values_only=True))


def read_xlrd(data):
    sheet = xlrd.open_workbook(file_contents=data).sheet_by_index(0)
    return sum(1 for i in range(sheet.nrows) if sheet.row_values(i))


def measure(name, fmt, reader, data):
    started = time.perf_counter()
    count = reader(data)
    duration = time.perf_counter() - started
    print(f'{fmt:5} {name:9} {count:8} rows {duration:7.2f} s '
        f'{count / duration:10.0f} rows/s')


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--rows', type=int, default=60000)
    args = parser.parse_args()
    xlsx, xls = write_xlsx(args.rows), write_xls(args.rows)
    ods = write_ods(args.rows // 10)
    measure('calamine', 'xlsx', read_calamine, xlsx)
    measure('openpyxl', 'xlsx', read_openpyxl, xlsx)
    measure('calamine', 'xls', read_calamine, xls)
    measure('xlrd', 'xls', read_xlrd, xls)
    measure('calamine', 'ods', read_calamine, ods)


if __name__ == '__main__':
    main()
