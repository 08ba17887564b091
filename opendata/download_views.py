"""Bulk downloads (namespace `downloads:`, no login): the index page, the blacklist, its history and the resource
pool as CSV, XLSX and JSON (opendata.downloads), and the contracts as an OCDS release package (opendata.ocds).

The data are public, so anonymous and logged-in visitors share the cached files. CSV is streamed as it is written;
XLSX and JSON are built whole (a workbook and a JSON document are written at once) and cached the same way."""

from django.conf import settings
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_safe

from . import ocds
from .downloads import (
    BUILDERS,
    DATASETS,
    FORMATS,
    cached_export,
    csv_chunks,
    dataset_stamp,
    dataset_version,
    export_filename,
    file_key,
    filename_stamp,
    local_iso,
    store_export,
    stream_and_cache,
)

OCDS_CONTENT_TYPE = "application/json; charset=utf-8"
STREAM_CHUNK_BYTES = 64 * 1024


def _base_url(request):
    return f"{request.scheme}://{request.get_host()}"


def _file_headers(response, *, filename, generated_at):
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["X-Generated-At"] = local_iso(generated_at)
    response["X-Content-Type-Options"] = "nosniff"
    # Public, but a browser must ask again: the next request may already carry a newly approved entry.
    response["Cache-Control"] = "no-cache"
    return response


@require_safe
def index(request):
    """Each dataset with its formats, row count, generation time, columns and legal basis."""
    datasets = []
    for dataset in DATASETS.values():
        version = dataset_version(dataset)
        datasets.append(
            {
                "dataset": dataset,
                "count": dataset.count(),
                "generated_at": dataset_stamp(dataset, version),
                "legal_basis": dataset.legal_basis(),
                "files": [
                    {
                        "format": fmt,
                        "label": label,
                        "content_type": content_type.split(";")[0],
                        "url": reverse("downloads:file", kwargs={"slug": dataset.slug, "fmt": fmt}),
                    }
                    for fmt, (content_type, label) in FORMATS.items()
                ],
            }
        )
    context = {
        "datasets": datasets,
        "ocds_count": ocds.contracts().count(),
        "ocds_prefix": settings.OCDS_OCID_PREFIX,
        "ocds_version": ocds.OCDS_VERSION,
    }
    return render(request, "public/downloads.html", context)


@require_safe
def dataset_file(request, slug, fmt):
    dataset = DATASETS.get(slug)
    if dataset is None or fmt not in FORMATS:
        raise Http404
    content_type = FORMATS[fmt][0]
    version = dataset_version(dataset)
    key = file_key(dataset, fmt, version, request.get_host())
    export = cached_export(key)
    if export is None:
        generated_at = dataset_stamp(dataset, version)
        if fmt == "csv":
            chunks = stream_and_cache(
                csv_chunks(dataset, _base_url(request)),
                key=key,
                generated_at=generated_at,
                language=translation.get_language(),
            )
            response = StreamingHttpResponse(chunks, content_type=content_type)
            return _file_headers(response, filename=export_filename(slug, fmt, generated_at), generated_at=generated_at)
        export = BUILDERS[fmt](dataset, _base_url(request), generated_at)
        store_export(key, export)
    response = HttpResponse(export.content, content_type=content_type)
    if export.count is not None:
        response["X-Row-Count"] = str(export.count)
    return _file_headers(
        response, filename=export_filename(slug, fmt, export.generated_at), generated_at=export.generated_at
    )


def _buffered(texts):
    """Join small pieces into chunks of about STREAM_CHUNK_BYTES: one write per chunk, not per contract."""
    parts, size = [], 0
    for text in texts:
        data = text.encode()
        parts.append(data)
        size += len(data)
        if size >= STREAM_CHUNK_BYTES:
            yield b"".join(parts)
            parts, size = [], 0
    if parts:
        yield b"".join(parts)


@require_safe
def contracts_ocds(request):
    """The OCDS 1.1 release package of the contracts, built on each request: contracts change through services
    that write no PublicChange, so the public data version cannot tell when a cached package went stale."""
    published = timezone.now()
    uri = request.build_absolute_uri(reverse("downloads:ocds"))
    policy_uri = request.build_absolute_uri(reverse("downloads:index"))

    def chunks():
        with translation.override(settings.LANGUAGE_CODE):
            yield from _buffered(ocds.package_chunks(uri=uri, policy_uri=policy_uri, published=published))

    response = StreamingHttpResponse(chunks(), content_type=OCDS_CONTENT_TYPE)
    return _file_headers(response, filename=f"contracts-ocds-{filename_stamp(published)}.json", generated_at=published)
