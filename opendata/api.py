"""The open-data API, version 1 (Art 10(3), 13, 15): read-only.

Public endpoints serve what the public pages show, through the same selectors (opendata.selectors), cached until
public data change. The `/me/` endpoints serve each role its own contracts, rectification cases, satisfaction
ratings and complaints through the selectors the pages use; writes stay on the pages. Query parameters are
validated: a wrong value answers 400 naming the parameter, never 500."""

from urllib.parse import urlsplit, urlunsplit

from django.db.models import Prefetch, Q
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.generics import GenericAPIView
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from complaints.models import Complaint
from complaints.selectors import complaints_visible_to, ratings_of
from enterprises.models import ServiceContract
from enterprises.selectors import contracts_visible_to
from enterprises.selectors_contracts import enterprise_contracts, provider_contracts
from evaluations.models import (
    BlacklistEntry,
    ExcellentBatch,
    ExcellentEntry,
    RectificationCase,
    SatisfactionRating,
    SurveyAnswer,
)
from evaluations.selectors import rectification_cases_visible_to
from providers.models import Provider
from tangshan_portal.authentication import ExpiringTokenAuthentication
from tangshan_portal.models import Announcement

from . import selectors
from . import serializers as s
from .api_cache import PublicCacheMixin
from .api_permissions import ApiAnonThrottle, ApiUserThrottle, HasRuleForEndpoint, actor_of
from .models import PublicChange

PUBLIC_TAG = "public"
OWN_TAG = "own records"

BAD_PARAMETER = OpenApiResponse(s.VALIDATION_ERROR_SCHEMA, _("A query parameter is wrong: each one is named."))
NO_PAGE = OpenApiResponse(s.ErrorSerializer, _("No such page."))
NOT_FOUND = OpenApiResponse(s.ErrorSerializer, _("No such record, or not yours to read."))
THROTTLED = OpenApiResponse(s.ErrorSerializer, _("Too many requests: wait the seconds the Retry-After header gives."))
UNAUTHENTICATED = OpenApiResponse(s.ErrorSerializer, _("No or an invalid token (`Authorization: Token …`)."))
NO_RULE = OpenApiResponse(s.ErrorSerializer, _("Your role has no access to these records."))


def list_responses(serializer, *, own=False):
    responses = {200: serializer, 400: BAD_PARAMETER, 404: NO_PAGE, 429: THROTTLED}
    if own:
        responses.update({401: UNAUTHENTICATED, 403: NO_RULE})
    return responses


def detail_responses(serializer, *, own=False):
    responses = {200: serializer, 404: NOT_FOUND, 429: THROTTLED}
    if own:
        responses.update({401: UNAUTHENTICATED, 403: NO_RULE})
    return responses


class ApiPagination(PageNumberPagination):
    """`next` and `previous` are paths without host, like every link in the API: a cached answer is shared by
    all clients, whichever host name or scheme they reached the portal by."""

    page_size_query_param = "page_size"
    max_page_size = 200

    @staticmethod
    def _path(link):
        if link is None:
            return None
        parts = urlsplit(link)
        return urlunsplit(("", "", parts.path, parts.query, ""))

    def get_next_link(self):
        return self._path(super().get_next_link())

    def get_previous_link(self):
        return self._path(super().get_previous_link())

    def get_paginated_response_schema(self, schema):
        paginated = super().get_paginated_response_schema(schema)
        for name, page in (("next", 4), ("previous", 2)):
            link = paginated["properties"][name]
            link.pop("format", None)
            link["example"] = f"/api/v1/blacklist/?page={page}"
        return paginated


class ApiMixin:
    # Token first: an anonymous call to a protected endpoint then answers 401 with `WWW-Authenticate: Token`.
    # Tokens expire (tangshan_portal.authentication).
    authentication_classes = [ExpiringTokenAuthentication, SessionAuthentication]
    throttle_classes = [ApiAnonThrottle, ApiUserThrottle]
    pagination_class = ApiPagination
    # The serializer that validates the list's query parameters (documented in the schema from it too).
    query_class = None

    def query(self):
        if getattr(self, "_query", None) is None:
            params = self.query_class(data=self.request.query_params)
            params.is_valid(raise_exception=True)
            self._query = params.validated_data
        return self._query


