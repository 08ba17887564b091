"""The one-enterprise-one-dossier (Art 6(2)): who may see how much of it, and what it gathers.

The dossier reads the records of every app (contracts, assessments, complaints), so it lives in its own app at
the end of the dependency chain rather than in enterprises."""

from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count, IntegerField, OuterRef, Prefetch, Q, Subquery, Value
from django.db.models.functions import Coalesce

from complaints.models import OPEN_COMPLAINT_STATUSES
from enterprises.models import (
    ChangeRequest,
    ContractStatus,
    CooperationIntention,
    DiagnosisFinding,
    DiagnosisReport,
    DossierSurvey,
    PilotEnterprise,
    ProgressReport,
    ServiceContract,
    TrainingAttendance,
)
from enterprises.selectors import enterprises_visible_to
from evaluations.models import LevelAssessment
from providers.models import POOL_STATUSES
from tangshan_portal.models import Organisation, ScenarioFamily

from .models import ConsentScope, DestructionRecord, DossierConsent

DOSSIER_FULL = "full"
DOSSIER_CONTRACTS = "contracts"
# A provider that holds the enterprise's written consent (Art 10(1), dossiers.models.DossierConsent): what
# DOSSIER_CONTRACTS shows of its own work, and the enterprise's own information in the parts the consent names —
# never another provider's contracts, intentions or the complaints.
DOSSIER_CONSENTED = "consented"
PROVIDER_ACCESS = (DOSSIER_CONTRACTS, DOSSIER_CONSENTED)

# A provider reads the dossier through a contract the enterprise has signed. A draft is the provider's own
# paper: counting it would let any provider open any enterprise's dossier just by starting one. A contract
# terminated because the provider was cleared out (Art 13) ends its business with the enterprise, and with
# it the access to the enterprise's information (Art 10(1): used only for the agreed purpose).
DOSSIER_PROVIDER_STATUSES = (
    ContractStatus.SIGNED,
    ContractStatus.IN_PROGRESS,
    ContractStatus.INTERNALLY_ACCEPTED,
    ContractStatus.ACCEPTED,
    ContractStatus.FAILED,
)


def dossier_is_own(user, enterprise):
    """True for the enterprise's own staff (an active enterprise organisation)."""
    if not user.is_authenticated:
        return False
    org = user.organisation
    return (
        org is not None
        and org.kind == Organisation.Kind.ENTERPRISE
        and org.is_active
        and enterprise.organisation_id == org.pk
    )


def dossier_consents(user, enterprise, now=None):
    """The enterprise's consents that are valid now for the provider this user acts for: given, not revoked, not
    past their last day, to a provider still in the resource pool (a provider cleared out loses them, as it
    loses its contracts' access). None for anyone else."""
    if not user.is_authenticated or user.organisation_id is None:
        return DossierConsent.objects.none()
    return DossierConsent.objects.valid(now).filter(
        enterprise=enterprise,
        grantee__organisation_id=user.organisation_id,
        grantee__organisation__kind=Organisation.Kind.PROVIDER,
        grantee__organisation__is_active=True,
        grantee__status__in=POOL_STATUSES,
    )


def dossier_consented_scope(user, enterprise, access):
    """The parts of the dossier shared with this user by consent (ConsentScope values); empty without consent."""
    if access != DOSSIER_CONSENTED:
        return set()
    scope = set()
    for codes in dossier_consents(user, enterprise).values_list("scope", flat=True):
        scope.update(code for code in codes or () if code in ConsentScope.values)
    return scope


