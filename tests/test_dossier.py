"""The one-enterprise-one-dossier page (Art 6(2)): who may see it, how much, what it shows, that it stays a
fixed number of queries, and that every view by someone other than the enterprise is audited (Art 10(1))."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser
from django.urls import reverse
from django.utils import timezone

from complaints.models import ComplaintStatus
from dossiers.selectors import (
    DOSSIER_CONTRACTS,
    DOSSIER_FULL,
    dossier_access,
    dossier_contracts,
    dossier_scope_q,
)
from enterprises.models import ContractStatus, DiagnosisReport, FeeConsequence, ProgressReport
from evaluations.models import LevelAssessment
from tangshan_portal.models import AuditEvent, Organisation, ScenarioFamily
from tangshan_portal.roles import Role
from tests.factories import (
    CountyFactory,
    OrganisationFactory,
    PilotEnterpriseFactory,
    ProviderFactory,
    ServiceContractFactory,
    UserFactory,
)
from tests.factories_dossier import (
    AssessorAssignmentFactory,
    ChangeRequestFactory,
    ComplaintFactory,
    CooperationIntentionFactory,
    DiagnosisFindingFactory,
    DiagnosisReportFactory,
    DossierSurveyFactory,
    FeeConsequenceFactory,
    InstitutionFactory,
    InternalAcceptanceFactory,
    LevelAssessmentFactory,
    MilestoneFactory,
    ProgressReportFactory,
    SignedContractFactory,
    TrainingAttendanceFactory,
    TrainingSessionFactory,
    _scenario,
)

pytestmark = pytest.mark.django_db

AUDIT = "dossier_view"
PHONE = "0315-2345678"
SECRET_A = "冲压线节拍数据与三家钢材供应商价格"
SECRET_B = "焊接工艺参数与专利申请草稿"


def _url(enterprise):
    return reverse("dossier:detail", args=[enterprise.pk])


@pytest.fixture
def county_a(db):
    return CountyFactory(code="130203")


@pytest.fixture
def county_b(db):
    return CountyFactory(code="130281")


@pytest.fixture
def enterprise(county_a):
    return PilotEnterpriseFactory(
        name="唐山精工机械有限公司", county=county_a, contact_name="王经理", contact_phone=PHONE, baseline_level=1
    )


@pytest.fixture
def provider_a(db):
    return ProviderFactory(name="甲数字科技有限公司")


@pytest.fixture
def provider_b(db):
    return ProviderFactory(name="乙智能制造有限公司")


@pytest.fixture
def contract_a(enterprise, provider_a):
    return SignedContractFactory(enterprise=enterprise, provider=provider_a, number="TS-A-0001", title="甲项目")


@pytest.fixture
def contract_b(enterprise, provider_b):
    return SignedContractFactory(
        enterprise=enterprise,
        provider=provider_b,
        number="TS-B-0001",
        title="乙项目",
        status=ContractStatus.INTERNALLY_ACCEPTED,
    )


@pytest.fixture
def world(enterprise, contract_a, contract_b, provider_a, provider_b):
    """An enterprise with two providers' work on file, so that each provider's view can be checked against
    the other's."""
    DiagnosisFindingFactory(
        report=DiagnosisReportFactory(enterprise=enterprise, provider=provider_a, summary="甲的诊断结论"),
        scenario=_scenario(ScenarioFamily.PRODUCTION),
    )
    DiagnosisFindingFactory(
        report=DiagnosisReportFactory(enterprise=enterprise, provider=provider_b, summary="乙的诊断结论"),
        scenario=_scenario(ScenarioFamily.SUPPLY_CHAIN),
    )
    DiagnosisReportFactory(
        enterprise=enterprise,
        provider=provider_a,
        summary="甲尚未提交的诊断草稿",
        status=DiagnosisReport.Status.DRAFT,
        submitted_at=None,
    )
    DossierSurveyFactory(contract=contract_a, production_process=SECRET_A)
    DossierSurveyFactory(contract=contract_b, production_process=SECRET_B)
    LevelAssessmentFactory(enterprise=enterprise, kind=LevelAssessment.Kind.BASELINE, level=1, total_score=38)
    LevelAssessmentFactory(
        enterprise=enterprise,
        contract=contract_b,
        kind=LevelAssessment.Kind.ACCEPTANCE,
        level=2,
        total_score=Decimal("61.5"),
        assessed_on=date(2026, 9, 25),
    )
    LevelAssessmentFactory(
        enterprise=enterprise,
        kind=LevelAssessment.Kind.BASELINE,
        level=3,
        assessed_on=date(2026, 5, 1),
        status=LevelAssessment.Status.DRAFT,
        finalised_at=None,
    )
    CooperationIntentionFactory(enterprise=enterprise, provider=provider_a, note="甲的合作意向")
    CooperationIntentionFactory(enterprise=enterprise, provider=provider_b, note="乙的合作意向")
    TrainingAttendanceFactory(
        enterprise=enterprise, session=TrainingSessionFactory(provider=provider_a, title="甲的培训")
    )
    TrainingAttendanceFactory(
        enterprise=enterprise, session=TrainingSessionFactory(provider=provider_b, title="乙的培训")
    )
    ComplaintFactory(contract=contract_b)
    ComplaintFactory(contract=contract_b, status=ComplaintStatus.UNSUBSTANTIATED)
    return enterprise


