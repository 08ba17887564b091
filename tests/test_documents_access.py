"""Who reaches which official document: the public verification pages, the organisation's own documents, the
audited download, and the progress page of a background job."""

import hashlib
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from tangshan_portal.documents import document_issue
from tangshan_portal.jobs import job_run
from tangshan_portal.models import AuditEvent, BackgroundJob, IssuedDocument, Organisation
from tangshan_portal.roles import Role
from tests.factories import CountyFactory, OrganisationFactory, ProviderFactory, UserFactory
from tests.factories_documents import approved_revocation, plaintext_file

pytestmark = pytest.mark.django_db

CONFIDENTIAL_BODY = "向第三方泄露试点企业生产工艺数据"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def revocation(approver):
    return approved_revocation(approver=approver)


def _issue(target, by, *, kind=IssuedDocument.Kind.REVOCATION_DECISION, recipients=(), title="关于取消资格的决定"):
    return document_issue(
        kind=kind,
        template="pdf/base.html",
        context={"addressee": ""},
        target=target,
        by=by,
        title=title,
        number="唐工信〔2026〕31号",
        recipients=recipients,
    )


@pytest.fixture
def notice(revocation, approver):
    """A confidential decision addressed to the revoked provider's organisation."""
    return _issue(revocation, approver, recipients=[revocation.provider.organisation])


@pytest.fixture
def announcement(revocation, approver):
    return _issue(revocation, approver, kind=IssuedDocument.Kind.BLACKLIST_ANNOUNCEMENT, title="关于列入黑名单的公告")


def _bytes(response):
    return b"".join(response.streaming_content)


def _is_login_redirect(response):
    return response.status_code == 302 and response["Location"].startswith(reverse("login"))


# --- /verify/: the form ------------------------------------------------------------------------------------


def test_verify_start_shows_the_form(client):
    response = client.get(reverse("verify_start"))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'enctype="multipart/form-data"' in body and 'type="file"' in body


def test_a_typed_code_leads_to_its_page(client, notice):
    spaced = " ".join(notice.verification_code.upper()[i : i + 4] for i in range(0, 32, 4))
    response = client.post(reverse("verify_start"), {"code": spaced})
    assert response.status_code == 302
    assert response["Location"] == reverse("verify_document", args=[notice.verification_code])
    # The same from the address bar (GET), e.g. a link printed as a QR code.
    response = client.get(reverse("verify_start"), {"code": notice.sha256})
    assert response["Location"] == reverse("verify_document", args=[notice.sha256])


def test_a_chosen_file_is_hashed_and_leads_to_its_page(client, notice):
    data = plaintext_file(notice).read_bytes()
    response = client.post(reverse("verify_start"), {"file": SimpleUploadedFile("x.pdf", data)})
    assert response.status_code == 302
    assert response["Location"] == reverse("verify_document", args=[hashlib.sha256(data).hexdigest()])
    page = client.get(response["Location"])
    assert page.context["matched_by"] == "sha256" and page.context["doc"] == notice
    assert "该文件与下列机关出具的文书完全一致" in page.content.decode()


def test_a_changed_file_leads_to_nothing(client, notice):
    data = plaintext_file(notice).read_bytes() + b"\n"
    response = client.post(reverse("verify_start"), {"file": SimpleUploadedFile("x.pdf", data)}, follow=True)
    assert response.status_code == 404


def test_nothing_entered_is_an_error_in_chinese(client):
    response = client.post(reverse("verify_start"), {"code": "   "})
    assert response.status_code == 200
    body = response.content.decode()
    assert "请输入验证码或选择文件。" in body and 'role="alert"' in body


@pytest.mark.parametrize("value", ["abc/def", "not-a-code", "0" * 31, "g" * 32, "0" * 65])
def test_a_value_that_cannot_be_a_code_is_refused_by_the_form(client, value):
    response = client.post(reverse("verify_start"), {"code": value})
    # Not a 500 (a "/" cannot go into the address) and not a redirect: the form says what a code looks like.
    assert response.status_code == 200
    body = response.content.decode()
    assert "验证码为 32 位、SHA-256 为 64 位" in body
    assert "请输入验证码或选择文件" not in body  # something was entered, only not a code


def test_an_unknown_code_leads_to_404(client, notice):
    response = client.post(reverse("verify_start"), {"code": "0" * 32})
    assert response["Location"] == reverse("verify_document", args=["0" * 32])
    assert client.get(response["Location"]).status_code == 404


# --- /verify/<code>/ ---------------------------------------------------------------------------------------


