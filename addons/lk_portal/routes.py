# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The portal's pages

Pages of a signed-in subscriber run as the portal user (`subscriber`), so
lk_base's record rules decide what they see; the few reads that must cross
those rules (public organization profiles, the user's own pending requests,
an invitation found by its token) say so with `without_check_access`.
"""
import datetime as dt
import logging
import threading
from collections import OrderedDict
from email.message import EmailMessage
from functools import wraps
from types import SimpleNamespace
from urllib.parse import urlencode, urlsplit

from werkzeug.exceptions import NotFound, ServiceUnavailable
from werkzeug.utils import redirect

from trytond import config
from trytond.exceptions import RateLimitException, UserError
from trytond.modules.lk_base.model import EMAIL_SIZE, valid_email
from trytond.pool import Pool
from trytond.protocols.wrappers import Response, with_pool, with_transaction
from trytond.sendmail import (
    SMTPDataManager, send_message, send_message_transactional)
from trytond.tools.email_ import set_from_header
from trytond.transaction import Transaction, without_check_access

from .exceptions import SignInError
from .portal import (
    HERE, LANGUAGE_COOKIE, LANGUAGES, SESSION_COOKIE, catalog, check_csrf,
    get_or_404, language, not_found, render, render_error, rotate_csrf,
    route, safe_next, session_lifetime, session_user, set_cookie,
    subscriber)

# The home page's tiles of the feature modules: each module appends
#   {'module': 'lk_metering', 'title': "Meter readings",
#    'url': '/accounts/{account}/readings', 'right': 'readings'}
# and the tile shows, for each account with the right, once the module
# is activated. Titles are translated with the portal's catalog.
TILES = []

# The home page's panels of the feature modules, shown once the module is
# activated: {'module': 'lk_metering', 'panel': func} where
# func(request, pool, web_user) returns None (nothing to show) or a namespace
# with name, title, text, url and count
HOME_PANELS = []

# The actions on one account, shown only with the access right
ACTIONS = [
    {'right': 'readings', 'title': "Submit meter readings",
        'url': '/accounts/{account}/readings'},
    {'right': 'payment', 'title': "Pay online",
        'url': '/accounts/{account}/payment'},
    {'right': 'appeals', 'title': "Write an appeal",
        'url': '/accounts/{account}/appeals'},
    ]

PUBLIC_FIELDS = [
    'short_name', 'description', 'public_address', 'phone',
    'emergency_phone', 'email', 'office_hours', 'website',
    'registration_policy']

# Longer fields are refused before anything else looks at them
PASSWORD_SIZE = 1024
# lk.account's number
NUMBER_SIZE = 50

_common_passwords = None
logger = logging.getLogger(__name__)


def _(request, message):
    "The message in the request's language (the portal's catalog)"
    return catalog(language(request)).gettext(message)


def localized(func):
    "Tryton's messages in the request's language"
    @wraps(func)
    def wrapper(request, pool, *args, **kwargs):
        with Transaction().set_context(language=language(request)):
            return func(request, pool, *args, **kwargs)
    return wrapper


def site_url(request, path):
    """The absolute URL of path for the links of e-mails, from [lk_portal]
    url only: the Host header is the client's to choose, and a link to its
    host would hand it the token. Without the option the portal sends no
    links: 503, checked before anything depends on the e-mail."""
    base = config.get('lk_portal', 'url', default=None)
    if not base or urlsplit(base).scheme not in {'http', 'https'}:
        logger.error(
            "[lk_portal] url is not set (or not an http(s) URL): the "
            "portal refuses to send e-mails with links to %s", path)
        raise ServiceUnavailable(response=render_error(
                request, 503, _(request, "The portal cannot send e-mails "
                    "now. Try again later or contact your organization.")))
    return base.rstrip('/') + path


class MailAfterCommit(SMTPDataManager):
    """Sends the transaction's messages from a thread once it commits: the
    time of an answer must not tell whether it sent one, nor wait for the
    mail server (a rolled back transaction sends nothing; a failure to send
    is logged by trytond)

    Not when the response is closed: werkzeug's development server closes
    it only when the browser ends the connection."""

    def __eq__(self, other):
        return type(other) is type(self) and super().__eq__(other)

    def tpc_vote(self, trans):
        pass

    def tpc_finish(self, trans):
        queue, self.queue = self.queue, []

        def send():
            for from_addr, to_addrs, message in queue:
                send_message(message, from_addr, to_addrs)
        threading.Thread(target=send, daemon=True).start()


def send_mail(response, to, subject, body):
    "Send the e-mail once the transaction commits, without waiting for it"
    message = EmailMessage()
    from_ = config.get('email', 'from')
    set_from_header(message, from_, from_)
    message['To'] = to
    message['Subject'] = subject
    message.set_content(body)
    send_message_transactional(message, datamanager=MailAfterCommit())
    return response


def email_error(request, email):
    "Why the e-mail address is refused, or None"
    if len(email) > EMAIL_SIZE:
        return _(request, "The e-mail address is too long: at most "
            "%(size)s characters.") % {'size': EMAIL_SIZE}
    if not valid_email(email):
        return _(request, "Enter a valid e-mail address, like "
            "name@example.com.")


def common_passwords():
    "The forbidden common passwords shipped with the portal"
    global _common_passwords
    if _common_passwords is None:
        path = HERE / 'common_passwords.txt'
        _common_passwords = {
            line.strip().lower()
            for line in path.read_text(encoding='utf-8').splitlines()
            if line.strip() and not line.startswith('#')}
    return _common_passwords


def password_error(request, pool, password, email):
    """Why the password is refused, or None

    res.user's policy ([password] length and forbidden file, not the
    e-mail) in the portal's words, checked here explicitly: web.user skips
    it for user 0, the routes' user."""
    User = pool.get('res.user')
    length = config.getint('password', 'length', default=0)
    if len(password.encode('utf-8')) < length:
        return _(request, "The password must have at least %(length)s "
            "characters.") % {'length': length}
    if len(password) > PASSWORD_SIZE:
        return _(request, "The password is too long: at most %(size)s "
            "characters.") % {'size': PASSWORD_SIZE}
    if email and password.strip().lower() == email.lower():
        return _(request, "The password cannot be your e-mail address.")
    if password.strip().lower() in common_passwords():
        return _(request,
            "This password is too common: choose another one.")
    try:
        User.validate_password(password, [])
    except UserError as exception:
        return exception.message


