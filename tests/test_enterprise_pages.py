"""The enterprise's self-service pages: access, the overview, complaints with attachments, satisfaction surveys."""

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from complaints import services as complaint_services
from complaints.models import Complaint, ComplaintCategory, ComplaintStatus
from complaints.selectors import complaints_visible_to, surveys_due
from enterprises.models import ContractStatus, Milestone
from evaluations.models import SatisfactionRating, SurveyAnswer, SurveyItem
from providers.models import ProviderStatus
from tangshan_portal.models import Attachment, AuditEvent, Notification, Organisation
from tangshan_portal.roles import Role
from tangshan_portal.services import attachments_of
from tangshan_portal.workdays import add_working_days
from tests.enforcement import at, state_case, travel
from tests.factories import (
    CountyFactory,
    OrganisationFactory,
    PilotEnterpriseFactory,
    ProviderFactory,
    ServiceContractFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert(1)</script><rect width='10' height='10'/></svg>"
)
DESCRIPTION = "服务团队长期不到岗，合同约定的设备联网至今未完成。"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def enterprise(db):
    return PilotEnterpriseFactory(name="唐山精工机械有限公司")


@pytest.fixture
def enterprise_user(enterprise):
    return UserFactory(role=Role.ENTERPRISE, organisation=enterprise.organisation, username="enterprise_staff")


@pytest.fixture
def other_enterprise(db):
    return PilotEnterpriseFactory(name="另一家制造有限公司")


@pytest.fixture
def other_enterprise_user(other_enterprise):
    return UserFactory(role=Role.ENTERPRISE, organisation=other_enterprise.organisation)


@pytest.fixture
def contract(enterprise, provider):
    return ServiceContractFactory(
        enterprise=enterprise, provider=provider, number="TS-2026-0001", status=ContractStatus.IN_PROGRESS
    )


def _file(name, content, content_type="application/pdf"):
    return SimpleUploadedFile(name, content, content_type)


def _complaint(user, provider, contract=None, files=(), category=ComplaintCategory.SERVICE):
    return complaint_services.complaint_submit(
        by=user, provider=provider, contract=contract, category=category, description=DESCRIPTION, files=files
    )


def _milestone(contract, planned_on, name="设备联网"):
    return Milestone.objects.create(contract=contract, name=name, planned_on=planned_on, weight=50)


def _html(response):
    return response.content.decode()


def _survey_url(contract, stage):
    return reverse("enterprise:survey_detail", args=[contract.pk, stage])


def _urls(complaint, attachment, contract, stage):
    return [
        reverse("enterprise:home"),
        reverse("enterprise:complaint_list"),
        reverse("enterprise:complaint_new"),
        reverse("enterprise:complaint_detail", args=[complaint.pk]),
        reverse("enterprise:complaint_attachment", args=[complaint.pk, attachment.pk]),
        reverse("enterprise:survey_list"),
        _survey_url(contract, stage),
    ]


@pytest.fixture
def pages(enterprise_user, provider, contract):
    """A complaint with an attachment and a due milestone survey: every page of the enterprise has an object."""
    complaint = _complaint(enterprise_user, provider, contract, files=[_file("证据.pdf", PDF)])
    milestone = _milestone(contract, date(2026, 1, 15))
    return _urls(complaint, attachments_of(complaint).get(), contract, f"milestone-{milestone.pk}")


# --- access ------------------------------------------------------------------------------------------------


def test_anonymous_users_are_sent_to_the_login_page(client, pages):
    for url in pages:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login") + "?next="), url


