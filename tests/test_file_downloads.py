"""Stored files leave the portal only through authorised views, as downloads (issue 8, item 3): every download URL
answers through tangshan_portal.files.file_response.

Controls guarded, for every download URL of the portal and of the admin (a meta-test fails for a new one that is
not listed here):
* `Content-Disposition: attachment`, `X-Content-Type-Options: nosniff` and `Content-Security-Policy` with
  `sandbox` and no allow-* token — the site-wide policy of django-csp must not replace it;
* `Cache-Control: private, no-store` and an audit DOWNLOAD event naming the file's record, for confidential files;
  the public verify download is neither (tangshan_portal/files.py says why);
* the answer is the original file (its SHA-256 as recorded), decrypted, while the disk holds only ciphertext;
* Chinese file names as RFC 6266/5987 give them.

Who may download what — anonymous users sent to the login page, other organisations answered 404 — is guarded for
each of these URLs by tests/test_object_isolation.py (portal URLs and the admins' county and institution scope) and
tests/test_url_matrix.py (every role, the admin file views included).
"""

import hashlib
import re
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.http import Http404
from django.test import RequestFactory
from django.urls import resolve, reverse

from tangshan_portal.crypto import MAGIC
from tangshan_portal.files import DOWNLOAD_CSP, content_disposition, file_response, safe_filename
from tangshan_portal.models import Attachment, AuditEvent, IssuedDocument
from tangshan_portal.services import attachment_store
from tests.factories import ProviderFactory, UserFactory
from tests.factories_contracts import pdf
from tests.factories_matrix import (  # noqa: F401  (the *_fixture functions are fixtures)
    ADMIN_OBJECTS,
    URL_KWARGS,
    first_attachment,
    matrix_media_fixture,
    matrix_media_root_fixture,
    world_fixture,
)
from tests.test_url_matrix import ADMIN_PAGES, ANONYMOUS, client_for, url_patterns

pytestmark = pytest.mark.django_db

PROVIDER, ENTERPRISE, APPLICANT = "provider", "enterprise", "applicant"

# Portal download URLs and who downloads (side A's record, as tests/test_object_isolation.py's owners).
PORTAL_DOWNLOADS = {
    "document_download": PROVIDER,
    "verify_document_download": ANONYMOUS,
    "provider:case_attachment": PROVIDER,
    "provider:application_attachment": APPLICANT,
    "provider:registration_attachment": PROVIDER,
    "provider:contract_attachment": PROVIDER,
    "provider:diagnosis_attachment": PROVIDER,
    "provider:training_attachment": PROVIDER,
    "enterprise:complaint_attachment": ENTERPRISE,
    "enterprise:contract_attachment": ENTERPRISE,
    "enterprise:diagnosis_attachment": ENTERPRISE,
    "enterprise:training_material": ENTERPRISE,
}
# The admins' file views; each is requested by a role the URL matrix gives 200.
ADMIN_DOWNLOADS = sorted(key for key in ADMIN_PAGES if re.search(r"_(attachment|file)$", key))
# Published documents: anyone may have them, so they are neither audited per download nor kept out of caches.
PUBLIC_DOWNLOADS = {"verify_document_download"}


def _portal_request(key, w):
    kwargs = URL_KWARGS[key](w.a, w)
    return PORTAL_DOWNLOADS[key], reverse(key, kwargs=kwargs)


def _admin_request(key, w):
    from tests.test_url_matrix import _label_of

    label, _view = _label_of(key.split(":", 1)[1])
    obj = ADMIN_OBJECTS[label](w)
    role = next(role for role, answer in ADMIN_PAGES[key].get.items() if answer == 200)
    return role, reverse(key, kwargs={"object_id": obj.pk, "attachment_id": first_attachment(obj).pk})


def _stored_record(url):
    """The Attachment or IssuedDocument a download URL names."""
    kwargs = resolve(url).kwargs
    attachment_pk = kwargs.get("attachment_pk") or kwargs.get("attachment_id")
    if attachment_pk:
        return Attachment.objects.get(pk=attachment_pk)
    return IssuedDocument.objects.get(verification_code=kwargs["code"])


def _body(response):
    return b"".join(response.streaming_content)


def _downloads():
    return [("portal", key) for key in sorted(PORTAL_DOWNLOADS)] + [("admin", key) for key in ADMIN_DOWNLOADS]


