"""Art 12(3) price flags on the procurement list: more than PRICE_DEVIATION_THRESHOLD above the reference market
price or above the provider's own list price, fixed when the line is entered."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from enterprises import services
from enterprises.models import ProcurementItem
from tests.factories import ProviderFactory
from tests.factories_contracts import ProductFactory, complete_draft, provider_staff

pytestmark = pytest.mark.django_db

# With the default threshold of 0.20, a price of 100.00 may be charged up to 120.00 without a flag.
BOUNDARY = [
    ("119.99", False),  # just below
    ("120.00", False),  # exactly at the threshold: "more than 20%" is not met
    ("120.01", True),  # just above
]


@pytest.mark.parametrize(("unit_price", "flagged"), BOUNDARY)
def test_reference_price_threshold(unit_price, flagged):
    above_reference, above_list = services.procurement_flags(
        unit_price=Decimal(unit_price), reference_price=Decimal("100.00"), list_price=None
    )
    assert (above_reference, above_list) == (flagged, False)


@pytest.mark.parametrize(("unit_price", "flagged"), BOUNDARY)
def test_list_price_threshold(unit_price, flagged):
    above_reference, above_list = services.procurement_flags(
        unit_price=Decimal(unit_price), reference_price=None, list_price=Decimal("100.00")
    )
    assert (above_reference, above_list) == (False, flagged)


@pytest.mark.parametrize(("unit_price", "flagged"), [("149.99", False), ("150.00", False), ("150.01", True)])
def test_the_threshold_is_the_setting(settings, unit_price, flagged):
    settings.PRICE_DEVIATION_THRESHOLD = 0.5
    assert services.procurement_flags(
        unit_price=Decimal(unit_price), reference_price=Decimal("100.00"), list_price=Decimal("100.00")
    ) == (flagged, flagged)


def test_no_reference_and_no_list_price_means_no_flag():
    assert services.procurement_flags(unit_price=Decimal("1000000"), reference_price=None, list_price=None) == (
        False,
        False,
    )


@pytest.fixture
def draft():
    return complete_draft()


@pytest.fixture
def staff(draft):
    return provider_staff(draft.provider)


def _line(**overrides):
    data = {
        "name": "工业网关",
        "function": "设备数据采集",
        "purpose": "设备联网",
        "quantity": Decimal("2"),
        "unit": "台",
        "unit_price": Decimal("100.00"),
        "reference_price": None,
        "product": None,
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize(("unit_price", "flagged"), BOUNDARY)
def test_saving_a_line_sets_the_reference_flag(draft, staff, unit_price, flagged):
    item = services.procurement_item_save(
        contract=draft, by=staff, data=_line(unit_price=Decimal(unit_price), reference_price=Decimal("100.00"))
    )
    item.refresh_from_db()
    assert item.above_reference is flagged and item.above_list_price is False and item.list_price_at_entry is None


@pytest.mark.parametrize(("unit_price", "flagged"), BOUNDARY)
def test_saving_a_catalogue_line_sets_the_list_price_flag(draft, staff, unit_price, flagged):
    product = ProductFactory(provider=draft.provider, list_price=Decimal("100.00"))
    item = services.procurement_item_save(
        contract=draft, by=staff, data=_line(product=product, unit_price=Decimal(unit_price))
    )
    item.refresh_from_db()
    assert item.list_price_at_entry == Decimal("100.00")
    assert item.above_list_price is flagged and item.above_reference is False


def test_a_later_list_price_change_does_not_change_an_existing_flag(draft, staff):
    product = ProductFactory(provider=draft.provider, list_price=Decimal("100.00"))
    flagged = services.procurement_item_save(
        contract=draft, by=staff, data=_line(product=product, unit_price=Decimal("130.00"))
    )
    clean = services.procurement_item_save(
        contract=draft, by=staff, data=_line(product=product, unit_price=Decimal("110.00"), name="第二台")
    )
    product.list_price = Decimal("200.00")
    product.save()
    flagged.refresh_from_db()
    clean.refresh_from_db()
    assert (flagged.above_list_price, flagged.list_price_at_entry) == (True, Decimal("100.00"))
    assert (clean.above_list_price, clean.list_price_at_entry) == (False, Decimal("100.00"))
    # Re-entering the line is a new entry and takes the list price in force then.
    services.procurement_item_save(contract=draft, by=staff, data={"unit_price": Decimal("130.00")}, item=flagged)
    flagged.refresh_from_db()
    assert (flagged.above_list_price, flagged.list_price_at_entry) == (False, Decimal("200.00"))


def test_a_product_of_another_provider_is_refused(draft, staff):
    foreign = ProductFactory(provider=ProviderFactory())
    with pytest.raises(ValidationError) as exc:
        services.procurement_item_save(contract=draft, by=staff, data=_line(product=foreign))
    assert "product" in exc.value.error_dict
    assert not ProcurementItem.objects.filter(name="工业网关").exists()


def test_both_flags_at_once(draft, staff):
    product = ProductFactory(provider=draft.provider, list_price=Decimal("100.00"))
    item = services.procurement_item_save(
        contract=draft,
        by=staff,
        data=_line(product=product, unit_price=Decimal("200.00"), reference_price=Decimal("150.00")),
    )
    assert item.above_reference and item.above_list_price and item.flagged