def _changed_since(queryset, since, resource=None):
    """Rows whose own timestamp moved since then, or (for records assembled from several tables: a provider
    with its products and scenarios, a batch with its entries) that a PublicChange names since then."""
    condition = Q(updated_at__gte=since)
    if resource is not None:
        changed = PublicChange.objects.filter(resource=resource, changed_at__gte=since).values("object_id")
        condition |= Q(pk__in=changed)
    return queryset.filter(condition)


# --- Public data ----------------------------------------------------------------------------------------------


class PublicViewSet(PublicCacheMixin, ApiMixin, viewsets.ReadOnlyModelViewSet):
    permission_classes = [AllowAny]


@extend_schema_view(
    list=extend_schema(
        tags=[PUBLIC_TAG],
        summary=_("The current blacklist"),
        description=_(
            "Providers whose qualification was revoked (Art 13): published entries and those under appeal "
            "(Art 16(3)). Entries removed after an upheld appeal are in /api/v1/blacklist/history/."
        ),
        parameters=[s.BlacklistQuery],
        responses=list_responses(s.BlacklistEntrySerializer),
    ),
    retrieve=extend_schema(
        tags=[PUBLIC_TAG],
        summary=_("A blacklist entry"),
        description=_("Any entry, removed ones included: the permanent address of an entry."),
        responses=detail_responses(s.BlacklistEntrySerializer),
    ),
)
class BlacklistViewSet(PublicViewSet):
    queryset = BlacklistEntry.objects.none()
    serializer_class = s.BlacklistEntrySerializer
    query_class = s.BlacklistQuery

    def base_queryset(self):
        return selectors.blacklist_current()

    def get_queryset(self):
        if self.action == "retrieve":
            return selectors.blacklist_current() | selectors.blacklist_history()
        query = self.query()
        queryset = selectors.blacklist_search(
            self.base_queryset(),
            q=query.get("q", ""),
            ground=query.get("ground"),
            year=query.get("year"),
            status=query.get("status", ""),
            sort=query["sort"],
        )
        if "updated_since" in query:
            queryset = _changed_since(queryset, query["updated_since"])
        return queryset


@extend_schema_view(
    list=extend_schema(
        tags=[PUBLIC_TAG],
        summary=_("Removed blacklist entries"),
        description=_("Entries removed after an upheld appeal (Art 16), with the date and reason of removal."),
        parameters=[s.BlacklistHistoryQuery],
        responses=list_responses(s.BlacklistEntrySerializer),
    ),
)
class BlacklistHistoryViewSet(BlacklistViewSet):
    query_class = s.BlacklistHistoryQuery

    def base_queryset(self):
        return selectors.blacklist_history()


@extend_schema_view(
    list=extend_schema(
        tags=[PUBLIC_TAG],
        summary=_("The provider resource pool"),
        description=_(
            "Providers in the resource pool (Art 2), warned ones and those under rectification included, with "
            "their type, scenarios, products and the counties they serve."
        ),
        parameters=[s.ProviderQuery],
        responses=list_responses(s.ProviderSerializer),
    ),
    retrieve=extend_schema(
        tags=[PUBLIC_TAG],
        summary=_("A provider in the pool"),
        description=_("404 for a provider that is not in the pool (applied, rejected, revoked or withdrawn)."),
        responses=detail_responses(s.ProviderSerializer),
    ),
)
class ProviderViewSet(PublicViewSet):
    queryset = Provider.objects.none()
    serializer_class = s.ProviderSerializer
    query_class = s.ProviderQuery

    def get_queryset(self):
        if self.action == "retrieve":
            return selectors.pool_providers()
        query = self.query()
        queryset = selectors.pool_search(
            selectors.pool_providers(),
            q=query.get("q", ""),
            provider_type=query.get("type", ""),
            scenario=query.get("scenario", ""),
            county=query.get("county", ""),
        )
        if "updated_since" in query:
            queryset = _changed_since(queryset, query["updated_since"], PublicChange.Resource.PROVIDER)
        return queryset

    # The counties served come from contracts: one query for the whole page, handed to the serializer.

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        self._served = selectors.counties_served(page)
        return page

    def get_object(self):
        provider = super().get_object()
        self._served = selectors.counties_served([provider])
        return provider

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "counties_served": getattr(self, "_served", {})}


