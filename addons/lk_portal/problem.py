# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"JSON answers of the API and its errors as RFC 9457 problem documents"
import json
from decimal import Decimal
from http import HTTPStatus

from werkzeug.exceptions import HTTPException

from trytond.protocols.wrappers import Response


def _default(value):
    if isinstance(value, Decimal):
        return f'{value:.2f}'
    if hasattr(value, 'isoformat'):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def json_response(data, status=200):
    "data as JSON: Decimal as a string with two decimals, dates ISO 8601"
    return Response(
        json.dumps(data, default=_default, ensure_ascii=False),
        status=status, content_type='application/json')


def problem(status, detail, title=None, **extensions):
    """An RFC 9457 problem document; `field` names the field of the request
    that is wrong"""
    document = {
        'type': 'about:blank',
        'title': title or HTTPStatus(status).phrase,
        'status': status,
        'detail': str(detail),
        **extensions,
        }
    response = json_response(document, status=status)
    response.content_type = 'application/problem+json'
    response.headers['Cache-Control'] = 'no-store'
    return response


def abort_problem(status, detail, **extensions):
    "Answer the problem from wherever the handler is"
    raise HTTPException(response=problem(status, detail, **extensions))
