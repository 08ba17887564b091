"""The provider's contract pages: the draft with its service plan, milestones, procurement list and
confidentiality agreement (Art 6(1), 10(2), 12(3)); then progress reports and change requests (Art 6(3)) and the
internal acceptance (Art 8).

Every write goes through enterprises.services; reads come from enterprises.selectors_contracts. Another
provider's contract, and anything that hangs from it, answers 404."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from providers.access import provider_staff_required
from tangshan_portal.files import attachment_response

from . import services
from .forms_contracts import (
    PLAN_FIELDS,
    TERMS_FIELDS,
    ChangeRequestForm,
    ContractForm,
    InternalAcceptanceForm,
    MilestoneForm,
    NdaForm,
    ProcurementItemForm,
    ProgressReportForm,
)
from .models import ContractStatus, InternalAcceptance
from .selectors_contracts import (
    contract_attachments,
    contract_overview,
    contract_rows,
    provider_contracts,
    provider_pending_actions,
)

FORM_TEMPLATE = "contracts/provider_form.html"

# The regulation's own wording, quoted verbatim where a page rests on it (line breaks of the PDF removed):
# key -> (article, wording).
WORDING = {
    "progress": (
        "6(3)",
        "服务商应定期向试点企业汇报项目进展情况，接受企业的监督和检查。对于项目实施过程中出现的问题和变更，"
        "应及时与企业沟通协商，采取有效措施加以解决。",
    ),
    "acceptance": (
        "8",
        "项目完成后，服务商与试点企业共同组织项目内部验收，规范整理并归档项目实施文档及内部验收文档。",
    ),
    "plan": (
        "10(2)",
        "服务方案应贴合中小企业实际需求，具备可操作性和可扩展性，明确服务目标、内容、流程及交付成果。"
        "提供服务过程中，应建立完善的质量管控体系，定期对服务效果进行评估和优化，确保服务按时、按质完成。",
    ),
    "nda": ("10(2)", "对服务涉及的知识产权、商业秘密等信息，应严格保密，签订保密协议，承担相应法律责任。"),
    "prices": (
        "12(3)",
        "提供的解决方案和软件采购清单中，项目清单不完整，具体功能、用途和费用罗列不准确，随意调整或者故意抬高"
        "标准化产品（服务）的同期市场价格",
    ),
}


def put_errors(form, exc):
    """A service's ValidationError on the form: on the field it names when the form has it, else on top."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def price_threshold_percent():
    return round(settings.PRICE_DEVIATION_THRESHOLD * 100)


def _contract(provider, pk):
    return get_object_or_404(provider_contracts(provider).select_related("provider", "enterprise__county"), pk=pk)


def _editable(contract):
    return contract.status == ContractStatus.DRAFT and contract.submitted_at is None


def _to_detail(contract):
    return redirect("provider:contract_detail", pk=contract.pk)


def _not_now(request, contract, message):
    messages.error(request, message)
    return _to_detail(contract)


def _form_page(
    request, provider, contract, form, *, title, submit, lead="", wording="", sections=None, multipart=False
):
    return render(
        request,
        FORM_TEMPLATE,
        {
            "provider": provider,
            "contract": contract,
            "form": form,
            "sections": sections or [(None, list(form))],
            "title": title,
            "lead": lead,
            "article": WORDING.get(wording, ("", ""))[0],
            "quote": WORDING.get(wording, ("", ""))[1],
            "submit": submit,
            "multipart": multipart,
        },
    )


# --- Lists and the contract's page -------------------------------------------------------------------------


@require_GET
@provider_staff_required
def contract_list(request, provider):
    return render(
        request,
        "contracts/provider_list.html",
        {
            "provider": provider,
            "contracts": contract_rows(provider_contracts(provider)),
            "pending": provider_pending_actions(provider),
            "threshold": price_threshold_percent(),
        },
    )


def _return_reason(contract, history):
    """The enterprise's reason when the draft came back from it and has not been sent again."""
    if contract.status != ContractStatus.DRAFT or contract.submitted_at is not None:
        return ""
    for row in reversed(history):
        if row["transition"] in ("submit", "recall"):
            return ""
        if row["transition"] == "return":
            return row["description"]
    return ""