def test_the_enterprises_own_staff_see_every_page(client, enterprise_user, pages):
    client.force_login(enterprise_user)
    for url in pages:
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("role", [Role.PROVIDER, Role.OFFICER, Role.APPROVER, Role.COUNTY, Role.AUDITOR])
def test_users_who_do_not_act_for_an_enterprise_get_403(client, provider, role, pages):
    if role == Role.PROVIDER:
        user = UserFactory(role=role, organisation=provider.organisation)
    elif role == Role.COUNTY:
        user = UserFactory(role=role, organisation=OrganisationFactory(county_bureau=True))
    else:
        user = UserFactory(role=role)
    client.force_login(user)
    for url in pages:
        assert client.get(url).status_code == 403, url
    assert AuditEvent.objects.filter(action=AuditEvent.Action.PERMISSION_DENIED).exists()


def test_an_enterprise_role_without_an_active_enterprise_organisation_gets_403(client, enterprise):
    client.force_login(UserFactory(role=Role.ENTERPRISE, organisation=None))
    assert client.get(reverse("enterprise:home")).status_code == 403
    client.force_login(UserFactory(role=Role.ENTERPRISE, organisation=OrganisationFactory(kind="enterprise")))
    assert client.get(reverse("enterprise:home")).status_code == 403  # an organisation with no enterprise
    Organisation.objects.filter(pk=enterprise.organisation_id).update(is_active=False)
    client.force_login(UserFactory(role=Role.ENTERPRISE, organisation=enterprise.organisation))
    # A deactivated organisation's users are not even logged in (authentication.py), so: the login page.
    response = client.get(reverse("enterprise:home"))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_another_enterprises_complaint_attachment_and_survey_answer_404(client, other_enterprise_user, pages):
    client.force_login(other_enterprise_user)
    for url in pages[:3] + pages[5:6]:
        assert client.get(url).status_code == 200, url  # its own, empty pages
    for url in pages[3:5] + pages[6:]:
        assert client.get(url).status_code == 404, url
    # … and cannot rate the other enterprise's contract by posting either.
    scores = {f"item_{item.pk}": "1" for item in SurveyItem.objects.filter(is_active=True)}
    assert client.post(pages[6], {**scores, "overall": "dissatisfied"}).status_code == 404
    assert not SatisfactionRating.objects.exists()
    assert DESCRIPTION not in _html(client.get(reverse("enterprise:complaint_list")))


def test_the_nav_link_is_shown_to_enterprise_users_only(client, enterprise_user, provider_user):
    client.force_login(enterprise_user)
    assert reverse("enterprise:home") in _html(client.get("/"))
    client.force_login(provider_user)
    assert reverse("enterprise:home") not in _html(client.get("/"))


def test_complaints_visible_to_follows_the_roles(enterprise_user, other_enterprise_user, provider, provider_user):
    complaint = _complaint(enterprise_user, provider)
    county_staff = UserFactory(
        role=Role.COUNTY, organisation=OrganisationFactory(county_bureau=True, county=complaint.enterprise.county)
    )
    other_county = CountyFactory(code="130283" if complaint.enterprise.county.code != "130283" else "130284")
    other_county_staff = UserFactory(
        role=Role.COUNTY, organisation=OrganisationFactory(county_bureau=True, county=other_county)
    )
    other_provider_user = UserFactory(role=Role.PROVIDER, organisation=ProviderFactory().organisation)
    expected = {
        enterprise_user: True,
        other_enterprise_user: False,
        provider_user: False,  # not before the bureau accepted it
        other_provider_user: False,
        UserFactory(role=Role.OFFICER): True,
        UserFactory(role=Role.AUDITOR): True,
        county_staff: True,
        other_county_staff: False,
        UserFactory(role=Role.SYSADMIN): False,
        UserFactory(role=Role.ASSESSOR, organisation=OrganisationFactory(kind="institution")): False,
    }
    for user, visible in expected.items():
        assert complaints_visible_to(user).filter(pk=complaint.pk).exists() is visible, user
    from complaints.services import complaint_accept

    complaint_accept(complaint=complaint, by=UserFactory(role=Role.OFFICER))
    assert complaints_visible_to(provider_user).filter(pk=complaint.pk).exists()
    assert not complaints_visible_to(other_provider_user).filter(pk=complaint.pk).exists()


