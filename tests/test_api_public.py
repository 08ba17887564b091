"""The public open-data API (Art 10(3), 13, 15): the blacklist and its history, the resource pool, excellent
providers, announcements and the change feed; validation, pagination, `updated_since`, caching until public data
change, throttling of anonymous clients and a query count that does not grow with the rows."""

from datetime import date, timedelta

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from enterprises.models import ContractStatus
from evaluations import services
from evaluations.models import BlacklistEntry, ExcellentBatch
from opendata import api_cache
from opendata.models import PublicChange
from providers.models import ProviderStatus, ProviderType
from tangshan_portal.grounds import ART13_WORDING
from tangshan_portal.models import County, Scenario
from tangshan_portal.roles import Role
from tests.enforcement import travel
from tests.factories import PilotEnterpriseFactory, ProviderFactory, ServiceContractFactory, UserFactory
from tests.factories_api import (
    AnnouncementFactory,
    ExcellentBatchFactory,
    ExcellentEntryFactory,
    blacklist_entry,
    public_data,
    token_for,
    token_header,
)
from tests.factories_providers import ProductFactory

pytestmark = pytest.mark.django_db

BLACKLIST = "/api/v1/blacklist/"
HISTORY = "/api/v1/blacklist/history/"
PROVIDERS = "/api/v1/providers/"
BATCHES = "/api/v1/excellent-batches/"
ANNOUNCEMENTS = "/api/v1/announcements/"
CHANGES = "/api/v1/changes/"


def ids(response):
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def revoked(name="黑名单科技有限公司", **kwargs):
    return blacklist_entry(ProviderFactory(status=ProviderStatus.REVOKED, name=name), **kwargs)


def test_the_urls():
    assert reverse("v1:blacklist-list") == BLACKLIST
    assert reverse("v1:blacklist-history") == HISTORY
    assert reverse("v1:blacklist-detail", args=[3]) == "/api/v1/blacklist/3/"
    assert reverse("v1:provider-list") == PROVIDERS
    assert reverse("v1:excellent-batch-detail", args=[1]) == "/api/v1/excellent-batches/1/"
    assert reverse("v1:announcement-list") == ANNOUNCEMENTS
    assert reverse("v1:changes") == CHANGES


# --- The blacklist ---------------------------------------------------------------------------------------------


def test_the_current_list_has_published_and_appealed_entries_the_history_removed_ones(client):
    published = revoked("甲科技有限公司")
    appealed = revoked("乙科技有限公司", status=BlacklistEntry.Status.UNDER_APPEAL)
    removed = revoked("丙科技有限公司", status=BlacklistEntry.Status.REMOVED)
    assert set(ids(client.get(BLACKLIST))) == {published.pk, appealed.pk}
    assert ids(client.get(HISTORY)) == [removed.pk]
    row = client.get(BLACKLIST, {"q": "甲科技"}).json()["results"][0]
    assert row == {
        "id": published.pk,
        "url": f"/api/v1/blacklist/{published.pk}/",
        "provider_name": "甲科技有限公司",
        "uscc": published.uscc,
        "ground": 5,
        "ground_label": row["ground_label"],
        "ground_wording": published.ground_wording,
        "decision_number": published.decision_number,
        "decided_on": published.decided_on.isoformat(),
        "authority": settings.PORTAL_AUTHORITY_NAME,
        "remedy": published.remedy,
        "status": "published",
        "status_label": row["status_label"],
        "published_at": row["published_at"],
        "removed_at": None,
        "removal_reason": "",
        "updated_at": row["updated_at"],
    }
    assert ART13_WORDING[5] in row["ground_wording"]


def test_every_entry_keeps_its_permalink(client):
    removed = revoked(status=BlacklistEntry.Status.REMOVED)
    body = client.get(f"/api/v1/blacklist/{removed.pk}/").json()
    assert body["status"] == "removed" and body["removal_reason"] == "申诉成立"
    assert body["removed_at"] is not None
    assert client.get(f"/api/v1/blacklist/{removed.pk + 1000}/").status_code == 404


