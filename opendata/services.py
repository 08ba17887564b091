"""Publishing on the public portal: announcements and the excellent-provider batches (Art 15).

Every function locks its row, checks the user's permission and the record's state, and records who acted in the
state log, so the admin, the API and commands share one write path. Saving the rows writes the PublicChange that
refreshes the cached public pages (opendata.signals)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from evaluations.documents import excellent_list_pdf
from evaluations.models import ExcellentBatch
from tangshan_portal.documents import issue_after_commit
from tangshan_portal.models import Announcement
from tangshan_portal.transitions import TransitionError, locked, log_event, require

ANNOUNCEMENT_PUBLISH_PERMISSION = "portal.publish_announcement"
EXCELLENT_PUBLISH_PERMISSION = "evaluations.publish_excellent_batch"


def announcement_state(announcement):
    if announcement.withdrawn_at is not None:
        return "withdrawn"
    if announcement.published_at is not None:
        return "published"
    return "draft"


@transaction.atomic
def announcement_publish(*, announcement, by, now=None):
    """A draft becomes public now; from then on its text is fixed (a correction is a new announcement)."""
    require(by.has_perm(ANNOUNCEMENT_PUBLISH_PERMISSION))
    announcement = locked(Announcement, announcement.pk)
    if announcement.published_at is not None:
        raise TransitionError(_("This announcement was already published."))
    if not announcement.title.strip() or not announcement.body.strip():
        raise ValidationError(_("An announcement needs a title and a text before it is published."))
    announcement.published_at = now or timezone.now()
    announcement.save(update_fields=["published_at", "updated_at"])
    log_event(
        announcement,
        by=by,
        description=_("Published"),
        state="published",
        transition="publish",
        source_state="draft",
    )
    return announcement


@transaction.atomic
def announcement_withdraw(*, announcement, by, reason, now=None):
    """Taken off the portal with a stated reason; the row and its text are kept."""
    require(by.has_perm(ANNOUNCEMENT_PUBLISH_PERMISSION))
    announcement = locked(Announcement, announcement.pk)
    if announcement.published_at is None:
        raise TransitionError(_("Only a published announcement can be withdrawn; delete or edit a draft instead."))
    if announcement.withdrawn_at is not None:
        raise TransitionError(_("This announcement was already withdrawn."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("State why the announcement is withdrawn; the public page shows it.")})
    announcement.withdrawn_at = now or timezone.now()
    announcement.withdrawal_reason = reason
    announcement.save(update_fields=["withdrawn_at", "withdrawal_reason", "updated_at"])
    log_event(
        announcement,
        by=by,
        description=reason,
        state="withdrawn",
        transition="withdraw",
        source_state="published",
    )
    return announcement


def _excellent_announcement_body(batch, entries):
    lines = [
        _("%(authority)s selected the following excellent digital-service providers for %(start)s to %(end)s:")
        % {
            "authority": settings.PORTAL_AUTHORITY_NAME,
            "start": batch.period_start.isoformat(),
            "end": batch.period_end.isoformat(),
        },
        "",
    ]
    lines += [f"{entry.rank}. {entry.provider.name}（{entry.provider.uscc}）" for entry in entries]
    # A site-relative path: the announcement page turns it into a link (opendata.views.linked_paragraphs).
    lines += ["", _("The list with scores and citations: %(path)s") % {"path": excellent_batch_path(batch)}]
    return "\n".join(lines)


def excellent_batch_path(batch):
    return reverse("public:excellent_detail", args=[batch.pk])


@transaction.atomic
def excellent_batch_publish(*, batch, by, now=None):
    """An approver publishes a drafted batch (Art 15) and, in the same transaction, the announcement of it.

    Every listed provider must still be in the resource pool: one revoked since the draft was written cannot be
    announced as excellent."""
    require(by.has_perm(EXCELLENT_PUBLISH_PERMISSION), _("Only an approver may publish an excellent-provider list."))
    batch = locked(ExcellentBatch, batch.pk)
    if batch.status != ExcellentBatch.Status.DRAFT:
        raise TransitionError(_("This batch was already published."))
    entries = list(batch.entries.select_related("provider").order_by("rank"))
    if not entries:
        raise ValidationError(_("Add at least one provider to the batch before publishing it."))
    outside = [entry.provider.name for entry in entries if not entry.provider.is_in_pool]
    if outside:
        raise ValidationError(
            _("These providers are no longer in the resource pool; remove them first: %(names)s")
            % {"names": "、".join(outside)}
        )
    now = now or timezone.now()
    batch.status = ExcellentBatch.Status.PUBLISHED
    batch.published_at = now
    batch.published_by = by
    batch.save(update_fields=["status", "published_at", "published_by", "updated_at"])
    log_event(batch, by=by, description=_("Published"), state="published", transition="publish", source_state="draft")
    title = _("Excellent digital-service providers: %(name)s") % {"name": batch.name}
    if batch.document_number:
        title = f"{title}（{batch.document_number}）"
    Announcement.objects.create(
        title=title[:200],
        category=Announcement.Category.EXCELLENT,
        body=_excellent_announcement_body(batch, entries),
        published_at=now,
        created_by=by,
    )
    issue_after_commit(excellent_list_pdf, batch, by)
    return batch
