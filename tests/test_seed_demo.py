"""`manage.py seed_demo`: deterministic, idempotent, complete, and never run by accident in production."""

from datetime import timedelta
from io import StringIO

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.db import transaction
from django.utils import timezone
from django_fsm import has_transition_perm
from django_fsm_log.models import StateLog
from stdnum.cn import uscc

from enterprises import selectors as enterprise_selectors
from enterprises import services as enterprise_services
from enterprises import services_outreach as outreach
from enterprises.models import (
    ChangeRequest,
    ContractStatus,
    CooperationIntention,
    DiagnosisFinding,
    DiagnosisReport,
    DossierSurvey,
    EventAttendance,
    FeeConsequence,
    InternalAcceptance,
    MatchmakingEvent,
    Milestone,
    PilotEnterprise,
    ProcurementItem,
    ProgressReport,
    ServiceContract,
    TrainingAttendance,
    TrainingSession,
)
from evaluations import selectors, services
from evaluations import services_levels as levels
from evaluations.models import (
    AssessorAssignment,
    BlacklistEntry,
    Evidence,
    ExcellentBatch,
    ExcellentEntry,
    LevelAssessment,
    RectificationCase,
    RectificationStatus,
    RevocationCase,
    RevocationStatus,
    SatisfactionRating,
)
from providers import services as provider_services
from providers.models import (
    POOL_STATUSES,
    ApplicationStatus,
    Product,
    ProductPriceChange,
    Provider,
    ProviderApplication,
    ProviderStatus,
    RegistrationChange,
)
from providers.selectors import registration_changes_unreported
from tangshan_portal import demo
from tangshan_portal.grounds import Art13Ground
from tangshan_portal.management.commands.seed_demo import LABELS
from tangshan_portal.models import Announcement, Attachment, County, DocumentSequence, Notification, Organisation, User
from tangshan_portal.roles import STAFF_ROLES, Role
from tangshan_portal.transitions import TransitionError
from tests.enforcement import at, travel
from tests.factories import ServiceContractFactory, UserFactory

pytestmark = pytest.mark.django_db

ACCOUNT_ORGANISATION_KINDS = {
    "bureau": Organisation.Kind.BUREAU,
    "county_bureau": Organisation.Kind.COUNTY_BUREAU,
    "institution": Organisation.Kind.INSTITUTION,
    "provider": Organisation.Kind.PROVIDER,
    "enterprise": Organisation.Kind.ENTERPRISE,
}


