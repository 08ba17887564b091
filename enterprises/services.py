"""The one write path for contracts' state and their Art 14 fee consequences."""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from providers.models import ProviderStatus
from tangshan_portal.documents import issue_after_commit
from tangshan_portal.services import attachment_store, notify
from tangshan_portal.transitions import TransitionError, log_event

from .documents import internal_acceptance_pdf
from .models import (
    ACTIVE_CONTRACT_STATUSES,
    ChangeRequest,
    ContractStatus,
    FeeConsequence,
    InternalAcceptance,
    Milestone,
    ProcurementItem,
    ProgressReport,
    ServiceContract,
)


def _consequence(contract, *, cause, decision_reference, now):
    consequence, _created = FeeConsequence.objects.get_or_create(
        contract=contract,
        cause=cause,
        decision_reference=decision_reference,
        defaults={
            "fee_withheld": True,
            "advance_recoverable": contract.advance_payment or Decimal("0"),
            "decided_at": now,
        },
    )
    return consequence


@transaction.atomic
def contracts_terminate_for_revocation(*, provider, by, decision_reference, reason):
    """Art 14 for a revoked provider: every active contract is terminated, its unpaid fee withheld and its
    advance payment recoverable. Returns the contracts that were terminated."""
    now = timezone.now()
    contracts = list(
        ServiceContract.objects.select_for_update().filter(provider=provider, status__in=ACTIVE_CONTRACT_STATUSES)
    )
    for contract in contracts:
        contract.terminate(by=by, description=reason)
        contract.save()
        _consequence(contract, cause=FeeConsequence.Cause.REVOCATION, decision_reference=decision_reference, now=now)
    return contracts


@transaction.atomic
def contract_fail_acceptance(*, contract, by, reason, decision_reference=""):
    """Art 9/14: a project that fails acceptance gets the same fee consequences as a revocation."""
    contract = ServiceContract.objects.select_for_update().get(pk=contract.pk)
    contract.fail_acceptance(by=by, description=reason)
    contract.save()
    return _consequence(
        contract,
        cause=FeeConsequence.Cause.FAILED_ACCEPTANCE,
        decision_reference=decision_reference or _("acceptance of %(number)s") % {"number": contract.number},
        now=timezone.now(),
    )


@transaction.atomic
def fee_consequences_lift(*, decision_reference, reason):
    """Undo the Art 14 consequences of one decision (an upheld appeal); the records stay, marked lifted."""
    return FeeConsequence.objects.filter(decision_reference=decision_reference, lifted_at__isnull=True).update(
        lifted_at=timezone.now(), lift_reason=reason
    )


# --- Who acts for which side ------------------------------------------------------------------------------


def _provider_side(contract, by):
    if by.organisation_id is None or by.organisation_id != contract.provider.organisation_id:
        raise PermissionDenied


def _enterprise_side(contract, by):
    if by.organisation_id is None or by.organisation_id != contract.enterprise.organisation_id:
        raise PermissionDenied


def _locked_contract(contract):
    return (
        ServiceContract.objects.select_for_update(of=("self",))
        .select_related("provider", "enterprise")
        .get(pk=contract.pk)
    )


def _require_status(contract, *statuses, message=None):
    if contract.status not in statuses:
        raise TransitionError(
            message
            or _("This is not possible while the contract is “%(status)s”.") % {"status": contract.get_status_display()}
        )


def _require_editable_draft(contract):
    """The provider changes a draft only while it is with the provider: the enterprise signs exactly what was
    sent to it, so a draft awaiting its signature is recalled (or returned) before it changes."""
    _require_status(contract, ContractStatus.DRAFT, message=_("Only a draft contract can be changed."))
    if contract.submitted_at is not None:
        raise TransitionError(_("The draft awaits the enterprise's signature: recall it before you change it."))


def _notify_org(organisation, *, kind, subject, body, key, link):
    if organisation is None:
        return
    notify(kind=kind, subject=subject, body=body, dedup_key=key, organisation=organisation, link=link)


# --- Drafting (provider) ----------------------------------------------------------------------------------

