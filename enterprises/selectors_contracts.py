"""Reads for the contract pages of both sides: lists with their flags, one contract's full picture, and what
is waiting for each side to act on."""

from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Exists, F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django_fsm_log.models import StateLog

from tangshan_portal.models import Attachment

from .models import (
    ChangeRequest,
    ContractStatus,
    InternalAcceptance,
    ProcurementItem,
    ProgressReport,
    ServiceContract,
)

ANSWERABLE_STATUSES = (ContractStatus.SIGNED, ContractStatus.IN_PROGRESS)
FLAGGED_PRICE_Q = Q(above_reference=True) | Q(above_list_price=True)


def provider_contracts(provider):
    return ServiceContract.objects.filter(provider=provider)


def enterprise_contracts(enterprise):
    return ServiceContract.objects.filter(enterprise=enterprise)


def _count(model, *conditions, **filters):
    """A correlated COUNT(*) of the contract's rows of `model`: one subquery per column, not one join each."""
    rows = (
        model.objects.filter(*conditions, contract=OuterRef("pk"), **filters)
        .order_by()
        .values("contract")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows[:1]), 0)


def with_list_flags(contracts):
    """The columns of both contract lists: flagged prices and what awaits either side, in one query."""
    return contracts.select_related("provider", "enterprise").annotate(
        flagged_items=_count(ProcurementItem, FLAGGED_PRICE_Q),
        reports_waiting=_count(ProgressReport, status=ProgressReport.Status.SUBMITTED),
        changes_waiting=_count(ChangeRequest, status=ChangeRequest.Status.PROPOSED),
        acceptances_waiting=_count(InternalAcceptance, status=InternalAcceptance.Status.AWAITING_ENTERPRISE),
    )


def _with_waiting(contracts):
    for contract in contracts:
        contract.awaiting_signature = contract.status == ContractStatus.DRAFT and contract.submitted_at is not None
        contract.enterprise_waiting = (
            int(contract.awaiting_signature)
            + contract.reports_waiting
            + contract.changes_waiting
            + contract.acceptances_waiting
        )
    return contracts


def contract_rows(contracts):
    return _with_waiting(list(with_list_flags(contracts).order_by("-created_at", "-id")))


# --- One contract ------------------------------------------------------------------------------------------


def contract_attachments(contract):
    """Every file that belongs to the contract: its confidentiality agreement and the documents archived with
    its internal acceptances. What a party may download from the contract's pages."""
    return Attachment.objects.filter(
        Q(content_type=ContentType.objects.get_for_model(ServiceContract), object_id=contract.pk)
        | Q(
            content_type=ContentType.objects.get_for_model(InternalAcceptance),
            object_id__in=InternalAcceptance.objects.filter(contract=contract).values("pk"),
        )
    ).order_by("-uploaded_at", "-id")


def contract_history(contract):
    labels = dict(ContractStatus.choices)
    rows = []
    for log in StateLog.objects.for_(contract).order_by("timestamp", "id"):
        rows.append(
            {
                "at": log.timestamp,
                "source": labels.get(log.source_state, log.source_state)
                if log.source_state and log.source_state != log.state
                else "",
                "target": labels.get(log.state, log.state),
                "changed": bool(log.source_state) and log.source_state != log.state,
                "description": log.description or "",
                "transition": log.transition,
            }
        )
    return rows


@dataclass
class ContractOverview:
    contract: ServiceContract
    milestones: list
    weight_sum: int
    weighted_progress: Decimal
    items: list
    procurement_total: Decimal
    flagged_items: int
    nda_files: list
    progress_reports: list
    change_requests: list
    acceptances: list
    history: list = field(default_factory=list)

    @property
    def procurement_over_amount(self):
        return self.procurement_total > self.contract.amount


def _deviation(price, base):
    """How far `price` lies above (positive) or below `base`, in whole per cent; None without a base."""
    if base is None or not base:
        return None
    return ((price / base - 1) * 100).quantize(Decimal("1"))


def contract_overview(contract):
    """Everything both sides' detail pages show about one contract, in a fixed number of queries."""
    milestones = list(contract.milestones.order_by("planned_on", "id"))
    items = list(contract.procurement_items.select_related("product").order_by("id"))
    for item in items:
        item.reference_deviation = _deviation(item.unit_price, item.reference_price)
        item.list_deviation = _deviation(item.unit_price, item.list_price_at_entry)
    files = list(contract_attachments(contract))
    contract_type = ContentType.objects.get_for_model(ServiceContract)
    acceptances = list(contract.internal_acceptances.select_related("provider_signed_by", "enterprise_signed_by"))
    by_acceptance = {}
    acceptance_type = ContentType.objects.get_for_model(InternalAcceptance)
    for attachment in files:
        if attachment.content_type_id == acceptance_type.pk:
            by_acceptance.setdefault(attachment.object_id, []).append(attachment)
    for acceptance in acceptances:
        acceptance.documents = by_acceptance.get(acceptance.pk, [])
    weight_sum = sum(m.weight for m in milestones)
    weighted = sum((Decimal(m.weight) * m.reported_progress for m in milestones), Decimal("0")) / 100
    return ContractOverview(
        contract=contract,
        milestones=milestones,
        weight_sum=weight_sum,
        weighted_progress=weighted.quantize(Decimal("0.1")),
        items=items,
        procurement_total=sum((item.total for item in items), Decimal("0")),
        flagged_items=sum(1 for item in items if item.flagged),
        nda_files=[a for a in files if a.content_type_id == contract_type.pk and a.purpose == "nda"],
        progress_reports=list(
            contract.progress_reports.select_related("milestone", "submitted_by", "responded_by").order_by(
                "-submitted_at", "-id"
            )
        ),
        change_requests=list(contract.change_requests.select_related("proposed_by", "decided_by")),
        acceptances=acceptances,
        history=contract_history(contract),
    )


