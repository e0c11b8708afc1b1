# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.exceptions import UserError
from trytond.model.exceptions import AccessError, ValidationError


class BankDetailsValidationError(ValidationError):
    pass


class AccountValidationError(ValidationError):
    pass


class AccountModificationError(AccessError):
    pass


class AccessValidationError(ValidationError):
    pass


class AccessModificationError(AccessError):
    pass


class WebUserModificationError(AccessError):
    pass


class PreferencesCompanyError(AccessError):
    pass


class EmailValidationError(ValidationError):
    pass


class ImportFileError(UserError):
    pass


class ImportJobError(UserError):
    pass
