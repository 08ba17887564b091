"""Issue 7, part 2: contracts (exported; a county's list checked against the register, never written), survey
results (export only) and inspections (imported through services.inspection_record)."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from enterprises.models import ContractStatus, ServiceContract
from enterprises.resources import CONTRACT_HEADERS, ServiceContractResource
from evaluations import services
from evaluations.models import Inspection, SatisfactionRating, SurveyItem
from evaluations.resources import INSPECTION_HEADERS, InspectionResource, SatisfactionRatingResource
from tangshan_portal.models import AuditEvent
from tangshan_portal.roles import Role
from tests.enforcement import at, travel
from tests.factories import (
    CountyFactory,
    OrganisationFactory,
    PilotEnterpriseFactory,
    ProviderFactory,
    ServiceContractFactory,
    UserFactory,
)
from tests.factories_imports import inspection_row, read_xlsx, sheet_bytes

pytestmark = pytest.mark.django_db

HOSTILE = ["=cmd|' /C calc'!A0", "+SUM(1,2)", "-2+3", "@SUM(A1)"]


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _export(client, admin_url, resource):
    """POST the export form with every column ticked; the workbook's header and rows."""
    data = {"format": "0", "resource": "0"}
    data.update({f"{resource.__name__.lower()}_{name}": "on" for name in resource().get_export_order()})
    response = client.post(reverse(admin_url), data)
    assert response.status_code == 200, response.content[:300]
    return read_xlsx(response.content)


def _upload(client, admin_url, content, name="list.xlsx"):
    return client.post(reverse(admin_url), {"format": "0", "import_file": SimpleUploadedFile(name, content)})


def _county_user(county):
    return UserFactory(role=Role.COUNTY, organisation=OrganisationFactory(county_bureau=True, county=county))


# --- Contracts ------------------------------------------------------------------------------------------------


@pytest.fixture
def counties():
    return CountyFactory(code="130202"), CountyFactory(code="130203")


@pytest.fixture
def contracts(counties):
    own, other = counties
    mine = ServiceContractFactory(
        number="TS-2026-0001",
        enterprise=PilotEnterpriseFactory(county=own),
        status=ContractStatus.IN_PROGRESS,
        title=HOSTILE[0],
        plan_goals=HOSTILE[1],
        plan_content=HOSTILE[2],
        plan_process=HOSTILE[3],
        signed_on=date(2026, 2, 20),
    )
    elsewhere = ServiceContractFactory(number="TS-2026-0002", enterprise=PilotEnterpriseFactory(county=other))
    return mine, elsewhere


def test_contract_export_has_chinese_headers_text_cells_and_is_audited(client, contracts):
    mine, _elsewhere = contracts
    officer = UserFactory(role=Role.OFFICER)
    client.force_login(officer)
    header, rows = _export(client, "admin:enterprises_servicecontract_export", ServiceContractResource)
    assert header == list(CONTRACT_HEADERS.values())
    row = next(row for row in rows if row["合同编号"].value == mine.number)
    assert row["合同状态"].value == str(ContractStatus.IN_PROGRESS.label)
    assert row["服务商统一社会信用代码"].value == mine.provider.uscc
    # Each formula-looking text is kept whole and typed as text: a spreadsheet shows it, never runs it.
    for column, value in zip(["项目名称", "服务目标", "服务内容", "实施流程"], HOSTILE, strict=True):
        assert (row[column].value, row[column].data_type) == (value, "s")
    event = AuditEvent.objects.get(action=AuditEvent.Action.EXPORT)
    assert (event.actor, event.detail["model"], event.detail["rows"]) == (officer, "enterprises.ServiceContract", 2)


def test_county_bureau_exports_only_its_county(client, counties, contracts):
    mine, _elsewhere = contracts
    client.force_login(_county_user(counties[0]))
    _header, rows = _export(client, "admin:enterprises_servicecontract_export", ServiceContractResource)
    assert [row["合同编号"].value for row in rows] == [mine.number]
    assert AuditEvent.objects.get(action=AuditEvent.Action.EXPORT).detail["rows"] == 1


def _contract_file(client, contracts):
    """The officer's own export of the register, as a county would send it back."""
    _header, rows = _export(client, "admin:enterprises_servicecontract_export", ServiceContractResource)
    return [{name: cell.value for name, cell in row.items()} for row in rows]


