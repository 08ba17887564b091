"""The one write path for the Art 10(1) records of the dossier: the enterprise's written consent to share it, and
the secure destruction of the enterprise's data at the end of service.

Consent ("共享需书面同意"): a provider reads an enterprise's dossier through its own signed contracts
(dossiers.selectors.DOSSIER_CONTRACTS). Beyond that — a provider without a contract, say one that reached a
cooperation intention at a matchmaking event — only with the enterprise's consent, given by the enterprise's own
staff on its self-service pages: to one provider in the resource pool, for a stated purpose, for named parts of
the dossier, until a stated day no more than PORTAL_CONSENT_MAX_DAYS ahead. The enterprise revokes it at any
time and the access ends with that request. Giving, revoking and every view under a consent are audited.

Destruction ("结束服务及时安全销毁"): when the enterprise's pilot service has ended, a case officer asks for its
personal data and confidential content to be destroyed and a different person, an approver, approves (four eyes).
The rule for "ended": no contract of the enterprise is active (signed, in progress, internally accepted) or sent
to it for signing, and PORTAL_DESTRUCTION_RETENTION_DAYS (default 0: promptly, as Art 10(1) says) have passed
since the last contract ended — the day it reached its final status (accepted, failed, terminated), or its end
date if that is later. The execution (destruction_execute, called by the approval and by the Celery task
`dossiers.execute_destruction`, which fetches the request by id) removes, in one transaction:

- the enterprise's contact person and phone, and the phone numbers of its own user accounts;
- the texts of its diagnoses (overall assessment, every finding's current state and recommendation) and of its
  deep surveys (production process, supply chain, intellectual property, other core information);
- the names of its staff who attended training;
- the files attached to its diagnoses (the Attachment rows in the transaction, the files from storage once it
  has committed, so a failed destruction leaves every file in place);
- every consent it gave;
- the files of the dossier PDFs made of it (copies of the above; their register rows and hashes stay).

It keeps what the law and the fund's accounts need: the enterprise's registry row (name, USCC, county), its
contracts with their amounts, milestones, payments and acceptance records and their files, complaints, cases,
legal decisions, the register of issued documents (IssuedDocument is never deleted) and the audit log. The
DestructionRecord is the proof: who requested, approved and carried it out, when, on which ground, and a
manifest of categories, row counts and, per file, its SHA-256 and size — no content — whose own SHA-256 is
repeated by the DATA_DESTROYED audit event in the hash chain.
Concurrent approvals or executions happen once (row locks).
"""

import hashlib
import json
import logging
from datetime import timedelta

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm_log.models import StateLog

from enterprises.models import (
    ACTIVE_CONTRACT_STATUSES,
    ContractStatus,
    DiagnosisFinding,
    DiagnosisReport,
    DossierSurvey,
    PilotEnterprise,
    ServiceContract,
    TrainingAttendance,
)
from providers.models import POOL_STATUSES, Provider
from tangshan_portal.audit import record_event
from tangshan_portal.models import Attachment, AuditEvent, IssuedDocument, Organisation, User
from tangshan_portal.roles import Role
from tangshan_portal.services import notify
from tangshan_portal.transitions import TransitionError, locked, require, require_transition

from .models import (
    OPEN_DESTRUCTION_STATUSES,
    ConsentScope,
    DestructionRecord,
    DestructionRequest,
    DestructionStatus,
    DossierConsent,
)
from .selectors import dossier_is_own

logger = logging.getLogger(__name__)

# Art 10(1) in the regulation's words: the default legal ground of a destruction.
ART_10_1_DESTRUCTION = "《服务商管理细则》第十条第（一）项：“共享需书面同意，结束服务及时安全销毁。”"
MANIFEST_FORMAT = "v1"
FINAL_CONTRACT_STATUSES = (ContractStatus.ACCEPTED, ContractStatus.FAILED, ContractStatus.TERMINATED)


class ConsentError(ValidationError):
    """A consent the rules do not allow; the message is for the enterprise's user."""


