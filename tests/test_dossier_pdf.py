"""The enterprise dossier as a PDF (一企一档): started from the dossier page, built by a background job whose
progress the requester sees, holding exactly what the page shows that user, re-checking access when it runs."""

import hashlib
import re
import shutil
import subprocess
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import translation

from dossiers import documents as dossier_documents
from dossiers.documents import SECTIONS, STAGE_RENDER, STAGE_STORE, TOTAL_STEPS, dossier_context, dossier_pdf_issue
from dossiers.selectors import dossier_access, dossier_build
from enterprises.models import ContractStatus, ServiceContract
from tangshan_portal import documents as portal_documents
from tangshan_portal.models import AuditEvent, BackgroundJob, IssuedDocument, Organisation
from tangshan_portal.roles import Role
from tests.factories import PilotEnterpriseFactory, ProviderFactory, UserFactory
from tests.factories_documents import plaintext_file
from tests.factories_dossier import (
    DossierSurveyFactory,
    LevelAssessmentFactory,
    MilestoneFactory,
    SignedContractFactory,
    TrainingAttendanceFactory,
    TrainingSessionFactory,
)
from tests.test_documents import assert_renders_cjk, cjk_cmap  # noqa: F401  (cjk_cmap is a fixture)

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils"),
]

PHONE = "0315-7654321"
SECRET_A = "热轧线温控曲线与两家焦炭供应商报价"
SECRET_B = "涂装车间配方与在审专利"


@pytest.fixture(autouse=True)
def _media_and_eager(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.CELERY_TASK_ALWAYS_EAGER = True


@pytest.fixture
def enterprise(db):
    return PilotEnterpriseFactory(name="唐山远航钢构有限公司", contact_name="李主任", contact_phone=PHONE)


@pytest.fixture
def provider_a(db):
    return ProviderFactory(name="甲数字科技有限公司")


@pytest.fixture
def provider_b(db):
    return ProviderFactory(name="乙智能制造有限公司")


@pytest.fixture
def contract_a(enterprise, provider_a):
    contract = SignedContractFactory(
        enterprise=enterprise, provider=provider_a, number="TS-A-0101", title="甲设备联网项目"
    )
    MilestoneFactory(contract=contract, name="甲的里程碑一", weight=60, reported_progress=50)
    MilestoneFactory(contract=contract, name="甲的里程碑二", weight=40, reported_progress=100)
    DossierSurveyFactory(contract=contract, production_process=SECRET_A)
    TrainingAttendanceFactory(
        enterprise=enterprise, session=TrainingSessionFactory(provider=provider_a, title="甲的培训课")
    )
    return contract


@pytest.fixture
def contract_b(enterprise, provider_b):
    contract = SignedContractFactory(
        enterprise=enterprise, provider=provider_b, number="TS-B-0202", title="乙质量追溯项目"
    )
    MilestoneFactory(contract=contract, name="乙的里程碑", weight=100, reported_progress=30)
    DossierSurveyFactory(contract=contract, production_process=SECRET_B)
    TrainingAttendanceFactory(
        enterprise=enterprise, session=TrainingSessionFactory(provider=provider_b, title="乙的培训课")
    )
    return contract


@pytest.fixture
def world(enterprise, contract_a, contract_b):
    LevelAssessmentFactory(enterprise=enterprise, level=1, total_score=38)
    return enterprise


def _provider_user(provider):
    return UserFactory(role=Role.PROVIDER, organisation=provider.organisation)


def _pdf_text(doc):
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(plaintext_file(doc)), "-"], check=True, capture_output=True, text=True
    ).stdout
    return re.sub(r"\s+", "", text)


def _request_pdf(client, user, url, django_capture_on_commit_callbacks):
    """POST the button; the job is queued, and its task (eager) runs only when the callbacks are called."""
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(url)
    assert response.status_code == 302
    job = BackgroundJob.objects.get(pk=response["Location"].rstrip("/").rsplit("/", 1)[-1])
    assert response["Location"] == reverse("job_status", args=[job.pk])
    return job, callbacks


def _run(callbacks):
    for callback in callbacks:
        callback()


# --- The job, from the button to the download ---------------------------------------------------------


