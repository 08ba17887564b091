"""Bulk downloads of the public data: the blacklist (Art 13), its history (Art 16) and the resource pool (Art 2),
each as CSV, XLSX and JSON.

What a file holds is decided by opendata.selectors, so a download never shows more or less than the pages.

Versions and generation time. A file is cached under the public data version (opendata.models.PublicVersion),
which signed contracts move too, because "counties served" is derived from them.
The first export of a version fixes its generation time (`dataset_stamp`); every file of that version carries
it and holds exactly the data of that moment, because any change of them makes a new version.
An approved blacklist entry therefore appears in the next download, whatever was cached before.

Spreadsheet safety. A text cell that starts with = + - @, a tab or a carriage return would be run as a formula by
Excel or LibreOffice (CSV/formula injection); such cells get a leading apostrophe in CSV and XLSX, and XLSX cells
are written as strings. JSON is data for programs, not opened by spreadsheets, and keeps the values as they are.
"""

import csv
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from io import BytesIO

from django.conf import settings
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from tangshan_portal.grounds import ART13_CONSEQUENCE

from . import selectors
from .cache import public_version

FORMATS = {
    "csv": ("text/csv; charset=utf-8", "CSV"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "Excel (XLSX)"),
    "json": ("application/json; charset=utf-8", "JSON"),
}

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# Rows fetched (and prefetched) per database round trip; the query count grows per chunk, never per row.
CHUNK = 500
# Rows written per CSV chunk sent to the client.
CSV_ROWS_PER_CHUNK = 200
# A file larger than this is streamed but not kept in the cache.
MAX_CACHED_BYTES = 20 * 1024 * 1024
XLSX_MAX_CELL = 32767
LIST_SEPARATOR = "；"


def escape_formula(text):
    """'=HYPERLINK(…)' for '=HYPERLINK(…)': the spreadsheet shows the text instead of running it."""
    if text and text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def local_iso(moment):
    return timezone.localtime(moment).isoformat(timespec="seconds")


def filename_stamp(moment):
    """20261129T1230+0800: sortable, and without characters that file systems refuse."""
    return timezone.localtime(moment).strftime("%Y%m%dT%H%M%z")


# --- Datasets -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    help: str
    width: int = 16
    # Turns a JSON value (a list, an object) into the text of one spreadsheet cell.
    flat: Callable | None = None


@dataclass(frozen=True)
class Dataset:
    slug: str
    title: str
    description: str
    columns: tuple
    queryset: Callable
    rows: Callable
    legal_basis: Callable

    def count(self):
        return self.queryset().count()


def _names(values):
    return LIST_SEPARATOR.join(value["name"] for value in values)


def _products(values):
    return LIST_SEPARATOR.join(
        _("%(name)s: %(price)s yuan per %(unit)s") % {"name": p["name"], "price": p["list_price"], "unit": p["unit"]}
        for p in values
    )


def _county(value):
    return value["name"] if value else ""


BLACKLIST_COLUMNS = (
    Column("provider_name", gettext_lazy("Provider"), gettext_lazy("Name of the provider when decided."), 32),
    Column("uscc", gettext_lazy("Unified Social Credit Code"), gettext_lazy("18 characters (GB 32100-2015)."), 22),
    Column("ground", gettext_lazy("Art 13 item"), gettext_lazy("Item (1)–(9) of Article 13."), 10),
    Column("ground_wording", gettext_lazy("Grounds"), gettext_lazy("The regulation's wording of that item."), 48),
    Column("decision_number", gettext_lazy("Decision number"), gettext_lazy("Document number of the decision."), 20),
    Column("decided_on", gettext_lazy("Decision date"), gettext_lazy("Date of the decision (YYYY-MM-DD)."), 12),
    Column("authority", gettext_lazy("Deciding authority"), gettext_lazy("The authority that decided."), 24),
    Column("status_label", gettext_lazy("Status"), gettext_lazy("Published, or under appeal (Art 16)."), 12),
    Column("published_at", gettext_lazy("Published"), gettext_lazy("When the entry was announced."), 20),
    Column("remedy", gettext_lazy("Remedy"), gettext_lazy("How the provider may appeal."), 40),
    Column("url", gettext_lazy("Permalink"), gettext_lazy("The entry's page on this site."), 36),
)