@pytest.mark.parametrize(("kind", "key"), _downloads())
def test_every_download_is_an_attachment_with_nosniff_and_a_sandbox(world, kind, key):
    role, url = (_portal_request if kind == "portal" else _admin_request)(key, world)
    record = _stored_record(url)
    before = AuditEvent.objects.filter(action=AuditEvent.Action.DOWNLOAD).count()

    response = client_for(role, world).get(url)

    assert response.status_code == 200, f"{url} for {role}: {response.status_code}"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    csp = response["Content-Security-Policy"]
    assert csp == DOWNLOAD_CSP
    assert "sandbox" in [directive.strip().split(" ")[0] for directive in csp.split(";")]
    assert "allow-" not in csp
    assert response["Cross-Origin-Resource-Policy"] == "same-origin"
    body = _body(response)
    # The original bytes, decrypted: the disk holds only ciphertext.
    assert hashlib.sha256(body).hexdigest() == record.sha256
    assert Path(settings.MEDIA_ROOT, record.file.name).read_bytes().startswith(MAGIC)
    downloads = AuditEvent.objects.filter(action=AuditEvent.Action.DOWNLOAD)
    if key in PUBLIC_DOWNLOADS:
        assert downloads.count() == before
        assert "no-store" not in response.get("Cache-Control", "")
    else:
        assert set(response["Cache-Control"].replace(" ", "").split(",")) >= {"private", "no-store"}
        assert downloads.count() == before + 1
        event = downloads.latest("sequence")
        assert (event.object_type, event.object_id) == (record._meta.label, str(record.pk))
        assert event.actor == world.users[role]


def test_chinese_file_names_follow_rfc_5987(world):
    role, url = _portal_request("provider:case_attachment", world)
    response = client_for(role, world).get(url)
    name = _stored_record(url).original_name
    assert re.search(r"[\u4e00-\u9fff]", name)
    assert response["Content-Disposition"] == "attachment; filename=\"download.pdf\"; filename*=utf-8''" + quote(name)


def test_every_download_url_is_listed():
    """A new URL that names a stored file (an attachment or an issued document) must be tested above."""
    found = {
        key
        for key, route in url_patterns()
        if re.search(r"<int:attachment_(pk|id)>", route) or (key.endswith("download") and "<" in route)
    }
    assert found == set(PORTAL_DOWNLOADS) | set(ADMIN_DOWNLOADS)


# --- file_response on its own --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "header"),
    [
        ("report.pdf", 'attachment; filename="report.pdf"'),
        (
            "整改通知.pdf",
            "attachment; filename=\"download.pdf\"; filename*=utf-8''%E6%95%B4%E6%94%B9%E9%80%9A%E7%9F%A5.pdf",
        ),
        ('a"b\\c.pdf', 'attachment; filename="a_b_c.pdf"'),
        ("../../etc/passwd", 'attachment; filename="_.._etc_passwd"'),
        ("x\r\nSet-Cookie: a=b.pdf", 'attachment; filename="xSet-Cookie_ a=b.pdf"'),
        ("", 'attachment; filename="download"'),
        ("资料", "attachment; filename=\"download\"; filename*=utf-8''%E8%B5%84%E6%96%99"),
    ],
)
def test_file_names_are_safe_and_encoded(name, header):
    assert content_disposition(name) == header


def test_a_long_name_keeps_its_extension():
    name = safe_filename("很" * 300 + ".docx")
    assert len(name) <= 150 and name.endswith(".docx")


def test_a_missing_file_is_404_and_not_recorded_as_downloaded():
    user = UserFactory()
    attachment = attachment_store(target=ProviderFactory(), uploaded=pdf("记录.pdf"), by=user)
    Path(settings.MEDIA_ROOT, attachment.file.name).unlink()
    request = RequestFactory().get("/x/")
    request.user = user
    before = AuditEvent.objects.filter(action=AuditEvent.Action.DOWNLOAD).count()
    with pytest.raises(Http404):
        file_response(
            attachment.file, filename="记录.pdf", content_type="application/pdf", request=request, audit_obj=attachment
        )
    assert AuditEvent.objects.filter(action=AuditEvent.Action.DOWNLOAD).count() == before


def test_file_response_sets_its_headers_itself_without_the_middleware():
    """The headers do not depend on the site-wide middleware (SecurityMiddleware's nosniff, django-csp)."""
    user = UserFactory()
    attachment = attachment_store(target=ProviderFactory(), uploaded=pdf("记录.pdf"), by=user)
    request = RequestFactory().get("/x/")
    request.user = user
    response = file_response(
        attachment.file, filename="记录.pdf", content_type="application/pdf", request=request, audit_obj=attachment
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == DOWNLOAD_CSP
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Cache-Control"] == "private, no-store"
    assert hashlib.sha256(_body(response)).hexdigest() == attachment.sha256
