"""The one way to write the portal-wide audit log, its hash chain, its verification and its retention.

Tamper evidence (GB/T 22239 level 3, audit records protected against deletion and modification): every
AuditEvent has a `sequence` (its position in the chain: 1, 2, 3, … without gaps), the `prev_hash` of the event
before it and its own `chain_hash` = SHA-256(prev_hash + canonical(event)), where canonical() is a fixed JSON
serialisation of every recorded field. Changing a field breaks that event's hash; deleting an event leaves a
gap in the sequence and a broken link; `manage.py verify_audit` names the first event that does not fit.

The hash is unkeyed: someone who can write to the database can also recompute the whole chain after the
event they changed. `verify_audit` therefore prints the head (sequence and hash) of the chain it verified;
kept outside the database (the operations log, a signed report) and passed back with `--anchor`, it shows a
rewritten or truncated chain as well.

Appends are serialised so that two writers never link to the same predecessor: on PostgreSQL with a
transaction-level advisory lock (see lock_chain for why not a row lock on a head table), on SQLite by the
database's single writer. The unique `sequence` is the backstop: a fork is refused, never stored.

Retention (`manage.py purge_audit`): events older than AUDIT_RETENTION_DAYS (at least six months) are deleted
from the start of the chain only, after a checkpoint (AuditCheckpoint: the sequence, id and hash of the last
event deleted) is written and the purge itself is recorded in the chain; verification then starts from the
checkpoint. On PostgreSQL the append-only trigger (migrations 0004, 0011) refuses every UPDATE and every DELETE
except a purge's: a transaction that set `portal.audit_purge` and deletes only events a checkpoint covers.
"""

import contextvars
import hashlib
import ipaddress
import json
import logging
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connections, transaction
from django.utils import timezone

from .models import AuditCheckpoint, AuditEvent

logger = logging.getLogger(__name__)

# Bump only together with a migration that re-chains: verify_audit recomputes every hash with this format.
CHAIN_FORMAT = "v1"
GENESIS_HASH = "0" * 64
# The fields each hash covers, in this order; `sequence` binds the event to its place in the chain.
CHAIN_FIELDS = (
    "sequence",
    "at",
    "actor_id",
    "actor_username",
    "action",
    "success",
    "object_type",
    "object_id",
    "object_repr",
    "path",
    "ip_address",
    "user_agent",
    "detail",
)
# pg_advisory_xact_lock key of the chain: the ASCII of "portaudt". Advisory keys are shared by everything in
# the database, so it is a fixed, documented value rather than one derived at run time.
CHAIN_LOCK_KEY = int.from_bytes(b"portaudt", "big", signed=True)
# Cybersecurity Law Art 21(3) and GB/T 22239: network logs are kept for no less than six months. Six calendar
# months are at most 184 days (1 July to 1 January), so a shorter setting is refused.
RETENTION_MIN_DAYS = 184
# The session setting the append-only trigger checks before it lets a DELETE through (migration 0011).
PURGE_GUC = "portal.audit_purge"


# --- The request an event happens in ------------------------------------------------------------------------

_current_request = contextvars.ContextVar("portal_audit_request", default=None)


def current_request():
    """The request being handled on this thread (set by AuditContextMiddleware), or None outside one."""
    return _current_request.get()


@contextmanager
def bound_request(request):
    token = _current_request.set(request)
    try:
        yield request
    finally:
        _current_request.reset(token)


class AuditContextMiddleware:
    """Lets events recorded without a request at hand (a signal such as a change of a user's groups in the
    admin, a service called by a view) still say who acted, from where and on which path. Place it after
    AuthenticationMiddleware.

    It also writes what must survive the view's rollback, after the view's transaction (ATOMIC_REQUESTS) ended:
    every refusal (any 403 answer that handler403 did not record already: the admin's refusal pages, the API, a
    CSRF failure), and the events deferred with `defer_event` (a refused API token: DRF marks the request's
    transaction for rollback)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with bound_request(request):
            response = self.get_response(request)
            if response.status_code == 403 and not getattr(request, "_portal_denial_recorded", False):
                record_denial(request, response)
            for action, kwargs in request.__dict__.pop("_portal_deferred_events", ()):
                record_event(action, request=request, **kwargs)
            return response


def defer_event(request, action, **kwargs):
    """Record an event once the response is made, outside the view's transaction: for refusals that the view's
    rollback would otherwise take with it. `request` may be DRF's Request (its Django request is used)."""
    request = getattr(request, "_request", request)
    request.__dict__.setdefault("_portal_deferred_events", []).append((action, kwargs))


