"""Articles 12–14: the one write path for rectification and revocation cases, the deadline sweep, the rule
engine and the blacklist. Views, admin, tasks and commands call these functions and nothing else."""

import logging
from datetime import timedelta

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, connection, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import has_transition_perm
from django_fsm_log.models import StateLog

from enterprises.models import ServiceContract
from enterprises.services import contracts_terminate_for_revocation
from providers.models import POOL_STATUSES, Provider, ProviderStatus
from providers.services import provider_follow_cases, provider_revoke
from tangshan_portal.audit import record_event, record_state_logs
from tangshan_portal.documents import issue_after_commit
from tangshan_portal.grounds import ART13_CONSEQUENCE, Art13Ground, cite_art12, cite_art13
from tangshan_portal.models import AuditEvent
from tangshan_portal.roles import Role
from tangshan_portal.services import attachment_store, document_number_allocate, notify, upload_check
from tangshan_portal.transitions import TransitionError, locked, log_event, require, require_transition

from . import selectors
from .documents import blacklist_announcement_pdf, rectification_notice_pdf, revocation_decision_pdf
from .models import (
    OPEN_RECTIFICATION_STATUSES,
    RUNNING_DEADLINE_STATUSES,
    BlacklistEntry,
    Evidence,
    Inspection,
    RectificationCase,
    RectificationStatus,
    RevocationCase,
    RevocationStatus,
    SatisfactionRating,
    SurveyAnswer,
    SurveyItem,
)

logger = logging.getLogger(__name__)

ENGINE = _("rule engine")


# Views, admin and tests catch it under this name as services.CaseError.
CaseError = TransitionError


def _local_today(now=None):
    return timezone.localdate(now or timezone.now())


def _link_evidence(*, case_field, case, evidence):
    rows = []
    for item in evidence:
        rows.append(
            Evidence(
                **{case_field: case},
                content_type=ContentType.objects.get_for_model(item),
                object_id=item.pk,
            )
        )
    Evidence.objects.bulk_create(rows, ignore_conflicts=True)


def _case_link(case):
    return f"/provider/cases/{case.pk}/"


# --- Provider standing follows its most serious open case ----------------------------------------------------


def standing_for(provider):
    open_statuses = set(
        RectificationCase.objects.filter(provider=provider, status__in=OPEN_RECTIFICATION_STATUSES).values_list(
            "status", flat=True
        )
    )
    if open_statuses & {
        RectificationStatus.RECTIFYING,
        RectificationStatus.RESPONDED,
        RectificationStatus.RETURNED,
        RectificationStatus.OVERDUE,
    }:
        return ProviderStatus.UNDER_RECTIFICATION
    if RectificationStatus.WARNED in open_statuses:
        return ProviderStatus.WARNED
    return ProviderStatus.IN_POOL


def _sync_standing(case, *, by, reason):
    provider_follow_cases(provider=case.provider, standing=standing_for(case.provider), by=by, reason=reason)


# --- Rectification cases (Art 12) ----------------------------------------------------------------------------


@transaction.atomic
def rectification_open(*, provider, ground, finding, by, contract=None, evidence=()):
    require(by.has_perm("evaluations.manage_rectification"))
    if provider.status not in POOL_STATUSES:
        raise CaseError({"provider": _("Rectification cases concern providers in the resource pool (Art 2).")})
    if contract is not None and contract.provider_id != provider.pk:
        raise CaseError({"contract": _("This contract is not one of this provider's contracts.")})
    if not finding.strip():
        raise CaseError({"finding": _("State the finding.")})
    case = RectificationCase.objects.create(
        provider=provider, contract=contract, ground=ground, finding=finding.strip(), opened_by=by
    )
    log_event(case, by=by, description=_("Case opened"), state=RectificationStatus.DRAFT)
    _link_evidence(case_field="rectification_case", case=case, evidence=[*evidence, *([contract] if contract else [])])
    return case


@transaction.atomic
def rectification_warn(*, case, by, now=None):
    """Tell the provider the finding and the Art 12 ground; it may state its case within WARNING_REPLY_DAYS."""
    case = locked(RectificationCase, case.pk)
    require_transition(case.warn, by)
    now = now or timezone.now()
    case.warned_at = now
    case.reply_due_at = now + timedelta(days=settings.WARNING_REPLY_DAYS)
    case.warn(by=by, description=_("Warning issued"))
    case.save()
    notify(
        kind="rectification_warning",
        organisation=case.provider.organisation,
        subject=_("Warning: finding under Article 12 of the provider rules"),
        body=_(
            "Finding: %(finding)s\nGround: %(ground)s\nYou may state your case in the portal until %(due)s; "
            "the bureau then withdraws the case or orders rectification."
        )
        % {
            "finding": case.finding,
            "ground": cite_art12(case.ground),
            "due": timezone.localtime(case.reply_due_at).strftime("%Y-%m-%d %H:%M"),
        },
        link=_case_link(case),
        dedup_key=f"rectification:{case.pk}:warned",
    )
    _sync_standing(case, by=by, reason=_("Warning issued in case %(id)s") % {"id": case.pk})
    return case


@transaction.atomic
def rectification_reply(*, case, by, statement, now=None):
    """The provider states its case against a warning (no state change; the officer decides)."""
    case = locked(RectificationCase, case.pk)
    require(case.provider.organisation_id is not None and by.organisation_id == case.provider.organisation_id)
    if case.status != RectificationStatus.WARNED:
        raise CaseError(_("A statement can only be made while the warning is open."))
    if (now or timezone.now()) > case.reply_due_at:
        raise CaseError(_("The time to state your case has passed."))
    if not statement.strip():
        raise CaseError({"statement": _("Write your statement.")})
    case.provider_reply = statement.strip()
    case.replied_at = now or timezone.now()
    case.save(update_fields=["provider_reply", "replied_at"])
    notify(
        kind="rectification_reply",
        user=case.opened_by,
        subject=_("The provider stated its case: %(provider)s") % {"provider": case.provider.name},
        body=case.provider_reply,
        link=f"/admin/evaluations/rectificationcase/{case.pk}/change/",
        dedup_key=f"rectification:{case.pk}:reply:{case.replied_at.timestamp():.0f}",
    )
    return case


def max_deadline(ordered_on):
    return ordered_on + timedelta(days=settings.RECTIFICATION_DAYS_MAX)


def _check_deadline(*, deadline, start_on, by, extension_reason, field="deadline"):
    if deadline <= start_on:
        raise CaseError({field: _("The deadline must be after the day of the order.")})
    if deadline > max_deadline(start_on):
        if not by.has_perm("evaluations.extend_rectification_deadline"):
            raise CaseError(
                {
                    field: _(
                        "A deadline later than %(days)s days after the order needs the permission to extend deadlines."
                    )
                    % {"days": settings.RECTIFICATION_DAYS_MAX}
                }
            )
        if not extension_reason.strip():
            raise CaseError(
                {
                    "extension_reason": _("Give the reason why this case needs more than %(days)s days.")
                    % {"days": settings.RECTIFICATION_DAYS_MAX}
                }
            )


