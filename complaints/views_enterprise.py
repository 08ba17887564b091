"""The pilot enterprise's self-service pages: its contracts, complaints (Art 11) and satisfaction surveys.

Every write goes through complaints.services or evaluations.services; what a user may see comes from
complaints.selectors. Another enterprise's records answer 404."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods
from django_fsm_log.models import StateLog

from enterprises.access import enterprise_staff_required
from enterprises.selectors_contracts import enterprise_pending_actions
from evaluations import services as evaluation_services
from evaluations.models import SurveyItem
from evaluations.services import CaseError
from tangshan_portal.files import attachment_response
from tangshan_portal.services import attachments_of, notifications_for

from . import services
from .forms_enterprise import ComplaintForm, SurveyForm
from .models import OPEN_COMPLAINT_STATUSES, ComplaintStatus
from .selectors import (
    complaints_visible_to,
    enterprise_contracts,
    ratings_of,
    stage_label,
    survey_contracts,
    survey_stage,
    surveys_due,
    surveys_due_for,
)

COMPLAINTS_PER_PAGE = 20
HOME_COMPLAINTS = 5
HOME_NOTIFICATIONS = 5


def _complaints(user, enterprise):
    return complaints_visible_to(user).filter(enterprise=enterprise)


def _annotate_deadlines(complaints, today):
    """The deadline that is running for each complaint, and whether the bureau has passed it."""
    for complaint in complaints:
        complaint.is_open = complaint.status in OPEN_COMPLAINT_STATUSES
        if complaint.status == ComplaintStatus.SUBMITTED:
            complaint.running_deadline = complaint.acknowledge_by
            complaint.running_deadline_kind = "acknowledge"
        elif complaint.is_open:
            complaint.running_deadline = complaint.resolve_by
            complaint.running_deadline_kind = "resolve"
        else:
            complaint.running_deadline = None
            complaint.running_deadline_kind = ""
        complaint.deadline_passed = complaint.running_deadline is not None and today > complaint.running_deadline
    return complaints


def _history(obj, labels):
    """The timeline: time, from → to and the recorded description; never who acted."""
    return [
        {
            "at": log.timestamp,
            "source": labels.get(log.source_state, log.source_state) if log.source_state else "",
            "target": labels.get(log.state, log.state),
            "description": log.description or "",
        }
        for log in StateLog.objects.for_(obj).order_by("timestamp", "id")
    ]


def _add_case_error(form, exc):
    """Show a service's CaseError on the form: on the field it names when the form has it, else on top."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


# --- Home ------------------------------------------------------------------------------------------------


@require_GET
@enterprise_staff_required
def home(request, enterprise):
    today = timezone.localdate()
    contracts = list(survey_contracts(enterprise))
    complaints = _annotate_deadlines(
        list(_complaints(request.user, enterprise).select_related("provider")[:HOME_COMPLAINTS]), today
    )
    latest = list(notifications_for(request.user).order_by("-created_at", "-id")[:HOME_NOTIFICATIONS])
    return render(
        request,
        "enterprise/home.html",
        {
            "enterprise": enterprise,
            "contracts": contracts,
            "any_outside_pool": any(contract.provider_outside_pool for contract in contracts),
            "due_surveys": surveys_due_for(contracts, today),
            "pending": enterprise_pending_actions(enterprise),
            "complaints": complaints,
            "open_complaint_count": _complaints(request.user, enterprise)
            .filter(status__in=OPEN_COMPLAINT_STATUSES)
            .count(),
            "latest_notifications": latest,
        },
    )


# --- Complaints ----------------------------------------------------------------------------------------


@require_GET
@enterprise_staff_required
def complaint_list(request, enterprise):
    complaints = _complaints(request.user, enterprise).select_related("provider", "contract")
    page = Paginator(complaints, COMPLAINTS_PER_PAGE).get_page(request.GET.get("page"))
    _annotate_deadlines(page.object_list, timezone.localdate())
    return render(request, "enterprise/complaint_list.html", {"enterprise": enterprise, "page": page})


def _initial_from_query(request, enterprise):
    """`?contract=<pk>` (a link from the overview) preselects that contract and its provider."""
    raw = request.GET.get("contract", "")
    if not raw.isdigit():
        return {}
    contract = enterprise_contracts(enterprise).filter(pk=int(raw)).first()
    if contract is None:
        return {}
    return {"contract": contract.pk, "provider": contract.provider_id}


