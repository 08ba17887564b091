"""Who may use the pilot enterprise's self-service pages; shared by every app's enterprise pages."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from tangshan_portal.models import Organisation

from .models import PilotEnterprise


def enterprise_of(user):
    """The pilot enterprise the user acts for (an active enterprise organisation), else None."""
    if not user.is_authenticated or user.organisation_id is None:
        return None
    return (
        PilotEnterprise.objects.filter(
            organisation_id=user.organisation_id,
            organisation__kind=Organisation.Kind.ENTERPRISE,
            organisation__is_active=True,
        )
        .select_related("county")
        .first()
    )


def enterprise_staff_required(view):
    """Logged in (else to the login page) and acting for a pilot enterprise (else 403). The view gets the
    user's enterprise as its second argument."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        enterprise = enterprise_of(request.user)
        if enterprise is None:
            raise PermissionDenied(_("This page is for the staff of a pilot enterprise."))
        return view(request, enterprise, *args, **kwargs)

    return login_required(wrapper)
