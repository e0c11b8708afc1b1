# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The subscriber portal's WSGI application and what its routes share.

The portal serves one database (`[lk_portal] database` or the environment
variable LK_PORTAL_DATABASE) at the root of the site, so its URLs carry no
database name; config/wsgi.py sends it every request that is neither sao's
(/admin/) nor trytond's (/<database>/…, /rpc/).

Routes are plain functions registered with `route()` and decorated, in this
order, with trytond's `with_pool` and `with_transaction()` then `subscriber`
(sign-in required) when they show a subscriber's data: `subscriber` runs the
handler as the inactive portal user with the web user in the context, so
the record rules of lk_base decide what it can see.
"""
import datetime as dt
import hmac
import logging
import os
import random
import secrets
import time
from functools import wraps
from pathlib import Path
from urllib.parse import quote, urlsplit

from werkzeug.exceptions import (
    Forbidden, HTTPException, InternalServerError, NotFound)
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.middleware.shared_data import SharedDataMiddleware
from werkzeug.routing import BaseConverter, IntegerConverter, Map, Rule
from werkzeug.utils import redirect

from trytond import backend, config
from trytond.exceptions import UserError, UserWarning
from trytond.i18n import gettext
from trytond.model.exceptions import AccessError
from trytond.modules.lk_base.format import format_date, format_money
from trytond.modules.lk_base.portal import as_subscriber
from trytond.pool import Pool
from trytond.protocols.wrappers import Request, Response
from trytond.transaction import Transaction

from .i18n import N_, catalog, loader
from .problem import problem

HERE = Path(__file__).resolve().parent
LANGUAGES = ['ru', 'en']
SESSION_COOKIE = 'lk_session'
CSRF_COOKIE = 'lk_csrf'
LANGUAGE_COOKIE = 'lk_lang'
CSRF_FIELD = 'csrf_token'
# Record ids are the database's INTEGER (PostgreSQL's 4 bytes)
ID_MAX = 2 ** 31 - 1
# The months a path may name
MONTH_MIN, MONTH_MAX = dt.date(2000, 1, 1), dt.date(2099, 12, 1)
logger = logging.getLogger(__name__)


class IdNotFound(NotFound):
    "A path's id beyond ID_MAX: no record has it"


class IdConverter(IntegerConverter):
    """The `int` of the portal's rules, always a record id: an id that no
    record can have is a 404 of the portal, not an SQL error nor another
    application's path"""
    regex = r'[0-9]+'

    def to_python(self, value):
        if len(value) > len(str(ID_MAX)) or int(value) > ID_MAX:
            raise IdNotFound()
        return int(value)


class MonthConverter(BaseConverter):
    """`<month:period>`: a month written YYYY-MM, as the date of its first
    day; one that is no month of DATE_MIN to DATE_MAX is a 404 like an id
    beyond ID_MAX"""
    regex = r'[0-9]{4}-[0-9]{2}'

    def to_python(self, value):
        try:
            month = dt.date(int(value[:4]), int(value[5:]), 1)
        except ValueError:
            raise IdNotFound()
        if not (MONTH_MIN <= month <= MONTH_MAX):
            raise IdNotFound()
        return month

    def to_url(self, value):
        return f'{value:%Y-%m}'


url_map = Map(strict_slashes=False, converters={
        'int': IdConverter, 'month': MonthConverter})
_endpoints = {}
# The module of each endpoint
_modules = {}


def database_name():
    return (os.environ.get('LK_PORTAL_DATABASE')
        or config.get('lk_portal', 'database'))


def session_idle():
    "Seconds without a request after which a session ends"
    return dt.timedelta(seconds=config.getint(
            'lk_portal', 'session_idle', default=30 * 60))


def session_lifetime():
    "Seconds after the sign-in after which a session ends in any case"
    return dt.timedelta(seconds=config.getint(
            'lk_portal', 'session_lifetime', default=12 * 60 * 60))


