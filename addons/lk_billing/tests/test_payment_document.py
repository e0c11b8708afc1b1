# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The payment document (ЕПД): its PDF read back as a person and a banking
app do — the text extracted, the QR code decoded from the rendered page"""
import datetime as dt
import unittest
from decimal import Decimal
from unittest import mock

import pypdfium2
import zxingcpp

from trytond.model.exceptions import AccessError
from trytond.model.modelview import AccessButtonError
from trytond.modules.company.tests import create_company
from trytond.modules.lk_base.portal import as_subscriber
from trytond.modules.lk_base.tests import (
    AccessAssertions, as_staff, create_account, create_staff,
    create_subscriber)
from trytond.modules.lk_billing import qr
from trytond.modules.lk_billing.payment_document import PaymentDocumentError
from trytond.pool import Pool
from trytond.tests.test_tryton import _DBTestCase, with_transaction
from trytond.transaction import Transaction

NOVEMBER = dt.date(2026, 11, 1)
BIC = '044525225'
CORRESPONDENT = '30101810400000000225'


def settlement_account(bic=BIC):
    "A settlement account whose control key is right for the БИК"
    weights = [7, 1, 3] * 8
    for key in range(10):
        account = f'40702810{key}00000000123'
        digits = bic[-3:] + account
        if not sum(int(d) * w for d, w in zip(digits, weights)) % 10:
            return account


def requisites(**values):
    "The bank details of a managing company, with values changed"
    return {
        'inn': '7707083893',
        'kpp': '773601001',
        'bank_bik': BIC,
        'bank_name': "ПАО Сбербанк",
        'bank_account': settlement_account(),
        'bank_correspondent_account': CORRESPONDENT,
        **values}


def create_managing_company(**values):
    pool = Pool()
    Company = pool.get('company.company')
    company = create_company(name="ООО «УК Отрадный»")
    Company.write([company], {
            'public_address': "г. Отрадный, ул. Гагарина, д. 1",
            'phone': '+7 846 000-00-00',
            **requisites(**values)})
    return company


def create_billing(account):
    """November 2026 of the account: cold water by meter with a
    recalculation, housing maintenance by area, a penalty and a payment;
    the total due is 1 965,54 ₽"""
    pool = Pool()
    Service = pool.get('lk.service')
    Charge = pool.get('lk.charge')
    Balance = pool.get('lk.balance')
    Payment = pool.get('lk.payment.received')
    water, housing = Service.create([{
                'company': account.company.id, 'code': 'HVS',
                'name': "Холодное водоснабжение", 'unit': "м³",
                'kind': 'resource',
                }, {
                'company': account.company.id, 'code': 'SOD',
                'name': "Содержание жилого помещения", 'unit': "м²",
                'kind': 'housing',
                }])
    Charge.create([{
                'account': account.id, 'service': water.id,
                'period': NOVEMBER, 'kind': 'charge',
                'volume': Decimal('5.000'), 'tariff': Decimal('50.9300'),
                'amount': Decimal('254.65'),
                'recalculation': Decimal('-30.00'),
                'recalculation_reason': "Показания за октябрь уточнены",
                'basis': 'meter', 'basis_details': "ПУ № 123: 100 → 105",
                }, {
                'account': account.id, 'service': housing.id,
                'period': NOVEMBER, 'kind': 'charge',
                'volume': Decimal('54.300'), 'tariff': Decimal('28.1500'),
                'amount': Decimal('1528.55'), 'basis': 'fixed',
                }, {
                'account': account.id, 'service': water.id,
                'period': NOVEMBER, 'kind': 'penalty',
                'amount': Decimal('12.34'),
                }])
    Balance.create([{
                'account': account.id, 'service': water.id,
                'period': NOVEMBER, 'opening': Decimal('500.00'),
                'charged': Decimal('236.99'), 'paid': Decimal('300.00'),
                'closing': Decimal('436.99'),
                }, {
                'account': account.id, 'service': housing.id,
                'period': NOVEMBER, 'opening': Decimal('1000.00'),
                'charged': Decimal('1528.55'), 'paid': Decimal('1000.00'),
                'closing': Decimal('1528.55'),
                }])
    Payment.create([{
                'account': account.id, 'date': dt.date(2026, 11, 10),
                'amount': Decimal('1300.00'), 'source': 'organization',
                'reference': 'П-77', 'period': NOVEMBER,
                }])
    return Decimal('1965.54')


def demo_account():
    "Account 101 of the managing company, its holder and apartment"
    pool = Pool()
    Account = pool.get('lk.account')
    company = create_managing_company()
    account = create_account(company, '101')
    Account.write([account], {'holder': "Иванов Иван Иванович",
            'apartment': '5', 'area': Decimal('54.30')})
    return account


def billed_account():
    "Account 101 billed for November 2026: (account, the total due)"
    account = demo_account()
    return account, create_billing(account)


def payment_document():
    "The payment document report"
    return Pool().get('lk.billing.payment_document', type='report')


def run_tasks():
    "Run the queue tasks of the transaction as they run after its commit"
    Queue = Pool().get('ir.queue')
    transaction = Transaction()
    while transaction.tasks:
        Queue(transaction.tasks.pop(0)).run()


class BatchFixture:
    """The payment documents of November 2026 of the managing company,
    created as a draft by a producer (Data Upload right) who works in
    Russian: accounts 101 (with balances) and 102 (charged only) are to
    have one, 103 (not charged) none"""

    def __init__(self):
        pool = Pool()
        Batch = pool.get('lk.billing.document.batch')
        Charge = pool.get('lk.charge')
        load_russian()
        account, _ = billed_account()
        self.company = company = account.company
        other = create_account(company, '102')
        self.accounts = [account, other, create_account(company, '103')]
        Charge.copy(
            Charge.search([('kind', '=', 'charge')]), {'account': other.id})
        self.producer = create_staff(
            'producer', company, ['group_data_upload'])
        with as_staff(self.producer, company):
            batch, = Batch.create([{'period': NOVEMBER}])
        self.id = batch.id
        Transaction().tasks.clear()

    @property
    def batch(self):
        "The batch as stored now"
        return Pool().get('lk.billing.document.batch')(self.id)

    def generate(self):
        "The producer's client (in Russian) asks to produce the documents"
        Batch = Pool().get('lk.billing.document.batch')
        with as_staff(self.producer, self.company), \
                Transaction().set_context(language='ru'):
            Batch.generate([self.batch])

    def delete(self):
        "The producer deletes the batch"
        Batch = Pool().get('lk.billing.document.batch')
        with as_staff(self.producer, self.company):
            Batch.delete([self.batch])

    def set_requisites(self, **values):
        "Change the organization's requisites"
        Company = Pool().get('company.company')
        Company.write([self.company], values)

    @staticmethod
    def documents():
        "The documents attached to the accounts: [(account, name, PDF)]"
        Attachment = Pool().get('ir.attachment')
        return [(a.resource, a.name, a.data)
            for a in Attachment.search([], order=[('name', 'ASC')])]


def load_russian():
    pool = Pool()
    Lang = pool.get('ir.lang')
    russian, = Lang.search([('code', '=', 'ru')])
    Lang.load_translations([russian])


def decode_qr(pdf):
    "The QR codes of the PDF's first page rendered at 300 dpi: [bytes]"
    document = pypdfium2.PdfDocument(pdf)
    image = document[0].render(scale=300 / 72).to_pil()
    return [r.bytes for r in zxingcpp.read_barcodes(
            image, formats=zxingcpp.BarcodeFormat.QRCode)]


def pdf_text(pdf):
    "The text of every page of the PDF, any spaces and line ends as a space"
    document = pypdfium2.PdfDocument(pdf)
    return ' '.join(' '.join(
            page.get_textpage().get_text_range().split())
        for page in document)


class PaymentQRTestCase(unittest.TestCase):
    "The ГОСТ Р 56042-2014 payload, without a database"

    values = {
        'Name': "ООО «УК Отрадный»",
        'PersonalAcc': '40702810900000000123',
        'BankName': "ПАО Сбербанк",
        'BIC': BIC,
        'CorrespAcc': CORRESPONDENT,
        }

    def test_payment_document_qr_utf8(self):
        "Test the UTF-8 payload: header, order, Sum in kopecks"
        text = qr.payload({
                **self.values, 'PaymPeriod': '112026', 'PersAcc': '101',
                'Sum': Decimal('1965.54'), 'KPP': '773601001',
                'PayeeINN': '7707083893'})
        self.assertEqual(text,
            'ST00012|Name=ООО «УК Отрадный»|PersonalAcc=40702810900000000123'
            '|BankName=ПАО Сбербанк|BIC=044525225'
            '|CorrespAcc=30101810400000000225|PayeeINN=7707083893'
            '|KPP=773601001|Sum=196554|PersAcc=101|PaymPeriod=112026')
        self.assertEqual(qr.encode(text), text.encode('utf-8'))
        self.assertEqual(qr.parse(qr.encode(text))[1]['Sum'], '196554')

    def test_payment_document_qr_cp1251(self):
        "Test the Windows-1251 payload: header digit 1 and its bytes"
        text = qr.payload(self.values, encoding='cp1251')
        self.assertTrue(text.startswith('ST00011|Name=ООО'))
        data = qr.encode(text)
        self.assertIn("ООО «УК Отрадный»".encode('cp1251'), data)
        encoding, values = qr.parse(data)
        self.assertEqual(encoding, 'cp1251')
        self.assertEqual(values, self.values)
        # the ruble sign has no Windows-1251 code
        with self.assertRaises(qr.RequisiteError) as context:
            qr.payload({**self.values, 'Purpose': "1 ₽"}, encoding='cp1251')
        self.assertEqual(context.exception.reason, 'encoding')

    def test_payment_document_qr_kopecks(self):
        "Test the sum is converted to kopecks exactly"
        for amount, kopecks in [
                (Decimal('0.10'), 10), (Decimal('1234.56'), 123456),
                (Decimal('0.29'), 29), (Decimal('1000000'), 100000000),
                (Decimal('0.57'), 57)]:
            self.assertEqual(qr.kopecks(amount), kopecks)
        for wrong in [Decimal('1.005'), Decimal('-1.00')]:
            with self.assertRaises(qr.RequisiteError):
                qr.kopecks(wrong)
        with self.assertRaises(TypeError):
            qr.kopecks(0.29)

    def test_payment_document_qr_invalid(self):
        "Test missing and wrong requisites and the separator are refused"
        for key, value, reason in [
                ('BIC', None, 'missing'),
                ('Name', '  ', 'missing'),
                ('BIC', '04452522', 'invalid'),
                ('PersonalAcc', '4070281090000000012', 'invalid'),
                ('CorrespAcc', '3010181040000000022X', 'invalid'),
                ('Name', "ООО | УК", 'separator'),
                ]:
            with self.subTest(key=key, value=value):
                with self.assertRaises(qr.RequisiteError) as context:
                    qr.payload({**self.values, key: value})
                self.assertEqual(context.exception.key, key)
                self.assertEqual(context.exception.reason, reason)
        for key, value in [
                ('PayeeINN', '77070838'), ('KPP', '7736010'),
                ('PaymPeriod', '132026'), ('Purpose', "за | ноябрь")]:
            with self.subTest(key=key, value=value):
                with self.assertRaises(qr.RequisiteError):
                    qr.payload({**self.values, key: value})

    def test_payment_document_qr_text(self):
        """Test values are written on one line, spaces of identifiers
        removed, long text shortened to the standard's length"""
        text = qr.payload({
                **self.values, 'BIC': '0445 25225',
                'payerAddress': "г. Отрадный,\n ул. Ленина",
                'Purpose': "х" * 300})
        _, values = qr.parse(text)
        self.assertEqual(values['BIC'], BIC)
        self.assertEqual(values['payerAddress'], "г. Отрадный, ул. Ленина")
        self.assertEqual(len(values['Purpose']), 210)
        self.assertTrue(values['Purpose'].endswith('…'))

    def test_payment_document_qr_drawn(self):
        "Test the QR code drawn decodes to the payload's bytes"
        import io

        from PIL import Image
        for encoding in ['utf-8', 'cp1251']:
            with self.subTest(encoding=encoding):
                text = qr.payload(self.values, encoding=encoding)
                image = Image.open(io.BytesIO(qr.png(text)))
                result, = zxingcpp.read_barcodes(image)
                self.assertEqual(result.bytes, qr.encode(text))
                self.assertIn('<svg ', qr.svg(text))