@transaction.atomic
def rectification_order(*, case, by, deadline=None, extension_reason="", now=None):
    """The rectification order (整改通知): a document number and a deadline, by default and at most
    RECTIFICATION_DAYS_MAX calendar days after the order."""
    case = locked(RectificationCase, case.pk)
    require_transition(case.order, by)
    now = now or timezone.now()
    if case.replied_at is None and now < case.reply_due_at:
        # Due process: the provider may state its case before the order (Art 12 notice, DESIGN.md).
        raise CaseError(
            _("The provider may state its case until %(due)s; order rectification after that or once it has replied.")
            % {"due": timezone.localtime(case.reply_due_at).strftime("%Y-%m-%d %H:%M")}
        )
    today = _local_today(now)
    deadline = deadline or max_deadline(today)
    _check_deadline(deadline=deadline, start_on=today, by=by, extension_reason=extension_reason)
    case.document_number = document_number_allocate(year=today.year)
    case.ordered_at = now
    case.ordered_by = by
    case.deadline = deadline
    case.extension_reason = extension_reason.strip()
    case.order(
        by=by,
        description=_("Rectification ordered (%(number)s), deadline %(deadline)s")
        % {"number": case.document_number, "deadline": deadline.isoformat()},
    )
    case.save()
    notify(
        kind="rectification_order",
        organisation=case.provider.organisation,
        subject=_("Rectification order %(number)s") % {"number": case.document_number},
        body=_("Ground: %(ground)s\nFinding: %(finding)s\nRectify and submit your report by %(deadline)s.")
        % {"ground": cite_art12(case.ground), "finding": case.finding, "deadline": deadline.isoformat()},
        link=_case_link(case),
        dedup_key=f"rectification:{case.pk}:ordered",
    )
    _sync_standing(case, by=by, reason=_("Rectification ordered: %(number)s") % {"number": case.document_number})
    issue_after_commit(rectification_notice_pdf, case, by)
    return case


@transaction.atomic
def rectification_respond(*, case, by, report, files=(), now=None):
    """The provider's rectification report, with attachments (checked by content)."""
    case = locked(RectificationCase, case.pk)
    require_transition(case.respond, by)
    now = now or timezone.now()
    if case.deadline is not None and _local_today(now) > case.deadline:
        raise CaseError(_("The deadline has passed; the report can no longer be submitted here."))
    if not report.strip():
        raise CaseError({"report": _("Describe what was rectified.")})
    for uploaded in files:
        upload_check(uploaded)  # every file before anything is written
    case.report = report.strip()
    case.responded_at = now
    case.respond(by=by, description=_("Rectification report submitted"))
    case.save()
    for uploaded in files:
        attachment_store(target=case, uploaded=uploaded, by=by, purpose="rectification_report")
    notify(
        kind="rectification_response",
        user=case.ordered_by or case.opened_by,
        subject=_("Rectification report received: %(number)s") % {"number": case.document_number},
        body=case.report,
        link=f"/admin/evaluations/rectificationcase/{case.pk}/change/",
        dedup_key=f"rectification:{case.pk}:responded:{case.return_count}",
    )
    return case


@transaction.atomic
def rectification_verify(*, case, by, note="", now=None):
    case = locked(RectificationCase, case.pk)
    require_transition(case.verify, by)
    case.closed_at = now or timezone.now()
    case.closing_note = note.strip()
    case.verify(by=by, description=note.strip() or _("Rectification verified"))
    case.save()
    notify(
        kind="rectification_verified",
        organisation=case.provider.organisation,
        subject=_("Rectification accepted: %(number)s") % {"number": case.document_number},
        body=note.strip() or _("The bureau verified your rectification and closed the case."),
        link=_case_link(case),
        dedup_key=f"rectification:{case.pk}:verified",
    )
    _sync_standing(case, by=by, reason=_("Rectification verified: %(number)s") % {"number": case.document_number})
    return case


@transaction.atomic
def rectification_return(*, case, by, reason, new_deadline=None, extension_reason="", now=None):
    """Insufficient: back to the provider while the deadline holds (or with a new one, within the policy)."""
    case = locked(RectificationCase, case.pk)
    require_transition(case.return_to_provider, by)
    if not reason.strip():
        raise CaseError({"reason": _("Say what is still missing.")})
    today = _local_today(now)
    if new_deadline is not None:
        _check_deadline(
            deadline=new_deadline,
            start_on=timezone.localdate(case.ordered_at),
            by=by,
            extension_reason=extension_reason,
            field="new_deadline",
        )
        if new_deadline < today:
            raise CaseError({"new_deadline": _("The new deadline cannot be in the past.")})
        case.deadline = new_deadline
        if extension_reason.strip():
            case.extension_reason = extension_reason.strip()
    elif case.deadline < today:
        raise CaseError(
            {"new_deadline": _("The deadline has passed: set a new deadline to give the provider time to rectify.")}
        )
    case.return_count += 1
    case.return_to_provider(by=by, description=reason.strip())
    case.save()
    notify(
        kind="rectification_returned",
        organisation=case.provider.organisation,
        subject=_("Rectification insufficient: %(number)s") % {"number": case.document_number},
        body=_("%(reason)s\nDeadline: %(deadline)s") % {"reason": reason.strip(), "deadline": case.deadline},
        link=_case_link(case),
        dedup_key=f"rectification:{case.pk}:returned:{case.return_count}",
    )
    return case


@transaction.atomic
def rectification_withdraw(*, case, by, reason, now=None):
    case = locked(RectificationCase, case.pk)
    require_transition(case.withdraw, by)
    if not reason.strip():
        raise CaseError({"reason": _("Give the reason for withdrawing the case.")})
    case.closed_at = now or timezone.now()
    case.closing_note = reason.strip()
    case.withdraw(by=by, description=reason.strip())
    case.save()
    if case.warned_at:
        notify(
            kind="rectification_withdrawn",
            organisation=case.provider.organisation,
            subject=_("Case withdrawn: %(case)s") % {"case": case},
            body=reason.strip(),
            link=_case_link(case),
            dedup_key=f"rectification:{case.pk}:withdrawn",
        )
    _sync_standing(case, by=by, reason=_("Case %(case)s withdrawn") % {"case": case})
    return case


# --- Deadline sweep (hourly, and `manage.py check_deadlines`) ---------------------------------------------------

