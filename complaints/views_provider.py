"""The provider's self-service pages for complaints about it (Art 11), its satisfaction ratings (Art 11, 13(2))
and its appeals (Art 16).

Every write goes through complaints.services. What a provider may see is decided by the private selectors at the
top of this module: always its own records only (another provider's are a 404), a complaint only once the bureau
accepted it, and never the identity of a complainant who asked for it to be protected."""

from django.conf import settings
from django.contrib import messages
from django.contrib.contenttypes.models import ContentType
from django.contrib.contenttypes.prefetch import GenericPrefetch
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods
from django_fsm_log.models import StateLog

from evaluations.models import (
    OPEN_RECTIFICATION_STATUSES,
    RectificationCase,
    RectificationStatus,
    RevocationCase,
    RevocationStatus,
    SatisfactionRating,
    SurveyAnswer,
)
from evaluations.services import CaseError
from evaluations.views import provider_staff_required

from . import services
from .forms_provider import AppealForm, ComplaintResponseForm
from .models import PENDING_APPEAL_STATUSES, Appeal, AppealStatus, AppealType, Complaint, ComplaintStatus

PER_PAGE = 20

# The provider learns of a complaint once the bureau accepted it; a submitted or rejected one is not its business.
VISIBLE_COMPLAINT_STATUSES = (
    ComplaintStatus.ACCEPTED,
    ComplaintStatus.INVESTIGATING,
    ComplaintStatus.SUBSTANTIATED,
    ComplaintStatus.UNSUBSTANTIATED,
)
RESPONSE_STATUSES = (ComplaintStatus.ACCEPTED, ComplaintStatus.INVESTIGATING)

# "app_label.model" of every model an appeal may target, as used in the `target=` parameter of the appeal form.
TARGET_LABELS = {model._meta.label_lower: model for models in services.TARGET_MODELS.values() for model in models}
MAX_ID_DIGITS = 18


# --- Private selectors: the provider's own records ------------------------------------------------------------


def _complaints(provider):
    return Complaint.objects.filter(provider=provider, status__in=VISIBLE_COMPLAINT_STATUSES)


def _ratings(provider):
    return SatisfactionRating.objects.filter(contract__provider=provider)


def _appeals(provider):
    return Appeal.objects.filter(provider=provider)


def _cases(provider):
    # A draft (never warned) is the bureau's working paper, as on the case pages.
    return RectificationCase.objects.filter(provider=provider, warned_at__isnull=False)


def _revocations(provider):
    return RevocationCase.objects.filter(provider=provider)


def _own_targets(provider, model):
    if model is RectificationCase:
        return _cases(provider)
    if model is SatisfactionRating:
        return _ratings(provider).select_related("contract__enterprise")
    if model is RevocationCase:
        return _revocations(provider)
    raise Http404


def _appeals_by_target(model, ids):
    """{object id: [appeals, newest first]} for these records of one model."""
    found = {}
    if not ids:
        return found
    content_type = ContentType.objects.get_for_model(model)
    for appeal in Appeal.objects.filter(content_type=content_type, object_id__in=ids).order_by("-filed_at", "-id"):
        found.setdefault(appeal.object_id, []).append(appeal)
    return found


def _pending(appeals):
    return next((appeal for appeal in appeals if appeal.status in PENDING_APPEAL_STATUSES), None)


# --- Helpers --------------------------------------------------------------------------------------------------


def target_key(target):
    return f"{target._meta.label_lower}:{target.pk}"


def appeal_url(appeal_type, target):
    return f"{reverse('provider:appeal_new')}?type={int(appeal_type)}&target={target_key(target)}"


def _describe(target):
    """A short description of an appeal's target, for the provider."""
    if target is None:
        return _("(record no longer available)")
    if isinstance(target, RectificationCase):
        return _("Rectification case %(case)s") % {"case": target}
    if isinstance(target, RevocationCase):
        if target.decision_number:
            return _("Revocation decision %(number)s") % {"number": target.decision_number}
        return str(target)
    if isinstance(target, SatisfactionRating):
        return _("“%(overall)s” rating on contract %(number)s, stage %(stage)s") % {
            "overall": target.get_overall_display(),
            "number": target.contract.number,
            "stage": target.stage,
        }
    return str(target)


def _target_link(target):
    if isinstance(target, RectificationCase) and target.warned_at is not None:
        return reverse("provider:case_detail", args=[target.pk])
    if isinstance(target, RevocationCase):
        return reverse("provider:revocation_detail", args=[target.pk])
    if isinstance(target, SatisfactionRating):
        return f"{reverse('provider:rating_list')}#rating-{target.pk}"
    return ""


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