def test_confidential_document_shows_its_register_data_and_no_download(client, notice):
    for value in (notice.verification_code, notice.sha256):
        response = client.get(reverse("verify_document", args=[value]))
        assert response.status_code == 200
        assert response["X-Robots-Tag"] == "noindex"
        body = response.content.decode()
        assert notice.title in body and notice.sha256 in body and notice.document_number in body
        assert reverse("verify_document_download", args=[notice.verification_code]) not in body
        assert CONFIDENTIAL_BODY not in body
    for value in (notice.verification_code, notice.sha256):
        assert client.get(reverse("verify_document_download", args=[value])).status_code == 404


def test_public_document_can_be_downloaded_by_anyone(client, announcement):
    body = client.get(reverse("verify_document", args=[announcement.verification_code])).content.decode()
    link = reverse("verify_document_download", args=[announcement.verification_code])
    assert link in body
    response = client.get(link)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert hashlib.sha256(_bytes(response)).hexdigest() == announcement.sha256


# --- /documents/: the organisation's own ------------------------------------------------------------------


def test_documents_mine_needs_a_login(client):
    assert _is_login_redirect(client.get(reverse("documents_mine")))


def test_documents_mine_lists_only_the_own_organisations(client, notice, revocation, approver):
    other = _issue(ProviderFactory(), approver, recipients=[ProviderFactory().organisation], title="另一单位的通知")
    client.force_login(UserFactory(role=Role.PROVIDER, organisation=revocation.provider.organisation))
    response = client.get(reverse("documents_mine"))
    assert response.status_code == 200
    assert list(response.context["documents"]) == [notice]
    body = response.content.decode()
    assert reverse("document_download", args=[notice.verification_code]) in body
    assert other.verification_code not in body and "另一单位的通知" not in body


def test_documents_mine_without_an_organisation_lists_nothing_addressed_to_nobody(client, announcement, approver):
    # A document without recipients (an announcement, a dossier) is addressed to nobody, not to everybody.
    user = UserFactory(role=Role.OFFICER, organisation=None)
    client.force_login(user)
    response = client.get(reverse("documents_mine"))
    assert list(response.context["documents"]) == []
    assert announcement.verification_code not in response.content.decode()


def test_documents_mine_lists_the_pdfs_the_user_asked_for(client, revocation, approver):
    mine = _issue(revocation, approver, kind=IssuedDocument.Kind.DOSSIER, title="我要的档案")
    theirs = _issue(revocation, approver, kind=IssuedDocument.Kind.DOSSIER, title="别人的档案")
    user, other = UserFactory(role=Role.PROVIDER), UserFactory(role=Role.PROVIDER)
    for owner, doc in ((user, mine), (other, theirs)):
        BackgroundJob.objects.create(
            kind=BackgroundJob.Kind.DOSSIER_PDF, requested_by=owner, status=BackgroundJob.Status.DONE, document=doc
        )
    client.force_login(user)
    response = client.get(reverse("documents_mine"))
    assert [job.document for job in response.context["requested"]] == [mine]
    body = response.content.decode()
    assert "我要的档案" in body and "别人的档案" not in body


# --- /documents/<code>/: the download ----------------------------------------------------------------------


def _download(client, doc):
    return client.get(reverse("document_download", args=[doc.verification_code]))


def test_the_recipient_downloads_and_the_download_is_audited(client, notice, revocation):
    user = UserFactory(role=Role.PROVIDER, organisation=revocation.provider.organisation)
    client.force_login(user)
    response = _download(client, notice)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    assert "no-store" in response["Cache-Control"]
    assert hashlib.sha256(_bytes(response)).hexdigest() == notice.sha256
    event = AuditEvent.objects.get(action=AuditEvent.Action.DOWNLOAD)
    assert (event.actor, event.object_type, event.object_id) == (user, "portal.IssuedDocument", str(notice.pk))
    assert event.detail == {"kind": notice.kind, "sha256": notice.sha256}
    assert event.path == reverse("document_download", args=[notice.verification_code])


def test_the_code_may_be_typed_in_capitals(client, notice, officer):
    client.force_login(officer)
    url = reverse("document_download", args=[notice.verification_code.upper()])
    assert client.get(url).status_code == 200


def test_anonymous_is_sent_to_login(client, notice):
    assert _is_login_redirect(_download(client, notice))
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.DOWNLOAD).exists()


def test_bureau_staff_with_the_register_may_download(client, notice, officer):
    client.force_login(officer)
    assert _download(client, notice).status_code == 200