SWEEP_BATCH = 5000


def _mark_overdue(now):
    """Set-based: each batch of SWEEP_BATCH cases is its own transaction, which marks them, writes a state-log
    row and a notification for each, and one audit event naming them. Rows are claimed with SKIP LOCKED, so a
    second sweep running at the same time takes other rows or none, and a worker that dies mid-run leaves
    committed batches done and the rest for next time."""
    today = _local_today(now)
    # On PostgreSQL a batch is one statement: building 5,000 state logs and notifications as model instances
    # cost more than writing them. Both write the same rows; the tests run on both databases.
    mark_batch = _mark_overdue_batch_sql if connection.vendor == "postgresql" else _mark_overdue_batch_orm
    marked = 0
    last_id = 0
    while True:
        with transaction.atomic():
            # Keyset: each batch starts after the last one. Without it every claim re-walks the index entries
            # of the rows already updated (dead until vacuum), and the claims slow down as the run goes on.
            ids = mark_batch(now=now, today=today, after=last_id)
            if not ids:
                break
            # State logs written in bulk send no signal, so the audit chain gets one event naming the batch's
            # cases rather than one per case: the sweep's query count stays the same for 2 cases as for 5,000.
            record_event(
                AuditEvent.Action.TRANSITION,
                username="evaluations.check_deadlines",
                target=(RectificationCase._meta.label, "", str(RectificationCase._meta.verbose_name_plural)),
                transition="mark_overdue",
                state=RectificationStatus.OVERDUE,
                cases=ids,
            )
        last_id = ids[-1]
        marked += len(ids)
    return marked


def _overdue_description():
    return _("Deadline passed without an accepted rectification report")


def _overdue_subject(number):
    return _("Rectification overdue: %(number)s") % {"number": number}


def _overdue_body(deadline):
    return _("The deadline %(deadline)s passed without an accepted rectification report.") % {"deadline": deadline}


def _mark_overdue_batch_orm(*, now, today, after):
    """Mark the next batch of overdue cases after id `after`; returns their ids in order."""
    rows = list(
        RectificationCase.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(status__in=RUNNING_DEADLINE_STATUSES, deadline__lt=today, id__gt=after)
        .order_by("id")
        .values_list("id", "status", "provider__organisation_id", "document_number", "deadline")[:SWEEP_BATCH]
    )
    if not rows:
        return []
    ids = [row[0] for row in rows]
    RectificationCase.objects.filter(id__in=ids, status__in=RUNNING_DEADLINE_STATUSES).update(
        status=RectificationStatus.OVERDUE, overdue_at=now
    )
    content_type = ContentType.objects.get_for_model(RectificationCase)
    description = _overdue_description()
    StateLog.objects.bulk_create(
        StateLog(
            timestamp=now,
            by=None,
            content_type=content_type,
            object_id=case_id,
            source_state=status,
            state=RectificationStatus.OVERDUE,
            transition="mark_overdue",
            description=description,
        )
        for case_id, status, _org, _number, _deadline in rows
    )
    _bulk_notify(
        [
            {
                "kind": "rectification_overdue",
                "recipient_organisation_id": org_id,
                "subject": _overdue_subject(number)[:200],
                "body": _overdue_body(deadline),
                "link": f"/provider/cases/{case_id}/",
                "dedup_key": f"rectification:{case_id}:overdue",
            }
            for case_id, _status, org_id, number, deadline in rows
            if org_id is not None
        ]
    )
    return ids


# The statements' texts are rendered in Python with these characters in place of each row's values, which the
# statement then substitutes: the translation (and any "%%" in it) is applied exactly as on the ORM path.
_SLOT, _SLOT_2 = "\x1f", "\x1e"

# What _mark_overdue_batch_orm does, as one statement: claim (SKIP LOCKED, keyset), mark, state logs in case
# order, notifications (a dedup key already written is a no-op, like bulk_create(ignore_conflicts=True)).
_MARK_OVERDUE_BATCH_SQL = """
WITH claimed AS (
    SELECT id, status FROM evaluations_rectificationcase
     WHERE status = ANY(%(running)s) AND deadline < %(today)s AND id > %(after)s
     ORDER BY id LIMIT %(batch)s
       FOR UPDATE SKIP LOCKED
), marked AS (
    UPDATE evaluations_rectificationcase c SET status = %(overdue)s, overdue_at = %(now)s
      FROM claimed WHERE c.id = claimed.id AND c.status = ANY(%(running)s)
    RETURNING c.id, claimed.status AS source_state, c.provider_id, c.document_number, c.deadline
), logs AS (
    INSERT INTO django_fsm_log_statelog
        (timestamp, by_id, content_type_id, object_id, source_state, state, transition, description)
    SELECT %(now)s, NULL, %(content_type)s, id, source_state, %(overdue)s, 'mark_overdue', %(description)s
      FROM marked ORDER BY id
), notes AS (
    INSERT INTO portal_notification (kind, recipient_user_id, recipient_organisation_id, recipient_role, subject,
        body, link, dedup_key, created_at, attempts, last_error)
    SELECT 'rectification_overdue', NULL, p.organisation_id, '',
           left(replace(%(subject)s, %(slot)s, coalesce(m.document_number, 'None')), 200),
           replace(%(body)s, %(slot)s, to_char(m.deadline, 'YYYY-MM-DD')),
           '/provider/cases/' || m.id || '/', 'rectification:' || m.id || ':overdue', %(created)s, 0, ''
      FROM marked m JOIN providers_provider p ON p.id = m.provider_id
     WHERE p.organisation_id IS NOT NULL
     ORDER BY m.id
    ON CONFLICT (dedup_key) DO NOTHING
)
SELECT coalesce(array_agg(id ORDER BY id), '{}') FROM marked
"""


def _mark_overdue_batch_sql(*, now, today, after):
    params = {
        "running": [status.value for status in RUNNING_DEADLINE_STATUSES],
        "today": today,
        "after": after,
        "batch": SWEEP_BATCH,
        "overdue": RectificationStatus.OVERDUE.value,
        "now": now,
        "created": timezone.now(),
        "content_type": ContentType.objects.get_for_model(RectificationCase).pk,
        "description": _overdue_description(),
        "subject": _overdue_subject(_SLOT),
        "body": _overdue_body(_SLOT),
        "slot": _SLOT,
    }
    with connection.cursor() as cursor:
        cursor.execute(_MARK_OVERDUE_BATCH_SQL, params)
        return list(cursor.fetchone()[0])


def _bulk_notify(rows):
    from tangshan_portal.models import Notification

    Notification.objects.bulk_create([Notification(**row) for row in rows], ignore_conflicts=True)