@pytest.fixture(autouse=True)
def demo_settings(settings):
    # pytest-django turns DEBUG off for every test; the seed refuses to run then, which one test checks.
    settings.DEBUG = True
    # The default PBKDF2 cost, paid for eight accounts on every seed, would make this module take minutes.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return settings


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    # The demo's signed documents (confidentiality agreements, evidence, acceptance records) are stored files.
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def seed(*args):
    out = StringIO()
    call_command("seed_demo", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def snapshot(with_secrets=True):
    """Every demo row by natural key, without primary keys or timestamps."""
    user_columns = ["username", "full_name", "email", "is_staff", "is_superuser", "is_active", "organisation__name"]
    if with_secrets:
        # The hash is salted, so it is only stable within one database: a re-run must not re-hash.
        user_columns.append("password")
    users = User.objects.order_by("username").values_list(*user_columns)
    return {
        "organisations": list(Organisation.objects.order_by("name").values_list("name", "kind", "county__code")),
        "providers": list(
            Provider.objects.order_by("uscc").values_list(
                "uscc",
                "name",
                "status",
                "provider_type",
                "legal_representative",
                "address",
                "business_scope",
                "registered_capital",
                "county__code",
                "contact_name",
                "contact_phone",
                "contact_email",
                "organisation__name",
            )
        ),
        "provider_scenarios": list(
            Provider.scenarios.through.objects.order_by("provider__uscc", "scenario__code").values_list(
                "provider__uscc", "scenario__code"
            )
        ),
        "enterprises": list(
            PilotEnterprise.objects.order_by("uscc").values_list(
                "uscc",
                "name",
                "county__code",
                "industry",
                "sub_industry",
                "size",
                "contact_name",
                "contact_phone",
                "baseline_level",
                "organisation__name",
            )
        ),
        "contracts": list(
            ServiceContract.objects.order_by("number").values_list(
                "number",
                "provider__uscc",
                "enterprise__uscc",
                "title",
                "amount",
                "subsidy",
                "advance_payment",
                "signed_on",
                "start_on",
                "end_on",
                "status",
            )
        ),
        "contract_scenarios": list(
            ServiceContract.scenarios.through.objects.order_by("servicecontract__number", "scenario__code").values_list(
                "servicecontract__number", "scenario__code"
            )
        ),
        "users": list(users),
        "memberships": list(
            User.groups.through.objects.order_by("user__username", "group__name").values_list(
                "user__username", "group__name"
            )
        ),
        **enforcement_snapshot(),
        **workflow_snapshot(),
    }


def enforcement_snapshot():
    """The Art 12–14 rows by natural key, without primary keys, dates and timestamps (they follow the day of
    seeding)."""
    return {
        "rectification_cases": sorted(
            RectificationCase.objects.values_list(
                "provider__uscc",
                "finding",
                "ground",
                "status",
                "document_number",
                "contract__number",
                "return_count",
                "opened_by__username",
                "ordered_by__username",
            )
        ),
        "revocation_cases": sorted(
            RevocationCase.objects.values_list(
                "provider__uscc", "ground", "source", "status", "proposed_by__username", "decided_by__username"
            )
        ),
        "decision_numbers": sorted(RevocationCase.objects.exclude(decision_number=None).values_list("decision_number")),
        "blacklist": sorted(BlacklistEntry.objects.values_list("uscc", "provider_name", "decision_number", "status")),
        "ratings": sorted(SatisfactionRating.objects.values_list("contract__number", "stage", "overall", "voided")),
        "milestones": sorted(Milestone.objects.values_list("contract__number", "name", "weight")),
        "fee_consequences": sorted(
            FeeConsequence.objects.values_list("contract__number", "cause", "decision_reference", "advance_recoverable")
        ),
        "evidence": Evidence.objects.count(),
        "state_log_transitions": sorted(StateLog.objects.values_list("transition", "source_state", "state")),
        "notification_kinds": sorted(Notification.objects.values_list("kind", flat=True)),
    }


def workflow_snapshot():
    """The provider-path workflow rows by natural key, without primary keys, dates and timestamps."""
    return {
        "applications": sorted(
            ProviderApplication.objects.values_list(
                "uscc",
                "name",
                "status",
                "flagged",
                "legal_representative",
                "applicant__username",
                "organisation__name",
                "provider__uscc",
                "reviewed_by__username",
                "decision_reason",
            )
        ),
        "registration_changes": sorted(
            RegistrationChange.objects.values_list(
                "provider__uscc", "field", "old_value", "new_value", "source", "status", "recorded_by__username"
            )
        ),
        "products": sorted(Product.objects.values_list("provider__uscc", "name", "unit", "list_price", "is_active")),
        "price_changes": sorted(
            ProductPriceChange.objects.values_list("product__name", "old_price", "new_price", "change_ratio", "drastic")
        ),
        "procurement": sorted(
            ProcurementItem.objects.values_list(
                "contract__number", "name", "quantity", "unit_price", "reference_price", "above_reference"
            )
        ),
        "progress_reports": sorted(
            ProgressReport.objects.values_list("contract__number", "milestone__name", "progress", "status")
        ),
        "change_requests": sorted(ChangeRequest.objects.values_list("contract__number", "status", "new_amount")),
        "internal_acceptances": sorted(InternalAcceptance.objects.values_list("contract__number", "status")),
        "assignments": sorted(AssessorAssignment.objects.values_list("institution__name", "enterprise__uscc")),
        "assessments": sorted(
            LevelAssessment.objects.values_list(
                "enterprise__uscc", "contract__number", "kind", "level", "total_score", "status", "acceptance_passed"
            ),
            key=str,
        ),
        "diagnosis_findings": sorted(
            DiagnosisFinding.objects.values_list("report__provider__uscc", "scenario__code", "priority")
        ),
        "surveys": sorted(DossierSurvey.objects.values_list("contract__number", "production_process")),
        "attendance": sorted(
            EventAttendance.objects.values_list("event__title", "provider__uscc", "enterprise__uscc", "attended"),
            key=str,
        ),
        "intentions": sorted(CooperationIntention.objects.values_list("provider__uscc", "enterprise__uscc", "status")),
        "training": sorted(TrainingAttendance.objects.values_list("session__title", "enterprise__uscc", "attendees")),
        "attachments": sorted(Attachment.objects.values_list("purpose", "original_name", "sha256")),
    }


WORKFLOW_MODELS = (
    Announcement,
    ExcellentEntry,
    ExcellentBatch,
    Attachment,
    TrainingAttendance,
    TrainingSession,
    CooperationIntention,
    EventAttendance,
    MatchmakingEvent,
    DossierSurvey,
    DiagnosisReport,
    LevelAssessment,
    AssessorAssignment,
    InternalAcceptance,
    ChangeRequest,
    ProgressReport,
    ProcurementItem,
    ProductPriceChange,
    Product,
    RegistrationChange,
    ProviderApplication,
)


def test_a_second_run_changes_nothing():
    first_output = seed()
    first = snapshot()
    second_output = seed()

    assert snapshot() == first
    assert "Demo data seeded" in first_output
    assert "already exists" in second_output
    assert "restored" not in second_output
    # The admitted demo applicant joined the pool; the workflow contracts come on top of the plan's.
    assert len(first["providers"]) == demo.N_PROVIDERS + 1
    assert len(first["enterprises"]) == demo.N_ENTERPRISES
    assert len(first["contracts"]) == len(demo.demo_plan_from_settings().contracts) + len(demo.DEMO_CONTRACTS)


ENFORCEMENT_MODELS = (
    RectificationCase,
    RevocationCase,
    BlacklistEntry,
    SatisfactionRating,
    Milestone,
    FeeConsequence,
    Evidence,
    StateLog,
    Notification,
)


def test_a_second_run_creates_no_cases_logs_or_notifications():
    seed()
    counts = {model.__name__: model.objects.count() for model in ENFORCEMENT_MODELS}
    keys = set(Notification.objects.values_list("dedup_key", flat=True))
    sequences = list(DocumentSequence.objects.values_list("prefix", "year", "last_number"))
    assert counts["RectificationCase"] and counts["StateLog"] and counts["Notification"]

    output = seed()

    assert {model.__name__: model.objects.count() for model in ENFORCEMENT_MODELS} == counts
    assert set(Notification.objects.values_list("dedup_key", flat=True)) == keys
    assert list(DocumentSequence.objects.values_list("prefix", "year", "last_number")) == sequences
    assert "整改案件 rectification cases   新建 created    0" in output


def test_the_same_rows_on_every_fresh_database():
    assert demo.demo_plan_from_settings() == demo.demo_plan_from_settings()
    fresh = transaction.savepoint()
    seed()
    first = snapshot(with_secrets=False)
    # Back to the database before the first seed by rolling back, not by deleting the rows: the audit log is
    # append-only and keeps the demo accounts whose transitions it recorded.
    transaction.savepoint_rollback(fresh)
    seed()
    assert snapshot(with_secrets=False) == first


def test_every_role_has_its_demo_account():
    output = seed()
    for account in demo.DEMO_ACCOUNTS:
        role = Role(account.role)
        user = User.objects.get(username=account.username)
        assert set(user.groups.values_list("name", flat=True)) == {role.value}
        assert user.is_staff is (role in STAFF_ROLES)
        assert not user.is_superuser
        assert user.is_active
        assert user.full_name
        assert user.check_password(django_settings.PORTAL_DEMO_PASSWORD)
        assert user.organisation.kind == ACCOUNT_ORGANISATION_KINDS[account.organisation]
        assert account.username in output
    assert {account.role for account in demo.DEMO_ACCOUNTS} == set(Role.values)
    assert User.objects.count() == len(Role) + len(demo.DEMO_APPLICATIONS)
    for application in demo.DEMO_APPLICATIONS:
        applicant = User.objects.get(username=application.username)
        assert set(applicant.groups.values_list("name", flat=True)) == {Role.PROVIDER.value}
        assert applicant.check_password(django_settings.PORTAL_DEMO_PASSWORD)
        assert application.username in output
    assert "仅供演示" in output
    assert "Demo-only credentials" in output

    county_user = User.objects.get(username="demo_county")
    assert county_user.county == County.objects.get(code=django_settings.PORTAL_COUNTIES[0][0])
    assert User.objects.get(username="demo_officer").organisation.name == django_settings.PORTAL_AUTHORITY_NAME
    # The demo provider and enterprise accounts act for a pool member and its client, so both see a contract.
    # The demo provider's open cases put it under rectification (still in the pool).
    provider = User.objects.get(username="demo_provider").organisation.provider
    enterprise = User.objects.get(username="demo_enterprise").organisation.enterprise
    assert provider.status == ProviderStatus.UNDER_RECTIFICATION
    assert provider.is_in_pool
    assert ServiceContract.objects.filter(provider=provider, enterprise=enterprise).exists()


def test_a_tampered_demo_account_is_restored_without_a_duplicate():
    seed()
    officer = User.objects.get(username="demo_officer")
    officer.set_password("something-else-entirely")
    officer.is_staff = False
    officer.save()
    officer.groups.add(Group.objects.get(name=Role.APPROVER.value))

    output = seed()

    officer = User.objects.get(username="demo_officer")
    assert officer.check_password(django_settings.PORTAL_DEMO_PASSWORD)
    assert officer.is_staff
    assert set(officer.groups.values_list("name", flat=True)) == {Role.OFFICER.value}
    assert User.objects.filter(username="demo_officer").count() == 1
    assert "restored demo_officer" in output


def test_codes_are_valid_and_unique():
    seed()
    codes = list(Provider.objects.values_list("uscc", flat=True))
    codes += list(PilotEnterprise.objects.values_list("uscc", flat=True))
    assert len(codes) == len(set(codes)) == demo.N_PROVIDERS + 1 + demo.N_ENTERPRISES
    applications = list(ProviderApplication.objects.values_list("uscc", flat=True))
    assert len(set(applications)) == len(demo.DEMO_APPLICATIONS)
    codes += applications
    for code in codes:
        assert uscc.validate(code) == code


def test_sequential_codes_for_the_factories_are_valid_and_distinct():
    codes = {demo.sequential_uscc(n, "130200", tag=tag) for tag in "PE" for n in range(200)}
    assert len(codes) == 400
    assert all(uscc.is_valid(code) for code in codes)


def test_every_county_has_enterprises():
    seed()
    assert County.objects.count() == len(django_settings.PORTAL_COUNTIES) == 14
    assert not County.objects.filter(enterprises__isnull=True).exists()


def test_providers_cover_types_standings_and_scenarios():
    seed()
    assert set(Provider.objects.values_list("provider_type", flat=True)) == {"integrated", "product", "chain_leader"}
    standings = set(Provider.objects.values_list("status", flat=True))
    assert standings == set(ProviderStatus.values)
    for provider in Provider.objects.prefetch_related("scenarios").select_related("organisation"):
        assert 2 <= provider.scenarios.count() <= 5
        assert provider.organisation.name == provider.name
        assert provider.organisation.kind == Organisation.Kind.PROVIDER
        assert provider.contact_email.endswith("@example.com")
    for enterprise in PilotEnterprise.objects.select_related("organisation"):
        assert enterprise.organisation.name == enterprise.name
        assert enterprise.organisation.kind == Organisation.Kind.ENTERPRISE


def test_contracts_are_plausible():
    seed()
    contracts = ServiceContract.objects.select_related("provider").prefetch_related("scenarios")
    assert len({contract.status for contract in contracts}) >= 5
    assert {ContractStatus.DRAFT, ContractStatus.ACCEPTED, ContractStatus.TERMINATED} <= {c.status for c in contracts}
    never_in_pool = [c for c in contracts if c.provider.status in (ProviderStatus.APPLIED, ProviderStatus.REJECTED)]
    assert 1 <= len(never_in_pool) <= 2
    for contract in contracts:
        contract.full_clean()
        assert 100_000 <= contract.amount <= 2_000_000
        assert contract.subsidy <= contract.amount
        assert contract.advance_payment <= contract.amount
        assert 1 <= contract.scenarios.count() <= 3
        assert (contract.signed_on is None) == (contract.status == ContractStatus.DRAFT)
        if contract.signed_on:
            assert contract.signed_on <= contract.start_on
        if contract.number.startswith(demo.WORKFLOW_CONTRACT_PREFIX):
            continue  # dated from the day of seeding: their years follow it
        assert contract.start_on.year == contract.end_on.year == 2026
        if contract.provider.status == ProviderStatus.REVOKED:
            assert contract.status == ContractStatus.TERMINATED
    assert any(contract.provider_outside_pool for contract in contracts)
    assert any(contract.provider.status in POOL_STATUSES for contract in contracts)


def test_refuses_without_debug_and_writes_nothing(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="--allow-production"):
        seed()
    assert not Provider.objects.exists()
    assert not PilotEnterprise.objects.exists()
    assert not ServiceContract.objects.exists()
    assert not Organisation.objects.exists()
    assert not User.objects.exists()
    assert not RectificationCase.objects.exists()
    assert not Notification.objects.exists()


def test_runs_without_debug_when_explicitly_allowed_with_its_own_password(settings, monkeypatch):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="PORTAL_DEMO_PASSWORD"):
        seed("--allow-production")
    assert not User.objects.filter(username="demo_officer").exists()
    monkeypatch.setenv("PORTAL_DEMO_PASSWORD", "Demo-server-only-2026")
    settings.PORTAL_DEMO_PASSWORD = "Demo-server-only-2026"
    seed("--allow-production")
    assert User.objects.get(username="demo_officer").check_password("Demo-server-only-2026")