CONTRACT_FIELDS = (
    "number",
    "title",
    "amount",
    "subsidy",
    "advance_payment",
    "start_on",
    "end_on",
    "plan_goals",
    "plan_content",
    "plan_process",
    "plan_deliverables",
    "quality_control",
    "maintenance_commitment",
)


@transaction.atomic
def contract_draft_save(*, by, provider, enterprise, data, scenarios=(), contract=None):
    """Create or edit a draft contract with its service plan (Art 6(1), 10(2)). Only drafts are edited;
    after signing, changes go through change requests the enterprise agrees to (Art 6(3))."""
    if contract is None:
        contract = ServiceContract(provider=provider, enterprise=enterprise)
    else:
        contract = _locked_contract(contract)
    _provider_side(contract, by)
    if contract.pk is not None:
        _require_editable_draft(contract)
    for field in CONTRACT_FIELDS:
        if field in data:
            setattr(contract, field, data[field])
    contract.full_clean(exclude=["status"])
    created = contract.pk is None
    contract.save()
    contract.scenarios.set(scenarios)
    if created:
        log_event(contract, by=by, description=_("Contract drafted"), state=contract.status)
    return contract


@transaction.atomic
def milestone_save(*, contract, by, name, planned_on, weight, milestone=None):
    contract = _locked_contract(contract)
    _provider_side(contract, by)
    _require_status(contract, ContractStatus.DRAFT, message=_("Milestones are fixed once the contract is signed."))
    _require_editable_draft(contract)
    milestone = milestone or Milestone(contract=contract)
    if milestone.contract_id != contract.pk:
        raise PermissionDenied
    milestone.name, milestone.planned_on, milestone.weight = name, planned_on, weight
    milestone.full_clean()
    if not (contract.start_on <= planned_on <= contract.end_on):
        raise ValidationError({"planned_on": _("The planned date must lie within the contract period.")})
    milestone.save()
    return milestone


@transaction.atomic
def milestone_delete(*, milestone, by):
    contract = _locked_contract(milestone.contract)
    _provider_side(contract, by)
    _require_status(contract, ContractStatus.DRAFT, message=_("Milestones are fixed once the contract is signed."))
    _require_editable_draft(contract)
    milestone.delete()


def procurement_flags(*, unit_price, reference_price, list_price):
    """Art 12(3): a unit price above the reference market price or above the provider's own list price by
    more than PRICE_DEVIATION_THRESHOLD is flagged."""
    limit = Decimal("1") + Decimal(str(settings.PRICE_DEVIATION_THRESHOLD))
    above_reference = reference_price is not None and unit_price > reference_price * limit
    above_list = list_price is not None and unit_price > list_price * limit
    return above_reference, above_list


@transaction.atomic
def procurement_item_save(*, contract, by, data, item=None):
    contract = _locked_contract(contract)
    _provider_side(contract, by)
    _require_status(
        contract, ContractStatus.DRAFT, message=_("The procurement list is fixed once the contract is signed.")
    )
    _require_editable_draft(contract)
    item = item or ProcurementItem(contract=contract)
    if item.contract_id != contract.pk:
        raise PermissionDenied
    for field in ("product", "name", "function", "purpose", "quantity", "unit", "unit_price", "reference_price"):
        if field in data:
            setattr(item, field, data[field])
    if item.product is not None and item.product.provider_id != contract.provider_id:
        raise ValidationError({"product": _("Choose a product from your own catalogue.")})
    item.list_price_at_entry = item.product.list_price if item.product else None
    item.above_reference, item.above_list_price = procurement_flags(
        unit_price=item.unit_price, reference_price=item.reference_price, list_price=item.list_price_at_entry
    )
    item.full_clean()
    item.save()
    return item


@transaction.atomic
def procurement_item_delete(*, item, by):
    contract = _locked_contract(item.contract)
    _provider_side(contract, by)
    _require_status(
        contract, ContractStatus.DRAFT, message=_("The procurement list is fixed once the contract is signed.")
    )
    _require_editable_draft(contract)
    item.delete()


