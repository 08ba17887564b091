"""Reads that depend on who is asking.

County bureau staff see their own county only; assessors see the enterprises assigned to their institution;
provider and enterprise staff see their own organisation's records. Every scope fails closed: an account
whose organisation does not say what it may see, sees nothing."""

from tangshan_portal.roles import Role

from .models import (
    PilotEnterprise,
    ServiceContract,
)

# Assessor assignments belong to evaluations, which depends on this app; it registers the query of the
# enterprises assigned to an institution when it loads (evaluations.apps). Until then assessors see nothing.
_assigned_enterprises = None


def register_assigned_enterprises(query):
    """query(institution_id) -> a values("enterprise_id") queryset of the enterprises assigned now."""
    global _assigned_enterprises
    _assigned_enterprises = query


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
        if user.organisation_id is None or _assigned_enterprises is None:
            return queryset.none()
        queryset = queryset.filter(**{f"{enterprise_path}__in": _assigned_enterprises(user.organisation_id)})
    return queryset


def enterprises_visible_to(user, queryset=None):
    queryset = PilotEnterprise.objects.all() if queryset is None else queryset
    return _limit(user, queryset, "county", "pk")


def contracts_visible_to(user, queryset=None):
    queryset = ServiceContract.objects.all() if queryset is None else queryset
    return _limit(user, queryset, "enterprise__county", "enterprise_id")
