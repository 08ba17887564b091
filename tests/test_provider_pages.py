"""The provider's self-service pages: access, statements, rectification reports with attachments, revocations."""

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from evaluations import services
from evaluations.models import RectificationStatus, RevocationStatus
from providers.models import ProviderStatus
from tangshan_portal.grounds import ART12_WORDING, ART13_CONSEQUENCE, ART13_WORDING
from tangshan_portal.models import Attachment, AuditEvent, Notification, Organisation
from tangshan_portal.roles import Role
from tangshan_portal.services import MAX_UPLOAD_BYTES, attachments_of
from tests.enforcement import at, state_case, travel
from tests.factories import OrganisationFactory, ProviderFactory, UserFactory

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
FINDING = "服务团队未按合同进驻企业"
REPORT = "已补齐驻场团队，并与企业签订进驻确认单。"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def other_provider_user(db):
    other = ProviderFactory(name="另一家数字科技有限公司")
    return UserFactory(role=Role.PROVIDER, organisation=other.organisation)


def _warned(provider, officer):
    case = services.rectification_open(provider=provider, ground=2, finding=FINDING, by=officer)
    return services.rectification_warn(case=case, by=officer)


def _ordered(provider, officer):
    return services.rectification_order(case=state_case(_warned(provider, officer)), by=officer)


def _responded(provider, officer, provider_user):
    case = _ordered(provider, officer)
    return services.rectification_respond(
        case=case, by=provider_user, report=REPORT, files=[SimpleUploadedFile("整改报告.pdf", PDF, "application/pdf")]
    )


def _proposal(provider, officer):
    return services.revocation_propose(provider=provider, ground=5, finding="伪造服务合同套取资金", by=officer)


def _detail(case):
    return reverse("provider:case_detail", args=[case.pk])


def _report_post(client, case, report=REPORT, files=()):
    return client.post(_detail(case), {"action": "report", "report-report": report, "report-files": list(files)})


def _html(response):
    return response.content.decode()


# --- access ------------------------------------------------------------------------------------------------


def _urls(case, revocation, attachment):
    return [
        reverse("provider:home"),
        reverse("provider:case_list"),
        _detail(case),
        reverse("provider:revocation_detail", args=[revocation.pk]),
        reverse("provider:case_attachment", args=[case.pk, attachment.pk]),
    ]


def test_anonymous_users_are_sent_to_the_login_page(client, provider, officer, provider_user):
    case = _responded(provider, officer, provider_user)
    revocation = _proposal(provider, officer)
    for url in _urls(case, revocation, attachments_of(case).get()):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login") + "?next="), url


def test_the_providers_own_staff_see_every_page(client, provider, officer, provider_user):
    case = _responded(provider, officer, provider_user)
    revocation = _proposal(provider, officer)
    client.force_login(provider_user)
    for url in _urls(case, revocation, attachments_of(case).get()):
        assert client.get(url).status_code == 200, url


def test_another_providers_staff_get_404_for_case_revocation_and_attachment(
    client, provider, officer, provider_user, other_provider_user
):
    case = _responded(provider, officer, provider_user)
    revocation = _proposal(provider, officer)
    attachment = attachments_of(case).get()
    client.force_login(other_provider_user)
    assert client.get(reverse("provider:home")).status_code == 200  # its own, empty overview
    for url in _urls(case, revocation, attachment)[2:]:
        assert client.get(url).status_code == 404, url
    # … and cannot act on them either.
    assert client.post(_detail(case), {"action": "reply", "reply-statement": "x"}).status_code == 404
    assert (
        client.post(reverse("provider:revocation_detail", args=[revocation.pk]), {"statement": "x"}).status_code == 404
    )
    revocation.refresh_from_db()
    assert revocation.provider_statement == ""
    # The other provider's overview and list do not mention the case.
    assert FINDING not in _html(client.get(reverse("provider:case_list")))


@pytest.mark.parametrize("role", [Role.ENTERPRISE, Role.OFFICER, Role.APPROVER, Role.AUDITOR, Role.SYSADMIN])
def test_users_who_do_not_act_for_a_provider_get_403(client, provider, officer, role):
    case = _warned(provider, officer)
    kind = Organisation.Kind.ENTERPRISE if role == Role.ENTERPRISE else Organisation.Kind.BUREAU
    client.force_login(UserFactory(role=role, organisation=OrganisationFactory(kind=kind)))
    assert client.get(reverse("provider:home")).status_code == 403
    assert client.get(_detail(case)).status_code == 403
    assert AuditEvent.objects.filter(action=AuditEvent.Action.PERMISSION_DENIED).exists()


def test_a_provider_role_without_a_provider_organisation_gets_403(client):
    client.force_login(UserFactory(role=Role.PROVIDER, organisation=None))
    assert client.get(reverse("provider:home")).status_code == 403