def test_unchanged_contract_list_matches_and_writes_nothing(client, contracts):
    mine, _elsewhere = contracts
    client.force_login(UserFactory(role=Role.OFFICER))
    rows = _contract_file(client, contracts)
    before = ServiceContract.objects.get(pk=mine.pk).updated_at

    response = _upload(client, "admin:enterprises_servicecontract_import", sheet_bytes(rows))

    assert response.status_code == 200
    assert response.context["registry_errors"] == []
    assert response.context["confirm_form"] is None  # a check has nothing to confirm
    assert ServiceContract.objects.get(pk=mine.pk).updated_at == before
    event = AuditEvent.objects.get(action=AuditEvent.Action.IMPORT)
    assert event.detail["mode"] == "check" and event.detail["rows"] == 2 and event.detail["differences"] == 0


def test_contract_list_differences_are_listed_and_nothing_changes(client, contracts):
    mine, _elsewhere = contracts
    client.force_login(UserFactory(role=Role.OFFICER))
    rows = _contract_file(client, contracts)
    row = next(row for row in rows if row["合同编号"] == mine.number)
    row["合同金额（元）"] = "350000.00"
    row["结束日期"] = "2026-12-31"
    rows.append({**row, "合同编号": "COUNTY-ONLY-9", "合同金额（元）": "1000.00"})

    response = _upload(client, "admin:enterprises_servicecontract_import", sheet_bytes(rows))

    errors = {(error.row, error.column): error.message for error in response.context["registry_errors"]}
    changed_row = rows.index(row) + 2
    assert "门户中为“300000.00”" in errors[(changed_row, "合同金额（元）")]
    assert "门户中为“2026-09-30”" in errors[(changed_row, "结束日期")]
    assert "不能经导入新建" in errors[(len(rows) + 1, "合同编号")]
    assert len(errors) == 3
    assert response.context["confirm_form"] is None
    mine.refresh_from_db()
    assert (mine.amount, mine.end_on) == (Decimal("300000.00"), date(2026, 9, 30))
    assert not ServiceContract.objects.filter(number="COUNTY-ONLY-9").exists()
    assert AuditEvent.objects.get(action=AuditEvent.Action.IMPORT).detail["differences"] == 2


def test_no_confirmed_write_path_for_contracts(client, contracts):
    """Even a crafted confirmation is refused: contracts are never written by a file."""
    client.force_login(UserFactory(role=Role.OFFICER))
    response = client.post(
        reverse("admin:enterprises_servicecontract_process_import"),
        {"import_file_name": "x", "original_file_name": "x.xlsx", "format": "0", "resource": "0"},
    )
    assert response.status_code == 403


def test_empty_cells_state_nothing_in_a_check(client, contracts):
    mine, _elsewhere = contracts
    client.force_login(UserFactory(role=Role.OFFICER))
    rows = [
        {"合同编号": mine.number, "合同金额（元）": "300000", "结束日期": ""},
        {"合同编号": mine.number + "X", "合同金额（元）": "", "结束日期": "2026-09-30"},
    ]
    response = _upload(client, "admin:enterprises_servicecontract_import", sheet_bytes(rows))
    # Row 2 says only its amount, which matches; row 3 names a contract the portal does not have.
    assert [(error.row, error.column) for error in response.context["registry_errors"]] == [(3, "合同编号")]


def test_county_check_finds_only_its_own_contracts(client, counties, contracts):
    mine, elsewhere = contracts
    rows = [
        {"合同编号": mine.number, "项目名称": mine.title},
        {"合同编号": elsewhere.number, "项目名称": elsewhere.title},
    ]
    client.force_login(_county_user(counties[0]))
    response = _upload(client, "admin:enterprises_servicecontract_import", sheet_bytes(rows))
    assert response.status_code == 200
    # The other county's contract reads as unknown: the check does not reveal it exists.
    assert [(error.row, error.column) for error in response.context["registry_errors"]] == [(3, "合同编号")]


def test_user_without_contract_view_permission_cannot_check(client, contracts):
    client.force_login(UserFactory(role=Role.SYSADMIN))
    assert client.get(reverse("admin:enterprises_servicecontract_import")).status_code == 403
    content = sheet_bytes([{"合同编号": contracts[0].number}])
    assert _upload(client, "admin:enterprises_servicecontract_import", content).status_code == 403
    assert client.get(reverse("admin:enterprises_servicecontract_import_template")).status_code == 403
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.IMPORT).exists()


def test_contract_check_page_is_labelled_as_a_check(client, contracts):
    client.force_login(UserFactory(role=Role.OFFICER))
    page = client.get(reverse("admin:enterprises_servicecontract_changelist")).content.decode()
    assert reverse("admin:enterprises_servicecontract_import") in page
    assert "Check a list against the registry" in page or "核对" in page
    template = client.get(reverse("admin:enterprises_servicecontract_import_template"))
    header, _rows = read_xlsx(template.content, sheet="导入数据")
    # The template holds only the columns a county fills; the names and the status are export-only.
    assert "合同状态" not in header and "服务商名称" not in header
    assert header[:3] == ["合同编号", "项目名称", "服务商统一社会信用代码"]


