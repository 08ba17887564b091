"""The deadline sweep, reminders and the Art 13 rule engine, walked through time with time-machine."""

from datetime import date, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_fsm_log.models import StateLog

from enterprises.models import ContractStatus, Milestone
from evaluations import services
from evaluations.models import (
    BlacklistEntry,
    Evidence,
    RectificationCase,
    RectificationStatus,
    RevocationCase,
    RevocationStatus,
    SatisfactionRating,
)
from providers.models import ProviderStatus
from tangshan_portal.grounds import Art13Ground
from tangshan_portal.models import AuditEvent, Notification
from tests.enforcement import at, ordered_case, travel, warned_case
from tests.factories import ServiceContractFactory, UserFactory

pytestmark = pytest.mark.django_db


def snapshot():
    """Everything a sweep may write, to compare one run with two."""
    return {
        "cases": sorted(RectificationCase.objects.values_list("id", "status", "overdue_at")),
        "logs": StateLog.objects.count(),
        "notifications": sorted(Notification.objects.values_list("dedup_key", flat=True)),
        "proposals": sorted(RevocationCase.objects.values_list("provider_id", "ground", "status")),
        "evidence": Evidence.objects.count(),
    }


def test_walk_from_warning_to_order_to_overdue_to_proposal_to_decision_and_blacklist(provider, officer, approver):
    contract = ServiceContractFactory(
        provider=provider, status=ContractStatus.IN_PROGRESS, advance_payment=Decimal("90000.00")
    )
    with travel(at(2026, 3, 2, 9)):
        case = warned_case(provider=provider, officer=officer, contract=contract)
    with travel(at(2026, 3, 9, 9)):  # the statement period passed without a reply
        case = services.rectification_order(case=case, by=officer)
    assert case.deadline == date(2026, 4, 8)

    with travel(at(2026, 4, 8, 23, 0)):  # the last day still counts
        assert services.deadlines_check()["overdue"] == 0
    with travel(at(2026, 4, 9, 0, 30)):
        result = services.deadlines_check()
    assert result == {"overdue": 1, "reminders": 0, "proposals": 1}
    case.refresh_from_db()
    assert case.status == RectificationStatus.OVERDUE
    assert StateLog.objects.for_(case).latest("id").transition == "mark_overdue"
    assert Notification.objects.filter(kind="rectification_overdue", recipient_organisation=provider.organisation)
    # The sweep's transitions reach the audit chain too, one event per batch.
    event = AuditEvent.objects.filter(action=AuditEvent.Action.TRANSITION, detail__transition="mark_overdue").get()
    assert (event.object_type, event.detail["cases"], event.actor) == ("evaluations.RectificationCase", [case.pk], None)

    proposal = RevocationCase.objects.get()
    assert (proposal.ground, proposal.source, proposal.proposed_by) == (1, "engine", None)
    assert list(proposal.evidence.values_list("object_id", flat=True)) == [case.pk]
    assert Notification.objects.filter(kind="revocation_proposed", recipient_organisation=provider.organisation)
    provider.refresh_from_db()
    assert provider.status == ProviderStatus.UNDER_RECTIFICATION  # the engine never revokes

    with travel(at(2026, 4, 10, 9)), pytest.raises(services.CaseError):
        # The provider still has time to state its case.
        services.revocation_approve(revocation=proposal, by=approver, reason="逾期未整改")
    with travel(at(2026, 4, 15, 9)):
        services.revocation_approve(revocation=proposal, by=approver, reason="限期拒不整改，事实清楚")

    proposal.refresh_from_db()
    provider.refresh_from_db()
    contract.refresh_from_db()
    assert proposal.status == RevocationStatus.APPROVED
    assert proposal.decision_number == "唐工信〔2026〕2号"  # the order took number 1
    assert provider.status == ProviderStatus.REVOKED
    entry = BlacklistEntry.objects.get()
    assert (entry.provider_name, entry.uscc, entry.decision_number) == (
        "唐山测评科技有限公司",
        provider.uscc,
        "唐工信〔2026〕2号",
    )
    assert entry.decided_on == date(2026, 4, 15)
    assert "限期拒不进行整改" in entry.ground_wording and "第十三条第（一）项" in entry.ground_wording
    assert entry.status == BlacklistEntry.Status.PUBLISHED
    assert "15" in entry.remedy
    assert contract.status == ContractStatus.TERMINATED
    consequence = contract.fee_consequences.get()
    assert consequence.fee_withheld and consequence.advance_recoverable == Decimal("90000.00")
    assert consequence.decision_reference == "唐工信〔2026〕2号"


