# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Public documents of an organization (tariffs, contracts, reports): files
anyone may download from its public page"""
import mimetypes

from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, fields, sequence_ordered
from trytond.modules.lk_base.model import CompanyDefaultMixin, company_field

from .exceptions import DocumentValidationError

KINDS = [
    ('tariff', "Tariffs"),
    ('contract', "Contract"),
    ('report', "Report"),
    ('other', "Other"),
    ]
# What a public document may be, by the start of its content
SIGNATURES = {
    b'%PDF-': 'application/pdf',
    b'PK\x03\x04': 'application/zip',
    b'\x89PNG\r\n\x1a\n': 'image/png',
    b'\xff\xd8\xff': 'image/jpeg',
    }
SIZE_MAX = 20 * 1024 * 1024


def media_type(data):
    "The media type of the content, or None when no public document has it"
    data = bytes(data or b'')
    for signature, type_ in SIGNATURES.items():
        if data.startswith(signature):
            return type_


class PublicDocument(
        sequence_ordered(), CompanyDefaultMixin, ModelSQL, ModelView):
    "A file of the organization shown on its public page"
    __name__ = 'lk.public.document'
    __string__ = "Public Document"

    company = company_field(ondelete='CASCADE')
    name = fields.Char("Name", required=True, size=200)
    kind = fields.Selection(KINDS, "Kind", required=True, sort=False)
    date = fields.Date("Date")
    data = fields.Binary(
        "File", required=True, filename='filename',
        help="PDF, an office document (DOCX, XLSX), PNG or JPEG, "
        "up to 20 MB.")
    filename = fields.Char("File Name", required=True, size=200)
    active = fields.Boolean("Active", help="Shown on the public page.")

    @classmethod
    def default_kind(cls):
        return 'other'

    @classmethod
    def default_active(cls):
        return True

    @property
    def media_type(self):
        type_ = media_type(self.data)
        if type_ == 'application/zip':
            # an office document is a zip archive
            guessed, _ = mimetypes.guess_type(self.filename or '')
            if guessed and guessed.startswith('application/vnd.'):
                return guessed
        return type_

    @classmethod
    def validate_fields(cls, documents, field_names):
        super().validate_fields(documents, field_names)
        if field_names and 'data' not in field_names:
            return
        for document in documents:
            size = len(document.data or b'')
            if size > SIZE_MAX:
                raise DocumentValidationError(gettext(
                        'lk_announcement.msg_document_too_large',
                        document=document.rec_name,
                        size=f'{size / 1024 / 1024:.1f}'))
            if not document.media_type:
                raise DocumentValidationError(gettext(
                        'lk_announcement.msg_document_type',
                        document=document.rec_name,
                        filename=document.filename or ''))
