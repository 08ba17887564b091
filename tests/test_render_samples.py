"""`manage.py render_samples`: one marked sample of every document kind, nothing issued or stored."""

import re
import shutil
import subprocess
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from evaluations.models import RectificationCase, RevocationCase
from tangshan_portal.models import DocumentSequence, IssuedDocument

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils"),
]

KINDS = [kind.value for kind in IssuedDocument.Kind]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.DEBUG = True  # seed_demo refuses to write its public-password accounts otherwise


def _text(path):
    return subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], check=True, capture_output=True).stdout


def test_a_database_without_demo_data_is_refused_with_the_way_out(tmp_path):
    with pytest.raises(CommandError, match="seed_demo"):
        call_command("render_samples", out=str(tmp_path / "out"))
    assert not (tmp_path / "out").exists()


def test_one_marked_sample_per_kind_and_nothing_issued(tmp_path, settings):
    out, stdout = tmp_path / "samples", StringIO()
    call_command("render_samples", out=str(out), seed=True, stdout=stdout, stderr=StringIO())

    assert sorted(path.name for path in out.iterdir()) == sorted(f"{kind}.pdf" for kind in KINDS)
    table = stdout.getvalue()
    for kind in KINDS:
        row = re.search(rf"^{kind}\s+\S+\s+(\d+)\s+(\d+)\s+[\d.]+$", table, re.MULTILINE)
        assert row, f"no row for {kind} in:\n{table}"
        assert int(row.group(1)) >= 1
        assert int(row.group(2)) == (out / f"{kind}.pdf").stat().st_size
        text = _text(out / f"{kind}.pdf").decode()
        assert re.sub(r"\s+", "", text).count("第1页/共") == 1
        # Marked as a sample, with no verification code that could pass for an issued document's.
        assert "样本" in text and "验证码" not in text
    # Not issued: the register, the number sequence and the media folder are as seed_demo left them.
    assert not IssuedDocument.objects.exists()
    numbered = (
        RectificationCase.objects.exclude(document_number=None).count()
        + RevocationCase.objects.exclude(decision_number=None).count()
    )
    assert sum(DocumentSequence.objects.values_list("last_number", flat=True)) == numbered
    assert not [path for path in (tmp_path / "media").rglob("*.pdf") if "documents" in path.parts]