@extend_schema_view(
    list=extend_schema(
        tags=[PUBLIC_TAG],
        summary=_("Excellent-provider batches"),
        description=_("Published batches of excellent providers (Art 15), newest period first, with the ranked list."),
        parameters=[s.UpdatedSinceQuery],
        responses=list_responses(s.ExcellentBatchSerializer),
    ),
    retrieve=extend_schema(
        tags=[PUBLIC_TAG],
        summary=_("An excellent-provider batch"),
        description=_("404 for a batch not published."),
        responses=detail_responses(s.ExcellentBatchSerializer),
    ),
)
class ExcellentBatchViewSet(PublicViewSet):
    queryset = ExcellentBatch.objects.none()
    serializer_class = s.ExcellentBatchSerializer
    query_class = s.UpdatedSinceQuery

    def get_queryset(self):
        # The entries as selectors.excellent_batch_entries orders them, fetched for the whole page at once.
        queryset = selectors.excellent_batches().prefetch_related(
            Prefetch("entries", queryset=ExcellentEntry.objects.select_related("provider").order_by("rank"))
        )
        if self.action == "list" and "updated_since" in self.query():
            queryset = _changed_since(queryset, self.query()["updated_since"], PublicChange.Resource.EXCELLENT)
        return queryset


@extend_schema_view(
    list=extend_schema(
        tags=[PUBLIC_TAG],
        summary=_("Announcements"),
        description=_("The bureau's published announcements, newest first; withdrawn ones are left out."),
        parameters=[s.UpdatedSinceQuery],
        responses=list_responses(s.AnnouncementSerializer),
    ),
    retrieve=extend_schema(
        tags=[PUBLIC_TAG],
        summary=_("An announcement"),
        description=_("404 for a draft, a withdrawn announcement or one not yet published."),
        responses=detail_responses(s.AnnouncementSerializer),
    ),
)
class AnnouncementViewSet(PublicViewSet):
    queryset = Announcement.objects.none()
    serializer_class = s.AnnouncementSerializer
    query_class = s.UpdatedSinceQuery
    cache_until_next_publication = True

    def get_queryset(self):
        queryset = selectors.announcements_published()
        if self.action == "list" and "updated_since" in self.query():
            queryset = _changed_since(queryset, self.query()["updated_since"])
        return queryset


class ChangeFeedView(PublicCacheMixin, ApiMixin, GenericAPIView):
    """Every change of public data in the order it was recorded, for incremental sync."""

    permission_classes = [AllowAny]
    serializer_class = s.PublicChangeSerializer
    query_class = s.ChangeFeedQuery
    pagination_class = None

    @extend_schema(
        tags=[PUBLIC_TAG],
        summary=_("Change feed"),
        description=_(
            "Changes of public data (blacklist entries, pool providers, excellent-provider batches, "
            "announcements) after the cursor `after`, oldest first. Keep `next_after` and ask again with it: "
            "each change is delivered once. A change names the record; fetch it at `url` (404 means it is no "
            "longer public)."
        ),
        parameters=[s.ChangeFeedQuery],
        responses={200: s.ChangeFeedSerializer, 400: BAD_PARAMETER, 429: THROTTLED},
    )
    def get(self, request, *args, **kwargs):
        return self.cached(request, self._feed)

    def _feed(self):
        query = self.query()
        changes = PublicChange.objects.filter(id__gt=query["after"])
        if "resource" in query:
            changes = changes.filter(resource=query["resource"])
        # One row more than asked for tells whether more follow, without a COUNT.
        rows = list(changes.order_by("id")[: query["limit"] + 1])
        has_more = len(rows) > query["limit"]
        rows = rows[: query["limit"]]
        return Response(
            {
                "results": s.PublicChangeSerializer(rows, many=True).data,
                "next_after": rows[-1].id if rows else query["after"],
                "has_more": has_more,
            }
        )


