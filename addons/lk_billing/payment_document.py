# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The monthly payment document (ЕПД) of an account as PDF, with the payment
QR code of ГОСТ Р 56042-2014, and the staff's job producing those of an
organization's period in the background"""
import datetime as dt
import logging
from decimal import Decimal

from genshi.core import Markup

from trytond import backend
from trytond.exceptions import UserError
from trytond.i18n import gettext
from trytond.model import (
    Index, ModelSQL, ModelView, Workflow, fields)
from trytond.model.exceptions import AccessError
# «1 234,56 ₽» and DD.MM.YYYY as the portal shows them
from trytond.modules.lk_base.format import format_date, format_money
from trytond.modules.lk_base.model import (
    CompanyDefaultMixin, check_readable, company_field, shown_in)
from trytond.modules.lk_base.month import format_period
from trytond.modules.lk_base.report import Report
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.tools import grouped_slice, slugify
from trytond.transaction import Transaction, without_check_access

from . import qr
from .period import check_period, next_period

# The requisites of the organization the QR code needs: payload key → field
# of company.company
REQUISITE_FIELDS = {
    'Name': 'party',
    'PersonalAcc': 'bank_account',
    'BankName': 'bank_name',
    'BIC': 'bank_bik',
    'CorrespAcc': 'bank_correspondent_account',
    'PayeeINN': 'inn',
    'KPP': 'kpp',
    }
# The accounts whose documents one queue task produces
CHUNK = 50

logger = logging.getLogger(__name__)


class PaymentDocumentError(UserError):
    "The payment document cannot be produced (a requisite is missing)"


def format_number(value, digits):
    "Decimal('1234.5'), 3 → «1 234,500»; '' for None"
    if value is None:
        return ''
    text = f'{value:,.{digits}f}'.replace(',', '\u00a0').replace('.', ',')
    return text


def format_tariff(value):
    "Decimal('50.9300') → «50,93», Decimal('4.1234') → «4,1234»"
    if value is None:
        return ''
    exponent = value.normalize().as_tuple().exponent
    return format_number(value, min(max(2, -exponent), 4))


def _period(value):
    "The period (a month's first day) of a date or ISO text"
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    if isinstance(value, dt.datetime):
        value = value.date()
    return value.replace(day=1) if value else None


