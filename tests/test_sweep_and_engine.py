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
    real_record_event = services.record_event
    calls = {"n": 0}

    def dies_on_the_second_batch(*args, **kwargs):
        # The batch's audit event is its last write, on every database (one statement on PostgreSQL, the ORM on
        # SQLite): the worker dies after the batch's cases, logs and notifications were written, before commit.
        calls["n"] += 1
        if calls["n"] == 2:
            raise SystemExit("worker killed")
        return real_record_event(*args, **kwargs)

    monkeypatch.setattr(services, "record_event", dies_on_the_second_batch)
    with travel(at(2026, 4, 15)), pytest.raises(SystemExit):
        services.deadlines_check()
    statuses = list(RectificationCase.objects.values_list("status", flat=True))
    assert statuses.count(RectificationStatus.OVERDUE) == 2  # the first batch committed, the second rolled back
    assert StateLog.objects.filter(transition="mark_overdue").count() == 2
    assert Notification.objects.filter(kind="rectification_overdue").count() == 2

    monkeypatch.setattr(services, "record_event", real_record_event)
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


def test_marking_overdue_writes_the_same_rows_on_every_database(officer):
    """PostgreSQL marks each batch in one SQL statement, SQLite through the ORM; the tests run on both, and this
    one pins every field the sweep writes for a case: its status, state-log row, notification and audit event."""
    from django.utils.translation import gettext

    from providers.models import Provider
    from tangshan_portal.roles import Role
    from tests.factories import ProviderFactory

    with travel(at(2026, 3, 2, 9)):
        running = ordered_case(provider=ProviderFactory(), officer=officer, deadline=date(2026, 3, 20))
        returned = ordered_case(provider=ProviderFactory(), officer=officer, deadline=date(2026, 3, 25))
        unreachable = ordered_case(provider=ProviderFactory(), officer=officer, deadline=date(2026, 3, 25))
        later = ordered_case(provider=ProviderFactory(), officer=officer, deadline=date(2026, 3, 31))
    with travel(at(2026, 3, 10, 9)):
        staff = UserFactory(role=Role.PROVIDER, organisation=returned.provider.organisation)
        returned = services.rectification_respond(case=returned, by=staff, report="已整改")
        returned = services.rectification_return(case=returned, by=officer, reason="材料不全")
    Provider.objects.filter(pk=unreachable.provider_id).update(organisation=None)

    now = at(2026, 3, 26, 1, 30)
    with travel(now):
        assert services._mark_overdue(now) == 3

    cases = dict(RectificationCase.objects.values_list("id", "status"))
    overdue = sorted([running.pk, returned.pk, unreachable.pk])
    assert {pk for pk, status in cases.items() if status == RectificationStatus.OVERDUE} == set(overdue)
    assert cases[later.pk] == RectificationStatus.RECTIFYING
    assert set(RectificationCase.objects.filter(pk__in=overdue).values_list("overdue_at", flat=True)) == {now}

    logs = StateLog.objects.filter(transition="mark_overdue").order_by("id")
    assert [
        (log.object_id, log.content_type.model, log.by_id, log.source_state, log.state, log.timestamp) for log in logs
    ] == [
        (running.pk, "rectificationcase", None, "rectifying", "overdue", now),
        (returned.pk, "rectificationcase", None, "returned", "overdue", now),
        (unreachable.pk, "rectificationcase", None, "rectifying", "overdue", now),
    ]
    assert {log.description for log in logs} == {gettext("Deadline passed without an accepted rectification report")}

    notices = Notification.objects.filter(kind="rectification_overdue").order_by("id")
    assert [
        (
            n.recipient_organisation_id,
            n.recipient_user_id,
            n.recipient_role,
            n.subject,
            n.body,
            n.link,
            n.dedup_key,
            n.attempts,
            n.sent_at,
        )
        for n in notices
    ] == [
        (
            case.provider.organisation_id,
            None,
            "",
            gettext("Rectification overdue: %(number)s") % {"number": case.document_number},
            gettext("The deadline %(deadline)s passed without an accepted rectification report.")
            % {"deadline": case.deadline},
            f"/provider/cases/{case.pk}/",
            f"rectification:{case.pk}:overdue",
            0,
            None,
        )
        for case in (running, returned)  # the provider without an organisation has no one to tell
    ]
    assert running.document_number in notices[0].subject and "2026-03-20" in notices[0].body

    event = AuditEvent.objects.get(detail__transition="mark_overdue")
    assert (event.object_type, event.detail["cases"], event.detail["state"]) == (
        "evaluations.RectificationCase",
        overdue,
        "overdue",
    )
    with travel(now):
        assert services._mark_overdue(now) == 0