def _create_reminders(now):
    """One reminder per case and threshold of REMINDER_DAYS. After downtime only the most imminent threshold
    is sent (a 7-day reminder two days before the deadline would be wrong), and the unique dedup key makes a
    repeated or concurrent sweep a no-op."""
    today = _local_today(now)
    # As for marking overdue: one statement per batch on PostgreSQL, the ORM elsewhere, the same rows.
    remind_batch = _reminders_batch_sql if connection.vendor == "postgresql" else _reminders_batch_orm
    created = 0
    lower = -1
    for days in sorted(set(settings.REMINDER_DAYS)):
        last_id = 0
        while True:
            with transaction.atomic():
                count, last_id = remind_batch(today=today, lower=lower, days=days, after=last_id)
            if not count:
                break
            created += count
        lower = days
    return created


def _reminder_subject(number, deadline):
    return _("Reminder: rectification %(number)s is due on %(deadline)s") % {"number": number, "deadline": deadline}


def _reminder_body(left):
    return _("%(left)s day(s) left to submit your rectification report.") % {"left": left}


def _reminders_batch_orm(*, today, lower, days, after):
    """Remind the next batch of cases after id `after` whose deadline is more than `lower` and at most `days`
    days away; returns (cases in the batch, the last one's id)."""
    batch = list(
        RectificationCase.objects.filter(
            status__in=RUNNING_DEADLINE_STATUSES,
            deadline__gt=today + timedelta(days=lower),
            deadline__lte=today + timedelta(days=days),
            provider__organisation__isnull=False,
            id__gt=after,
        )
        .order_by("id")
        .values_list("id", "provider__organisation_id", "document_number", "deadline")[:SWEEP_BATCH]
    )
    if not batch:
        return 0, after
    _bulk_notify(
        [
            {
                "kind": "rectification_reminder",
                "recipient_organisation_id": org_id,
                "subject": _reminder_subject(number, deadline)[:200],
                "body": _reminder_body((deadline - today).days),
                "link": f"/provider/cases/{case_id}/",
                "dedup_key": f"rectification:{case_id}:reminder:{deadline.isoformat()}:{days}",
            }
            for case_id, org_id, number, deadline in batch
        ]
    )
    return len(batch), batch[-1][0]


_REMINDERS_BATCH_SQL = """
WITH due AS (
    SELECT c.id, p.organisation_id, c.document_number, c.deadline
      FROM evaluations_rectificationcase c JOIN providers_provider p ON p.id = c.provider_id
     WHERE c.status = ANY(%(running)s) AND c.deadline > %(after_day)s AND c.deadline <= %(until_day)s
       AND p.organisation_id IS NOT NULL AND c.id > %(after)s
     ORDER BY c.id LIMIT %(batch)s
), notes AS (
    INSERT INTO portal_notification (kind, recipient_user_id, recipient_organisation_id, recipient_role, subject,
        body, link, dedup_key, created_at, attempts, last_error)
    SELECT 'rectification_reminder', NULL, organisation_id, '',
           left(replace(replace(%(subject)s, %(slot)s, coalesce(document_number, 'None')), %(slot_2)s,
                        to_char(deadline, 'YYYY-MM-DD')), 200),
           replace(%(body)s, %(slot)s, (deadline - %(today)s::date)::text),
           '/provider/cases/' || id || '/',
           'rectification:' || id || ':reminder:' || to_char(deadline, 'YYYY-MM-DD') || ':' || %(days)s,
           %(created)s, 0, ''
      FROM due ORDER BY id
    ON CONFLICT (dedup_key) DO NOTHING
)
SELECT count(*), coalesce(max(id), %(after)s) FROM due
"""


def _reminders_batch_sql(*, today, lower, days, after):
    params = {
        "running": [status.value for status in RUNNING_DEADLINE_STATUSES],
        "today": today,
        "after_day": today + timedelta(days=lower),
        "until_day": today + timedelta(days=days),
        "after": after,
        "batch": SWEEP_BATCH,
        "days": str(days),
        "created": timezone.now(),
        "subject": _reminder_subject(_SLOT, _SLOT_2),
        "body": _reminder_body(_SLOT),
        "slot": _SLOT,
        "slot_2": _SLOT_2,
    }
    with connection.cursor() as cursor:
        cursor.execute(_REMINDERS_BATCH_SQL, params)
        count, last_id = cursor.fetchone()
    return count, last_id


def deadlines_check(*, now=None):
    """The hourly sweep: overdue cases, reminders, then the rule engine. Idempotent and safe to run twice
    at once; it catches up by itself after downtime because every rule compares with the current date."""
    now = now or timezone.now()
    overdue = _mark_overdue(now)
    reminders = _create_reminders(now)
    proposals = engine_run(now=now)
    result = {"overdue": overdue, "reminders": reminders, "proposals": len(proposals)}
    logger.info("deadline sweep: %s", result)
    return result


# --- Rule engine: Art 13 (1)–(3) -------------------------------------------------------------------------------


def engine_findings(*, now=None):
    """What the data shows, as {(provider_id, ground): (finding text, [evidence objects' (model, id)])}.

    One aggregate query per ground; providers outside the pool are not considered."""
    now = now or timezone.now()
    findings = {}
    active = Provider.objects.filter(status__in=POOL_STATUSES)

    # (1) more than MAX_RECTIFICATIONS counted cases
    limit = settings.MAX_RECTIFICATIONS
    counted = (
        RectificationCase.objects.counted()
        .filter(provider__in=active)
        .values("provider_id")
        .annotate(n=Count("id"))
        .filter(n__gt=limit)
    )
    too_many = {row["provider_id"]: row["n"] for row in counted}
    # … or refusing to rectify within the deadline (an overdue case)
    overdue_ids = set(
        RectificationCase.objects.filter(provider__in=active, status=RectificationStatus.OVERDUE).values_list(
            "provider_id", flat=True
        )
    )
    ground1 = set(too_many) | overdue_ids
    if ground1:
        evidence = {}
        for case_id, provider_id, status in (
            RectificationCase.objects.counted()
            .filter(provider_id__in=ground1)
            .values_list("id", "provider_id", "status")
        ):
            if provider_id in too_many or status == RectificationStatus.OVERDUE:
                evidence.setdefault(provider_id, []).append((RectificationCase, case_id))
        for provider_id in ground1:
            parts = []
            if provider_id in too_many:
                parts.append(
                    _("rectification was ordered %(n)s times (more than %(limit)s)")
                    % {"n": too_many[provider_id], "limit": limit}
                )
            if provider_id in overdue_ids:
                parts.append(_("a rectification deadline passed without rectification"))
            findings[(provider_id, Art13Ground.RECTIFICATION)] = ("；".join(parts), evidence.get(provider_id, []))

    # (2) MAX_DISSATISFIED counted "dissatisfied" ratings
    dissatisfied = SatisfactionRating.objects.filter(
        contract__provider__in=active, overall=SatisfactionRating.Overall.DISSATISFIED, voided=False
    )
    over = dissatisfied.values("contract__provider_id").annotate(n=Count("id")).filter(n__gte=settings.MAX_DISSATISFIED)
    over = {row["contract__provider_id"]: row["n"] for row in over}
    if over:
        evidence = {}
        for rating_id, provider_id in dissatisfied.filter(contract__provider_id__in=over).values_list(
            "id", "contract__provider_id"
        ):
            evidence.setdefault(provider_id, []).append((SatisfactionRating, rating_id))
        for provider_id, n in over.items():
            findings[(provider_id, Art13Ground.DISSATISFIED)] = (
                _("%(n)s counted “dissatisfied” ratings (limit %(limit)s)")
                % {"n": n, "limit": settings.MAX_DISSATISFIED},
                evidence[provider_id],
            )

    # (3) schedule lag beyond SCHEDULE_LAG_THRESHOLD on a contract in progress
    for contract, lag in selectors.lagging_contracts(today=_local_today(now), providers=active):
        key = (contract.provider_id, Art13Ground.SCHEDULE_LAG)
        text, evidence = findings.get(key, ("", []))
        line = _("contract %(number)s is %(lag)s%% behind its time-proportional schedule") % {
            "number": contract.number,
            "lag": round(lag * 100),
        }
        findings[key] = ("；".join(filter(None, [text, line])), [*evidence, (ServiceContract, contract.pk)])
    return findings