# --- Survey results: export only ------------------------------------------------------------------------------


@pytest.fixture
def rating(counties):
    contract = ServiceContractFactory(
        enterprise=PilotEnterpriseFactory(county=counties[0]), status=ContractStatus.IN_PROGRESS
    )
    enterprise_user = UserFactory(role=Role.ENTERPRISE, organisation=contract.enterprise.organisation)
    items = list(SurveyItem.objects.filter(is_active=True))
    with travel(at(2026, 5, 1)):
        return services.survey_submit(
            contract=contract,
            stage="里程碑一",
            overall=SatisfactionRating.Overall.DISSATISFIED,
            scores={item.pk: 1 + index % 5 for index, item in enumerate(items)},
            comment=HOSTILE[3],
            by=enterprise_user,
        )


def test_survey_export_has_one_score_column_per_question(client, rating):
    client.force_login(UserFactory(role=Role.OFFICER))
    header, rows = _export(client, "admin:evaluations_satisfactionrating_export", SatisfactionRatingResource)
    items = list(SurveyItem.objects.filter(is_active=True).order_by("sort_order", "pk"))
    assert items, "the survey questions come from a data migration"
    overall = header.index("总体评价")
    assert header[overall + 1 : overall + 1 + len(items)] == [
        f"第{n}题 {item.text}（1–5 分）" for n, item in enumerate(items, 1)
    ]
    (row,) = rows
    scores = {answer.item_id: answer.score for answer in rating.answers.all()}
    # Scores stay numbers, so the bureau can average them in the spreadsheet.
    assert [row[f"第{n}题 {item.text}（1–5 分）"].value for n, item in enumerate(items, 1)] == [
        scores[item.pk] for item in items
    ]
    assert row["总体评价"].value == str(SatisfactionRating.Overall.DISSATISFIED.label)
    assert (row["评价意见"].value, row["评价意见"].data_type) == (HOSTILE[3], "s")
    assert row["合同编号"].value == rating.contract.number
    assert AuditEvent.objects.get(action=AuditEvent.Action.EXPORT).detail["model"] == "evaluations.SatisfactionRating"


def test_survey_export_stays_in_the_county(client, counties, rating):
    client.force_login(_county_user(counties[1]))
    _header, rows = _export(client, "admin:evaluations_satisfactionrating_export", SatisfactionRatingResource)
    assert rows == []


@pytest.mark.parametrize("role", [Role.OFFICER, Role.COUNTY, Role.AUDITOR])
def test_survey_results_cannot_be_imported_by_anyone(client, counties, role, rating):
    user = _county_user(counties[0]) if role == Role.COUNTY else UserFactory(role=role)
    client.force_login(user)
    changelist = client.get(reverse("admin:evaluations_satisfactionrating_changelist"))
    assert changelist.status_code == 200
    page = changelist.content.decode()
    assert reverse("admin:evaluations_satisfactionrating_export") in page
    assert reverse("admin:evaluations_satisfactionrating_import") not in page
    # The summary the admin shows above the list is still there (its own change list template stays the base).
    assert "satisfaction-summary" in page
    assert client.get(reverse("admin:evaluations_satisfactionrating_import")).status_code == 403
    content = sheet_bytes([{"合同编号": rating.contract.number, "总体评价": "满意"}])
    assert _upload(client, "admin:evaluations_satisfactionrating_import", content).status_code == 403
    assert client.post(reverse("admin:evaluations_satisfactionrating_process_import"), {}).status_code == 403
    assert SatisfactionRating.objects.count() == 1


def test_even_a_superuser_cannot_import_ratings(client, rating):
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    assert client.get(reverse("admin:evaluations_satisfactionrating_import")).status_code == 403


# --- Inspections: through the service ---------------------------------------------------------------------------


@pytest.fixture
def inspected(counties):
    provider = ProviderFactory()
    contract = ServiceContractFactory(provider=provider, enterprise=PilotEnterpriseFactory(county=counties[0]))
    return provider, contract


