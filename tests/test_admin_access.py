"""Who may do what in the admin: every role, anonymous users, and another county's records (404)."""

import pytest
from django.urls import reverse

from enterprises.models import ContractStatus, PilotEnterprise
from providers.models import Provider, ProviderStatus
from tangshan_portal.models import County, Organisation
from tangshan_portal.roles import Role
from tests.factories import PilotEnterpriseFactory, ProviderFactory, ServiceContractFactory, UserFactory

pytestmark = pytest.mark.django_db

PROVIDERS = reverse("admin:providers_provider_changelist")
ENTERPRISES = reverse("admin:enterprises_pilotenterprise_changelist")
CONTRACTS = reverse("admin:enterprises_servicecontract_changelist")
AUDIT = reverse("admin:portal_auditevent_changelist")
USERS = reverse("admin:portal_user_changelist")


def _user(role, **kwargs):
    return UserFactory(role=role, **kwargs)


def _county_user(county):
    org = Organisation.objects.create(
        name=f"{county.name}工业和信息化局", kind=Organisation.Kind.COUNTY_BUREAU, county=county
    )
    return _user(Role.COUNTY, organisation=org)


@pytest.mark.parametrize("url", [reverse("admin:index"), PROVIDERS, ENTERPRISES, CONTRACTS, AUDIT, USERS])
def test_anonymous_users_are_sent_to_the_login_page(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


@pytest.mark.parametrize("role", [Role.PROVIDER, Role.ENTERPRISE])
def test_provider_and_enterprise_users_cannot_enter_the_admin(client, role):
    client.force_login(_user(role))
    response = client.get(PROVIDERS)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


# role -> expected status for (providers, enterprises, contracts, audit log, users)
MATRIX = {
    Role.OFFICER: (200, 200, 200, 403, 403),
    Role.APPROVER: (200, 200, 200, 403, 403),
    Role.COUNTY: (200, 200, 200, 403, 403),
    Role.ASSESSOR: (403, 200, 200, 403, 403),
    Role.AUDITOR: (200, 200, 200, 200, 200),
    Role.SYSADMIN: (403, 403, 403, 403, 200),
}


@pytest.mark.parametrize("role", list(MATRIX))
def test_role_matrix_for_the_admin_lists(client, role):
    user = _user(role) if role != Role.COUNTY else _county_user(County.objects.first())
    client.force_login(user)
    got = tuple(client.get(url).status_code for url in (PROVIDERS, ENTERPRISES, CONTRACTS, AUDIT, USERS))
    assert got == MATRIX[role]


def test_officer_adding_a_provider_with_an_invalid_uscc_gets_a_chinese_error_and_nothing_is_saved(client):
    client.force_login(_user(Role.OFFICER))
    data = {
        "name": "唐山新测科技有限公司",
        "uscc": "91350100M000100Y4Z",
        "provider_type": "integrated",
        "legal_representative": "赵六",
        "address": "唐山市路北区",
        "business_scope": "",
        "registered_capital": "500",
        "county": "",
        "contact_name": "",
        "contact_phone": "",
        "contact_email": "",
        "organisation": "",
    }
    response = client.post(reverse("admin:providers_provider_add"), data)
    assert response.status_code == 200
    assert "不是有效的统一社会信用代码" in response.content.decode()
    assert not Provider.objects.exists()

    data["uscc"] = "９１３５０１００ｍ０００１００ｙ４３"
    data["status"] = ProviderStatus.REVOKED  # read-only in the admin: must be ignored
    response = client.post(reverse("admin:providers_provider_add"), data)
    assert response.status_code == 302
    provider = Provider.objects.get()
    assert provider.uscc == "91350100M000100Y43"
    assert provider.status == ProviderStatus.APPLIED


def test_admin_refuses_a_duplicate_uscc_in_chinese(client):
    ProviderFactory(uscc="914403001922038216")
    client.force_login(_user(Role.OFFICER))
    response = client.post(
        reverse("admin:providers_provider_add"),
        {
            "name": "重复代码公司",
            "uscc": "914403001922038216",
            "provider_type": "product",
            "legal_representative": "钱七",
            "address": "唐山市",
        },
    )
    assert response.status_code == 200
    assert "已存在" in response.content.decode()
    assert Provider.objects.count() == 1


def test_auditor_can_read_but_not_change(client):
    provider = ProviderFactory()
    client.force_login(_user(Role.AUDITOR))
    url = reverse("admin:providers_provider_change", args=[provider.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    response = client.post(url, {"name": "改名", "uscc": provider.uscc})
    assert response.status_code == 403
    provider.refresh_from_db()
    assert provider.name != "改名"


def test_approver_cannot_add_providers(client):
    client.force_login(_user(Role.APPROVER))
    assert client.get(reverse("admin:providers_provider_add")).status_code == 403


def test_nobody_deletes_registry_records_in_the_admin(client, admin_user):
    provider = ProviderFactory()
    client.force_login(admin_user)
    assert client.get(reverse("admin:providers_provider_delete", args=[provider.pk])).status_code == 403


def test_county_staff_see_only_their_county_and_get_404_for_another(client):
    own, other = County.objects.order_by("code")[:2]
    mine = PilotEnterpriseFactory(county=own, name="本县企业")
    theirs = PilotEnterpriseFactory(county=other, name="外县企业")
    my_contract = ServiceContractFactory(enterprise=mine, number="C-OWN")
    their_contract = ServiceContractFactory(enterprise=theirs, number="C-OTHER")
    client.force_login(_county_user(own))

    listing = client.get(ENTERPRISES).content.decode()
    assert "本县企业" in listing and "外县企业" not in listing
    contracts = client.get(CONTRACTS).content.decode()
    assert "C-OWN" in contracts and "C-OTHER" not in contracts

    assert client.get(reverse("admin:enterprises_pilotenterprise_change", args=[mine.pk])).status_code == 200
    assert client.get(reverse("admin:enterprises_pilotenterprise_change", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("admin:enterprises_pilotenterprise_history", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("admin:enterprises_servicecontract_change", args=[my_contract.pk])).status_code == 200
    assert client.get(reverse("admin:enterprises_servicecontract_change", args=[their_contract.pk])).status_code == 404
    # The same 404 as for an id that does not exist: the answer does not confirm the record exists.
    missing = PilotEnterprise.objects.order_by("-pk").first().pk + 1000
    assert client.get(reverse("admin:enterprises_pilotenterprise_change", args=[missing])).status_code == 404


def test_contract_list_flags_a_provider_outside_the_pool(client):
    ServiceContractFactory(provider=ProviderFactory(status=ProviderStatus.APPLIED), number="C-FLAG")
    ServiceContractFactory(provider=ProviderFactory(status=ProviderStatus.IN_POOL), number="C-OK")
    client.force_login(_user(Role.OFFICER))
    html = client.get(CONTRACTS).content.decode()
    assert html.count(">未纳入资源池</strong>") == 1


def test_provider_list_query_count_does_not_grow_with_rows(client, django_assert_max_num_queries):
    client.force_login(_user(Role.OFFICER))
    ProviderFactory.create_batch(3)
    with django_assert_max_num_queries(12) as few:
        client.get(PROVIDERS)
    ProviderFactory.create_batch(30)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(PROVIDERS)


def test_contract_list_query_count_does_not_grow_with_rows(client, django_assert_max_num_queries):
    client.force_login(_user(Role.OFFICER))
    ServiceContractFactory.create_batch(3, status=ContractStatus.SIGNED)
    with django_assert_max_num_queries(15) as few:
        client.get(CONTRACTS)
    ServiceContractFactory.create_batch(30, status=ContractStatus.SIGNED)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(CONTRACTS)


def test_county_account_without_a_county_sees_nothing(client):
    PilotEnterpriseFactory(name="任一企业")
    ServiceContractFactory(number="C-ANY")
    client.force_login(_user(Role.COUNTY, organisation=None))
    assert "任一企业" not in client.get(ENTERPRISES).content.decode()
    assert "C-ANY" not in client.get(CONTRACTS).content.decode()


def test_a_refusal_in_the_admin_is_written_to_the_audit_log(client):
    from tangshan_portal.models import AuditEvent

    sysadmin = _user(Role.SYSADMIN)
    client.force_login(sysadmin)
    assert client.get(PROVIDERS).status_code == 403
    event = AuditEvent.objects.get(action=AuditEvent.Action.PERMISSION_DENIED)
    assert (event.actor, event.path, event.success) == (sysadmin, PROVIDERS, False)
