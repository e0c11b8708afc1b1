# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Idempotency-Key for the API's POST operations

A phone that lost the answer to a POST sends it again with the same
`Idempotency-Key` header: the first answer is replayed (with the header
`Idempotent-Replayed: true`) and nothing happens a second time. The same key
with another request (method, path or body) answers 422. Keys belong to the
signed-in web user, are kept KEY_LIFETIME and only successful (2xx) answers
are stored: an answer that changed nothing may be tried again.

The requests of one user that carry a key are serialized by a lock on the
web user (Tryton's lock(): the transaction starts again holding it), so a
retry that arrives while the first request still runs waits for its answer.
"""
import datetime as dt
import hashlib
import re
from functools import wraps

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, Unique, fields
from trytond.protocols.wrappers import Response
from trytond.transaction import Transaction, without_check_access

from .problem import problem

HEADER = 'Idempotency-Key'
KEY_LIFETIME = dt.timedelta(hours=24)
# visible ASCII, as the IETF draft's examples and what clients send
KEY = re.compile(r'[\x21-\x7e]{1,255}')


class IdempotencyKey(ModelSQL):
    "The stored answer of an API request sent with an Idempotency-Key"
    __name__ = 'lk.portal.idempotency_key'
    __string__ = "API Idempotency Key"

    web_user = fields.Many2One(
        'web.user', "Subscriber User", required=True, ondelete='CASCADE')
    key = fields.Char("Key", required=True, strip=False, size=255)
    fingerprint = fields.Char(
        "Fingerprint", required=True, strip=False,
        help="The SHA-256 of the method, path and body of the request.")
    status = fields.Integer("Status", required=True)
    content_type = fields.Char("Content Type", strip=False)
    location = fields.Char("Location", strip=False)
    body = fields.Text("Body", strip=False)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('web_user_key_unique', Unique(t, t.web_user, t.key),
                'lk_portal.msg_idempotency_key_unique'),
            ]
        cls._sql_indexes.add(
            Index(t, (t.create_date, Index.Range())))

    @classmethod
    def expire(cls, web_user=None):
        """Delete the keys older than KEY_LIFETIME, of web_user only if
        given (each keyed request of a user deletes theirs)"""
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        where = table.create_date < dt.datetime.now() - KEY_LIFETIME
        if web_user is not None:
            where &= table.web_user == int(web_user)
        cursor.execute(*table.delete(where=where))


def fingerprint(request):
    digest = hashlib.sha256()
    for part in [request.method, request.path, request.query_string]:
        digest.update(part.encode('utf-8') if isinstance(part, str) else part)
        digest.update(b'\0')
    digest.update(request.get_data(cache=True))
    return digest.hexdigest()


def _replay(stored):
    "The stored answer (a dict of search_read) again"
    response = Response(
        stored['body'] or '', status=stored['status'],
        content_type=stored['content_type'])
    if stored['location']:
        response.headers['Location'] = stored['location']
    response.headers['Idempotent-Replayed'] = 'true'
    return response


def idempotent(func):
    """Apply the Idempotency-Key of the request (if any) to the handler: it
    runs inside `portal.subscriber`, which gives the `web_user` keyword"""
    @wraps(func)
    def wrapper(request, pool, *args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return func(request, pool, *args, **kwargs)
        if not KEY.fullmatch(key):
            return problem(400, gettext(
                    'lk_portal.msg_idempotency_key_invalid', header=HEADER))
        web_user = kwargs['web_user']
        WebUser = pool.get('web.user')
        Key = pool.get('lk.portal.idempotency_key')
        digest = fingerprint(request)
        # One request with a key at a time per user: the retry of a
        # request still running waits for its answer
        WebUser.lock([web_user])
        with without_check_access():
            Key.expire(web_user)
            stored = Key.search_read([
                    ('web_user', '=', web_user.id),
                    ('key', '=', key),
                    ], limit=1, fields_names=[
                    'fingerprint', 'status', 'content_type', 'location',
                    'body'])
        if stored:
            stored, = stored
            if stored['fingerprint'] != digest:
                return problem(422, gettext(
                        'lk_portal.msg_idempotency_key_reused',
                        header=HEADER))
            return _replay(stored)
        response = func(request, pool, *args, **kwargs)
        if 200 <= response.status_code < 300:
            with without_check_access():
                Key.create([{
                            'web_user': web_user.id,
                            'key': key,
                            'fingerprint': digest,
                            'status': response.status_code,
                            'content_type': response.content_type,
                            'location': response.headers.get('Location'),
                            'body': response.get_data(as_text=True),
                            }])
        return response
    return wrapper
