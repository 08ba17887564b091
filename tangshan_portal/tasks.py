import socket

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
