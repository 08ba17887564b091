"""Who may call which part of the open-data API, and how often.

Public endpoints are open to everyone. The `/me/` endpoints give each role its own records under the same rules
as the pages: a provider or an enterprise sees its organisation's records (found through its organisation, as the
self-service pages do); bureau, county, assessor and audit staff see what their role's view permission and the
app's selector allow (a county bureau its county, an assessor its assigned enterprises). A role without a rule for
an endpoint is refused with 403, never given an empty list, so that a client can tell "not allowed" from
"nothing yet". The system administrator keeps accounts and issues tokens, and reads no business data."""

from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from enterprises.access import enterprise_of
from providers.selectors import provider_of

# --- Throttling ---------------------------------------------------------------------------------------------


class _RateFromSettings:
    """DRF's throttles copy DEFAULT_THROTTLE_RATES into a class attribute at import, so a changed setting
    (a deployment's environment, a test's override_settings) would be ignored; read it for each request."""

    def get_rate(self):
        try:
            return api_settings.DEFAULT_THROTTLE_RATES[self.scope]
        except KeyError:
            raise ImproperlyConfigured(f"No throttle rate set for scope {self.scope!r}.") from None


class ApiAnonThrottle(_RateFromSettings, AnonRateThrottle):
    """Anonymous clients, counted per address in the default cache (Redis, shared by all web nodes)."""


class ApiUserThrottle(_RateFromSettings, UserRateThrottle):
    """Logged-in users and token clients, counted per account. Anonymous clients are left to ApiAnonThrottle
    (DRF's UserRateThrottle would count them by address too, at the users' rate)."""

    def get_cache_key(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return None
        return super().get_cache_key(request, view)


# --- Whose records ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Actor:
    """What the user acts for: `provider` or `enterprise` (its own records), or `staff` (the selectors decide)."""

    kind: str
    provider: object = None
    enterprise: object = None


def actor_of(user):
    """The organisation decides first, as on the self-service pages; staff are recognised by their role's
    view permission on the endpoint's records (checked by the endpoint)."""
    provider = provider_of(user)
    if provider is not None:
        return Actor("provider", provider=provider)
    enterprise = enterprise_of(user)
    if enterprise is not None:
        return Actor("enterprise", enterprise=enterprise)
    return Actor("staff")


class HasRuleForEndpoint(BasePermission):
    """Logged in (else 401) and holding a rule for this endpoint (else 403): the view's `queryset_for(actor,
    user)` answers None when the user's role has none."""

    message = _("Your role has no access to these records through the API.")

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated):
            return False
        return view.scoped_queryset() is not None