def test_search_filters_and_sorting(client):
    a = revoked("唐山甲数字科技有限公司")
    b = revoked("唐山乙数字科技有限公司", status=BlacklistEntry.Status.UNDER_APPEAL)
    BlacklistEntry.objects.filter(pk=a.pk).update(decided_on=date(2025, 3, 1), ground=4)
    assert ids(client.get(BLACKLIST, {"q": "乙数字"})) == [b.pk]
    assert ids(client.get(BLACKLIST, {"q": a.uscc.lower()})) == [a.pk]  # a full code: exact, any case
    assert ids(client.get(BLACKLIST, {"q": a.uscc[9:]})) == [a.pk]  # a part of the code
    assert ids(client.get(BLACKLIST, {"ground": 4})) == [a.pk]
    assert ids(client.get(BLACKLIST, {"year": 2025})) == [a.pk]
    assert ids(client.get(BLACKLIST, {"status": "under_appeal"})) == [b.pk]
    assert ids(client.get(BLACKLIST, {"sort": "decided_on"})) == [a.pk, b.pk]
    assert ids(client.get(BLACKLIST, {"sort": "-decided_on"})) == [b.pk, a.pk]
    assert ids(client.get(BLACKLIST, {"sort": "provider_name"})) == sorted(
        [a.pk, b.pk], key=lambda pk: BlacklistEntry.objects.get(pk=pk).provider_name
    )


@pytest.mark.parametrize(
    ("url", "params"),
    [
        (BLACKLIST, {"ground": "10"}),
        (BLACKLIST, {"ground": "four"}),
        (BLACKLIST, {"year": "2026x"}),
        (BLACKLIST, {"year": "0"}),
        (BLACKLIST, {"status": "removed"}),  # removed entries are in the history, not a filter of this list
        (BLACKLIST, {"sort": "uscc"}),
        (BLACKLIST, {"updated_since": "last week"}),
        (BLACKLIST, {"updated_since": "0001-01-01T00:00:00+08:00"}),
        (BLACKLIST, {"q": "x" * 201}),
        (BLACKLIST, {"q": "a\x00b"}),
        (HISTORY, {"year": "-1"}),
        (PROVIDERS, {"type": "big"}),
        (PROVIDERS, {"county": "1302"}),
        (PROVIDERS, {"scenario": "智能 制造"}),
        (ANNOUNCEMENTS, {"updated_since": "2026-13-01"}),
        (BATCHES, {"updated_since": "9999-12-31T23:59:59-12:00"}),
        (CHANGES, {"after": "-1"}),
        (CHANGES, {"limit": "1001"}),
        (CHANGES, {"limit": "0"}),
        (CHANGES, {"resource": "contract"}),
    ],
)
def test_a_wrong_parameter_answers_400_naming_it(client, url, params):
    response = client.get(url, params)
    assert response.status_code == 400
    errors = response.json()
    assert set(errors) == set(params)
    assert all(isinstance(message, str) and message for messages in errors.values() for message in messages)


def test_an_unknown_page_answers_404(client):
    revoked()
    assert client.get(BLACKLIST, {"page": 2}).status_code == 404
    assert client.get(BLACKLIST, {"page": "first"}).status_code == 404


def test_pagination(client):
    entries = [revoked(f"分页科技有限公司{n:02d}") for n in range(5)]
    first = client.get(BLACKLIST, {"page_size": 2, "sort": "provider_name"}).json()
    assert first["count"] == 5 and first["previous"] is None
    assert first["next"] == "/api/v1/blacklist/?page=2&page_size=2&sort=provider_name"
    # Links carry no host: the cached answer is right for a client that used another host name.
    other_host = client.get(BLACKLIST, {"page_size": 2, "sort": "provider_name"}, HTTP_HOST="127.0.0.1").json()
    assert other_host == first
    seen = []
    page = 1
    while True:
        body = client.get(BLACKLIST, {"page_size": 2, "sort": "provider_name", "page": page}).json()
        seen += [row["id"] for row in body["results"]]
        if body["next"] is None:
            break
        page += 1
    assert seen == [entry.pk for entry in entries]
    # Fifty a page by default, at most 200 on request.
    assert len(client.get(BLACKLIST, {"page_size": 1000}).json()["results"]) == 5