def test_the_demo_officer_can_use_the_admin(client):
    seed()
    assert client.login(username="demo_officer", password=django_settings.PORTAL_DEMO_PASSWORD)
    response = client.get("/admin/providers/provider/")
    assert response.status_code == 200
    assert Provider.objects.order_by("name").first().name in response.content.decode()


def test_the_demo_provider_cannot_enter_the_admin(client):
    seed()
    assert client.login(username="demo_provider", password=django_settings.PORTAL_DEMO_PASSWORD)
    assert client.get("/admin/providers/provider/").status_code == 302


def test_factories_build_valid_rows():
    contract = ServiceContractFactory()
    for obj in (contract, contract.provider, contract.enterprise, contract.provider.organisation):
        obj.full_clean()
    officer = UserFactory(role=Role.OFFICER)
    assert officer.is_staff
    assert officer.roles == {Role.OFFICER}
    assert not UserFactory(role=Role.PROVIDER).is_staff


# --- Articles 12–14: cases in every state, played through the services ------------------------------------


def demo_users():
    return {user.username: user for user in User.objects.filter(username__startswith="demo_")}


def test_every_rectification_and_revocation_state_is_present():
    seed()
    assert set(RectificationCase.objects.values_list("status", flat=True)) == set(RectificationStatus.values)
    # "reversed" comes only from an upheld appeal; the demo leaves appeals for the user to file and decide.
    assert set(RevocationCase.objects.values_list("status", flat=True)) == set(RevocationStatus.values) - {
        RevocationStatus.REVERSED
    }
    assert all(case.finding.startswith(demo.DEMO_CASE_MARKER) for case in RectificationCase.objects.all())
    # Every case has the timeline the services write, from its creation on.
    for case in RectificationCase.objects.all():
        transitions = list(StateLog.objects.for_(case).order_by("timestamp", "id").values_list("transition", "state"))
        assert transitions[0] == ("create", RectificationStatus.DRAFT)
        assert transitions[-1][1] == case.status
        assert case.opened_by.username == "demo_officer"
        if case.ordered_at:
            assert case.document_number.startswith(django_settings.DOCUMENT_NUMBER_PREFIX)
            assert case.deadline is not None