@pytest.mark.parametrize("who", ["other_provider", "county", "enterprise", "sysadmin"])
def test_everyone_else_gets_404_and_nothing_is_audited(client, notice, who):
    if who == "other_provider":
        user = UserFactory(role=Role.PROVIDER, organisation=ProviderFactory().organisation)
    elif who == "county":
        user = UserFactory(
            role=Role.COUNTY, organisation=OrganisationFactory(county_bureau=True, county=CountyFactory())
        )
    elif who == "enterprise":
        user = UserFactory(role=Role.ENTERPRISE, organisation=OrganisationFactory(kind=Organisation.Kind.ENTERPRISE))
    else:
        user = UserFactory(role=Role.SYSADMIN)
    client.force_login(user)
    assert _download(client, notice).status_code == 404
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.DOWNLOAD).exists()


def test_a_deactivated_recipient_organisation_loses_the_download(client, notice, revocation):
    user = UserFactory(role=Role.PROVIDER, organisation=revocation.provider.organisation)
    Organisation.objects.filter(pk=revocation.provider.organisation_id).update(is_active=False)
    client.force_login(user)
    # Not even logged in any more: the backend refuses a deactivated organisation's users (authentication.py).
    response = _download(client, notice)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_unknown_code_is_404(client, officer):
    client.force_login(officer)
    assert client.get(reverse("document_download", args=["0" * 32])).status_code == 404


# --- /jobs/<pk>/ -----------------------------------------------------------------------------------------


def _job(user, **fields):
    return BackgroundJob.objects.create(kind=BackgroundJob.Kind.IMPORT, requested_by=user, **fields)


def test_the_requester_sees_the_job_and_nobody_else(client, officer):
    owner = UserFactory(role=Role.PROVIDER)
    job = _job(owner, status=BackgroundJob.Status.RUNNING, total_steps=4, done_steps=1, started_at=timezone.now())
    url = reverse("job_status", args=[job.pk])
    assert _is_login_redirect(client.get(url))
    client.force_login(owner)
    response = client.get(url)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'http-equiv="refresh"' in body and 'value="25"' in body
    assert "no-store" in response["Cache-Control"]
    for other in (UserFactory(role=Role.PROVIDER), officer):
        client.force_login(other)
        assert client.get(url).status_code == 404
    client.force_login(owner)
    assert client.get(reverse("job_status", args=[job.pk + 1000])).status_code == 404


def test_a_failed_import_shows_its_row_errors(client):
    owner = UserFactory()
    job = _job(
        owner,
        status=BackgroundJob.Status.FAILED,
        error="第3行有错误，未导入任何数据。",
        result={"errors": [{"row": 3, "message": "统一社会信用代码校验位错误"}]},
        finished_at=timezone.now(),
    )
    client.force_login(owner)
    body = client.get(reverse("job_status", args=[job.pk])).content.decode()
    assert "第3行有错误" in body and "统一社会信用代码校验位错误" in body
    assert 'http-equiv="refresh"' not in body


def test_a_job_running_for_long_says_so(client):
    owner = UserFactory()
    job = _job(owner, status=BackgroundJob.Status.RUNNING, started_at=timezone.now() - timedelta(hours=1))
    client.force_login(owner)
    body = client.get(reverse("job_status", args=[job.pk])).content.decode()
    assert "任务已运行较长时间" in body


def test_a_job_whose_worker_was_lost_ends_as_failed_when_its_message_comes_again(client):
    # The worker died mid-way; with acks_late and reject-on-worker-lost the message is delivered again.
    owner = UserFactory()
    job = _job(owner, status=BackgroundJob.Status.RUNNING, started_at=timezone.now())
    assert job_run(job.pk) == BackgroundJob.Status.FAILED
    job.refresh_from_db()
    assert job.finished_at is not None and job.error
    client.force_login(owner)
    body = client.get(reverse("job_status", args=[job.pk])).content.decode()
    assert 'http-equiv="refresh"' not in body and job.error in body


def test_a_deactivated_organisation_loses_even_the_dossiers_it_asked_for(client, revocation, approver):
    doc = _issue(revocation, approver, kind=IssuedDocument.Kind.DOSSIER, title="本企业档案")
    user = UserFactory(role=Role.PROVIDER, organisation=revocation.provider.organisation)
    BackgroundJob.objects.create(
        kind=BackgroundJob.Kind.DOSSIER_PDF, requested_by=user, status=BackgroundJob.Status.DONE, document=doc
    )
    client.force_login(user)
    assert _download(client, doc).status_code == 200

    Organisation.objects.filter(pk=revocation.provider.organisation_id).update(is_active=False)
    user.refresh_from_db()
    client.force_login(user)
    # Not even logged in any more: the backend refuses a deactivated organisation's users (authentication.py).
    response = _download(client, doc)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