def test_officer_job_goes_from_queued_to_done_and_the_pdf_can_be_downloaded(
    client, world, officer, django_capture_on_commit_callbacks
):
    job, callbacks = _request_pdf(
        client, officer, reverse("dossier:pdf", args=[world.pk]), django_capture_on_commit_callbacks
    )
    assert (job.kind, job.status, job.params, job.requested_by) == (
        BackgroundJob.Kind.DOSSIER_PDF,
        BackgroundJob.Status.QUEUED,
        {"enterprise": world.pk},
        officer,
    )
    page = client.get(reverse("job_status", args=[job.pk]))
    assert page.status_code == 200
    assert 'http-equiv="refresh"' in page.content.decode()
    assert "no-store" in page["Cache-Control"]

    _run(callbacks)

    job.refresh_from_db()
    assert job.status == BackgroundJob.Status.DONE and job.error == ""
    doc = job.document
    assert doc.kind == IssuedDocument.Kind.DOSSIER and doc.issued_by == officer
    assert doc.content_type.model_class() is type(world) and doc.object_id == world.pk
    assert not doc.recipients.exists()  # access comes from the job, not from an address
    assert job.result == {"enterprise": world.pk, "access": "full", "pages": doc.pages}
    text = _pdf_text(doc)
    assert world.name in text and "一企一档" in text
    # Full access: both providers' contracts, surveys and training, and the contact phone.
    for shown in ("TS-A-0101", "TS-B-0202", SECRET_A, SECRET_B, "甲的培训课", "乙的培训课", PHONE):
        assert shown in text, shown

    body = client.get(reverse("job_status", args=[job.pk])).content.decode()
    assert 'http-equiv="refresh"' not in body
    download = reverse("document_download", args=[doc.verification_code])
    assert download in body
    response = client.get(download)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert hashlib.sha256(b"".join(response.streaming_content)).hexdigest() == doc.sha256

    # Asking for the PDF is a read of the dossier (audited like the page), then the issue and the download.
    read = AuditEvent.objects.get(action=AuditEvent.Action.DOSSIER_VIEW)
    assert (read.actor, read.object_id, read.detail) == (officer, str(world.pk), {"access": "full", "format": "pdf"})
    assert AuditEvent.objects.filter(action=AuditEvent.Action.DOCUMENT_ISSUED, actor=officer).count() == 1
    assert AuditEvent.objects.filter(action=AuditEvent.Action.DOWNLOAD, actor=officer).count() == 1


def test_provider_pdf_holds_its_own_contracts_only(client, world, provider_a, django_capture_on_commit_callbacks):
    user = _provider_user(provider_a)
    job, callbacks = _request_pdf(
        client, user, reverse("dossier:pdf", args=[world.pk]), django_capture_on_commit_callbacks
    )
    _run(callbacks)
    job.refresh_from_db()
    assert job.status == BackgroundJob.Status.DONE
    text = _pdf_text(job.document)
    assert world.name in text
    assert "TS-A-0101" in text and "甲设备联网项目" in text and SECRET_A in text and "甲的培训课" in text
    for hidden in ("TS-B-0202", "乙质量追溯项目", "乙的里程碑", SECRET_B, "乙的培训课", "乙智能制造有限公司", PHONE):
        assert hidden not in text, hidden
    assert "仅限甲数字科技有限公司" in text
    assert job.result["access"] == "contracts"
    # The provider may download what it asked for; the other provider may not.
    assert client.get(reverse("document_download", args=[job.document.verification_code])).status_code == 200
    client.force_login(_provider_user(ProviderFactory()))
    assert client.get(reverse("document_download", args=[job.document.verification_code])).status_code == 404


def test_enterprise_asks_from_its_own_page_without_an_audit_entry(client, world, django_capture_on_commit_callbacks):
    user = UserFactory(role=Role.ENTERPRISE, organisation=world.organisation)
    client.force_login(user)
    page = client.get(reverse("enterprise:dossier")).content.decode()
    assert f'action="{reverse("enterprise:dossier_pdf")}"' in page
    job, callbacks = _request_pdf(client, user, reverse("enterprise:dossier_pdf"), django_capture_on_commit_callbacks)
    _run(callbacks)
    job.refresh_from_db()
    assert job.status == BackgroundJob.Status.DONE and job.params == {"enterprise": world.pk}
    assert PHONE in _pdf_text(job.document)
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.DOSSIER_VIEW).exists()


