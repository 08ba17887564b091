"""Complaints (Art 11) and appeals (Art 16): the one write path for views, admin, API and commands."""

from datetime import timedelta

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm_log.models import StateLog

from evaluations import services as enforcement
from evaluations.models import (
    OPEN_RECTIFICATION_STATUSES,
    RectificationCase,
    RevocationCase,
    RevocationStatus,
    SatisfactionRating,
)
from evaluations.services import CaseError
from providers.models import POOL_STATUSES, Provider, ProviderStatus
from tangshan_portal.documents import issue_after_commit
from tangshan_portal.roles import Role
from tangshan_portal.services import attachment_store, notify, upload_check
from tangshan_portal.transitions import locked, log_event, require_transition
from tangshan_portal.workdays import add_working_days

from .documents import appeal_decision_pdf
from .models import (
    CATEGORY_GROUNDS,
    PENDING_APPEAL_STATUSES,
    Appeal,
    AppealStatus,
    AppealType,
    Complaint,
    ComplaintCategory,
    ComplaintStatus,
)

# A complaint may concern a provider in the pool, or one that left it or was revoked (its past work).
COMPLAINABLE_STATUSES = (*POOL_STATUSES, ProviderStatus.REVOKED, ProviderStatus.WITHDRAWN)


def _enterprise_of(user):
    org = user.organisation
    enterprise = getattr(org, "enterprise", None) if org is not None else None
    if enterprise is None:
        raise PermissionDenied(_("Only a pilot enterprise's staff may do this."))
    return enterprise


def _provider_of(user):
    org = user.organisation
    provider = Provider.objects.filter(organisation=org).first() if org is not None else None
    if provider is None:
        raise PermissionDenied(_("Only a provider's staff may do this."))
    return provider


# --- Complaints -----------------------------------------------------------------------------------------------


@transaction.atomic
def complaint_submit(*, by, provider, category, description, contract=None, protect_identity=False, files=(), now=None):
    enterprise = _enterprise_of(by)
    if category not in ComplaintCategory.values:
        raise CaseError({"category": _("Choose a category.")})
    if provider.status not in COMPLAINABLE_STATUSES:
        raise CaseError({"provider": _("Complaints concern providers that are or were in the resource pool.")})
    if contract is not None and (contract.enterprise_id != enterprise.pk or contract.provider_id != provider.pk):
        raise CaseError({"contract": _("Choose one of your contracts with this provider, or none.")})
    if not description.strip():
        raise CaseError({"description": _("Describe what happened.")})
    for uploaded in files:
        upload_check(uploaded)  # every file before anything is written, so a refusal leaves no file behind
    now = now or timezone.now()
    today = timezone.localdate(now)
    complaint = Complaint.objects.create(
        enterprise=enterprise,
        provider=provider,
        contract=contract,
        category=category,
        description=description.strip(),
        protect_identity=protect_identity,
        submitted_by=by,
        submitted_at=now,
        acknowledge_by=add_working_days(today, settings.COMPLAINT_ACK_WORKING_DAYS),
        resolve_by=add_working_days(today, settings.COMPLAINT_RESOLUTION_WORKING_DAYS),
    )
    for uploaded in files:
        attachment_store(target=complaint, uploaded=uploaded, by=by, purpose="complaint")
    log_event(complaint, by=by, description=_("Complaint submitted"), state=ComplaintStatus.SUBMITTED)
    notify(
        kind="complaint_submitted",
        role=Role.OFFICER,
        subject=_("New complaint about %(provider)s") % {"provider": provider.name},
        body=_("To be acknowledged by %(date)s.") % {"date": complaint.acknowledge_by},
        link=f"/admin/complaints/complaint/{complaint.pk}/change/",
        dedup_key=f"complaint:{complaint.pk}:submitted",
    )
    return complaint


def _tell_complainant(complaint, kind, subject, body):
    notify(
        kind=kind,
        organisation=complaint.enterprise.organisation,
        subject=subject,
        body=body,
        link=f"/enterprise/complaints/{complaint.pk}/",
        dedup_key=f"complaint:{complaint.pk}:{kind}",
    )


