"""Issue 7, part 2: a large file is imported by a background job with progress, still all or nothing, audited
like a synchronous import; the job page is its requester's only. Celery runs eagerly on SQLite here."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from providers.models import Provider
from tangshan_portal import imports, jobs
from tangshan_portal.models import AuditEvent, BackgroundJob
from tangshan_portal.roles import Role
from tests.factories import CountyFactory, UserFactory
from tests.factories_imports import import_uscc, provider_row, xlsx_bytes

pytestmark = pytest.mark.django_db

BAD_USCC = import_uscc(2)[:-1] + ("0" if import_uscc(2)[-1] != "0" else "1")


@pytest.fixture(autouse=True)
def eager(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.IMPORT_ASYNC_ROWS = 2000


@pytest.fixture
def county():
    return CountyFactory()


@pytest.fixture
def officer():
    return UserFactory(role=Role.OFFICER)


@pytest.fixture
def progress(monkeypatch):
    """Every progress write the runner makes: (done, total, stage) as the job page would read them."""
    seen = []
    real = jobs.job_progress

    def recording(job, done, total=None, stage=None):
        real(job, done, total, stage)
        row = BackgroundJob.objects.get(pk=job.pk)
        seen.append((row.done_steps, row.total_steps, row.stage))

    monkeypatch.setattr(imports, "job_progress", recording)
    return seen


def _upload_and_confirm(client, content, django_capture_on_commit_callbacks, name="providers.xlsx"):
    preview = client.post(
        reverse("admin:providers_provider_import"), {"format": "0", "import_file": SimpleUploadedFile(name, content)}
    )
    assert preview.status_code == 200
    assert preview.context["registry_errors"] == []
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:providers_provider_process_import"), preview.context["confirm_form"].initial
        )
    return preview, response


def test_large_file_goes_to_a_job_that_imports_everything(
    client, county, officer, progress, django_capture_on_commit_callbacks
):
    rows = [provider_row(n, county.code) for n in range(1, 2002)]
    client.force_login(officer)

    preview, response = _upload_and_confirm(client, xlsx_bytes(rows), django_capture_on_commit_callbacks)

    # The preview read only the first rows and said how many the file has.
    assert preview.context["rows_in_file"] == 2001
    assert preview.context["preview_rows"] == imports.PREVIEW_ROWS
    job = BackgroundJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("job_status", args=[job.pk])
    assert job.kind == BackgroundJob.Kind.IMPORT and job.requested_by == officer
    assert job.params["model"] == "providers.Provider" and job.params["format"] == "xlsx"
    assert job.params["rows"] == 2001 and job.params["scope"] == {"county": None, "superuser": False}
    assert job.input_file.name.endswith(".xlsx")

    assert job.status == BackgroundJob.Status.DONE, job.error
    assert (job.done_steps, job.total_steps) == (2001, 2001)
    assert Provider.objects.count() == 2001
    assert (job.result["new"], job.result["updated"], job.result["rows"]) == (2001, 0, 2001)
    assert job.result["summary"]
    # Progress moved in steps between the dry-run parts, and reached the total before the write.
    dones = [done for done, _total, _stage in progress]
    assert dones == sorted(dones) and dones[0] == 0 and dones[-1] == 2001 and len(set(dones)) >= 4
    event = AuditEvent.objects.get(action=AuditEvent.Action.IMPORT)
    assert event.actor == officer
    assert {key: event.detail[key] for key in ("model", "rows", "new", "file_name", "job")} == {
        "model": "providers.Provider",
        "rows": 2001,
        "new": 2001,
        "file_name": "providers.xlsx",
        "job": job.pk,
    }
    page = client.get(reverse("job_status", args=[job.pk]))
    assert page.status_code == 200 and job.result["summary"] in page.content.decode()


def test_one_bad_row_in_a_job_saves_nothing_and_names_the_row(
    client, county, officer, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.IMPORT_ASYNC_ROWS = 20
    monkeypatch.setattr(imports, "CHUNK_ROWS", 10)
    monkeypatch.setattr(imports, "PREVIEW_ROWS", 10)
    rows = [provider_row(n, county.code) for n in range(1, 31)]
    rows[26]["uscc"] = BAD_USCC  # data row 27: spreadsheet row 28, in the third part of the file
    client.force_login(officer)

    _preview, _response = _upload_and_confirm(client, xlsx_bytes(rows), django_capture_on_commit_callbacks)

    job = BackgroundJob.objects.get()
    assert job.status == BackgroundJob.Status.FAILED
    assert Provider.objects.count() == 0
    assert [error["row"] for error in job.result["errors"]] == [28]
    assert job.result["errors"][0]["message"].startswith("统一社会信用代码：")
    assert "1" in job.error  # how many rows have errors
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.IMPORT).exists()
    page = client.get(reverse("job_status", args=[job.pk])).content.decode()
    assert ">28</" in page and job.result["errors"][0]["message"] in page


def test_duplicate_rows_in_different_parts_are_found_before_anything_is_written(county, officer, settings, monkeypatch):
    monkeypatch.setattr(imports, "CHUNK_ROWS", 10)
    rows = [provider_row(n, county.code) for n in range(1, 26)]
    rows[21] = provider_row(3, county.code)  # row 23 repeats row 4's USCC
    job = _job(officer, rows)

    jobs.job_run(job.pk)

    job.refresh_from_db()
    assert job.status == BackgroundJob.Status.FAILED
    assert [(error["row"], "第 4 行" in error["message"]) for error in job.result["errors"]] == [(23, True)]
    assert Provider.objects.count() == 0


def _job(user, rows):
    return imports.import_job_start(
        model_admin=imports.IMPORTERS["providers.Provider"], user=user, content=xlsx_bytes(rows), file_name="p.xlsx"
    )


def test_a_failure_while_writing_rolls_everything_back_and_names_the_row(county, officer, monkeypatch):
    """The database changes between the dry run and the write: the write checks again and keeps nothing."""
    rows = [provider_row(n, county.code) for n in range(1, 6)]
    real = imports.job_progress

    def progress(job, done, total=None, stage=None):
        real(job, done, total, stage)
        if stage and done == 5:  # the dry runs are over: someone registers row 4's provider meanwhile
            Provider.objects.create(**{**_provider_fields(rows[2], county), "address": "别处1号"})

    monkeypatch.setattr(imports, "job_progress", progress)
    job = _job(officer, rows)

    jobs.job_run(job.pk)

    job.refresh_from_db()
    assert job.status == BackgroundJob.Status.FAILED
    # The registration data of the provider now on record differ from the file's: refused for row 4 only.
    assert {error["row"] for error in job.result["errors"]} == {4}
    assert any(error["message"].startswith("注册地址：") for error in job.result["errors"])
    assert list(Provider.objects.values_list("uscc", flat=True)) == [rows[2]["uscc"]]  # only the other one


def _provider_fields(row, county):
    return {
        "name": row["name"],
        "uscc": row["uscc"],
        "legal_representative": row["legal_representative"],
        "address": row["address"],
        "provider_type": row["provider_type"],
        "county": county,
    }


def test_the_job_checks_the_permission_again(county, officer):
    job = _job(officer, [provider_row(1, county.code)])
    officer.groups.clear()
    officer.__dict__.pop("_roles_cache", None)

    jobs.job_run(job.pk)

    job.refresh_from_db()
    assert job.status == BackgroundJob.Status.FAILED and job.error
    assert Provider.objects.count() == 0


def test_job_page_of_another_user_is_404(client, county, officer):
    job = _job(officer, [provider_row(1, county.code)])
    client.force_login(UserFactory(role=Role.OFFICER))
    assert client.get(reverse("job_status", args=[job.pk])).status_code == 404
    client.logout()
    response = client.get(reverse("job_status", args=[job.pk]))
    assert response.status_code == 302 and "login" in response["Location"]


def test_small_files_are_imported_in_the_request(client, county, officer, django_capture_on_commit_callbacks):
    client.force_login(officer)
    rows = [provider_row(n, county.code) for n in range(1, 4)]
    _preview, response = _upload_and_confirm(client, xlsx_bytes(rows), django_capture_on_commit_callbacks)
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:providers_provider_changelist")
    assert not BackgroundJob.objects.exists()
    assert Provider.objects.count() == 3
