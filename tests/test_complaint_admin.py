"""The staff side of Articles 11 and 16 in the admin: complaint handling, appeal review, inspections, survey
questions and the working-day calendar. Every action goes through the admin views to the services; every other
role is refused and nothing changes; django-fsm's crafted POST changes nothing; county scope answers 404."""

from datetime import date

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext
from django_fsm_log.models import StateLog

from complaints import services as complaint_services
from complaints.models import Appeal, AppealStatus, AppealType, Complaint, ComplaintCategory, ComplaintStatus
from enterprises.models import ContractStatus, FeeConsequence
from evaluations import services
from evaluations.models import (
    BlacklistEntry,
    Evidence,
    Inspection,
    RectificationCase,
    RectificationStatus,
    RevocationCase,
    RevocationStatus,
    SatisfactionRating,
    SurveyAnswer,
    SurveyItem,
)
from providers.models import ProviderStatus
from tangshan_portal.models import Attachment, AuditEvent, County, Organisation, WorkCalendarDay
from tangshan_portal.roles import Role
from tests.enforcement import at, ordered_case, travel, warned_case
from tests.factories import PilotEnterpriseFactory, ProviderFactory, ServiceContractFactory, UserFactory

pytestmark = pytest.mark.django_db

LOGIN = reverse("admin:login")
COMPLAINTS = reverse("admin:complaints_complaint_changelist")
APPEALS = reverse("admin:complaints_appeal_changelist")
INSPECTIONS = reverse("admin:evaluations_inspection_changelist")
INSPECTION_ADD = reverse("admin:evaluations_inspection_add")
SURVEY_ITEMS = reverse("admin:evaluations_surveyitem_changelist")
SURVEY_ITEM_ADD = reverse("admin:evaluations_surveyitem_add")
CALENDAR = reverse("admin:portal_workcalendarday_changelist")
CALENDAR_ADD = reverse("admin:portal_workcalendarday_add")

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
HTML = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def _zh(text):
    """A message as the admin shows it: in the portal's language, HTML-escaped."""
    with translation.override("zh-hans"):
        return escape(str(text))


def _change(obj):
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


def _act(obj, action):
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_act", args=[obj.pk, action])


def _delete(obj):
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_delete", args=[obj.pk])


def _last_log(obj):
    return StateLog.objects.for_(obj).order_by("-id").first()


def _logs(obj):
    return StateLog.objects.for_(obj).count()


def _listed(response):
    assert response.status_code == 200
    return [obj.pk for obj in response.context["cl"].result_list]


def _county_user(county):
    org, _created = Organisation.objects.get_or_create(
        name=f"{county.name}工业和信息化局", kind=Organisation.Kind.COUNTY_BUREAU, county=county
    )
    return UserFactory(role=Role.COUNTY, organisation=org)


@pytest.fixture
def county():
    return County.objects.order_by("code").first()


@pytest.fixture
def enterprise(county):
    return PilotEnterpriseFactory(name="唐山钢件制造有限公司", county=county)


@pytest.fixture
def complainant(enterprise):
    return UserFactory(role=Role.ENTERPRISE, organisation=enterprise.organisation, full_name="投诉人赵六")


def _staff(role, county=None):
    """A staff user of `role`; county staff of `county` (in whose scope the records are)."""
    if role == Role.COUNTY:
        return _county_user(county)
    return UserFactory(role=role)


# --- Complaints --------------------------------------------------------------------------------------------------


def _complaint(provider, complainant, stage="submitted", *, officer=None, category=ComplaintCategory.SERVICE, **kw):
    """A complaint brought to `stage` through the services, filed by an enterprise user."""
    complaint = complaint_services.complaint_submit(
        by=complainant, provider=provider, category=category, description="驻场工程师连续两周未到岗", **kw
    )
    if stage == "submitted":
        return complaint
    complaint = complaint_services.complaint_accept(complaint=complaint, by=officer)
    if stage == "accepted":
        return complaint
    return complaint_services.complaint_investigate(complaint=complaint, by=officer)


COMPLAINT_ACTIONS = {
    # id: (action in the URL, stage it needs, form data, resulting status, transition logged)
    "accept": ("accept", "submitted", {"note": "已受理"}, ComplaintStatus.ACCEPTED, "accept"),
    "reject": ("reject", "submitted", {"reason": "不属于受理范围"}, ComplaintStatus.REJECTED, "reject"),
    "investigate": ("investigate", "accepted", {"note": "电话核实"}, ComplaintStatus.INVESTIGATING, "investigate"),
    "substantiated": (
        "conclude",
        "investigating",
        {"substantiated": "yes", "conclusion": "经核查情况属实"},
        ComplaintStatus.SUBSTANTIATED,
        "substantiate",
    ),
    "unsubstantiated": (
        "conclude",
        "investigating",
        {"substantiated": "no", "conclusion": "经核查情况不属实"},
        ComplaintStatus.UNSUBSTANTIATED,
        "find_unsubstantiated",
    ),
}


@pytest.mark.parametrize("key", list(COMPLAINT_ACTIONS))
def test_officer_takes_each_complaint_action_through_the_admin(client, key, provider, complainant, officer):
    action, stage, data, target, transition = COMPLAINT_ACTIONS[key]
    with travel(at(2026, 5, 4)):
        complaint = _complaint(provider, complainant, stage, officer=officer)
        client.force_login(officer)
        page = client.get(_change(complaint)).content.decode()
        assert f'action="{_act(complaint, action)}"' in page  # the button is offered
        assert client.get(_act(complaint, action)).status_code == 200
        response = client.post(_act(complaint, action), data)
    assert response.status_code == 302, response.content.decode()
    assert response["Location"] == _change(complaint)
    complaint.refresh_from_db()
    assert complaint.status == target
    log = _last_log(complaint)
    assert (log.transition, log.by, log.state) == (transition, officer, target)


