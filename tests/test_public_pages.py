"""The public portal's pages: the blacklist (Art 13) with search, filters, sorting, permalinks and history; the
resource-pool directory (Art 2); the excellent-provider lists (Art 15); announcements; caching and languages."""

import re
from datetime import date

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from evaluations import services as enforcement
from evaluations.models import BlacklistEntry, ExcellentBatch
from providers.models import ProviderStatus, ProviderType
from tangshan_portal.grounds import ART13_CONSEQUENCE, ART13_WORDING
from tangshan_portal.models import Announcement, County, Scenario
from tangshan_portal.roles import Role
from tests.enforcement import at, travel
from tests.factories import ProviderFactory, UserFactory
from tests.factories_public import announcement, blacklist_entry, excellent_batch, pool_provider

pytestmark = pytest.mark.django_db

CODE_A = "914403001922038216"
CODE_B = "91350100M000100Y43"


@pytest.fixture(autouse=True)
def _empty_cache():
    # The test database is rolled back after each test, so PublicChange ids (the cache version) repeat from one
    # test to the next; a page cached by an earlier test must not answer in this one.
    cache.clear()
    yield
    cache.clear()


def html_of(response):
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def names_on(response):
    return [entry.provider_name for entry in response.context["page"].object_list]


def queries_of(client, url, data=None):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, data or {})
    assert response.status_code == 200
    return response, len(queries)


# --- The blacklist: search ---------------------------------------------------------------------------------------


def test_urls():
    assert reverse("public:blacklist") == "/blacklist/"
    assert reverse("public:blacklist_history") == "/blacklist/history/"
    assert reverse("public:blacklist_detail", args=[7]) == "/blacklist/7/"
    assert reverse("public:provider_directory") == "/providers/"
    assert reverse("public:provider_detail", args=[7]) == "/providers/7/"
    assert reverse("public:excellent_list") == "/excellent/"
    assert reverse("public:excellent_detail", args=[7]) == "/excellent/7/"
    assert reverse("public:announcement_list") == "/announcements/"
    assert reverse("public:announcement_detail", args=[7]) == "/announcements/7/"


def test_search_by_an_exact_code_finds_exactly_that_entry_however_it_is_typed(client):
    blacklist_entry(provider=ProviderFactory(status=ProviderStatus.REVOKED, uscc=CODE_A, name="甲科技有限公司"))
    b = blacklist_entry(provider=ProviderFactory(status=ProviderStatus.REVOKED, uscc=CODE_B, name="乙科技有限公司"))
    blacklist_entry(name="丙科技有限公司")
    # Lower case, spaces and hyphens, and the full-width characters a Chinese input method types.
    for typed in (
        CODE_B,
        CODE_B.lower(),
        f" {CODE_B[:8]} {CODE_B[8:]} ",
        f"{CODE_B[:8]}-{CODE_B[8:]}",
        "９１３５０１００Ｍ０００１００Ｙ４３",
    ):
        response = client.get("/blacklist/", {"q": typed})
        assert names_on(response) == [b.provider_name], typed
        assert "共有1个条目符合搜索条件。" in html_of(response)


def test_search_by_part_of_a_code_or_a_name(client):
    blacklist_entry(provider=ProviderFactory(status=ProviderStatus.REVOKED, uscc=CODE_A, name="唐山甲数字科技有限公司"))
    blacklist_entry(provider=ProviderFactory(status=ProviderStatus.REVOKED, uscc=CODE_B, name="唐山乙智能装备有限公司"))
    blacklist_entry(name="丙信息技术有限公司")
    assert names_on(client.get("/blacklist/", {"q": "1922038"})) == ["唐山甲数字科技有限公司"]
    assert names_on(client.get("/blacklist/", {"q": "m000100y"})) == ["唐山乙智能装备有限公司"]
    assert sorted(names_on(client.get("/blacklist/", {"q": "唐山"}))) == [
        "唐山乙智能装备有限公司",
        "唐山甲数字科技有限公司",
    ]
    assert names_on(client.get("/blacklist/", {"q": "智能装备"})) == ["唐山乙智能装备有限公司"]
    response = client.get("/blacklist/", {"q": "不存在的公司"})
    assert names_on(response) == []
    assert "没有符合搜索条件的条目。" in html_of(response)