def test_a_draft_case_is_not_shown_to_the_provider_before_the_warning(client, provider, officer, provider_user):
    draft = services.rectification_open(provider=provider, ground=2, finding="内部核查中", by=officer)
    client.force_login(provider_user)
    assert client.get(_detail(draft)).status_code == 404
    assert "内部核查中" not in _html(client.get(reverse("provider:case_list")))


# --- overview and case page ------------------------------------------------------------------------------


def test_home_shows_standing_open_cases_with_days_left_proposals_and_notifications(
    client, provider, officer, provider_user
):
    with travel(at(2026, 4, 1)):
        case = _ordered(provider, officer)
        revocation = _proposal(provider, officer)
    client.force_login(provider_user)
    with travel(at(2026, 4, 28)):
        response = client.get(reverse("provider:home"))
    html = _html(response)
    provider.refresh_from_db()
    assert provider.status == ProviderStatus.UNDER_RECTIFICATION
    assert "status-under_rectification" in html
    assert case.document_number in html
    assert "2026-05-01" in html  # the deadline, 30 days after the order
    assert response.context["open_cases"][0].days_left == 3
    assert 'class="badge deadline deadline-urgent"' in html
    assert reverse("provider:revocation_detail", args=[revocation.pk]) in html
    assert [n.kind for n in response.context["latest_notifications"]][:1] == ["revocation_proposed"]


def test_case_page_shows_finding_ground_wording_document_number_deadline_and_history(
    client, provider, officer, provider_user
):
    with travel(at(2026, 4, 1)):
        case = _ordered(provider, officer)
    client.force_login(provider_user)
    with travel(at(2026, 4, 10)):
        response = client.get(_detail(case))
    html = _html(response)
    assert FINDING in html
    assert ART12_WORDING[2][:20] in html
    assert "第十二条第（二）项" in html
    assert case.document_number == "唐工信〔2026〕1号"
    assert case.document_number in html
    assert "2026-05-01" in html
    assert response.context["case"].days_left == 21
    history = response.context["history"]
    assert [(row["source"] != "", row["transition"]) for row in history] == [
        (False, "create"),
        (True, "warn"),
        (True, "order"),
    ]
    assert "唐工信〔2026〕1号" in history[-1]["description"]
    # The report form is offered while the case is rectifying; the statement form no longer.
    assert 'name="report-files"' in html and "multiple" in html
    assert 'enctype="multipart/form-data"' in html
    assert 'name="reply-statement"' not in html


# --- stating its case against a warning ----------------------------------------------------------------------


def test_provider_states_its_case_against_a_warning(client, provider, officer, provider_user):
    case = _warned(provider, officer)
    client.force_login(provider_user)
    assert 'name="reply-statement"' in _html(client.get(_detail(case)))
    response = client.post(_detail(case), {"action": "reply", "reply-statement": "  团队已于上周进驻，附签到记录。 "})
    assert response.status_code == 302
    assert response["Location"] == _detail(case)
    case.refresh_from_db()
    assert case.provider_reply == "团队已于上周进驻，附签到记录。"
    assert case.status == RectificationStatus.WARNED
    assert Notification.objects.get(kind="rectification_reply").recipient_user == officer
    assert "团队已于上周进驻" in _html(client.get(_detail(case)))


def test_an_empty_statement_is_refused_on_the_page(client, provider, officer, provider_user):
    case = _warned(provider, officer)
    client.force_login(provider_user)
    response = client.post(_detail(case), {"action": "reply", "reply-statement": "   "})
    assert response.status_code == 200
    assert response.context["reply_form"].errors["statement"]
    assert 'class="errorlist"' in _html(response)
    case.refresh_from_db()
    assert (case.provider_reply, case.replied_at) == ("", None)


def test_a_statement_after_the_statement_period_is_refused(client, provider, officer, provider_user):
    with travel(at(2026, 4, 1)):
        case = _warned(provider, officer)
    client.force_login(provider_user)
    with travel(at(2026, 4, 7)):
        assert 'name="reply-statement"' not in _html(client.get(_detail(case)))
        response = client.post(_detail(case), {"action": "reply", "reply-statement": "迟到的陈述"})
    assert response.status_code == 200
    assert response.context["reply_form"].non_field_errors()
    case.refresh_from_db()
    assert case.provider_reply == ""
    assert not Notification.objects.filter(kind="rectification_reply").exists()


def test_an_unknown_action_is_a_bad_request(client, provider, officer, provider_user):
    case = _warned(provider, officer)
    client.force_login(provider_user)
    assert client.post(_detail(case), {"action": "verify"}).status_code == 400


# --- the rectification report ------------------------------------------------------------------------------


