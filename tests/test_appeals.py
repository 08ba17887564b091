"""Article 16 appeals: filing within the window, an independent reviewer, and an upheld appeal undoing exactly
its target (deadline excused, rating voided, revocation reversed, case withdrawn), walked through time."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils.translation import gettext
from django_fsm_log.models import StateLog

from complaints import services
from complaints.models import Appeal, AppealStatus, AppealType
from enterprises.models import ContractStatus, FeeConsequence
from enterprises.services import contract_fail_acceptance
from evaluations import selectors
from evaluations import services as enforcement
from evaluations.models import (
    BlacklistEntry,
    RectificationCase,
    RectificationStatus,
    RevocationCase,
    RevocationStatus,
    SatisfactionRating,
)
from providers.models import ProviderStatus
from tangshan_portal.grounds import Art13Ground
from tangshan_portal.models import Notification
from tangshan_portal.roles import Role
from tests.enforcement import at, ordered_case, travel, warned_case
from tests.factories import (
    OrganisationFactory,
    PilotEnterpriseFactory,
    ProviderFactory,
    ServiceContractFactory,
    UserFactory,
)
from tests.test_revocation import _in_threads
from tests.test_surveys_and_inspections import rate

pytestmark = pytest.mark.django_db

WINDOW = timedelta(days=15)
Overall = SatisfactionRating.Overall


@pytest.fixture
def reviewer(db):
    """An approver who took no part in any of the decisions below."""
    return UserFactory(role=Role.APPROVER, username="approver_b")


def also_approver(user):
    user.groups.add(Group.objects.get(name=Role.APPROVER))
    return type(user).objects.get(pk=user.pk)  # a fresh object: permissions are cached per instance


def staff_of(provider):
    return UserFactory(role=Role.PROVIDER, organisation=provider.organisation)


def log_of(obj):
    return [
        (row.transition, row.source_state, row.state, row.by_id, row.description)
        for row in StateLog.objects.for_(obj).order_by("id")
    ]


# --- the disputed records ------------------------------------------------------------------------------------

OVERDUE_AT = at(2026, 4, 2, 1)


def overdue_case(provider, officer):
    """Ordered on 2 March with the 30-day deadline of 1 April, marked overdue by the sweep on 2 April, which
    also makes the rule engine propose revocation ground (1) citing it."""
    with travel(at(2026, 3, 2)):
        case = ordered_case(provider=provider, officer=officer)
    with travel(OVERDUE_AT):
        enforcement.deadlines_check()
    case.refresh_from_db()
    assert case.status == RectificationStatus.OVERDUE
    return case


def engine_proposal(provider, ground):
    return RevocationCase.objects.get(provider=provider, ground=ground, status=RevocationStatus.PROPOSED)


RATED_AT = at(2026, 5, 1)


def dissatisfied(provider, stage="里程碑1", when=RATED_AT):
    contract = ServiceContractFactory(provider=provider, status=ContractStatus.IN_PROGRESS)
    return rate(contract, stage, Overall.DISSATISFIED, when=when)


DECIDED_AT = at(2026, 5, 8)


def revoked(provider, officer, approver):
    """An approved fraud revocation (proposed 1 May, decided 8 May) with an active contract whose advance
    payment became recoverable (Art 14)."""
    contract = ServiceContractFactory(
        provider=provider, status=ContractStatus.IN_PROGRESS, advance_payment=Decimal("80000.00")
    )
    with travel(at(2026, 5, 1)):
        proposal = enforcement.revocation_propose(provider=provider, ground=5, finding="伪造服务合同", by=officer)
    with travel(DECIDED_AT):
        return enforcement.revocation_approve(revocation=proposal, by=approver, reason="伪造合同事实清楚"), contract


WARNED_AT = at(2026, 3, 2)


def warned(provider, officer):
    with travel(WARNED_AT):
        return warned_case(provider=provider, officer=officer)


def target_for(kind, provider, officer, approver):
    """(appeal type, target, the moment the appeal window opens) for each kind of appeal."""
    if kind == "deadline":
        return AppealType.DIAGNOSIS_DELAYED, overdue_case(provider, officer), OVERDUE_AT
    if kind == "rating":
        return AppealType.DISSATISFIED_RATING, dissatisfied(provider), RATED_AT
    if kind == "revocation":
        return AppealType.REVOCATION, revoked(provider, officer, approver)[0], DECIDED_AT
    return AppealType.OTHER, warned(provider, officer), WARNED_AT


KINDS = ["deadline", "rating", "revocation", "other"]


def file(by, appeal_type, target, when, grounds="企业多次拒绝提供诊断所需数据", **kwargs):
    with travel(when):
        return services.appeal_file(by=by, appeal_type=appeal_type, target=target, grounds=grounds, **kwargs)


def start(appeal, by, when):
    with travel(when):
        return services.appeal_start_review(appeal=appeal, by=by)


def uphold(appeal, by, when, decision="申诉理由成立", **kwargs):
    with travel(when):
        return services.appeal_uphold(appeal=appeal, by=by, decision=decision, **kwargs)


def reject(appeal, by, when, decision="申诉理由不成立"):
    with travel(when):
        return services.appeal_reject(appeal=appeal, by=by, decision=decision)


# --- filing --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_the_providers_own_staff_file_on_the_last_day_of_the_window(kind, provider, provider_user, officer, approver):
    appeal_type, target, since = target_for(kind, provider, officer, approver)
    when = since + WINDOW
    appeal = file(provider_user, appeal_type, target, when, requested_deadline=date(2026, 6, 30))
    appeal.refresh_from_db()
    assert (appeal.provider, appeal.appeal_type, appeal.target) == (provider, appeal_type, target)
    assert (appeal.filed_by, appeal.filed_at, appeal.status) == (provider_user, when, AppealStatus.SUBMITTED)
    assert appeal.requested_deadline == date(2026, 6, 30)
    assert log_of(appeal)[0][:4] == ("create", None, AppealStatus.SUBMITTED, provider_user.pk)
    notice = Notification.objects.get(kind="appeal_filed")
    assert notice.recipient_role == Role.APPROVER
    assert services.appeal_window_ends(appeal_type, target) == since + WINDOW


@pytest.mark.parametrize("kind", KINDS)
def test_an_appeal_after_the_window_is_refused(kind, provider, provider_user, officer, approver):
    appeal_type, target, since = target_for(kind, provider, officer, approver)
    with pytest.raises(ValidationError) as excinfo:
        file(provider_user, appeal_type, target, since + WINDOW + timedelta(minutes=1))
    assert excinfo.value.messages == [gettext("The appeal window of %(days)s days has closed.") % {"days": 15}]
    assert not Appeal.objects.exists()
    assert not Notification.objects.filter(kind="appeal_filed").exists()


@pytest.mark.parametrize("kind", KINDS)
def test_only_the_providers_own_staff_may_appeal_its_records(kind, provider, officer, approver):
    appeal_type, target, since = target_for(kind, provider, officer, approver)
    someone_else = staff_of(ProviderFactory())
    enterprise_user = UserFactory(role=Role.ENTERPRISE, organisation=PilotEnterpriseFactory().organisation)
    for user in (someone_else, enterprise_user, officer, approver, UserFactory(organisation=None)):
        with pytest.raises(PermissionDenied):
            file(user, appeal_type, target, since + timedelta(days=1))
    assert not Appeal.objects.exists()


def test_the_type_must_fit_the_record(provider, provider_user, officer):
    case = warned(provider, officer)
    with pytest.raises(PermissionDenied):
        file(provider_user, AppealType.DISSATISFIED_RATING, case, WARNED_AT + timedelta(days=1))
    with pytest.raises(PermissionDenied):
        file(provider_user, AppealType.REVOCATION, case, WARNED_AT + timedelta(days=1))
    assert not Appeal.objects.exists()


def test_only_appealable_records_can_be_appealed(provider, provider_user, officer):
    satisfied = rate(ServiceContractFactory(provider=provider), "验收", Overall.SATISFIED)
    with travel(at(2026, 5, 1)):
        proposed = enforcement.revocation_propose(provider=provider, ground=5, finding="伪造合同", by=officer)
        draft = enforcement.rectification_open(provider=provider, ground=2, finding="未进驻", by=officer)
    moment = at(2026, 5, 2)
    for appeal_type, target in [
        (AppealType.DISSATISFIED_RATING, satisfied),  # only a "dissatisfied" rating
        (AppealType.REVOCATION, proposed),  # only an approved revocation
        (AppealType.OTHER, draft),  # a draft was never notified to the provider
    ]:
        with pytest.raises(ValidationError):
            file(provider_user, appeal_type, target, moment)
    assert not Appeal.objects.exists()


def test_an_appeal_needs_grounds(provider, provider_user, officer):
    case = warned(provider, officer)
    with pytest.raises(ValidationError):
        file(provider_user, AppealType.OTHER, case, WARNED_AT + timedelta(days=1), grounds="  ")
    assert not Appeal.objects.exists()


def test_a_deadline_appeal_against_a_case_without_a_deadline_is_refused(provider, provider_user, officer):
    case = warned(provider, officer)
    with pytest.raises(ValidationError):
        file(provider_user, AppealType.DIAGNOSIS_DELAYED, case, WARNED_AT + timedelta(days=1))
    assert not Appeal.objects.exists()


def test_one_pending_appeal_per_record(provider, provider_user, officer, reviewer):
    with travel(at(2026, 3, 2)):
        case = ordered_case(provider=provider, officer=officer)  # deadline 1 April, still running
    first = file(provider_user, AppealType.DIAGNOSIS_DELAYED, case, at(2026, 3, 3))
    pending = gettext("An appeal against this record is already pending.")
    for appeal_type in (AppealType.DIAGNOSIS_DELAYED, AppealType.OTHER):
        with pytest.raises(ValidationError) as excinfo:
            file(staff_of(provider), appeal_type, case, at(2026, 3, 4))
        assert excinfo.value.messages == [pending]
    start(first, reviewer, at(2026, 3, 5))
    with pytest.raises(ValidationError) as excinfo:  # under review is still pending
        file(provider_user, AppealType.OTHER, case, at(2026, 3, 6))
    assert excinfo.value.messages == [pending]
    assert Appeal.objects.count() == 1
    reject(first, reviewer, at(2026, 3, 7))
    # Decided: the decision settles the dispute, the record is not appealed a second time.
    with pytest.raises(ValidationError) as excinfo:
        file(provider_user, AppealType.OTHER, case, at(2026, 3, 8), grounds="整改要求本身不当")
    assert excinfo.value.messages == [gettext("An appeal against this record has already been decided.")]
    assert Appeal.objects.count() == 1


# --- the reviewer --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "role",
    [Role.OFFICER, Role.COUNTY, Role.AUDITOR, Role.SYSADMIN, Role.ASSESSOR, Role.PROVIDER, Role.ENTERPRISE],
)
def test_only_approvers_take_up_an_appeal(role, provider, provider_user, officer):
    appeal = file(provider_user, AppealType.OTHER, warned(provider, officer), at(2026, 3, 3))
    user = {
        Role.PROVIDER: lambda: staff_of(provider),
        Role.ENTERPRISE: lambda: UserFactory(role=role, organisation=PilotEnterpriseFactory().organisation),
        Role.COUNTY: lambda: UserFactory(role=role, organisation=OrganisationFactory(county_bureau=True)),
    }.get(role, lambda: UserFactory(role=role))()
    before = log_of(appeal)
    with pytest.raises(PermissionDenied):
        start(appeal, user, at(2026, 3, 4))
    appeal.refresh_from_db()
    assert (appeal.status, appeal.reviewer) == (AppealStatus.SUBMITTED, None)
    assert log_of(appeal) == before


def test_the_approver_who_approved_the_revocation_may_not_review_the_appeal(
    provider, provider_user, officer, approver, reviewer
):
    revocation, _contract = revoked(provider, officer, approver)
    dual = also_approver(officer)  # the proposing officer, should they also hold the approver role
    appeal = file(provider_user, AppealType.REVOCATION, revocation, at(2026, 5, 10))
    for participant in (approver, dual):
        with pytest.raises(PermissionDenied):
            start(appeal, participant, at(2026, 5, 11))
    appeal.refresh_from_db()
    assert appeal.status == AppealStatus.SUBMITTED
    appeal = start(appeal, reviewer, at(2026, 5, 11))
    assert (appeal.status, appeal.reviewer, appeal.review_started_at) == (
        AppealStatus.UNDER_REVIEW,
        reviewer,
        at(2026, 5, 11),
    )


@pytest.mark.parametrize("appeal_type", [AppealType.DIAGNOSIS_DELAYED, AppealType.OTHER])
def test_the_officer_who_ordered_the_case_may_not_review_even_as_an_approver(
    appeal_type, provider, provider_user, officer, reviewer
):
    dual = also_approver(UserFactory(role=Role.OFFICER))
    with travel(at(2026, 3, 2)):
        case = ordered_case(provider=provider, officer=dual)
    appeal = file(provider_user, appeal_type, case, at(2026, 3, 3))
    with pytest.raises(PermissionDenied):
        start(appeal, dual, at(2026, 3, 4))
    assert start(appeal, reviewer, at(2026, 3, 4)).reviewer == reviewer


def test_officers_of_the_cases_a_revocation_relied_on_may_not_review_its_appeal(provider, provider_user, reviewer):
    """The engine proposed revocation on an overdue case; whoever ran that case took part in the decision."""
    dual = also_approver(UserFactory(role=Role.OFFICER))
    overdue_case(provider, dual)
    proposal = engine_proposal(provider, Art13Ground.RECTIFICATION)
    deciding = UserFactory(role=Role.APPROVER)
    with travel(at(2026, 4, 8)):
        enforcement.revocation_approve(revocation=proposal, by=deciding, reason="逾期拒不整改")
    proposal.refresh_from_db()
    appeal = file(provider_user, AppealType.REVOCATION, proposal, at(2026, 4, 10))
    for participant in (dual, deciding):
        with pytest.raises(PermissionDenied):
            start(appeal, participant, at(2026, 4, 11))
    assert start(appeal, reviewer, at(2026, 4, 11)).status == AppealStatus.UNDER_REVIEW


def test_only_the_reviewer_who_took_it_up_decides(provider, provider_user, officer, reviewer):
    case = warned(provider, officer)
    appeal = file(provider_user, AppealType.OTHER, case, at(2026, 3, 3))
    other_approver = UserFactory(role=Role.APPROVER)
    with pytest.raises(ValidationError):  # not under review yet
        uphold(appeal, reviewer, at(2026, 3, 4))
    start(appeal, reviewer, at(2026, 3, 4))
    with pytest.raises(ValidationError):  # already taken up
        start(appeal, other_approver, at(2026, 3, 4))
    for decide in (uphold, reject):
        with pytest.raises(PermissionDenied):
            decide(appeal, other_approver, at(2026, 3, 5))
        with pytest.raises(PermissionDenied):
            decide(appeal, officer, at(2026, 3, 5))
        with pytest.raises(ValidationError):  # the reviewer, but without reasons
            decide(appeal, reviewer, at(2026, 3, 5), decision=" ")
    appeal.refresh_from_db()
    case.refresh_from_db()
    assert (appeal.status, appeal.decided_at, case.status) == (AppealStatus.UNDER_REVIEW, None, "warned")
    reject(appeal, reviewer, at(2026, 3, 5))
    with pytest.raises(ValidationError):  # decided once
        uphold(appeal, reviewer, at(2026, 3, 6))
    appeal.refresh_from_db()
    assert appeal.status == AppealStatus.REJECTED


# --- (1) a missed deadline ------------------------------------------------------------------------------------


def test_upheld_deadline_appeal_sets_the_case_rectifying_with_the_new_deadline(
    provider, provider_user, officer, reviewer
):
    case = overdue_case(provider, officer)
    appeal = file(
        provider_user, AppealType.DIAGNOSIS_DELAYED, case, at(2026, 4, 3), requested_deadline=date(2026, 5, 10)
    )
    start(appeal, reviewer, at(2026, 4, 6))
    with pytest.raises(ValidationError):  # a new deadline is needed …
        uphold(appeal, reviewer, at(2026, 4, 7))
    with pytest.raises(ValidationError):  # … after today
        uphold(appeal, reviewer, at(2026, 4, 7), new_deadline=date(2026, 4, 7))
    case.refresh_from_db()
    appeal.refresh_from_db()
    assert (case.status, appeal.status) == (RectificationStatus.OVERDUE, AppealStatus.UNDER_REVIEW)

    appeal = uphold(appeal, reviewer, at(2026, 4, 7), decision="企业拖延提供数据属实", new_deadline=date(2026, 5, 10))
    appeal.refresh_from_db()
    case.refresh_from_db()
    provider.refresh_from_db()
    assert (appeal.status, appeal.granted_deadline, appeal.decided_at) == (
        AppealStatus.UPHELD,
        date(2026, 5, 10),
        at(2026, 4, 7),
    )
    assert (case.status, case.deadline, case.overdue_at) == (RectificationStatus.RECTIFYING, date(2026, 5, 10), None)
    assert provider.status == enforcement.standing_for(provider) == ProviderStatus.UNDER_RECTIFICATION
    transition, source, state, by, description = log_of(case)[-1]
    assert (transition, source, state, by) == ("excuse_deadline", "overdue", "rectifying", reviewer.pk)
    assert "企业拖延提供数据属实" in description
    assert [row[:4] for row in log_of(appeal)] == [
        ("create", None, "submitted", provider_user.pk),
        ("start_review", "submitted", "under_review", reviewer.pk),
        ("uphold", "under_review", "upheld", reviewer.pk),
    ]
    assert log_of(appeal)[-1][4] == "企业拖延提供数据属实"
    assert Notification.objects.filter(
        kind="rectification_deadline_excused", recipient_organisation=provider.organisation
    )
    assert Notification.objects.filter(kind="appeal_decided", recipient_organisation=provider.organisation)

    # The new deadline really runs: the provider may report until then, and the sweep marks it overdue after.
    with travel(at(2026, 5, 10, 22)):
        assert enforcement.deadlines_check()["overdue"] == 0
    with travel(at(2026, 5, 11, 1)):
        assert enforcement.deadlines_check()["overdue"] == 1


def test_rejected_deadline_appeal_changes_nothing(provider, provider_user, officer, reviewer):
    case = overdue_case(provider, officer)
    appeal = file(provider_user, AppealType.DIAGNOSIS_DELAYED, case, at(2026, 4, 3))
    start(appeal, reviewer, at(2026, 4, 6))
    reject(appeal, reviewer, at(2026, 4, 7), decision="未提供企业拖延的证据")
    case.refresh_from_db()
    assert (case.status, case.deadline) == (RectificationStatus.OVERDUE, date(2026, 4, 1))
    assert log_of(appeal)[-1][:4] == ("reject", "under_review", "rejected", reviewer.pk)
    assert Notification.objects.get(kind="appeal_decided").subject


# --- a pending appeal blocks approval of a proposal that cites the disputed record -----------------------------


def test_a_pending_appeal_on_a_cited_case_blocks_approval_until_decided(
    provider, provider_user, officer, approver, reviewer
):
    case = overdue_case(provider, officer)
    proposal = engine_proposal(provider, Art13Ground.RECTIFICATION)
    appeal = file(provider_user, AppealType.DIAGNOSIS_DELAYED, case, at(2026, 4, 3))
    with travel(at(2026, 4, 8)):  # the statement period is over
        assert selectors.evidence_under_appeal(proposal)
        with pytest.raises(ValidationError):
            enforcement.revocation_approve(revocation=proposal, by=approver, reason="逾期拒不整改")
    start(appeal, reviewer, at(2026, 4, 8))
    with travel(at(2026, 4, 8)), pytest.raises(ValidationError):
        enforcement.revocation_approve(revocation=proposal, by=approver, reason="逾期拒不整改")
    proposal.refresh_from_db()
    provider.refresh_from_db()
    assert (proposal.status, provider.status) == (RevocationStatus.PROPOSED, ProviderStatus.UNDER_RECTIFICATION)
    assert not BlacklistEntry.objects.exists()

    reject(appeal, reviewer, at(2026, 4, 9))
    with travel(at(2026, 4, 9)):
        assert not selectors.evidence_under_appeal(proposal)
        enforcement.revocation_approve(revocation=proposal, by=approver, reason="逾期拒不整改")
    provider.refresh_from_db()
    assert provider.status == ProviderStatus.REVOKED


def test_a_pending_appeal_on_a_cited_rating_blocks_approval_until_decided(provider, provider_user, approver, reviewer):
    first = dissatisfied(provider, when=at(2026, 5, 1))
    dissatisfied(provider, stage="验收", when=at(2026, 5, 2))
    with travel(at(2026, 5, 2, 11)):
        enforcement.deadlines_check()
    proposal = engine_proposal(provider, Art13Ground.DISSATISFIED)
    appeal = file(provider_user, AppealType.DISSATISFIED_RATING, first, at(2026, 5, 3), grounds="评价与事实不符")
    with travel(at(2026, 5, 8)), pytest.raises(ValidationError):
        enforcement.revocation_approve(revocation=proposal, by=approver, reason="两次不满意")
    start(appeal, reviewer, at(2026, 5, 8))
    reject(appeal, reviewer, at(2026, 5, 9))
    with travel(at(2026, 5, 9)):
        enforcement.revocation_approve(revocation=proposal, by=approver, reason="两次不满意")
    proposal.refresh_from_db()
    assert proposal.status == RevocationStatus.APPROVED


# --- (2) a "dissatisfied" rating -----------------------------------------------------------------------------


def test_upheld_rating_appeal_voids_the_rating_and_it_no_longer_counts(provider, provider_user, reviewer):
    first = dissatisfied(provider, when=at(2026, 5, 1))
    second = dissatisfied(provider, stage="验收", when=at(2026, 5, 2))
    appeal = file(
        provider_user, AppealType.DISSATISFIED_RATING, first, at(2026, 5, 2, 9), grounds="评价人并非项目对接人"
    )
    start(appeal, reviewer, at(2026, 5, 2, 9, 30))
    uphold(appeal, reviewer, at(2026, 5, 2, 10), decision="评价程序不当")
    first.refresh_from_db()
    assert (first.voided, first.voided_at) == (True, at(2026, 5, 2, 10))
    assert "评价程序不当" in first.void_reason
    assert first.overall == Overall.DISSATISFIED  # the rating itself is kept
    transition, source, state, by, description = log_of(first)[-1]
    assert (transition, source, state, by) == ("void", "dissatisfied", "voided", reviewer.pk)
    assert "评价程序不当" in description

    # Two "dissatisfied" ratings were submitted, but only one counts: the engine proposes nothing.
    with travel(at(2026, 5, 2, 11)):
        assert enforcement.deadlines_check()["proposals"] == 0
    assert not RevocationCase.objects.exists()
    # A voided rating can no longer be appealed (it does not count).
    with pytest.raises(ValidationError):
        file(provider_user, AppealType.DISSATISFIED_RATING, first, at(2026, 5, 3))
    # A new one makes two counted again: the proposal cites the counted ones only.
    third = dissatisfied(provider, stage="里程碑2", when=at(2026, 5, 4))
    with travel(at(2026, 5, 4, 11)):
        enforcement.deadlines_check()
    proposal = engine_proposal(provider, Art13Ground.DISSATISFIED)
    assert set(proposal.evidence.values_list("object_id", flat=True)) == {second.pk, third.pk}


def test_after_an_upheld_rating_appeal_the_dismissed_count_is_not_proposed_again(
    provider, provider_user, approver, reviewer
):
    first = dissatisfied(provider, when=at(2026, 5, 1))
    dissatisfied(provider, stage="验收", when=at(2026, 5, 2))
    with travel(at(2026, 5, 2, 11)):
        enforcement.deadlines_check()
    proposal = engine_proposal(provider, Art13Ground.DISSATISFIED)
    appeal = file(provider_user, AppealType.DISSATISFIED_RATING, first, at(2026, 5, 3))
    start(appeal, reviewer, at(2026, 5, 4))
    uphold(appeal, reviewer, at(2026, 5, 5))
    proposal.refresh_from_db()
    assert proposal.status == RevocationStatus.DISMISSED  # the appeal took away part of its basis
    assert proposal.decided_by == reviewer
    with travel(at(2026, 5, 8)):
        enforcement.deadlines_check()
    assert RevocationCase.objects.count() == 1  # one counted rating left: nothing to propose again


def test_a_proposal_whose_cited_rating_was_voided_on_appeal_cannot_be_approved(
    provider, provider_user, approver, reviewer
):
    first = dissatisfied(provider, when=at(2026, 5, 1))
    dissatisfied(provider, stage="验收", when=at(2026, 5, 2))
    with travel(at(2026, 5, 2, 11)):
        enforcement.deadlines_check()
    proposal = engine_proposal(provider, Art13Ground.DISSATISFIED)
    appeal = file(provider_user, AppealType.DISSATISFIED_RATING, first, at(2026, 5, 3))
    start(appeal, reviewer, at(2026, 5, 4))
    uphold(appeal, reviewer, at(2026, 5, 5))
    with travel(at(2026, 5, 8)), pytest.raises(ValidationError):
        enforcement.revocation_approve(revocation=proposal, by=approver, reason="两次不满意")
    provider.refresh_from_db()
    assert provider.status == ProviderStatus.IN_POOL


# --- (3) a revocation and its blacklist entry ------------------------------------------------------------------


def test_a_pending_revocation_appeal_shows_under_appeal_and_a_rejection_publishes_again(
    provider, provider_user, officer, approver, reviewer
):
    revocation, _contract = revoked(provider, officer, approver)
    entry = BlacklistEntry.objects.get(revocation=revocation)
    assert entry.status == BlacklistEntry.Status.PUBLISHED
    appeal = file(provider_user, AppealType.REVOCATION, revocation, at(2026, 5, 10), grounds="合同真实有效")
    entry.refresh_from_db()
    assert entry.status == BlacklistEntry.Status.UNDER_APPEAL
    assert entry.get_status_display() == "申诉中"
    assert list(selectors.blacklist_public()) == [entry]  # still shown, marked under appeal
    start(appeal, reviewer, at(2026, 5, 11))
    reject(appeal, reviewer, at(2026, 5, 12))
    entry.refresh_from_db()
    revocation.refresh_from_db()
    provider.refresh_from_db()
    assert entry.status == BlacklistEntry.Status.PUBLISHED
    assert (revocation.status, provider.status) == (RevocationStatus.APPROVED, ProviderStatus.REVOKED)
    assert FeeConsequence.objects.get().lifted_at is None


def test_upheld_revocation_appeal_reinstates_the_provider_and_removes_the_public_entry(
    provider, provider_user, officer, approver, reviewer
):
    revocation, contract = revoked(provider, officer, approver)
    unrelated = contract_fail_acceptance(
        contract=ServiceContractFactory(provider=ProviderFactory(), status=ContractStatus.INTERNALLY_ACCEPTED),
        by=officer,
        reason="评测等级未达二级",
    )
    appeal = file(provider_user, AppealType.REVOCATION, revocation, at(2026, 5, 20), grounds="合同真实，附银行流水")
    start(appeal, reviewer, at(2026, 5, 21))
    uphold(appeal, reviewer, at(2026, 5, 22), decision="认定伪造合同的证据不足")

    provider.refresh_from_db()
    revocation.refresh_from_db()
    assert provider.status == ProviderStatus.IN_POOL
    assert (revocation.status, revocation.reversed_at) == (RevocationStatus.REVERSED, at(2026, 5, 22))
    assert "认定伪造合同的证据不足" in revocation.reversal_reason
    assert revocation.decision_number  # the decision and its number stay on record

    entry = BlacklistEntry.objects.get(revocation=revocation)  # kept in history …
    assert (entry.status, entry.removed_at) == (BlacklistEntry.Status.REMOVED, at(2026, 5, 22))
    assert "认定伪造合同的证据不足" in entry.removal_reason
    assert entry not in selectors.blacklist_public()  # … but no longer public
    assert not selectors.blacklist_public().filter(provider=provider).exists()

    consequence = FeeConsequence.objects.get(contract=contract)
    assert consequence.lifted_at is not None
    assert "认定伪造合同的证据不足" in consequence.lift_reason
    unrelated.refresh_from_db()
    assert unrelated.lifted_at is None  # only the consequences of this decision
    contract.refresh_from_db()
    assert contract.status == ContractStatus.TERMINATED  # the parties decide whether to sign again

    assert log_of(revocation)[-1][:4] == ("reverse", "approved", "reversed", reviewer.pk)
    assert log_of(provider)[-1][:4] == ("reinstate", "revoked", "in_pool", reviewer.pk)
    assert log_of(appeal)[-1][:4] == ("uphold", "under_review", "upheld", reviewer.pk)


def test_a_reinstated_provider_can_be_proposed_again_on_new_facts(provider, provider_user, officer, approver, reviewer):
    revocation, _contract = revoked(provider, officer, approver)
    appeal = file(provider_user, AppealType.REVOCATION, revocation, at(2026, 5, 10))
    start(appeal, reviewer, at(2026, 5, 11))
    uphold(appeal, reviewer, at(2026, 5, 12))
    with travel(at(2026, 6, 1)):
        again = enforcement.revocation_propose(provider=provider, ground=5, finding="新的虚假交易", by=officer)
    assert again.status == RevocationStatus.PROPOSED


def test_a_reinstated_provider_with_an_open_case_is_under_rectification(provider, provider_user, officer, reviewer):
    case = overdue_case(provider, officer)
    proposal = engine_proposal(provider, Art13Ground.RECTIFICATION)
    deciding = UserFactory(role=Role.APPROVER)
    with travel(at(2026, 4, 8)):
        enforcement.revocation_approve(revocation=proposal, by=deciding, reason="逾期拒不整改")
    proposal.refresh_from_db()
    appeal = file(provider_user, AppealType.REVOCATION, proposal, at(2026, 4, 10))
    start(appeal, reviewer, at(2026, 4, 11))
    uphold(appeal, reviewer, at(2026, 4, 12))
    provider.refresh_from_db()
    case.refresh_from_db()
    assert case.status == RectificationStatus.OVERDUE
    assert provider.status == enforcement.standing_for(provider) == ProviderStatus.UNDER_RECTIFICATION


# --- (4) other: the case itself ------------------------------------------------------------------------------


@pytest.mark.parametrize("stage", ["warned", "rectifying"])
def test_upheld_other_appeal_withdraws_the_case_and_standing_follows(stage, provider, provider_user, officer, reviewer):
    if stage == "warned":
        case = warned(provider, officer)
        expected_before = ProviderStatus.WARNED
    else:
        with travel(WARNED_AT):
            case = ordered_case(provider=provider, officer=officer)
        expected_before = ProviderStatus.UNDER_RECTIFICATION
    provider.refresh_from_db()
    assert provider.status == expected_before
    appeal = file(provider_user, AppealType.OTHER, case, at(2026, 3, 5), grounds="认定事实有误")
    start(appeal, reviewer, at(2026, 3, 6))
    uphold(appeal, reviewer, at(2026, 3, 7), decision="认定事实有误，撤销案件")
    case.refresh_from_db()
    provider.refresh_from_db()
    assert (case.status, case.closed_at) == (RectificationStatus.WITHDRAWN, at(2026, 3, 7))
    assert "认定事实有误，撤销案件" in case.closing_note
    assert not case.is_counted
    assert not RectificationCase.objects.counted().filter(pk=case.pk).exists()
    assert provider.status == ProviderStatus.IN_POOL
    assert log_of(case)[-1][:4] == ("withdraw", stage, "withdrawn", reviewer.pk)
    assert log_of(provider)[-1][1:4] == (expected_before, "in_pool", reviewer.pk)


def test_an_appeal_against_a_closed_case_is_refused(provider, provider_user, officer):
    with travel(WARNED_AT):
        case = ordered_case(provider=provider, officer=officer)
        case = enforcement.rectification_respond(case=case, by=provider_user, report="已整改")
        case = enforcement.rectification_verify(case=case, by=officer)
    with pytest.raises(ValidationError) as excinfo:
        file(provider_user, AppealType.OTHER, case, at(2026, 3, 5))
    assert "target" in excinfo.value.message_dict
    assert not Appeal.objects.exists()
    case.refresh_from_db()
    assert case.status == RectificationStatus.VERIFIED


# --- concurrency, on a real PostgreSQL ------------------------------------------------------------------------


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_approvers_taking_up_the_same_appeal_at_once_exactly_one_succeeds(provider, officer):
    provider_user = UserFactory(role=Role.PROVIDER, organisation=provider.organisation)
    appeal = file(provider_user, AppealType.OTHER, warned(provider, officer), at(2026, 3, 3))
    approvers = [UserFactory(role=Role.APPROVER), UserFactory(role=Role.APPROVER)]
    with travel(at(2026, 3, 4)):
        results = _in_threads(2, lambda i: services.appeal_start_review(appeal=appeal, by=approvers[i]))
    outcomes = sorted(kind for kind, _value in results)
    assert outcomes == ["error", "ok"], results
    error = next(value for kind, value in results if kind == "error")
    assert isinstance(error, ValidationError)
    winner = next(value for kind, value in results if kind == "ok").reviewer
    appeal.refresh_from_db()
    assert (appeal.status, appeal.reviewer) == (AppealStatus.UNDER_REVIEW, winner)
    assert StateLog.objects.for_(appeal).filter(transition="start_review").count() == 1
