"""The provider's pages for diagnosis (Art 5), dossier surveys (Art 6(2)), matchmaking (Art 4) and training (Art 7).

Every write goes through enterprises.services_outreach; every read starts from a queryset limited to the
user's provider, so another provider's record answers 404."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_fsm_log.models import StateLog

from providers.access import provider_staff_required
from tangshan_portal.files import attachment_response
from tangshan_portal.services import attachments_of

from . import selectors_outreach as selectors
from . import services_outreach as services
from .forms_outreach import (
    DiagnosisForm,
    DossierSurveyForm,
    FilesForm,
    FindingForm,
    IntentionForm,
    TrainingAttendanceForm,
    TrainingForm,
)
from .models import CooperationIntention, DiagnosisReport, MatchmakingEvent, ServiceContract

PER_PAGE = 20


# --- Helpers ---------------------------------------------------------------------------------------------------


def add_service_error(form, exc):
    """Show a service's ValidationError on the form: on the field it names when the form has it, else on top."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


def _history(obj, labels):
    return [
        {
            "at": log.timestamp,
            "source": labels.get(log.source_state, log.source_state) if log.source_state else "",
            "target": labels.get(log.state, log.state),
            "description": log.description or "",
        }
        for log in StateLog.objects.for_(obj).order_by("timestamp", "id")
    ]


def error_text(exc):
    return " ".join(exc.messages)


# --- Diagnosis (Art 5) and dossier surveys (Art 6(2)) ------------------------------------------------------------


@require_GET
@provider_staff_required
def diagnosis_list(request, provider):
    # An aggregate drops Meta.ordering: say it again for stable pages.
    reports = (
        selectors.provider_diagnoses(provider)
        .annotate(finding_count=Count("findings"))
        .order_by("-diagnosed_on", "-id")
    )
    page = Paginator(reports, PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "outreach/provider_diagnosis_list.html",
        {
            "provider": provider,
            "page": page,
            "in_pool": provider.is_in_pool,
            "can_diagnose": selectors.diagnosable_enterprises(provider).exists(),
            "surveys": list(selectors.provider_surveys(provider)),
            "surveyable_contracts": list(selectors.surveyable_contracts(provider)),
        },
    )


@require_http_methods(["GET", "POST"])
@provider_staff_required
def diagnosis_new(request, provider):
    form = DiagnosisForm(request.POST or None, provider=provider, initial={"diagnosed_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            report = services.diagnosis_save(
                by=request.user,
                enterprise=data["enterprise"],
                diagnosed_on=data["diagnosed_on"],
                summary=data["summary"],
                free_of_charge=data["free_of_charge"],
            )
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("The draft diagnosis was saved. Add the findings per scenario."))
            return redirect("provider:diagnosis_detail", pk=report.pk)
    return render(
        request,
        "outreach/provider_diagnosis_new.html",
        {"provider": provider, "form": form, "in_pool": provider.is_in_pool},
    )


def _diagnosis_forms(report, post=None, files=None, action=None):
    """The draft's three forms; the one the POST was for is bound."""
    return {
        "report_form": DiagnosisForm(
            post if action == "report" else None,
            report=report,
            initial={"diagnosed_on": report.diagnosed_on, "summary": report.summary},
            prefix="report",
        ),
        "finding_form": FindingForm(post if action == "finding" else None, report=report, prefix="finding"),
        "files_form": FilesForm(post if action == "attach" else None, files if action == "attach" else None),
    }