def start_session(request, response, web_user):
    """Sign web_user in: a new session (the previous one of the browser
    ends) and a new CSRF token"""
    Session = Pool().get('web.user.session')
    if previous := request.cookies.get(SESSION_COOKIE):
        Session.remove(previous)
    key = web_user.new_session()
    set_cookie(
        request, response, SESSION_COOKIE, key,
        max_age=int(session_lifetime().total_seconds()))
    rotate_csrf(request, response)
    return response


def too_many_attempts(request, response, wait):
    "The 429 response, at once: when to try again is in Retry-After"
    response.status_code = 429
    response.headers['Retry-After'] = str(max(1, wait))
    return response


def organizations(ids):
    "The public profiles of the organizations by id"
    Company = Pool().get('company.company')
    result = OrderedDict()
    with without_check_access():
        for company in Company.browse(sorted(set(ids))):
            values = {f: getattr(company, f, None) for f in PUBLIC_FIELDS}
            values['id'] = company.id
            values['name'] = company.party.name
            values['display_name'] = company.display_name
            values['has_logo'] = bool(company.logo)
            result[company.id] = SimpleNamespace(**values)
    return result


def activated(pool, modules):
    Module = pool.get('ir.module')
    if not modules:
        return set()
    with without_check_access():
        return {m.name for m in Module.search([
                    ('name', 'in', list(modules)),
                    ('state', '=', 'activated'),
                    ])}


