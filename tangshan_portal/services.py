import hashlib
import logging
from datetime import timedelta

import filetype
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q, Subquery
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Attachment, DocumentSequence, Notification, NotificationRead, WorkerHeartbeat

logger = logging.getLogger(__name__)


@transaction.atomic
def worker_heartbeat_record(*, hostname):
    """Upsert one row per worker host: repeated or duplicated deliveries leave the same single row."""
    now = timezone.now()
    WorkerHeartbeat.objects.update_or_create(hostname=hostname[:200], defaults={"seen_at": now})
    return now


# --- Official document numbers ---------------------------------------------------------------------------


def format_document_number(prefix, year, number):
    """GB/T 9704 style: year in 〔〕, serial without leading zeros, e.g. 唐工信〔2026〕12号."""
    return f"{prefix}〔{year}〕{number}号"


def document_number_allocate(*, year, prefix=None):
    """Issue the next number of the year. Must run inside the transaction that stores the number: the row
    lock taken by the UPDATE serialises concurrent callers until commit, and a rollback returns the number,
    so numbers are neither repeated nor skipped."""
    prefix = settings.DOCUMENT_NUMBER_PREFIX if prefix is None else prefix
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("document_number_allocate() must run inside transaction.atomic()")
    try:
        with transaction.atomic():
            DocumentSequence.objects.get_or_create(prefix=prefix, year=year)
    except IntegrityError:
        pass  # created by a concurrent caller between our read and insert; the row exists now
    DocumentSequence.objects.filter(prefix=prefix, year=year).update(last_number=F("last_number") + 1)
    number = DocumentSequence.objects.get(prefix=prefix, year=year).last_number
    return format_document_number(prefix, year, number)


# --- Notifications outbox ---------------------------------------------------------------------------------


def notify(*, kind, subject, body, dedup_key, user=None, organisation=None, role="", link=""):
    """Write a notification in the caller's transaction. Writing the same dedup_key again is a no-op."""
    created = Notification.objects.bulk_create(
        [
            Notification(
                kind=kind,
                subject=subject[:200],
                body=body,
                link=link,
                dedup_key=dedup_key[:120],
                recipient_user=user,
                recipient_organisation=organisation,
                recipient_role=role,
            )
        ],
        ignore_conflicts=True,
    )
    return created[0]


def notifications_for(user):
    """What a user sees in the portal: addressed to them, their organisation, or one of their roles, each
    annotated with `read_at`, the time this user read it (None while unread)."""
    condition = Q(recipient_user=user)
    if user.organisation_id:
        condition |= Q(recipient_organisation_id=user.organisation_id)
    roles = [role.value for role in user.roles]
    if roles:
        condition |= Q(recipient_role__in=roles)
    read = NotificationRead.objects.filter(notification=OuterRef("pk"), user=user).values("read_at")[:1]
    return Notification.objects.filter(condition).annotate(read_at=Subquery(read))


def unread_notifications_count(user):
    if not user.is_authenticated:
        return 0
    read = NotificationRead.objects.filter(notification=OuterRef("pk"), user=user)
    return notifications_for(user).exclude(Exists(read)).count()


def _recipient_emails(notification):
    User = get_user_model()
    users = User.objects.filter(is_active=True).exclude(email="")
    if notification.recipient_user_id:
        users = users.filter(pk=notification.recipient_user_id)
    elif notification.recipient_organisation_id:
        users = users.filter(organisation_id=notification.recipient_organisation_id)
    else:
        users = users.filter(groups__name=notification.recipient_role)
    return sorted(set(users.values_list("email", flat=True)))


MAX_SEND_ATTEMPTS = 8