def test_the_third_ordered_case_triggers_a_proposal_and_withdrawn_ones_do_not_count(provider, officer):
    with travel(at(2026, 3, 2)):
        first = ordered_case(provider=provider, officer=officer, finding="问题一")
        ordered_case(provider=provider, officer=officer, finding="问题二")
        services.deadlines_check()
        assert not RevocationCase.objects.exists()
        services.rectification_withdraw(case=first, by=officer, reason="申诉成立")
        ordered_case(provider=provider, officer=officer, finding="问题三")
        services.deadlines_check()
        assert not RevocationCase.objects.exists()  # two counted cases: not "more than 2"
        warned_case(provider=provider, officer=officer, finding="仅警示")
        services.deadlines_check()
        assert not RevocationCase.objects.exists()  # a warning alone is not an order
        fourth = ordered_case(provider=provider, officer=officer, finding="问题四")
        services.deadlines_check()
    proposal = RevocationCase.objects.get()
    assert proposal.ground == Art13Ground.RECTIFICATION
    assert "3" in proposal.finding
    cited = set(proposal.evidence.values_list("object_id", flat=True))
    assert fourth.pk in cited and first.pk not in cited and len(cited) == 3


def _rate(contract, stage, overall, **kwargs):
    return SatisfactionRating.objects.create(
        contract=contract,
        stage=stage,
        overall=overall,
        submitted_by=UserFactory(),
        submitted_at=at(2026, 5, 1),
        **kwargs,
    )


def test_two_counted_dissatisfied_ratings_trigger_a_proposal_voided_ones_do_not(provider):
    contract = ServiceContractFactory(provider=provider, status=ContractStatus.IN_PROGRESS)
    _rate(contract, "里程碑1", SatisfactionRating.Overall.DISSATISFIED)
    _rate(contract, "里程碑2", SatisfactionRating.Overall.DISSATISFIED, voided=True, void_reason="申诉成立")
    _rate(contract, "里程碑3", SatisfactionRating.Overall.BASICALLY_SATISFIED)
    services.deadlines_check()
    assert not RevocationCase.objects.exists()
    third = _rate(contract, "验收", SatisfactionRating.Overall.DISSATISFIED)
    services.deadlines_check()
    proposal = RevocationCase.objects.get()
    assert proposal.ground == Art13Ground.DISSATISFIED
    assert third.pk in set(proposal.evidence.values_list("object_id", flat=True))


def test_policy_numbers_come_from_settings(provider, settings):
    settings.MAX_DISSATISFIED = 3
    contract = ServiceContractFactory(provider=provider, status=ContractStatus.IN_PROGRESS)
    _rate(contract, "一", SatisfactionRating.Overall.DISSATISFIED)
    _rate(contract, "二", SatisfactionRating.Overall.DISSATISFIED)
    services.deadlines_check()
    assert not RevocationCase.objects.exists()


def test_schedule_lag_beyond_the_threshold_triggers_a_proposal(provider):
    contract = ServiceContractFactory(
        provider=provider, status=ContractStatus.IN_PROGRESS, start_on=date(2026, 3, 1), end_on=date(2026, 9, 1)
    )
    Milestone.objects.create(
        contract=contract, name="需求调研", planned_on=date(2026, 4, 1), weight=30, reported_progress=100
    )
    Milestone.objects.create(
        contract=contract, name="系统上线", planned_on=date(2026, 7, 1), weight=70, reported_progress=10
    )
    # 2026-05-01: plan = 0.3*1 + 0.7*(61/122) = 0.65; reported = 0.3 + 0.07 = 0.37; lag 0.28 < 0.30
    with travel(at(2026, 5, 1)):
        services.deadlines_check()
    assert not RevocationCase.objects.exists()
    # 2026-05-10: plan = 0.3 + 0.7*(70/122) = 0.70; lag 0.33 > 0.30
    with travel(at(2026, 5, 10)):
        services.deadlines_check()
    proposal = RevocationCase.objects.get()
    assert proposal.ground == Art13Ground.SCHEDULE_LAG
    assert contract.number in proposal.finding