def dossier_access(user, enterprise):
    """How much of the enterprise's dossier this user may see: DOSSIER_FULL (the enterprise itself, bureau
    staff, its county, an assessor of an institution assigned to it), DOSSIER_CONSENTED (a provider holding the
    enterprise's valid written consent), DOSSIER_CONTRACTS (a provider: only what belongs to its own contracts
    with the enterprise), or None (nothing; the page answers 404).

    Fails closed: an inactive organisation, or an account whose organisation says nothing, sees nothing."""
    if not user.is_authenticated or not user.is_active:
        return None
    if user.is_superuser:
        return DOSSIER_FULL
    org = user.organisation
    if org is not None and org.kind == Organisation.Kind.ENTERPRISE:
        return DOSSIER_FULL if dossier_is_own(user, enterprise) else None
    if org is not None and org.kind == Organisation.Kind.PROVIDER:
        if not org.is_active:
            return None
        if dossier_consents(user, enterprise).exists():
            return DOSSIER_CONSENTED
        has_contract = ServiceContract.objects.filter(
            enterprise=enterprise, provider__organisation_id=org.pk, status__in=DOSSIER_PROVIDER_STATUSES
        ).exists()
        return DOSSIER_CONTRACTS if has_contract else None
    if not user.has_perm("enterprises.view_pilotenterprise"):
        return None
    if enterprises_visible_to(user, PilotEnterprise.objects.filter(pk=enterprise.pk)).exists():
        return DOSSIER_FULL
    return None


def dossier_scope_q(user, access, provider_path="provider"):
    """A filter for dossier sections that belong to a provider (contracts, diagnoses, surveys, trainings,
    intentions): everything with full access, the user's own provider's rows with contract access, and
    nothing otherwise (an unknown access level must not widen into "everything")."""
    if access == DOSSIER_FULL:
        return Q()
    if access in PROVIDER_ACCESS and user.organisation_id is not None:
        return Q(**{f"{provider_path}__organisation_id": user.organisation_id})
    return Q(pk__in=[])


def dossier_contracts(user, enterprise, access):
    """The enterprise's contracts in the dossier, from the moment the provider sends one for signing (an
    unsent draft is the provider's working paper); a provider sees its own only."""
    return (
        ServiceContract.objects.filter(enterprise=enterprise)
        .filter(dossier_scope_q(user, access))
        .exclude(status=ContractStatus.DRAFT, submitted_at__isnull=True)
        .select_related("provider")
        .order_by("-start_on", "number")
    )


def _weighted_progress(milestones):
    """The contract's progress as the enterprise has acknowledged it: each milestone's acknowledged
    progress weighted by its share of the plan (the basis of the Art 13(3) schedule check)."""
    total = sum(m.weight for m in milestones)
    if not total:
        return None
    return round(sum(m.weight * m.reported_progress for m in milestones) / total)


def dossier_contract_details(contracts):
    """The contracts with what the dossier shows of each, in a fixed number of queries whatever their
    number: milestones and weighted acknowledged progress, progress-report count and the latest report,
    change requests, internal acceptance (Art 8), evaluation acceptance (Art 9) and Art 14 consequences."""
    # Imported here: evaluations depends on enterprises, not the other way round.
    reports = ProgressReport.objects.filter(contract=OuterRef("pk")).order_by()
    latest = ProgressReport.objects.filter(contract=OuterRef("pk")).order_by("-submitted_at", "-id")
    contracts = contracts.annotate(
        report_count=Coalesce(
            Subquery(reports.values("contract").annotate(n=Count("pk")).values("n"), output_field=IntegerField()),
            Value(0),
        ),
        reports_awaiting=Coalesce(
            Subquery(
                reports.filter(status=ProgressReport.Status.SUBMITTED)
                .values("contract")
                .annotate(n=Count("pk"))
                .values("n"),
                output_field=IntegerField(),
            ),
            Value(0),
        ),
        last_report_at=Subquery(latest.values("submitted_at")[:1]),
        last_report_status=Subquery(latest.values("status")[:1]),
        last_report_progress=Subquery(latest.values("progress")[:1]),
    ).prefetch_related(
        "milestones",
        Prefetch("change_requests", queryset=ChangeRequest.objects.order_by("-proposed_at", "-id")),
        "internal_acceptances",
        "fee_consequences",
        Prefetch(
            "level_assessments",
            queryset=LevelAssessment.objects.filter(
                kind=LevelAssessment.Kind.ACCEPTANCE, status=LevelAssessment.Status.FINAL
            )
            .select_related("institution")
            .order_by("-assessed_on", "-id"),
            to_attr="final_acceptance_assessments",
        ),
    )
    report_labels = dict(ProgressReport.Status.choices)
    rows = list(contracts)
    for contract in rows:
        contract.milestone_list = list(contract.milestones.all())
        contract.acknowledged_progress = _weighted_progress(contract.milestone_list)
        contract.last_report_status_label = report_labels.get(contract.last_report_status, "")
        contract.change_request_list = list(contract.change_requests.all())
        acceptances = list(contract.internal_acceptances.all())
        contract.internal_acceptance = acceptances[0] if acceptances else None
        contract.evaluation = (
            contract.final_acceptance_assessments[0] if contract.final_acceptance_assessments else None
        )
        contract.fee_consequence_list = list(contract.fee_consequences.all())
    return rows