def _add_case_error(form, exc):
    """Show a service's CaseError on the form: on the field it names when the form has it, else on top."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


def _appealable_now(provider, now):
    """Every decision the provider may appeal at this moment: within its window and without a pending appeal.
    [(appeal type, target, window end)], the soonest-closing window first."""
    candidates = []
    # Art 16(1) against a missed deadline; Art 16(4) against an open case that ordered rectification.
    for case in _cases(provider).filter(ordered_at__isnull=False, status__in=OPEN_RECTIFICATION_STATUSES):
        if case.status == RectificationStatus.OVERDUE:
            candidates.append((AppealType.DIAGNOSIS_DELAYED, case))
        candidates.append((AppealType.OTHER, case))
    for revocation in _revocations(provider).filter(status=RevocationStatus.APPROVED):
        candidates.append((AppealType.REVOCATION, revocation))
    ratings = _ratings(provider).filter(overall=SatisfactionRating.Overall.DISSATISFIED, voided=False)
    for rating in ratings.select_related("contract"):
        candidates.append((AppealType.DISSATISFIED_RATING, rating))

    pending = set()
    for model in (RectificationCase, RevocationCase, SatisfactionRating):
        ids = [target.pk for _type, target in candidates if isinstance(target, model)]
        pending |= {
            (model, object_id) for object_id, found in _appeals_by_target(model, ids).items() if _pending(found)
        }
    result = []
    for appeal_type, target in candidates:
        if (type(target), target.pk) in pending:
            continue
        try:
            ends = services.appeal_window_ends(appeal_type, target)
        except CaseError:
            continue
        if now <= ends:
            result.append(
                {
                    "type": appeal_type,
                    "type_label": appeal_type.label,
                    "description": _describe(target),
                    "link": _target_link(target),
                    "ends": ends,
                    "url": appeal_url(appeal_type, target),
                }
            )
    return sorted(result, key=lambda row: row["ends"])


# --- Complaints ---------------------------------------------------------------------------------------------


@require_GET
@provider_staff_required
def complaint_list(request, provider):
    complaints = _complaints(provider).select_related("enterprise").order_by("-accepted_at", "-id")
    page = Paginator(complaints, PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "provider/complaints_list.html", {"provider": provider, "page": page})


@require_http_methods(["GET", "POST"])
@provider_staff_required
def complaint_detail(request, provider, pk):
    complaint = get_object_or_404(
        _complaints(provider).select_related("enterprise", "contract", "submitted_by", "rectification_case"), pk=pk
    )
    form = ComplaintResponseForm(initial={"response": complaint.provider_response})
    if request.method == "POST":
        if request.POST.get("action") != "respond":
            return HttpResponseBadRequest(_("Unknown action."))
        form = ComplaintResponseForm(request.POST)
        if form.is_valid():
            try:
                services.complaint_provider_respond(
                    complaint=complaint, by=request.user, response=form.cleaned_data["response"]
                )
            except CaseError as exc:
                _add_case_error(form, exc)
            else:
                messages.success(request, _("Your response was sent to the bureau."))
                return redirect("provider:complaint_detail", pk=complaint.pk)
    opened_case = complaint.rectification_case
    return render(
        request,
        "provider/complaints_detail.html",
        {
            "provider": provider,
            "complaint": complaint,
            "form": form,
            "show_form": complaint.status in RESPONSE_STATUSES or form.is_bound,
            "opened_case": opened_case if opened_case is not None and opened_case.warned_at is not None else None,
            "opened_revocation": complaint.revocation_case,
        },
    )


# --- Satisfaction ratings -------------------------------------------------------------------------------------


@require_GET
@provider_staff_required
def rating_list(request, provider):
    now = timezone.now()
    ratings = (
        _ratings(provider)
        .select_related("contract__enterprise", "milestone")
        .prefetch_related(
            Prefetch("answers", queryset=SurveyAnswer.objects.select_related("item").order_by("item__sort_order", "id"))
        )
        .order_by("-submitted_at", "-id")
    )
    page = Paginator(ratings, PER_PAGE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    appeals = _appeals_by_target(SatisfactionRating, [rating.pk for rating in page.object_list])
    for rating in page.object_list:
        found = appeals.get(rating.pk, [])
        rating.pending_appeal = _pending(found)
        rating.last_appeal = found[0] if found else None
        rating.appeal_ends = None
        rating.appeal_url = ""
        if rating.overall == SatisfactionRating.Overall.DISSATISFIED and not rating.voided:
            rating.appeal_ends = services.appeal_window_ends(AppealType.DISSATISFIED_RATING, rating)
            if rating.pending_appeal is None and now <= rating.appeal_ends:
                rating.appeal_url = appeal_url(AppealType.DISSATISFIED_RATING, rating)
    totals = _ratings(provider).aggregate(
        total=Count("id"),
        satisfied=Count("id", filter=Q(overall=SatisfactionRating.Overall.SATISFIED)),
        basically_satisfied=Count("id", filter=Q(overall=SatisfactionRating.Overall.BASICALLY_SATISFIED)),
        dissatisfied=Count("id", filter=Q(overall=SatisfactionRating.Overall.DISSATISFIED)),
        counted=Count("id", filter=Q(overall=SatisfactionRating.Overall.DISSATISFIED, voided=False)),
    )
    return render(
        request,
        "provider/ratings_list.html",
        {
            "provider": provider,
            "page": page,
            "totals": totals,
            "max_dissatisfied": settings.MAX_DISSATISFIED,
            "window_days": settings.APPEAL_WINDOW_DAYS,
        },
    )


# --- Appeals --------------------------------------------------------------------------------------------------


@require_GET
@provider_staff_required
def appeal_list(request, provider):
    appeals = _appeals(provider).prefetch_related(
        GenericPrefetch(
            "target",
            [
                RectificationCase.objects.all(),
                RevocationCase.objects.all(),
                SatisfactionRating.objects.select_related("contract"),
            ],
        )
    )
    page = Paginator(appeals.order_by("-filed_at", "-id"), PER_PAGE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    for appeal in page.object_list:
        appeal.target_description = _describe(appeal.target)
    return render(
        request,
        "provider/appeal_list.html",
        {
            "provider": provider,
            "page": page,
            "appealable": _appealable_now(provider, timezone.now()),
            "window_days": settings.APPEAL_WINDOW_DAYS,
        },
    )


def _resolve_target(provider, type_param, target_param):
    """The appeal type and the provider's own record named by `?type=<1-4>&target=<app_label.model>:<id>`.
    Anything else — another model, a type that cannot target it, another provider's record — is a 404."""
    try:
        appeal_type = AppealType(int(type_param))
    except (TypeError, ValueError):
        raise Http404(_("Unknown appeal type.")) from None
    label, separator, raw_id = (target_param or "").partition(":")
    model = TARGET_LABELS.get(label)
    if (
        not separator
        or model is None
        or model not in services.TARGET_MODELS[appeal_type]
        or not (raw_id.isascii() and raw_id.isdigit() and len(raw_id) <= MAX_ID_DIGITS)
    ):
        raise Http404(_("Nothing to appeal against here."))
    return appeal_type, get_object_or_404(_own_targets(provider, model), pk=int(raw_id))


