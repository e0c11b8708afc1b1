# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The subscriber JSON API at /api/v1/, the contract of the mobile app.

Errors are problem documents (RFC 9457) with translated messages; money is a
string with two decimals, dates ISO 8601.

Every operation is declared with `api_route()`, which registers the portal
route and records the operation for the OpenAPI 3.1 document served at
/api/v1/openapi.json: the document is built from that registry, not kept by
hand. Operations that need a signed-in subscriber (the default) run through
`portal.subscriber`, i.e. as the portal user whose record rules decide what
the subscriber sees; a record they may not see answers 404, never 403.

Authentication: POST /api/v1/auth/token answers a web.user session key to
send as `Authorization: Bearer <token>`; the session follows the portal's
idle timeout and absolute lifetime.

Request bodies are JSON (application/json) read by `json_body()`: a body
larger than JSON_MAX_SIZE bytes answers 413, one that is not JSON or nests
deeper than JSON_MAX_DEPTH 400; its numbers are read as decimals, so none
overflows a float. A value out of its range answers 422 with the problem's
`field` naming it.
"""
import datetime as dt
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from functools import wraps
from http import HTTPStatus

from werkzeug.exceptions import (
    HTTPException, MethodNotAllowed, NotFound, RequestEntityTooLarge)
from werkzeug.routing import Map, Rule

from trytond.exceptions import RateLimitException, UserError
from trytond.i18n import gettext
from trytond.model.exceptions import AccessError
from trytond.modules.lk_base.access import RIGHTS as ACCESS_RIGHTS
from trytond.modules.lk_base.portal import as_subscriber
from trytond.protocols.wrappers import Response, with_pool, with_transaction
from trytond.transaction import Transaction

from . import portal
from .exceptions import SignInError
from .problem import abort_problem, json_response, problem

API = '/api/v1'
VERSION = '1.0.0'
# What a user may do on an account: see it, and the rights of lk.account.access
RIGHTS = ['view'] + [f.removeprefix('right_') for f in ACCESS_RIGHTS]
JSON_MAX_SIZE = 64 * 1024
JSON_MAX_DEPTH = 16
# The dates the API takes: anything else is a typing error
DATE_MIN, DATE_MAX = dt.date(2000, 1, 1), dt.date(2099, 12, 31)
DATE = re.compile(r'[0-9]{4}-[0-9]{2}-[0-9]{2}')
MONTH = re.compile(r'[0-9]{4}-(0[1-9]|1[0-2])')
EMAIL_MAX, PASSWORD_MAX = 254, 1024


# Reading a request

def _json_int(text):
    "An integer of JSON; a huge one stays a Decimal: it is no id nor count"
    return int(text) if len(text) <= 18 else Decimal(text)


def _json_constant(name):
    raise ValueError(f"{name} is not JSON")


def _depth(document):
    "How deep the containers of the document nest (without recursion)"
    deepest, stack = 0, [(document, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, (dict, list)):
            deepest = max(deepest, depth)
            values = node.values() if isinstance(node, dict) else node
            stack.extend((v, depth + 1) for v in values)
    return deepest


def json_body(request):
    """The JSON document of the request's body, its numbers as int or
    Decimal; a 413 problem past JSON_MAX_SIZE, a 400 one when it is not JSON
    (UTF-8, sent as application/json: no cross-site form can post it) or
    nests deeper than JSON_MAX_DEPTH"""
    if not request.is_json:
        abort_problem(400, gettext(
                'lk_portal.msg_api_body_not_json', depth=JSON_MAX_DEPTH))
    data = None
    if (request.content_length or 0) <= JSON_MAX_SIZE:
        try:
            data = request.get_data(cache=True)
        except RequestEntityTooLarge:
            pass
    if data is None or len(data) > JSON_MAX_SIZE:
        abort_problem(413, gettext(
                'lk_portal.msg_api_body_too_large', size=JSON_MAX_SIZE))
    try:
        document = json.loads(
            data.decode('utf-8'), parse_float=Decimal, parse_int=_json_int,
            parse_constant=_json_constant)
    except (ValueError, RecursionError):
        document = None
    else:
        if _depth(document) <= JSON_MAX_DEPTH:
            return document
    abort_problem(400, gettext(
            'lk_portal.msg_api_body_not_json', depth=JSON_MAX_DEPTH))


def parse_date(value, field):
    "The ISO 8601 date of the field, from DATE_MIN to DATE_MAX, or a 422"
    try:
        if not isinstance(value, str) or not DATE.fullmatch(value):
            raise ValueError(value)
        date = dt.date.fromisoformat(value)
        if not (DATE_MIN <= date <= DATE_MAX):
            raise ValueError(value)
    except ValueError:
        abort_problem(422, gettext(
                'lk_portal.msg_api_field_date', field=field,
                start=DATE_MIN.isoformat(), end=DATE_MAX.isoformat()),
            field=field)
    return date


def parse_month(value, field):
    """The month YYYY-MM of the field (as the date of its first day), from
    portal.MONTH_MIN to MONTH_MAX, or a 422"""
    month = None
    if isinstance(value, str) and MONTH.fullmatch(value):
        try:
            month = dt.date(int(value[:4]), int(value[5:]), 1)
        except ValueError:
            pass
    if not month or not (portal.MONTH_MIN <= month <= portal.MONTH_MAX):
        abort_problem(422, gettext(
                'lk_portal.msg_api_field_month', field=field,
                start=f'{portal.MONTH_MIN:%Y-%m}',
                end=f'{portal.MONTH_MAX:%Y-%m}'),
            field=field)
    return month


# JSON schemas of the documents (OpenAPI 3.1 uses JSON Schema 2020-12)

def nullable(type_, **schema):
    return {'type': [type_, 'null'], **schema}


SCHEMAS = {
    'Problem': {
        'type': 'object',
        'description': "An error (RFC 9457); detail is translated into the "
        "request's language.",
        'required': ['type', 'title', 'status', 'detail'],
        'properties': {
            'type': {'type': 'string'},
            'title': {'type': 'string'},
            'status': {'type': 'integer'},
            'detail': {'type': 'string'},
            'field': {
                'type': 'string',
                'description': "The field of the request that is wrong, "
                "e.g. readings[0].value.",
                },
            },
        },
    'Credentials': {
        'type': 'object',
        'required': ['email', 'password'],
        'properties': {
            'email': {
                'type': 'string', 'format': 'email', 'minLength': 1,
                'maxLength': EMAIL_MAX},
            'password': {
                'type': 'string', 'minLength': 1, 'maxLength': PASSWORD_MAX},
            },
        },
    'Token': {
        'type': 'object',
        'required': ['token', 'token_type', 'expires_in'],
        'properties': {
            'token': {'type': 'string'},
            'token_type': {'const': 'Bearer'},
            'expires_in': {
                'type': 'integer',
                'description': "Seconds after which the token ends in any "
                "case.",
                },
            'idle_timeout': {
                'type': 'integer',
                'description': "Seconds without a request after which the "
                "token ends.",
                },
            },
        },
    'Me': {
        'type': 'object',
        'required': ['id', 'email', 'email_valid', 'language'],
        'properties': {
            'id': {'type': 'integer'},
            'email': {'type': 'string'},
            'email_valid': {'type': 'boolean'},
            'language': {'type': 'string', 'enum': portal.LANGUAGES},
            },
        },
    'OrganizationRef': {
        'type': 'object',
        'required': ['id', 'name'],
        'properties': {
            'id': {'type': 'integer'},
            'name': {'type': 'string'},
            },
        },
    'Account': {
        'type': 'object',
        'required': [
            'id', 'number', 'address', 'organization', 'role', 'rights',
            'state'],
        'properties': {
            'id': {'type': 'integer'},
            'number': {'type': 'string'},
            'address': {'type': 'string'},
            'apartment': nullable('string'),
            'holder': nullable('string'),
            'organization': {'$ref': '#/components/schemas/OrganizationRef'},
            'role': {
                'type': 'string', 'enum': ['owner', 'delegate'],
                'description': "The role of the signed-in user.",
                },
            'rights': {
                'type': 'array',
                'items': {'type': 'string', 'enum': RIGHTS},
                'description': "What the signed-in user may do.",
                },
            'end_date': nullable(
                'string', format='date',
                description="The last day of a delegate's access."),
            'state': {'type': 'string', 'enum': ['active', 'closed']},
            },
        },
    'Organization': {
        'type': 'object',
        'required': ['id', 'name'],
        'properties': {
            'id': {'type': 'integer'},
            'name': {'type': 'string'},
            'short_name': nullable('string'),
            'description': nullable('string'),
            'address': nullable('string'),
            'phone': nullable('string'),
            'emergency_phone': nullable('string'),
            'email': nullable('string'),
            'office_hours': nullable('string'),
            'website': nullable('string'),
            },
        },
    'OpenAPI': {
        'type': 'object',
        'required': ['openapi', 'info', 'paths'],
        'properties': {
            'openapi': {'type': 'string'},
            'info': {'type': 'object'},
            'paths': {'type': 'object'},
            },
        },
    }


def ref(name):
    return {'$ref': f'#/components/schemas/{name}'}


def array_of(name):
    return {'type': 'array', 'items': ref(name)}


# The registry of operations

@dataclass
class Operation:
    path: str
    method: str
    endpoint: str
    summary: str
    description: str
    auth: bool
    status: int
    request_schema: dict | None
    response_schema: dict | None
    responses: dict = field(default_factory=dict)
    module: str = 'lk_portal'
    parameters: list = field(default_factory=list)
    media_type: str = 'application/json'


operations = []
# The same rules without the catch-all, to tell 404 from 405
_api_map = Map(strict_slashes=False, converters=portal.url_map.converters)


def api_route(path, methods=('GET',), summary='', description='',
        auth=True, status=200, request_schema=None, response_schema=None,
        responses=(), parameters=(), media_type='application/json'):
    """Register func as the API operation at API + path (werkzeug syntax)

    The handler is wrapped, in this order, with `with_pool`,
    `with_transaction()`, the request's language and, unless auth is False,
    `portal.subscriber` (it then gets the web user as `web_user`).
    responses lists the error statuses it may answer besides those implied
    (401 with auth, 404 with path parameters, 400, 413 and 422 with a
    request body). parameters are OpenAPI parameter objects of the query;
    media_type is the one of the successful answer."""
    def decorator(func):
        handler = _user_errors(func)
        if auth and 'POST' in methods:
            # a POST sent again with its Idempotency-Key is applied once
            from .idempotency import idempotent
            handler = idempotent(handler)
        if auth:
            handler = portal.subscriber(handler)
        handler = with_pool(with_transaction()(_in_language(handler)))
        endpoint = f'{func.__module__}.{func.__name__}'
        portal.route(API + path, methods=methods, endpoint=endpoint)(
            wraps(func)(handler))
        _api_map.add(Rule(API + path, endpoint=endpoint, methods=methods))
        errors = set(responses)
        if auth:
            errors.add(401)
        if '<' in path:
            errors.add(404)
        if request_schema is not None:
            errors.update({400, 413, 422})
        for method in methods:
            operations.append(Operation(
                    path=API + path, method=method.lower(),
                    endpoint=endpoint, summary=summary,
                    description=description or (func.__doc__ or '').strip(),
                    auth=auth, status=status,
                    request_schema=request_schema,
                    response_schema=response_schema,
                    module=portal.module_of(func),
                    parameters=list(parameters), media_type=media_type,
                    responses={
                        code: HTTPStatus(code).phrase
                        for code in sorted(errors)}))
        return func
    return decorator


def _in_language(func):
    """Run with the request's language, for the messages; the answer, a
    subscriber's data or a token, is not to be stored by any cache"""
    @wraps(func)
    def wrapper(request, pool, *args, **kwargs):
        with Transaction().set_context(language=portal.language(request)):
            response = func(request, pool, *args, **kwargs)
        response.headers.setdefault('Cache-Control', 'no-store')
        if response.status_code == 401:
            response.headers.setdefault('WWW-Authenticate', 'Bearer')
        return response
    return wrapper