def test_the_history_is_dated_in_the_past_and_running_deadlines_hold_today():
    seed()
    now, today = timezone.now(), timezone.localdate()
    verified = RectificationCase.objects.get(status=RectificationStatus.VERIFIED)
    assert verified.opened_at < verified.warned_at <= verified.ordered_at < verified.responded_at < verified.closed_at
    assert verified.closed_at < now
    logs = StateLog.objects.for_(verified).order_by("id")
    assert [log.timestamp for log in logs] == sorted(log.timestamp for log in logs)
    assert logs.first().timestamp.date() < today
    for case in RectificationCase.objects.filter(status__in=[RectificationStatus.RECTIFYING, "returned"]):
        assert case.deadline >= today  # the sweep would have marked it overdue otherwise
    overdue = RectificationCase.objects.get(status=RectificationStatus.OVERDUE)
    assert overdue.deadline < today
    assert Notification.objects.filter(kind="rectification_overdue").count() == 1
    assert Notification.objects.filter(kind="rectification_reminder").count() == 1


def test_the_demo_provider_can_walk_its_cases():
    seed()
    users = demo_users()
    provider = users["demo_provider"].organisation.provider
    own = RectificationCase.objects.filter(provider=provider)
    assert own.filter(status=RectificationStatus.WARNED).exists()
    assert own.filter(status=RectificationStatus.RESPONDED).exists()
    rectifying = own.get(status=RectificationStatus.RECTIFYING)

    # The provider answers its running case and the officer verifies it, as in the browser.
    case = services.rectification_respond(case=rectifying, by=users["demo_provider"], report="已完成整改。")
    case = services.rectification_verify(case=case, by=users["demo_officer"], note="整改到位。")
    assert case.status == RectificationStatus.VERIFIED
    warned = own.get(status=RectificationStatus.WARNED)
    services.rectification_reply(case=warned, by=users["demo_provider"], statement="情况说明。")