# --- the overview --------------------------------------------------------------------------------------------


def test_home_shows_own_contracts_with_provider_status_and_pool_flag(client, enterprise, enterprise_user, contract):
    outside = ProviderFactory(name="未入池科技有限公司", status=ProviderStatus.APPLIED)
    ServiceContractFactory(enterprise=enterprise, provider=outside, number="TS-2026-0002", status=ContractStatus.SIGNED)
    foreign = ServiceContractFactory(number="OTHER-2026-0009", title="别人家的项目")
    client.force_login(enterprise_user)
    response = client.get(reverse("enterprise:home"))
    html = _html(response)
    assert [c.number for c in response.context["contracts"]] == ["TS-2026-0001", "TS-2026-0002"]
    assert "TS-2026-0001" in html and contract.provider.name in html
    assert "未入池科技有限公司" in html
    assert html.count('class="badge flag-outside-pool"') == 1
    assert "status-contract-in_progress" in html and "status-contract-signed" in html
    assert foreign.number not in html and "别人家的项目" not in html


def test_home_shows_due_surveys_complaints_with_deadlines_and_notifications(
    client, enterprise_user, provider, contract, officer
):
    with travel(at(2026, 4, 13)):  # a Monday
        milestone = _milestone(contract, date(2026, 4, 10))
        complaint = _complaint(enterprise_user, provider, contract)
        complaint_services.complaint_accept(complaint=complaint, by=officer, note="已受理")
    client.force_login(enterprise_user)
    with travel(at(2026, 4, 14)):
        response = client.get(reverse("enterprise:home"))
    html = _html(response)
    assert _survey_url(contract, f"milestone-{milestone.pk}") in html
    assert reverse("enterprise:complaint_detail", args=[complaint.pk]) in html
    assert "status-complaint-accepted" in html
    assert complaint.resolve_by.isoformat() in html
    assert [n.kind for n in response.context["latest_notifications"]] == ["complaint_accepted"]


def test_home_query_count_does_not_grow_with_the_number_of_contracts(
    client, enterprise, enterprise_user, provider, django_assert_max_num_queries
):
    def add_contracts(count):
        for _ in range(count):
            contract = ServiceContractFactory(enterprise=enterprise, status=ContractStatus.INTERNALLY_ACCEPTED)
            _milestone(contract, date(2026, 1, 10))
            _milestone(contract, date(2026, 2, 10), name="上线运行")
            _complaint(enterprise_user, contract.provider, contract)

    add_contracts(3)
    client.force_login(enterprise_user)
    with CaptureQueriesContext(connection) as three:
        assert client.get(reverse("enterprise:home")).status_code == 200
    add_contracts(17)
    with django_assert_max_num_queries(len(three)):
        response = client.get(reverse("enterprise:home"))
    assert len(response.context["contracts"]) == 20
    assert len(response.context["due_surveys"]) == 60  # two milestones and the acceptance per contract


# --- filing a complaint --------------------------------------------------------------------------------------


def _post_complaint(client, provider, contract=None, files=(), **extra):
    data = {
        "provider": provider.pk,
        "contract": contract.pk if contract else "",
        "category": ComplaintCategory.SERVICE,
        "description": DESCRIPTION,
        "files": list(files),
        **extra,
    }
    return client.post(reverse("enterprise:complaint_new"), data)