def _denied_target(request):
    """(object type, object id, object repr) of a refused request, from its URL: the model and id of an admin
    page, else the view's name and the URL's id (a portal page names no model in its URL)."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "", "", ""
    kwargs = match.kwargs or {}
    object_id = next((str(kwargs[name]) for name in ("object_id", "id", "pk", "code") if name in kwargs), "")
    if match.app_name == "admin" and match.url_name:
        from django.contrib import admin
        from django.contrib.auth import get_user_model

        for model in admin.site._registry:
            prefixes = (f"{model._meta.app_label}_{model._meta.model_name}_",)
            if model is get_user_model():
                prefixes += ("auth_user_",)  # Django's UserAdmin names its password page so, whatever the model
            if match.url_name.startswith(prefixes):
                return model._meta.label, object_id, match.view_name
    return match.view_name or "", object_id, match.view_name or ""


def record_denial(request, response=None, *, reason=""):
    """A PERMISSION_DENIED event for a refused request: who, from where, what (the URL's object) and why. Once
    per request: handler403 calls it with the exception's message, AuditContextMiddleware for any other 403."""
    request._portal_denial_recorded = True
    object_type, object_id, object_repr = _denied_target(request)
    reason = str(reason or "")[:300]
    if not reason and response is not None:
        # A DRF answer carries its reason in `data`; the admin's refusal pages in their context's `refusal`.
        data = getattr(response, "data", None) or getattr(response, "context_data", None)
        if isinstance(data, dict):
            reason = str(data.get("detail") or data.get("refusal") or "")[:300]
    detail = {"method": request.method, "status": 403 if response is None else response.status_code}
    if reason:
        detail["reason"] = reason
    target = (object_type, object_id, object_repr)
    return record_event(AuditEvent.Action.PERMISSION_DENIED, request=request, target=target, success=False, **detail)


def client_ip(request):
    """The client's address, the same for the audit log and the login lockout (AXES_CLIENT_IP_CALLABLE).

    Without a proxy (PORTAL_TRUSTED_PROXY_COUNT=0) it is REMOTE_ADDR, what the web server saw. Behind N trusted
    proxies each appends the address it received the request from to X-Forwarded-For, so the N-th entry from
    the right is the one the outermost trusted proxy saw: the client's. Whatever stands left of it came from
    the client and is ignored (the left-most entry is whatever the client chose to send). A header with fewer
    entries than proxies, or an entry that is not an address, falls back to REMOTE_ADDR."""
    remote = _ip_or_none(request.META.get("REMOTE_ADDR"))
    proxies = getattr(settings, "PORTAL_TRUSTED_PROXY_COUNT", 0)
    if proxies > 0:
        entries = [entry.strip() for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        entries = [entry for entry in entries if entry]
        if len(entries) >= proxies:
            return _ip_or_none(entries[-proxies]) or remote
    return remote


def _ip_or_none(value):
    try:
        return ipaddress.ip_address((value or "").strip()).compressed
    except ValueError:
        return None


def record_event(action, *, request=None, actor=None, obj=None, target=None, success=True, username="", **detail):
    """Append one event to the audit log. Without `request`, the request being handled (if any) supplies the
    actor, IP address, path and user agent. The object is `obj` (a model instance) or, for one not at hand as
    an instance, `target`: (object type, object id, object repr)."""
    if request is None:
        request = current_request()
    if actor is None and request is not None:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            actor = user
    event = AuditEvent(
        action=action,
        success=success,
        actor=actor,
        actor_username=(actor.get_username() if actor is not None else username)[:150],
        detail=detail,
    )
    if obj is not None:
        target = (obj._meta.label, obj.pk, obj)
    if target is not None:
        object_type, object_id, object_repr = target
        event.object_type = str(object_type)[:100]
        event.object_id = str(object_id)[:64]
        event.object_repr = str(object_repr)[:200]
    if request is not None:
        event.path = request.get_full_path()[:300]
        event.ip_address = client_ip(request)
        event.user_agent = request.META.get("HTTP_USER_AGENT", "")[:300]
    event.save()
    return event


def record_state_logs(logs):
    """A TRANSITION event for each django-fsm-log StateLog row: the object, the transition, its from and to states
    and who made it (else the request's user). signals.audit_transition calls it for every row saved; a caller
    that writes state logs with bulk_create (which sends no signal) calls it with the rows it created."""
    events = []
    for log in logs:
        content_type = log.content_type
        model = content_type.model_class()
        label = model._meta.label if model is not None else f"{content_type.app_label}.{content_type.model}"
        # The record's own text when the row came with it (django-fsm-log's transitions); otherwise its kind and id,
        # rather than one more query per event inside every transition.
        if type(log)._meta.get_field("content_object").is_cached(log) and log.content_object is not None:
            text = log.content_object
        else:
            text = f"{model._meta.verbose_name if model is not None else content_type.model} {log.object_id}"
        events.append(
            record_event(
                AuditEvent.Action.TRANSITION,
                actor=log.by,
                target=(label, log.object_id, text),
                transition=log.transition,
                source_state=log.source_state,
                state=log.state,
                state_log=log.pk,
            )
        )
    return events


# --- The hash chain -------------------------------------------------------------------------------------------


def _json_value(value):
    """The value as the database gives it back: JSON types only, and integral floats as integers, because
    PostgreSQL's jsonb returns 1e16 as 10000000000000000 (an int to Python) while SQLite keeps 1e+16."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_json_value(item) for item in value]
    if isinstance(value, dict):
        return {key: _json_value(item) for key, item in value.items()}
    return value


def _ip_text(value):
    if value in (None, ""):
        return None
    try:
        return ipaddress.ip_address(str(value)).compressed
    except ValueError:
        return str(value)


def canonical(values):
    """The bytes an event's hash covers. `values` maps CHAIN_FIELDS to the event's values, read either from the
    instance about to be inserted or from the row read back; both give the same bytes."""
    at = values["at"]
    record = [
        CHAIN_FORMAT,
        int(values["sequence"]),
        at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        values["actor_id"],
        values["actor_username"],
        values["action"],
        bool(values["success"]),
        values["object_type"],
        values["object_id"],
        values["object_repr"],
        values["path"],
        _ip_text(values["ip_address"]),
        values["user_agent"],
        _json_value(json.loads(json.dumps(values["detail"], cls=DjangoJSONEncoder))),
    ]
    # ASCII escapes: the bytes do not depend on an encoder's handling of unusual characters.
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False).encode()


def chain_digest(prev_hash, values):
    return hashlib.sha256(prev_hash.encode("ascii") + canonical(values)).hexdigest()


def lock_chain(cursor):
    """Serialise appends until the current transaction ends.

    A transaction-level advisory lock rather than SELECT … FOR UPDATE on a one-row "chain head" table: both
    hold writers in line until commit, but the head row would be rewritten by every event (one more row
    version, WAL record and vacuum debt per login or page view, on the single hottest row of the database, whose
    update chain grows while any long transaction keeps vacuum from cleaning it), and it would be a second copy
    of the head that a restore, a purge or a data migration could leave out of step. With the lock the head is
    simply the last row by the unique `sequence` index. The lock is released when the transaction ends, after
    the new row is visible, so the next writer's read of the head, a statement of its own, sees it (a savepoint
    rolled back around the insert releases it too, together with the row).

    Cost: two short statements per event. The price of any chain is that audited requests finish one after
    another from the moment they record an event to their commit (ATOMIC_REQUESTS), so views should record
    as late as they can.
    """
    if cursor.db.vendor == "postgresql":
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])


def chain_head(cursor):
    """(sequence, hash) of the last event, or of the last one purged when none is left, or the genesis."""
    ops = cursor.db.ops
    events, checkpoints = ops.quote_name(AuditEvent._meta.db_table), ops.quote_name(AuditCheckpoint._meta.db_table)
    # Raw SQL: this runs for every event, and the ORM's query building cost more than the query.
    cursor.execute(f"SELECT sequence, chain_hash FROM {events} ORDER BY sequence DESC LIMIT 1")  # noqa: S608
    last = cursor.fetchone()
    if last is not None:
        # A purge always leaves its own event behind, so the checkpoint matters only for an empty table.
        return tuple(last)
    cursor.execute(f"SELECT last_sequence, last_hash FROM {checkpoints} ORDER BY last_sequence DESC LIMIT 1")  # noqa: S608
    checkpoint = cursor.fetchone()
    return tuple(checkpoint) if checkpoint is not None else (0, GENESIS_HASH)


def link_event(event, using):
    """Give an event about to be inserted its time, place in the chain and hash. Must run inside the
    transaction that inserts it (AuditEvent.save opens one)."""
    with connections[using].cursor() as cursor:
        lock_chain(cursor)
        sequence, prev_hash = chain_head(cursor)
    # The time is taken under the lock, so it never goes backwards along the chain (unless the clock does).
    event.at = timezone.now()
    event.sequence = sequence + 1
    event.prev_hash = prev_hash
    event.chain_hash = chain_digest(prev_hash, {name: getattr(event, name) for name in CHAIN_FIELDS})


# --- Verification --------------------------------------------------------------------------------------------


@dataclass
class ChainProblem:
    kind: str  # changed | unlinked | missing | order | checkpoint | anchor
    event_id: int | None
    sequence: int | None
    message: str


@dataclass
class ChainReport:
    events: int = 0
    first_sequence: int | None = None
    last_sequence: int | None = None
    head_hash: str | None = None
    checkpoint: AuditCheckpoint | None = None
    problems: list = field(default_factory=list)

    @property
    def ok(self):
        return not self.problems


def parse_anchor(text):
    """ "SEQUENCE:HASH", as verify_audit prints it."""
    sequence, _sep, digest = text.partition(":")
    if not sequence.isdigit() or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise ValueError(f"not an anchor (SEQUENCE:SHA256-HEX): {text!r}")
    return int(sequence), digest


def _row_problem(row, expected_sequence, expected_prev, previous):
    """What is wrong with one row, given what the chain so far expects: (kind, message) or None."""
    sequence = row["sequence"]
    here = f"event id {row['id']} (sequence {sequence})"
    if sequence > expected_sequence:
        missing = f"{expected_sequence}" if sequence == expected_sequence + 1 else f"{expected_sequence}–{sequence - 1}"
        return "missing", f"sequence {missing} missing between {previous} and {here}: events were deleted"
    if sequence < expected_sequence:
        return "order", (
            f"{here} follows {previous}, expected sequence {expected_sequence}: events were reordered, duplicated "
            "or inserted"
        )
    if row["prev_hash"] != expected_prev:
        return "unlinked", (
            f"{here} does not link to {previous}: that event was changed and re-hashed, or this one was inserted"
        )
    if chain_digest(row["prev_hash"], row) != row["chain_hash"]:
        return "changed", f"{here} does not match its hash: its recorded fields were changed"
    return None


def _announces(row, checkpoint):
    detail = row["detail"] if isinstance(row["detail"], dict) else {}
    return (
        row["action"] == AuditEvent.Action.AUDIT_PURGED
        and detail.get("up_to_sequence") == checkpoint.last_sequence
        and detail.get("up_to_hash") == checkpoint.last_hash
    )


def verify_chain(*, using="default", batch_size=2000, stop_at_first=True, anchors=()):
    """Walk the chain in id order (keyset pages: constant memory on any size) and report what does not fit.

    Ids follow the chain order because both are taken under the chain lock. After a problem the walk
    resynchronises on the row it found, so with stop_at_first=False later problems are reported too (one
    reordering shows at each row it displaced).
    """
    report = ChainReport()
    anchors = dict(anchors)
    checkpoint = AuditCheckpoint.objects.using(using).order_by("-last_sequence").first()
    report.checkpoint = checkpoint
    if checkpoint is not None:
        # Rows at or below the checkpoint that an interrupted purge left behind are skipped (ids follow sequences).
        expected_sequence, expected_prev = checkpoint.last_sequence + 1, checkpoint.last_hash
        last_id, previous = checkpoint.last_id, f"the purge checkpoint (up to sequence {checkpoint.last_sequence})"
    else:
        expected_sequence, expected_prev, last_id, previous = 1, GENESIS_HASH, 0, "the start of the chain"
    announced = checkpoint is None
    columns = ("id", "prev_hash", "chain_hash", *CHAIN_FIELDS)
    events = AuditEvent.objects.using(using).order_by("id").values_list(*columns)

    def report_problem(kind, row, message):
        report.problems.append(ChainProblem(kind, row and row["id"], row and row["sequence"], message))
        return stop_at_first

    while page := list(events.filter(id__gt=last_id)[:batch_size]):
        for values in page:
            row = dict(zip(columns, values, strict=True))
            last_id, sequence = row["id"], row["sequence"]
            found = _row_problem(row, expected_sequence, expected_prev, previous)
            if found is not None and found[0] == "missing":
                # A gap may be events moved further down rather than deleted: look for them.
                moved = (
                    AuditEvent.objects.using(using)
                    .filter(sequence__gte=expected_sequence, sequence__lt=sequence)
                    .order_by("sequence")
                    .values_list("id", "sequence")
                    .first()
                )
                if moved is not None:
                    found = (
                        "order",
                        f"event id {row['id']} (sequence {sequence}) comes before event id {moved[0]} (sequence "
                        f"{moved[1]}): events were reordered",
                    )
            if found is not None and report_problem(found[0], row, found[1]):
                return report
            here = f"event id {row['id']} (sequence {sequence})"
            anchored = anchors.pop(sequence, row["chain_hash"])
            if anchored != row["chain_hash"] and report_problem(
                "anchor", row, f"{here} differs from the anchor kept for it: the chain was recomputed"
            ):
                return report
            announced = announced or _announces(row, checkpoint)
            report.events += 1
            report.first_sequence = report.first_sequence or sequence
            report.last_sequence, report.head_hash = sequence, row["chain_hash"]
            expected_sequence, expected_prev, previous = sequence + 1, row["chain_hash"], here
    if not announced:
        report_problem(
            "checkpoint",
            None,
            f"no purge event in the chain announces the checkpoint up to sequence {checkpoint.last_sequence} "
            f"(checkpoint id {checkpoint.pk}): it was not written by purge_audit",
        )
    for sequence, digest in sorted(anchors.items()):
        if checkpoint is not None and sequence == checkpoint.last_sequence:
            if digest != checkpoint.last_hash:
                report_problem("anchor", None, f"the checkpoint up to sequence {sequence} differs from its anchor")
        elif checkpoint is None or sequence > checkpoint.last_sequence:
            report_problem(
                "anchor",
                None,
                f"the chain ends at sequence {report.last_sequence or 0}, before the anchor at {sequence}: events "
                "were removed from its end",
            )
        # An anchor older than the checkpoint concerns events purged since: nothing is left to compare.
    return report


# --- Retention -----------------------------------------------------------------------------------------------


def retention_days():
    days = settings.AUDIT_RETENTION_DAYS
    if days < RETENTION_MIN_DAYS:
        raise ImproperlyConfigured(
            f"AUDIT_RETENTION_DAYS is {days}; audit events must be kept at least six months "
            f"({RETENTION_MIN_DAYS} days)."
        )
    return days


@dataclass
class PurgeResult:
    cutoff: object
    retention_days: int
    up_to_sequence: int | None = None
    planned: int = 0
    deleted: int = 0
    checkpoint: AuditCheckpoint | None = None


def purge_expired_events(*, using="default", batch_size=5000, dry_run=False, source=""):
    """Delete the events older than the retention period, from the start of the chain, keeping it verifiable.

    Order matters: the checkpoint and the purge's own audit event commit first (together), then the rows go in
    batches, each its own short transaction. An interrupted purge leaves only rows the checkpoint already
    covers, which verification skips and the next purge removes. The cut is made before the first event still
    within the period, so no such event is deleted even if the clock once went backwards, nor one written
    while the purge runs.
    """
    days = retention_days()
    now = timezone.now()
    result = PurgeResult(cutoff=now - timedelta(days=days), retention_days=days)
    events = AuditEvent.objects.using(using)
    previous = AuditCheckpoint.objects.using(using).order_by("-last_sequence").first()
    floor = previous.last_sequence if previous else 0
    # The newest event before the cut-off (by the time index), then the first event from the cut-off on that
    # precedes it in the chain, if the clock ever went back. Events appended meanwhile are newer: never cut.
    last_old = events.filter(at__lt=result.cutoff).order_by("-at", "-sequence").values_list("sequence", flat=True)
    up_to = last_old.first() or 0
    first_kept = (
        events.filter(sequence__gt=floor, sequence__lte=up_to, at__gte=result.cutoff)
        .order_by("sequence")
        .values_list("sequence", flat=True)
        .first()
    )
    if first_kept is not None:
        up_to = first_kept - 1
    if up_to > floor:
        result.up_to_sequence = up_to
        result.planned = events.filter(sequence__gt=floor, sequence__lte=up_to).count()
        if dry_run:
            return result
        last_id, last_hash = events.filter(sequence=up_to).values_list("id", "chain_hash").get()
        with transaction.atomic(using=using):
            result.checkpoint = AuditCheckpoint.objects.using(using).create(
                last_sequence=up_to,
                last_id=last_id,
                last_hash=last_hash,
                cutoff=result.cutoff,
                retention_days=days,
                events=result.planned,
            )
            record_event(
                AuditEvent.Action.AUDIT_PURGED,
                up_to_sequence=up_to,
                up_to_id=last_id,
                up_to_hash=last_hash,
                cutoff=result.cutoff.isoformat(),
                retention_days=days,
                events=result.planned,
                source=source,
            )
    elif dry_run:
        return result
    # Also finishes what an interrupted purge left behind (rows at or below the previous checkpoint).
    limit = up_to if up_to > floor else floor
    result.deleted = _delete_through(limit, using=using, batch_size=batch_size)
    return result


def _delete_through(sequence, *, using, batch_size):
    connection = connections[using]
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    sql = f"DELETE FROM {table} WHERE id IN (SELECT id FROM {table} WHERE sequence <= %s ORDER BY sequence LIMIT %s)"  # noqa: S608 (table name from the model)
    deleted = 0
    while True:
        with transaction.atomic(using=using), connection.cursor() as cursor:
            postgresql = connection.vendor == "postgresql"
            if postgresql:
                # Local to the transaction (is_local), and switched off again at once in case this runs inside
                # a larger one: the trigger lets these deletes through and nothing after them.
                cursor.execute("SELECT set_config(%s, 'on', true)", [PURGE_GUC])
            cursor.execute(sql, [sequence, batch_size])
            count = cursor.rowcount
            if postgresql:
                cursor.execute("SELECT set_config(%s, 'off', true)", [PURGE_GUC])
        deleted += count
        if count < batch_size:
            return deleted


# --- The daily check (Celery beat, tangshan_portal.tasks.verify_audit) -------------------------------------------


def audit_chain_check(*, using="default"):
    """Verify the whole chain. Intact: the head goes to the operations log (kept outside the database, it is an
    anchor for `verify_audit --anchor`). Broken: an ERROR in the operations log on every run, and a notification
    to the security administrators and the auditors, once per problem found."""
    from django.urls import reverse
    from django.utils.translation import gettext

    from .roles import Role
    from .services import notify

    report = verify_chain(using=using)
    if report.ok:
        logger.info(
            "Audit chain intact: %s event(s); head %s:%s", report.events, report.last_sequence, report.head_hash
        )
        return report
    first = report.problems[0]
    logger.error("Audit chain broken (%s): %s", first.kind, first.message)
    subject = gettext("The audit log's hash chain is broken")
    body = gettext(
        "The daily verification of the audit log found a problem: %(problem)s. Run `manage.py verify_audit --all` "
        "for the full list, and keep the database as it is for the investigation."
    ) % {"problem": first.message}
    problem_key = f"{first.kind}:{first.sequence or 0}:{first.event_id or 0}"
    for role, link in (
        (Role.SECADMIN, ""),
        # The auditor reads the log in the admin.
        (Role.AUDITOR, reverse("admin:portal_auditevent_changelist")),
    ):
        notify(
            kind="audit_chain_broken",
            subject=subject,
            body=body,
            dedup_key=f"audit-chain:{role.value}:{problem_key}",
            role=role.value,
            link=link,
        )
    return report
