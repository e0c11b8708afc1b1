# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The WSGI entry point of lk: trytond with the sao web client at /admin/.

    TRYTOND_CONFIG=/etc/lk/trytond.conf uwsgi --wsgi-file config/wsgi.py ...
    (or gunicorn --chdir /srv/lk config.wsgi:application)

- /admin/ serves sao (LK_SAO_ROOT, default var/sao/node_modules/tryton-sao)
  and /admin/node_modules/ its dependencies, only what sao loads (no
  dotfile, package metadata, sources nor build tools), with lk's
  config/sao/custom.js, custom.css and Russian catalogue
  config/sao/locale/ru.json; any other /admin/ request (sao's JSON-RPC at
  /admin/rpc/ and /admin/<db>/rpc/) goes to trytond without the /admin
  prefix. The database list is closed ([database] list = False): sao opens
  the database of its URL, /admin/#<database>.
- trytond answers the paths of its routes (JSON-RPC for proteus at
  /<db>/rpc/ and /rpc/, /<db>/rest/…, /<db>/data/…, the bus, the avatars),
  with its 405 for another method on them, but for none of its other
  paths: it would answer every one with its English 405 (its CORS rule
  takes OPTIONS on any path).
- Everything else is the subscriber portal's and its API's (lk_portal), for
  the database [lk_portal] database: its own paths, / included, and the 404
  page in the subscriber's language for any unknown one. Its answers are not
  stored by default (Cache-Control: no-store), but for its static files.
- Every answer is neither sniffed nor framed (X-Content-Type-Options,
  X-Frame-Options and CSP frame-ancestors, unless it sets its own CSP).