HISTORY_COLUMNS = (
    *BLACKLIST_COLUMNS[:-1],
    Column("removed_at", gettext_lazy("Removed"), gettext_lazy("When the entry was taken down."), 20),
    Column("removal_reason", gettext_lazy("Reason for removal"), gettext_lazy("Usually an upheld appeal."), 40),
    BLACKLIST_COLUMNS[-1],
)

PROVIDER_COLUMNS = (
    Column("name", gettext_lazy("Provider"), gettext_lazy("Registered name."), 32),
    Column("uscc", gettext_lazy("Unified Social Credit Code"), gettext_lazy("18 characters (GB 32100-2015)."), 22),
    Column("provider_type_label", gettext_lazy("Provider type"), gettext_lazy("One of the three pool types."), 22),
    Column(
        "county",
        gettext_lazy("County of registration"),
        gettext_lazy("Empty when registered outside the city."),
        14,
        _county,
    ),
    Column("scenarios", gettext_lazy("Service scenarios"), gettext_lazy("Art 5 scenarios it offers."), 36, _names),
    Column(
        "counties_served",
        gettext_lazy("Counties served"),
        gettext_lazy("Counties of the pilot enterprises it has signed contracts with."),
        24,
        _names,
    ),
    Column(
        "products",
        gettext_lazy("Products and list prices"),
        gettext_lazy("Offered products with list price (yuan) and unit."),
        60,
        _products,
    ),
    Column("updated_at", gettext_lazy("Updated"), gettext_lazy("Last change of the provider's record."), 20),
    Column("url", gettext_lazy("Permalink"), gettext_lazy("The provider's page on this site."), 36),
)


def _blacklist_row(entry, base_url, *, history=False):
    row = {
        "id": entry.pk,
        "provider_name": entry.provider_name,
        "uscc": entry.uscc,
        "ground": entry.ground,
        "ground_wording": entry.ground_wording,
        "decision_number": entry.decision_number,
        "decided_on": entry.decided_on,
        "authority": entry.authority,
        "status": entry.status,
        "status_label": str(entry.get_status_display()),
        "published_at": entry.published_at,
        "remedy": entry.remedy,
    }
    if history:
        row["removed_at"] = entry.removed_at
        row["removal_reason"] = entry.removal_reason
    row["url"] = base_url + reverse("public:blacklist_detail", args=[entry.pk])
    return row


def _blacklist_current():
    return selectors.blacklist_search(selectors.blacklist_current())


def _blacklist_history():
    # The order of the history page: the latest removal first.
    return selectors.blacklist_search(selectors.blacklist_history()).order_by("-removed_at", "-id")


def _blacklist_rows(base_url):
    for entry in _blacklist_current().iterator(chunk_size=CHUNK):
        yield _blacklist_row(entry, base_url)


def _history_rows(base_url):
    for entry in _blacklist_history().iterator(chunk_size=CHUNK):
        yield _blacklist_row(entry, base_url, history=True)


def _pool():
    return selectors.pool_search(selectors.pool_providers())


def _batches(iterable, size):
    batch = []
    for item in iterable:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _place(county):
    return {"code": county.code, "name": county.name}


def _provider_rows(base_url):
    # iterator(chunk_size) prefetches per chunk; counties_served is one query per batch of the same size.
    for batch in _batches(_pool().iterator(chunk_size=CHUNK), CHUNK):
        served = selectors.counties_served(batch)
        for provider in batch:
            yield {
                "id": provider.pk,
                "name": provider.name,
                "uscc": provider.uscc,
                "provider_type": provider.provider_type,
                "provider_type_label": str(provider.get_provider_type_display()),
                "county": _place(provider.county) if provider.county_id else None,
                "scenarios": [{"code": s.code, "name": s.name} for s in provider.scenarios.all()],
                "counties_served": [_place(c) for c in served.get(provider.pk, [])],
                "products": [
                    {"name": p.name, "unit": p.unit, "list_price": p.list_price} for p in provider.products.all()
                ],
                "updated_at": provider.updated_at,
                "url": base_url + reverse("public:provider_detail", args=[provider.pk]),
            }


def _regulation():
    return f"《{settings.PORTAL_REGULATION_TITLE}》"


# The legal bases are citations of the regulation, in its own words like tangshan_portal.grounds: not UI text.


