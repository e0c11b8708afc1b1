# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The API's announcements, read marks and notification settings
(registered by portal.py: they answer only where lk_announcement and
lk_portal are activated)

Another subscriber's announcement, or one no longer published, does not
exist (404). Date-times are RFC 3339 in UTC."""
from trytond.i18n import gettext

from trytond.modules.lk_portal.api import (
    SCHEMAS, api_route, array_of, json_body, not_found, nullable, ref)
from trytond.modules.lk_portal.problem import abort_problem, json_response

from .routes import mark_read, visible_announcements, write_settings
from .web_user import REMINDERS

SCHEMAS.update({
    'Outage': {
        'type': 'object',
        'required': ['what', 'where', 'start', 'end'],
        'properties': {
            'what': {'type': 'string'},
            'where': {'type': 'string'},
            'start': {'type': 'string', 'format': 'date-time'},
            'end': nullable('string', format='date-time'),
            },
        },
    'Announcement': {
        'type': 'object',
        'required': [
            'id', 'organization', 'title', 'body', 'published', 'until',
            'pinned', 'urgent', 'outage', 'read'],
        'properties': {
            'id': {'type': 'integer'},
            'organization': ref('OrganizationRef'),
            'title': {'type': 'string'},
            'body': {'type': 'string'},
            'published': {'type': 'string', 'format': 'date-time'},
            'until': nullable('string', format='date-time'),
            'pinned': {'type': 'boolean'},
            'urgent': {'type': 'boolean'},
            'outage': {
                'anyOf': [ref('Outage'), {'type': 'null'}],
                'description': "What an urgent announcement cuts off, "
                "where and when.",
                },
            'read': {'type': 'boolean'},
            },
        },
    'Announcements': {
        'type': 'object',
        'required': ['unread', 'announcements'],
        'properties': {
            'unread': {'type': 'integer', 'minimum': 0},
            'announcements': array_of('Announcement'),
            },
        },
    'NotificationSettings': {
        'type': 'object',
        'required': list(REMINDERS),
        'properties': {
            'readings': {
                'type': 'boolean',
                'description': "E-mails when the readings window opens and "
                "two days before it closes.",
                },
            'debt': {
                'type': 'boolean',
                'description': "A monthly e-mail while there is a debt.",
                },
            },
        'additionalProperties': False,
        },
    })


def _datetime(value):
    "RFC 3339 in UTC, as Tryton stores its date-times"
    return value.replace(microsecond=0).isoformat() + 'Z' if value else None


def _announcement(announcement, unread):
    return {
        'id': announcement.id,
        'organization': {
            'id': announcement.company.id,
            'name': announcement.company.display_name,
            },
        'title': announcement.title,
        'body': announcement.body,
        'published': _datetime(announcement.publish_from),
        'until': _datetime(announcement.publish_until),
        'pinned': bool(announcement.pinned),
        'urgent': bool(announcement.urgent),
        'outage': {
            'what': announcement.outage_what,
            'where': announcement.outage_where,
            'start': _datetime(announcement.outage_from),
            'end': _datetime(announcement.outage_until),
            } if announcement.urgent else None,
        'read': announcement not in unread,
        }


def _visible(request, web_user, announcement_id):
    announcements, unread = visible_announcements(request, web_user)
    for announcement in announcements:
        if announcement.id == announcement_id:
            return announcement, unread
    raise not_found()


@api_route('/announcements',
    summary="The published announcements of the user's organizations",
    response_schema=ref('Announcements'))
def announcements(request, pool, web_user):
    """Those whose audience holds an account of the user, pinned first,
    then the newest, with the number not read yet."""
    found, unread = visible_announcements(request, web_user)
    return json_response({
            'unread': len(unread),
            'announcements': [_announcement(a, unread) for a in found],
            })


@api_route('/announcements/<int:announcement_id>',
    summary="One announcement", response_schema=ref('Announcement'))
def announcement(request, pool, web_user, announcement_id):
    "Reading it does not mark it read: POST …/read does."
    found, unread = _visible(request, web_user, announcement_id)
    return json_response(_announcement(found, unread))


@api_route('/announcements/<int:announcement_id>/read', methods=('POST',),
    summary="Mark an announcement read", response_schema=ref('Announcement'))
def announcement_read(request, pool, web_user, announcement_id):
    "Marking it again changes nothing."
    found, _unread = _visible(request, web_user, announcement_id)
    mark_read(web_user, found)
    return json_response(_announcement(found, set()))


def _settings(pool, web_user):
    WebUser = pool.get('web.user')
    user = WebUser(web_user.id)
    return {k: bool(getattr(user, f)) for k, f in REMINDERS.items()}


@api_route('/notifications', summary="The user's reminder settings",
    response_schema=ref('NotificationSettings'))
def notifications(request, pool, web_user):
    return json_response(_settings(pool, web_user))


@api_route('/notifications', methods=('PUT',),
    summary="Switch the user's reminders on or off",
    request_schema=ref('NotificationSettings'),
    response_schema=ref('NotificationSettings'))
def notifications_update(request, pool, web_user):
    "Both settings, written at once."
    data = json_body(request)
    if not isinstance(data, dict):
        abort_problem(422, gettext(
                'lk_announcement.msg_api_settings_object'))
    values = {}
    for key in sorted(set(data) | set(REMINDERS)):
        value = data.get(key)
        if key not in REMINDERS or not isinstance(value, bool):
            abort_problem(422, gettext(
                    'lk_announcement.msg_api_setting', field=key),
                field=key)
        values[REMINDERS[key]] = value
    write_settings(web_user, values)
    return json_response(_settings(pool, web_user))
