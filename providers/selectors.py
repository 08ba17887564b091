"""Reads of the provider registry that span rows: unreported registration changes (Art 12(1)), prices above
the policy threshold (Art 13(8)), and what an applicant or a provider sees of its own records."""

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q
from django.db.models.functions import Abs
from django.utils import timezone

from tangshan_portal.models import Organisation

from .models import ApplicationStatus, ProductPriceChange, Provider, ProviderApplication, RegistrationChange


def _report_window():
    return timedelta(days=settings.REGISTRATION_CHANGE_REPORT_DAYS)


def _reported_in_time():
    """A report by the provider of the same item, dated within ±REGISTRATION_CHANGE_REPORT_DAYS of the registry
    date and made no later than the end of the reporting period, for the registry change in the outer query.

    The window on the date of the change is symmetric because providers and the registry often record a
    slightly different date for the same change (the resolution date against the licence date)."""
    window = _report_window()
    return Exists(
        RegistrationChange.objects.filter(
            provider=OuterRef("provider"),
            field=OuterRef("field"),
            source=RegistrationChange.Source.PROVIDER,
            changed_on__gte=OuterRef("changed_on") - window,
            changed_on__lte=OuterRef("changed_on") + window,
            recorded_at__date__lte=OuterRef("changed_on") + window,
        )
    )


def _unreported_q(today):
    """Registry changes whose reporting period is over without a timely report by the provider."""
    return Q(
        source=RegistrationChange.Source.REGISTRY,
        changed_on__lt=today - _report_window(),
        _reported_in_time=False,
    )


def registration_changes_with_report_check(queryset=None, today=None):
    """The changes annotated with `unreported`: True for a registry change the provider did not report in time
    once the reporting period is over (a possible Art 12(1) ground), False otherwise."""
    today = today or timezone.localdate()
    queryset = RegistrationChange.objects.all() if queryset is None else queryset
    return queryset.annotate(_reported_in_time=_reported_in_time()).annotate(
        unreported=ExpressionWrapper(_unreported_q(today), output_field=BooleanField())
    )


def registration_changes_unreported(today=None, queryset=None):
    """Registry-recorded changes the provider did not report within REGISTRATION_CHANGE_REPORT_DAYS
    (a possible Art 12(1) ground), once that period is over; newest first."""
    return registration_changes_with_report_check(queryset, today).filter(unreported=True)


def registration_change_report_due(change):
    """The last day on which the provider's report of this change counts as in time."""
    return change.changed_on + _report_window()


# --- Prices (Art 13(8)) ------------------------------------------------------------------------------------------


def price_threshold():
    return Decimal(str(settings.PRICE_CHANGE_THRESHOLD))


def price_changes_above_threshold(queryset=None):
    """Price changes whose size exceeds the threshold as configured now (the `drastic` flag keeps the threshold
    that applied when the change was made)."""
    queryset = ProductPriceChange.objects.all() if queryset is None else queryset
    return queryset.annotate(_size=Abs("change_ratio")).filter(_size__gt=price_threshold())


# --- Applicants and providers -------------------------------------------------------------------------------------


def provider_of(user):
    """The provider the user acts for, or None."""
    if not user.is_authenticated or user.organisation_id is None:
        return None
    return Provider.objects.filter(
        organisation_id=user.organisation_id,
        organisation__kind=Organisation.Kind.PROVIDER,
        organisation__is_active=True,
    ).first()


def applications_of(user):
    """The applications of the user's own (provider-kind, active) organisation; none for anybody else."""
    if not user.is_authenticated or user.organisation_id is None:
        return ProviderApplication.objects.none()
    return ProviderApplication.objects.filter(
        organisation_id=user.organisation_id,
        organisation__kind=Organisation.Kind.PROVIDER,
        organisation__is_active=True,
    )


def applications_in_notice():
    """The applications in public notice (公示), for the public notices page."""
    return (
        ProviderApplication.objects.filter(status=ApplicationStatus.IN_NOTICE)
        .select_related("county")
        .prefetch_related("scenarios")
        .order_by("notice_ends_on", "name", "pk")
    )