def _blacklist_basis():
    return f"依据{_regulation()}第十三条公开：“{ART13_CONSEQUENCE.rstrip('。')}”。"


def _history_basis():
    return (
        f"依据{_regulation()}第十六条第（三）项（“被清退、纳入黑名单认定理由存在异议的”）提出的申诉成立后移出黑名单的条目，"
        "保留移出日期和理由。"
    )


def _pool_basis():
    # Article 2 names the city's pool; the city comes from the settings like the regulation's title.
    return (
        f"依据{_regulation()}第二条公开：“本规范适用于纳入{settings.PORTAL_CITY_NAME}中小企业数字化转型试点城市推荐"
        "数字化服务商资源池的数字化服务商”。"
    )


DATASETS = {
    "blacklist": Dataset(
        slug="blacklist",
        title=gettext_lazy("Blacklist of digital-service providers"),
        description=gettext_lazy(
            "Providers whose qualification was revoked under Article 13: the entries published and those under "
            "appeal, newest decision first, as on the blacklist page."
        ),
        columns=BLACKLIST_COLUMNS,
        queryset=_blacklist_current,
        rows=_blacklist_rows,
        legal_basis=_blacklist_basis,
    ),
    "blacklist-history": Dataset(
        slug="blacklist-history",
        title=gettext_lazy("Blacklist history (removed entries)"),
        description=gettext_lazy(
            "Entries taken down after an upheld appeal, latest removal first, as on the blacklist history page."
        ),
        columns=HISTORY_COLUMNS,
        queryset=_blacklist_history,
        rows=_history_rows,
        legal_basis=_history_basis,
    ),
    "providers": Dataset(
        slug="providers",
        title=gettext_lazy("Provider resource pool"),
        description=gettext_lazy(
            "Providers in the resource pool with their type, county of registration, scenarios, the counties they "
            "serve and the products they offer with list prices, as in the directory. Contact persons are not "
            "published."
        ),
        columns=PROVIDER_COLUMNS,
        queryset=_pool,
        rows=_provider_rows,
        legal_basis=_pool_basis,
    ),
}


# --- Versions, generation time and the cache --------------------------------------------------------------------


def dataset_version(dataset):
    return str(public_version())


def _timeout():
    return settings.PUBLIC_CACHE_SECONDS


def dataset_stamp(dataset, version):
    """The generation time of this data version's files: set by the first export (or the index page) and shared
    by every format, so that the three files and the index state the same moment."""
    key = f"downloads:stamp:{dataset.slug}:{version}"
    now = timezone.now()
    # Kept longer than the files and renewed on each use, so that it outlives every file that states it.
    if not cache.add(key, now, _timeout() * 2):
        cache.touch(key, _timeout() * 2)
    return cache.get(key) or now


def file_key(dataset, fmt, version, host):
    return f"downloads:file:{dataset.slug}:{fmt}:{version}:{translation.get_language()}:{host}"


@dataclass(frozen=True)
class Export:
    content: bytes
    generated_at: datetime
    # None for CSV, which is streamed without counting.
    count: int | None


def cached_export(key):
    return cache.get(key)


def store_export(key, export):
    if len(export.content) <= MAX_CACHED_BYTES:
        cache.set(key, export, _timeout())


# --- Writers ------------------------------------------------------------------------------------------------------