def _user_errors(func):
    """Tryton's errors as problems: what the rules hide does not exist,
    other user errors are bad requests"""
    @wraps(func)
    def wrapper(request, pool, *args, **kwargs):
        try:
            return func(request, pool, *args, **kwargs)
        except AccessError:
            raise NotFound(gettext('lk_portal.msg_api_not_found'))
        except UserError as exception:
            return problem(400, exception.message)
    return wrapper


_CONVERTER = re.compile(
    r'<(?:(?P<converter>\w+)(?:\([^)]*\))?:)?(?P<name>\w+)>')
_CONVERTER_SCHEMAS = {
    'int': {'type': 'integer', 'minimum': 0, 'maximum': portal.ID_MAX},
    'float': {'type': 'number'},
    'uuid': {'type': 'string', 'format': 'uuid'},
    'month': {
        'type': 'string', 'pattern': r'^20[0-9]{2}-(0[1-9]|1[0-2])$',
        'description': "A month, YYYY-MM.",
        },
    }


def _openapi_path(path):
    "The OpenAPI path and parameters of a werkzeug rule"
    parameters = []
    for match in _CONVERTER.finditer(path):
        parameters.append({
                'name': match['name'],
                'in': 'path',
                'required': True,
                'schema': _CONVERTER_SCHEMAS.get(
                    match['converter'], {'type': 'string'}),
                })
    return _CONVERTER.sub(r'{\g<name>}', path), parameters