def test_report_with_attachments_is_submitted_and_listed(client, provider, officer, provider_user):
    case = _ordered(provider, officer)
    client.force_login(provider_user)
    files = [
        SimpleUploadedFile("整改报告.pdf", PDF, "application/pdf"),
        SimpleUploadedFile("现场照片.png", PNG, "image/png"),
    ]
    response = _report_post(client, case, files=files)
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == RectificationStatus.RESPONDED
    assert case.report == REPORT
    stored = list(attachments_of(case).order_by("id"))
    assert [(a.original_name, a.mime_type, a.size, a.uploaded_by) for a in stored] == [
        ("整改报告.pdf", "application/pdf", len(PDF), provider_user),
        ("现场照片.png", "image/png", len(PNG), provider_user),
    ]
    assert Notification.objects.get(kind="rectification_response").recipient_user == officer
    html = _html(client.get(_detail(case)))
    assert REPORT in html
    for attachment in stored:
        assert reverse("provider:case_attachment", args=[case.pk, attachment.pk]) in html
        assert attachment.original_name in html
    assert 'name="report-report"' not in html  # no second report while the officer checks it


def test_report_without_attachments_is_accepted(client, provider, officer, provider_user):
    case = _ordered(provider, officer)
    client.force_login(provider_user)
    assert _report_post(client, case).status_code == 302
    case.refresh_from_db()
    assert case.status == RectificationStatus.RESPONDED
    assert not Attachment.objects.exists()


def _assert_nothing_saved(case):
    case.refresh_from_db()
    assert case.status == RectificationStatus.RECTIFYING
    assert (case.report, case.responded_at) == ("", None)
    assert not Attachment.objects.exists()
    assert not Notification.objects.filter(kind="rectification_response").exists()


def test_html_disguised_as_pdf_is_refused_with_an_error_and_nothing_is_saved(
    client, provider, officer, provider_user, media_root
):
    case = _ordered(provider, officer)
    client.force_login(provider_user)
    files = [
        SimpleUploadedFile("整改报告.pdf", PDF, "application/pdf"),
        SimpleUploadedFile("scan.pdf", b"<!DOCTYPE html><html><script>alert(1)</script></html>", "application/pdf"),
    ]
    response = _report_post(client, case, files=files)
    assert response.status_code == 200
    errors = response.context["report_form"].errors["files"]
    assert len(errors) == 1 and "scan.pdf" in errors[0]
    html = _html(response)
    assert 'id="id_report-files_error"' in html and "scan.pdf" in html
    assert REPORT in html  # what the provider typed is kept for the next try
    _assert_nothing_saved(case)
    assert not (media_root / "attachments").exists()


def test_an_oversized_file_is_refused_with_an_error_and_nothing_is_saved(client, provider, officer, provider_user):
    case = _ordered(provider, officer)
    client.force_login(provider_user)
    big = SimpleUploadedFile("大文件.pdf", PDF + b"0" * (MAX_UPLOAD_BYTES + 1 - len(PDF)), "application/pdf")
    response = _report_post(client, case, files=[big])
    assert response.status_code == 200
    errors = response.context["report_form"].errors["files"]
    assert len(errors) == 1 and "大文件.pdf" in errors[0]
    assert "大文件.pdf" in _html(response)
    _assert_nothing_saved(case)


def test_an_empty_report_is_refused(client, provider, officer, provider_user):
    case = _ordered(provider, officer)
    client.force_login(provider_user)
    response = _report_post(client, case, report=" ", files=[SimpleUploadedFile("a.pdf", PDF, "application/pdf")])
    assert response.status_code == 200
    assert response.context["report_form"].errors["report"]
    _assert_nothing_saved(case)


def test_a_report_after_the_deadline_is_refused(client, provider, officer, provider_user):
    with travel(at(2026, 3, 20)):
        case = _ordered(provider, officer)
    assert case.deadline.isoformat() == "2026-04-19"
    client.force_login(provider_user)
    with travel(at(2026, 5, 1)):
        page = _html(client.get(_detail(case)))
        assert 'name="report-report"' not in page
        response = _report_post(client, case, files=[SimpleUploadedFile("a.pdf", PDF, "application/pdf")])
    assert response.status_code == 200
    assert response.context["report_form"].non_field_errors()
    assert 'class="form-errors"' in _html(response)
    _assert_nothing_saved(case)


def test_a_report_on_the_last_day_is_accepted(client, provider, officer, provider_user):
    with travel(at(2026, 3, 20)):
        case = _ordered(provider, officer)
    client.force_login(provider_user)
    with travel(at(2026, 4, 19, 23, 30)):
        assert _report_post(client, case).status_code == 302
    case.refresh_from_db()
    assert case.status == RectificationStatus.RESPONDED