def test_filing_a_complaint_through_the_form(client, enterprise, enterprise_user, provider, contract, officer):
    client.force_login(enterprise_user)
    with travel(at(2026, 4, 13)):
        page = _html(client.get(reverse("enterprise:complaint_new")))
        assert 'enctype="multipart/form-data"' in page and 'name="files"' in page and "multiple" in page
        response = _post_complaint(
            client,
            provider,
            contract,
            files=[_file("现场照片.png", PNG, "image/png"), _file("合同.pdf", PDF)],
            protect_identity="on",
        )
    complaint = Complaint.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("enterprise:complaint_detail", args=[complaint.pk])
    assert (complaint.enterprise, complaint.provider, complaint.contract) == (enterprise, provider, contract)
    assert complaint.status == ComplaintStatus.SUBMITTED
    assert complaint.protect_identity is True
    assert complaint.submitted_by == enterprise_user
    assert complaint.acknowledge_by == add_working_days(date(2026, 4, 13), 5)
    assert complaint.resolve_by == add_working_days(date(2026, 4, 13), 30)
    assert complaint.acknowledge_by > date(2026, 4, 13)
    stored = list(attachments_of(complaint).order_by("id"))
    assert [(a.original_name, a.mime_type) for a in stored] == [
        ("现场照片.png", "image/png"),
        ("合同.pdf", "application/pdf"),
    ]
    assert Notification.objects.filter(kind="complaint_submitted", recipient_role=Role.OFFICER).exists()
    with travel(at(2026, 4, 13, 11)):
        html = _html(client.get(response["Location"]))
    assert DESCRIPTION in html
    assert complaint.acknowledge_by.isoformat() in html and complaint.resolve_by.isoformat() in html
    for attachment in stored:
        assert reverse("enterprise:complaint_attachment", args=[complaint.pk, attachment.pk]) in html


def test_a_complaint_without_contract_or_files_is_accepted(client, enterprise_user):
    stranger = ProviderFactory(name="没有合同的服务商")
    client.force_login(enterprise_user)
    assert _post_complaint(client, stranger).status_code == 302
    complaint = Complaint.objects.get()
    assert (complaint.provider, complaint.contract, complaint.protect_identity) == (stranger, None, False)
    assert not Attachment.objects.exists()


def test_the_provider_list_offers_pool_and_former_pool_providers_only(client, enterprise_user, provider):
    revoked = ProviderFactory(name="已撤销资格的服务商", status=ProviderStatus.REVOKED)
    applied = ProviderFactory(name="仅提交申请的服务商", status=ProviderStatus.APPLIED)
    client.force_login(enterprise_user)
    html = _html(client.get(reverse("enterprise:complaint_new")))
    assert provider.name in html and "已撤销资格的服务商" in html
    assert "仅提交申请的服务商" not in html
    response = _post_complaint(client, applied)
    assert response.status_code == 200
    assert response.context["form"].errors["provider"]
    assert revoked.pk and not Complaint.objects.exists()


def test_a_contract_with_another_provider_is_refused_on_the_contract_field(client, enterprise_user, contract):
    other = ProviderFactory()
    client.force_login(enterprise_user)
    response = _post_complaint(client, other, contract)
    assert response.status_code == 200
    assert response.context["form"].errors["contract"]
    assert 'id="id_contract_error"' in _html(response)
    assert not Complaint.objects.exists()


def test_another_enterprises_contract_cannot_be_chosen(client, enterprise_user, provider):
    foreign = ServiceContractFactory(provider=provider, number="OTHER-2026-0001")
    client.force_login(enterprise_user)
    assert "OTHER-2026-0001" not in _html(client.get(reverse("enterprise:complaint_new")))
    response = _post_complaint(client, provider, foreign)
    assert response.status_code == 200
    assert response.context["form"].errors["contract"]
    assert not Complaint.objects.exists()


def test_an_empty_description_is_refused(client, enterprise_user, provider):
    client.force_login(enterprise_user)
    response = _post_complaint(client, provider, description="   ")
    assert response.status_code == 200
    assert response.context["form"].errors["description"]
    assert not Complaint.objects.exists()