def _diagnosis_post(request, report, forms, action):
    """Run one action on the draft; returns the redirect on success, else None (errors are on the form)."""
    user = request.user
    if action == "report":
        form = forms["report_form"]
        if form.is_valid():
            try:
                services.diagnosis_save(
                    by=user,
                    report=report,
                    diagnosed_on=form.cleaned_data["diagnosed_on"],
                    summary=form.cleaned_data["summary"],
                    free_of_charge=form.cleaned_data["free_of_charge"],
                )
            except ValidationError as exc:
                add_service_error(form, exc)
            else:
                messages.success(request, _("The overall assessment was saved."))
                return redirect("provider:diagnosis_detail", pk=report.pk)
    elif action == "finding":
        form = forms["finding_form"]
        if form.is_valid():
            try:
                services.diagnosis_finding_save(by=user, report=report, **form.cleaned_data)
            except ValidationError as exc:
                add_service_error(form, exc)
            else:
                messages.success(request, _("The finding was added."))
                return redirect(f"{request.path}#family-{form.cleaned_data['scenario'].family}")
    elif action == "attach":
        form = forms["files_form"]
        if form.is_valid():
            try:
                services.diagnosis_attach(by=user, report=report, files=form.cleaned_data["files"])
            except ValidationError as exc:
                add_service_error(form, exc)
            else:
                messages.success(request, _("The files were attached."))
                return redirect("provider:diagnosis_detail", pk=report.pk)
    elif action == "delete_finding":
        finding = get_object_or_404(report.findings, pk=request.POST.get("finding") or 0)
        services.diagnosis_finding_delete(by=user, finding=finding)
        messages.success(request, _("The finding was removed."))
        return redirect("provider:diagnosis_detail", pk=report.pk)
    elif action == "submit":
        try:
            services.diagnosis_submit(by=user, report=report)
        except ValidationError as exc:
            messages.error(request, error_text(exc))
        else:
            messages.success(request, _("The diagnosis report was sent to the enterprise."))
        return redirect("provider:diagnosis_detail", pk=report.pk)
    else:
        return HttpResponseBadRequest(_("Unknown action."))
    return None


@require_http_methods(["GET", "POST"])
@provider_staff_required
def diagnosis_detail(request, provider, pk):
    report = get_object_or_404(selectors.provider_diagnoses(provider), pk=pk)
    is_draft = report.status == DiagnosisReport.Status.DRAFT
    action = request.POST.get("action") if request.method == "POST" else None
    if action and not is_draft:
        messages.error(request, _("A submitted diagnosis report can no longer be changed."))
        return redirect("provider:diagnosis_detail", pk=report.pk)
    forms = _diagnosis_forms(report, request.POST, request.FILES, action) if is_draft else {}
    if action:
        response = _diagnosis_post(request, report, forms, action)
        if response is not None:
            return response
    return render(
        request,
        "outreach/provider_diagnosis_detail.html",
        {
            "provider": provider,
            "report": report,
            "is_draft": is_draft,
            "families": selectors.findings_by_family(report),
            "attachments": list(attachments_of(report)),
            "history": _history(report, dict(DiagnosisReport.Status.choices)),
            **forms,
        },
    )


@require_http_methods(["GET", "POST"])
@provider_staff_required
def diagnosis_finding_edit(request, provider, pk, finding_pk):
    report = get_object_or_404(
        selectors.provider_diagnoses(provider).filter(status=DiagnosisReport.Status.DRAFT), pk=pk
    )
    finding = get_object_or_404(report.findings.select_related("scenario"), pk=finding_pk)
    initial = {
        "scenario": finding.scenario_id,
        "current_state": finding.current_state,
        "recommendation": finding.recommendation,
        "priority": finding.priority,
    }
    form = FindingForm(request.POST or None, report=report, finding=finding, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.diagnosis_finding_save(by=request.user, report=report, finding=finding, **form.cleaned_data)
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("The finding was saved."))
            return redirect("provider:diagnosis_detail", pk=report.pk)
    return render(
        request,
        "outreach/provider_finding_edit.html",
        {"provider": provider, "report": report, "finding": finding, "form": form},
    )


@require_GET
@provider_staff_required
def diagnosis_attachment(request, provider, pk, attachment_pk):
    report = get_object_or_404(selectors.provider_diagnoses(provider), pk=pk)
    attachment = get_object_or_404(attachments_of(report), pk=attachment_pk)
    return attachment_response(request, attachment, diagnosis=report.pk)


