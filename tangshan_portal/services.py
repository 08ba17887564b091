from django.db import transaction
from django.utils import timezone

from .models import WorkerHeartbeat


@transaction.atomic
def worker_heartbeat_record(*, hostname):
    """Upsert one row per worker host: repeated or duplicated deliveries leave the same single row."""
    now = timezone.now()
    WorkerHeartbeat.objects.update_or_create(hostname=hostname[:200], defaults={"seen_at": now})
    return now
