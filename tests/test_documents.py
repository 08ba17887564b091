"""Official documents: fonts really embedded and glyphs really present, the stored hash is the file's, the
printed verification code and the file's SHA-256 both verify publicly, confidential content stays hidden."""

import hashlib
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from django.db import IntegrityError, transaction
from fontTools.ttLib import TTCollection
from PIL import Image

from evaluations.documents import rectification_notice_pdf, rectification_notice_spec, revocation_decision_pdf
from tangshan_portal.documents import DocumentError, DocumentNotDue, document_issue, find_by_code_or_hash, render_pdf
from tangshan_portal.models import IssuedDocument
from tests.factories_documents import approved_revocation, ordered_rectification, plaintext_file

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(shutil.which("pdffonts") is None, reason="needs poppler-utils"),
]

NOTO = Path("/usr/share/fonts/opentype/noto")


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _run(*args):
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def _fonts(path):
    """pdffonts rows as (name, emb)."""
    rows = _run("pdffonts", str(path)).splitlines()[2:]
    return [(row.split()[0], row.split()[-5]) for row in rows]


def _text(path):
    return _run("pdftotext", "-enc", "UTF-8", str(path), "-")


@pytest.fixture(scope="module")
def cjk_cmap():
    """Every code point the SC faces of Noto CJK can draw (Sans and Serif, the faces the templates name)."""
    covered = set()
    for name in ("NotoSerifCJK-Regular.ttc", "NotoSansCJK-Regular.ttc"):
        for font in TTCollection(str(NOTO / name)).fonts:
            covered |= set(font.getBestCmap())
    return covered


def assert_renders_cjk(path, cjk_cmap, tmp_path, pages):
    # 1. Only Noto CJK *SC* faces, all embedded: no fallback font, no Japanese face (DESIGN.md trap).
    fonts = _fonts(path)
    assert fonts, "no fonts in the PDF"
    for name, emb in fonts:
        assert re.search(r"Noto-(Sans|Serif)-CJK-SC", name), name
        assert emb == "yes", name
    # 2. No tofu: pdftotext reports the characters (it "lies" — it reads ToUnicode, not glyphs), so check
    #    that every one of them exists in the embedded faces' character map, i.e. was not drawn as .notdef.
    text = _text(path)
    missing = {ch for ch in text if not ch.isspace() and ord(ch) not in cjk_cmap}
    assert not missing, f"characters without a glyph: {missing}"
    # 3. The first page rasterised is a page: ink on it, and red ink (the issuing-authority header).
    prefix = tmp_path / "page"
    _run("pdftoppm", "-r", "50", "-png", "-f", "1", "-l", "1", str(path), str(prefix))
    image = Image.open(next(tmp_path.glob("page*.png"))).convert("RGB")
    colours = image.getcolors(maxcolors=1 << 24)
    total = image.width * image.height
    dark = sum(n for n, (r, g, b) in colours if r + g + b < 300)
    red = sum(n for n, (r, g, b) in colours if r > 180 and g < 90 and b < 90)
    assert dark > 0.005 * total, "first page is (almost) blank"
    assert red > 50, "no red header"
    # 4. Page numbers 第 n 页 / 共 N 页 (pdftotext drops the spaces WeasyPrint positions instead of drawing).
    flat = re.sub(r"\s+", "", text)
    for n in range(1, pages + 1):
        assert f"第{n}页/共{pages}页" in flat
    return text


def _stored(doc):
    return plaintext_file(doc)


def test_rectification_notice_is_one_verified_page(officer, cjk_cmap, tmp_path):
    case = ordered_rectification(officer=officer)
    started = time.perf_counter()
    doc = rectification_notice_pdf(case, officer)
    print(f"\nrectification notice: {time.perf_counter() - started:.2f} s")

    assert doc.kind == IssuedDocument.Kind.RECTIFICATION_NOTICE
    assert doc.document_number == case.document_number and doc.issued_by == officer
    assert doc.object_id == case.pk and doc.content_type.model_class() is type(case)
    data = _stored(doc).read_bytes()
    assert hashlib.sha256(data).hexdigest() == doc.sha256
    assert doc.size == len(data) and data.startswith(b"%PDF")
    assert doc.pages == 1
    text = assert_renders_cjk(_stored(doc), cjk_cmap, tmp_path, pages=1)
    flat = re.sub(r"\s+", "", text)
    assert case.provider.name in flat and case.document_number in flat
    assert "第十二条第（二）项" in flat and "第十六条" in flat
    assert f"{case.deadline.year}年{case.deadline.month}月{case.deadline.day}日" in flat
    # The verification code is printed; the file hash cannot be (see tangshan_portal.documents).
    assert doc.verification_code in flat and f"/verify/{doc.verification_code}/" in flat


def test_revocation_decision(approver, cjk_cmap, tmp_path):
    revocation = approved_revocation(approver=approver)
    doc = revocation_decision_pdf(revocation, approver)
    assert hashlib.sha256(_stored(doc).read_bytes()).hexdigest() == doc.sha256
    text = assert_renders_cjk(_stored(doc), cjk_cmap, tmp_path, pages=doc.pages)
    flat = re.sub(r"\s+", "", text)
    assert "第十三条第（四）项" in flat and "第十四条" in flat and "黑名单" in flat and "第十六条第（三）项" in flat
    assert revocation.decision_number in flat


