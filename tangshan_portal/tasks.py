import socket

from celery import shared_task

from . import services


@shared_task(name="portal.record_worker_heartbeat")
def record_worker_heartbeat():
    """Lets /healthz tell whether a worker is consuming the queue; the beat schedule sends it every minute."""
    return services.worker_heartbeat_record(hostname=socket.gethostname()).isoformat()
