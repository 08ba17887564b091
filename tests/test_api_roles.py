"""The `/api/v1/me/` endpoints: each role reads exactly its own contracts, rectification cases, satisfaction ratings
and complaints, under the rules of its pages; another organisation's record answers 404, a role without a rule
403, an anonymous client 401; a token works like a login."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token

from complaints.models import ComplaintStatus
from enterprises.models import ContractStatus
from tangshan_portal.roles import Role
from tests.enforcement import travel
from tests.factories import ServiceContractFactory, UserFactory
from tests.factories_api import public_data, rating, token_for, token_header, world

pytestmark = pytest.mark.django_db

ENDPOINTS = {
    "contracts": "me-contract",
    "cases": "me-case",
    "surveys": "me-survey",
    "complaints": "me-complaint",
}
ROLES = ["enterprise", "provider", "county", "county_b", "officer", "approver", "auditor", "assessor", "sysadmin"]


def list_url(endpoint):
    return reverse(f"v1:{ENDPOINTS[endpoint]}-list")


def detail_url(endpoint, pk):
    return reverse(f"v1:{ENDPOINTS[endpoint]}-detail", args=[pk])


def every_id(w, endpoint):
    return w.own["officer"][endpoint]


@pytest.fixture
def w():
    return world()


def test_the_urls():
    assert list_url("contracts") == "/api/v1/me/contracts/"
    assert detail_url("complaints", 7) == "/api/v1/me/complaints/7/"


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_anonymous_clients_must_authenticate(client, w, endpoint):
    for url in (list_url(endpoint), detail_url(endpoint, min(every_id(w, endpoint)))):
        response = client.get(url)
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("role", ROLES)
def test_each_role_lists_exactly_its_own_records(client, w, role, endpoint):
    client.force_login(w.users[role])
    response = client.get(list_url(endpoint))
    expected = w.own[role][endpoint]
    if expected is None:
        assert response.status_code == 403
        assert "detail" in response.json()
        return
    assert response.status_code == 200
    body = response.json()
    assert {row["id"] for row in body["results"]} == expected
    assert body["count"] == len(expected)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("role", ROLES)
def test_detail_answers_own_records_and_404_for_anybody_elses(client, w, role, endpoint):
    client.force_login(w.users[role])
    expected = w.own[role][endpoint]
    for pk in every_id(w, endpoint):
        response = client.get(detail_url(endpoint, pk))
        if expected is None:
            assert response.status_code == 403, (role, endpoint, pk)
        elif pk in expected:
            assert response.status_code == 200, (role, endpoint, pk)
            assert response.json()["id"] == pk
        else:
            assert response.status_code == 404, (role, endpoint, pk)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_token_client_reads_with_its_accounts_role(client, w, endpoint):
    service_account = UserFactory(role=Role.OFFICER, username="svc_provincial_platform")
    key = token_for(service_account)
    response = client.get(list_url(endpoint), **token_header(key))
    assert response.status_code == 200
    assert {row["id"] for row in response.json()["results"]} == w.own["officer"][endpoint]
    # A provider's own integration sees what the provider's staff see.
    provider_key = token_for(w.provider_user)
    response = client.get(list_url(endpoint), **token_header(provider_key))
    assert {row["id"] for row in response.json()["results"]} == w.own["provider"][endpoint]
    other = max(every_id(w, endpoint) - w.own["provider"][endpoint])
    assert client.get(detail_url(endpoint, other), **token_header(provider_key)).status_code == 404


def test_a_sysadmin_token_reads_no_business_data(client, w):
    key = token_for(w.sysadmin)
    for endpoint in ENDPOINTS:
        assert client.get(list_url(endpoint), **token_header(key)).status_code == 403
    # The public data is for everyone.
    assert client.get("/api/v1/blacklist/", **token_header(key)).status_code == 200


def test_a_wrong_or_revoked_token_is_refused(client, w):
    assert client.get(list_url("contracts"), **token_header("0" * 40)).status_code == 401
    key = token_for(w.officer)
    w.officer.is_active = False
    w.officer.save(update_fields=["is_active"])
    assert client.get(list_url("contracts"), **token_header(key)).status_code == 401
    # A wrong token is refused on public endpoints too, rather than silently read as anonymous.
    assert client.get("/api/v1/blacklist/", **token_header("0" * 40)).status_code == 401


def test_staff_of_a_deactivated_provider_get_nothing(client, w):
    organisation = w.provider_a.organisation
    organisation.is_active = False
    organisation.save(update_fields=["is_active"])
    client.force_login(w.provider_user)
    for endpoint in ENDPOINTS:
        # Not even authenticated: the backend refuses users of a deactivated organisation (authentication.py).
        assert client.get(list_url(endpoint)).status_code == 401


def test_the_provider_does_not_learn_who_complained_when_the_enterprise_asked(client, w):
    client.force_login(w.provider_user)
    protected = client.get(detail_url("complaints", w.complaint_a.pk)).json()
    assert protected["protect_identity"] is True
    assert protected["enterprise"] is None and protected["contract"] is None
    assert w.enterprise_a.name not in client.get(list_url("complaints")).content.decode()
    # The enterprise itself and the bureau see both.
    for user in (w.enterprise_user, w.officer):
        client.force_login(user)
        seen = client.get(detail_url("complaints", w.complaint_a.pk)).json()
        assert seen["enterprise"]["name"] == w.enterprise_a.name
        assert seen["contract"]["number"] == w.contract_a.number
    # Without the request, the provider sees the complainant like on its page.
    client.force_login(UserFactory(role=Role.PROVIDER, organisation=w.provider_b.organisation))
    open_one = client.get(detail_url("complaints", w.complaint_b.pk)).json()
    assert open_one["enterprise"]["name"] == w.enterprise_b.name


def test_no_personal_data_in_any_answer(client, w):
    people = [w.enterprise_user, w.enterprise_user_b, w.officer, w.provider_user]
    client.force_login(w.auditor)
    for endpoint in ENDPOINTS:
        text = client.get(list_url(endpoint)).content.decode()
        for person in people:
            assert person.full_name not in text and person.username not in text
        for key in ("submitted_by", "opened_by", "ordered_by", "handled_by", "contact_phone", "contact_name"):
            assert f'"{key}"' not in text


def test_records_carry_their_related_objects(client, w):
    client.force_login(w.officer)
    contract = client.get(detail_url("contracts", w.contract_a.pk)).json()
    assert contract["number"] == w.contract_a.number
    assert contract["status"] == ContractStatus.IN_PROGRESS
    assert contract["provider"] == {"id": w.provider_a.pk, "name": w.provider_a.name, "uscc": w.provider_a.uscc}
    assert contract["enterprise"]["county"]["code"] == w.county_a.code
    assert contract["amount"] == "300000.00"
    case = client.get(detail_url("cases", w.case_a.pk)).json()
    assert case["ground"] == 2 and "第十二条" in case["ground_wording"]
    assert case["contract"]["id"] == w.contract_a.pk
    survey = client.get(detail_url("surveys", w.rating_b.pk)).json()
    assert survey["overall"] == "dissatisfied"
    assert survey["provider"]["id"] == w.provider_b.pk
    assert survey["enterprise"]["id"] == w.enterprise_b.pk


def test_lists_paginate(client, w):
    client.force_login(w.officer)
    first = client.get(list_url("contracts"), {"page_size": 2}).json()
    assert first["count"] == 3 and len(first["results"]) == 2
    assert first["next"] == "/api/v1/me/contracts/?page=2&page_size=2"
    second = client.get(list_url("contracts"), {"page_size": 2, "page": 2}).json()
    assert len(second["results"]) == 1 and second["next"] is None
    assert second["previous"] == "/api/v1/me/contracts/?page_size=2"
    ids = [row["id"] for row in first["results"] + second["results"]]
    assert sorted(ids) == sorted(w.own["officer"]["contracts"])
    assert client.get(list_url("contracts"), {"page": 9}).status_code == 404


def test_filters_and_their_errors(client, w):
    client.force_login(w.officer)
    drafts = client.get(list_url("contracts"), {"status": "draft"}).json()["results"]
    assert [row["id"] for row in drafts] == [w.draft_a.pk]
    submitted = client.get(list_url("complaints"), {"status": ComplaintStatus.SUBMITTED}).json()["results"]
    assert [row["id"] for row in submitted] == [w.submitted_complaint_a.pk]
    draft_cases = client.get(list_url("cases"), {"status": "draft"}).json()["results"]
    assert [row["id"] for row in draft_cases] == [w.draft_case_a.pk]
    unhappy = client.get(list_url("surveys"), {"overall": "dissatisfied"}).json()["results"]
    assert [row["id"] for row in unhappy] == [w.rating_b.pk]
    for endpoint, params in [
        ("contracts", {"status": "signed-ish"}),
        ("contracts", {"updated_since": "yesterday"}),
        ("cases", {"status": "open"}),
        ("complaints", {"status": 1}),
        ("surveys", {"overall": "meh"}),
    ]:
        response = client.get(list_url(endpoint), params)
        assert response.status_code == 400, (endpoint, params)
        assert set(response.json()) == set(params)


def test_contracts_updated_since(client, w):
    later = timezone.now() + timedelta(days=10)
    with travel(later):
        new = ServiceContractFactory(provider=w.provider_a, enterprise=w.enterprise_a)
        w.contract_b.title = "设备改造数字化转型服务项目（二期）"
        w.contract_b.save()
    client.force_login(w.officer)
    since = (later - timedelta(days=1)).isoformat()
    rows = client.get(list_url("contracts"), {"updated_since": since}).json()["results"]
    assert {row["id"] for row in rows} == {new.pk, w.contract_b.pk}
    assert client.get(list_url("contracts"), {"updated_since": "2100-01-01T00:00:00Z"}).json()["results"] == []


def test_query_count_of_a_list_does_not_grow_with_its_rows(client, w):
    client.force_login(w.officer)
    counts = []
    for extra in (0, 8):
        for _ in range(extra):
            contract = ServiceContractFactory(
                provider=w.provider_a, enterprise=w.enterprise_a, status=ContractStatus.IN_PROGRESS
            )
            rating(contract, by=w.enterprise_user)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(list_url("contracts")).status_code == 200
            assert client.get(list_url("surveys")).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_role_answers_are_never_cached(client, w):
    key = token_for(w.officer)
    first = client.get(list_url("contracts"), **token_header(key)).json()
    ServiceContractFactory(provider=w.provider_b, enterprise=w.enterprise_b)
    second = client.get(list_url("contracts"), **token_header(key)).json()
    assert second["count"] == first["count"] + 1


# --- Public endpoints are the same for every role -------------------------------------------------------------

PUBLIC_LISTS = [
    "/api/v1/blacklist/",
    "/api/v1/blacklist/history/",
    "/api/v1/providers/",
    "/api/v1/excellent-batches/",
    "/api/v1/announcements/",
    "/api/v1/changes/",
]


@pytest.mark.parametrize("role", [*ROLES, "anonymous", "token"])
def test_public_endpoints_answer_every_role_alike(client, w, role):
    data = public_data(2)
    details = [
        f"/api/v1/blacklist/{data.removed.pk}/",
        f"/api/v1/providers/{data.providers[0].pk}/",
        f"/api/v1/excellent-batches/{data.batch.pk}/",
        f"/api/v1/announcements/{data.announcements[0].pk}/",
    ]
    anonymous = {url: client.get(url).json() for url in PUBLIC_LISTS + details}
    extra = {}
    if role == "token":
        extra = token_header(token_for(UserFactory(role=Role.OFFICER)))
    elif role != "anonymous":
        client.force_login(w.users[role])
    for url, expected in anonymous.items():
        response = client.get(url, **extra)
        assert response.status_code == 200, (role, url)
        assert response.json() == expected, (role, url)


# --- Tokens are issued by the system administrator in the admin ----------------------------------------------


def test_a_token_issued_in_the_admin_works_for_its_account(client, w):
    service_account = UserFactory(role=Role.AUDITOR, username="svc_audit_office")
    client.force_login(w.sysadmin)
    response = client.post("/admin/authtoken/tokenproxy/add/", {"user": service_account.pk})
    assert response.status_code == 302, response.content.decode()[:2000]
    key = Token.objects.get(user=service_account).key
    client.logout()
    response = client.get(list_url("complaints"), **token_header(key))
    assert {row["id"] for row in response.json()["results"]} == w.own["auditor"]["complaints"]
    # Others may not issue tokens.
    client.force_login(w.officer)
    assert client.post("/admin/authtoken/tokenproxy/add/", {"user": w.officer.pk}).status_code == 403
    assert not Token.objects.filter(user=w.officer).exists()
