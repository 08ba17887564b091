"""What the public may see, and how it is searched. The public pages, the open-data API and the bulk
downloads all read through these functions, so that one rule decides what is public."""

from django.db.models import Count, Prefetch, Q
from django.utils import timezone

from enterprises.models import ServiceContract
from evaluations.models import BlacklistEntry, ExcellentBatch, ExcellentEntry
from providers.models import Product, Provider
from tangshan_portal.models import Announcement, County, Scenario
from tangshan_portal.validators import normalize_uscc

# --- Blacklist (Art 13) --------------------------------------------------------------------------------------

BLACKLIST_SORTS = {
    "-decided_on": ("-decided_on", "-id"),
    "decided_on": ("decided_on", "id"),
    "provider_name": ("provider_name", "id"),
    "-provider_name": ("-provider_name", "-id"),
}


def blacklist_current():
    """Published entries and those under appeal: the list Art 13 requires to be announced."""
    return BlacklistEntry.objects.exclude(status=BlacklistEntry.Status.REMOVED)


def blacklist_history():
    """Entries removed after an upheld appeal (Art 16): kept, with the date and reason of removal."""
    return BlacklistEntry.objects.filter(status=BlacklistEntry.Status.REMOVED)


def blacklist_search(queryset, *, q="", ground=None, year=None, status="", sort="-decided_on"):
    """Filter by name or USCC (a full 18-character code matches exactly, anything else as a part of the name
    or the code), Art 13 ground, decision year and status; sort by decision date or name."""
    q = (q or "").strip()
    if q:
        code = normalize_uscc(q)
        if len(code) == 18:
            queryset = queryset.filter(uscc=code)
        else:
            queryset = queryset.filter(Q(provider_name__icontains=q) | Q(uscc__icontains=code))
    if ground:
        queryset = queryset.filter(ground=ground)
    if year:
        queryset = queryset.filter(decided_on__year=year)
    if status:
        queryset = queryset.filter(status=status)
    return queryset.order_by(*BLACKLIST_SORTS.get(sort, BLACKLIST_SORTS["-decided_on"]))


def blacklist_years():
    return list(
        BlacklistEntry.objects.dates("decided_on", "year", order="DESC").values_list("decided_on__year", flat=True)
    )


# --- The resource pool (Art 2) -------------------------------------------------------------------------------


def pool_providers():
    """Providers in the resource pool with what the directory shows: type, scenarios, counties served (from
    their contracts) and the products they offer. Prefetched: a fixed number of queries per page."""
    return (
        Provider.objects.in_pool()
        .select_related("county")
        .prefetch_related(
            Prefetch("scenarios", queryset=Scenario.objects.order_by("sort_order")),
            Prefetch("products", queryset=Product.objects.filter(is_active=True).order_by("name")),
        )
    )


def pool_search(queryset, *, q="", provider_type="", scenario="", county=""):
    """Filter by name, USCC or offered product, type, scenario and county served.

    Each condition on a related table is a subquery on provider ids, never a join: a join repeats a provider
    per matching product and would need a DISTINCT over every column of the page. The name and code parts
    are served by the trigram indexes on PostgreSQL (providers/migrations, `*_trgm`)."""
    q = (q or "").strip()
    if q:
        code = normalize_uscc(q)
        if len(code) == 18:
            queryset = queryset.filter(uscc=code)
        else:
            # A UNION lets each part use its own index (an OR with the products' subquery would scan every
            # provider); without the models' default ordering, which would sort each part and join for it.
            by_name = Provider.objects.filter(Q(name__icontains=q) | Q(uscc__icontains=code)).order_by().values("pk")
            by_product = Product.objects.filter(name__icontains=q, is_active=True).order_by().values("provider_id")
            queryset = queryset.filter(pk__in=by_name.union(by_product))
    if provider_type:
        queryset = queryset.filter(provider_type=provider_type)
    if scenario:
        offering = Provider.scenarios.through.objects.filter(scenario__code=scenario).values("provider_id")
        queryset = queryset.filter(pk__in=offering)
    if county:
        served = ServiceContract.objects.exclude(status="draft").filter(enterprise__county__code=county)
        queryset = queryset.filter(Q(county__code=county) | Q(pk__in=served.values("provider_id")))
    return queryset.order_by("name", "id")


def counties_served(providers):
    """{provider id: [county, …]}: the counties of the enterprises each provider has (or had) a signed contract
    with. One query for any number of providers."""
    rows = (
        ServiceContract.objects.filter(provider__in=[p.pk for p in providers])
        .exclude(status="draft")
        .order_by()  # the model's default ordering would add its columns to the DISTINCT
        .values_list("provider_id", "enterprise__county_id")
        .distinct()
    )
    counties = {c.pk: c for c in County.objects.all()}
    served = {}
    for provider_id, county_id in rows:
        served.setdefault(provider_id, []).append(counties[county_id])
    for names in served.values():
        names.sort(key=lambda c: c.code)
    return served


# --- Excellent providers (Art 15) and announcements -------------------------------------------------------------


def excellent_batches():
    return (
        ExcellentBatch.objects.filter(status=ExcellentBatch.Status.PUBLISHED)
        .annotate(size=Count("entries"))
        .order_by("-period_end", "-id")
    )


def excellent_batch_entries(batch):
    return ExcellentEntry.objects.filter(batch=batch).select_related("provider").order_by("rank")


def announcements_published(now=None):
    now = now or timezone.now()
    return Announcement.objects.filter(published_at__lte=now, withdrawn_at__isnull=True).order_by(
        "-published_at", "-id"
    )
