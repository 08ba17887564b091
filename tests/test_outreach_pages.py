"""The pages for diagnosis (Art 5), dossier surveys (Art 6(2)), matchmaking (Art 4) and training (Art 7): who may
open them, what they show, and the admin's county scope for events."""

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django_fsm_log.models import StateLog

from enterprises.models import (
    ContractStatus,
    CooperationIntention,
    DiagnosisReport,
    DossierSurvey,
    EventAttendance,
    MatchmakingEvent,
    TrainingAttendance,
    TrainingSession,
)
from tangshan_portal.models import AuditEvent, County, Notification
from tangshan_portal.roles import Role
from tangshan_portal.services import attachment_store
from tests.enforcement import at, travel
from tests.factories import PilotEnterpriseFactory, ProviderFactory, UserFactory
from tests.factories_outreach import (
    CooperationIntentionFactory,
    DiagnosisFindingFactory,
    DiagnosisReportFactory,
    DossierSurveyFactory,
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
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
TODAY = at(2026, 5, 1)
ART5_WORDING = "为试点企业开展<strong>公益性</strong>数字化转型咨询诊断服务"


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
def enterprise_user(enterprise):
    return enterprise_staff(enterprise)


@pytest.fixture
def staff(provider):
    return provider_staff(provider)


@pytest.fixture
def provider_client(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def enterprise_client(client, enterprise_user):
    client.force_login(enterprise_user)
    return client


@pytest.fixture
def world(provider, enterprise):
    """One record of each kind belonging to `provider` and `enterprise`, with an attachment where one exists."""
    contract = active_contract(provider, enterprise)
    report = DiagnosisReportFactory(provider=provider, enterprise=enterprise, status=DiagnosisReport.Status.SUBMITTED)
    DiagnosisFindingFactory(report=report)
    draft = DiagnosisReportFactory(provider=provider, enterprise=enterprise)
    finding = DiagnosisFindingFactory(report=draft)
    report_file = attachment_store(
        target=report, uploaded=SimpleUploadedFile("诊断.pdf", PDF, "application/pdf"), by=report.created_by
    )
    survey = DossierSurveyFactory(contract=contract)
    event = MatchmakingEventFactory(held_on=date(2026, 4, 20))
    EventAttendanceFactory(event=event, provider=provider)
    EventAttendanceFactory(event=event, enterprise=enterprise)
    intention = CooperationIntentionFactory(event=event, provider=provider, enterprise=enterprise)
    session = TrainingSessionFactory(provider=provider)
    TrainingAttendanceFactory(session=session, enterprise=enterprise)
    material = attachment_store(
        target=session, uploaded=SimpleUploadedFile("课件.pdf", PDF, "application/pdf"), by=session.created_by
    )
    return {
        "contract": contract,
        "report": report,
        "draft": draft,
        "finding": finding,
        "report_file": report_file,
        "survey": survey,
        "event": event,
        "intention": intention,
        "session": session,
        "material": material,
    }


def provider_urls(w):
    return [
        reverse("provider:diagnosis_list"),
        reverse("provider:diagnosis_new"),
        reverse("provider:diagnosis_detail", args=[w["report"].pk]),
        reverse("provider:diagnosis_detail", args=[w["draft"].pk]),
        reverse("provider:diagnosis_finding_edit", args=[w["draft"].pk, w["finding"].pk]),
        reverse("provider:diagnosis_attachment", args=[w["report"].pk, w["report_file"].pk]),
        reverse("provider:dossier_survey_new", args=[w["contract"].pk]),
        reverse("provider:dossier_survey_detail", args=[w["survey"].pk]),
        reverse("provider:dossier_survey_edit", args=[w["survey"].pk]),
        reverse("provider:event_list"),
        reverse("provider:intention_new", args=[w["event"].pk]),
        reverse("provider:training_list"),
        reverse("provider:training_new"),
        reverse("provider:training_detail", args=[w["session"].pk]),
        reverse("provider:training_edit", args=[w["session"].pk]),
        reverse("provider:training_attachment", args=[w["session"].pk, w["material"].pk]),
    ]


def enterprise_urls(w):
    return [
        reverse("enterprise:intention_list"),
        reverse("enterprise:diagnosis_detail", args=[w["report"].pk]),
        reverse("enterprise:diagnosis_attachment", args=[w["report"].pk, w["report_file"].pk]),
        reverse("enterprise:training_attended"),
        reverse("enterprise:training_material", args=[w["session"].pk, w["material"].pk]),
    ]


# --- Access ----------------------------------------------------------------------------------------------------


def test_anonymous_users_are_sent_to_the_login_page(client, world):
    urls = [*provider_urls(world), *enterprise_urls(world)]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login")), url
    for url in (
        reverse("provider:event_register", args=[world["event"].pk]),
        reverse("enterprise:intention_answer", args=[world["intention"].pk]),
    ):
        response = client.post(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_the_owners_open_every_page(client, world, staff, enterprise_user):
    client.force_login(staff)
    for url in provider_urls(world):
        assert client.get(url).status_code == 200, url
    client.force_login(enterprise_user)
    for url in enterprise_urls(world):
        assert client.get(url).status_code == 200, url


def test_enterprise_users_get_403_on_provider_pages_and_providers_on_enterprise_pages(
    client, world, staff, enterprise_user
):
    client.force_login(enterprise_user)
    for url in provider_urls(world):
        assert client.get(url).status_code == 403, url
    assert client.post(reverse("provider:event_register", args=[world["event"].pk])).status_code == 403
    client.force_login(staff)
    for url in enterprise_urls(world):
        assert client.get(url).status_code == 403, url
    client.force_login(UserFactory(role=Role.OFFICER))
    assert client.get(reverse("provider:diagnosis_list")).status_code == 403
    assert client.get(reverse("enterprise:intention_list")).status_code == 403


def test_another_providers_records_answer_404(client, world):
    client.force_login(provider_staff(ProviderFactory()))
    own_lists = {
        reverse("provider:diagnosis_list"),
        reverse("provider:diagnosis_new"),
        reverse("provider:event_list"),
        reverse("provider:training_list"),
        reverse("provider:training_new"),
    }
    for url in provider_urls(world):
        expected = 200 if url in own_lists else 404
        assert client.get(url).status_code == expected, url
    # Lists show nothing of the other provider.
    html = client.get(reverse("provider:diagnosis_list")).content.decode()
    assert world["report"].enterprise.name not in html
    html = client.get(reverse("provider:training_list")).content.decode()
    assert world["session"].title not in html
    html = client.get(reverse("provider:event_list")).content.decode()
    assert world["intention"].note not in html


def test_another_enterprises_records_answer_404(client, world):
    other = PilotEnterpriseFactory()
    client.force_login(enterprise_staff(other))
    for url in enterprise_urls(world)[1:]:
        if url == reverse("enterprise:training_attended"):
            continue
        assert client.get(url).status_code == 404, url
    response = client.post(reverse("enterprise:intention_answer", args=[world["intention"].pk]), {"answer": "confirm"})
    assert response.status_code == 404
    world["intention"].refresh_from_db()
    assert world["intention"].status == CooperationIntention.Status.PROPOSED
    html = client.get(reverse("enterprise:intention_list")).content.decode()
    assert world["intention"].note not in html and world["report"].provider.name not in html
    html = client.get(reverse("enterprise:training_attended")).content.decode()
    assert world["session"].title not in html


def test_the_enterprise_sees_no_draft_diagnosis(enterprise_client, provider, enterprise):
    draft = DiagnosisReportFactory(provider=provider, enterprise=enterprise)
    DiagnosisFindingFactory(report=draft)
    assert enterprise_client.get(reverse("enterprise:diagnosis_detail", args=[draft.pk])).status_code == 404
    assert draft.summary not in enterprise_client.get(reverse("enterprise:intention_list")).content.decode()


def test_training_materials_only_for_enterprises_that_attended(client, world):
    # An enterprise that did not attend the session cannot fetch its materials even knowing the ids.
    other = PilotEnterpriseFactory()
    TrainingAttendanceFactory(enterprise=other)  # attended another session
    client.force_login(enterprise_staff(other))
    url = reverse("enterprise:training_material", args=[world["session"].pk, world["material"].pk])
    assert client.get(url).status_code == 404


def test_downloads_are_attachments_and_audited(provider_client, enterprise_user, client, world):
    response = provider_client.get(
        reverse("provider:diagnosis_attachment", args=[world["report"].pk, world["report_file"].pk])
    )
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == PDF
    client.force_login(enterprise_user)
    response = client.get(reverse("enterprise:training_material", args=[world["session"].pk, world["material"].pk]))
    assert response.status_code == 200 and response["Content-Disposition"].startswith("attachment")
    assert AuditEvent.objects.filter(action=AuditEvent.Action.DOWNLOAD).count() == 2


# --- Diagnosis pages -------------------------------------------------------------------------------------------


def test_new_diagnosis_offers_only_enterprises_the_provider_may_diagnose(provider_client, provider, enterprise):
    active_contract(provider, enterprise)
    confirmed = PilotEnterpriseFactory(name="已确认意向的企业")
    CooperationIntentionFactory(provider=provider, enterprise=confirmed, status=CooperationIntention.Status.CONFIRMED)
    proposed = PilotEnterpriseFactory(name="尚未确认意向的企业")
    CooperationIntentionFactory(provider=provider, enterprise=proposed)
    stranger = PilotEnterpriseFactory(name="毫无关系的企业")
    html = provider_client.get(reverse("provider:diagnosis_new")).content.decode()
    assert enterprise.name in html and confirmed.name in html
    assert proposed.name not in html and stranger.name not in html
    assert ART5_WORDING in html
    # A crafted choice of an enterprise outside the list is refused by the form and nothing is saved.
    response = provider_client.post(
        reverse("provider:diagnosis_new"),
        {"enterprise": stranger.pk, "diagnosed_on": "2026-04-28", "summary": "总体评估", "free_of_charge": "on"},
    )
    assert response.status_code == 200 and 'id="id_enterprise_error"' in response.content.decode()
    assert not DiagnosisReport.objects.exists()


def test_the_free_of_charge_declaration_is_required_on_the_form(provider_client, provider, enterprise):
    active_contract(provider, enterprise)
    data = {"enterprise": enterprise.pk, "diagnosed_on": "2026-04-28", "summary": "设备联网率低。"}
    response = provider_client.post(reverse("provider:diagnosis_new"), data)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="id_free_of_charge_error"' in html and 'href="#id_free_of_charge"' in html
    assert "设备联网率低。" in html  # what was typed is kept
    assert not DiagnosisReport.objects.exists()
    response = provider_client.post(reverse("provider:diagnosis_new"), {**data, "free_of_charge": "on"})
    report = DiagnosisReport.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "provider:diagnosis_detail", args=[report.pk]
    )
    assert (report.enterprise, report.status) == (enterprise, DiagnosisReport.Status.DRAFT)


def test_a_provider_outside_the_pool_gets_no_diagnosis_form(client, enterprise):
    outsider = ProviderFactory(status="revoked")
    active_contract(outsider, enterprise, status=ContractStatus.TERMINATED)
    client.force_login(provider_staff(outsider))
    html = client.get(reverse("provider:diagnosis_new")).content.decode()
    assert 'name="free_of_charge"' not in html and "notice-warning" in html


def _detail(report):
    return reverse("provider:diagnosis_detail", args=[report.pk])


def _finding_post(code, **extra):
    data = {
        "action": "finding",
        "finding-scenario": scenario(code).pk,
        "finding-current_state": "关键设备未联网。",
        "finding-recommendation": "加装数据采集终端。",
        "finding-priority": "high",
    }
    data.update(extra)
    return data


def test_the_draft_page_groups_findings_by_the_four_families_and_quotes_art_5(provider_client, provider, enterprise):
    active_contract(provider, enterprise)
    report = DiagnosisReportFactory(provider=provider, enterprise=enterprise)
    assert provider_client.post(_detail(report), _finding_post("equipment-retrofit")).status_code == 302
    assert provider_client.post(_detail(report), _finding_post("digital-supply-chain")).status_code == 302
    html = provider_client.get(_detail(report)).content.decode()
    assert ART5_WORDING in html
    for family in ("production", "lifecycle", "supply_chain", "management"):
        assert f'id="family-{family}"' in html
    production = html[html.index('id="family-production"') : html.index('id="family-lifecycle"')]
    chain = html[html.index('id="family-supply_chain"') : html.index('id="family-management"')]
    assert "设备改造" in production and "数字化供应链" in chain
    # A scenario that has a finding is no longer offered; forcing it shows the error next to the field.
    form_part = html[html.index('id="add-finding"') :]
    assert f'value="{scenario("equipment-retrofit").pk}"' not in form_part
    assert f'value="{scenario("line-retrofit").pk}"' in form_part
    response = provider_client.post(_detail(report), _finding_post("equipment-retrofit"))
    assert response.status_code == 200 and 'id="id_finding-scenario_error"' in response.content.decode()
    assert report.findings.count() == 2


def test_findings_are_edited_and_removed_on_a_draft(provider_client, provider, enterprise):
    active_contract(provider, enterprise)
    report = DiagnosisReportFactory(provider=provider, enterprise=enterprise)
    finding = DiagnosisFindingFactory(report=report)
    url = reverse("provider:diagnosis_finding_edit", args=[report.pk, finding.pk])
    response = provider_client.post(
        url,
        {
            "scenario": finding.scenario_id,
            "current_state": "仅两台设备联网。",
            "recommendation": "全面联网。",
            "priority": "low",
        },
    )
    assert response.status_code == 302
    finding.refresh_from_db()
    assert (finding.current_state, finding.priority) == ("仅两台设备联网。", "low")
    provider_client.post(_detail(report), {"action": "delete_finding", "finding": finding.pk})
    assert not report.findings.exists()


def test_submit_needs_a_finding_then_the_report_is_final(provider_client, provider, enterprise):
    active_contract(provider, enterprise)
    report = DiagnosisReportFactory(provider=provider, enterprise=enterprise)
    response = provider_client.post(_detail(report), {"action": "submit"}, follow=True)
    report.refresh_from_db()
    assert report.status == DiagnosisReport.Status.DRAFT
    assert any(message.level_tag == "error" for message in response.context["messages"])
    provider_client.post(_detail(report), _finding_post("equipment-retrofit"))
    provider_client.post(_detail(report), {"action": "submit"})
    report.refresh_from_db()
    assert report.status == DiagnosisReport.Status.SUBMITTED
    assert Notification.objects.filter(kind="diagnosis_submitted").count() == 1
    html = provider_client.get(_detail(report)).content.decode()
    assert 'name="action"' not in html and "notice-locked" in html
    # Nothing posted afterwards changes it, and its findings can no longer be opened for editing.
    summary = report.summary
    for data in (
        {
            "action": "report",
            "report-diagnosed_on": "2026-04-01",
            "report-summary": "改写",
            "report-free_of_charge": "on",
        },
        _finding_post("line-retrofit"),
        {"action": "delete_finding", "finding": report.findings.get().pk},
    ):
        assert provider_client.post(_detail(report), data).status_code == 302
    report.refresh_from_db()
    assert report.summary == summary and report.findings.count() == 1
    finding = report.findings.get()
    url = reverse("provider:diagnosis_finding_edit", args=[report.pk, finding.pk])
    assert provider_client.get(url).status_code == 404


def test_files_are_attached_on_the_draft_page_and_checked(provider_client, provider, enterprise):
    active_contract(provider, enterprise)
    report = DiagnosisReportFactory(provider=provider, enterprise=enterprise)
    response = provider_client.post(
        _detail(report), {"action": "attach", "files": SimpleUploadedFile("x.html", HTML, "application/pdf")}
    )
    assert response.status_code == 200 and 'id="id_files_error"' in response.content.decode()
    response = provider_client.post(
        _detail(report), {"action": "attach", "files": SimpleUploadedFile("现场照片.pdf", PDF, "application/pdf")}
    )
    assert response.status_code == 302
    assert "现场照片.pdf" in provider_client.get(_detail(report)).content.decode()


def test_the_enterprise_reads_its_submitted_diagnosis(enterprise_client, world):
    report = world["report"]
    html = enterprise_client.get(reverse("enterprise:diagnosis_detail", args=[report.pk])).content.decode()
    assert report.summary in html and report.findings.get().current_state in html
    assert ART5_WORDING in html and 'id="family-production"' in html
    assert reverse("enterprise:diagnosis_attachment", args=[report.pk, world["report_file"].pk]) in html
    listing = enterprise_client.get(reverse("enterprise:intention_list")).content.decode()
    assert reverse("enterprise:diagnosis_detail", args=[report.pk]) in listing


# --- Dossier survey pages --------------------------------------------------------------------------------------


def test_a_dossier_survey_is_recorded_from_a_contract(provider_client, provider, enterprise):
    contract = active_contract(provider, enterprise)
    listing = provider_client.get(reverse("provider:diagnosis_list")).content.decode()
    assert reverse("provider:dossier_survey_new", args=[contract.pk]) in listing
    url = reverse("provider:dossier_survey_new", args=[contract.pk])
    response = provider_client.post(url, {"surveyed_on": "2026-04-20", "production_process": "", "supply_chain": "x"})
    assert response.status_code == 200 and 'id="id_production_process_error"' in response.content.decode()
    assert not DossierSurvey.objects.exists()
    response = provider_client.post(
        url, {"surveyed_on": "2026-04-20", "production_process": "下料—机加工—装配。", "supply_chain": "供应商 12 家。"}
    )
    survey = DossierSurvey.objects.get()
    assert response["Location"] == reverse("provider:dossier_survey_detail", args=[survey.pk])
    assert (survey.contract, survey.enterprise) == (contract, enterprise)
    html = provider_client.get(response["Location"]).content.decode()
    assert "下料—机加工—装配。" in html and contract.number in html


def test_no_survey_from_a_draft_contract(provider_client, provider, enterprise):
    contract = active_contract(provider, enterprise, status=ContractStatus.DRAFT)
    url = reverse("provider:dossier_survey_new", args=[contract.pk])
    html = provider_client.get(url).content.decode()
    assert 'name="production_process"' not in html and "notice-warning" in html
    response = provider_client.post(
        url, {"surveyed_on": "2026-04-20", "production_process": "工艺", "supply_chain": "供应链"}
    )
    assert response.status_code == 200 and not DossierSurvey.objects.exists()


# --- Matchmaking pages -----------------------------------------------------------------------------------------


def test_the_event_list_shows_every_countys_events_and_registers(provider_client, provider):
    near = MatchmakingEventFactory(county=County.objects.get(code="130203"), title="路北区对接会")
    far = MatchmakingEventFactory(county=County.objects.get(code="130283"), title="迁安市对接会")
    past = MatchmakingEventFactory(held_on=date(2026, 3, 1), title="三月对接会")
    html = provider_client.get(reverse("provider:event_list")).content.decode()
    assert near.title in html and far.title in html and past.title in html
    register = reverse("provider:event_register", args=[far.pk])
    assert register in html and reverse("provider:event_register", args=[past.pk]) not in html
    response = provider_client.post(register)
    assert response.status_code == 302
    assert EventAttendance.objects.filter(event=far, provider=provider, attended=False).exists()
    html = provider_client.get(reverse("provider:event_list")).content.decode()
    assert register not in html
    # Registering for a past event is refused with a message; nothing is recorded.
    response = provider_client.post(reverse("provider:event_register", args=[past.pk]), follow=True)
    assert any(message.level_tag == "error" for message in response.context["messages"])
    assert not EventAttendance.objects.filter(event=past).exists()


def test_intentions_are_recorded_for_attended_events_only(provider_client, provider, enterprise):
    event = MatchmakingEventFactory(held_on=date(2026, 4, 20))
    EventAttendanceFactory(event=event, provider=provider)
    EventAttendanceFactory(event=event, enterprise=enterprise)
    absent = PilotEnterpriseFactory(name="缺席的企业")
    EventAttendanceFactory(event=event, enterprise=absent, attended=False)
    registered_only = MatchmakingEventFactory(held_on=date(2026, 4, 21))
    EventAttendanceFactory(event=registered_only, provider=provider, attended=False)
    html = provider_client.get(reverse("provider:event_list")).content.decode()
    assert reverse("provider:intention_new", args=[event.pk]) in html
    assert reverse("provider:intention_new", args=[registered_only.pk]) not in html
    assert provider_client.get(reverse("provider:intention_new", args=[registered_only.pk])).status_code == 404

    url = reverse("provider:intention_new", args=[event.pk])
    html = provider_client.get(url).content.decode()
    assert enterprise.name in html and absent.name not in html
    response = provider_client.post(url, {"enterprise": absent.pk, "note": "意向"})
    assert response.status_code == 200 and not CooperationIntention.objects.exists()
    response = provider_client.post(
        url,
        {
            "enterprise": enterprise.pk,
            "scenarios": [scenario("equipment-retrofit").pk, scenario("smart-management").pk],
            "note": "双方同意先开展设备联网诊断。",
        },
    )
    assert response.status_code == 302
    intention = CooperationIntention.objects.get()
    assert intention.enterprise == enterprise and intention.scenarios.count() == 2
    html = provider_client.get(reverse("provider:event_list")).content.decode()
    assert "双方同意先开展设备联网诊断。" in html and f'id="intention-{intention.pk}"' in html


def test_the_enterprise_confirms_or_declines_once(enterprise_client, enterprise, provider):
    first = CooperationIntentionFactory(enterprise=enterprise, provider=provider, note="先做诊断")
    second = CooperationIntentionFactory(enterprise=enterprise, note="上线仓储系统")
    html = enterprise_client.get(reverse("enterprise:intention_list")).content.decode()
    assert "先做诊断" in html and "上线仓储系统" in html
    assert html.count('name="answer" value="confirm"') == 2
    enterprise_client.post(reverse("enterprise:intention_answer", args=[first.pk]), {"answer": "confirm"})
    enterprise_client.post(reverse("enterprise:intention_answer", args=[second.pk]), {"answer": "decline"})
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("confirmed", "declined")
    response = enterprise_client.post(
        reverse("enterprise:intention_answer", args=[first.pk]), {"answer": "decline"}, follow=True
    )
    assert any(message.level_tag == "error" for message in response.context["messages"])
    first.refresh_from_db()
    assert first.status == "confirmed"
    assert 'name="answer"' not in enterprise_client.get(reverse("enterprise:intention_list")).content.decode()
    assert (
        enterprise_client.post(reverse("enterprise:intention_answer", args=[first.pk]), {"answer": "x"}).status_code
        == 400
    )


# --- Training pages --------------------------------------------------------------------------------------------


def test_a_training_session_needs_a_topic(provider_client, provider):
    data = {"title": "数据安全培训", "held_on": "2026-04-25", "hours": "2.5", "venue": "培训中心", "description": ""}
    response = provider_client.post(reverse("provider:training_new"), data)
    assert response.status_code == 200 and 'id="id_topics_error"' in response.content.decode()
    response = provider_client.post(reverse("provider:training_new"), {**data, "topics": ["cooking"]})
    assert response.status_code == 200 and not TrainingSession.objects.exists()
    response = provider_client.post(reverse("provider:training_new"), {**data, "topics": ["data_security", "policy"]})
    session = TrainingSession.objects.get()
    assert response["Location"] == reverse("provider:training_detail", args=[session.pk])
    assert session.topics == ["data_security", "policy"] and session.provider == provider


def test_attendance_rows_and_materials_on_the_session_page(provider_client, provider, enterprise):
    session = TrainingSessionFactory(provider=provider, held_on=date(2026, 4, 15))
    url = reverse("provider:training_detail", args=[session.pk])
    response = provider_client.post(
        url, {"action": "attendance", "attendance-enterprise": enterprise.pk, "attendance-attendees": "0"}
    )
    assert response.status_code == 200 and 'id="id_attendance-attendees_error"' in response.content.decode()
    assert not TrainingAttendance.objects.exists()
    response = provider_client.post(
        url,
        {
            "action": "attendance",
            "attendance-enterprise": enterprise.pk,
            "attendance-attendees": "2",
            "attendance-names": "王芳\n李强",
        },
    )
    assert response.status_code == 302
    provider_client.post(url, {"action": "attach", "files": SimpleUploadedFile("课件.pdf", PDF, "application/pdf")})
    html = provider_client.get(url).content.decode()
    assert enterprise.name in html and "王芳" in html and "课件.pdf" in html


def test_the_enterprise_lists_the_training_it_attended(enterprise_client, world):
    html = enterprise_client.get(reverse("enterprise:training_attended")).content.decode()
    assert world["session"].title in html
    assert reverse("enterprise:training_material", args=[world["session"].pk, world["material"].pk]) in html


# --- Admin: matchmaking events by county, read-only provider records ----------------------------------------------


@pytest.fixture
def lubei():
    return County.objects.get(code="130203")


@pytest.fixture
def fengnan():
    return County.objects.get(code="130207")


def _change(model, pk):
    return reverse(f"admin:enterprises_{model}_change", args=[pk])


def _event_post(county, **extra):
    data = {
        "county": county.pk,
        "title": "供需对接会",
        "held_on": "2026-05-20",
        "venue": "区政务中心",
        "description": "",
        "attendances-TOTAL_FORMS": "0",
        "attendances-INITIAL_FORMS": "0",
        "attendances-MIN_NUM_FORMS": "0",
        "attendances-MAX_NUM_FORMS": "1000",
        "intentions-TOTAL_FORMS": "0",
        "intentions-INITIAL_FORMS": "0",
        "intentions-MIN_NUM_FORMS": "0",
        "intentions-MAX_NUM_FORMS": "1000",
    }
    data.update(extra)
    return data


def test_county_staff_see_and_change_only_their_countys_events(client, lubei, fengnan):
    own = MatchmakingEventFactory(county=lubei, title="路北区对接会")
    foreign = MatchmakingEventFactory(county=fengnan, title="丰南区对接会")
    client.force_login(county_staff(lubei))
    html = client.get(reverse("admin:enterprises_matchmakingevent_changelist")).content.decode()
    assert own.title in html and foreign.title not in html
    assert client.get(_change("matchmakingevent", own.pk)).status_code == 200
    assert client.get(_change("matchmakingevent", foreign.pk)).status_code == 404
    response = client.post(_change("matchmakingevent", foreign.pk), _event_post(fengnan, title="改名"))
    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.title == "丰南区对接会"


def test_the_add_form_offers_county_staff_their_county_only(client, lubei, fengnan):
    client.force_login(county_staff(lubei))
    form = client.get(reverse("admin:enterprises_matchmakingevent_add")).context["adminform"].form
    assert list(form.fields["county"].queryset) == [lubei]
    response = client.post(reverse("admin:enterprises_matchmakingevent_add"), _event_post(fengnan))
    assert response.status_code == 200 and not MatchmakingEvent.objects.exists()
    response = client.post(reverse("admin:enterprises_matchmakingevent_add"), _event_post(lubei))
    assert response.status_code == 302
    event = MatchmakingEvent.objects.get()
    assert event.county == lubei and event.created_by.organisation.county == lubei
    # Saved through event_create: its announcement and its state-log entry exist.
    assert Notification.objects.filter(kind="event_announced").count() == 1
    assert StateLog.objects.for_(event).filter(transition="create").exists()


def test_officers_see_every_countys_events(client, officer, lubei, fengnan):
    MatchmakingEventFactory(county=lubei, title="路北区对接会")
    MatchmakingEventFactory(county=fengnan, title="丰南区对接会")
    client.force_login(officer)
    html = client.get(reverse("admin:enterprises_matchmakingevent_changelist")).content.decode()
    assert "路北区对接会" in html and "丰南区对接会" in html


def test_county_staff_register_enterprises_and_mark_attendance_in_the_admin(client, lubei, fengnan, provider):
    staff = county_staff(lubei)
    event = MatchmakingEventFactory(county=lubei, held_on=date(2026, 4, 20))
    local = PilotEnterpriseFactory(county=lubei)
    registered = EventAttendanceFactory(event=event, provider=provider, attended=False)
    client.force_login(staff)
    rows = {
        "attendances-TOTAL_FORMS": "2",
        "attendances-INITIAL_FORMS": "1",
        "attendances-0-id": registered.pk,
        "attendances-0-event": event.pk,
        "attendances-0-attended": "on",
        "attendances-1-event": event.pk,
        "attendances-1-enterprise": local.pk,
        "attendances-1-attended": "on",
    }
    response = client.post(_change("matchmakingevent", event.pk), _event_post(lubei, held_on="2026-04-20", **rows))
    assert response.status_code == 302, response.context["inline_admin_formsets"][0].formset.errors
    registered.refresh_from_db()
    assert registered.attended
    new = EventAttendance.objects.get(event=event, enterprise=local)
    assert new.attended and new.registered_by == staff
    # An enterprise of another county is not offered to this bureau.
    stranger = PilotEnterpriseFactory(county=fengnan)
    rows = {
        "attendances-TOTAL_FORMS": "1",
        "attendances-INITIAL_FORMS": "0",
        "attendances-0-event": event.pk,
        "attendances-0-enterprise": stranger.pk,
    }
    response = client.post(_change("matchmakingevent", event.pk), _event_post(lubei, held_on="2026-04-20", **rows))
    assert response.status_code == 200
    assert not EventAttendance.objects.filter(enterprise=stranger).exists()


def test_presence_cannot_be_recorded_in_the_admin_before_the_event(client, lubei):
    event = MatchmakingEventFactory(county=lubei, held_on=date(2026, 5, 20))
    client.force_login(county_staff(lubei))
    rows = {
        "attendances-TOTAL_FORMS": "1",
        "attendances-INITIAL_FORMS": "0",
        "attendances-0-event": event.pk,
        "attendances-0-enterprise": PilotEnterpriseFactory(county=lubei).pk,
        "attendances-0-attended": "on",
    }
    response = client.post(_change("matchmakingevent", event.pk), _event_post(lubei, **rows))
    assert response.status_code == 200
    assert not EventAttendance.objects.exists()


def test_provider_records_are_read_only_for_staff_in_their_scope(client, world, lubei, officer):
    client.force_login(officer)
    for model, pk in (
        ("diagnosisreport", world["report"].pk),
        ("trainingsession", world["session"].pk),
        ("dossiersurvey", world["survey"].pk),
    ):
        assert client.get(reverse(f"admin:enterprises_{model}_changelist")).status_code == 200
        response = client.get(_change(model, pk))
        assert response.status_code == 200 and not response.context["has_change_permission"]
        assert client.get(reverse(f"admin:enterprises_{model}_add")).status_code == 403
    html = client.get(_change("diagnosisreport", world["report"].pk)).content.decode()
    assert "诊断.pdf" in html
    response = client.get(
        reverse("admin:enterprises_diagnosisreport_attachment", args=[world["report"].pk, world["report_file"].pk])
    )
    assert response.status_code == 200 and response["Content-Disposition"].startswith("attachment")
    # A county bureau of another county sees none of it.
    other = lubei if world["report"].enterprise.county != lubei else County.objects.get(code="130207")
    client.force_login(county_staff(other))
    assert client.get(_change("diagnosisreport", world["report"].pk)).status_code == 404
    assert client.get(_change("dossiersurvey", world["survey"].pk)).status_code == 404


def test_the_dossier_survey_is_shown_only_to_staff_with_its_permission(client, world):
    # Assessors hold no enterprises.view_dossiersurvey; approvers do, through the registry read permissions.
    client.force_login(UserFactory(role=Role.ASSESSOR))
    assert client.get(reverse("admin:enterprises_dossiersurvey_changelist")).status_code == 403
    client.force_login(UserFactory(role=Role.APPROVER))
    assert client.get(reverse("admin:enterprises_dossiersurvey_changelist")).status_code == 200


def test_attendance_an_intention_rests_on_cannot_be_undone_in_the_admin(client, lubei, provider):
    event = MatchmakingEventFactory(county=lubei, held_on=date(2026, 4, 20))
    enterprise = PilotEnterpriseFactory(county=lubei)
    row = EventAttendanceFactory(event=event, enterprise=enterprise)
    EventAttendanceFactory(event=event, provider=provider)
    intention = CooperationIntentionFactory(event=event, provider=provider, enterprise=enterprise)
    client.force_login(county_staff(lubei))
    data = _event_post(
        lubei,
        held_on="2026-04-20",
        venue="新会场",
        **{
            "attendances-TOTAL_FORMS": "1",
            "attendances-INITIAL_FORMS": "1",
            "attendances-0-id": row.pk,
            "attendances-0-event": event.pk,
            "intentions-TOTAL_FORMS": "1",
            "intentions-INITIAL_FORMS": "1",
            "intentions-0-id": intention.pk,
            "intentions-0-event": event.pk,
        },
    )
    response = client.post(_change("matchmakingevent", event.pk), data)
    assert response.status_code == 200
    row.refresh_from_db()
    event.refresh_from_db()
    assert row.attended and event.venue != "新会场"  # nothing half-saved
    data["attendances-0-attended"] = "on"
    assert client.post(_change("matchmakingevent", event.pk), data).status_code == 302
    event.refresh_from_db()
    assert event.venue == "新会场"


def test_an_enterprise_is_not_offered_twice_for_the_same_event(provider_client, provider, enterprise):
    event = MatchmakingEventFactory(held_on=date(2026, 4, 20))
    EventAttendanceFactory(event=event, provider=provider)
    EventAttendanceFactory(event=event, enterprise=enterprise)
    other = PilotEnterpriseFactory(name="另一家到场企业")
    EventAttendanceFactory(event=event, enterprise=other)
    CooperationIntentionFactory(event=event, provider=provider, enterprise=enterprise)
    # Another provider's intention with `other` at this event does not hide it from this provider.
    CooperationIntentionFactory(event=event, enterprise=other)
    response = provider_client.get(reverse("provider:intention_new", args=[event.pk]))
    assert list(response.context["form"].fields["enterprise"].queryset) == [other]
    html = response.content.decode()
    assert other.name in html and enterprise.name not in html


def test_the_same_enterprise_twice_in_one_admin_save_is_refused_next_to_the_row(client, lubei):
    enterprise = PilotEnterpriseFactory(county=lubei)
    client.force_login(county_staff(lubei))
    rows = {"attendances-TOTAL_FORMS": "2", "attendances-INITIAL_FORMS": "0"}
    for index in (0, 1):
        rows[f"attendances-{index}-enterprise"] = enterprise.pk
    response = client.post(reverse("admin:enterprises_matchmakingevent_add"), _event_post(lubei, **rows))
    assert response.status_code == 200
    formset = response.context["inline_admin_formsets"][0].formset
    assert not formset.forms[0].errors and formset.forms[1].errors
    assert not MatchmakingEvent.objects.exists() and not EventAttendance.objects.exists()
