"""The name and code searches (public blacklist, resource pool, admin lists) keep their substring meaning, and on
PostgreSQL they are served by the trigram indexes (providers, enterprises and evaluations migrations `*_trgm`)."""

import pytest
from django.contrib.admin.sites import site
from django.db import connection
from django.test import RequestFactory

from enterprises.models import PilotEnterprise
from evaluations.models import BlacklistEntry
from opendata import selectors
from providers.models import Provider
from tests.factories import PilotEnterpriseFactory, ProviderFactory
from tests.factories_public import ProductFactory, blacklist_entry, pool_provider

pytestmark = pytest.mark.django_db

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="pg_trgm and GIN indexes exist on PostgreSQL only"
)

TRIGRAM_INDEXES = {
    "providers_provider": {
        "provider_name_trgm",
        "provider_uscc_trgm",
        "provider_legal_rep_trgm",
        "provider_contact_trgm",
    },
    "providers_product": {"product_name_trgm"},
    "enterprises_pilotenterprise": {
        "enterprise_name_trgm",
        "enterprise_uscc_trgm",
        "enterprise_sub_industry_trgm",
        "enterprise_contact_trgm",
    },
    "evaluations_blacklistentry": {"blacklist_name_trgm", "blacklist_uscc_trgm", "blacklist_decision_trgm"},
}


# --- The meaning of the searches, on every database ------------------------------------------------------------


def test_blacklist_search_finds_a_part_of_the_name_or_of_the_code_in_any_case():
    entry = blacklist_entry(name="唐山星河智造科技有限公司")
    blacklist_entry(name="遵化云帆信息技术有限公司")

    def found(q):
        return list(selectors.blacklist_search(selectors.blacklist_current(), q=q))

    assert found("星河智造") == [entry]
    # The tail of the code: sequential codes share their head.
    assert found(entry.uscc[-6:].lower()) == [entry]
    assert found(entry.uscc) == [entry]
    assert found("不存在的名称") == []


def test_pool_search_finds_name_code_or_offered_product_once_each():
    by_name = pool_provider(name="唐山星河数字科技有限公司")
    # Two matching products: the provider is listed once.
    by_product = pool_provider(name="迁安云帆信息技术有限公司", products=["星河设备联网套件", "星河能耗监测"])
    withdrawn = pool_provider(name="遵化恒信软件有限公司")
    ProductFactory(provider=withdrawn, name="星河质量追溯", is_active=False)
    pool_provider(name="滦州博远科技有限公司")

    def found(q):
        return list(selectors.pool_search(selectors.pool_providers(), q=q))

    assert found("星河") == sorted([by_name, by_product], key=lambda p: (p.name, p.pk))
    assert found(by_product.uscc[-6:].lower()) == [by_product]
    assert found(by_name.uscc) == [by_name]


def test_pool_search_by_scenario_lists_each_provider_once():
    from tangshan_portal.models import Scenario

    first, second = Scenario.objects.order_by("sort_order")[:2]
    both = pool_provider(name="唐山星河数字科技有限公司", scenarios=[first, second], products=["甲", "乙"])
    pool_provider(name="迁安云帆信息技术有限公司", scenarios=[second])

    assert list(selectors.pool_search(selectors.pool_providers(), scenario=first.code)) == [both]
    assert len(selectors.pool_search(selectors.pool_providers(), scenario=second.code)) == 2


# --- The indexes, on PostgreSQL ----------------------------------------------------------------------------------