def test_updated_since(client):
    old = revoked("旧科技有限公司")
    later = timezone.now() + timedelta(days=3)
    with travel(later):
        appealed = revoked("新科技有限公司")
        services.blacklist_mark_under_appeal(revocation=old.revocation, under_appeal=True)
    since = (later - timedelta(hours=1)).isoformat()
    assert set(ids(client.get(BLACKLIST, {"updated_since": since}))) == {old.pk, appealed.pk}
    assert ids(client.get(BLACKLIST, {"updated_since": (later + timedelta(hours=1)).isoformat()})) == []
    # Without an offset the moment is read in the portal's time zone.
    local = timezone.localtime(later - timedelta(hours=1)).replace(tzinfo=None).isoformat()
    assert set(ids(client.get(BLACKLIST, {"updated_since": local}))) == {old.pk, appealed.pk}


# --- Approval, removal and the cache ----------------------------------------------------------------------------


def _approve(provider, officer, approver):
    start = timezone.now() - timedelta(days=10)
    proposal = services.revocation_propose(provider=provider, ground=5, finding="伪造服务合同", by=officer, now=start)
    return services.revocation_approve(
        revocation=proposal, by=approver, reason="经核实合同系伪造", now=start + timedelta(days=8)
    )


def test_an_approved_entry_appears_on_the_next_request_although_the_list_was_cached(client, officer, approver):
    public_data()
    first = client.get(BLACKLIST)
    with CaptureQueriesContext(connection) as queries:
        again = client.get(BLACKLIST)
    # The cached answer costs one query (the public data version) inside the request's savepoint.
    statements = [q["sql"] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert len(statements) == 1 and "opendata_public" in statements[0]
    assert again.content == first.content

    provider = ProviderFactory(name="唐山伪造合同科技有限公司")
    revocation = _approve(provider, officer, approver)
    body = client.get(BLACKLIST).json()
    assert body["count"] == first.json()["count"] + 1
    new = [row for row in body["results"] if row["decision_number"] == revocation.decision_number]
    assert [row["provider_name"] for row in new] == ["唐山伪造合同科技有限公司"]
    # It left the pool in the same transaction.
    assert client.get(f"{PROVIDERS}{provider.pk}/").status_code == 404

    # An upheld appeal removes it from the list; it stays in the history and at its address.
    history_before = client.get(HISTORY).json()["count"]
    services.revocation_reverse(revocation=revocation, by=approver, reason="申诉成立，撤销原决定")
    entry = BlacklistEntry.objects.get(revocation=revocation)
    assert entry.pk not in ids(client.get(BLACKLIST))
    history = client.get(HISTORY).json()
    assert history["count"] == history_before + 1
    assert entry.pk in [row["id"] for row in history["results"]]
    assert client.get(f"{BLACKLIST}{entry.pk}/").json()["removal_reason"] == "申诉成立，撤销原决定"
    # Reinstated: back in the pool.
    assert client.get(f"{PROVIDERS}{provider.pk}/").status_code == 200


def _sql(client, url, **extra):
    """The SQL one request runs, read before the next request resets the connection's query log."""
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, **extra).status_code == 200
    return " ".join(q["sql"] for q in queries.captured_queries).lower()


def test_token_clients_share_the_cache_logged_in_users_do_not(client, officer):
    public_data()
    key = token_for(UserFactory(role=Role.OFFICER))
    client.get(BLACKLIST, **token_header(key))
    assert "blacklistentry" not in _sql(client, BLACKLIST, **token_header(key))
    client.force_login(officer)
    client.get(BLACKLIST)
    assert "blacklistentry" in _sql(client, BLACKLIST)


