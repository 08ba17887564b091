"""The pilot enterprise's pages for cooperation intentions (Art 4), the diagnoses it received (Art 5) and the
training its staff attended (Art 7).

Every write goes through enterprises.services_outreach; every read starts from the user's enterprise, so
another enterprise's record answers 404."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Case, IntegerField, Value, When
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tangshan_portal.files import attachment_response
from tangshan_portal.services import attach_files, attachments_of

from . import selectors_outreach as selectors
from . import services_outreach as services
from .access import enterprise_staff_required
from .models import CooperationIntention, TrainingSession
from .views_outreach_provider import error_text


@require_GET
@enterprise_staff_required
def intention_list(request, enterprise):
    # Those awaiting an answer first: they are what the enterprise has to do here.
    awaiting_first = Case(
        When(status=CooperationIntention.Status.PROPOSED, then=Value(0)), default=Value(1), output_field=IntegerField()
    )
    intentions = list(selectors.enterprise_intentions(enterprise).order_by(awaiting_first, "-proposed_at", "-id"))
    return render(
        request,
        "outreach/enterprise_intention_list.html",
        {
            "enterprise": enterprise,
            "intentions": intentions,
            "awaiting": sum(1 for row in intentions if row.status == CooperationIntention.Status.PROPOSED),
            "diagnoses": list(selectors.enterprise_diagnoses(enterprise)),
            "trainings_count": selectors.enterprise_trainings(enterprise).count(),
        },
    )


@require_POST
@enterprise_staff_required
def intention_answer(request, enterprise, pk):
    intention = get_object_or_404(selectors.enterprise_intentions(enterprise), pk=pk)
    answer = request.POST.get("answer")
    if answer not in ("confirm", "decline"):
        return HttpResponseBadRequest(_("Unknown answer."))
    try:
        services.intention_answer(by=request.user, intention=intention, confirm=answer == "confirm")
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        if answer == "confirm":
            messages.success(
                request, _("You confirmed the intention with %(provider)s.") % {"provider": intention.provider}
            )
        else:
            messages.success(
                request, _("You declined the intention with %(provider)s.") % {"provider": intention.provider}
            )
    return redirect(f"{reverse('enterprise:intention_list')}#intention-{intention.pk}")


@require_GET
@enterprise_staff_required
def diagnosis_detail(request, enterprise, pk):
    report = get_object_or_404(selectors.enterprise_diagnoses(enterprise), pk=pk)
    return render(
        request,
        "outreach/enterprise_diagnosis_detail.html",
        {
            "enterprise": enterprise,
            "report": report,
            "families": selectors.findings_by_family(report),
            "attachments": list(attachments_of(report)),
        },
    )


@require_GET
@enterprise_staff_required
def diagnosis_attachment(request, enterprise, pk, attachment_pk):
    report = get_object_or_404(selectors.enterprise_diagnoses(enterprise), pk=pk)
    attachment = get_object_or_404(attachments_of(report), pk=attachment_pk)
    return attachment_response(request, attachment, diagnosis=report.pk)


@require_GET
@enterprise_staff_required
def training_attended(request, enterprise):
    rows = list(selectors.enterprise_trainings(enterprise).order_by("-session__held_on", "-id"))
    attach_files([row.session for row in rows], "materials")
    for row in rows:
        row.materials = row.session.materials
    return render(request, "outreach/enterprise_training_list.html", {"enterprise": enterprise, "rows": rows})


@require_GET
@enterprise_staff_required
def training_material(request, enterprise, session_pk, attachment_pk):
    """The materials of a session the enterprise attended; other sessions' materials are not its business."""
    session = get_object_or_404(TrainingSession.objects.filter(attendances__enterprise=enterprise), pk=session_pk)
    attachment = get_object_or_404(attachments_of(session), pk=attachment_pk)
    return attachment_response(request, attachment, training=session.pk)