def module_of(func):
    "The Tryton module that defines func"
    parts = func.__module__.split('.')
    if parts[:2] == ['trytond', 'modules'] and len(parts) > 2:
        return parts[2]
    return 'lk_portal'


def route(path, methods=('GET',), endpoint=None):
    """Register the function as the handler of path (werkzeug rule syntax)

    A feature module's routes answer only in a database where the module
    is activated: elsewhere their paths are unknown (404)."""
    def decorator(func):
        name = endpoint or f'{func.__module__}.{func.__name__}'
        url_map.add(Rule(path, endpoint=name, methods=list(methods)))
        _endpoints[name] = func
        _modules[name] = module_of(func)
        return func
    return decorator


def activated_modules(pool):
    "The modules activated in the pool's database"
    # filled by the pool from ir.module when it loads the database
    return set(pool._modules)


def database_pool(database_name):
    """The pool of the database, loaded as trytond's with_pool does; the
    routes of the feature modules are registered once it is"""
    if database_name not in Pool.database_list():
        with Transaction().start(database_name, 0, readonly=True):
            Pool(database_name).init()
    return Pool(database_name)


def owns(path):
    "Whether the portal answers this path"
    if any(path == p or path.startswith(p + '/') for p in STATIC):
        return True
    adapter = url_map.bind('localhost')
    try:
        adapter.match(path, method='GET')
    except IdNotFound:
        return True
    except NotFound:
        return False
    except HTTPException:
        return True
    return True


def _application(environ, start_response):
    request = Request(environ)
    request.max_content_length = config.getint(
        'lk_portal', 'max_upload_size', default=10 * 1024 * 1024)
    adapter = url_map.bind_to_environ(environ)
    try:
        database = database_name()
        if database:
            modules = activated_modules(database_pool(database))
        endpoint, arguments = adapter.match()
        if database and _modules[endpoint] not in modules:
            raise NotFound()
        response = _retried(_endpoints[endpoint], request, database, arguments)
    except HTTPException as exception:
        response = error_response(request, exception)
    except Exception as exception:
        # The last resort: a bad input must have answered 4xx before
        failure = InternalServerError()
        failure.__cause__ = exception
        response = error_response(request, failure)
    return response(environ, start_response)


# How long a request is tried again for a concurrent transaction
RETRY_TIME = 10


def _retried(handler, request, database, arguments):
    """The handler's answer, run again when the database refused it for a
    concurrent transaction (a serialization failure, a lock not available),
    as trytond's dispatcher does: with_transaction retries only the writing
    requests, and [database] retry times, not a lock its transaction must
    start with (Tryton's lock() takes it NOWAIT): here for RETRY_TIME
    seconds, as long as one waits for the other requests of a meter"""
    deadline = time.monotonic() + RETRY_TIME
    count = 0
    while True:
        try:
            return handler(request, database, **arguments)
        except Exception as exception:
            # with_pool answers it as a 500 that carries it
            cause = getattr(exception, 'description', exception)
            if (time.monotonic() > deadline
                    or not isinstance(cause, backend.DatabaseOperationalError)
                    or isinstance(cause, backend.DatabaseTimeoutError)):
                raise
        count += 1
        logger.debug("Retry %s: %i", request.path, count)
        time.sleep(min(0.02 * count, 0.2) * random.uniform(0.5, 1.5))


STATIC = {
    '/static': str(HERE / 'static'),
    # at the root so that the service worker may control every page
    '/sw.js': str(HERE / 'static' / 'sw.js'),
    '/manifest.webmanifest': str(HERE / 'static' / 'manifest.webmanifest'),
    '/favicon.ico': str(HERE / 'static' / 'favicon.ico'),
    }
_served = SharedDataMiddleware(_application, STATIC, cache_timeout=3600)