def test_the_dossier_page_offers_the_button(client, world, officer):
    client.force_login(officer)
    body = client.get(reverse("dossier:detail", args=[world.pk])).content.decode()
    assert f'action="{reverse("dossier:pdf", args=[world.pk])}"' in body
    assert 'method="post"' in body and "csrfmiddlewaretoken" in body


def test_a_second_click_while_it_runs_leads_to_the_same_job(client, world, officer, django_capture_on_commit_callbacks):
    url = reverse("dossier:pdf", args=[world.pk])
    first, _callbacks = _request_pdf(client, officer, url, django_capture_on_commit_callbacks)
    second, callbacks = _request_pdf(client, officer, url, django_capture_on_commit_callbacks)
    assert second == first and callbacks == []
    assert BackgroundJob.objects.count() == 1
    BackgroundJob.objects.filter(pk=first.pk).update(status=BackgroundJob.Status.DONE)
    third, _callbacks = _request_pdf(client, officer, url, django_capture_on_commit_callbacks)
    assert third != first  # a finished dossier is history: asking again makes a new issue


# --- Who may ask ----------------------------------------------------------------------------------------


def test_anonymous_is_sent_to_login(client, world):
    for url in (reverse("dossier:pdf", args=[world.pk]), reverse("enterprise:dossier_pdf")):
        response = client.post(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert not BackgroundJob.objects.exists()


def test_only_post(client, world, officer):
    client.force_login(officer)
    assert client.get(reverse("dossier:pdf", args=[world.pk])).status_code == 405


@pytest.mark.parametrize("who", ["other_enterprise", "provider_without_contract", "county_elsewhere", "sysadmin"])
def test_who_may_not_see_the_dossier_gets_404_and_no_job(client, world, who):
    from tests.test_dossier import _county_user

    if who == "other_enterprise":
        user = UserFactory(role=Role.ENTERPRISE, organisation=PilotEnterpriseFactory().organisation)
    elif who == "provider_without_contract":
        user = _provider_user(ProviderFactory())
    elif who == "county_elsewhere":
        from tests.factories import CountyFactory

        user = _county_user(CountyFactory(code="130281" if world.county.code != "130281" else "130203"))
    else:
        user = UserFactory(role=Role.SYSADMIN)
    assert dossier_access(user, world) is None
    client.force_login(user)
    assert client.post(reverse("dossier:pdf", args=[world.pk])).status_code == 404
    assert client.post(reverse("dossier:pdf", args=[999999])).status_code == 404
    assert not BackgroundJob.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.DOSSIER_VIEW).exists()


def test_only_the_requester_sees_the_job_page(client, world, officer, django_capture_on_commit_callbacks):
    job, callbacks = _request_pdf(
        client, officer, reverse("dossier:pdf", args=[world.pk]), django_capture_on_commit_callbacks
    )
    _run(callbacks)
    url = reverse("job_status", args=[job.pk])
    # Another officer may read the dossier, and the issued file through the register, but not this job page.
    for user in (UserFactory(role=Role.OFFICER), _provider_user(ProviderFactory())):
        client.force_login(user)
        assert client.get(url).status_code == 404
    client.logout()
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


# --- While it runs ----------------------------------------------------------------------------------------


def test_progress_written_during_the_run_is_visible(
    client, world, officer, monkeypatch, django_capture_on_commit_callbacks
):
    job, callbacks = _request_pdf(
        client, officer, reverse("dossier:pdf", args=[world.pk]), django_capture_on_commit_callbacks
    )
    reported = []
    real_progress = dossier_documents.job_progress
    monkeypatch.setattr(
        dossier_documents,
        "job_progress",
        lambda job, done, total=None, stage=None: (
            reported.append((done, total, stage)) or real_progress(job, done, total, stage)
        ),
    )
    seen = {}
    real_render = portal_documents.render_document

    def render_and_look(template, context):
        # What the requester's page reads from the database while the pages are being laid out.
        seen["row"] = BackgroundJob.objects.values_list("status", "done_steps", "total_steps", "stage").get(pk=job.pk)
        seen["page"] = client.get(reverse("job_status", args=[job.pk])).content.decode()
        return real_render(template, context)

    monkeypatch.setattr(portal_documents, "render_document", render_and_look)
    _run(callbacks)

    expected = [(n, TOTAL_STEPS, stage) for n, (_name, stage) in enumerate(SECTIONS)]
    expected += [(len(SECTIONS), TOTAL_STEPS, STAGE_RENDER), (len(SECTIONS) + 1, TOTAL_STEPS, STAGE_STORE)]
    assert reported == expected
    assert seen["row"] == (BackgroundJob.Status.RUNNING, len(SECTIONS), TOTAL_STEPS, STAGE_RENDER)
    page = seen["page"]
    assert 'http-equiv="refresh"' in page
    assert f'value="{100 * len(SECTIONS) // TOTAL_STEPS}"' in page
    # The stage is stored untranslated and shown in the reader's language (Chinese by default).
    assert "正在排版" in page and f"第 {len(SECTIONS)} 步，共 {TOTAL_STEPS} 步" in page
    job.refresh_from_db()
    assert job.status == BackgroundJob.Status.DONE and job.percent == 100


