"""Every kind of official document: Chinese really drawn (fonts embedded, no missing glyph), issued by the
service that takes the decision once it has committed, addressed to the right organisations, issued once,
refused before the decision, and never able to undo the decision by failing.

How "no missing glyph" is checked (check_cjk_pdf)
-------------------------------------------------
A character no embedded face can draw is rendered as the font's .notdef glyph (a box with a cross: tofu), yet
pdffonts still lists the Noto faces and pdftotext still returns the character, because the text layer comes from
the ToUnicode map, not from the drawing. So three checks together:

1. pdffonts: only Noto Sans/Serif CJK SC faces, every one embedded. No fallback face (which would mean Pango
   looked elsewhere for a glyph) and not the JP face (DESIGN.md trap: the wrong shapes for Chinese).
2. pdftotext: the Chinese title and the record's key facts are in the text layer, and every character of it is in
   the character map of those faces. With only these faces embedded, a character outside their map can only
   have been drawn as .notdef: this is the check that fails on tofu (test_the_check_fails_on_tofu proves it on a
   document rendered with the issuing guard switched off).
3. pdftoppm: the first page rasterised has ink — text is drawn at all, which an embedded font without usable
   outlines would not do — and the red issuing-authority header.
"""

import hashlib
import logging
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.db import transaction
from fontTools.ttLib import TTCollection
from PIL import Image

from complaints.documents import appeal_decision_pdf
from complaints.models import AppealStatus
from dossiers.documents import dossier_pdf_issue
from enterprises.documents import internal_acceptance_pdf
from enterprises.models import InternalAcceptance
from evaluations.documents import (
    blacklist_announcement_pdf,
    evaluation_acceptance_pdf,
    excellent_list_pdf,
    rectification_notice_pdf,
    revocation_decision_pdf,
)
from evaluations.models import BlacklistEntry, ExcellentBatch, LevelAssessment, RectificationStatus, RevocationStatus
from tangshan_portal.documents import (
    DocumentError,
    DocumentNotDue,
    document_of,
    documents_visible_to,
    render_pdf,
    title_lines,
)
from tangshan_portal.models import DocumentSequence, IssuedDocument
from tangshan_portal.roles import Role
from tests.factories import PilotEnterpriseFactory, UserFactory
from tests.factories_documents import PENDING, Kind, final_acceptance_assessment, plaintext_file

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(shutil.which("pdffonts") is None, reason="needs poppler-utils"),
]

NOTO = Path("/usr/share/fonts/opentype/noto")
BUILDERS = {
    Kind.RECTIFICATION_NOTICE: rectification_notice_pdf,
    Kind.REVOCATION_DECISION: revocation_decision_pdf,
    Kind.BLACKLIST_ANNOUNCEMENT: blacklist_announcement_pdf,
    Kind.APPEAL_DECISION: appeal_decision_pdf,
    Kind.EXCELLENT_LIST: excellent_list_pdf,
    Kind.INTERNAL_ACCEPTANCE: internal_acceptance_pdf,
    Kind.EVALUATION_ACCEPTANCE: evaluation_acceptance_pdf,
}
# Where each builder is looked up when the service registers it (patched to fail in one test).
WIRED_AT = {
    Kind.RECTIFICATION_NOTICE: "evaluations.services.rectification_notice_pdf",
    Kind.REVOCATION_DECISION: "evaluations.services.revocation_decision_pdf",
    Kind.BLACKLIST_ANNOUNCEMENT: "evaluations.services.blacklist_announcement_pdf",
    Kind.APPEAL_DECISION: "complaints.services.appeal_decision_pdf",
    Kind.EXCELLENT_LIST: "opendata.services.excellent_list_pdf",
    Kind.INTERNAL_ACCEPTANCE: "enterprises.services.internal_acceptance_pdf",
    Kind.EVALUATION_ACCEPTANCE: "evaluations.services_levels.evaluation_acceptance_pdf",
}
WIRED = list(BUILDERS)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def reviewer(db):
    """An approver who took no part in the decisions appealed against."""
    return UserFactory(role=Role.APPROVER, username="approver_b")


@pytest.fixture
def people(officer, approver, reviewer):
    return {"officer": officer, "approver": approver, "reviewer": reviewer}


