"""The contract lifecycle in enterprises.services: drafting and signing (Art 6(1), 10(2)), progress reports and
change requests (Art 6(3)), the internal acceptance (Art 8), and the notifications each step writes to the
other side's organisation."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django_fsm_log.models import StateLog

from enterprises import services
from enterprises.models import (
    ChangeRequest,
    ContractStatus,
    InternalAcceptance,
    Milestone,
    ProgressReport,
    ServiceContract,
)
from providers.models import ProviderStatus
from tangshan_portal.models import Notification
from tangshan_portal.transitions import TransitionError
from tests.enforcement import at, travel
from tests.factories import PilotEnterpriseFactory, ProviderFactory
from tests.factories_contracts import (
    PLAN,
    DraftContractFactory,
    complete_draft,
    enterprise_staff,
    pdf,
    provider_staff,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def draft():
    return complete_draft()


@pytest.fixture
def p_user(draft):
    return provider_staff(draft.provider)


@pytest.fixture
def e_user(draft):
    return enterprise_staff(draft.enterprise)


def _notes(organisation, kind):
    return list(Notification.objects.filter(recipient_organisation=organisation, kind=kind))


def _submit(contract, by):
    with travel(at(2026, 3, 1)):
        return services.contract_submit(contract=contract, by=by)


def _signed(contract, p_user, e_user):
    _submit(contract, p_user)
    with travel(at(2026, 3, 2)):
        return services.contract_sign(contract=contract, by=e_user)


def _in_progress(contract, p_user, e_user):
    _signed(contract, p_user, e_user)
    with travel(at(2026, 3, 3)):
        return services.contract_start(contract=contract, by=p_user)


# --- contract_signing_problems: each missing piece --------------------------------------------------------------


def test_a_complete_draft_has_no_signing_problem(draft):
    assert services.contract_signing_problems(draft) == []


@pytest.mark.parametrize("field", list(PLAN))
def test_each_part_of_the_service_plan_is_required(field):
    contract = complete_draft(**{field: "   "})
    problems = services.contract_signing_problems(contract)
    assert len(problems) == 1
    label = str(ServiceContract._meta.get_field(field).verbose_name)
    assert label in problems[0]


def test_missing_confidentiality_agreement_is_a_problem():
    problems = services.contract_signing_problems(complete_draft(nda_signed_on=None))
    assert problems == [services._("The confidentiality agreement is not on file.")]


def test_missing_milestones_and_procurement_list_are_problems():
    contract = DraftContractFactory()
    problems = services.contract_signing_problems(contract)
    assert problems == [services._("Add the milestones."), services._("Add the procurement list.")]


@pytest.mark.parametrize(("weights", "ok"), [((60, 40), True), ((50, 40), False), ((60, 50), False), ((100,), True)])
def test_milestone_weights_must_add_up_to_100(weights, ok):
    contract = complete_draft()
    contract.milestones.all().delete()
    for index, weight in enumerate(weights):
        Milestone.objects.create(contract=contract, name=f"M{index}", planned_on=date(2026, 6, 1), weight=weight)
    problems = services.contract_signing_problems(contract)
    assert (problems == []) is ok
    if not ok:
        assert f"{sum(weights)}%" in problems[0]


def test_a_milestone_left_outside_a_shortened_period_is_a_problem(draft, p_user):
    services.contract_draft_save(
        by=p_user,
        provider=draft.provider,
        enterprise=draft.enterprise,
        data={"end_on": date(2026, 8, 31)},
        contract=draft,
    )
    problems = services.contract_signing_problems(ServiceContract.objects.get(pk=draft.pk))
    assert len(problems) == 1 and "系统上线" in problems[0]


def test_a_revoked_provider_cannot_have_a_contract_signed(draft, p_user):
    draft.provider.status = ProviderStatus.REVOKED
    draft.provider.save(update_fields=["status"])
    assert len(services.contract_signing_problems(draft)) == 1
    with pytest.raises(TransitionError):
        _submit(draft, p_user)


def test_milestone_outside_the_contract_period_is_refused(draft, p_user):
    with pytest.raises(ValidationError) as exc:
        services.milestone_save(
            contract=draft, by=p_user, name="晚了", planned_on=draft.end_on + timedelta(days=1), weight=10
        )
    assert "planned_on" in exc.value.error_dict
    assert draft.milestones.count() == 2


# --- Submitting, recalling, returning, signing ------------------------------------------------------------------


def test_submit_refuses_an_incomplete_draft_and_changes_nothing(p_user):
    contract = complete_draft(plan_goals="")
    with pytest.raises(TransitionError):
        services.contract_submit(contract=contract, by=provider_staff(contract.provider))
    contract.refresh_from_db()
    assert contract.submitted_at is None
    assert not Notification.objects.filter(kind="contract_to_sign").exists()


def test_submit_notifies_the_enterprise_and_locks_the_draft(draft, p_user):
    _submit(draft, p_user)
    draft.refresh_from_db()
    assert draft.submitted_at == at(2026, 3, 1)
    [note] = _notes(draft.enterprise.organisation, "contract_to_sign")
    assert draft.number in note.subject and note.link == f"/enterprise/contracts/{draft.pk}/"
    # The enterprise signs what it was sent: the draft does not change while it waits.
    milestone = draft.milestones.first()
    with pytest.raises(TransitionError):
        services.milestone_save(
            contract=draft, by=p_user, name="改", planned_on=milestone.planned_on, weight=60, milestone=milestone
        )
    with pytest.raises(TransitionError):
        services.milestone_delete(milestone=milestone, by=p_user)
    with pytest.raises(TransitionError):
        services.procurement_item_delete(item=draft.procurement_items.first(), by=p_user)
    with pytest.raises(TransitionError):
        services.procurement_item_save(contract=draft, by=p_user, data={"unit_price": Decimal("1")}, item=None)
    with pytest.raises(TransitionError):
        services.contract_draft_save(
            by=p_user, provider=draft.provider, enterprise=draft.enterprise, data={"title": "改"}, contract=draft
        )
    with pytest.raises(TransitionError):
        services.contract_nda_store(contract=draft, by=p_user, signed_on=date(2026, 2, 1), uploaded=pdf())
    with pytest.raises(TransitionError):
        _submit(draft, p_user)


def test_recall_reopens_the_draft_and_tells_the_enterprise(draft, p_user):
    _submit(draft, p_user)
    with travel(at(2026, 3, 1, 11)):
        services.contract_recall(contract=draft, by=p_user)
    draft.refresh_from_db()
    assert draft.submitted_at is None
    assert len(_notes(draft.enterprise.organisation, "contract_recalled")) == 1
    services.contract_draft_save(
        by=p_user, provider=draft.provider, enterprise=draft.enterprise, data={"title": "改后的标题"}, contract=draft
    )
    assert ServiceContract.objects.get(pk=draft.pk).title == "改后的标题"
    with pytest.raises(TransitionError):
        services.contract_recall(contract=draft, by=p_user)


def test_submit_needs_an_enterprise_account(p_user):
    contract = complete_draft(enterprise=PilotEnterpriseFactory(organisation=None))
    with pytest.raises(TransitionError):
        services.contract_submit(contract=contract, by=provider_staff(contract.provider))


def test_return_needs_a_submission_and_a_reason(draft, p_user, e_user):
    with pytest.raises(TransitionError):
        services.contract_return_to_provider(contract=draft, by=e_user, reason="还没发给我们")
    _submit(draft, p_user)
    with pytest.raises(ValidationError) as exc:
        services.contract_return_to_provider(contract=draft, by=e_user, reason="  ")
    assert "reason" in exc.value.error_dict
    services.contract_return_to_provider(contract=draft, by=e_user, reason="交付成果写得不清楚")
    draft.refresh_from_db()
    assert draft.submitted_at is None and draft.status == ContractStatus.DRAFT
    [note] = _notes(draft.provider.organisation, "contract_returned")
    assert note.body == "交付成果写得不清楚"
    assert StateLog.objects.for_(draft).filter(transition="return", description="交付成果写得不清楚").exists()


def test_sign_needs_a_submission_and_the_enterprise(draft, p_user, e_user):
    with pytest.raises(TransitionError):
        services.contract_sign(contract=draft, by=e_user)
    _submit(draft, p_user)
    with pytest.raises(PermissionDenied):
        services.contract_sign(contract=draft, by=p_user)
    with pytest.raises(PermissionDenied):
        services.contract_sign(contract=draft, by=enterprise_staff(PilotEnterpriseFactory()))
    with travel(at(2026, 3, 2)):
        services.contract_sign(contract=draft, by=e_user)
    draft.refresh_from_db()
    assert draft.status == ContractStatus.SIGNED and draft.signed_on == date(2026, 3, 2)
    assert len(_notes(draft.provider.organisation, "contract_signed")) == 1
    assert StateLog.objects.for_(draft).filter(source_state="draft", state="signed", by=e_user).exists()


def test_the_enterprise_cannot_submit_or_start(draft, p_user, e_user):
    with pytest.raises(PermissionDenied):
        services.contract_submit(contract=draft, by=e_user)
    _signed(draft, p_user, e_user)
    with pytest.raises(PermissionDenied):
        services.contract_start(contract=draft, by=e_user)


def test_start_notifies_the_enterprise(draft, p_user, e_user):
    _in_progress(draft, p_user, e_user)
    draft.refresh_from_db()
    assert draft.status == ContractStatus.IN_PROGRESS
    assert len(_notes(draft.enterprise.organisation, "contract_started")) == 1


# --- Progress reports -------------------------------------------------------------------------------------------


def _report(contract, by, milestone, progress, moment):
    with travel(moment):
        return services.progress_report_submit(
            contract=contract, by=by, milestone=milestone, progress=progress, summary=f"完成 {progress}%"
        )


def test_progress_is_reported_only_while_in_progress(draft, p_user):
    with pytest.raises(TransitionError):
        _report(draft, p_user, draft.milestones.first(), 50, at(2026, 3, 5))


def test_a_milestone_of_another_contract_is_refused(draft, p_user, e_user):
    _in_progress(draft, p_user, e_user)
    other = complete_draft(provider=draft.provider)
    with pytest.raises(ValidationError) as exc:
        _report(draft, p_user, other.milestones.first(), 50, at(2026, 3, 5))
    assert "milestone" in exc.value.error_dict


def test_acknowledged_progress_updates_the_milestone(draft, p_user, e_user):
    _in_progress(draft, p_user, e_user)
    milestone = draft.milestones.first()
    report = _report(draft, p_user, milestone, 40, at(2026, 4, 1))
    [note] = _notes(draft.enterprise.organisation, "progress_report")
    assert "40%" in note.subject
    milestone.refresh_from_db()
    assert milestone.reported_progress == 0 and milestone.reported_at is None
    with travel(at(2026, 4, 2)):
        services.progress_report_acknowledge(report=report, by=e_user, comment="属实")
    milestone.refresh_from_db()
    assert milestone.reported_progress == 40 and milestone.reported_at == at(2026, 4, 2)
    report.refresh_from_db()
    assert report.status == ProgressReport.Status.ACKNOWLEDGED and report.responded_by == e_user
    assert len(_notes(draft.provider.organisation, "progress_acknowledged")) == 1
    with pytest.raises(TransitionError):
        services.progress_report_dispute(report=report, by=e_user, comment="改主意")


def test_a_dispute_needs_a_reason_and_leaves_the_milestone_alone(draft, p_user, e_user):
    _in_progress(draft, p_user, e_user)
    milestone = draft.milestones.first()
    report = _report(draft, p_user, milestone, 80, at(2026, 4, 1))
    with pytest.raises(ValidationError) as exc:
        services.progress_report_dispute(report=report, by=e_user, comment=" ")
    assert "comment" in exc.value.error_dict
    with travel(at(2026, 4, 2)):
        services.progress_report_dispute(report=report, by=e_user, comment="设备只联网了一半")
    milestone.refresh_from_db()
    report.refresh_from_db()
    assert milestone.reported_progress == 0 and milestone.reported_at is None
    assert report.status == ProgressReport.Status.DISPUTED and report.enterprise_comment == "设备只联网了一半"
    [note] = _notes(draft.provider.organisation, "progress_disputed")
    assert note.body == "设备只联网了一半"


def test_the_provider_cannot_answer_its_own_report(draft, p_user, e_user):
    _in_progress(draft, p_user, e_user)
    report = _report(draft, p_user, draft.milestones.first(), 50, at(2026, 4, 1))
    with pytest.raises(PermissionDenied):
        services.progress_report_acknowledge(report=report, by=p_user)


def test_acknowledging_an_older_report_late_does_not_set_progress_back(draft, p_user, e_user):
    _in_progress(draft, p_user, e_user)
    milestone = draft.milestones.first()
    older = _report(draft, p_user, milestone, 40, at(2026, 4, 1))
    newer = _report(draft, p_user, milestone, 70, at(2026, 4, 15))
    with travel(at(2026, 4, 16)):
        services.progress_report_acknowledge(report=newer, by=e_user)
    with travel(at(2026, 4, 17)):
        services.progress_report_acknowledge(report=older, by=e_user)
    milestone.refresh_from_db()
    assert milestone.reported_progress == 70 and milestone.reported_at == at(2026, 4, 16)


# --- Change requests --------------------------------------------------------------------------------------------


def _propose(contract, by, **kwargs):
    kwargs.setdefault("description", "延长工期一个月")
    kwargs.setdefault("reason", "设备到货延迟")
    with travel(at(2026, 5, 1)):
        return services.change_request_propose(contract=contract, by=by, **kwargs)


def test_change_requests_need_a_signed_contract(draft, p_user):
    with pytest.raises(TransitionError):
        _propose(draft, p_user, new_end_on=date(2026, 10, 31))


def test_agreeing_applies_the_change_and_records_the_previous_terms(draft, p_user, e_user):
    _in_progress(draft, p_user, e_user)
    request = _propose(draft, p_user, new_end_on=date(2026, 10, 31), new_amount=Decimal("320000.00"))
    assert len(_notes(draft.enterprise.organisation, "change_request")) == 1
    with travel(at(2026, 5, 2)):
        services.change_request_decide(request=request, by=e_user, agree=True, comment="同意")
    draft.refresh_from_db()
    request.refresh_from_db()
    assert draft.end_on == date(2026, 10, 31) and draft.amount == Decimal("320000.00")
    assert request.previous_end_on == date(2026, 9, 30) and request.previous_amount == Decimal("300000.00")
    assert request.status == ChangeRequest.Status.AGREED and request.decided_at == at(2026, 5, 2)
    assert len(_notes(draft.provider.organisation, "change_request_decided")) == 1
    with pytest.raises(TransitionError):
        services.change_request_decide(request=request, by=e_user, agree=False, comment="再议")


def test_declining_needs_a_reason_and_changes_nothing(draft, p_user, e_user):
    _in_progress(draft, p_user, e_user)
    request = _propose(draft, p_user, new_amount=Decimal("350000.00"))
    with pytest.raises(ValidationError) as exc:
        services.change_request_decide(request=request, by=e_user, agree=False, comment="")
    assert "comment" in exc.value.error_dict
    services.change_request_decide(request=request, by=e_user, agree=False, comment="预算不足")
    draft.refresh_from_db()
    request.refresh_from_db()
    assert draft.amount == Decimal("300000.00") and request.status == ChangeRequest.Status.DECLINED
    assert request.previous_amount is None
    [note] = _notes(draft.provider.organisation, "change_request_decided")
    assert note.body == "预算不足"


@pytest.mark.parametrize(
    ("subsidy", "advance", "new_amount", "ok"),
    [
        ("100000.00", "0.00", "99999.99", False),
        ("100000.00", "0.00", "100000.00", True),
        ("50000.00", "150000.00", "149999.99", False),
        ("50000.00", "150000.00", "150000.00", True),
    ],
)
def test_the_amount_cannot_fall_below_the_subsidy_or_advance(subsidy, advance, new_amount, ok):
    contract = complete_draft(subsidy=Decimal(subsidy), advance_payment=Decimal(advance))
    p_user, e_user = provider_staff(contract.provider), enterprise_staff(contract.enterprise)
    _signed(contract, p_user, e_user)
    if ok:
        assert _propose(contract, p_user, new_amount=Decimal(new_amount)).new_amount == Decimal(new_amount)
    else:
        with pytest.raises(ValidationError) as exc:
            _propose(contract, p_user, new_amount=Decimal(new_amount))
        assert "new_amount" in exc.value.error_dict
        assert not ChangeRequest.objects.exists()


def test_a_change_needs_a_description_and_a_reason(draft, p_user, e_user):
    _signed(draft, p_user, e_user)
    with pytest.raises(ValidationError) as exc:
        _propose(draft, p_user, description=" ", reason="")
    assert set(exc.value.error_dict) == {"description", "reason"}


def test_a_new_end_before_the_start_is_refused(draft, p_user, e_user):
    _signed(draft, p_user, e_user)
    with pytest.raises(ValidationError) as exc:
        _propose(draft, p_user, new_end_on=draft.start_on - timedelta(days=1))
    assert "new_end_on" in exc.value.error_dict


def test_withdrawing_tells_the_enterprise_and_closes_the_request(draft, p_user, e_user):
    _signed(draft, p_user, e_user)
    request = _propose(draft, p_user, new_end_on=date(2026, 10, 31))
    with pytest.raises(PermissionDenied):
        services.change_request_withdraw(request=request, by=e_user)
    services.change_request_withdraw(request=request, by=p_user)
    request.refresh_from_db()
    assert request.status == ChangeRequest.Status.WITHDRAWN
    assert len(_notes(draft.enterprise.organisation, "change_request_withdrawn")) == 1
    with pytest.raises(TransitionError):
        services.change_request_decide(request=request, by=e_user, agree=True)


# --- Internal acceptance (Art 8) --------------------------------------------------------------------------------


def _acceptance(contract, by, documents=None, held_on=date(2026, 9, 20), moment=None):
    with travel(moment or at(2026, 9, 21)):
        return services.internal_acceptance_submit(
            contract=contract,
            by=by,
            held_on=held_on,
            participants="企业：王总；服务商：李工",
            conclusion="系统运行正常，同意通过内部验收。",
            documents=[pdf("验收报告.pdf")] if documents is None else documents,
        )


def test_internal_acceptance_requires_documents(draft, p_user, e_user):
    _in_progress(draft, p_user, e_user)
    with pytest.raises(ValidationError) as exc:
        _acceptance(draft, p_user, documents=[])
    assert "documents" in exc.value.error_dict
    assert not InternalAcceptance.objects.exists()


def test_internal_acceptance_needs_the_project_in_progress(draft, p_user, e_user):
    _signed(draft, p_user, e_user)
    with pytest.raises(TransitionError):
        _acceptance(draft, p_user)


@pytest.mark.parametrize("held_on", [date(2026, 9, 22), date(2026, 2, 28)])
def test_internal_acceptance_dates_in_the_future_or_before_the_start_are_refused(draft, p_user, e_user, held_on):
    _in_progress(draft, p_user, e_user)
    with pytest.raises(ValidationError) as exc:
        _acceptance(draft, p_user, held_on=held_on)
    assert "held_on" in exc.value.error_dict


def test_only_one_internal_acceptance_awaits_at_a_time(draft, p_user, e_user):
    _in_progress(draft, p_user, e_user)
    _acceptance(draft, p_user)
    with pytest.raises(TransitionError):
        _acceptance(draft, p_user)
    assert InternalAcceptance.objects.count() == 1
    assert len(_notes(draft.enterprise.organisation, "internal_acceptance")) == 1


def test_a_refusal_needs_a_reason_and_lets_the_provider_try_again(draft, p_user, e_user):
    _in_progress(draft, p_user, e_user)
    first = _acceptance(draft, p_user)
    with pytest.raises(ValidationError) as exc:
        services.internal_acceptance_refuse(acceptance=first, by=e_user, reason="")
    assert "reason" in exc.value.error_dict
    services.internal_acceptance_refuse(acceptance=first, by=e_user, reason="操作手册未交付")
    first.refresh_from_db()
    draft.refresh_from_db()
    assert first.status == InternalAcceptance.Status.REFUSED and draft.status == ContractStatus.IN_PROGRESS
    [note] = _notes(draft.provider.organisation, "internal_acceptance_refused")
    assert note.body == "操作手册未交付"
    second = _acceptance(draft, p_user, moment=at(2026, 9, 25))
    assert second.status == InternalAcceptance.Status.AWAITING_ENTERPRISE


def test_signing_the_internal_acceptance_moves_the_contract(draft, p_user, e_user):
    _in_progress(draft, p_user, e_user)
    acceptance = _acceptance(draft, p_user)
    with pytest.raises(PermissionDenied):
        services.internal_acceptance_sign(acceptance=acceptance, by=p_user)
    with travel(at(2026, 9, 22)):
        services.internal_acceptance_sign(acceptance=acceptance, by=e_user)
    draft.refresh_from_db()
    acceptance.refresh_from_db()
    assert draft.status == ContractStatus.INTERNALLY_ACCEPTED
    assert acceptance.status == InternalAcceptance.Status.SIGNED and acceptance.enterprise_signed_by == e_user
    assert len(_notes(draft.provider.organisation, "internal_acceptance_signed")) == 1
    assert StateLog.objects.for_(draft).filter(source_state="in_progress", state="internally_accepted").exists()


# --- Other providers ----------------------------------------------------------------------------------------------


def test_another_provider_cannot_touch_the_draft(draft):
    stranger = provider_staff(ProviderFactory())
    with pytest.raises(PermissionDenied):
        services.milestone_save(contract=draft, by=stranger, name="X", planned_on=date(2026, 6, 1), weight=10)
    with pytest.raises(PermissionDenied):
        services.contract_submit(contract=draft, by=stranger)
