"""The one-enterprise-one-dossier page (Art 6(2)): one page that gathers an enterprise's profile, digital-level
history, diagnoses, deep surveys, contracts, matchmaking and training — and its PDF, built in the background.

Who may see how much is decided by dossiers.selectors.dossier_access — a provider beyond its own contracts only
with the enterprise's written consent (views_consent.py); everyone else gets 404. The dossier holds trade secrets
(Art 10(1)), so every view by someone other than the enterprise itself is audited (a view under consent names the
consents it rests on) and the page is never cached. Asking for the PDF is a read of the dossier too and is audited
the same way."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from enterprises.access import enterprise_staff_required
from enterprises.models import PilotEnterprise
from tangshan_portal.audit import record_event
from tangshan_portal.jobs import job_start, jobs_of
from tangshan_portal.models import AuditEvent, BackgroundJob

from .documents import dossier_context
from .selectors import DOSSIER_CONSENTED, dossier_access, dossier_consents, dossier_is_own

AUDIT_ACTION = AuditEvent.Action.DOSSIER_VIEW


def _audit(request, enterprise, access, **detail):
    if not dossier_is_own(request.user, enterprise):
        if access == DOSSIER_CONSENTED:
            # Art 10(1): every use of a consent names the consents it rests on.
            detail["consents"] = sorted(dossier_consents(request.user, enterprise).values_list("pk", flat=True))
        record_event(AUDIT_ACTION, request=request, obj=enterprise, access=access, **detail)


def _render(request, enterprise, access):
    _audit(request, enterprise, access)
    return render(request, "dossiers/detail.html", dossier_context(enterprise, request.user))


def _start_pdf(request, enterprise, access):
    """Start the PDF job and send the user to its progress page. A second click while the first PDF is still
    being made leads to the same job instead of rendering the same dossier twice."""
    _audit(request, enterprise, access, format="pdf")
    job = (
        jobs_of(request.user)
        .filter(
            kind=BackgroundJob.Kind.DOSSIER_PDF,
            status__in=[BackgroundJob.Status.QUEUED, BackgroundJob.Status.RUNNING],
            params__enterprise=enterprise.pk,
        )
        .first()
    )
    if job is None:
        job = job_start(kind=BackgroundJob.Kind.DOSSIER_PDF, by=request.user, params={"enterprise": enterprise.pk})
    return redirect("job_status", pk=job.pk)


def _visible_enterprise(request, pk):
    enterprise = get_object_or_404(PilotEnterprise.objects.select_related("county"), pk=pk)
    access = dossier_access(request.user, enterprise)
    if access is None:
        raise Http404
    return enterprise, access


@never_cache
@require_GET
@login_required
def detail(request, pk):
    return _render(request, *_visible_enterprise(request, pk))


@never_cache
@require_GET
@enterprise_staff_required
def own_dossier(request, enterprise):
    access = dossier_access(request.user, enterprise)
    if access is None:
        raise Http404
    return _render(request, enterprise, access)


@require_POST
@login_required
def pdf(request, pk):
    return _start_pdf(request, *_visible_enterprise(request, pk))


@require_POST
@enterprise_staff_required
def own_dossier_pdf(request, enterprise):
    access = dossier_access(request.user, enterprise)
    if access is None:
        raise Http404
    return _start_pdf(request, enterprise, access)