def test_a_link_from_a_contract_preselects_it(client, enterprise_user, contract):
    client.force_login(enterprise_user)
    response = client.get(reverse("enterprise:complaint_new") + f"?contract={contract.pk}")
    form = response.context["form"]
    assert (form.initial["contract"], form.initial["provider"]) == (contract.pk, contract.provider_id)
    foreign = ServiceContractFactory()
    response = client.get(reverse("enterprise:complaint_new") + f"?contract={foreign.pk}")
    assert response.context["form"].initial == {}


def _assert_refused(response, name, fragment, media_root):
    assert response.status_code == 200
    errors = response.context["form"].errors["files"]
    assert len(errors) == 1 and name in errors[0]
    html = _html(response)
    assert 'id="id_files_error"' in html and fragment in html
    assert 'role="alert"' in html and 'href="#id_files"' in html  # the summary links to the field
    assert DESCRIPTION in html  # what the enterprise typed is kept for the next try
    assert not Complaint.objects.exists()
    assert not Attachment.objects.exists()
    assert not Notification.objects.filter(kind="complaint_submitted").exists()
    assert not (media_root / "attachments").exists()


def test_html_disguised_as_pdf_is_refused_in_chinese_and_nothing_is_stored(
    client, enterprise_user, provider, media_root
):
    client.force_login(enterprise_user)
    response = _post_complaint(client, provider, files=[_file("合同.pdf", PDF), _file("扫描件.pdf", HTML)])
    _assert_refused(response, "扫描件.pdf", "文件“扫描件.pdf”不是PDF、PNG或JPEG图片，也不是Office文档。", media_root)


def test_an_svg_with_a_script_is_refused_in_chinese_and_nothing_is_stored(
    client, enterprise_user, provider, media_root
):
    client.force_login(enterprise_user)
    response = _post_complaint(client, provider, files=[_file("logo.svg", SVG, "image/svg+xml")])
    _assert_refused(response, "logo.svg", "文件“logo.svg”不是PDF", media_root)


def test_an_oversized_file_is_refused_in_chinese_and_nothing_is_stored(
    client, enterprise_user, provider, media_root, monkeypatch
):
    monkeypatch.setattr("tangshan_portal.services.MAX_UPLOAD_BYTES", 1024)
    client.force_login(enterprise_user)
    big = _file("大文件.pdf", PDF + b"0" * 1024)
    response = _post_complaint(client, provider, files=[big])
    _assert_refused(response, "大文件.pdf", "文件“大文件.pdf”超过1.0\xa0KB。", media_root)
    assert "1.0\xa0KB" in response.context["form"].fields["files"].help_text  # the help follows the policy too


# --- following a complaint -----------------------------------------------------------------------------------


def test_the_detail_shows_timeline_conclusion_and_the_case_it_opened(
    client, enterprise_user, provider, contract, officer
):
    officer.full_name = "王经办"
    officer.save(update_fields=["full_name"])
    with travel(at(2026, 4, 13)):
        complaint = _complaint(enterprise_user, provider, contract)
        complaint_services.complaint_accept(complaint=complaint, by=officer, note="材料齐全，予以受理")
        complaint_services.complaint_investigate(complaint=complaint, by=officer)
        complaint = complaint_services.complaint_conclude(
            complaint=complaint, by=officer, substantiated=True, conclusion="经现场核查，投诉属实"
        )
    from evaluations import services as enforcement

    case = enforcement.rectification_warn(case=complaint.rectification_case, by=officer)
    case = enforcement.rectification_order(case=state_case(case), by=officer)
    client.force_login(enterprise_user)
    response = client.get(reverse("enterprise:complaint_detail", args=[complaint.pk]))
    html = _html(response)
    assert "status-complaint-substantiated" in html
    assert "经现场核查，投诉属实" in html
    assert case.document_number and case.document_number in html
    history = response.context["history"]
    assert [row["source"] == "" for row in history] == [True, False, False, False]
    assert [row["description"] for row in history][1::2] == ["材料齐全，予以受理", "经现场核查，投诉属实"]
    assert "材料齐全，予以受理" in html
    assert "王经办" not in html  # who handled it is the bureau's internal record


