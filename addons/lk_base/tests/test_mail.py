# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import datetime as dt
import email
import email.policy
import socket
import time
from email.message import EmailMessage
from types import SimpleNamespace

from trytond.model.exceptions import AccessError
from trytond.modules.company.tests import create_company
from trytond.modules.lk_base.mail import deliver
from trytond.pool import Pool
from trytond.report import get_email
# _DBTestCase, as Tryton's RouteTestCase: test_module runs the generic
# ModuleTestCase tests, which a second subclass would run again
from trytond.tests.test_tryton import DB_NAME, _DBTestCase, with_transaction
from trytond.transaction import Transaction, check_access

from . import create_staff
from .tools import SMTPServer, set_config


def closed_port():
    "A local port nothing listens on: a mail server that is down"
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def new_message(to='one@example.com', subject="Проверка"):
    message = EmailMessage()
    message['From'] = 'lk@example.com'
    message['To'] = to
    message['Subject'] = subject
    message.set_content("Здравствуйте!\n\nСообщение личного кабинета.")
    return message


def received(message):
    "The outbox's stored message, parsed"
    return email.message_from_bytes(
        message.message.encode('utf-8'), policy=email.policy.default)


class LkBaseMailTestCase(_DBTestCase):
    "Test the outbox of lk's e-mails"
    module = 'lk_base'

    def setUp(self):
        super().setUp()
        # Sent when the transaction commits, not from a thread
        self.enterContext(set_config('email', 'outbox_thread', 'False'))
        self.enterContext(set_config('email', 'outbox_delay', '60'))
        self.enterContext(set_config('email', 'outbox_delay_max', '3600'))

    def test_outbox_rolled_back_sends_nothing(self):
        "A message of a rolled back transaction is not even stored"
        with Transaction().start(DB_NAME, 0) as transaction:
            Outbox = Pool().get('lk.mail.outbox')
            Outbox.enqueue(new_message())
            self.assertEqual(Outbox.search_count([]), 1)
            transaction.rollback()
        with Transaction().start(DB_NAME, 0):
            Outbox = Pool().get('lk.mail.outbox')
            self.assertEqual(Outbox.search_count([]), 0)

    def transact(self, func):
        "func(Outbox) in a committed transaction of its own"
        with Transaction().start(DB_NAME, 0):
            return func(Pool().get('lk.mail.outbox'))

    def read(self, id_):
        def read(Outbox):
            outbox = Outbox(id_)
            return SimpleNamespace(**{
                    f: getattr(outbox, f) for f in [
                        'state', 'attempts', 'attempt_date', 'next_attempt',
                        'last_error', 'sent_date', 'message_id']})
        return self.transact(read)

    def make_due(self, id_):
        self.transact(lambda Outbox: Outbox.write([Outbox(id_)], {
                    'next_attempt': (
                        dt.datetime.now() - dt.timedelta(seconds=1)),
                    }))

    def test_outbox_back_off_and_exactly_once(self):
        """While the mail server is down each attempt doubles the delay;
        once it is up the message goes out once, whoever sends again"""
        self.addCleanup(self.transact, lambda Outbox: Outbox.delete(
                Outbox.search([])))
        with set_config('email', 'uri', f'smtp://127.0.0.1:{closed_port()}'):
            # sent when the transaction commits (at once, without thread)
            id_ = self.transact(
                lambda Outbox: Outbox.enqueue(new_message()).id)
            delays = []
            for attempts in range(1, 5):
                outbox = self.read(id_)
                self.assertEqual(
                    (outbox.state, outbox.attempts), ('queued', attempts))
                delays.append((outbox.next_attempt - outbox.attempt_date
                        ).total_seconds())
                # not due: the cron task does not try again at once
                self.transact(lambda Outbox: Outbox.send_queued())
                self.assertEqual(self.read(id_).attempts, attempts)
                self.make_due(id_)
                self.transact(lambda Outbox: Outbox.send_queued())
            for delay, expected in zip(delays, [60, 120, 240, 480]):
                self.assertAlmostEqual(delay, expected, delta=1)
            outbox = self.read(id_)
            self.assertEqual((outbox.state, outbox.attempts), ('queued', 5))
            self.assertIn('ConnectionRefusedError', outbox.last_error)
            self.assertIsNone(outbox.sent_date)

        with SMTPServer() as smtp:
            # another sender holds it: this one leaves it
            row = self.transact(lambda Outbox: Outbox._take(id_, due=False))
            self.assertEqual(row[0], 6)
            self.assertEqual(self.read(id_).state, 'sending')
            deliver(DB_NAME, [id_])
            self.transact(lambda Outbox: Outbox.send_queued())
            self.assertEqual(len(smtp.messages), 0)
            # the other sender fails: queued again, sent by the cron task
            self.transact(lambda Outbox: Outbox._sent(
                    id_, 6, ConnectionRefusedError()))
            self.make_due(id_)
            self.transact(lambda Outbox: Outbox.send_queued())
            self.assertEqual(len(smtp.messages), 1)
            outbox = self.read(id_)
            self.assertEqual((outbox.state, outbox.attempts), ('sent', 7))
            self.assertTrue(outbox.sent_date)
            # again by the cron task, the thread and the staff's button
            self.make_due(id_)
            self.transact(lambda Outbox: Outbox.send_queued())
            deliver(DB_NAME, [id_])
            self.transact(lambda Outbox: Outbox.send_now([Outbox(id_)]))
            self.assertEqual(len(smtp.messages), 1)
        message, = smtp.messages
        self.assertEqual(message.rcpt_tos, ['one@example.com'])
        self.assertEqual(message['Message-ID'], outbox.message_id)
        self.assertEqual(message['Subject'], "Проверка")
        self.assertIn(
            "Сообщение личного кабинета",
            message.get_body().get_content())

    def test_outbox_sender_died(self):
        "A message left sending past the lease is queued again"
        self.addCleanup(self.transact, lambda Outbox: Outbox.delete(
                Outbox.search([])))
        with set_config('email', 'uri', f'smtp://127.0.0.1:{closed_port()}'):
            id_ = self.transact(
                lambda Outbox: Outbox.enqueue(new_message()).id)
        self.make_due(id_)
        self.transact(lambda Outbox: Outbox._take(id_))
        with SMTPServer() as smtp, set_config('email', 'outbox_lease', '0'):
            time.sleep(1)
            self.transact(lambda Outbox: Outbox.send_queued())
        self.assertEqual(len(smtp.messages), 1)
        outbox = self.read(id_)
        self.assertEqual((outbox.state, outbox.attempts), ('sent', 3))

    def test_outbox_refused_for_good(self):
        """A message the server refuses for good is failed; staff can send
        it again"""
        self.addCleanup(self.transact, lambda Outbox: Outbox.delete(
                Outbox.search([])))

        class Refusing(SMTPServer):
            async def handle_RCPT(
                    self, server, session, envelope, address, options):
                return '550 No such user'

        with Refusing():
            id_ = self.transact(lambda Outbox: Outbox.enqueue(
                    new_message('nobody@example.com')).id)
        outbox = self.read(id_)
        self.assertEqual(outbox.state, 'failed')
        self.assertIn('550', outbox.last_error)
        with SMTPServer() as smtp:
            self.make_due(id_)
            self.transact(lambda Outbox: Outbox.send_queued())
            self.assertEqual(len(smtp.messages), 0)
            self.transact(lambda Outbox: Outbox.send_now([Outbox(id_)]))
            self.assertEqual(len(smtp.messages), 1)
        self.assertEqual(self.read(id_).state, 'sent')

    @with_transaction()
    def test_outbox_read_by_operator_only(self):
        "Staff of an organization do not read the outbox, the operator does"
        pool = Pool()
        Outbox = pool.get('lk.mail.outbox')
        company = create_company()
        staff = create_staff('staff', company, [
                'group_staff', 'group_subscriber_users'])
        operator = create_staff('operator', company, ['group_operator'])
        outbox = Outbox.enqueue(new_message())

        with Transaction().set_user(staff.id), check_access():
            with self.assertRaises(AccessError):
                Outbox.read([outbox.id], ['to'])
        with Transaction().set_user(operator.id), check_access():
            self.assertEqual(Outbox.search([]), [outbox])
            with self.assertRaises(AccessError):
                Outbox.write([outbox], {'to': 'other@example.com'})

    @with_transaction()
    def test_mail_report_rendered_many_times(self):
        """A mail report renders a thousand times in one process (trytond
        nested a translator more at each rendering of a cached template)"""
        pool = Pool()
        Lang = pool.get('ir.lang')
        WebUser = pool.get('web.user')
        russian, = Lang.search([('code', '=', 'ru')])
        user, = WebUser.create([{'email': 'many@example.com'}])
        user.set_invitation_token()
        user.save()
        for _ in range(1000):
            message, title = get_email(
                'web.user.email_invitation', user, [russian])
        self.assertIn('many@example.com', message.as_string())

    @with_transaction()
    def test_web_user_mails_queued_in_russian(self):
        """web_user's reset-password and validation mails go through the
        outbox, in Russian by default, with the configured links"""
        pool = Pool()
        Lang = pool.get('ir.lang')
        WebUser = pool.get('web.user')
        Outbox = pool.get('lk.mail.outbox')
        russian, = Lang.search([('code', '=', 'ru')])
        Lang.load_translations([russian])
        user, = WebUser.create([{
                    'email': 'abonent@example.com', 'email_valid': True}])
        self.assertEqual(user.language, russian)

        with set_config('web', 'reset_password_url',
                    'https://lk.example.com/reset'), \
                set_config('web', 'email_validation_url',
                    'https://lk.example.com/validate'):
            WebUser.reset_password([user])
            WebUser.validate_email([user])
            reset, validation = Outbox.search([], order=[('id', 'ASC')])
            # rendered by the sender
            self.assertIsNone(reset.message)
            for outbox in [reset, validation]:
                outbox.render_message()
        reset, validation = Outbox.browse([reset.id, validation.id])
        self.assertEqual(reset.to, 'abonent@example.com')
        for outbox, subject, texts in [
                (reset, "Восстановление пароля", [
                        "Выбрать новый пароль",
                        'https://lk.example.com/reset'
                        '?email=abonent%40example.com'
                        f'&token={WebUser(user.id).reset_password_token}']),
                (validation, "Подтвердите адрес e-mail", [
                        "Подтвердить",
                        'https://lk.example.com/validate?token='
                        f'{WebUser(user.id).email_token}']),
                ]:
            self.assertEqual(outbox.subject, subject)
            text = SMTPServer.text(received(outbox))
            for expected in texts:
                self.assertIn(expected, text)

        # A link not yet expired is sent again, not replaced
        token = WebUser(user.id).reset_password_token
        WebUser.reset_password([user])
        self.assertEqual(WebUser(user.id).reset_password_token, token)
        self.assertEqual(Outbox.search_count([]), 3)

        english, = Lang.search([('code', '=', 'en')])
        WebUser.write([user], {'language': english.id})
        WebUser.reset_password([user])
        last, = Outbox.search([], order=[('id', 'DESC')], limit=1)
        last.render_message()
        self.assertEqual(last.subject, "Reset Password")


del _DBTestCase