@transaction.atomic
def contract_nda_store(*, contract, by, signed_on, uploaded):
    """Art 10(2): the signed confidentiality agreement is kept on file. It is part of what the enterprise
    signs, so it is filed while the contract is a draft with the provider."""
    contract = _locked_contract(contract)
    _provider_side(contract, by)
    _require_editable_draft(contract)
    if signed_on > timezone.localdate():
        raise ValidationError({"signed_on": _("The signing date cannot be in the future.")})
    attachment_store(target=contract, uploaded=uploaded, by=by, purpose="nda")
    contract.nda_signed_on = signed_on
    contract.save(update_fields=["nda_signed_on", "updated_at"])
    log_event(
        contract,
        by=by,
        description=_("Confidentiality agreement filed"),
        state=contract.status,
        transition="nda",
        source_state=contract.status,
    )
    return contract


def contract_signing_problems(contract):
    """What still keeps a draft from being signed; an empty list when it is complete."""
    problems = []
    if contract.provider.status == ProviderStatus.REVOKED:
        # Art 13: a provider whose qualification was revoked is cleared out of the pool and gets no subsidy.
        problems.append(
            _("The provider's qualification was revoked (Art 13: “%(wording)s”); it cannot sign a pilot contract.")
            % {"wording": "取消服务商资格，并列入我市数字化服务商黑名单……不得享受相关奖补政策支持"}
        )
    # Art 10(2) asks for goals, content, process, deliverables and quality control; Art 10(3) for operation
    # and maintenance after the pilot ends.
    plan = {
        "plan_goals": _("goals"),
        "plan_content": _("service content"),
        "plan_process": _("implementation process"),
        "plan_deliverables": _("deliverables"),
        "quality_control": _("quality control and periodic evaluation"),
        "maintenance_commitment": _("operation and maintenance after the pilot"),
    }
    missing = [label for field, label in plan.items() if not getattr(contract, field).strip()]
    if missing:
        problems.append(_("The service plan lacks: %(items)s.") % {"items": "、".join(str(m) for m in missing)})
    if contract.nda_signed_on is None:
        problems.append(_("The confidentiality agreement is not on file."))
    milestones = list(contract.milestones.all())
    weights = [m.weight for m in milestones]
    if not weights:
        problems.append(_("Add the milestones."))
    elif sum(weights) != 100:
        problems.append(_("The milestone weights add up to %(sum)s%%, not 100%%.") % {"sum": sum(weights)})
    # The contract period may have been edited after the milestones were entered.
    outside = [m.name for m in milestones if not (contract.start_on <= m.planned_on <= contract.end_on)]
    if outside:
        problems.append(
            _("These milestones lie outside the contract period: %(names)s.") % {"names": "、".join(outside)}
        )
    if not contract.procurement_items.exists():
        problems.append(_("Add the procurement list."))
    return problems


@transaction.atomic
def contract_submit(*, contract, by):
    """The provider sends the complete draft to the enterprise for signing."""
    contract = _locked_contract(contract)
    _provider_side(contract, by)
    _require_status(contract, ContractStatus.DRAFT)
    if contract.submitted_at is not None:
        raise TransitionError(_("The draft already awaits the enterprise's signature."))
    problems = contract_signing_problems(contract)
    if problems:
        raise TransitionError(problems)
    if contract.enterprise.organisation_id is None:
        # Nobody could sign it: the enterprise has no account yet.
        raise TransitionError(_("The enterprise has no account on the portal yet; ask the bureau to set one up."))
    contract.submitted_at = timezone.now()
    contract.save(update_fields=["submitted_at", "updated_at"])
    log_event(
        contract,
        by=by,
        description=_("Sent to the enterprise for signing"),
        state=contract.status,
        transition="submit",
        source_state=contract.status,
    )
    _notify_org(
        contract.enterprise.organisation,
        kind="contract_to_sign",
        subject=_("Contract %(number)s awaits your signature") % {"number": contract.number},
        body=contract.title,
        key=f"contract:{contract.pk}:submitted:{contract.submitted_at:%Y%m%d%H%M%S}",
        link=f"/enterprise/contracts/{contract.pk}/",
    )
    return contract