def application(environ, start_response):
    """The portal behind [web] num_proxies trusted proxies, as trytond is:
    their X-Forwarded-For and X-Forwarded-Proto give the client's address
    (what sign-in throttling counts by) and scheme (the Secure flag of the
    cookies); without proxies a client's own such headers count for
    nothing"""
    app = _served
    if num_proxies := config.getint('web', 'num_proxies', default=0):
        app = ProxyFix(
            app, x_for=num_proxies, x_proto=num_proxies,
            x_host=num_proxies, x_port=num_proxies, x_prefix=num_proxies)
    return app(environ, start_response)


def is_api(request):
    return request.path.startswith('/api/')


# What an error answers when the handler gave no message of its own
# (portal catalog); the API's 404 is a resource, not a page
ERRORS = {
    400: N_("The request is not valid."),
    401: N_("Sign in to continue."),
    403: N_("You may not do this."),
    404: N_("There is no such page."),
    405: N_("This address does not answer this method."),
    413: N_("What you sent is too large."),
    429: N_("Too many attempts: wait a few minutes and try again."),
    500: N_("Something went wrong on our side: try again later."),
    }
API_ERRORS = {
    **ERRORS,
    404: N_("Not found."),
    405: N_("This method is not allowed here."),
    }


def error_response(request, exception):
    """An HTTP error as a problem document for the API, a page otherwise

    A server error is logged and answered without its cause; an error that
    carries a Tryton error (trytond's with_pool) answers its message, but an
    access error is a 403 that names no model."""
    if getattr(exception, 'response', None) is not None:
        return exception.response
    status = exception.code or 500
    if status >= 500:
        logger.error(
            "%s failed", request.path, exc_info=(
                type(exception), exception, exception.__traceback__))
    message = exception.description
    if isinstance(message, AccessError):
        # refused, without the names of the models and fields
        status, message = 403, None
    elif isinstance(message, (UserError, UserWarning)):
        message = message.message
    if (status >= 500 or not isinstance(message, str)
            or message == type(exception).description):
        errors = API_ERRORS if is_api(request) else ERRORS
        message = errors.get(status, errors[400 if status < 500 else 500])
        try:
            message = catalog(language(request)).gettext(message)
        except Exception:
            pass
    try:
        if is_api(request):
            response = problem(status, message)
        else:
            response = render_error(request, status, message)
    except Exception:
        logger.exception("the error page of %s failed", request.path)
        response = Response(
            message, status=status, mimetype='text/plain',
            headers={'Cache-Control': 'no-store'})
    if getattr(exception, 'valid_methods', None):
        response.headers['Allow'] = ', '.join(exception.valid_methods)
    return response


def render_error(request, status, message):
    "The error page; it shows no user: it may come after the transaction"
    try:
        return render(
            request, 'error.html', status=status, code=status,
            message=message, back=back_path(request), web_user=None)
    except Exception:
        logger.exception("the error page of %s failed", request.path)
        return Response(message or '', status=status, mimetype='text/plain')


def back_path(request):
    "The path of the portal's page that linked to the request, or None"
    referrer = urlsplit(request.referrer or '')
    if not referrer.path or referrer.netloc != request.host:
        return None
    path = safe_next(referrer.path + (
            f'?{referrer.query}' if referrer.query else ''), default=None)
    if path != request.full_path.rstrip('?'):
        return path


# Language

def translate(request, message):
    "The message in the request's language (the portal's catalog)"
    return catalog(language(request)).gettext(message)


def language(request):
    "The language of the request: cookie, then Accept-Language, then ru"
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    best = request.accept_languages.best_match(LANGUAGES)
    return best or LANGUAGES[0]


# CSRF: every form repeats a token that only the browser's own cookies give.
# Signed in, it is an HMAC of the session key, so it changes with the
# session; signed out, a random one in a cookie, replaced at sign-in and
# sign-out (rotate_csrf).