@pytest.fixture(scope="module")
def cjk_cmap():
    """Every code point the SC faces of Noto CJK can draw (Sans and Serif, the faces the templates name)."""
    covered = set()
    for name in ("NotoSerifCJK-Regular.ttc", "NotoSansCJK-Regular.ttc"):
        for font in TTCollection(str(NOTO / name)).fonts:
            covered |= set(font.getBestCmap())
    return covered


def _run(*args):
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def _flat(text):
    return re.sub(r"\s+", "", text)


def check_cjk_pdf(path, cjk_cmap, tmp_path, *, expected=()):
    """The three checks of the module docstring; returns the text (whitespace removed)."""
    rows = _run("pdffonts", str(path)).splitlines()[2:]
    assert rows, "no fonts in the PDF"
    for row in rows:
        name, embedded = row.split()[0], row.split()[-5]
        # Subset prefix removed; a weight may follow (Noto-Serif-CJK-SC-Bold).
        face = name.split("+")[-1].replace("-", "").lower()
        assert re.fullmatch(r"noto(sans|serif)cjksc[a-z]*", face), name
        assert embedded == "yes", name

    text = _run("pdftotext", "-enc", "UTF-8", str(path), "-")
    missing = {char for char in text if not char.isspace() and ord(char) not in cjk_cmap}
    assert not missing, f"characters drawn without a glyph (tofu): {missing}"
    flat = _flat(text)
    for fact in expected:
        assert _flat(fact) in flat, fact

    prefix = tmp_path / f"raster-{path.stem}"
    _run("pdftoppm", "-r", "60", "-png", "-f", "1", "-l", "1", str(path), str(prefix))
    image = Image.open(next(tmp_path.glob(f"raster-{path.stem}*.png"))).convert("RGB")
    colours = image.getcolors(maxcolors=1 << 24)
    total = image.width * image.height
    dark = sum(n for n, (r, g, b) in colours if r + g + b < 300)
    red = sum(n for n, (r, g, b) in colours if r > 180 and g < 90 and b < 90)
    assert dark > 0.005 * total, "the first page is (almost) blank"
    assert red > 50, "no red issuing-authority header"
    return flat


def _decided(kind, people):
    pending = PENDING[kind](**people)
    return pending, pending.target(pending.decide())


def _file(doc):
    return plaintext_file(doc)


# --- Fonts and glyphs, for every kind ------------------------------------------------------------------------


def _expected(kind, target):
    """The title plus facts of the record that the document must state."""
    if kind == Kind.RECTIFICATION_NOTICE:
        return [target.document_number, "第十二条第（二）项", chinese(target.deadline), "第十六条"]
    if kind == Kind.REVOCATION_DECISION:
        return [target.decision_number, "第十三条第（四）项", "第十四条", "第十六条第（三）项"]
    if kind == Kind.BLACKLIST_ANNOUNCEMENT:
        return [target.provider_name, target.uscc, target.decision_number, "第十三条第（四）项", "第十六条第（三）项"]
    if kind == Kind.APPEAL_DECISION:
        return ["第十六条第（一）项", "试点企业停产检修", "2026年4月30日", "2026年3月16日"]
    if kind == Kind.EXCELLENT_LIST:
        names = [entry.provider.name for entry in target.entries.all()]
        uscc = [entry.provider.uscc for entry in target.entries.all()]
        return ["唐工信〔2026〕88号", "第十五条", "附件", *names, *uscc]
    if kind == Kind.INTERNAL_ACCEPTANCE:
        contract = target.contract
        return [contract.number, contract.provider.name, contract.enterprise.name, "第八条", "内部验收报告.pdf"]
    return [target.contract.number, target.institution.name, "第九条", "一级", "二级", "通过", "特此证明"]


def chinese(day):
    return f"{day.year}年{day.month}月{day.day}日"


@pytest.mark.parametrize("kind", WIRED)
def test_every_kind_embeds_cjk_sc_and_draws_every_character(kind, people, cjk_cmap, tmp_path):
    pending, target = _decided(kind, people)
    doc = BUILDERS[kind](target, pending.by)

    assert doc.kind == kind and doc.object_id == target.pk
    data = _file(doc).read_bytes()
    assert hashlib.sha256(data).hexdigest() == doc.sha256 and data.startswith(b"%PDF")
    flat = check_cjk_pdf(_file(doc), cjk_cmap, tmp_path, expected=[doc.title, *_expected(kind, target)])
    assert f"第1页/共{doc.pages}页" in flat
    assert ("此件公开发布" in flat) == (kind in IssuedDocument.PUBLIC_KINDS)
    assert doc.verification_code in flat


