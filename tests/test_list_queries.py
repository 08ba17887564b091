"""Every list page reads a fixed number of queries, however many rows it shows (issue 9: national scale).

Each case renders its page with N rows, adds 2N more and renders it again as the user the page is for: the
number of queries must not change, and the page must show the new rows (so that the count is about rows that
are really listed). A related record read row by row (an N+1) fails here."""

from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from complaints.models import Appeal, AppealType, ComplaintStatus
from dossiers.models import ConsentScope, DossierConsent
from enterprises.models import ContractStatus, EventAttendance
from evaluations.models import RevocationCase, RevocationStatus, SatisfactionRating
from providers.models import ProductPriceChange
from tangshan_portal.audit import record_event
from tangshan_portal.models import County, Notification, Scenario
from tangshan_portal.roles import Role
from tests.factories import OrganisationFactory, PilotEnterpriseFactory, ProviderFactory, UserFactory
from tests.factories_api import complaint, rating, rectification_case
from tests.factories_contracts import ServiceContractFactory
from tests.factories_outreach import (
    CooperationIntentionFactory,
    DiagnosisFindingFactory,
    DiagnosisReportFactory,
    MatchmakingEventFactory,
    TrainingAttendanceFactory,
    TrainingSessionFactory,
)
from tests.factories_providers import ProductFactory, RegistrationChangeFactory
from tests.factories_public import blacklist_entry, pool_provider

N = 2


@pytest.fixture
def w(db):
    """The users the pages are for: a provider's and an enterprise's staff (with a contract between them), an
    officer and an auditor."""
    counties = list(County.objects.order_by("code")[:3])
    w = SimpleNamespace(counties=counties, scenarios=list(Scenario.objects.order_by("sort_order")[:2]))
    w.officer = UserFactory(role=Role.OFFICER, organisation=OrganisationFactory(), username="list_officer")
    w.auditor = UserFactory(role=Role.AUDITOR, username="list_auditor")
    w.provider = ProviderFactory(county=counties[0])
    w.provider_user = UserFactory(role=Role.PROVIDER, organisation=w.provider.organisation, username="list_provider")
    w.enterprise = PilotEnterpriseFactory(county=counties[0])
    w.enterprise_user = UserFactory(
        role=Role.ENTERPRISE, organisation=w.enterprise.organisation, username="list_enterprise"
    )
    return w


def _contract(provider=None, enterprise=None, status=ContractStatus.IN_PROGRESS):
    """A contract between a new provider and a new enterprise unless given: every row has its own relations."""
    return ServiceContractFactory(
        provider=provider or ProviderFactory(),
        enterprise=enterprise or PilotEnterpriseFactory(),
        status=status,
        signed_on=date(2026, 2, 20),
    )


# --- One row of each list ---------------------------------------------------------------------------------------


def public_provider(w):
    # Scenarios, products and a county served: everything the directory shows from other tables.
    provider = pool_provider(scenarios=w.scenarios, products=["设备联网套件", "能耗监测平台"], served=w.counties[1:3])
    ProductFactory(provider=provider, name="停用产品", is_active=False)


def admin_provider(w):
    provider = ProviderFactory(county=w.counties[1])
    _contract(provider=provider)


def admin_contract(w):
    contract = _contract()
    contract.scenarios.set(w.scenarios)


def admin_case(w):
    provider = ProviderFactory()
    rectification_case(provider, by=w.officer, contract=_contract(provider=provider))


def admin_revocation(w):
    now = timezone.now()
    RevocationCase.objects.create(
        provider=ProviderFactory(),
        ground=4,
        finding="向第三方泄露试点企业生产工艺数据。",
        source=RevocationCase.Source.OFFICER,
        proposed_by=w.officer,
        status=RevocationStatus.PROPOSED,
        proposed_at=now,
        statement_due_at=now + timedelta(days=5),
    )


def admin_complaint(w):
    contract = _contract()
    complaint(contract, by=UserFactory(role=Role.ENTERPRISE, organisation=contract.enterprise.organisation))


