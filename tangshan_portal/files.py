"""The one way a stored file leaves the portal: file_response(), used by every download view.

The views decide who may have the file (each answers 404 otherwise); this decides how it is handed out:

* always as a download (`Content-Disposition: attachment`), never shown inline by the browser, with
  `X-Content-Type-Options: nosniff`, so an uploaded file cannot become a page of the portal's origin;
* `Content-Security-Policy: default-src 'none'; sandbox` (no allow-* token): should a browser render it
  anyway, it runs no script, loads nothing and gets a unique origin without the portal's cookies. django-csp's
  middleware leaves a response's own Content-Security-Policy header alone, so the site-wide policy does not
  replace it (tests/test_file_downloads.py);
* `Cross-Origin-Resource-Policy: same-origin`: another site cannot embed it;
* for confidential files `Cache-Control: private, no-store`, so no proxy or browser cache keeps a copy;
* the file name as RFC 6266/5987 give it: an ASCII fallback and `filename*=utf-8''…` for Chinese names;
* an audit DOWNLOAD event naming the object when `audit_obj` is given (confidential files: attachments,
  dossier PDFs, documents addressed to an organisation). Published documents (the verify page's download of
  a blacklist announcement or an excellent-provider list) are not audited per download: they are public, and
  logging each anonymous reader's address would collect personal data with no confidentiality to protect.
"""

import re
import unicodedata
from pathlib import PurePosixPath
from urllib.parse import quote

from django.http import FileResponse, Http404
from django.utils.translation import gettext as _

from .audit import record_event
from .models import AuditEvent

DOWNLOAD_CSP = "default-src 'none'; sandbox"
MAX_FILENAME_CHARS = 150
_UNSAFE = re.compile(r'[\\/:*?"<>|]')


def safe_filename(name):
    """A file name a browser can save as it is: no path, no control characters, not too long."""
    name = "".join(ch for ch in str(name or "") if unicodedata.category(ch)[0] != "C")
    name = _UNSAFE.sub("_", name).strip().lstrip(".")
    if not name:
        return "download"
    if len(name) > MAX_FILENAME_CHARS:
        suffix = PurePosixPath(name).suffix[:20]
        name = name[: MAX_FILENAME_CHARS - len(suffix)] + suffix
    return name


def content_disposition(filename):
    """`attachment` with the name: quoted when plain ASCII, else an ASCII fallback plus the UTF-8 name."""
    name = safe_filename(filename)
    if re.fullmatch(r"[\x20-\x7e]+", name):
        return 'attachment; filename="{}"'.format(name.replace("\\", "\\\\").replace('"', '\\"'))
    suffix = PurePosixPath(name).suffix
    fallback = "download" + (suffix if re.fullmatch(r"\.[A-Za-z0-9]{1,10}", suffix) else "")
    return f"attachment; filename=\"{fallback}\"; filename*=utf-8''{quote(name, safe='')}"


def file_response(file, *, filename, content_type, request=None, audit_obj=None, audit_detail=None, confidential=True):
    """Hand out a stored file (a FieldFile) as a download; 404 when the file is gone.

    `audit_obj`: the record to name in the audit DOWNLOAD event (with `audit_detail`); written only once the file
    was opened, so a missing file is not recorded as downloaded."""
    try:
        handle = file.open("rb")
    except FileNotFoundError as exc:
        raise Http404(_("The file is no longer available.")) from exc
    if audit_obj is not None:
        record_event(AuditEvent.Action.DOWNLOAD, request=request, obj=audit_obj, **(audit_detail or {}))
    response = FileResponse(handle, as_attachment=True, content_type=content_type or "application/octet-stream")
    response["Content-Disposition"] = content_disposition(filename)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = DOWNLOAD_CSP
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    if confidential:
        response["Cache-Control"] = "private, no-store"
    return response


def attachment_response(request, attachment, **audit_detail):
    """An uploaded Attachment as a confidential download under its uploaded name, audited with `audit_detail`
    (the record it belongs to): the one way every view and admin page hands an attachment out."""
    return file_response(
        attachment.file,
        filename=attachment.original_name,
        content_type=attachment.mime_type,
        request=request,
        audit_obj=attachment,
        audit_detail=audit_detail,
    )
