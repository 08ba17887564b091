"""Factories for diagnosis, dossier surveys, matchmaking events and training (Art 4, 5, 6(2), 7)."""

from datetime import date
from decimal import Decimal

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from enterprises.models import (
    ContractStatus,
    CooperationIntention,
    DiagnosisFinding,
    DiagnosisReport,
    DossierSurvey,
    EventAttendance,
    MatchmakingEvent,
    TrainingAttendance,
    TrainingSession,
    TrainingTopic,
)
from tangshan_portal.models import Organisation, Scenario
from tangshan_portal.roles import Role
from tests.factories import (
    CountyFactory,
    OrganisationFactory,
    PilotEnterpriseFactory,
    ProviderFactory,
    ServiceContractFactory,
    UserFactory,
)


def scenario(code):
    return Scenario.objects.get(code=code)


def provider_staff(provider, **kwargs):
    return UserFactory(role=Role.PROVIDER, organisation=provider.organisation, **kwargs)


def enterprise_staff(enterprise, **kwargs):
    return UserFactory(role=Role.ENTERPRISE, organisation=enterprise.organisation, **kwargs)


def county_staff(county, **kwargs):
    organisation = OrganisationFactory(kind=Organisation.Kind.COUNTY_BUREAU, county=county)
    return UserFactory(role=Role.COUNTY, organisation=organisation, **kwargs)


def active_contract(provider, enterprise, **kwargs):
    kwargs.setdefault("status", ContractStatus.IN_PROGRESS)
    return ServiceContractFactory(provider=provider, enterprise=enterprise, **kwargs)


class DiagnosisReportFactory(DjangoModelFactory):
    class Meta:
        model = DiagnosisReport

    enterprise = factory.SubFactory(PilotEnterpriseFactory)
    provider = factory.SubFactory(ProviderFactory)
    diagnosed_on = date(2026, 3, 10)
    summary = "企业设备联网率低，生产数据靠人工记录，建议优先开展设备改造与计划调度数字化。"
    created_by = factory.LazyAttribute(lambda o: provider_staff(o.provider))


class DiagnosisFindingFactory(DjangoModelFactory):
    class Meta:
        model = DiagnosisFinding

    report = factory.SubFactory(DiagnosisReportFactory)
    scenario = factory.LazyFunction(lambda: scenario("equipment-retrofit"))
    current_state = "关键设备未联网，停机原因无记录。"
    recommendation = "加装数据采集终端，建设设备管理系统。"
    priority = DiagnosisFinding.Priority.HIGH


class DossierSurveyFactory(DjangoModelFactory):
    class Meta:
        model = DossierSurvey

    contract = factory.SubFactory(ServiceContractFactory, status=ContractStatus.IN_PROGRESS)
    enterprise = factory.SelfAttribute("contract.enterprise")
    surveyed_on = date(2026, 4, 1)
    production_process = "下料—机加工—热处理—装配—检测，共 5 道主工序。"
    supply_chain = "主要供应商 12 家，客户以主机厂为主。"
    intellectual_property = "实用新型专利 3 项。"
    other_core_information = ""
    created_by = factory.LazyAttribute(lambda o: provider_staff(o.contract.provider))


class MatchmakingEventFactory(DjangoModelFactory):
    class Meta:
        model = MatchmakingEvent

    county = factory.SubFactory(CountyFactory)
    title = factory.Sequence(lambda n: f"中小企业数字化转型供需对接会第{n}场")
    held_on = date(2026, 5, 20)
    venue = "区政务服务中心三楼会议室"
    description = "服务商现场展示解决方案，试点企业提出改造需求。"
    created_by = factory.LazyAttribute(lambda o: county_staff(o.county))


class EventAttendanceFactory(DjangoModelFactory):
    class Meta:
        model = EventAttendance

    event = factory.SubFactory(MatchmakingEventFactory)
    provider = None
    enterprise = None
    attended = True
    registered_by = factory.LazyAttribute(lambda o: o.event.created_by)
    registered_at = factory.LazyFunction(timezone.now)


class CooperationIntentionFactory(DjangoModelFactory):
    class Meta:
        model = CooperationIntention

    event = factory.SubFactory(MatchmakingEventFactory)
    provider = factory.SubFactory(ProviderFactory)
    enterprise = factory.SubFactory(PilotEnterpriseFactory)
    note = "双方同意先开展设备联网诊断。"
    status = CooperationIntention.Status.PROPOSED
    proposed_by = factory.LazyAttribute(lambda o: provider_staff(o.provider))
    proposed_at = factory.LazyFunction(timezone.now)


class TrainingSessionFactory(DjangoModelFactory):
    class Meta:
        model = TrainingSession

    provider = factory.SubFactory(ProviderFactory)
    title = factory.Sequence(lambda n: f"数字化工具应用培训第{n}期")
    topics = factory.LazyFunction(lambda: [TrainingTopic.DIGITAL_TOOLS.value, TrainingTopic.DATA_SECURITY.value])
    held_on = date(2026, 4, 15)
    hours = Decimal("3.0")
    county = factory.SubFactory(CountyFactory)
    venue = "企业培训中心"
    description = "工业软件基础操作与数据安全常识。"
    created_by = factory.LazyAttribute(lambda o: provider_staff(o.provider))


class TrainingAttendanceFactory(DjangoModelFactory):
    class Meta:
        model = TrainingAttendance

    session = factory.SubFactory(TrainingSessionFactory)
    enterprise = factory.SubFactory(PilotEnterpriseFactory)
    attendees = 3
    names = "王芳\n李强\n赵敏"