def test_a_dismissed_finding_is_not_proposed_again_until_new_evidence(provider, approver):
    contract = ServiceContractFactory(provider=provider, status=ContractStatus.IN_PROGRESS)
    _rate(contract, "一", SatisfactionRating.Overall.DISSATISFIED)
    _rate(contract, "二", SatisfactionRating.Overall.DISSATISFIED)
    with travel(at(2026, 5, 1)):
        services.deadlines_check()
    proposal = RevocationCase.objects.get()
    with travel(at(2026, 5, 7)):
        services.revocation_dismiss(revocation=proposal, by=approver, reason="评价依据不足")
        services.deadlines_check()
    assert RevocationCase.objects.count() == 1
    _rate(contract, "三", SatisfactionRating.Overall.DISSATISFIED)
    with travel(at(2026, 5, 8)):
        services.deadlines_check()
    assert RevocationCase.objects.filter(status=RevocationStatus.PROPOSED).count() == 1


def test_reminders_before_the_deadline_once_each_and_only_the_most_imminent_after_downtime(provider, officer):
    with travel(at(2026, 3, 2)):
        case = ordered_case(provider=provider, officer=officer)  # deadline 2026-04-01
    reminders = Notification.objects.filter(kind="rectification_reminder")
    with travel(at(2026, 3, 24)):
        services.deadlines_check()
    assert reminders.count() == 0
    with travel(at(2026, 3, 25)):  # 7 days left
        services.deadlines_check()
        services.deadlines_check()
    assert list(reminders.values_list("dedup_key", flat=True)) == [f"rectification:{case.pk}:reminder:2026-04-01:7"]
    # The sweep was down from the 26th until the 31st: only the 1-day reminder is due now.
    with travel(at(2026, 3, 31)):
        services.deadlines_check()
    assert sorted(reminders.values_list("dedup_key", flat=True)) == [
        f"rectification:{case.pk}:reminder:2026-04-01:1",
        f"rectification:{case.pk}:reminder:2026-04-01:7",
    ]
    assert reminders.get(dedup_key__endswith=":1").recipient_organisation == provider.organisation


def test_the_sweep_catches_up_after_downtime(provider, officer):
    with travel(at(2026, 3, 2)):
        case = ordered_case(provider=provider, officer=officer)
    with travel(at(2026, 6, 30)):  # nothing ran for three months
        services.deadlines_check()
    case.refresh_from_db()
    assert case.status == RectificationStatus.OVERDUE
    assert not Notification.objects.filter(kind="rectification_reminder").exists()


def test_check_deadlines_twice_in_a_row_leaves_the_same_rows_as_once(provider, officer):
    with travel(at(2026, 3, 2)):
        for n in range(3):
            ordered_case(provider=provider, officer=officer, finding=f"问题{n}")
    with travel(at(2026, 4, 10)):  # still running on the 15th, and within the 7-day reminder window
        ordered_case(provider=ServiceContractFactory().provider, officer=officer, deadline=date(2026, 4, 20))
    with travel(at(2026, 4, 15)):
        out = StringIO()
        call_command("check_deadlines", stdout=out)
        assert "overdue: 3" in out.getvalue()
        once = snapshot()
        assert any(":reminder:" in key for key in once["notifications"])
        call_command("check_deadlines", stdout=StringIO())
        assert snapshot() == once
    assert RevocationCase.objects.count() == 1


def test_the_outbox_sends_each_notification_once_and_retries_failures(provider, officer, mailoutbox, monkeypatch):
    provider_staff = UserFactory(organisation=provider.organisation, email="staff@provider.example.com")
    warned_case(provider=provider, officer=officer)
    from tangshan_portal import services as portal_services

    assert portal_services.notifications_send_pending() == {"sent": 1, "failed": 0}
    assert [m.to for m in mailoutbox] == [[provider_staff.email]]
    assert portal_services.notifications_send_pending() == {"sent": 0, "failed": 0}

    def broken(*args, **kwargs):
        raise ConnectionRefusedError("smtp down")

    services.rectification_order(
        case=RectificationCase.objects.get(), by=officer, now=timezone.now() + timedelta(days=6)
    )
    monkeypatch.setattr(portal_services, "send_mail", broken)
    with travel(at(2026, 3, 2, 10)):
        assert portal_services.notifications_send_pending() == {"sent": 0, "failed": 1}
    pending = Notification.objects.get(kind="rectification_order")
    assert (pending.attempts, pending.sent_at, pending.next_attempt_at) == (1, None, at(2026, 3, 2, 10, 1))
    monkeypatch.undo()
    with travel(at(2026, 3, 2, 10, 0)):
        assert portal_services.notifications_send_pending() == {"sent": 0, "failed": 0}  # not yet due
    with travel(at(2026, 3, 2, 10, 2)):
        assert portal_services.notifications_send_pending() == {"sent": 1, "failed": 0}
    assert len(mailoutbox) == 2


