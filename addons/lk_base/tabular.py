# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Reading the tables organizations upload: csv, xlsx, xls and ods

The format is chosen by the file's content (magic bytes), never by its name.
Spreadsheets are read with python-calamine (Rust): on the same 60,000-row
file it reads xlsx 23× faster than openpyxl (172,000 against 7,600 rows/s)
and xls 7× faster than xlrd (577,000 against 78,500 rows/s), and it reads
ods too (bench/bench_readers.py).  A zip (xlsx, ods)
is inspected before the parser sees it: entry count, paths, declared and
actual unpacked size, compression ratio, and no DTD in its XML parts, so a
zip or XML bomb is refused in the time it takes to read its directory.

Columns are found by their header, in Russian or English, in any order,
case, spacing and ё/е ignored.  Every cell error is collected with its line
and column so that the whole file is reported at once.

Limits come from the [lk_import] section of trytond.conf: max_size (bytes,
default 100 MB), max_rows (default 1,000,000), max_unpacked (bytes, default
1 GB), max_ratio (default 200) and max_entries (default 1000)."""
import codecs
import csv
import datetime as dt
import io
import re
import zipfile
from collections import namedtuple
from decimal import Decimal, InvalidOperation

import openpyxl.xml
import python_calamine

from trytond.config import config
from trytond.i18n import gettext

from .exceptions import ImportFileError

# openpyxl writes the templates and exports and may read back what it
# wrote: it must parse XML through defusedxml, checked at start-up
if not openpyxl.xml.DEFUSEDXML:
    raise ImportError("defusedxml must be installed for openpyxl")

OLE2 = b'\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1'
ZIP = b'PK\x03\x04'
ODS_MIMETYPE = b'application/vnd.oasis.opendocument.spreadsheet'
CHUNK = 1 << 20


def limit(name, default):
    return config.getint('lk_import', name, default=default)


def max_size():
    return limit('max_size', 100 * 1024 * 1024)


def max_rows():
    return limit('max_rows', 1_000_000)


def normalize(text):
    "A header as it is compared: lower case, single spaces, е for ё"
    return ' '.join(
        str(text or '').lower().replace('ё', 'е').replace('_', ' ').split())


Column = namedtuple(
    'Column', ['name', 'string', 'type', 'required', 'example', 'aliases'],
    defaults=[False, '', ()])
Column.__doc__ = """A column of a kind of data: name (English header and the
key of the parsed row), string (Russian header), type (char, integer,
numeric, date or boolean), required, example and other accepted headers"""

CellError = namedtuple('CellError', ['line', 'column', 'value', 'message'])


def sniff(data):
    "The format of the file's content: csv, xlsx, ods or xls"
    if len(data) > max_size():
        raise ImportFileError(gettext(
                'lk_base.msg_import_file_too_large',
                size=len(data) // (1024 * 1024),
                limit=max_size() // (1024 * 1024)))
    if not data:
        raise ImportFileError(gettext('lk_base.msg_import_file_empty'))
    if data.startswith(OLE2):
        return 'xls'
    if data.startswith(ZIP):
        archive = inspect_zip(data)
        names = set(archive.namelist())
        if 'mimetype' in names:
            if archive.read('mimetype').strip() == ODS_MIMETYPE:
                return 'ods'
        elif '[Content_Types].xml' in names and any(
                n.startswith('xl/') for n in names):
            return 'xlsx'
        raise ImportFileError(gettext('lk_base.msg_import_file_format'))
    head = data[:4096]
    if b'\0' in head or head.startswith(b'%PDF'):
        raise ImportFileError(gettext('lk_base.msg_import_file_format'))
    return 'csv'


# What unpacking a damaged or hostile zip raises:
# - BadZipFile: a bad CRC or header;
# - EOFError: a truncated entry;
# - NotImplementedError: an unknown compression method;
# - RuntimeError: an encrypted entry;
# - ValueError, OSError: a stream zlib, bz2 or lzma cannot inflate.
UNREADABLE_ZIP = (
    zipfile.BadZipFile, EOFError, NotImplementedError, RuntimeError,
    ValueError, OSError)


def inspect_zip(data):
    """The zip file after checking it is no bomb: every entry is
    decompressed (and dropped) up to its declared size, so memory stays
    at one chunk and a lying header fails its CRC"""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError):
        raise ImportFileError(gettext('lk_base.msg_import_file_format'))
    if len(infos) > limit('max_entries', 1000):
        raise ImportFileError(gettext(
                'lk_base.msg_import_zip_entries', count=len(infos)))
    total = 0
    max_unpacked, max_ratio = (
        limit('max_unpacked', 1024 * 1024 * 1024), limit('max_ratio', 200))
    for info in infos:
        name = info.filename
        if (name.startswith(('/', '\\')) or '..' in re.split(r'[/\\]', name)
                or re.match(r'^[A-Za-z]:', name)):
            raise ImportFileError(gettext(
                    'lk_base.msg_import_zip_path', name=name))
        total += info.file_size
        if (total > max_unpacked
                or info.file_size > max(info.compress_size, 1) * max_ratio
                and info.file_size > CHUNK):
            raise ImportFileError(gettext('lk_base.msg_import_zip_bomb'))
    try:
        for info in infos:
            xml = info.filename.endswith(('.xml', '.rels'))
            with archive.open(info) as entry:
                tail = b''
                while chunk := entry.read(CHUNK):
                    # quick-xml expands no declared entity, but a DTD has
                    # no place in a spreadsheet: refuse it for any parser
                    # (the tail of the previous chunk finds it across)
                    if xml and b'<!DOCTYPE' in tail + chunk:
                        raise ImportFileError(gettext(
                                'lk_base.msg_import_xml_dtd',
                                name=info.filename))
                    tail = chunk[-16:]
    except UNREADABLE_ZIP:
        raise ImportFileError(gettext('lk_base.msg_import_zip_bomb'))
    return archive


def decode(data):
    "The text of a csv file in UTF-8 (with or without BOM) or Windows-1251"
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    try:
        return data.decode('utf-8'), 'utf-8'
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode('cp1251')
    except UnicodeDecodeError:
        raise ImportFileError(gettext('lk_base.msg_import_file_encoding'))
    # Russian text in another 8-bit encoding (KOI8-R, CP866) read as
    # Windows-1251 turns lower case letters into upper case and box signs
    sample = text[:65536]
    letters = [c for c in sample if 'А' <= c <= 'я']
    upper = sum(1 for c in letters if c <= 'Я')
    odd = sum(1 for c in sample if '\x80' <= c <= '\xbf' or (
            '\u0400' <= c <= '\u04ff' and not 'А' <= c <= 'я'
            and c not in 'Ёё'))
    if (letters and upper > 0.7 * len(letters) and len(letters) >= 20
            or odd > max(5, len(letters) // 10)
            or any(ord(c) < 32 and c not in '\t\r\n' for c in sample)):
        raise ImportFileError(gettext('lk_base.msg_import_file_encoding'))
    return text, 'cp1251'


def sniff_delimiter(header_line):
    "The delimiter used most in the header line, outside of quotes"
    counts = dict.fromkeys(';,\t', 0)
    quoted = False
    for char in header_line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(counts, key=lambda d: (counts[d], d == ';'))
    return best if counts[best] else ';'


class Table:
    """The rows of an uploaded file: format, encoding and delimiter (csv),
    header and the rows as (line, [cell]) from the line after the header"""

    def __init__(self, data):
        self.format = sniff(data)
        self.encoding = self.delimiter = None
        if self.format == 'csv':
            text, self.encoding = decode(data)
            first = text[:text.find('\n')] if '\n' in text else text
            self.delimiter = sniff_delimiter(first)
            reader = csv.reader(
                io.StringIO(text, newline=''), delimiter=self.delimiter)
            self._rows = ((i, r) for i, r in enumerate(reader, 1))
        else:
            self._rows = self._sheet_rows(data)
        self.header_line, self.header = self._first_row()

    def _sheet_rows(self, data):
        try:
            workbook = python_calamine.CalamineWorkbook.from_filelike(
                io.BytesIO(data))
            sheet = workbook.get_sheet_by_index(0)
            start = (sheet.start or (0, 0))[0]
            rows = sheet.iter_rows()
        except Exception:
            # calamine's errors are its own classes and plain ones
            raise ImportFileError(gettext('lk_base.msg_import_file_format'))
        return ((start + i, r) for i, r in enumerate(rows, 1))

    def _first_row(self):
        for line, row in self._rows:
            if any(str(c).strip() for c in row):
                return line, [str(c).strip() for c in row]
        raise ImportFileError(gettext('lk_base.msg_import_file_empty'))

    def columns(self, columns):
        """The index of each column's header: {name: index}; raise with all
        the required columns missing, or a header given twice"""
        known = {}
        for column in columns:
            for label in (column.name, column.string, *column.aliases):
                known[normalize(label)] = column
        found, missing = {}, []
        for index, header in enumerate(self.header):
            column = known.get(normalize(header))
            if column:
                if column.name in found:
                    raise ImportFileError(gettext(
                            'lk_base.msg_import_column_twice',
                            column=header))
                found[column.name] = index
        missing = [
            c.string for c in columns if c.required and c.name not in found]
        if missing:
            raise ImportFileError(gettext(
                    'lk_base.msg_import_columns_missing',
                    columns=', '.join(f'«{c}»' for c in missing),
                    header=', '.join(self.header)))
        return found

    def rows(self):
        "(line, [cell]) of the non-empty rows after the header"
        limit = max_rows()
        count = 0
        for line, row in self._rows:
            if not any(c not in ('', None) and str(c).strip() for c in row):
                continue
            count += 1
            if count > limit:
                raise ImportFileError(gettext(
                        'lk_base.msg_import_too_many_rows', limit=limit))
            yield line, row


def parse(table, columns):
    """Parse the rows of the table for the columns: yield (line, {name:
    value}) and collect the errors in the list returned with the parser:
    (rows, errors)"""
    index = table.columns(columns)
    errors = []
    parsers = [
        (c, index[c.name], PARSERS[c.type])
        for c in columns if c.name in index]

    def rows():
        for line, row in table.rows():
            values = {}
            for column, i, parser in parsers:
                cell = row[i] if i < len(row) else None
                if isinstance(cell, str):
                    cell = cell.strip()
                if cell in ('', None):
                    if column.required:
                        errors.append(CellError(
                                line, column.string, '',
                                gettext('lk_base.msg_import_value_required')))
                    values[column.name] = None
                    continue
                try:
                    values[column.name] = parser(cell)
                except ValueError:
                    errors.append(CellError(
                            line, column.string, str(cell),
                            gettext('lk_base.msg_import_value_'
                                + column.type)))
                    values[column.name] = None
            yield line, values
    return rows(), errors


def parse_char(cell):
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, (dt.date, dt.datetime)):
        return cell.strftime('%d.%m.%Y')
    return str(cell)


NUMBER = re.compile(r'^[+-]?(\d+|\d{1,3}([ \u00a0\u202f]\d{3})+)([.,]\d+)?$')


def parse_numeric(cell):
    if isinstance(cell, bool):
        raise ValueError
    if isinstance(cell, (int, float)):
        return Decimal(repr(cell)) if isinstance(cell, float) else Decimal(
            cell)
    text = str(cell).replace('\u00a0', ' ').replace('\u202f', ' ')
    text = text.removesuffix('₽').removesuffix('руб.').strip()
    if not NUMBER.match(text):
        raise ValueError
    try:
        return Decimal(text.replace(' ', '').replace(',', '.'))
    except InvalidOperation:
        raise ValueError


def parse_integer(cell):
    value = parse_numeric(cell)
    if value != value.to_integral_value():
        raise ValueError
    return int(value)


DATE = re.compile(r'^(\d{1,2})\.(\d{1,2})\.(\d{4})$')
ISO_DATE = re.compile(r'^(\d{4})-(\d{2})-(\d{2})(?:[T ][\d:.]+)?$')


def parse_date(cell):
    if isinstance(cell, dt.datetime):
        return cell.date()
    if isinstance(cell, dt.date):
        return cell
    text = str(cell)
    if match := DATE.match(text):
        day, month, year = map(int, match.groups())
    elif match := ISO_DATE.match(text):
        year, month, day = map(int, match.groups())
    else:
        raise ValueError
    return dt.date(year, month, day)


TRUE = {'1', 'да', 'yes', 'true', 'д', 'y', 'истина'}
FALSE = {'0', 'нет', 'no', 'false', 'н', 'n', 'ложь'}


def parse_boolean(cell):
    if isinstance(cell, bool):
        return cell
    text = normalize(parse_char(cell))
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise ValueError


PARSERS = {
    'char': parse_char,
    'integer': parse_integer,
    'numeric': parse_numeric,
    'date': parse_date,
    'boolean': parse_boolean,
    }
