"""The provider's catalogue and list prices (Art 12(3), 13(8)): price history, the drastic-change flag at the
threshold, the provider's pages and the bureau's read-only lists."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from providers import services
from providers.models import Product, ProductPriceChange
from tangshan_portal.models import Notification, Scenario
from tangshan_portal.roles import Role
from tests.factories import PilotEnterpriseFactory, ProviderFactory, UserFactory
from tests.factories_providers import ProductFactory, submit_application

pytestmark = pytest.mark.django_db

LIST = reverse("provider:product_list")
NEW = reverse("provider:product_new")


@pytest.fixture(autouse=True)
def threshold(settings):
    settings.PRICE_CHANGE_THRESHOLD = 0.5
    return settings.PRICE_CHANGE_THRESHOLD


def _html(response):
    return response.content.decode()


def _results(response):
    """The result table of an admin list, without the filters in the sidebar."""
    html = _html(response)
    return html[html.index('id="result_list"') : html.index("</table>", html.index('id="result_list"'))]


def _edit(product):
    return reverse("provider:product_edit", args=[product.pk])


def _reprice(product, by, price, reason="原材料成本上涨"):
    return services.product_update(
        product=product,
        by=by,
        name=product.name,
        functions=product.functions,
        unit=product.unit,
        list_price=Decimal(price),
        reason=reason,
    )


# --- The ratio and the drastic flag ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("new_price", "ratio", "drastic"),
    [
        ("150.00", Decimal("0.5000"), False),  # exactly the threshold: not beyond it
        ("150.01", Decimal("0.5001"), True),
        ("50.00", Decimal("-0.5000"), False),
        ("49.99", Decimal("-0.5001"), True),
        ("120.00", Decimal("0.2000"), False),
    ],
)
def test_a_price_change_keeps_its_ratio_and_is_drastic_only_beyond_the_threshold(
    provider, provider_user, new_price, ratio, drastic
):
    product = ProductFactory(provider=provider, list_price=Decimal("100.00"))
    _reprice(product, provider_user, new_price)
    change = ProductPriceChange.objects.get()
    assert (change.old_price, change.new_price) == (Decimal("100.00"), Decimal(new_price))
    assert change.change_ratio == ratio
    assert change.drastic is drastic
    assert (change.changed_by, change.reason) == (provider_user, "原材料成本上涨")
    product.refresh_from_db()
    assert product.list_price == Decimal(new_price)
    officers_told = Notification.objects.filter(kind="drastic_price_change", recipient_role=Role.OFFICER.value)
    assert officers_told.exists() is drastic


def test_the_threshold_is_the_policy_setting(provider, provider_user, settings):
    settings.PRICE_CHANGE_THRESHOLD = 0.2
    product = ProductFactory(provider=provider, list_price=Decimal("100.00"))
    _reprice(product, provider_user, "121.00")
    assert ProductPriceChange.objects.get().drastic is True


def test_an_edit_without_a_price_change_adds_no_history(provider, provider_user):
    product = ProductFactory(provider=provider, list_price=Decimal("100.00"))
    services.product_update(
        product=product, by=provider_user, name="新名称", functions="新功能", unit="套", list_price=Decimal("100.00")
    )
    assert not ProductPriceChange.objects.exists()


def test_only_the_providers_own_staff_change_its_catalogue(provider, provider_user):
    other_user = UserFactory(role=Role.PROVIDER, organisation=ProviderFactory().organisation)
    product = ProductFactory(provider=provider)
    with pytest.raises(PermissionDenied):
        _reprice(product, other_user, "500.00")
    with pytest.raises(PermissionDenied):
        services.product_create(
            provider=provider, by=other_user, name="冒名产品", functions="-", unit="套", list_price=1
        )
    assert not ProductPriceChange.objects.exists() and Product.objects.count() == 1


# --- The provider's pages ------------------------------------------------------------------------------------------


def test_the_provider_adds_a_product_with_scenarios(client, provider, provider_user):
    scenarios = list(Scenario.objects.order_by("sort_order")[:2])
    client.force_login(provider_user)
    assert client.get(NEW).status_code == 200
    response = client.post(
        NEW,
        {
            "name": "MES 生产执行系统",
            "functions": "排产、报工、质量追溯",
            "scenarios": [s.pk for s in scenarios],
            "unit": "套",
            "list_price": "98000",
        },
    )
    assert response.status_code == 302 and response["Location"] == LIST
    product = Product.objects.get()
    assert (product.provider, product.list_price, product.is_active) == (provider, Decimal("98000.00"), True)
    assert set(product.scenarios.all()) == set(scenarios)
    html = _html(client.get(LIST))
    assert "MES 生产执行系统" in html and "98000.00" in html


def test_bad_product_input_is_refused_next_to_the_field(client, provider, provider_user):
    ProductFactory(provider=provider, name="已有产品")
    client.force_login(provider_user)
    response = client.post(NEW, {"name": "已有产品", "functions": "", "unit": "套", "list_price": "0"})
    assert response.status_code == 200
    html = _html(response)
    for field in ("name", "functions", "list_price"):
        assert f'id="id_{field}_error"' in html
    assert "这个字段是必填项。" in html
    assert Product.objects.count() == 1


def test_a_drastic_change_is_saved_with_its_reason_and_a_warning_is_shown(client, provider, provider_user):
    product = ProductFactory(provider=provider, name="数据采集网关", list_price=Decimal("1000.00"))
    client.force_login(provider_user)
    page = _html(client.get(_edit(product)))
    assert 'name="reason"' in page and 'name="is_active"' in page

    data = {
        "name": "数据采集网关",
        "functions": product.functions,
        "unit": "台",
        "list_price": "1600",
        "is_active": "on",
    }
    refused = client.post(_edit(product), data)  # a price change needs its reason
    assert refused.status_code == 200 and 'id="id_reason_error"' in _html(refused)
    assert not ProductPriceChange.objects.exists()

    response = client.post(_edit(product), {**data, "reason": "芯片涨价"}, follow=True)
    assert response.redirect_chain == [(LIST, 302)]
    html = _html(response)
    assert 'class="message message-warning"' in html and "+60%" in html
    change = ProductPriceChange.objects.get()
    assert (change.drastic, change.reason, change.change_ratio) == (True, "芯片涨价", Decimal("0.6000"))
    assert "芯片涨价" in html and "1000.00" in html and "1600.00" in html  # the price history


def test_a_moderate_change_shows_no_warning_and_the_product_can_be_retired(client, provider, provider_user):
    product = ProductFactory(provider=provider, name="数据采集网关", list_price=Decimal("1000.00"))
    client.force_login(provider_user)
    data = {
        "name": "数据采集网关",
        "functions": product.functions,
        "unit": "台",
        "list_price": "1100",
        "reason": "升级",
    }
    response = client.post(_edit(product), data, follow=True)
    assert 'class="message message-warning"' not in _html(response)
    assert 'class="message message-success"' in _html(response)
    product.refresh_from_db()
    assert product.is_active is False and product.list_price == Decimal("1100.00")
    assert ProductPriceChange.objects.get().drastic is False


def test_access_to_the_product_pages(client, provider, provider_user):
    own = ProductFactory(provider=provider)
    theirs = ProductFactory(name="别家的产品")
    for url in (LIST, NEW, _edit(own)):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))

    client.force_login(UserFactory(role=Role.ENTERPRISE, organisation=PilotEnterpriseFactory().organisation))
    for url in (LIST, NEW, _edit(own)):
        assert client.get(url).status_code == 403

    client.force_login(provider_user)
    assert client.get(_edit(own)).status_code == 200
    assert client.get(_edit(theirs)).status_code == 404
    response = client.post(_edit(theirs), {"name": "改了", "functions": "x", "unit": "套", "list_price": "1"})
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.name == "别家的产品"
    assert "别家的产品" not in _html(client.get(LIST))

    client.force_login(submit_application().applicant)
    assert client.get(NEW)["Location"] == reverse("provider:application_status")


# --- The bureau's read-only lists --------------------------------------------------------------------------------


def test_the_admin_lists_filter_drastic_and_above_threshold_changes(client, provider, provider_user, officer, settings):
    calm = ProductFactory(provider=provider, name="平稳产品", list_price=Decimal("100.00"))
    wild = ProductFactory(provider=provider, name="暴涨产品", list_price=Decimal("100.00"))
    middling = ProductFactory(provider=provider, name="中涨产品", list_price=Decimal("100.00"))
    _reprice(calm, provider_user, "105.00")
    _reprice(wild, provider_user, "300.00")
    _reprice(middling, provider_user, "130.00")
    settings.PRICE_CHANGE_THRESHOLD = 0.25  # lowered after the changes: the flag keeps the old threshold

    client.force_login(officer)
    changes = reverse("admin:providers_productpricechange_changelist")
    products = reverse("admin:providers_product_changelist")

    drastic = _results(client.get(changes, {"drastic__exact": "1"}))
    assert "暴涨产品" in drastic and "中涨产品" not in drastic and "平稳产品" not in drastic
    above = _results(client.get(changes, {"above_threshold": "yes"}))
    assert "暴涨产品" in above and "中涨产品" in above and "平稳产品" not in above
    assert "+200%" in _results(client.get(changes))

    # The product list links its count of changes to this list, filtered to the product.
    assert f"?product__id__exact={wild.pk}" in _results(client.get(products))
    only_wild = client.get(changes, {"product__id__exact": wild.pk})
    assert only_wild.status_code == 200
    assert "暴涨产品" in _results(only_wild) and "中涨产品" not in _results(only_wild)

    drastic_products = _results(client.get(products, {"drastic": "yes"}))
    assert "暴涨产品" in drastic_products and "中涨产品" not in drastic_products
    above_products = _results(client.get(products, {"above_threshold": "yes"}))
    assert "中涨产品" in above_products and "平稳产品" not in above_products


def test_the_catalogue_is_read_only_in_the_admin(client, provider, provider_user, officer):
    product = ProductFactory(provider=provider, name="只读产品")
    _reprice(product, provider_user, "300.00")
    change = ProductPriceChange.objects.get()
    client.force_login(officer)
    assert client.get(reverse("admin:providers_product_add")).status_code == 403
    url = reverse("admin:providers_product_change", args=[product.pk])
    assert client.get(url).status_code == 200
    assert client.post(url, {"name": "改名", "list_price": "1"}).status_code == 403
    assert client.post(reverse("admin:providers_productpricechange_change", args=[change.pk]), {}).status_code == 403
    assert client.get(reverse("admin:providers_productpricechange_delete", args=[change.pk])).status_code == 403
    product.refresh_from_db()
    assert product.name == "只读产品"


@pytest.mark.parametrize("role", [Role.COUNTY, Role.APPROVER, Role.AUDITOR])
def test_bureau_roles_read_the_price_changes(client, role):
    ProductFactory()
    client.force_login(UserFactory(role=role))
    assert client.get(reverse("admin:providers_productpricechange_changelist")).status_code == 200
    assert client.get(reverse("admin:providers_product_changelist")).status_code == 200


def test_assessors_and_sysadmins_do_not_see_the_catalogue(client):
    for role in (Role.ASSESSOR, Role.SYSADMIN):
        client.force_login(UserFactory(role=role))
        assert client.get(reverse("admin:providers_product_changelist")).status_code == 403
