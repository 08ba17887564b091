"""Reads that depend on who is asking.

County bureau staff see their own county only; assessors see the enterprises assigned to their institution;
provider and enterprise staff see their own organisation's records. Every scope fails closed: an account
whose organisation does not say what it may see, sees nothing."""

from django.db.models import Q

from tangshan_portal.roles import Role

from .models import PilotEnterprise, ServiceContract


def _is_county_limited(user):
    org = user.organisation
    return user.has_role(Role.COUNTY) or (org is not None and org.kind == org.Kind.COUNTY_BUREAU)


def _is_assessor_limited(user):
    org = user.organisation
    return user.has_role(Role.ASSESSOR) or (org is not None and org.kind == org.Kind.INSTITUTION)


def _limit(user, queryset, county_path, enterprise_path):
    if user.is_superuser:
        return queryset
    if _is_county_limited(user):
        county = user.county
        if county is None:
            return queryset.none()
        queryset = queryset.filter(**{county_path: county})
    if _is_assessor_limited(user):
        if user.organisation_id is None:
            return queryset.none()
        # Imported here: evaluations depends on enterprises, not the other way round.
        from evaluations.models import AssessorAssignment

        assigned = AssessorAssignment.objects.filter(institution_id=user.organisation_id, ended_at__isnull=True).values(
            "enterprise_id"
        )
        queryset = queryset.filter(**{f"{enterprise_path}__in": assigned})
    return queryset


def enterprises_visible_to(user, queryset=None):
    queryset = PilotEnterprise.objects.all() if queryset is None else queryset
    return _limit(user, queryset, "county", "pk")


def contracts_visible_to(user, queryset=None):
    queryset = ServiceContract.objects.all() if queryset is None else queryset
    return _limit(user, queryset, "enterprise__county", "enterprise_id")


# --- The one-enterprise-one-dossier (Art 6(2)) --------------------------------------------------------------


def dossier_access(user, enterprise):
    """How much of the enterprise's dossier this user may see: "full" (the enterprise itself, bureau staff,
    its county, an assigned assessor), "contracts" (a provider: only what belongs to its own contracts with
    the enterprise), or None (nothing; the page answers 404)."""
    if not user.is_authenticated:
        return None
    org = user.organisation
    if user.is_superuser:
        return "full"
    if org is not None and org.kind == org.Kind.ENTERPRISE:
        return "full" if enterprise.organisation_id == org.pk else None
    if org is not None and org.kind == org.Kind.PROVIDER:
        has_contract = ServiceContract.objects.filter(enterprise=enterprise, provider__organisation_id=org.pk).exists()
        return "contracts" if has_contract else None
    if not user.has_perm("enterprises.view_pilotenterprise"):
        return None
    if enterprises_visible_to(user, PilotEnterprise.objects.filter(pk=enterprise.pk)).exists():
        return "full"
    return None


def dossier_contracts(user, enterprise, access):
    contracts = ServiceContract.objects.filter(enterprise=enterprise).select_related("provider")
    if access == "contracts":
        contracts = contracts.filter(provider__organisation_id=user.organisation_id)
    return contracts.order_by("-start_on", "number")


def dossier_scope_q(user, access, provider_path="provider"):
    """A filter for dossier sections that belong to a provider (diagnoses, surveys, trainings)."""
    if access == "contracts":
        return Q(**{f"{provider_path}__organisation_id": user.organisation_id})
    return Q()