def test_the_dossier_kind_embeds_cjk_sc_too(officer, cjk_cmap, tmp_path):
    enterprise = PilotEnterpriseFactory(name="唐山档案制造有限公司")
    doc = dossier_pdf_issue(enterprise, officer)
    flat = check_cjk_pdf(_file(doc), cjk_cmap, tmp_path, expected=[enterprise.name, "一企一档"])
    assert doc.kind == Kind.DOSSIER and f"共{doc.pages}页" in flat


def test_the_check_fails_on_tofu(people, cjk_cmap, tmp_path, monkeypatch):
    """A provider name with characters outside Noto CJK SC (Thai here): the issuing guard refuses the document,
    and with the guard switched off the PDF still lists only the Noto faces — and check_cjk_pdf fails on it."""
    pending, target = _decided(Kind.INTERNAL_ACCEPTANCE, people)
    provider = target.contract.provider
    provider.name = "唐山กขค科技有限公司"
    provider.save(update_fields=["name"])
    target = InternalAcceptance.objects.get(pk=target.pk)
    with pytest.raises(DocumentError, match="U\\+0E01"):
        internal_acceptance_pdf(target, pending.by)
    assert not IssuedDocument.objects.exists()

    monkeypatch.setattr("tangshan_portal.documents._MissingGlyphs.emit", lambda self, record: None)
    doc = internal_acceptance_pdf(target, pending.by)
    fonts = _run("pdffonts", str(_file(doc)))
    assert "CJK-SC" in fonts and "yes" in fonts
    with pytest.raises(AssertionError, match="tofu"):
        check_cjk_pdf(_file(doc), cjk_cmap, tmp_path)


# --- Issued by the decision, after it commits ----------------------------------------------------------------


@pytest.mark.parametrize("kind", WIRED)
def test_the_decision_issues_its_document_after_commit(kind, people, django_capture_on_commit_callbacks):
    pending = PENDING[kind](**people)
    with django_capture_on_commit_callbacks() as callbacks:
        target = pending.target(pending.decide())
    # Nothing is rendered inside the decision's transaction ...
    assert document_of(target, kind) is None
    assert callbacks
    # ... and the document is there once it committed.
    for callback in callbacks:
        callback()
    doc = document_of(target, kind)
    assert doc is not None
    assert doc.issued_by == pending.by
    assert set(doc.recipients.all()) == pending.recipients
    assert IssuedDocument.objects.filter(kind=kind).count() == 1


def test_an_approved_revocation_issues_the_decision_and_the_announcement(people, django_capture_on_commit_callbacks):
    pending = PENDING[Kind.REVOCATION_DECISION](**people)
    with django_capture_on_commit_callbacks(execute=True):
        revocation = pending.decide()
    entry = BlacklistEntry.objects.get(revocation=revocation)
    decision = document_of(revocation, Kind.REVOCATION_DECISION)
    announcement = document_of(entry, Kind.BLACKLIST_ANNOUNCEMENT)
    assert decision.document_number == revocation.decision_number
    # The announcement cites the decision's number; a document number names one document only.
    assert announcement.document_number == ""
    assert announcement.is_public and not decision.is_public


def test_the_appeal_decision_takes_the_next_number_of_the_bureau(people, django_capture_on_commit_callbacks):
    pending = PENDING[Kind.APPEAL_DECISION](**people)
    with django_capture_on_commit_callbacks(execute=True):
        appeal = pending.decide()
    doc = document_of(appeal, Kind.APPEAL_DECISION)
    sequence = DocumentSequence.objects.get(year=2026)
    assert doc.document_number == f"唐工信〔2026〕{sequence.last_number}号"
    # The case appealed against was ordered with the number before it.
    assert appeal.target.document_number == f"唐工信〔2026〕{sequence.last_number - 1}号"