ENGINE_BATCH = 1000


def engine_run(*, now=None):
    """Turn findings into revocation proposals: at most one open proposal per provider and ground (a
    database constraint), and none when every piece of evidence was already weighed by an earlier proposal
    on the same ground (a dismissal is not re-proposed until something new happens). Never revokes.

    Set-based: the proposals of a run are written ENGINE_BATCH at a time, each batch one transaction with a
    fixed number of statements (plus the audit chain's event for each proposal's state-log row)."""
    now = now or timezone.now()
    findings = engine_findings(now=now)
    if not findings:
        return []
    open_keys = _open_proposal_keys()
    weighed = {}
    for provider_id, ground, ct_id, object_id in Evidence.objects.filter(
        revocation_case__isnull=False, revocation_case__provider_id__in={provider_id for provider_id, _g in findings}
    ).values_list("revocation_case__provider_id", "revocation_case__ground", "content_type_id", "object_id"):
        weighed.setdefault((provider_id, ground), set()).add((ct_id, object_id))
    content_types = {}
    due = []
    for (provider_id, ground), (text, evidence) in sorted(findings.items()):
        if (provider_id, ground) in open_keys:
            continue
        keys = set()
        for model, pk in evidence:
            if model not in content_types:
                content_types[model] = ContentType.objects.get_for_model(model).pk
            keys.add((content_types[model], pk))
        if keys and keys <= weighed.get((provider_id, ground), set()):
            continue
        due.append((provider_id, ground, text, keys))
    if not due:
        return []
    providers = Provider.objects.in_bulk({provider_id for provider_id, *_rest in due})
    created = []
    for start in range(0, len(due), ENGINE_BATCH):
        batch = due[start : start + ENGINE_BATCH]
        try:
            with transaction.atomic():
                created += _engine_propose_batch(batch, providers=providers, now=now)
        except IntegrityError:
            # A concurrent sweep proposed some of these first: the constraint keeps it to one. The rest one by one.
            for provider_id, ground, text, keys in batch:
                try:
                    with transaction.atomic():
                        proposal = _propose(
                            provider=providers[provider_id],
                            ground=ground,
                            finding=text,
                            by=None,
                            evidence_keys=keys,
                            now=now,
                        )
                except IntegrityError:
                    continue
                created.append(proposal)
    return created


def _open_proposal_keys():
    """(provider id, ground) of the open proposals. Read without a lock: a concurrent sweep may add one before
    this run writes its own, which the constraint then refuses (engine_run)."""
    return set(RevocationCase.objects.filter(status=RevocationStatus.PROPOSED).values_list("provider_id", "ground"))


def _engine_propose_batch(batch, *, providers, now):
    """What _propose does for one engine proposal, for many at once: the proposals, their state-log rows (and
    audit events), their evidence and both notifications of each."""
    due_at = now + timedelta(days=settings.WARNING_REPLY_DAYS)
    proposals = RevocationCase.objects.bulk_create(
        [
            RevocationCase(
                provider=providers[provider_id],
                ground=ground,
                finding=text,
                source=RevocationCase.Source.ENGINE,
                proposed_by=None,
                proposed_at=now,
                statement_due_at=due_at,
            )
            for provider_id, ground, text, _keys in batch
        ]
    )
    content_type = ContentType.objects.get_for_model(RevocationCase)
    logs = StateLog.objects.bulk_create(
        [
            StateLog(
                content_type=content_type,
                object_id=proposal.pk,
                by=None,
                source_state=None,
                state=RevocationStatus.PROPOSED,
                transition="create",
                description=_("Proposed by the rule engine"),
            )
            for proposal in proposals
        ]
    )
    # bulk_create sends no post_save signal: the audit chain's event for each row, as the signal would write it.
    record_state_logs(logs)
    _evidence_insert(
        [
            (proposal.pk, ct, pk)
            for proposal, (_provider_id, _ground, _text, keys) in zip(proposals, batch, strict=True)
            for ct, pk in sorted(keys)
        ]
    )
    due = timezone.localtime(due_at).strftime("%Y-%m-%d %H:%M")
    notifications = []
    for proposal in proposals:
        provider = proposal.provider
        if provider.organisation_id:
            notifications.append(
                {
                    "kind": "revocation_proposed",
                    "recipient_organisation_id": provider.organisation_id,
                    "subject": _("Notice of proposed revocation of your qualification")[:200],
                    "body": _(
                        "Ground: %(ground)s\nFinding: %(finding)s\nConsequence if approved: %(consequence)s\n"
                        "You may state your case in the portal until %(due)s."
                    )
                    % {
                        "ground": cite_art13(proposal.ground),
                        "finding": proposal.finding,
                        "consequence": ART13_CONSEQUENCE,
                        "due": due,
                    },
                    "link": f"/provider/revocations/{proposal.pk}/",
                    "dedup_key": f"revocation:{proposal.pk}:proposed"[:120],
                }
            )
        notifications.append(
            {
                "kind": "revocation_proposed_staff",
                "recipient_role": Role.OFFICER,
                "subject": (_("Revocation proposal: %(provider)s") % {"provider": provider.name})[:200],
                "body": f"{cite_art13(proposal.ground)}\n{proposal.finding}",
                "link": f"/admin/evaluations/revocationcase/{proposal.pk}/change/",
                "dedup_key": f"revocation:{proposal.pk}:staff"[:120],
            }
        )
    _bulk_notify(notifications)
    return proposals


