"""The one write path for a provider's standing in the resource pool."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from .models import POOL_STATUSES, Provider, ProviderStatus


class StandingError(ValidationError):
    """The requested change does not fit the provider's current standing."""


def _locked(provider):
    return Provider.objects.select_for_update().get(pk=provider.pk)


def _apply(provider, method_name, *, by, reason):
    provider = _locked(provider)
    method = getattr(provider, method_name)
    if not can_proceed(method):
        raise StandingError(
            _("This is not possible while the provider's standing is “%(status)s”.")
            % {"status": provider.get_status_display()}
        )
    method(by=by, description=reason)
    provider.save()
    return provider


@transaction.atomic
def provider_admit(*, provider, by, reason):
    return _apply(provider, "admit", by=by, reason=reason)


@transaction.atomic
def provider_reject(*, provider, by, reason):
    return _apply(provider, "reject", by=by, reason=reason)


@transaction.atomic
def provider_withdraw(*, provider, by, reason):
    return _apply(provider, "withdraw", by=by, reason=reason)


@transaction.atomic
def provider_revoke(*, provider, by, reason):
    return _apply(provider, "revoke", by=by, reason=reason)


@transaction.atomic
def provider_reinstate(*, provider, by, reason):
    return _apply(provider, "reinstate", by=by, reason=reason)


STANDING_TRANSITIONS = {
    ProviderStatus.IN_POOL: "clear",
    ProviderStatus.WARNED: "mark_warned",
    ProviderStatus.UNDER_RECTIFICATION: "mark_under_rectification",
}


@transaction.atomic
def provider_follow_cases(*, provider, standing, by, reason):
    """Set a pool member's standing to the one its open cases call for (DESIGN: warned, then rectifying).

    Providers outside the pool (applied, revoked, withdrawn …) keep their standing: a case does not admit
    or revoke anybody. Returns the provider, changed or not.
    """
    provider = _locked(provider)
    if provider.status not in POOL_STATUSES or provider.status == standing:
        return provider
    method = getattr(provider, STANDING_TRANSITIONS[standing])
    method(by=by, description=reason)
    provider.save()
    return provider