class DestructionError(ValidationError):
    """A destruction the rules do not allow (yet); the message is for the bureau's user."""


# --- Consent ------------------------------------------------------------------------------------------------------


def consent_latest_day(today=None):
    return (today or timezone.localdate()) + timedelta(days=settings.PORTAL_CONSENT_MAX_DAYS)


def consent_grantees():
    """The providers a consent may name: in the resource pool, acting through an active organisation."""
    return Provider.objects.filter(
        status__in=POOL_STATUSES,
        organisation__isnull=False,
        organisation__kind=Organisation.Kind.PROVIDER,
        organisation__is_active=True,
    ).order_by("name")


def _require_own(by, enterprise):
    require(
        dossier_is_own(by, enterprise),
        _("Only the staff of the enterprise itself may give or revoke consent to share its dossier."),
    )


@transaction.atomic
def consent_grant(*, enterprise, by, grantee, purpose, scope, valid_until, now=None):
    """The enterprise's written consent that `grantee` may read the `scope` parts of its dossier for `purpose`
    until `valid_until` (inclusive)."""
    _require_own(by, enterprise)
    now = now or timezone.now()
    today = timezone.localdate(now)
    errors = {}
    purpose = (purpose or "").strip()
    if not purpose:
        errors["purpose"] = _("State what the provider may use your information for.")
    chosen = set(scope or ())
    scope = [code for code in ConsentScope.values if code in chosen]
    if not scope or len(scope) != len(chosen):
        errors["scope"] = _("Choose at least one part of the dossier to share.")
    if valid_until is None or valid_until < today:
        errors["valid_until"] = _("The last day of the consent cannot be in the past.")
    elif valid_until > consent_latest_day(today):
        errors["valid_until"] = _("A consent may last at most %(days)s days: choose a day no later than %(date)s.") % {
            "days": settings.PORTAL_CONSENT_MAX_DAYS,
            "date": consent_latest_day(today).isoformat(),
        }
    grantee = consent_grantees().filter(pk=getattr(grantee, "pk", None)).first()
    if grantee is None:
        errors["grantee"] = _("Choose a provider in the resource pool.")
    if errors:
        raise ConsentError(errors)
    consent = DossierConsent.objects.create(
        enterprise=enterprise,
        grantee=grantee,
        purpose=purpose,
        scope=scope,
        granted_by=by,
        granted_at=now,
        valid_until=valid_until,
    )
    record_event(
        AuditEvent.Action.CONSENT_GRANTED,
        actor=by,
        obj=consent,
        enterprise=enterprise.pk,
        grantee=grantee.pk,
        scope=scope,
        valid_until=valid_until.isoformat(),
        purpose=purpose,
    )
    notify(
        kind="dossier_consent_granted",
        organisation=grantee.organisation,
        subject=_("%(enterprise)s consented to share its dossier with you") % {"enterprise": enterprise.name},
        body=_(
            "Shared: %(scope)s. Purpose: %(purpose)s. Valid until %(date)s; the enterprise may revoke it at any time."
        )
        % {
            "scope": "、".join(str(label) for label in consent.scope_labels),
            "purpose": purpose,
            "date": valid_until.isoformat(),
        },
        link=reverse("provider:consent_list"),
        dedup_key=f"dossier-consent:{consent.pk}:granted",
    )
    return consent


@transaction.atomic
def consent_revoke(*, consent, by, now=None):
    """Ends the consent at once: the next page the provider asks for no longer shows the shared parts."""
    consent = locked(DossierConsent, consent.pk)
    _require_own(by, consent.enterprise)
    if consent.revoked_at is not None:
        raise ConsentError(_("This consent was already revoked."))
    consent.revoked_at = now or timezone.now()
    consent.revoked_by = by
    consent.save(update_fields=["revoked_at", "revoked_by"])
    record_event(
        AuditEvent.Action.CONSENT_REVOKED,
        actor=by,
        obj=consent,
        enterprise=consent.enterprise_id,
        grantee=consent.grantee_id,
        expired=consent.valid_until < timezone.localdate(consent.revoked_at),
    )
    if consent.grantee.organisation_id:
        notify(
            kind="dossier_consent_revoked",
            organisation=consent.grantee.organisation,
            subject=_("%(enterprise)s revoked its consent to share its dossier")
            % {"enterprise": consent.enterprise.name},
            body=_("You may no longer read the parts of the dossier it shared; delete any copy you made (Art 10(1))."),
            link=reverse("provider:consent_list"),
            dedup_key=f"dossier-consent:{consent.pk}:revoked",
        )
    return consent


