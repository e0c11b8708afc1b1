# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Reminders by e-mail, sent by the cron task in batches

Each reminder is a key (the window and its period, the month) per user: a
sent mark, unique per kind, key and user, is written in the transaction
that enqueues the e-mail and committed with it batch after batch, so a
restart never sends one twice. lk_metering adds the readings reminders
(metering.py), lk_billing the debt reminder (billing.py)."""
from trytond import config
from trytond.model import Model, ModelSQL, Unique, fields
from trytond.pool import Pool, PoolMeta
from trytond.report import Report
from trytond.transaction import Transaction, without_check_access

KINDS = [
    ('readings_open', "Readings Window Opens"),
    ('readings_close', "Readings Window Closes"),
    ('debt', "Debt"),
    ]
# The e-mails enqueued per transaction
BATCH = 200


class Reminder(Model):
    "The reminders' cron task"
    __name__ = 'lk.reminder'
    __string__ = "Reminder"

    @classmethod
    def send_reminders(cls):
        "Send every reminder due (the cron task)"
        pool = Pool()
        Announcement = pool.get('lk.announcement')
        Announcement.mail_due()

    @classmethod
    def accesses(cls, accounts, right=None):
        "The valid accesses to the accounts (ids) that have the right"
        Access = Pool().get('lk.account.access')
        for access in Access.search([
                    ('account', 'in', list(accounts)),
                    ('valid', '=', True),
                    ], order=[('id', 'ASC')]):
            if right is None or access.has_right(right):
                yield access

    @classmethod
    def remind(cls, kind, key, users, report, record_of, context_of):
        """E-mail the report to each user (web.user) wanting the reminders
        of kind and not reminded of key yet, in batches each committed with
        its sent marks; record_of(user) gives the report's record,
        context_of(user) its context. The number of e-mails enqueued."""
        pool = Pool()
        Sent = pool.get('lk.reminder.sent')
        Outbox = pool.get('lk.mail.outbox')
        category = kind.split('_')[0]
        transaction = Transaction()
        count = 0
        with without_check_access():
            done = {s.web_user.id for s in Sent.search([
                        ('kind', '=', kind), ('key', '=', key)])}
            users = [
                u for u in users
                if u.id not in done and u.email and u.active
                and not u.blocked and u.reminded(category)]
            for start in range(0, len(users), BATCH):
                batch = users[start:start + BATCH]
                Sent.create([{
                            'kind': kind, 'key': key, 'web_user': u.id}
                        for u in batch])
                for user in batch:
                    context = dict(context_of(user))
                    context['lk_unsubscribe'] = user.unsubscribe_token(
                        category)
                    with transaction.set_context(context):
                        Outbox.enqueue_report(
                            report, record_of(user), user.languages,
                            user.email)
                count += len(batch)
                # the marks with their e-mails: a restart goes on from here
                if transaction.context.get('lk_commit_batches', True):
                    transaction.commit()
        return count


class ReminderSent(ModelSQL):
    "A reminder e-mailed to a subscriber user"
    __name__ = 'lk.reminder.sent'
    __string__ = "Reminder Sent"

    kind = fields.Selection(KINDS, "Kind", required=True, readonly=True)
    key = fields.Char(
        "Key", required=True, readonly=True,
        help="What it reminds of: the window and period, the month.")
    web_user = fields.Many2One(
        'web.user', "Subscriber User", required=True, readonly=True,
        ondelete='CASCADE')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints = [
            ('kind_key_user_unique', Unique(t, t.kind, t.key, t.web_user),
                'lk_announcement.msg_reminder_unique'),
            ]


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.append(
            ('lk.reminder|send_reminders', "Send Reminders"))


class ReminderEmail(Report):
    "A reminder e-mail of a subscriber user, with its unsubscribe link"

    @classmethod
    def get_context(cls, records, header, data):
        context = super().get_context(records, header, data)
        portal = (config.get('lk_portal', 'url', default='') or '').rstrip(
            '/')
        token = Transaction().context.get('lk_unsubscribe')
        context['portal_url'] = portal
        context['unsubscribe_url'] = (
            f'{portal}/unsubscribe/{token}' if token else None)
        context['reminder'] = Transaction().context.get('lk_reminder', {})
        return context


class ReadingsEmail(ReminderEmail):
    "The readings window opens or closes soon"
    __name__ = 'lk.reminder.email_readings'


class DebtEmail(ReminderEmail):
    "The monthly debt reminder"
    __name__ = 'lk.reminder.email_debt'
