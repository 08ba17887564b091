"""Reads that depend on who is asking: county bureau staff see their own county only."""

from tangshan_portal.roles import Role

from .models import PilotEnterprise, ServiceContract


def _limit_to_county(user, queryset, county_path):
    # Fails closed: a county-bureau account whose organisation names no county sees nothing, never everything.
    org = user.organisation
    county_limited = user.has_role(Role.COUNTY) or (org is not None and org.kind == org.Kind.COUNTY_BUREAU)
    if not county_limited or user.is_superuser:
        return queryset
    county = user.county
    if county is None:
        return queryset.none()
    return queryset.filter(**{county_path: county})


def enterprises_visible_to(user, queryset=None):
    queryset = PilotEnterprise.objects.all() if queryset is None else queryset
    return _limit_to_county(user, queryset, "county")


def contracts_visible_to(user, queryset=None):
    queryset = ServiceContract.objects.all() if queryset is None else queryset
    return _limit_to_county(user, queryset, "enterprise__county")