# --- Destruction: when it may happen -----------------------------------------------------------------------------


def service_ended_on(enterprise):
    """The day the enterprise's pilot service ended: the latest, over its contracts that were ever signed or sent
    for signing, of the day the contract reached its final status and its end date. None when it never had one."""
    contracts = list(
        ServiceContract.objects.filter(enterprise=enterprise)
        .exclude(status=ContractStatus.DRAFT, submitted_at__isnull=True)
        .values("pk", "end_on", "updated_at")
    )
    if not contracts:
        return None
    finished = dict(
        StateLog.objects.filter(
            content_type=ContentType.objects.get_for_model(ServiceContract),
            object_id__in=[c["pk"] for c in contracts],
            state__in=FINAL_CONTRACT_STATUSES,
        )
        .values("object_id")
        .annotate(at=Max("timestamp"))
        .values_list("object_id", "at")
    )
    days = []
    for contract in contracts:
        # A contract set final without a state log (an import, a data fix) counts from its last change.
        at = finished.get(contract["pk"]) or contract["updated_at"]
        days.append(max(timezone.localdate(at), contract["end_on"]))
    return max(days)


def destruction_obstacles(enterprise, today=None):
    """Why the enterprise's data may not be destroyed today, as messages for the officer; empty when it may."""
    today = today or timezone.localdate()
    obstacles = []
    active = ServiceContract.objects.filter(enterprise=enterprise, status__in=ACTIVE_CONTRACT_STATUSES)
    sent = ServiceContract.objects.filter(
        enterprise=enterprise, status=ContractStatus.DRAFT, submitted_at__isnull=False
    )
    numbers = sorted({*active.values_list("number", flat=True), *sent.values_list("number", flat=True)})
    if numbers:
        obstacles.append(
            _("The service has not ended: contract %(numbers)s is still active or awaiting signature.")
            % {"numbers": "、".join(numbers)}
        )
        return obstacles
    ended = service_ended_on(enterprise)
    retention = settings.PORTAL_DESTRUCTION_RETENTION_DAYS
    if ended is not None and today < ended + timedelta(days=retention):
        obstacles.append(
            _(
                "The service ended on %(ended)s; the data are kept for %(days)s days after that and may be "
                "destroyed from %(date)s."
            )
            % {"ended": ended.isoformat(), "days": retention, "date": (ended + timedelta(days=retention)).isoformat()}
        )
    return obstacles


def _require_destroyable(enterprise, now):
    obstacles = destruction_obstacles(enterprise, timezone.localdate(now))
    if obstacles:
        raise DestructionError(obstacles)


# --- Destruction: request, decide ----------------------------------------------------------------------------------


@transaction.atomic
def destruction_request(*, enterprise, by, legal_ground=ART_10_1_DESTRUCTION, reason="", now=None):
    """The officer's request; nothing is removed until another person approves it."""
    require(by.has_perm("dossiers.request_destruction"), _("Only a case officer may request a destruction."))
    now = now or timezone.now()
    enterprise = locked(PilotEnterprise, enterprise.pk)
    legal_ground = (legal_ground or "").strip()
    if not legal_ground:
        raise DestructionError({"legal_ground": _("State the legal ground of the destruction.")})
    if DestructionRequest.objects.filter(enterprise=enterprise, status__in=OPEN_DESTRUCTION_STATUSES).exists():
        raise DestructionError(_("A destruction of this enterprise's data is already requested."))
    _require_destroyable(enterprise, now)
    request = DestructionRequest.objects.create(
        enterprise=enterprise,
        legal_ground=legal_ground,
        reason=(reason or "").strip(),
        requested_by=by,
        requested_at=now,
    )
    StateLog.objects.create(
        content_type=ContentType.objects.get_for_model(request),
        object_id=request.pk,
        by=by,
        state=DestructionStatus.REQUESTED,
        transition="create",
        description=request.reason or legal_ground,
    )
    notify(
        kind="destruction_requested",
        role=Role.APPROVER,
        subject=_("Destruction of %(enterprise)s's data awaits approval") % {"enterprise": enterprise.name},
        body=f"{legal_ground}\n{request.reason}".strip(),
        link=reverse("admin:dossiers_destructionrequest_change", args=[request.pk]),
        dedup_key=f"destruction:{request.pk}:requested",
    )
    return request


