# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import re
from collections import defaultdict

from trytond.i18n import gettext
from trytond.model import Unique, fields
from trytond.pyson import Eval
from trytond.transaction import Transaction, check_access
from trytond.wizard import Button, StateView

from .exceptions import EmailValidationError


class CompanyDefaultMixin:
    "New records belong by default to the organization the user works for"
    __slots__ = ()

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')


def company_field(ondelete='RESTRICT', fixed=False, **kwargs):
    """The organization a record belongs to; fixed: chosen when the record
    is created, read-only once it is saved"""
    if fixed:
        kwargs['states'] = {
            'readonly': Eval('id', -1) >= 0,
            }
    return fields.Many2One(
        'company.company', "Organization", required=True,
        ondelete=ondelete, **kwargs)


def unique_in_company(cls, name, message):
    """The SQL constraint of cls that its field name is unique within an
    organization (its company field), refused with the message"""
    t = cls.__table__()
    return (
        f'{name}_company_unique', Unique(t, t.company, getattr(t, name)),
        message)


def shown_in(*states):
    """The states of a workflow button: shown only while the record is in
    one of the states"""
    if len(states) == 1:
        invisible = Eval('state') != states[0]
    else:
        invisible = ~Eval('state').in_(list(states))
    return {'invisible': invisible, 'depends': ['state']}


def start_view(model, view, transition, string):
    """The first form of a wizard: Cancel, or the default button (labelled
    string) to the transition"""
    return StateView(model, view, [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button(string, transition, 'tryton-ok', default=True),
            ])


def search_fields_domain(clause, field_names):
    """The domain matching a rec_name clause on any of the fields

    A negative operator must hold on every field instead."""
    _, operator, operand, *extra = clause
    if operator.startswith('!') or operator.startswith('not '):
        bool_op = 'AND'
    else:
        bool_op = 'OR'
    return [bool_op] + [
        (name, operator, operand, *extra) for name in field_names]


def check_readable(records):
    """Refuse with AccessError the records the user may not read

    Wizards, buttons and on_change run without access checks once Tryton
    let them start: the ids the client sent them (a company, a meter…) must
    pass the user's access rights and record rules like a read would."""
    by_model = defaultdict(set)
    for record in records:
        if record is not None and record.id is not None and record.id >= 0:
            by_model[record.__class__].add(record.id)
    with check_access():
        for Model, ids in by_model.items():
            Model.read(sorted(ids), ['id'])


# RFC 5321/5322 as mail servers take it: a dot-atom before the @ (letters of
# any script allowed, RFC 6531), a host name of two or more labels after it.
# Quotes, brackets, spaces and the like are refused: they let an address
# mean another recipient than the one shown.
_EMAIL_ATOM = r"[\w!#$%&'*+/=?^`{|}~-]+"
_EMAIL_LOCAL = re.compile(rf'{_EMAIL_ATOM}(\.{_EMAIL_ATOM})*')
_EMAIL_LABEL = re.compile(r'(?!-)[a-z0-9-]{1,63}(?<!-)')
EMAIL_SIZE = 254


def shorten(text, size=60):
    "The text for a message: its start when it is long"
    return text if len(text) <= size else text[:size] + '…'


def valid_email(address):
    "Whether the address is a plain e-mail address a mail server delivers"
    if not address or len(address) > EMAIL_SIZE or address.count('@') != 1:
        return False
    local, domain = address.split('@')
    if len(local) > 64 or not _EMAIL_LOCAL.fullmatch(local):
        return False
    try:
        domain = domain.encode('idna').decode('ascii').lower()
    except UnicodeError:
        return False
    labels = domain.split('.')
    return (len(labels) >= 2
        and all(_EMAIL_LABEL.fullmatch(label) for label in labels)
        and not labels[-1].isdigit())


def check_email_field(records, field_names, name='email'):
    """Refuse with EmailValidationError the records whose e-mail field
    (name) is set to what is no plain e-mail address"""
    if field_names and name not in field_names:
        return
    for record in records:
        address = getattr(record, name)
        if address and not valid_email(address):
            raise EmailValidationError(gettext(
                    'lk_base.msg_email_invalid', email=shorten(address)))
