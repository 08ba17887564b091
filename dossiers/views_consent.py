"""The consent pages (Art 10(1) "共享需书面同意"): the enterprise gives and revokes its written consent to share its
dossier on its self-service pages (namespace `enterprise:`), and a provider sees the consents it holds (namespace
`provider:`). Plain POST forms with a confirmation step; every write goes through dossiers.services."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from enterprises.access import enterprise_staff_required
from providers.access import provider_staff_required
from tangshan_portal.forms import put_service_errors

from . import services
from .forms import ConsentForm
from .models import DossierConsent


def _with_status(consents):
    now = timezone.now()
    for consent in consents:
        consent.current_status = consent.status(now)
    return consents


@never_cache
@require_GET
@enterprise_staff_required
def consent_list(request, enterprise):
    consents = _with_status(
        list(DossierConsent.objects.filter(enterprise=enterprise).select_related("grantee", "granted_by", "revoked_by"))
    )
    return render(
        request,
        "dossiers/consent_list.html",
        {
            "enterprise": enterprise,
            "active": [c for c in consents if c.current_status == "active"],
            "past": [c for c in consents if c.current_status != "active"],
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
@enterprise_staff_required
def consent_new(request, enterprise):
    """The form, then a confirmation page showing exactly what will be shared (the same data in hidden fields),
    then the consent. "Change" on the confirmation page brings the form back with what was entered."""
    if request.method == "POST":
        form = ConsentForm(request.POST)
        if form.is_valid() and "edit" not in request.POST:
            data = form.cleaned_data
            if "confirm" in request.POST:
                try:
                    services.consent_grant(
                        enterprise=enterprise,
                        by=request.user,
                        grantee=data["grantee"],
                        purpose=data["purpose"],
                        scope=data["scope"],
                        valid_until=data["valid_until"],
                    )
                except ValidationError as error:
                    put_service_errors(form, error)
                else:
                    messages.success(
                        request,
                        _("Consent given: %(provider)s may read the parts you chose until %(date)s.")
                        % {"provider": data["grantee"].name, "date": data["valid_until"].isoformat()},
                    )
                    return redirect("enterprise:consent_list")
            else:
                labels = dict(form.fields["scope"].choices)
                return render(
                    request,
                    "dossiers/consent_confirm.html",
                    {"enterprise": enterprise, "form": form, "scope_labels": [labels[c] for c in data["scope"]]},
                )
    else:
        form = ConsentForm()
    return render(request, "dossiers/consent_form.html", {"enterprise": enterprise, "form": form})


@never_cache
@require_http_methods(["GET", "POST"])
@enterprise_staff_required
def consent_revoke(request, enterprise, pk):
    consent = get_object_or_404(
        DossierConsent.objects.filter(enterprise=enterprise, revoked_at__isnull=True).select_related("grantee"), pk=pk
    )
    if request.method == "POST":
        try:
            services.consent_revoke(consent=consent, by=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                _("Consent revoked: %(provider)s can no longer read the shared parts of your dossier.")
                % {"provider": consent.grantee.name},
            )
        return redirect("enterprise:consent_list")
    consent.current_status = consent.status()
    return render(request, "dossiers/consent_revoke.html", {"enterprise": enterprise, "consent": consent})


@never_cache
@require_GET
@provider_staff_required
def provider_consent_list(request, provider):
    """The consents the provider holds, with the dossier each one opens while it is valid."""
    consents = _with_status(
        list(
            DossierConsent.objects.filter(grantee=provider).select_related("enterprise__county").order_by("-granted_at")
        )
    )
    return render(
        request,
        "dossiers/provider_consent_list.html",
        {
            "provider": provider,
            "active": [c for c in consents if c.current_status == "active"],
            "past": [c for c in consents if c.current_status != "active"],
        },
    )
