"""Issue 7, part 2: XLSX import and export of providers and enterprises — all-or-nothing with Chinese row
errors, explicit permissions, formula-safe export, audit rows."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from enterprises.resources import PilotEnterpriseResource
from providers.models import Provider, ProviderStatus
from providers.resources import HEADERS as PROVIDER_HEADERS
from providers.resources import ProviderResource
from tangshan_portal.imports import read_dataset, run_import
from tangshan_portal.models import AuditEvent
from tangshan_portal.roles import Role
from tests.factories import CountyFactory, PilotEnterpriseFactory, ProviderFactory, UserFactory
from tests.factories_imports import import_uscc, provider_dataset, provider_row, xlsx_bytes

pytestmark = pytest.mark.django_db

BAD_USCC = import_uscc(2)[:-1] + ("0" if import_uscc(2)[-1] != "0" else "1")  # wrong check digit


@pytest.fixture
def county():
    return CountyFactory()


def test_one_bad_row_saves_nothing_and_names_the_row(county):
    rows = [provider_row(1, county.code), provider_row(2, county.code, uscc=BAD_USCC), provider_row(3, county.code)]
    outcome = run_import(ProviderResource(), provider_dataset(rows), dry_run=False)
    assert not outcome.ok
    assert Provider.objects.count() == 0
    # Data row 2 is spreadsheet row 3 (the header is row 1); the column is named by its Chinese header.
    assert any(message.startswith("第 3 行 统一社会信用代码：") for message in outcome.errors), outcome.errors
    assert len(outcome.errors) == 1


def test_valid_file_creates_then_updates(county):
    rows = [provider_row(1, county.code), provider_row(2, county.code)]
    outcome = run_import(ProviderResource(), provider_dataset(rows), dry_run=False)
    assert outcome.ok, outcome.errors
    assert (outcome.new, outcome.updated) == (2, 0)
    provider = Provider.objects.get(uscc=import_uscc(1))
    # New providers come in with the model's default standing: admission stays the Art 2 procedure.
    assert provider.status == ProviderStatus.APPLIED
    assert provider.county == county

    rows[0]["contact_name"] = "王五"
    outcome = run_import(ProviderResource(), provider_dataset(rows), dry_run=False)
    assert outcome.ok, outcome.errors
    assert (outcome.new, outcome.updated, outcome.skipped) == (0, 1, 1)
    assert Provider.objects.get(uscc=import_uscc(1)).contact_name == "王五"


def test_import_never_changes_standing_nor_registration_data(county):
    provider = ProviderFactory(status=ProviderStatus.IN_POOL, county=county)
    row = provider_row(
        1,
        county.code,
        uscc=provider.uscc,
        name=provider.name,
        legal_representative=provider.legal_representative,
        address=provider.address,
        business_scope=provider.business_scope,
        registered_capital=str(provider.registered_capital) if provider.registered_capital is not None else "",
        contact_name="新联系人",
    )
    outcome = run_import(ProviderResource(), provider_dataset([row]), dry_run=False)
    assert outcome.ok, outcome.errors
    provider.refresh_from_db()
    assert provider.status == ProviderStatus.IN_POOL
    assert provider.contact_name == "新联系人"

    row["address"] = "唐山市别处1号"
    outcome = run_import(ProviderResource(), provider_dataset([row]), dry_run=False)
    assert not outcome.ok
    assert any("第 2 行 注册地址" in message and "登记变更" in message for message in outcome.errors)
    provider.refresh_from_db()
    assert provider.address != "唐山市别处1号"


def test_unknown_codes_are_row_errors_in_chinese(county):
    rows = [provider_row(1, "999999"), provider_row(2, county.code, provider_type="不存在的类型")]
    outcome = run_import(ProviderResource(), provider_dataset(rows), dry_run=False)
    assert Provider.objects.count() == 0
    joined = "\n".join(outcome.errors)
    assert "第 2 行 注册地区县代码：" in joined and "999999" in joined
    assert "第 3 行 服务商类型：" in joined


# --- The admin: preview, confirm, permissions, audit, export --------------------------------------------------


def _upload(client, url, content, name="providers.xlsx"):
    return client.post(url, {"format": "0", "import_file": SimpleUploadedFile(name, content)})


def test_admin_preview_then_confirm_writes_audit(client, county):
    officer = UserFactory(role=Role.OFFICER)
    client.force_login(officer)
    changelist = client.get(reverse("admin:providers_provider_changelist"))
    assert reverse("admin:providers_provider_import") in changelist.content.decode()
    assert reverse("admin:providers_provider_import_template") in changelist.content.decode()

    content = xlsx_bytes([provider_row(1, county.code), provider_row(2, county.code)])
    preview = _upload(client, reverse("admin:providers_provider_import"), content)
    assert preview.status_code == 200
    assert Provider.objects.count() == 0  # the preview is a dry run
    confirm = preview.context["confirm_form"]
    response = client.post(reverse("admin:providers_provider_process_import"), confirm.initial)
    assert response.status_code == 302
    assert Provider.objects.count() == 2

    event = AuditEvent.objects.get(action=AuditEvent.Action.IMPORT)
    assert event.actor == officer
    assert event.detail == {
        "model": "providers.Provider",
        "rows": 2,
        "new": 2,
        "updated": 0,
        "skipped": 0,
        "file_name": "providers.xlsx",
    }


def test_admin_bad_row_shows_chinese_row_error_and_offers_no_confirm(client, county):
    client.force_login(UserFactory(role=Role.OFFICER))
    content = xlsx_bytes([provider_row(1, county.code), provider_row(2, county.code, uscc=BAD_USCC)])
    response = _upload(client, reverse("admin:providers_provider_import"), content)
    assert response.status_code == 200
    # The page lists each error by the spreadsheet's row, the column's Chinese header and the problem.
    errors = response.context["registry_errors"]
    assert [(error.row, error.column) for error in errors] == [(3, "统一社会信用代码")]
    assert str(errors[0]).startswith("第 3 行 统一社会信用代码：")
    page = response.content.decode()
    assert "<td>统一社会信用代码</td>" in page and errors[0].message in page
    assert "confirm_form" not in response.context or response.context["confirm_form"] is None
    assert Provider.objects.count() == 0
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.IMPORT).exists()


def test_user_without_import_permission_cannot_import(client, county):
    auditor = UserFactory(role=Role.AUDITOR)  # views the registry, may export, may not import
    client.force_login(auditor)
    changelist = client.get(reverse("admin:providers_provider_changelist"))
    assert changelist.status_code == 200
    page = changelist.content.decode()
    assert reverse("admin:providers_provider_import") not in page
    assert reverse("admin:providers_provider_import_template") not in page
    assert reverse("admin:providers_provider_export") in page

    assert client.get(reverse("admin:providers_provider_import")).status_code == 403
    content = xlsx_bytes([provider_row(1, county.code)])
    assert _upload(client, reverse("admin:providers_provider_import"), content).status_code == 403
    assert client.post(reverse("admin:providers_provider_process_import"), {}).status_code == 403
    assert client.get(reverse("admin:providers_provider_import_template")).status_code == 403
    assert client.get(reverse("admin:enterprises_pilotenterprise_import")).status_code == 403
    assert Provider.objects.count() == 0


def _export(client, url, resource=ProviderResource):
    # The export form's field checkboxes are named "<resource class>_<field>"; tick them all.
    data = {"format": "0", "resource": "0"}
    data.update({f"{resource.__name__.lower()}_{name}": "on" for name in resource().get_export_order()})
    response = client.post(url, data)
    assert response.status_code == 200, response.content[:500]
    return load_workbook(io.BytesIO(b"".join(response.streaming_content) if response.streaming else response.content))


def test_export_writes_formula_cells_as_text_and_is_audited(client, county):
    hostile = "=cmd|' /C calc'!A0"
    ProviderFactory(name=hostile, county=county, contact_name="+SUM(1,2)")
    # A case officer: the contact columns are exported unmasked to it (tangshan_portal.masking).
    auditor = UserFactory(role=Role.OFFICER)
    client.force_login(auditor)
    workbook = _export(client, reverse("admin:providers_provider_export"))
    sheet = workbook.active
    header = [cell.value for cell in sheet[1]]
    assert "企业名称" in header and "统一社会信用代码" in header
    assert "standing" not in header and "status" not in header
    name_cell = sheet.cell(row=2, column=header.index("企业名称") + 1)
    # The value is kept whole (the library's own escaping would drop the "="), typed as text, not a formula.
    assert name_cell.value == hostile
    assert name_cell.data_type == "s"
    contact_cell = sheet.cell(row=2, column=header.index("联系人") + 1)
    assert (contact_cell.value, contact_cell.data_type) == ("+SUM(1,2)", "s")

    event = AuditEvent.objects.get(action=AuditEvent.Action.EXPORT)
    assert event.actor == auditor
    assert event.detail["model"] == "providers.Provider"
    assert event.detail["rows"] == 1
    assert event.detail["file_name"].endswith(".xlsx")


def test_template_download_has_chinese_headers_and_instructions(client):
    client.force_login(UserFactory(role=Role.OFFICER))
    response = client.get(reverse("admin:enterprises_pilotenterprise_import_template"))
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["导入数据", "填写说明"]
    header = [cell.value for cell in workbook["导入数据"][1]]
    assert header == [PilotEnterpriseResource().fields[name].column_name for name in PilotEnterpriseResource().fields]
    assert header[:3] == ["企业名称", "统一社会信用代码", "所在区县代码"]
    notes = [row[0].value for row in workbook["填写说明"].iter_rows(min_row=2)]
    assert "企业规模" in notes


def test_enterprise_import_round_trip(county):
    enterprise = PilotEnterpriseFactory(county=county)
    dataset = PilotEnterpriseResource().export()
    contact = dataset.headers.index("联系人")
    dataset[0] = tuple("新联系人" if index == contact else value for index, value in enumerate(dataset[0]))
    outcome = run_import(PilotEnterpriseResource(), dataset, dry_run=False)
    assert outcome.ok, outcome.errors
    assert outcome.updated == 1
    enterprise.refresh_from_db()
    assert enterprise.contact_name == "新联系人"


def test_negative_capital_is_a_chinese_row_error(county):
    outcome = run_import(
        ProviderResource(), provider_dataset([provider_row(1, county.code, registered_capital="-5")]), dry_run=False
    )
    assert Provider.objects.count() == 0
    assert any(message.startswith("第 2 行 注册资本（万元）：") for message in outcome.errors), outcome.errors


def test_county_bureau_import_stays_in_its_county():
    from tests.factories import OrganisationFactory

    own, other = CountyFactory(code="130202"), CountyFactory(code="130203")
    bureau = OrganisationFactory(county_bureau=True, county=own)
    user = UserFactory(role=Role.COUNTY, organisation=bureau)
    elsewhere = PilotEnterpriseFactory(county=other)
    dataset = PilotEnterpriseResource().export(queryset=type(elsewhere).objects.filter(pk=elsewhere.pk))
    contact = dataset.headers.index("联系人")
    dataset[0] = tuple("改" if index == contact else value for index, value in enumerate(dataset[0]))
    outcome = run_import(PilotEnterpriseResource(), dataset, dry_run=False, user=user)
    assert not outcome.ok
    assert any("不在您的管辖范围" in message for message in outcome.errors), outcome.errors
    elsewhere.refresh_from_db()
    assert elsewhere.contact_name != "改"


# --- What a spreadsheet holds ----------------------------------------------------------------------------------


def test_a_code_twice_in_the_file_is_refused_with_both_rows(county):
    rows = [provider_row(1, county.code), provider_row(2, county.code), provider_row(1, county.code)]
    outcome = run_import(ProviderResource(), provider_dataset(rows), dry_run=False)
    assert Provider.objects.count() == 0
    assert outcome.errors == ["第 4 行 统一社会信用代码：与第 2 行重复：同一统一社会信用代码只能出现一次。"]


def test_blank_lines_keep_the_row_numbers_of_the_sheet(county):
    rows = [provider_row(1, county.code), {}, provider_row(2, county.code, provider_type="?"), {}]
    outcome = run_import(ProviderResource(), provider_dataset(rows), dry_run=False)
    assert [(error.row, error.column) for error in outcome.row_errors] == [(4, "服务商类型")]
    rows[2]["provider_type"] = "integrated"
    outcome = run_import(ProviderResource(), provider_dataset(rows), dry_run=False)
    assert (outcome.ok, outcome.new, outcome.skipped) == (True, 2, 2)


def test_an_unknown_column_refuses_the_file_before_any_row(county):
    from tests.factories_imports import sheet_bytes

    row = {PROVIDER_HEADERS[name]: value for name, value in provider_row(1, county.code).items()}
    row["联系电话 （备用）"] = "1"
    outcome = run_import(ProviderResource(), read_dataset(sheet_bytes([row])), dry_run=False)
    assert len(outcome.errors) == 1 and "联系电话 （备用）" in outcome.errors[0]
    assert outcome.row_errors[0].row is None
    assert Provider.objects.count() == 0


def test_a_code_typed_full_width_or_lower_case_finds_the_existing_provider(county):
    provider = ProviderFactory(county=county, registered_capital=None, business_scope="")
    typed = provider.uscc.lower().replace("9", "９")
    row = provider_row(
        1,
        county.code,
        uscc=f" {typed} ",
        name=provider.name,
        legal_representative=provider.legal_representative,
        address=provider.address,
        business_scope="",
        registered_capital="",
        contact_phone=13800000000,  # a number cell in a text column
    )
    outcome = run_import(ProviderResource(), provider_dataset([row]), dry_run=False)
    assert (outcome.ok, outcome.new, outcome.updated) == (True, 0, 1), outcome.errors
    provider.refresh_from_db()
    assert provider.contact_phone == "13800000000"


def test_the_template_is_read_from_its_data_sheet_whichever_sheet_was_open(client, county):
    from openpyxl import load_workbook

    client.force_login(UserFactory(role=Role.OFFICER))
    template = client.get(reverse("admin:providers_provider_import_template")).content
    workbook = load_workbook(io.BytesIO(template))
    sheet = workbook["导入数据"]
    for column, value in enumerate(provider_row(1, county.code).values(), start=1):
        sheet.cell(row=2, column=column, value=value)
    workbook.active = workbook.sheetnames.index("填写说明")
    stream = io.BytesIO()
    workbook.save(stream)
    outcome = run_import(ProviderResource(), read_dataset(stream.getvalue()), dry_run=False)
    assert (outcome.ok, outcome.new) == (True, 1), outcome.errors


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1", "@A1", "\t=1"])
def test_provider_export_writes_every_formula_prefix_as_text(client, county, value):
    ProviderFactory(county=county, contact_name=value, business_scope=value)
    # A case officer: the contact columns are exported unmasked to it (tangshan_portal.masking).
    client.force_login(UserFactory(role=Role.OFFICER))
    sheet = _export(client, reverse("admin:providers_provider_export")).active
    header = [cell.value for cell in sheet[1]]
    for column in ("联系人", "经营范围"):
        cell = sheet.cell(row=2, column=header.index(column) + 1)
        assert (cell.value, cell.data_type) == (value, "s")


def test_import_cost_does_not_grow_with_queries_per_row(county, django_assert_max_num_queries):
    """The cheap wins stay: existing rows, counties and scenarios are read once per import, not once per row.
    A new row costs its INSERT and the public-change rows (opendata signals) inside its savepoint."""
    rows = [provider_row(n, county.code, scenarios="") for n in range(1, 41)]
    with django_assert_max_num_queries(40 * 5 + 20):
        assert run_import(ProviderResource(), provider_dataset(rows), dry_run=False).new == 40
    for row in rows:
        row["contact_name"] = "王五"
    with django_assert_max_num_queries(40 * 5 + 20):
        assert run_import(ProviderResource(), provider_dataset(rows), dry_run=False).updated == 40
    with django_assert_max_num_queries(40 * 2 + 20):  # an unchanged row: only its savepoint
        assert run_import(ProviderResource(), provider_dataset(rows), dry_run=False).skipped == 40


def test_an_update_writes_only_the_changed_columns(county):
    """A long import must not write back stale values of columns it did not change (the row was loaded at the
    start of the import)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    provider = ProviderFactory(county=county, registered_capital=None, business_scope="")
    row = provider_row(
        1,
        county.code,
        uscc=provider.uscc,
        name=provider.name,
        legal_representative=provider.legal_representative,
        address=provider.address,
        business_scope="",
        registered_capital="",
        contact_name="新联系人",
    )
    with CaptureQueriesContext(connection) as queries:
        assert run_import(ProviderResource(), provider_dataset([row]), dry_run=False).updated == 1
    (update,) = [q["sql"] for q in queries.captured_queries if q["sql"].startswith('UPDATE "providers_provider"')]
    assert '"contact_name"' in update and '"name"' not in update and '"status" =' not in update.split("WHERE")[0]


