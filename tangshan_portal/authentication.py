"""Who may authenticate, by password or by API token (issue 8, classified protection level 3: identity
authentication).

- An account acts for its organisation: when the organisation is deactivated, its users can neither log in (the
  login pages say why, once the password was right) nor keep a session (`get_user` refuses them on their next
  request, whichever session was left) nor use an API token. Accounts without an organisation (the command-line
  superuser) are not affected.
- API tokens expire PORTAL_API_TOKEN_HOURS after they were issued; the system administrator issues a new one
  (Token admin). A refused token answers 401 and is written to the audit log.
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from .audit import defer_event
from .models import AuditEvent

# Why the backend refused a correct password (set on the request, read by the login forms and the audit).
ORGANISATION_INACTIVE = "organisation_inactive"


def organisation_active(user):
    """Whether the user's organisation (if any) is active."""
    return user.organisation_id is None or user.organisation.is_active


class PortalModelBackend(ModelBackend):
    """Django's model backend, refusing the users of a deactivated organisation as it refuses inactive users."""

    def user_can_authenticate(self, user):
        return super().user_can_authenticate(user) and organisation_active(user)

    def authenticate(self, request, username=None, password=None, **kwargs):
        # ModelBackend.authenticate, with one difference: a correct password refused for the organisation is
        # marked on the request, so the login page can say why. Only then: the message tells a stranger
        # nothing, and the lockout counts the attempt like any failure.
        model = get_user_model()
        if username is None:
            username = kwargs.get(model.USERNAME_FIELD)
        if username is None or password is None:
            return None
        try:
            user = model._default_manager.get_by_natural_key(username)
        except model.DoesNotExist:
            model().set_password(password)  # the hasher's time for unknown names too (Django #20760)
            return None
        if not user.check_password(password):
            return None
        if self.user_can_authenticate(user):
            return user
        if request is not None and user.is_active and not organisation_active(user):
            request.portal_login_refused = ORGANISATION_INACTIVE
        return None

    def get_user(self, user_id):
        # The organisation comes with the user: the check costs no query, and request.user.organisation is loaded.
        model = get_user_model()
        try:
            user = model._default_manager.select_related("organisation").get(pk=user_id)
        except model.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None


ORGANISATION_INACTIVE_MESSAGE = _(
    "Your organisation's access to the portal has been deactivated, so you cannot log in. Please contact the "
    "bureau if you think this is a mistake."
)


class OrganisationRefusalMixin:
    """The login forms: a clear message when the backend refused a correct password for the organisation."""

    def get_invalid_login_error(self):
        if getattr(self.request, "portal_login_refused", None) == ORGANISATION_INACTIVE:
            return ValidationError(ORGANISATION_INACTIVE_MESSAGE, code=ORGANISATION_INACTIVE)
        return super().get_invalid_login_error()


class PortalAuthenticationForm(OrganisationRefusalMixin, AuthenticationForm):
    pass


class PortalAdminAuthenticationForm(OrganisationRefusalMixin, AdminAuthenticationForm):
    pass


# --- API tokens ------------------------------------------------------------------------------------------------


def token_expires_at(token):
    return token.created + timedelta(hours=settings.PORTAL_API_TOKEN_HOURS)


class ExpiringTokenAuthentication(TokenAuthentication):
    """DRF's token authentication, with an expiry and the organisation check; refusals are audited."""

    def authenticate(self, request):
        try:
            return super().authenticate(request)
        except exceptions.AuthenticationFailed as error:
            # Deferred: DRF rolls the view's transaction back on any API error.
            defer_event(
                request,
                AuditEvent.Action.LOGIN_FAILED,
                success=False,
                username=getattr(error, "portal_username", ""),
                api_token=True,
                reason=str(error.detail),
            )
            raise

    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        if timezone.now() >= token_expires_at(token):
            error = exceptions.AuthenticationFailed(_("Token expired: ask the system administrator for a new one."))
        elif not organisation_active(user):
            error = exceptions.AuthenticationFailed(ORGANISATION_INACTIVE_MESSAGE)
        else:
            return user, token
        error.portal_username = user.get_username()
        raise error
