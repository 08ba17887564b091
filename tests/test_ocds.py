"""The contracts as an OCDS 1.1 release package (/downloads/contracts-ocds.json).

The OCDS schema is not available offline, so these tests check the structure the standard requires of a package
and of each release, the codelist values used, and that references between the objects resolve."""

import re
from datetime import date
from decimal import Decimal

import pytest
from django.conf import settings
from django.test import override_settings
from django.urls import reverse

from enterprises.models import ChangeRequest, ContractStatus, Milestone
from opendata import ocds
from tangshan_portal.roles import Role
from tests.enforcement import at, travel
from tests.factories import PilotEnterpriseFactory, ProviderFactory, UserFactory
from tests.factories_downloads import agreed_change, body, contract, read_json

pytestmark = pytest.mark.django_db

URL = "/downloads/contracts-ocds.json"
DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})$")
URL_SAFE = re.compile(r"^[A-Za-z0-9\-._~%]+$")
PACKAGE_REQUIRED = ("uri", "version", "publishedDate", "publisher", "releases")
RELEASE_REQUIRED = ("ocid", "id", "date", "tag", "initiationType")
# From the OCDS 1.1 codelists.
RELEASE_TAG_CODELIST = {
    "planning",
    "planningUpdate",
    "tender",
    "tenderAmendment",
    "tenderUpdate",
    "tenderCancellation",
    "award",
    "awardUpdate",
    "awardCancellation",
    "contract",
    "contractUpdate",
    "contractAmendment",
    "implementation",
    "implementationUpdate",
    "contractTermination",
    "compiled",
}
CONTRACT_STATUS_CODELIST = {"pending", "active", "cancelled", "terminated"}
AWARD_STATUS_CODELIST = {"pending", "active", "cancelled", "unsuccessful"}
MILESTONE_STATUS_CODELIST = {"scheduled", "met", "notMet", "partiallyMet"}
MILESTONE_TYPE_CODELIST = {
    "preProcurement",
    "approval",
    "engagement",
    "assessment",
    "delivery",
    "reporting",
    "financing",
}
PARTY_ROLE_CODELIST = {
    "buyer",
    "procuringEntity",
    "supplier",
    "tenderer",
    "funder",
    "enquirer",
    "payer",
    "payee",
    "reviewBody",
    "interestedParty",
}


def package(client):
    response = client.get(URL)
    assert response.status_code == 200
    return read_json(response)


def release_of(data, number):
    found = [r for r in data["releases"] if r["contracts"][0]["id"] == number]
    assert len(found) == 1, number
    return found[0]


def test_the_package_has_the_required_fields(client):
    contract()
    with travel(at(2026, 11, 29, 12, 30)):
        response = client.get(URL)
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="contracts-ocds-20261129T1230+0800.json"'
    assert response["X-Generated-At"] == "2026-11-29T12:30:00+08:00"
    data = read_json(response)
    for field in PACKAGE_REQUIRED:
        assert field in data, field
    assert data["version"] == "1.1"
    assert data["uri"] == "http://testserver/downloads/contracts-ocds.json"
    assert data["publishedDate"] == "2026-11-29T12:30:00+08:00"
    assert data["publisher"] == {"name": settings.PORTAL_AUTHORITY_NAME}
    assert data["publicationPolicy"] == "http://testserver/downloads/"
    assert len(data["releases"]) == 1


def test_an_empty_package_is_valid_json(client):
    data = package(client)
    assert data["releases"] == []