def test_each_engine_proposal_gets_its_log_audit_event_evidence_and_notifications(officer, settings):
    """The engine writes its proposals in bulk; each must still look as one written alone (`_propose`) would."""
    from django.utils.translation import gettext

    from tangshan_portal.grounds import cite_art13
    from tangshan_portal.roles import Role
    from tests.factories import ProviderFactory

    first, second = ProviderFactory(), ProviderFactory()
    with travel(at(2026, 3, 2)):
        cases = {
            provider.pk: [ordered_case(provider=provider, officer=officer, finding=f"问题{n}") for n in range(3)]
            for provider in (first, second)
        }
    now = at(2026, 3, 5, 10)
    with travel(now):
        proposals = services.engine_run(now=now)

    assert [(p.provider_id, p.ground, p.source, p.proposed_by_id, p.proposed_at) for p in proposals] == [
        (first.pk, Art13Ground.RECTIFICATION, "engine", None, now),
        (second.pk, Art13Ground.RECTIFICATION, "engine", None, now),
    ]
    for proposal in proposals:
        stored = RevocationCase.objects.get(pk=proposal.pk)
        assert stored.status == RevocationStatus.PROPOSED
        assert stored.statement_due_at == now + timedelta(days=settings.WARNING_REPLY_DAYS)
        assert sorted(stored.evidence.values_list("object_id", flat=True)) == sorted(
            case.pk for case in cases[stored.provider_id]
        )
        log = StateLog.objects.for_(stored).get()
        assert (log.transition, log.state, log.source_state, log.by_id, log.description) == (
            "create",
            "proposed",
            None,
            None,
            gettext("Proposed by the rule engine"),
        )
        event = AuditEvent.objects.get(detail__state_log=log.pk)
        assert (event.object_type, event.object_id, event.detail["transition"]) == (
            "evaluations.RevocationCase",
            str(stored.pk),
            "create",
        )
        notice = Notification.objects.get(dedup_key=f"revocation:{stored.pk}:proposed")
        assert (notice.kind, notice.recipient_organisation_id, notice.link) == (
            "revocation_proposed",
            stored.provider.organisation_id,
            f"/provider/revocations/{stored.pk}/",
        )
        assert stored.finding in notice.body and cite_art13(stored.ground) in notice.body
        staff = Notification.objects.get(dedup_key=f"revocation:{stored.pk}:staff")
        assert (staff.kind, staff.recipient_role, staff.recipient_organisation_id, staff.body) == (
            "revocation_proposed_staff",
            Role.OFFICER,
            None,
            f"{cite_art13(stored.ground)}\n{stored.finding}",
        )
        assert stored.provider.name in staff.subject


def test_a_proposal_written_by_a_concurrent_sweep_is_skipped_and_the_others_are_written(officer, monkeypatch):
    """Two sweeps at once: the other one wrote a proposal after this one read the open proposals. This run's batch
    hits the one-open-proposal constraint, rolls back and is written again one proposal at a time, skipping it."""
    from tests.factories import ProviderFactory

    first, second = ProviderFactory(), ProviderFactory()
    with travel(at(2026, 3, 2)):
        for provider in (first, second):
            for n in range(3):
                ordered_case(provider=provider, officer=officer, finding=f"问题{n}")
    with travel(at(2026, 3, 5, 9)):
        RevocationCase.objects.create(
            provider=first,
            ground=Art13Ground.RECTIFICATION,
            finding="另一次巡检提出",
            source=RevocationCase.Source.ENGINE,
            proposed_at=timezone.now(),
            statement_due_at=timezone.now() + timedelta(days=5),
        )
    monkeypatch.setattr(services, "_open_proposal_keys", set)  # read before the other sweep committed

    with travel(at(2026, 3, 5, 10)):
        proposals = services.engine_run()
    assert [p.provider_id for p in proposals] == [second.pk]
    assert sorted(RevocationCase.objects.values_list("provider_id", flat=True)) == [first.pk, second.pk]
    # Nothing of the rolled-back batch is left: one log, one pair of notices and the evidence of the new one.
    assert StateLog.objects.filter(transition="create", state="proposed").count() == 1
    assert Notification.objects.filter(kind__startswith="revocation_proposed").count() == 2
    assert set(Evidence.objects.filter(revocation_case__isnull=False).values_list("revocation_case", flat=True)) == {
        proposals[0].pk
    }


def test_reminders_write_the_same_rows_on_every_database(officer):
    """Like marking overdue, a batch of reminders is one statement on PostgreSQL and the ORM on SQLite."""
    from django.utils.translation import gettext

    from providers.models import Provider
    from tests.factories import ProviderFactory

    with travel(at(2026, 3, 2, 9)):
        soon = ordered_case(provider=ProviderFactory(), officer=officer, deadline=date(2026, 3, 27))
        tomorrow = ordered_case(provider=ProviderFactory(), officer=officer, deadline=date(2026, 3, 21))
        unreachable = ordered_case(provider=ProviderFactory(), officer=officer, deadline=date(2026, 3, 22))
        ordered_case(provider=ProviderFactory(), officer=officer, deadline=date(2026, 3, 31))  # not yet
    Provider.objects.filter(pk=unreachable.provider_id).update(organisation=None)

    now = at(2026, 3, 20, 8)
    with travel(now):
        assert services._create_reminders(now) == 2
        assert services._create_reminders(now) == 2  # written again as no-ops

    reminders = Notification.objects.filter(kind="rectification_reminder").order_by("id")
    assert [
        (n.recipient_organisation_id, n.recipient_user_id, n.recipient_role, n.subject, n.body, n.link, n.dedup_key)
        for n in reminders
    ] == [
        (
            case.provider.organisation_id,
            None,
            "",
            gettext("Reminder: rectification %(number)s is due on %(deadline)s")
            % {"number": case.document_number, "deadline": case.deadline},
            gettext("%(left)s day(s) left to submit your rectification report.") % {"left": left},
            f"/provider/cases/{case.pk}/",
            f"rectification:{case.pk}:reminder:{case.deadline.isoformat()}:{days}",
        )
        for case, left, days in ((tomorrow, 1, 1), (soon, 7, 7))
    ]
    assert "2026-03-21" in reminders[0].subject and tomorrow.document_number in reminders[0].subject
