"""Records in the states where their official documents are due, and each kind's decision through its service."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from django.utils import timezone

from complaints import services as appeals
from complaints.models import AppealType
from enterprises import services as contracts
from enterprises.models import ContractStatus
from evaluations import services as enforcement
from evaluations import services_levels
from evaluations.models import LevelAssessment, RevocationCase, RevocationStatus
from opendata import services as publishing
from tangshan_portal.models import IssuedDocument
from tangshan_portal.roles import Role
from tests.enforcement import at, ordered_case, state_case, travel, warned_case
from tests.factories import PilotEnterpriseFactory, ProviderFactory, ServiceContractFactory, UserFactory
from tests.factories_contracts import pdf
from tests.factories_levels import (
    AssignmentFactory,
    InstitutionFactory,
    accepted_internally,
    assessor_of,
    final,
    open_assessment,
)
from tests.factories_public import excellent_batch


def ordered_rectification(*, officer, provider=None, finding="服务团队未按合同约定进驻企业现场，导致企业投诉。"):
    provider = provider or ProviderFactory(name="唐山测评科技有限公司")
    return ordered_case(provider=provider, officer=officer, finding=finding)


def approved_revocation(*, approver, provider=None, number="唐工信〔2026〕31号", ground=4):
    # Built directly in its final state: the documents only read the case, and revocation_approve's
    # side effects (contracts, blacklist) are tested in test_revocation.
    provider = provider or ProviderFactory(name="唐山泄密科技有限公司")
    now = timezone.now()
    return RevocationCase.objects.create(
        provider=provider,
        ground=ground,
        finding="向第三方泄露试点企业生产工艺数据。",
        source=RevocationCase.Source.OFFICER,
        status=RevocationStatus.APPROVED,
        proposed_at=now,
        statement_due_at=now,
        provider_statement="",
        decided_by=approver,
        decided_at=now,
        decision_reason="服务商未在期限内陈述，事实清楚、证据确凿。",
        decision_number=number,
    )


# --- Every kind, decided through its service ----------------------------------------------------------------
#
# Each `pending_<kind>()` prepares a record up to the moment of its decision and returns a `Pending`: `decide()`
# takes the decision through the service (a test wraps it in django_capture_on_commit_callbacks to see the
# document issued after commit), `target(record)` is the record the document is issued for, and `recipients` the
# organisations it must be addressed to.

Kind = IssuedDocument.Kind
ORDERED_AT = at(2026, 3, 2)


def _itself(record):
    return record


@dataclass
class Pending:
    decide: Callable
    by: object
    recipients: set = field(default_factory=set)
    target: Callable = _itself
    # The record before the decision, which its builder must refuse.
    undecided: object = None


def _staff(role, organisation):
    return UserFactory(role=role, organisation=organisation)


def pending_rectification_notice(officer, **_):
    provider = ProviderFactory(name="唐山测评科技有限公司")
    with travel(ORDERED_AT):
        case = state_case(warned_case(provider=provider, officer=officer))

    def decide():
        with travel(ORDERED_AT):
            return enforcement.rectification_order(case=case, by=officer)

    return Pending(decide, officer, {provider.organisation}, undecided=case)


def _proposed_revocation(officer, provider, ground=4, finding="向第三方泄露试点企业生产工艺数据"):
    with travel(at(2026, 5, 1)):
        return enforcement.revocation_propose(provider=provider, ground=ground, finding=finding, by=officer)


def pending_revocation_decision(officer, approver, **_):
    provider = ProviderFactory(name="唐山泄密科技有限公司")
    proposal = _proposed_revocation(officer, provider)

    def decide():
        with travel(at(2026, 5, 8)):
            return enforcement.revocation_approve(revocation=proposal, by=approver, reason="事实清楚，证据确凿")

    return Pending(decide, approver, {provider.organisation}, undecided=proposal)


def pending_blacklist_announcement(officer, approver, **_):
    pending = pending_revocation_decision(officer, approver)
    pending.target = lambda revocation: revocation.blacklist_entry
    pending.undecided = None  # an entry exists only once decided; a removed one is refused instead
    return pending


def pending_appeal_decision(officer, approver, reviewer, **_):
    """An Art 16(1) appeal against a running rectification deadline, upheld with a new deadline."""
    provider = ProviderFactory(name="唐山申诉科技有限公司")
    with travel(ORDERED_AT):
        case = ordered_case(provider=provider, officer=officer)
    staff = _staff(Role.PROVIDER, provider.organisation)
    with travel(at(2026, 3, 10)):
        appeal = appeals.appeal_file(
            by=staff,
            appeal_type=AppealType.DIAGNOSIS_DELAYED,
            target=case,
            grounds="试点企业停产检修，诊断调研推迟三周",
            requested_deadline=date(2026, 4, 30),
        )
        appeal = appeals.appeal_start_review(appeal=appeal, by=reviewer)

    def decide():
        with travel(at(2026, 3, 16)):
            return appeals.appeal_uphold(
                appeal=appeal,
                by=reviewer,
                decision="企业停产检修属实，逾期不可归责于服务商",
                new_deadline=date(2026, 4, 30),
            )

    return Pending(decide, reviewer, {provider.organisation}, undecided=appeal)


def pending_excellent_list(approver, **_):
    providers = [ProviderFactory(name=f"唐山优秀科技有限公司{n}") for n in (1, 2, 3)]
    batch = excellent_batch(providers=providers, name="2026年度第一批优秀数字化服务商")
    batch.document_number = "唐工信〔2026〕88号"
    batch.save(update_fields=["document_number"])

    def decide():
        return publishing.excellent_batch_publish(batch=batch, by=approver)

    return Pending(decide, approver, set(), undecided=batch)


def pending_internal_acceptance(**_):
    contract = ServiceContractFactory(
        provider=ProviderFactory(name="唐山验收科技有限公司"),
        enterprise=PilotEnterpriseFactory(name="唐山精工机械有限公司"),
        status=ContractStatus.IN_PROGRESS,
        title="生产设备联网与数据采集项目",
    )
    provider_staff = _staff(Role.PROVIDER, contract.provider.organisation)
    enterprise_staff = _staff(Role.ENTERPRISE, contract.enterprise.organisation)
    with travel(at(2026, 9, 21)):
        acceptance = contracts.internal_acceptance_submit(
            contract=contract,
            by=provider_staff,
            held_on=date(2026, 9, 20),
            participants="企业：王总；服务商：李工",
            conclusion="系统运行正常，同意通过内部验收",
            documents=[pdf("内部验收报告.pdf")],
        )

    def decide():
        with travel(at(2026, 9, 22)):
            return contracts.internal_acceptance_sign(acceptance=acceptance, by=enterprise_staff)

    parties = {contract.provider.organisation, contract.enterprise.organisation}
    return Pending(decide, enterprise_staff, parties, undecided=acceptance)


def final_acceptance_assessment(*, total=48, levels=(2, 2), with_baseline=True):
    """(assessor, a final acceptance assessment not yet decided) for a new internally accepted contract."""
    enterprise = PilotEnterpriseFactory(name="唐山评测制造有限公司", baseline_level=None)
    institution = InstitutionFactory(name="唐山数字化评测中心")
    AssignmentFactory(institution=institution, enterprise=enterprise)
    assessor = assessor_of(institution)
    contract = accepted_internally(
        enterprise, provider=ProviderFactory(name="唐山评测服务科技有限公司"), title="智能仓储数字化改造项目"
    )
    with travel(at(2026, 5, 4)):
        if with_baseline:
            final(open_assessment(assessor, enterprise, on=date(2026, 3, 1)), assessor, 30, 1)
        assessment = final(
            open_assessment(assessor, enterprise, kind=LevelAssessment.Kind.ACCEPTANCE, contract=contract),
            assessor,
            total,
            *levels,
        )
    return assessor, assessment


def pending_evaluation_acceptance(**_):
    assessor, assessment = final_acceptance_assessment()
    contract = assessment.contract

    def decide():
        with travel(at(2026, 5, 6)):
            return services_levels.acceptance_decide(
                assessment=assessment, by=assessor, passed=True, reason="数字化水平达到二级，验收通过"
            )

    return Pending(
        decide,
        assessor,
        {contract.provider.organisation, contract.enterprise.organisation, assessment.institution},
        undecided=assessment,
    )


PENDING = {
    Kind.RECTIFICATION_NOTICE: pending_rectification_notice,
    Kind.REVOCATION_DECISION: pending_revocation_decision,
    Kind.BLACKLIST_ANNOUNCEMENT: pending_blacklist_announcement,
    Kind.APPEAL_DECISION: pending_appeal_decision,
    Kind.EXCELLENT_LIST: pending_excellent_list,
    Kind.INTERNAL_ACCEPTANCE: pending_internal_acceptance,
    Kind.EVALUATION_ACCEPTANCE: pending_evaluation_acceptance,
}


def plaintext_file(doc):
    """The issued PDF as a download gives it, in a file next to the stored one, for pdftotext and pdffonts: the
    stored file is encrypted (tangshan_portal/storage.py), so its own path holds only ciphertext."""
    path = Path(f"{doc.file.path}.plain.pdf")
    with doc.file.open("rb") as handle:
        path.write_bytes(handle.read())
    return path
