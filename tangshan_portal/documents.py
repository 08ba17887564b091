"""Official documents (公文) as PDF: rendering with WeasyPrint and issuing (storing) them for verification.

Why the printed code is not the file's hash
-------------------------------------------
A file cannot contain its own SHA-256: printing the hash changes the bytes, and so the hash (a fixed point
of SHA-256 cannot be constructed). So every issue gets two identifiers:

* ``verification_code`` — 128 random bits (32 hex digits) drawn *before* rendering and printed in the
  footer of every page next to the public address ``/verify/<code>/``. Random rather than derived from
  the content, so that it cannot be guessed: the verify page of a confidential notice must not be found by
  enumerating, and two issues of identical content still get different codes.
* ``sha256`` — the SHA-256 of the final PDF bytes exactly as stored and handed out, computed after
  rendering. The database binds the two (both unique).

Someone holding the *paper* types the printed code and sees what the bureau issued (kind, title, number,
authority, date, page count and the file's SHA-256). Someone holding the *file* computes its SHA-256
(``sha256sum``) and opens ``/verify/<sha256>/``: a match proves the file is byte-for-byte the issued one;
any change to it — even in metadata — gives a hash the portal does not know. For public kinds the verify
page also offers the stored file, so a paper copy can be compared with the original.

Rendering: ``<html lang="zh-CN">`` plus explicit "Noto Serif CJK SC"/"Noto Sans CJK SC" families — without
them Pango may pick the Japanese face for Han characters (DESIGN.md, known traps). Resources are fetched
only from the static folders: templates never reach the network or arbitrary files.
"""

import hashlib
import logging
import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from .audit import record_event
from .models import AuditEvent, IssuedDocument

# WeasyPrint logs every layout step at INFO; a server renders many documents, so only problems are kept.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)


class DocumentError(Exception):
    pass


def _static_roots():
    return [Path(p).resolve() for p in settings.STATICFILES_DIRS]


def _url_fetcher(url, timeout=10, ssl_context=None):
    """Only local files under the static folders: a document never depends on (or leaks to) the network."""
    from weasyprint import default_url_fetcher

    if url.startswith("file://"):
        path = Path(url[len("file://") :]).resolve()
        if any(path.is_relative_to(root) for root in _static_roots()):
            return default_url_fetcher(url, timeout=timeout, ssl_context=ssl_context)
    raise DocumentError(f"Refused to fetch {url!r} while rendering a document.")


class _MissingGlyphs(logging.Handler):
    """Collects WeasyPrint's ".notdef glyph rendered" warnings: a character no installed face can draw is
    printed as an empty box (tofu) while pdffonts and pdftotext still look right."""

    def __init__(self):
        super().__init__(level=logging.WARNING)
        self.messages = []

    def emit(self, record):
        message = record.getMessage()
        if ".notdef" in message:
            self.messages.append(message)


def render_document(template, context):
    """HTML → WeasyPrint document (laid out); returns (pdf bytes, page count).

    Refuses (DocumentError) to produce a PDF in which a character would be drawn as an empty box: an official
    document with a missing glyph in a name or a number must not be issued.
    """
    from weasyprint import HTML

    html = render_to_string(template, context)
    base_url = _static_roots()[0].as_uri() + "/"
    missing = _MissingGlyphs()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(missing)
    try:
        laid_out = HTML(string=html, base_url=base_url, url_fetcher=_url_fetcher).render()
        data = laid_out.write_pdf()
    finally:
        logger.removeHandler(missing)
    if missing.messages:
        raise DocumentError("Characters without a glyph in the document fonts: " + "; ".join(missing.messages))
    return data, len(laid_out.pages)


def render_pdf(template, context):
    """Render a template of templates/pdf/ to PDF bytes (for previews and samples; nothing is stored)."""
    return render_document(template, {**common_context(), **context})[0]


def chinese_date(value):
    """2026年11月29日: the date style of the signature block (GB/T 9704: Arabic numerals, no leading zeros)."""
    if hasattr(value, "tzinfo") and hasattr(value, "hour"):
        value = timezone.localtime(value).date()
    return f"{value.year}年{value.month}月{value.day}日"