def _county_user(county):
    return UserFactory(role=Role.COUNTY, organisation=OrganisationFactory(county_bureau=True, county=county))


def _assessor(enterprise, *, assigned=True, ended=False):
    institution = InstitutionFactory()
    if assigned:
        AssessorAssignmentFactory(
            institution=institution, enterprise=enterprise, ended_at=timezone.now() if ended else None
        )
    return UserFactory(role=Role.ASSESSOR, organisation=institution)


# Each role, how much of the dossier it gets: "full", "contracts" or None (404).
ROLE_CASES = {
    "enterprise_own": DOSSIER_FULL,
    "enterprise_other": None,
    "provider_with_contract": DOSSIER_CONTRACTS,
    "provider_without_contract": None,
    "provider_with_draft_only": None,
    "provider_with_terminated_only": None,
    "provider_inactive_organisation": None,
    "county_own": DOSSIER_FULL,
    "county_other": None,
    "officer": DOSSIER_FULL,
    "approver": DOSSIER_FULL,
    "auditor": DOSSIER_FULL,
    "assessor_assigned": DOSSIER_FULL,
    "assessor_unassigned": None,
    "assessor_assignment_ended": None,
    "sysadmin": None,
    "superuser": DOSSIER_FULL,
    "bureau_without_role": None,
}


def _user_for(case, enterprise, county_a, county_b, provider_a):
    if case == "enterprise_own":
        return UserFactory(role=Role.ENTERPRISE, organisation=enterprise.organisation)
    if case == "enterprise_other":
        other = PilotEnterpriseFactory(county=county_a)
        return UserFactory(role=Role.ENTERPRISE, organisation=other.organisation)
    if case == "provider_with_contract":
        return UserFactory(role=Role.PROVIDER, organisation=provider_a.organisation)
    if case in ("provider_without_contract", "provider_with_draft_only", "provider_with_terminated_only"):
        provider = ProviderFactory()
        if case == "provider_with_draft_only":
            # Submitted for signing, but the enterprise has not signed: no access yet.
            ServiceContractFactory(enterprise=enterprise, provider=provider, submitted_at=timezone.now())
        if case == "provider_with_terminated_only":
            SignedContractFactory(enterprise=enterprise, provider=provider, status=ContractStatus.TERMINATED)
        return UserFactory(role=Role.PROVIDER, organisation=provider.organisation)
    if case == "provider_inactive_organisation":
        Organisation.objects.filter(pk=provider_a.organisation_id).update(is_active=False)
        return UserFactory(role=Role.PROVIDER, organisation=Organisation.objects.get(pk=provider_a.organisation_id))
    if case == "county_own":
        return _county_user(county_a)
    if case == "county_other":
        return _county_user(county_b)
    if case in ("officer", "approver", "auditor", "sysadmin"):
        return UserFactory(role=Role(case))
    if case == "assessor_assigned":
        return _assessor(enterprise)
    if case == "assessor_unassigned":
        return _assessor(enterprise, assigned=False)
    if case == "assessor_assignment_ended":
        return _assessor(enterprise, ended=True)
    if case == "superuser":
        return UserFactory(is_superuser=True, is_staff=True)
    if case == "bureau_without_role":
        return UserFactory()
    raise AssertionError(case)


# --- Who may see it ---------------------------------------------------------------------------------------


