"""`manage.py seed_demo`: deterministic, idempotent, complete, and never run by accident in production."""

from io import StringIO

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_fsm import has_transition_perm
from django_fsm_log.models import StateLog
from stdnum.cn import uscc

from enterprises.models import ContractStatus, FeeConsequence, Milestone, PilotEnterprise, ServiceContract
from evaluations import selectors, services
from evaluations.grounds import Art13Ground
from evaluations.models import (
    BlacklistEntry,
    Evidence,
    RectificationCase,
    RectificationStatus,
    RevocationCase,
    RevocationStatus,
    SatisfactionRating,
)
from providers.models import POOL_STATUSES, Provider, ProviderStatus
from tangshan_portal import demo
from tangshan_portal.models import County, DocumentSequence, Notification, Organisation, User
from tangshan_portal.roles import STAFF_ROLES, Role
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


def remove_demo_rows():
    # In dependency order, because every foreign key here protects its target.
    for model in (
        Evidence,
        BlacklistEntry,
        RevocationCase,
        RectificationCase,
        SatisfactionRating,
        Milestone,
        FeeConsequence,
        StateLog,
        Notification,
        DocumentSequence,
    ):
        model.objects.all().delete()
    ServiceContract.objects.all().delete()
    Provider.objects.all().delete()
    PilotEnterprise.objects.all().delete()
    User.objects.all().delete()
    Organisation.objects.all().delete()


def test_a_second_run_changes_nothing():
    first_output = seed()
    first = snapshot()
    second_output = seed()

    assert snapshot() == first
    assert "Demo data seeded" in first_output
    assert "already exists" in second_output
    assert "restored" not in second_output
    assert len(first["providers"]) == demo.N_PROVIDERS
    assert len(first["enterprises"]) == demo.N_ENTERPRISES
    assert len(first["contracts"]) == len(demo.demo_plan_from_settings().contracts)


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
    seed()
    first = snapshot(with_secrets=False)
    remove_demo_rows()
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
    assert User.objects.count() == len(Role)
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
    assert len(codes) == len(set(codes)) == demo.N_PROVIDERS + demo.N_ENTERPRISES
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
        assert contract.start_on.year == contract.end_on.year == 2026
        assert 1 <= contract.scenarios.count() <= 3
        assert (contract.signed_on is None) == (contract.status == ContractStatus.DRAFT)
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
    for provider in Provider.objects.all():
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