def _evidence_insert(rows):
    """(revocation case id, content type id, object id) rows; a row already there is left as it is."""
    if rows:
        (_evidence_insert_sql if connection.vendor == "postgresql" else _evidence_insert_orm)(rows)


def _evidence_insert_orm(rows):
    Evidence.objects.bulk_create(
        [Evidence(revocation_case_id=case, content_type_id=ct, object_id=pk) for case, ct, pk in rows],
        ignore_conflicts=True,
    )


def _evidence_insert_sql(rows):
    # Three arrays instead of a model instance and four bound parameters per row (an engine run can cite every
    # overdue case of the city), sent as array literals: the driver's adaptation of a list of ints cost more
    # than the insert.
    columns = ["{" + ",".join(map(str, column)) + "}" for column in zip(*rows, strict=True)]
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO evaluations_evidence (revocation_case_id, content_type_id, object_id, note) "
            "SELECT case_id, ct_id, object_id, '' "
            "FROM unnest(%s::bigint[], %s::integer[], %s::bigint[]) AS r(case_id, ct_id, object_id) "
            "ON CONFLICT DO NOTHING",
            columns,
        )


def _propose(*, provider, ground, finding, by, evidence_keys, now):
    proposal = RevocationCase.objects.create(
        provider=provider,
        ground=ground,
        finding=finding,
        source=RevocationCase.Source.ENGINE if by is None else RevocationCase.Source.OFFICER,
        proposed_by=by,
        proposed_at=now,
        statement_due_at=now + timedelta(days=settings.WARNING_REPLY_DAYS),
    )
    log_event(
        proposal,
        by=by,
        description=_("Proposed by the rule engine") if by is None else _("Proposed by a case officer"),
        state=RevocationStatus.PROPOSED,
    )
    Evidence.objects.bulk_create(
        [Evidence(revocation_case=proposal, content_type_id=ct, object_id=pk) for ct, pk in sorted(evidence_keys)],
        ignore_conflicts=True,
    )
    # Due process: the provider is told the grounds and may state its case before any decision.
    if provider.organisation_id:
        notify(
            kind="revocation_proposed",
            organisation=provider.organisation,
            subject=_("Notice of proposed revocation of your qualification"),
            body=_(
                "Ground: %(ground)s\nFinding: %(finding)s\nConsequence if approved: %(consequence)s\n"
                "You may state your case in the portal until %(due)s."
            )
            % {
                "ground": cite_art13(ground),
                "finding": finding,
                "consequence": ART13_CONSEQUENCE,
                "due": timezone.localtime(proposal.statement_due_at).strftime("%Y-%m-%d %H:%M"),
            },
            link=f"/provider/revocations/{proposal.pk}/",
            dedup_key=f"revocation:{proposal.pk}:proposed",
        )
    notify(
        kind="revocation_proposed_staff",
        role=Role.APPROVER if by is not None else Role.OFFICER,
        subject=_("Revocation proposal: %(provider)s") % {"provider": provider.name},
        body=f"{cite_art13(ground)}\n{finding}",
        link=f"/admin/evaluations/revocationcase/{proposal.pk}/change/",
        dedup_key=f"revocation:{proposal.pk}:staff",
    )
    return proposal


@transaction.atomic
def revocation_propose(*, provider, ground, finding, by, evidence=(), now=None):
    """An officer's proposal on any Art 13 ground, with its evidence."""
    require(by.has_perm("evaluations.propose_revocation"))
    if provider.status not in POOL_STATUSES:
        raise CaseError(_("Only a provider in the resource pool can have its qualification revoked."))
    if not finding.strip():
        raise CaseError({"finding": _("State the finding.")})
    if RevocationCase.objects.filter(provider=provider, ground=ground, status=RevocationStatus.PROPOSED).exists():
        raise CaseError({"ground": _("An open proposal on this ground already exists for this provider.")})
    keys = {(ContentType.objects.get_for_model(item).pk, item.pk) for item in evidence}
    return _propose(
        provider=provider, ground=ground, finding=finding.strip(), by=by, evidence_keys=keys, now=now or timezone.now()
    )


@transaction.atomic
def revocation_state_case(*, revocation, by, statement, now=None):
    revocation = locked(RevocationCase, revocation.pk)
    provider = revocation.provider
    require(provider.organisation_id is not None and by.organisation_id == provider.organisation_id)
    if revocation.status != RevocationStatus.PROPOSED:
        raise CaseError(_("This proposal has been decided."))
    now = now or timezone.now()
    if now > revocation.statement_due_at:
        raise CaseError(_("The time to state your case has passed."))
    if not statement.strip():
        raise CaseError({"statement": _("Write your statement.")})
    revocation.provider_statement = statement.strip()
    revocation.statement_at = now
    revocation.save(update_fields=["provider_statement", "statement_at"])
    notify(
        kind="revocation_statement",
        role=Role.APPROVER,
        subject=_("Statement received on a revocation proposal: %(provider)s") % {"provider": provider.name},
        body=revocation.provider_statement,
        link=f"/admin/evaluations/revocationcase/{revocation.pk}/change/",
        dedup_key=f"revocation:{revocation.pk}:statement",
    )
    return revocation


def _check_decidable(revocation, by, now):
    require(has_transition_perm(revocation.approve, by), _("Only an approver who did not propose it may decide."))
    if revocation.statement_at is None and now < revocation.statement_due_at:
        raise CaseError(
            _("The provider may state its case until %(due)s; decide after that or once it has replied.")
            % {"due": timezone.localtime(revocation.statement_due_at).strftime("%Y-%m-%d %H:%M")}
        )


def _decision_conflict(revocation):
    if revocation.status != RevocationStatus.PROPOSED:
        raise CaseError(
            _("This proposal was already %(status)s by another approver.") % {"status": revocation.get_status_display()}
        )


