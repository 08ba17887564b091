"""Article 12 rectification cases: every transition for every role, deadlines, document numbers, standing."""

from datetime import date, timedelta

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django_fsm_log.models import StateLog

from evaluations import services
from evaluations.models import RectificationCase, RectificationStatus
from providers.models import ProviderStatus
from tangshan_portal.models import Notification, Organisation
from tangshan_portal.roles import Role
from tests.enforcement import at, ordered_case, state_case, travel, warned_case
from tests.factories import OrganisationFactory, ProviderFactory, UserFactory

pytestmark = pytest.mark.django_db

OTHER_ROLES = [Role.APPROVER, Role.COUNTY, Role.ASSESSOR, Role.AUDITOR, Role.SYSADMIN, Role.ENTERPRISE]


def _user(role):
    if role == Role.COUNTY:
        return UserFactory(role=role, organisation=OrganisationFactory(county_bureau=True))
    return UserFactory(role=role)


def _log(case):
    return list(StateLog.objects.for_(case).order_by("id").values_list("transition", "source_state", "state", "by"))


# --- who may do what ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [*OTHER_ROLES, Role.PROVIDER])
def test_only_officers_open_cases(role, provider):
    user = _user(role) if role != Role.PROVIDER else UserFactory(role=role, organisation=provider.organisation)
    with pytest.raises(PermissionDenied):
        services.rectification_open(provider=provider, ground=2, finding="x", by=user)
    assert not RectificationCase.objects.exists()


def _case_in(stage, provider, officer):
    """A case brought to `stage` by the officer (and the provider's own staff for the report)."""
    case = services.rectification_open(provider=provider, ground=3, finding="采购清单价格虚高", by=officer)
    if stage == "draft":
        return case
    # The provider states its case, so the officer may order rectification without waiting for the period.
    case = state_case(services.rectification_warn(case=case, by=officer))
    if stage == "warned":
        return case
    case = services.rectification_order(case=case, by=officer)
    if stage == "rectifying":
        return case
    staff = UserFactory(role=Role.PROVIDER, organisation=provider.organisation)
    return services.rectification_respond(case=case, by=staff, report="已按要求重新报价")


ACTIONS = {
    # action: (stage it needs, call, resulting status)
    "warn": ("draft", lambda case, user: services.rectification_warn(case=case, by=user), "warned"),
    "order": ("warned", lambda case, user: services.rectification_order(case=case, by=user), "rectifying"),
    "verify": ("responded", lambda case, user: services.rectification_verify(case=case, by=user), "verified"),
    "return": (
        "responded",
        lambda case, user: services.rectification_return(case=case, by=user, reason="报价依据不足"),
        "returned",
    ),
    "withdraw": (
        "warned",
        lambda case, user: services.rectification_withdraw(case=case, by=user, reason="陈述理由成立"),
        "withdrawn",
    ),
}


@pytest.mark.parametrize("action", list(ACTIONS))
def test_officer_actions_succeed_for_officers_and_are_logged(action, provider, officer):
    stage, call, target = ACTIONS[action]
    case = _case_in(stage, provider, officer)
    other_officer = UserFactory(role=Role.OFFICER)
    result = call(case, other_officer)
    assert result.status == target
    last = StateLog.objects.for_(case).latest("id")
    assert (last.state, last.by) == (target, other_officer)
    assert last.description


@pytest.mark.parametrize("role", [*OTHER_ROLES, Role.PROVIDER])
@pytest.mark.parametrize("action", list(ACTIONS))
def test_officer_actions_are_refused_to_every_other_role(action, role, provider, officer):
    stage, call, _target = ACTIONS[action]
    case = _case_in(stage, provider, officer)
    before = _log(case)
    user = _user(role) if role != Role.PROVIDER else UserFactory(role=role, organisation=provider.organisation)
    with pytest.raises(PermissionDenied):
        call(case, user)
    case.refresh_from_db()
    assert case.status == stage
    assert _log(case) == before


def test_only_the_providers_own_staff_respond(provider, provider_user, officer):
    case = _case_in("rectifying", provider, officer)
    stranger = UserFactory(role=Role.PROVIDER, organisation=ProviderFactory().organisation)
    for user in [officer, stranger, _user(Role.APPROVER)]:
        with pytest.raises(PermissionDenied):
            services.rectification_respond(case=case, by=user, report="已整改")
    case = services.rectification_respond(case=case, by=provider_user, report="已整改完毕")
    assert case.status == RectificationStatus.RESPONDED
    assert Notification.objects.filter(kind="rectification_response", recipient_user=officer).exists()


