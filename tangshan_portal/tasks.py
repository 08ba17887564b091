import socket
from importlib import import_module

from celery import shared_task

from . import services


@shared_task(name="portal.record_worker_heartbeat")
def record_worker_heartbeat():
    """Lets /healthz tell whether a worker is consuming the queue; the beat schedule sends it every minute."""
    return services.worker_heartbeat_record(hostname=socket.gethostname()).isoformat()


@shared_task(
    name="portal.send_notifications",
    autoretry_for=(Exception,),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=5,
)
def send_notifications():
    """Drains the outbox; each row also carries its own retry schedule, so a failed run loses nothing."""
    return services.notifications_send_pending()


@shared_task(name="portal.run_job", acks_late=True)
def run_job(job_id):
    """A dossier PDF or a large import (tangshan_portal.jobs); the row carries everything the runner needs."""
    from .jobs import job_run

    return job_run(job_id)


@shared_task(name="portal.issue_missing_documents")
def issue_missing_documents():
    """The safety net behind issue_after_commit: no decided record stays without its document."""
    from .documents import documents_issue_missing

    return documents_issue_missing()


@shared_task(name="portal.clear_expired_sessions")
def clear_expired_sessions():
    """What `manage.py clearsessions` does: expired sessions leave the store, with what they held."""
    from django.conf import settings

    import_module(settings.SESSION_ENGINE).SessionStore.clear_expired()


@shared_task(name="portal.verify_audit")
def verify_audit():
    """What `manage.py verify_audit` does, every day: a broken chain is logged as an ERROR and notified to the
    security administrators and auditors (audit.audit_chain_check)."""
    from .audit import audit_chain_check

    report = audit_chain_check()
    return {"ok": report.ok, "events": report.events, "last_sequence": report.last_sequence}


@shared_task(name="portal.purge_audit")
def purge_audit():
    """What `manage.py purge_audit` does, every day: events older than AUDIT_RETENTION_DAYS go, from the start of
    the chain, after a checkpoint. Safe to run again after an interruption."""
    from .audit import purge_expired_events

    result = purge_expired_events(source="celery beat: portal.purge_audit")
    return {"deleted": result.deleted, "up_to_sequence": result.up_to_sequence}