def test_a_scheduled_announcement_is_not_cached_past_its_moment(client, officer, monkeypatch):
    timeouts = []
    real = api_cache.cache

    class Spy:
        def get(self, key):
            return real.get(key)

        def set(self, key, value, timeout):
            timeouts.append(timeout)
            real.set(key, value, timeout)

    monkeypatch.setattr(api_cache, "cache", Spy())
    client.get(BLACKLIST)
    AnnouncementFactory(published_at=timezone.now() + timedelta(seconds=90), created_by=officer)
    client.get(ANNOUNCEMENTS)
    assert timeouts[0] == settings.PUBLIC_CACHE_SECONDS
    assert 1 <= timeouts[1] <= 91


# --- Throttling ------------------------------------------------------------------------------------------------


def _rates(anon, user="1000/minute"):
    return override_settings(
        REST_FRAMEWORK={**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"anon": anon, "user": user}}
    )


def test_anonymous_clients_get_429_after_the_rate(client):
    with _rates("3/minute"):
        start = timezone.now()
        with travel(start):
            for url in (BLACKLIST, PROVIDERS, f"{BLACKLIST}"):
                assert client.get(url).status_code == 200
            refused = client.get(ANNOUNCEMENTS)
            assert refused.status_code == 429
            assert int(refused["Retry-After"]) <= 60
            # A cached answer counts too: the throttle runs before the cache is read.
            assert client.get(BLACKLIST).status_code == 429
            # Another address has its own budget; a token client is counted per account.
            assert client.get(BLACKLIST, REMOTE_ADDR="10.0.0.9").status_code == 200
            key = token_for(UserFactory(role=Role.OFFICER))
            assert client.get(BLACKLIST, **token_header(key)).status_code == 200
        with travel(start + timedelta(seconds=61)):
            assert client.get(BLACKLIST).status_code == 200


def test_anonymous_clients_are_counted_at_the_anonymous_rate_only(client):
    # The users' rate applies to accounts and tokens; DRF would otherwise count anonymous clients against it too.
    with _rates("10/minute", user="2/minute"), travel(timezone.now()):
        assert [client.get(BLACKLIST).status_code for _ in range(5)] == [200] * 5
        key = token_for(UserFactory(role=Role.OFFICER))
        statuses = [client.get(BLACKLIST, **token_header(key)).status_code for _ in range(3)]
        assert statuses == [200, 200, 429]


# --- The resource pool ------------------------------------------------------------------------------------------


def test_the_pool_lists_members_only(client):
    members = [
        ProviderFactory(status=status)
        for status in (ProviderStatus.IN_POOL, ProviderStatus.WARNED, ProviderStatus.UNDER_RECTIFICATION)
    ]
    outsiders = [
        ProviderFactory(status=status)
        for status in (
            ProviderStatus.APPLIED,
            ProviderStatus.REJECTED,
            ProviderStatus.REVOKED,
            ProviderStatus.WITHDRAWN,
        )
    ]
    assert set(ids(client.get(PROVIDERS))) == {p.pk for p in members}
    for provider in members:
        assert client.get(f"{PROVIDERS}{provider.pk}/").status_code == 200
    for provider in outsiders:
        assert client.get(f"{PROVIDERS}{provider.pk}/").status_code == 404


def test_a_provider_shows_type_scenarios_products_and_counties_served_but_no_contacts(client):
    scenario = Scenario.objects.order_by("sort_order").first()
    provider = ProviderFactory(scenarios=[scenario], contact_name="王芳", contact_phone="13900000000")
    product = ProductFactory(provider=provider, name="设备联网套件")
    ProductFactory(provider=provider, name="已下架产品", is_active=False)
    served = PilotEnterpriseFactory()
    ServiceContractFactory(provider=provider, enterprise=served, status=ContractStatus.IN_PROGRESS)
    ServiceContractFactory(provider=provider)  # a draft: not (yet) serving that county
    body = client.get(f"{PROVIDERS}{provider.pk}/").json()
    assert body["name"] == provider.name and body["uscc"] == provider.uscc
    assert body["provider_type"] == ProviderType.INTEGRATED
    assert body["county"] == {"code": provider.county.code, "name": provider.county.name}
    assert [s["code"] for s in body["scenarios"]] == [scenario.code]
    assert [(p["id"], p["name"], p["list_price"]) for p in body["products"]] == [(product.pk, "设备联网套件", "100.00")]
    assert body["counties_served"] == [{"code": served.county.code, "name": served.county.name}]
    text = client.get(PROVIDERS).content.decode()
    for private in ("王芳", "13900000000", provider.legal_representative, "contact", "legal_representative"):
        assert private not in text