class PaymentDocument(Report):
    "Payment document (ЕПД) of an account for a period"
    __name__ = 'lk.billing.payment_document'

    @classmethod
    def render(cls, report, report_context=None):
        """PaymentDocument.render(account, period) -> (filename, bytes): the
        PDF of the account for the period (a date in the month), if the
        user may read the account (AccessError otherwise)

        Report.render(action report, report context) -> rendered template,
        as the report engine calls it."""
        if isinstance(report_context, dict):
            return super().render(report, report_context)
        return cls._document(report, report_context)

    @classmethod
    def _document(cls, account, period):
        pool = Pool()
        ActionReport = pool.get('ir.action.report')
        Account = pool.get('lk.account')
        period = _period(period)
        check_readable([account])
        with without_check_access():
            action, = ActionReport.search([
                    ('report_name', '=', cls.__name__),
                    ], limit=1)
            account = Account(account.id)
            _, content = cls._execute(
                [account], {}, {'period': period.isoformat()}, action)
        return cls.filename(account, period), bytes(content)

    @classmethod
    def filename(cls, account, period):
        "epd-<account number>-<YYYY-MM>.pdf"
        return f'epd-{slugify(account.number)}-{period:%Y-%m}.pdf'

    @classmethod
    def period(cls, account, data=None):
        "The period asked in data or context, else the latest of the account"
        asked = ((data or {}).get('period')
            or Transaction().context.get('period'))
        return _period(asked) or cls.latest_period(account)

    @classmethod
    def latest_period(cls, account):
        """The latest period the account was charged or balanced in, else
        the last month"""
        pool = Pool()
        periods = [
            record.period
            for name in ['lk.balance', 'lk.charge']
            for record in pool.get(name).search(
                [('account', '=', account.id)],
                order=[('period', 'DESC')], limit=1)]
        today = pool.get('ir.date').today()
        return max(periods, default=_period(
                today.replace(day=1) - dt.timedelta(days=1)))

    @classmethod
    def get_context(cls, records, header, data):
        context = super().get_context(records, header, data)
        account = records[0]
        period = cls.period(account, data)
        context['doc'] = cls.values(account, period)
        context['money'] = format_money
        context['number'] = format_number
        context['tariff'] = format_tariff
        context['day'] = format_date
        return context

    @classmethod
    def values(cls, account, period):
        """What the document shows, as a dict: the organization, the
        account, the lines of charges, the payments, the totals and the
        QR code (its payload and its <svg>)"""
        pool = Pool()
        Charge = pool.get('lk.charge')
        Balance = pool.get('lk.balance')
        Payment = pool.get('lk.payment.received')
        company = account.company
        charges = Charge.search([
                ('account', '=', account.id),
                ('period', '=', period),
                ])
        charges.sort(key=lambda c: (
                c.kind != 'charge',
                c.service.code or '' if c.service else '',
                c.service.name if c.service else '', c.id))
        lines = []
        for charge in charges:
            service = charge.service
            lines.append({
                    'service': service.name if service else '',
                    'penalty': charge.kind == 'penalty',
                    'volume': charge.volume,
                    'unit': (service.unit if service else '') or '',
                    'tariff': charge.tariff,
                    'amount': charge.amount,
                    'recalculation': charge.recalculation or Decimal(0),
                    'recalculation_reason': charge.recalculation_reason or '',
                    'total': charge.total,
                    'basis': charge.basis_string or '',
                    'basis_details': charge.basis_details or '',
                    'coefficient': charge.coefficient,
                    })
        charged = sum((l['total'] for l in lines), Decimal(0))

        balances = Balance.search([
                ('account', '=', account.id),
                ('period', '=', period),
                ])
        end = next_period(period)
        payments = Payment.search([
                ('account', '=', account.id),
                ['OR',
                    ('period', '=', period),
                    [('period', '=', None),
                        ('date', '>=', period), ('date', '<', end)],
                    ],
                ], order=[('date', 'ASC'), ('id', 'ASC')])
        if balances:
            opening = sum((b.opening for b in balances), Decimal(0))
            paid = sum((b.paid for b in balances), Decimal(0))
            total = sum((b.closing for b in balances), Decimal(0))
        else:
            opening = Decimal(0)
            paid = sum((p.amount for p in payments), Decimal(0))
            total = opening + charged - paid
        deadline = company.billing_deadline(period)
        period_name = format_period(period)
        qr_payload = cls.qr_payload(account, period, total)
        return {
            'company': company,
            'organization': company.party.name,
            'account': account,
            'period': period,
            'period_name': period_name,
            'lines': lines,
            'payments': [{
                    'date': p.date,
                    'amount': p.amount,
                    'source': p.source_string,
                    'reference': p.reference or '',
                    } for p in payments],
            'opening': opening,
            'charged': charged,
            'paid': paid,
            'total': total,
            'due': max(total, Decimal(0)),
            'deadline': deadline,
            'qr_payload': qr_payload,
            'qr_svg': Markup(qr.svg(qr_payload, title=gettext(
                        'lk_billing.msg_payment_document_qr_title'))),
            }

    @classmethod
    def qr_payload(cls, account, period, total, encoding='utf-8'):
        """The ГОСТ Р 56042-2014 payload paying total (none when not
        positive) of the account for the period to its organization;
        PaymentDocumentError naming the missing or wrong requisite"""
        pool = Pool()
        Company = pool.get('company.company')
        company = account.company
        values = cls.requisites(company)
        period_name = format_period(period)
        values.update({
                'Sum': total if total > 0 else None,
                'Purpose': gettext(
                    'lk_billing.msg_payment_document_purpose',
                    period=period_name, account=account.number),
                'PersAcc': account.number,
                'PaymPeriod': qr.payment_period(period),
                'payerAddress': account.address,
                })
        try:
            return qr.payload(values, encoding)
        except qr.RequisiteError as exception:
            field = REQUISITE_FIELDS.get(exception.key)
            if field:
                requisite = Company.fields_get([field])[field]['string']
            else:
                requisite = exception.key
            if exception.reason == 'missing':
                msg_id = 'lk_billing.msg_payment_document_requisite_missing'
            else:
                msg_id = 'lk_billing.msg_payment_document_requisite_invalid'
            raise PaymentDocumentError(gettext(
                    msg_id, organization=company.rec_name,
                    requisite=requisite, value=exception.value or ''))

    @classmethod
    def requisites(cls, company):
        "The organization's requisites for the QR code, by payload key"
        return {
            key: (company.party.name if field == 'party'
                else getattr(company, field))
            for key, field in REQUISITE_FIELDS.items()}

    @classmethod
    def check_requisites(cls, company):
        "PaymentDocumentError unless the organization's QR code is possible"
        cls.qr_payload(
            _Account(company), dt.date.today().replace(day=1), Decimal(0))