def test_recipients_may_download_and_others_may_not(people, django_capture_on_commit_callbacks):
    pending = PENDING[Kind.INTERNAL_ACCEPTANCE](**people)
    with django_capture_on_commit_callbacks(execute=True):
        acceptance = pending.decide()
    doc = document_of(acceptance, Kind.INTERNAL_ACCEPTANCE)
    provider_staff = UserFactory(role=Role.PROVIDER, organisation=acceptance.contract.provider.organisation)
    stranger = UserFactory(role=Role.PROVIDER)
    assert doc in documents_visible_to(provider_staff)
    assert doc in documents_visible_to(pending.by)  # the enterprise that signed
    assert doc not in documents_visible_to(stranger)


@pytest.mark.parametrize("kind", WIRED)
def test_a_second_call_returns_the_same_document(kind, people, django_capture_on_commit_callbacks):
    pending = PENDING[kind](**people)
    with django_capture_on_commit_callbacks(execute=True):
        target = pending.target(pending.decide())
    first = document_of(target, kind)
    numbers = list(DocumentSequence.objects.values_list("last_number", flat=True))
    again = BUILDERS[kind](type(target).objects.get(pk=target.pk), pending.by)
    assert again.pk == first.pk
    assert IssuedDocument.objects.filter(kind=kind).count() == 1
    assert list(DocumentSequence.objects.values_list("last_number", flat=True)) == numbers


# --- Refused before the decision ---------------------------------------------------------------------------


def _undecided(kind, pending):
    if kind != Kind.BLACKLIST_ANNOUNCEMENT:
        return pending.undecided
    # An entry exists only once the revocation is decided; one removed after an upheld appeal is not announced.
    entry = pending.target(pending.decide())
    entry.status = BlacklistEntry.Status.REMOVED
    entry.removed_at = entry.published_at
    entry.removal_reason = "申诉理由成立"
    entry.save()
    return entry


@pytest.mark.parametrize("kind", WIRED)
def test_an_undecided_record_is_refused(kind, people):
    pending = PENDING[kind](**people)
    record = _undecided(kind, pending)
    numbers = list(DocumentSequence.objects.values_list("last_number", flat=True))
    with pytest.raises(DocumentNotDue):
        BUILDERS[kind](record, pending.by)
    assert not IssuedDocument.objects.filter(kind=kind).exists()
    assert list(DocumentSequence.objects.values_list("last_number", flat=True)) == numbers


def test_the_undecided_records_are_in_the_states_before_their_decision(people):
    states = {kind: PENDING[kind](**people).undecided for kind in WIRED if kind != Kind.BLACKLIST_ANNOUNCEMENT}
    assert states[Kind.RECTIFICATION_NOTICE].status == RectificationStatus.WARNED
    assert states[Kind.REVOCATION_DECISION].status == RevocationStatus.PROPOSED
    assert states[Kind.APPEAL_DECISION].status == AppealStatus.UNDER_REVIEW
    assert states[Kind.EXCELLENT_LIST].status == ExcellentBatch.Status.DRAFT
    assert states[Kind.INTERNAL_ACCEPTANCE].status == InternalAcceptance.Status.AWAITING_ENTERPRISE
    assert states[Kind.EVALUATION_ACCEPTANCE].acceptance_passed is None


def test_a_baseline_assessment_gets_no_acceptance_certificate(officer):
    assessor, acceptance = final_acceptance_assessment()
    baseline = LevelAssessment.objects.get(enterprise=acceptance.enterprise, kind=LevelAssessment.Kind.BASELINE)
    with pytest.raises(DocumentNotDue):
        evaluation_acceptance_pdf(baseline, assessor)


# --- A failed rendering never undoes the decision ------------------------------------------------------------


def _decision_stands(kind, target):
    target = type(target).objects.get(pk=target.pk)
    if kind == Kind.RECTIFICATION_NOTICE:
        return target.status == RectificationStatus.RECTIFYING and bool(target.document_number)
    if kind == Kind.REVOCATION_DECISION:
        return target.status == RevocationStatus.APPROVED and target.provider.status == "revoked"
    if kind == Kind.BLACKLIST_ANNOUNCEMENT:
        return target.status == BlacklistEntry.Status.PUBLISHED
    if kind == Kind.APPEAL_DECISION:
        return target.status == AppealStatus.UPHELD and target.target.deadline.isoformat() == "2026-04-30"
    if kind == Kind.EXCELLENT_LIST:
        return target.status == ExcellentBatch.Status.PUBLISHED
    if kind == Kind.INTERNAL_ACCEPTANCE:
        return target.status == InternalAcceptance.Status.SIGNED and target.contract.status == "internally_accepted"
    return target.acceptance_passed is True and target.contract.status == "accepted"


