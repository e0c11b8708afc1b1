# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"Helpers for the scenarios of lk modules (proteus)"
import email
import email.policy
import html
import re
import socket
import threading
from contextlib import contextmanager

from proteus import Model
from proteus.config import get_config

from trytond import config as tconfig
from trytond.modules.lk_base.mail import DELIVERY_THREAD

__all__ = [
    'load_russian', 'create_organization', 'create_staff', 'set_config',
    'SMTPServer']


def load_russian(config=None):
    "Make Russian translatable, load its translations and use it"
    Lang = Model.get('ir.lang', config=config)
    User = Model.get('res.user', config=config)
    russian, = Lang.find([('code', '=', 'ru')])
    russian.click('load_translations')
    if not config:
        config = get_config()
    admin = User(config.user)
    admin.language = russian
    admin.save()
    config._context = User.get_preferences(True, {})
    return russian


def create_organization(name, short_name=None, parent=None, config=None):
    "Create an organization in rubles, under parent if given"
    Party = Model.get('party.party', config=config)
    Company = Model.get('company.company', config=config)
    Currency = Model.get('currency.currency', config=config)
    rubles = Currency.find([('code', '=', 'RUB')])
    if rubles:
        ruble, = rubles
    else:
        ruble = Currency(
            name="Российский рубль", code='RUB', symbol='₽', digits=2)
        ruble.save()
    party = Party(name=name)
    party.save()
    organization = Company(
        party=party, currency=ruble, short_name=short_name, parent=parent)
    organization.save()
    return organization


def create_staff(login, organization, rights, config=None):
    "Create a staff user of the organization with the lk_base rights named"
    User = Model.get('res.user', config=config)
    Group = Model.get('res.group', config=config)
    ModelData = Model.get('ir.model.data', config=config)
    Company = Model.get('company.company', config=config)
    user = User(login=login, name=login)
    user.companies.append(Company(organization.id))
    user.company = Company(organization.id)
    for right in rights:
        user.groups.append(Group(ModelData.get_id('lk_base', right, {})))
    user.save()
    return user


@contextmanager
def set_config(section, option, value):
    "Set an option of trytond's configuration for the block only"
    if not tconfig.has_section(section):
        tconfig.add_section(section)
    previous = tconfig.get(section, option)
    tconfig.set(section, option, value)
    try:
        yield
    finally:
        if previous is None:
            # trytond.config has no public way to unset an option
            tconfig._config.remove_option(section, option)
            tconfig._cache_clear()
        else:
            tconfig.set(section, option, previous)


class SMTPServer:
    """A real SMTP server on a free local port that trytond sends to

    While the server runs, the [email] uri of trytond points at it; every
    message received is kept in `messages` as an `email.message.EmailMessage`
    with the envelope recipients as its `rcpt_tos` attribute.  trytond sends
    when the transaction commits: each proteus call is a transaction.

        with SMTPServer() as smtp:
            access.click('approve')
        message, = smtp.messages
        assert message['To'] == 'abonent@example.com'
        assert "1000001" in SMTPServer.text(message)
    """

    def __init__(self, host='127.0.0.1'):
        self.host = host
        self.port = None
        self.messages = []
        self._controller = None
        self._uri = None

    def start(self):
        from aiosmtpd.controller import Controller
        with socket.socket() as sock:
            sock.bind((self.host, 0))
            self.port = sock.getsockname()[1]
        self._controller = Controller(
            self, hostname=self.host, port=self.port)
        self._controller.start()
        self._uri = tconfig.get('email', 'uri')
        tconfig.set('email', 'uri', f'smtp://{self.host}:{self.port}')
        return self

    def stop(self):
        # The messages of the last commit go out from threads: let them
        for thread in threading.enumerate():
            if thread.name == DELIVERY_THREAD:
                thread.join(timeout=30)
        tconfig.set('email', 'uri', self._uri)
        self._controller.stop()
        self._controller = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # the aiosmtpd handler
    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(
            envelope.original_content or envelope.content,
            policy=email.policy.default)
        message.rcpt_tos = list(envelope.rcpt_tos)
        self.messages.append(message)
        return '250 Message accepted for delivery'

    @staticmethod
    def text(message):
        "The text of the message, without the markup of an HTML body"
        body = message.get_body(('plain', 'html'))
        text = body.get_content()
        if body.get_content_subtype() == 'html':
            text = re.sub(r'<(head|style)\b.*?</\1>', ' ', text, flags=re.S)
            text = html.unescape(re.sub(r'<[^>]+>', ' ', text))
        return ' '.join(text.split())
