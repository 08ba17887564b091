"""Factories and a small two-county world for the open-data API tests."""

from datetime import timedelta
from types import SimpleNamespace

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory
from rest_framework.authtoken.models import Token

from complaints.models import ComplaintStatus
from enterprises.models import ContractStatus
from evaluations.models import (
    BlacklistEntry,
    ExcellentBatch,
    ExcellentEntry,
    RectificationCase,
    RectificationStatus,
    SatisfactionRating,
)
from providers.models import ProviderStatus
from tangshan_portal.models import Announcement, County, Scenario
from tangshan_portal.roles import Role
from tests.factories import (
    OrganisationFactory,
    PilotEnterpriseFactory,
    ProviderFactory,
    ServiceContractFactory,
    UserFactory,
)
from tests.factories_dossier import ComplaintFactory
from tests.factories_levels import AssignmentFactory, InstitutionFactory
from tests.factories_providers import ProductFactory
from tests.factories_providers import blacklist as blacklist_entry


class AnnouncementFactory(DjangoModelFactory):
    class Meta:
        model = Announcement

    title = factory.Sequence(lambda n: f"关于数字化服务商资源池的公告{n:03d}")
    category = Announcement.Category.NOTICE
    body = "现将有关事项公告如下。"
    published_at = factory.LazyFunction(timezone.now)
    created_by = factory.SubFactory(UserFactory, role=Role.OFFICER)


class ExcellentBatchFactory(DjangoModelFactory):
    class Meta:
        model = ExcellentBatch

    name = factory.Sequence(lambda n: f"2026年第{n}批优秀服务商")
    period_start = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=180))
    period_end = factory.LazyFunction(timezone.localdate)
    status = ExcellentBatch.Status.PUBLISHED
    document_number = factory.Sequence(lambda n: f"唐工信〔2026〕{300 + n}号")
    published_at = factory.LazyFunction(timezone.now)


class ExcellentEntryFactory(DjangoModelFactory):
    class Meta:
        model = ExcellentEntry

    batch = factory.SubFactory(ExcellentBatchFactory)
    provider = factory.SubFactory(ProviderFactory)
    rank = factory.Sequence(lambda n: n + 1)
    citation = "服务成效显著，企业满意度高。"


def token_for(user):
    return Token.objects.create(user=user).key


def token_header(key):
    return {"HTTP_AUTHORIZATION": f"Token {key}"}


def rectification_case(provider, *, by, warned=True, contract=None):
    now = timezone.now()
    return RectificationCase.objects.create(
        provider=provider,
        contract=contract,
        ground=2,
        finding="服务团队未按合同进驻企业",
        opened_by=by,
        status=RectificationStatus.WARNED if warned else RectificationStatus.DRAFT,
        warned_at=now if warned else None,
        reply_due_at=now + timedelta(days=5) if warned else None,
    )


def rating(contract, *, by, overall=SatisfactionRating.Overall.SATISFIED, stage="acceptance"):
    return SatisfactionRating.objects.create(
        contract=contract,
        stage=stage,
        overall=overall,
        comment="整体满意",
        submitted_by=by,
        submitted_at=timezone.now(),
    )


def complaint(contract, *, by, status=ComplaintStatus.ACCEPTED, protect_identity=False):
    return ComplaintFactory(
        contract=contract,
        submitted_by=by,
        status=status,
        accepted_at=None if status == ComplaintStatus.SUBMITTED else timezone.now(),
        protect_identity=protect_identity,
    )