The environment is read like trytond.application does: TRYTOND_CONFIG,
TRYTOND_LOGGING_CONFIG or TRYTOND_LOGGING_LEVEL, TRYTOND_DATABASE_NAMES.
"""
import csv
import logging.config
import os
from io import StringIO
from pathlib import Path

if logging_config := os.environ.get('TRYTOND_LOGGING_CONFIG'):
    logging.config.fileConfig(logging_config)
else:
    logging.basicConfig(
        level=int(os.environ.get('TRYTOND_LOGGING_LEVEL') or logging.ERROR),
        format=('%(process)s %(thread)s [%(asctime)s] '
            '%(levelname)s %(name)s %(message)s'))
logging.captureWarnings(True)

if os.environ.get('TRYTOND_COROUTINE'):
    from gevent import monkey
    monkey.patch_all()

from werkzeug.exceptions import (  # noqa: E402
    HTTPException, MethodNotAllowed, NotFound)
from werkzeug.utils import redirect  # noqa: E402

from trytond import backend, config  # noqa: E402
from trytond.pool import Pool  # noqa: E402
from trytond.modules.lk_portal import portal  # noqa: E402
from trytond.wsgi import SharedDataMiddlewareIndex, app  # noqa: E402

__all__ = ['application']

ROOT = Path(__file__).resolve().parent.parent
ADMIN = '/admin'
SAO_ROOT = Path(os.environ.get('LK_SAO_ROOT')
    or ROOT / 'var' / 'sao' / 'node_modules' / 'tryton-sao')
# Installed from npm, sao's dependencies are its siblings; built from
# sources, they are in its own node_modules.
NODE_MODULES = (SAO_ROOT / 'node_modules'
    if (SAO_ROOT / 'node_modules').is_dir() else SAO_ROOT.parent)
# What sao 8.0 loads: its index.html and folders, and the scripts, styles,
# fonts and images of the packages it runs with (not its build tools)
SAO_FILES = {
    '', 'index.html', 'custom.js', 'custom.css', 'dist', 'images', 'locale',
    'sounds'}
SAO_PACKAGES = {
    'billboard.js', 'bootstrap', 'bootstrap-rtl-ondemand', 'd3',
    'fullcalendar', 'gettext.js', 'jquery', 'moment', 'mousetrap',
    'papaparse', 'sortablejs'}
SAO_ASSETS = {
    '.css', '.eot', '.gif', '.js', '.png', '.svg', '.ttf', '.woff',
    '.woff2'}
SECURITY_HEADERS = [
    ('X-Content-Type-Options', 'nosniff'),
    ('X-Frame-Options', 'DENY'),
    ('Content-Security-Policy', "frame-ancestors 'none'"),
    ]

# Unlike trytond.application, no check that no thread runs yet: the demo and
# the tests import this module from a process that already used trytond.
Pool.start()
if db_names := os.environ.get('TRYTOND_DATABASE_NAMES'):
    # Read with csv so database names can include special characters
    for name in next(csv.reader(StringIO(db_names))):
        Pool(name).init()
        backend.Database(name).close()


def _trytond_without_prefix(environ, start_response):
    environ['SCRIPT_NAME'] = environ.get('SCRIPT_NAME', '') + ADMIN
    environ['PATH_INFO'] = environ['PATH_INFO'][len(ADMIN):]

    # trytond scopes its session cookie to /<database>, which the browser
    # would not send back to sao's /admin/<database>/rpc/
    def start_response_under_admin(status, headers, exc_info=None):
        headers = [
            (name, value.replace('; Path=/', f'; Path={ADMIN}/', 1))
            if name.lower() == 'set-cookie' else (name, value)
            for name, value in headers]
        return start_response(status, headers, exc_info)
    return app(environ, start_response_under_admin)


# Static files for GET and HEAD only, everything else falls through
_admin = SharedDataMiddlewareIndex(_trytond_without_prefix, {
        ADMIN + '/custom.js': str(ROOT / 'config' / 'sao' / 'custom.js'),
        ADMIN + '/custom.css': str(ROOT / 'config' / 'sao' / 'custom.css'),
        # sao's own Russian catalogue is empty: lk's translates it
        ADMIN + '/locale/ru.json': str(
            ROOT / 'config' / 'sao' / 'locale' / 'ru.json'),
        ADMIN + '/node_modules': str(NODE_MODULES),
        ADMIN: str(SAO_ROOT),
        }, cache_timeout=config.getint('web', 'cache_timeout'))


def _redirect_to_admin(environ, start_response):
    location = environ.get('SCRIPT_NAME', '') + ADMIN + '/'
    return redirect(location)(environ, start_response)


def _sao_refuses(path):
    "Whether the path under /admin/ is a file of sao's folders it never loads"
    parts = path[len(ADMIN) + 1:].split('/')
    if parts[0] == 'node_modules':
        return (len(parts) < 3 or parts[1] not in SAO_PACKAGES
            or any(p.startswith('.') for p in parts)
            or Path(parts[-1]).suffix not in SAO_ASSETS)
    if not SAO_ROOT.joinpath(parts[0]).exists():
        return False  # trytond's
    return parts[0] not in SAO_FILES or any(
        p.startswith('.') for p in parts)


def _trytond_owns(environ):
    """Whether the request is for one of trytond's routes: any rule but
    the CORS one that answers OPTIONS on every path (modules may add routes
    when their database is loaded, so the map is read per request)"""
    adapter = app.url_map.bind_to_environ(environ)
    try:
        adapter.match()
    except MethodNotAllowed as exception:
        return bool(set(exception.valid_methods or ()) - {'OPTIONS'})
    except NotFound:
        return False
    except HTTPException:  # a redirection to its path with a slash
        return True
    return True


def _portal(environ, start_response):
    """The portal: a subscriber's page or data is never stored, so no
    answer is unless it says otherwise (static files, public logos)"""
    def start_response_not_stored(status, headers, exc_info=None):
        if not any(name.lower() == 'cache-control' for name, _ in headers):
            headers = list(headers) + [('Cache-Control', 'no-store')]
        return start_response(status, headers, exc_info)
    return portal.application(environ, start_response_not_stored)


def _dispatch(environ, start_response):
    path = environ.get('PATH_INFO') or '/'
    if path == ADMIN:
        return _redirect_to_admin(environ, start_response)
    if path.startswith(ADMIN + '/'):
        if _sao_refuses(path):
            return NotFound()(environ, start_response)
        return _admin(environ, start_response)
    if not portal.owns(path) and _trytond_owns(environ):
        return app(environ, start_response)
    return _portal(environ, start_response)


def application(environ, start_response):
    def start_response_secured(status, headers, exc_info=None):
        names = {name.lower() for name, _ in headers}
        headers = list(headers) + [
            (name, value) for name, value in SECURITY_HEADERS
            if name.lower() not in names]
        return start_response(status, headers, exc_info)
    return _dispatch(environ, start_response_secured)


if not SAO_ROOT.joinpath('index.html').is_file():
    logging.getLogger(__name__).warning(
        "sao not found in %s: run `make sao` or set LK_SAO_ROOT", SAO_ROOT)