EXPORT_ONLY_OR_NO_PERMISSION = [
    (Role.AUDITOR, "providers_provider"),
    (Role.AUDITOR, "enterprises_pilotenterprise"),
    (Role.COUNTY, "enterprises_pilotenterprise"),
    (Role.SYSADMIN, "enterprises_servicecontract"),
    (Role.OFFICER, "evaluations_satisfactionrating"),
    (Role.AUDITOR, "evaluations_inspection"),
]


@pytest.mark.parametrize(("role", "admin_name"), EXPORT_ONLY_OR_NO_PERMISSION)
def test_no_import_without_the_permission_page_and_post(client, role, admin_name):
    client.force_login(UserFactory(role=role))
    content = xlsx_bytes([provider_row(1, "130202")])
    assert client.get(reverse(f"admin:{admin_name}_import")).status_code == 403
    assert _upload(client, reverse(f"admin:{admin_name}_import"), content).status_code == 403
    assert client.post(reverse(f"admin:{admin_name}_process_import"), {}).status_code == 403
    assert client.get(reverse(f"admin:{admin_name}_import_template")).status_code == 403


def test_anonymous_users_are_sent_to_the_login(client):
    for name in ("import", "process_import", "export", "import_template"):
        response = client.get(reverse(f"admin:providers_provider_{name}"))
        assert response.status_code == 302 and "login" in response["Location"]


def test_county_bureau_exports_only_its_county_enterprises(client):
    from tests.factories import OrganisationFactory

    own, other = CountyFactory(code="130202"), CountyFactory(code="130203")
    mine, _elsewhere = PilotEnterpriseFactory(county=own), PilotEnterpriseFactory(county=other)
    client.force_login(UserFactory(role=Role.COUNTY, organisation=OrganisationFactory(county_bureau=True, county=own)))
    sheet = _export(client, reverse("admin:enterprises_pilotenterprise_export"), PilotEnterpriseResource).active
    header = [cell.value for cell in sheet[1]]
    assert [row[header.index("统一社会信用代码")].value for row in sheet.iter_rows(min_row=2)] == [mine.uscc]
    assert AuditEvent.objects.get(action=AuditEvent.Action.EXPORT).detail["rows"] == 1
