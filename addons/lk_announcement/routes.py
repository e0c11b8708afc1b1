# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The portal's announcements, notification settings, unsubscribe links and
public documents (registered by portal.py: they answer only where
lk_announcement and lk_portal are activated)

The record rules decide which announcements a subscriber sees: those whose
audience holds an account of a valid access of theirs; another's is a 404.
"""
import logging
from urllib.parse import quote

from trytond import backend
from trytond.pool import Pool
from trytond.protocols.wrappers import Response, with_pool, with_transaction
from trytond.transaction import Transaction, without_check_access

from trytond.modules.lk_base.format import format_datetime
from trytond.modules.lk_base.portal import as_subscriber
from trytond.modules.lk_portal.extension import item
from trytond.modules.lk_portal.portal import (
    check_csrf, format_date, get_or_404, not_found, render, route,
    session_user, subscriber, translate as _)
from trytond.modules.lk_portal.routes import localized

from .web_user import REMINDERS

logger = logging.getLogger(__name__)


def visible_announcements(request, web_user):
    """The published announcements the user sees, pinned then newest first,
    and the unread ones among them, read once per request"""
    cached = getattr(request, 'lk_announcements', None)
    if cached is None or cached[0] != web_user.id:
        Announcement = Pool().get('lk.announcement')
        announcements = Announcement.search(Announcement.published_domain())
        unread = set(Announcement.unread(web_user, announcements))
        cached = request.lk_announcements = (
            web_user.id, announcements, unread)
    return cached[1], cached[2]


def mark_read(web_user, announcement):
    """Mark the announcement read in a transaction of its own: a page shown
    in a read-only one marks it, and a concurrent mark is enough"""
    Announcement = Pool().get('lk.announcement')
    try:
        with Transaction().new_transaction():
            Announcement.mark_read(web_user, [Announcement(announcement.id)])
    except backend.DatabaseIntegrityError:
        logger.debug("announcement %s read concurrently", announcement.id)
    except backend.DatabaseOperationalError:
        logger.debug("announcement %s not marked read", announcement.id)


# What lk_announcement adds to the portal's pages (portal.py)

def home_panels(request, web_user):
    "The unread count and the latest news"
    announcements, unread = visible_announcements(request, web_user)
    # the latest news, not the pinned one
    latest = max(
        announcements, key=lambda a: (a.publish_from, a.id), default=None)
    return [item(
            '/announcements', _(request, "Announcements"),
            name='announcements', count=len(unread) or None,
            text=(latest.title if latest
                else _(request, "No announcements yet")))]


def organization_sections(request, organization_id):
    "The public documents of the organization"
    Document = Pool().get('lk.public.document')
    with as_subscriber(None):
        documents = Document.search([('company', '=', organization_id)])
    if not documents:
        return []
    kinds = dict(Document.fields_get(['kind'])['kind']['selection'])
    return [item(
            None, _(request, "Documents"), name='documents', entries=[
                item(f'/o/{organization_id}/documents/{d.id}', d.name,
                    text=', '.join(filter(None, [
                                kinds.get(d.kind), format_date(d.date)])))
                for d in documents])]


# Pages

@route('/announcements')
@with_pool
@with_transaction()
@subscriber
def announcements_page(request, pool, web_user):
    announcements, unread = visible_announcements(request, web_user)
    return render(
        request, 'announcements.html', announcements=announcements,
        unread=unread, format_datetime=format_datetime)


@route('/announcements/<int:announcement_id>')
@with_pool
@with_transaction()
@subscriber
def announcement_page(request, pool, web_user, announcement_id):
    "The announcement, marked read"
    Announcement = pool.get('lk.announcement')
    announcement = get_or_404(Announcement, announcement_id)
    announcements, _unread = visible_announcements(request, web_user)
    if announcement not in announcements:
        raise not_found()
    mark_read(web_user, announcement)
    return render(
        request, 'announcement.html', announcement=announcement,
        format_datetime=format_datetime)


def settings_form(request, web_user):
    "The settings the form sent, checked boxes only"
    return {
        field: bool(request.form.get(kind)) for kind, field in
        REMINDERS.items()}


def write_settings(web_user, values):
    "Write the user's own settings (the portal user reads users only)"
    WebUser = Pool().get('web.user')
    with without_check_access():
        WebUser.write([WebUser(web_user.id)], values)


@route('/notifications', methods=('GET', 'POST'))
@with_pool
@with_transaction()
@subscriber
def notifications_page(request, pool, web_user):
    "The reminders the user wants"
    WebUser = pool.get('web.user')
    saved = False
    if request.method == 'POST':
        check_csrf(request)
        write_settings(web_user, settings_form(request, web_user))
        saved = True
    user = WebUser(web_user.id)
    return render(
        request, 'notifications.html', saved=saved,
        settings={k: getattr(user, f) for k, f in REMINDERS.items()})


@route('/unsubscribe/<token>', methods=('GET', 'POST'))
@with_pool
@with_transaction()
@localized
def unsubscribe(request, pool, token):
    """The link of every reminder: it switches the reminders of its kind
    off at once, without sign-in (a POST, so that a mail client's preview
    changes nothing)"""
    WebUser = pool.get('web.user')
    found = WebUser.from_unsubscribe_token(token)
    if not found:
        raise not_found()
    user, kind = found
    done = False
    if request.method == 'POST':
        check_csrf(request)
        write_settings(user, {REMINDERS[kind]: False})
        done = True
    request.lk_web_user = session_user(request, pool)
    return render(
        request, 'unsubscribe.html', kind=kind, done=done, token=token)


@route('/o/<int:organization_id>/documents/<int:document_id>')
@with_pool
@with_transaction()
def public_document(request, pool, organization_id, document_id):
    "A public document of the organization, to anyone"
    Document = pool.get('lk.public.document')
    with as_subscriber(None):
        documents = Document.search([
                ('id', '=', document_id),
                ('company', '=', organization_id),
                ], limit=1)
        if not documents:
            raise not_found()
        document, = documents
        response = Response(
            bytes(document.data), content_type=document.media_type)
    name = quote(document.filename or 'document', safe='')
    response.headers['Content-Disposition'] = (
        f'attachment; filename*=UTF-8\'\'{name}')
    response.headers['X-Content-Type-Options'] = 'nosniff'
    return response
