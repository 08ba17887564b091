"""Factories and helpers for the contract lifecycle tests: catalogue products, a complete draft, files."""

from datetime import date
from decimal import Decimal

import factory
from django.core.files.uploadedfile import SimpleUploadedFile
from factory.django import DjangoModelFactory

from enterprises.models import ContractStatus, Milestone, ProcurementItem
from providers.models import Product
from tangshan_portal.roles import Role
from tests.factories import PilotEnterpriseFactory, ProviderFactory, ServiceContractFactory, UserFactory

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"

PLAN = {
    "plan_goals": "完成设备联网与生产数据采集，数字化水平达到二级。",
    "plan_content": "MES 系统选型、采购、安装与调试；20 台设备联网。",
    "plan_process": "调研—方案—部署—试运行—验收。",
    "plan_deliverables": "MES 系统、设备联网清单、操作手册。",
    "quality_control": "每月质量评估会，问题清单闭环管理。",
    "maintenance_commitment": "试点结束后提供三年运维服务。",
}


def pdf(name="文件.pdf", content=PDF):
    return SimpleUploadedFile(name, content, "application/pdf")


class ProductFactory(DjangoModelFactory):
    class Meta:
        model = Product

    provider = factory.SubFactory(ProviderFactory)
    name = factory.Sequence(lambda n: f"工业互联网平台许可{n:03d}")
    functions = "设备接入、数据采集、看板"
    unit = "套"
    list_price = Decimal("10000.00")


class DraftContractFactory(ServiceContractFactory):
    """A draft with its whole service plan and a confidentiality agreement date (no file: use the service to
    file one when a test needs it)."""

    enterprise = factory.SubFactory(PilotEnterpriseFactory)
    status = ContractStatus.DRAFT
    plan_goals = PLAN["plan_goals"]
    plan_content = PLAN["plan_content"]
    plan_process = PLAN["plan_process"]
    plan_deliverables = PLAN["plan_deliverables"]
    quality_control = PLAN["quality_control"]
    maintenance_commitment = PLAN["maintenance_commitment"]
    nda_signed_on = date(2026, 2, 20)


def complete_draft(**kwargs):
    """A draft that contract_signing_problems finds nothing wrong with: plan, NDA date, milestones weighing
    60 + 40 and one procurement line."""
    contract = DraftContractFactory(**kwargs)
    Milestone.objects.create(contract=contract, name="设备联网", planned_on=date(2026, 5, 31), weight=60)
    Milestone.objects.create(contract=contract, name="系统上线", planned_on=date(2026, 9, 15), weight=40)
    ProcurementItem.objects.create(
        contract=contract,
        name="MES 系统",
        function="生产计划与执行管理",
        purpose="计划调度数字化",
        quantity=Decimal("1"),
        unit="套",
        unit_price=Decimal("120000.00"),
        reference_price=Decimal("110000.00"),
    )
    return contract


def provider_staff(provider, **kwargs):
    return UserFactory(role=Role.PROVIDER, organisation=provider.organisation, **kwargs)


def enterprise_staff(enterprise, **kwargs):
    return UserFactory(role=Role.ENTERPRISE, organisation=enterprise.organisation, **kwargs)