def test_revocations_cover_engine_officer_approved_and_dismissed():
    seed()
    users = demo_users()
    now = timezone.now()
    proposed = RevocationCase.objects.filter(status=RevocationStatus.PROPOSED)

    engine = proposed.filter(source=RevocationCase.Source.ENGINE)
    assert engine.exists() and all(proposal.statement_due_at > now for proposal in engine)
    assert set(engine.values_list("ground", flat=True)) >= {Art13Ground.RECTIFICATION, Art13Ground.DISSATISFIED}

    pending = proposed.get(source=RevocationCase.Source.OFFICER)
    assert pending.proposed_by == users["demo_officer"]
    assert pending.statement_due_at < now  # the demo approver can decide it today
    assert has_transition_perm(pending.approve, users["demo_approver"])
    assert not has_transition_perm(pending.approve, users["demo_officer"])

    dismissed = RevocationCase.objects.get(status=RevocationStatus.DISMISSED)
    assert dismissed.decided_by == users["demo_approver"] and dismissed.decision_reason

    approved = RevocationCase.objects.filter(status=RevocationStatus.APPROVED)
    assert approved.count() == 2
    for revocation in approved:
        assert revocation.decided_by == users["demo_approver"]
        entry = revocation.blacklist_entry
        assert entry.status == BlacklistEntry.Status.PUBLISHED
        assert (entry.uscc, entry.decision_number) == (revocation.provider.uscc, revocation.decision_number)
        assert revocation.provider.status == ProviderStatus.REVOKED
        # Art 14 came with the decision: the contracts were terminated with their fee consequences.
        for contract in revocation.provider.contracts.all():
            assert contract.status == ContractStatus.TERMINATED
            assert contract.fee_consequences.get().decision_reference == revocation.decision_number
    assert set(selectors.blacklist_public()) == set(BlacklistEntry.objects.all())
    # Every revoked demo provider got there through an approved decision.
    assert set(Provider.objects.filter(status=ProviderStatus.REVOKED)) == {r.provider for r in approved}

    services.revocation_approve(revocation=pending, by=users["demo_approver"], reason="事实清楚。")
    assert BlacklistEntry.objects.count() == 3


def test_standings_follow_the_cases():
    seed()
    for provider in Provider.objects.filter(status__in=POOL_STATUSES):
        assert provider.status == services.standing_for(provider)
    plan = {p.uscc: p.status for p in demo.demo_plan_from_settings().providers}
    for provider in Provider.objects.filter(uscc__in=list(plan)):
        if plan[provider.uscc] != "in_pool":
            assert provider.status == plan[provider.uscc]


def test_ratings_and_milestones_feed_the_rule_engine():
    with travel(at(2026, 11, 1, 10)):
        seed()
        dissatisfied = SatisfactionRating.objects.filter(overall="dissatisfied", voided=False)
        assert dissatisfied.count() == 2
        assert len({rating.contract.provider_id for rating in dissatisfied}) == 1
        assert SatisfactionRating.objects.exclude(overall="dissatisfied").count() >= 2
        in_progress = ServiceContract.objects.filter(status=ContractStatus.IN_PROGRESS)
        assert not in_progress.filter(milestones__isnull=True).exists()
        lagging = list(selectors.lagging_contracts(today=timezone.localdate(), providers=Provider.objects.in_pool()))
        assert len(lagging) == 1
        lagging_provider = lagging[0][0].provider
        assert RevocationCase.objects.filter(
            provider=lagging_provider, ground=Art13Ground.SCHEDULE_LAG, status=RevocationStatus.PROPOSED
        ).exists()
        # A second sweep finds nothing new to propose.
        result = services.deadlines_check()
        assert (result["overdue"], result["proposals"]) == (0, 0)


