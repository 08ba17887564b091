"""Reads for digital-level assessments (Art 6(1), 9) that depend on who is asking.

Assessors see their own institution's work on the enterprises assigned to it now; county staff their county;
the bureau's roles everything. Every scope fails closed."""

from enterprises.models import ContractStatus, PilotEnterprise, ServiceContract
from enterprises.selectors import enterprises_visible_to
from tangshan_portal.models import Organisation
from tangshan_portal.roles import Role

from .models import AssessorAssignment, LevelAssessment, LevelDimension


def is_assessor(user):
    org = user.organisation
    return user.has_role(Role.ASSESSOR) or (org is not None and org.kind == Organisation.Kind.INSTITUTION)


def _is_county(user):
    org = user.organisation
    return user.has_role(Role.COUNTY) or (org is not None and org.kind == Organisation.Kind.COUNTY_BUREAU)


def _is_bureau(user):
    org = user.organisation
    return org is not None and org.kind == Organisation.Kind.BUREAU


def assigned_enterprises(user):
    """The enterprises the user's institution is assigned to assess now."""
    if user.organisation_id is None:
        return PilotEnterprise.objects.none()
    assigned = AssessorAssignment.objects.filter(institution_id=user.organisation_id, ended_at__isnull=True)
    return PilotEnterprise.objects.filter(pk__in=assigned.values("enterprise_id"))


def assessments_visible_to(user, queryset=None):
    queryset = LevelAssessment.objects.all() if queryset is None else queryset
    if user.is_superuser:
        return queryset
    if not user.has_perm("evaluations.view_levelassessment"):
        return queryset.none()
    if is_assessor(user):
        if user.organisation_id is None:
            return queryset.none()
        return queryset.filter(
            institution_id=user.organisation_id, enterprise__in=assigned_enterprises(user).values("pk")
        )
    if _is_county(user):
        county = user.county
        return queryset.none() if county is None else queryset.filter(enterprise__county=county)
    if _is_bureau(user):
        return queryset
    return queryset.none()


def assignments_visible_to(user, queryset=None):
    """Assessors see their institution's assignments (also the ended ones); county staff those of their county's
    enterprises; the bureau all."""
    queryset = AssessorAssignment.objects.all() if queryset is None else queryset
    if user.is_superuser:
        return queryset
    if not user.has_perm("evaluations.view_assessorassignment"):
        return queryset.none()
    if is_assessor(user):
        if user.organisation_id is None:
            return queryset.none()
        return queryset.filter(institution_id=user.organisation_id)
    if _is_county(user):
        county = user.county
        return queryset.none() if county is None else queryset.filter(enterprise__county=county)
    if _is_bureau(user):
        return queryset
    return queryset.none()


def assignable_enterprises(user):
    return enterprises_visible_to(user).order_by("name")


def assignable_institutions():
    return Organisation.objects.filter(kind=Organisation.Kind.INSTITUTION, is_active=True).order_by("name")


def acceptance_contracts(user, enterprise=None):
    """Contracts awaiting evaluation acceptance (internally accepted) of the enterprises assigned to the user's
    institution, or of one of them."""
    contracts = ServiceContract.objects.filter(
        status=ContractStatus.INTERNALLY_ACCEPTED, enterprise__in=assigned_enterprises(user).values("pk")
    )
    if enterprise is not None:
        contracts = contracts.filter(enterprise=enterprise)
    return contracts.select_related("enterprise", "provider").order_by("enterprise__name", "number")


def latest_final_levels(enterprise):
    """The enterprise's latest final assessment of each kind (by date): {"baseline": …, "acceptance": …}, each an
    assessment or None. Whoever assessed it: the enterprise's levels are one fact, shown side by side."""
    finals = (
        LevelAssessment.objects.filter(enterprise=enterprise, status=LevelAssessment.Status.FINAL)
        .select_related("institution", "contract")
        .order_by("-assessed_on", "-finalised_at", "-pk")
    )
    return {
        "baseline": finals.filter(kind=LevelAssessment.Kind.BASELINE).first(),
        "acceptance": finals.filter(kind=LevelAssessment.Kind.ACCEPTANCE).first(),
    }


def items_by_dimension(standard, scores=None):
    """The standard's indicators grouped by dimension, in the standard's order, each with its recorded points
    (from `scores`, {item_id: points}) when given: [(dimension label, max total, [(item, points)])]."""
    scores = scores or {}
    groups = []
    for value, label in LevelDimension.choices:
        items = [item for item in standard.items.all() if item.dimension == value]
        if items:
            groups.append(
                {
                    "value": value,
                    "label": label,
                    "max_points": sum(item.max_points for item in items),
                    "points": sum((scores[item.pk] for item in items if item.pk in scores), start=0)
                    if scores
                    else None,
                    "items": [(item, scores.get(item.pk)) for item in items],
                }
            )
    return groups


def scenarios_by_group(standard, levels=None):
    """The standard's scenarios grouped by business area, in the standard's order: [{label, scenarios}]."""
    levels = levels or {}
    groups = {}
    for scenario in standard.scenarios.all():
        groups.setdefault(scenario.group, []).append((scenario, levels.get(scenario.pk)))
    return [{"label": group, "scenarios": rows} for group, rows in groups.items()]