def test_the_sweep_is_set_based(officer):
    """Marking overdue and writing reminders take the same number of queries for 2 cases as for 20; the
    engine's detection is a fixed number of queries plus a bounded number per proposal it writes."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count(fn):
        with CaptureQueriesContext(connection) as queries:
            fn()
        return len(queries.captured_queries)

    def run(n_providers):
        RectificationCase.objects.all().delete()
        RevocationCase.objects.all().delete()
        Notification.objects.all().delete()
        with travel(at(2026, 3, 2)):
            for _ in range(n_providers):
                provider = ServiceContractFactory(status=ContractStatus.IN_PROGRESS).provider
                ordered_case(provider=provider, officer=officer)  # deadline 2026-04-01
                ordered_case(provider=provider, officer=officer, deadline=date(2026, 3, 31))
        with travel(at(2026, 3, 31, 9)):
            reminders = count(lambda: services._create_reminders(at(2026, 3, 31, 9)))
        with travel(at(2026, 4, 15)):
            overdue = count(lambda: services._mark_overdue(at(2026, 4, 15)))
            engine = count(lambda: services.engine_run(now=at(2026, 4, 15)))
        return reminders, overdue, engine

    few = run(2)
    many = run(20)
    assert Notification.objects.filter(kind="rectification_reminder").count() == 40
    assert RevocationCase.objects.count() == 20
    assert many[:2] == few[:2]
    # Per proposal: at most ten queries of its own, and three for its event in the audit chain (the chain's lock,
    # its head, the insert: tangshan_portal.audit).
    assert (many[2] - few[2]) / (20 - 2) <= 10 + 3


@pytest.mark.django_db(transaction=True)
def test_a_sweep_that_dies_mid_run_keeps_finished_batches_and_the_next_run_completes(officer, monkeypatch):
    from tests.factories import ProviderFactory

    with travel(at(2026, 3, 2)):
        for _ in range(5):
            ordered_case(provider=ProviderFactory(), officer=officer)
    monkeypatch.setattr(services, "SWEEP_BATCH", 2)
    real_notify = services._bulk_notify
    calls = {"n": 0}

    def dies_on_the_second_batch(rows):
        calls["n"] += 1
        if calls["n"] == 2:
            raise SystemExit("worker killed")
        real_notify(rows)

    monkeypatch.setattr(services, "_bulk_notify", dies_on_the_second_batch)
    with travel(at(2026, 4, 15)), pytest.raises(SystemExit):
        services.deadlines_check()
    statuses = list(RectificationCase.objects.values_list("status", flat=True))
    assert statuses.count(RectificationStatus.OVERDUE) == 2  # the first batch committed, the second rolled back
    assert StateLog.objects.filter(transition="mark_overdue").count() == 2

    monkeypatch.setattr(services, "_bulk_notify", real_notify)
    with travel(at(2026, 4, 15, 11)):
        services.deadlines_check()
    assert set(RectificationCase.objects.values_list("status", flat=True)) == {RectificationStatus.OVERDUE}
    assert StateLog.objects.filter(transition="mark_overdue").count() == 5
    assert Notification.objects.filter(kind="rectification_overdue").count() == 5


def test_the_schedule_lag_check_reads_contracts_in_a_fixed_number_of_queries(django_assert_num_queries):
    from evaluations.selectors import lagging_contracts
    from providers.models import Provider

    for _ in range(5):
        contract = ServiceContractFactory(status=ContractStatus.IN_PROGRESS, start_on=date(2026, 3, 1))
        Milestone.objects.create(
            contract=contract, name="上线", planned_on=date(2026, 4, 1), weight=100, reported_progress=0
        )
    with django_assert_num_queries(2):
        lagging = list(lagging_contracts(today=date(2026, 5, 1), providers=Provider.objects.all()))
    assert len(lagging) == 5
