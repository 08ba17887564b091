"""Shared machinery of the registry imports and exports (issue 7, part 2): the XLSX format that writes every
text cell as text, the widgets that read what a spreadsheet holds and say what is wrong in Chinese, the
all-or-nothing import runner (synchronous, and as a background job for large files), the admin mixin with
explicit permissions and the audit hooks, and the template download.

Why not the library defaults (DESIGN.md traps):
- django-import-export saves the valid rows of a file with invalid rows unless `rollback_on_validation_errors`
  is passed to `import_data`; it is not a Meta option, so the runner always passes it.
- Its formula escaping (IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT) *deletes* the leading "=", which changes the
  data (a company called "=A" would export as "A") and leaves "+", "-", "@" alone. `TextXLSX` instead stores
  every string cell with the string data type, so a spreadsheet shows "=cmd|..." literally and never runs it.
- Without IMPORT_EXPORT_IMPORT_PERMISSION_CODE anyone with admin access may import; the mixin checks the
  permissions each resource names (`import_permissions`), whatever the settings say.
- Its row numbers count data rows from 1; the user's spreadsheet has the header in row 1. Every message here
  gives the spreadsheet's row, and blank lines are kept (skipped, not removed) so the numbers still match.

Why the resource does more than the library's (1,000 new providers: 2.1 s before, 0.6 s after on SQLite;
bench/results/imports.md has the PostgreSQL figures, 74 → 36 times a bulk_create at 10,000 rows):
- Existing rows are loaded in one query per 500 keys (`KeyedInstanceLoader`), reference codes (counties,
  scenarios) once per import, other codes (a provider by USCC) once per distinct code.
- Model validation runs without the queries that repeat what the import already knows: the key's uniqueness
  (the loader looked it up; duplicates inside the file are reported by row), foreign keys resolved from the
  database by the widgets, and the CheckConstraints (one query each per row; the database still enforces them,
  and the rules a user can break are checked in `check_row` with a message naming the column).
- The library's diff (every field exported twice per row, then an HTML diff) is built only for the preview a
  user reads; "unchanged" is decided from a snapshot of the stored values instead.
- An update writes only the columns that changed, so a long import cannot overwrite with stale values what
  someone else changed meanwhile.
"""

import copy
import io
import logging
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, models, transaction
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop, ngettext
from django.utils.translation import gettext_lazy as _
from import_export import resources, widgets
from import_export.admin import ImportExportMixin
from import_export.formats.base_formats import XLSX
from import_export.forms import SelectableFieldsExportForm
from import_export.instance_loaders import ModelInstanceLoader
from import_export.results import Error, Result, RowResult
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from .audit import record_event
from .fields import USCCField
from .jobs import JobError, job_progress, job_start
from .models import AuditEvent, BackgroundJob
from .validators import normalize_uscc

logger = logging.getLogger(__name__)

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# The sheet of the import template that holds the data; an upload is read from it when present, so a file
# saved with the instructions sheet open is still read correctly.
DATA_SHEET = "导入数据"
NOTES_SHEET = "填写说明"

# Characters with which a spreadsheet starts a formula (OWASP CSV injection list).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

# A large file is previewed on its first rows only; the whole file is checked by the background job.
PREVIEW_ROWS = 200
# Rows per dry-run step of the background job: progress is written between steps.
CHUNK_ROWS = 500
# Keys per query when existing rows are loaded.
LOOKUP_BATCH = 500


# --- The XLSX format ---------------------------------------------------------------------------------------------


def write_xlsx(sheets):
    """An XLSX file from [(title, header, rows)], every string cell typed as text so nothing is a formula."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, header, rows in sheets:
        sheet = workbook.create_sheet(title=title)
        for row_index, values in enumerate([header, *rows], start=1):
            for column_index, value in enumerate(values, start=1):
                if isinstance(value, str):
                    # Control characters are not allowed in an XLSX cell; openpyxl would refuse the whole file.
                    value = ILLEGAL_CHARACTERS_RE.sub("\N{REPLACEMENT CHARACTER}", value)
                cell = sheet.cell(row=row_index, column=column_index, value=value)
                if isinstance(value, str):
                    # openpyxl turns a string starting with "=" into a formula; force the text type back.
                    cell.data_type = "s"
                if row_index == 1:
                    cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
        for column_index, heading in enumerate(header, start=1):
            width = max(len(str(heading)) * 2 + 2, 12)
            sheet.column_dimensions[sheet.cell(row=1, column=column_index).column_letter].width = width
    stream = io.BytesIO()
    workbook.save(stream)
    return stream.getvalue()


def _cell_text(value):
    if isinstance(value, datetime) and timezone.is_aware(value):
        return timezone.localtime(value).replace(tzinfo=None)
    return "" if value is None else value


class TextXLSX(XLSX):
    """The library's XLSX format, exported through `write_xlsx` (text cells, no formula can run) and read from
    the template's data sheet with the headers stripped of stray spaces."""

    def export_data(self, dataset, **kwargs):
        rows = [[_cell_text(value) for value in row] for row in dataset]
        return write_xlsx([(dataset.title or "Sheet1", list(dataset.headers or []), rows)])

    def create_dataset(self, in_stream):
        import tablib
        from openpyxl import load_workbook

        # data_only: a formula cell is read as the value it shows, never as the formula.
        book = load_workbook(io.BytesIO(in_stream), read_only=True, data_only=True)
        sheet = book[DATA_SHEET] if DATA_SHEET in book.sheetnames else book.active
        rows = sheet.iter_rows(values_only=True)
        dataset = tablib.Dataset()
        header = next(rows, None) or ()
        dataset.headers = [str(value).strip() if value is not None else "" for value in header]
        width = len(dataset.headers)
        for values in rows:
            values = list(values)[:width]
            dataset.append(values + [None] * (width - len(values)))
        book.close()
        return dataset


def read_dataset(content):
    return TextXLSX().create_dataset(content)


# --- Widgets: what a spreadsheet cell holds, with the error in Chinese ---------------------------------------------


def _blank(value):
    return value is None or (isinstance(value, str) and value.strip() == "")