@require_GET
@provider_staff_required
def contract_detail(request, provider, pk):
    contract = _contract(provider, pk)
    overview = contract_overview(contract)
    is_draft = contract.status == ContractStatus.DRAFT
    return render(
        request,
        "contracts/provider_detail.html",
        {
            "provider": provider,
            "contract": contract,
            "overview": overview,
            "side": "provider",
            "editable": _editable(contract),
            "problems": services.contract_signing_problems(contract) if is_draft else [],
            "return_reason": _return_reason(contract, overview.history),
            "can_report": contract.status == ContractStatus.IN_PROGRESS and bool(overview.milestones),
            "can_change": contract.status in (ContractStatus.SIGNED, ContractStatus.IN_PROGRESS),
            "can_accept": contract.status == ContractStatus.IN_PROGRESS
            and not any(a.status == InternalAcceptance.Status.AWAITING_ENTERPRISE for a in overview.acceptances),
            "threshold": price_threshold_percent(),
        },
    )


@require_GET
@provider_staff_required
def contract_attachment(request, provider, pk, attachment_pk):
    contract = _contract(provider, pk)
    return attachment_response(
        request, get_object_or_404(contract_attachments(contract), pk=attachment_pk), contract=contract.pk
    )


# --- The draft ---------------------------------------------------------------------------------------------


def _contract_sections(form):
    sections = []
    if "enterprise_uscc" in form.fields:
        sections.append((_("Enterprise"), [form["enterprise_uscc"]]))
    sections.append((_("Contract terms"), [form[name] for name in TERMS_FIELDS]))
    sections.append((None, [form["scenarios"]]))
    sections.append((_("Service plan (Art 10(2), 10(3))"), [form[name] for name in PLAN_FIELDS]))
    return sections


def _plan_lead():
    return _(
        "The service plan may be completed later, but it must be complete before the contract is sent to the "
        "enterprise for signing."
    )


@require_http_methods(["GET", "POST"])
@provider_staff_required
def contract_new(request, provider):
    form = ContractForm(request.POST or None, new=True)
    if request.method == "POST" and form.is_valid():
        try:
            contract = services.contract_draft_save(
                by=request.user,
                provider=provider,
                enterprise=form.enterprise,
                data=form.terms(),
                scenarios=form.cleaned_data["scenarios"],
            )
        except ValidationError as exc:
            put_errors(form, exc)
        else:
            messages.success(request, _("The draft contract was saved."))
            return _to_detail(contract)
    return _form_page(
        request,
        provider,
        None,
        form,
        title=_("New contract"),
        lead=_plan_lead(),
        wording="plan",
        submit=_("Save the draft"),
        sections=_contract_sections(form),
    )


@require_http_methods(["GET", "POST"])
@provider_staff_required
def contract_edit(request, provider, pk):
    contract = _contract(provider, pk)
    if not _editable(contract):
        return _not_now(request, contract, _("Only a draft that is not with the enterprise can be changed."))
    # The form writes the input onto its instance; a copy keeps the page's header showing the saved contract.
    form = ContractForm(request.POST or None, instance=provider_contracts(provider).get(pk=contract.pk), new=False)
    if request.method == "POST" and form.is_valid():
        try:
            services.contract_draft_save(
                by=request.user,
                provider=provider,
                enterprise=contract.enterprise,
                data=form.terms(),
                scenarios=form.cleaned_data["scenarios"],
                contract=contract,
            )
        except ValidationError as exc:
            put_errors(form, exc)
        else:
            messages.success(request, _("The draft contract was saved."))
            return _to_detail(contract)
    return _form_page(
        request,
        provider,
        contract,
        form,
        title=_("Edit the draft and its service plan"),
        lead=_plan_lead(),
        wording="plan",
        submit=_("Save the draft"),
        sections=_contract_sections(form),
    )


def _milestone_or_item_guard(request, contract):
    if not _editable(contract):
        return _not_now(request, contract, _("The plan can only be changed while the draft is with you."))
    return None