@transaction.atomic
def contract_recall(*, contract, by):
    """The provider takes back a draft it sent for signing, to change it; the enterprise is told."""
    contract = _locked_contract(contract)
    _provider_side(contract, by)
    _require_status(contract, ContractStatus.DRAFT)
    if contract.submitted_at is None:
        raise TransitionError(_("The draft is not with the enterprise."))
    contract.submitted_at = None
    contract.save(update_fields=["submitted_at", "updated_at"])
    now = timezone.now()
    log_event(
        contract,
        by=by,
        description=_("Recalled by the provider before signing"),
        state=contract.status,
        transition="recall",
        source_state=contract.status,
    )
    _notify_org(
        contract.enterprise.organisation,
        kind="contract_recalled",
        subject=_("Contract %(number)s was recalled by the provider") % {"number": contract.number},
        body=_("The provider is changing the draft; it will send it to you again for signing."),
        key=f"contract:{contract.pk}:recalled:{now:%Y%m%d%H%M%S}",
        link=f"/enterprise/contracts/{contract.pk}/",
    )
    return contract


@transaction.atomic
def contract_sign(*, contract, by):
    """The enterprise confirms that it signed the contract as submitted."""
    contract = _locked_contract(contract)
    _enterprise_side(contract, by)
    _require_status(contract, ContractStatus.DRAFT)
    if contract.submitted_at is None:
        raise TransitionError(_("The provider has not sent this contract for signing yet."))
    problems = contract_signing_problems(contract)
    if problems:
        raise TransitionError(problems)
    contract.signed_on = timezone.localdate()
    contract.sign(by=by, description=_("Signed by the enterprise"))
    contract.save()
    _notify_org(
        contract.provider.organisation,
        kind="contract_signed",
        subject=_("Contract %(number)s was signed by the enterprise") % {"number": contract.number},
        body=contract.title,
        key=f"contract:{contract.pk}:signed",
        link=f"/provider/contracts/{contract.pk}/",
    )
    return contract


@transaction.atomic
def contract_return_to_provider(*, contract, by, reason):
    """The enterprise does not sign the draft as submitted and says why; the provider revises it."""
    contract = _locked_contract(contract)
    _enterprise_side(contract, by)
    _require_status(contract, ContractStatus.DRAFT)
    if contract.submitted_at is None:
        raise TransitionError(_("The provider has not sent this contract for signing."))
    if not reason.strip():
        raise ValidationError({"reason": _("Say what must change before you sign.")})
    contract.submitted_at = None
    contract.save(update_fields=["submitted_at", "updated_at"])
    log_event(
        contract, by=by, description=reason, state=contract.status, transition="return", source_state=contract.status
    )
    _notify_org(
        contract.provider.organisation,
        kind="contract_returned",
        subject=_("Contract %(number)s was returned by the enterprise") % {"number": contract.number},
        body=reason,
        key=f"contract:{contract.pk}:returned:{timezone.now():%Y%m%d%H%M%S}",
        link=f"/provider/contracts/{contract.pk}/",
    )
    return contract


@transaction.atomic
def contract_start(*, contract, by):
    contract = _locked_contract(contract)
    _provider_side(contract, by)
    _require_status(contract, ContractStatus.SIGNED)
    contract.start(by=by, description=_("Implementation started"))
    contract.save()
    _notify_org(
        contract.enterprise.organisation,
        kind="contract_started",
        subject=_("Implementation of contract %(number)s has started") % {"number": contract.number},
        body=contract.title,
        key=f"contract:{contract.pk}:started",
        link=f"/enterprise/contracts/{contract.pk}/",
    )
    return contract


# --- Progress reports (Art 6(3)) ----------------------------------------------------------------------------