def valid_access(pool, web_user, account_id):
    "The signed-in user's valid access to the account, or None"
    Access = pool.get('lk.account.access')
    for access in Access.search([
                ('web_user', '=', web_user.id),
                ('account', '=', account_id),
                ('state', '=', 'active'),
                ]):
        if access.valid:
            return access


def account_actions(access):
    return [
        SimpleNamespace(
            right=a['right'], title=a['title'],
            url=a['url'].format(account=access.account.id))
        for a in ACTIONS if access.has_right(a['right'])]


# Sign-in, sign-out, registration, e-mail validation, password reset

@route('/login', methods=('GET', 'POST'))
@with_pool
@with_transaction()
@localized
def login(request, pool):
    WebUser = pool.get('web.user')
    next_ = safe_next(request.values.get('next'))
    if request.method == 'GET':
        return render(request, 'login.html', next=next_, email='')
    check_csrf(request)
    email = (request.form.get('email') or '').strip()
    password = request.form.get('password') or ''
    try:
        user = WebUser.lk_sign_in(email, password)
    except RateLimitException:
        return too_many_attempts(request, render(
                request, 'login.html', next=next_, email=email,
                error=_(request, "Too many attempts: wait a few minutes "
                    "and try again.")),
            WebUser.lk_sign_in_wait(email))
    except SignInError as exception:
        return render(
            request, 'login.html', next=next_, email=email,
            error=exception.message)
    if not user:
        return render(
            request, 'login.html', next=next_, email=email,
            error=_(request, "Wrong e-mail or password."))
    return start_session(request, redirect(next_, code=303), user)


@route('/logout', methods=('POST',))
@with_pool
@with_transaction()
def logout(request, pool):
    Session = pool.get('web.user.session')
    check_csrf(request)
    key = request.cookies.get(SESSION_COOKIE)
    if key:
        Session.remove(key)
    response = redirect('/login', code=303)
    response.delete_cookie(SESSION_COOKIE, path='/')
    rotate_csrf(request, response)
    return response


@route('/register', methods=('GET', 'POST'))
@with_pool
@with_transaction()
@localized
def register(request, pool):
    WebUser = pool.get('web.user')
    next_ = safe_next(request.values.get('next'), default='')
    email = (request.values.get('email') or '').strip().lower()
    values = {'email': email[:EMAIL_SIZE], 'next': next_}
    if request.method == 'GET':
        return render(request, 'register.html', errors=[], **values)
    check_csrf(request)
    password = request.form.get('password') or ''
    errors = []
    if error := email_error(request, email):
        errors.append(error)
    if password != request.form.get('password2'):
        errors.append(_(request, "The passwords do not match."))
    elif error := password_error(request, pool, password, email):
        errors.append(error)
    if not request.form.get('consent'):
        errors.append(_(request, "Registration needs your consent to the "
                "processing of personal data."))
    if errors:
        return render(
            request, 'register.html', status=400, errors=errors, **values)
    login_url = site_url(request, '/login')
    # Hashed for a known e-mail too: the answer takes the same time
    password_hash = WebUser.hash_password(password)
    users = WebUser.search([('email', '=', email)], limit=1)
    if not users:
        try:
            user, = WebUser.create([{
                        'email': email,
                        'password_hash': password_hash,
                        'lk_consent_date': dt.datetime.now(),
                        }])
        except UserError as exception:
            Transaction().rollback()
            return render(
                request, 'register.html', status=400,
                errors=[exception.message], **values)
    else:
        user, = users
    # The same answer for a known e-mail: registration tells no one who
    # holds a user; the mailbox's owner learns what happened
    response = render(
        request, 'message.html', title=_(request, "Check your mailbox"),
        message=_(request, "We sent a message to the address you gave. "
            "Follow its link to confirm the address, then sign in."),
        link='/login' + (f'?next={next_}' if next_ else ''),
        link_text=_(request, "Sign in"))
    if user.blocked:
        return response
    if not user.email_valid:
        # a password chosen before stays: only the link proves the address
        user.set_email_token()
        user.save()
        return send_validation(request, response, user)
    return send_mail(response, user.email,
        _(request, "You already have a user"),
        _(request, "Hello,\n\nsomeone, maybe you, tried to register in the "
            "Personal Account with this e-mail address. It already has a "
            "user: sign in here:") + f"\n\n{login_url}\n\n"
        + _(request, "If you forgot your password, choose a new one here:")
        + f"\n\n{site_url(request, '/reset-request')}\n\n"
        + _(request, "If it was not you, ignore this message: nothing "
            "changed."))


