"""Rules that the database itself enforces, so that no code path (bulk writes, imports, raw updates) breaks them."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from enterprises.models import PilotEnterprise, ServiceContract
from tangshan_portal.models import County, Organisation
from tests.factories import PilotEnterpriseFactory, ServiceContractFactory

pytestmark = pytest.mark.django_db


def _refused(fn):
    with pytest.raises(IntegrityError), transaction.atomic():
        fn()


def test_counties_come_from_settings():
    from django.conf import settings

    assert list(County.objects.values_list("code", "name")) == sorted(settings.PORTAL_COUNTIES)
    assert County.objects.count() == 14
    assert County.objects.get(code="130209").name == "曹妃甸区"


def test_contract_money_and_dates_are_checked_by_the_database():
    contract = ServiceContractFactory(amount=Decimal("100000"), subsidy=Decimal("0"), advance_payment=Decimal("0"))
    query = ServiceContract.objects.filter(pk=contract.pk)
    _refused(lambda: query.update(subsidy=Decimal("100000.01")))
    _refused(lambda: query.update(advance_payment=Decimal("200000")))
    _refused(lambda: query.update(amount=Decimal("-1")))
    _refused(lambda: query.update(end_on=contract.start_on.replace(year=contract.start_on.year - 1)))
    _refused(lambda: query.update(status="no-such-state"))


def test_contract_clean_explains_money_and_date_errors_in_chinese():
    contract = ServiceContractFactory.build(
        amount=Decimal("100"), subsidy=Decimal("200"), advance_payment=Decimal("300")
    )
    contract.end_on = contract.start_on.replace(year=contract.start_on.year - 1)
    with pytest.raises(ValidationError) as excinfo:
        contract.clean()
    errors = excinfo.value.message_dict
    assert set(errors) == {"subsidy", "advance_payment", "end_on"}
    assert "合同金额" in errors["subsidy"][0]


def test_enterprise_level_and_size_are_checked_by_the_database():
    enterprise = PilotEnterpriseFactory()
    query = PilotEnterprise.objects.filter(pk=enterprise.pk)
    _refused(lambda: query.update(baseline_level=5))
    _refused(lambda: query.update(baseline_level=0))
    _refused(lambda: query.update(size="giant"))
    _refused(lambda: query.update(uscc="not-a-code"))


def test_a_county_bureau_must_name_its_county():
    _refused(lambda: Organisation.objects.create(name="某县工信局", kind=Organisation.Kind.COUNTY_BUREAU))
    org = Organisation(name="某县工信局", kind=Organisation.Kind.COUNTY_BUREAU)
    with pytest.raises(ValidationError) as excinfo:
        org.full_clean()
    assert "county" in excinfo.value.message_dict


def test_registry_records_link_only_to_organisations_of_their_kind():
    from tests.factories import ProviderFactory

    enterprise_org = Organisation.objects.create(name="某企业", kind=Organisation.Kind.ENTERPRISE)
    provider_org = Organisation.objects.create(name="某服务商", kind=Organisation.Kind.PROVIDER)
    provider = ProviderFactory.build(organisation=enterprise_org)
    with pytest.raises(ValidationError) as excinfo:
        provider.clean()
    assert "服务商" in excinfo.value.message_dict["organisation"][0]
    enterprise = PilotEnterpriseFactory.build(organisation=provider_org)
    with pytest.raises(ValidationError) as excinfo:
        enterprise.clean()
    assert "试点企业" in excinfo.value.message_dict["organisation"][0]