class TextWidget(widgets.CharWidget):
    """Text without the spaces a spreadsheet leaves around it; a number typed into a text column (a phone
    number) is read as its digits, not as "13800000000.0"."""

    def clean(self, value, row=None, **kwargs):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        value = super().clean(value, row, **kwargs)
        return value.strip() if isinstance(value, str) else value


class USCCWidget(TextWidget):
    """A Unified Social Credit Code folded as the model stores it (full-width, spaces, case), so that the
    lookup of existing rows and the uniqueness check see the same code."""

    def clean(self, value, row=None, **kwargs):
        value = super().clean(value, row, **kwargs)
        return normalize_uscc(value) if value else value


class DecimalWidget(widgets.Widget):
    def clean(self, value, row=None, **kwargs):
        if _blank(value):
            return None
        if isinstance(value, float):
            value = repr(value)
        try:
            return Decimal(str(value).strip().replace(",", "").replace("，", ""))
        except InvalidOperation:
            raise ValueError(f"“{value}”不是有效的数字。") from None

    def render(self, value, obj=None, **kwargs):
        if kwargs.get("force_native_type"):
            return value
        return "" if value is None else str(value)


class IntegerWidget(DecimalWidget):
    def clean(self, value, row=None, **kwargs):
        number = super().clean(value, row, **kwargs)
        if number is None:
            return None
        if number != number.to_integral_value():
            raise ValueError(f"“{value}”不是整数。")
        return int(number)


DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日")


class DateWidget(widgets.Widget):
    """A date cell, or text as 2026-05-01, 2026/5/1, 2026.5.1 or 2026年5月1日."""

    def clean(self, value, row=None, **kwargs):
        if _blank(value):
            return None
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        text = str(value).strip()
        for format_ in DATE_FORMATS:
            try:
                return datetime.strptime(text, format_).date()
            except ValueError:
                continue
        raise ValueError(f"“{text}”不是有效的日期，请按 2026-05-01 的格式填写。")

    def render(self, value, obj=None, **kwargs):
        if kwargs.get("force_native_type"):
            return value
        return value.isoformat() if value else ""


class LocalDateTimeWidget(widgets.Widget):
    """A moment shown in the portal's time zone, to the minute (export only)."""

    def render(self, value, obj=None, **kwargs):
        if not value:
            return ""
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


YES = ("是", "有", "Y", "YES", "TRUE", "1", "√")
NO = ("否", "无", "N", "NO", "FALSE", "0", "×")


class YesNoWidget(widgets.Widget):
    def clean(self, value, row=None, **kwargs):
        if _blank(value):
            return None
        if isinstance(value, bool):
            return value
        text = str(value).strip().upper()
        if isinstance(value, (int, float)):
            text = str(int(value))
        if text in YES:
            return True
        if text in NO:
            return False
        raise ValueError(f"“{value}”无法识别，请填“是”或“否”。")

    def render(self, value, obj=None, **kwargs):
        if value is None:
            return ""
        return "是" if value else "否"


class ChoicesWidget(widgets.Widget):
    """A choice field shown by its Chinese label on export; on import the label or the stored value."""

    def __init__(self, choices, **kwargs):
        self.choices = choices
        super().__init__(**kwargs)

    def clean(self, value, row=None, **kwargs):
        if value is None or str(value).strip() == "":
            return ""
        text = str(value).strip()
        for stored, label in self.choices:
            if text in (str(stored), str(label)):
                return stored
        raise ValueError(
            "“{}”不是有效选项，可选：{}".format(text, "、".join(str(label) for _stored, label in self.choices))
        )

    def render(self, value, obj=None, **kwargs):
        return str(dict(self.choices).get(value, value or ""))


class CodeForeignKeyWidget(widgets.ForeignKeyWidget):
    """A related row by its code (a county code, a USCC, a contract number), looked up once per distinct code
    and import, with a Chinese error naming the code that does not exist.

    `preload`: a small reference table (counties) is read whole at the first lookup. `scope(user, queryset)`
    limits what the importing user may refer to; what is out of scope reads as "does not exist"."""

    def __init__(self, model, field="pk", *, preload=False, scope=None, not_found="代码“{}”不存在。", **kwargs):
        self.preload = preload
        self.scope = scope
        self.not_found = not_found
        self.reset()
        super().__init__(model, field=field, **kwargs)

    def reset(self):
        self._cache = None if getattr(self, "preload", False) else {}

    def normalize(self, value):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        text = str(value).strip()
        if self.field == "uscc":
            text = normalize_uscc(text)
        return text

    def get_queryset(self, value, row, *args, **kwargs):
        queryset = self.model.objects.all()
        if self.scope is not None:
            queryset = self.scope(kwargs.get("user"), queryset)
        return queryset

    def clean(self, value, row=None, **kwargs):
        if _blank(value):
            return None
        key = self.normalize(value)
        if self._cache is None:
            self._cache = {getattr(obj, self.field): obj for obj in self.get_queryset(value, row, **kwargs)}
        if key not in self._cache and not self.preload:
            self._cache[key] = self.get_queryset(value, row, **kwargs).filter(**{self.field: key}).first()
        found = self._cache.get(key)
        if found is None:
            raise ValueError(self.not_found.format(key))
        return found


