# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Outgoing e-mail, kept until the mail server took it

Every message of lk is stored in the business transaction (a rolled back
transaction sends nothing), sent from a thread once that transaction
commits and, while the mail server refuses or cannot be reached, again by
the cron task with a growing delay. A sender first marks the message
sending, where it is still queued, in a transaction of its own: two senders
never send it twice, and no lock is held while the mail server answers. A
sender that died while sending leaves it sending: the cron task queues it
again after [email] outbox_lease seconds (it may then arrive twice, with
the same Message-ID).
"""
import datetime as dt
import email
import email.policy
import email.utils
import json
import logging
import smtplib
import threading

from sql import Literal
from sql.functions import CurrentTimestamp

import trytond.config as config
from trytond import backend
from trytond.model import ModelSQL, ModelView, fields
from trytond.pool import Pool
from trytond.protocols.jsonrpc import JSONDecoder, JSONEncoder
from trytond.pyson import Eval
from trytond.report import get_email
from trytond.sendmail import send_message
from trytond.tools.email_ import set_from_header
from trytond.transaction import Transaction, without_check_access

logger = logging.getLogger(__name__)
# The name of the threads that send after a commit (tests wait for them)
DELIVERY_THREAD = 'lk-mail-delivery'

STATES = [
    ('queued', "Queued"),
    ('sending', "Sending"),
    ('sent', "Sent"),
    ('failed', "Failed"),
    ]


def retry_delay(attempts):
    """The delay before the next attempt after the attempts failed: doubled
    each time from [email] outbox_delay up to outbox_delay_max seconds"""
    first = config.getint('email', 'outbox_delay', default=60)
    longest = config.getint('email', 'outbox_delay_max', default=60 * 60)
    return dt.timedelta(
        seconds=min(first * 2 ** max(attempts - 1, 0), longest))


def refused_for_good(exception):
    "Whether the mail server refused the message for good (5xx)"
    if isinstance(exception, smtplib.SMTPRecipientsRefused):
        return all(
            code >= 500 for code, _ in exception.recipients.values())
    return (isinstance(exception, smtplib.SMTPResponseException)
        and exception.smtp_code >= 500)


class Outbox(ModelSQL, ModelView):
    __name__ = 'lk.mail.outbox'
    __string__ = "Outgoing E-mail"
    _rec_name = 'subject'

    to = fields.Char("To", readonly=True)
    from_ = fields.Char("From", readonly=True)
    subject = fields.Char("Subject", readonly=True)
    message = fields.Text(
        "Message", readonly=True,
        help="The whole message as sent (MIME).")
    message_id = fields.Char("Message-ID", readonly=True)
    reply_to = fields.Char("Reply To", readonly=True)
    origin = fields.Char(
        "Origin", readonly=True,
        help="The record the message is about, rendered once sent first.")
    render = fields.Char("Render", readonly=True)
    render_languages = fields.Char("Render Languages", readonly=True)
    render_context = fields.Text("Render Context", readonly=True)
    state = fields.Selection(STATES, "State", readonly=True, sort=False)
    attempts = fields.Integer(
        "Attempts", readonly=True,
        help="How many times the mail server was asked to take it.")
    next_attempt = fields.DateTime(
        "Next Attempt", readonly=True,
        states={
            'invisible': Eval('state') != 'queued',
            })
    attempt_date = fields.DateTime("Last Attempt", readonly=True)
    last_error = fields.Text("Last Error", readonly=True)
    sent_date = fields.DateTime("Sent", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('create_date', 'DESC'), ('id', 'DESC')]
        cls._buttons.update({
                'send_now': {
                    'invisible': ~Eval('state').in_(['queued', 'failed']),
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_state(cls):
        return 'queued'

    @classmethod
    def default_attempts(cls):
        return 0

    @classmethod
    def default_next_attempt(cls):
        # stored to the second: PostgreSQL would round it up, not yet due
        return dt.datetime.now().replace(microsecond=0)

    @classmethod
    def enqueue(cls, message, from_addr=None, to_addrs=None):
        """Store the message (an email.message.Message) to be sent once the
        transaction commits, like trytond's send_message_transactional"""
        pool = Pool()
        Outbox = pool.get('lk.mail.outbox')
        # Prepared like trytond.sendmail does: the Message-ID stays the
        # same through the retries
        if not message['Message-ID']:
            message['Message-ID'] = email.utils.make_msgid(
                domain=trytond_host())
        if not message['Date']:
            message['Date'] = email.utils.formatdate()
        if to_addrs is None:
            to_addrs = [
                a for _, a in email.utils.getaddresses(
                    message.get_all('To', [])
                    + message.get_all('Cc', [])
                    + message.get_all('Bcc', []))]
        elif isinstance(to_addrs, str):
            to_addrs = [to_addrs]
        with without_check_access():
            outbox, = Outbox.create([{
                        'to': ', '.join(to_addrs),
                        'from_': from_addr,
                        'subject': str(message['Subject'] or ''),
                        'message': message.as_bytes().decode(
                            'utf-8', 'replace'),
                        'message_id': str(message['Message-ID']),
                        }])
        Transaction().join(SendAfterCommit()).put(outbox.id)
        return outbox

    @classmethod
    def enqueue_report(cls, report, record, languages, to, from_=None):
        """Enqueue the e-mail report of the record in the languages (see
        trytond.report.get_email) to the address; replies go to from_ (the
        organization) when given"""
        return cls._enqueue_render(
            record, to, from_, 'report:' + report,
            [l.code for l in languages])

    @classmethod
    def enqueue_method(cls, record, method, to, from_=None):
        """Enqueue the e-mail that record.method() returns as (message,
        title), like web_user's get_email_validation, to the address"""
        return cls._enqueue_render(record, to, from_, 'method:' + method)

    @classmethod
    def _enqueue_render(cls, record, to, from_, render, languages=None):
        """Store a message rendered by the sender, after the commit: the
        answer of a request takes the same time whether it mails or not"""
        # The context the message is rendered in, but the internal keys
        context = {}
        for key, value in Transaction().context.items():
            if not key.startswith('_'):
                try:
                    json.dumps(value, cls=JSONEncoder)
                except TypeError:
                    continue
                context[key] = value
        with without_check_access():
            outbox, = cls.create([{
                        'to': to,
                        'reply_to': from_,
                        'origin': str(record),
                        'render': render,
                        'render_languages': ','.join(languages or []),
                        'render_context': json.dumps(
                            context, cls=JSONEncoder, separators=(',', ':')),
                        }])
        Transaction().join(SendAfterCommit()).put(outbox.id)
        return outbox

    def render_message(self, save=True):
        "Render the message of the origin (and store it)"
        pool = Pool()
        Lang = pool.get('ir.lang')
        model, id_ = self.origin.split(',')
        record = pool.get(model)(int(id_))
        kind, name = self.render.split(':', 1)
        context = json.loads(
            self.render_context or '{}', object_hook=JSONDecoder())
        with Transaction().set_context(context):
            if kind == 'report':
                codes = self.render_languages.split(',')
                languages = sorted(
                    Lang.search([('code', 'in', codes)]),
                    key=lambda l: codes.index(l.code))
                message, title = get_email(name, record, languages)
            else:
                message, title = getattr(record, name)()
        from_cfg = config.get('email', 'from')
        set_from_header(message, from_cfg, self.reply_to or from_cfg)
        message['To'] = self.to
        message['Subject'] = title
        message['Message-ID'] = email.utils.make_msgid(domain=trytond_host())
        message['Date'] = email.utils.formatdate()
        self.subject = title
        self.message_id = str(message['Message-ID'])
        self.message = message.as_bytes().decode('utf-8', 'replace')
        if save:
            self.save()
        return self.message

    @classmethod
    def _render(cls, id_):
        """The message rendered, not stored, if it is still to be: values
        to write, an exception or None"""
        outbox = cls(id_)
        if outbox.state != 'queued' or outbox.message is not None:
            return None
        try:
            outbox.render_message(save=False)
        except Exception as exception:
            logger.exception("e-mail %s not rendered", id_)
            return exception
        return {
            f: getattr(outbox, f)
            for f in ['subject', 'message_id', 'message']}

    @classmethod
    def send_queued(cls):
        """Send the messages that are due (the cron task); a message left
        sending longer than [email] outbox_lease seconds (its sender died)
        is queued again"""
        database_name = Transaction().database.name
        # stored to the second: PostgreSQL would round it up, not yet due
        now = dt.datetime.now().replace(microsecond=0)
        lease = dt.timedelta(
            seconds=config.getint('email', 'outbox_lease', default=10 * 60))
        with Transaction().new_transaction(), without_check_access():
            stale = cls.search([
                    ('state', '=', 'sending'),
                    # PostgreSQL stores it rounded to the second, maybe up
                    ('attempt_date', '<=', now - lease),
                    ])
            cls.write(stale, {
                    'state': 'queued',
                    'next_attempt': now,
                    'last_error': "Interrupted while sending: "
                    "it may have been sent already.",
                    })
            # this transaction may not see them queued (PostgreSQL)
            ids = [o.id for o in stale]
        with without_check_access():
            outboxes = cls.search([
                    ('state', '=', 'queued'),
                    ('next_attempt', '<=', now),
                    ('id', 'not in', ids),
                    ], order=[('next_attempt', 'ASC'), ('id', 'ASC')],
                limit=config.getint('email', 'outbox_batch', default=100))
        deliver(database_name, ids + [o.id for o in outboxes], due=True)

    @classmethod
    @ModelView.button
    def send_now(cls, outboxes):
        """Send the messages once the transaction commits, the failed ones
        too"""
        outboxes = [o for o in outboxes if o.state in {'queued', 'failed'}]
        with without_check_access():
            cls.write(outboxes, {
                    'state': 'queued',
                    'next_attempt': dt.datetime.now().replace(microsecond=0),
                    })
        datamanager = Transaction().join(SendAfterCommit())
        for outbox in outboxes:
            datamanager.put(outbox.id)

    @classmethod
    def _take(cls, id_, due=True, rendered=None):
        """Mark the message sending, an attempt more, if it is queued (and
        due): its attempts, message, from and to; None if another sender
        has it or had it"""
        transaction = Transaction()
        database = transaction.database
        cursor = transaction.connection.cursor()
        table = cls.__table__()
        now = dt.datetime.now()
        where = (table.id == id_) & (table.state == 'queued')
        if due:
            where &= table.next_attempt <= now
        if database.has_select_for():
            # PostgreSQL: a row another sender holds is skipped at once
            sub = table.select(table.id, where=where)
            sub.for_ = database.get_select_for_skip_locked()('UPDATE')
            where = table.id.in_(sub)
        cursor.execute(*table.update(
                [table.state, table.attempts, table.attempt_date,
                    table.write_date, table.write_uid],
                ['sending', table.attempts + Literal(1), now,
                    CurrentTimestamp(), transaction.user],
                where=where))
        if cursor.rowcount != 1:
            return None
        cursor.execute(*table.select(
                table.attempts, table.message, table.from_, table.to,
                where=table.id == id_))
        attempts, message, from_, to = cursor.fetchone()
        if message is None:
            with without_check_access():
                if rendered is None:
                    rendered = cls._render(id_)
                if isinstance(rendered, Exception):
                    cls._sent(id_, attempts, rendered, permanent=True)
                    return None
                cls.write([cls(id_)], rendered)
            message = rendered['message']
        return attempts, message, from_, to

    @classmethod
    def _sent(cls, id_, attempts, exception=None, permanent=False):
        "Record the outcome of the attempt on the message"
        if exception is None:
            values = {
                'state': 'sent',
                'sent_date': dt.datetime.now(),
                'last_error': None,
                }
        else:
            values = {
                'state': ('failed' if permanent or refused_for_good(exception)
                    else 'queued'),
                'next_attempt': dt.datetime.now() + retry_delay(attempts),
                'last_error': (
                    f'{type(exception).__name__}: {exception}')[:2000],
                }
        with without_check_access():
            cls.write([cls(id_)], values)