def test_every_release_has_the_required_fields_and_codelist_values(client):
    for status in (
        ContractStatus.SIGNED,
        ContractStatus.IN_PROGRESS,
        ContractStatus.INTERNALLY_ACCEPTED,
        ContractStatus.ACCEPTED,
        ContractStatus.FAILED,
        ContractStatus.TERMINATED,
    ):
        contract(status=status)
    agreed_change(contract(status=ContractStatus.IN_PROGRESS), new_amount=Decimal("350000.00"))
    data = package(client)
    assert len(data["releases"]) == 7
    ids = set()
    for release in data["releases"]:
        for field in RELEASE_REQUIRED:
            assert release[field], field
        assert release["initiationType"] == "tender"
        assert release["tag"] and set(release["tag"]) <= RELEASE_TAG_CODELIST
        assert release["ocid"].startswith(settings.OCDS_OCID_PREFIX)
        assert release["id"].startswith(release["ocid"] + "-")
        assert DATETIME.match(release["date"])
        ids.add(release["id"])
        party_ids = {party["id"] for party in release["parties"]}
        assert len(party_ids) == len(release["parties"])
        for party in release["parties"]:
            assert set(party["roles"]) <= PARTY_ROLE_CODELIST
        # Every reference to an organisation resolves to a party of the release.
        assert release["buyer"]["id"] in party_ids
        (award,) = release["awards"]
        (signed,) = release["contracts"]
        assert award["status"] in AWARD_STATUS_CODELIST
        assert {s["id"] for s in award["suppliers"]} <= party_ids
        assert signed["awardID"] == award["id"]
        assert signed["status"] in CONTRACT_STATUS_CODELIST
        assert signed["value"]["currency"] == "CNY"
        assert isinstance(signed["value"]["amount"], float | int)
        for moment in (signed["period"]["startDate"], signed["period"]["endDate"], signed["dateSigned"]):
            assert DATETIME.match(moment)
        for milestone in signed["milestones"]:
            assert milestone["status"] in MILESTONE_STATUS_CODELIST
            assert milestone["type"] in MILESTONE_TYPE_CODELIST
            assert DATETIME.match(milestone["dueDate"])
    assert len(ids) == 7


def test_drafts_are_not_published(client):
    draft = contract(status=ContractStatus.DRAFT, number="DRAFT-2026-0001")
    signed = contract(status=ContractStatus.SIGNED, number="SIGNED-2026-0001")
    data = package(client)
    assert [r["contracts"][0]["id"] for r in data["releases"]] == [signed.number]
    assert draft.number.encode() not in body(client.get(URL))
    assert client.get(reverse("downloads:index")).context["ocds_count"] == 1


@pytest.mark.parametrize(
    ("status", "ocds_status", "tag"),
    [
        (ContractStatus.SIGNED, "active", ["contract"]),
        (ContractStatus.IN_PROGRESS, "active", ["contract"]),
        (ContractStatus.INTERNALLY_ACCEPTED, "active", ["contract"]),
        (ContractStatus.ACCEPTED, "terminated", ["contractTermination"]),
        (ContractStatus.FAILED, "terminated", ["contractTermination"]),
        (ContractStatus.TERMINATED, "terminated", ["contractTermination"]),
    ],
)
def test_contract_status_and_tag_mapping(client, status, ocds_status, tag):
    made = contract(status=status)
    release = release_of(package(client), made.number)
    assert release["contracts"][0]["status"] == ocds_status
    assert release["tag"] == tag


def test_every_contract_status_but_draft_has_a_mapping():
    assert set(ocds.CONTRACT_STATUS) == set(ContractStatus.values) - {ContractStatus.DRAFT}
    assert set(ocds.CONTRACT_STATUS.values()) <= CONTRACT_STATUS_CODELIST
    assert ocds.RELEASE_TAGS <= RELEASE_TAG_CODELIST
    assert ocds.MILESTONE_STATUSES == MILESTONE_STATUS_CODELIST
    assert ocds.PARTY_ROLES <= PARTY_ROLE_CODELIST