def _decision_conflict(request):
    if request.status != DestructionStatus.REQUESTED:
        raise DestructionError(
            _("This request was already decided: it is “%(status)s”.") % {"status": request.get_status_display()}
        )


@transaction.atomic
def destruction_approve(*, request, by, note="", now=None):
    """The second person's approval (never the requester's). The destruction itself follows at once in the
    approval's page (destruction_execute) and, as a safety net, in the background task once this commits."""
    request = locked(DestructionRequest, request.pk)
    _decision_conflict(request)
    require(
        request.requested_by_id != by.pk,
        _("The officer who requested a destruction may not approve it: another approver must."),
    )
    require_transition(request.approve, by)
    now = now or timezone.now()
    _require_destroyable(request.enterprise, now)
    request.decided_by = by
    request.decided_at = now
    request.decision_note = (note or "").strip()
    request.approve(by=by, description=request.decision_note or _("Approved"))
    request.save()
    request_id = request.pk
    transaction.on_commit(lambda: _enqueue_execution(request_id))
    return request


def _enqueue_execution(request_id):
    from .tasks import execute_destruction

    try:
        execute_destruction.delay(request_id)
    except Exception:  # the broker being down must not fail the page: the approval's own run carries it out
        logger.exception("could not queue the destruction of request %s", request_id)


@transaction.atomic
def destruction_reject(*, request, by, note, now=None):
    request = locked(DestructionRequest, request.pk)
    _decision_conflict(request)
    require_transition(request.reject, by)
    note = (note or "").strip()
    if not note:
        raise DestructionError({"note": _("State why the destruction is rejected.")})
    request.decided_by = by
    request.decided_at = now or timezone.now()
    request.decision_note = note
    request.reject(by=by, description=note)
    request.save()
    notify(
        kind="destruction_rejected",
        user=request.requested_by,
        subject=_("Destruction of %(enterprise)s's data rejected") % {"enterprise": request.enterprise.name},
        body=note,
        link=reverse("admin:dossiers_destructionrequest_change", args=[request.pk]),
        dedup_key=f"destruction:{request.pk}:rejected",
    )
    return request


# --- Destruction: execution ----------------------------------------------------------------------------------------