def _bound_csrf_token(request):
    "The token the cookies of the request prove, or None"
    if key := request.cookies.get(SESSION_COOKIE):
        return hmac.new(
            key.encode('utf-8'), b'lk_portal csrf', 'sha256').hexdigest()
    return request.cookies.get(CSRF_COOKIE)


def csrf_token(request):
    token = _bound_csrf_token(request)
    if not token:
        token = getattr(request, '_lk_csrf', None) or secrets.token_urlsafe()
        request._lk_csrf = token
    return token


def check_csrf(request):
    expected = _bound_csrf_token(request)
    given = request.form.get(CSRF_FIELD) or request.headers.get(
        'X-CSRF-Token')
    if not (expected and given and hmac.compare_digest(
                expected.encode('utf-8'), given.encode('utf-8'))):
        raise Forbidden(gettext('lk_portal.msg_csrf'))


def rotate_csrf(request, response):
    "A new signed-out token: the one of the pages before counts no more"
    set_cookie(request, response, CSRF_COOKIE, secrets.token_urlsafe())


def set_cookie(request, response, name, value, max_age=None):
    response.set_cookie(
        name, value, max_age=max_age, path='/', httponly=True,
        secure=request.scheme == 'https', samesite='Lax')


# Rendering

def render(request, template, status=200, **values):
    "Render the template in the request's language as an HTML response"
    code = language(request)
    translate = catalog(code).gettext
    values.setdefault('web_user', getattr(request, 'lk_web_user', None))
    values.setdefault('menu', getattr(request, 'lk_menu', []))
    values.setdefault('header', header(request, values['web_user']))
    stream = loader(code).load(template).generate(
        request=request, _=translate, language=code, languages=LANGUAGES,
        csrf_field=CSRF_FIELD, csrf_token=csrf_token(request),
        format_money=format_money, format_date=format_date, **values)
    response = Response(
        stream.render('html', doctype='html5', encoding='utf-8'),
        status=status, content_type='text/html; charset=utf-8')
    if not (request.cookies.get(CSRF_COOKIE)
            or request.cookies.get(SESSION_COOKIE)):
        set_cookie(request, response, CSRF_COOKIE, csrf_token(request))
    # Every page holds a token of the session, most a subscriber's data: no
    # cache keeps them, so Back after the sign-out asks the server again
    response.headers['Cache-Control'] = 'no-store'
    response.headers['X-Content-Type-Options'] = 'nosniff'
    response.headers['Referrer-Policy'] = 'same-origin'
    response.headers['X-Frame-Options'] = 'DENY'
    response.headers['Content-Security-Policy'] = (
        "default-src 'self'; img-src 'self' data:; object-src 'none'; "
        "frame-ancestors 'none'; base-uri 'self'; form-action 'self'")
    return response


def header(request, web_user):
    """The items of the signed-in header (lk.portal header): asked once per
    request, only for a page (never for the API), as the subscriber even
    from a page that is not `subscriber`'s"""
    if web_user is None:
        return []
    if not hasattr(request, 'lk_header'):
        with Transaction().set_context(language=language(request)), \
                as_subscriber(web_user):
            request.lk_header = Pool().get('lk.portal').header(
                request, web_user)
    return request.lk_header


