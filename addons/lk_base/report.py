# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The base of lk's reports (e-mails and documents)"""
from trytond.report import Report as _Report


class _Uncached:
    "The action report, with no template in the cache"

    def __init__(self, report):
        self._report = report

    def __getattr__(self, name):
        return getattr(self._report, name)

    def get_template_cached(self):
        return None

    def set_template_cached(self, template):
        pass


class Report(_Report):
    """A report that may be rendered any number of times in one process

    trytond renders a shallow copy of the template it caches per report:
    the copies share its stream, which each rendering's translator grows,
    and after a few hundred renderings Genshi exceeds the recursion limit
    (a payment document batch, the outbox sending many e-mails). The
    template is parsed for each rendering instead, a few milliseconds."""

    @classmethod
    def render(cls, report, report_context):
        return super().render(_Uncached(report), report_context)