def send_validation(request, response, user):
    url = site_url(request, '/validate?' + urlencode(
            {'token': user.email_token}))
    return send_mail(response, user.email,
        _(request, "Confirm your e-mail address"),
        _(request, "Hello,\n\nto confirm your e-mail address for the "
            "Personal Account, follow this link:") + f"\n\n{url}\n\n"
        + _(request, "If you did not register, ignore this message."))


@route('/validate')
@with_pool
@with_transaction(readonly=False)
@localized
def validate(request, pool):
    WebUser = pool.get('web.user')
    token = request.args.get('token')
    users = WebUser.validate_email_token([token]) if token else []
    if not users:
        return render(
            request, 'message.html', status=404,
            title=_(request, "Link not valid"),
            message=_(request, "This link is not valid or was already "
                "used."),
            link='/login', link_text=_(request, "Sign in"))
    return render(
        request, 'message.html', title=_(request, "E-mail confirmed"),
        message=_(request, "Your e-mail address is confirmed. You can "
            "sign in now."),
        link='/login', link_text=_(request, "Sign in"))


@route('/reset-request', methods=('GET', 'POST'))
@with_pool
@with_transaction()
@localized
def reset_request(request, pool):
    WebUser = pool.get('web.user')
    if request.method == 'GET':
        return render(request, 'reset_request.html')
    check_csrf(request)
    reset_url = site_url(request, '/reset')
    email = (request.form.get('email') or '').strip().lower()
    users = WebUser.search([('email', '=', email)], limit=1) if (
        email and len(email) <= EMAIL_SIZE) else []
    response = render(
        request, 'message.html', title=_(request, "Check your mailbox"),
        message=_(request, "If this address belongs to a user, we sent "
            "it a link to choose a new password."),
        link='/login', link_text=_(request, "Sign in"))
    if users and not users[0].blocked:
        user, = users
        now = dt.datetime.now()
        # A link not yet expired is sent again rather than replaced
        if not (user.reset_password_token
                and user.reset_password_token_expire
                and user.reset_password_token_expire > now):
            user.set_reset_password_token()
            user.save()
        url = reset_url + '?' + urlencode({
                'token': user.reset_password_token,
                'email': user.email})
        send_mail(response, user.email,
            _(request, "Reset your password"),
            _(request, "Hello,\n\nto choose a new password for the "
                "Personal Account, follow this link:") + f"\n\n{url}\n\n"
            + _(request, "If you did not ask for it, ignore this message."))
    return response


@route('/reset', methods=('GET', 'POST'))
@with_pool
@with_transaction()
@localized
def reset(request, pool):
    WebUser = pool.get('web.user')
    Session = pool.get('web.user.session')
    token = request.values.get('token') or ''
    email = (request.values.get('email') or '').strip().lower()
    values = {'token': token, 'email': email, 'errors': []}
    if request.method == 'GET':
        return render(request, 'reset.html', **values)
    check_csrf(request)
    password = request.form.get('password') or ''
    if password != request.form.get('password2'):
        values['errors'].append(_(request, "The passwords do not match."))
    elif error := password_error(request, pool, password, email):
        values['errors'].append(error)
    if values['errors']:
        return render(request, 'reset.html', status=400, **values)
    if not WebUser.lk_reset_password(email, token, password):
        return render(
            request, 'message.html', status=400,
            title=_(request, "Link not valid"),
            message=_(request, "This link is not valid, has expired or "
                "was already used. Ask for a new one."),
            link='/reset-request', link_text=_(request, "Reset password"))
    # Whoever knew the old password is signed out
    Session.delete(Session.search([('user.email', '=', email)]))
    return render(
        request, 'message.html', title=_(request, "Password changed"),
        message=_(request, "Your new password is set. Sign in with it."),
        link='/login', link_text=_(request, "Sign in"))


