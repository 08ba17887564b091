"""Article 13 revocation decisions and Article 14 consequences, including concurrency on PostgreSQL."""

import threading
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction

from enterprises.models import ContractStatus, FeeConsequence
from enterprises.services import contract_fail_acceptance
from evaluations import selectors, services
from evaluations.models import BlacklistEntry, RevocationCase, RevocationStatus
from providers.models import ProviderStatus
from tangshan_portal.models import Notification
from tangshan_portal.roles import Role
from tangshan_portal.services import document_number_allocate
from tests.enforcement import at, travel
from tests.factories import ProviderFactory, ServiceContractFactory, UserFactory


def _propose(provider, officer, ground=5, when=None):
    with travel(when or at(2026, 5, 1)):
        return services.revocation_propose(provider=provider, ground=ground, finding="伪造服务合同套取资金", by=officer)


@pytest.mark.django_db
class TestDecisionRules:
    def test_officer_proposal_tells_the_provider_and_the_approvers(self, provider, officer):
        proposal = _propose(provider, officer)
        assert (proposal.source, proposal.proposed_by, proposal.status) == ("officer", officer, "proposed")
        assert proposal.statement_due_at == at(2026, 5, 6)
        notice = Notification.objects.get(kind="revocation_proposed")
        assert notice.recipient_organisation == provider.organisation
        assert "伪造服务合同，联合相关方进行虚假交易" in notice.body
        assert "取消服务商资格" in notice.body
        assert Notification.objects.get(kind="revocation_proposed_staff").recipient_role == Role.APPROVER

    @pytest.mark.parametrize("role", [Role.APPROVER, Role.COUNTY, Role.AUDITOR, Role.SYSADMIN, Role.PROVIDER])
    def test_only_officers_propose(self, provider, role):
        with pytest.raises(PermissionDenied):
            services.revocation_propose(provider=provider, ground=5, finding="x", by=UserFactory(role=role))

    def test_one_open_proposal_per_provider_and_ground(self, provider, officer):
        _propose(provider, officer)
        with pytest.raises(ValidationError):
            _propose(provider, officer)
        _propose(provider, officer, ground=7)
        assert RevocationCase.objects.count() == 2

    def test_a_revoked_provider_cannot_be_proposed_again(self, officer):
        revoked = ProviderFactory(status=ProviderStatus.REVOKED)
        with pytest.raises(ValidationError):
            _propose(revoked, officer)

    @pytest.mark.parametrize("role", [Role.OFFICER, Role.COUNTY, Role.AUDITOR, Role.SYSADMIN, Role.ASSESSOR])
    def test_only_approvers_decide(self, provider, officer, role):
        proposal = _propose(provider, officer)
        with travel(at(2026, 5, 8)):
            for decide in (services.revocation_approve, services.revocation_dismiss):
                with pytest.raises(PermissionDenied):
                    decide(revocation=proposal, by=UserFactory(role=role), reason="理由")
        proposal.refresh_from_db()
        assert proposal.status == RevocationStatus.PROPOSED

    def test_the_proposer_never_decides_their_own_proposal(self, provider, officer):
        # An officer who is also an approver still may not decide what they proposed.
        officer.groups.add(*UserFactory(role=Role.APPROVER).groups.all())
        officer = type(officer).objects.get(pk=officer.pk)
        proposal = _propose(provider, officer)
        with travel(at(2026, 5, 8)), pytest.raises(PermissionDenied):
            services.revocation_approve(revocation=proposal, by=officer, reason="理由")

    def test_decision_waits_for_the_statement_period_unless_the_provider_replied(
        self, provider, provider_user, officer, approver
    ):
        proposal = _propose(provider, officer)
        with travel(at(2026, 5, 3)):
            with pytest.raises(ValidationError):
                services.revocation_approve(revocation=proposal, by=approver, reason="理由")
            services.revocation_state_case(revocation=proposal, by=provider_user, statement="合同真实，附银行流水")
            services.revocation_dismiss(revocation=proposal, by=approver, reason="陈述理由成立")
        proposal.refresh_from_db()
        assert (proposal.status, proposal.decided_by) == (RevocationStatus.DISMISSED, approver)
        provider.refresh_from_db()
        assert provider.status == ProviderStatus.IN_POOL
        assert not BlacklistEntry.objects.exists()

    def test_another_provider_cannot_state_the_case(self, provider, officer):
        proposal = _propose(provider, officer)
        stranger = UserFactory(role=Role.PROVIDER, organisation=ProviderFactory().organisation)
        with travel(at(2026, 5, 2)), pytest.raises(PermissionDenied):
            services.revocation_state_case(revocation=proposal, by=stranger, statement="x")

    def test_a_late_statement_is_refused(self, provider, provider_user, officer):
        proposal = _propose(provider, officer)
        with travel(at(2026, 5, 7)), pytest.raises(ValidationError):
            services.revocation_state_case(revocation=proposal, by=provider_user, statement="迟到的陈述")

    def test_approval_is_blocked_while_an_appeal_against_its_evidence_is_pending(
        self, provider, officer, approver, monkeypatch
    ):
        contract = ServiceContractFactory(provider=provider)
        with travel(at(2026, 5, 1)):
            proposal = services.revocation_propose(
                provider=provider, ground=5, finding="虚假交易", by=officer, evidence=[contract]
            )
        under_appeal = {contract.pk}
        monkeypatch.setattr(selectors, "_APPEAL_CHECKS", [lambda ct, ids: ids & under_appeal])
        with travel(at(2026, 5, 8)), pytest.raises(ValidationError) as excinfo:
            services.revocation_approve(revocation=proposal, by=approver, reason="理由")
        assert "appeal" in str(excinfo.value).lower() or "申诉" in str(excinfo.value)
        under_appeal.clear()
        with travel(at(2026, 5, 8)):
            services.revocation_approve(revocation=proposal, by=approver, reason="理由")
        assert BlacklistEntry.objects.filter(provider=provider).exists()

    def test_approval_applies_article_14_to_active_contracts_only(self, provider, officer, approver):
        active = ServiceContractFactory(
            provider=provider, status=ContractStatus.IN_PROGRESS, advance_payment=Decimal("50000")
        )
        done = ServiceContractFactory(provider=provider, status=ContractStatus.ACCEPTED)
        proposal = _propose(provider, officer)
        with travel(at(2026, 5, 8)):
            services.revocation_approve(revocation=proposal, by=approver, reason="伪造合同事实清楚")
        active.refresh_from_db()
        done.refresh_from_db()
        assert active.status == ContractStatus.TERMINATED
        assert done.status == ContractStatus.ACCEPTED
        assert list(FeeConsequence.objects.values_list("contract_id", "advance_recoverable")) == [
            (active.pk, Decimal("50000.00"))
        ]
        entry = BlacklistEntry.objects.get()
        assert entry.authority == "唐山市工业和信息化局"
        assert Notification.objects.filter(kind="revocation_decided", recipient_organisation=provider.organisation)

    def test_a_failed_acceptance_gets_the_same_fee_consequences(self, officer):
        contract = ServiceContractFactory(status=ContractStatus.INTERNALLY_ACCEPTED, advance_payment=Decimal("1000"))
        consequence = contract_fail_acceptance(contract=contract, by=officer, reason="评测等级未达二级")
        contract.refresh_from_db()
        assert contract.status == ContractStatus.FAILED
        assert consequence.fee_withheld and consequence.advance_recoverable == Decimal("1000.00")
        assert consequence.cause == FeeConsequence.Cause.FAILED_ACCEPTANCE