class _Account:
    "An account of the organization, enough for a payload without one"
    number = '0'
    address = ''

    def __init__(self, company):
        self.company = company


class DocumentBatch(
        CompanyDefaultMixin, Workflow, ModelSQL, ModelView):
    "Payment documents of an organization's period, produced in background"
    __name__ = 'lk.billing.document.batch'
    __string__ = "Payment Documents"

    company = company_field(fixed=True)
    period = fields.Date(
        "Period", required=True,
        states={
            'readonly': Eval('state') != 'draft',
            },
        help="The first day of the month.")
    period_name = fields.Function(
        fields.Char("Month"), 'on_change_with_period_name')
    total = fields.Integer("Accounts", readonly=True)
    done = fields.Integer("Done", readonly=True)
    progress = fields.Function(
        fields.Float("Progress", digits=(1, 4)), 'get_progress')
    state = fields.Selection([
            ('draft', "Draft"),
            ('running', "Running"),
            ('done', "Done"),
            ('error', "Error"),
            ], "State", readonly=True, required=True, sort=False)
    error = fields.Text(
        "Error", readonly=True,
        help="Why the documents could not be produced: correct it and "
        "produce them again.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.company, Index.Range())))
        cls._order = [('period', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('draft', 'running'),
            ('running', 'done'),
            ('running', 'error'),
            ('done', 'running'),
            ('error', 'running'),
            }
        cls._buttons.update({
                'generate': shown_in('draft', 'done', 'error'),
                })

    @classmethod
    def view_attributes(cls):
        return super().view_attributes() + [
            ('//group[@id="error"]', 'states', {
                    'invisible': Eval('state') != 'error',
                    }),
            ]

    @classmethod
    def default_state(cls):
        return 'draft'

    @classmethod
    def default_total(cls):
        return 0

    @classmethod
    def default_done(cls):
        return 0

    @fields.depends('period')
    def on_change_with_period_name(self, name=None):
        return format_period(self.period)

    def get_rec_name(self, name):
        return f'{self.company.rec_name} — {format_period(self.period)}'

    def get_progress(self, name):
        if not self.total:
            return 1.0 if self.state == 'done' else 0.0
        return (self.done or 0) / self.total

    @classmethod
    def validate_fields(cls, batches, field_names):
        super().validate_fields(batches, field_names)
        if field_names and 'period' not in field_names:
            return
        for batch in batches:
            check_period(batch, batch.period)

    def accounts(self):
        "The accounts of the organization charged or balanced in the period"
        pool = Pool()
        Charge = pool.get('lk.charge')
        Balance = pool.get('lk.balance')
        ids = set()
        for Model in [Charge, Balance]:
            table = Model.__table__()
            cursor = Transaction().connection.cursor()
            cursor.execute(*table.select(
                    table.account,
                    where=(table.company == self.company.id)
                    & (table.period == self.period),
                    group_by=[table.account]))
            ids.update(a for a, in cursor)
        return sorted(ids)

    @classmethod
    @ModelView.button
    @Workflow.transition('running')
    def generate(cls, batches):
        """Count the accounts and produce their documents in the queue, in
        tasks of CHUNK accounts (run at once after the commit without a
        worker), in the language of the user (the queue drops it)"""
        check_readable(batches)
        for batch in batches:
            PaymentDocument = Pool().get(
                'lk.billing.payment_document', type='report')
            PaymentDocument.check_requisites(batch.company)
        to_queue = []
        for batch in batches:
            accounts = batch.accounts()
            batch.total = len(accounts)
            batch.done = 0
            batch.error = None
            to_queue.append((batch, accounts))
        cls.save(batches)
        language = Transaction().language
        for batch, accounts in to_queue:
            if not accounts:
                cls.finish([batch])
            for chunk in grouped_slice(accounts, CHUNK):
                cls.__queue__.produce([batch], list(chunk), language)

    @classmethod
    @Workflow.transition('done')
    def finish(cls, batches):
        pass

    @classmethod
    @Workflow.transition('error')
    def fail(cls, batches, message):
        "Stop the batch, telling staff why"
        cls.write(batches, {'error': message})

    @classmethod
    def _render(cls, accounts, period):
        """The documents of the accounts for the period: [(filename, PDF)];
        PaymentDocumentError telling which could not be produced and why"""
        PaymentDocument = Pool().get(
            'lk.billing.payment_document', type='report')
        documents = []
        for account in accounts:
            try:
                documents.append(PaymentDocument.render(account, period))
            except (PaymentDocumentError, backend.DatabaseOperationalError):
                # told as it is; the worker runs the task again on a
                # database conflict
                raise
            except Exception as exception:
                if isinstance(exception, UserError):
                    error = exception.message
                else:
                    logger.exception("payment document of %s", account)
                    error = str(exception) or type(exception).__name__
                raise PaymentDocumentError(gettext(
                        'lk_billing.msg_payment_document_batch_failed',
                        account=account.rec_name, error=error)) from exception
        return documents

    @classmethod
    def produce(cls, batches, account_ids, language=None):
        """Produce the documents of the accounts in the language, attached to
        them (replacing those of the same period), and count them done; the
        batch fails with the message of a document that cannot be produced"""
        pool = Pool()
        Account = pool.get('lk.account')
        Attachment = pool.get('ir.attachment')
        batch, = batches
        if batch.state != 'running':
            # failed or produced again since the task was queued
            return
        accounts = Account.browse(account_ids)
        try:
            with Transaction().set_context(language=language):
                documents = cls._render(accounts, batch.period)
        except PaymentDocumentError as exception:
            cls.fail([batch], exception.message)
            return
        with without_check_access():
            Attachment.delete(Attachment.search([
                        ('resource', 'in', [str(a) for a in accounts]),
                        ('name', 'in', [name for name, _ in documents]),
                        ]))
            Attachment.create([{
                        'resource': str(account),
                        'name': filename,
                        'type': 'data',
                        'data': content,
                        } for account, (filename, content)
                    in zip(accounts, documents)])
        # concurrent tasks of the batch add up in the database (the update
        # waits for the other's commit)
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.update(
                [table.done], [table.done + len(accounts)],
                where=table.id == batch.id))
        cursor.execute(*table.select(
                table.done, table.total, table.state,
                where=table.id == batch.id))
        done, total, state = cursor.fetchone()
        # another task of the batch may have failed meanwhile
        if done >= total and state == 'running':
            cls.finish([batch])

    @classmethod
    def check_modification(cls, mode, batches, values=None, external=False):
        super().check_modification(
            mode, batches, values=values, external=external)
        if mode == 'delete':
            for batch in batches:
                if batch.state == 'running':
                    raise AccessError(gettext(
                            'lk_billing.msg_payment_document_batch_running',
                            batch=batch.rec_name))