# --- Each role's own records ---------------------------------------------------------------------------------


class OwnRecordsViewSet(ApiMixin, viewsets.ReadOnlyModelViewSet):
    """A role's own records; another organisation's record answers 404, a role without a rule 403."""

    permission_classes = [HasRuleForEndpoint]
    # The view permission that lets bureau, county, assessor and audit staff read these records at all.
    staff_permission = ""
    ordering = ()

    def for_provider(self, provider, user):
        return None

    def for_enterprise(self, enterprise, user):
        return None

    def for_staff(self, user):
        return None

    def scoped_queryset(self):
        """The records this user may read, or None when its role has no rule for this endpoint."""
        if not hasattr(self, "_scoped"):
            user = self.request.user
            self.actor = actor_of(user)
            if self.actor.kind == "provider":
                self._scoped = self.for_provider(self.actor.provider, user)
            elif self.actor.kind == "enterprise":
                self._scoped = self.for_enterprise(self.actor.enterprise, user)
            elif user.has_perm(self.staff_permission):
                self._scoped = self.for_staff(user)
            else:
                self._scoped = None
        return self._scoped

    def filter_list(self, queryset, query):
        if "status" in query:
            queryset = queryset.filter(status=query["status"])
        if "updated_since" in query:
            queryset = _changed_since(queryset, query["updated_since"])
        return queryset

    def with_related(self, queryset):
        return queryset

    def get_queryset(self):
        queryset = self.scoped_queryset()
        if self.action == "list":
            queryset = self.filter_list(queryset, self.query())
        return self.with_related(queryset).order_by(*self.ordering)


ROLE_RULES = _(
    "Roles without a rule for this endpoint (and the system administrator) get 403; another organisation's "
    "record answers 404. Token or session authentication."
)


def own_records_schema(*, plural, singular, rules, query, serializer):
    description = format_lazy("{} {}", rules, ROLE_RULES)
    return extend_schema_view(
        list=extend_schema(
            tags=[OWN_TAG],
            summary=plural,
            description=description,
            parameters=[query],
            responses=list_responses(serializer, own=True),
        ),
        retrieve=extend_schema(
            tags=[OWN_TAG],
            summary=singular,
            description=description,
            responses=detail_responses(serializer, own=True),
        ),
    )


@own_records_schema(
    plural=_("Your contracts"),
    singular=_("One of your contracts"),
    rules=_(
        "A provider: its contracts; an enterprise: its contracts; a county bureau: contracts of its county's "
        "enterprises; an assessor: contracts of the enterprises assigned to its institution; officers, approvers "
        "and auditors: all."
    ),
    query=s.ContractQuery,
    serializer=s.ContractSerializer,
)
class OwnContractViewSet(OwnRecordsViewSet):
    queryset = ServiceContract.objects.none()
    serializer_class = s.ContractSerializer
    query_class = s.ContractQuery
    staff_permission = "enterprises.view_servicecontract"
    ordering = ("-created_at", "-id")

    def for_provider(self, provider, user):
        return provider_contracts(provider)

    def for_enterprise(self, enterprise, user):
        return enterprise_contracts(enterprise)

    def for_staff(self, user):
        return contracts_visible_to(user)

    def with_related(self, queryset):
        return queryset.select_related("provider", "enterprise__county").prefetch_related("scenarios")