@transaction.atomic
def complaint_accept(*, complaint, by, note="", now=None):
    complaint = locked(Complaint, complaint.pk)
    require_transition(complaint.accept, by)
    complaint.accepted_at = now or timezone.now()
    complaint.handled_by = by
    complaint.accept(by=by, description=note or _("Complaint accepted"))
    complaint.save()
    _tell_complainant(complaint, "complaint_accepted", _("Your complaint was accepted"), note)
    if complaint.provider.organisation_id:
        notify(
            kind="complaint_against_you",
            organisation=complaint.provider.organisation,
            subject=_("A complaint about your service was accepted by the bureau"),
            body=_("You may respond to it in the portal."),
            link=f"/provider/complaints/{complaint.pk}/",
            dedup_key=f"complaint:{complaint.pk}:provider",
        )
    return complaint


@transaction.atomic
def complaint_reject(*, complaint, by, reason, now=None):
    complaint = locked(Complaint, complaint.pk)
    require_transition(complaint.reject, by)
    if not reason.strip():
        raise CaseError({"reason": _("Give the reason for not accepting the complaint.")})
    complaint.handled_by = by
    complaint.conclusion = reason.strip()
    complaint.closed_at = now or timezone.now()
    complaint.reject(by=by, description=reason.strip())
    complaint.save()
    _tell_complainant(complaint, "complaint_rejected", _("Your complaint was not accepted"), reason.strip())
    return complaint


@transaction.atomic
def complaint_investigate(*, complaint, by, note=""):
    complaint = locked(Complaint, complaint.pk)
    require_transition(complaint.investigate, by)
    complaint.investigate(by=by, description=note or _("Investigation started"))
    complaint.save()
    return complaint


@transaction.atomic
def complaint_conclude(*, complaint, by, substantiated, conclusion, now=None):
    """Close the investigation. A substantiated complaint opens a rectification case or a revocation
    proposal (by its category) with the complaint as evidence, through the enforcement services."""
    complaint = locked(Complaint, complaint.pk)
    method = complaint.substantiate if substantiated else complaint.find_unsubstantiated
    require_transition(method, by)
    if not conclusion.strip():
        raise CaseError({"conclusion": _("State the conclusion of the investigation.")})
    complaint.conclusion = conclusion.strip()
    complaint.closed_at = now or timezone.now()
    method(by=by, description=conclusion.strip())
    if substantiated and complaint.provider.status not in POOL_STATUSES:
        # A provider that left the pool or was revoked cannot be ordered to rectify or revoked again; the
        # substantiated complaint stays on its record for the bureau (and for any later application).
        pass
    elif substantiated:
        kind, ground = CATEGORY_GROUNDS[complaint.category]
        finding = _("Substantiated complaint %(id)s: %(conclusion)s") % {
            "id": complaint.pk,
            "conclusion": complaint.conclusion,
        }
        # A protected complainant must not be identifiable through the contract the case names.
        contract = None if complaint.protect_identity else complaint.contract
        if kind == "rectification":
            complaint.rectification_case = enforcement.rectification_open(
                provider=complaint.provider,
                ground=ground,
                finding=finding,
                by=by,
                contract=contract,
                evidence=[complaint],
            )
        else:
            complaint.revocation_case = enforcement.revocation_propose_or_join(
                provider=complaint.provider, ground=ground, finding=finding, by=by, evidence=[complaint]
            )
    complaint.save()
    _tell_complainant(
        complaint,
        "complaint_concluded",
        _("Outcome of your complaint: %(outcome)s") % {"outcome": complaint.get_status_display()},
        complaint.conclusion,
    )
    return complaint


@transaction.atomic
def complaint_provider_respond(*, complaint, by, response, now=None):
    complaint = locked(Complaint, complaint.pk)
    if _provider_of(by).pk != complaint.provider_id:
        raise PermissionDenied
    if complaint.status not in (ComplaintStatus.ACCEPTED, ComplaintStatus.INVESTIGATING):
        raise CaseError(_("A response can be given while the bureau handles the complaint."))
    if not response.strip():
        raise CaseError({"response": _("Write your response.")})
    complaint.provider_response = response.strip()
    complaint.provider_responded_at = now or timezone.now()
    complaint.save(update_fields=["provider_response", "provider_responded_at"])
    if complaint.handled_by_id:
        notify(
            kind="complaint_provider_response",
            user=complaint.handled_by,
            subject=_("The provider responded to complaint %(id)s") % {"id": complaint.pk},
            body=complaint.provider_response,
            link=f"/admin/complaints/complaint/{complaint.pk}/change/",
            dedup_key=f"complaint:{complaint.pk}:response:{complaint.provider_responded_at.timestamp():.0f}",
        )
    return complaint