def notifications_send_pending(*, batch_size=200, now=None):
    """Send what the outbox holds. Each row is claimed with SKIP LOCKED, so two workers never send the same
    row at once; a failure is retried with exponential backoff (1, 2, 4 … minutes). A crash between sending
    and marking can resend one message, which is harmless: the text says the same thing twice."""
    now = now or timezone.now()
    sent = failed = 0
    due = (
        Notification.objects.filter(sent_at__isnull=True, attempts__lt=MAX_SEND_ATTEMPTS)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .order_by("id")
    )
    with transaction.atomic():
        batch = list(due.select_for_update(skip_locked=True)[:batch_size])
        for notification in batch:
            recipients = _recipient_emails(notification)
            try:
                if recipients:
                    send_mail(
                        notification.subject,
                        notification.body,
                        settings.DEFAULT_FROM_EMAIL,
                        recipients,
                        fail_silently=False,
                    )
            except Exception as exc:  # any transport error: record it and try again later
                logger.warning("notification %s not sent: %s", notification.pk, exc)
                notification.attempts += 1
                notification.last_error = str(exc)[:2000]
                notification.next_attempt_at = now + timedelta(minutes=2 ** (notification.attempts - 1))
                notification.save(update_fields=["attempts", "last_error", "next_attempt_at"])
                failed += 1
                continue
            notification.attempts += 1
            notification.sent_at = now
            notification.save(update_fields=["attempts", "sent_at"])
            sent += 1
    return {"sent": sent, "failed": failed}


def notification_mark_read(*, notification, user):
    if notifications_for(user).filter(pk=notification.pk).exists():
        NotificationRead.objects.get_or_create(
            notification_id=notification.pk, user=user, defaults={"read_at": timezone.now()}
        )


# --- Uploads --------------------------------------------------------------------------------------------

# What may be uploaded, decided from the file's first bytes, never from its name or the browser's claim.
ALLOWED_UPLOAD_TYPES = {
    "application/pdf",
    "image/png",
    "image/jpeg",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/msword",
    "application/vnd.ms-excel",
    "application/vnd.ms-powerpoint",
}
MAX_UPLOAD_BYTES = 20 * 1024 * 1024


def upload_check(uploaded):
    """Validate an uploaded file by content and size; returns its MIME type or raises ValidationError."""
    if uploaded.size > MAX_UPLOAD_BYTES:
        raise ValidationError(
            _("The file “%(name)s” is larger than %(limit)s.")
            % {"name": uploaded.name, "limit": filesizeformat(MAX_UPLOAD_BYTES)},
            code="too_large",
        )
    uploaded.seek(0)
    head = uploaded.read(8192)
    uploaded.seek(0)
    kind = filetype.guess(head)
    if kind is None or kind.mime not in ALLOWED_UPLOAD_TYPES:
        raise ValidationError(
            _("The file “%(name)s” is not a PDF, PNG or JPEG image, or Office document.") % {"name": uploaded.name},
            code="file_type",
        )
    return kind.mime


def attachment_store(*, target, uploaded, by, purpose=""):
    """Store a checked upload against `target`. Call upload_check in the form first so errors show there."""
    mime = upload_check(uploaded)
    digest = hashlib.sha256()
    for chunk in uploaded.chunks():
        digest.update(chunk)
    uploaded.seek(0)
    attachment = Attachment(
        content_type=ContentType.objects.get_for_model(target),
        object_id=target.pk,
        purpose=purpose,
        original_name=uploaded.name[:200],
        mime_type=mime,
        size=uploaded.size,
        sha256=digest.hexdigest(),
        uploaded_by=by,
        uploaded_at=timezone.now(),
    )
    # Files are named by their hash, so a file left behind by a rolled-back transaction is never served
    # (no row points at it) and an identical later upload reuses the same name.
    attachment.file.save(attachment.sha256, uploaded, save=False)
    attachment.save()
    return attachment


def attachments_of(target):
    return Attachment.objects.filter(content_type=ContentType.objects.get_for_model(target), object_id=target.pk)


def attach_files(targets, attribute="files"):
    """Set `attribute` on each of `targets` (one model) to its attachments, in attachments_of's order: one query
    for a whole list page instead of one per row."""
    targets = list(targets)
    if not targets:
        return targets
    by_target = {target.pk: [] for target in targets}
    content_type = ContentType.objects.get_for_model(targets[0])
    for attachment in Attachment.objects.filter(content_type=content_type, object_id__in=list(by_target)):
        by_target[attachment.object_id].append(attachment)
    for target in targets:
        setattr(target, attribute, by_target[target.pk])
    return targets
