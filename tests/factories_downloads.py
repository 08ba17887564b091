"""Factories and helpers for the bulk-download and OCDS tests: blacklist entries in each state, pool providers
with products and scenarios, contracts with a procurement list, milestones and change requests."""

import csv
import io
import itertools
import json
from datetime import date, timedelta
from decimal import Decimal

import openpyxl
from django.utils import timezone

from enterprises.models import ChangeRequest, ContractStatus, Milestone, ProcurementItem
from tangshan_portal.models import Scenario
from tangshan_portal.roles import Role
from tests.factories import PilotEnterpriseFactory, ProviderFactory, ServiceContractFactory, UserFactory
from tests.factories_contracts import ProductFactory
from tests.factories_public import blacklist_entry  # noqa: F401 (the downloads tests take it from here)

_numbers = itertools.count(1)


def pool_provider(
    *, name=None, scenarios=("equipment-retrofit",), products=(("工业互联网平台许可", "10000.00"),), **kw
):
    """A provider in the resource pool with active products (name, list price) and scenarios (codes)."""
    provider = ProviderFactory(name=name or f"资源池数字科技有限公司{next(_numbers):04d}", **kw)
    if scenarios:
        provider.scenarios.set(Scenario.objects.filter(code__in=scenarios))
    for product_name, price in products:
        ProductFactory(provider=provider, name=product_name, list_price=Decimal(price), unit="套")
    return provider


def contract(*, status=ContractStatus.SIGNED, provider=None, enterprise=None, items=1, milestones=2, **kwargs):
    """A contract in the given state with a procurement list and milestones, written directly (the services'
    rules are tested elsewhere; here only what the package publishes matters)."""
    made = ServiceContractFactory(
        status=status,
        provider=provider or ProviderFactory(),
        enterprise=enterprise or PilotEnterpriseFactory(),
        signed_on=None if status == ContractStatus.DRAFT else date(2026, 2, 25),
        **kwargs,
    )
    for i in range(items):
        ProcurementItem.objects.create(
            contract=made,
            name=f"MES 系统模块{i + 1}",
            function="生产计划与执行管理",
            purpose="计划调度数字化",
            quantity=Decimal("2"),
            unit="套",
            unit_price=Decimal("60000.00"),
        )
    for i in range(milestones):
        Milestone.objects.create(
            contract=made, name=f"里程碑{i + 1}", planned_on=date(2026, 5, 31) + timedelta(days=90 * i), weight=50
        )
    return made


def agreed_change(contract, *, new_end_on=None, new_amount=None):
    now = timezone.now()
    user = UserFactory(role=Role.ENTERPRISE, organisation=contract.enterprise.organisation)
    return ChangeRequest.objects.create(
        contract=contract,
        description="增加设备联网数量",
        reason="企业新增产线",
        new_end_on=new_end_on,
        new_amount=new_amount,
        previous_end_on=contract.end_on if new_end_on else None,
        previous_amount=contract.amount if new_amount else None,
        status=ChangeRequest.Status.AGREED,
        proposed_by=user,
        proposed_at=now,
        decided_by=user,
        decided_at=now,
    )


# --- Reading the files back ------------------------------------------------------------------------------------


def body(response):
    return b"".join(response.streaming_content) if response.streaming else response.content


def read_csv(response):
    data = body(response)
    assert data.startswith(b"\xef\xbb\xbf"), "CSV must start with a UTF-8 byte-order mark"
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def read_xlsx(response):
    return openpyxl.load_workbook(io.BytesIO(body(response)))


def read_json(response):
    return json.loads(body(response))
