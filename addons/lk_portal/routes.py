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
from trytond.modules.lk_base.web_user import mail_language
from trytond.pool import Pool
from trytond.protocols.wrappers import Response, with_pool, with_transaction
from trytond.tools.email_ import set_from_header
from trytond.transaction import Transaction, without_check_access

from .exceptions import SignInError
from .portal import (
    HERE, LANGUAGE_COOKIE, LANGUAGES, SESSION_COOKIE, check_csrf,
    get_or_404, language, not_found, render, render_error, rotate_csrf,
    route, safe_next, session_lifetime, session_user, set_cookie,
    subscriber, translate as _, valid_access)

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


def web_url(request, option):
    """web_user's link of its e-mails ([web] option: email_validation_url,
    reset_password_url), checked like site_url"""
    url = config.get('web', option, default=None)
    if not url or urlsplit(url).scheme not in {'http', 'https'}:
        logger.error(
            "[web] %s is not set (or not an http(s) URL): the portal "
            "refuses to send e-mails with its links", option)
        raise ServiceUnavailable(response=render_error(
                request, 503, _(request, "The portal cannot send e-mails "
                    "now. Try again later or contact your organization.")))
    return url


def send_mail(response, to, subject, body):
    """Queue the e-mail in lk_base's outbox: sent once the transaction
    commits, without the answer waiting for it, and again until the mail
    server takes it"""
    Outbox = Pool().get('lk.mail.outbox')
    message = EmailMessage()
    from_ = config.get('email', 'from')
    set_from_header(message, from_, from_)
    message['To'] = to
    message['Subject'] = subject
    message.set_content(body)
    Outbox.enqueue(message)
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
    # the logo's size, not the image: it is served by its own route
    with without_check_access(), Transaction().set_context({
                'company.company.logo': 'size'}):
        for company in Company.browse(sorted(set(ids))):
            values = {f: getattr(company, f, None) for f in PUBLIC_FIELDS}
            values['id'] = company.id
            values['name'] = company.party.name
            values['display_name'] = company.display_name
            values['has_logo'] = bool(company.logo)
            result[company.id] = SimpleNamespace(**values)
    return result


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
        # the address is not confirmed: the page offers a new link
        return render(
            request, 'login.html', next=next_, email=email,
            error=exception.message, resend=True)
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
    web_url(request, 'email_validation_url')
    # Hashed for a known e-mail too: the answer takes the same time
    password_hash = WebUser.hash_password(password)
    users = WebUser.search([('email', '=', email)], limit=1)
    if not users:
        try:
            user, = WebUser.create([{
                        'email': email,
                        'password_hash': password_hash,
                        'lk_consent_date': dt.datetime.now(),
                        # the language of its e-mails
                        'language': mail_language(language(request)),
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
        message=_(request, "A message with a link is on its way to the "
            "address you gave: it usually arrives within a minute, later "
            "when the mail server is busy. Follow its link to confirm the "
            "address, then sign in."),
        link='/login' + (f'?next={next_}' if next_ else ''),
        link_text=_(request, "Sign in"))
    if user.blocked:
        return response
    if not user.email_valid:
        # a password chosen before stays: only the link proves the address;
        # where the user was going (an invitation) survives in its link
        with Transaction().set_context(lk_next=next_ or None):
            WebUser.validate_email([user])
        return response
    reset_url = site_url(request, '/reset-request')
    # In the user's language, not the request's
    code = user.language.code if user.language else None
    request = SimpleNamespace(cookies={LANGUAGE_COOKIE: (
                code if code in LANGUAGES else language(request))})
    return send_mail(response, user.email,
        _(request, "You already have a user"),
        _(request, "Hello,\n\nsomeone, maybe you, tried to register in the "
            "Personal Account with this e-mail address. It already has a "
            "user: sign in here:") + f"\n\n{login_url}\n\n"
        + _(request, "If you forgot your password, choose a new one here:")
        + f"\n\n{reset_url}\n\n"
        + _(request, "If it was not you, ignore this message: nothing "
            "changed."))


@route('/resend-validation', methods=('POST',))
@with_pool
@with_transaction()
@localized
def resend_validation(request, pool):
    """A new link to confirm the address, for the sign-in page of a user
    whose address is not confirmed: the same answer for any address"""
    WebUser = pool.get('web.user')
    check_csrf(request)
    web_url(request, 'email_validation_url')
    email = (request.form.get('email') or '').strip().lower()
    if email and len(email) <= EMAIL_SIZE:
        WebUser.lk_resend_validation(email)
    return render(
        request, 'message.html', title=_(request, "Check your mailbox"),
        message=_(request, "If this address belongs to a user whose "
            "address is not confirmed yet, a new link to confirm it is on "
            "its way to it: it usually arrives within a minute."),
        link='/login', link_text=_(request, "Sign in"))


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
    next_ = safe_next(request.args.get('next'), default='')
    return render(
        request, 'message.html', title=_(request, "E-mail confirmed"),
        message=_(request, "Your e-mail address is confirmed. You can "
            "sign in now."),
        link='/login' + (f'?{urlencode({"next": next_})}' if next_ else ''),
        link_text=_(request, "Sign in"))


@route('/reset-request', methods=('GET', 'POST'))
@with_pool
@with_transaction()
@localized
def reset_request(request, pool):
    WebUser = pool.get('web.user')
    if request.method == 'GET':
        return render(request, 'reset_request.html')
    check_csrf(request)
    site_url(request, '/reset')
    web_url(request, 'reset_password_url')
    email = (request.form.get('email') or '').strip().lower()
    users = WebUser.search([('email', '=', email)], limit=1) if (
        email and len(email) <= EMAIL_SIZE) else []
    response = render(
        request, 'message.html', title=_(request, "Check your mailbox"),
        message=_(request, "If this address belongs to a user, a link "
            "to choose a new password is on its way to it: it usually "
            "arrives within a minute."),
        link='/login', link_text=_(request, "Sign in"))
    if users and not users[0].blocked:
        # web_user's mail, the one staff send from the backend too
        WebUser.reset_password(users)
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
        # A used or expired link says so before a password is typed
        if not WebUser.lk_reset_token_valid(email, token):
            return render(
                request, 'message.html', status=400,
                title=_(request, "Link not valid"),
                message=_(request, "This link is not valid, has expired or "
                    "was already used. Ask for a new one."),
                link='/reset-request', link_text=_(request, "Reset password"))
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
    Portal = pool.get('lk.portal')
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
                organization=orgs[account.company.id],
                actions=Portal.account_actions(request, access)))
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
    return render(
        request, 'home.html', groups=by_address, pending=pending,
        panels=Portal.home_panels(request, web_user),
        rights=Portal.rights(request),
        sent=request.args.get('sent'))


