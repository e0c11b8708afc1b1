# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The demo's announcements and public documents: for the first
organization (bizuser's) a pinned announcement, news, an urgent outage in
one building and its tariffs as a public document"""
import datetime as dt

from trytond.pool import Pool

# A one-page PDF: «Тарифы» as the demo's public document
TARIFFS_PDF = b'''%PDF-1.4
1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj
2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj
3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Contents 4 0 R\
/Resources<</Font<</F1 5 0 R>>>>>>endobj
4 0 obj<</Length 52>>stream
BT /F1 18 Tf 72 760 Td (Tariffs 2026: see the table) Tj ET
endstream endobj
5 0 obj<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>endobj
trailer<</Root 1 0 R>>
%%EOF
'''


def generate(organizations):
    pool = Pool()
    Announcement = pool.get('lk.announcement')
    Document = pool.get('lk.public.document')
    Account = pool.get('lk.account')
    organization = organizations[0]
    now = dt.datetime.now().replace(second=0, microsecond=0)
    # the building of the demo subscriber's account
    account, = Account.search([('company', '=', organization.id)], limit=1,
        order=[('id', 'ASC')])
    # the urgent one is mailed from the queue once committed
    Announcement.create([{
                'company': organization.id,
                'title': "Приём показаний с 20 по 25 число",
                'body': "Передавайте показания приборов учёта в личном "
                "кабинете с 20 по 25 число каждого месяца.",
                'pinned': True,
                'publish_from': now - dt.timedelta(days=30),
                }, {
                'company': organization.id,
                'title': "Новый тариф на холодную воду",
                'body': "С 1 января тариф на холодную воду меняется: "
                "см. документ «Тарифы 2026» на странице организации.",
                'publish_from': now - dt.timedelta(days=3),
                }, {
                'company': organization.id,
                'title': "Отключение горячей воды",
                'body': "В связи с ремонтом трубопровода горячая вода "
                "будет отключена. Приносим извинения за неудобства.",
                'audience': 'buildings',
                'buildings': [('add', [account.building.id])],
                'urgent': True,
                'outage_what': "Горячая вода",
                'outage_where': account.building.rec_name,
                'outage_from': now + dt.timedelta(days=1),
                'outage_until': now + dt.timedelta(days=1, hours=6),
                'publish_from': now - dt.timedelta(hours=2),
                }])
    Document.create([{
                'company': organization.id,
                'name': "Тарифы 2026",
                'kind': 'tariff',
                'date': dt.date(now.year, 1, 1),
                'data': TARIFFS_PDF,
                'filename': 'tarify-2026.pdf',
                }])
