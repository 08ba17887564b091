"""Minimal, valid factory_boy factories for the portal's core models."""

import functools
from datetime import date
from decimal import Decimal

import factory
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from factory.django import DjangoModelFactory

from enterprises.models import ContractStatus, EnterpriseSize, PilotEnterprise, ServiceContract
from providers.models import Provider, ProviderStatus, ProviderType
from tangshan_portal.demo import city_division_code, sequential_uscc
from tangshan_portal.models import County, Organisation, User
from tangshan_portal.roles import STAFF_ROLES, Role

TEST_PASSWORD = "Test-pass-2026-factory"


@functools.cache
def _password_hash():
    # Hashing once per run: the default PBKDF2 cost would otherwise dominate every test that creates users.
    return make_password(TEST_PASSWORD)


def _set_scenarios(obj, create, extracted):
    if create and extracted:
        obj.scenarios.set(extracted)


class CountyFactory(DjangoModelFactory):
    """Counties come from a data migration; the factory hands out the existing ones in turn."""

    class Meta:
        model = County
        django_get_or_create = ("code",)

    code = factory.Iterator([code for code, _name in settings.PORTAL_COUNTIES])
    name = factory.LazyAttribute(lambda o: dict(settings.PORTAL_COUNTIES)[o.code])


class OrganisationFactory(DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"测试组织{n:04d}")
    kind = Organisation.Kind.BUREAU

    class Params:
        county_bureau = factory.Trait(kind=Organisation.Kind.COUNTY_BUREAU, county=factory.SubFactory(CountyFactory))


class UserFactory(DjangoModelFactory):
    """`UserFactory(role=Role.OFFICER)` puts the user in that role's group and sets is_staff to match."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n:04d}")
    full_name = factory.Sequence(lambda n: f"测试用户{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    organisation = factory.SubFactory(OrganisationFactory)
    password = factory.LazyFunction(_password_hash)

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if not extracted:
            return
        role = Role(extracted)
        self.is_staff = role in STAFF_ROLES
        if create:
            # The groups exist after migrate; get_or_create only guards a test that removed one.
            group, _created = Group.objects.get_or_create(name=role.value)
            self.groups.add(group)
            self.save(update_fields=["is_staff"])
        self.__dict__.pop("_roles_cache", None)


class ProviderFactory(DjangoModelFactory):
    class Meta:
        model = Provider
        skip_postgeneration_save = True

    organisation = factory.SubFactory(OrganisationFactory, kind=Organisation.Kind.PROVIDER)
    name = factory.Sequence(lambda n: f"测试数字科技有限公司{n:04d}")
    # Tag "P" keeps the series apart from the enterprises' and from seed_demo's codes.
    uscc = factory.Sequence(lambda n: sequential_uscc(n, city_division_code(settings.PORTAL_COUNTIES), tag="P"))
    legal_representative = "张伟"
    county = factory.SubFactory(CountyFactory)
    address = factory.LazyAttribute(lambda o: f"{settings.PORTAL_CITY_NAME}{o.county.name}建设路1号")
    provider_type = ProviderType.INTEGRATED
    # Most tests need a provider that may work for pilot enterprises; pass status= for the other standings.
    status = ProviderStatus.IN_POOL

    @factory.post_generation
    def scenarios(self, create, extracted, **kwargs):
        _set_scenarios(self, create, extracted)


class PilotEnterpriseFactory(DjangoModelFactory):
    class Meta:
        model = PilotEnterprise

    organisation = factory.SubFactory(OrganisationFactory, kind=Organisation.Kind.ENTERPRISE)
    name = factory.Sequence(lambda n: f"测试制造有限公司{n:04d}")
    uscc = factory.LazyAttributeSequence(lambda o, n: sequential_uscc(n, o.county.code, tag="E"))
    county = factory.SubFactory(CountyFactory)
    industry = "制造业"
    sub_industry = "装备制造"
    size = EnterpriseSize.SMALL
    baseline_level = 1


class ServiceContractFactory(DjangoModelFactory):
    class Meta:
        model = ServiceContract
        skip_postgeneration_save = True

    number = factory.Sequence(lambda n: f"TEST-2026-{n:04d}")
    provider = factory.SubFactory(ProviderFactory)
    enterprise = factory.SubFactory(PilotEnterpriseFactory)
    title = "设备改造数字化转型服务项目"
    amount = Decimal("300000.00")
    subsidy = Decimal("100000.00")
    advance_payment = Decimal("0.00")
    start_on = date(2026, 3, 1)
    end_on = date(2026, 9, 30)
    status = ContractStatus.DRAFT

    @factory.post_generation
    def scenarios(self, create, extracted, **kwargs):
        _set_scenarios(self, create, extracted)