def _problem_response(description):
    return {
        'description': description,
        'content': {
            'application/problem+json': {'schema': ref('Problem')},
            },
        }


def _referenced(node, schemas):
    """The schemas that node refers to ($ref), with the ones they refer
    to: a module's schemas show only where its operations do"""
    names, stack = set(), [node]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            target = node.get('$ref')
            if isinstance(target, str) and target.startswith(
                    '#/components/schemas/'):
                name = target.rsplit('/', 1)[1]
                if name in schemas and name not in names:
                    names.add(name)
                    stack.append(schemas[name])
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return {n: s for n, s in schemas.items() if n in names}


def openapi_document(modules):
    "The OpenAPI 3.1 document of the operations of the modules"
    paths = {}
    for operation in operations:
        if operation.module not in modules:
            continue
        path, parameters = _openapi_path(operation.path)
        success = {'description': HTTPStatus(operation.status).phrase}
        if operation.response_schema is not None:
            success['content'] = {
                operation.media_type: {'schema': operation.response_schema},
                }
        responses = {str(operation.status): success}
        for code, phrase in operation.responses.items():
            responses[str(code)] = _problem_response(phrase)
        document = {
            'operationId': operation.endpoint.rsplit('.', 1)[-1],
            'summary': operation.summary,
            'parameters': parameters + operation.parameters + [
                {'$ref': '#/components/parameters/AcceptLanguage'}],
            'responses': responses,
            'security': [{'bearer': []}] if operation.auth else [],
            }
        if operation.description:
            document['description'] = operation.description
        if operation.request_schema is not None:
            document['requestBody'] = {
                'required': True,
                'content': {
                    'application/json': {
                        'schema': operation.request_schema},
                    },
                }
        paths.setdefault(path, {})[operation.method] = document
    return {
        'openapi': '3.1.0',
        'info': {
            'title': "Личный кабинет: subscriber API",
            'version': VERSION,
            'description': __doc__,
            },
        'jsonSchemaDialect': 'https://json-schema.org/draft/2020-12/schema',
        'paths': paths,
        'components': {
            'schemas': _referenced(paths, SCHEMAS),
            'parameters': {
                'AcceptLanguage': {
                    'name': 'Accept-Language',
                    'in': 'header',
                    'required': False,
                    'description': "The language of the messages "
                    "(default ru).",
                    'schema': {'type': 'string'},
                    },
                },
            'securitySchemes': {
                'bearer': {
                    'type': 'http',
                    'scheme': 'bearer',
                    'description': "The token of POST /api/v1/auth/token.",
                    },
                },
            },
        }