@pytest.mark.django_db(transaction=True)
def test_document_numbers_must_be_allocated_inside_a_transaction():
    with pytest.raises(RuntimeError):
        document_number_allocate(year=2026)


# --- concurrency, on a real PostgreSQL ------------------------------------------------------------------------

needs_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")


def _in_threads(n, target):
    barrier = threading.Barrier(n)
    results = [None] * n

    def run(i):
        try:
            barrier.wait()
            results[i] = ("ok", target(i))
        except Exception as exc:
            results[i] = ("error", exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_two_approvers_at_once_exactly_one_succeeds(provider, officer):
    approvers = [UserFactory(role=Role.APPROVER), UserFactory(role=Role.APPROVER)]
    proposal = _propose(provider, officer)
    with travel(at(2026, 5, 8)):
        results = _in_threads(
            2, lambda i: services.revocation_approve(revocation=proposal, by=approvers[i], reason=f"审批{i}")
        )
    outcomes = sorted(kind for kind, _value in results)
    assert outcomes == ["error", "ok"], results
    error = next(value for kind, value in results if kind == "error")
    assert isinstance(error, ValidationError)
    assert "another approver" in str(error) or "其他审批人" in str(error)
    assert BlacklistEntry.objects.count() == 1
    assert RevocationCase.objects.get().status == RevocationStatus.APPROVED


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_document_numbers_never_repeat_under_concurrency():
    def allocate(_i):
        with transaction.atomic():
            return document_number_allocate(year=2026)

    results = _in_threads(8, allocate)
    numbers = [value for kind, value in results if kind == "ok"]
    assert len(numbers) == 8
    assert sorted(numbers, key=lambda n: int(n.split("〕")[1][:-1])) == [f"唐工信〔2026〕{i}号" for i in range(1, 9)]


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_leave_the_same_rows_as_one(officer):
    from tests.enforcement import ordered_case
    from tests.test_sweep_and_engine import snapshot

    providers = [ProviderFactory() for _ in range(4)]
    with travel(at(2026, 3, 2)):
        for provider in providers:
            for n in range(3):
                ordered_case(provider=provider, officer=officer, finding=f"问题{n}")
    with travel(at(2026, 4, 15)):
        results = _in_threads(2, lambda _i: services.deadlines_check())
    assert [kind for kind, _value in results] == ["ok", "ok"], results
    assert sum(value["overdue"] for _kind, value in results) == 12
    together = snapshot()
    with travel(at(2026, 4, 15)):
        services.deadlines_check()
    assert snapshot() == together
    assert RevocationCase.objects.filter(status=RevocationStatus.PROPOSED).count() == 4


@pytest.mark.django_db
def test_approval_settles_the_providers_other_open_proposals(provider, officer, approver):
    first = _propose(provider, officer, ground=5)
    second = _propose(provider, officer, ground=7)
    with travel(at(2026, 5, 8)):
        services.revocation_approve(revocation=first, by=approver, reason="伪造合同")
        second.refresh_from_db()
        assert second.status == RevocationStatus.DISMISSED
        assert first.__class__.objects.get(pk=first.pk).decision_number in second.decision_reason
        with pytest.raises(ValidationError):
            services.revocation_approve(revocation=second, by=approver, reason="再次")
    assert BlacklistEntry.objects.count() == 1