def audit_event(w):
    record_event("login", actor=UserFactory(), obj=ProviderFactory())


def provider_case(w):
    rectification_case(w.provider, by=w.officer, contract=_contract(provider=w.provider))


def provider_complaint(w):
    contract = _contract(provider=w.provider)
    complaint(contract, by=UserFactory(role=Role.ENTERPRISE, organisation=contract.enterprise.organisation))


def provider_rating(w):
    contract = _contract(provider=w.provider)
    rating(
        contract,
        by=UserFactory(role=Role.ENTERPRISE, organisation=contract.enterprise.organisation),
        overall=SatisfactionRating.Overall.DISSATISFIED,
    )


def provider_appeal(w):
    case = rectification_case(w.provider, by=w.officer, contract=_contract(provider=w.provider))
    Appeal.objects.create(
        provider=w.provider,
        appeal_type=AppealType.OTHER,
        content_type=ContentType.objects.get_for_model(case),
        object_id=case.pk,
        grounds="整改事由与事实不符。",
        filed_by=w.provider_user,
        filed_at=timezone.now(),
    )


def provider_registration(w):
    RegistrationChangeFactory(provider=w.provider)


def provider_product(w):
    product = ProductFactory(provider=w.provider)
    product.scenarios.set(w.scenarios)
    ProductPriceChange.objects.create(
        product=product,
        old_price=product.list_price,
        new_price=product.list_price * 2,
        change_ratio=1,
        changed_by=w.provider_user,
        changed_at=timezone.now(),
    )


def provider_contract(w):
    _contract(provider=w.provider)


def provider_diagnosis(w):
    enterprise = _contract(provider=w.provider).enterprise
    report = DiagnosisReportFactory(provider=w.provider, enterprise=enterprise, created_by=w.provider_user)
    DiagnosisFindingFactory(report=report)


def provider_event(w):
    event = MatchmakingEventFactory(held_on=date(2026, 1, 10))
    EventAttendance.objects.create(
        event=event, provider=w.provider, attended=True, registered_by=event.created_by, registered_at=timezone.now()
    )
    CooperationIntentionFactory(event=event, provider=w.provider, proposed_by=w.provider_user)


def provider_training(w):
    session = TrainingSessionFactory(provider=w.provider, created_by=w.provider_user)
    TrainingAttendanceFactory(session=session)


def provider_consent(w):
    _consent(enterprise=PilotEnterpriseFactory(), grantee=w.provider)


def _consent(*, enterprise, grantee):
    DossierConsent.objects.create(
        enterprise=enterprise,
        grantee=grantee,
        purpose="准备合作方案",
        scope=[ConsentScope.LEVELS, ConsentScope.DIAGNOSES],
        granted_by=UserFactory(role=Role.ENTERPRISE, organisation=enterprise.organisation),
        granted_at=timezone.now(),
        valid_until=timezone.localdate() + timedelta(days=30),
    )


def enterprise_complaint(w):
    complaint(_contract(enterprise=w.enterprise), by=w.enterprise_user, status=ComplaintStatus.SUBMITTED)


def enterprise_rating(w):
    rating(_contract(enterprise=w.enterprise), by=w.enterprise_user)


def enterprise_contract(w):
    _contract(enterprise=w.enterprise)


def enterprise_intention(w):
    CooperationIntentionFactory(enterprise=w.enterprise)


def enterprise_training(w):
    TrainingAttendanceFactory(enterprise=w.enterprise)


def enterprise_consent(w):
    _consent(enterprise=w.enterprise, grantee=ProviderFactory())


def notification(w):
    Notification.objects.create(
        recipient_user=w.provider_user,
        kind="list",
        subject="测试通知",
        body="测试通知正文",
        link="/provider/",
        dedup_key=f"list-{Notification.objects.count()}",
    )


# --- The pages --------------------------------------------------------------------------------------------------