def test_the_demo_accounts_can_open_every_demo_case(client):
    seed()
    password = django_settings.PORTAL_DEMO_PASSWORD
    assert client.login(username="demo_officer", password=password)
    assert client.get("/admin/evaluations/rectificationcase/").status_code == 200
    for case in RectificationCase.objects.all():
        assert client.get(f"/admin/evaluations/rectificationcase/{case.pk}/change/").status_code == 200

    assert client.login(username="demo_approver", password=password)
    for revocation in RevocationCase.objects.all():
        assert client.get(f"/admin/evaluations/revocationcase/{revocation.pk}/change/").status_code == 200

    assert client.login(username="demo_provider", password=password)
    own = User.objects.get(username="demo_provider").organisation.provider
    for case in RectificationCase.objects.all():
        expected = 200 if case.provider_id == own.pk else 404
        assert client.get(f"/provider/cases/{case.pk}/").status_code == expected, case.status
    for revocation in RevocationCase.objects.filter(provider=own):
        assert client.get(f"/provider/revocations/{revocation.pk}/").status_code == 200

    client.logout()
    page = client.get("/blacklist/").content.decode()
    for entry in BlacklistEntry.objects.all():
        assert entry.decision_number in page


# --- The provider-path workflows ------------------------------------------------------------------------------


def workflow_contracts():
    return {
        contract.number.removeprefix(demo.WORKFLOW_CONTRACT_PREFIX): contract
        for contract in ServiceContract.objects.filter(number__startswith=demo.WORKFLOW_CONTRACT_PREFIX)
    }


def demo_parties(users):
    return users["demo_provider"].organisation.provider, users["demo_enterprise"].organisation.enterprise


def test_a_second_run_creates_no_workflow_rows():
    first_output = seed()
    counts = {model.__name__: model.objects.count() for model in (*WORKFLOW_MODELS, Milestone, StateLog, User)}
    files = sorted(path.name for path in (django_settings.MEDIA_ROOT).rglob("*") if path.is_file())
    assert all(counts.values())

    output = seed()

    assert {model.__name__: model.objects.count() for model in (*WORKFLOW_MODELS, Milestone, StateLog, User)} == counts
    assert sorted(path.name for path in (django_settings.MEDIA_ROOT).rglob("*") if path.is_file()) == files
    for label in demo.WORKFLOW_LABELS:
        line = next(line for line in output.splitlines() if line.strip().startswith(LABELS[label]))
        assert "新建 created    0" in line, line
        first_line = next(line for line in first_output.splitlines() if line.strip().startswith(LABELS[label]))
        assert "新建 created    0" not in first_line, first_line
    assert "入库申请 provider applications 新建 created    0   已存在 existing    5" in output
    # The applicants' organisations and the admitted provider count as existing, not as missing plan rows.
    assert "服务商 providers               新建 created    0   已存在 existing   31" in output


