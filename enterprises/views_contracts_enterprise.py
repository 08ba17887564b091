"""The pilot enterprise's contract pages: it signs the contract or returns it with a reason, acknowledges or
disputes progress reports, agrees to or declines changes (Art 6(3)) and signs or refuses the internal
acceptance (Art 8). The plan and the procurement list are read-only here.

Every write goes through enterprises.services; another enterprise's contract answers 404."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from tangshan_portal.files import attachment_response

from . import services
from .access import enterprise_staff_required
from .forms_contracts import AcceptanceAnswerForm, AnswerForm, ReturnForm, SignForm
from .models import ChangeRequest, ContractStatus, InternalAcceptance, ProgressReport
from .selectors_contracts import (
    contract_attachments,
    contract_overview,
    contract_rows,
    enterprise_contracts,
    enterprise_pending_actions,
)
from .views_contracts_provider import price_threshold_percent, put_errors


def _contract(enterprise, pk):
    return get_object_or_404(enterprise_contracts(enterprise).select_related("provider", "enterprise__county"), pk=pk)


@require_GET
@enterprise_staff_required
def contract_list(request, enterprise):
    contracts = contract_rows(enterprise_contracts(enterprise))
    return render(
        request,
        "contracts/enterprise_list.html",
        {
            "enterprise": enterprise,
            "contracts": contracts,
            "pending": enterprise_pending_actions(enterprise),
            "any_outside_pool": any(contract.provider_outside_pool for contract in contracts),
        },
    )


@require_GET
@enterprise_staff_required
def contract_attachment(request, enterprise, pk, attachment_pk):
    contract = _contract(enterprise, pk)
    return attachment_response(
        request, get_object_or_404(contract_attachments(contract), pk=attachment_pk), contract=contract.pk
    )


# --- The contract's page and the enterprise's answers -----------------------------------------------------------

# action -> (the kind of record it answers, the form's prefix stem)
ANSWERS = {
    "acknowledge": "report",
    "dispute": "report",
    "agree": "change",
    "decline": "change",
    "accept": "acceptance",
    "refuse": "acceptance",
}


def _answer(request, contract, action, target_pk):
    """Run one answer; returns (form, success message). The form carries the service's errors, if any."""
    kind = ANSWERS[action]
    prefix = f"{kind}-{target_pk}"
    if kind == "report":
        report = get_object_or_404(contract.progress_reports, pk=target_pk)
        form = AnswerForm(request.POST, prefix=prefix)
        if form.is_valid():
            comment = form.cleaned_data["comment"]
            try:
                if action == "acknowledge":
                    services.progress_report_acknowledge(report=report, by=request.user, comment=comment)
                    return form, _("You acknowledged the progress report.")
                services.progress_report_dispute(report=report, by=request.user, comment=comment)
                return form, _("You disputed the progress report; the provider has been told why.")
            except ValidationError as exc:
                put_errors(form, exc)
        return form, None
    if kind == "change":
        change = get_object_or_404(contract.change_requests, pk=target_pk)
        form = AnswerForm(request.POST, prefix=prefix)
        if form.is_valid():
            try:
                services.change_request_decide(
                    request=change, by=request.user, agree=action == "agree", comment=form.cleaned_data["comment"]
                )
            except ValidationError as exc:
                put_errors(form, exc)
            else:
                if action == "agree":
                    return form, _("You agreed to the change; the contract now shows the new terms.")
                return form, _("You declined the change; the provider has been told why.")
        return form, None
    acceptance = get_object_or_404(contract.internal_acceptances, pk=target_pk)
    form = AcceptanceAnswerForm(request.POST, prefix=prefix)
    if form.is_valid():
        try:
            if action == "accept":
                services.internal_acceptance_sign(acceptance=acceptance, by=request.user)
                return form, _("You signed the internal acceptance. The project now awaits evaluation acceptance.")
            services.internal_acceptance_refuse(
                acceptance=acceptance, by=request.user, reason=form.cleaned_data["reason"]
            )
            return form, _("You refused the internal acceptance; the provider has been told why.")
        except ValidationError as exc:
            put_errors(form, exc)
    return form, None


@require_http_methods(["GET", "POST"])
@enterprise_staff_required
def contract_detail(request, enterprise, pk):
    contract = _contract(enterprise, pk)
    sign_form = SignForm(prefix="sign")
    return_form = ReturnForm(prefix="return")
    bound = {}
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action == "sign":
            sign_form = SignForm(request.POST, prefix="sign")
            if sign_form.is_valid():
                try:
                    services.contract_sign(contract=contract, by=request.user)
                except ValidationError as exc:
                    put_errors(sign_form, exc)
                else:
                    messages.success(request, _("You signed the contract. The provider can now start implementation."))
                    return redirect("enterprise:contract_detail", pk=contract.pk)
        elif action == "return":
            return_form = ReturnForm(request.POST, prefix="return")
            if return_form.is_valid():
                try:
                    services.contract_return_to_provider(
                        contract=contract, by=request.user, reason=return_form.cleaned_data["reason"]
                    )
                except ValidationError as exc:
                    put_errors(return_form, exc)
                else:
                    messages.success(request, _("The draft was returned to the provider with your reason."))
                    return redirect("enterprise:contract_detail", pk=contract.pk)
        elif action in ANSWERS:
            target = request.POST.get(ANSWERS[action], "")
            if not target.isdigit():
                return HttpResponseBadRequest(_("Unknown record."))
            form, success = _answer(request, contract, action, int(target))
            if success:
                messages.success(request, success)
                return redirect("enterprise:contract_detail", pk=contract.pk)
            bound[(ANSWERS[action], int(target))] = form
        else:
            return HttpResponseBadRequest(_("Unknown action."))
        contract = _contract(enterprise, pk)

    overview = contract_overview(contract)
    for report in overview.progress_reports:
        if report.status == ProgressReport.Status.SUBMITTED:
            report.answer_form = bound.get(("report", report.pk)) or AnswerForm(prefix=f"report-{report.pk}")
    for change in overview.change_requests:
        if change.status == ChangeRequest.Status.PROPOSED:
            change.answer_form = bound.get(("change", change.pk)) or AnswerForm(prefix=f"change-{change.pk}")
    for acceptance in overview.acceptances:
        if acceptance.status == InternalAcceptance.Status.AWAITING_ENTERPRISE:
            acceptance.answer_form = bound.get(("acceptance", acceptance.pk)) or AcceptanceAnswerForm(
                prefix=f"acceptance-{acceptance.pk}"
            )
    return render(
        request,
        "contracts/enterprise_detail.html",
        {
            "enterprise": enterprise,
            "contract": contract,
            "overview": overview,
            "side": "enterprise",
            "editable": False,
            "awaiting_signature": contract.status == ContractStatus.DRAFT and contract.submitted_at is not None,
            "sign_form": sign_form,
            "return_form": return_form,
            "threshold": price_threshold_percent(),
        },
    )