def _text(value):
    """The value of a CSV cell."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return local_iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal | int | float):
        return str(value)
    return escape_formula(str(value))


def _cell_values(dataset, row):
    for column in dataset.columns:
        value = row.get(column.key)
        yield column.flat(value) if column.flat else value


class _Echo:
    """csv.writer writes one row into this and hands back the line."""

    def write(self, value):
        return value


def csv_chunks(dataset, base_url):
    """The CSV file in chunks: UTF-8 with a byte-order mark (Excel then reads Chinese correctly), a header row
    and no comment line; the generation time travels in the file name and the X-Generated-At header."""
    writer = csv.writer(_Echo())
    yield ("\ufeff" + writer.writerow([str(c.label) for c in dataset.columns])).encode()
    for rows in _batches(dataset.rows(base_url), CSV_ROWS_PER_CHUNK):
        yield "".join(writer.writerow([_text(v) for v in _cell_values(dataset, row)]) for row in rows).encode()


def stream_and_cache(chunks, *, key, generated_at, language):
    """Send the chunks as they come and keep the whole file in the cache once it was sent completely; a client
    that leaves early closes the generator and nothing half-written is cached."""
    with translation.override(language):
        parts, size = [], 0
        for chunk in chunks:
            if size <= MAX_CACHED_BYTES:
                parts.append(chunk)
            size += len(chunk)
            yield chunk
        if size <= MAX_CACHED_BYTES:
            store_export(key, Export(b"".join(parts), generated_at, None))


def _xlsx_value(ws, value, column_width):
    if isinstance(value, str):
        text = escape_formula(ILLEGAL_CHARACTERS_RE.sub("", value))[:XLSX_MAX_CELL]
        cell = WriteOnlyCell(ws, value=text)
        # Never a formula or an error code, whatever the text looks like.
        cell.data_type = "s"
        if len(text) > column_width:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        return cell
    if isinstance(value, datetime):
        # Excel has no time zones: local time, stated on the About sheet.
        cell = WriteOnlyCell(ws, value=timezone.localtime(value).replace(tzinfo=None, microsecond=0))
        cell.number_format = "yyyy-mm-dd hh:mm:ss"
        return cell
    if isinstance(value, date):
        cell = WriteOnlyCell(ws, value=value)
        cell.number_format = "yyyy-mm-dd"
        return cell
    cell = WriteOnlyCell(ws, value=value)
    if isinstance(value, Decimal):
        cell.number_format = "#,##0.00"
    return cell


def _sheet_title(text):
    return "".join(ch for ch in str(text) if ch not in "[]:*?/\\")[:31] or "data"


def build_xlsx(dataset, base_url, generated_at):
    """A workbook with the data (bold, frozen header row, set column widths, a filter) and an About sheet with
    the generation time, the source and the legal basis."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_sheet_title(dataset.title))
    sheet.freeze_panes = "A2"
    for index, column in enumerate(dataset.columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    bold = Font(bold=True)
    header = []
    for column in dataset.columns:
        cell = WriteOnlyCell(sheet, value=escape_formula(str(column.label)))
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    count = 0
    for row in dataset.rows(base_url):
        sheet.append(
            [
                _xlsx_value(sheet, value, column.width)
                for column, value in zip(dataset.columns, _cell_values(dataset, row), strict=True)
            ]
        )
        count += 1
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(dataset.columns))}{count + 1}"

    about = workbook.create_sheet(_sheet_title(_("About")))
    about.column_dimensions["A"].width = 18
    about.column_dimensions["B"].width = 90
    facts = [
        (_("Dataset"), str(dataset.title)),
        (_("Generated at"), local_iso(generated_at)),
        (_("Source"), settings.PORTAL_AUTHORITY_NAME),
        (_("Rows"), count),
        (_("Legal basis"), dataset.legal_basis()),
        (_("Description"), str(dataset.description)),
        (_("Times"), _("Dates and times are local time (%(zone)s).") % {"zone": settings.TIME_ZONE}),
        (
            _("Text starting with = + - @"),
            _("Prefixed with an apostrophe so that spreadsheets do not run it as a formula."),
        ),
    ]
    for label, value in facts:
        name = WriteOnlyCell(about, value=escape_formula(label))
        name.font = bold
        about.append([name, _xlsx_value(about, value, 90)])
    buffer = BytesIO()
    workbook.save(buffer)
    return Export(buffer.getvalue(), generated_at, count)


def _json_default(value):
    if isinstance(value, datetime):
        return local_iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        # A number, as JSON readers expect; two decimals of at most 14 digits print exactly.
        return float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def build_json(dataset, base_url, generated_at):
    items = list(dataset.rows(base_url))
    payload = {
        "dataset": dataset.slug,
        "title": str(dataset.title),
        "generated_at": local_iso(generated_at),
        "source": settings.PORTAL_AUTHORITY_NAME,
        "legal_basis": dataset.legal_basis(),
        "count": len(items),
        "items": items,
    }
    content = json.dumps(payload, ensure_ascii=False, default=_json_default).encode()
    return Export(content, generated_at, len(items))


BUILDERS = {"xlsx": build_xlsx, "json": build_json}


def export_filename(dataset_slug, fmt, generated_at):
    return f"{dataset_slug}-{filename_stamp(generated_at)}.{fmt}"
