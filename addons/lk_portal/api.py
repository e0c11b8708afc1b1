# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The subscriber JSON API at /api/v1/, the contract of the mobile app.

Errors are problem documents (RFC 9457) with translated messages; money is a
string with two decimals, dates ISO 8601.
"""
import json
from decimal import Decimal

from trytond.protocols.wrappers import Response


def _default(value):
    if isinstance(value, Decimal):
        return f'{value:.2f}'
    if hasattr(value, 'isoformat'):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def json_response(data, status=200):
    return Response(
        json.dumps(data, default=_default, ensure_ascii=False),
        status=status, content_type='application/json')


def problem(status, detail, title=None, **extensions):
    "An RFC 9457 problem document"
    from http import HTTPStatus
    document = {
        'type': 'about:blank',
        'title': title or HTTPStatus(status).phrase,
        'status': status,
        'detail': detail,
        **extensions,
        }
    response = json_response(document, status=status)
    response.content_type = 'application/problem+json'
    return response
