"""Official documents: public verification (/verify/…, no login), the download of an issued document by
those it concerns (/documents/…), and the progress page of a background job (/jobs/<id>/)."""

import hashlib
import re
from datetime import timedelta

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_safe

from .documents import documents_visible_to, find_by_code_or_hash
from .files import file_response
from .jobs import jobs_of
from .models import BackgroundJob

# A verification upload is hashed and thrown away; an official document is a few MB at most.
VERIFY_UPLOAD_MAX_BYTES = 50 * 1024 * 1024
# A printed verification code (32 hex digits) or a file's SHA-256 (64).
CODE_OR_HASH = re.compile(r"[0-9a-f]{32}|[0-9a-f]{64}")
# A job still running after this long has most likely lost its worker; the page says so.
JOB_STALE_AFTER = timedelta(minutes=15)


class VerifyForm(forms.Form):
    code = forms.CharField(
        label=_("Verification code or SHA-256"),
        required=False,
        max_length=80,
        help_text=_(
            "The 32-character code printed at the foot of every page, or the 64-character SHA-256 of the file."
        ),
    )
    file = forms.FileField(label=_("Or choose the PDF file to check"), required=False)

    def clean_code(self):
        # People copy the code from paper: spaces and capitals are theirs, not part of the code. Anything
        # else than 32 or 64 hex digits cannot be in the register (and cannot be part of an address).
        value = "".join(self.cleaned_data.get("code", "").split()).lower()
        if value and not CODE_OR_HASH.fullmatch(value):
            raise forms.ValidationError(
                _("A verification code has 32 characters and a SHA-256 has 64, each a digit or a letter a-f.")
            )
        return value

    def clean(self):
        data = super().clean()
        if not data.get("code") and not data.get("file") and not self.has_error("code"):
            raise forms.ValidationError(_("Enter a verification code or choose a file."))
        upload = data.get("file")
        if upload is not None and upload.size > VERIFY_UPLOAD_MAX_BYTES:
            raise forms.ValidationError(_("The file is larger than any document the portal issues."))
        return data


def _found(value):
    doc = find_by_code_or_hash(value)
    if doc is None:
        raise Http404("No document was issued with this code or SHA-256.")
    return doc


@require_http_methods(["GET", "HEAD", "POST"])
def verify_start(request):
    """Type the printed code, or choose the file: its SHA-256 is computed here and looked up, and the file is
    not kept. An unknown value gets the same 404 page as an unknown address, never a hint."""
    data = (request.POST, request.FILES) if request.method == "POST" else (request.GET or None,)
    form = VerifyForm(*data)
    if form.is_bound and form.is_valid():
        if form.cleaned_data.get("file"):
            digest = hashlib.sha256()
            for chunk in form.cleaned_data["file"].chunks():
                digest.update(chunk)
            value = digest.hexdigest()
        else:
            value = form.cleaned_data["code"]
        return redirect("verify_document", code=value)
    return render(request, "public/verify_start.html", {"form": form})


@require_safe
def verify_document(request, code):
    """What the bureau issued under this code (printed on the page) or SHA-256 (of the file).

    Confidential kinds show only the register data (kind, title, number, dates) — never the body — so the page
    reveals nothing beyond what the holder of the paper already knows; public kinds also offer the stored file.
    """
    doc = _found(code)
    matched_by = "sha256" if len(code) == 64 else "code"
    response = render(request, "public/verify.html", {"doc": doc, "matched_by": matched_by})
    # A verification answer is about a fixed record; it must not be indexed with the title of a notice.
    response["X-Robots-Tag"] = "noindex"
    return response


def _pdf_response(doc, **options):
    if not doc.file:
        # A dossier PDF whose content was destroyed at the end of the service (dossiers.services): the register
        # row still verifies a printed copy, but there is nothing left to hand out.
        raise Http404("The file of this document was destroyed.")
    filename = f"{doc.document_number or doc.title}.pdf".replace("/", "-")
    return file_response(doc.file, filename=filename, content_type="application/pdf", **options)


@require_safe
def verify_document_download(request, code):
    """A published document's file for anyone holding its code. Not audited per download and cacheable: its
    content is public anyway (tangshan_portal/files.py says why)."""
    doc = _found(code)
    if not doc.is_public:
        raise Http404("This document is not public.")
    return _pdf_response(doc, confidential=False)


@never_cache
@require_GET
@login_required
def documents_mine(request):
    """The documents addressed to the user's organisation (notices, decisions, certificates), and the PDFs
    made at the user's own request (dossiers)."""
    visible = documents_visible_to(request.user)
    if request.user.organisation_id is None:
        # Without this, filter(recipients=None) would list every document addressed to nobody.
        addressed = visible.none()
    else:
        addressed = visible.filter(recipients=request.user.organisation_id)
    requested = (
        jobs_of(request.user)
        .filter(status=BackgroundJob.Status.DONE, document__in=visible)
        .select_related("document")
        .order_by("-finished_at", "-id")
    )
    return render(request, "portal/documents.html", {"documents": addressed[:200], "requested": requested[:50]})


@never_cache
@require_safe
@login_required
def document_download(request, code):
    """The stored PDF for the bureau, for the organisations it is addressed to and for whoever asked for it
    to be built (a dossier); everyone else gets 404, as if it did not exist. Every download is audited, and
    the answer is never kept by a cache on the way (most documents are confidential)."""
    doc = get_object_or_404(documents_visible_to(request.user), verification_code=code.lower())
    return _pdf_response(doc, request=request, audit_obj=doc, audit_detail={"kind": doc.kind, "sha256": doc.sha256})


@never_cache
@require_GET
@login_required
def job_status(request, pk):
    """Progress of the user's own background job; the page reloads itself (no JavaScript) until it ends."""
    job = get_object_or_404(jobs_of(request.user).select_related("document"), pk=pk)
    stale = (
        job.status == BackgroundJob.Status.RUNNING
        and job.started_at is not None
        and timezone.now() - job.started_at > JOB_STALE_AFTER
    )
    return render(request, "portal/job.html", {"job": job, "stale": stale})