def test_documents_are_not_issued_before_they_are_due(officer, approver):
    from evaluations import services
    from tests.factories import ProviderFactory

    draft = services.rectification_open(provider=ProviderFactory(), ground=2, finding="x", by=officer)
    with pytest.raises(DocumentNotDue):
        rectification_notice_pdf(draft, officer)
    revocation = approved_revocation(approver=approver)
    revocation.status = "proposed"
    with pytest.raises(DocumentNotDue):
        revocation_decision_pdf(revocation, approver)
    assert not IssuedDocument.objects.exists()


def test_each_issue_gets_its_own_code_and_hash(officer):
    # Two issues of identical content (a corrected document is a new issue): the random code makes both the
    # printed code and the file's hash differ, so neither can be guessed from the other.
    case = ordered_rectification(officer=officer)
    spec = rectification_notice_spec(case)
    first = document_issue(target=case, by=officer, **spec)
    second = document_issue(target=case, by=officer, **spec)
    assert first.verification_code != second.verification_code
    assert first.sha256 != second.sha256


def test_a_builder_returns_the_document_already_issued(officer):
    case = ordered_rectification(officer=officer)
    first = rectification_notice_pdf(case, officer)
    assert rectification_notice_pdf(case, officer) == first
    assert IssuedDocument.objects.filter(object_id=case.pk, kind=IssuedDocument.Kind.RECTIFICATION_NOTICE).count() == 1


def test_issued_documents_are_kept_and_checked(officer):
    doc = rectification_notice_pdf(ordered_rectification(officer=officer), officer)
    with pytest.raises(PermissionError):
        doc.delete()
    with pytest.raises(IntegrityError), transaction.atomic():
        IssuedDocument.objects.filter(pk=doc.pk).update(sha256=doc.sha256.upper())


# --- /verify/ -------------------------------------------------------------------------------------------


def test_verify_by_code_and_by_hash_without_login(client, officer):
    case = ordered_rectification(officer=officer)
    doc = rectification_notice_pdf(case, officer)
    for value in (doc.verification_code, doc.sha256, doc.sha256.upper()):
        response = client.get(f"/verify/{value}/")
        assert response.status_code == 200, value
        page = response.content.decode()
        for shown in (doc.sha256, doc.verification_code, doc.document_number, doc.authority, "整改通知书"):
            assert shown in page
        assert f"<dd>{doc.pages}</dd>" in page
        # Confidential: the register data only — neither the finding nor a download.
        assert case.finding not in page
        assert "/download/" not in page
    assert client.get(f"/verify/{doc.verification_code}/download/").status_code == 404


@pytest.mark.parametrize("value", ["0" * 32, "0" * 64, "f" * 63, "not-a-code", "../../etc/passwd"])
def test_verify_unknown_is_404(client, officer, value):
    rectification_notice_pdf(ordered_rectification(officer=officer), officer)
    assert client.get(f"/verify/{value}/").status_code == 404


def test_public_kind_offers_the_stored_file(client, approver):
    revocation = approved_revocation(approver=approver)
    doc = document_issue(
        kind=IssuedDocument.Kind.BLACKLIST_ANNOUNCEMENT,
        template="pdf/base.html",
        context={"addressee": ""},
        target=revocation,
        by=approver,
        title="关于将唐山泄密科技有限公司列入数字化服务商黑名单的公告",
        number=revocation.decision_number,
    )
    page = client.get(f"/verify/{doc.verification_code}/").content.decode()
    assert f"/verify/{doc.verification_code}/download/" in page
    response = client.get(f"/verify/{doc.sha256}/download/")
    assert response.status_code == 200
    assert hashlib.sha256(b"".join(response.streaming_content)).hexdigest() == doc.sha256


def test_find_by_code_or_hash_ignores_other_input(officer):
    doc = rectification_notice_pdf(ordered_rectification(officer=officer), officer)
    assert find_by_code_or_hash(doc.verification_code) == doc
    assert find_by_code_or_hash(f" {doc.sha256.upper()} ") == doc
    assert find_by_code_or_hash(doc.sha256[:40]) is None


def test_render_pdf_stores_nothing():
    data = render_pdf("pdf/base.html", {"document_title": "测试", "verification_code": "0" * 32, "verify_url": "/v/"})
    assert data.startswith(b"%PDF")
    assert not IssuedDocument.objects.exists()


def test_a_missing_glyph_is_refused_and_the_check_would_catch_it(approver, cjk_cmap, tmp_path, monkeypatch):
    # A character outside Noto CJK SC (Thai here) is drawn as .notdef while pdffonts still lists only the
    # Noto CJK SC faces — the tofu case. Issuing refuses it ...
    revocation = approved_revocation(approver=approver)
    with pytest.raises(DocumentError, match="U\\+0E01"):
        document_issue(
            kind=IssuedDocument.Kind.BLACKLIST_ANNOUNCEMENT,
            template="pdf/base.html",
            context={},
            target=revocation,
            by=approver,
            title="测试 ก",
        )
    assert not IssuedDocument.objects.exists()
    # ... and the test check above is not vacuous: it fails on such a PDF (rendered with the guard off).
    monkeypatch.setattr("tangshan_portal.documents._MissingGlyphs.emit", lambda self, record: None)
    path = tmp_path / "thai.pdf"
    path.write_bytes(
        render_pdf("pdf/base.html", {"document_title": "测试 ก", "verification_code": "0" * 32, "verify_url": "/v/"})
    )
    assert all("CJK-SC" in name for name, _ in _fonts(path))
    with pytest.raises(AssertionError, match="without a glyph"):
        assert_renders_cjk(path, cjk_cmap, tmp_path, pages=1)
