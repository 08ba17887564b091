"""The provider's self-service pages for Articles 12–13 (the public blacklist is in opendata.views).

Every write goes through evaluations.services; what a user may see comes from evaluations.selectors."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist
from django.core.paginator import Paginator
from django.db.models import F
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods
from django_fsm_log.models import StateLog

from enterprises.selectors_contracts import provider_pending_actions
from providers.access import provider_staff_required
from tangshan_portal.files import attachment_response
from tangshan_portal.grounds import ART13_CONSEQUENCE
from tangshan_portal.services import attachments_of, notifications_for

from . import services
from .forms import RectificationReportForm, StatementForm
from .models import (
    OPEN_RECTIFICATION_STATUSES,
    RUNNING_DEADLINE_STATUSES,
    RectificationStatus,
    RevocationStatus,
)
from .selectors import rectification_cases_visible_to, revocation_cases_visible_to

CASES_PER_PAGE = 20
URGENT_DAYS = 3


def _cases(user, provider):
    """The provider's cases it has been told about: a draft (never warned) is the bureau's internal work."""
    return rectification_cases_visible_to(user).filter(provider=provider, warned_at__isnull=False)


def _revocations(user, provider):
    return revocation_cases_visible_to(user).filter(provider=provider)


def _days_left(case, today):
    if case.deadline is None or case.status not in RUNNING_DEADLINE_STATUSES:
        return None
    return (case.deadline - today).days


def _annotate_deadlines(cases, today):
    for case in cases:
        case.days_left = _days_left(case, today)
        case.deadline_urgent = case.status == RectificationStatus.OVERDUE or (
            case.days_left is not None and case.days_left <= URGENT_DAYS
        )
    return cases


def _history(obj, labels):
    return [
        {
            "at": log.timestamp,
            "source": labels.get(log.source_state, log.source_state) if log.source_state else "",
            "target": labels.get(log.state, log.state),
            "description": log.description or "",
            "transition": log.transition,
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


# --- Provider self-service --------------------------------------------------------------------------------


@require_GET
@provider_staff_required
def home(request, provider):
    today = timezone.localdate()
    open_cases = _annotate_deadlines(
        list(
            _cases(request.user, provider)
            .filter(status__in=OPEN_RECTIFICATION_STATUSES)
            .order_by(F("deadline").asc(nulls_last=True), "-opened_at", "-id")
        ),
        today,
    )
    open_revocations = list(_revocations(request.user, provider).filter(status=RevocationStatus.PROPOSED))
    latest = list(notifications_for(request.user).order_by("-created_at", "-id")[:5])
    return render(
        request,
        "provider/home.html",
        {
            "provider": provider,
            "open_cases": open_cases,
            "open_revocations": open_revocations,
            "pending": provider_pending_actions(provider),
            "latest_notifications": latest,
            "now": timezone.now(),
        },
    )


@require_GET
@provider_staff_required
def case_list(request, provider):
    today = timezone.localdate()
    page = Paginator(_cases(request.user, provider), CASES_PER_PAGE).get_page(request.GET.get("page"))
    _annotate_deadlines(page.object_list, today)
    revocations = list(_revocations(request.user, provider))
    return render(request, "provider/case_list.html", {"provider": provider, "page": page, "revocations": revocations})


@require_http_methods(["GET", "POST"])
@provider_staff_required
def case_detail(request, provider, pk):
    case = get_object_or_404(_cases(request.user, provider).select_related("contract"), pk=pk)
    now = timezone.now()
    today = timezone.localdate(now)
    reply_form = StatementForm(prefix="reply", initial={"statement": case.provider_reply})
    # After a return the provider usually amends its earlier report rather than starting again.
    report_form = RectificationReportForm(prefix="report", initial={"report": case.report})

    if request.method == "POST":
        action = request.POST.get("action")
        if action == "reply":
            reply_form = StatementForm(request.POST, prefix="reply")
            if case.reply_due_at is not None and now > case.reply_due_at:
                # rectification_reply does not check the statement period yet; see the issue note.
                reply_form.add_error(None, _("The time to state your case has passed."))
            elif reply_form.is_valid():
                try:
                    services.rectification_reply(
                        case=case, by=request.user, statement=reply_form.cleaned_data["statement"]
                    )
                except services.CaseError as exc:
                    _add_case_error(reply_form, exc)
                else:
                    messages.success(request, _("Your statement was sent to the bureau."))
                    return redirect("provider:case_detail", pk=case.pk)
        elif action == "report":
            report_form = RectificationReportForm(request.POST, request.FILES, prefix="report")
            if report_form.is_valid():
                try:
                    services.rectification_respond(
                        case=case,
                        by=request.user,
                        report=report_form.cleaned_data["report"],
                        files=report_form.cleaned_data["files"],
                    )
                except services.CaseError as exc:
                    _add_case_error(report_form, exc)
                else:
                    messages.success(request, _("Your rectification report was submitted."))
                    return redirect("provider:case_detail", pk=case.pk)
        else:
            return HttpResponseBadRequest(_("Unknown action."))

    case.days_left = _days_left(case, today)
    case.deadline_urgent = case.status == RectificationStatus.OVERDUE or (
        case.days_left is not None and case.days_left <= URGENT_DAYS
    )
    history = _history(case, dict(RectificationStatus.choices))
    returns = [row["description"] for row in history if row["transition"] == "return_to_provider"]
    can_reply = case.status == RectificationStatus.WARNED and (case.reply_due_at is None or now <= case.reply_due_at)
    can_report = case.status in RUNNING_DEADLINE_STATUSES and (case.deadline is None or today <= case.deadline)
    return render(
        request,
        "provider/case_detail.html",
        {
            "provider": provider,
            "case": case,
            "attachments": list(attachments_of(case)),
            "history": history,
            "return_reason": returns[-1] if case.status == RectificationStatus.RETURNED and returns else "",
            "reply_form": reply_form,
            "report_form": report_form,
            "show_reply_form": can_reply or reply_form.is_bound,
            "show_report_form": can_report or report_form.is_bound,
            "deadline_passed": case.status in RUNNING_DEADLINE_STATUSES and not can_report,
        },
    )


@require_http_methods(["GET", "POST"])
@provider_staff_required
def revocation_detail(request, provider, pk):
    revocation = get_object_or_404(_revocations(request.user, provider), pk=pk)
    now = timezone.now()
    form = StatementForm(initial={"statement": revocation.provider_statement})
    if request.method == "POST":
        form = StatementForm(request.POST)
        if form.is_valid():
            try:
                services.revocation_state_case(
                    revocation=revocation, by=request.user, statement=form.cleaned_data["statement"]
                )
            except services.CaseError as exc:
                _add_case_error(form, exc)
            else:
                messages.success(request, _("Your statement was sent to the bureau."))
                return redirect("provider:revocation_detail", pk=revocation.pk)
    try:
        entry = revocation.blacklist_entry
    except ObjectDoesNotExist:
        entry = None
    can_state = revocation.status == RevocationStatus.PROPOSED and now <= revocation.statement_due_at
    return render(
        request,
        "provider/revocation_detail.html",
        {
            "provider": provider,
            "revocation": revocation,
            "consequence": ART13_CONSEQUENCE,
            "entry": entry,
            "form": form,
            "show_form": can_state or form.is_bound,
            "history": _history(revocation, dict(RevocationStatus.choices)),
        },
    )


@require_GET
@login_required
def case_attachment(request, pk, attachment_pk):
    """An attachment of a case the user may see (the provider's staff, bureau staff who read cases)."""
    case = get_object_or_404(rectification_cases_visible_to(request.user), pk=pk)
    attachment = get_object_or_404(attachments_of(case), pk=attachment_pk)
    return attachment_response(request, attachment, case=case.pk)