class PaymentDocumentTestCase(AccessAssertions, _DBTestCase):
    "The payment document of an account rendered as PDF"
    module = 'lk_billing'

    def assertRequisiteMissing(self, message, requisite):
        "The message tells in Russian the organization lacks the requisite"
        for told in [requisite, "ООО «УК Отрадный»", "отсутствует"]:
            with self.subTest(told=told):
                self.assertIn(told, message)

    @with_transaction()
    def test_payment_document_pdf(self):
        """Test the PDF's QR code pays the document's total with every
        requisite, and its text shows in Russian the total, deadline,
        account, period, the basis of the charges and the payments' source"""
        PaymentDocument = payment_document()
        load_russian()
        account, total = billed_account()
        company = account.company

        with Transaction().set_context(language='ru'):
            filename, pdf = PaymentDocument.render(account, NOVEMBER)
            values = PaymentDocument.values(account, NOVEMBER)
        self.assertEqual(filename, 'epd-101-2026-11.pdf')
        self.assertTrue(pdf.startswith(b'%PDF-'))
        self.assertEqual(values['total'], total)
        self.assertEqual(
            values['charged'],
            Decimal('254.65') - Decimal('30.00') + Decimal('1528.55')
            + Decimal('12.34'))

        data, = decode_qr(pdf)
        encoding, fields = qr.parse(data)
        self.assertTrue(data.startswith(b'ST00012|'))
        self.assertEqual(encoding, 'utf-8')
        self.assertEqual(fields, {
                'Name': "ООО «УК Отрадный»",
                'PersonalAcc': settlement_account(),
                'BankName': "ПАО Сбербанк",
                'BIC': BIC,
                'CorrespAcc': CORRESPONDENT,
                'PayeeINN': '7707083893',
                'KPP': '773601001',
                'Sum': '196554',
                'Purpose': "Оплата ЖКУ за ноябрь 2026, лицевой счёт 101",
                'payerAddress': account.address,
                'PersAcc': '101',
                'PaymPeriod': '112026',
                })
        self.assertEqual(int(fields['Sum']), qr.kopecks(values['total']))
        self.assertEqual(company.billing_deadline(NOVEMBER),
            dt.date(2026, 12, 15))

        text = pdf_text(pdf)
        for shown in [
                "1 965,54 ₽", "15.12.2026", "101", "ноябрь 2026",
                "Иванов Иван Иванович", "ООО «УК Отрадный»", BIC,
                settlement_account(), "Холодное водоснабжение",
                "Показания за октябрь уточнены", "ПУ № 123: 100 → 105",
                "1 300,00 ₽", "10.11.2026", "12,34 ₽", "1 500,00 ₽",
                "−30,00 ₽", "50,93", "5,000 м³", "Пени",
                # the basis of the charges and the source of the payment
                "По показаниям прибора учёта", "Фиксированно или по площади",
                "Выгрузка организации П-77"]:
            with self.subTest(shown=shown):
                self.assertIn(shown, text)
        for english in [
                "Meter Readings", "Fixed or by Area", "Organization's Upload"]:
            with self.subTest(english=english):
                self.assertNotIn(english, text)

    @with_transaction()
    def test_payment_document_overpaid_without_sum(self):
        "Test an overpaid account's QR code leaves the sum to the payer"
        Balance = Pool().get('lk.balance')
        account, _ = billed_account()
        Balance.write(Balance.search([]), {'closing': Decimal('-100.00')})
        values = payment_document().values(account, NOVEMBER)
        self.assertEqual(values['total'], Decimal('-200.00'))
        self.assertEqual(values['due'], Decimal(0))
        self.assertNotIn('Sum', qr.parse(values['qr_payload'])[1])

    @with_transaction()
    def test_payment_document_missing_bank_detail(self):
        "Test a missing bank detail refuses the document naming it"
        Company = Pool().get('company.company')
        load_russian()
        account, _ = billed_account()
        Company.write([account.company], {'bank_bik': None})
        with Transaction().set_context(language='ru'):
            with self.assertRaises(PaymentDocumentError) as context:
                payment_document().render(account, NOVEMBER)
        self.assertRequisiteMissing(context.exception.message, "БИК")

    @with_transaction()
    def test_payment_document_of_another_subscriber(self):
        "Test a subscriber cannot have the document of another's account"
        PaymentDocument = payment_document()
        account, _ = billed_account()
        other = create_account(account.company, '102')
        with as_subscriber(create_subscriber(other)):
            with self.assertRaises(AccessError):
                PaymentDocument.render(account, NOVEMBER)
            filename, pdf = PaymentDocument.render(other, NOVEMBER)
        self.assertEqual(filename, 'epd-102-2026-11.pdf')

    @with_transaction()
    def test_payment_document_printed_by_staff(self):
        """Test staff print the document of an account from the client, of
        its latest period; a user without an lk right cannot"""
        ModelData = Pool().get('ir.model.data')
        account, _ = billed_account()
        company = account.company
        # as the client asks it
        data = {'action_id': ModelData.get_id(
                'lk_billing', 'report_payment_document')}
        ext, pdf, _, name = self.assertRefusedThenAllowed(
            create_staff('stranger', company, []),
            create_staff('staff', company, ['group_staff']),
            lambda: payment_document().execute([account.id], data))
        self.assertEqual(ext, 'pdf')
        text = pdf_text(pdf)
        self.assertIn("1 965,54 ₽", text)
        self.assertIn("15.12.2026", text)

    @with_transaction()
    def test_payment_document_batch_rights(self):
        """Test staff without the right to produce documents cannot create
        or run a batch, nor another organization's staff see it"""
        Batch = Pool().get('lk.billing.document.batch')
        fixture = BatchFixture()
        company = fixture.company
        viewer = create_staff('viewer', company, ['group_staff'])
        with as_staff(viewer, company):
            self.assertEqual(Batch.search([]), [fixture.batch])
            with self.assertRaises(AccessError):
                Batch.create([{'period': NOVEMBER}])
            with self.assertRaises(AccessButtonError):
                Batch.generate([fixture.batch])
        stranger = create_staff(
            'stranger', create_company(), ['group_data_upload'])
        with as_staff(stranger), self.assertRaises(AccessError):
            Batch.read([fixture.id], ['period'])

    @with_transaction()
    def test_payment_document_batch(self):
        """Test staff produce the documents of the organization's period in
        queue tasks, attached to the accounts, with the progress counted"""
        fixture = BatchFixture()
        account, other, uncharged = fixture.accounts
        fixture.generate()
        batch = fixture.batch
        self.assertEqual((batch.state, batch.total, batch.done),
            ('running', 2, 0))
        self.assertEqual(batch.progress, 0.0)
        # without a worker the tasks run once the request is committed
        run_tasks()
        batch = fixture.batch
        self.assertEqual((batch.state, batch.total, batch.done),
            ('done', 2, 2))
        self.assertEqual(batch.progress, 1.0)
        documents = fixture.documents()
        self.assertEqual(
            [(resource, name) for resource, name, _ in documents],
            [(account, 'epd-101-2026-11.pdf'),
                (other, 'epd-102-2026-11.pdf')])
        # in the language of the staff who asked
        self.assertIn("ноябрь 2026", pdf_text(documents[0][2]))

        # produced again, the documents are replaced
        fixture.generate()
        run_tasks()
        self.assertEqual(len(fixture.documents()), 2)

        # a missing requisite is told before anything is queued
        fixture.set_requisites(bank_account=None)
        with self.assertRaises(PaymentDocumentError):
            fixture.generate()
        self.assertFalse(Transaction().tasks)

    @with_transaction()
    def test_payment_document_batch_error(self):
        """Test a batch whose documents cannot be produced any more (a
        requisite removed once it started) stops in error telling why, in
        Russian; staff produce it again or delete it, not while it runs"""
        fixture = BatchFixture()
        bank_account = fixture.company.bank_account
        fixture.generate()
        fixture.set_requisites(bank_account=None)
        with self.assertRaises(AccessError):
            fixture.delete()
        run_tasks()
        batch = fixture.batch
        self.assertEqual((batch.state, batch.done), ('error', 0))
        self.assertRequisiteMissing(batch.error, "Расчётный счёт")
        self.assertEqual(fixture.documents(), [])

        # the requisite corrected, produced again
        fixture.set_requisites(bank_account=bank_account)
        fixture.generate()
        self.assertEqual(
            (fixture.batch.state, fixture.batch.error), ('running', None))
        run_tasks()
        self.assertEqual(
            (fixture.batch.state, fixture.batch.done), ('done', 2))
        self.assertEqual(len(fixture.documents()), 2)

        # failed again, deleted
        fixture.generate()
        fixture.set_requisites(bank_account=None)
        run_tasks()
        self.assertEqual(fixture.batch.state, 'error')
        fixture.delete()
        self.assertEqual(
            Pool().get('lk.billing.document.batch').search([]), [])

    @with_transaction()
    def test_payment_document_batch_unexpected_error(self):
        """Test a batch stops in error, logged, when a document fails for
        an unforeseen reason, naming the account in Russian"""
        PaymentDocument = payment_document()
        fixture = BatchFixture()
        fixture.generate()
        with mock.patch.object(PaymentDocument, 'render',
                    side_effect=RuntimeError("WeasyPrint failed")), \
                self.assertLogs(
                    'trytond.modules.lk_billing.payment_document', 'ERROR'):
            run_tasks()
        self.assertEqual(fixture.batch.state, 'error')
        self.assertEqual(fixture.batch.error,
            "Не удалось сформировать платёжный документ лицевого счёта "
            f"«{fixture.accounts[0].rec_name}»: WeasyPrint failed")


del _DBTestCase