# --- Appeals (Art 16) --------------------------------------------------------------------------------------------

TARGET_MODELS = {
    AppealType.DIAGNOSIS_DELAYED: (RectificationCase,),
    AppealType.DISSATISFIED_RATING: (SatisfactionRating,),
    AppealType.REVOCATION: (RevocationCase,),
    AppealType.OTHER: (RectificationCase,),
}


def _target_provider_id(target):
    if isinstance(target, SatisfactionRating):
        return target.contract.provider_id
    return target.provider_id


def _appealable_since(appeal_type, target):
    """The moment from which APPEAL_WINDOW_DAYS run, or raise if the target cannot be appealed (yet)."""
    if appeal_type == AppealType.DISSATISFIED_RATING:
        if target.overall != SatisfactionRating.Overall.DISSATISFIED or target.voided:
            raise CaseError({"target": _("Only a counted “dissatisfied” rating can be appealed.")})
        return target.submitted_at
    if appeal_type == AppealType.REVOCATION:
        if target.status != RevocationStatus.APPROVED:
            raise CaseError({"target": _("Only an approved revocation can be appealed.")})
        return target.decided_at
    if target.ordered_at is None and target.warned_at is None:
        raise CaseError({"target": _("This case has not been notified to you.")})
    if target.status not in OPEN_RECTIFICATION_STATUSES:
        raise CaseError({"target": _("This case is closed; there is nothing left to appeal against.")})
    if appeal_type == AppealType.DIAGNOSIS_DELAYED:
        if target.ordered_at is None:
            raise CaseError({"target": _("This case has no deadline.")})
        return target.overdue_at or target.ordered_at
    return target.ordered_at or target.warned_at


def appeal_window_ends(appeal_type, target):
    return _appealable_since(appeal_type, target) + timedelta(days=settings.APPEAL_WINDOW_DAYS)


@transaction.atomic
def appeal_file(*, by, appeal_type, target, grounds, requested_deadline=None, now=None):
    provider = _provider_of(by)
    appeal_type = AppealType(appeal_type)
    if not isinstance(target, TARGET_MODELS[appeal_type]) or _target_provider_id(target) != provider.pk:
        raise PermissionDenied(_("You can only appeal against your own records."))
    now = now or timezone.now()
    if now > appeal_window_ends(appeal_type, target):
        raise CaseError(_("The appeal window of %(days)s days has closed.") % {"days": settings.APPEAL_WINDOW_DAYS})
    if not grounds.strip():
        raise CaseError({"grounds": _("State the grounds of your appeal.")})
    decided = Appeal.objects.filter(
        content_type=ContentType.objects.get_for_model(target),
        object_id=target.pk,
        status__in=[AppealStatus.UPHELD, AppealStatus.REJECTED],
    )
    if decided.exists():
        # An appeal decision settles the dispute; the same record is not appealed twice.
        raise CaseError(_("An appeal against this record has already been decided."))
    try:
        with transaction.atomic():
            appeal = Appeal.objects.create(
                provider=provider,
                appeal_type=appeal_type,
                content_type=ContentType.objects.get_for_model(target),
                object_id=target.pk,
                grounds=grounds.strip(),
                requested_deadline=requested_deadline,
                filed_by=by,
                filed_at=now,
            )
    except IntegrityError:
        raise CaseError(_("An appeal against this record is already pending.")) from None
    log_event(appeal, by=by, description=_("Appeal filed"), state=AppealStatus.SUBMITTED)
    if appeal_type == AppealType.REVOCATION:
        enforcement.blacklist_mark_under_appeal(revocation=target, under_appeal=True)
    notify(
        kind="appeal_filed",
        role=Role.APPROVER,
        subject=_("Appeal by %(provider)s") % {"provider": provider.name},
        body=appeal.grounds,
        link=f"/admin/complaints/appeal/{appeal.pk}/change/",
        dedup_key=f"appeal:{appeal.pk}:filed",
    )
    return appeal