def test_filters_by_ground_year_and_status(client):
    leak = blacklist_entry(name="泄密公司", ground=4, decided_on=date(2025, 11, 3))
    fraud = blacklist_entry(name="伪造合同公司", ground=5, decided_on=date(2026, 2, 1))
    appealed = blacklist_entry(
        name="申诉中公司", ground=5, decided_on=date(2026, 3, 1), status=BlacklistEntry.Status.UNDER_APPEAL
    )
    assert names_on(client.get("/blacklist/", {"ground": 4})) == [leak.provider_name]
    assert names_on(client.get("/blacklist/", {"ground": 5})) == [appealed.provider_name, fraud.provider_name]
    assert names_on(client.get("/blacklist/", {"year": 2025})) == [leak.provider_name]
    assert names_on(client.get("/blacklist/", {"year": 2026, "ground": 5, "status": "published"})) == [
        fraud.provider_name
    ]
    assert names_on(client.get("/blacklist/", {"status": "under_appeal"})) == [appealed.provider_name]
    html = html_of(client.get("/blacklist/"))
    # The ground filter offers the regulation's wording; the year filter the years that have decisions.
    for n in range(1, 10):
        assert ART13_WORDING[n] in html
    assert '<option value="2025">2025</option>' in html and '<option value="2026">2026</option>' in html


def test_a_bad_filter_value_is_reported_next_to_its_field_and_the_others_still_apply(client):
    blacklist_entry(name="泄密公司", ground=4)
    blacklist_entry(name="伪造合同公司", ground=5)
    response = client.get("/blacklist/", {"ground": "99", "year": "abc", "q": "泄密"})
    html = html_of(response)
    assert names_on(response) == ["泄密公司"]
    assert 'class="form-errors"' in html
    assert 'id="id_ground_error"' in html and 'id="id_year_error"' in html
    # A "removed" status is not offered: removed entries are only in the history.
    response = client.get("/blacklist/", {"status": "removed"})
    assert "id_status_error" in html_of(response)


def test_sorting_by_decision_date_and_by_name(client):
    blacklist_entry(name="B公司", decided_on=date(2026, 3, 1))
    blacklist_entry(name="A公司", decided_on=date(2026, 1, 1))
    blacklist_entry(name="C公司", decided_on=date(2026, 2, 1))
    assert names_on(client.get("/blacklist/")) == ["B公司", "C公司", "A公司"]  # newest decision first
    assert names_on(client.get("/blacklist/", {"sort": "decided_on"})) == ["A公司", "C公司", "B公司"]
    assert names_on(client.get("/blacklist/", {"sort": "provider_name"})) == ["A公司", "B公司", "C公司"]
    assert names_on(client.get("/blacklist/", {"sort": "-provider_name"})) == ["C公司", "B公司", "A公司"]
    assert names_on(client.get("/blacklist/", {"sort": "evil"})) == ["B公司", "C公司", "A公司"]


def test_twenty_a_page_with_the_count_and_links_that_keep_the_filters(client):
    for n in range(25):
        blacklist_entry(name=f"分页公司{n:02d}", ground=4, decided_on=date(2026, 1, 1 + n))
    blacklist_entry(name="其他理由公司", ground=5)
    first = client.get("/blacklist/", {"ground": 4})
    html = html_of(first)
    assert len(first.context["page"].object_list) == 20
    assert "共有25个条目符合搜索条件。" in html
    next_link = re.search(r'href="([^"]+)" rel="next"', html).group(1).replace("&amp;", "&")
    assert "ground=4" in next_link and "page=2" in next_link
    second = client.get("/blacklist/" + next_link)
    assert len(second.context["page"].object_list) == 5
    assert "其他理由公司" not in names_on(second)
    assert client.get("/blacklist/", {"page": 999}).context["page"].number == 2