def test_a_report_before_the_order_is_refused(client, provider, officer, provider_user):
    case = _warned(provider, officer)
    client.force_login(provider_user)
    response = _report_post(client, case, files=[SimpleUploadedFile("a.pdf", PDF, "application/pdf")])
    assert response.status_code == 200
    assert response.context["report_form"].non_field_errors()
    case.refresh_from_db()
    assert case.status == RectificationStatus.WARNED
    assert not Attachment.objects.exists()


def test_a_returned_case_shows_the_reason_and_takes_a_new_report(client, provider, officer, provider_user):
    case = _responded(provider, officer, provider_user)
    services.rectification_return(case=case, by=officer, reason="缺少企业签字确认")
    client.force_login(provider_user)
    html = _html(client.get(_detail(case)))
    assert "缺少企业签字确认" in html
    assert 'name="report-report"' in html
    response = _report_post(client, case, report="已补充企业签字", files=[SimpleUploadedFile("b.pdf", PDF, "x")])
    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.status, case.report) == (RectificationStatus.RESPONDED, "已补充企业签字")
    assert attachments_of(case).count() == 2


# --- attachments -------------------------------------------------------------------------------------------


def test_attachment_download_is_an_attachment_with_nosniff(client, provider, officer, provider_user):
    case = _responded(provider, officer, provider_user)
    attachment = attachments_of(case).get()
    url = reverse("provider:case_attachment", args=[case.pk, attachment.pk])
    client.force_login(provider_user)
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Disposition"].startswith("attachment;")
    assert "filename*=utf-8''%E6%95%B4%E6%94%B9%E6%8A%A5%E5%91%8A.pdf" in response["Content-Disposition"]
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    event = AuditEvent.objects.get(action=AuditEvent.Action.DOWNLOAD)
    assert (event.actor, event.object_id) == (provider_user, str(attachment.pk))


def test_bureau_staff_who_read_cases_may_download_others_may_not(client, provider, officer, provider_user):
    case = _responded(provider, officer, provider_user)
    attachment = attachments_of(case).get()
    url = reverse("provider:case_attachment", args=[case.pk, attachment.pk])
    for role, status in [(Role.OFFICER, 200), (Role.AUDITOR, 200), (Role.SYSADMIN, 404), (Role.ENTERPRISE, 404)]:
        client.force_login(UserFactory(role=role))
        assert client.get(url).status_code == status, role


def test_an_attachment_is_only_served_under_its_own_case(client, provider, officer, provider_user):
    first = _responded(provider, officer, provider_user)
    second = _ordered(provider, officer)
    attachment = attachments_of(first).get()
    client.force_login(provider_user)
    assert client.get(reverse("provider:case_attachment", args=[second.pk, attachment.pk])).status_code == 404


# --- revocation proposals ------------------------------------------------------------------------------------


def test_revocation_page_shows_ground_finding_consequence_and_takes_a_statement(
    client, provider, officer, provider_user
):
    with travel(at(2026, 5, 1)):
        revocation = _proposal(provider, officer)
    url = reverse("provider:revocation_detail", args=[revocation.pk])
    client.force_login(provider_user)
    with travel(at(2026, 5, 3)):
        html = _html(client.get(url))
        assert ART13_WORDING[5] in html
        assert "伪造服务合同套取资金" in html
        assert ART13_CONSEQUENCE in html
        assert "2026-05-06 10:00" in html
        response = client.post(url, {"statement": "合同真实有效，附银行流水。"})
    assert response.status_code == 302
    revocation.refresh_from_db()
    assert revocation.provider_statement == "合同真实有效，附银行流水。"
    assert revocation.status == RevocationStatus.PROPOSED
    assert Notification.objects.filter(kind="revocation_statement").exists()


def test_a_revocation_statement_after_the_due_date_is_refused(client, provider, officer, provider_user):
    with travel(at(2026, 5, 1)):
        revocation = _proposal(provider, officer)
    url = reverse("provider:revocation_detail", args=[revocation.pk])
    client.force_login(provider_user)
    with travel(at(2026, 5, 7)):
        assert 'name="statement"' not in _html(client.get(url))
        response = client.post(url, {"statement": "迟到的陈述"})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    revocation.refresh_from_db()
    assert (revocation.provider_statement, revocation.statement_at) == ("", None)


def test_after_approval_the_page_shows_the_decision(client, provider, officer, approver, provider_user):
    with travel(at(2026, 5, 1)):
        revocation = _proposal(provider, officer)
    with travel(at(2026, 5, 8)):
        services.revocation_approve(revocation=revocation, by=approver, reason="经核实合同系伪造")
    revocation.refresh_from_db()
    client.force_login(provider_user)
    html = _html(client.get(reverse("provider:revocation_detail", args=[revocation.pk])))
    assert revocation.decision_number in html
    assert "经核实合同系伪造" in html
    assert settings.PORTAL_AUTHORITY_NAME in html
    assert 'name="statement"' not in html
    assert "status-approved" in html and "status-published" in html