@transaction.atomic
def revocation_approve(*, revocation, by, reason, now=None):
    """Art 13 and 14 in one transaction: revoke, publish the blacklist entry, stop fees and mark advances
    recoverable on the provider's active contracts (which are terminated)."""
    revocation = locked(RevocationCase, revocation.pk)
    _decision_conflict(revocation)
    now = now or timezone.now()
    _check_decidable(revocation, by, now)
    if not reason.strip():
        raise CaseError({"reason": _("State the reasons for the decision.")})
    if selectors.evidence_under_appeal(revocation):
        raise CaseError(_("An appeal against evidence of this proposal is pending; it cannot be approved yet."))
    today = _local_today(now)
    revocation.decision_number = document_number_allocate(year=today.year)
    revocation.decided_by = by
    revocation.decided_at = now
    revocation.decision_reason = reason.strip()
    revocation.approve(by=by, description=_("Approved: %(number)s") % {"number": revocation.decision_number})
    revocation.save()

    provider = provider_revoke(
        provider=revocation.provider,
        by=by,
        reason=_("Revocation decision %(number)s") % {"number": revocation.decision_number},
    )
    entry = BlacklistEntry.objects.create(
        revocation=revocation,
        provider=provider,
        provider_name=provider.name,
        uscc=provider.uscc,
        ground=revocation.ground,
        ground_wording=cite_art13(revocation.ground),
        decision_number=revocation.decision_number,
        decided_on=today,
        authority=settings.PORTAL_AUTHORITY_NAME,
        remedy=_(
            "The provider may appeal against the grounds of this decision (Art 16(3)) within %(days)s days of "
            "its publication, through the portal or in writing to %(authority)s."
        )
        % {"days": settings.APPEAL_WINDOW_DAYS, "authority": settings.PORTAL_AUTHORITY_NAME},
        published_at=now,
    )
    # Other open proposals against the same provider are settled by this decision.
    for other in RevocationCase.objects.select_for_update().filter(provider=provider, status=RevocationStatus.PROPOSED):
        other.decided_by = by
        other.decided_at = now
        other.decision_reason = _("Settled by decision %(number)s") % {"number": revocation.decision_number}
        other.dismiss(by=by, description=other.decision_reason)
        other.save()
    contracts_terminate_for_revocation(
        provider=provider,
        by=by,
        decision_reference=revocation.decision_number,
        reason=_("Terminated by revocation decision %(number)s (Art 14)") % {"number": revocation.decision_number},
    )
    if provider.organisation_id:
        notify(
            kind="revocation_decided",
            organisation=provider.organisation,
            subject=_("Decision %(number)s: your qualification is revoked") % {"number": revocation.decision_number},
            body=f"{revocation.ground_wording}\n{revocation.decision_reason}\n{ART13_CONSEQUENCE}\n{entry.remedy}",
            link=f"/provider/revocations/{revocation.pk}/",
            dedup_key=f"revocation:{revocation.pk}:decided",
        )
    issue_after_commit(revocation_decision_pdf, revocation, by)
    issue_after_commit(blacklist_announcement_pdf, entry, by)
    return revocation


@transaction.atomic
def revocation_dismiss(*, revocation, by, reason, now=None):
    revocation = locked(RevocationCase, revocation.pk)
    _decision_conflict(revocation)
    now = now or timezone.now()
    require(has_transition_perm(revocation.dismiss, by), _("Only an approver who did not propose it may decide."))
    if not reason.strip():
        raise CaseError({"reason": _("State the reasons for the decision.")})
    revocation.decided_by = by
    revocation.decided_at = now
    revocation.decision_reason = reason.strip()
    revocation.dismiss(by=by, description=reason.strip())
    revocation.save()
    if revocation.provider.organisation_id:
        notify(
            kind="revocation_dismissed",
            organisation=revocation.provider.organisation,
            subject=_("The proposed revocation was dismissed"),
            body=revocation.decision_reason,
            link=f"/provider/revocations/{revocation.pk}/",
            dedup_key=f"revocation:{revocation.pk}:dismissed",
        )
    return revocation


# --- Satisfaction surveys (Art 11, 13(2)) ---------------------------------------------------------------------


@transaction.atomic
def survey_submit(*, contract, stage, overall, scores, by, comment="", milestone=None, now=None):
    """An enterprise rates its provider once per contract and stage; the submission is final (locked)."""
    enterprise = contract.enterprise
    require(enterprise.organisation_id is not None and by.organisation_id == enterprise.organisation_id)
    if milestone is not None and milestone.contract_id != contract.pk:
        raise CaseError({"milestone": _("This milestone belongs to another contract.")})
    if overall not in SatisfactionRating.Overall.values:
        raise CaseError({"overall": _("Choose an overall rating.")})
    items = {item.pk: item for item in SurveyItem.objects.filter(is_active=True)}
    missing = [item.text for pk, item in items.items() if pk not in scores]
    if missing:
        raise CaseError({"scores": _("Answer every question: %(items)s") % {"items": "、".join(missing)}})
    try:
        scores = {int(pk): int(score) for pk, score in scores.items()}
    except (TypeError, ValueError):
        raise CaseError({"scores": _("Scores go from 1 to 5.")}) from None
    if any(not 1 <= score <= 5 for score in scores.values()):
        raise CaseError({"scores": _("Scores go from 1 to 5.")})
    if SatisfactionRating.objects.filter(contract=contract, stage=stage).exists():
        raise CaseError(_("This stage of the contract has already been rated; a submitted rating cannot be changed."))
    try:
        with transaction.atomic():
            rating = SatisfactionRating.objects.create(
                contract=contract,
                stage=stage,
                milestone=milestone,
                overall=overall,
                comment=comment.strip(),
                submitted_by=by,
                submitted_at=now or timezone.now(),
            )
    except IntegrityError:
        raise CaseError(
            _("This stage of the contract has already been rated; a submitted rating cannot be changed.")
        ) from None
    SurveyAnswer.objects.bulk_create(
        SurveyAnswer(rating=rating, item_id=pk, score=int(score)) for pk, score in scores.items() if pk in items
    )
    log_event(rating, by=by, description=rating.get_overall_display(), state=overall)
    if overall == SatisfactionRating.Overall.DISSATISFIED and contract.provider.organisation_id:
        notify(
            kind="rating_dissatisfied",
            organisation=contract.provider.organisation,
            subject=_("A “dissatisfied” rating on contract %(number)s") % {"number": contract.number},
            body=_("You may appeal against it (Art 16(2)) within %(days)s days.")
            % {"days": settings.APPEAL_WINDOW_DAYS},
            link="/provider/ratings/",
            dedup_key=f"rating:{rating.pk}:dissatisfied",
        )
    return rating


@transaction.atomic
def rating_void(*, rating, by, reason, now=None):
    """Take a rating out of the Art 13(2) count (an upheld appeal); the rating itself is kept."""
    rating = locked(SatisfactionRating, rating.pk)
    if rating.voided:
        return rating
    rating.voided = True
    rating.voided_at = now or timezone.now()
    rating.void_reason = reason
    rating.save(update_fields=["voided", "voided_at", "void_reason"])
    log_event(rating, by=by, description=reason, state="voided", transition="void", source_state=rating.overall)
    return rating


# --- Inspections (Art 11) ----------------------------------------------------------------------------------------