def test_the_list_shows_each_entry_and_links_its_permalink_downloads_and_api(client):
    entry = blacklist_entry(name="唐山泄密科技有限公司", ground=4, decided_on=date(2026, 3, 1))
    html = html_of(client.get("/blacklist/"))
    for value in (entry.provider_name, entry.uscc, entry.decision_number, "2026-03-01", ART13_WORDING[4]):
        assert value in html
    assert "第十三条第（四）项" in html
    assert f'href="/blacklist/{entry.pk}/"' in html
    assert f'href="{reverse("downloads:index")}"' in html
    assert f'href="{reverse("api-docs")}"' in html
    assert f'href="{reverse("public:blacklist_history")}"' in html
    assert '<html lang="zh-CN">' in html


# --- Removal, history and permalinks ----------------------------------------------------------------------------


def test_history_holds_only_removed_entries_with_date_and_reason(client):
    blacklist_entry(name="在册公司")
    blacklist_entry(name="申诉中公司", status=BlacklistEntry.Status.UNDER_APPEAL)
    removed = blacklist_entry(
        name="已移出公司", status=BlacklistEntry.Status.REMOVED, removed_at=at(2026, 4, 2), removal_reason="申诉成立"
    )
    response = client.get("/blacklist/history/")
    html = html_of(response)
    assert names_on(response) == ["已移出公司"]
    assert "2026-04-02" in html and "申诉成立" in html
    assert f'href="/blacklist/{removed.pk}/"' in html
    assert "在册公司" not in html and "申诉中公司" not in html
    assert set(names_on(client.get("/blacklist/"))) == {"申诉中公司", "在册公司"}
    assert names_on(client.get("/blacklist/history/", {"q": "已移出"})) == ["已移出公司"]
    assert names_on(client.get("/blacklist/history/", {"q": "在册"})) == []


def test_a_permalink_of_a_published_entry(client):
    entry = blacklist_entry(name="唐山泄密科技有限公司", ground=4)
    html = html_of(client.get(f"/blacklist/{entry.pk}/"))
    assert entry.ground_wording in html  # the full citation, with the regulation's title
    assert ART13_CONSEQUENCE in html
    assert entry.remedy in html and entry.decision_number in html and entry.uscc in html
    assert "Removed from the blacklist" not in html


def test_a_removed_entry_keeps_its_permalink_marked_removed_with_date_reason_and_history_link(client):
    entry = blacklist_entry(
        name="已移出公司", status=BlacklistEntry.Status.REMOVED, removed_at=at(2026, 4, 2), removal_reason="申诉成立"
    )
    html = html_of(client.get(f"/blacklist/{entry.pk}/"))
    assert "已于2026-04-02移出黑名单" in html
    assert "申诉成立" in html
    assert 'href="/blacklist/history/"' in html
    assert "status-removed" in html
    assert client.get("/blacklist/999999/").status_code == 404


def test_an_approved_entry_appears_on_the_next_request_although_the_page_was_cached(client, officer, approver):
    blacklist_entry(name="早已在册公司")
    _first, uncached = queries_of(client, "/blacklist/")
    second, cached = queries_of(client, "/blacklist/")
    # The second identical request is answered from the cache: not rendered again, fewer queries (the version).
    assert second.context is None
    assert cached < uncached
    provider = ProviderFactory(name="唐山伪造合同科技有限公司")
    with travel(at(2026, 5, 1)):
        proposal = enforcement.revocation_propose(provider=provider, ground=5, finding="伪造服务合同", by=officer)
    with travel(at(2026, 5, 8)):
        enforcement.revocation_approve(revocation=proposal, by=approver, reason="经核实合同系伪造")
    proposal.refresh_from_db()
    response = client.get("/blacklist/")
    html = html_of(response)
    assert response.context is not None  # rendered afresh
    for value in ("唐山伪造合同科技有限公司", provider.uscc, proposal.decision_number, "2026-05-08", ART13_WORDING[5]):
        assert value in html
    # … and the same for the history and the permalink, when an upheld appeal removes it.
    entry = BlacklistEntry.objects.get(revocation=proposal)
    assert client.get("/blacklist/history/").context["page"].paginator.count == 0
    with travel(at(2026, 5, 20)):
        enforcement.revocation_reverse(revocation=proposal, by=approver, reason="申诉成立，撤销原决定")
    assert "唐山伪造合同科技有限公司" not in html_of(client.get("/blacklist/"))
    assert names_on(client.get("/blacklist/history/")) == ["唐山伪造合同科技有限公司"]
    assert "申诉成立，撤销原决定" in html_of(client.get(f"/blacklist/{entry.pk}/"))