def test_every_workflow_has_its_rows():
    seed()
    users = demo_users()
    provider, enterprise = demo_parties(users)
    today = timezone.localdate()

    applications = {a.applicant.username: a for a in ProviderApplication.objects.select_related("applicant")}
    assert {name: a.status for name, a in applications.items()} == {
        "demo_applicant": ApplicationStatus.SUBMITTED,
        "demo_applicant_flagged": ApplicationStatus.SUBMITTED,
        "demo_applicant_notice": ApplicationStatus.IN_NOTICE,
        "demo_applicant_admitted": ApplicationStatus.ADMITTED,
        "demo_applicant_rejected": ApplicationStatus.REJECTED,
    }
    flagged = applications["demo_applicant_flagged"]
    assert [a for a in applications.values() if a.flagged] == [flagged]
    (match,) = flagged.screening
    assert match["matched_on"] == ["legal_representative"]
    assert Provider.objects.get(pk=match["provider_id"]).status == ProviderStatus.REVOKED
    in_notice = applications["demo_applicant_notice"]
    assert in_notice.notice_starts_on < in_notice.notice_ends_on < today and in_notice.notice_over
    assert in_notice.reviewed_by == users["demo_officer"] and in_notice.review_opinion
    admitted = applications["demo_applicant_admitted"]
    assert admitted.provider.status == ProviderStatus.IN_POOL
    assert admitted.provider.organisation == admitted.organisation
    assert applications["demo_applicant_rejected"].decision_reason == demo.REJECTION_REASON
    assert all(Attachment.objects.filter(object_id=a.pk, purpose="application").exists() for a in applications.values())

    changes = RegistrationChange.objects.filter(provider=provider)
    assert sorted(changes.values_list("status", flat=True)) == ["acknowledged", "recorded", "reported"]
    recorded = changes.get(status="recorded")
    assert recorded.changed_on < today - timedelta(days=django_settings.REGISTRATION_CHANGE_REPORT_DAYS)
    assert list(registration_changes_unreported()) == [recorded]
    provider.refresh_from_db()
    assert str(provider.registered_capital) == changes.get(status="acknowledged").new_value
    assert provider.business_scope == recorded.new_value

    assert provider.products.count() == len(demo.DEMO_PRODUCTS)
    (price_change,) = ProductPriceChange.objects.all()
    assert price_change.drastic and price_change.product.provider == provider
    assert abs(price_change.change_ratio) > django_settings.PRICE_CHANGE_THRESHOLD
    assert Notification.objects.filter(kind="drastic_price_change", dedup_key=f"pricechange:{price_change.pk}").exists()

    contracts = workflow_contracts()
    assert {suffix: c.status for suffix, c in contracts.items()} == {
        "01": ContractStatus.DRAFT,
        "02": ContractStatus.DRAFT,
        "03": ContractStatus.IN_PROGRESS,
        "04": ContractStatus.INTERNALLY_ACCEPTED,
        "05": ContractStatus.ACCEPTED,
        "06": ContractStatus.FAILED,
    }
    for contract in contracts.values():
        assert (contract.provider, contract.enterprise) == (provider, enterprise)
        assert enterprise_services.contract_signing_problems(contract) == []
        assert sum(contract.milestones.values_list("weight", flat=True)) == 100
        assert Attachment.objects.filter(object_id=contract.pk, purpose="nda").count() == 1
    ready, sent = contracts["01"], contracts["02"]
    assert ready.submitted_at is None and sent.submitted_at is not None

    running = contracts["03"]
    flagged_items = running.procurement_items.filter(above_reference=True)
    assert flagged_items.count() == 1 and flagged_items.get().product is None
    assert not ProcurementItem.objects.filter(above_list_price=True).exists()
    assert not ProcurementItem.objects.exclude(contract=running).filter(above_reference=True).exists()
    reports = running.progress_reports
    assert reports.filter(status=ProgressReport.Status.ACKNOWLEDGED).count() == 2
    assert reports.filter(status=ProgressReport.Status.SUBMITTED).count() == 1
    assert running.change_requests.get().status == ChangeRequest.Status.PROPOSED
    # On schedule now and for the next weeks: the rule engine does not take it for a lag (Art 13(3)).
    for days in (0, 40):
        lagging = selectors.lagging_contracts(today=today + timedelta(days=days), providers=Provider.objects.all())
        assert running not in [contract for contract, _lag in lagging]

    assignment = AssessorAssignment.objects.get(enterprise=enterprise, ended_at=None)
    assert assignment.institution == users["demo_assessor"].organisation
    assert assignment.institution.kind == Organisation.Kind.INSTITUTION
    baseline = LevelAssessment.objects.get(enterprise=enterprise, kind=LevelAssessment.Kind.BASELINE)
    assert baseline.status == LevelAssessment.Status.FINAL
    assert baseline.level == PilotEnterprise.objects.get(pk=enterprise.pk).baseline_level
    assert baseline.assessed_on < min(c.start_on for c in contracts.values())
    due = LevelAssessment.objects.get(contract=contracts["04"])
    assert (due.kind, due.status, due.level, due.acceptance_passed) == ("acceptance", "final", 2, None)
    assert contracts["04"].internal_acceptances.get().status == InternalAcceptance.Status.SIGNED
    assert LevelAssessment.objects.get(contract=contracts["05"]).acceptance_passed is True
    assert LevelAssessment.objects.get(contract=contracts["06"]).acceptance_passed is False
    assert contracts["06"].fee_consequences.get().cause == FeeConsequence.Cause.FAILED_ACCEPTANCE

    diagnosis = DiagnosisReport.objects.get(provider=provider, enterprise=enterprise)
    assert diagnosis.status == DiagnosisReport.Status.SUBMITTED and diagnosis.submitted_at
    assert list(StateLog.objects.for_(diagnosis).values_list("transition", flat=True)) == ["create", "submit"]
    assert len({finding.scenario.family for finding in diagnosis.findings.all()}) == 2
    assert DossierSurvey.objects.get(enterprise=enterprise).contract == running
    event = MatchmakingEvent.objects.get()
    assert event.county == enterprise.county == users["demo_county"].county
    assert event.held_on < today
    present = event.attendances.filter(attended=True)
    assert present.filter(provider=provider).exists() and present.filter(enterprise=enterprise).exists()
    intention = event.intentions.get()
    assert (intention.provider, intention.enterprise, intention.status) == (provider, enterprise, "proposed")
    session = TrainingSession.objects.get(provider=provider)
    assert session.held_on < today and session.topics
    assert session.attendances.filter(enterprise=enterprise).exists()


def test_the_workflow_history_is_dated_before_today():
    seed()
    now, today = timezone.now(), timezone.localdate()
    for contract in workflow_contracts().values():
        logs = StateLog.objects.for_(contract)
        assert logs.exists() and all(log.timestamp < now for log in logs)
        if contract.signed_on:
            assert contract.signed_on < contract.start_on <= today
    for application in ProviderApplication.objects.all():
        assert application.submitted_at < now
        assert application.decided_at is None or application.submitted_at < application.decided_at < now
    assert all(attachment.uploaded_at < now for attachment in Attachment.objects.all())
    for report in ProgressReport.objects.all():
        assert report.submitted_at < now
        assert report.responded_at is None or report.submitted_at < report.responded_at < now