def manifest_digest(manifest):
    """The SHA-256 of the manifest in a fixed serialisation (sorted keys, no spaces, ASCII escapes), so anyone
    can recompute it from the stored JSON."""
    canonical = json.dumps(manifest, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def _blank(queryset, fields):
    """Empty the fields on every row; returns the number of rows. Encrypted fields cannot be compared in SQL, so
    every row is written whatever it held."""
    return queryset.update(**dict.fromkeys(fields, ""))


def _category(name, model, fields, rows, action):
    return {"category": name, "model": model._meta.label_lower, "fields": list(fields), "rows": rows, "action": action}


def _destroy(enterprise):
    """Removes the data (see the module docstring) and returns (manifest categories, files, storage names to
    delete after commit)."""
    categories = []
    enterprise_fields = ("contact_name", "contact_phone")
    categories.append(
        _category(
            "enterprise_contact",
            PilotEnterprise,
            enterprise_fields,
            _blank(PilotEnterprise.objects.filter(pk=enterprise.pk), enterprise_fields),
            "blanked",
        )
    )
    staff = User.objects.none()
    if enterprise.organisation_id is not None:
        staff = User.objects.filter(
            organisation_id=enterprise.organisation_id, organisation__kind=Organisation.Kind.ENTERPRISE
        )
    categories.append(_category("enterprise_staff_phones", User, ("phone",), _blank(staff, ("phone",)), "blanked"))
    reports = DiagnosisReport.objects.filter(enterprise=enterprise)
    report_ids = list(reports.values_list("pk", flat=True))
    categories.append(
        _category("diagnosis_summaries", DiagnosisReport, ("summary",), _blank(reports, ("summary",)), "blanked")
    )
    finding_fields = ("current_state", "recommendation")
    categories.append(
        _category(
            "diagnosis_findings",
            DiagnosisFinding,
            finding_fields,
            _blank(DiagnosisFinding.objects.filter(report_id__in=report_ids), finding_fields),
            "blanked",
        )
    )
    survey_fields = ("production_process", "supply_chain", "intellectual_property", "other_core_information")
    surveys = DossierSurvey.objects.filter(enterprise=enterprise)
    survey_ids = list(surveys.values_list("pk", flat=True))
    categories.append(
        _category("dossier_surveys", DossierSurvey, survey_fields, _blank(surveys, survey_fields), "blanked")
    )
    categories.append(
        _category(
            "training_attendee_names",
            TrainingAttendance,
            ("names",),
            _blank(TrainingAttendance.objects.filter(enterprise=enterprise), ("names",)),
            "blanked",
        )
    )

    attachments = Attachment.objects.filter(
        content_type=ContentType.objects.get_for_model(DiagnosisReport), object_id__in=report_ids
    ) | Attachment.objects.filter(
        content_type=ContentType.objects.get_for_model(DossierSurvey), object_id__in=survey_ids
    )
    attachments = list(attachments.order_by("pk"))
    names = {attachment.file.name for attachment in attachments}
    files = [
        {
            "attachment": attachment.pk,
            "purpose": attachment.purpose,
            "sha256": attachment.sha256,
            "size": attachment.size,
            "storage_name": attachment.file.name,
        }
        for attachment in attachments
    ]
    Attachment.objects.filter(pk__in=[a.pk for a in attachments]).delete()
    # A file another record still points at (an identical upload stored once) stays for that record.
    shared = set(Attachment.objects.filter(file__in=names).values_list("file", flat=True))
    for entry in files:
        entry["file_removed"] = entry["storage_name"] not in shared
    categories.append(_category("attachments", Attachment, ("file",), len(attachments), "deleted"))

    # A dossier PDF is a copy of what was just destroyed (the surveys and diagnoses as the requester saw them):
    # its file goes too. The register row stays, with its hash, so a printed copy can still be checked against
    # what the bureau issued; only official decisions and certificates keep their files for ever.
    dossier_pdfs = list(
        IssuedDocument.objects.filter(
            kind=IssuedDocument.Kind.DOSSIER,
            content_type=ContentType.objects.get_for_model(PilotEnterprise),
            object_id=enterprise.pk,
        )
        .exclude(file="")
        .order_by("pk")
    )
    pdf_names = {doc.file.name for doc in dossier_pdfs}
    files.extend(
        {
            "issued_document": doc.pk,
            "purpose": IssuedDocument.Kind.DOSSIER.value,
            "sha256": doc.sha256,
            "size": doc.size,
            "storage_name": doc.file.name,
            "file_removed": True,
        }
        for doc in dossier_pdfs
    )
    IssuedDocument.objects.filter(pk__in=[doc.pk for doc in dossier_pdfs]).update(file="")
    categories.append(_category("dossier_pdfs", IssuedDocument, ("file",), len(dossier_pdfs), "file removed"))

    consents = DossierConsent.objects.filter(enterprise=enterprise)
    consent_count = consents.count()
    consents.delete()
    categories.append(_category("consents", DossierConsent, (), consent_count, "deleted"))
    return categories, files, sorted((names - shared) | pdf_names)


def _remove_files(names):
    """Delete the files from storage; a file that cannot be removed is logged and left for the next run of the
    task (which calls this again for an executed request)."""
    storage = Attachment._meta.get_field("file").storage
    failed = []
    for name in names:
        try:
            if storage.exists(name):
                storage.delete(name)
        except OSError:
            logger.exception("destruction: could not remove the file %s", name)
            failed.append(name)
    return failed


def _removable_names(record):
    """The files a record's manifest says were removed, still to be deleted if anything is left of them."""
    return [entry["storage_name"] for entry in record.manifest.get("files", []) if entry.get("file_removed")]


def destruction_execute(*, request_id, by=None, now=None):
    """Carry out an approved destruction: all or nothing, and once. A second call — the background task after the
    approval's page, or two at the same moment — finds the request executed (under its row lock), removes any file
    the first run could not, and returns the same record. `by` is None for the background task."""
    with transaction.atomic():
        request = DestructionRequest.objects.select_for_update().select_related("enterprise").get(pk=request_id)
        if request.status == DestructionStatus.EXECUTED:
            record = request.record
            names = _removable_names(record)
            transaction.on_commit(lambda: _remove_files(names))
            return record
        if request.status != DestructionStatus.APPROVED:
            raise DestructionError(
                _("Only an approved request is carried out; this one is “%(status)s”.")
                % {"status": request.get_status_display()}
            )
        if by is not None:
            require_transition(request.execute, by)
        now = now or timezone.now()
        enterprise = locked(PilotEnterprise, request.enterprise_id)
        # A contract may have been signed since the approval: then nothing is destroyed.
        _require_destroyable(enterprise, now)
        categories, files, names = _destroy(enterprise)
        manifest = {
            "format": MANIFEST_FORMAT,
            "request": request.pk,
            "enterprise": {"id": enterprise.pk, "uscc": enterprise.uscc},
            "legal_ground": request.legal_ground,
            "executed_at": now.isoformat(),
            "categories": categories,
            "files": files,
            "kept": [
                "enterprise registry row (name, USCC, county)",
                "contracts with amounts, milestones, payments, acceptance records and their files",
                "complaints, cases, legal decisions and their files",
                "issued documents (register rows and hashes; the files of dossier PDFs are removed)",
                "audit log",
            ],
        }
        digest = manifest_digest(manifest)
        record = DestructionRecord.objects.create(
            request=request,
            enterprise=enterprise,
            enterprise_name=enterprise.name,
            enterprise_uscc=enterprise.uscc,
            legal_ground=request.legal_ground,
            requested_by=request.requested_by,
            requested_at=request.requested_at,
            approved_by=request.decided_by,
            approved_at=request.decided_at,
            executed_by=by,
            executed_at=now,
            manifest=manifest,
            manifest_sha256=digest,
        )
        request.executed_at = now
        request.execute(by=by, description=_("Carried out: record #%(id)s") % {"id": record.pk})
        request.save()
        record_event(
            AuditEvent.Action.DATA_DESTROYED,
            actor=by,
            # Without an account: the background task carried it out.
            username="" if by is not None else "dossiers.execute_destruction",
            obj=record,
            enterprise=enterprise.pk,
            destruction_request=request.pk,
            manifest_sha256=digest,
            counts={entry["category"]: entry["rows"] for entry in categories},
            files=len(files),
        )
        # Files go only once the rows are gone for good: a rollback leaves every file where it was.
        transaction.on_commit(lambda: _remove_files(names))
    return record


def destruction_records_of(enterprise):
    return DestructionRecord.objects.filter(enterprise=enterprise).order_by("-executed_at", "-id")


__all__ = [
    "ART_10_1_DESTRUCTION",
    "ConsentError",
    "DestructionError",
    "PermissionDenied",
    "TransitionError",
    "consent_grant",
    "consent_grantees",
    "consent_revoke",
    "destruction_approve",
    "destruction_execute",
    "destruction_obstacles",
    "destruction_records_of",
    "destruction_reject",
    "destruction_request",
    "manifest_digest",
    "service_ended_on",
]