@pytest.mark.parametrize("url", ["/blacklist/", "/blacklist/history/"])
def test_blacklist_queries_do_not_grow_with_the_number_of_entries(client, url):
    status = BlacklistEntry.Status.REMOVED if "history" in url else BlacklistEntry.Status.PUBLISHED
    counts = []
    for total in (5, 50):
        while BlacklistEntry.objects.count() < total:
            blacklist_entry(status=status)
        response, count = queries_of(client, url)
        assert len(response.context["page"].object_list) == min(total, 20)
        counts.append(count)
    assert counts[0] == counts[1]


# --- The resource-pool directory ---------------------------------------------------------------------------------


@pytest.fixture
def pool():
    counties = list(County.objects.order_by("code"))
    scenarios = list(Scenario.objects.order_by("sort_order"))
    a = pool_provider(
        name="唐山甲数字科技有限公司",
        uscc=CODE_A,
        provider_type=ProviderType.INTEGRATED,
        scenarios=scenarios[:2],
        products=["设备联网平台", "MES生产执行系统"],
        served=[counties[0], counties[3]],
        county=counties[0],
        contact_name="王联系",
        contact_phone="13912345678",
    )
    b = pool_provider(
        name="唐山乙智能软件有限公司",
        uscc=CODE_B,
        provider_type=ProviderType.PRODUCT,
        scenarios=scenarios[2:3],
        products=["智能仓储系统"],
        served=[counties[1]],
        county=counties[1],
        status=ProviderStatus.WARNED,  # still in the pool
    )
    others = {
        status: ProviderFactory(name=f"池外公司-{status}", status=status)
        for status in (
            ProviderStatus.APPLIED,
            ProviderStatus.REJECTED,
            ProviderStatus.REVOKED,
            ProviderStatus.WITHDRAWN,
        )
    }
    return {"a": a, "b": b, "others": others, "counties": counties, "scenarios": scenarios}


def provider_names(response):
    return [p.name for p in response.context["page"].object_list]


def test_the_directory_lists_pool_members_with_type_scenarios_counties_and_products_but_no_contacts(client, pool):
    response = client.get("/providers/")
    html = html_of(response)
    assert provider_names(response) == ["唐山乙智能软件有限公司", "唐山甲数字科技有限公司"]
    for other in pool["others"].values():
        assert other.name not in html
    a = pool["a"]
    assert "综合集成型" in html  # the provider type, translated
    for scenario in pool["scenarios"][:2]:
        assert scenario.name in html
    for county in (pool["counties"][0], pool["counties"][3]):
        assert county.name in html
    assert "设备联网平台" in html and "MES生产执行系统" in html
    assert f'href="/providers/{a.pk}/"' in html
    assert "王联系" not in html and "13912345678" not in html
    assert "资源池中共有2家服务商。" in html


def test_directory_search_by_name_code_and_product(client, pool):
    for query, expected in [
        ("甲数字", ["唐山甲数字科技有限公司"]),
        (CODE_B, ["唐山乙智能软件有限公司"]),
        (CODE_B.lower(), ["唐山乙智能软件有限公司"]),
        ("1922038", ["唐山甲数字科技有限公司"]),
        ("MES", ["唐山甲数字科技有限公司"]),
        ("仓储", ["唐山乙智能软件有限公司"]),
        ("池外公司", []),
    ]:
        assert provider_names(client.get("/providers/", {"q": query})) == expected, query