def test_pool_filters(client):
    registered_a, registered_b, elsewhere = County.objects.order_by("code")[:3]
    scenario = Scenario.objects.order_by("sort_order").last()
    integrator = ProviderFactory(name="唐山集成科技有限公司", county=registered_a, scenarios=[scenario])
    product_maker = ProviderFactory(
        name="唐山产品科技有限公司", county=registered_b, provider_type=ProviderType.PRODUCT
    )
    ProductFactory(provider=product_maker, name="智能质检终端")
    working_in = PilotEnterpriseFactory(county=elsewhere)
    ServiceContractFactory(provider=integrator, enterprise=working_in, status=ContractStatus.SIGNED)
    assert ids(client.get(PROVIDERS, {"q": "集成科技"})) == [integrator.pk]
    assert ids(client.get(PROVIDERS, {"q": "质检终端"})) == [product_maker.pk]
    assert ids(client.get(PROVIDERS, {"q": integrator.uscc})) == [integrator.pk]
    assert ids(client.get(PROVIDERS, {"type": "product"})) == [product_maker.pk]
    assert ids(client.get(PROVIDERS, {"scenario": scenario.code})) == [integrator.pk]
    assert ids(client.get(PROVIDERS, {"county": registered_b.code})) == [product_maker.pk]
    # Registered in one county, serving an enterprise in another: found under both.
    assert ids(client.get(PROVIDERS, {"county": registered_a.code})) == [integrator.pk]
    assert ids(client.get(PROVIDERS, {"county": elsewhere.code})) == [integrator.pk]
    assert ids(client.get(PROVIDERS, {"county": "999999"})) == []


def test_a_catalogue_change_counts_as_a_provider_update(client):
    quiet, busy = ProviderFactory(), ProviderFactory()
    later = timezone.now() + timedelta(days=2)
    with travel(later):
        ProductFactory(provider=busy)  # the provider row itself is not saved
    since = (later - timedelta(minutes=5)).isoformat()
    assert ids(client.get(PROVIDERS, {"updated_since": since})) == [busy.pk]
    assert quiet.pk in ids(client.get(PROVIDERS))


# --- Excellent providers and announcements ------------------------------------------------------------------


def test_published_batches_with_their_ranked_entries(client):
    batch = ExcellentBatchFactory(name="2026年上半年优秀服务商")
    second, first = ProviderFactory(), ProviderFactory()
    ExcellentEntryFactory(batch=batch, provider=second, rank=2)
    ExcellentEntryFactory(batch=batch, provider=first, rank=1, score="95.50")
    draft = ExcellentBatchFactory(status=ExcellentBatch.Status.DRAFT, published_at=None)
    ExcellentEntryFactory(batch=draft)
    assert ids(client.get(BATCHES)) == [batch.pk]
    body = client.get(f"{BATCHES}{batch.pk}/").json()
    assert body["name"] == "2026年上半年优秀服务商"
    assert [(e["rank"], e["provider"]["id"]) for e in body["entries"]] == [(1, first.pk), (2, second.pk)]
    assert body["entries"][0]["score"] == "95.50"
    assert "published_by" not in body
    assert client.get(f"{BATCHES}{draft.pk}/").status_code == 404