def verify_path(code):
    try:
        return reverse("verify_document", args=[code])
    except NoReverseMatch:
        # The URL line is added to tangshan_portal/urls.py by the integrator; the printed address must not
        # depend on it being there when a document is rendered from a management command.
        return f"/verify/{code}/"


def common_context():
    return {
        "authority": settings.PORTAL_AUTHORITY_NAME,
        "regulation_title": settings.PORTAL_REGULATION_TITLE,
        "site_title": settings.PORTAL_SITE_TITLE,
    }


def document_issue(*, kind, template, context, target, by, title, number="", recipients=(), now=None, progress=None):
    """Render `template` with `context`, store the PDF and return the IssuedDocument.

    The page carries a random verification code (printed) while the record keeps the SHA-256 of the exact
    bytes stored (see the module docstring). `recipients` are the organisations it is addressed to (they may
    download it). `progress(stage)` is called before rendering and before storing (long documents).
    Rendering happens before the database write so the row lock
    of a caller's transaction is not held for the render any longer than needed; the stored file is written
    inside the caller's transaction together with the row.
    """
    if kind not in IssuedDocument.Kind.values:
        raise DocumentError(f"Unknown document kind {kind!r}.")
    now = now or timezone.now()
    code = secrets.token_hex(16)
    public_url = settings.PORTAL_PUBLIC_URL
    full_context = {
        **common_context(),
        **context,
        "document_title": title,
        "document_number": number,
        "issued_on": chinese_date(now),
        "verification_code": code,
        "verify_url": public_url + verify_path(code),
        "confidential": kind not in IssuedDocument.PUBLIC_KINDS,
    }
    if progress:
        progress("render")
    data, pages = render_document(template, full_context)
    if progress:
        progress("store")
    digest = hashlib.sha256(data).hexdigest()
    with transaction.atomic():
        doc = IssuedDocument(
            kind=kind,
            title=title,
            document_number=number,
            verification_code=code,
            sha256=digest,
            pages=pages,
            size=len(data),
            content_type=ContentType.objects.get_for_model(target),
            object_id=target.pk,
            issued_by=by,
            issued_at=now,
            authority=settings.PORTAL_AUTHORITY_NAME,
        )
        # Not doc.file.save(): upload_to needs issued_at and the code, which are set above.
        doc.file.save(f"{code}.pdf", ContentFile(data), save=False)
        doc.save()
        doc.recipients.set([org for org in recipients if org is not None])
        record_event(
            AuditEvent.Action.DOCUMENT_ISSUED,
            actor=by,
            obj=doc,
            kind=kind,
            number=number,
            sha256=digest,
            target=f"{target._meta.label}:{target.pk}",
        )
    return doc


def issued_documents_for(target):
    return IssuedDocument.objects.filter(content_type=ContentType.objects.get_for_model(target), object_id=target.pk)


def find_by_code_or_hash(value):
    """The verify look-up: 32 hex digits are a printed code, 64 are a file hash; anything else is unknown."""
    value = (value or "").strip().lower()
    if len(value) == 32 and all(c in "0123456789abcdef" for c in value):
        return IssuedDocument.objects.filter(verification_code=value).first()
    if len(value) == 64 and all(c in "0123456789abcdef" for c in value):
        return IssuedDocument.objects.filter(sha256=value).first()
    return None


def documents_visible_to(user):
    """Issued documents a user may download: all of them with the bureau's view permission, else those
    addressed to the user's organisation and those built at the user's own request (a dossier)."""
    from django.db.models import Exists, OuterRef, Q

    from .models import BackgroundJob

    if not user.is_authenticated:
        return IssuedDocument.objects.none()
    if user.has_perm("portal.view_issueddocument"):
        return IssuedDocument.objects.all()
    if user.organisation_id and not user.organisation.is_active:
        # A deactivated organisation's users keep nothing, not even the dossiers they had built.
        return IssuedDocument.objects.none()
    requested = BackgroundJob.objects.filter(document=OuterRef("pk"), requested_by=user)
    own = Q(Exists(requested))
    if user.organisation_id:
        own |= Q(
            Exists(
                IssuedDocument.recipients.through.objects.filter(
                    issueddocument=OuterRef("pk"), organisation=user.organisation_id
                )
            )
        )
    return IssuedDocument.objects.filter(own)