@require_http_methods(["GET", "POST"])
@provider_staff_required
def dossier_survey_new(request, provider, contract_pk):
    contract = get_object_or_404(
        ServiceContract.objects.filter(provider=provider).select_related("enterprise"), pk=contract_pk
    )
    form = DossierSurveyForm(request.POST or None, initial={"surveyed_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            survey = services.dossier_survey_save(by=request.user, contract=contract, data=form.cleaned_data)
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("The dossier survey was recorded."))
            return redirect("provider:dossier_survey_detail", pk=survey.pk)
    return render(
        request,
        "outreach/provider_survey_form.html",
        {
            "provider": provider,
            "contract": contract,
            "form": form,
            "survey": None,
            "can_survey": contract.status in selectors.SURVEY_CONTRACT_STATUSES,
        },
    )


@require_http_methods(["GET", "POST"])
@provider_staff_required
def dossier_survey_edit(request, provider, pk):
    survey = get_object_or_404(selectors.provider_surveys(provider), pk=pk)
    form = DossierSurveyForm(request.POST or None, instance=survey)
    if request.method == "POST" and form.is_valid():
        try:
            services.dossier_survey_save(by=request.user, survey=survey, data=form.cleaned_data)
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("The dossier survey was updated."))
            return redirect("provider:dossier_survey_detail", pk=survey.pk)
    return render(
        request,
        "outreach/provider_survey_form.html",
        {
            "provider": provider,
            "contract": survey.contract,
            "form": form,
            "survey": survey,
            "can_survey": survey.contract.status in selectors.SURVEY_CONTRACT_STATUSES,
        },
    )


@require_GET
@provider_staff_required
def dossier_survey_detail(request, provider, pk):
    survey = get_object_or_404(selectors.provider_surveys(provider), pk=pk)
    return render(
        request,
        "outreach/provider_survey_detail.html",
        {
            "provider": provider,
            "survey": survey,
            "can_edit": survey.contract.status in selectors.SURVEY_CONTRACT_STATUSES,
        },
    )


# --- Matchmaking (Art 4) -----------------------------------------------------------------------------------------


@require_GET
@provider_staff_required
def event_list(request, provider):
    upcoming, past, attendances = selectors.events_for_provider(provider)
    page = Paginator(past, PER_PAGE).get_page(request.GET.get("page"))
    for event in page.object_list:
        event.my_attendance = attendances.get(event.pk)
    intentions = list(selectors.provider_intentions(provider))
    return render(
        request,
        "outreach/provider_event_list.html",
        {
            "provider": provider,
            "in_pool": provider.is_in_pool,
            "upcoming": upcoming,
            "page": page,
            "intentions": intentions,
            "statuses": CooperationIntention.Status,
        },
    )


@require_POST
@provider_staff_required
def event_register(request, provider, pk):
    event = get_object_or_404(MatchmakingEvent, pk=pk)
    try:
        services.attendance_register(by=request.user, event=event)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("You are registered for “%(title)s”.") % {"title": event.title})
    return redirect(f"{reverse('provider:event_list')}#event-{event.pk}")


@require_http_methods(["GET", "POST"])
@provider_staff_required
def intention_new(request, provider, event_pk):
    event = get_object_or_404(selectors.attended_events(provider), pk=event_pk)
    form = IntentionForm(request.POST or None, event=event, provider=provider)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.intention_propose(
                by=request.user,
                event=event,
                enterprise=data["enterprise"],
                scenarios=data["scenarios"],
                note=data["note"],
            )
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("The intention was sent to the enterprise to confirm."))
            return redirect(f"{reverse('provider:event_list')}#intentions")
    return render(
        request,
        "outreach/provider_intention_new.html",
        {"provider": provider, "event": event, "form": form, "in_pool": provider.is_in_pool},
    )


