"""Background jobs (tangshan_portal.jobs): a job runs once, its outcome is recorded whatever the runner does,
progress is visible while it runs, and the safety net issues documents a decision failed to produce."""

import pytest
from django.contrib.contenttypes.models import ContentType

from tangshan_portal import documents, jobs
from tangshan_portal.models import BackgroundJob, IssuedDocument
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

KIND = BackgroundJob.Kind.IMPORT


@pytest.fixture
def runners():
    saved = dict(jobs._RUNNERS)
    yield jobs._RUNNERS
    jobs._RUNNERS.clear()
    jobs._RUNNERS.update(saved)


def _job(**params):
    return BackgroundJob.objects.create(kind=KIND, requested_by=UserFactory(), params=params)


def test_a_job_runs_once_even_when_its_message_is_delivered_twice(runners):
    calls = []
    runners[KIND] = lambda job: calls.append(job.pk) or {"summary": "ok"}
    job = _job()

    assert jobs.job_run(job.pk) == BackgroundJob.Status.DONE
    assert jobs.job_run(job.pk) == BackgroundJob.Status.DONE

    assert calls == [job.pk]
    job.refresh_from_db()
    assert job.result == {"summary": "ok"}
    assert job.started_at and job.finished_at and job.percent == 100


def test_progress_is_visible_to_others_while_the_job_runs(runners):
    seen = []

    def runner(job):
        for done in range(1, 4):
            jobs.job_progress(job, done, total=3, stage="rows")
            # What another request (the progress page) reads at this moment.
            seen.append(BackgroundJob.objects.values_list("done_steps", "total_steps", "stage").get(pk=job.pk))
        return {}

    runners[KIND] = runner
    job = _job()
    jobs.job_run(job.pk)

    assert seen == [(1, 3, "rows"), (2, 3, "rows"), (3, 3, "rows")]


def test_progress_never_passes_the_total(runners):
    def runner(job):
        jobs.job_progress(job, 10, total=4)
        return {}

    runners[KIND] = runner
    job = _job()
    jobs.job_run(job.pk)

    job.refresh_from_db()
    assert (job.done_steps, job.total_steps) == (4, 4)


def test_a_job_error_is_shown_to_the_requester_as_written(runners):
    def runner(job):
        raise jobs.JobError("您已无权查看该企业档案。")

    runners[KIND] = runner
    job = _job()

    assert jobs.job_run(job.pk) == BackgroundJob.Status.FAILED
    job.refresh_from_db()
    assert job.error == "您已无权查看该企业档案。"


def test_an_unexpected_exception_fails_the_job_and_is_logged(runners, caplog):
    def runner(job):
        raise ZeroDivisionError("boom")

    runners[KIND] = runner
    job = _job()

    assert jobs.job_run(job.pk) == BackgroundJob.Status.FAILED
    job.refresh_from_db()
    # The requester is not shown the exception, which may quote data; the administrator sees its type.
    assert "boom" not in job.error and job.error
    assert job.result == {"exception": "ZeroDivisionError"}
    assert any("failed" in r.getMessage() for r in caplog.records if r.levelname == "ERROR")


def test_a_kind_without_runner_fails_instead_of_hanging(runners):
    runners.pop(KIND, None)
    job = _job()

    assert jobs.job_run(job.pk) == BackgroundJob.Status.FAILED


def test_job_start_enqueues_only_after_commit(runners, settings, django_capture_on_commit_callbacks):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    runners[KIND] = lambda job: {"summary": "done"}
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = jobs.job_start(kind=KIND, by=UserFactory(), params={"x": 1})
    job.refresh_from_db()
    assert job.status == BackgroundJob.Status.QUEUED and len(callbacks) == 1

    callbacks[0]()

    job.refresh_from_db()
    assert job.status == BackgroundJob.Status.DONE


def test_jobs_of_lists_only_the_users_own():
    mine, other = _job(), _job()

    assert list(jobs.jobs_of(mine.requested_by)) == [mine]
    assert other not in jobs.jobs_of(mine.requested_by)


def test_missing_documents_are_issued_once_and_a_failure_does_not_stop_the_others(monkeypatch, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    from tangshan_portal.models import User

    a, b, c = UserFactory(), UserFactory(), UserFactory()
    built = []

    def builder(record, by):
        if record.pk == b.pk:
            raise RuntimeError("font missing")
        built.append(record.pk)
        return IssuedDocument.objects.create(
            kind=IssuedDocument.Kind.DOSSIER,
            title="t",
            verification_code=f"{record.pk:032x}",
            sha256=f"{record.pk:064x}",
            file="documents/x.pdf",
            pages=1,
            size=1,
            content_type=ContentType.objects.get_for_model(User),
            object_id=record.pk,
            issued_at="2026-11-29T00:00:00Z",
            authority="x",
        )

    monkeypatch.setattr(documents, "_DUE", {})
    documents.register_due_documents(
        IssuedDocument.Kind.DOSSIER, lambda: User.objects.filter(pk__in=[a.pk, b.pk, c.pk]), builder
    )

    assert documents.documents_issue_missing() == {IssuedDocument.Kind.DOSSIER: 2}
    assert sorted(built) == sorted([a.pk, c.pk])
    # A second sweep retries only the one that failed (and it fails again here).
    built.clear()
    assert documents.documents_issue_missing() == {}
    assert built == []


def test_the_sweep_issues_the_notice_a_decision_left_without_one(officer):
    # Under a test transaction the after-commit issue never runs: exactly the state a failed render leaves.
    from tests.factories_documents import ordered_rectification

    case = ordered_rectification(officer=officer)
    assert not IssuedDocument.objects.filter(kind=IssuedDocument.Kind.RECTIFICATION_NOTICE).exists()

    issued = documents.documents_issue_missing()

    assert issued.get(IssuedDocument.Kind.RECTIFICATION_NOTICE) == 1
    doc = IssuedDocument.objects.get(kind=IssuedDocument.Kind.RECTIFICATION_NOTICE)
    assert (doc.object_id, doc.document_number) == (case.pk, case.document_number)
    assert list(doc.recipients.all()) == [case.provider.organisation]
    assert documents.documents_issue_missing().get(IssuedDocument.Kind.RECTIFICATION_NOTICE) is None


def test_the_uploaded_file_is_deleted_when_the_job_ends(runners):
    from django.core.files.base import ContentFile

    runners[KIND] = lambda job: {"summary": "ok"}
    job = BackgroundJob(kind=KIND, requested_by=UserFactory())
    job.input_file.save("contacts.xlsx", ContentFile(b"PK\x03\x04 spreadsheet"), save=False)
    job.save()
    storage, name = job.input_file.storage, job.input_file.name
    assert storage.exists(name)

    jobs.job_run(job.pk)

    assert not storage.exists(name)
    job.refresh_from_db()
    assert job.input_file.name == name  # the row still says which file it was