@pytest.mark.parametrize("role", [Role.APPROVER, Role.COUNTY, Role.AUDITOR, Role.SYSADMIN, Role.ASSESSOR])
@pytest.mark.parametrize("key", list(COMPLAINT_ACTIONS))
def test_other_staff_roles_are_refused_every_complaint_action(
    client, key, role, provider, complainant, officer, county
):
    action, stage, data, _target, _transition = COMPLAINT_ACTIONS[key]
    with travel(at(2026, 5, 4)):
        complaint = _complaint(provider, complainant, stage, officer=officer)
        before = (complaint.status, _logs(complaint))
        client.force_login(_staff(role, county))
        if role in (Role.APPROVER, Role.COUNTY, Role.AUDITOR):
            page = client.get(_change(complaint))
            assert page.status_code == 200  # they read it …
            assert _act(complaint, action) not in page.content.decode()  # … and are offered no action
        assert client.get(_act(complaint, action)).status_code == 403
        assert client.post(_act(complaint, action), data).status_code == 403
    complaint.refresh_from_db()
    assert (complaint.status, _logs(complaint)) == before


@pytest.mark.parametrize("who", ["anonymous", Role.PROVIDER, Role.ENTERPRISE])
@pytest.mark.parametrize("key", ["accept", "reject"])
def test_anonymous_provider_and_enterprise_users_are_sent_to_the_admin_login(
    client, key, who, provider, complainant, officer
):
    action, stage, data, _target, _transition = COMPLAINT_ACTIONS[key]
    with travel(at(2026, 5, 4)):
        complaint = _complaint(provider, complainant, stage, officer=officer)
        if who == Role.PROVIDER:
            client.force_login(UserFactory(role=who, organisation=provider.organisation))
        elif who == Role.ENTERPRISE:
            client.force_login(complainant)
        for url in (_act(complaint, action), _change(complaint), COMPLAINTS):
            response = client.get(url)
            assert response.status_code == 302 and response["Location"].startswith(LOGIN), url
        response = client.post(_act(complaint, action), data)
        assert response.status_code == 302 and response["Location"].startswith(LOGIN)
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.SUBMITTED


@pytest.mark.parametrize("transition", ["accept", "reject", "substantiate"])
def test_a_crafted_fsm_transition_post_to_the_complaint_page_changes_nothing(
    client, admin_user, transition, provider, complainant, officer
):
    with travel(at(2026, 5, 4)):
        complaint = _complaint(provider, complainant)
        before = _logs(complaint)
        for user in (officer, admin_user):
            client.force_login(user)
            response = client.post(
                _change(complaint),
                {"_fsm_transition_to": transition, "status": "substantiated", "description": "改写", "_save": "1"},
            )
            assert response.status_code == 403
    complaint.refresh_from_db()
    assert (complaint.status, _logs(complaint)) == ("submitted", before)
    assert complaint.description == "驻场工程师连续两周未到岗"


def test_a_moved_on_complaint_explains_itself(client, provider, complainant, officer):
    with travel(at(2026, 5, 4)):
        complaint = _complaint(provider, complainant)
        client.force_login(officer)
        complaint_services.complaint_accept(complaint=complaint, by=UserFactory(role=Role.OFFICER))
        response = client.post(_act(complaint, "reject"), {"reason": "不属于受理范围"})
        assert response.status_code == 200 and "errornote" in response.content.decode()
        assert client.get(_act(complaint, "reject")).status_code == 302  # back to the page, with a message
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.ACCEPTED


def test_rejection_and_conclusion_need_their_texts_on_the_form(client, provider, complainant, officer):
    with travel(at(2026, 5, 4)):
        complaint = _complaint(provider, complainant)
        client.force_login(officer)
        response = client.post(_act(complaint, "reject"), {"reason": "   "})
        assert response.status_code == 200 and "errors field-reason" in response.content.decode()
        complaint = _complaint(provider, complainant, "investigating", officer=officer)
        response = client.post(_act(complaint, "conclude"), {"conclusion": "属实"})  # no outcome chosen
        assert response.status_code == 200 and "errorlist" in response.content.decode()
    assert not RectificationCase.objects.exists()


def test_a_substantiated_complaint_opens_the_case_its_category_calls_for(client, provider, complainant, officer):
    client.force_login(officer)
    with travel(at(2026, 5, 4)):
        service = _complaint(provider, complainant, "investigating", officer=officer)
        fraud = _complaint(provider, complainant, "investigating", officer=officer, category=ComplaintCategory.FRAUD)
        # The confirmation page says which case a substantiated finding opens, with the regulation's wording.
        page = client.get(_act(service, "conclude")).content.decode()
        assert "人员能力不足或团队配置不合理" in page  # Art 12(2)
        page = client.get(_act(fraud, "conclude")).content.decode()
        assert "伪造服务合同，联合相关方进行虚假交易" in page  # Art 13(5)
        for complaint in (service, fraud):
            data = {"substantiated": "yes", "conclusion": "经核查情况属实"}
            assert client.post(_act(complaint, "conclude"), data).status_code == 302
    service.refresh_from_db()
    fraud.refresh_from_db()
    case = service.rectification_case
    assert (case.status, case.ground, service.revocation_case) == (RectificationStatus.DRAFT, 2, None)
    assert Evidence.objects.filter(rectification_case=case, object_id=service.pk).exists()
    proposal = fraud.revocation_case
    assert (proposal.status, proposal.ground, fraud.rectification_case) == (RevocationStatus.PROPOSED, 5, None)
    # The complaint's page links to the case it opened.
    html = client.get(_change(service)).content.decode()
    assert f'href="{_change(case)}"' in html
    assert f'href="{_change(proposal)}"' in client.get(_change(fraud)).content.decode()


