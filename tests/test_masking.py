"""Masking of personal data (issue 8, item 3; Art 10(1) least privilege): phones and contact persons' names are
masked in admin change lists and XLSX exports unless the user holds portal.view_personal_data; a view-only change
form is masked too, while staff who may edit keep the real value; public pages never show phones at all.

Guards: tangshan_portal.masking (the functions, PersonalDataAdminMixin, PersonalDataResourceMixin), the admins and
resources that use them, the roles that hold the permission (roles.PERSONAL_DATA), the dossier page's contact phone
and the public pages and open-data files."""

import io
import json

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from enterprises.resources import PilotEnterpriseResource
from providers.models import ApplicationStatus
from providers.resources import ProviderResource
from tangshan_portal.imports import run_import
from tangshan_portal.masking import mask_email, mask_name, mask_phone, may_see_personal_data
from tangshan_portal.roles import ROLE_PERMISSIONS, Role
from tests.factories import CountyFactory, OrganisationFactory, PilotEnterpriseFactory, ProviderFactory, UserFactory
from tests.factories_providers import submit_application

pytestmark = pytest.mark.django_db

PHONE = "13812345678"
MASKED_PHONE = "138****5678"
CONTACT = "欧阳明远"
MASKED_CONTACT = "欧***"
EMAIL = "ouyang.mingyuan@example.com"


# --- The functions -------------------------------------------------------------------------------------------------


def test_mask_phone():
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("0315-2345678") == "031*-***5678"
    assert mask_phone("+86 138 1234 5678") == "+86 1** **** 5678"
    assert mask_phone("12345") == "***45"
    assert mask_phone("") == "" and mask_phone(None) == ""


def test_mask_name_and_email():
    assert mask_name("王小明") == "王**"
    assert mask_name("王明") == "王*"
    assert mask_name("John Smith") == "J*** *****"
    assert mask_name("") == ""
    assert mask_email(EMAIL) == "o***@example.com"
    assert mask_email("") == ""


# --- Who holds the permission --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (Role.OFFICER, True),
        (Role.COUNTY, True),
        (Role.ASSESSOR, True),
        (Role.SYSADMIN, True),
        (Role.APPROVER, False),
        (Role.AUDITOR, False),
        (Role.SECADMIN, False),
        (Role.PROVIDER, False),
        (Role.ENTERPRISE, False),
    ],
)
def test_the_roles_that_contact_people_see_personal_data(role, allowed):
    assert ("portal.view_personal_data" in ROLE_PERMISSIONS[role]) is allowed
    assert may_see_personal_data(UserFactory(role=role)) is allowed


# --- Admin change lists and forms ----------------------------------------------------------------------------------


@pytest.fixture
def provider(db):
    return ProviderFactory(
        name="唐山联络数字科技有限公司", contact_name=CONTACT, contact_phone=PHONE, contact_email=EMAIL
    )


def _page(client, user, url):
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def test_provider_change_list_masks_for_roles_without_the_permission(client, provider, officer):
    url = reverse("admin:providers_provider_changelist")
    for user in (UserFactory(role=Role.AUDITOR), UserFactory(role=Role.APPROVER)):
        body = _page(client, user, url)
        assert MASKED_PHONE in body and MASKED_CONTACT in body
        assert PHONE not in body and CONTACT not in body
    body = _page(client, officer, url)
    assert PHONE in body and CONTACT in body and MASKED_PHONE not in body


def test_a_view_only_change_form_is_masked_and_an_editable_one_is_not(client, provider, officer):
    url = reverse("admin:providers_provider_change", args=[provider.pk])
    body = _page(client, UserFactory(role=Role.AUDITOR), url)
    assert MASKED_PHONE in body and MASKED_CONTACT in body and "o***@example.com" in body
    assert PHONE not in body and CONTACT not in body and EMAIL not in body
    body = _page(client, officer, url)
    assert f'value="{PHONE}"' in body and f'value="{CONTACT}"' in body


def test_enterprise_list_and_form_follow_the_same_rule(client, officer):
    county = CountyFactory(code="130203")
    enterprise = PilotEnterpriseFactory(county=county, contact_name=CONTACT, contact_phone=PHONE)
    county_user = UserFactory(role=Role.COUNTY, organisation=OrganisationFactory(county_bureau=True, county=county))
    changelist = reverse("admin:enterprises_pilotenterprise_changelist")
    change = reverse("admin:enterprises_pilotenterprise_change", args=[enterprise.pk])
    for user in (county_user, officer):
        assert PHONE in _page(client, user, changelist)
    approver = UserFactory(role=Role.APPROVER)
    for url in (changelist, change):
        body = _page(client, approver, url)
        assert MASKED_PHONE in body and PHONE not in body and CONTACT not in body
    # The county bureau may only view the record, but holds the permission: the real value.
    assert PHONE in _page(client, county_user, change)


def test_application_contact_and_applicant_account_are_masked_for_the_approver(client, officer):
    application = submit_application(username="mask_applicant", name="唐山申请联络科技有限公司")
    type(application).objects.filter(pk=application.pk).update(contact_name=CONTACT, contact_phone=PHONE)
    type(application.applicant).objects.filter(pk=application.applicant_id).update(phone="13900001111")
    assert application.status == ApplicationStatus.SUBMITTED
    url = reverse("admin:providers_providerapplication_change", args=[application.pk])
    body = _page(client, UserFactory(role=Role.APPROVER), url)
    assert MASKED_PHONE in body and "139****1111" in body
    assert PHONE not in body and "13900001111" not in body and CONTACT not in body
    body = _page(client, officer, url)
    assert PHONE in body and "13900001111" in body


