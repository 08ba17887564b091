"""Article 11 complaints: submission with working-day deadlines and checked attachments, every transition for
every role, and what a substantiated complaint opens through the enforcement services."""

from datetime import date

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils import translation
from django.utils.translation import gettext
from django_fsm_log.models import StateLog

from complaints import services
from complaints.models import Complaint, ComplaintCategory, ComplaintStatus
from enterprises.models import ContractStatus
from evaluations.models import Evidence, RectificationCase, RectificationStatus, RevocationCase, RevocationStatus
from tangshan_portal import services as portal_services
from tangshan_portal.grounds import Art12Ground, Art13Ground
from tangshan_portal.models import Attachment, Notification
from tangshan_portal.roles import Role
from tangshan_portal.services import notifications_for
from tests.enforcement import at, travel
from tests.factories import (
    OrganisationFactory,
    PilotEnterpriseFactory,
    ProviderFactory,
    ServiceContractFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>'
HTML = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def enterprise(db):
    return PilotEnterpriseFactory(name="唐山钢件制造有限公司")


@pytest.fixture
def enterprise_user(enterprise):
    return UserFactory(role=Role.ENTERPRISE, organisation=enterprise.organisation, username="enterprise_staff")


@pytest.fixture
def contract(provider, enterprise):
    return ServiceContractFactory(provider=provider, enterprise=enterprise, status=ContractStatus.IN_PROGRESS)


def user_with(role, provider=None, enterprise=None):
    """A user of `role` in an organisation that fits it (the complained-about provider's or the complainant's
    own staff for those two roles, to show that even they may not handle complaints)."""
    if role == Role.PROVIDER:
        return UserFactory(role=role, organisation=provider.organisation)
    if role == Role.ENTERPRISE:
        return UserFactory(role=role, organisation=enterprise.organisation)
    if role == Role.COUNTY:
        return UserFactory(role=role, organisation=OrganisationFactory(county_bureau=True))
    return UserFactory(role=role)


def submit(by, provider, *, category=ComplaintCategory.SERVICE, **kwargs):
    kwargs.setdefault("description", "服务团队三周未进驻，项目停滞")
    return services.complaint_submit(by=by, provider=provider, category=category, **kwargs)


def complaint_in(status, *, enterprise_user, provider, officer, category=ComplaintCategory.SERVICE, contract=None):
    """A complaint brought to `status` through the services."""
    complaint = submit(enterprise_user, provider, category=category, contract=contract)
    if status == ComplaintStatus.SUBMITTED:
        return complaint
    if status == ComplaintStatus.REJECTED:
        return services.complaint_reject(complaint=complaint, by=officer, reason="不属于受理范围")
    complaint = services.complaint_accept(complaint=complaint, by=officer)
    if status == ComplaintStatus.ACCEPTED:
        return complaint
    complaint = services.complaint_investigate(complaint=complaint, by=officer)
    if status == ComplaintStatus.INVESTIGATING:
        return complaint
    return services.complaint_conclude(
        complaint=complaint,
        by=officer,
        substantiated=status == ComplaintStatus.SUBSTANTIATED,
        conclusion="经核查，情况属实" if status == ComplaintStatus.SUBSTANTIATED else "经核查，情况不属实",
    )


def log_of(obj):
    return list(
        StateLog.objects.for_(obj)
        .order_by("id")
        .values_list("transition", "source_state", "state", "by", "description")
    )


# --- submission ----------------------------------------------------------------------------------------------


def test_an_enterprise_user_submits_a_complaint_with_working_day_deadlines(enterprise_user, enterprise, provider):
    with travel(at(2026, 9, 28, 10)):  # Monday before National Day
        complaint = submit(enterprise_user, provider, protect_identity=True)
    assert (complaint.enterprise, complaint.provider, complaint.contract) == (enterprise, provider, None)
    assert (complaint.status, complaint.submitted_by) == (ComplaintStatus.SUBMITTED, enterprise_user)
    assert complaint.submitted_at == at(2026, 9, 28, 10)
    assert complaint.protect_identity
    # 5 working days: 29 and 30 September, 8 and 9 October and the make-up Saturday 10 October.
    assert complaint.acknowledge_by == date(2026, 10, 10)
    # 30 working days: …, the last one Friday 13 November.
    assert complaint.resolve_by == date(2026, 11, 13)
    [(transition, source, state, by, description)] = log_of(complaint)
    assert (transition, source, state, by) == ("create", None, "submitted", enterprise_user.pk)
    assert description
    notice = Notification.objects.get(kind="complaint_submitted")
    assert notice.recipient_role == Role.OFFICER
    assert "2026-10-10" in notice.body


def test_the_deadlines_come_from_settings_and_the_local_date(enterprise_user, provider, settings):
    settings.COMPLAINT_ACK_WORKING_DAYS = 1
    settings.COMPLAINT_RESOLUTION_WORKING_DAYS = 3
    # 23:30 in Shanghai on Wednesday 30 September is still the 30th locally (15:30 UTC).
    with travel(at(2026, 9, 30, 23, 30)):
        complaint = submit(enterprise_user, provider)
    assert (complaint.acknowledge_by, complaint.resolve_by) == (date(2026, 10, 8), date(2026, 10, 10))


def test_a_year_without_calendar_rows_still_gets_deadlines(enterprise_user, provider):
    with travel(at(2031, 10, 1, 9)):  # a Wednesday; 2031 has no calendar rows, so Monday–Friday
        complaint = submit(enterprise_user, provider)
    assert complaint.acknowledge_by == date(2031, 10, 8)


def test_a_complaint_may_cite_the_enterprises_contract_with_the_provider(enterprise_user, provider, contract):
    complaint = submit(enterprise_user, provider, contract=contract)
    assert complaint.contract == contract


@pytest.mark.parametrize("who", ["provider", "officer", "approver", "no_organisation", "other_bureau"])
def test_only_enterprise_staff_may_complain(who, provider):
    user = {
        "provider": lambda: UserFactory(role=Role.PROVIDER, organisation=ProviderFactory().organisation),
        "officer": lambda: UserFactory(role=Role.OFFICER),
        "approver": lambda: UserFactory(role=Role.APPROVER),
        "no_organisation": lambda: UserFactory(organisation=None),
        "other_bureau": lambda: UserFactory(role=Role.ENTERPRISE),  # enterprise role, but a bureau organisation
    }[who]()
    with pytest.raises(PermissionDenied):
        submit(user, provider)
    assert not Complaint.objects.exists()
    assert not Notification.objects.exists()


@pytest.mark.parametrize("whose", ["other_enterprise", "other_provider"])
def test_a_contract_of_another_enterprise_or_provider_is_refused(whose, enterprise, enterprise_user, provider):
    if whose == "other_enterprise":
        contract = ServiceContractFactory(provider=provider)  # a new enterprise
    else:
        contract = ServiceContractFactory(enterprise=enterprise)  # a new provider
    with pytest.raises(ValidationError) as excinfo:
        submit(enterprise_user, provider, contract=contract)
    assert "contract" in excinfo.value.message_dict
    assert not Complaint.objects.exists()


def test_a_complaint_needs_a_description(enterprise_user, provider):
    with pytest.raises(ValidationError):
        submit(enterprise_user, provider, description="   ")
    assert not Complaint.objects.exists()


# --- attachments -------------------------------------------------------------------------------------------


def test_a_real_pdf_is_stored_against_the_complaint(enterprise_user, provider, media_root):
    upload = SimpleUploadedFile("现场照片说明.pdf", PDF, content_type="application/pdf")
    complaint = submit(enterprise_user, provider, files=[upload])
    attachment = Attachment.objects.get()
    assert attachment.content_type == ContentType.objects.get_for_model(Complaint)
    assert attachment.object_id == complaint.pk
    assert (attachment.purpose, attachment.mime_type, attachment.size) == ("complaint", "application/pdf", len(PDF))
    assert attachment.original_name == "现场照片说明.pdf"
    assert attachment.uploaded_by == enterprise_user
    with attachment.file.open("rb") as stored:
        assert stored.read() == PDF
    assert list(portal_services.attachments_of(complaint)) == [attachment]


def _files_under(folder):
    return [path for path in folder.rglob("*") if path.is_file()] if folder.exists() else []


REFUSED_UPLOADS = {
    # name: (file name, bytes, declared type, English msgid of the expected message)
    "svg_with_script": (
        "logo.svg",
        SVG,
        "image/svg+xml",
        "The file “%(name)s” is not a PDF, PNG or JPEG image, or Office document.",
    ),
    "html_named_pdf": (
        "合同扫描件.pdf",
        HTML,
        "application/pdf",
        "The file “%(name)s” is not a PDF, PNG or JPEG image, or Office document.",
    ),
    "oversized_pdf": (
        "大文件.pdf",
        PDF + b"%" * 200,
        "application/pdf",
        "The file “%(name)s” is larger than %(limit)s.",
    ),
}


@pytest.mark.parametrize("case", list(REFUSED_UPLOADS))
def test_a_refused_upload_stores_nothing_and_says_why_in_chinese(
    case, enterprise_user, provider, media_root, monkeypatch
):
    name, content, declared, msgid = REFUSED_UPLOADS[case]
    monkeypatch.setattr(portal_services, "MAX_UPLOAD_BYTES", 128)
    good = SimpleUploadedFile("说明.pdf", PDF, content_type="application/pdf")
    bad = SimpleUploadedFile(name, content, content_type=declared)
    with translation.override("zh-hans"):
        with pytest.raises(ValidationError) as excinfo:
            submit(enterprise_user, provider, files=[bad])
        expected = gettext(msgid) % {"name": name, "limit": filesizeformat(128)}
    assert excinfo.value.messages == [expected]
    assert expected != msgid % {"name": name, "limit": filesizeformat(128)}  # it was translated
    assert "文件" in expected and ("不是PDF" in expected or "超过" in expected)
    assert not Complaint.objects.exists()
    assert not Attachment.objects.exists()
    assert not Notification.objects.exists()
    assert not StateLog.objects.filter(content_type=ContentType.objects.get_for_model(Complaint)).exists()
    assert _files_under(media_root) == []

    # A good file before the refused one does not leave a complaint or an attachment row behind either.
    good.seek(0)
    bad.seek(0)
    with pytest.raises(ValidationError):
        submit(enterprise_user, provider, files=[good, bad])
    assert not Complaint.objects.exists()
    assert not Attachment.objects.exists()


# --- the state machine: who may do what ----------------------------------------------------------------------

ACTIONS = {
    # action: (status it needs, call, resulting status)
    "accept": (
        ComplaintStatus.SUBMITTED,
        lambda c, u: services.complaint_accept(complaint=c, by=u, note="予以受理"),
        ComplaintStatus.ACCEPTED,
    ),
    "reject": (
        ComplaintStatus.SUBMITTED,
        lambda c, u: services.complaint_reject(complaint=c, by=u, reason="不属于受理范围"),
        ComplaintStatus.REJECTED,
    ),
    "investigate": (
        ComplaintStatus.ACCEPTED,
        lambda c, u: services.complaint_investigate(complaint=c, by=u, note="调取合同和进驻记录"),
        ComplaintStatus.INVESTIGATING,
    ),
    "substantiate": (
        ComplaintStatus.INVESTIGATING,
        lambda c, u: services.complaint_conclude(complaint=c, by=u, substantiated=True, conclusion="情况属实"),
        ComplaintStatus.SUBSTANTIATED,
    ),
    "unsubstantiate": (
        ComplaintStatus.INVESTIGATING,
        lambda c, u: services.complaint_conclude(complaint=c, by=u, substantiated=False, conclusion="情况不属实"),
        ComplaintStatus.UNSUBSTANTIATED,
    ),
}
OTHER_ROLES = [
    Role.APPROVER,
    Role.COUNTY,
    Role.AUDITOR,
    Role.SYSADMIN,
    Role.ASSESSOR,
    Role.PROVIDER,
    Role.ENTERPRISE,
]


@pytest.mark.parametrize("action", list(ACTIONS))
def test_officers_take_every_transition_and_it_is_logged(action, enterprise_user, provider, officer):
    needs, call, target = ACTIONS[action]
    complaint = complaint_in(needs, enterprise_user=enterprise_user, provider=provider, officer=officer)
    other_officer = UserFactory(role=Role.OFFICER)
    result = call(complaint, other_officer)
    assert result.status == target
    complaint.refresh_from_db()
    assert complaint.status == target
    transition, source, state, by, description = log_of(complaint)[-1]
    assert (source, state, by) == (needs, target, other_officer.pk)
    assert transition != "create" and description


@pytest.mark.parametrize("role", OTHER_ROLES)
@pytest.mark.parametrize("action", list(ACTIONS))
def test_every_other_role_is_refused_every_transition(action, role, enterprise, enterprise_user, provider, officer):
    needs, call, _target = ACTIONS[action]
    complaint = complaint_in(needs, enterprise_user=enterprise_user, provider=provider, officer=officer)
    before = log_of(complaint)
    cases_before = (RectificationCase.objects.count(), RevocationCase.objects.count())
    with pytest.raises(PermissionDenied):
        call(complaint, user_with(role, provider=provider, enterprise=enterprise))
    complaint.refresh_from_db()
    assert complaint.status == needs
    assert log_of(complaint) == before
    assert (RectificationCase.objects.count(), RevocationCase.objects.count()) == cases_before


ALL_STATUSES = list(ComplaintStatus)


@pytest.mark.parametrize(
    ("status", "action"),
    [(status, action) for status in ALL_STATUSES for action, (needs, _c, _t) in ACTIONS.items() if status != needs],
)
def test_a_transition_not_available_from_the_current_status_is_refused(
    status, action, enterprise_user, provider, officer
):
    complaint = complaint_in(status, enterprise_user=enterprise_user, provider=provider, officer=officer)
    before = log_of(complaint)
    _needs, call, _target = ACTIONS[action]
    with pytest.raises(ValidationError):
        call(complaint, officer)
    complaint.refresh_from_db()
    assert complaint.status == status
    assert log_of(complaint) == before


def test_rejection_and_conclusion_need_their_reasons(enterprise_user, provider, officer):
    complaint = submit(enterprise_user, provider)
    with pytest.raises(ValidationError):
        services.complaint_reject(complaint=complaint, by=officer, reason="  ")
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.SUBMITTED
    complaint = complaint_in(
        ComplaintStatus.INVESTIGATING, enterprise_user=enterprise_user, provider=provider, officer=officer
    )
    with pytest.raises(ValidationError):
        services.complaint_conclude(complaint=complaint, by=officer, substantiated=True, conclusion="")
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.INVESTIGATING
    assert not RectificationCase.objects.exists()


# --- what a conclusion opens ---------------------------------------------------------------------------------

ART12_CATEGORIES = [
    (ComplaintCategory.SERVICE, Art12Ground.SERVICE_FAILURE),
    (ComplaintCategory.SOLUTION_OR_PRICE, Art12Ground.SOLUTION_OR_PRICE),
    (ComplaintCategory.RESULTS, Art12Ground.RESULT_DEVIATION),
    (ComplaintCategory.NON_COOPERATION, Art12Ground.NON_COOPERATION),
    (ComplaintCategory.OTHER, Art12Ground.OTHER),
]
ART13_CATEGORIES = [
    (ComplaintCategory.DATA_LEAK, Art13Ground.LEAK),
    (ComplaintCategory.FRAUD, Art13Ground.FRAUD),
    (ComplaintCategory.UNFAIR_COMPETITION, Art13Ground.UNFAIR_COMPETITION),
    (ComplaintCategory.FALSE_ADVERTISING, Art13Ground.FALSE_ADVERTISING),
]


def _evidence_of(case_field, case):
    return {(e.content_type.model_class(), e.object_id) for e in Evidence.objects.filter(**{case_field: case})}


@pytest.mark.parametrize(("category", "ground"), ART12_CATEGORIES)
def test_a_substantiated_complaint_opens_a_rectification_case_with_the_complaint_as_evidence(
    category, ground, enterprise_user, provider, officer, contract
):
    complaint = complaint_in(
        ComplaintStatus.SUBSTANTIATED,
        enterprise_user=enterprise_user,
        provider=provider,
        officer=officer,
        category=category,
        contract=contract,
    )
    case = complaint.rectification_case
    assert case is not None and complaint.revocation_case is None
    complaint.refresh_from_db()
    assert complaint.rectification_case == case
    assert (case.provider, case.contract, case.ground, case.opened_by) == (provider, contract, ground, officer)
    assert case.status == RectificationStatus.DRAFT  # the officer then warns, as for any case
    assert "情况属实" in case.finding
    assert _evidence_of("rectification_case", case) == {(Complaint, complaint.pk), (type(contract), contract.pk)}
    assert list(case.complaints.all()) == [complaint]
    assert not RevocationCase.objects.exists()


@pytest.mark.parametrize(("category", "ground"), ART13_CATEGORIES)
def test_a_substantiated_serious_complaint_opens_a_revocation_proposal(
    category, ground, enterprise_user, provider, officer
):
    complaint = complaint_in(
        ComplaintStatus.SUBSTANTIATED,
        enterprise_user=enterprise_user,
        provider=provider,
        officer=officer,
        category=category,
    )
    proposal = complaint.revocation_case
    assert proposal is not None and complaint.rectification_case is None
    complaint.refresh_from_db()
    assert complaint.revocation_case == proposal
    assert (proposal.provider, proposal.ground, proposal.status) == (provider, ground, RevocationStatus.PROPOSED)
    assert (proposal.source, proposal.proposed_by) == (RevocationCase.Source.OFFICER, officer)
    assert _evidence_of("revocation_case", proposal) == {(Complaint, complaint.pk)}
    # Due process: the provider is told the proposed grounds.
    assert Notification.objects.filter(kind="revocation_proposed", recipient_organisation=provider.organisation)
    assert not RectificationCase.objects.exists()


def test_an_unsubstantiated_complaint_opens_nothing(enterprise_user, provider, officer):
    complaint = complaint_in(
        ComplaintStatus.UNSUBSTANTIATED,
        enterprise_user=enterprise_user,
        provider=provider,
        officer=officer,
        category=ComplaintCategory.FRAUD,
    )
    assert (complaint.rectification_case, complaint.revocation_case) == (None, None)
    assert complaint.conclusion == "经核查，情况不属实" and complaint.closed_at is not None
    assert not RectificationCase.objects.exists()
    assert not RevocationCase.objects.exists()
    assert not Evidence.objects.exists()


def test_a_second_substantiated_complaint_on_the_same_ground_joins_the_open_proposal(
    enterprise_user, provider, officer
):
    first = complaint_in(
        ComplaintStatus.SUBSTANTIATED,
        enterprise_user=enterprise_user,
        provider=provider,
        officer=officer,
        category=ComplaintCategory.FRAUD,
    )
    other = UserFactory(role=Role.ENTERPRISE, organisation=PilotEnterpriseFactory().organisation)
    second = complaint_in(
        ComplaintStatus.SUBSTANTIATED,
        enterprise_user=other,
        provider=provider,
        officer=officer,
        category=ComplaintCategory.FRAUD,
    )
    assert second.revocation_case == first.revocation_case
    assert _evidence_of("revocation_case", first.revocation_case) == {(Complaint, first.pk), (Complaint, second.pk)}


# --- notifications and the provider's response -----------------------------------------------------------------


def test_the_complainant_is_told_each_step_and_the_provider_never_learns_a_protected_identity(
    enterprise, enterprise_user, provider, provider_user, officer
):
    complaint = submit(enterprise_user, provider, protect_identity=True)
    services.complaint_accept(complaint=complaint, by=officer, note="已受理，将在期限内办结")
    services.complaint_investigate(complaint=complaint, by=officer)
    services.complaint_conclude(complaint=complaint, by=officer, substantiated=False, conclusion="证据不足")
    to_enterprise = Notification.objects.filter(recipient_organisation=enterprise.organisation)
    assert sorted(to_enterprise.values_list("kind", flat=True)) == ["complaint_accepted", "complaint_concluded"]
    assert to_enterprise.get(kind="complaint_concluded").body == "证据不足"
    assert set(notifications_for(enterprise_user).values_list("kind", flat=True)) >= {
        "complaint_accepted",
        "complaint_concluded",
    }
    to_provider = Notification.objects.get(recipient_organisation=provider.organisation)
    assert to_provider.kind == "complaint_against_you"
    assert enterprise.name not in to_provider.subject + to_provider.body
    assert "complaint_against_you" in set(notifications_for(provider_user).values_list("kind", flat=True))

    rejected = submit(enterprise_user, provider)
    services.complaint_reject(complaint=rejected, by=officer, reason="不属于本局受理范围")
    notice = Notification.objects.get(kind="complaint_rejected")
    assert (notice.recipient_organisation, notice.body) == (enterprise.organisation, "不属于本局受理范围")


@pytest.mark.parametrize("status", [ComplaintStatus.ACCEPTED, ComplaintStatus.INVESTIGATING])
def test_the_providers_own_staff_respond_while_the_bureau_handles_it(
    status, enterprise_user, provider, provider_user, officer
):
    complaint = complaint_in(status, enterprise_user=enterprise_user, provider=provider, officer=officer)
    with travel(at(2026, 6, 1, 15)):
        complaint = services.complaint_provider_respond(complaint=complaint, by=provider_user, response="已于本周进驻")
    complaint.refresh_from_db()
    assert (complaint.provider_response, complaint.provider_responded_at) == ("已于本周进驻", at(2026, 6, 1, 15))
    assert complaint.status == status
    notice = Notification.objects.get(kind="complaint_provider_response")
    assert notice.recipient_user == officer


@pytest.mark.parametrize(
    "status",
    [
        ComplaintStatus.SUBMITTED,
        ComplaintStatus.REJECTED,
        ComplaintStatus.SUBSTANTIATED,
        ComplaintStatus.UNSUBSTANTIATED,
    ],
)
def test_no_response_outside_the_handling(status, enterprise_user, provider, provider_user, officer):
    complaint = complaint_in(status, enterprise_user=enterprise_user, provider=provider, officer=officer)
    with pytest.raises(ValidationError):
        services.complaint_provider_respond(complaint=complaint, by=provider_user, response="补充说明")
    complaint.refresh_from_db()
    assert complaint.provider_response == ""


def test_only_the_providers_own_staff_respond(enterprise_user, provider, provider_user, officer):
    complaint = complaint_in(
        ComplaintStatus.ACCEPTED, enterprise_user=enterprise_user, provider=provider, officer=officer
    )
    stranger = UserFactory(role=Role.PROVIDER, organisation=ProviderFactory().organisation)
    for user in [stranger, enterprise_user, officer, UserFactory(role=Role.APPROVER), UserFactory(organisation=None)]:
        with pytest.raises(PermissionDenied):
            services.complaint_provider_respond(complaint=complaint, by=user, response="不是我们的问题")
    with pytest.raises(ValidationError):
        services.complaint_provider_respond(complaint=complaint, by=provider_user, response=" ")
    complaint.refresh_from_db()
    assert complaint.provider_response == ""
