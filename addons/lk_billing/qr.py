# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The payment QR code of ГОСТ Р 56042-2014 that Russian banking apps scan

The payload is a service header — "ST", the format version "0001" and the
encoding digit ("1" Windows-1251, "2" UTF-8, "3" KOI8-R) — followed by
"|Key=Value" requisites: first the five required ones (Name, PersonalAcc,
BankName, BIC, CorrespAcc) in this order, then any additional ones (PayeeINN,
KPP, Sum in kopecks, Purpose, PersAcc, PaymPeriod, payerAddress, …).

Pure functions: no database, no translation. The errors carry the requisite
and the reason so the caller words them for the user."""
import re
from decimal import Decimal

FORMAT = 'ST'
VERSION = '0001'
ENCODINGS = {
    'cp1251': '1',
    'utf-8': '2',
    'koi8-r': '3',
    }
SEPARATOR = '|'

REQUIRED = ('Name', 'PersonalAcc', 'BankName', 'BIC', 'CorrespAcc')
# The order in which additional requisites are written
ADDITIONAL = (
    'PayeeINN', 'KPP', 'Sum', 'Purpose',
    'LastName', 'FirstName', 'MiddleName', 'payerAddress',
    'PersAcc', 'PaymPeriod', 'PayerINN', 'DocNo', 'DocDate', 'Category',
    'ServiceName', 'CBC', 'OKTMO')
# Maximal length of a value (ГОСТ Р 56042-2014, tables 1 and 2);
# free text longer than this is shortened, identifiers are refused
MAX_LENGTH = {
    'Name': 160,
    'PersonalAcc': 20,
    'BankName': 45,
    'BIC': 9,
    'CorrespAcc': 20,
    'PayeeINN': 12,
    'KPP': 9,
    'Sum': 18,
    'Purpose': 210,
    'LastName': 60,
    'FirstName': 60,
    'MiddleName': 60,
    'payerAddress': 160,
    'PersAcc': 60,
    'PaymPeriod': 6,
    }
SHORTENED = {'Name', 'BankName', 'Purpose', 'payerAddress', 'LastName',
    'FirstName', 'MiddleName'}
# Identifiers: the pattern their value must match
PATTERNS = {
    'PersonalAcc': r'\d{20}',
    'BIC': r'\d{9}',
    'CorrespAcc': r'0|\d{20}',
    'PayeeINN': r'\d{10}|\d{12}',
    'KPP': r'\d{4}[0-9A-Z]{2}\d{3}',
    'Sum': r'\d{1,18}',
    'PaymPeriod': r'(0[1-9]|1[0-2])\d{4}',
    }
KEY = re.compile(r'[A-Za-z][A-Za-z0-9]*')


class RequisiteError(ValueError):
    """A requisite is missing or wrong

    reason: 'missing', 'invalid' (does not match its format),
    'separator' (contains "|"), 'encoding' (not in the payload's encoding)"""

    def __init__(self, key, reason, value=None):
        super().__init__(f'{key}: {reason} ({value!r})')
        self.key = key
        self.reason = reason
        self.value = value


def kopecks(amount):
    "The Decimal amount of rubles in kopecks, exactly: Decimal('12.30') → 1230"
    if not isinstance(amount, Decimal):
        raise TypeError(f'amount must be a Decimal, not {type(amount)}')
    value = amount * 100
    if value != value.to_integral_value() or value < 0:
        raise RequisiteError('Sum', 'invalid', amount)
    return int(value)


def payment_period(period):
    "The month of the date as PaymPeriod: MMYYYY"
    return f'{period.month:02d}{period.year:04d}'


def _clean(key, value):
    if value is None:
        return ''
    value = ' '.join(str(value).split())
    if key in PATTERNS:
        value = value.replace(' ', '')
    return value


def requisites(values):
    """The requisites of the payload in the standard's order from the dict of
    values (a value None or '' is left out; Sum given as a Decimal of rubles
    is written in kopecks): a list of (key, value); RequisiteError if one is
    missing or wrong"""
    values = dict(values)
    if isinstance(values.get('Sum'), Decimal):
        values['Sum'] = kopecks(values['Sum'])
    result = []
    extra = [k for k in values if k not in REQUIRED and k not in ADDITIONAL]
    for key in REQUIRED + ADDITIONAL + tuple(extra):
        value = _clean(key, values.get(key))
        if not value:
            if key in REQUIRED:
                raise RequisiteError(key, 'missing')
            continue
        if not KEY.fullmatch(key):
            raise RequisiteError(key, 'invalid', key)
        if SEPARATOR in value:
            raise RequisiteError(key, 'separator', value)
        if key in PATTERNS and not re.fullmatch(PATTERNS[key], value):
            raise RequisiteError(key, 'invalid', value)
        length = MAX_LENGTH.get(key)
        if length and len(value) > length:
            if key not in SHORTENED:
                raise RequisiteError(key, 'invalid', value)
            value = value[:length - 1].rstrip() + '…'
        result.append((key, value))
    return result


def payload(values, encoding='utf-8'):
    """The text of the payload: "ST00012|Name=…|PersonalAcc=…|…"

    encoding: 'utf-8' or 'cp1251' (or 'koi8-r'); every value must be
    representable in it"""
    digit = ENCODINGS[encoding]
    parts = [FORMAT + VERSION + digit]
    for key, value in requisites(values):
        try:
            value.encode(encoding)
        except UnicodeEncodeError:
            raise RequisiteError(key, 'encoding', value)
        parts.append(f'{key}={value}')
    return SEPARATOR.join(parts)


def encode(text):
    "The bytes of the payload in the encoding its header names"
    return text.encode(_encoding(text[:len(FORMAT + VERSION) + 1]))


def _encoding(header):
    if (len(header) != len(FORMAT + VERSION) + 1
            or not header.startswith(FORMAT)):
        raise ValueError(f'not a ГОСТ Р 56042-2014 payload: {header!r}')
    digit = header[-1]
    for encoding, d in ENCODINGS.items():
        if d == digit:
            return encoding
    raise ValueError(f'unknown encoding {digit!r}')


def parse(data):
    """The requisites of the payload (bytes as scanned, or text) as a dict,
    with the encoding its header names: (encoding, {key: value})"""
    header_length = len(FORMAT + VERSION) + 1
    if isinstance(data, bytes):
        encoding = _encoding(data[:header_length].decode('ascii'))
        text = data.decode(encoding)
    else:
        text = data
        encoding = _encoding(text[:header_length])
    header, *parts = text.split(SEPARATOR)
    if len(header) != header_length:
        raise ValueError(f'wrong header {header!r}')
    result = {}
    for part in parts:
        key, sep, value = part.partition('=')
        if not sep or key in result:
            raise ValueError(f'wrong requisite {part!r}')
        result[key] = value
    return encoding, result


def qrcode(text):
    "The segno QR code of the payload, error correction level M, byte mode"
    import segno
    # bytes: byte mode without an ECI designator, as banking apps expect
    return segno.make_qr(encode(text), error='m', boost_error=False)


def svg(text, size='40mm', title=None):
    """The QR code of the payload as an inline <svg> element of the size
    (WeasyPrint draws it sharp at any resolution)"""
    code = qrcode(text)
    element = code.svg_inline(
        border=4, dark='#000', light='#fff', title=title,
        svgclass='qr', lineclass=None, omitsize=True)
    return element.replace(
        '<svg ', f'<svg width="{size}" height="{size}" ', 1)


def png(text, scale=6):
    "The QR code of the payload as a PNG image (bytes)"
    import io
    buffer = io.BytesIO()
    qrcode(text).save(buffer, kind='png', scale=scale, border=4)
    return buffer.getvalue()
