# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import datetime as dt
import email
import email.policy

from trytond.model.exceptions import (
    AccessError, DomainValidationError, SQLConstraintError)
from trytond.modules.company.tests import CompanyTestMixin
from trytond.modules.lk_announcement.exceptions import (
    DocumentValidationError)
from trytond.modules.lk_base.portal import as_subscriber
from trytond.modules.lk_base.tests import (
    LkModuleTestMixin, as_staff, create_account, create_organizations,
    create_staff, create_subscriber, email_text)
from trytond.pool import Pool
from trytond.tests.test_tryton import ModuleTestCase, with_transaction
from trytond.transaction import Transaction

PDF = b'%PDF-1.4\n%%EOF\n'


def received(text):
    return email.message_from_string(text, policy=email.policy.default)


def create_announcement(company, **values):
    pool = Pool()
    Announcement = pool.get('lk.announcement')
    announcement, = Announcement.create([{
                'company': company.id,
                'title': "Плановые работы",
                'body': "Текст объявления.",
                **values}])
    return announcement


def visible(web_user):
    "The ids of the announcements the subscriber sees"
    pool = Pool()
    Announcement = pool.get('lk.announcement')
    with as_subscriber(web_user):
        return {a.id for a in Announcement.search([])}


class LkAnnouncementTestCase(
        LkModuleTestMixin, CompanyTestMixin, ModuleTestCase):
    "Test lk_announcement module"
    module = 'lk_announcement'
    extras = ['lk_portal', 'lk_metering', 'lk_billing']

    @property
    def _skip_company_rule(self):
        return super()._skip_company_rule | {
            # extended for its reminders: its parent is guarded by
            # lk_base's rules of company.company
            ('company.company', 'parent'),
            # shared by organizations (see lk_base)
            ('web.user', 'company'),
            }

    @with_transaction()
    def test_audience_building(self):
        "An announcement to one building reaches only its accounts' users"
        company, = create_organizations()
        one, two = create_account(company, '1'), create_account(company, '2')
        first = create_subscriber(one, 'one@example.com')
        second = create_subscriber(two, 'two@example.com')
        to_all = create_announcement(company)
        to_one = create_announcement(
            company, audience='buildings',
            buildings=[('add', [one.building.id])])
        to_two = create_announcement(
            company, audience='accounts', accounts=[('add', [two.id])])

        self.assertEqual(visible(first), {to_all.id, to_one.id})
        self.assertEqual(visible(second), {to_all.id, to_two.id})
        self.assertEqual(to_one.audience_users(), [first])

    @with_transaction()
    def test_other_organization_audience(self):
        "The audience is of the announcement's own organization"
        company, other = create_organizations("Other")
        foreign = create_account(other, '9')
        with self.assertRaises(DomainValidationError):
            create_announcement(
                company, audience='accounts',
                accounts=[('add', [foreign.id])])

    @with_transaction()
    def test_staff_rights(self):
        "Only staff with «Объявления» of the organization see and edit"
        pool = Pool()
        Announcement = pool.get('lk.announcement')
        company, other = create_organizations("Other")
        announcement = create_announcement(company)
        writer = create_staff('writer', company, ['group_announcements'])
        clerk = create_staff('clerk', company, ['group_readings'])
        stranger = create_staff(
            'stranger', other, ['group_announcements'])

        with as_staff(writer, company):
            Announcement.write(
                [Announcement(announcement.id)], {'title': "Новое"})
        with as_staff(clerk, company):
            with self.assertRaises(AccessError):
                Announcement.search([])
        with as_staff(stranger, other):
            self.assertEqual(Announcement.search([]), [])
            with self.assertRaises(AccessError):
                Announcement.write(
                    [Announcement(announcement.id)], {'title': "Чужое"})

    @with_transaction()
    def test_published(self):
        "An announcement is shown from its publication until its end"
        pool = Pool()
        Announcement = pool.get('lk.announcement')
        company, = create_organizations()
        now = dt.datetime.now()
        shown = create_announcement(company)
        create_announcement(company, publish_from=now + dt.timedelta(days=1))
        create_announcement(
            company, publish_from=now - dt.timedelta(days=2),
            publish_until=now - dt.timedelta(days=1))
        self.assertEqual(
            Announcement.search(Announcement.published_domain()), [shown])

    @with_transaction()
    def test_read_marks(self):
        "A read mark is the user's own, once per announcement"
        pool = Pool()
        Announcement = pool.get('lk.announcement')
        Read = pool.get('lk.announcement.read')
        company, = create_organizations()
        account = create_account(company, '1')
        user = create_subscriber(account)
        other = create_subscriber(account, 'other@example.com')
        first, second = (
            create_announcement(company), create_announcement(company))
        Announcement.mark_read(user, [first])
        Announcement.mark_read(user, [first])
        self.assertEqual(Announcement.unread(user, [first, second]), [second])
        self.assertEqual(
            Announcement.unread(other, [first, second]), [first, second])
        with as_subscriber(other):
            self.assertEqual(Read.search([]), [])
        # last: PostgreSQL aborts the transaction
        with self.assertRaises(SQLConstraintError):
            Read.create([{'announcement': first.id, 'web_user': user.id}])

    @with_transaction()
    def test_urgent_mailed_once(self):
        "An urgent announcement is enqueued once per user however often run"
        pool = Pool()
        Announcement = pool.get('lk.announcement')
        Outbox = pool.get('lk.mail.outbox')
        company, = create_organizations()
        one, two = create_account(company, '1'), create_account(company, '2')
        create_subscriber(one, 'one@example.com')
        create_subscriber(two, 'two@example.com')
        now = dt.datetime.now()
        announcement = create_announcement(
            company, urgent=True, audience='buildings',
            buildings=[('add', [one.building.id])],
            outage_what="Холодная вода", outage_where="Ленина, 1",
            outage_from=now, outage_until=now + dt.timedelta(hours=4))
        Announcement.mail_urgent([announcement])
        Announcement.mail_urgent([announcement])
        mails = Outbox.search([('origin', '=', str(announcement))])
        self.assertEqual([m.to for m in mails], ['one@example.com'])
        self.assertEqual(announcement.mailed, 1)
        message = email_text(received(mails[0].render_message()))
        self.assertIn("Холодная вода", message)
        self.assertIn("Плановые работы", mails[0].subject)

    @with_transaction()
    def test_document_type(self):
        "A public document is refused when its file is of another kind"
        pool = Pool()
        Document = pool.get('lk.public.document')
        company, = create_organizations()
        with self.assertRaises(DocumentValidationError):
            Document.create([{
                        'company': company.id, 'name': "Тарифы",
                        'data': b'MZ\x90\x00', 'filename': 'tariffs.exe'}])
        document, = Document.create([{
                    'company': company.id, 'name': "Тарифы",
                    'data': PDF, 'filename': 'tariffs.pdf'}])
        self.assertEqual(document.media_type, 'application/pdf')

    @with_transaction()
    def test_unsubscribe_token(self):
        "An unsubscribe token names its user and kind and cannot be forged"
        pool = Pool()
        WebUser = pool.get('web.user')
        company, = create_organizations()
        user = create_subscriber(create_account(company, '1'))
        token = user.unsubscribe_token('debt')
        self.assertEqual(WebUser.from_unsubscribe_token(token), (user, 'debt'))
        forged = token.replace('-debt-', '-readings-')
        self.assertIsNone(WebUser.from_unsubscribe_token(forged))
        self.assertIsNone(WebUser.from_unsubscribe_token('1-debt-00'))
        self.assertIsNone(WebUser.from_unsubscribe_token('x'))

    @with_transaction()
    def test_reminder_unsubscribed(self):
        "A reminder skips the unsubscribed and is never sent twice"
        pool = Pool()
        Reminder = pool.get('lk.reminder')
        Outbox = pool.get('lk.mail.outbox')
        company, = create_organizations()
        account = create_account(company, '1')
        user = create_subscriber(account, 'one@example.com')
        off = create_subscriber(
            account, 'off@example.com', remind_debt=False)
        with Transaction().set_context(lk_commit_batches=False):
            sent = Reminder.remind(
                'debt', 'k', [user, off], 'lk.reminder.email_debt',
                lambda u: u, lambda u: {'lk_reminder': {
                        'organization': "УК", 'debt': "1,00 ₽",
                        'accounts': '1'}})
            again = Reminder.remind(
                'debt', 'k', [user, off], 'lk.reminder.email_debt',
                lambda u: u, lambda u: {})
        self.assertEqual((sent, again), (1, 0))
        mail, = Outbox.search([('render', 'like', '%email_debt')])
        self.assertEqual(mail.to, 'one@example.com')
        message = email_text(received(mail.render_message()))
        self.assertIn('/unsubscribe/' + user.unsubscribe_token('debt'),
            message)


del ModuleTestCase
