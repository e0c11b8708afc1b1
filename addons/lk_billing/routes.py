# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The portal's «Задолженность» pages (registered by portal.py: they answer
only where lk_billing and lk_portal are activated)

The debt of every account the user may see, per address, account and
service; an account's settlement history month by month with a chart; the
charges of a month with their basis; the payment document of any period as
PDF. The record rules decide what the subscriber sees and a valid access is
needed on top: another subscriber's account or period, or an account whose
access ended, is a 404.
"""
from collections import OrderedDict
from decimal import Decimal
from html import escape
from types import SimpleNamespace

from genshi.core import Markup

from trytond.pool import Pool
from trytond.protocols.wrappers import Response, with_pool, with_transaction

from trytond.modules.lk_base.format import format_date, format_money
from trytond.modules.lk_base.month import format_month_short, format_period
from trytond.modules.lk_portal.extension import item
from trytond.modules.lk_portal.i18n import N_
from trytond.modules.lk_portal.portal import (
    get_or_404, language, not_found, render, route, subscriber,
    translate as _, valid_access, valid_accesses)

from .period import next_period

# The months the history's chart shows
CHART_MONTHS = 12
# H3's payment document (a report): the links to it exist only with it
DOCUMENT = 'lk.billing.payment_document'

# How a charge's amount was computed, as a subscriber reads it
BASES = {
    'meter': N_("by meter readings"),
    'average': N_("by average consumption"),
    'norm': N_("by the consumption norm"),
    'fixed': N_("fixed or by area"),
    }
SOURCES = {
    'organization': N_("received by the organization"),
    'lk': N_("paid online in the Personal Account"),
    }


# Formats

def number(value, code='ru', places=0):
    """A volume, tariff or coefficient without its trailing zeros but with
    at least `places` decimals: «1 234,5», «45,67»"""
    if value is None:
        return ''
    value = Decimal(value).normalize()
    exponent = value.as_tuple().exponent
    decimals = max(places, -exponent if exponent < 0 else 0)
    text = f'{value:,.{decimals}f}'
    if code == 'ru':
        text = text.replace(',', '\u00a0').replace('.', ',')
    return text.replace('-', '\u2212')


def month_url(period):
    return f'{period:%Y-%m}'


class Formats:
    "What the templates format, in the page's language"

    def __init__(self, request):
        self.code = language(request)

    def money(self, amount):
        return format_money(amount, self.code)

    def number(self, value, places=0):
        return number(value, self.code, places)

    def period(self, period):
        "«ноябрь 2026», on one line"
        return format_period(period, self.code).replace(' ', '\u00a0')

    def date(self, date):
        return format_date(date)

    def text(self, text):
        "The organization's text with «ПУ № 123» kept on one line"
        return (text or '').replace(' № ', '\u00a0№\u00a0').replace(
            '№ ', '№\u00a0')


# What the user may see

def documents_available(pool=None):
    "Whether the payment document (PDF) can be produced in this database"
    try:
        (pool or Pool()).get(DOCUMENT, type='report')
    except KeyError:
        return False
    return True


def visible_debts(request, web_user):
    """The user's valid accesses by account id and the Debt of each of
    their accounts (Balance.debts), computed once per request: the header,
    the home panels and the debt page share them"""
    cached = getattr(request, 'lk_billing_debts', None)
    if cached is None or cached[0] != web_user.id:
        Balance = Pool().get('lk.balance')
        accesses = valid_accesses(request, web_user)
        debts = Balance.debts(
            [a.account for a in accesses.values()]) if accesses else {}
        cached = request.lk_billing_debts = (web_user.id, accesses, debts)
    return cached[1], cached[2]


def billed(debt):
    "Whether the organization loaded anything for the account"
    return debt is not None and (debt.period is not None or debt.in_transit)


def total_debt(debts):
    "The debt summed over the billed accounts, None when none is"
    debts = [d for d in debts if billed(d)]
    if not debts:
        return None
    return sum((d.debt for d in debts), Decimal(0))


def by_address(accesses):
    "The accesses sorted by the address and number of their account"
    return sorted(accesses, key=lambda a: (
            a.account.building.address or '', a.account.number))


def account_access(pool, web_user, account_id):
    "The account and the user's valid access to it, else 404"
    Account = pool.get('lk.account')
    account = get_or_404(Account, account_id)
    return account, valid_access(web_user, account)


# What lk_billing adds to the portal's pages (portal.py)

def header_item(request, web_user):
    "«Долг: 1 234,56 ₽», «Переплата: …» or «Нет задолженности», or None"
    _accesses, debts = visible_debts(request, web_user)
    total = total_debt(debts.values())
    if total is None:
        return None
    code = language(request)
    if total > 0:
        return item('/debt', _(request, "Debt:"), name='debt',
            value=format_money(total, code))
    if total < 0:
        return item('/debt', _(request, "Overpayment:"), name='debt',
            value=format_money(-total, code))
    return item('/debt', _(request, "No debt"), name='debt', value=None)


def overdue(debt):
    "Whether the deadline of a debt has passed"
    Date = Pool().get('ir.date')
    return bool(debt.debt > 0 and debt.deadline
        and debt.deadline < Date.today())


def debt_text(request, debt):
    "What a home panel says of the debt of an account"
    code = language(request)
    if debt.debt > 0:
        if overdue(debt):
            return _(request, "Debt: the deadline %(date)s has passed") % {
                'date': format_date(debt.deadline)}
        if debt.deadline:
            return _(request, "Debt, to be paid by %(date)s") % {
                'date': format_date(debt.deadline)}
        return _(request, "Debt")
    if debt.debt < 0:
        return _(request, "Overpayment: %(amount)s") % {
            'amount': format_money(-debt.debt, code)}
    return _(request, "No debt")


def home_panels(request, web_user):
    "A panel per billed account: its debt and the deadline"
    accesses, debts = visible_debts(request, web_user)
    code = language(request)
    panels = []
    for access in by_address(accesses.values()):
        account = access.account
        debt = debts.get(account.id)
        if not billed(debt):
            continue
        panels.append(SimpleNamespace(
                name='debt', url=f'/debt#account-{account.id}',
                title=_(request, "%(organization)s, account %(number)s") % {
                    'organization': account.company.display_name,
                    'number': account.number},
                count=format_money(debt.debt, code) if debt.debt > 0 else None,
                text=debt_text(request, debt)))
    return panels


def account_actions(request, access):
    account = access.account
    return [
        item(f'/debt#account-{account.id}', _(request, "Debt"), name='debt'),
        item(f'/accounts/{account.id}/history',
            _(request, "Settlement history"), name='history'),
        ]


# Pages

@route('/debt')
@with_pool
@with_transaction()
@subscriber
def debt_page(request, pool, web_user):
    """The debt per address, account and service, with «Оплатить» where a
    payment module offers it (an account action named payment)"""
    Portal = pool.get('lk.portal')
    accesses, debts = visible_debts(request, web_user)
    groups = OrderedDict()
    for access in by_address(accesses.values()):
        account = access.account
        debt = debts.get(account.id)
        group = groups.setdefault(account.building.address, SimpleNamespace(
                entries=[], total=None))
        if billed(debt):
            group.total = (group.total or Decimal(0)) + debt.debt
        group.entries.append(SimpleNamespace(
                account=account, access=access, debt=debt,
                billed=billed(debt), overdue=billed(debt) and overdue(debt),
                organization=account.company.display_name,
                services=sorted(
                    ((s.name, amount) for s, amount in (
                            debt.services if debt else [])),
                    key=lambda s: s[0]),
                pay=[
                    a for a in Portal.account_actions(request, access)
                    if a.name == 'payment']))
    return render(
        request, 'billing_debt.html', groups=groups,
        total=total_debt(debts.values()), documents=documents_available(pool),
        f=Formats(request), month_url=month_url)


def chart_svg(request, lines):
    """The charged and paid amounts of the last months as grouped bars, in
    inline SVG with a text alternative (the table of the page says the
    same)"""
    code = language(request)
    lines = list(reversed(lines[:CHART_MONTHS]))
    charged, paid = _(request, "Charged"), _(request, "Paid")
    label = _(request, "Charged and paid by month, %(start)s to %(end)s; "
        "the table below gives every amount.") % {
        'start': format_period(lines[0].period, code),
        'end': format_period(lines[-1].period, code)}
    width, height, plot_top, plot_bottom, side = 420, 250, 34, 210, 6
    highest = max(
        [max(ln.charged, ln.paid) for ln in lines] + [Decimal(1)])
    slot = (width - 2 * side) / len(lines)
    bar = slot * 0.36
    scale = (plot_bottom - plot_top) / float(highest)

    def rect(x, value, colour, what, period):
        size = max(float(value), 0) * scale
        tip = (f'{format_period(period, code)}: {what} '
            f'{format_money(value, code)}')
        return (
            f'<rect x="{x:.1f}" y="{plot_bottom - size:.1f}" '
            f'width="{bar:.1f}" height="{size:.1f}" fill="{colour}">'
            f'<title>{escape(tip)}</title></rect>')

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" '
        f'viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(label)}">',
        f'<rect x="{side}" y="6" width="12" height="12" fill="#0b5394"/>'
        f'<text x="{side + 18}" y="16" font-size="13" fill="#1b1f24">'
        f'{escape(charged)}</text>',
        f'<rect x="{side + 140}" y="6" width="12" height="12" '
        f'fill="#1e6b33"/><text x="{side + 158}" y="16" font-size="13" '
        f'fill="#1b1f24">{escape(paid)}</text>',
        f'<line x1="{side}" y1="{plot_bottom}" x2="{width - side}" '
        f'y2="{plot_bottom}" stroke="#4a5360"/>',
        ]
    for index, line in enumerate(lines):
        left = side + index * slot + (slot - 2 * bar) / 2
        centre = side + (index + 0.5) * slot
        out.append(rect(left, line.charged, '#0b5394', charged, line.period))
        out.append(rect(left + bar, line.paid, '#1e6b33', paid, line.period))
        out.append(
            f'<text x="{centre:.1f}" y="{plot_bottom + 16}" '
            f'text-anchor="middle" font-size="12" fill="#4a5360">'
            f'{escape(format_month_short(line.period, code))}</text>')
        if index == 0 or line.period.month == 1:
            out.append(
                f'<text x="{centre:.1f}" y="{plot_bottom + 31}" '
                f'text-anchor="middle" font-size="11" fill="#4a5360">'
                f'{line.period.year}</text>')
    out.append('</svg>')
    return Markup(''.join(out))


@route('/accounts/<int:account_id>/history')
@with_pool
@with_transaction()
@subscriber
def history_page(request, pool, web_user, account_id):
    "Every period of the account, newest first, with the chart"
    Balance = pool.get('lk.balance')
    account, access = account_access(pool, web_user, account_id)
    lines = Balance.history(account)
    debt = Balance.debts([account])[account.id]
    return render(
        request, 'billing_history.html', account=account,
        organization=account.company.display_name, lines=lines,
        debt=debt if billed(debt) else None,
        overdue=billed(debt) and overdue(debt),
        chart=chart_svg(request, lines) if lines else None,
        documents=documents_available(pool), f=Formats(request),
        month_url=month_url)


def period_records(pool, account, period):
    """The charges of the account's period, its payments received and its
    history line (None when no balance)"""
    Charge = pool.get('lk.charge')
    Payment = pool.get('lk.payment.received')
    Balance = pool.get('lk.balance')
    charges = Charge.search([
            ('account', '=', account.id),
            ('period', '=', period),
            ], order=[('kind', 'ASC'), ('service', 'ASC'), ('id', 'ASC')])
    payments = Payment.search([
            ('account', '=', account.id),
            ['OR',
                ('period', '=', period),
                [('period', '=', None),
                    ('date', '>=', period),
                    ('date', '<', next_period(period))],
                ],
            ], order=[('date', 'ASC'), ('id', 'ASC')])
    lines = Balance.history(account)
    line = next((ln for ln in lines if ln.period == period), None)
    periods = [ln.period for ln in lines]
    return SimpleNamespace(
        charges=charges, payments=payments, line=line,
        previous=max((p for p in periods if p < period), default=None),
        next=min((p for p in periods if p > period), default=None),
        exists=bool(charges or line))


def billed_period(pool, web_user, account_id, period, document=False):
    """The account of a valid access of the user and the records of its
    period, or 404 when it has none (or no document can be made)"""
    account, _access = account_access(pool, web_user, account_id)
    found = period_records(pool, account, period)
    if not found.exists or (document and not documents_available(pool)):
        raise not_found()
    return account, found


@route('/accounts/<int:account_id>/charges/<month:period>')
@with_pool
@with_transaction()
@subscriber
def charges_page(request, pool, web_user, account_id, period):
    "The charges of a month with their basis, its payments and balance"
    account, found = billed_period(pool, web_user, account_id, period)
    return render(
        request, 'billing_charges.html', account=account,
        organization=account.company.display_name, period=period,
        found=found, deadline=account.company.billing_deadline(period),
        total=sum((c.total for c in found.charges), Decimal(0)),
        bases=BASES, sources=SOURCES, documents=documents_available(pool),
        f=Formats(request), month_url=month_url)


def document_response(pool, account, period):
    "The payment document of the account's period as a PDF download"
    Document = pool.get(DOCUMENT, type='report')
    filename, content = Document.render(account, period)
    response = Response(content, content_type='application/pdf')
    response.headers['Content-Disposition'] = (
        f'attachment; filename="{filename}"')
    response.headers['Cache-Control'] = 'no-store'
    return response


@route('/accounts/<int:account_id>/documents/<month:period>.pdf')
@with_pool
@with_transaction()
@subscriber
def document(request, pool, web_user, account_id, period):
    "The payment document (ЕПД) of any billed period of the account"
    account, _found = billed_period(
        pool, web_user, account_id, period, document=True)
    return document_response(pool, account, period)
