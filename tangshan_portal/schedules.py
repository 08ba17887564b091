"""Periodic tasks are declared here and written into django-celery-beat's tables by `sync_schedules`, so that
staff can see and pause them in the admin while the code stays the source of what should exist."""

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction


@dataclass(frozen=True)
class Daily:
    """Once a day at this local time (CELERY_TIMEZONE): for housekeeping that should run at night, not
    at whatever hour the beat happened to start."""

    hour: int
    minute: int = 0


# name -> (task, every N seconds | Daily(hour, minute))
PERIODIC_TASKS = {
    "worker heartbeat": ("portal.record_worker_heartbeat", 60),
    "send notifications": ("portal.send_notifications", 60),
    # Deadlines are dates, so hourly is ample; the sweep compares with "now" and catches up after downtime.
    "check deadlines (Art 12-13)": ("evaluations.check_deadlines", 3600),
    # Admissions take effect the day after their public notice ends (Art 2).
    "admit after public notice (Art 2)": ("providers.admit_after_notice", 3600),
    # A document whose issuance failed right after its decision (tangshan_portal.documents) is issued here.
    "issue missing documents": ("portal.issue_missing_documents", 900),
    # Issue 8: the audit chain is verified every night (a break is notified), then the events past their
    # retention are purged, and expired sessions leave the store.
    "verify audit chain": ("portal.verify_audit", Daily(hour=2, minute=0)),
    "purge expired audit events": ("portal.purge_audit", Daily(hour=2, minute=30)),
    "clear expired sessions": ("portal.clear_expired_sessions", Daily(hour=3, minute=0)),
}


def _schedule(every, using):
    """The interval or crontab row for a declaration, as the PeriodicTask fields (exactly one of them set)."""
    from django_celery_beat.models import CrontabSchedule, IntervalSchedule

    if isinstance(every, Daily):
        crontab, _ = CrontabSchedule.objects.using(using).get_or_create(
            minute=str(every.minute),
            hour=str(every.hour),
            day_of_week="*",
            day_of_month="*",
            month_of_year="*",
            timezone=settings.CELERY_TIMEZONE,
        )
        return {"crontab": crontab, "interval": None}
    interval, _ = IntervalSchedule.objects.using(using).get_or_create(every=every, period=IntervalSchedule.SECONDS)
    return {"interval": interval, "crontab": None}


def sync_schedules(using="default"):
    from django_celery_beat.models import PeriodicTask

    with transaction.atomic(using=using):
        for name, (task, every) in PERIODIC_TASKS.items():
            # `enabled` is left alone on update: a pause set by staff in the admin survives a redeploy.
            PeriodicTask.objects.using(using).update_or_create(
                name=name, defaults={"task": task, **_schedule(every, using)}
            )