def test_the_demo_officer_walks_the_applications_and_registration_changes():
    seed()
    users = demo_users()
    officer = users["demo_officer"]
    applications = {a.applicant.username: a for a in ProviderApplication.objects.select_related("applicant")}

    admitted = provider_services.application_admit(application=applications["demo_applicant_notice"], by=officer)
    assert admitted.status == ApplicationStatus.ADMITTED
    assert admitted.provider.status == ProviderStatus.IN_POOL

    waiting = provider_services.application_start_notice(
        application=applications["demo_applicant"], by=officer, opinion="材料齐全，同意公示。"
    )
    assert waiting.status == ApplicationStatus.IN_NOTICE and waiting.notice_ends_on > timezone.localdate()
    with pytest.raises(TransitionError):
        provider_services.application_admit(application=waiting, by=officer)
    rejected = provider_services.application_reject(
        application=applications["demo_applicant_flagged"],
        by=officer,
        reason="法定代表人系已撤销资格服务商的法定代表人。",
    )
    assert rejected.status == ApplicationStatus.REJECTED

    reported = RegistrationChange.objects.get(status="reported")
    provider_services.registration_change_acknowledge(change=reported, by=officer)
    assert Provider.objects.get(pk=reported.provider_id).address == reported.new_value


def test_the_demo_provider_and_enterprise_walk_the_contracts():
    seed()
    users = demo_users()
    staff, client = users["demo_provider"], users["demo_enterprise"]
    contracts = workflow_contracts()

    sent = enterprise_services.contract_submit(contract=contracts["01"], by=staff)
    assert sent.submitted_at is not None
    notice = Notification.objects.get(kind="contract_to_sign", dedup_key__startswith=f"contract:{sent.pk}:submitted")
    assert notice.recipient_organisation == client.organisation

    signed = enterprise_services.contract_sign(contract=contracts["02"], by=client)
    assert (signed.status, signed.signed_on) == (ContractStatus.SIGNED, timezone.localdate())
    started = enterprise_services.contract_start(contract=signed, by=staff)
    assert started.status == ContractStatus.IN_PROGRESS

    running = contracts["03"]
    pending = running.progress_reports.get(status=ProgressReport.Status.SUBMITTED)
    enterprise_services.progress_report_acknowledge(report=pending, by=client, comment="确认。")
    assert Milestone.objects.get(pk=pending.milestone_id).reported_progress == pending.progress
    change = running.change_requests.get()
    enterprise_services.change_request_decide(request=change, by=client, agree=True)
    running.refresh_from_db()
    assert (running.end_on, running.amount) == (change.new_end_on, change.new_amount)

    intention = CooperationIntention.objects.get(enterprise=running.enterprise)
    outreach.intention_answer(by=client, intention=intention, confirm=True)
    assert CooperationIntention.objects.get(pk=intention.pk).status == CooperationIntention.Status.CONFIRMED

    # Another provider's staff cannot act on the demo provider's contract.
    other = UserFactory(
        role=Role.PROVIDER, organisation=Provider.objects.exclude(pk=running.provider_id).first().organisation
    )
    with pytest.raises(PermissionDenied):
        enterprise_services.contract_submit(contract=contracts["01"], by=other)


def test_the_demo_assessor_decides_the_acceptance():
    seed()
    users = demo_users()
    assessor = users["demo_assessor"]
    contract = workflow_contracts()["04"]
    assert contract in enterprise_selectors.contracts_visible_to(assessor)
    assessment = LevelAssessment.objects.get(contract=contract)

    levels.acceptance_decide(assessment=assessment, by=assessor, passed=True, reason="达到二级，验收通过。")

    contract.refresh_from_db()
    assert contract.status == ContractStatus.ACCEPTED
    assert Notification.objects.filter(kind="acceptance_decided", dedup_key__startswith=f"acceptance:{assessment.pk}:")
    # A new assessment for the enterprise is possible too: the institution is assigned.
    draft = levels.assessment_create(
        enterprise=contract.enterprise,
        by=assessor,
        kind=LevelAssessment.Kind.BASELINE,
        assessed_on=timezone.localdate(),
    )
    assert draft.institution == assessor.organisation


def test_every_demo_account_logs_in_and_its_home_page_answers(client):
    seed()
    password = django_settings.PORTAL_DEMO_PASSWORD
    homes = {
        Role.ENTERPRISE: "/enterprise/",
        Role.PROVIDER: "/provider/",
    }
    for account in demo.DEMO_ACCOUNTS:
        role = Role(account.role)
        assert client.login(username=account.username, password=password), account.username
        assert client.get("/").status_code == 200, account.username
        assert client.get(homes.get(role, "/admin/")).status_code == 200, account.username
        client.logout()
    for application in demo.DEMO_APPLICATIONS:
        assert client.login(username=application.username, password=password), application.username
        assert client.get("/").status_code == 200
        response = client.get("/provider/")
        if application.stage == "admitted":
            assert response.status_code == 200
        else:  # not (yet) a pool member: the provider pages send the applicant to its application
            assert response.status_code == 302
            assert response.url == "/provider/application/"
        client.logout()