@route('/lang/<code>', methods=('GET', 'POST'))
def set_language(request, database_name, code):
    if code not in LANGUAGES:
        raise NotFound()
    response = redirect(safe_next(request.values.get('next')), code=303)
    set_cookie(
        request, response, LANGUAGE_COOKIE, code, max_age=365 * 24 * 3600)
    return response


# Accounts

@route('/')
@with_pool
@with_transaction()
@subscriber
def home(request, pool, web_user):
    Access = pool.get('lk.account.access')
    accesses = Access.search([('web_user', '=', web_user.id)])
    valid = [a for a in accesses if a.valid]
    orgs = organizations([a.account.company.id for a in valid])
    by_address = OrderedDict()
    for access in sorted(
            valid, key=lambda a: (a.account.address, a.account.number)):
        account = access.account
        by_address.setdefault(account.building.address, []).append(
            SimpleNamespace(
                access=access, account=account,
                organization=orgs[account.company.id]))
    # The user's own requests, as they sent them: whether the organization
    # has an account with the number is not theirs to know
    with without_check_access():
        pending = [
            SimpleNamespace(
                number=a.requested_number,
                organization=a.company.display_name,
                state=a.state, date=a.create_date.date(),
                reason=a.decline_reason)
            for a in Access.browse([
                    a.id for a in accesses
                    if a.state in {'requested', 'declined'}])]
    modules = activated(
        pool, {t['module'] for t in TILES + HOME_PANELS})
    tiles = [t for t in TILES if t['module'] in modules]
    panels = [
        panel for panel in (
            p['panel'](request, pool, web_user) for p in HOME_PANELS
            if p['module'] in modules)
        if panel]
    return render(
        request, 'home.html', groups=by_address, pending=pending,
        tiles=tiles, panels=panels, sent=request.args.get('sent'))


@route('/accounts/<int:account_id>')
@with_pool
@with_transaction()
@subscriber
def account(request, pool, web_user, account_id):
    Account = pool.get('lk.account')
    record = get_or_404(Account, account_id)
    access = valid_access(pool, web_user, record.id)
    if not access:
        raise not_found()
    organization = organizations([record.company.id])[record.company.id]
    modules = activated(pool, {t['module'] for t in TILES})
    tiles = [
        SimpleNamespace(
            title=t['title'], url=t['url'].format(account=record.id))
        for t in TILES if t['module'] in modules
        and access.has_right(t.get('right', 'view'))]
    return render(
        request, 'account.html', account=record, access=access,
        organization=organization, actions=account_actions(access),
        tiles=tiles)