def test_the_complaint_page_shows_description_attachments_response_and_timeline(
    client, provider, provider_user, complainant, officer
):
    with travel(at(2026, 5, 4, 9, 30)):
        upload = SimpleUploadedFile("现场照片说明.pdf", PDF, content_type="application/pdf")
        complaint = _complaint(provider, complainant, files=[upload], protect_identity=True)
    with travel(at(2026, 5, 5, 14)):
        complaint_services.complaint_accept(complaint=complaint, by=officer, note="已受理，请服务商说明")
        complaint_services.complaint_provider_respond(complaint=complaint, by=provider_user, response="我方已补派人员")
    client.force_login(officer)
    with travel(at(2026, 5, 6)):
        html = client.get(_change(complaint)).content.decode()
    assert "驻场工程师连续两周未到岗" in html and "我方已补派人员" in html
    attachment = Attachment.objects.get()
    download = reverse("admin:complaints_complaint_attachment", args=[complaint.pk, attachment.pk])
    assert f'href="{download}"' in html and "现场照片说明.pdf" in html
    assert "投诉人赵六" in html  # the bureau knows who complained, even with the identity protected
    timeline = html[html.index("case-timeline") :]
    steps = [timeline.index(text) for text in ("2026-05-04 09:30", "2026-05-05 14:00")]
    assert steps == sorted(steps)
    assert officer.full_name in timeline and "已受理，请服务商说明" in timeline
    response = client.get(download)
    assert response.status_code == 200 and b"".join(response.streaming_content) == PDF
    assert AuditEvent.objects.filter(action=AuditEvent.Action.DOWNLOAD, object_id=str(attachment.pk)).exists()


