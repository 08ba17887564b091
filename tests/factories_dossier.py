"""Factories for what the one-enterprise-one-dossier page gathers (Art 6(2)). The pages that create these rows
are built by other engineers, so the tests write them directly, in states the services would leave."""

from datetime import date, timedelta
from decimal import Decimal

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from complaints.models import Complaint, ComplaintCategory, ComplaintStatus
from enterprises.models import (
    ChangeRequest,
    ContractStatus,
    CooperationIntention,
    DiagnosisFinding,
    DiagnosisReport,
    DossierSurvey,
    FeeConsequence,
    InternalAcceptance,
    MatchmakingEvent,
    Milestone,
    ProgressReport,
    TrainingAttendance,
    TrainingSession,
    TrainingTopic,
)
from evaluations.models import AssessorAssignment, LevelAssessment, LevelStandard
from tangshan_portal.models import Organisation, Scenario
from tests.factories import (
    CountyFactory,
    OrganisationFactory,
    PilotEnterpriseFactory,
    ServiceContractFactory,
    UserFactory,
)


def _scenario(family=None):
    scenarios = Scenario.objects.order_by("sort_order", "code")
    if family is not None:
        scenarios = scenarios.filter(family=family)
    return scenarios.first()


class SignedContractFactory(ServiceContractFactory):
    status = ContractStatus.IN_PROGRESS
    signed_on = date(2026, 2, 20)
    submitted_at = factory.LazyFunction(timezone.now)
    nda_signed_on = date(2026, 2, 20)


class MilestoneFactory(DjangoModelFactory):
    class Meta:
        model = Milestone

    contract = factory.SubFactory(SignedContractFactory)
    name = factory.Sequence(lambda n: f"里程碑{n}")
    planned_on = date(2026, 6, 30)
    weight = 50
    reported_progress = 0


class ProgressReportFactory(DjangoModelFactory):
    class Meta:
        model = ProgressReport

    milestone = factory.SubFactory(MilestoneFactory)
    contract = factory.SelfAttribute("milestone.contract")
    progress = 40
    summary = "完成设备联网调试。"
    status = ProgressReport.Status.SUBMITTED
    submitted_by = factory.SubFactory(UserFactory)
    submitted_at = factory.LazyFunction(timezone.now)


class ChangeRequestFactory(DjangoModelFactory):
    class Meta:
        model = ChangeRequest

    contract = factory.SubFactory(SignedContractFactory)
    description = "延长工期一个月。"
    reason = "设备到货延迟。"
    proposed_by = factory.SubFactory(UserFactory)
    proposed_at = factory.LazyFunction(timezone.now)


class InternalAcceptanceFactory(DjangoModelFactory):
    class Meta:
        model = InternalAcceptance

    contract = factory.SubFactory(SignedContractFactory, status=ContractStatus.INTERNALLY_ACCEPTED)
    held_on = date(2026, 9, 20)
    participants = "双方项目负责人"
    conclusion = "系统运行正常，同意通过内部验收。"
    status = InternalAcceptance.Status.SIGNED
    provider_signed_by = factory.SubFactory(UserFactory)
    provider_signed_at = factory.LazyFunction(timezone.now)
    enterprise_signed_by = factory.SubFactory(UserFactory)
    enterprise_signed_at = factory.LazyFunction(timezone.now)


class FeeConsequenceFactory(DjangoModelFactory):
    class Meta:
        model = FeeConsequence

    contract = factory.SubFactory(SignedContractFactory, status=ContractStatus.FAILED)
    cause = FeeConsequence.Cause.FAILED_ACCEPTANCE
    decision_reference = ""
    fee_withheld = True
    advance_recoverable = Decimal("50000.00")
    decided_at = factory.LazyFunction(timezone.now)


class DiagnosisReportFactory(DjangoModelFactory):
    class Meta:
        model = DiagnosisReport

    enterprise = factory.SubFactory(PilotEnterpriseFactory)
    provider = factory.SubFactory("tests.factories.ProviderFactory")
    diagnosed_on = date(2026, 1, 15)
    summary = "企业设备联网率低，生产计划依赖人工排产。"
    status = DiagnosisReport.Status.SUBMITTED
    created_by = factory.SubFactory(UserFactory)
    submitted_at = factory.LazyFunction(timezone.now)