def _shared(user, enterprise, access, part):
    """Whether this part of the dossier is shown whole: full access, or a consent that names it."""
    return access == DOSSIER_FULL or part in dossier_consented_scope(user, enterprise, access)


def _contract_refs(rows, user, access, contract_of):
    """Each row's `contract_ref`: the number of the contract it belongs to, shown only when the viewer may see that
    contract (a consent shares the enterprise's information, not another provider's contracts)."""
    for row in rows:
        contract = contract_of(row)
        visible = contract is not None and (
            access == DOSSIER_FULL or contract.provider.organisation_id == user.organisation_id
        )
        row.contract_ref = contract.number if visible else ""
    return rows


def dossier_level_history(user, enterprise, access):
    """Every final digital-level assessment of the enterprise, newest first. A provider sees the baseline
    assessments and the acceptance assessments of its own contracts, not another provider's result — unless the
    enterprise consented to share its level history, which it then sees whole (without the other contracts)."""
    assessments = LevelAssessment.objects.filter(enterprise=enterprise, status=LevelAssessment.Status.FINAL)
    if access not in (DOSSIER_FULL, *PROVIDER_ACCESS):
        return []
    if not _shared(user, enterprise, access, ConsentScope.LEVELS):
        assessments = assessments.filter(
            Q(kind=LevelAssessment.Kind.BASELINE) | dossier_scope_q(user, access, "contract__provider")
        )
    rows = list(assessments.select_related("institution", "contract__provider").order_by("-assessed_on", "-id"))
    return _contract_refs(rows, user, access, lambda assessment: assessment.contract)


def _findings_by_family(findings):
    labels = dict(ScenarioFamily.choices)
    groups = {}
    for finding in findings:
        groups.setdefault(finding.scenario.family, []).append(finding)
    return [(labels[code], groups[code]) for code in ScenarioFamily.values if code in groups]


def dossier_diagnoses(user, enterprise, access):
    """Submitted diagnosis reports (Art 5) with their findings grouped by the four scenario families; a
    draft is the provider's working paper."""
    scope = Q() if _shared(user, enterprise, access, ConsentScope.DIAGNOSES) else dossier_scope_q(user, access)
    reports = list(
        DiagnosisReport.objects.filter(enterprise=enterprise, status=DiagnosisReport.Status.SUBMITTED)
        .filter(scope)
        .select_related("provider")
        .prefetch_related(
            Prefetch(
                "findings",
                queryset=DiagnosisFinding.objects.select_related("scenario").order_by("scenario__sort_order", "id"),
            )
        )
        .order_by("-diagnosed_on", "-id")
    )
    for report in reports:
        report.families = _findings_by_family(report.findings.all())
    return reports


def dossier_surveys(user, enterprise, access):
    """The deep surveys (Art 6(2)): the core information Art 10(1) protects. Full access sees all of them, a
    provider those made under its own contracts, and all of them when the enterprise consented to share them."""
    if _shared(user, enterprise, access, ConsentScope.SURVEYS):
        scope = Q()
    else:
        scope = dossier_scope_q(user, access, "contract__provider")
    rows = list(
        DossierSurvey.objects.filter(enterprise=enterprise, contract__enterprise=enterprise)
        .filter(scope)
        .select_related("contract__provider")
        .order_by("-surveyed_on", "-id")
    )
    return _contract_refs(rows, user, access, lambda survey: survey.contract)