@require_http_methods(["GET", "POST"])
@enterprise_staff_required
def complaint_new(request, enterprise):
    if request.method == "POST":
        form = ComplaintForm(request.POST, request.FILES, enterprise=enterprise)
        if form.is_valid():
            data = form.cleaned_data
            try:
                complaint = services.complaint_submit(
                    by=request.user,
                    provider=data["provider"],
                    contract=data["contract"],
                    category=data["category"],
                    description=data["description"],
                    protect_identity=data["protect_identity"],
                    files=data["files"],
                )
            except CaseError as exc:
                _add_case_error(form, exc)
            else:
                messages.success(request, _("Your complaint was submitted to the bureau."))
                return redirect("enterprise:complaint_detail", pk=complaint.pk)
    else:
        form = ComplaintForm(enterprise=enterprise, initial=_initial_from_query(request, enterprise))
    return render(request, "enterprise/complaint_form.html", {"enterprise": enterprise, "form": form})


@require_GET
@enterprise_staff_required
def complaint_detail(request, enterprise, pk):
    complaint = get_object_or_404(
        _complaints(request.user, enterprise).select_related(
            "provider", "contract", "rectification_case", "revocation_case"
        ),
        pk=pk,
    )
    _annotate_deadlines([complaint], timezone.localdate())
    return render(
        request,
        "enterprise/complaint_detail.html",
        {
            "enterprise": enterprise,
            "complaint": complaint,
            "attachments": list(attachments_of(complaint)),
            "history": _history(complaint, dict(ComplaintStatus.choices)),
        },
    )


@require_GET
@enterprise_staff_required
def complaint_attachment(request, enterprise, pk, attachment_pk):
    complaint = get_object_or_404(_complaints(request.user, enterprise), pk=pk)
    attachment = get_object_or_404(attachments_of(complaint), pk=attachment_pk)
    return attachment_response(request, attachment, complaint=complaint.pk)


# --- Satisfaction surveys --------------------------------------------------------------------------------


@require_GET
@enterprise_staff_required
def survey_list(request, enterprise):
    ratings = list(ratings_of(enterprise))
    for rating in ratings:
        rating.stage_label = stage_label(rating.stage, rating.milestone)
    return render(
        request,
        "enterprise/survey_list.html",
        {"enterprise": enterprise, "due_surveys": surveys_due(enterprise), "ratings": ratings},
    )


@require_http_methods(["GET", "POST"])
@enterprise_staff_required
def survey_detail(request, enterprise, contract_pk, stage):
    contract = get_object_or_404(enterprise_contracts(enterprise).select_related("provider"), pk=contract_pk)
    resolved = survey_stage(contract, stage)
    if resolved is None:
        raise Http404(_("No survey is due for this stage of the contract."))
    milestone, rating = resolved
    # A submitted survey is shown read-only: no form unless someone posts to it again.
    form = None
    refusal = ""
    if request.method != "POST":
        if rating is None:
            form = SurveyForm(items=SurveyItem.objects.filter(is_active=True))
    else:
        form = SurveyForm(request.POST, items=SurveyItem.objects.filter(is_active=True))
        if form.is_valid():
            try:
                evaluation_services.survey_submit(
                    contract=contract,
                    stage=stage,
                    milestone=milestone,
                    overall=form.cleaned_data["overall"],
                    scores=form.scores(),
                    comment=form.cleaned_data["comment"],
                    by=request.user,
                )
            except CaseError as exc:
                if rating is None:
                    _add_case_error(form, exc)
                else:
                    refusal = " ".join(exc.messages)
            else:
                messages.success(request, _("Thank you: your rating was submitted."))
                return redirect("enterprise:survey_detail", contract_pk=contract.pk, stage=stage)
        elif rating is not None:
            refusal = _("This survey was submitted already; a submitted rating cannot be changed.")
    answers = []
    if rating is not None:
        answers = list(rating.answers.select_related("item").order_by("item__sort_order", "item_id"))
    return render(
        request,
        "enterprise/survey_detail.html",
        {
            "enterprise": enterprise,
            "contract": contract,
            "stage": stage,
            "stage_label": stage_label(stage, milestone),
            "milestone": milestone,
            "rating": rating,
            "answers": answers,
            "form": form,
            "refusal": refusal,
        },
    )