def test_agreed_changes_are_amendments_others_are_not(client):
    made = contract(status=ContractStatus.IN_PROGRESS, number="AMEND-2026-0001")
    change = agreed_change(made, new_end_on=date(2026, 12, 31), new_amount=Decimal("320000.00"))
    user = UserFactory(role=Role.PROVIDER, organisation=made.provider.organisation)
    for status in (ChangeRequest.Status.PROPOSED, ChangeRequest.Status.DECLINED):
        ChangeRequest.objects.create(
            contract=made,
            description="未被同意的变更",
            reason="内部原因不公开",
            status=status,
            proposed_by=user,
            proposed_at=made.updated_at,
            decided_at=made.updated_at if status == ChangeRequest.Status.DECLINED else None,
        )
    untouched = contract(status=ContractStatus.IN_PROGRESS, number="PLAIN-2026-0001")
    data = package(client)
    release = release_of(data, made.number)
    assert release["tag"] == ["contractAmendment"]
    (amendment,) = release["contracts"][0]["amendments"]
    assert amendment["id"] == str(change.pk)
    assert DATETIME.match(amendment["date"])
    assert "2026-12-31" in amendment["description"]
    assert "320000.00" in amendment["description"]
    plain = release_of(data, untouched.number)
    assert plain["tag"] == ["contract"]
    assert "amendments" not in plain["contracts"][0]
    # Free-text reasons and descriptions of change requests are not published.
    text = body(client.get(URL)).decode()
    for free_text in ("增加设备联网数量", "企业新增产线", "未被同意的变更", "内部原因不公开"):
        assert free_text not in text


def test_a_terminated_amended_contract_is_tagged_as_terminated(client):
    made = contract(status=ContractStatus.TERMINATED)
    agreed_change(made, new_amount=Decimal("310000.00"))
    release = release_of(package(client), made.number)
    assert release["tag"] == ["contractTermination"]
    assert release["contracts"][0]["amendments"]


def test_parties_buyer_supplier_and_funder(client):
    provider = ProviderFactory(name="唐山供给科技有限公司")
    enterprise = PilotEnterpriseFactory(name="唐山采购制造有限公司")
    subsidised = contract(provider=provider, enterprise=enterprise, subsidy=Decimal("100000.00"))
    unsubsidised = contract(provider=provider, enterprise=enterprise, subsidy=Decimal("0"))
    data = package(client)
    release = release_of(data, subsidised.number)
    parties = {tuple(p["roles"]): p for p in release["parties"]}
    supplier, buyer, funder = parties[("supplier",)], parties[("buyer",)], parties[("funder",)]
    assert supplier["name"] == "唐山供给科技有限公司"
    assert supplier["identifier"] == {"scheme": "CN-SAIC", "id": provider.uscc, "legalName": provider.name}
    assert supplier["id"] == f"CN-SAIC-{provider.uscc}"
    assert buyer["identifier"]["id"] == enterprise.uscc
    assert release["buyer"] == {"id": buyer["id"], "name": "唐山采购制造有限公司"}
    assert release["awards"][0]["suppliers"] == [{"id": supplier["id"], "name": supplier["name"]}]
    assert funder["name"] == settings.PORTAL_AUTHORITY_NAME
    other = release_of(data, unsubsidised.number)
    assert sorted(r for p in other["parties"] for r in p["roles"]) == ["buyer", "supplier"]


def test_value_period_and_items(client):
    made = contract(
        amount=Decimal("300000.00"), start_on=date(2026, 3, 1), end_on=date(2026, 9, 30), items=2, milestones=0
    )
    signed = release_of(package(client), made.number)["contracts"][0]
    assert signed["value"] == {"amount": 300000.0, "currency": "CNY"}
    assert signed["period"] == {"startDate": "2026-03-01T00:00:00+08:00", "endDate": "2026-09-30T23:59:59+08:00"}
    assert signed["dateSigned"] == "2026-02-25T00:00:00+08:00"
    assert signed["items"] == [
        {
            "id": str(item.pk),
            "description": item.name,
            "quantity": 2.0,
            "unit": {"name": "套", "value": {"amount": 60000.0, "currency": "CNY"}},
        }
        for item in made.procurement_items.order_by("id")
    ]