def test_anonymous_is_sent_to_login(client, world):
    response = client.get(_url(world))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    response = client.get(reverse("enterprise:dossier"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert not AuditEvent.objects.filter(action=AUDIT).exists()


@pytest.mark.parametrize("case", ROLE_CASES)
def test_dossier_visibility_for_every_role(client, world, county_a, county_b, provider_a, case):
    user = _user_for(case, world, county_a, county_b, provider_a)
    expected = ROLE_CASES[case]
    assert dossier_access(user, world) == expected
    client.force_login(user)
    response = client.get(_url(world))
    events = AuditEvent.objects.filter(action=AUDIT)
    if expected is None:
        if case == "provider_inactive_organisation":
            # Not even logged in: the backend refuses a deactivated organisation's users (authentication.py).
            assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
        else:
            assert response.status_code == 404
        assert SECRET_A.encode() not in response.content
        assert not events.exists()
        return
    assert response.status_code == 200
    assert response.context["dossier"].access == expected
    assert SECRET_A in response.content.decode()
    # The dossier holds trade secrets: never kept in a cache on the way.
    assert "no-store" in response["Cache-Control"]
    if case == "enterprise_own":
        assert not events.exists()
    else:
        event = events.get()
        assert event.actor == user
        assert event.object_type == "enterprises.PilotEnterprise"
        assert event.object_id == str(world.pk)
        assert event.detail == {"access": expected}
        assert event.path == _url(world)


def test_unknown_enterprise_is_404_even_for_the_bureau(client, officer):
    client.force_login(officer)
    assert client.get(reverse("dossier:detail", args=[999999])).status_code == 404


def test_only_get(client, world, officer):
    client.force_login(officer)
    assert client.post(_url(world)).status_code == 405


def test_anonymous_and_unknown_access_get_nothing_from_the_selectors(world, provider_a):
    assert dossier_access(AnonymousUser(), world) is None
    user = UserFactory(role=Role.PROVIDER, organisation=provider_a.organisation)
    # An unknown access level must not widen into "everything".
    assert not dossier_contracts(user, world, None).exists()
    assert not dossier_contracts(user, world, "everything").exists()
    assert dossier_scope_q(user, DOSSIER_FULL) == dossier_scope_q(user, DOSSIER_FULL)
    orphan = UserFactory(role=Role.PROVIDER, organisation=None)
    assert not dossier_contracts(orphan, world, DOSSIER_CONTRACTS).exists()


def test_inactive_enterprise_organisation_loses_its_dossier(client, world):
    user = UserFactory(role=Role.ENTERPRISE, organisation=world.organisation)
    Organisation.objects.filter(pk=world.organisation_id).update(is_active=False)
    user.refresh_from_db()
    assert dossier_access(user, world) is None
    client.force_login(user)
    # Not even logged in: the backend refuses a deactivated organisation's users (authentication.py).
    response = client.get(_url(world))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


# --- The enterprise's own page ------------------------------------------------------------------------------


def test_enterprise_sees_its_own_dossier_without_an_audit_entry(client, world):
    user = UserFactory(role=Role.ENTERPRISE, organisation=world.organisation)
    client.force_login(user)
    response = client.get(reverse("enterprise:dossier"))
    assert response.status_code == 200
    assert response.context["dossier"].enterprise == world
    assert response.context["dossier"].access == DOSSIER_FULL
    body = response.content.decode()
    assert SECRET_A in body and SECRET_B in body and PHONE in body
    # The enterprise's navigation, with the dossier marked as the current page.
    assert f'href="{reverse("enterprise:dossier")}" aria-current="page"' in body
    assert not AuditEvent.objects.filter(action=AUDIT).exists()


@pytest.mark.parametrize("role", [Role.PROVIDER, Role.OFFICER, Role.COUNTY])
def test_own_dossier_page_is_for_enterprise_staff_only(client, world, provider_a, county_a, role):
    if role == Role.PROVIDER:
        user = UserFactory(role=role, organisation=provider_a.organisation)
    elif role == Role.COUNTY:
        user = _county_user(county_a)
    else:
        user = UserFactory(role=role)
    client.force_login(user)
    assert client.get(reverse("enterprise:dossier")).status_code == 403
    assert not AuditEvent.objects.filter(action=AUDIT).exists()


def test_other_enterprise_does_not_see_this_one_through_its_own_page(client, world):
    other = PilotEnterpriseFactory()
    client.force_login(UserFactory(role=Role.ENTERPRISE, organisation=other.organisation))
    response = client.get(reverse("enterprise:dossier"))
    assert response.status_code == 200
    assert response.context["dossier"].enterprise == other
    assert SECRET_A not in response.content.decode()


# --- What each sees ---------------------------------------------------------------------------------------


def test_full_access_sees_every_section(client, world, officer, contract_a, contract_b):
    client.force_login(officer)
    response = client.get(_url(world))
    dossier = response.context["dossier"]
    body = response.content.decode()
    # Profile, including the contact phone.
    for text in ("唐山精工机械有限公司", world.uscc, world.county.name, "制造业", "装备制造", "王经理", PHONE):
        assert text in body
    assert {c.number for c in dossier.contracts} == {"TS-A-0001", "TS-B-0001"}
    assert {d.summary for d in dossier.diagnoses} == {"甲的诊断结论", "乙的诊断结论"}
    assert "甲尚未提交的诊断草稿" not in body
    assert SECRET_A in body and SECRET_B in body
    assert {i.note for i in dossier.intentions} == {"甲的合作意向", "乙的合作意向"}
    assert {t.session.title for t in dossier.trainings} == {"甲的培训", "乙的培训"}
    assert dossier.complaints == {"total": 2, "open": 1}
    assert 'id="complaints-title"' in body
    # Only final assessments are history.
    assert [(a.kind, a.level) for a in dossier.level_history] == [("acceptance", 2), ("baseline", 1)]


def test_provider_sees_only_its_own_part(client, world, provider_a):
    client.force_login(UserFactory(role=Role.PROVIDER, organisation=provider_a.organisation))
    response = client.get(_url(world))
    assert response.status_code == 200
    dossier = response.context["dossier"]
    body = response.content.decode()
    assert [c.number for c in dossier.contracts] == ["TS-A-0001"]
    assert "TS-B-0001" not in body and "乙项目" not in body
    assert [d.summary for d in dossier.diagnoses] == ["甲的诊断结论"]
    assert "乙的诊断结论" not in body
    assert SECRET_A in body
    assert SECRET_B not in body
    assert "乙的合作意向" not in body and "甲的合作意向" in body
    assert "乙的培训" not in body and "甲的培训" in body
    # Profile without the phone; no complaints; the other provider's acceptance result is not shown.
    assert "王经理" in body
    assert PHONE not in body
    assert dossier.complaints is None
    assert 'id="complaints-title"' not in body
    assert [a.kind for a in dossier.level_history] == ["baseline"]
    assert dossier.latest_acceptance is None
    # The provider's navigation.
    assert reverse("provider:home") in body


def test_assessor_sees_everything_but_complaints(client, world):
    client.force_login(_assessor(world))
    response = client.get(_url(world))
    dossier = response.context["dossier"]
    assert dossier.full
    assert PHONE in response.content.decode()
    assert len(dossier.contracts) == 2
    # Assessors hold no complaint permission: not even the count.
    assert dossier.complaints is None


def test_county_sees_the_complaint_count(client, world, county_a):
    client.force_login(_county_user(county_a))
    assert client.get(_url(world)).context["dossier"].complaints == {"total": 2, "open": 1}


def test_unsent_draft_contract_is_not_in_the_dossier(client, world, officer, provider_a):
    ServiceContractFactory(enterprise=world, provider=provider_a, number="TS-DRAFT-1")
    ServiceContractFactory(enterprise=world, provider=provider_a, number="TS-SENT-1", submitted_at=timezone.now())
    client.force_login(officer)
    numbers = {c.number for c in client.get(_url(world)).context["dossier"].contracts}
    assert "TS-DRAFT-1" not in numbers
    assert "TS-SENT-1" in numbers


def test_level_summary_baseline_latest_acceptance_and_target(client, world, officer, settings):
    client.force_login(officer)
    dossier = client.get(_url(world)).context["dossier"]
    assert dossier.baseline_level == 1
    assert dossier.baseline_assessment.total_score == 38
    assert dossier.latest_acceptance.level == 2
    assert dossier.target_level == settings.ACCEPTANCE_MIN_LEVEL == 2
    assert dossier.target_reached
    settings.ACCEPTANCE_MIN_LEVEL = 3
    dossier = client.get(_url(world)).context["dossier"]
    assert dossier.target_level == 3
    assert not dossier.target_reached


def test_baseline_falls_back_to_the_enrolment_level(client, officer, county_a):
    enterprise = PilotEnterpriseFactory(county=county_a, baseline_level=2)
    client.force_login(officer)
    response = client.get(_url(enterprise))
    dossier = response.context["dossier"]
    assert dossier.baseline_assessment is None
    assert dossier.baseline_level == 2
    assert dossier.latest_acceptance is None
    assert not dossier.target_reached


def test_level_history_row_shows_date_kind_institution_score_and_level(client, world, officer):
    client.force_login(officer)
    response = client.get(_url(world))
    acceptance = response.context["dossier"].latest_acceptance
    body = response.content.decode()
    assert "2026-09-25" in body
    assert acceptance.institution.name in body
    assert "61.5" in body
    assert acceptance.get_kind_display() in body


def test_contract_details(client, world, officer, contract_a, contract_b):
    first = MilestoneFactory(contract=contract_a, name="设备联网", weight=60, reported_progress=50)
    MilestoneFactory(contract=contract_a, name="系统上线", weight=40, reported_progress=100)
    ProgressReportFactory(
        milestone=first,
        progress=50,
        status=ProgressReport.Status.ACKNOWLEDGED,
        submitted_at=timezone.now() - timedelta(days=10),
        responded_at=timezone.now() - timedelta(days=9),
    )
    ProgressReportFactory(
        milestone=first,
        progress=80,
        status=ProgressReport.Status.SUBMITTED,
        submitted_at=timezone.now() - timedelta(days=1),
    )
    ChangeRequestFactory(contract=contract_a, description="增加一台数据采集网关")
    InternalAcceptanceFactory(contract=contract_b)
    assessment = LevelAssessment.objects.get(contract=contract_b)
    LevelAssessment.objects.filter(pk=assessment.pk).update(acceptance_passed=False)
    FeeConsequenceFactory(contract=contract_b, advance_recoverable=Decimal("30000.00"))

    client.force_login(officer)
    response = client.get(_url(world))
    contracts = {c.number: c for c in response.context["dossier"].contracts}
    a, b = contracts["TS-A-0001"], contracts["TS-B-0001"]
    # 60% × 50 + 40% × 100 = 70: the milestone progress the enterprise acknowledged, weighted.
    assert a.acknowledged_progress == 70
    assert [m.name for m in a.milestone_list] == ["设备联网", "系统上线"]
    assert a.report_count == 2
    assert a.reports_awaiting == 1
    assert a.last_report_progress == 80
    assert a.last_report_status == ProgressReport.Status.SUBMITTED
    assert [c.description for c in a.change_request_list] == ["增加一台数据采集网关"]
    assert a.internal_acceptance is None and a.evaluation is None and a.fee_consequence_list == []
    assert b.acknowledged_progress is None and b.report_count == 0 and b.last_report_at is None
    assert b.internal_acceptance.status == "signed"
    assert b.evaluation.level == 2 and b.evaluation.acceptance_passed is False
    assert [f.cause for f in b.fee_consequence_list] == [FeeConsequence.Cause.FAILED_ACCEPTANCE]
    body = response.content.decode()
    assert "增加一台数据采集网关" in body
    assert "30,000.00" in body or "30000.00" in body
    assert "70%" in body


def test_diagnosis_findings_grouped_by_scenario_family(client, officer, enterprise, provider_a, contract_a):
    report = DiagnosisReportFactory(enterprise=enterprise, provider=provider_a)
    DiagnosisFindingFactory(report=report, scenario=_scenario(ScenarioFamily.MANAGEMENT), current_state="管理现状")
    DiagnosisFindingFactory(report=report, scenario=_scenario(ScenarioFamily.PRODUCTION), current_state="生产现状")
    client.force_login(officer)
    (shown,) = client.get(_url(enterprise)).context["dossier"].diagnoses
    labels = dict(ScenarioFamily.choices)
    assert [(family, [f.current_state for f in findings]) for family, findings in shown.families] == [
        (labels[ScenarioFamily.PRODUCTION], ["生产现状"]),
        (labels[ScenarioFamily.MANAGEMENT], ["管理现状"]),
    ]


def test_survey_is_shown_with_the_article_10_notice(client, world, officer):
    client.force_login(officer)
    body = client.get(_url(world)).content.decode()
    assert "存储加密并设访问权限" in body
    assert "形成“一企一档”" in body
    assert "达到二级及以上标准" in body


# --- Queries -----------------------------------------------------------------------------------------------


def _busy_enterprise(n, county):
    enterprise = PilotEnterpriseFactory(county=county)
    institution = InstitutionFactory()
    LevelAssessmentFactory(enterprise=enterprise, institution=institution)
    for _ in range(n):
        provider = ProviderFactory()
        contract = SignedContractFactory(enterprise=enterprise, provider=provider, status=ContractStatus.FAILED)
        milestone = MilestoneFactory(contract=contract, weight=100, reported_progress=40)
        ProgressReportFactory(milestone=milestone)
        ProgressReportFactory(milestone=milestone, progress=60)
        ChangeRequestFactory(contract=contract)
        InternalAcceptanceFactory(contract=contract)
        FeeConsequenceFactory(contract=contract)
        LevelAssessmentFactory(
            enterprise=enterprise,
            contract=contract,
            institution=institution,
            kind=LevelAssessment.Kind.ACCEPTANCE,
            acceptance_passed=False,
        )
        DiagnosisFindingFactory(report=DiagnosisReportFactory(enterprise=enterprise, provider=provider))
        DossierSurveyFactory(contract=contract)
        CooperationIntentionFactory(enterprise=enterprise, provider=provider, scenarios=[_scenario()])
        TrainingAttendanceFactory(enterprise=enterprise, session=TrainingSessionFactory(provider=provider))
        ComplaintFactory(contract=contract)
    return enterprise


def test_query_count_does_not_grow_with_contracts(client, officer, county_a, django_assert_max_num_queries):
    one = _busy_enterprise(1, county_a)
    ten = _busy_enterprise(10, county_a)
    client.force_login(officer)
    with django_assert_max_num_queries(30) as few:
        response = client.get(_url(one))
    assert response.status_code == 200
    assert len(response.context["dossier"].contracts) == 1
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(_url(ten))
    assert response.status_code == 200
    assert len(response.context["dossier"].contracts) == 10
    assert len(response.context["dossier"].diagnoses) == 10


def test_query_count_for_a_provider_does_not_grow_either(client, county_a, django_assert_max_num_queries):
    one = _busy_enterprise(1, county_a)
    ten = _busy_enterprise(10, county_a)
    # One provider with a contract at both enterprises.
    provider = ProviderFactory()
    for enterprise in (one, ten):
        contract = SignedContractFactory(enterprise=enterprise, provider=provider)
        MilestoneFactory(contract=contract)
    client.force_login(UserFactory(role=Role.PROVIDER, organisation=provider.organisation))
    with django_assert_max_num_queries(30) as few:
        assert client.get(_url(one)).status_code == 200
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(_url(ten))
    assert len(response.context["dossier"].contracts) == 1


def test_links_lead_each_viewer_to_its_own_pages(client, world, officer, provider_a, contract_a):
    report = DiagnosisReportFactory(enterprise=world, provider=provider_a, summary="带链接的诊断")
    cases = [
        (
            UserFactory(role=Role.ENTERPRISE, organisation=world.organisation),
            "enterprise:contract_detail",
            "enterprise:diagnosis_detail",
        ),
        (
            UserFactory(role=Role.PROVIDER, organisation=provider_a.organisation),
            "provider:contract_detail",
            "provider:diagnosis_detail",
        ),
        (officer, "admin:enterprises_servicecontract_change", "admin:enterprises_diagnosisreport_change"),
    ]
    for user, contract_view, diagnosis_view in cases:
        client.force_login(user)
        body = client.get(_url(world)).content.decode()
        assert f'href="{reverse(contract_view, args=[contract_a.pk])}"' in body, user
        assert f'href="{reverse(diagnosis_view, args=[report.pk])}"' in body, user
    # The officer also gets back to the enterprise in the administration.
    assert reverse("admin:enterprises_pilotenterprise_change", args=[world.pk]) in body


def test_art_14_consequence_cites_the_article(client, world, officer, contract_b):
    FeeConsequenceFactory(contract=contract_b, advance_recoverable=Decimal("12345.00"))
    client.force_login(officer)
    body = client.get(_url(world)).content.decode()
    assert "不予支付服务费用，试点企业有权追回该项目预付款项" in body
    assert "12,345.00" in body or "12345.00" in body


def test_empty_dossier_renders(client, officer, county_a):
    enterprise = PilotEnterpriseFactory(county=county_a, baseline_level=None, contact_phone="")
    client.force_login(officer)
    response = client.get(_url(enterprise))
    assert response.status_code == 200
    dossier = response.context["dossier"]
    assert dossier.contracts == [] and dossier.level_history == [] and dossier.diagnoses == []
    assert dossier.surveys == [] and dossier.intentions == [] and dossier.trainings == []
    assert dossier.baseline_level is None
    assert dossier.complaints == {"total": 0, "open": 0}
    assert response.content.decode().count('class="empty"') == 6