# Documents

def _account(account, access):
    return {
        'id': account.id,
        'number': account.number,
        'address': account.address,
        'apartment': account.apartment,
        'holder': account.holder,
        'organization': {
            'id': account.company.id,
            'name': account.company.display_name,
            },
        'role': access.role,
        'rights': [r for r in RIGHTS if access.has_right(r)],
        'end_date': access.end_date,
        'state': account.state,
        }


def _organization(company):
    return {
        'id': company.id,
        'name': company.party.name,
        'short_name': company.short_name,
        'description': company.description,
        'address': company.public_address,
        'phone': company.phone,
        'emergency_phone': company.emergency_phone,
        'email': company.email,
        'office_hours': company.office_hours,
        'website': company.website,
        }


def not_found():
    "What another subscriber's record looks like to the API"
    return NotFound(gettext('lk_portal.msg_api_not_found'))


def own_accounts(pool, web_user, domain=None):
    "The accounts the rules let the subscriber see, with their access"
    Account = pool.get('lk.account')
    Access = pool.get('lk.account.access')
    accounts = Account.search(domain or [])
    accesses = Access.valid_for(web_user, accounts)
    return [(a, accesses[a.id]) for a in accounts if a.id in accesses]


# Operations

@api_route('/auth/token', methods=['POST'], auth=False, status=201,
    summary="Sign in: a bearer token for the e-mail and password",
    request_schema=ref('Credentials'), response_schema=ref('Token'),
    responses=[401, 403, 429])