def test_published_announcements_only(client, officer):
    now = timezone.now()
    older = AnnouncementFactory(published_at=now - timedelta(days=2), created_by=officer)
    newer = AnnouncementFactory(published_at=now - timedelta(days=1), created_by=officer)
    draft = AnnouncementFactory(published_at=None, created_by=officer)
    scheduled = AnnouncementFactory(published_at=now + timedelta(days=1), created_by=officer)
    withdrawn = AnnouncementFactory(
        published_at=now - timedelta(days=3), withdrawn_at=now, withdrawal_reason="内容有误", created_by=officer
    )
    assert ids(client.get(ANNOUNCEMENTS)) == [newer.pk, older.pk]
    body = client.get(f"{ANNOUNCEMENTS}{newer.pk}/").json()
    assert body["title"] == newer.title and body["body"] == newer.body
    assert "created_by" not in body and officer.username not in str(body)
    for hidden in (draft, scheduled, withdrawn):
        assert client.get(f"{ANNOUNCEMENTS}{hidden.pk}/").status_code == 404
    later = now + timedelta(days=5)
    with travel(later):
        older.title = "关于资源池名单的更正公告"
        older.save()
    assert ids(client.get(ANNOUNCEMENTS, {"updated_since": (later - timedelta(hours=1)).isoformat()})) == [older.pk]


# --- The change feed ------------------------------------------------------------------------------------------


def test_the_change_feed_delivers_every_change_once_in_order(client, officer):
    data = public_data()
    recorded = list(PublicChange.objects.order_by("id").values_list("id", flat=True))
    assert len(recorded) > 5
    seen, after, pages = [], 0, 0
    while True:
        body = client.get(CHANGES, {"after": after, "limit": 4}).json()
        seen += [row["id"] for row in body["results"]]
        pages += 1
        assert body["next_after"] == (body["results"][-1]["id"] if body["results"] else after)
        after = body["next_after"]
        if not body["has_more"]:
            break
    assert seen == recorded
    assert pages == -(-len(recorded) // 4)

    # Nothing new: an empty page that keeps the cursor.
    assert client.get(CHANGES, {"after": after}).json() == {"results": [], "next_after": after, "has_more": False}

    # New changes show although the previous answer was cached, and only they.
    announcement = AnnouncementFactory(created_by=officer)
    data.providers[0].name = "改名后的科技有限公司"
    data.providers[0].save()
    body = client.get(CHANGES, {"after": after}).json()
    assert [(row["resource"], row["object_id"], row["url"]) for row in body["results"]] == [
        ("announcement", announcement.pk, f"/api/v1/announcements/{announcement.pk}/"),
        ("provider", data.providers[0].pk, f"/api/v1/providers/{data.providers[0].pk}/"),
    ]
    assert body["results"][0]["id"] > after


def test_the_change_feed_by_resource_and_what_its_urls_answer(client):
    data = public_data(2)
    blacklist_ids = {row["object_id"] for row in client.get(CHANGES, {"resource": "blacklist"}).json()["results"]}
    assert blacklist_ids == {e.pk for e in [*data.entries, data.removed]}
    provider = data.providers[0]
    provider.status = ProviderStatus.WITHDRAWN
    provider.save()
    last = client.get(CHANGES, {"resource": "provider"}).json()["results"][-1]
    assert last["object_id"] == provider.pk
    # The provider left the pool: its address answers 404, and the client drops it.
    assert client.get(last["url"]).status_code == 404


# --- Query counts ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [BLACKLIST, HISTORY, PROVIDERS, BATCHES, ANNOUNCEMENTS, CHANGES])
def test_query_count_does_not_grow_with_the_number_of_rows(client, url):
    counts, rows = [], []
    for n in (2, 12):
        data = public_data(n)
        for provider in data.providers:
            ServiceContractFactory(provider=provider, status=ContractStatus.IN_PROGRESS)
        cache.clear()
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200
        rows.append(len(response.json()["results"]))
        counts.append(len(queries))
    assert rows[0] < rows[1]
    assert counts[0] == counts[1]


def test_the_sort_parameter_offers_exactly_the_selectors_orders():
    from opendata.selectors import BLACKLIST_SORTS
    from opendata.serializers import BlacklistQuery

    assert set(BlacklistQuery().fields["sort"].choices) == set(BLACKLIST_SORTS)
