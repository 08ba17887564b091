"""Diagnosis (Art 5), dossier surveys (Art 6(2)), matchmaking (Art 4) and training (Art 7): the service rules."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django_fsm_log.models import StateLog

from enterprises import services_outreach as services
from enterprises.models import (
    ContractStatus,
    CooperationIntention,
    DiagnosisFinding,
    DiagnosisReport,
    DossierSurvey,
    EventAttendance,
    MatchmakingEvent,
    TrainingAttendance,
    TrainingSession,
)
from providers.models import ProviderStatus
from tangshan_portal.models import County, Notification
from tangshan_portal.roles import Role
from tangshan_portal.services import attachments_of
from tests.enforcement import at, travel
from tests.factories import PilotEnterpriseFactory, ProviderFactory, UserFactory
from tests.factories_outreach import (
    CooperationIntentionFactory,
    DiagnosisFindingFactory,
    DiagnosisReportFactory,
    EventAttendanceFactory,
    MatchmakingEventFactory,
    TrainingAttendanceFactory,
    TrainingSessionFactory,
    active_contract,
    county_staff,
    enterprise_staff,
    provider_staff,
    scenario,
)

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
TODAY = at(2026, 5, 1)


@pytest.fixture(autouse=True)
def frozen_today():
    with travel(TODAY):
        yield


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def enterprise(db):
    return PilotEnterpriseFactory(name="唐山精工机械有限公司")


@pytest.fixture
def staff(provider):
    return provider_staff(provider)


def _codes(exc, field=None):
    if field is None:
        return [error.code for error in exc.value.error_list]
    return [error.code for error in exc.value.error_dict[field]]


def _draft(by, enterprise, **kwargs):
    kwargs.setdefault("diagnosed_on", date(2026, 4, 28))
    kwargs.setdefault("summary", "设备联网率低，建议优先开展设备改造。")
    kwargs.setdefault("free_of_charge", True)
    return services.diagnosis_save(by=by, enterprise=enterprise, **kwargs)


def _finding(by, report, code="equipment-retrofit", **kwargs):
    kwargs.setdefault("current_state", "关键设备未联网。")
    kwargs.setdefault("recommendation", "加装数据采集终端。")
    kwargs.setdefault("priority", DiagnosisFinding.Priority.HIGH)
    return services.diagnosis_finding_save(by=by, report=report, scenario=scenario(code), **kwargs)


# --- Who may diagnose whom (Art 5) ------------------------------------------------------------------------------


def test_a_provider_with_a_contract_drafts_a_diagnosis_declared_free_of_charge(provider, staff, enterprise):
    active_contract(provider, enterprise, status=ContractStatus.DRAFT)
    report = _draft(staff, enterprise)
    report.refresh_from_db()
    assert report.status == DiagnosisReport.Status.DRAFT
    assert (report.provider, report.enterprise, report.created_by) == (provider, enterprise, staff)
    log = StateLog.objects.for_(report).get()
    # Written in the portal's language (Chinese), citing Article 5.
    assert log.transition == "create" and "第五条" in log.description


def test_a_confirmed_cooperation_intention_is_enough_to_diagnose(provider, staff, enterprise):
    CooperationIntentionFactory(provider=provider, enterprise=enterprise, status=CooperationIntention.Status.CONFIRMED)
    assert _draft(staff, enterprise).pk


@pytest.mark.parametrize("status", [CooperationIntention.Status.PROPOSED, CooperationIntention.Status.DECLINED])
def test_an_unconfirmed_intention_is_not_enough(provider, staff, enterprise, status):
    CooperationIntentionFactory(provider=provider, enterprise=enterprise, status=status)
    with pytest.raises(PermissionDenied):
        _draft(staff, enterprise)
    assert not DiagnosisReport.objects.exists()


def test_no_diagnosis_of_an_enterprise_without_contract_or_intention(provider, staff, enterprise):
    # Another provider's contract and another enterprise's intention do not count.
    active_contract(ProviderFactory(), enterprise)
    CooperationIntentionFactory(
        provider=provider, enterprise=PilotEnterpriseFactory(), status=CooperationIntention.Status.CONFIRMED
    )
    with pytest.raises(PermissionDenied):
        _draft(staff, enterprise)
    assert not DiagnosisReport.objects.exists()


@pytest.mark.parametrize("status", [ProviderStatus.APPLIED, ProviderStatus.REVOKED, ProviderStatus.WITHDRAWN])
def test_a_provider_outside_the_pool_does_not_diagnose(enterprise, status):
    provider = ProviderFactory(status=status)
    active_contract(provider, enterprise)
    with pytest.raises(ValidationError) as exc:
        _draft(provider_staff(provider), enterprise)
    assert _codes(exc) == ["not_in_pool"]


def test_only_provider_staff_write_diagnoses(enterprise, provider):
    active_contract(provider, enterprise)
    for user in (enterprise_staff(enterprise), UserFactory(role=Role.OFFICER)):
        with pytest.raises(PermissionDenied):
            _draft(user, enterprise)


def test_another_provider_cannot_touch_a_draft(provider, staff, enterprise):
    active_contract(provider, enterprise)
    report = _draft(staff, enterprise)
    finding = _finding(staff, report)
    other = ProviderFactory()
    active_contract(other, enterprise)
    intruder = provider_staff(other)
    with pytest.raises(PermissionDenied):
        services.diagnosis_save(
            by=intruder, report=report, diagnosed_on=date(2026, 4, 1), summary="改写", free_of_charge=True
        )
    with pytest.raises(PermissionDenied):
        _finding(intruder, report, code="line-retrofit")
    with pytest.raises(PermissionDenied):
        services.diagnosis_finding_delete(by=intruder, finding=finding)
    with pytest.raises(PermissionDenied):
        services.diagnosis_submit(by=intruder, report=report)
    report.refresh_from_db()
    assert report.summary != "改写" and report.status == DiagnosisReport.Status.DRAFT
    assert report.findings.count() == 1


def test_the_free_of_charge_declaration_is_required(provider, staff, enterprise):
    active_contract(provider, enterprise)
    with pytest.raises(ValidationError) as exc:
        _draft(staff, enterprise, free_of_charge=False)
    assert _codes(exc, "free_of_charge") == ["not_declared"]
    assert not DiagnosisReport.objects.exists()
    report = _draft(staff, enterprise)
    with pytest.raises(ValidationError) as exc:
        services.diagnosis_save(
            by=staff, report=report, diagnosed_on=report.diagnosed_on, summary="新的结论", free_of_charge=False
        )
    assert _codes(exc, "free_of_charge") == ["not_declared"]
    report.refresh_from_db()
    assert report.summary != "新的结论"


def test_a_diagnosis_is_not_dated_in_the_future(provider, staff, enterprise):
    active_contract(provider, enterprise)
    with pytest.raises(ValidationError) as exc:
        _draft(staff, enterprise, diagnosed_on=date(2026, 5, 2))
    assert _codes(exc, "diagnosed_on") == ["future"]


def test_one_finding_per_scenario(provider, staff, enterprise):
    active_contract(provider, enterprise)
    report = _draft(staff, enterprise)
    first = _finding(staff, report, "equipment-retrofit")
    second = _finding(staff, report, "quality-management", priority=DiagnosisFinding.Priority.LOW)
    with pytest.raises(ValidationError) as exc:
        _finding(staff, report, "equipment-retrofit", current_state="重复")
    assert _codes(exc, "scenario") == ["scenario_taken"]
    # Moving another finding onto a scenario that has one is refused too; editing in place is fine.
    with pytest.raises(ValidationError) as exc:
        _finding(staff, report, "equipment-retrofit", finding=second)
    assert _codes(exc, "scenario") == ["scenario_taken"]
    _finding(staff, report, "equipment-retrofit", finding=first, recommendation="先联网，再建设备管理系统。")
    assert sorted(report.findings.values_list("scenario__code", "recommendation")) == [
        ("equipment-retrofit", "先联网，再建设备管理系统。"),
        ("quality-management", "加装数据采集终端。"),
    ]


def test_a_finding_of_another_report_cannot_be_edited_through_this_one(provider, staff, enterprise):
    active_contract(provider, enterprise)
    report, other = _draft(staff, enterprise), _draft(staff, enterprise)
    foreign = _finding(staff, other)
    with pytest.raises(PermissionDenied):
        _finding(staff, report, "line-retrofit", finding=foreign)


def test_submitting_needs_a_finding(provider, staff, enterprise):
    active_contract(provider, enterprise)
    report = _draft(staff, enterprise)
    with pytest.raises(ValidationError) as exc:
        services.diagnosis_submit(by=staff, report=report)
    assert _codes(exc) == ["no_findings"]
    report.refresh_from_db()
    assert report.status == DiagnosisReport.Status.DRAFT and report.submitted_at is None
    assert not Notification.objects.filter(kind="diagnosis_submitted").exists()


def test_submitting_tells_the_enterprise_and_is_logged(provider, staff, enterprise):
    active_contract(provider, enterprise)
    report = _draft(staff, enterprise)
    _finding(staff, report)
    services.diagnosis_submit(by=staff, report=report)
    report.refresh_from_db()
    assert report.status == DiagnosisReport.Status.SUBMITTED and report.submitted_at == TODAY
    notice = Notification.objects.get(kind="diagnosis_submitted")
    assert notice.recipient_organisation == enterprise.organisation
    assert notice.link == reverse("enterprise:diagnosis_detail", args=[report.pk])
    assert provider.name in notice.subject
    log = StateLog.objects.for_(report).get(transition="submit")
    assert (log.source_state, log.state, log.by) == ("draft", "submitted", staff)


def test_a_submitted_report_is_never_edited(provider, staff, enterprise):
    active_contract(provider, enterprise)
    report = _draft(staff, enterprise)
    finding = _finding(staff, report)
    services.diagnosis_submit(by=staff, report=report)
    attempts = [
        lambda: services.diagnosis_save(
            by=staff, report=report, diagnosed_on=date(2026, 4, 1), summary="事后修改", free_of_charge=True
        ),
        lambda: _finding(staff, report, "line-retrofit"),
        lambda: _finding(staff, report, "equipment-retrofit", finding=finding, current_state="事后修改"),
        lambda: services.diagnosis_finding_delete(by=staff, finding=finding),
        lambda: services.diagnosis_attach(
            by=staff, report=report, files=[SimpleUploadedFile("a.pdf", PDF, "application/pdf")]
        ),
        lambda: services.diagnosis_submit(by=staff, report=report),
    ]
    for attempt in attempts:
        with pytest.raises(ValidationError) as exc:
            attempt()
        assert _codes(exc) == ["submitted"]
    report.refresh_from_db()
    finding.refresh_from_db()
    assert report.summary != "事后修改" and report.diagnosed_on == date(2026, 4, 28)
    assert finding.current_state != "事后修改" and report.findings.count() == 1
    assert not attachments_of(report).exists()


def test_a_provider_that_left_the_pool_cannot_submit_its_draft(provider, staff, enterprise):
    active_contract(provider, enterprise)
    report = _draft(staff, enterprise)
    _finding(staff, report)
    provider.status = ProviderStatus.REVOKED
    provider.save(update_fields=["status"])
    with pytest.raises(ValidationError) as exc:
        services.diagnosis_submit(by=staff, report=report)
    assert _codes(exc) == ["not_in_pool"]


def test_files_are_attached_to_a_draft(provider, staff, enterprise):
    active_contract(provider, enterprise)
    report = _draft(staff, enterprise)
    services.diagnosis_attach(
        by=staff, report=report, files=[SimpleUploadedFile("诊断报告.pdf", PDF, "application/pdf")]
    )
    assert list(attachments_of(report).values_list("original_name", "purpose")) == [("诊断报告.pdf", "diagnosis")]
    with pytest.raises(ValidationError) as exc:
        services.diagnosis_attach(by=staff, report=report, files=[])
    assert _codes(exc, "files") == ["required"]


# --- Dossier survey (Art 6(2)) -------------------------------------------------------------------------------------

SURVEY = {
    "surveyed_on": date(2026, 4, 20),
    "production_process": "下料—机加工—装配—检测。",
    "supply_chain": "主要供应商 12 家。",
    "intellectual_property": "实用新型专利 3 项。",
    "other_core_information": "",
}


def test_the_contract_provider_records_a_dossier_survey(provider, staff, enterprise):
    contract = active_contract(provider, enterprise)
    survey = services.dossier_survey_save(by=staff, contract=contract, data=SURVEY)
    survey.refresh_from_db()
    assert (survey.enterprise, survey.contract, survey.created_by) == (enterprise, contract, staff)
    assert survey.production_process == SURVEY["production_process"]
    notice = Notification.objects.get(kind="dossier_survey")
    assert notice.recipient_organisation == enterprise.organisation
    services.dossier_survey_save(by=staff, survey=survey, data={**SURVEY, "supply_chain": "主要供应商 15 家。"})
    survey.refresh_from_db()
    assert survey.supply_chain == "主要供应商 15 家。" and DossierSurvey.objects.count() == 1


def test_only_the_contract_provider_surveys(provider, staff, enterprise):
    contract = active_contract(ProviderFactory(), enterprise)
    with pytest.raises(PermissionDenied):
        services.dossier_survey_save(by=staff, contract=contract, data=SURVEY)
    with pytest.raises(PermissionDenied):
        services.dossier_survey_save(by=enterprise_staff(enterprise), contract=contract, data=SURVEY)
    assert not DossierSurvey.objects.exists()


@pytest.mark.parametrize("status", [ContractStatus.DRAFT, ContractStatus.TERMINATED, ContractStatus.FAILED])
def test_a_survey_belongs_to_a_contract_under_implementation(provider, staff, enterprise, status):
    contract = active_contract(provider, enterprise, status=status)
    with pytest.raises(ValidationError) as exc:
        services.dossier_survey_save(by=staff, contract=contract, data=SURVEY)
    assert _codes(exc) == ["contract_status"]
    assert not DossierSurvey.objects.exists()


# --- Matchmaking events (Art 4) --------------------------------------------------------------------------------


@pytest.fixture
def county():
    return County.objects.get(code="130203")


@pytest.fixture
def other_county():
    return County.objects.get(code="130207")


def _event(by, county, held_on=date(2026, 5, 20), **kwargs):
    return services.event_create(
        by=by, county=county, title="路北区供需对接会", held_on=held_on, venue="区政务中心", **kwargs
    )


def test_county_staff_announce_an_event_in_their_county_to_every_provider(county):
    staff = county_staff(county)
    event = _event(staff, county)
    assert (event.county, event.created_by) == (county, staff)
    notice = Notification.objects.get(kind="event_announced")
    assert notice.recipient_role == Role.PROVIDER and notice.link == reverse("provider:event_list")


def test_county_staff_hold_events_in_their_own_county_only(county, other_county, officer):
    staff = county_staff(county)
    with pytest.raises(PermissionDenied):
        _event(staff, other_county)
    foreign = _event(officer, other_county)  # the city's officers act for every county
    with pytest.raises(PermissionDenied):
        services.event_update(by=staff, event=foreign, data={"title": "改名"})
    own = _event(staff, county)
    with pytest.raises(PermissionDenied):
        services.event_update(by=staff, event=own, data={"county": other_county})
    assert MatchmakingEvent.objects.get(pk=own.pk).county == county
    assert MatchmakingEvent.objects.get(pk=foreign.pk).title == "路北区供需对接会"


@pytest.mark.parametrize("role", [Role.APPROVER, Role.AUDITOR, Role.PROVIDER, Role.ENTERPRISE])
def test_roles_without_the_event_permission_hold_no_events(county, role):
    with pytest.raises(PermissionDenied):
        _event(UserFactory(role=role), county)


def test_a_new_date_is_announced_to_those_registered(county, provider):
    staff = county_staff(county)
    event = _event(staff, county)
    enterprise = PilotEnterpriseFactory(county=county)
    services.attendance_register(by=provider_staff(provider), event=event)
    services.attendance_register(by=staff, event=event, enterprise=enterprise)
    services.event_update(by=staff, event=event, data={"held_on": date(2026, 5, 27)})
    told = set(Notification.objects.filter(kind="event_changed").values_list("recipient_organisation", flat=True))
    assert told == {provider.organisation_id, enterprise.organisation_id}


def test_a_provider_registers_itself_for_an_upcoming_event_once(county, provider, staff):
    event = MatchmakingEventFactory(county=county)
    attendance = services.attendance_register(by=staff, event=event)
    assert (attendance.provider, attendance.enterprise, attendance.attended) == (provider, None, False)
    assert attendance.registered_by == staff
    with pytest.raises(ValidationError) as exc:
        services.attendance_register(by=staff, event=event)
    assert _codes(exc, "provider") == ["already_registered"]


def test_registration_closes_when_the_event_has_taken_place(staff):
    event = MatchmakingEventFactory(held_on=date(2026, 4, 30))
    with pytest.raises(ValidationError) as exc:
        services.attendance_register(by=staff, event=event)
    assert _codes(exc) == ["event_past"]
    assert not EventAttendance.objects.exists()


def test_a_provider_registers_only_itself_and_only_from_the_pool(county, staff, enterprise):
    event = MatchmakingEventFactory(county=county)
    with pytest.raises(PermissionDenied):
        services.attendance_register(by=staff, event=event, provider=ProviderFactory())
    with pytest.raises(PermissionDenied):
        services.attendance_register(by=staff, event=event, enterprise=enterprise)
    outsider = ProviderFactory(status=ProviderStatus.APPLIED)
    with pytest.raises(ValidationError) as exc:
        services.attendance_register(by=provider_staff(outsider), event=event)
    assert _codes(exc) == ["not_in_pool"]
    assert not EventAttendance.objects.exists()


def test_county_staff_register_enterprises_of_their_county_for_their_events(county, other_county):
    staff = county_staff(county)
    event = MatchmakingEventFactory(county=county)
    local = PilotEnterpriseFactory(county=county)
    attendance = services.attendance_register(by=staff, event=event, enterprise=local)
    assert attendance.enterprise == local and attendance.registered_by == staff
    assert Notification.objects.filter(kind="event_registered", recipient_organisation=local.organisation).exists()
    with pytest.raises(PermissionDenied):
        services.attendance_register(by=staff, event=event, enterprise=PilotEnterpriseFactory(county=other_county))
    with pytest.raises(PermissionDenied):
        services.attendance_register(
            by=staff,
            event=MatchmakingEventFactory(county=other_county),
            enterprise=PilotEnterpriseFactory(county=county),
        )
    with pytest.raises(ValidationError):
        services.attendance_register(by=staff, event=event)  # neither a provider nor an enterprise
    assert EventAttendance.objects.count() == 1


def test_presence_is_recorded_once_the_event_took_place(county):
    staff = county_staff(county)
    upcoming = MatchmakingEventFactory(county=county, held_on=date(2026, 5, 20))
    row = EventAttendanceFactory(event=upcoming, enterprise=PilotEnterpriseFactory(county=county), attended=False)
    with pytest.raises(ValidationError) as exc:
        services.attendance_mark(by=staff, attendance=row, attended=True)
    assert _codes(exc, "attended") == ["not_held"]
    held = MatchmakingEventFactory(county=county, held_on=date(2026, 4, 20))
    row = EventAttendanceFactory(event=held, enterprise=PilotEnterpriseFactory(county=county), attended=False)
    services.attendance_mark(by=staff, attendance=row, attended=True)
    row.refresh_from_db()
    assert row.attended


def test_attendance_an_intention_rests_on_is_neither_undone_nor_removed(county, provider):
    staff = county_staff(county)
    event = MatchmakingEventFactory(county=county, held_on=date(2026, 4, 20))
    enterprise = PilotEnterpriseFactory(county=county)
    row = EventAttendanceFactory(event=event, enterprise=enterprise)
    EventAttendanceFactory(event=event, provider=provider)
    CooperationIntentionFactory(event=event, provider=provider, enterprise=enterprise)
    with pytest.raises(ValidationError) as exc:
        services.attendance_mark(by=staff, attendance=row, attended=False)
    assert _codes(exc) == ["intentions_exist"]
    with pytest.raises(ValidationError):
        services.attendance_remove(by=staff, attendance=row)
    row.refresh_from_db()
    assert row.attended


def test_county_staff_mark_attendance_of_their_county_only(county, other_county):
    row = EventAttendanceFactory(
        event=MatchmakingEventFactory(county=other_county, held_on=date(2026, 4, 20)),
        enterprise=PilotEnterpriseFactory(county=other_county),
        attended=False,
    )
    with pytest.raises(PermissionDenied):
        services.attendance_mark(by=county_staff(county), attendance=row, attended=True)
    with pytest.raises(PermissionDenied):
        services.attendance_remove(by=county_staff(county), attendance=row)


# --- Cooperation intentions (Art 4) ------------------------------------------------------------------------------


@pytest.fixture
def held_event(county):
    return MatchmakingEventFactory(county=county, held_on=date(2026, 4, 20))


def _propose(by, event, enterprise, note="双方同意先开展设备联网诊断。"):
    return services.intention_propose(
        by=by, event=event, enterprise=enterprise, scenarios=[scenario("equipment-retrofit")], note=note
    )


def test_an_intention_links_a_provider_and_an_enterprise_present_at_the_event(held_event, provider, staff, enterprise):
    EventAttendanceFactory(event=held_event, provider=provider)
    EventAttendanceFactory(event=held_event, enterprise=enterprise)
    intention = _propose(staff, held_event, enterprise)
    assert intention.status == CooperationIntention.Status.PROPOSED
    assert list(intention.scenarios.values_list("code", flat=True)) == ["equipment-retrofit"]
    notice = Notification.objects.get(kind="intention_proposed")
    assert notice.recipient_organisation == enterprise.organisation
    assert notice.link == reverse("enterprise:intention_list")


@pytest.mark.parametrize("registered", [True, False])
def test_a_provider_not_recorded_as_present_records_no_intention(held_event, provider, staff, enterprise, registered):
    if registered:
        EventAttendanceFactory(event=held_event, provider=provider, attended=False)
    EventAttendanceFactory(event=held_event, enterprise=enterprise)
    with pytest.raises(PermissionDenied):
        _propose(staff, held_event, enterprise)
    assert not CooperationIntention.objects.exists()


def test_the_enterprise_must_have_been_present_at_the_same_event(held_event, provider, staff, enterprise, county):
    EventAttendanceFactory(event=held_event, provider=provider)
    EventAttendanceFactory(event=held_event, enterprise=enterprise, attended=False)
    EventAttendanceFactory(
        event=MatchmakingEventFactory(county=county, held_on=date(2026, 4, 1)), enterprise=enterprise
    )
    with pytest.raises(ValidationError) as exc:
        _propose(staff, held_event, enterprise)
    assert _codes(exc, "enterprise") == ["enterprise_not_present"]
    assert not CooperationIntention.objects.exists()


def test_one_intention_per_event_and_pair_and_a_note_is_required(held_event, provider, staff, enterprise):
    EventAttendanceFactory(event=held_event, provider=provider)
    EventAttendanceFactory(event=held_event, enterprise=enterprise)
    with pytest.raises(ValidationError) as exc:
        _propose(staff, held_event, enterprise, note="   ")
    assert _codes(exc, "note") == ["required"]
    _propose(staff, held_event, enterprise)
    with pytest.raises(ValidationError) as exc:
        _propose(staff, held_event, enterprise)
    assert _codes(exc, "enterprise") == ["already_proposed"]
    assert CooperationIntention.objects.count() == 1


def test_the_enterprise_answers_once(enterprise, provider):
    intention = CooperationIntentionFactory(provider=provider, enterprise=enterprise)
    user = enterprise_staff(enterprise)
    services.intention_answer(by=user, intention=intention, confirm=True)
    intention.refresh_from_db()
    assert intention.status == CooperationIntention.Status.CONFIRMED
    assert (intention.answered_by, intention.answered_at) == (user, TODAY)
    notice = Notification.objects.get(kind="intention_answered")
    assert notice.recipient_organisation == provider.organisation
    with pytest.raises(ValidationError) as exc:
        services.intention_answer(by=user, intention=intention, confirm=False)
    assert _codes(exc) == ["already_answered"]
    intention.refresh_from_db()
    assert intention.status == CooperationIntention.Status.CONFIRMED


def test_declining(enterprise):
    intention = CooperationIntentionFactory(enterprise=enterprise)
    services.intention_answer(by=enterprise_staff(enterprise), intention=intention, confirm=False)
    intention.refresh_from_db()
    assert intention.status == CooperationIntention.Status.DECLINED


def test_only_the_named_enterprise_answers(enterprise, provider):
    intention = CooperationIntentionFactory(provider=provider, enterprise=enterprise)
    for user in (enterprise_staff(PilotEnterpriseFactory()), provider_staff(provider), UserFactory(role=Role.OFFICER)):
        with pytest.raises(PermissionDenied):
            services.intention_answer(by=user, intention=intention, confirm=True)
    intention.refresh_from_db()
    assert intention.status == CooperationIntention.Status.PROPOSED


# --- Training (Art 7) -----------------------------------------------------------------------------------------

TRAINING = {"title": "数据安全意识培训", "held_on": date(2026, 4, 25), "hours": Decimal("2.5"), "venue": "培训中心"}


def test_a_provider_in_the_pool_records_a_training_session(provider, staff, county):
    session = services.training_save(
        by=staff, data={**TRAINING, "county": county}, topics=["policy", "data_security", "policy"]
    )
    session.refresh_from_db()
    assert session.provider == provider and session.county == county
    assert session.topics == ["data_security", "policy"]  # known, once each, in the order of Art 7


@pytest.mark.parametrize(("topics", "code"), [([], "no_topic"), (["cooking"], "unknown_topic")])
def test_training_topics_are_validated(staff, topics, code):
    with pytest.raises(ValidationError) as exc:
        services.training_save(by=staff, data=TRAINING, topics=topics)
    assert _codes(exc, "topics") == [code]
    assert not TrainingSession.objects.exists()


def test_a_provider_outside_the_pool_records_no_training():
    outsider = ProviderFactory(status=ProviderStatus.REVOKED)
    with pytest.raises(ValidationError) as exc:
        services.training_save(by=provider_staff(outsider), data=TRAINING, topics=["policy"])
    assert _codes(exc) == ["not_in_pool"]


def test_another_providers_session_is_out_of_reach(staff, enterprise):
    session = TrainingSessionFactory()
    with pytest.raises(PermissionDenied):
        services.training_save(by=staff, session=session, data=TRAINING, topics=["policy"])
    with pytest.raises(PermissionDenied):
        services.training_attendance_save(by=staff, session=session, enterprise=enterprise, attendees=2)
    with pytest.raises(PermissionDenied):
        services.training_materials_attach(
            by=staff, session=session, files=[SimpleUploadedFile("a.pdf", PDF, "application/pdf")]
        )


def test_attendance_of_a_session(provider, staff, enterprise):
    session = TrainingSessionFactory(provider=provider, held_on=date(2026, 4, 15))
    row = services.training_attendance_save(
        by=staff, session=session, enterprise=enterprise, attendees=2, names="王芳、李强"
    )
    assert (row.attendees, row.names) == (2, "王芳、李强")
    services.training_attendance_save(by=staff, session=session, enterprise=enterprise, attendees=3, attendance=row)
    row.refresh_from_db()
    assert row.attendees == 3
    with pytest.raises(ValidationError) as exc:
        services.training_attendance_save(by=staff, session=session, enterprise=enterprise, attendees=1)
    assert _codes(exc, "enterprise") == ["already_recorded"]
    services.training_attendance_delete(by=staff, attendance=row)
    assert not TrainingAttendance.objects.exists()


@pytest.mark.parametrize(
    ("attendees", "names", "field", "code"),
    [
        (0, "", "attendees", "min_attendees"),
        (-1, "", "attendees", "min_attendees"),
        (1, "王芳\n李强", "names", "too_many_names"),
    ],
)
def test_attendees_are_at_least_one_and_names_fit(provider, staff, enterprise, attendees, names, field, code):
    session = TrainingSessionFactory(provider=provider)
    with pytest.raises(ValidationError) as exc:
        services.training_attendance_save(
            by=staff, session=session, enterprise=enterprise, attendees=attendees, names=names
        )
    assert _codes(exc, field) == [code]
    assert not TrainingAttendance.objects.exists()


def test_attendance_is_recorded_once_the_session_took_place(provider, staff, enterprise):
    session = TrainingSessionFactory(provider=provider, held_on=date(2026, 5, 10))
    with pytest.raises(ValidationError) as exc:
        services.training_attendance_save(by=staff, session=session, enterprise=enterprise, attendees=2)
    assert _codes(exc) == ["not_held"]


def test_training_materials(provider, staff):
    session = TrainingSessionFactory(provider=provider)
    services.training_materials_attach(
        by=staff, session=session, files=[SimpleUploadedFile("课件.pdf", PDF, "application/pdf")]
    )
    assert list(attachments_of(session).values_list("original_name", "purpose")) == [("课件.pdf", "training")]


def test_factories_build_consistent_rows():
    # Guards the page tests' fixtures: a finding's report and an attendance's session are the ones built.
    finding = DiagnosisFindingFactory()
    assert finding.report.created_by.organisation == finding.report.provider.organisation
    row = TrainingAttendanceFactory()
    assert row.session.topics and row.attendees >= 1
    assert DiagnosisReportFactory().status == DiagnosisReport.Status.DRAFT
