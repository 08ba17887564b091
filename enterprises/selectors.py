"""Reads that depend on who is asking: a county bureau sees its own county only."""

from .models import PilotEnterprise, ServiceContract


def enterprises_visible_to(user, queryset=None):
    queryset = PilotEnterprise.objects.all() if queryset is None else queryset
    county = user.county
    if county is not None:
        return queryset.filter(county=county)
    return queryset


def contracts_visible_to(user, queryset=None):
    queryset = ServiceContract.objects.all() if queryset is None else queryset
    county = user.county
    if county is not None:
        return queryset.filter(enterprise__county=county)
    return queryset
