# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Announcements (объявления) of an organization to its subscribers

The audience is every account of the organization, the accounts of some
buildings or chosen accounts; a subscriber user reaches an announcement
through a valid access to one of those accounts (the portal rule). Urgent
announcements (an outage) are also e-mailed, in the background queue, to
each user of the audience once: a sent mark per announcement and user,
unique, is written in the transaction that enqueues the e-mail."""
import datetime as dt

from trytond import config
from trytond.model import Index, ModelSQL, ModelView, Unique, fields
from trytond.modules.lk_base.format import format_datetime
from trytond.modules.lk_base.model import CompanyDefaultMixin, company_field
from trytond.pool import Pool
from trytond.pyson import Bool, Eval
from trytond.report import Report, get_email
from trytond.transaction import Transaction, without_check_access

AUDIENCES = [
    ('all', "All Subscribers"),
    ('buildings', "Buildings"),
    ('accounts', "Accounts"),
    ]
# The users mailed per transaction of mail_urgent
MAIL_BATCH = 500


class Announcement(CompanyDefaultMixin, ModelSQL, ModelView):
    "News of an organization for all its subscribers, buildings or accounts"
    __name__ = 'lk.announcement'
    __string__ = "Announcement"
    _rec_name = 'title'

    company = company_field(ondelete='CASCADE', fixed=True)
    title = fields.Char("Title", required=True, size=200)
    body = fields.Text("Text", required=True, size=10000)
    audience = fields.Selection(
        AUDIENCES, "Audience", required=True, sort=False)
    buildings = fields.Many2Many(
        'lk.announcement-lk.building', 'announcement', 'building',
        "Buildings",
        domain=[('company', '=', Eval('company', -1))],
        states={
            'invisible': Eval('audience') != 'buildings',
            'required': Eval('audience') == 'buildings',
            })
    accounts = fields.Many2Many(
        'lk.announcement-lk.account', 'announcement', 'account', "Accounts",
        domain=[('company', '=', Eval('company', -1))],
        states={
            'invisible': Eval('audience') != 'accounts',
            'required': Eval('audience') == 'accounts',
            })
    publish_from = fields.DateTime("Published From", required=True)
    publish_until = fields.DateTime(
        "Published Until",
        domain=['OR',
            ('publish_until', '=', None),
            ('publish_until', '>', Eval('publish_from', None)),
            ],
        help="Leave empty to keep it published.")
    pinned = fields.Boolean(
        "Pinned", help="Shown first, before the newer announcements.")
    urgent = fields.Boolean(
        "Urgent",
        help="An outage: also e-mailed to the subscribers concerned once "
        "it is published.")
    outage_what = fields.Char(
        "What", size=200,
        states={
            'invisible': ~Eval('urgent'),
            'required': Bool(Eval('urgent')),
            },
        help="What is cut off: cold water, electricity…")
    outage_where = fields.Char(
        "Where", size=500,
        states={
            'invisible': ~Eval('urgent'),
            'required': Bool(Eval('urgent')),
            })
    outage_from = fields.DateTime(
        "Outage From",
        states={
            'invisible': ~Eval('urgent'),
            'required': Bool(Eval('urgent')),
            })
    outage_until = fields.DateTime(
        "Outage Until",
        domain=['OR',
            ('outage_until', '=', None),
            ('outage_until', '>', Eval('outage_from', None)),
            ],
        states={
            'invisible': ~Eval('urgent'),
            })
    mailed = fields.Integer(
        "E-mailed", readonly=True,
        states={
            'invisible': ~Eval('urgent'),
            },
        help="How many subscriber users were e-mailed.")
    web_users = fields.Function(
        fields.Many2Many('web.user', None, None, "Subscriber Users"),
        'get_web_users', searcher='search_web_users')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._order = [
            ('pinned', 'DESC'), ('publish_from', 'DESC'), ('id', 'DESC')]
        cls._sql_indexes.add(
            Index(t, (t.company, Index.Range()), (t.publish_from,
                    Index.Range())))

    @classmethod
    def default_audience(cls):
        return 'all'

    @classmethod
    def default_publish_from(cls):
        return dt.datetime.now().replace(microsecond=0)

    @classmethod
    def default_pinned(cls):
        return False

    @classmethod
    def default_urgent(cls):
        return False

    @classmethod
    def default_mailed(cls):
        return 0

    @classmethod
    def published_domain(cls, now=None):
        "The announcements published at the time (by default now)"
        now = now or dt.datetime.now()
        return [
            ('publish_from', '<=', now),
            ['OR',
                ('publish_until', '=', None),
                ('publish_until', '>', now),
                ],
            ]

    def accounts_domain(self):
        "The domain of the accounts of the audience"
        if self.audience == 'buildings':
            return [('building', 'in', [b.id for b in self.buildings])]
        if self.audience == 'accounts':
            return [('id', 'in', [a.id for a in self.accounts])]
        return [('company', '=', self.company.id)]

    def audience_users(self):
        """The subscriber users with a valid access to an account of the
        audience, with an e-mail address"""
        pool = Pool()
        Access = pool.get('lk.account.access')
        with without_check_access():
            accesses = Access.search([
                    ('account', 'where', self.accounts_domain()),
                    ('account.company', '=', self.company.id),
                    ('valid', '=', True),
                    ], order=[('web_user', 'ASC')])
        return list(dict.fromkeys(
                a.web_user for a in accesses if a.web_user.email))

    @classmethod
    def get_web_users(cls, announcements, name):
        return {a.id: [u.id for u in a.audience_users()]
            for a in announcements}

    @classmethod
    def search_web_users(cls, name, clause):
        """The announcements whose audience holds an account of a valid
        access of the user (the portal rule, with the user's id)"""
        pool = Pool()
        Access = pool.get('lk.account.access')
        AnnouncementBuilding = pool.get('lk.announcement-lk.building')
        AnnouncementAccount = pool.get('lk.announcement-lk.account')
        path, operator, value = clause[:3]
        # only the user's id itself: not a path through the users
        if path != name or operator != '=' or not isinstance(value, int):
            return [('id', '=', -1)]
        with without_check_access():
            accounts = [a.account for a in Access.search([
                        ('web_user', '=', value),
                        ('valid', '=', True),
                        ])]
        if not accounts:
            return [('id', '=', -1)]
        buildings = AnnouncementBuilding.__table__()
        chosen = AnnouncementAccount.__table__()
        # subqueries, not the relations' searches: their rules are this one
        return ['OR',
            [('audience', '=', 'all'),
                ('company', 'in', list({a.company.id for a in accounts}))],
            [('audience', '=', 'buildings'),
                ('id', 'in', buildings.select(
                        buildings.announcement,
                        where=buildings.building.in_(
                            list({a.building.id for a in accounts}))))],
            [('audience', '=', 'accounts'),
                ('id', 'in', chosen.select(
                        chosen.announcement,
                        where=chosen.account.in_(
                            [a.id for a in accounts])))],
            ]

    @classmethod
    def on_modification(cls, mode, announcements, field_names=None):
        super().on_modification(
            mode, announcements, field_names=field_names)
        if mode in {'create', 'write'}:
            urgent = [a for a in announcements if a.urgent]
            if urgent:
                cls.__queue__.mail_urgent(urgent)

    @classmethod
    def mail_urgent(cls, announcements):
        """E-mail the published urgent announcements to the users of their
        audience not e-mailed yet, each once whoever runs it how often: the
        sent mark is unique per announcement and user"""
        pool = Pool()
        Sent = pool.get('lk.announcement.sent')
        Outbox = pool.get('lk.mail.outbox')
        now = dt.datetime.now()
        with without_check_access():
            announcements = cls.browse(announcements)
            for announcement in announcements:
                if not announcement.urgent or not (
                        announcement.publish_from <= now
                        and (announcement.publish_until is None
                            or announcement.publish_until > now)):
                    continue
                # a concurrent run is refused (PostgreSQL) and tried again
                transaction = Transaction()
                transaction.database.lock_records(
                    transaction.connection, cls._table, [announcement.id])
                done = {s.web_user.id for s in Sent.search([
                            ('announcement', '=', announcement.id),
                            ])}
                users = [
                    u for u in announcement.audience_users()
                    if u.id not in done][:MAIL_BATCH]
                if not users:
                    continue
                Sent.create([{
                            'announcement': announcement.id,
                            'web_user': u.id,
                            } for u in users])
                for user in users:
                    with Transaction().set_context(
                            language=user.languages[0].code):
                        Outbox.enqueue_method(
                            announcement, 'get_email_urgent', user.email,
                            from_=announcement.company.email)
                cls.write([announcement], {
                        'mailed': (announcement.mailed or 0) + len(users)})
                if len(users) == MAIL_BATCH:
                    # the rest in a task of its own
                    cls.__queue__.mail_urgent([announcement])

    @classmethod
    def mail_due(cls):
        """Mail the urgent announcements published since their saving (the
        reminders' cron task)"""
        with without_check_access():
            announcements = cls.search([
                    ('urgent', '=', True),
                    cls.published_domain(),
                    ('publish_from', '>=',
                        dt.datetime.now() - dt.timedelta(days=7)),
                    ])
        cls.mail_urgent(announcements)

    def get_email_urgent(self):
        "The e-mail of the urgent announcement, in the context's language"
        pool = Pool()
        Lang = pool.get('ir.lang')
        languages = Lang.search([
                ('code', '=', Transaction().language)], limit=1)
        message, title = get_email(
            'lk.announcement.email_urgent', self, languages)
        return message, f'{title}: {self.title}'

    @classmethod
    def unread(cls, web_user, announcements):
        "The announcements the web user has not read"
        pool = Pool()
        Read = pool.get('lk.announcement.read')
        ids = [a.id for a in announcements]
        with without_check_access():
            read = {r.announcement.id for r in Read.search([
                        ('web_user', '=', web_user.id),
                        ('announcement', 'in', ids),
                        ])}
        return [a for a in announcements if a.id not in read]

    @classmethod
    def mark_read(cls, web_user, announcements):
        "Mark the announcements read by the web user, once"
        pool = Pool()
        Read = pool.get('lk.announcement.read')
        unread = cls.unread(web_user, announcements)
        with without_check_access():
            Read.create([{
                        'announcement': a.id, 'web_user': web_user.id}
                    for a in unread])


class AnnouncementBuilding(ModelSQL):
    __name__ = 'lk.announcement-lk.building'
    __string__ = "Announcement Building"

    announcement = fields.Many2One(
        'lk.announcement', "Announcement", required=True,
        ondelete='CASCADE')
    building = fields.Many2One(
        'lk.building', "Building", required=True, ondelete='CASCADE')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('announcement')


class AnnouncementAccount(ModelSQL):
    __name__ = 'lk.announcement-lk.account'
    __string__ = "Announcement Account"

    announcement = fields.Many2One(
        'lk.announcement', "Announcement", required=True,
        ondelete='CASCADE')
    account = fields.Many2One(
        'lk.account', "Account", required=True, ondelete='CASCADE')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('announcement')


class _UserMark(ModelSQL):
    "A mark of an announcement for a subscriber user, at most one"
    __slots__ = ()

    announcement = fields.Many2One(
        'lk.announcement', "Announcement", required=True,
        ondelete='CASCADE')
    web_user = fields.Many2One(
        'web.user', "Subscriber User", required=True, ondelete='CASCADE')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints = [
            ('announcement_user_unique', Unique(
                    t, t.announcement, t.web_user),
                'lk_announcement.msg_mark_unique'),
            ]


class AnnouncementRead(_UserMark, ModelSQL):
    """The subscriber user read the announcement: only theirs, not their
    announcement's (its rule would show the marks of the other users who
    see it); no staff reads them"""
    __name__ = 'lk.announcement.read'
    __string__ = "Announcement Read"


class AnnouncementSent(_UserMark, ModelSQL):
    "The urgent announcement was e-mailed to the subscriber user"
    __name__ = 'lk.announcement.sent'
    __string__ = "Announcement E-mailed"

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('announcement')


class UrgentEmail(Report):
    "The e-mail of an urgent announcement"
    __name__ = 'lk.announcement.email_urgent'

    @classmethod
    def get_context(cls, records, header, data):
        context = super().get_context(records, header, data)
        context['portal_url'] = (
            config.get('lk_portal', 'url', default='') or '').rstrip('/')
        context['format_datetime'] = format_datetime
        return context
