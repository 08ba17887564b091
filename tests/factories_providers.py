"""Factories and helpers for the provider registry's tests: applications, registration changes, products."""

import itertools
from datetime import date, datetime, time
from decimal import Decimal

import factory
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from factory.django import DjangoModelFactory

from evaluations.models import BlacklistEntry, RevocationCase, RevocationStatus
from providers import services
from providers.models import Product, ProviderType, RegistrationChange
from tangshan_portal.demo import city_division_code, sequential_uscc
from tangshan_portal.grounds import cite_art13
from tangshan_portal.models import Scenario
from tests.factories import ProviderFactory, UserFactory

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
PASSWORD = "Ts-apply-2026-secure"

_numbers = itertools.count(1)


def new_uscc():
    # Tag "A" keeps the applicants' codes apart from the providers' ("P") and enterprises' ("E") series.
    return sequential_uscc(next(_numbers), city_division_code(settings.PORTAL_COUNTIES), tag="A")


def pdf(name="营业执照.pdf"):
    return SimpleUploadedFile(name, PDF, "application/pdf")


def company_data(**overrides):
    """The company part of an application (providers.services.APPLICATION_FIELDS)."""
    data = {
        "name": "唐山智造数字科技有限公司",
        "uscc": new_uscc(),
        "legal_representative": "李明",
        "address": "唐山市路北区建设北路100号",
        "business_scope": "软件开发；信息系统集成服务；工业互联网数据服务",
        "registered_capital": Decimal("1000.00"),
        "provider_type": ProviderType.INTEGRATED,
        "county": None,
        "qualifications": "ISO 9001 质量管理体系认证\nCMMI 3 级",
        "products": "设备联网与数据采集平台；MES 生产执行系统",
        "reference_cases": "为唐山某钢铁企业实施设备联网改造",
        "contact_name": "王芳",
        "contact_phone": "0315-1234567",
        "contact_email": "contact@example.com",
    }
    data.update(overrides)
    return data


def submit_application(*, username=None, scenarios=None, attachments=None, **overrides):
    """An application submitted through the service, as the public form does."""
    username = username or f"applicant{next(_numbers)}"
    scenarios = list(Scenario.objects.order_by("sort_order")[:2]) if scenarios is None else scenarios
    return services.application_submit(
        account={"username": username, "full_name": "李明", "phone": "13800000000", "email": f"{username}@example.com"},
        data=company_data(**overrides),
        scenarios=scenarios,
        attachments=[pdf()] if attachments is None else attachments,
        password=PASSWORD,
    )


def blacklist(provider, *, status=BlacklistEntry.Status.PUBLISHED):
    """A blacklist entry for `provider` as an approved revocation publishes it (the provider's standing is left
    as it is, so that a test can tell the blacklist apart from the revoked standing)."""
    now = timezone.now()
    number = f"唐工信〔2026〕{next(_numbers) + 500}号"
    revocation = RevocationCase.objects.create(
        provider=provider,
        ground=5,
        finding="伪造服务合同套取资金",
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
        ground=5,
        ground_wording=cite_art13(5),
        decision_number=number,
        decided_on=timezone.localdate(),
        authority=settings.PORTAL_AUTHORITY_NAME,
        remedy="可在公告之日起15日内申诉。",
        status=status,
        published_at=now,
        removed_at=now if status == BlacklistEntry.Status.REMOVED else None,
        removal_reason="申诉成立" if status == BlacklistEntry.Status.REMOVED else "",
    )


def local_moment(day, hour=10):
    """A moment on `day` in the portal's time zone."""
    return timezone.make_aware(datetime.combine(day, time(hour)), timezone.get_default_timezone())


class RegistrationChangeFactory(DjangoModelFactory):
    """A registration change with the dates a test constructs (the services stamp `recorded_at` with now)."""

    class Meta:
        model = RegistrationChange

    provider = factory.SubFactory(ProviderFactory)
    field = "address"
    old_value = "唐山市路北区建设北路1号"
    new_value = "唐山市路南区新华道2号"
    changed_on = date(2026, 3, 2)
    source = RegistrationChange.Source.REGISTRY
    status = factory.LazyAttribute(
        lambda o: (
            RegistrationChange.Status.RECORDED
            if o.source == RegistrationChange.Source.REGISTRY
            else RegistrationChange.Status.REPORTED
        )
    )
    recorded_by = factory.SubFactory(UserFactory)
    recorded_at = factory.LazyAttribute(lambda o: local_moment(o.changed_on))


class ProductFactory(DjangoModelFactory):
    class Meta:
        model = Product
        skip_postgeneration_save = True

    provider = factory.SubFactory(ProviderFactory)
    name = factory.Sequence(lambda n: f"设备联网采集套件{n:03d}")
    functions = "设备数据采集、边缘计算、可视化看板"
    unit = "套"
    list_price = Decimal("100.00")