@transaction.atomic
def progress_report_submit(*, contract, by, milestone, progress, summary, problems="", next_steps=""):
    contract = _locked_contract(contract)
    _provider_side(contract, by)
    _require_status(
        contract, ContractStatus.IN_PROGRESS, message=_("Progress is reported while the project is in progress.")
    )
    if milestone.contract_id != contract.pk:
        raise ValidationError({"milestone": _("Choose a milestone of this contract.")})
    report = ProgressReport(
        contract=contract,
        milestone=milestone,
        progress=progress,
        summary=summary,
        problems=problems,
        next_steps=next_steps,
        submitted_by=by,
        submitted_at=timezone.now(),
    )
    report.full_clean()
    report.save()
    _notify_org(
        contract.enterprise.organisation,
        kind="progress_report",
        subject=_("Progress report on %(number)s: %(milestone)s %(progress)s%%")
        % {"number": contract.number, "milestone": milestone.name, "progress": progress},
        body=summary[:500],
        key=f"progress:{report.pk}",
        link=f"/enterprise/contracts/{contract.pk}/",
    )
    return report


def _locked_report(report):
    return (
        ProgressReport.objects.select_for_update(of=("self",))
        .select_related("contract__provider", "contract__enterprise")
        .get(pk=report.pk)
    )


@transaction.atomic
def progress_report_acknowledge(*, report, by, comment=""):
    """The enterprise confirms the report; only then does the milestone's progress count for the schedule
    check (Art 13(3)), so that a provider cannot report its way out of a lag alone."""
    report = _locked_report(report)
    _enterprise_side(report.contract, by)
    if report.status != ProgressReport.Status.SUBMITTED:
        raise TransitionError(_("This report has already been answered."))
    now = timezone.now()
    report.status = ProgressReport.Status.ACKNOWLEDGED
    report.responded_by, report.responded_at, report.enterprise_comment = by, now, comment
    report.save()
    # Reports may be answered out of order: the milestone takes the most recently submitted acknowledged
    # report, so acknowledging an older one late does not set its progress back.
    latest = (
        ProgressReport.objects.filter(milestone_id=report.milestone_id, status=ProgressReport.Status.ACKNOWLEDGED)
        .order_by("-submitted_at", "-id")
        .values_list("pk", flat=True)
        .first()
    )
    if latest == report.pk:
        Milestone.objects.filter(pk=report.milestone_id).update(reported_progress=report.progress, reported_at=now)
    _notify_org(
        report.contract.provider.organisation,
        kind="progress_acknowledged",
        subject=_("The enterprise acknowledged your progress report on %(number)s")
        % {"number": report.contract.number},
        body=comment,
        key=f"progress:{report.pk}:acknowledged",
        link=f"/provider/contracts/{report.contract_id}/",
    )
    return report


@transaction.atomic
def progress_report_dispute(*, report, by, comment):
    report = _locked_report(report)
    _enterprise_side(report.contract, by)
    if report.status != ProgressReport.Status.SUBMITTED:
        raise TransitionError(_("This report has already been answered."))
    if not comment.strip():
        raise ValidationError({"comment": _("Say what in the report is not right.")})
    report.status = ProgressReport.Status.DISPUTED
    report.responded_by, report.responded_at, report.enterprise_comment = by, timezone.now(), comment
    report.save()
    _notify_org(
        report.contract.provider.organisation,
        kind="progress_disputed",
        subject=_("The enterprise disputed your progress report on %(number)s") % {"number": report.contract.number},
        body=comment,
        key=f"progress:{report.pk}:disputed",
        link=f"/provider/contracts/{report.contract_id}/",
    )
    return report


# --- Change requests (Art 6(3)) ------------------------------------------------------------------------------