def test_the_provider_states_its_case_only_against_an_open_warning(provider, provider_user, officer):
    case = _case_in("warned", provider, officer)
    stranger = UserFactory(role=Role.PROVIDER, organisation=ProviderFactory().organisation)
    with pytest.raises(PermissionDenied):
        services.rectification_reply(case=case, by=stranger, statement="不是我们")
    services.rectification_reply(case=case, by=provider_user, statement="团队已于上周进驻")
    case.refresh_from_db()
    assert case.provider_reply == "团队已于上周进驻" and case.status == RectificationStatus.WARNED
    assert Notification.objects.filter(kind="rectification_reply", recipient_user=officer).exists()
    ordered = services.rectification_order(case=case, by=officer)
    with pytest.raises(ValidationError):
        services.rectification_reply(case=ordered, by=provider_user, statement="补充")


def test_transitions_that_the_state_machine_does_not_allow_are_refused(provider, officer):
    case = _case_in("draft", provider, officer)
    with pytest.raises(ValidationError, match="不能执行此操作"):
        services.rectification_order(case=case, by=officer)
    with pytest.raises(ValidationError):
        services.rectification_verify(case=case, by=officer)
    case.refresh_from_db()
    assert case.status == RectificationStatus.DRAFT


# --- the warning, the order, the deadline ----------------------------------------------------------------------


def test_warning_tells_the_provider_the_finding_ground_and_reply_period(provider, officer):
    with travel(at(2026, 3, 2, 9)):
        case = warned_case(provider=provider, officer=officer, ground=2)
    assert case.reply_due_at == at(2026, 3, 7, 9)
    notice = Notification.objects.get(kind="rectification_warning")
    assert notice.recipient_organisation == provider.organisation
    assert "第十二条第（二）项" in notice.body
    assert "人员能力不足或团队配置不合理" in notice.body
    assert "服务团队未按合同进驻企业" in notice.body


def test_order_assigns_the_next_document_number_and_a_30_day_deadline(provider, officer):
    with travel(at(2026, 3, 2)):
        first = ordered_case(provider=provider, officer=officer)
        second = ordered_case(provider=ProviderFactory(), officer=officer)
    assert first.document_number == "唐工信〔2026〕1号"
    assert second.document_number == "唐工信〔2026〕2号"
    assert first.deadline == date(2026, 4, 1)
    with travel(at(2027, 1, 4)):
        next_year = ordered_case(provider=ProviderFactory(), officer=officer)
    assert next_year.document_number == "唐工信〔2027〕1号"


def test_document_prefix_is_the_citys_setting(provider, officer, settings):
    settings.DOCUMENT_NUMBER_PREFIX = "保工信"
    with travel(at(2026, 6, 1)):
        case = ordered_case(provider=provider, officer=officer)
    assert case.document_number == "保工信〔2026〕1号"


def test_a_deadline_beyond_the_maximum_needs_the_permission_and_a_reason(provider, officer):
    with travel(at(2026, 3, 2)):
        case = state_case(warned_case(provider=provider, officer=officer))
        with pytest.raises(ValidationError) as excinfo:
            services.rectification_order(case=case, by=officer, deadline=date(2026, 4, 2))
        assert "deadline" in excinfo.value.message_dict
        assert "30" in excinfo.value.message_dict["deadline"][0]
        case.refresh_from_db()
        assert case.status == RectificationStatus.WARNED and case.document_number is None

        officer.user_permissions.add(Permission.objects.get(codename="extend_rectification_deadline"))
        officer = type(officer).objects.get(pk=officer.pk)  # drop the permission cache
        with pytest.raises(ValidationError) as excinfo:
            services.rectification_order(case=case, by=officer, deadline=date(2026, 4, 15))
        assert "extension_reason" in excinfo.value.message_dict
        case = services.rectification_order(
            case=case, by=officer, deadline=date(2026, 4, 15), extension_reason="涉及硬件重新采购，供货周期45天"
        )
    assert case.deadline == date(2026, 4, 15)
    assert case.extension_reason.startswith("涉及硬件")


def test_a_failed_order_uses_no_document_number(provider, officer):
    with travel(at(2026, 3, 2)):
        case = state_case(warned_case(provider=provider, officer=officer))
        with pytest.raises(ValidationError):
            services.rectification_order(case=case, by=officer, deadline=date(2026, 5, 30))
        ok = services.rectification_order(case=case, by=officer)
    assert ok.document_number == "唐工信〔2026〕1号"


def test_a_report_after_the_deadline_is_refused(provider, provider_user, officer):
    with travel(at(2026, 3, 2)):
        case = ordered_case(provider=provider, officer=officer)
    with travel(at(2026, 4, 2)), pytest.raises(ValidationError):
        services.rectification_respond(case=case, by=provider_user, report="迟交的报告")
    with travel(at(2026, 4, 1, 23, 59)):
        case = services.rectification_respond(case=case, by=provider_user, report="按期提交")
    assert case.status == RectificationStatus.RESPONDED