def dossier_intentions(user, enterprise, access):
    return list(
        CooperationIntention.objects.filter(enterprise=enterprise)
        .filter(dossier_scope_q(user, access))
        .select_related("provider", "event__county")
        .prefetch_related("scenarios")
        .order_by("-proposed_at", "-id")
    )


def dossier_trainings(user, enterprise, access):
    if _shared(user, enterprise, access, ConsentScope.TRAININGS):
        scope = Q()
    else:
        scope = dossier_scope_q(user, access, "session__provider")
    return list(
        TrainingAttendance.objects.filter(enterprise=enterprise)
        .filter(scope)
        .select_related("session__provider")
        .order_by("-session__held_on", "-id")
    )


def dossier_complaint_counts(user, enterprise, access):
    """How many complaints the enterprise filed (Art 11) and how many are open, for full access by those who
    may read complaints at all (the enterprise itself and the bureau's staff, not an assessor); else None."""
    if access != DOSSIER_FULL:
        return None
    if not (dossier_is_own(user, enterprise) or user.has_perm("complaints.view_complaint")):
        return None
    # Imported here: complaints depends on enterprises, not the other way round.
    return enterprise.complaints.aggregate(
        total=Count("pk"), open=Count("pk", filter=Q(status__in=OPEN_COMPLAINT_STATUSES))
    )


@dataclass
class Dossier:
    enterprise: PilotEnterprise
    access: str
    contracts: list = field(default_factory=list)
    level_history: list = field(default_factory=list)
    diagnoses: list = field(default_factory=list)
    surveys: list = field(default_factory=list)
    intentions: list = field(default_factory=list)
    trainings: list = field(default_factory=list)
    complaints: dict | None = None
    target_level: int = 2
    # The valid consents a DOSSIER_CONSENTED view rests on, and the latest destruction of the enterprise's data.
    consents: list = field(default_factory=list)
    destruction: DestructionRecord | None = None

    @property
    def full(self):
        return self.access == DOSSIER_FULL

    @property
    def consented(self):
        return self.access == DOSSIER_CONSENTED

    @property
    def consent_ids(self):
        return [consent.pk for consent in self.consents]

    @property
    def baseline_assessment(self):
        return next((a for a in self.level_history if a.kind == "baseline"), None)

    @property
    def baseline_level(self):
        """The latest final baseline assessment's level, else the level recorded when the enterprise
        joined the pilot."""
        baseline = self.baseline_assessment
        return baseline.level if baseline is not None else self.enterprise.baseline_level

    @property
    def latest_acceptance(self):
        return next((a for a in self.level_history if a.kind == "acceptance"), None)

    @property
    def target_reached(self):
        latest = self.latest_acceptance
        return latest is not None and latest.level >= self.target_level


def dossier_consents_shown(user, enterprise, access):
    if access != DOSSIER_CONSENTED:
        return []
    return list(dossier_consents(user, enterprise).order_by("valid_until", "pk"))


def dossier_destruction(enterprise):
    return DestructionRecord.objects.filter(enterprise=enterprise).order_by("-executed_at", "-id").first()


def dossier_build(user, enterprise, access):
    """Everything the dossier page shows to this user, each section limited to what the access allows."""
    if access not in (DOSSIER_FULL, *PROVIDER_ACCESS):
        raise ValueError(f"no dossier for access {access!r}")
    return Dossier(
        enterprise=enterprise,
        access=access,
        contracts=dossier_contract_details(dossier_contracts(user, enterprise, access)),
        level_history=dossier_level_history(user, enterprise, access),
        diagnoses=dossier_diagnoses(user, enterprise, access),
        surveys=dossier_surveys(user, enterprise, access),
        intentions=dossier_intentions(user, enterprise, access),
        trainings=dossier_trainings(user, enterprise, access),
        complaints=dossier_complaint_counts(user, enterprise, access),
        target_level=settings.ACCEPTANCE_MIN_LEVEL,
        consents=dossier_consents_shown(user, enterprise, access),
        destruction=dossier_destruction(enterprise),
    )
