"""Factories and helpers for digital-level assessments (Art 6(1), 9): institutions, assessors, assignments, and
score sheets that add up to a chosen total with chosen scenario levels."""

from datetime import date
from decimal import Decimal

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from enterprises.models import ContractStatus
from evaluations import services_levels
from evaluations.models import AssessorAssignment, LevelAssessment, LevelStandard
from tangshan_portal.models import Organisation
from tangshan_portal.roles import Role
from tests.factories import OrganisationFactory, PilotEnterpriseFactory, ServiceContractFactory, UserFactory


class InstitutionFactory(OrganisationFactory):
    name = factory.Sequence(lambda n: f"测试评测机构{n:04d}")
    kind = Organisation.Kind.INSTITUTION


def assessor_of(institution, **kwargs):
    return UserFactory(role=Role.ASSESSOR, organisation=institution, **kwargs)


class AssignmentFactory(DjangoModelFactory):
    """An assignment written directly (the tests of assessor_assign go through the service)."""

    class Meta:
        model = AssessorAssignment

    institution = factory.SubFactory(InstitutionFactory)
    enterprise = factory.SubFactory(PilotEnterpriseFactory)
    assigned_by = factory.SubFactory(UserFactory, role=Role.OFFICER)
    assigned_at = factory.LazyFunction(timezone.now)


def accepted_internally(enterprise, **kwargs):
    """A contract of the enterprise awaiting evaluation acceptance."""
    return ServiceContractFactory(
        enterprise=enterprise,
        status=ContractStatus.INTERNALLY_ACCEPTED,
        advance_payment=kwargs.pop("advance_payment", Decimal("60000.00")),
        **kwargs,
    )


def current_standard():
    return LevelStandard.objects.get(is_current=True)


def item_points(standard, total):
    """{item_id: points} filling the indicators in order up to their maximum until `total` is reached."""
    remaining = Decimal(str(total))
    points = {}
    for item in standard.items.order_by("sort_order"):
        share = min(item.max_points, remaining)
        points[item.pk] = share
        remaining -= share
    assert remaining == 0, f"{total} is more than the standard's maximum"
    return points


def scenario_levels(standard, *levels):
    """{scenario_id: level}: the given levels for the first scenarios, 0 (not applicable) for the rest."""
    scenarios = list(standard.scenarios.order_by("sort_order"))
    return {scenario.pk: (levels[i] if i < len(levels) else 0) for i, scenario in enumerate(scenarios)}


def open_assessment(assessor, enterprise, *, kind=LevelAssessment.Kind.BASELINE, contract=None, on=None):
    return services_levels.assessment_create(
        enterprise=enterprise, by=assessor, kind=kind, contract=contract, assessed_on=on or date(2026, 5, 4)
    )


def scored(assessment, assessor, total, *levels, conclusion="现场核验"):
    standard = assessment.standard
    return services_levels.assessment_record(
        assessment=assessment,
        by=assessor,
        item_points=item_points(standard, total),
        scenario_levels=scenario_levels(standard, *levels),
        conclusion=conclusion,
    )


def final(assessment, assessor, total, *levels):
    return services_levels.assessment_finalise(assessment=scored(assessment, assessor, total, *levels), by=assessor)