@transaction.atomic
def change_request_propose(*, contract, by, description, reason, new_end_on=None, new_amount=None):
    contract = _locked_contract(contract)
    _provider_side(contract, by)
    _require_status(contract, ContractStatus.SIGNED, ContractStatus.IN_PROGRESS)
    errors = {}
    if not description.strip():
        errors["description"] = _("Describe the change.")
    if not reason.strip():
        errors["reason"] = _("Say why the change is needed.")
    if errors:
        raise ValidationError(errors)
    if new_end_on is not None and new_end_on < contract.start_on:
        raise ValidationError({"new_end_on": _("The contract cannot end before it starts.")})
    if new_amount is not None and new_amount < max(contract.subsidy, contract.advance_payment):
        raise ValidationError(
            {"new_amount": _("The amount cannot fall below the subsidy or the advance payment already agreed.")}
        )
    request = ChangeRequest.objects.create(
        contract=contract,
        description=description,
        reason=reason,
        new_end_on=new_end_on,
        new_amount=new_amount,
        proposed_by=by,
        proposed_at=timezone.now(),
    )
    _notify_org(
        contract.enterprise.organisation,
        kind="change_request",
        subject=_("Change request on contract %(number)s") % {"number": contract.number},
        body=description[:500],
        key=f"change:{request.pk}",
        link=f"/enterprise/contracts/{contract.pk}/",
    )
    log_event(
        contract,
        by=by,
        description=_("Change proposed: %(text)s") % {"text": description[:200]},
        state=contract.status,
        transition="change_request",
        source_state=contract.status,
    )
    return request


@transaction.atomic
def change_request_decide(*, request, by, agree, comment=""):
    """The enterprise agrees (the contract takes the new end date or amount) or declines with a reason."""
    request = ChangeRequest.objects.select_for_update().get(pk=request.pk)
    contract = _locked_contract(request.contract)
    _enterprise_side(contract, by)
    if request.status != ChangeRequest.Status.PROPOSED:
        raise TransitionError(_("This change request has already been decided."))
    if not agree and not comment.strip():
        raise ValidationError({"comment": _("Say why you decline the change.")})
    now = timezone.now()
    request.decided_by, request.decided_at, request.enterprise_comment = by, now, comment
    if agree:
        _require_status(contract, ContractStatus.SIGNED, ContractStatus.IN_PROGRESS)
        request.status = ChangeRequest.Status.AGREED
        request.previous_end_on, request.previous_amount = contract.end_on, contract.amount
        if request.new_end_on is not None:
            contract.end_on = request.new_end_on
        if request.new_amount is not None:
            contract.amount = request.new_amount
        contract.full_clean(exclude=["status"])
        contract.save()
    else:
        request.status = ChangeRequest.Status.DECLINED
    request.save()
    log_event(
        contract,
        by=by,
        description=_("Change request %(verdict)s: %(text)s")
        % {"verdict": request.get_status_display(), "text": request.description[:200]},
        state=contract.status,
        transition="change_request",
        source_state=contract.status,
    )
    _notify_org(
        contract.provider.organisation,
        kind="change_request_decided",
        subject=_("Change request on %(number)s: %(verdict)s")
        % {"number": contract.number, "verdict": request.get_status_display()},
        body=comment,
        key=f"change:{request.pk}:decided",
        link=f"/provider/contracts/{contract.pk}/",
    )
    return request


@transaction.atomic
def change_request_withdraw(*, request, by):
    request = (
        ChangeRequest.objects.select_for_update(of=("self",)).select_related("contract__enterprise").get(pk=request.pk)
    )
    contract = request.contract
    _provider_side(contract, by)
    if request.status != ChangeRequest.Status.PROPOSED:
        raise TransitionError(_("This change request has already been decided."))
    request.status = ChangeRequest.Status.WITHDRAWN
    request.decided_by, request.decided_at = by, timezone.now()
    request.save()
    log_event(
        contract,
        by=by,
        description=_("Change request withdrawn: %(text)s") % {"text": request.description[:200]},
        state=contract.status,
        transition="change_request",
        source_state=contract.status,
    )
    _notify_org(
        contract.enterprise.organisation,
        kind="change_request_withdrawn",
        subject=_("The provider withdrew its change request on %(number)s") % {"number": contract.number},
        body=request.description[:500],
        key=f"change:{request.pk}:withdrawn",
        link=f"/enterprise/contracts/{contract.pk}/",
    )
    return request


# --- Internal acceptance (Art 8) -------------------------------------------------------------------------------