def sign_in(request, pool):
    """The portal's sign-in (web.user lk_sign_in): failed attempts are
    counted per e-mail and client network, past the limit the answer is 429
    at once with Retry-After. The 401 answer is the same whether the e-mail
    is known or not, and for a blocked user; 403 for the right password of
    an address not confirmed yet."""
    WebUser = pool.get('web.user')
    data = json_body(request) if request.is_json else request.form
    if not isinstance(data, dict):
        data = {}
    email, password = data.get('email'), data.get('password')
    if not (isinstance(email, str) and isinstance(password, str)
            and email and password):
        return problem(400, gettext('lk_portal.msg_api_credentials_missing'))
    for name, value, size in [
            ('email', email, EMAIL_MAX), ('password', password, PASSWORD_MAX)]:
        if len(value) > size:
            return problem(422, gettext(
                    'lk_portal.msg_api_field_too_long', field=name,
                    size=size), field=name)
    try:
        user = WebUser.lk_sign_in(email, password)
    except RateLimitException:
        response = problem(429, gettext('lk_portal.msg_too_many_attempts'))
        response.headers['Retry-After'] = str(
            max(1, WebUser.lk_sign_in_wait(email)))
        return response
    except SignInError as exception:
        return problem(403, exception.message)
    if not user:
        return problem(401, gettext('lk_portal.msg_sign_in_failed'))
    return json_response({
            'token': user.new_session(),
            'token_type': 'Bearer',
            'expires_in': int(portal.session_lifetime().total_seconds()),
            'idle_timeout': int(portal.session_idle().total_seconds()),
            }, status=201)


@api_route('/auth/token', methods=['DELETE'], auth=False, status=204,
    summary="Sign out: the token stops working", responses=[401])
def sign_out(request, pool):
    Session = pool.get('web.user.session')
    if not portal.session_user(request, pool):
        return problem(401, gettext('lk_portal.msg_sign_in_required'))
    Session.delete(Session.search([
                ('key', '=', portal.session_key(request)),
                ]))
    return Response(status=204)


@api_route('/me', summary="The signed-in user", response_schema=ref('Me'))
def me(request, pool, web_user):
    WebUser = pool.get('web.user')
    user, = WebUser.browse([web_user.id])
    return json_response({
            'id': user.id,
            'email': user.email,
            'email_valid': bool(user.email_valid),
            'language': portal.language(request),
            })


@api_route('/accounts', summary="The accounts of the signed-in user",
    response_schema=array_of('Account'))
def accounts(request, pool, web_user):
    "Every account the user holds or was granted, in any organization."
    return json_response([
            _account(account, access)
            for account, access in own_accounts(pool, web_user)])


@api_route('/accounts/<int:account_id>', summary="One account of the user",
    response_schema=ref('Account'))
def account(request, pool, web_user, account_id):
    "Another subscriber's account does not exist (404)."
    found = own_accounts(pool, web_user, [('id', '=', account_id)])
    if not found:
        raise not_found()
    (account, access), = found
    return json_response(_account(account, access))


def _own_organizations(pool, web_user):
    companies = {}
    for account, _ in own_accounts(pool, web_user):
        companies.setdefault(account.company.id, account.company)
    return sorted(companies.values(), key=lambda c: c.display_name)


@api_route('/organizations',
    summary="The organizations of the user's accounts",
    response_schema=array_of('Organization'))
def organizations(request, pool, web_user):
    "Their public profile: contacts, emergency line, office hours."
    return json_response([
            _organization(c) for c in _own_organizations(pool, web_user)])


@api_route('/organizations/<int:organization_id>',
    summary="One organization of the user's accounts",
    response_schema=ref('Organization'))
def organization(request, pool, web_user, organization_id):
    for company in _own_organizations(pool, web_user):
        if company.id == organization_id:
            return json_response(_organization(company))
    raise not_found()


@api_route('/organizations/<int:organization_id>/public', auth=False,
    summary="The public profile of any organization, without sign-in",
    response_schema=ref('Organization'), responses=[404])
def organization_public(request, pool, organization_id):
    "Read as the portal user for no subscriber, with access checked."
    Company = pool.get('company.company')
    with as_subscriber(None):
        companies = Company.search(
            [('id', '=', organization_id)], limit=1)
        if not companies:
            raise not_found()
        return json_response(_organization(companies[0]))


@api_route('/openapi.json', auth=False,
    summary="This document: the API's contract (OpenAPI 3.1)",
    response_schema=ref('OpenAPI'))
def openapi(request, pool):
    return json_response(openapi_document(portal.activated_modules(pool)))


# Any other /api/ request: a problem, not trytond's or a page's answer

@portal.route(
    '/api/<path:rest>', endpoint='lk_portal.api.unknown',
    methods=['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'])
@with_pool
@with_transaction(readonly=True)
@_in_language
def unknown(request, pool, rest):
    adapter = _api_map.bind_to_environ(request.environ)
    try:
        adapter.match()
    except MethodNotAllowed as exception:
        response = problem(
            405, gettext('lk_portal.msg_api_method_not_allowed',
                method=request.method))
        response.headers['Allow'] = ', '.join(exception.valid_methods)
        return response
    except HTTPException:
        pass
    return problem(404, gettext('lk_portal.msg_api_not_found'))