@require_http_methods(["GET", "POST"])
@provider_staff_required
def appeal_new(request, provider):
    appeal_type, target = _resolve_target(provider, request.GET.get("type"), request.GET.get("target"))
    now = timezone.now()
    not_appealable = ""
    window_ends = None
    try:
        window_ends = services.appeal_window_ends(appeal_type, target)
    except CaseError as exc:
        not_appealable = " ".join(exc.messages)
    pending = _pending(_appeals_by_target(type(target), [target.pk]).get(target.pk, []))

    form = AppealForm(appeal_type=appeal_type)
    if request.method == "POST":
        form = AppealForm(request.POST, appeal_type=appeal_type)
        if form.is_valid():
            try:
                appeal = services.appeal_file(
                    by=request.user,
                    appeal_type=appeal_type,
                    target=target,
                    grounds=form.cleaned_data["grounds"],
                    requested_deadline=form.cleaned_data.get("requested_deadline"),
                )
            except CaseError as exc:
                _add_case_error(form, exc)
            else:
                messages.success(
                    request, _("Your appeal was filed. An approver who took no part in the decision reviews it.")
                )
                return redirect("provider:appeal_detail", pk=appeal.pk)

    window_open = window_ends is not None and now <= window_ends
    return render(
        request,
        "provider/appeal_form.html",
        {
            "provider": provider,
            "appeal_type": appeal_type,
            "type_label": appeal_type.label,
            "target": target,
            "target_description": _describe(target),
            "target_link": _target_link(target),
            "is_rating": isinstance(target, SatisfactionRating),
            "window_ends": window_ends,
            "window_open": window_open,
            "window_days": settings.APPEAL_WINDOW_DAYS,
            "not_appealable": not_appealable,
            "pending": pending,
            "form": form,
            "show_form": (window_open and pending is None and not not_appealable) or form.is_bound,
        },
    )


@require_GET
@provider_staff_required
def appeal_detail(request, provider, pk):
    appeal = get_object_or_404(_appeals(provider).select_related("content_type", "filed_by"), pk=pk)
    target = appeal.target
    return render(
        request,
        "provider/appeal_detail.html",
        {
            "provider": provider,
            "appeal": appeal,
            "target_description": _describe(target),
            "target_link": _target_link(target) if target is not None else "",
            "is_decided": appeal.status in (AppealStatus.UPHELD, AppealStatus.REJECTED),
            "history": _history(appeal, dict(AppealStatus.choices)),
        },
    )