def world():
    """Two counties, each with a provider, an enterprise and a contract between them, and in each the records
    every `/me/` endpoint serves; plus a user of every role. `w.own[role][endpoint]` is the set of ids each
    role must see (None: the role has no rule, 403)."""
    county_a, county_b = County.objects.order_by("code")[:2]
    scenario = Scenario.objects.order_by("sort_order").first()
    w = SimpleNamespace(county_a=county_a, county_b=county_b)
    w.officer = UserFactory(role=Role.OFFICER)
    w.provider_a = ProviderFactory(county=county_a, scenarios=[scenario])
    w.provider_b = ProviderFactory(county=county_b)
    w.enterprise_a = PilotEnterpriseFactory(county=county_a)
    w.enterprise_b = PilotEnterpriseFactory(county=county_b)
    w.contract_a = ServiceContractFactory(
        provider=w.provider_a, enterprise=w.enterprise_a, status=ContractStatus.IN_PROGRESS
    )
    w.contract_b = ServiceContractFactory(
        provider=w.provider_b, enterprise=w.enterprise_b, status=ContractStatus.IN_PROGRESS
    )
    # A draft the provider has not sent yet: still its own contract on its pages.
    w.draft_a = ServiceContractFactory(provider=w.provider_a, enterprise=w.enterprise_a)

    w.enterprise_user = UserFactory(role=Role.ENTERPRISE, organisation=w.enterprise_a.organisation)
    w.enterprise_user_b = UserFactory(role=Role.ENTERPRISE, organisation=w.enterprise_b.organisation)
    w.provider_user = UserFactory(role=Role.PROVIDER, organisation=w.provider_a.organisation)
    w.county_user = UserFactory(role=Role.COUNTY, organisation=OrganisationFactory(county_bureau=True, county=county_a))
    w.county_user_b = UserFactory(
        role=Role.COUNTY, organisation=OrganisationFactory(county_bureau=True, county=county_b)
    )
    w.approver = UserFactory(role=Role.APPROVER)
    w.auditor = UserFactory(role=Role.AUDITOR)
    w.sysadmin = UserFactory(role=Role.SYSADMIN)
    institution = InstitutionFactory()
    w.assessor = UserFactory(role=Role.ASSESSOR, organisation=institution)
    AssignmentFactory(institution=institution, enterprise=w.enterprise_a, assigned_by=w.officer)

    w.case_a = rectification_case(w.provider_a, by=w.officer, contract=w.contract_a)
    w.draft_case_a = rectification_case(w.provider_a, by=w.officer, warned=False)
    w.case_b = rectification_case(w.provider_b, by=w.officer)

    w.rating_a = rating(w.contract_a, by=w.enterprise_user)
    w.rating_b = rating(w.contract_b, by=w.enterprise_user_b, overall=SatisfactionRating.Overall.DISSATISFIED)

    w.complaint_a = complaint(w.contract_a, by=w.enterprise_user, protect_identity=True)
    # Not yet accepted: the provider does not learn of it.
    w.submitted_complaint_a = complaint(w.contract_a, by=w.enterprise_user, status=ComplaintStatus.SUBMITTED)
    w.complaint_b = complaint(w.contract_b, by=w.enterprise_user_b)

    every = {
        "contracts": {w.contract_a.pk, w.contract_b.pk, w.draft_a.pk},
        "cases": {w.case_a.pk, w.draft_case_a.pk, w.case_b.pk},
        "surveys": {w.rating_a.pk, w.rating_b.pk},
        "complaints": {w.complaint_a.pk, w.submitted_complaint_a.pk, w.complaint_b.pk},
    }
    county_a_records = {
        "contracts": {w.contract_a.pk, w.draft_a.pk},
        "cases": {w.case_a.pk, w.draft_case_a.pk},
        "surveys": {w.rating_a.pk},
        "complaints": {w.complaint_a.pk, w.submitted_complaint_a.pk},
    }
    w.own = {
        "enterprise": {**county_a_records, "cases": None},
        "provider": {**county_a_records, "cases": {w.case_a.pk}, "complaints": {w.complaint_a.pk}},
        "county": county_a_records,
        "county_b": {
            "contracts": {w.contract_b.pk},
            "cases": {w.case_b.pk},
            "surveys": {w.rating_b.pk},
            "complaints": {w.complaint_b.pk},
        },
        "officer": every,
        "approver": every,
        "auditor": every,
        "assessor": {"contracts": {w.contract_a.pk, w.draft_a.pk}, "cases": None, "surveys": None, "complaints": None},
        "sysadmin": {"contracts": None, "cases": None, "surveys": None, "complaints": None},
    }
    w.users = {
        "enterprise": w.enterprise_user,
        "provider": w.provider_user,
        "county": w.county_user,
        "county_b": w.county_user_b,
        "officer": w.officer,
        "approver": w.approver,
        "auditor": w.auditor,
        "assessor": w.assessor,
        "sysadmin": w.sysadmin,
    }
    return w


def public_data(n=3):
    """A few rows of every public resource: current and removed blacklist entries, pool providers with
    products, a published excellent batch and announcements."""
    entries = [blacklist_entry(ProviderFactory(status=ProviderStatus.REVOKED)) for _ in range(n)]
    removed = blacklist_entry(ProviderFactory(status=ProviderStatus.REVOKED), status=BlacklistEntry.Status.REMOVED)
    providers = [ProviderFactory() for _ in range(n)]
    for provider in providers:
        ProductFactory(provider=provider)
    batch = ExcellentBatchFactory()
    for rank, provider in enumerate(providers, start=1):
        ExcellentEntryFactory(batch=batch, provider=provider, rank=rank)
    announcements = [AnnouncementFactory() for _ in range(n)]
    return SimpleNamespace(
        entries=entries, removed=removed, providers=providers, batch=batch, announcements=announcements
    )
