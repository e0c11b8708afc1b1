# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.model.exceptions import AccessError, ValidationError


class ReadingValidationError(ValidationError):
    pass


class WindowClosedError(ReadingValidationError):
    pass


class ReadingJumpError(ReadingValidationError):
    "A value far above the usual consumption, taken once confirmed"


class MeterValidationError(ValidationError):
    pass


class ReadingModificationError(AccessError):
    pass
