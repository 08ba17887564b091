"""Periodic tasks are declared here and written into django-celery-beat's tables by `sync_schedules`, so that
staff can see and pause them in the admin while the code stays the source of what should exist."""

from django.db import transaction

# name -> (task, every N seconds)
PERIODIC_TASKS = {
    "worker heartbeat": ("portal.record_worker_heartbeat", 60),
    "send notifications": ("portal.send_notifications", 60),
    # Deadlines are dates, so hourly is ample; the sweep compares with "now" and catches up after downtime.
    "check deadlines (Art 12-13)": ("evaluations.check_deadlines", 3600),
    # Admissions take effect the day after their public notice ends (Art 2).
    "admit after public notice (Art 2)": ("providers.admit_after_notice", 3600),
    # A document whose issuance failed right after its decision (tangshan_portal.documents) is issued here.
    "issue missing documents": ("portal.issue_missing_documents", 900),
}


def sync_schedules(using="default"):
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    with transaction.atomic(using=using):
        for name, (task, seconds) in PERIODIC_TASKS.items():
            interval, _ = IntervalSchedule.objects.using(using).get_or_create(
                every=seconds, period=IntervalSchedule.SECONDS
            )
            # `enabled` is left alone on update: a pause set by staff in the admin survives a redeploy.
            PeriodicTask.objects.using(using).update_or_create(name=name, defaults={"task": task, "interval": interval})