def document_of(target, kind):
    """The document of this kind already issued for the target, if any (the latest)."""
    return issued_documents_for(target).filter(kind=kind).first()


def issue_after_commit(builder, target, by):
    """Issue a one-page document right after the decision it records commits: `builder(target, by)` renders
    and stores it (a fraction of a second). The decision is the legal act and must not be undone by a
    rendering failure, so a failure is logged and the document can be issued again from the admin; a
    builder is idempotent (it returns the document already issued for the target)."""
    model, pk, by_id = type(target), target.pk, getattr(by, "pk", None)

    def issue():
        from django.contrib.auth import get_user_model

        try:
            fresh = model._default_manager.get(pk=pk)
            user = get_user_model().objects.filter(pk=by_id).first() if by_id else None
            builder(fresh, user)
        except Exception:
            logging.getLogger(__name__).exception("Issuing %s for %s #%s failed", builder.__name__, model.__name__, pk)

    transaction.on_commit(issue)


# kind -> (due(): queryset of decided records that need the document, builder(record, by))
_DUE = {}


def register_due_documents(kind, due, builder):
    """Apps declare which decided records must carry a document of `kind` (in AppConfig.ready())."""
    _DUE[kind] = (due, builder)


def documents_issue_missing(limit=200):
    """Issue the documents that a decision should have produced but did not (a rendering failure right after
    the decision, or a decision taken before the document kind existed). Returns {kind: number issued}."""
    issued = {}
    for kind, (due, builder) in _DUE.items():
        queryset = due()
        have = IssuedDocument.objects.filter(
            kind=kind, content_type=ContentType.objects.get_for_model(queryset.model)
        ).values("object_id")
        for record in queryset.exclude(pk__in=have).order_by("pk")[:limit]:
            try:
                builder(record, None)
            except Exception:
                logging.getLogger(__name__).exception("Issuing %s for #%s failed", kind, record.pk)
                continue
            issued[kind] = issued.get(kind, 0) + 1
    return issued


# --- What the builders of the apps share ----------------------------------------------------------------

# Characters of the 22 pt title on the 156 mm type area of base.html (Latin letters and digits count half).
TITLE_WIDTH = 20


class DocumentNotDue(Exception):
    """The record has not (or no longer) reached the decision the document records."""


def sentence(text):
    """Quoted free text as a sentence of the document body: stripped and ending with a full stop."""
    text = (text or "").strip()
    if text and text[-1] not in "。！？；…":
        text += "。"
    return text


def _width(text):
    return sum(0.5 if ord(char) < 0x2E80 else 1 for char in text)


def title_lines(*parts):
    """The title in one line, or in two broken between two of its `parts` (meaningful units such as a name),
    the upper line not longer than the lower where possible: GB/T 9704 wants a broken title 词意完整, in the
    shape of a trapezoid or a diamond, which the renderer's line breaking cannot know. A title that fits no
    two-line split is left to the renderer."""
    parts = [part for part in parts if part]
    title = "".join(parts)
    if _width(title) <= TITLE_WIDTH:
        return [title]
    best = None
    for cut in range(1, len(parts)):
        top, bottom = "".join(parts[:cut]), "".join(parts[cut:])
        if max(_width(top), _width(bottom)) > TITLE_WIDTH:
            continue
        score = abs(_width(top) - _width(bottom)) + (1 if _width(top) > _width(bottom) else 0)
        if best is None or score < best[0]:
            best = (score, [top, bottom])
    return best[1] if best else [title]


def issue_once(spec_of, record, by, kind, *, now=None):
    """Issue the document `spec_of(record)` describes, or return the one already issued for the record.

    The record's row is locked for the check and the issue: the service's after-commit call and the sweep
    (documents_issue_missing) may meet on one record, and two differently coded copies of one decision must
    not exist."""
    with transaction.atomic():
        type(record)._default_manager.select_for_update().filter(pk=record.pk).exists()
        existing = document_of(record, kind)
        if existing is not None:
            return existing
        return document_issue(target=record, by=by, now=now, **spec_of(record))
