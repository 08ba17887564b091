"""Factories for the public portal's tests: blacklist entries, pool providers with products and contracts,
excellent-provider batches and announcements."""

import itertools
from datetime import date, timedelta
from decimal import Decimal

import factory
from django.conf import settings
from django.utils import timezone
from factory.django import DjangoModelFactory

from enterprises.models import ContractStatus
from evaluations.models import BlacklistEntry, ExcellentBatch, ExcellentEntry, RevocationCase, RevocationStatus
from providers.models import Product, ProviderStatus
from tangshan_portal.grounds import cite_art13
from tangshan_portal.models import Announcement
from tangshan_portal.roles import Role
from tests.factories import PilotEnterpriseFactory, ProviderFactory, ServiceContractFactory, UserFactory

_numbers = itertools.count(1)


def blacklist_entry(
    *,
    name=None,
    provider=None,
    ground=4,
    decided_on=None,
    status=BlacklistEntry.Status.PUBLISHED,
    removed_at=None,
    removal_reason="申诉成立：整改记录系误录",
):
    """An entry as an approved revocation publishes it, written directly so that a test controls every field."""
    n = next(_numbers)
    provider = provider or ProviderFactory(
        status=ProviderStatus.REVOKED, **({"name": name} if name else {"name": f"黑名单科技有限公司{n:03d}"})
    )
    now = timezone.now()
    number = f"唐工信〔2026〕{1000 + n}号"
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
    removed = status == BlacklistEntry.Status.REMOVED
    return BlacklistEntry.objects.create(
        revocation=revocation,
        provider=provider,
        provider_name=provider.name,
        uscc=provider.uscc,
        ground=ground,
        ground_wording=cite_art13(ground),
        decision_number=number,
        decided_on=decided_on or date(2026, 1, 1) + timedelta(days=n % 300),
        authority=settings.PORTAL_AUTHORITY_NAME,
        remedy="可在公告之日起15日内申诉。",
        status=status,
        published_at=now,
        removed_at=(removed_at or now) if removed else None,
        removal_reason=removal_reason if removed else "",
    )


class ProductFactory(DjangoModelFactory):
    class Meta:
        model = Product
        skip_postgeneration_save = True

    provider = factory.SubFactory(ProviderFactory)
    name = factory.Sequence(lambda n: f"设备联网采集套件{n:03d}")
    functions = "设备数据采集、边缘计算、可视化看板"
    unit = "套"
    list_price = Decimal("58000.00")

    @factory.post_generation
    def scenarios(self, create, extracted, **kwargs):
        if create and extracted:
            self.scenarios.set(extracted)


def pool_provider(*, name=None, scenarios=(), products=(), served=(), **kwargs):
    """An in-pool provider with its scenarios, products (by name) and a signed contract in each county served."""
    provider = ProviderFactory(**({"name": name} if name else {}), **kwargs)
    if scenarios:
        provider.scenarios.set(scenarios)
    for product in products:
        ProductFactory(provider=provider, name=product)
    for county in served:
        ServiceContractFactory(
            provider=provider, enterprise=PilotEnterpriseFactory(county=county), status=ContractStatus.SIGNED
        )
    return provider


def excellent_batch(*, providers=(), status=ExcellentBatch.Status.DRAFT, name="2026年第一批优秀服务商", by=None):
    published = status == ExcellentBatch.Status.PUBLISHED
    batch = ExcellentBatch.objects.create(
        name=name,
        period_start=date(2026, 1, 1),
        period_end=date(2026, 6, 30),
        status=status,
        document_number="唐工信〔2026〕88号" if published else "",
        published_at=timezone.now() if published else None,
        published_by=by if published else None,
    )
    for rank, provider in enumerate(providers, start=1):
        ExcellentEntry.objects.create(
            batch=batch,
            provider=provider,
            rank=rank,
            score=Decimal("95.50") - rank,
            citation=f"服务试点企业满意度高（第{rank}名）",
        )
    return batch


def announcement(*, title="关于资源池动态调整的通知", state="published", category=Announcement.Category.NOTICE, **kw):
    now = timezone.now()
    return Announcement.objects.create(
        title=title,
        category=category,
        body=kw.pop("body", "根据管理规范，现将有关事项通知如下。"),
        published_at=kw.pop("published_at", now if state in ("published", "withdrawn") else None),
        withdrawn_at=now if state == "withdrawn" else None,
        withdrawal_reason="发布内容有误，已更正" if state == "withdrawn" else "",
        created_by=kw.pop("created_by", None) or UserFactory(role=Role.OFFICER),
        **kw,
    )