def test_a_revocation_opened_by_a_complaint_is_shown_without_a_number_until_decided(
    client, enterprise_user, provider, officer
):
    complaint = _complaint(enterprise_user, provider, category=ComplaintCategory.FRAUD)
    complaint_services.complaint_accept(complaint=complaint, by=officer)
    complaint_services.complaint_investigate(complaint=complaint, by=officer)
    complaint_services.complaint_conclude(complaint=complaint, by=officer, substantiated=True, conclusion="合同系伪造")
    client.force_login(enterprise_user)
    response = client.get(reverse("enterprise:complaint_detail", args=[complaint.pk]))
    assert response.context["complaint"].revocation_case is not None
    assert "合同系伪造" in _html(response)


def test_a_rejected_complaint_shows_the_reason(client, enterprise_user, provider, officer):
    complaint = _complaint(enterprise_user, provider)
    complaint_services.complaint_reject(complaint=complaint, by=officer, reason="不属于本局受理范围")
    client.force_login(enterprise_user)
    html = _html(client.get(reverse("enterprise:complaint_detail", args=[complaint.pk])))
    assert "status-complaint-rejected" in html and "不属于本局受理范围" in html


def test_attachment_download_is_an_attachment_with_nosniff(client, enterprise_user, provider):
    complaint = _complaint(enterprise_user, provider, files=[_file("证据.pdf", PDF)])
    attachment = attachments_of(complaint).get()
    client.force_login(enterprise_user)
    response = client.get(reverse("enterprise:complaint_attachment", args=[complaint.pk, attachment.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    event = AuditEvent.objects.get(action=AuditEvent.Action.DOWNLOAD)
    assert (event.actor, event.object_id) == (enterprise_user, str(attachment.pk))


def test_an_attachment_is_only_served_under_its_own_complaint(client, enterprise_user, provider):
    first = _complaint(enterprise_user, provider, files=[_file("证据.pdf", PDF)])
    second = _complaint(enterprise_user, provider)
    client.force_login(enterprise_user)
    url = reverse("enterprise:complaint_attachment", args=[second.pk, attachments_of(first).get().pk])
    assert client.get(url).status_code == 404


# --- satisfaction surveys ------------------------------------------------------------------------------------


def _answers(score="4", overall="basically_satisfied", comment="响应较及时，但文档不全。"):
    scores = {f"item_{item.pk}": score for item in SurveyItem.objects.filter(is_active=True)}
    return {**scores, "overall": overall, "comment": comment}


def test_a_survey_through_the_form_creates_the_rating_with_all_answers_and_locks(
    client, enterprise_user, contract, provider
):
    milestone = _milestone(contract, date(2026, 4, 30))
    stage = f"milestone-{milestone.pk}"
    url = _survey_url(contract, stage)
    client.force_login(enterprise_user)
    items = list(SurveyItem.objects.filter(is_active=True))
    assert len(items) == 5
    with travel(at(2026, 5, 2)):
        page = _html(client.get(url))
        assert page.count("<fieldset") == len(items) + 1 and page.count("<legend>") == len(items) + 1
        assert 'value="dissatisfied"' in page and "不满意" in page and "基本满意" in page
        response = client.post(url, _answers(score="2", overall="dissatisfied"))
    assert response.status_code == 302 and response["Location"] == url
    rating = SatisfactionRating.objects.get()
    assert (rating.contract, rating.stage, rating.milestone) == (contract, stage, milestone)
    assert (rating.overall, rating.comment, rating.submitted_by) == (
        "dissatisfied",
        "响应较及时，但文档不全。",
        enterprise_user,
    )
    assert sorted(SurveyAnswer.objects.filter(rating=rating).values_list("item_id", "score")) == sorted(
        (item.pk, 2) for item in items
    )
    assert Notification.objects.filter(
        kind="rating_dissatisfied", recipient_organisation=provider.organisation
    ).exists()

    locked = client.get(url)
    html = _html(locked)
    assert '<form method="post"' not in html.split("</header>")[1]  # read-only: no survey form
    assert 'name="overall"' not in html
    assert "status-rating-dissatisfied" in html
    assert items[0].text in html

    again = client.post(url, _answers(score="5", overall="satisfied"))
    assert again.status_code == 200
    assert again.context["refusal"]
    assert 'role="alert"' in _html(again)
    assert SatisfactionRating.objects.get().overall == "dissatisfied"
    assert SurveyAnswer.objects.count() == len(items)


def test_a_survey_with_a_missing_answer_is_refused_and_nothing_is_stored(client, enterprise_user, contract):
    milestone = _milestone(contract, date(2026, 1, 15))
    data = _answers()
    first_item = SurveyItem.objects.filter(is_active=True).first()
    del data[f"item_{first_item.pk}"]
    client.force_login(enterprise_user)
    response = client.post(_survey_url(contract, f"milestone-{milestone.pk}"), data)
    assert response.status_code == 200
    assert response.context["form"].errors[f"item_{first_item.pk}"]
    assert f'id="id_item_{first_item.pk}_error"' in _html(response)
    assert not SatisfactionRating.objects.exists()


def test_surveys_are_due_after_a_milestone_date_and_at_acceptance(client, enterprise, enterprise_user, contract):
    first = _milestone(contract, date(2026, 4, 30), name="设备联网")
    second = _milestone(contract, date(2026, 6, 30), name="上线运行")
    ServiceContractFactory(enterprise=enterprise, status=ContractStatus.SIGNED).milestones.create(
        name="未开工", planned_on=date(2026, 1, 1), weight=100
    )
    client.force_login(enterprise_user)

    def due():
        return [(s.contract.pk, s.stage) for s in surveys_due(enterprise)]

    with travel(at(2026, 4, 30, 18)):
        assert due() == []
        assert client.get(_survey_url(contract, f"milestone-{first.pk}")).status_code == 404
    with travel(at(2026, 5, 1)):
        assert due() == [(contract.pk, f"milestone-{first.pk}")]
        assert client.post(_survey_url(contract, f"milestone-{first.pk}"), _answers()).status_code == 302
        assert due() == []
        assert "设备联网" in _html(client.get(reverse("enterprise:survey_list")))
    with travel(at(2026, 7, 1)):
        assert due() == [(contract.pk, f"milestone-{second.pk}")]
        contract.status = ContractStatus.INTERNALLY_ACCEPTED
        contract.save()
        assert due() == [(contract.pk, f"milestone-{second.pk}"), (contract.pk, "acceptance")]
        html = _html(client.get(reverse("enterprise:survey_list")))
        assert _survey_url(contract, "acceptance") in html
        assert client.post(_survey_url(contract, "acceptance"), _answers(overall="satisfied")).status_code == 302
        assert due() == [(contract.pk, f"milestone-{second.pk}")]
        contract.status = ContractStatus.TERMINATED
        contract.save()
        assert due() == []
        # A rated stage stays readable after the contract ended; an unrated one is no longer offered.
        assert client.get(_survey_url(contract, "acceptance")).status_code == 200
        assert client.get(_survey_url(contract, f"milestone-{second.pk}")).status_code == 404


def test_unknown_stages_answer_404(client, enterprise_user, contract, other_enterprise):
    foreign_milestone = _milestone(ServiceContractFactory(enterprise=other_enterprise), date(2026, 1, 1))
    client.force_login(enterprise_user)
    stages = [
        "milestone-999999",
        f"milestone-{foreign_milestone.pk}",
        "acceptance",
        "final",
        "milestone-0",
        "milestone-" + "9" * 19,
    ]
    for stage in stages:
        assert client.get(_survey_url(contract, stage)).status_code == 404, stage