# name: (path, who, one row, where the page lists its rows). `who` is None for the anonymous public.
PAGES = {
    "public blacklist": ("/blacklist/", None, lambda w: blacklist_entry(), "page"),
    "public blacklist API": ("/api/v1/blacklist/", None, lambda w: blacklist_entry(), "results"),
    "public provider pool": ("/providers/", None, public_provider, "page"),
    "public provider pool API": ("/api/v1/providers/", None, public_provider, "results"),
    "admin providers": ("/admin/providers/provider/", "officer", admin_provider, "cl"),
    "admin enterprises": ("/admin/enterprises/pilotenterprise/", "officer", lambda w: PilotEnterpriseFactory(), "cl"),
    "admin contracts": ("/admin/enterprises/servicecontract/", "officer", admin_contract, "cl"),
    "admin rectification cases": ("/admin/evaluations/rectificationcase/", "officer", admin_case, "cl"),
    "admin revocation cases": ("/admin/evaluations/revocationcase/", "officer", admin_revocation, "cl"),
    "admin complaints": ("/admin/complaints/complaint/", "officer", admin_complaint, "cl"),
    "admin blacklist entries": ("/admin/evaluations/blacklistentry/", "officer", lambda w: blacklist_entry(), "cl"),
    "admin audit events": ("/admin/portal/auditevent/", "auditor", audit_event, "cl"),
    "provider cases": ("/provider/cases/", "provider_user", provider_case, "page"),
    "provider complaints": ("/provider/complaints/", "provider_user", provider_complaint, "page"),
    "provider ratings": ("/provider/ratings/", "provider_user", provider_rating, "page"),
    "provider appeals": ("/provider/appeals/", "provider_user", provider_appeal, "page"),
    "provider registration": ("/provider/registration/", "provider_user", provider_registration, "changes"),
    "provider products": ("/provider/products/", "provider_user", provider_product, "products"),
    "provider contracts": ("/provider/contracts/", "provider_user", provider_contract, "contracts"),
    "provider diagnoses": ("/provider/diagnoses/", "provider_user", provider_diagnosis, "page"),
    "provider events": ("/provider/events/", "provider_user", provider_event, "page"),
    "provider trainings": ("/provider/training/", "provider_user", provider_training, "page"),
    "provider consents": ("/provider/consents/", "provider_user", provider_consent, "active"),
    "provider notifications": ("/notifications/", "provider_user", notification, "page"),
    "enterprise complaints": ("/enterprise/complaints/", "enterprise_user", enterprise_complaint, "page"),
    "enterprise surveys": ("/enterprise/surveys/", "enterprise_user", enterprise_rating, "ratings"),
    "enterprise contracts": ("/enterprise/contracts/", "enterprise_user", enterprise_contract, "contracts"),
    "enterprise intentions": ("/enterprise/intentions/", "enterprise_user", enterprise_intention, "intentions"),
    "enterprise trainings": ("/enterprise/trainings/", "enterprise_user", enterprise_training, "rows"),
    "enterprise consents": ("/enterprise/consents/", "enterprise_user", enterprise_consent, "active"),
}


def _render(client, path):
    # The public pages and API answers are cached for anonymous visitors: every measured request is computed.
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200, path
    return response, len(queries)


def _rows(response, where):
    if where == "results":
        return len(response.json()["results"])
    if where == "cl":
        return len(response.context["cl"].result_list)
    listed = response.context[where]
    return len(listed.object_list if where == "page" else listed)


@pytest.mark.parametrize("name", list(PAGES))
def test_list_page_queries_do_not_grow_with_its_rows(name, w, client):
    path, who, make_row, where = PAGES[name]
    if who is not None:
        client.force_login(getattr(w, who))
    for _ in range(N):
        make_row(w)
    _render(client, path)  # the first request fills per-process caches (content types, site)

    response, few = _render(client, path)
    shown = _rows(response, where)
    for _ in range(2 * N):
        make_row(w)
    response, more = _render(client, path)

    assert _rows(response, where) == shown + 2 * N, "the new rows must be on the page"
    assert more == few, f"{name}: {few} queries with {shown} rows, {more} with {shown + 2 * N}"
