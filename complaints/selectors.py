"""Reads for complaints (Art 11) and the satisfaction surveys an enterprise owes, by who is asking."""

import re
from dataclasses import dataclass

from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from enterprises.models import ContractStatus, Milestone, ServiceContract
from evaluations.models import SatisfactionRating
from tangshan_portal.models import Organisation
from tangshan_portal.roles import Role

from .models import Complaint, ComplaintStatus

# --- Complaints ------------------------------------------------------------------------------------------------


def complaints_visible_to(user, queryset=None):
    """Bureau staff who read complaints see all; county staff the complaints of their county's enterprises;
    an enterprise its own; a provider those against it. Anyone else sees nothing (fail closed)."""
    queryset = Complaint.objects.all() if queryset is None else queryset
    if not user.is_authenticated:
        return queryset.none()
    if user.is_superuser:
        return queryset
    org = user.organisation
    # County staff hold complaints.view_complaint too: the county limit is checked first.
    if user.has_role(Role.COUNTY) or (org is not None and org.kind == Organisation.Kind.COUNTY_BUREAU):
        county = user.county
        return queryset.none() if county is None else queryset.filter(enterprise__county=county)
    if user.has_perm("complaints.view_complaint"):
        return queryset
    if org is None or not org.is_active:
        return queryset.none()
    if org.kind == Organisation.Kind.ENTERPRISE:
        return queryset.filter(enterprise__organisation=org)
    if org.kind == Organisation.Kind.PROVIDER:
        # The provider learns of a complaint once the bureau accepted it, never of one it turned down.
        return queryset.filter(provider__organisation=org).exclude(
            status__in=[ComplaintStatus.SUBMITTED, ComplaintStatus.REJECTED]
        )
    return queryset.none()


def enterprise_contracts(enterprise):
    return ServiceContract.objects.filter(enterprise=enterprise)


# --- Satisfaction surveys (Art 11, 13(2)) ----------------------------------------------------------------------

# A survey is owed on contracts in these states: at each milestone whose planned date has passed, and at
# acceptance once the enterprise has signed its internal acceptance.
SURVEY_CONTRACT_STATUSES = (ContractStatus.IN_PROGRESS, ContractStatus.INTERNALLY_ACCEPTED, ContractStatus.ACCEPTED)
ACCEPTANCE_STAGE_STATUSES = (ContractStatus.INTERNALLY_ACCEPTED, ContractStatus.ACCEPTED)
ACCEPTANCE_STAGE = "acceptance"
_MILESTONE_STAGE = re.compile(r"milestone-([1-9][0-9]{0,17})")


def milestone_stage(milestone):
    return f"milestone-{milestone.pk}"


def stage_label(stage, milestone=None):
    if stage == ACCEPTANCE_STAGE:
        return _("Acceptance")
    if milestone is not None:
        return _("Milestone: %(name)s") % {"name": milestone.name}
    return stage


@dataclass(frozen=True)
class DueSurvey:
    contract: ServiceContract
    stage: str
    milestone: Milestone | None

    @property
    def label(self):
        return stage_label(self.stage, self.milestone)

    @property
    def due_since(self):
        return self.milestone.planned_on if self.milestone is not None else None


def survey_contracts(enterprise):
    """The enterprise's contracts with what the due-survey computation needs: three queries in all, however
    many contracts, milestones and ratings there are."""
    return (
        enterprise_contracts(enterprise)
        .select_related("provider")
        .prefetch_related(
            Prefetch("milestones", queryset=Milestone.objects.order_by("planned_on", "id")),
            Prefetch("ratings", queryset=SatisfactionRating.objects.only("id", "contract_id", "stage")),
        )
    )


def _milestone_due(milestone, today):
    return milestone.planned_on < today


def surveys_due_for(contracts, today=None):
    """The surveys still to fill on these contracts (prefetched as survey_contracts does), oldest first:
    one per milestone whose planned date has passed, one for acceptance; stages already rated are done
    (a voided rating included: a stage is rated once)."""
    today = today or timezone.localdate()
    due = []
    for contract in contracts:
        if contract.status not in SURVEY_CONTRACT_STATUSES:
            continue
        rated = {rating.stage for rating in contract.ratings.all()}
        for milestone in contract.milestones.all():
            if _milestone_due(milestone, today) and milestone_stage(milestone) not in rated:
                due.append(DueSurvey(contract, milestone_stage(milestone), milestone))
        if contract.status in ACCEPTANCE_STAGE_STATUSES and ACCEPTANCE_STAGE not in rated:
            due.append(DueSurvey(contract, ACCEPTANCE_STAGE, None))
    return due


def surveys_due(enterprise, today=None):
    return surveys_due_for(survey_contracts(enterprise), today)


def survey_stage(contract, stage, today=None):
    """(milestone or None, rating or None) for a stage of the contract that is due or already rated;
    None when the stage does not exist for this contract or is not due yet."""
    today = today or timezone.localdate()
    rating = (
        SatisfactionRating.objects.filter(contract=contract, stage=stage)
        .select_related("milestone", "submitted_by")
        .first()
    )
    if stage == ACCEPTANCE_STAGE:
        if rating is None and contract.status not in ACCEPTANCE_STAGE_STATUSES:
            return None
        return None, rating
    match = _MILESTONE_STAGE.fullmatch(stage)
    if match is None:
        return None
    milestone = Milestone.objects.filter(contract=contract, pk=int(match.group(1))).first()
    if milestone is None:
        return None
    if rating is None and (contract.status not in SURVEY_CONTRACT_STATUSES or not _milestone_due(milestone, today)):
        return None
    return milestone, rating


def ratings_of(enterprise):
    return (
        SatisfactionRating.objects.filter(contract__enterprise=enterprise)
        .select_related("contract__provider", "milestone")
        .order_by("-submitted_at", "-id")
    )