class CodesManyToManyWidget(widgets.ManyToManyWidget):
    """Several codes in one cell, separated by a comma (half- or full-width) or 、; an unknown code is an error
    rather than silently dropped, as the library would. The referenced table (scenarios) is read once."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.reset()

    def reset(self):
        self._cache = None

    def clean(self, value, row=None, **kwargs):
        if _blank(value):
            return []
        if self._cache is None:
            self._cache = {str(getattr(obj, self.field)): obj for obj in self.model.objects.all()}
        text = str(value)
        for separator in ("，", "、", ";", "；"):
            text = text.replace(separator, ",")
        codes = list(dict.fromkeys(code.strip() for code in text.split(",") if code.strip()))
        missing = [code for code in codes if code not in self._cache]
        if missing:
            raise ValueError("代码不存在：{}".format("、".join(missing)))
        return [self._cache[code] for code in codes]

    def render(self, value, obj=None, **kwargs):
        if value is None:
            return ""
        return ",".join(str(getattr(item, self.field)) for item in value.all())


def blank_strings(instance):
    """An empty cell reads as None; a text column that is not nullable stores "" (as the admin form would)."""
    for model_field in instance._meta.concrete_fields:
        if (
            model_field.get_internal_type() in ("CharField", "TextField", "EmailField")
            and not model_field.null
            and getattr(instance, model_field.attname) is None
        ):
            setattr(instance, model_field.attname, "")


# --- The resource ------------------------------------------------------------------------------------------------


class ImportFileError(Exception):
    """The file as a whole cannot be read as this registry (wrong or unknown columns)."""


class KeyedInstanceLoader(ModelInstanceLoader):
    """The existing rows of the whole file, found in one query per LOOKUP_BATCH keys instead of one per row
    (the library's CachedInstanceLoader sends every key in one IN list, which SQLite may refuse), with the
    many-to-many fields of the file prefetched so that "unchanged" needs no query either."""

    def __init__(self, resource, dataset=None):
        super().__init__(resource, dataset)
        self.instances = {}
        self.key_field = None
        id_fields = resource.get_import_id_fields()
        if not id_fields or resource._meta.force_init_instance:
            return
        self.key_field = resource.fields[id_fields[0]]
        if self.key_field.column_name not in (dataset.headers or ()):
            return
        keys = set()
        column = dataset.headers.index(self.key_field.column_name)
        for values in dataset:
            try:
                key = self.key_field.widget.clean(values[column])
            except ValueError:
                continue
            if key not in (None, ""):
                keys.add(key)
        queryset = self.get_queryset()
        m2m = [
            name
            for name, field_ in resource.fields.items()
            if isinstance(field_.widget, widgets.ManyToManyWidget) and field_.column_name in dataset.headers
        ]
        if m2m:
            queryset = queryset.prefetch_related(*m2m)
        keys = sorted(keys, key=str)
        attribute = self.key_field.attribute
        for start in range(0, len(keys), LOOKUP_BATCH):
            for instance in queryset.filter(**{f"{attribute}__in": keys[start : start + LOOKUP_BATCH]}):
                self.instances[getattr(instance, attribute)] = instance

    def get_instance(self, row):
        if self.key_field is None:
            return None
        try:
            key = self.key_field.clean(row)
        except ValueError:
            return None
        return self.instances.get(key)


class RegistryResource(resources.ModelResource):
    """Base of the registry resources.

    A subclass declares:
    - `import_permissions`: the permissions needed to import (None: the model's add and change permissions;
      an empty tuple: export only); `export_permissions` likewise (None: the model's view permission).
    - `import_mode`: "write", or "check" for a file that is only compared with the registry (nothing is ever
      written; every row that differs is an error naming the stored value).
    - `check_row(instance, errors)`: the registry's rules, as {field name: ValidationError} in Chinese.
    - `example_row` and `template_notes` for the template download.

    Keyword arguments (the admin and the job runner pass them): `preview_limit` and `preview_above` (a dry run
    of a file longer than `preview_above` rows looks at its first `preview_limit` rows only), `diff` (build the
    library's HTML diff for the preview page), `row_offset` and `duplicates` (when a file is imported in parts,
    its row numbers and the duplicate keys of the whole file)."""

    import_permissions = None
    export_permissions = None
    import_mode = "write"
    example_row = {}
    template_notes = {}
    # What the admin's import page says above the upload form.
    import_help = ""

    class Meta:
        instance_loader_class = KeyedInstanceLoader
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True
        use_transactions = True

    WIDGETS_MAP = {
        **resources.ModelResource.WIDGETS_MAP,
        "CharField": TextWidget,
        "TextField": TextWidget,
        "EmailField": TextWidget,
        "DecimalField": DecimalWidget,
        "DateField": DateWidget,
        "DateTimeField": LocalDateTimeWidget,
        "IntegerField": IntegerWidget,
        "PositiveIntegerField": IntegerWidget,
        "PositiveSmallIntegerField": IntegerWidget,
        "SmallIntegerField": IntegerWidget,
        "BigIntegerField": IntegerWidget,
        "BooleanField": YesNoWidget,
    }

    @classmethod
    def widget_from_django_field(cls, f, default=widgets.Widget):
        if isinstance(f, USCCField):
            return USCCWidget
        return super().widget_from_django_field(f, default)

    @classmethod
    def widget_kwargs_for_field(cls, field_name, django_field):
        kwargs = super().widget_kwargs_for_field(field_name, django_field)
        if not isinstance(django_field, (models.CharField, models.TextField)):
            kwargs.pop("allow_blank", None)
        return kwargs

    def __init__(self, **kwargs):
        self.preview_limit = kwargs.pop("preview_limit", None)
        self.preview_above = kwargs.pop("preview_above", 0)
        self.report = kwargs.pop("report", None)  # a dict the caller reads back: the rows in the whole file
        self.row_offset = kwargs.pop("row_offset", 0)
        self.duplicates = kwargs.pop("duplicates", None)
        build_diff = kwargs.pop("diff", False)
        super().__init__(**kwargs)
        if self._meta.skip_diff != (not build_diff):
            # Options are per class; this resource alone builds (or skips) the diff.
            self._meta = copy.copy(self._meta)
            self._meta.skip_diff = not build_diff
        self.importing_user = None
        self.rows_in_file = None
        self._row_number = None
        self._stored = {}
        self._stored_m2m = {}
        self._original = None

    # Permissions

    @classmethod
    def may_import(cls, user):
        perms = cls.import_permissions
        if perms is None:
            opts = cls._meta.model._meta
            perms = (f"{opts.app_label}.add_{opts.model_name}", f"{opts.app_label}.change_{opts.model_name}")
        return bool(perms) and user.has_perms(perms)

    @classmethod
    def may_export(cls, user):
        perms = cls.export_permissions
        if perms is None:
            opts = cls._meta.model._meta
            perms = (f"{opts.app_label}.view_{opts.model_name}",)
        return bool(perms) and user.has_perms(perms)

    # The file as a whole

    def known_columns(self):
        return {field_.column_name for field_ in self.fields.values()}

    def header_problems(self, dataset):
        headers = [header for header in (dataset.headers or []) if header]
        problems = []
        unknown = [header for header in headers if header not in self.known_columns()]
        if unknown:
            problems.append(
                "文件中有无法识别的列：{}。请使用导入模板的表头（可下载模板对照）。".format("、".join(unknown))
            )
        repeated = sorted({header for header in headers if headers.count(header) > 1})
        if repeated:
            problems.append("以下列名出现了不止一次：{}。".format("、".join(repeated)))
        missing = [
            self.fields[name].column_name
            for name in self.get_import_id_fields()
            if self.fields[name].column_name not in headers
        ]
        if missing:
            problems.append("文件缺少必需的列：{}。".format("、".join(missing)))
        return problems

    def key_of(self, values, headers):
        """The normalised import key of a data row, or None (no key column, empty, unreadable)."""
        id_fields = self.get_import_id_fields()
        if not id_fields or self._meta.force_init_instance:
            return None
        key_field = self.fields[id_fields[0]]
        if key_field.column_name not in headers:
            return None
        try:
            key = key_field.widget.clean(values[headers.index(key_field.column_name)])
        except ValueError:
            return None
        return key or None

    def find_duplicates(self, dataset):
        """{data row number: data row number of the first row with the same key} for the whole file."""
        first, duplicates = {}, {}
        headers = list(dataset.headers or [])
        for number, values in enumerate(dataset, 1):
            key = self.key_of(values, headers)
            if key is None:
                continue
            if key in first:
                duplicates[number] = first[key]
            else:
                first[key] = number
        return duplicates

    def import_data(self, dataset, dry_run=False, raise_errors=False, use_transactions=None, **kwargs):
        self.rows_in_file = len(dataset)
        if self.report is not None:
            self.report["rows_in_file"] = len(dataset)
        problems = self.header_problems(dataset)
        if problems:
            # Nothing row by row: every row would fail for the same reason.
            result = self.get_result_class()()
            result.total_rows = len(dataset)
            for problem in problems:
                result.append_base_error(Error(ImportFileError(problem)))
            return result
        if self.import_mode == "check":
            dry_run = True  # a check never writes, whatever the caller asked
        if self.duplicates is None:
            self.duplicates = self.find_duplicates(dataset)
        if dry_run and self.preview_limit and len(dataset) > max(self.preview_above, self.preview_limit):
            dataset = dataset.subset(rows=range(self.preview_limit))
        return super().import_data(
            dataset, dry_run=dry_run, raise_errors=raise_errors, use_transactions=use_transactions, **kwargs
        )

    def before_import(self, dataset, **kwargs):
        # The importing user: the scope of lookups and checks (None from the shell or a benchmark: no limit).
        self.importing_user = kwargs.get("user")
        for field_ in self.fields.values():
            if hasattr(field_.widget, "reset"):
                field_.widget.reset()
        super().before_import(dataset, **kwargs)

    def filter_export(self, queryset, **kwargs):
        # The many-to-many columns of all rows in one query each, not one query per row.
        m2m = [
            field_.attribute
            for field_ in self.fields.values()
            if isinstance(field_.widget, widgets.ManyToManyWidget) and field_.attribute
        ]
        return queryset.prefetch_related(*m2m) if m2m else queryset

    # One row

    def import_row(self, row, instance_loader, **kwargs):
        self._row_number = kwargs.get("row_number")
        if all(_blank(value) for value in row.values()):
            # A blank line (often left at the end of a sheet) is passed over; it keeps its row number.
            row_result = self.get_row_result_class()()
            row_result.import_type = RowResult.IMPORT_TYPE_SKIP
            return row_result
        return super().import_row(row, instance_loader, **kwargs)

    def after_init_instance(self, instance, new, row, **kwargs):
        self._stored, self._stored_m2m, self._original = {}, {}, None
        if not new:
            self._stored = {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}
            prefetched = getattr(instance, "_prefetched_objects_cache", {})
            for name, field_ in self.fields.items():
                if isinstance(field_.widget, widgets.ManyToManyWidget) and field_.attribute:
                    if field_.attribute in prefetched:
                        self._stored_m2m[name] = {obj.pk for obj in prefetched[field_.attribute]}
                    else:
                        self._stored_m2m[name] = set(getattr(instance, field_.attribute).values_list("pk", flat=True))
            if self.import_mode == "check":
                self._original = copy.copy(instance)
        super().after_init_instance(instance, new, row, **kwargs)

    @property
    def is_new(self):
        return not self._stored

    def stored(self, attname):
        """The value of an existing row before this file changed it."""
        return self._stored.get(attname)

    def changed_fields(self, instance):
        return [
            f
            for f in instance._meta.concrete_fields
            if not f.primary_key
            and f.attname in self._stored
            and self._stored[f.attname] != getattr(instance, f.attname)
        ]

    def m2m_value(self, name, row):
        """The codes of a many-to-many column of this row as objects, or None when the column is absent or wrong."""
        field_ = self.fields[name]
        if field_.column_name not in row:
            return None
        try:
            return field_.clean(row)
        except ValueError:
            return None

    def changed_m2m(self, row):
        changed = []
        for name in self._stored_m2m:
            value = self.m2m_value(name, row)
            if value is not None and {obj.pk for obj in value} != self._stored_m2m[name]:
                changed.append(name)
        return changed

    def skip_row(self, instance, original, row, import_validation_errors=None):
        if not self._meta.skip_unchanged or import_validation_errors or self.is_new:
            return False
        if self.import_mode == "check":
            # A row matches when nothing it states differs (its empty cells state nothing).
            differences = {}
            self.check_differences(instance, differences)
            return not differences
        blank_strings(instance)
        return not self.changed_fields(instance) and not self.changed_m2m(row)

    def check_row(self, instance, errors):
        """Add {field name: ValidationError} for the rules of this registry."""

    def check_differences(self, instance, errors):
        """For a check: every column of the file that differs from the registry is an error naming both."""
        key = self.fields[self.get_import_id_fields()[0]]
        if self.is_new:
            errors[key.attribute] = ValidationError(self.not_in_registry_message)
            return
        for name, field_ in self.fields.items():
            if field_.readonly or not field_.attribute or _blank(self._current_row.get(field_.column_name)):
                continue  # an empty cell states nothing: only what the file says is compared
            if isinstance(field_.widget, widgets.ManyToManyWidget):
                differs = name in self.changed_m2m(self._current_row)
            else:
                model_field = instance._meta.get_field(field_.attribute)
                differs = self._stored.get(model_field.attname) != getattr(instance, model_field.attname)
            if differs and field_.attribute not in errors:
                errors[field_.attribute] = ValidationError(
                    self.difference_message, params={"stored": field_.export(self._original) or "（空）"}
                )

    not_in_registry_message = "登记中没有这一条（或不在您的管辖范围内）。"
    difference_message = "与门户登记不一致，门户中为“%(stored)s”。"

    def import_instance(self, instance, row, **kwargs):
        self._current_row = row
        super().import_instance(instance, row, **kwargs)

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        errors = dict(import_validation_errors or {})
        blank_strings(instance)
        if self.duplicates and self._row_number is not None:
            first = self.duplicates.get(self.row_offset + self._row_number)
            if first is not None:
                key = self.fields[self.get_import_id_fields()[0]]
                errors.setdefault(
                    key.attribute,
                    ValidationError(f"与第 {sheet_row(first)} 行重复：同一{key.column_name}只能出现一次。"),
                )
        if self.import_mode == "check":
            # A comparison, not a write: the registry's rules apply to what the portal holds, not to the file.
            self.check_differences(instance, errors)
            if errors:
                raise ValidationError(errors)
            return
        self.check_row(instance, errors)
        # As lists, so that Django's errors for the same field can be added (ValidationError.update_error_dict).
        errors = {
            name: value if isinstance(value, list) else ValidationError(value).error_list
            for name, value in errors.items()
        }
        if self._meta.clean_model_instances:
            # Foreign keys found by the code widgets exist already: Django's check would ask again, per row.
            resolved = []
            for field_ in self.fields.values():
                if isinstance(field_.widget, CodeForeignKeyWidget) and field_.attribute:
                    model_field = instance._meta.get_field(field_.attribute)
                    resolved.append(model_field.name)
                    if getattr(instance, model_field.attname) is None and not model_field.blank:
                        errors.setdefault(model_field.name, ValidationError("必填。"))
            exclude = {*errors.keys(), *resolved}
            try:
                instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
            except ValidationError as e:
                errors = e.update_error_dict(errors)
            if validate_unique:
                # The key's uniqueness is known from the loader and the duplicate check above; the other unique
                # fields are checked as Django would.
                try:
                    instance.validate_unique(exclude={*errors.keys(), *self.get_import_id_fields()})
                except ValidationError as e:
                    errors = e.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    def do_instance_save(self, instance, is_create):
        if self.import_mode == "check":
            raise RuntimeError("A check never writes.")
        if is_create:
            instance.save(force_insert=True)
            return
        changed = [f.name for f in self.changed_fields(instance)]
        if not changed:
            return  # only a many-to-many column changed
        auto_now = [
            f.name for f in instance._meta.concrete_fields if getattr(f, "auto_now", False) and f.name not in changed
        ]
        instance.save(update_fields=[*changed, *auto_now])

    def import_field(self, field_, instance, row, is_m2m=False, **kwargs):
        if is_m2m and field_.column_name in row:
            cleaned = field_.clean(row, **kwargs)
            current = self._stored_m2m.get(self.get_field_name(field_), set())
            if {obj.pk for obj in cleaned} == current:
                return  # unchanged: no query, and no m2m signal announcing a change that did not happen
            getattr(instance, field_.attribute).set(cleaned)
            return
        super().import_field(field_, instance, row, is_m2m, **kwargs)


# --- Results, in the user's row numbers ----------------------------------------------------------------------------


def sheet_row(row_number):
    """The row the user sees in the spreadsheet: the library counts data rows from 1, the header is row 1."""
    return row_number + 1


@dataclass(frozen=True)
class RowError:
    row: int | None  # the spreadsheet row; None for the file as a whole
    column: str
    message: str

    def __str__(self):
        if self.row is None:
            return self.message
        if self.column:
            return f"第 {self.row} 行 {self.column}：{self.message}"
        return f"第 {self.row} 行：{self.message}"

    def as_dict(self):
        """The form the job page shows: the row in its own column."""
        return {
            "row": "" if self.row is None else self.row,
            "message": f"{self.column}：{self.message}" if self.column else self.message,
        }


def _exception_message(error):
    if isinstance(error, IntegrityError):
        return f"数据库拒绝了这一行，可能有人同时录入或修改了同一条记录；请稍后重新上传。（{error}）"
    if isinstance(error, PermissionDenied):
        return str(error) or "您无权执行此操作。"
    if type(error).__name__ == "ConcurrentTransition":
        return "这条记录刚被他人修改，请重新导出最新数据后再导入。"
    return f"无法导入这一行：{error}"


def row_errors(resource, result, offset=0):
    """Every error of an import result as RowErrors, in spreadsheet order; `offset` is the number of data rows
    before this part of the file."""
    headers = {}
    for name, field_ in resource.fields.items():
        headers[name] = field_.column_name
        if field_.attribute:
            headers.setdefault(field_.attribute, field_.column_name)
    found = []
    for error in result.base_errors:
        found.append(RowError(None, "", str(error.error)))
    for invalid in result.invalid_rows:
        row = sheet_row(invalid.number + offset)
        for field_name, field_errors in invalid.field_specific_errors.items():
            label = "" if field_name == NON_FIELD_ERRORS else headers.get(field_name, field_name)
            for message in field_errors:
                found.append(RowError(row, label, str(message)))
        for message in invalid.non_field_specific_errors:
            found.append(RowError(row, "", str(message)))
    for row_number, errors in result.row_errors():
        for error in errors:
            found.append(RowError(sheet_row(row_number + offset), "", _exception_message(error.error)))
    return sorted(found, key=lambda e: -1 if e.row is None else e.row)


def describe_errors(resource, result, offset=0):
    """'第 3 行 统一社会信用代码：…' for every invalid row and field, the row errors and the file's errors."""
    return [str(error) for error in row_errors(resource, result, offset)]


@dataclass
class ImportOutcome:
    result: object
    errors: list = field(default_factory=list)  # Chinese messages, one per row and field
    new: int = 0
    updated: int = 0
    skipped: int = 0
    seconds: float = 0.0
    row_errors: list = field(default_factory=list)  # the same as RowErrors

    @property
    def ok(self):
        return not self.errors

    @property
    def rows(self):
        return self.result.total_rows


def outcome_of(resource, result, *, offset=0, seconds=0.0):
    found = row_errors(resource, result, offset)
    totals = result.totals
    return ImportOutcome(
        result=result,
        errors=[str(error) for error in found],
        row_errors=found,
        new=totals.get(RowResult.IMPORT_TYPE_NEW, 0),
        updated=totals.get(RowResult.IMPORT_TYPE_UPDATE, 0),
        skipped=totals.get(RowResult.IMPORT_TYPE_SKIP, 0),
        seconds=seconds,
    )


def run_import(resource, dataset, *, dry_run, user=None, file_name=None):
    """Import `dataset` in one transaction: one invalid row and nothing is saved (the library would keep the
    valid rows without `rollback_on_validation_errors`)."""
    started = time.perf_counter()
    result = resource.import_data(
        dataset,
        dry_run=dry_run,
        use_transactions=True,
        rollback_on_validation_errors=True,
        raise_errors=False,
        user=user,
        file_name=file_name,
    )
    return outcome_of(resource, result, seconds=time.perf_counter() - started)


def summary_text(outcome, verbose_name_plural):
    return gettext("Imported %(rows)s rows of %(what)s: %(new)s new, %(updated)s updated, %(skipped)s unchanged.") % {
        "rows": outcome.rows,
        "what": verbose_name_plural,
        "new": outcome.new,
        "updated": outcome.updated,
        "skipped": outcome.skipped,
    }


# --- Audit -----------------------------------------------------------------------------------------------------


def _register(model):
    """The audit event's object: the register the file was read into or written from (no single row)."""
    return (model._meta.label, "", model._meta.verbose_name_plural)


def audit_import(request, model, outcome, file_name, *, actor=None, **detail):
    record_event(
        AuditEvent.Action.IMPORT,
        request=request,
        actor=actor,
        target=_register(model),
        model=model._meta.label,
        rows=outcome.result.total_rows,
        new=outcome.new,
        updated=outcome.updated,
        skipped=outcome.skipped,
        file_name=file_name or "",
        **detail,
    )


def audit_export(request, model, rows, file_name):
    record_event(
        AuditEvent.Action.EXPORT,
        request=request,
        target=_register(model),
        model=model._meta.label,
        rows=rows,
        file_name=file_name,
    )


# --- Large files: the background job ------------------------------------------------------------------------------

# The admins that import, by model label, so that the job runner finds the resource and the permissions the
# admin page used (filled when the admin site is set up, in the worker as in the web process).
IMPORTERS = {}


def import_scope(user):
    """The data scope an import runs in, recorded with the job and checked again when it runs."""
    county = getattr(user, "county", None)
    return {"county": county.code if county is not None else None, "superuser": bool(user.is_superuser)}


def import_job_start(*, model_admin, user, content, file_name):
    resource_class = model_admin.import_resource_class()
    rows = len(read_dataset(content))
    return job_start(
        kind=BackgroundJob.Kind.IMPORT,
        by=user,
        params={
            "model": model_admin.model._meta.label,
            "format": "xlsx",
            "file_name": file_name,
            "rows": rows,
            "resource": resource_class.__name__,
            "scope": import_scope(user),
        },
        input_file=ContentFile(content, name=file_name or "import.xlsx"),
    )


def _fail(job, errors, message):
    BackgroundJob.objects.filter(pk=job.pk).update(result={"errors": [error.as_dict() for error in errors]})
    raise JobError(message)


def import_job_run(job):
    """The runner of BackgroundJob.Kind.IMPORT, all or nothing like the synchronous import.

    Progress written inside the import's transaction would be invisible to the job page until the commit (and
    on SQLite the page's read would wait for the writer), so the rows are first checked in parts of CHUNK_ROWS,
    each a dry run that is rolled back, with the progress committed between the parts; then everything is
    written in one transaction, which runs the same checks again against the database as it is then. A failure
    there rolls the whole file back and names the rows. The audit row is written in that transaction."""
    with translation.override(settings.LANGUAGE_CODE):
        return _import_job_run(job)


def _import_job_run(job):
    params = job.params
    model_admin = IMPORTERS.get(params.get("model"))
    user = job.requested_by
    if model_admin is None:
        raise JobError(gettext("This kind of record cannot be imported."))
    resource_class = model_admin.import_resource_class()
    if not user.is_active or not resource_class.may_import(user) or resource_class.import_mode != "write":
        raise JobError(gettext("You may no longer import these records."))
    if params.get("scope") != import_scope(user):
        raise JobError(gettext("Your data scope changed after the upload; please upload the file again."))
    with job.input_file.open("rb") as handle:
        dataset = read_dataset(handle.read())
    total = len(dataset)
    file_name = params.get("file_name", "")
    duplicates = resource_class().find_duplicates(dataset)

    # Stages are stored untranslated: the job page translates them into its reader's language.
    job_progress(job, 0, total=total, stage=gettext_noop("Checking the rows"))
    found = []
    for start in range(0, total, CHUNK_ROWS):
        part = dataset.subset(rows=range(start, min(start + CHUNK_ROWS, total)))
        resource = resource_class(row_offset=start, duplicates=duplicates)
        outcome = run_import(resource, part, dry_run=True, user=user, file_name=file_name)
        found.extend(row_errors(resource, outcome.result, offset=start))
        if any(error.row is None for error in found):
            break  # the file as a whole is wrong (its columns): every part would say the same
        job_progress(job, min(start + CHUNK_ROWS, total))
    if found:
        _fail(job, _unique(found), _nothing_imported(len({e.row for e in found if e.row is not None})))

    job_progress(job, total, stage=gettext_noop("Writing all rows in one transaction"))
    resource = resource_class(duplicates=duplicates)
    with transaction.atomic():
        outcome = run_import(resource, dataset, dry_run=False, user=user, file_name=file_name)
        if outcome.ok:
            audit_import(None, model_admin.model, outcome, file_name, actor=user, job=job.pk)
    if not outcome.ok:
        _fail(job, outcome.row_errors, _nothing_imported(len({e.row for e in outcome.row_errors if e.row})))
    opts = model_admin.model._meta
    return {
        "summary": summary_text(outcome, opts.verbose_name_plural),
        # Where the imported rows are listed, for a link from the job page.
        "link": reverse(
            f"admin:{opts.app_label}_{opts.model_name}_changelist", current_app=model_admin.admin_site.name
        ),
        "rows": outcome.rows,
        "new": outcome.new,
        "updated": outcome.updated,
        "skipped": outcome.skipped,
    }


def _unique(errors):
    return list(dict.fromkeys(errors))


def _nothing_imported(bad_rows):
    if not bad_rows:
        return gettext("Nothing was imported: the file cannot be read as this list.")
    return ngettext(
        "Nothing was imported: %(n)s row has errors. Correct it and upload the file again.",
        "Nothing was imported: %(n)s rows have errors. Correct them and upload the file again.",
        bad_rows,
    ) % {"n": bad_rows}


# --- The admin mixin -------------------------------------------------------------------------------------------


class RegistryExportForm(SelectableFieldsExportForm):
    """The export form with each column's checkbox labelled by its Chinese header (the library shows the
    attribute name, "Uscc (统一社会信用代码)"), including the columns a resource adds when created (the survey
    questions)."""

    def _get_field_label(self, resource, field_name):
        instances = self.__dict__.setdefault("_resource_instances", {})
        if resource not in instances:
            instances[resource] = resource()
        field_ = instances[resource].fields.get(field_name)
        return field_.column_name if field_ is not None else field_name


class RegistryImportExportMixin(ImportExportMixin):
    """Import and export on a registry admin: XLSX only, all-or-nothing, explicit permissions, audited.

    The resource names the permissions (`import_permissions`, `export_permissions`; by default the model's add
    and change permissions to import, view to export). Export writes only what the admin's queryset shows the
    user, so the county scoping of the admin applies; an import is checked against the same scope by the
    resource. A file of more than settings.IMPORT_ASYNC_ROWS rows is previewed on its first PREVIEW_ROWS rows
    and imported by a background job whose page shows the progress."""

    # The library's buttons plus the XLSX template download. Not `change_list_template`: the library extends
    # that one as its base, and a template extending the library's would then extend itself.
    import_export_change_list_template = "admin/import_export/registry_change_list.html"
    import_template_name = "admin/import_export/registry_import.html"
    export_form_class = RegistryExportForm
    skip_admin_log = True  # the audit log records imports; a LogEntry per row would swamp the history

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        IMPORTERS[self.model._meta.label] = self

    def get_import_formats(self):
        return [TextXLSX]

    def get_export_formats(self):
        return [TextXLSX]

    def import_resource_class(self):
        return self.get_import_resource_classes(None)[0]

    def export_resource_class(self):
        return self.get_export_resource_classes(None)[0]

    def has_import_permission(self, request):
        return self.import_resource_class().may_import(request.user)

    def has_export_permission(self, request):
        return self.export_resource_class().may_export(request.user)

    def get_import_data_kwargs(self, **kwargs):
        kwargs = super().get_import_data_kwargs(**kwargs)
        kwargs.pop("request", None)
        # Both the preview (dry run) and the confirmed import roll back everything on one invalid row.
        kwargs["use_transactions"] = True
        kwargs["rollback_on_validation_errors"] = True
        return kwargs

    def get_import_resource_kwargs(self, request, **kwargs):
        kwargs = super().get_import_resource_kwargs(request, **kwargs)
        kwargs.pop("form", None)
        if getattr(request, "_registry_preview", None) is not None:
            kwargs["diff"] = True  # the preview page shows what each row changes
            kwargs["report"] = request._registry_preview
            if self.import_resource_class().import_mode == "write" and settings.IMPORT_ASYNC_ROWS:
                # A file the background job will import is previewed on its first rows only; a smaller file,
                # imported in the request, is checked whole before the user confirms.
                kwargs["preview_limit"] = PREVIEW_ROWS
                kwargs["preview_above"] = settings.IMPORT_ASYNC_ROWS
        return kwargs

    def get_export_resource_kwargs(self, request, **kwargs):
        kwargs = super().get_export_resource_kwargs(request, **kwargs)
        return {key: value for key, value in kwargs.items() if key not in ("export_form", "force_native_type")}

    def get_import_context_data(self, **kwargs):
        resource_class = self.import_resource_class()
        return {
            **super().get_import_context_data(**kwargs),
            "import_mode": resource_class.import_mode,
            "import_help": resource_class.import_help,
            "import_template_url": reverse(
                f"admin:{self.opts.app_label}_{self.opts.model_name}_import_template",
                current_app=self.admin_site.name,
            ),
            "async_rows": settings.IMPORT_ASYNC_ROWS,
        }

    def import_action(self, request, **kwargs):
        request._registry_preview = {}  # the resource of the dry run reports the size of the file here
        response = super().import_action(request, **kwargs)
        context = getattr(response, "context_data", None)
        if context is None:
            return response
        resource_class = self.import_resource_class()
        # The columns a file may hold; the export-only ones (names shown next to codes, the status) are left out.
        context["fields_list"] = [
            (
                resource_class.get_display_name(),
                [field_.column_name for field_ in resource_class().get_import_fields() if not field_.readonly],
            )
        ]
        if resource_class.import_mode == "check":
            context["title"] = gettext("Check a list against the registry")
        result = context.get("result")
        if result is None:
            return response
        resource = self.import_resource_class()()
        outcome = outcome_of(resource, result)
        context["registry_errors"] = outcome.row_errors
        context["registry_outcome"] = outcome
        rows_in_file = request._registry_preview.get("rows_in_file")
        context["rows_in_file"] = rows_in_file
        if resource.import_mode == "check":
            # A check is the preview itself: nothing to confirm. It is audited, since it read the registry.
            context["confirm_form"] = None
            audit_import(
                request,
                self.model,
                outcome,
                context["form"].cleaned_data["import_file"].name,
                mode="check",
                differences=len({error.row for error in outcome.row_errors}),
            )
        elif rows_in_file is not None:
            context["goes_async"] = bool(settings.IMPORT_ASYNC_ROWS) and rows_in_file > settings.IMPORT_ASYNC_ROWS
            if rows_in_file > result.total_rows:
                context["preview_rows"] = result.total_rows
        return response

    def process_import(self, request, **kwargs):
        if not self.has_import_permission(request) or self.import_resource_class().import_mode != "write":
            raise PermissionDenied  # a check has no confirmation: nothing of it is ever written
        if request.method != "POST":
            return HttpResponse(status=405)
        confirm_form = self.create_confirm_form(request)
        if not confirm_form.is_valid():
            return super().process_import(request, **kwargs)
        storage = self.get_tmp_storage_class()(
            name=confirm_form.cleaned_data["import_file_name"], read_mode="rb", **self.get_tmp_storage_class_kwargs()
        )
        try:
            content = storage.read()
        except FileNotFoundError:
            messages.error(request, gettext("The uploaded file is no longer available; please upload it again."))
            return self._back_to_upload()
        file_name = confirm_form.cleaned_data.get("original_file_name", "")
        dataset = read_dataset(content)
        if settings.IMPORT_ASYNC_ROWS and len(dataset) > settings.IMPORT_ASYNC_ROWS:
            job = import_job_start(model_admin=self, user=request.user, content=content, file_name=file_name)
            storage.remove()
            messages.info(
                request,
                gettext(
                    "The file has %(rows)s rows: it is checked and imported in the background. This page shows "
                    "the progress; nothing is saved unless every row is correct."
                )
                % {"rows": len(dataset)},
            )
            return HttpResponseRedirect(reverse("job_status", args=[job.pk]))
        # Atomic: if anything after the rows fails (the audit row), the import is not kept unaudited.
        with transaction.atomic():
            result = self.process_dataset(dataset, confirm_form, request, **kwargs)
            response = self.process_result(result, request)
        storage.remove()
        return response

    def _back_to_upload(self):
        return HttpResponseRedirect(
            reverse("admin:{}_{}_import".format(*self.get_model_info()), current_app=self.admin_site.name)
        )

    def process_result(self, result, request):
        resource = self.import_resource_class()()
        outcome = outcome_of(resource, result)
        if not outcome.ok:
            # The database changed between preview and confirmation (e.g. a USCC taken meanwhile): the import
            # rolled back as a whole; say why and send the user back to the upload form.
            for message in outcome.errors:
                messages.error(request, message)
            messages.error(request, gettext("Nothing was imported."))
            return self._back_to_upload()
        audit_import(request, self.model, outcome, request.POST.get("original_file_name", ""))
        messages.success(request, summary_text(outcome, self.opts.verbose_name_plural))
        return HttpResponseRedirect(
            reverse("admin:{}_{}_changelist".format(*self.get_model_info()), current_app=self.admin_site.name)
        )

    def _do_file_export(self, file_format, request, queryset, **kwargs):
        response = super()._do_file_export(file_format, request, queryset, **kwargs)
        disposition = response.get("Content-Disposition", "")
        file_name = disposition.split("filename=")[-1].strip('"') if "filename=" in disposition else ""
        audit_export(request, self.model, queryset.count(), file_name)
        return response

    # The change list: the per-model template of an admin that has one (the satisfaction summary) stays the base.

    def changelist_view(self, request, extra_context=None):
        self.ie_base_change_list_template = self._base_change_list_template()
        extra_context = extra_context or {}
        if self.has_import_permission(request):
            extra_context["import_template_url"] = reverse(
                f"admin:{self.opts.app_label}_{self.opts.model_name}_import_template",
                current_app=self.admin_site.name,
            )
        extra_context["import_template_label"] = _("Download the import template")
        extra_context["import_label"] = (
            _("Check a list against the registry") if self.import_resource_class().import_mode == "check" else None
        )
        return super().changelist_view(request, extra_context)

    def _base_change_list_template(self):
        if self.ie_base_change_list_template != "admin/change_list.html":
            return self.ie_base_change_list_template
        from django.template import TemplateDoesNotExist
        from django.template.loader import select_template

        try:
            return select_template(
                [
                    f"admin/{self.opts.app_label}/{self.opts.model_name}/change_list.html",
                    f"admin/{self.opts.app_label}/change_list.html",
                ]
            ).template.name
        except TemplateDoesNotExist:
            return "admin/change_list.html"

    # The template download: headers, one example row, and the instructions sheet.

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "import-template/",
                self.admin_site.admin_view(self.import_template_view),
                name="{}_{}_import_template".format(*info),
            ),
            *super().get_urls(),
        ]

    def import_template_view(self, request):
        if not self.has_import_permission(request):
            raise PermissionDenied
        resource = self.import_resource_class()()
        content = resource_template_xlsx(resource)
        response = HttpResponse(content, content_type=XLSX_CONTENT_TYPE)
        file_name = f"{self.opts.model_name}-import-template.xlsx"
        response["Content-Disposition"] = f'attachment; filename="{file_name}"'
        return response


