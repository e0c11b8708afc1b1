# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.model import Check, Index, ModelSQL, ModelView, fields

from .model import AccountRecordMixin

SOURCES = [
    ('organization', "Organization's Upload"),
    ('lk', "Online Payment in lk"),
    ]


class PaymentReceived(AccountRecordMixin, ModelSQL, ModelView):
    "A payment received for an account"
    __name__ = 'lk.payment.received'
    __string__ = "Payment Received"

    date = fields.Date("Date", required=True)
    amount = fields.Numeric(
        "Amount", digits=(16, 2), required=True,
        domain=[('amount', '>', 0)])
    source = fields.Selection(
        SOURCES, "Source", required=True,
        help="Where the payment is known from: the organization's upload or "
        "lk's own online payment, in transit until the organization's next "
        "upload.")
    source_string = source.translated('source')
    reference = fields.Char(
        "Reference", size=100,
        help="The payment's number in the bank or the payment service.")
    service = fields.Many2One(
        'lk.service', "Service", ondelete='RESTRICT',
        help="Empty when paid for the whole account.")
    period = fields.Date(
        "Period", help="The first day of the month it was counted in.")
    _when = 'date'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('amount_positive', Check(t, t.amount > 0),
                'lk_billing.msg_payment_amount_positive'),
            ]
        cls._sql_indexes.update({
                Index(
                    t, (t.account, Index.Range()), (t.date, Index.Range()),
                    where=t.source == 'lk'),
                })
        cls._order = [('date', 'DESC'), ('id', 'DESC')]

    @classmethod
    def default_source(cls):
        return 'organization'

    def get_rec_name(self, name):
        return f'{self.account.number} {self.date:%d.%m.%Y} {self.amount}'

    def billing_period(self):
        return self.period or (self.date and self.date.replace(day=1))