def test_directory_filters_by_type_scenario_and_county(client, pool):
    assert provider_names(client.get("/providers/", {"provider_type": ProviderType.PRODUCT})) == [
        "唐山乙智能软件有限公司"
    ]
    scenario = pool["scenarios"][0]
    assert provider_names(client.get("/providers/", {"scenario": scenario.code})) == ["唐山甲数字科技有限公司"]
    served_only = pool["counties"][3]  # a county where A has a contract but is not registered
    assert provider_names(client.get("/providers/", {"county": served_only.code})) == ["唐山甲数字科技有限公司"]
    assert provider_names(client.get("/providers/", {"county": pool["counties"][1].code})) == ["唐山乙智能软件有限公司"]
    response = client.get("/providers/", {"county": "999999", "provider_type": ProviderType.PRODUCT})
    assert "id_county_error" in html_of(response)
    assert provider_names(response) == ["唐山乙智能软件有限公司"]


def test_provider_detail_shows_products_and_counties_and_answers_404_outside_the_pool(client, pool):
    a = pool["a"]
    html = html_of(client.get(f"/providers/{a.pk}/"))
    assert a.name in html and a.uscc in html
    assert "设备联网平台" in html and "58000.00" in html
    assert pool["counties"][3].name in html
    assert "王联系" not in html and "13912345678" not in html and a.legal_representative not in html
    assert client.get(f"/providers/{pool['b'].pk}/").status_code == 200  # warned: still in the pool
    for other in pool["others"].values():
        assert client.get(f"/providers/{other.pk}/").status_code == 404, other.status


def test_a_county_served_through_several_contracts_is_named_once(client):
    county = County.objects.order_by("code").first()
    provider = pool_provider(name="多合同公司", served=[county, county, county])
    html = html_of(client.get("/providers/"))
    assert html.count(f"<li>{county.name}</li>") == 1
    assert html_of(client.get(f"/providers/{provider.pk}/")).count(f"<li>{county.name}</li>") == 1


def test_directory_queries_do_not_grow_with_the_number_of_providers(client):
    counties = list(County.objects.order_by("code"))
    scenarios = list(Scenario.objects.order_by("sort_order"))
    counts = []
    for total in (5, 50):
        from providers.models import Provider

        n = Provider.objects.count()
        while n < total:
            pool_provider(scenarios=scenarios[n % 3 : n % 3 + 2], products=[f"产品{n}"], served=[counties[n % 5]])
            n += 1
        response, count = queries_of(client, "/providers/")
        assert len(response.context["page"].object_list) == min(total, 20)
        counts.append(count)
    assert counts[0] == counts[1]


# --- Excellent providers ----------------------------------------------------------------------------------------


def test_excellent_lists_show_published_batches_ranked_and_drafts_answer_404(client):
    first, second = pool_provider(name="优秀甲公司"), pool_provider(name="优秀乙公司")
    published = excellent_batch(providers=[first, second], status=ExcellentBatch.Status.PUBLISHED)
    draft = excellent_batch(providers=[second], name="2026年第二批（草稿）")
    html = html_of(client.get("/excellent/"))
    assert published.name in html and draft.name not in html
    assert f'href="/excellent/{published.pk}/"' in html
    assert "将定期分批组织遴选优秀服务商" in html
    html = html_of(client.get(f"/excellent/{published.pk}/"))
    assert html.index("优秀甲公司") < html.index("优秀乙公司")
    assert "94.5" in html and "服务试点企业满意度高（第1名）" in html
    assert f'href="/providers/{first.pk}/"' in html
    assert client.get(f"/excellent/{draft.pk}/").status_code == 404


# --- Announcements ----------------------------------------------------------------------------------------------


