# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The API's debts, settlement history, charges and payment documents
(registered by portal.py: they answer only where lk_billing and lk_portal
are activated)

Money is a decimal string with two places ("1234.56", negative for an
overpayment), volumes and tariffs decimal strings with their own places,
periods months written YYYY-MM. Another subscriber's account, or one whose
access ended, does not exist (404); a period that is no month is a 422
problem naming the parameter.
"""
from decimal import Decimal

from werkzeug.exceptions import NotFound

from trytond.modules.lk_portal.api import (
    SCHEMAS, api_route, array_of, json_response, not_found, nullable,
    parse_month, ref)

from .routes import (
    account_access, billed_period, document_response, month_url, total_debt,
    visible_debts)

MONEY = r'^-?[0-9]+\.[0-9]{2}$'
DECIMAL = r'^-?[0-9]+(\.[0-9]+)?$'
MONTH_PATTERN = r'^20[0-9]{2}-(0[1-9]|1[0-2])$'


def _money(description=None):
    schema = {'$ref': '#/components/schemas/Money'}
    if description:
        schema = {'allOf': [schema], 'description': description}
    return schema


SCHEMAS.update({
    'Money': {
        'type': 'string', 'pattern': MONEY,
        'description': "An amount in roubles, a decimal string with two "
        "places: \"1234.56\".",
        },
    'Month': {
        'type': 'string', 'pattern': MONTH_PATTERN,
        'description': "A billing period: a month, YYYY-MM.",
        },
    'ServiceRef': {
        'type': 'object',
        'required': ['id', 'code', 'name'],
        'properties': {
            'id': {'type': 'integer'},
            'code': {'type': 'string'},
            'name': {'type': 'string'},
            'unit': nullable('string'),
            },
        },
    'ServiceDebt': {
        'type': 'object',
        'required': ['service', 'closing'],
        'properties': {
            'service': ref('ServiceRef'),
            'closing': _money(
                "The service's balance at the end of the period."),
            },
        },
    'AccountDebt': {
        'type': 'object',
        'required': [
            'account_id', 'number', 'address', 'organization', 'period',
            'closing', 'in_transit', 'debt', 'deadline', 'services'],
        'properties': {
            'account_id': {'type': 'integer'},
            'number': {'type': 'string'},
            'address': {'type': 'string'},
            'organization': ref('OrganizationRef'),
            'period': {
                'anyOf': [ref('Month'), {'type': 'null'}],
                'description': "The latest billed period (null before the "
                "first).",
                },
            'closing': _money("The balance at the end of that period."),
            'in_transit': _money(
                "Payments made in the Personal Account after that period, "
                "until the organization's next upload contains them."),
            'debt': _money(
                "closing less in_transit; negative for an overpayment."),
            'deadline': nullable(
                'string', format='date',
                description="The date by which the period is to be paid."),
            'services': array_of('ServiceDebt'),
            },
        },
    'Debt': {
        'type': 'object',
        'required': ['total', 'accounts'],
        'properties': {
            'total': {
                'anyOf': [ref('Money'), {'type': 'null'}],
                'description': "The debt summed over the billed accounts "
                "(negative for an overpayment); null when none is billed.",
                },
            'accounts': array_of('AccountDebt'),
            },
        },
    'SettlementPeriod': {
        'type': 'object',
        'required': ['period', 'opening', 'charged', 'paid', 'closing'],
        'properties': {
            'period': ref('Month'),
            'opening': _money("The debt at the start of the period."),
            'charged': ref('Money'),
            'paid': ref('Money'),
            'closing': _money("The debt at the end of the period."),
            },
        },
    'Charge': {
        'type': 'object',
        'required': [
            'id', 'service', 'kind', 'volume', 'unit', 'tariff', 'amount',
            'recalculation', 'recalculation_reason', 'total', 'basis',
            'basis_details', 'coefficient'],
        'properties': {
            'id': {'type': 'integer'},
            'service': ref('ServiceRef'),
            'kind': {
                'type': 'string', 'enum': ['charge', 'penalty'],
                'description': "A penalty (пени) is a line of its own.",
                },
            'volume': nullable('string', pattern=DECIMAL),
            'unit': nullable('string'),
            'tariff': nullable('string', pattern=DECIMAL),
            'amount': _money("The amount before recalculation."),
            'recalculation': ref('Money'),
            'recalculation_reason': nullable('string'),
            'total': _money("amount plus recalculation."),
            'basis': {
                'type': ['string', 'null'],
                'enum': ['meter', 'average', 'norm', 'fixed', None],
                'description': "By meter readings, average consumption, "
                "consumption norm, or fixed (by area).",
                },
            'basis_details': nullable(
                'string', description="The readings, average or norm."),
            'coefficient': nullable(
                'string', pattern=DECIMAL,
                description="The raising coefficient applied, if any."),
            },
        },
    'PaymentReceived': {
        'type': 'object',
        'required': ['id', 'date', 'amount', 'source', 'reference'],
        'properties': {
            'id': {'type': 'integer'},
            'date': {'type': 'string', 'format': 'date'},
            'amount': ref('Money'),
            'source': {
                'type': 'string', 'enum': ['organization', 'lk'],
                'description': "The organization's upload, or an online "
                "payment in the Personal Account.",
                },
            'reference': nullable('string'),
            },
        },
    'PeriodCharges': {
        'type': 'object',
        'required': [
            'account_id', 'period', 'balance', 'deadline', 'charges',
            'payments'],
        'properties': {
            'account_id': {'type': 'integer'},
            'period': ref('Month'),
            'balance': {
                'anyOf': [ref('SettlementPeriod'), {'type': 'null'}],
                'description': "The account's balance of the period, null "
                "before the organization loaded it.",
                },
            'deadline': nullable('string', format='date'),
            'charges': array_of('Charge'),
            'payments': array_of('PaymentReceived'),
            },
        },
    })

PERIOD_PARAMETER = {
    'name': 'period',
    'in': 'query',
    'required': True,
    'description': "The month, YYYY-MM.",
    'schema': {'type': 'string', 'pattern': MONTH_PATTERN},
    }


def _decimal(value, places):
    "A decimal string with the field's places, or None"
    if value is None:
        return None
    return str(Decimal(value).quantize(Decimal(1).scaleb(-places)))


def _service(service):
    return {
        'id': service.id,
        'code': service.code,
        'name': service.name,
        'unit': service.unit,
        }


def _account_debt(account, debt):
    return {
        'account_id': account.id,
        'number': account.number,
        'address': account.address,
        'organization': {
            'id': account.company.id,
            'name': account.company.display_name,
            },
        'period': month_url(debt.period) if debt.period else None,
        'closing': debt.closing,
        'in_transit': debt.in_transit,
        'debt': debt.debt,
        'deadline': debt.deadline,
        'services': [
            {'service': _service(s), 'closing': c} for s, c in debt.services],
        }


def _line(line):
    return {
        'period': month_url(line.period),
        'opening': line.opening,
        'charged': line.charged,
        'paid': line.paid,
        'closing': line.closing,
        }


def _charge(charge):
    return {
        'id': charge.id,
        'service': _service(charge.service),
        'kind': charge.kind,
        'volume': _decimal(charge.volume, 3),
        'unit': charge.unit,
        'tariff': _decimal(charge.tariff, 4),
        'amount': charge.amount,
        'recalculation': charge.recalculation or Decimal(0),
        'recalculation_reason': charge.recalculation_reason,
        'total': charge.total,
        'basis': charge.basis,
        'basis_details': charge.basis_details,
        'coefficient': _decimal(charge.coefficient, 2),
        }


def _payment(payment):
    return {
        'id': payment.id,
        'date': payment.date,
        'amount': payment.amount,
        'source': payment.source,
        'reference': payment.reference,
        }


def _account(pool, web_user, account_id, period=None, document=False):
    """The account of a valid access of the user (and the records of the
    period), or a 404 problem"""
    try:
        if period is None:
            return account_access(pool, web_user, account_id)[0]
        return billed_period(pool, web_user, account_id, period, document)
    except NotFound:
        raise not_found()


@api_route('/debt', summary="The debt of the user's accounts and its total",
    response_schema=ref('Debt'))
def debt(request, pool, web_user):
    """Every account of a valid access, the ones not billed yet with a
    null period; the total sums the billed ones."""
    accesses, debts = visible_debts(request, web_user)
    accounts = sorted(
        (a.account for a in accesses.values()),
        key=lambda a: (a.address or '', a.number))
    return json_response({
            'total': total_debt(debts.values()),
            'accounts': [
                _account_debt(a, debts[a.id]) for a in accounts
                if a.id in debts],
            })


@api_route('/accounts/<int:account_id>/history',
    summary="The settlement history of an account, the newest period first",
    response_schema=array_of('SettlementPeriod'))
def history(request, pool, web_user, account_id):
    "Every period kept, summed over the services, never cut off."
    Balance = pool.get('lk.balance')
    account = _account(pool, web_user, account_id)
    return json_response([_line(ln) for ln in Balance.history(account)])


@api_route('/accounts/<int:account_id>/charges',
    summary="The charges of a period with their basis",
    response_schema=ref('PeriodCharges'), parameters=[PERIOD_PARAMETER],
    responses=[422])
def charges(request, pool, web_user, account_id):
    """Each line with its volume, tariff, recalculation and reason, basis
    and coefficient; penalties are lines of kind penalty. A period without
    charges nor balance is a 404; a period that is no month a 422."""
    _account(pool, web_user, account_id)
    period = parse_month(request.args.get('period'), 'period')
    account, found = _account(pool, web_user, account_id, period)
    return json_response({
            'account_id': account.id,
            'period': month_url(period),
            'balance': _line(found.line) if found.line else None,
            'deadline': account.company.billing_deadline(period),
            'charges': [_charge(c) for c in found.charges],
            'payments': [_payment(p) for p in found.payments],
            })


@api_route('/accounts/<int:account_id>/documents/<month:period>.pdf',
    summary="The payment document (ЕПД) of a period as PDF",
    response_schema={'type': 'string', 'format': 'binary'},
    media_type='application/pdf')
def payment_document(request, pool, web_user, account_id, period):
    """With the organization's requisites, the charges and the payment QR
    code; a period without charges nor balance is a 404."""
    account, _found = _account(
        pool, web_user, account_id, period, document=True)
    return document_response(pool, account, period)
