"""`manage.py seed_demo`: deterministic, idempotent, complete, and never run by accident in production."""

from io import StringIO

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from stdnum.cn import uscc

from enterprises.models import ContractStatus, PilotEnterprise, ServiceContract
from providers.models import POOL_STATUSES, Provider, ProviderStatus
from tangshan_portal import demo
from tangshan_portal.models import County, Organisation, User
from tangshan_portal.roles import STAFF_ROLES, Role
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
    }


def remove_demo_rows():
    # In dependency order, because every foreign key here protects its target.
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
    provider = User.objects.get(username="demo_provider").organisation.provider
    enterprise = User.objects.get(username="demo_enterprise").organisation.enterprise
    assert provider.status == ProviderStatus.IN_POOL
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