# --- Training (Art 7) --------------------------------------------------------------------------------------------


@require_GET
@provider_staff_required
def training_list(request, provider):
    page = Paginator(selectors.provider_trainings(provider), PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "outreach/provider_training_list.html",
        {"provider": provider, "page": page, "in_pool": provider.is_in_pool},
    )


def _training_form_page(request, provider, session=None):
    if session is None:
        initial = {"held_on": timezone.localdate()}
    else:
        initial = {
            "title": session.title,
            "topics": session.topics,
            "held_on": session.held_on,
            "hours": session.hours,
            "county": session.county_id,
            "venue": session.venue,
            "description": session.description,
        }
    form = TrainingForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        topics = data.pop("topics")
        try:
            session = services.training_save(by=request.user, data=data, topics=topics, session=session)
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("The training session was saved."))
            return redirect("provider:training_detail", pk=session.pk)
    return render(
        request,
        "outreach/provider_training_form.html",
        {"provider": provider, "form": form, "session": session, "in_pool": provider.is_in_pool},
    )


@require_http_methods(["GET", "POST"])
@provider_staff_required
def training_new(request, provider):
    return _training_form_page(request, provider)


@require_http_methods(["GET", "POST"])
@provider_staff_required
def training_edit(request, provider, pk):
    session = get_object_or_404(selectors.provider_trainings(provider), pk=pk)
    return _training_form_page(request, provider, session)


@require_http_methods(["GET", "POST"])
@provider_staff_required
def training_detail(request, provider, pk):
    session = get_object_or_404(selectors.provider_trainings(provider), pk=pk)
    action = request.POST.get("action") if request.method == "POST" else None
    attendance_form = TrainingAttendanceForm(request.POST if action == "attendance" else None, prefix="attendance")
    files_form = FilesForm(request.POST if action == "attach" else None, request.FILES if action == "attach" else None)
    if action == "attendance":
        if attendance_form.is_valid():
            try:
                services.training_attendance_save(by=request.user, session=session, **attendance_form.cleaned_data)
            except ValidationError as exc:
                add_service_error(attendance_form, exc)
            else:
                messages.success(request, _("The attendance was recorded."))
                return redirect("provider:training_detail", pk=session.pk)
    elif action == "delete_attendance":
        attendance = get_object_or_404(session.attendances, pk=request.POST.get("attendance") or 0)
        try:
            services.training_attendance_delete(by=request.user, attendance=attendance)
        except ValidationError as exc:
            messages.error(request, error_text(exc))
        else:
            messages.success(request, _("The attendance row was removed."))
        return redirect("provider:training_detail", pk=session.pk)
    elif action == "attach":
        if files_form.is_valid():
            try:
                services.training_materials_attach(
                    by=request.user, session=session, files=files_form.cleaned_data["files"]
                )
            except ValidationError as exc:
                add_service_error(files_form, exc)
            else:
                messages.success(request, _("The materials were attached."))
                return redirect("provider:training_detail", pk=session.pk)
    elif action is not None:
        return HttpResponseBadRequest(_("Unknown action."))
    attendances = list(session.attendances.select_related("enterprise__county"))
    return render(
        request,
        "outreach/provider_training_detail.html",
        {
            "provider": provider,
            "session": session,
            "attendances": attendances,
            "total_attendees": sum(row.attendees for row in attendances),
            "attachments": list(attachments_of(session)),
            "attendance_form": attendance_form,
            "files_form": files_form,
            "held": session.held_on <= timezone.localdate(),
            "in_pool": provider.is_in_pool,
        },
    )


@require_GET
@provider_staff_required
def training_attachment(request, provider, pk, attachment_pk):
    session = get_object_or_404(selectors.provider_trainings(provider), pk=pk)
    attachment = get_object_or_404(attachments_of(session), pk=attachment_pk)
    return attachment_response(request, attachment, training=session.pk)
