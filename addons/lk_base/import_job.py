# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""An import of a file of one kind of data into an organization

All or nothing: the file is read and checked whole first; any bad row and
nothing changes, the job keeps the list of every bad row and the original
file with an error column.  Rows are matched by their natural key, so the
same file loaded twice changes nothing the second time.  Full mode also
closes (or removes) what the file does not name, after «Check» has shown
how many."""
import csv
import datetime as dt
import io
import re

import openpyxl

from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, Workflow, fields
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction

from .exceptions import ImportFileError, ImportJobError
from .model import CompanyDefaultMixin, company_field, shown_in
from .tabular import Table, parse

STATES = [
    ('draft', "Draft"),
    ('checked', "Checked"),
    ('failed', "Failed"),
    ('done', "Done"),
    ]
MODES = [
    ('partial', "Partial: only the rows of the file"),
    ('full', "Full: also what the file does not name"),
    ]
ERROR_COLUMN = "Ошибка"


class ImportJob(CompanyDefaultMixin, Workflow, ModelSQL, ModelView):
    __name__ = 'lk.import.job'
    __string__ = "Data Import"

    _editable = {
        'readonly': Eval('state').in_(['checked', 'done']),
        }

    company = company_field(fixed=True)
    kind = fields.Selection(
        'get_kinds', "Kind", required=True, states=_editable)
    mode = fields.Selection(
        MODES, "Mode", required=True, states=_editable,
        help="Full mode also closes the accounts (or removes the meters) "
        "of the organization that the file does not name.")
    file = fields.Binary(
        "File", filename='filename', required=True, states=_editable)
    filename = fields.Char("File Name", states=_editable)
    template = fields.Function(
        fields.Binary("Template", filename='template_filename',
            help="A file to fill in: the header row, an example row and a "
            "sheet of notes on each column."),
        'on_change_with_template')
    template_filename = fields.Function(
        fields.Char("Template File Name"),
        'on_change_with_template_filename')
    user = fields.Many2One('res.user', "User", readonly=True)
    state = fields.Selection(
        STATES, "State", readonly=True, required=True, sort=False)
    rows = fields.Integer("Rows", readonly=True)
    created = fields.Integer("Created", readonly=True)
    updated = fields.Integer("Updated", readonly=True)
    unchanged = fields.Integer("Unchanged", readonly=True)
    absent = fields.Integer(
        "Absent", readonly=True,
        help="What the full mode closes or removes.")
    error_count = fields.Integer("Errors", readonly=True)
    errors = fields.Text("Error List", readonly=True)
    report = fields.Binary(
        "Error Report", filename='report_filename', readonly=True,
        help="The file as uploaded with a column naming each row's error.")
    report_filename = fields.Char("Error Report File Name", readonly=True)
    finished = fields.DateTime("Finished", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('create_date', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('draft', 'checked'),
            ('draft', 'failed'),
            ('failed', 'checked'),
            ('failed', 'failed'),
            ('checked', 'draft'),
            ('draft', 'done'),
            ('failed', 'done'),
            ('checked', 'done'),
            }
        cls._buttons.update({
                'check': shown_in('draft', 'failed'),
                'draft': shown_in('checked'),
                'run': shown_in('draft', 'failed', 'checked'),
                })

    @classmethod
    def default_state(cls):
        return 'draft'

    @classmethod
    def default_mode(cls):
        return 'partial'

    @classmethod
    def default_user(cls):
        return Transaction().user

    @classmethod
    def get_kinds(cls):
        Exchange = Pool().get('lk.exchange')
        return [(k.name, gettext(k.string)) for k in Exchange.kinds()]

    @fields.depends('kind')
    def on_change_with_template(self, name=None):
        Exchange = Pool().get('lk.exchange')
        if self.kind:
            return Exchange.kind(self.kind)(None).template()

    @fields.depends('kind')
    def on_change_with_template_filename(self, name=None):
        if self.kind:
            return self.kind.split('.')[-1] + '.xlsx'

    @classmethod
    def check_modification(cls, mode, jobs, values=None, external=False):
        super().check_modification(
            mode, jobs, values=values, external=external)
        if mode == 'delete' or (mode == 'write' and external):
            for job in jobs:
                if job.state == 'done':
                    raise ImportJobError(gettext(
                            'lk_base.msg_import_job_done',
                            job=job.rec_name))

    def get_rec_name(self, name):
        return f'{self.filename or self.kind} ({self.id})'

    def read_file(self):
        "The kind, its parsed rows and the list of errors, or raise"
        Exchange = Pool().get('lk.exchange')
        kind = Exchange.kind(self.kind)(self.company)
        if self.mode == 'full' and not kind.absent:
            raise ImportJobError(gettext(
                    'lk_base.msg_import_job_no_full',
                    kind=gettext(kind.string)))
        table = Table(self.file)
        rows, errors = parse(table, kind.columns)
        return kind, table, rows, errors

    def plan(self):
        """What the file changes, the kind and the errors; the job's
        counts are set, and its report when there are errors"""
        kind, table, rows, errors = self.read_file()
        plan = kind.plan(rows, errors)
        errors.sort(key=lambda e: e.line)
        self.rows = (
            len(plan.create) + len(plan.write) + plan.unchanged)
        self.created, self.updated, self.unchanged = (
            len(plan.create), len(plan.write), plan.unchanged)
        self.absent = len(plan.absent) if self.mode == 'full' else 0
        self.error_count = len({e.line for e in errors})
        self.errors = '\n'.join(
            gettext('lk_base.msg_import_error_line', line=e.line,
                column=e.column, value=e.value, message=e.message)
            for e in errors) or None
        if errors:
            self.report, self.report_filename = error_report(
                self.file, table, errors, self.filename)
        else:
            self.report = self.report_filename = None
        return kind, plan, errors

    @classmethod
    @ModelView.button
    def check(cls, jobs):
        "Read and check the file, count what it would change"
        failed = []
        for job in jobs:
            job.plan_or_fail(failed)
        cls.save(jobs)
        cls.fail(failed)
        cls.checked([j for j in jobs if j not in failed])

    @classmethod
    @Workflow.transition('checked')
    def checked(cls, jobs):
        pass

    @classmethod
    @Workflow.transition('failed')
    def fail(cls, jobs):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('draft')
    def draft(cls, jobs):
        pass

    @classmethod
    @ModelView.button
    def run(cls, jobs):
        "Import the file, all of it or, on any error, nothing"
        done, failed = [], []
        for job in jobs:
            if job.mode == 'full' and job.state != 'checked':
                raise ImportJobError(gettext(
                        'lk_base.msg_import_job_full_unchecked',
                        job=job.rec_name))
            result = job.plan_or_fail(failed)
            if result:
                kind, plan = result
                kind.apply(plan, job.mode == 'full')
                job.finished = dt.datetime.now()
                done.append(job)
        cls.save(jobs)
        cls.fail(failed)
        cls.finish(done)

    @classmethod
    @Workflow.transition('done')
    def finish(cls, jobs):
        pass

    def plan_or_fail(self, failed):
        try:
            kind, plan, errors = self.plan()
        except (ImportFileError, ImportJobError) as exception:
            self.errors = exception.message
            self.error_count = 1
            self.report = self.report_filename = None
            failed.append(self)
            return
        if errors:
            failed.append(self)
            return
        return kind, plan


def error_report(data, table, errors, filename):
    """The uploaded file with an error column, in its format for csv and as
    xlsx for spreadsheets: (data, filename)"""
    by_line = {}
    for error in errors:
        by_line.setdefault(error.line, []).append(
            f'{error.column}: {error.message}' if error.column
            else error.message)
    source = Table(data)
    stem = (filename or 'import').rsplit('.', 1)[0]
    if source.format == 'csv':
        out = io.StringIO(newline='')
        writer = csv.writer(
            out, delimiter=source.delimiter, lineterminator='\r\n')
        writer.writerow(source.header + [ERROR_COLUMN])
        for line, row in source._rows:
            writer.writerow(
                [neutralize(c) for c in row]
                + ['; '.join(by_line.get(line, []))])
        encoding = 'utf-8-sig' if source.encoding == 'utf-8' else 'cp1251'
        return (out.getvalue().encode(encoding, errors='replace'),
            f'{stem}-errors.csv')
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(source.header + [ERROR_COLUMN])
    for line, row in source._rows:
        sheet.append(
            [neutralize(c) for c in row]
            + ['; '.join(by_line.get(line, []))])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue(), f'{stem}-errors.xlsx'


NUMBER = re.compile(r'^[+-]?[\d\s]*[.,]?\d+$')


def neutralize(value):
    """A text a spreadsheet would run as a formula (= + - @), made plain
    text; signed numbers stay as they are"""
    if (isinstance(value, str) and value[:1] in ('=', '+', '-', '@')
            and not NUMBER.match(value)):
        return "'" + value
    return value
