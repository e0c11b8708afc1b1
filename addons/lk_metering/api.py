# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The API's meter readings (registered by portal.py: they answer only
where lk_metering and lk_portal are activated)

Values are strings with the register's decimals; the rules are the
portal's: another subscriber's meter does not exist (404), a delegate
without the readings right is refused (403), a reading the organization's
rules refuse is a 422 problem with the translated message, and so is a value
or a date out of range, naming its field.
"""
from decimal import Decimal

from werkzeug.exceptions import NotFound

from trytond.exceptions import UserError
from trytond.i18n import gettext
from trytond.model.exceptions import AccessError
from trytond.transaction import Transaction

from trytond.modules.lk_portal.api import (
    DATE_MAX, DATE_MIN, SCHEMAS, api_route, array_of, json_body,
    json_response, not_found, nullable, own_accounts, parse_date, problem,
    ref)

from .exceptions import ReadingJumpError
from .routes import (
    VALUE_DIGITS, format_value, meter_access, parse_value, window_status)

SERVICES = ['electricity', 'cold_water', 'hot_water', 'gas', 'heat']
STATES = ['new', 'accepted', 'rejected', 'exported', 'superseded']

SCHEMAS.update({
    'ReadingValue': {
        'type': 'string', 'pattern': r'^-?\d+(\.\d+)?$',
        'description': "A decimal number as a string, with the register's "
        "decimals.",
        },
    'Reading': {
        'type': 'object',
        'required': ['id', 'meter_id', 'channel_id', 'channel', 'date',
            'value', 'period', 'state', 'source'],
        'properties': {
            'id': {'type': 'integer'},
            'meter_id': {'type': 'integer'},
            'channel_id': {'type': 'integer'},
            'channel': {'type': 'string'},
            'date': {'type': 'string', 'format': 'date'},
            'value': ref('ReadingValue'),
            'period': {
                'type': 'string', 'format': 'date',
                'description': "The first day of the month the reading "
                "counts for.",
                },
            'state': {'type': 'string', 'enum': STATES},
            'reject_reason': nullable('string'),
            'consumption': {
                'anyOf': [ref('ReadingValue'), {'type': 'null'}],
                'description': "Against the previous accepted reading of "
                "the channel.",
                },
            'source': {'type': 'string'},
            },
        },
    'Channel': {
        'type': 'object',
        'required': ['id', 'name', 'code', 'last_reading'],
        'properties': {
            'id': {'type': 'integer'},
            'name': {'type': 'string'},
            'code': nullable('string'),
            'last_reading': {
                'anyOf': [ref('Reading'), {'type': 'null'}],
                'description': "The last new, accepted or exported "
                "reading.",
                },
            },
        },
    'Window': {
        'type': 'object',
        'required': ['open', 'period', 'next_from', 'next_to'],
        'properties': {
            'open': {'type': 'boolean'},
            'period': nullable(
                'string', format='date',
                description="The period a reading sent today counts for."),
            'next_from': nullable('string', format='date'),
            'next_to': nullable('string', format='date'),
            },
        },
    'Meter': {
        'type': 'object',
        'required': ['id', 'account_id', 'serial', 'name', 'service',
            'digits', 'decimals', 'state', 'channels', 'window',
            'can_submit'],
        'properties': {
            'id': {'type': 'integer'},
            'account_id': {'type': 'integer'},
            'serial': {'type': 'string'},
            'name': {'type': 'string'},
            'service': {'type': 'string', 'enum': SERVICES},
            'place': nullable('string'),
            'digits': {'type': 'integer'},
            'decimals': {'type': 'integer'},
            'installed_on': nullable('string', format='date'),
            'verification_date': nullable('string', format='date'),
            'verification_overdue': {'type': 'boolean'},
            'state': {'type': 'string', 'enum': ['active', 'removed']},
            'channels': array_of('Channel'),
            'window': ref('Window'),
            'can_submit': {
                'type': 'boolean',
                'description': "Whether the signed-in user may submit "
                "readings.",
                },
            },
        },
    'ReadingsSubmission': {
        'type': 'object',
        'required': ['readings'],
        'properties': {
            'readings': {
                'type': 'array',
                'minItems': 1,
                'items': {
                    'type': 'object',
                    'required': ['channel_id', 'value'],
                    'properties': {
                        'channel_id': {'type': 'integer'},
                        'value': {
                            'type': ['string', 'number'],
                            'description': "Preferably a string: "
                            "\"12345.678\"; from 0, at most "
                            f"{VALUE_DIGITS} digits before the point "
                            "(and the meter's own).",
                            },
                        },
                    },
                'description': "One value for every channel of the meter.",
                },
            'date': {
                'type': 'string', 'format': 'date',
                'description': "The date of the reading (default today), "
                f"from {DATE_MIN.isoformat()} to {DATE_MAX.isoformat()}.",
                },
            'confirm': {
                'type': 'boolean',
                'description': "Send the values even if far above the "
                "meter's usual consumption: true once the subscriber "
                "confirmed them after a 409 answer.",
                },
            },
        },
    'ReadingsSubmitted': {
        'type': 'object',
        'required': ['meter_id', 'period', 'readings'],
        'properties': {
            'meter_id': {'type': 'integer'},
            'period': {'type': 'string', 'format': 'date'},
            'readings': array_of('Reading'),
            },
        },
    })


def _value(value, meter):
    return format_value(value, meter.decimals) if value is not None else None


def _reading(reading):
    meter = reading.meter
    return {
        'id': reading.id,
        'meter_id': meter.id,
        'channel_id': reading.channel.id,
        'channel': reading.channel.name,
        'date': reading.date,
        'value': _value(reading.value, meter),
        'period': reading.period,
        'state': reading.state,
        'reject_reason': reading.reject_reason,
        'consumption': _value(reading.consumption, meter),
        'source': reading.source,
        }


def _meter(pool, meter, access):
    Meter = pool.get('lk.meter')
    last = Meter.last_readings(meter) or {}
    window = window_status(pool, meter)
    return {
        'id': meter.id,
        'account_id': meter.account.id,
        'serial': meter.serial,
        'name': meter.rec_name,
        'service': meter.service,
        'place': meter.place,
        'digits': meter.digits,
        'decimals': meter.decimals,
        'installed_on': meter.installed_on,
        'verification_date': meter.verification_date,
        'verification_overdue': bool(meter.verification_overdue),
        'state': meter.state,
        'channels': [{
                'id': c.id,
                'name': c.name,
                'code': c.code,
                'last_reading': (
                    _reading(last[c.id]) if c.id in last else None),
                } for c in meter.channels],
        'window': {
            'open': window.open,
            'period': window.period,
            'next_from': window.next_from,
            'next_to': window.next_to,
            },
        'can_submit': access.has_right('readings'),
        }


def _meter_access(pool, web_user, meter_id):
    "The meter and the user's access, or a 404 problem"
    try:
        return meter_access(pool, web_user, meter_id)
    except NotFound:
        raise not_found()


@api_route('/accounts/<int:account_id>/meters',
    summary="The meters of one account of the user",
    response_schema=array_of('Meter'))
def account_meters(request, pool, web_user, account_id):
    """With their channels, register, verification date, last readings and
    the submission window of today."""
    Meter = pool.get('lk.meter')
    found = own_accounts(pool, web_user, [('id', '=', account_id)])
    if not found:
        raise not_found()
    (account, access), = found
    meters = Meter.search([('account', '=', account.id)],
        order=[('state', 'ASC'), ('id', 'ASC')])
    return json_response([_meter(pool, m, access) for m in meters])


@api_route('/meters/<int:meter_id>/readings',
    summary="The readings of a meter, the last first",
    response_schema=array_of('Reading'))
def meter_readings(request, pool, web_user, meter_id):
    "Every reading kept, whatever its state."
    Reading = pool.get('lk.meter.reading')
    meter, _ = _meter_access(pool, web_user, meter_id)
    readings = Reading.search([
            ('meter', '=', meter.id),
            ], order=[('date', 'DESC'), ('id', 'DESC')])
    return json_response([_reading(r) for r in readings])


@api_route('/meters/<int:meter_id>/readings', methods=['POST'], status=201,
    summary="Submit the readings of a meter (every channel)",
    request_schema=ref('ReadingsSubmission'),
    response_schema=ref('ReadingsSubmitted'), responses=[403, 409, 422])
def submit_readings(request, pool, web_user, meter_id):
    """The organization's rules apply: every channel at once, not below the
    previous value unless the register rolled over, the submission window.
    A refused submission is a 422 problem with the reason; a delegate
    without the readings right gets 403. A value far above the meter's
    usual consumption (more than 3 times the average month of the last
    year, by default) is a 409 problem with `field` "confirm" and
    `confirm_required` true: once the subscriber checked it, send the same
    readings again with `"confirm": true`."""
    Reading = pool.get('lk.meter.reading')
    meter, access = _meter_access(pool, web_user, meter_id)
    data = json_body(request)
    bad_request = problem(400, gettext('lk_metering.msg_api_readings_body'))
    if not isinstance(data, dict) or not isinstance(
            data.get('readings'), list) or not data['readings']:
        return bad_request
    values = {}
    channels = {c.id for c in meter.channels}
    for index, item in enumerate(data['readings']):
        if not isinstance(item, dict):
            return bad_request
        channel, value = item.get('channel_id'), item.get('value')
        if (type(channel) is not int or channel not in channels
                or type(value) not in {str, int, Decimal}):
            return bad_request
        field = f'readings[{index}].value'
        try:
            value = parse_value(str(value))
        except ValueError:
            value = None
        if value is None:
            return problem(422, gettext(
                    'lk_portal.msg_api_field_value', field=field,
                    digits=VALUE_DIGITS), field=field)
        values[channel] = value
    date = None
    if data.get('date') is not None:
        date = parse_date(data['date'], 'date')
    confirm = data.get('confirm', False)
    if type(confirm) is not bool:
        return problem(422, gettext(
                'lk_metering.msg_api_confirm'), field='confirm')
    if not access.has_right('readings'):
        return problem(403, gettext('lk_metering.msg_readings_right'))
    try:
        created = Reading.submit(
            meter, values, date=date, source='api', web_user=web_user,
            confirm=confirm)
    except AccessError:
        Transaction().rollback()
        return problem(403, gettext('lk_metering.msg_readings_right'))
    except ReadingJumpError as exception:
        Transaction().rollback()
        return problem(
            409, exception.message, field='confirm', confirm_required=True)
    except UserError as exception:
        Transaction().rollback()
        return problem(422, exception.message)
    return json_response({
            'meter_id': meter.id,
            'period': created[0].period if created else None,
            'readings': [_reading(r) for r in created],
            }, status=201)
