# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Serve lk with demo data on http://127.0.0.1:$PORT (run by `make demo`).

The first run creates the database and its demo data; later runs reuse it.
Environment: DEMO_BACKEND (sqlite or postgresql), DEMO_DB (lk_demo),
DEMO_SIZE (number of accounts, 50), PORT (8000), LK_DEMO_POSTGRESQL_URI
(postgresql:///). Delete var/$DEMO_DB.sqlite (or drop the PostgreSQL
database) to start again.
"""
import email
import email.policy
import logging
import os
import re
import socket
import sys
import time

import lkdemo

VAR = lkdemo.ROOT / 'var'


class PrintingHandler:
    "Shows each e-mail the demo sends, so its links can be followed"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(
            envelope.content, policy=email.policy.default)
        part = message.get_body(preferencelist=('plain', 'html'))
        body = part.get_content() if part else ''
        if part is not None and part.get_content_type() == 'text/html':
            body = re.sub(r'<[^>]+>', ' ', body)
        body = '\n'.join(
            '    ' + line.strip() for line in body.splitlines()
            if line.strip())
        print(f"\n--- e-mail to {', '.join(envelope.rcpt_tos)}: "
            f"{message['Subject']}\n{body}\n---", flush=True)
        return '250 OK'


def demo_mailbox():
    "A local SMTP server for the demo's outgoing mail"
    from aiosmtpd.controller import Controller
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
    controller = Controller(PrintingHandler(), hostname='127.0.0.1', port=port)
    controller.start()
    return controller


def main():
    backend = os.environ.get('DEMO_BACKEND') or 'sqlite'
    name = os.environ.get('DEMO_DB') or 'lk_demo'
    size = int(os.environ.get('DEMO_SIZE') or 50)
    port = int(os.environ.get('PORT') or 8000)
    if backend not in {'sqlite', 'postgresql'}:
        sys.exit(f"DEMO_BACKEND must be sqlite or postgresql, not {backend}")

    mailbox = demo_mailbox()
    lkdemo.write_config(
        VAR / 'trytond.conf', backend=backend, data_dir=VAR,
        listen=f'127.0.0.1:{port}', database=name,
        email_uri=f'smtp://127.0.0.1:{mailbox.port}')
    if lkdemo.database_ready(name):
        print(f"Using the existing {backend} database {name}")
        # Loaded before serving rather than on the first request
        os.environ['TRYTOND_DATABASE_NAMES'] = name
    else:
        print(f"Creating the {backend} database {name} "
            f"with {size} accounts…", flush=True)
        started = time.monotonic()
        lkdemo.create_database(name, accounts=size)
        print(f"Created in {time.monotonic() - started:.0f} s")
    application = lkdemo.load_application()

    from werkzeug.serving import run_simple

    # One plain line per request, whatever trytond's logging level
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter('%(message)s'))
    requests = logging.getLogger('werkzeug')
    requests.addHandler(handler)
    requests.setLevel(logging.INFO)
    requests.propagate = False
    base = f'http://127.0.0.1:{port}'
    print(f"""
lk demo ({backend} database {name})
  portal    {base}/
  backend   {base}/admin/#{name}
  JSON-RPC  {base}/{name}/rpc/
Logins: admin / admin (operator, sees all organizations),
        bizuser / demo (staff of one organization)
Subscriber: abonent1@example.com / demo (accounts in two organizations)
E-mails the demo sends (validation, password reset, invitations) are
printed here.
Ctrl-C stops the server.
""", flush=True)
    run_simple('127.0.0.1', port, application,
        threaded=True, use_reloader=False)


if __name__ == '__main__':
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)
