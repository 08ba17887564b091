"""The public blacklist page (Art 13): published and under-appeal entries, newest first, for everyone.
Search, filters, history and caching are in tests/test_public_pages.py."""

from datetime import date, timedelta

import pytest
from django.conf import settings
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from evaluations import services
from evaluations.models import BlacklistEntry, RevocationCase, RevocationStatus
from providers.models import ProviderStatus
from tangshan_portal.grounds import ART13_WORDING, cite_art13
from tests.enforcement import at, travel
from tests.factories import ProviderFactory

pytestmark = pytest.mark.django_db

URL = "/blacklist/"


@pytest.fixture(autouse=True)
def _empty_cache():
    # Public pages are cached per PublicChange id, and ids repeat after each test's rollback.
    cache.clear()
    yield
    cache.clear()


def _entry(n, *, status=BlacklistEntry.Status.PUBLISHED, decided_on=None, ground=4):
    decided_on = decided_on or date(2026, 1, 1) + timedelta(days=n)
    provider = ProviderFactory(status=ProviderStatus.REVOKED, name=f"黑名单科技有限公司{n:03d}")
    now = timezone.now()
    number = f"唐工信〔2026〕{100 + n}号"
    revocation = RevocationCase.objects.create(
        provider=provider,
        ground=ground,
        finding="泄露试点企业生产数据",
        source=RevocationCase.Source.OFFICER,
        status=RevocationStatus.APPROVED,
        proposed_at=now,
        statement_due_at=now,
        decided_at=now,
        decision_number=number,
    )
    return BlacklistEntry.objects.create(
        revocation=revocation,
        provider=provider,
        provider_name=provider.name,
        uscc=provider.uscc,
        ground=ground,
        ground_wording=cite_art13(ground),
        decision_number=number,
        decided_on=decided_on,
        authority=settings.PORTAL_AUTHORITY_NAME,
        remedy="可在公告之日起15日内申诉。",
        status=status,
        published_at=now,
        removed_at=now if status == BlacklistEntry.Status.REMOVED else None,
        removal_reason="申诉成立" if status == BlacklistEntry.Status.REMOVED else "",
    )


def test_the_url_and_the_navigation_link():
    assert reverse("public:blacklist") == URL


def test_everyone_sees_the_link_in_the_main_navigation(client):
    assert f'href="{URL}"' in client.get("/").content.decode()


def test_anonymous_visitors_see_an_empty_state(client):
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="empty"' in html
    assert "<table" not in html
    assert "黑名单中共有0家服务商。" in html
    assert '<html lang="zh-CN">' in html


def test_published_and_under_appeal_entries_are_listed_removed_ones_are_not(client):
    published = _entry(1, decided_on=date(2026, 3, 1))
    appealed = _entry(2, status=BlacklistEntry.Status.UNDER_APPEAL, decided_on=date(2026, 4, 1))
    removed = _entry(3, status=BlacklistEntry.Status.REMOVED, decided_on=date(2026, 5, 1))
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    for entry in (published, appealed):
        for value in (entry.provider_name, entry.uscc, entry.decision_number, entry.authority):
            assert value in html
    assert ART13_WORDING[4] in html
    assert "第十三条第（四）项" in html
    assert "2026-03-01" in html and "2026-04-01" in html
    assert "status-under_appeal" in html and "status-published" in html
    assert removed.provider_name not in html and removed.decision_number not in html
    # Newest decision first.
    assert [e.pk for e in response.context["page"].object_list] == [appealed.pk, published.pk]
    assert html.index(appealed.provider_name) < html.index(published.provider_name)


def test_twenty_entries_a_page(client):
    for n in range(25):
        _entry(n)
    first = client.get(URL).context["page"]
    second = client.get(URL, {"page": 2}).context["page"]
    assert (len(first.object_list), len(second.object_list)) == (20, 5)
    assert first.object_list[0].decided_on > list(second.object_list)[-1].decided_on
    assert client.get(URL, {"page": "999"}).context["page"].number == 2  # out of range: the last page


def test_query_count_does_not_grow_with_the_number_of_entries(client, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for total in (3, 30):
        for n in range(BlacklistEntry.objects.count(), total):
            _entry(n)
        # The cache version, the decision years (for the filter), a COUNT and one SELECT of the page, inside
        # the request's savepoint.
        with django_assert_max_num_queries(6), CaptureQueriesContext(connection) as queries:
            response = client.get(URL)
        assert response.status_code == 200
        assert len(response.context["page"].object_list) == min(total, 20)
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_an_entry_published_through_the_services_appears(client, officer, approver):
    provider = ProviderFactory(name="唐山伪造合同科技有限公司")
    with travel(at(2026, 5, 1)):
        proposal = services.revocation_propose(provider=provider, ground=5, finding="伪造服务合同", by=officer)
    with travel(at(2026, 5, 8)):
        services.revocation_approve(revocation=proposal, by=approver, reason="经核实合同系伪造")
    proposal.refresh_from_db()
    html = client.get(URL).content.decode()
    assert "唐山伪造合同科技有限公司" in html
    assert provider.uscc in html
    assert proposal.decision_number in html
    assert "2026-05-08" in html
    assert ART13_WORDING[5] in html