def trytond_host():
    from trytond.url import host
    return host()


class SendAfterCommit:
    """Sends the transaction's new messages from a thread once it commits:
    the answer of a request waits neither for the mail server nor tells
    whether a message was sent (a rolled back transaction sends nothing:
    its messages were never stored)"""

    def __init__(self):
        self.ids = []

    def put(self, id_):
        self.ids.append(id_)

    def __eq__(self, other):
        return type(other) is type(self)

    def __hash__(self):
        return hash(type(self))

    def abort(self, trans):
        self.ids = []

    def tpc_begin(self, trans):
        pass

    def commit(self, trans):
        pass

    def tpc_vote(self, trans):
        pass

    def tpc_finish(self, trans):
        ids, self.ids = self.ids, []
        if not ids:
            return
        name = trans.database.name
        # Another thread would not reach an in-memory database (tests)
        if (name != ':memory:'
                and config.getboolean('email', 'outbox_thread', default=True)):
            threading.Thread(
                target=deliver, args=(name, ids), name=DELIVERY_THREAD,
                daemon=True).start()
        else:
            deliver(name, ids)

    def tpc_abort(self, trans):
        self.ids = []


def deliver(database_name, ids, due=False):
    """Hand the queued messages (due ones if `due`) to the mail server,
    each once: marked sending in a transaction of its own first, so a
    concurrent sender skips it, and no lock is held while the mail server
    answers (SQLite locks the whole database)"""
    pool = Pool(database_name)
    retry = config.getint('database', 'retry', default=5)

    def run(func, *args):
        for count in range(retry, -1, -1):
            try:
                with Transaction(new=True).start(database_name, 0):
                    return func(*args)
            except backend.DatabaseOperationalError:
                if not count:
                    raise
    for id_ in ids:
        Outbox = pool.get('lk.mail.outbox')
        try:
            # Rendered before it is taken: SQLite would hold its lock
            with Transaction(new=True).start(
                    database_name, 0, readonly=True):
                rendered = Outbox._render(id_)
            if isinstance(rendered, Exception):
                # tried again where it may write
                rendered = None
            row = run(Outbox._take, id_, due, rendered)
        except backend.DatabaseOperationalError:
            # left queued for the cron task
            logger.warning("e-mail %s not taken", id_, exc_info=True)
            continue
        if not row:
            continue
        attempts, text, from_addr, to = row
        message = email.message_from_bytes(
            text.encode('utf-8'), policy=email.policy.default)
        try:
            send_message(
                message, from_addr or None,
                [a.strip() for a in to.split(',') if a.strip()],
                strict=True)
        except Exception as exception:
            # The server's answer only: no personal data in the log
            logger.warning(
                "e-mail %s not sent (attempt %s): %s",
                id_, attempts, type(exception).__name__)
            error = exception
        else:
            error = None
        run(Outbox._sent, id_, attempts, error)