def decision_participants(target):
    """Everyone who took part in the disputed decision: they may not review the appeal (Art 16, DESIGN)."""
    people = set(
        StateLog.objects.filter(
            content_type=ContentType.objects.get_for_model(target), object_id=target.pk, by__isnull=False
        ).values_list("by_id", flat=True)
    )
    for field in ("opened_by_id", "ordered_by_id", "proposed_by_id", "decided_by_id"):
        if getattr(target, field, None):
            people.add(getattr(target, field))
    if isinstance(target, RevocationCase):
        # The cases that the decision relied on belong to the same decision.
        for evidence in target.evidence.all():
            if isinstance(evidence.target, RectificationCase):
                people |= decision_participants(evidence.target)
    return people


@transaction.atomic
def appeal_start_review(*, appeal, by, now=None):
    appeal = locked(Appeal, appeal.pk)
    require_transition(appeal.start_review, by)
    if by.pk in decision_participants(appeal.target):
        raise PermissionDenied(_("You took part in the disputed decision and may not review this appeal."))
    appeal.reviewer = by
    appeal.review_started_at = now or timezone.now()
    appeal.start_review(by=by, description=_("Review started"))
    appeal.save()
    return appeal


def _check_reviewer(appeal, by):
    if appeal.reviewer_id != by.pk:
        raise PermissionDenied(_("Only the reviewer who took up this appeal may decide it."))


@transaction.atomic
def appeal_uphold(*, appeal, by, decision, new_deadline=None, now=None):
    """Undo exactly the disputed record, in the same transaction as the decision."""
    appeal = locked(Appeal, appeal.pk)
    require_transition(appeal.uphold, by)
    _check_reviewer(appeal, by)
    if not decision.strip():
        raise CaseError({"decision": _("State the reasons for the decision.")})
    now = now or timezone.now()
    reason = _("Appeal %(id)s upheld: %(decision)s") % {"id": appeal.pk, "decision": decision.strip()}
    target = appeal.target
    if appeal.appeal_type == AppealType.DIAGNOSIS_DELAYED:
        enforcement.rectification_excuse_deadline(case=target, by=by, new_deadline=new_deadline, reason=reason, now=now)
        appeal.granted_deadline = new_deadline
    elif appeal.appeal_type == AppealType.DISSATISFIED_RATING:
        enforcement.rating_void(rating=target, by=by, reason=reason, now=now)
    elif appeal.appeal_type == AppealType.REVOCATION:
        enforcement.revocation_reverse(revocation=target, by=by, reason=reason, now=now)
    else:
        enforcement.rectification_withdraw_on_appeal(case=target, by=by, reason=reason, now=now)
    if appeal.appeal_type != AppealType.REVOCATION:
        # A proposal that cites the record just undone has lost (part of) its basis: it is closed, and the
        # rule engine proposes again if what remains still meets Art 13.
        enforcement.revocations_dismiss_citing(target=target, by=by, reason=reason, now=now)
    appeal.decision = decision.strip()
    appeal.decided_at = now
    appeal.uphold(by=by, description=decision.strip())
    appeal.save()
    _tell_appellant(appeal, _("Your appeal was upheld"))
    issue_after_commit(appeal_decision_pdf, appeal, by)
    return appeal


@transaction.atomic
def appeal_reject(*, appeal, by, decision, now=None):
    appeal = locked(Appeal, appeal.pk)
    require_transition(appeal.reject, by)
    _check_reviewer(appeal, by)
    if not decision.strip():
        raise CaseError({"decision": _("State the reasons for the decision.")})
    appeal.decision = decision.strip()
    appeal.decided_at = now or timezone.now()
    appeal.reject(by=by, description=decision.strip())
    appeal.save()
    if appeal.appeal_type == AppealType.REVOCATION:
        enforcement.blacklist_mark_under_appeal(revocation=appeal.target, under_appeal=False)
    _tell_appellant(appeal, _("Your appeal was rejected"))
    issue_after_commit(appeal_decision_pdf, appeal, by)
    return appeal


def _tell_appellant(appeal, subject):
    if appeal.provider.organisation_id:
        notify(
            kind="appeal_decided",
            organisation=appeal.provider.organisation,
            subject=subject,
            body=appeal.decision,
            link=f"/provider/appeals/{appeal.pk}/",
            dedup_key=f"appeal:{appeal.pk}:decided",
        )


def pending_appeal_targets(content_type_id, object_ids):
    """For evaluations.selectors.evidence_under_appeal: which of these records are under a pending appeal."""
    return set(
        Appeal.objects.filter(
            content_type_id=content_type_id, object_id__in=object_ids, status__in=PENDING_APPEAL_STATUSES
        ).values_list("object_id", flat=True)
    )