def _plan(queryset):
    """The plan PostgreSQL chooses when reading the whole table, or walking a whole index in the list's order, is
    priced out: the few rows of a test would otherwise be read that way whatever indexes exist (which of the two
    it picks depends on the table's statistics). What is left is a bitmap scan of the indexes the filter can use."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
    try:
        return queryset.explain()
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = on")
            cursor.execute("SET LOCAL enable_indexscan = on")


def _admin_search(model, term):
    queryset, _duplicates = site._registry[model].get_search_results(
        RequestFactory().get("/"), model.objects.all(), term
    )
    return queryset


@postgresql_only
def test_trigram_indexes_exist_on_the_expression_icontains_compiles_to():
    with connection.cursor() as cursor:
        cursor.execute("SELECT extname FROM pg_extension WHERE extname = 'pg_trgm'")
        assert cursor.fetchone() == ("pg_trgm",)
        cursor.execute(
            "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) AND indexname LIKE %s",
            [list(TRIGRAM_INDEXES), "%trgm"],
        )
        rows = cursor.fetchall()
    found = {}
    for table, name, definition in rows:
        found.setdefault(table, set()).add(name)
        # `icontains` is UPPER("col"::text) LIKE UPPER(…): only an index on that very expression serves it.
        assert "USING gin (upper((" in definition and ")::text) gin_trgm_ops)" in definition, definition
    assert found == TRIGRAM_INDEXES


@postgresql_only
def test_public_blacklist_search_uses_the_trigram_indexes():
    blacklist_entry(name="唐山星河智造科技有限公司")
    plan = _plan(selectors.blacklist_search(selectors.blacklist_current(), q="星河智造"))
    assert "Bitmap Index Scan on blacklist_name_trgm" in plan
    assert "Bitmap Index Scan on blacklist_uscc_trgm" in plan


@postgresql_only
def test_pool_search_uses_the_trigram_indexes_of_providers_and_products():
    pool_provider(name="唐山星河数字科技有限公司", products=["星河设备联网套件"])
    plan = _plan(selectors.pool_search(selectors.pool_providers(), q="星河数字"))
    for index in ("provider_name_trgm", "provider_uscc_trgm", "product_name_trgm"):
        assert f"Bitmap Index Scan on {index}" in plan, plan


@postgresql_only
@pytest.mark.parametrize(
    ("model", "make", "indexes"),
    [
        (Provider, lambda: ProviderFactory(name="唐山星河数字科技有限公司"), TRIGRAM_INDEXES["providers_provider"]),
        (
            PilotEnterprise,
            lambda: PilotEnterpriseFactory(name="唐山星河数字制造有限公司"),
            TRIGRAM_INDEXES["enterprises_pilotenterprise"],
        ),
        (
            BlacklistEntry,
            lambda: blacklist_entry(name="唐山星河数字科技有限公司"),
            TRIGRAM_INDEXES["evaluations_blacklistentry"],
        ),
    ],
    ids=["providers", "enterprises", "blacklist"],
)
def test_admin_search_uses_a_trigram_index_for_every_searched_column(model, make, indexes):
    make()
    # Without the list's order, which a test's few rows would rather read from the name index.
    plan = _plan(_admin_search(model, "星河数字").order_by())
    # The admin ORs its search_fields: one column without an index and the whole table is read.
    for index in indexes:
        assert f"Bitmap Index Scan on {index}" in plan, plan


@postgresql_only
def test_a_full_code_is_looked_up_in_the_btree_index():
    entry = blacklist_entry(name="唐山星河智造科技有限公司")
    plan = _plan(selectors.blacklist_search(selectors.blacklist_current(), q=entry.uscc))
    assert "evaluations_blacklistentry_uscc" in plan and "trgm" not in plan, plan


def test_admin_search_on_related_columns_matches_as_django_does_without_a_join(officer):
    from evaluations.models import RectificationCase
    from tests.factories_api import rectification_case

    star = ProviderFactory(name="唐山星河数字科技有限公司")
    cloud = ProviderFactory(name="迁安云帆信息技术有限公司")
    star_case = rectification_case(star, by=officer)
    cloud_case = rectification_case(cloud, by=officer)
    RectificationCase.objects.filter(pk=cloud_case.pk).update(document_number="唐工信整〔2026〕7号")

    def found(term):
        return set(_admin_search(RectificationCase, term))

    assert found("星河数字") == {star_case}
    assert found(cloud.uscc[-6:].lower()) == {cloud_case}
    assert found("整〔2026〕7") == {cloud_case}
    # Every word must match some column.
    assert found("星河 科技") == {star_case}
    assert found("星河 云帆") == set()
    assert found('"数字科技"') == {star_case}
    # The related columns are matched in a subquery on the providers' ids, not by joining the providers.
    sql = str(_admin_search(RectificationCase, "星河").query)
    assert "JOIN" not in sql and '"provider_id" IN (SELECT' in sql