def test_access_lost_before_the_run_fails_the_job_with_a_message(
    client, world, provider_a, contract_a, django_capture_on_commit_callbacks
):
    user = _provider_user(provider_a)
    job, callbacks = _request_pdf(
        client, user, reverse("dossier:pdf", args=[world.pk]), django_capture_on_commit_callbacks
    )
    # The provider is cleared out while the job waits: its contract ends, and with it the access.
    ServiceContract.objects.filter(pk=contract_a.pk).update(status=ContractStatus.TERMINATED)
    with translation.override("zh-hans"):
        _run(callbacks)

    job.refresh_from_db()
    assert job.status == BackgroundJob.Status.FAILED and job.document is None
    assert job.error == "您已无权查看该企业的档案，PDF 未生成。"
    assert not IssuedDocument.objects.exists()
    body = client.get(reverse("job_status", args=[job.pk]), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert job.error in body and 'role="alert"' in body and 'http-equiv="refresh"' not in body


def test_deactivated_organisation_at_run_time_fails_too(client, world, provider_a, django_capture_on_commit_callbacks):
    user = _provider_user(provider_a)
    job, callbacks = _request_pdf(
        client, user, reverse("dossier:pdf", args=[world.pk]), django_capture_on_commit_callbacks
    )
    Organisation.objects.filter(pk=provider_a.organisation_id).update(is_active=False)
    _run(callbacks)
    job.refresh_from_db()
    assert job.status == BackgroundJob.Status.FAILED and not IssuedDocument.objects.exists()


# --- The document -----------------------------------------------------------------------------------------


def test_the_pdf_gathers_what_the_page_shows(world, officer, provider_a):
    for user in (officer, _provider_user(provider_a)):
        access = dossier_access(user, world)
        assert dossier_context(world, user)["dossier"] == dossier_build(user, world, access)


def test_fonts_are_embedded_noto_cjk_sc_and_every_page_is_numbered(world, officer, cjk_cmap, tmp_path):  # noqa: F811
    doc = dossier_pdf_issue(world, officer)
    text = assert_renders_cjk(str(plaintext_file(doc)), cjk_cmap, tmp_path, pages=doc.pages)
    assert world.name in text


def test_a_long_dossier_repeats_table_headers_on_every_page(world, officer, contract_a):
    for n in range(1, 81):
        MilestoneFactory(
            contract=contract_a, name=f"第{n}阶段设备联调", weight=1, planned_on=date(2026, 3, 1) + timedelta(days=n)
        )
    doc = dossier_pdf_issue(world, officer)
    assert doc.pages >= 3
    pages = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(plaintext_file(doc)), "-"], check=True, capture_output=True, text=True
    ).stdout.split("\f")
    with_rows = [page for page in pages if re.search(r"第\d+阶段设备联调", page)]
    assert len(with_rows) >= 2
    for page in with_rows:
        assert "计划日期" in page and "已确认进度" in page
    # Every page after the first names the enterprise in its running head.
    for page in pages[1 : doc.pages]:
        assert world.name in page


def test_a_character_the_fonts_cannot_draw_fails_the_job_with_a_message(
    client, officer, django_capture_on_commit_callbacks
):
    enterprise = PilotEnterpriseFactory(name="唐山ก机械有限公司")
    job, callbacks = _request_pdf(
        client, officer, reverse("dossier:pdf", args=[enterprise.pk]), django_capture_on_commit_callbacks
    )
    with translation.override("zh-hans"):
        _run(callbacks)
    job.refresh_from_db()
    assert job.status == BackgroundJob.Status.FAILED
    assert job.error == "PDF 未能生成：档案中有文书字体无法打印的字符。"
