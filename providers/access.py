"""Who may use the provider's self-service pages. Lives here, in the lowest app that knows providers, so
that every app's provider pages share one rule."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from .selectors import applications_of, provider_of


def provider_staff_required(view):
    """Logged in (else to the login page) and acting for a provider organisation (else 403). The view gets
    the user's provider as its second argument. An applicant not yet admitted (its organisation has an
    application but no provider) is sent to its application's status page instead."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        provider = provider_of(request.user)
        if provider is None and applications_of(request.user).exists():
            return redirect("provider:application_status")
        if provider is None:
            raise PermissionDenied(_("This page is for the staff of a service provider."))
        return view(request, provider, *args, **kwargs)

    return login_required(wrapper)