@pytest.mark.parametrize("kind", WIRED)
def test_a_failing_builder_does_not_undo_the_decision(kind, people, django_capture_on_commit_callbacks, caplog):
    pending = PENDING[kind](**people)

    def broken(record, by):
        raise RuntimeError("renderer crashed")

    broken.__name__ = BUILDERS[kind].__name__
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(WIRED_AT[kind], broken)
        with caplog.at_level(logging.ERROR), django_capture_on_commit_callbacks(execute=True):
            target = pending.target(pending.decide())
    assert _decision_stands(kind, target)
    assert document_of(target, kind) is None
    assert f"Issuing {BUILDERS[kind].__name__}" in caplog.text
    # Issued afterwards (as the admin would), from the same decided record.
    assert BUILDERS[kind](type(target).objects.get(pk=target.pk), pending.by).kind == kind


def test_a_rendering_failure_returns_the_appeal_decisions_number(people, django_capture_on_commit_callbacks, caplog):
    """The number and the stored document are written together: a render that fails takes no number."""
    pending = PENDING[Kind.APPEAL_DECISION](**people)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("tangshan_portal.documents.render_document", _failing_render)
        with caplog.at_level(logging.ERROR), django_capture_on_commit_callbacks(execute=True):
            appeal = pending.decide()
        before = DocumentSequence.objects.get(year=2026).last_number
        with pytest.raises(DocumentError), transaction.atomic():
            appeal_decision_pdf(appeal, pending.by)
    assert appeal.status == AppealStatus.UPHELD
    assert DocumentSequence.objects.get(year=2026).last_number == before
    assert document_of(appeal, Kind.APPEAL_DECISION) is None
    assert "DocumentError" in caplog.text
    doc = appeal_decision_pdf(appeal, pending.by)
    assert doc.document_number == f"唐工信〔2026〕{before + 1}号"


def _failing_render(template, context):
    raise DocumentError("Characters without a glyph in the document fonts: U+0E01")


# --- Wording helpers ---------------------------------------------------------------------------------------


def test_a_long_title_breaks_between_its_words_into_a_trapezoid():
    assert title_lines("关于", "唐山测评科技有限公司", "限期整改的通知") == ["关于唐山测评科技有限公司限期整改的通知"]
    assert title_lines("关于取消", "唐山云帆软件技术有限公司", "数字化服务商资格的决定") == [
        "关于取消唐山云帆软件技术有限公司",
        "数字化服务商资格的决定",
    ]
    assert title_lines("关于公布", "2026年度", "第一批", "优秀数字化服务商", "名单的通知") == [
        "关于公布2026年度第一批",
        "优秀数字化服务商名单的通知",
    ]
    # No two-line split fits: the renderer breaks it.
    assert title_lines("关于", "唐" * 40, "的通知") == ["关于" + "唐" * 40 + "的通知"]


def test_the_blacklist_announcement_keeps_the_finding_private(people, cjk_cmap, tmp_path):
    pending, entry = _decided(Kind.BLACKLIST_ANNOUNCEMENT, people)
    doc = blacklist_announcement_pdf(entry, pending.by)
    flat = check_cjk_pdf(_file(doc), cjk_cmap, tmp_path)
    assert "生产工艺数据" not in flat  # the case's finding names what was leaked; the public sees the ground
    assert "第十三条第（四）项" in flat


def test_render_pdf_of_a_kind_stores_nothing(people):
    from evaluations.documents import excellent_list_spec

    _pending, batch = _decided(Kind.EXCELLENT_LIST, people)
    spec = excellent_list_spec(batch)
    data = render_pdf(
        spec["template"],
        {**spec["context"], "document_title": spec["title"], "document_number": spec["number"], "sample": True},
    )
    assert data.startswith(b"%PDF")
    assert not IssuedDocument.objects.exists()