@transaction.atomic
def internal_acceptance_submit(*, contract, by, held_on, participants, conclusion, documents):
    """The provider records the joint internal acceptance, signs it and archives the documents."""
    contract = _locked_contract(contract)
    _provider_side(contract, by)
    _require_status(contract, ContractStatus.IN_PROGRESS)
    if not documents:
        raise ValidationError(
            {"documents": _("Archive the implementation and acceptance documents with the record (Art 8).")}
        )
    if contract.internal_acceptances.filter(status=InternalAcceptance.Status.AWAITING_ENTERPRISE).exists():
        raise TransitionError(_("An internal acceptance already awaits the enterprise's signature."))
    if held_on > timezone.localdate():
        raise ValidationError({"held_on": _("The acceptance cannot be dated in the future.")})
    if held_on < contract.start_on:
        raise ValidationError({"held_on": _("The acceptance cannot be dated before the contract starts.")})
    acceptance = InternalAcceptance(
        contract=contract,
        held_on=held_on,
        participants=participants,
        conclusion=conclusion,
        provider_signed_by=by,
        provider_signed_at=timezone.now(),
    )
    acceptance.full_clean()
    acceptance.save()
    for uploaded in documents:
        attachment_store(target=acceptance, uploaded=uploaded, by=by, purpose="internal_acceptance")
    _notify_org(
        contract.enterprise.organisation,
        kind="internal_acceptance",
        subject=_("Internal acceptance of %(number)s awaits your signature") % {"number": contract.number},
        body=conclusion[:500],
        key=f"internal_acceptance:{acceptance.pk}",
        link=f"/enterprise/contracts/{contract.pk}/",
    )
    return acceptance


def _locked_acceptance(acceptance):
    return InternalAcceptance.objects.select_for_update().get(pk=acceptance.pk)


@transaction.atomic
def internal_acceptance_sign(*, acceptance, by):
    """The enterprise signs: the contract is internally accepted and awaits evaluation acceptance (Art 9)."""
    acceptance = _locked_acceptance(acceptance)
    contract = _locked_contract(acceptance.contract)
    _enterprise_side(contract, by)
    if acceptance.status != InternalAcceptance.Status.AWAITING_ENTERPRISE:
        raise TransitionError(_("This internal acceptance has already been answered."))
    _require_status(contract, ContractStatus.IN_PROGRESS)
    acceptance.status = InternalAcceptance.Status.SIGNED
    acceptance.enterprise_signed_by, acceptance.enterprise_signed_at = by, timezone.now()
    acceptance.save()
    contract.accept_internally(by=by, description=_("Internal acceptance signed by both sides"))
    contract.save()
    _notify_org(
        contract.provider.organisation,
        kind="internal_acceptance_signed",
        subject=_("The enterprise signed the internal acceptance of %(number)s") % {"number": contract.number},
        body="",
        key=f"internal_acceptance:{acceptance.pk}:signed",
        link=f"/provider/contracts/{contract.pk}/",
    )
    # The enterprise's signature is the second one: the record is complete and certified.
    issue_after_commit(internal_acceptance_pdf, acceptance, by)
    return acceptance


@transaction.atomic
def internal_acceptance_refuse(*, acceptance, by, reason):
    acceptance = _locked_acceptance(acceptance)
    _enterprise_side(acceptance.contract, by)
    if acceptance.status != InternalAcceptance.Status.AWAITING_ENTERPRISE:
        raise TransitionError(_("This internal acceptance has already been answered."))
    if not reason.strip():
        raise ValidationError({"reason": _("Say why you do not sign.")})
    acceptance.status = InternalAcceptance.Status.REFUSED
    acceptance.enterprise_signed_by, acceptance.enterprise_signed_at = by, timezone.now()
    acceptance.refusal_reason = reason
    acceptance.save()
    _notify_org(
        acceptance.contract.provider.organisation,
        kind="internal_acceptance_refused",
        subject=_("The enterprise did not sign the internal acceptance of %(number)s")
        % {"number": acceptance.contract.number},
        body=reason,
        key=f"internal_acceptance:{acceptance.pk}:refused",
        link=f"/provider/contracts/{acceptance.contract_id}/",
    )
    return acceptance
