"""Background jobs with progress (a dossier PDF, a large import): one row per job, a Celery task that receives
only its id, and runners registered by the apps that own the work (the portal app imports none of them).

Progress is written with single-row UPDATEs outside the runner's own transaction, so the requester's page
sees it while the work goes on; a runner that must be all-or-nothing keeps its writes in one transaction
and reports progress only between the steps that do not write (see tangshan_portal.imports).
"""

import logging

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import BackgroundJob

logger = logging.getLogger(__name__)

_RUNNERS = {}


class JobError(Exception):
    """A failure the requester should read (already translated); anything else is logged as a defect."""


def register_runner(kind, runner):
    """`runner(job)` does the work and returns the result dict; apps register theirs in AppConfig.ready()."""
    _RUNNERS[kind] = runner


def job_start(*, kind, by, params=None, input_file=None):
    job = BackgroundJob(kind=kind, requested_by=by, params=params or {})
    if input_file is not None:
        job.input_file.save(input_file.name, input_file, save=False)
    job.save()
    from .tasks import run_job

    # After commit: a worker that picked the id up earlier would not find the row.
    transaction.on_commit(lambda: run_job.delay(job.pk))
    return job


def job_progress(job, done, total=None, stage=None):
    fields = {"done_steps": done}
    if total is not None:
        fields["total_steps"] = total
        job.total_steps = total
    if stage is not None:
        fields["stage"] = stage
        job.stage = stage
    job.done_steps = min(done, job.total_steps) if job.total_steps else 0
    fields["done_steps"] = job.done_steps
    BackgroundJob.objects.filter(pk=job.pk).update(**fields)


def job_run(job_id):
    """What the task does: claim a queued job once, run it, record the outcome. Returns the final status."""
    claimed = BackgroundJob.objects.filter(pk=job_id, status=BackgroundJob.Status.QUEUED).update(
        status=BackgroundJob.Status.RUNNING, started_at=timezone.now()
    )
    if not claimed:
        # A redelivered message (acks_late). For a finished job there is nothing to do. A job still marked
        # running lost its worker mid-way (CELERY_TASK_REJECT_ON_WORKER_LOST sends the message again): left
        # alone it would show "running" for ever, and running it again could kill the next worker the same
        # way (a huge document, memory), message after message. It is closed as failed; the requester may
        # start it again. Should the first worker still be alive after all, its own outcome overwrites this.
        BackgroundJob.objects.filter(pk=job_id, status=BackgroundJob.Status.RUNNING).update(
            status=BackgroundJob.Status.FAILED,
            finished_at=timezone.now(),
            error=_("The work was interrupted before it finished. Please start it again."),
        )
        return BackgroundJob.objects.filter(pk=job_id).values_list("status", flat=True).first()
    job = BackgroundJob.objects.get(pk=job_id)
    runner = _RUNNERS.get(job.kind)
    try:
        if runner is None:
            logger.error("No runner registered for background jobs of kind %r", job.kind)
            raise JobError(_("This kind of work cannot be done at the moment. Please contact the bureau."))
        result = runner(job) or {}
    except JobError as exc:
        _finish(job, BackgroundJob.Status.FAILED, error=str(exc))
    except Exception as exc:
        # The requester reads a plain message; the exception (which may quote data or paths) goes to the log
        # and, by type only, to the job's result for the system administrator.
        logger.exception("Background job %s failed", job.pk)
        _finish(
            job,
            BackgroundJob.Status.FAILED,
            result={"exception": type(exc).__name__},
            error=_("An unexpected error stopped the work. It has been logged; please try again later."),
        )
    else:
        _finish(job, BackgroundJob.Status.DONE, result=result)
    return job.status


def _finish(job, status, *, result=None, error=""):
    job.refresh_from_db(fields=["document", "result"])
    job.status = status
    job.finished_at = timezone.now()
    job.error = error
    if result is not None:
        job.result = result
    job.save(update_fields=["status", "finished_at", "error", "result"])
    if job.input_file:
        # An uploaded spreadsheet holds contact data: once read it is not kept (minimum retention, Art 10(1)).
        # The audit event keeps its name and row counts; the row keeps the name.
        job.input_file.storage.delete(job.input_file.name)


def jobs_of(user):
    return BackgroundJob.objects.filter(requested_by=user)