def resource_template_xlsx(resource):
    """Sheet 1: the Chinese headers and the example row to overwrite; sheet 2: what each column takes."""
    names = [field_ for field_ in resource.get_import_fields() if not field_.readonly]
    header = [field_.column_name for field_ in names]
    example = [resource.example_row.get(field_.attribute or field_.column_name, "") for field_ in names]
    notes = [[field_.column_name, resource.template_notes.get(field_.attribute, "")] for field_ in names]
    notes.append(["", ""])
    notes.append(["说明", "第 1 行为表头，请勿修改；第 2 行为示例，导入前请删除或改写。"])
    if resource.import_mode == "check":
        notes.append(["", "此文件只用于与门户登记核对，任何内容都不会被写入；每一处不一致都会指出行号和列名。"])
    else:
        notes.append(["", "整份文件一并校验：任何一行有错误，全部不导入，并指出出错的行号和列名。"])
    return write_xlsx([(DATA_SHEET, header, [example]), (NOTES_SHEET, ["列名", "填写要求"], notes)])


__all__ = [
    "FORMULA_PREFIXES",
    "ChoicesWidget",
    "CodeForeignKeyWidget",
    "CodesManyToManyWidget",
    "DateWidget",
    "ImportOutcome",
    "LocalDateTimeWidget",
    "RegistryImportExportMixin",
    "RegistryResource",
    "Result",
    "RowError",
    "TextXLSX",
    "USCCWidget",
    "YesNoWidget",
    "audit_export",
    "audit_import",
    "describe_errors",
    "import_job_run",
    "resource_template_xlsx",
    "run_import",
    "write_xlsx",
]