@route('/accounts/<int:account_id>')
@with_pool
@with_transaction()
@subscriber
def account(request, pool, web_user, account_id):
    Account = pool.get('lk.account')
    Portal = pool.get('lk.portal')
    record = get_or_404(Account, account_id)
    access = valid_access(web_user, record)
    organization = organizations([record.company.id])[record.company.id]
    return render(
        request, 'account.html', account=record, access=access,
        organization=organization,
        actions=Portal.account_actions(request, access))


@route('/accounts/add', methods=('GET', 'POST'))
@with_pool
@with_transaction()
@subscriber
def account_add(request, pool, web_user):
    Company = pool.get('company.company')
    Account = pool.get('lk.account')
    Access = pool.get('lk.account.access')
    with without_check_access():
        companies = Company.search([
                ('registration_policy', '!=', 'closed'),
                ])
        # Only the organizations that serve subscribers: not the operator
        # nor a holding, which have no accounts of their own
        companies = [
            c for c in companies if Account.search([
                    ('company', '=', c.id), ('state', '=', 'active'),
                    ], limit=1, order=[])]
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
    access = valid_access(web_user, record)
    if access.role != 'owner':
        raise not_found()
    return record


@route('/accounts/<int:account_id>/delegates', methods=('GET', 'POST'))
@with_pool
@with_transaction()
@subscriber
def delegates(request, pool, web_user, account_id):
    Access = pool.get('lk.account.access')
    Portal = pool.get('lk.portal')
    record = owner_access(pool, web_user, account_id)
    organization = organizations([record.company.id])[record.company.id]
    rights = Portal.rights(request)

    def page(status=200, error=None, sent=None):
        accesses = Access.search([
                ('account', '=', record.id),
                ('role', '=', 'delegate'),
                ('state', 'in', ['invited', 'active', 'blocked']),
                ])
        return render(
            request, 'delegates.html', status=status, account=record,
            organization=organization, delegates=accesses, error=error,
            sent=sent, revoked=request.args.get('revoked'),
            form=request.form, rights=rights)

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
                    # a right no activated module offers is not given
                    **{f: False for f in Access.right_fields()},
                    **{f'right_{r.name}': bool(request.form.get(r.name))
                        for r in rights},
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
    methods=('GET', 'POST'))
@with_pool
@with_transaction()
@subscriber
def delegate_revoke(request, pool, web_user, account_id, access_id):
    "Asks first (a page, no script needed), then revokes the access"
    Access = pool.get('lk.account.access')
    if request.method == 'POST':
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
    if request.method == 'GET':
        organization = organizations([record.company.id])[record.company.id]
        return render(
            request, 'delegate_revoke.html', account=record,
            organization=organization, delegate=accesses[0])
    # owner_access() proved the user owns the account
    Access.revoke(accesses[:1])
    return redirect(
        f'/accounts/{record.id}/delegates?revoked=1', code=303)


@route('/invitations/<token>', methods=('GET', 'POST'))
@with_pool
@with_transaction()
@localized
def invitation(request, pool, token):
    Access = pool.get('lk.account.access')
    WebUser = pool.get('web.user')
    with without_check_access():
        invited = Access.find_invitation(token)
        if not invited:
            raise not_found()
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
    accesses = Access.valid_for(web_user).values()
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
        request, 'organization.html', organization=organization,
        sections=pool.get('lk.portal').organization_sections(
            request, organization_id))