def test_announcements_list_only_published_ones_with_a_category_filter(client):
    notice = announcement(title="关于资源池动态调整的通知")
    policy = announcement(title="数字化转型补助政策解读", category=Announcement.Category.POLICY)
    draft = announcement(title="草稿公告", state="draft")
    withdrawn = announcement(title="已撤回公告", state="withdrawn")
    html = html_of(client.get("/announcements/"))
    assert notice.title in html and policy.title in html
    assert draft.title not in html and withdrawn.title not in html
    html = html_of(client.get("/announcements/", {"category": "policy"}))
    assert policy.title in html and notice.title not in html
    assert 'href="/announcements/?category=policy" aria-current="page"' in html
    html = html_of(client.get("/announcements/", {"category": "nonsense"}))
    assert notice.title in html and policy.title in html


def test_announcement_detail_draft_404_withdrawn_410_with_the_reason(client):
    published = announcement(title="关于资源池动态调整的通知", body="第一段。\n\n第二段<script>alert(1)</script>")
    draft = announcement(title="草稿公告", state="draft")
    withdrawn = announcement(title="已撤回公告", state="withdrawn")
    html = html_of(client.get(f"/announcements/{published.pk}/"))
    assert "<p>第一段。</p>" in html
    assert "<script>alert(1)" not in html and "&lt;script&gt;" in html
    assert client.get(f"/announcements/{draft.pk}/").status_code == 404
    gone = client.get(f"/announcements/{withdrawn.pk}/")
    assert gone.status_code == 410
    assert "发布内容有误，已更正" in gone.content.decode() and "已撤回公告" in gone.content.decode()


def test_a_path_of_a_public_page_in_an_announcement_becomes_a_link_nothing_else_does(client):
    batch = excellent_batch(status=ExcellentBatch.Status.PUBLISHED)
    text = f"名单详见：/excellent/{batch.pk}/。\n管理后台 /admin/ 不链接；外部 https://example.com/x/ 也不链接。"
    item = announcement(body=text)
    html = html_of(client.get(f"/announcements/{item.pk}/"))
    assert f'<a href="/excellent/{batch.pk}/">/excellent/{batch.pk}/</a>' in html
    assert 'href="/admin/"' not in html and 'href="https://example.com' not in html and 'href="/x/"' not in html


# --- Languages, caching and access -----------------------------------------------------------------------------


PAGES = ["/blacklist/", "/blacklist/history/", "/providers/", "/excellent/", "/announcements/"]


@pytest.mark.parametrize("url", PAGES)
def test_chinese_by_default_and_english_with_the_language_cookie_even_when_cached(client, url):
    assert '<html lang="zh-CN">' in html_of(client.get(url))
    assert client.get(url).context is None  # now cached in Chinese
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = html_of(client.get(url))
    assert '<html lang="en">' in html
    assert "Home" in html  # the navigation is English too


def test_detail_pages_in_english(client):
    entry = blacklist_entry()
    provider = pool_provider()
    batch = excellent_batch(providers=[provider], status=ExcellentBatch.Status.PUBLISHED)
    item = announcement()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    for url in (
        f"/blacklist/{entry.pk}/",
        f"/providers/{provider.pk}/",
        f"/excellent/{batch.pk}/",
        f"/announcements/{item.pk}/",
    ):
        assert '<html lang="en">' in html_of(client.get(url)), url


@pytest.mark.parametrize("url", PAGES)
def test_everyone_may_read_and_nobody_may_post(client, url):
    assert client.get(url).status_code == 200
    assert client.post(url).status_code == 405


def test_a_logged_in_user_gets_a_fresh_page_not_the_anonymous_copy(client):
    blacklist_entry(name="在册公司")
    client.get("/blacklist/")  # cached for anonymous visitors
    user = UserFactory(role=Role.ENTERPRISE, full_name="企业用户甲")
    client.force_login(user)
    response = client.get("/blacklist/")
    assert response.context is not None
    assert "企业用户甲" in response.content.decode() or user.get_username() in response.content.decode()
    # … and the page a logged-in user saw is not served to the next anonymous visitor.
    client.logout()
    anonymous = client.get("/blacklist/").content.decode()
    assert "企业用户甲" not in anonymous