# --- What waits for whom ------------------------------------------------------------------------------------


class PendingActions:
    """Lists of what waits for one side, newest first, as attributes (`pending.change_requests`); `counts`
    gives their lengths, `total` their sum, and the object is false when nothing waits."""

    def __init__(self, **groups):
        self.groups = groups
        for name, rows in groups.items():
            setattr(self, name, rows)

    @property
    def counts(self):
        return {name: len(rows) for name, rows in self.groups.items()}

    @property
    def total(self):
        return sum(len(rows) for rows in self.groups.values())

    def __bool__(self):
        return self.total > 0


def enterprise_pending_actions(enterprise):
    """What awaits the enterprise: contracts sent for signing, progress reports to acknowledge or dispute,
    change requests to agree to or decline, internal acceptances to sign or refuse."""
    contracts = enterprise_contracts(enterprise)
    return PendingActions(
        **{
            "contracts_to_sign": list(
                contracts.filter(status=ContractStatus.DRAFT, submitted_at__isnull=False)
                .select_related("provider")
                .order_by("-submitted_at", "-id")
            ),
            "progress_reports": list(
                ProgressReport.objects.filter(contract__in=contracts, status=ProgressReport.Status.SUBMITTED)
                .select_related("contract__provider", "milestone")
                .order_by("-submitted_at", "-id")
            ),
            "change_requests": list(
                ChangeRequest.objects.filter(contract__in=contracts, status=ChangeRequest.Status.PROPOSED)
                .select_related("contract__provider")
                .order_by("-proposed_at", "-id")
            ),
            "internal_acceptances": list(
                InternalAcceptance.objects.filter(
                    contract__in=contracts, status=InternalAcceptance.Status.AWAITING_ENTERPRISE
                )
                .select_related("contract__provider")
                .order_by("-provider_signed_at", "-id")
            ),
        }
    )


def _last_log(transition):
    return Subquery(
        StateLog.objects.filter(
            content_type=ContentType.objects.get_for_model(ServiceContract),
            object_id=OuterRef("pk"),
            transition=transition,
        )
        .order_by("-timestamp", "-id")
        .values("timestamp")[:1]
    )


def provider_pending_actions(provider):
    """What awaits the provider after the enterprise answered: drafts it returned, progress reports it
    disputed, change requests it declined and internal acceptances it refused — each until the provider
    follows it up with a new draft submission, report, request or acceptance — and signed contracts whose
    implementation has not been started."""
    contracts = provider_contracts(provider)
    returned = (
        contracts.filter(status=ContractStatus.DRAFT, submitted_at__isnull=True)
        .annotate(returned_at=_last_log("return"), last_submitted_at=_last_log("submit"))
        .filter(returned_at__isnull=False)
        .filter(Q(last_submitted_at__isnull=True) | Q(returned_at__gt=F("last_submitted_at")))
        .select_related("enterprise")
        .order_by("-returned_at", "-id")
    )
    newer_report = ProgressReport.objects.filter(
        milestone_id=OuterRef("milestone_id"), submitted_at__gt=OuterRef("submitted_at")
    )
    newer_change = ChangeRequest.objects.filter(
        contract_id=OuterRef("contract_id"), proposed_at__gt=OuterRef("decided_at")
    )
    newer_acceptance = InternalAcceptance.objects.filter(
        contract_id=OuterRef("contract_id"), provider_signed_at__gt=OuterRef("provider_signed_at")
    )
    return PendingActions(
        **{
            "returned_contracts": list(returned),
            "contracts_to_start": list(
                contracts.filter(status=ContractStatus.SIGNED)
                .select_related("enterprise")
                .order_by("-signed_on", "-id")
            ),
            "disputed_reports": list(
                ProgressReport.objects.filter(
                    contract__in=contracts,
                    contract__status=ContractStatus.IN_PROGRESS,
                    status=ProgressReport.Status.DISPUTED,
                )
                .exclude(Exists(newer_report))
                .select_related("contract__enterprise", "milestone")
                .order_by("-responded_at", "-id")
            ),
            "declined_changes": list(
                ChangeRequest.objects.filter(
                    contract__in=contracts,
                    contract__status__in=ANSWERABLE_STATUSES,
                    status=ChangeRequest.Status.DECLINED,
                )
                .exclude(Exists(newer_change))
                .select_related("contract__enterprise")
                .order_by("-decided_at", "-id")
            ),
            "refused_acceptances": list(
                InternalAcceptance.objects.filter(
                    contract__in=contracts,
                    contract__status=ContractStatus.IN_PROGRESS,
                    status=InternalAcceptance.Status.REFUSED,
                )
                .exclude(Exists(newer_acceptance))
                .select_related("contract__enterprise")
                .order_by("-enterprise_signed_at", "-id")
            ),
        }
    )