def test_milestones_are_mapped_to_the_milestone_status_codelist(client):
    made = contract(status=ContractStatus.IN_PROGRESS, milestones=0)
    reported = at(2026, 5, 30)
    done = Milestone.objects.create(
        contract=made,
        name="设备联网",
        planned_on=date(2026, 5, 31),
        weight=40,
        reported_progress=100,
        reported_at=reported,
    )
    half = Milestone.objects.create(
        contract=made,
        name="数据采集",
        planned_on=date(2026, 6, 30),
        weight=30,
        reported_progress=50,
        reported_at=reported,
    )
    missed = Milestone.objects.create(contract=made, name="看板上线", planned_on=date(2026, 6, 30), weight=20)
    ahead = Milestone.objects.create(contract=made, name="系统验收", planned_on=date(2026, 9, 15), weight=10)
    with travel(at(2026, 7, 15)):
        milestones = {m["id"]: m for m in release_of(package(client), made.number)["contracts"][0]["milestones"]}
    assert milestones[str(done.pk)]["status"] == "met"
    assert milestones[str(done.pk)]["dateMet"] == "2026-05-30T10:00:00+08:00"
    assert milestones[str(half.pk)]["status"] == "partiallyMet"
    assert milestones[str(missed.pk)]["status"] == "notMet"
    assert milestones[str(ahead.pk)]["status"] == "scheduled"
    assert milestones[str(ahead.pk)]["title"] == "系统验收"
    assert milestones[str(ahead.pk)]["dueDate"] == "2026-09-15T23:59:59+08:00"


def test_the_release_id_changes_when_the_contract_changes(client):
    with travel(at(2026, 3, 1)):
        made = contract(status=ContractStatus.SIGNED)
        first = release_of(package(client), made.number)
    with travel(at(2026, 3, 2)):
        made.status = ContractStatus.IN_PROGRESS
        made.save()
        second = release_of(package(client), made.number)
    assert first["ocid"] == second["ocid"]
    assert first["id"] != second["id"]
    assert second["id"] == f"{second['ocid']}-20260302T020000Z"
    assert second["date"] == "2026-03-02T10:00:00+08:00"


@override_settings(OCDS_OCID_PREFIX="ocds-abc123-")
def test_the_ocid_prefix_follows_the_setting(client):
    made = contract(number="TS-2026-0042")
    data = package(client)
    assert data["releases"][0]["ocid"] == "ocds-abc123-TS-2026-0042"
    assert client.get(reverse("downloads:index")).context["ocds_prefix"] == "ocds-abc123-"
    assert release_of(data, made.number)["awards"][0]["id"] == "ocds-abc123-TS-2026-0042-award"


def test_ocids_are_url_safe_and_distinct(client):
    numbers = ["唐工信合〔2026〕1号", "TS 2026/1", "TS-2026-1", "TS_2026.1~a"]
    for number in numbers:
        contract(number=number)
    ocids = [r["ocid"] for r in package(client)["releases"]]
    assert len(set(ocids)) == len(numbers)
    for ocid in ocids:
        assert URL_SAFE.match(ocid), ocid
    assert f"{settings.OCDS_OCID_PREFIX}TS-2026-1" in ocids


def test_no_personal_data(client):
    enterprise = PilotEnterpriseFactory(contact_name="李联系", contact_phone="13900000000")
    provider = ProviderFactory(contact_name="王联系", contact_phone="13800000000", legal_representative="赵法人")
    made = contract(provider=provider, enterprise=enterprise)
    agreed_change(made, new_amount=Decimal("301000.00"))
    text = body(client.get(URL)).decode()
    for personal in ("李联系", "13900000000", "王联系", "13800000000", "赵法人", "测试用户"):
        assert personal not in text


def test_query_count_does_not_grow_with_the_contracts(client, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for total in (5, 50):
        while len(package(client)["releases"]) < total:
            agreed_change(contract(items=2, milestones=2), new_amount=Decimal("310000.00"))
        # The request's savepoint (2), then the contracts (with provider and enterprise), items, milestones and
        # agreed changes: one query each.
        with django_assert_max_num_queries(6), CaptureQueriesContext(connection) as queries:
            assert len(package(client)["releases"]) == total
        counts.append(len(queries))
    assert counts[0] == counts[1]


@pytest.mark.parametrize("role", [None, *Role.values])
def test_everyone_may_download_the_package(client, role):
    contract(number="PUBLIC-2026-0001")
    if role:
        client.force_login(UserFactory(role=role))
    assert [r["contracts"][0]["id"] for r in package(client)["releases"]] == ["PUBLIC-2026-0001"]


def test_only_safe_methods_are_allowed(client):
    assert client.post(URL).status_code == 405
    assert client.head(URL).status_code == 200