@require_http_methods(["GET", "POST"])
@provider_staff_required
def contract_milestone(request, provider, pk, milestone_pk=None):
    contract = _contract(provider, pk)
    milestone = get_object_or_404(contract.milestones, pk=milestone_pk) if milestone_pk else None
    refused = _milestone_or_item_guard(request, contract)
    if refused:
        return refused
    form = MilestoneForm(request.POST or None, instance=milestone)
    if request.method == "POST" and form.is_valid():
        try:
            services.milestone_save(contract=contract, by=request.user, milestone=milestone, **form.cleaned_data)
        except ValidationError as exc:
            put_errors(form, exc)
        else:
            messages.success(request, _("The milestone was saved."))
            return _to_detail(contract)
    return _form_page(
        request,
        provider,
        contract,
        form,
        title=_("Edit milestone") if milestone else _("Add a milestone"),
        lead=_("The planned date lies within the contract period; the weights of all milestones add up to 100."),
        submit=_("Save the milestone"),
    )


@require_http_methods(["GET", "POST"])
@provider_staff_required
def contract_milestone_delete(request, provider, pk, milestone_pk):
    contract = _contract(provider, pk)
    milestone = get_object_or_404(contract.milestones, pk=milestone_pk)
    return _delete_row(
        request,
        provider,
        contract,
        milestone,
        delete=lambda: services.milestone_delete(milestone=milestone, by=request.user),
        kind=_("milestone"),
        done=_("The milestone was deleted."),
    )


def _delete_row(request, provider, contract, obj, *, delete, kind, done):
    """A confirmation page, then the service that deletes a row of the draft (milestone or procurement item)."""
    refused = _milestone_or_item_guard(request, contract)
    if refused:
        return refused
    if request.method == "POST":
        try:
            delete()
        except ValidationError as exc:
            return _not_now(request, contract, " ".join(exc.messages))
        messages.success(request, done)
        return _to_detail(contract)
    return render(
        request,
        "contracts/provider_confirm_delete.html",
        {"provider": provider, "contract": contract, "object": obj, "kind": kind},
    )


@require_http_methods(["GET", "POST"])
@provider_staff_required
def contract_item(request, provider, pk, item_pk=None):
    contract = _contract(provider, pk)
    item = get_object_or_404(contract.procurement_items, pk=item_pk) if item_pk else None
    refused = _milestone_or_item_guard(request, contract)
    if refused:
        return refused
    form = ProcurementItemForm(request.POST or None, instance=item, provider=provider)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.procurement_item_save(
                contract=contract, by=request.user, item=item, data=form.cleaned_data
            )
        except ValidationError as exc:
            put_errors(form, exc)
        else:
            if saved.flagged:
                messages.warning(
                    request,
                    _(
                        "The item was saved and flagged: its unit price is more than %(pct)s%% above the reference "
                        "market price or your list price (Art 12(3)). Check it before you send the contract."
                    )
                    % {"pct": price_threshold_percent()},
                )
            else:
                messages.success(request, _("The item was saved."))
            return _to_detail(contract)
    return _form_page(
        request,
        provider,
        contract,
        form,
        title=_("Edit procurement item") if item else _("Add a procurement item"),
        lead=_(
            "The list must be complete, with accurate functions, uses and costs. A unit price more than %(pct)s%% "
            "above the reference market price or your own list price is flagged for the bureau."
        )
        % {"pct": price_threshold_percent()},
        wording="prices",
        submit=_("Save the item"),
    )


@require_http_methods(["GET", "POST"])
@provider_staff_required
def contract_item_delete(request, provider, pk, item_pk):
    contract = _contract(provider, pk)
    item = get_object_or_404(contract.procurement_items, pk=item_pk)
    return _delete_row(
        request,
        provider,
        contract,
        item,
        delete=lambda: services.procurement_item_delete(item=item, by=request.user),
        kind=_("procurement item"),
        done=_("The item was deleted."),
    )