@route('/accounts/add', methods=('GET', 'POST'))
@with_pool
@with_transaction()
@subscriber
def account_add(request, pool, web_user):
    Company = pool.get('company.company')
    Access = pool.get('lk.account.access')
    with without_check_access():
        companies = Company.search([
                ('registration_policy', '!=', 'closed'),
                ])
    choices = organizations([c.id for c in companies])
    values = {
        'organizations': list(choices.values()),
        'form': request.form, 'error': None}
    if request.method == 'GET':
        return render(request, 'account_add.html', **values)
    check_csrf(request)
    try:
        company_id = int(request.form.get('organization') or 0)
    except ValueError:
        company_id = 0
    number = (request.form.get('number') or '').strip()
    message = (request.form.get('message') or '').strip() or None
    if company_id not in choices or not number:
        values['error'] = _(request,
            "Choose the organization and enter the account number.")
        return render(request, 'account_add.html', status=400, **values)
    if len(number) > NUMBER_SIZE:
        values['error'] = _(request, "The account number is too long: at "
            "most %(size)s characters.") % {'size': NUMBER_SIZE}
        return render(request, 'account_add.html', status=400, **values)
    with without_check_access():
        company = Company(company_id)
    by_code = company.registration_policy == 'verification'
    if by_code:
        with without_check_access():
            existing = Access.find_account(company, number)
            mine = Access.search([
                    ('web_user', '=', web_user.id),
                    ('account', '=', existing.id),
                    ('state', 'in', ['requested', 'active', 'blocked']),
                    ], limit=1) if existing else []
        # Only who has access learns here that the account exists
        if mine:
            values['error'] = _(request,
                "You already have or requested access to this account.")
            return render(request, 'account_add.html', status=400, **values)
    try:
        if by_code:
            access = Access.claim(
                web_user, company, number, request.form.get('code'))
            return redirect(f'/accounts/{access.account.id}', code=303)
        # Recorded and answered alike for any number (see request())
        Access.request(web_user, company, number, message=message)
    except RateLimitException:
        values['error'] = _(request,
            "Too many attempts: wait a few minutes and try again.")
        # claim() counts its failures over the whole window
        wait = (config.getint('session', 'timeout') if by_code
            else account_request_wait(pool, web_user))
        return too_many_attempts(
            request, render(request, 'account_add.html', **values), wait)
    except UserError as exception:
        # the failed attempt is kept: the transaction is committed
        values['error'] = exception.message
        return render(request, 'account_add.html', status=400, **values)
    return redirect('/?sent=1', code=303)


def account_request_wait(pool, web_user):
    """Seconds before the user may send another account request from the
    request's network (lk.account.access request()'s throttle), 0 when
    they may now"""
    Attempt = pool.get('web.user.authenticate.attempt')
    key = f'lk.account.request:{web_user.id}'
    waits = [0]
    if Attempt.count_ip() > config.getint(
            'session', 'max_attempt_ip_network', default=300):
        waits.append(Attempt.lk_wait())
    if Attempt.count(key) > config.getint(
            'session', 'max_attempt', default=5):
        waits.append(Attempt.lk_wait(key, network=False))
    return max(waits)


# Delegation

def owner_access(pool, web_user, account_id):
    Account = pool.get('lk.account')
    record = get_or_404(Account, account_id)
    access = valid_access(pool, web_user, record.id)
    if not access or access.role != 'owner':
        raise not_found()
    return record


@route('/accounts/<int:account_id>/delegates', methods=('GET', 'POST'))
@with_pool
@with_transaction()
@subscriber
def delegates(request, pool, web_user, account_id):
    Access = pool.get('lk.account.access')
    record = owner_access(pool, web_user, account_id)
    organization = organizations([record.company.id])[record.company.id]

    def page(status=200, error=None, sent=None):
        accesses = Access.search([
                ('account', '=', record.id),
                ('role', '=', 'delegate'),
                ('state', 'in', ['invited', 'active', 'blocked']),
                ])
        return render(
            request, 'delegates.html', status=status, account=record,
            organization=organization, delegates=accesses, error=error,
            sent=sent, form=request.form)

    if request.method == 'GET':
        return page(sent=request.args.get('sent'))
    check_csrf(request)
    email = (request.form.get('email') or '').strip().lower()
    end_date = None
    if request.form.get('end_date'):
        try:
            end_date = dt.date.fromisoformat(request.form['end_date'])
        except ValueError:
            return page(400, _(request, "Enter the end date as a date."))
    if error := email_error(request, email):
        return page(400, error)
    if email == web_user.email:
        return page(400, _(request, "You cannot invite yourself."))
    base = site_url(request, '/invitations/')
    try:
        access, = Access.create([{
                    'account': record.id,
                    'role': 'delegate',
                    'state': 'invited',
                    'invitation_email': email,
                    'granted_by': web_user.id,
                    'end_date': end_date,
                    **{f'right_{r}': bool(request.form.get(r))
                        for r in ['readings', 'payment', 'appeals']},
                    }])
    except UserError as exception:
        Transaction().rollback()
        return page(400, exception.message)
    url = base + access.invitation_token
    response = redirect(f'/accounts/{record.id}/delegates?sent=1', code=303)
    return send_mail(response, email,
        _(request, "Invitation to the Personal Account"),
        _(request, "Hello,\n\n%(who)s invites you to see the account "
            "%(number)s of %(organization)s in the Personal Account. "
            "To accept, follow this link and sign in or register with "
            "this e-mail address:") % {
            'who': web_user.email, 'number': record.number,
            'organization': organization.display_name}
        + f"\n\n{url}\n\n"
        + _(request, "If you do not know the sender, ignore this message."))