def test_county_staff_see_their_countys_complaints_and_get_404_for_another(client, provider, complainant, officer):
    own, other = County.objects.order_by("code")[:2]
    outsider = UserFactory(role=Role.ENTERPRISE, organisation=PilotEnterpriseFactory(county=other).organisation)
    with travel(at(2026, 5, 4)):
        mine = _complaint(provider, complainant, files=[SimpleUploadedFile("a.pdf", PDF)])
        theirs = _complaint(provider, outsider, files=[SimpleUploadedFile("b.pdf", PDF)])
    client.force_login(_county_user(own))
    assert _listed(client.get(COMPLAINTS)) == [mine.pk]
    assert client.get(_change(mine)).status_code == 200
    their_file = Attachment.objects.get(object_id=theirs.pk)
    for url in (
        _change(theirs),
        _act(theirs, "accept"),
        reverse("admin:complaints_complaint_history", args=[theirs.pk]),
        reverse("admin:complaints_complaint_attachment", args=[theirs.pk, their_file.pk]),
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(_change(theirs), {"_fsm_transition_to": "accept"}).status_code == 404
    # The same answer as for a complaint that does not exist.
    assert client.get(_change(Complaint(pk=theirs.pk + 1000))).status_code == 404


def test_overdue_deadlines_are_red_and_filtered(client, provider, complainant, officer):
    with travel(at(2026, 5, 4)):  # acknowledge by 11 May, resolve by 15 June
        late = _complaint(provider, complainant)
        handled = _complaint(provider, complainant, "accepted", officer=officer)
        rejected = complaint_services.complaint_reject(
            complaint=_complaint(provider, complainant), by=officer, reason="重复投诉"
        )
    assert (late.acknowledge_by, late.resolve_by) == (date(2026, 5, 11), date(2026, 6, 15))
    client.force_login(officer)
    with travel(at(2026, 5, 12)):
        html = client.get(COMPLAINTS).content.decode()
        assert html.count('class="case-days-urgent"') == 1  # only the unacknowledged one; closed ones never
        assert _listed(client.get(COMPLAINTS + "?overdue=acknowledgement")) == [late.pk]
        assert _listed(client.get(COMPLAINTS + "?overdue=resolution")) == []
    with travel(at(2026, 6, 16)):
        assert client.get(COMPLAINTS).content.decode().count('class="case-days-urgent"') == 3
        assert set(_listed(client.get(COMPLAINTS + "?overdue=resolution"))) == {late.pk, handled.pk}
        assert set(_listed(client.get(COMPLAINTS + "?overdue=any"))) == {late.pk, handled.pk}
        assert rejected.pk not in _listed(client.get(COMPLAINTS + "?overdue=any"))
        assert _listed(client.get(COMPLAINTS + "?status__exact=rejected")) == [rejected.pk]
        assert _listed(client.get(COMPLAINTS + f"?q={provider.uscc}")) == [rejected.pk, handled.pk, late.pk]


def test_complaint_list_filters_by_category_and_the_enterprises_county(client, provider, complainant, officer):
    own, other = County.objects.order_by("code")[:2]
    outsider = UserFactory(role=Role.ENTERPRISE, organisation=PilotEnterpriseFactory(county=other).organisation)
    with travel(at(2026, 5, 4)):
        mine = _complaint(provider, complainant)
        theirs = _complaint(provider, outsider, category=ComplaintCategory.DATA_LEAK)
    client.force_login(officer)
    assert _listed(client.get(COMPLAINTS + f"?county={own.pk}")) == [mine.pk]
    assert _listed(client.get(COMPLAINTS + "?category__exact=data_leak")) == [theirs.pk]


# --- Appeals -----------------------------------------------------------------------------------------------------


@pytest.fixture
def reviewer(db):
    return UserFactory(role=Role.APPROVER, full_name="复核人孙八")


def _approved_revocation(provider, officer, approver):
    with travel(at(2026, 5, 1)):
        revocation = services.revocation_propose(provider=provider, ground=5, finding="伪造服务合同", by=officer)
    with travel(at(2026, 5, 8)):  # after the provider's statement period
        return services.revocation_approve(revocation=revocation, by=approver, reason="经核实合同系伪造")


@pytest.fixture
def revocation_appeal(provider, provider_user, officer, approver, enterprise):
    ServiceContractFactory(
        provider=provider, enterprise=enterprise, status=ContractStatus.IN_PROGRESS, advance_payment="50000.00"
    )
    revocation = _approved_revocation(provider, officer, approver)
    with travel(at(2026, 5, 9)):
        return complaint_services.appeal_file(
            by=provider_user, appeal_type=AppealType.REVOCATION, target=revocation, grounds="合同真实，有银行流水为证"
        )


def _under_review(appeal, reviewer):
    with travel(at(2026, 5, 10)):
        return complaint_services.appeal_start_review(appeal=appeal, by=reviewer)


def test_an_approver_who_took_no_part_takes_up_the_review_through_the_admin(client, revocation_appeal, reviewer):
    client.force_login(reviewer)
    with travel(at(2026, 5, 10)):
        page = client.get(_change(revocation_appeal)).content.decode()
        assert f'action="{_act(revocation_appeal, "review")}"' in page
        assert client.get(_act(revocation_appeal, "review")).status_code == 200
        response = client.post(_act(revocation_appeal, "review"), {})
    assert response.status_code == 302 and response["Location"] == _change(revocation_appeal)
    revocation_appeal.refresh_from_db()
    assert (revocation_appeal.status, revocation_appeal.reviewer) == (AppealStatus.UNDER_REVIEW, reviewer)
    log = _last_log(revocation_appeal)
    assert (log.transition, log.by, log.state) == ("start_review", reviewer, "under_review")


@pytest.mark.parametrize("who", ["proposer_and_approver", "decider"])
def test_a_reviewer_who_took_part_in_the_decision_is_refused(client, who, revocation_appeal, officer, approver):
    if who == "proposer_and_approver":
        # The officer who proposed the revocation, now also an approver: still a participant.
        officer.groups.add(*UserFactory(role=Role.APPROVER).groups.all())
        user = type(officer).objects.get(pk=officer.pk)
    else:
        user = approver  # who approved the revocation
    client.force_login(user)
    before = _logs(revocation_appeal)
    with travel(at(2026, 5, 10)):
        page = client.get(_change(revocation_appeal)).content.decode()
        assert _act(revocation_appeal, "review") not in page
        assert escape(user.full_name) in page[page.index("case-notes") :]  # named among those who may not review
        expected = _zh(gettext("You took part in the disputed decision and may not review this appeal."))
        refused = client.get(_act(revocation_appeal, "review"))
        assert refused.status_code == 403 and expected in refused.content.decode()
        assert client.post(_act(revocation_appeal, "review"), {}).status_code == 403
    revocation_appeal.refresh_from_db()
    assert (revocation_appeal.status, revocation_appeal.reviewer, _logs(revocation_appeal)) == (
        AppealStatus.SUBMITTED,
        None,
        before,
    )


def test_upholding_a_revocation_appeal_in_the_admin_reinstates_and_removes_the_entry(
    client, provider, revocation_appeal, reviewer
):
    appeal = _under_review(revocation_appeal, reviewer)
    entry = BlacklistEntry.objects.get()
    assert entry.status == BlacklistEntry.Status.UNDER_APPEAL
    client.force_login(reviewer)
    with travel(at(2026, 5, 12)):
        page = client.get(_act(appeal, "uphold")).content.decode()
        # The page says exactly what will be undone.
        assert entry.decision_number in page and provider.name in page
        assert 'name="new_deadline"' not in page  # only for a missed deadline
        response = client.post(_act(appeal, "uphold"), {"decision": "合同真实，撤销原决定"})
    assert response.status_code == 302, response.content.decode()
    appeal.refresh_from_db()
    provider.refresh_from_db()
    entry.refresh_from_db()
    assert appeal.status == AppealStatus.UPHELD and appeal.decision == "合同真实，撤销原决定"
    log = _last_log(appeal)
    assert (log.transition, log.by, log.state) == ("uphold", reviewer, "upheld")
    assert provider.status == ProviderStatus.IN_POOL
    assert entry.status == BlacklistEntry.Status.REMOVED and entry.removed_at == at(2026, 5, 12)  # kept, marked
    assert "合同真实，撤销原决定" in entry.removal_reason
    assert RevocationCase.objects.get().status == RevocationStatus.REVERSED
    assert FeeConsequence.objects.get().lifted_at is not None
    html = client.get(_change(appeal)).content.decode()
    assert "case-action-list" not in html  # decided: nothing left to do


def test_rejecting_a_revocation_appeal_publishes_the_entry_again(client, revocation_appeal, reviewer, provider):
    appeal = _under_review(revocation_appeal, reviewer)
    client.force_login(reviewer)
    with travel(at(2026, 5, 12)):
        assert client.get(_act(appeal, "reject")).status_code == 200
        response = client.post(_act(appeal, "reject"), {"decision": "证据不足"})
    assert response.status_code == 302
    appeal.refresh_from_db()
    assert appeal.status == AppealStatus.REJECTED
    assert (_last_log(appeal).transition, _last_log(appeal).by) == ("reject", reviewer)
    assert BlacklistEntry.objects.get().status == BlacklistEntry.Status.PUBLISHED
    provider.refresh_from_db()
    assert provider.status == ProviderStatus.REVOKED


@pytest.mark.parametrize("role", [Role.OFFICER, Role.COUNTY, Role.AUDITOR, Role.SYSADMIN, Role.ASSESSOR])
@pytest.mark.parametrize("action", ["review", "uphold", "reject"])
def test_other_roles_are_refused_every_appeal_action(client, action, role, revocation_appeal, reviewer, county):
    appeal = revocation_appeal if action == "review" else _under_review(revocation_appeal, reviewer)
    before = (appeal.status, _logs(appeal))
    client.force_login(_staff(role, county))
    with travel(at(2026, 5, 12)):
        if role in (Role.OFFICER, Role.COUNTY, Role.AUDITOR):
            page = client.get(_change(appeal))
            assert page.status_code == 200 and _act(appeal, action) not in page.content.decode()
        assert client.get(_act(appeal, action)).status_code == 403
        assert client.post(_act(appeal, action), {"decision": "理由"}).status_code == 403
    appeal.refresh_from_db()
    assert (appeal.status, _logs(appeal)) == before
    assert BlacklistEntry.objects.get().status == BlacklistEntry.Status.UNDER_APPEAL


@pytest.mark.parametrize("action", ["uphold", "reject"])
def test_only_the_reviewer_who_took_it_up_decides(client, action, revocation_appeal, reviewer):
    appeal = _under_review(revocation_appeal, reviewer)
    before = _logs(appeal)
    client.force_login(UserFactory(role=Role.APPROVER))  # an approver who took no part, but not the reviewer
    with travel(at(2026, 5, 12)):
        assert _act(appeal, action) not in client.get(_change(appeal)).content.decode()
        refused = client.get(_act(appeal, action))
        assert refused.status_code == 403 and _zh(reviewer.full_name) in refused.content.decode()  # says who
        assert client.post(_act(appeal, action), {"decision": "理由"}).status_code == 403
    appeal.refresh_from_db()
    assert (appeal.status, appeal.reviewer, _logs(appeal)) == (AppealStatus.UNDER_REVIEW, reviewer, before)


@pytest.mark.parametrize("who", ["anonymous", Role.PROVIDER, Role.ENTERPRISE])
def test_anonymous_provider_and_enterprise_users_cannot_review(client, who, revocation_appeal, provider_user):
    if who == Role.PROVIDER:
        client.force_login(provider_user)
    elif who == Role.ENTERPRISE:
        client.force_login(UserFactory(role=Role.ENTERPRISE, organisation=PilotEnterpriseFactory().organisation))
    with travel(at(2026, 5, 10)):
        for response in (client.get(_act(revocation_appeal, "review")), client.post(_act(revocation_appeal, "review"))):
            assert response.status_code == 302 and response["Location"].startswith(LOGIN)
        assert client.get(APPEALS)["Location"].startswith(LOGIN)
    revocation_appeal.refresh_from_db()
    assert revocation_appeal.status == AppealStatus.SUBMITTED


def test_a_crafted_fsm_transition_post_cannot_uphold_an_appeal(client, admin_user, revocation_appeal, reviewer):
    appeal = _under_review(revocation_appeal, reviewer)
    before = _logs(appeal)
    for user in (reviewer, admin_user):
        client.force_login(user)
        response = client.post(_change(appeal), {"_fsm_transition_to": "uphold", "decision": "X", "_save": "1"})
        assert response.status_code == 403
    appeal.refresh_from_db()
    assert (appeal.status, appeal.decision, _logs(appeal)) == (AppealStatus.UNDER_REVIEW, "", before)
    assert BlacklistEntry.objects.get().status == BlacklistEntry.Status.UNDER_APPEAL


def test_the_appeal_page_shows_grounds_target_state_and_who_may_not_review(
    client, revocation_appeal, officer, approver, reviewer
):
    client.force_login(reviewer)
    with travel(at(2026, 5, 10)):
        html = client.get(_change(revocation_appeal)).content.decode()
    revocation = RevocationCase.objects.get()
    assert "合同真实，有银行流水为证" in html
    assert f'href="{_change(revocation)}"' in html and revocation.decision_number in html
    notes = html[html.index("case-notes") :]
    assert escape(officer.full_name) in notes and escape(approver.full_name) in notes
    assert "case-timeline" in html


def _overdue_case(provider, officer):
    with travel(at(2026, 3, 20)):
        case = ordered_case(provider=provider, officer=officer)
    with travel(at(2026, 4, 21)):
        services.deadlines_check()
    case.refresh_from_db()
    assert case.status == RectificationStatus.OVERDUE
    return case


def test_upholding_a_missed_deadline_appeal_needs_the_new_deadline(client, provider, provider_user, officer, reviewer):
    case = _overdue_case(provider, officer)
    with travel(at(2026, 4, 22)):
        appeal = complaint_services.appeal_file(
            by=provider_user,
            appeal_type=AppealType.DIAGNOSIS_DELAYED,
            target=case,
            grounds="企业迟迟未提供诊断所需的生产数据",
            requested_deadline=date(2026, 5, 20),
        )
        complaint_services.appeal_start_review(appeal=appeal, by=reviewer)
        client.force_login(reviewer)
        page = client.get(_act(appeal, "uphold")).content.decode()
        assert 'name="new_deadline"' in page and 'value="2026-05-20"' in page  # the deadline asked for
        response = client.post(_act(appeal, "uphold"), {"decision": "延误属实", "new_deadline": ""})
        assert response.status_code == 200 and "errors field-new_deadline" in response.content.decode()
        appeal.refresh_from_db()
        assert appeal.status == AppealStatus.UNDER_REVIEW
        response = client.post(_act(appeal, "uphold"), {"decision": "延误属实", "new_deadline": "2026-05-25"})
    assert response.status_code == 302, response.content.decode()
    appeal.refresh_from_db()
    case.refresh_from_db()
    assert (appeal.status, appeal.granted_deadline) == (AppealStatus.UPHELD, date(2026, 5, 25))
    assert (case.status, case.deadline) == (RectificationStatus.RECTIFYING, date(2026, 5, 25))


@pytest.mark.parametrize("appeal_type", [AppealType.DISSATISFIED_RATING, AppealType.OTHER])
def test_upholding_a_rating_or_other_appeal_undoes_its_target(
    client, appeal_type, provider, provider_user, officer, reviewer, enterprise, complainant
):
    with travel(at(2026, 5, 4)):
        if appeal_type == AppealType.DISSATISFIED_RATING:
            contract = ServiceContractFactory(provider=provider, enterprise=enterprise)
            scores = {item.pk: 2 for item in SurveyItem.objects.filter(is_active=True)}
            target = services.survey_submit(
                contract=contract, stage="验收", overall="dissatisfied", scores=scores, by=complainant
            )
        else:
            target = warned_case(provider=provider, officer=officer)
        appeal = complaint_services.appeal_file(by=provider_user, appeal_type=appeal_type, target=target, grounds="x")
        complaint_services.appeal_start_review(appeal=appeal, by=reviewer)
        client.force_login(reviewer)
        assert client.get(_act(appeal, "uphold")).status_code == 200
        response = client.post(_act(appeal, "uphold"), {"decision": "申诉成立"})
    assert response.status_code == 302, response.content.decode()
    target.refresh_from_db()
    if appeal_type == AppealType.DISSATISFIED_RATING:
        assert target.voided and SatisfactionRating.objects.filter(pk=target.pk).exists()
    else:
        assert target.status == RectificationStatus.WITHDRAWN


def test_county_staff_see_appeals_of_providers_working_in_their_county_only(
    client, revocation_appeal, provider_user, officer
):
    own, other = County.objects.order_by("code")[:2]
    elsewhere = ProviderFactory()
    ServiceContractFactory(provider=elsewhere, enterprise=PilotEnterpriseFactory(county=other))
    staff = UserFactory(role=Role.PROVIDER, organisation=elsewhere.organisation)
    with travel(at(2026, 5, 4)):
        case = warned_case(provider=elsewhere, officer=officer)
        theirs = complaint_services.appeal_file(by=staff, appeal_type=AppealType.OTHER, target=case, grounds="理由")
    client.force_login(_county_user(own))
    assert _listed(client.get(APPEALS)) == [revocation_appeal.pk]
    assert client.get(_change(revocation_appeal)).status_code == 200
    assert client.get(_change(theirs)).status_code == 404
    assert client.get(_act(theirs, "review")).status_code == 404


# --- Query counts -------------------------------------------------------------------------------------------------


def test_complaint_and_appeal_lists_query_count_does_not_grow_with_rows(
    client, officer, approver, django_assert_max_num_queries
):
    def make(n):
        for _i in range(n):
            provider = ProviderFactory()
            provider_user = UserFactory(role=Role.PROVIDER, organisation=provider.organisation)
            enterprise = PilotEnterpriseFactory()
            complainant = UserFactory(role=Role.ENTERPRISE, organisation=enterprise.organisation)
            with travel(at(2026, 5, 4)):
                _complaint(provider, complainant)
                case = warned_case(provider=provider, officer=officer)
                complaint_services.appeal_file(by=provider_user, appeal_type=AppealType.OTHER, target=case, grounds="x")
                scores = {item.pk: 2 for item in SurveyItem.objects.filter(is_active=True)}
                rating = services.survey_submit(
                    contract=ServiceContractFactory(provider=provider, enterprise=enterprise),
                    stage="验收",
                    overall="dissatisfied",
                    scores=scores,
                    by=complainant,
                )
                complaint_services.appeal_file(
                    by=provider_user, appeal_type=AppealType.DISSATISFIED_RATING, target=rating, grounds="x"
                )
            revocation = _approved_revocation(provider, officer, approver)
            with travel(at(2026, 5, 9)):
                complaint_services.appeal_file(
                    by=provider_user, appeal_type=AppealType.REVOCATION, target=revocation, grounds="x"
                )

    client.force_login(officer)
    make(2)
    with travel(at(2026, 5, 12)), django_assert_max_num_queries(40) as few:
        assert client.get(COMPLAINTS).status_code == 200
        assert client.get(APPEALS).status_code == 200
    make(8)
    with travel(at(2026, 5, 12)), django_assert_max_num_queries(len(few.captured_queries)):
        assert len(client.get(COMPLAINTS).context["cl"].result_list) == 10
        assert len(client.get(APPEALS).context["cl"].result_list) == 30


# --- Inspections ---------------------------------------------------------------------------------------------------


def _inspection_data(provider, contract=None, **extra):
    return {
        "kind": Inspection.Kind.SITE_VISIT,
        "provider": provider.pk,
        "contract": contract.pk if contract else "",
        "conducted_on": "2026-05-04",
        "findings": "  现场未见驻场人员  ",
        "issues_found": "on",
        **extra,
    }


def test_officer_records_an_inspection_with_attachments_through_the_service(client, provider, officer):
    contract = ServiceContractFactory(provider=provider)
    client.force_login(officer)
    with travel(at(2026, 5, 4, 15)):
        page = client.get(INSPECTION_ADD)
        assert page.status_code == 200 and 'enctype="multipart/form-data"' in page.content.decode()
        assert 'value="2026-05-04"' in page.content.decode()  # today, proposed
        files = [SimpleUploadedFile("现场记录.pdf", PDF), SimpleUploadedFile("问卷.pdf", PDF + b"\n")]
        response = client.post(INSPECTION_ADD, _inspection_data(provider, contract, attachments=files))
    inspection = Inspection.objects.get()
    assert response.status_code == 302 and response["Location"] == _change(inspection)
    assert (inspection.kind, inspection.provider, inspection.contract, inspection.conducted_on) == (
        "site_visit",
        provider,
        contract,
        date(2026, 5, 4),
    )
    assert (inspection.issues_found, inspection.conducted_by) == (True, officer)
    assert inspection.findings == "现场未见驻场人员"  # stripped by the service
    stored = Attachment.objects.filter(content_type=ContentType.objects.get_for_model(Inspection))
    assert sorted(stored.values_list("original_name", flat=True)) == ["现场记录.pdf", "问卷.pdf"]
    html = client.get(_change(inspection)).content.decode()
    assert "现场记录.pdf" in html and f'action="{_act(inspection, "open_case")}"' in html


def test_an_html_file_renamed_pdf_is_refused_on_the_form_and_nothing_is_stored(client, provider, officer, media_root):
    client.force_login(officer)
    with travel(at(2026, 5, 4)):
        bad = SimpleUploadedFile("报告.pdf", HTML, content_type="application/pdf")
        response = client.post(INSPECTION_ADD, _inspection_data(provider, attachments=[bad]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "报告.pdf" in html and html.index("报告.pdf") > html.index("field-attachments")
    assert not Inspection.objects.exists() and not Attachment.objects.exists()
    assert not media_root.exists() or not any(path.is_file() for path in media_root.rglob("*"))


def test_the_services_errors_land_on_their_fields(client, provider, officer):
    client.force_login(officer)
    with travel(at(2026, 5, 4)):
        response = client.post(INSPECTION_ADD, _inspection_data(provider, conducted_on="2026-05-05"))
    assert response.status_code == 200
    html = response.content.decode()
    expected = _zh(gettext("An inspection cannot be recorded for a future date."))
    assert expected in html and html.index(expected) > html.index("field-conducted_on")
    assert not Inspection.objects.exists()


@pytest.mark.parametrize("role", [Role.APPROVER, Role.COUNTY, Role.AUDITOR, Role.SYSADMIN])
def test_only_officers_record_inspections(client, role, provider, county):
    client.force_login(_staff(role, county))
    with travel(at(2026, 5, 4)):
        assert client.get(INSPECTION_ADD).status_code == 403
        assert client.post(INSPECTION_ADD, _inspection_data(provider)).status_code == 403
    assert not Inspection.objects.exists()


def _inspection(provider, officer, issues_found=True):
    with travel(at(2026, 5, 4)):
        return services.inspection_record(
            kind="spot_check",
            provider=provider,
            conducted_on=date(2026, 5, 4),
            findings="抽查发现报价高于市场价",
            issues_found=issues_found,
            by=officer,
        )


def test_officer_opens_a_rectification_case_from_an_inspection(client, provider, officer):
    inspection = _inspection(provider, officer)
    client.force_login(officer)
    with travel(at(2026, 5, 5)):
        page = client.get(_act(inspection, "open_case")).content.decode()
        assert "抽查发现报价高于市场价" in page  # the finding starts as the inspection's findings
        response = client.post(_act(inspection, "open_case"), {"ground": "3", "finding": "报价虚高"})
    case = RectificationCase.objects.get()
    assert response.status_code == 302 and response["Location"] == _change(case)
    assert (case.status, case.ground, case.finding, case.opened_by) == ("draft", 3, "报价虚高", officer)
    assert Evidence.objects.get(rectification_case=case).target == inspection
    assert f'href="{_change(case)}"' in client.get(_change(inspection)).content.decode()


@pytest.mark.parametrize("role", [Role.APPROVER, Role.AUDITOR, Role.SYSADMIN])
def test_other_roles_cannot_open_a_case_from_an_inspection(client, role, provider, officer):
    inspection = _inspection(provider, officer)
    client.force_login(UserFactory(role=role))
    if role != Role.SYSADMIN:
        page = client.get(_change(inspection))
        assert page.status_code == 200 and _act(inspection, "open_case") not in page.content.decode()
    assert client.get(_act(inspection, "open_case")).status_code == 403
    assert client.post(_act(inspection, "open_case"), {"ground": "3", "finding": "x"}).status_code == 403
    assert not RectificationCase.objects.exists()


def test_an_inspection_without_problems_opens_no_case(client, provider, officer):
    inspection = _inspection(provider, officer, issues_found=False)
    client.force_login(officer)
    assert _act(inspection, "open_case") not in client.get(_change(inspection)).content.decode()
    assert client.post(_act(inspection, "open_case"), {"ground": "3", "finding": "x"}).status_code == 403
    assert not RectificationCase.objects.exists()


def test_inspection_list_filters(client, provider, officer):
    clean = _inspection(ProviderFactory(), officer, issues_found=False)
    found = _inspection(provider, officer)
    client.force_login(officer)
    assert _listed(client.get(INSPECTIONS + "?issues_found__exact=1")) == [found.pk]
    assert _listed(client.get(INSPECTIONS + f"?provider__id__exact={clean.provider_id}")) == [clean.pk]
    assert set(_listed(client.get(INSPECTIONS + "?conducted_on__year=2026&kind__exact=spot_check"))) == {
        clean.pk,
        found.pk,
    }


# --- Nothing is deleted or added behind the services ---------------------------------------------------------------


def test_no_delete_for_complaints_appeals_inspections_and_no_add_for_complaints_and_appeals(
    client, admin_user, revocation_appeal, complainant, provider, officer
):
    with travel(at(2026, 5, 9)):
        complaint = _complaint(provider, complainant)
    inspection = _inspection(provider, officer)
    client.force_login(admin_user)
    for obj in (complaint, revocation_appeal, inspection):
        assert client.get(_delete(obj)).status_code == 403
        assert client.post(_delete(obj), {"post": "yes"}).status_code == 403
        assert 'name="_save"' not in client.get(_change(obj)).content.decode()
    for url in (reverse("admin:complaints_complaint_add"), reverse("admin:complaints_appeal_add")):
        assert client.get(url).status_code == 403
    listing = client.get(COMPLAINTS).content.decode()
    assert "delete_selected" not in listing
    assert Complaint.objects.count() == 1 and Appeal.objects.count() == 1 and Inspection.objects.count() == 1


# --- Survey questions and the working-day calendar: the system administrator's -------------------------------------


def test_sysadmin_keeps_survey_questions_and_retires_rather_than_deletes(client):
    sysadmin = UserFactory(role=Role.SYSADMIN)
    client.force_login(sysadmin)
    response = client.post(SURVEY_ITEM_ADD, {"text": "数据安全保障措施", "sort_order": "9", "is_active": "on"})
    assert response.status_code == 302
    item = SurveyItem.objects.get(text="数据安全保障措施")
    change = _change(item)
    assert client.post(change, {"text": "数据安全与保密", "sort_order": "9"}).status_code == 302
    item.refresh_from_db()
    assert (item.text, item.is_active) == ("数据安全与保密", False)  # retired
    assert client.get(_delete(item)).status_code == 403
    assert "delete_selected" not in client.get(SURVEY_ITEMS).content.decode()


def test_an_answered_question_is_not_reworded(client, provider, complainant, enterprise):
    contract = ServiceContractFactory(provider=provider, enterprise=enterprise)
    with travel(at(2026, 5, 4)):
        scores = {item.pk: 4 for item in SurveyItem.objects.filter(is_active=True)}
        services.survey_submit(contract=contract, stage="验收", overall="satisfied", scores=scores, by=complainant)
    answered = SurveyAnswer.objects.first().item
    client.force_login(UserFactory(role=Role.SYSADMIN))
    client.post(_change(answered), {"text": "改写后的问题", "sort_order": "1", "is_active": "on"})
    answered.refresh_from_db()
    assert answered.text != "改写后的问题"


@pytest.mark.parametrize("role", [Role.OFFICER, Role.APPROVER, Role.COUNTY, Role.AUDITOR])
def test_other_staff_read_survey_questions_but_change_nothing(client, role, county):
    item = SurveyItem.objects.order_by("id").first()
    client.force_login(_staff(role, county))
    assert client.get(SURVEY_ITEMS).status_code == 200
    assert client.get(SURVEY_ITEM_ADD).status_code == 403
    assert client.post(SURVEY_ITEM_ADD, {"text": "新问题", "sort_order": "1"}).status_code == 403
    assert client.post(_change(item), {"text": "改写", "sort_order": "1"}).status_code == 403
    assert not SurveyItem.objects.filter(text__in=["新问题", "改写"]).exists()


def test_sysadmin_keeps_the_working_day_calendar(client):
    client.force_login(UserFactory(role=Role.SYSADMIN))
    response = client.post(CALENDAR_ADD, {"date": "2031-10-01", "is_workday": "", "name": "国庆节"})
    assert response.status_code == 302
    day = WorkCalendarDay.objects.get(date=date(2031, 10, 1))
    assert (day.is_workday, day.name) == (False, "国庆节")
    # Only exceptions to Monday–Friday are recorded: a Saturday rest day says nothing new.
    response = client.post(CALENDAR_ADD, {"date": "2031-10-04", "is_workday": "", "name": "周六"})
    assert response.status_code == 200 and "errornote" in response.content.decode()
    assert not WorkCalendarDay.objects.filter(date=date(2031, 10, 4)).exists()
    listing = client.get(CALENDAR + "?date__year=2031")
    assert _listed(listing) == [day.pk]


@pytest.mark.parametrize("role", [Role.OFFICER, Role.APPROVER, Role.COUNTY, Role.AUDITOR])
def test_only_the_sysadmin_keeps_the_calendar(client, role, county):
    client.force_login(_staff(role, county))
    assert client.get(CALENDAR).status_code == 403
    assert client.post(CALENDAR_ADD, {"date": "2031-10-01", "is_workday": "", "name": "国庆节"}).status_code == 403
    assert not WorkCalendarDay.objects.filter(date=date(2031, 10, 1)).exists()