@own_records_schema(
    plural=_("Your rectification cases"),
    singular=_("One of your rectification cases"),
    rules=_(
        "A provider: its cases from the warning on (a draft is the bureau's internal work); a county bureau: "
        "cases about providers working in its county; officers, approvers and auditors: all. Enterprises and "
        "assessors have no rule."
    ),
    query=s.CaseQuery,
    serializer=s.RectificationCaseSerializer,
)
class OwnCaseViewSet(OwnRecordsViewSet):
    queryset = RectificationCase.objects.none()
    serializer_class = s.RectificationCaseSerializer
    query_class = s.CaseQuery
    staff_permission = "evaluations.view_rectificationcase"
    ordering = ("-opened_at", "-id")

    def for_provider(self, provider, user):
        # The rule of the provider's case pages (evaluations.views._cases).
        return rectification_cases_visible_to(user).filter(provider=provider, warned_at__isnull=False)

    def for_staff(self, user):
        return rectification_cases_visible_to(user)

    def with_related(self, queryset):
        return queryset.select_related("provider", "contract")


@own_records_schema(
    plural=_("Your satisfaction ratings"),
    singular=_("One of your satisfaction ratings"),
    rules=_(
        "An enterprise: the ratings it gave; a provider: the ratings about its service (as on its ratings page); "
        "a county bureau: ratings on its county's contracts; officers, approvers and auditors: all. Assessors "
        "have no rule."
    ),
    query=s.SurveyQuery,
    serializer=s.SatisfactionRatingSerializer,
)
class OwnSurveyViewSet(OwnRecordsViewSet):
    queryset = SatisfactionRating.objects.none()
    serializer_class = s.SatisfactionRatingSerializer
    query_class = s.SurveyQuery
    staff_permission = "evaluations.view_satisfactionrating"
    ordering = ("-submitted_at", "-id")

    def for_provider(self, provider, user):
        # The rule of the provider's ratings page (complaints.views_provider.rating_list).
        return SatisfactionRating.objects.filter(contract__provider=provider)

    def for_enterprise(self, enterprise, user):
        return ratings_of(enterprise)

    def for_staff(self, user):
        return SatisfactionRating.objects.filter(contract__in=contracts_visible_to(user).values("pk"))

    def filter_list(self, queryset, query):
        if "overall" in query:
            queryset = queryset.filter(overall=query["overall"])
        return queryset

    def with_related(self, queryset):
        return queryset.select_related(
            "contract__provider", "contract__enterprise__county", "milestone"
        ).prefetch_related(
            Prefetch("answers", queryset=SurveyAnswer.objects.select_related("item").order_by("item__sort_order", "id"))
        )


@own_records_schema(
    plural=_("Your complaints"),
    singular=_("One of your complaints"),
    rules=_(
        "An enterprise: its complaints; a provider: complaints about it once the bureau accepted them, without the "
        "enterprise and contract when the complainant asked to keep its identity; a county bureau: complaints of "
        "its county's enterprises; officers, approvers and auditors: all. Assessors have no rule."
    ),
    query=s.ComplaintQuery,
    serializer=s.ComplaintSerializer,
)
class OwnComplaintViewSet(OwnRecordsViewSet):
    queryset = Complaint.objects.none()
    serializer_class = s.ComplaintSerializer
    query_class = s.ComplaintQuery
    staff_permission = "complaints.view_complaint"
    ordering = ("-submitted_at", "-id")

    def for_provider(self, provider, user):
        return complaints_visible_to(user)

    def for_enterprise(self, enterprise, user):
        return complaints_visible_to(user)

    def for_staff(self, user):
        return complaints_visible_to(user)

    def with_related(self, queryset):
        return queryset.select_related("provider", "enterprise__county", "contract")

    def get_serializer_context(self):
        hide = getattr(self, "actor", None) is not None and self.actor.kind == "provider"
        return {**super().get_serializer_context(), "hide_protected_complainant": hide}