@route('/accounts/<int:account_id>/delegates/<int:access_id>/revoke',
    methods=('POST',))
@with_pool
@with_transaction()
@subscriber
def delegate_revoke(request, pool, web_user, account_id, access_id):
    Access = pool.get('lk.account.access')
    check_csrf(request)
    record = owner_access(pool, web_user, account_id)
    accesses = Access.search([
            ('id', '=', access_id),
            ('account', '=', record.id),
            ('role', '=', 'delegate'),
            ('state', 'in', ['invited', 'active', 'blocked']),
            ], limit=1)
    if not accesses:
        raise not_found()
    # owner_access() proved the user owns the account
    Access.revoke(accesses[:1])
    return redirect(f'/accounts/{record.id}/delegates', code=303)


@route('/invitations/<token>', methods=('GET', 'POST'))
@with_pool
@with_transaction()
@localized
def invitation(request, pool, token):
    Access = pool.get('lk.account.access')
    WebUser = pool.get('web.user')
    with without_check_access():
        invitations = Access.search([
                ('invitation_token', '=', token),
                ('state', '=', 'invited'),
                ], limit=1)
        if not invitations:
            raise not_found()
        invited, = invitations
        organization = invited.account.company.display_name
        email = invited.invitation_email
    web_user = session_user(request, pool)
    request.lk_web_user = web_user
    if request.method == 'GET' or not web_user:
        return render(
            request, 'invitation.html', organization=organization,
            email=email, token=token,
            other_user=bool(web_user and web_user.email != email))
    check_csrf(request)
    try:
        access = WebUser.lk_accept_invitation(web_user, token)
    except UserError as exception:
        Transaction().rollback()
        return render(
            request, 'invitation.html', status=400,
            organization=organization, email=email, token=token,
            other_user=False, error=exception.message)
    if not access:
        raise not_found()
    return redirect(f'/accounts/{access.account.id}', code=303)


# Organizations

@route('/organizations')
@with_pool
@with_transaction()
@subscriber
def organizations_page(request, pool, web_user):
    Access = pool.get('lk.account.access')
    accesses = [
        a for a in Access.search([('web_user', '=', web_user.id)])
        if a.valid]
    orgs = organizations([a.account.company.id for a in accesses])
    return render(
        request, 'organizations.html', organizations=list(orgs.values()))


@route('/o/<int:organization_id>/logo')
@with_pool
@with_transaction()
def organization_logo(request, pool, organization_id):
    "The organization's logo, public like its page"
    Company = pool.get('company.company')
    with without_check_access():
        companies = Company.search([('id', '=', organization_id)], limit=1)
        logo = companies[0].logo if companies else None
    if not logo:
        raise not_found()
    # company stores its logo converted to PNG
    response = Response(bytes(logo), content_type='image/png')
    response.headers['Cache-Control'] = 'public, max-age=3600'
    return response


@route('/o/<int:organization_id>')
@with_pool
@with_transaction()
@localized
def organization_public(request, pool, organization_id):
    Company = pool.get('company.company')
    with without_check_access():
        if not Company.search([('id', '=', organization_id)], limit=1):
            raise not_found()
    organization = organizations([organization_id])[organization_id]
    request.lk_web_user = session_user(request, pool)
    return render(
        request, 'organization.html', organization=organization)