@transaction.atomic
def inspection_record(*, kind, provider, conducted_on, findings, by, contract=None, issues_found=False, files=()):
    require(by.has_perm("evaluations.record_inspection"))
    if contract is not None and contract.provider_id != provider.pk:
        raise CaseError({"contract": _("This contract is not one of this provider's contracts.")})
    if not findings.strip():
        raise CaseError({"findings": _("Record the findings.")})
    if conducted_on > _local_today():
        raise CaseError({"conducted_on": _("An inspection cannot be recorded for a future date.")})
    for uploaded in files:
        upload_check(uploaded)
    inspection = Inspection.objects.create(
        kind=kind,
        provider=provider,
        contract=contract,
        conducted_on=conducted_on,
        findings=findings.strip(),
        issues_found=issues_found,
        conducted_by=by,
    )
    for uploaded in files:
        attachment_store(target=inspection, uploaded=uploaded, by=by, purpose="inspection")
    return inspection


def inspection_open_case(*, inspection, ground, finding, by):
    """An inspection that found problems becomes the evidence of a rectification case."""
    if not inspection.issues_found:
        raise CaseError(_("This inspection found no problems; record one that did to open a case."))
    return rectification_open(
        provider=inspection.provider,
        ground=ground,
        finding=finding,
        by=by,
        contract=inspection.contract,
        evidence=[inspection],
    )


# --- Undoing a decision after an upheld appeal (Art 16); called only by complaints.services ---------------------


@transaction.atomic
def rectification_excuse_deadline(*, case, by, new_deadline, reason, now=None):
    """Art 16(1): the missed deadline is excused and a new one set; an overdue case runs again."""
    case = locked(RectificationCase, case.pk)
    today = _local_today(now)
    if new_deadline is None or new_deadline <= today:
        raise CaseError({"new_deadline": _("Set a new deadline after today.")})
    if case.status not in (*RUNNING_DEADLINE_STATUSES, RectificationStatus.OVERDUE):
        raise CaseError(_("This case has no running or missed deadline."))
    case.deadline = new_deadline
    case.overdue_at = None
    if case.status == RectificationStatus.OVERDUE:
        case.excuse_deadline(by=by, description=reason)
        case.save()
    else:
        case.save(update_fields=["deadline", "overdue_at"])
        log_event(case, by=by, description=reason, state=case.status)
    notify(
        kind="rectification_deadline_excused",
        organisation=case.provider.organisation,
        subject=_("New rectification deadline: %(deadline)s") % {"deadline": new_deadline},
        body=reason,
        link=_case_link(case),
        dedup_key=f"rectification:{case.pk}:excused:{new_deadline.isoformat()}",
    )
    _sync_standing(case, by=by, reason=reason)
    return case


@transaction.atomic
def rectification_withdraw_on_appeal(*, case, by, reason, now=None):
    case = locked(RectificationCase, case.pk)
    if case.status not in OPEN_RECTIFICATION_STATUSES:
        raise CaseError(_("Only an open case can be withdrawn."))
    case.closed_at = now or timezone.now()
    case.closing_note = reason
    case.withdraw(by=by, description=reason)
    case.save()
    _sync_standing(case, by=by, reason=reason)
    return case


@transaction.atomic
def revocation_reverse(*, revocation, by, reason, now=None):
    """Art 16(3) upheld: the provider is reinstated, the blacklist entry is marked removed (kept, with date and
    reason) and the Art 14 fee consequences of the decision are lifted. Terminated contracts stay terminated:
    the parties decide whether to sign again."""
    from enterprises.services import fee_consequences_lift
    from providers.services import provider_reinstate

    revocation = locked(RevocationCase, revocation.pk)
    now = now or timezone.now()
    revocation.reversed_at = now
    revocation.reversal_reason = reason
    revocation.reverse(by=by, description=reason)
    revocation.save()
    if revocation.provider.status == ProviderStatus.REVOKED:
        provider = provider_reinstate(provider=revocation.provider, by=by, reason=reason)
        # Back in the pool, the standing again follows the provider's open cases.
        provider_follow_cases(provider=provider, standing=standing_for(provider), by=by, reason=reason)
    entry = BlacklistEntry.objects.select_for_update().filter(revocation=revocation).first()
    if entry is not None:
        entry.status = BlacklistEntry.Status.REMOVED
        entry.removed_at = now
        entry.removal_reason = reason
        entry.save(update_fields=["status", "removed_at", "removal_reason", "updated_at"])
    fee_consequences_lift(decision_reference=revocation.decision_number, reason=reason)
    return revocation


def blacklist_mark_under_appeal(*, revocation, under_appeal):
    """The public entry shows “申诉中” while an appeal against it is pending, and returns to published after."""
    # Saved row by row (at most one) so that updated_at and the public change feed see the change.
    for entry in (
        BlacklistEntry.objects.select_for_update()
        .filter(revocation=revocation)
        .exclude(status=BlacklistEntry.Status.REMOVED)
    ):
        entry.status = BlacklistEntry.Status.UNDER_APPEAL if under_appeal else BlacklistEntry.Status.PUBLISHED
        entry.save(update_fields=["status", "updated_at"])


@transaction.atomic
def revocation_propose_or_join(*, provider, ground, finding, by, evidence=(), now=None):
    """A substantiated complaint on an Art 13 ground: a new proposal, or more evidence for the open one."""
    open_proposal = (
        RevocationCase.objects.select_for_update()
        .filter(provider=provider, ground=ground, status=RevocationStatus.PROPOSED)
        .first()
    )
    if open_proposal is None:
        return revocation_propose(provider=provider, ground=ground, finding=finding, by=by, evidence=evidence, now=now)
    require(by.has_perm("evaluations.propose_revocation"))
    _link_evidence(case_field="revocation_case", case=open_proposal, evidence=evidence)
    log_event(
        open_proposal,
        by=by,
        description=finding,
        state=open_proposal.status,
        transition="add_evidence",
        source_state=open_proposal.status,
    )
    return open_proposal


@transaction.atomic
def revocations_dismiss_citing(*, target, by, reason, now=None):
    """Close the open proposals whose evidence includes `target` (called when an appeal undoes it)."""
    now = now or timezone.now()
    cited = Evidence.objects.filter(
        revocation_case__status=RevocationStatus.PROPOSED,
        content_type=ContentType.objects.get_for_model(target),
        object_id=target.pk,
    ).values_list("revocation_case_id", flat=True)
    dismissed = []
    for proposal in RevocationCase.objects.select_for_update().filter(pk__in=list(cited)):
        proposal.decided_by = by
        proposal.decided_at = now
        proposal.decision_reason = reason
        proposal.dismiss(by=by, description=reason)
        proposal.save()
        dismissed.append(proposal)
    return dismissed