def safe_next(target, default='/'):
    """Only a local path may be a redirection target: no scheme nor host,
    no backslash (browsers read /\\ as //) nor control character (a header
    injection)"""
    if not target or not isinstance(target, str):
        return default
    if any(ord(c) < 0x20 or 0x7f <= ord(c) < 0xa0 or c == '\\'
            for c in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith('/') \
            or target.startswith('//'):
        return default
    return target


# Sessions: web.user.session keys, in a cookie or as a bearer token

def session_key(request):
    """The session key of the request: a bearer token for the API, the
    cookie for the pages (so that a browser's cookie never authenticates
    an API call, nor a token taken elsewhere a page)"""
    if is_api(request):
        authorization = request.headers.get('Authorization', '')
        if authorization.lower().startswith('bearer '):
            return authorization[7:].strip()
        return None
    return request.cookies.get(SESSION_COOKIE)


def session_user(request, pool):
    """The web user of the request's session, or None

    Ends the session past its idle timeout or absolute lifetime, or when
    the user is blocked, deactivated or their address is not confirmed:
    the rules of the sign-in (web.user lk_sign_in) hold for every request
    however its session was made."""
    Session = pool.get('web.user.session')
    WebUser = pool.get('web.user')
    key = session_key(request)
    if not key:
        return None
    # One query on every request, not the ORM's search and two reads
    session, user = Session.__table__(), WebUser.__table__()
    cursor = Transaction().connection.cursor()
    cursor.execute(*session.join(
            user, condition=session.user == user.id).select(
            session.id, session.create_date, session.write_date, user.id,
            user.active, user.blocked, user.email_valid,
            where=session.key == key, limit=1))
    row = cursor.fetchone()
    if not row:
        return None
    (session_id, created, written, user_id, active, blocked,
        email_valid) = row
    now = dt.datetime.now()
    if (now - created > session_lifetime()
            or now - (written or created) > session_idle()
            or not active or blocked or not email_valid):
        _session_aside(Session, session_id, Session.delete)
        return None
    # Touched at most once a minute: a read of a page writes rarely
    if now - (written or created) > dt.timedelta(minutes=1):
        _session_aside(
            Session, session_id, lambda s: Session.write(s, {}))
    return WebUser(user_id)


def _session_aside(Session, session_id, change):
    """Change the session in a short transaction of its own that neither
    waits nor fails the request: concurrent requests of one session (a page
    and its service worker, an app's parallel calls) touch it at the same
    moment, and one touch is enough"""
    try:
        with Transaction().new_transaction() as transaction:
            transaction.database.lock_records(
                transaction.connection, Session._table, [session_id])
            change([Session(session_id)])
    except backend.DatabaseOperationalError:
        logger.debug("session %s changed concurrently", session_id)


def subscriber(func):
    """The handler needs a signed-in subscriber: it runs as the portal user
    and gets the web user as keyword argument `web_user`"""
    @wraps(func)
    def wrapper(request, pool, *args, **kwargs):
        web_user = session_user(request, pool)
        if not web_user:
            if is_api(request):
                return problem(401, gettext('lk_portal.msg_sign_in_required'))
            return redirect('/login?next=' + quote(
                    request.full_path.rstrip('?'), safe='/'))
        request.lk_web_user = web_user
        with Transaction().set_context(language=language(request)), \
                as_subscriber(web_user):
            request.lk_menu = pool.get('lk.portal').menu(request, web_user)
            response = func(
                request, pool, *args, web_user=web_user, **kwargs)
        # A subscriber's data: no cache keeps it
        response.headers.setdefault('Cache-Control', 'no-store')
        return response
    return wrapper


def not_found():
    "What another subscriber's record looks like: it does not exist"
    return NotFound(gettext('lk_portal.msg_not_found'))


def valid_accesses(request, web_user):
    """The user's valid accesses by account id (lk.account.access
    valid_for), read once per request: the header, the home panels and a
    feature's page share them"""
    cached = getattr(request, 'lk_valid_accesses', None)
    if cached is None or cached[0] != web_user.id:
        Access = Pool().get('lk.account.access')
        cached = request.lk_valid_accesses = (
            web_user.id, Access.valid_for(web_user))
    return cached[1]


def valid_access(web_user, account):
    "The user's valid access to the account, else 404"
    Access = Pool().get('lk.account.access')
    access = Access.valid_for(web_user, [account]).get(int(account))
    if not access:
        raise not_found()
    return access


def get_or_404(Model, record_id):
    "The record if the rules let the subscriber see it, else 404"
    records = Model.search([('id', '=', record_id)], limit=1)
    if not records:
        raise not_found()
    return records[0]
