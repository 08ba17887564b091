"""Background work of the dossier: fetch by id, call a service."""

from celery import shared_task

from . import services


@shared_task(name="dossiers.execute_destruction", acks_late=True)
def execute_destruction(request_id):
    """Carry out an approved destruction (Art 10(1)); harmless when it was already carried out, in which case any
    file the first run could not remove is removed now."""
    record = services.destruction_execute(request_id=request_id)
    return {"record": record.pk, "manifest_sha256": record.manifest_sha256}