def test_inspections_import_through_the_service_with_the_importer_as_recorder(client, inspected):
    provider, contract = inspected
    officer = UserFactory(role=Role.OFFICER)
    client.force_login(officer)
    rows = [
        inspection_row(provider.uscc, contract=contract.number, issues_found="是", findings="进度滞后两周。"),
        inspection_row(provider.uscc.lower(), kind="实地走访"),  # the label or the code; the USCC in any case
    ]
    with travel(at(2026, 6, 1)):
        preview = _upload(client, "admin:evaluations_inspection_import", sheet_bytes(rows), name="检查.xlsx")
        assert preview.status_code == 200 and preview.context["registry_errors"] == []
        assert Inspection.objects.count() == 0  # the preview is a dry run
        response = client.post(
            reverse("admin:evaluations_inspection_process_import"), preview.context["confirm_form"].initial
        )
    assert response.status_code == 302
    first, second = Inspection.objects.order_by("pk")
    assert (first.provider, first.contract, first.issues_found, first.conducted_by) == (
        provider,
        contract,
        True,
        officer,
    )
    assert (second.kind, second.conducted_on, second.contract) == (Inspection.Kind.SITE_VISIT, date(2026, 5, 20), None)
    event = AuditEvent.objects.get(action=AuditEvent.Action.IMPORT)
    assert event.detail["model"] == "evaluations.Inspection" and event.detail["new"] == 2
    assert event.detail["file_name"] == "检查.xlsx"


def _run(rows, user):
    from tangshan_portal.imports import read_dataset, run_import

    return run_import(InspectionResource(), read_dataset(sheet_bytes(rows)), dry_run=False, user=user)


def test_service_rules_are_row_errors_and_nothing_is_recorded(inspected):
    provider, _contract = inspected
    other_contract = ServiceContractFactory()  # another provider's
    officer = UserFactory(role=Role.OFFICER)
    rows = [
        inspection_row(provider.uscc),
        inspection_row(provider.uscc, contract=other_contract.number),
        inspection_row(provider.uscc, conducted_on="2026-07-01"),
        inspection_row(provider.uscc, findings="  "),
        inspection_row("91130200MA00000000", kind="电话"),
    ]
    with travel(at(2026, 6, 1)):
        outcome = _run(rows, officer)
    assert Inspection.objects.count() == 0
    columns = {(error.row, error.column) for error in outcome.row_errors}
    assert (3, INSPECTION_HEADERS["contract"]) in columns  # not this provider's contract (the service says so)
    assert (4, INSPECTION_HEADERS["conducted_on"]) in columns  # in the future
    assert (5, INSPECTION_HEADERS["findings"]) in columns
    assert (6, INSPECTION_HEADERS["provider"]) in columns and (6, INSPECTION_HEADERS["kind"]) in columns
    assert not any(error.row == 2 for error in outcome.row_errors)


def test_the_same_file_twice_records_each_inspection_once(inspected):
    provider, contract = inspected
    officer = UserFactory(role=Role.OFFICER)
    rows = [inspection_row(provider.uscc, contract=contract.number)]
    with travel(at(2026, 6, 1)):
        assert _run(rows, officer).new == 1
        again = _run(rows, officer)
    assert (again.ok, again.new, again.skipped) == (True, 0, 1)
    assert Inspection.objects.count() == 1


@pytest.mark.parametrize("role", [Role.COUNTY, Role.AUDITOR, Role.APPROVER])
def test_user_without_record_inspection_cannot_import_inspections(client, role, inspected):
    client.force_login(UserFactory(role=role))
    page = client.get(reverse("admin:evaluations_inspection_changelist")).content.decode()
    assert reverse("admin:evaluations_inspection_import") not in page
    assert client.get(reverse("admin:evaluations_inspection_import")).status_code == 403
    content = sheet_bytes([inspection_row(inspected[0].uscc)])
    assert _upload(client, "admin:evaluations_inspection_import", content).status_code == 403
    assert client.post(reverse("admin:evaluations_inspection_process_import"), {}).status_code == 403
    assert Inspection.objects.count() == 0


def test_inspection_export_keeps_formulas_as_text(client, inspected):
    provider, _contract = inspected
    officer = UserFactory(role=Role.OFFICER)
    for findings in HOSTILE:
        services.inspection_record(
            kind=Inspection.Kind.PHONE, provider=provider, conducted_on=date(2026, 1, 5), findings=findings, by=officer
        )
    client.force_login(officer)
    header, rows = _export(client, "admin:evaluations_inspection_export", InspectionResource)
    assert header[:3] == ["服务商统一社会信用代码", "服务商名称", "检查方式"]
    cells = [row["检查发现"] for row in rows]
    assert sorted((cell.value, cell.data_type) for cell in cells) == sorted((value, "s") for value in HOSTILE)
    assert {row["记录人"].value for row in rows} == {officer.full_name}
