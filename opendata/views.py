"""The public portal's pages (namespace `public:`): the blacklist (Art 13) with its history, the resource-pool
directory (Art 2), the excellent-provider lists (Art 15) and the bureau's announcements.

No login and no JavaScript. What is public comes from opendata.selectors, so the pages, the API and the bulk
downloads show the same records. Every page is cached for anonymous visitors until public data change
(opendata.cache); a page therefore never reads the clock for what it shows, except announcements, which the
services publish at once (never for a later moment)."""

import re

from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.urls import Resolver404, resolve
from django.utils import timezone
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_safe

from evaluations.models import BlacklistEntry, ExcellentEntry
from tangshan_portal.grounds import ART13_CONSEQUENCE, ART13_WORDING, CHINESE_NUMERALS
from tangshan_portal.models import Announcement, Scenario

from . import selectors
from .cache import cached_public_page
from .forms import AnnouncementFilterForm, BlacklistSearchForm, ProviderSearchForm, SearchForm

PER_PAGE = 20
# Namespaces whose pages an announcement may link to by writing their path.
LINKABLE_NAMESPACES = ("public", "downloads")
# Article 13 as the regulation words it, for the blacklist's explanation.
ART13 = {
    "consequence": ART13_CONSEQUENCE,
    "art13_grounds": [(CHINESE_NUMERALS[n - 1], ART13_WORDING[n]) for n in sorted(ART13_WORDING)],
}


def _page(request, queryset):
    return Paginator(queryset, PER_PAGE).get_page(request.GET.get("page"))


def _short_ground(entry):
    """The decision's ground without the regulation's title, which the page states once: 第十三条第（四）项：……"""
    wording = entry.ground_wording
    return wording.split("》", 1)[1] if wording.startswith("《") and "》" in wording else wording


# --- The blacklist (Art 13) ------------------------------------------------------------------------------------


@cached_public_page
@require_safe
def blacklist(request):
    """Published entries and those under appeal, searchable; removed ones are only in the history."""
    form = BlacklistSearchForm(request.GET or None, years=selectors.blacklist_years())
    filters = form.filters()
    page = _page(request, selectors.blacklist_search(selectors.blacklist_current(), **filters))
    for entry in page.object_list:
        entry.ground_short = _short_ground(entry)
    return render(
        request,
        "public/blacklist.html",
        {"form": form, "page": page, "searched": bool(filters.keys() - {"sort"}), **ART13},
    )


@cached_public_page
@require_safe
def blacklist_history(request):
    """Entries taken down after an upheld appeal (Art 16), with the date and reason of removal."""
    form = SearchForm(request.GET or None)
    filters = form.filters()
    entries = selectors.blacklist_search(selectors.blacklist_history(), q=filters.get("q", ""))
    page = _page(request, entries.order_by("-removed_at", "-id"))
    return render(request, "public/blacklist_history.html", {"form": form, "page": page, "searched": bool(filters)})


@cached_public_page
@require_safe
def blacklist_detail(request, pk):
    """The permalink of an entry. It answers for ever, also once the entry is removed, because decisions and
    reports cite it; a removed entry says so with the date and reason."""
    entry = get_object_or_404(BlacklistEntry.objects.all(), pk=pk)
    return render(
        request,
        "public/blacklist_detail.html",
        {
            "entry": entry,
            "removed": entry.status == BlacklistEntry.Status.REMOVED,
            "ground_short": _short_ground(entry),
            **ART13,
        },
    )


# --- The resource pool (Art 2) ---------------------------------------------------------------------------------


def _with_counties(providers):
    served = selectors.counties_served(providers)
    for provider in providers:
        provider.counties = served.get(provider.pk, [])
    return providers


@cached_public_page
@require_safe
def provider_directory(request):
    form = ProviderSearchForm(request.GET or None)
    filters = form.filters()
    page = _page(request, selectors.pool_search(selectors.pool_providers(), **filters))
    _with_counties(page.object_list)
    return render(request, "public/provider_directory.html", {"form": form, "page": page, "searched": bool(filters)})


@cached_public_page
@require_safe
def provider_detail(request, pk):
    """A pool member's public profile; a provider outside the pool (applied, rejected, revoked, withdrawn) is
    not in the directory, so its page does not exist. Contact persons are not shown: they are personal data."""
    # The products (already prefetched by the selector) with their scenarios.
    providers = selectors.pool_providers().prefetch_related(
        Prefetch("products__scenarios", queryset=Scenario.objects.order_by("sort_order"))
    )
    provider = get_object_or_404(providers, pk=pk)
    _with_counties([provider])
    honours = (
        ExcellentEntry.objects.filter(provider=provider, batch__in=selectors.excellent_batches())
        .select_related("batch")
        .order_by("-batch__period_end", "-batch_id")
    )
    return render(request, "public/provider_detail.html", {"provider": provider, "honours": honours})


# --- Excellent providers (Art 15) ------------------------------------------------------------------------------


@cached_public_page
@require_safe
def excellent_list(request):
    return render(request, "public/excellent_list.html", {"page": _page(request, selectors.excellent_batches())})


@cached_public_page
@require_safe
def excellent_detail(request, pk):
    """A published batch, ranked. A draft does not exist for the public."""
    batch = get_object_or_404(selectors.excellent_batches(), pk=pk)
    entries = selectors.excellent_batch_entries(batch)
    return render(request, "public/excellent_detail.html", {"batch": batch, "entries": entries})


# --- Announcements ---------------------------------------------------------------------------------------------


_PATH = re.compile(r"(?<![A-Za-z0-9_/.:])(/[A-Za-z0-9_\-/]*/)")


def _linkable(path):
    try:
        match = resolve(path)
    except Resolver404:
        return False
    return match.namespace in LINKABLE_NAMESPACES


def linked_paragraphs(text):
    """The announcement's text as escaped paragraphs, in which a path of a public page of this portal
    (e.g. /excellent/3/) becomes a link. Nothing else is interpreted, so an officer cannot inject markup."""
    paragraphs = []
    for block in re.split(r"\n\s*\n", text.strip()):
        parts = []
        position = 0
        for found in _PATH.finditer(block):
            if _linkable(found.group(1)):
                parts.append(escape(block[position : found.start(1)]))
                parts.append(format_html('<a href="{0}">{0}</a>', found.group(1)))
                position = found.end(1)
        parts.append(escape(block[position:]))
        paragraphs.append(mark_safe("".join(parts).replace("\n", "<br>")))  # noqa: S308 (every part is escaped)
    return paragraphs


@cached_public_page
@require_safe
def announcement_list(request):
    form = AnnouncementFilterForm(request.GET or None)
    announcements = selectors.announcements_published()
    category = form.filters().get("category", "")
    if category:
        announcements = announcements.filter(category=category)
    return render(
        request,
        "public/announcement_list.html",
        {
            "form": form,
            "category": category,
            "categories": Announcement.Category.choices,
            "page": _page(request, announcements),
        },
    )


@cached_public_page
@require_safe
def announcement_detail(request, pk):
    """A published announcement. A draft does not exist for the public (404); a withdrawn one answers
    410 Gone with the date and reason of its withdrawal, so that a link to it explains itself."""
    announcement = get_object_or_404(Announcement.objects.filter(published_at__isnull=False), pk=pk)
    if announcement.withdrawn_at is not None:
        return render(request, "public/announcement_withdrawn.html", {"announcement": announcement}, status=410)
    if announcement.published_at > timezone.now():
        raise Http404
    return render(
        request,
        "public/announcement_detail.html",
        {"announcement": announcement, "paragraphs": linked_paragraphs(announcement.body)},
    )