def test_user_list_masks_names_for_the_auditor_and_security_administrator(client):
    UserFactory(username="named_user", full_name="司马相如")
    url = reverse("admin:portal_user_changelist")
    for role in (Role.AUDITOR, Role.SECADMIN):
        body = _page(client, UserFactory(role=role), url)
        assert "named_user" in body and "司**" in body and "司马相如" not in body
    assert "司马相如" in _page(client, UserFactory(role=Role.SYSADMIN), url)


# --- Exports -------------------------------------------------------------------------------------------------------


def _export(client, user, url, resource):
    client.force_login(user)
    data = {"format": "0", "resource": "0"}
    data.update({f"{resource.__name__.lower()}_{name}": "on" for name in resource().get_export_order()})
    response = client.post(url, data)
    assert response.status_code == 200, response.content[:300]
    content = b"".join(response.streaming_content) if response.streaming else response.content
    sheet = load_workbook(io.BytesIO(content)).active
    header = [cell.value for cell in sheet[1]]
    return [dict(zip(header, [cell.value for cell in row], strict=True)) for row in sheet.iter_rows(min_row=2)]


def test_provider_export_is_masked_without_the_permission(client, provider, officer):
    url = reverse("admin:providers_provider_export")
    [row] = _export(client, UserFactory(role=Role.AUDITOR), url, ProviderResource)
    assert (row["联系人"], row["联系电话"], row["联系邮箱"]) == (MASKED_CONTACT, MASKED_PHONE, "o***@example.com")
    assert row["企业名称"] == provider.name  # the rest as stored
    [row] = _export(client, officer, url, ProviderResource)
    assert (row["联系人"], row["联系电话"], row["联系邮箱"]) == (CONTACT, PHONE, EMAIL)


def test_enterprise_export_is_masked_without_the_permission(client, officer):
    PilotEnterpriseFactory(contact_name=CONTACT, contact_phone=PHONE)
    url = reverse("admin:enterprises_pilotenterprise_export")
    [row] = _export(client, UserFactory(role=Role.APPROVER), url, PilotEnterpriseResource)
    assert (row["联系人"], row["联系电话"]) == (MASKED_CONTACT, MASKED_PHONE)
    [row] = _export(client, officer, url, PilotEnterpriseResource)
    assert (row["联系人"], row["联系电话"]) == (CONTACT, PHONE)


def test_an_export_without_a_user_is_masked_and_reading_it_back_keeps_the_real_values(db):
    enterprise = PilotEnterpriseFactory(contact_name=CONTACT, contact_phone=PHONE, sub_industry="通用设备制造")
    dataset = PilotEnterpriseResource().export()
    row = dict(zip(dataset.headers, dataset[0], strict=True))
    assert (row["联系人"], row["联系电话"]) == (MASKED_CONTACT, MASKED_PHONE)
    # Someone edits another column of the masked file and imports it: the masks are not written over the data.
    column = dataset.headers.index("细分行业")
    dataset[0] = tuple("专用设备制造" if i == column else value for i, value in enumerate(dataset[0]))
    outcome = run_import(PilotEnterpriseResource(), dataset, dry_run=False)
    assert outcome.ok, outcome.errors
    enterprise.refresh_from_db()
    assert (enterprise.contact_name, enterprise.contact_phone, enterprise.sub_industry) == (
        CONTACT,
        PHONE,
        "专用设备制造",
    )


# --- The dossier page and the public ------------------------------------------------------------------------------


def test_the_dossier_shows_the_contact_phone_only_to_who_contacts_people(client, officer):
    enterprise = PilotEnterpriseFactory(contact_name=CONTACT, contact_phone=PHONE)
    url = reverse("dossier:detail", args=[enterprise.pk])
    assert PHONE in _page(client, officer, url)
    assert PHONE in _page(client, UserFactory(role=Role.ENTERPRISE, organisation=enterprise.organisation), url)
    for role in (Role.APPROVER, Role.AUDITOR):
        assert PHONE not in _page(client, UserFactory(role=role), url)


def test_public_pages_and_open_data_never_show_phones(client, provider):
    pages = [
        reverse("public:provider_directory"),
        reverse("public:provider_detail", args=[provider.pk]),
        reverse("v1:provider-list"),
        reverse("v1:provider-detail", args=[provider.pk]),
        *(reverse("downloads:file", kwargs={"slug": "providers", "fmt": fmt}) for fmt in ("csv", "json")),
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        content = b"".join(response.streaming_content) if response.streaming else response.content
        text = content.decode()
        for personal in (PHONE, MASKED_PHONE, CONTACT, EMAIL):
            assert personal not in text, (url, personal)
    response = client.get(reverse("downloads:file", kwargs={"slug": "providers", "fmt": "xlsx"}))
    content = b"".join(response.streaming_content) if response.streaming else response.content
    values = json.dumps(
        [[cell.value for cell in row] for sheet in load_workbook(io.BytesIO(content)) for row in sheet.iter_rows()],
        ensure_ascii=False,
        default=str,
    )
    assert PHONE not in values and CONTACT not in values