class DiagnosisFindingFactory(DjangoModelFactory):
    class Meta:
        model = DiagnosisFinding

    report = factory.SubFactory(DiagnosisReportFactory)
    scenario = factory.LazyFunction(_scenario)
    current_state = "关键设备未联网。"
    recommendation = "加装数据采集网关。"
    priority = DiagnosisFinding.Priority.HIGH


class DossierSurveyFactory(DjangoModelFactory):
    class Meta:
        model = DossierSurvey

    contract = factory.SubFactory(SignedContractFactory)
    enterprise = factory.SelfAttribute("contract.enterprise")
    surveyed_on = date(2026, 3, 10)
    production_process = "冲压—焊接—涂装—总装四道工序。"
    supply_chain = "主要钢材供应商三家，年采购额约八千万元。"
    intellectual_property = "发明专利两项。"
    created_by = factory.SubFactory(UserFactory)


class MatchmakingEventFactory(DjangoModelFactory):
    class Meta:
        model = MatchmakingEvent

    county = factory.SubFactory(CountyFactory)
    title = factory.Sequence(lambda n: f"供需对接会第{n}场")
    held_on = date(2026, 1, 8)
    venue = "区政务服务中心"
    created_by = factory.SubFactory(UserFactory)


class CooperationIntentionFactory(DjangoModelFactory):
    class Meta:
        model = CooperationIntention
        skip_postgeneration_save = True

    event = factory.SubFactory(MatchmakingEventFactory)
    provider = factory.SubFactory("tests.factories.ProviderFactory")
    enterprise = factory.SubFactory(PilotEnterpriseFactory)
    note = "就设备联网改造达成合作意向。"
    status = CooperationIntention.Status.CONFIRMED
    proposed_by = factory.SubFactory(UserFactory)
    proposed_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def scenarios(self, create, extracted, **kwargs):
        if create and extracted:
            self.scenarios.set(extracted)


class TrainingSessionFactory(DjangoModelFactory):
    class Meta:
        model = TrainingSession

    provider = factory.SubFactory("tests.factories.ProviderFactory")
    title = factory.Sequence(lambda n: f"数据安全意识培训{n}")
    topics = factory.LazyFunction(lambda: [TrainingTopic.DATA_SECURITY.value])
    held_on = date(2026, 2, 5)
    hours = Decimal("2.0")
    venue = "企业会议室"
    created_by = factory.SubFactory(UserFactory)


class TrainingAttendanceFactory(DjangoModelFactory):
    class Meta:
        model = TrainingAttendance

    session = factory.SubFactory(TrainingSessionFactory)
    enterprise = factory.SubFactory(PilotEnterpriseFactory)
    attendees = 12


class InstitutionFactory(OrganisationFactory):
    kind = Organisation.Kind.INSTITUTION
    name = factory.Sequence(lambda n: f"测评支撑机构{n:04d}")


class AssessorAssignmentFactory(DjangoModelFactory):
    class Meta:
        model = AssessorAssignment

    institution = factory.SubFactory(InstitutionFactory)
    enterprise = factory.SubFactory(PilotEnterpriseFactory)
    assigned_by = factory.SubFactory(UserFactory)
    assigned_at = factory.LazyFunction(timezone.now)


class LevelAssessmentFactory(DjangoModelFactory):
    """A final assessment, as assessment_finalise leaves it."""

    class Meta:
        model = LevelAssessment

    enterprise = factory.SubFactory(PilotEnterpriseFactory)
    kind = LevelAssessment.Kind.BASELINE
    standard = factory.LazyFunction(lambda: LevelStandard.objects.get(is_current=True))
    institution = factory.SubFactory(InstitutionFactory)
    assessed_on = date(2026, 1, 20)
    total_score = Decimal("42.5")
    level = 1
    status = LevelAssessment.Status.FINAL
    created_by = factory.SubFactory(UserFactory)
    finalised_at = factory.LazyFunction(timezone.now)


class ComplaintFactory(DjangoModelFactory):
    class Meta:
        model = Complaint

    contract = factory.SubFactory(SignedContractFactory)
    enterprise = factory.SelfAttribute("contract.enterprise")
    provider = factory.SelfAttribute("contract.provider")
    category = factory.LazyFunction(lambda: ComplaintCategory.values[0])
    description = "服务团队长期不到岗。"
    submitted_by = factory.SubFactory(UserFactory)
    submitted_at = factory.LazyFunction(timezone.now)
    acknowledge_by = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=5))
    resolve_by = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=30))
    status = ComplaintStatus.SUBMITTED