@require_http_methods(["GET", "POST"])
@provider_staff_required
def contract_nda(request, provider, pk):
    contract = _contract(provider, pk)
    refused = _milestone_or_item_guard(request, contract)
    if refused:
        return refused
    form = NdaForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.contract_nda_store(
                contract=contract,
                by=request.user,
                signed_on=form.cleaned_data["signed_on"],
                uploaded=form.cleaned_data["file"],
            )
        except ValidationError as exc:
            put_errors(form, exc)
        else:
            messages.success(request, _("The confidentiality agreement is on file."))
            return _to_detail(contract)
    return _form_page(
        request,
        provider,
        contract,
        form,
        title=_("File the confidentiality agreement"),
        lead=_("A confidentiality agreement must be on file before the contract is sent for signing."),
        wording="nda",
        submit=_("File the agreement"),
        multipart=True,
    )


def _act(request, contract, action, success):
    try:
        action(contract=contract, by=request.user)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, success)
    return _to_detail(contract)


@require_POST
@provider_staff_required
def contract_submit(request, provider, pk):
    return _act(
        request,
        _contract(provider, pk),
        services.contract_submit,
        _("The contract was sent to the enterprise for signing."),
    )


@require_POST
@provider_staff_required
def contract_recall(request, provider, pk):
    return _act(
        request,
        _contract(provider, pk),
        services.contract_recall,
        _("The draft is back with you; send it again when it is ready."),
    )


@require_POST
@provider_staff_required
def contract_start(request, provider, pk):
    return _act(request, _contract(provider, pk), services.contract_start, _("Implementation has started."))


# --- During implementation --------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@provider_staff_required
def contract_progress_new(request, provider, pk):
    contract = _contract(provider, pk)
    if contract.status != ContractStatus.IN_PROGRESS:
        return _not_now(request, contract, _("Progress is reported while the project is in progress."))
    form = ProgressReportForm(request.POST or None, contract=contract)
    if request.method == "POST" and form.is_valid():
        try:
            services.progress_report_submit(contract=contract, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            put_errors(form, exc)
        else:
            messages.success(request, _("The progress report was sent to the enterprise."))
            return _to_detail(contract)
    return _form_page(
        request,
        provider,
        contract,
        form,
        title=_("Report progress"),
        lead=_("The milestone's progress counts once the enterprise acknowledges the report."),
        wording="progress",
        submit=_("Send the report"),
    )


@require_http_methods(["GET", "POST"])
@provider_staff_required
def contract_change_new(request, provider, pk):
    contract = _contract(provider, pk)
    if contract.status not in (ContractStatus.SIGNED, ContractStatus.IN_PROGRESS):
        return _not_now(request, contract, _("Changes are proposed on a signed contract."))
    form = ChangeRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.change_request_propose(contract=contract, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            put_errors(form, exc)
        else:
            messages.success(request, _("The change request was sent to the enterprise."))
            return _to_detail(contract)
    return _form_page(
        request,
        provider,
        contract,
        form,
        title=_("Propose a change"),
        lead=_("The contract changes only when the enterprise agrees."),
        wording="progress",
        submit=_("Send the change request"),
    )


@require_POST
@provider_staff_required
def contract_change_withdraw(request, provider, pk, change_pk):
    contract = _contract(provider, pk)
    change = get_object_or_404(contract.change_requests, pk=change_pk)
    try:
        services.change_request_withdraw(request=change, by=request.user)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("The change request was withdrawn."))
    return _to_detail(contract)


@require_http_methods(["GET", "POST"])
@provider_staff_required
def contract_acceptance_new(request, provider, pk):
    contract = _contract(provider, pk)
    if contract.status != ContractStatus.IN_PROGRESS:
        return _not_now(request, contract, _("The internal acceptance is held when the project is complete."))
    if contract.internal_acceptances.filter(status=InternalAcceptance.Status.AWAITING_ENTERPRISE).exists():
        return _not_now(request, contract, _("An internal acceptance already awaits the enterprise's signature."))
    form = InternalAcceptanceForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.internal_acceptance_submit(contract=contract, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            put_errors(form, exc)
        else:
            messages.success(request, _("The internal acceptance was signed for you and sent to the enterprise."))
            return _to_detail(contract)
    return _form_page(
        request,
        provider,
        contract,
        form,
        title=_("Record the internal acceptance"),
        lead=_("Submitting signs the record for you; the enterprise then signs it or refuses with a reason."),
        wording="acceptance",
        submit=_("Sign and send to the enterprise"),
        multipart=True,
    )