def test_return_needs_a_running_deadline_or_a_new_one(provider, provider_user, officer):
    with travel(at(2026, 3, 2)):
        case = ordered_case(provider=provider, officer=officer)
    with travel(at(2026, 3, 20)):
        case = services.rectification_respond(case=case, by=provider_user, report="已整改")
    with travel(at(2026, 3, 25)):
        case = services.rectification_return(case=case, by=officer, reason="证据不足")
    assert (case.status, case.deadline, case.return_count) == (RectificationStatus.RETURNED, date(2026, 4, 1), 1)
    with travel(at(2026, 3, 31)):
        case = services.rectification_respond(case=case, by=provider_user, report="补充了证据")
    with travel(at(2026, 4, 3)):
        with pytest.raises(ValidationError) as excinfo:
            services.rectification_return(case=case, by=officer, reason="仍不充分")
        assert "new_deadline" in excinfo.value.message_dict
        # Past the policy maximum counted from the order: only with the permission and a reason.
        with pytest.raises(ValidationError) as excinfo:
            services.rectification_return(case=case, by=officer, reason="仍不充分", new_deadline=date(2026, 4, 10))
        assert "new_deadline" in excinfo.value.message_dict
        officer.user_permissions.add(Permission.objects.get(codename="extend_rectification_deadline"))
        officer = type(officer).objects.get(pk=officer.pk)
        case = services.rectification_return(
            case=case, by=officer, reason="仍不充分", new_deadline=date(2026, 4, 10), extension_reason="等待检测报告"
        )
    assert (case.status, case.deadline, case.return_count) == (RectificationStatus.RETURNED, date(2026, 4, 10), 2)


# --- the provider's standing follows its most serious open case -------------------------------------------------


def test_standing_follows_the_cases(provider, provider_user, officer):
    case = warned_case(provider=provider, officer=officer)
    provider.refresh_from_db()
    assert provider.status == ProviderStatus.WARNED
    case = services.rectification_order(case=state_case(case), by=officer)
    provider.refresh_from_db()
    assert provider.status == ProviderStatus.UNDER_RECTIFICATION
    second = warned_case(provider=provider, officer=officer, finding="第二个问题")
    provider.refresh_from_db()
    assert provider.status == ProviderStatus.UNDER_RECTIFICATION  # rectifying outranks warned
    case = services.rectification_respond(case=case, by=provider_user, report="已整改")
    services.rectification_verify(case=case, by=officer)
    provider.refresh_from_db()
    assert provider.status == ProviderStatus.WARNED
    services.rectification_withdraw(case=second, by=officer, reason="说明成立")
    provider.refresh_from_db()
    assert provider.status == ProviderStatus.IN_POOL
    transitions = list(StateLog.objects.for_(provider).order_by("id").values_list("source_state", "state"))
    assert transitions == [
        ("in_pool", "warned"),
        ("warned", "under_rectification"),
        ("under_rectification", "warned"),
        ("warned", "in_pool"),
    ]


def test_cases_concern_providers_in_the_pool_only(officer):
    applicant = ProviderFactory(status=ProviderStatus.APPLIED)
    with pytest.raises(ValidationError) as excinfo:
        warned_case(provider=applicant, officer=officer)
    assert "provider" in excinfo.value.message_dict
    applicant.refresh_from_db()
    assert applicant.status == ProviderStatus.APPLIED


def test_the_order_waits_for_the_statement_period_unless_the_provider_replied(provider, officer):
    with travel(at(2026, 3, 2, 9)):
        case = warned_case(provider=provider, officer=officer)
    with travel(at(2026, 3, 7, 8, 59)), pytest.raises(ValidationError, match="2026-03-07 09:00"):
        services.rectification_order(case=case, by=officer)
    with travel(at(2026, 3, 7, 9, 0)):
        case = services.rectification_order(case=case, by=officer)
    assert case.status == RectificationStatus.RECTIFYING


def test_a_statement_after_the_period_is_refused(provider, provider_user, officer):
    with travel(at(2026, 3, 2, 9)):
        case = warned_case(provider=provider, officer=officer)
    with travel(at(2026, 3, 7, 9, 1)), pytest.raises(ValidationError):
        services.rectification_reply(case=case, by=provider_user, statement="迟到的陈述")


def test_a_case_on_a_contract_of_another_provider_is_refused(provider, officer):
    from tests.factories import ServiceContractFactory

    contract = ServiceContractFactory()
    with pytest.raises(ValidationError) as excinfo:
        services.rectification_open(provider=provider, ground=2, finding="x", by=officer, contract=contract)
    assert "contract" in excinfo.value.message_dict
    assert not RectificationCase.objects.exists()


def test_notifications_go_to_the_provider_organisation_and_are_written_once(provider, officer):
    case = ordered_case(provider=provider, officer=officer)
    kinds = list(
        Notification.objects.filter(recipient_organisation=provider.organisation).values_list("kind", flat=True)
    )
    assert sorted(kinds) == ["rectification_order", "rectification_warning"]
    assert Organisation.objects.get(pk=provider.organisation_id).notifications.count() == 2
    assert case.deadline - timezone.localdate(case.ordered_at) <= timedelta(days=30)
