"""What the audit log covers (issue 8, item 4; GB/T 22239 level 3, security audit): logins, failures, lockouts,
permission denials, views and downloads of confidential files, imports, exports, transitions and permission
changes, each with its actor, time, IP address, object and result.

Each test performs the action the way a user does (through the pages, the admin or the API, from a known
address) and finds the event that records it. Removing the recording makes the test fail."""

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from enterprises.models import PilotEnterprise
from evaluations.models import RectificationCase, RectificationStatus
from providers.models import Provider
from providers.resources import ProviderResource
from tangshan_portal.models import Attachment, AuditEvent, User
from tangshan_portal.roles import Role
from tangshan_portal.services import attachments_of
from tests.enforcement import ordered_case
from tests.factories import (
    TEST_PASSWORD,
    CountyFactory,
    PilotEnterpriseFactory,
    ProviderFactory,
    UserFactory,
    _password_hash,
)
from tests.factories_imports import provider_row, xlsx_bytes
from tests.factories_providers import pdf

pytestmark = pytest.mark.django_db

ADDRESS = "10.20.30.40"
LOGIN = "/accounts/login/"


@pytest.fixture(autouse=True)
def _fast_hashes(settings):
    # Speed only. The factories' hash is made (once per run) before the switch, so later tests still verify it.
    _password_hash()
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]


@pytest.fixture
def client():
    """A test client whose every request comes from ADDRESS."""
    from tests.conftest import PortalClient

    return PortalClient(REMOTE_ADDR=ADDRESS)


def only(action, **filters):
    events = list(AuditEvent.objects.filter(action=action, **filters).order_by("sequence"))
    assert len(events) == 1, [(e.action, e.object_type, e.object_id, e.detail) for e in events]
    return events[0]


def assert_recorded(event, *, actor, obj=None, object_type=None, object_id=None, success=True, username=None):
    """The five things every audit record says: who, when, from where, on what, with which result."""
    if actor is None:
        assert event.actor is None
    else:
        assert event.actor == actor
    assert event.actor_username == (username if username is not None else actor.get_username())
    assert event.at is not None and event.sequence >= 1 and len(event.chain_hash) == 64
    assert event.ip_address == ADDRESS
    if obj is not None:
        object_type, object_id = obj._meta.label, str(obj.pk)
    assert (event.object_type, event.object_id) == (object_type, object_id)
    assert event.object_repr
    assert event.success is success


# --- Logins, failures, lockouts -----------------------------------------------------------------------------


def test_a_login_names_the_account(client):
    user = UserFactory(username="clerk")
    assert client.post(LOGIN, {"username": "clerk", "password": TEST_PASSWORD}).status_code == 302
    assert_recorded(only(AuditEvent.Action.LOGIN), actor=user, obj=user)


def test_a_failed_login_names_the_account_it_tried_without_the_password(client):
    user = UserFactory(username="clerk")
    client.post(LOGIN, {"username": "clerk", "password": "not-the-password"})
    event = only(AuditEvent.Action.LOGIN_FAILED)
    assert_recorded(event, actor=None, obj=user, success=False, username="clerk")
    assert "not-the-password" not in str(event.detail)


def test_a_failed_login_for_an_unknown_name_keeps_the_name_only(client):
    client.post(LOGIN, {"username": "nobody", "password": "guess"})
    event = only(AuditEvent.Action.LOGIN_FAILED)
    assert (event.actor_username, event.object_type, event.ip_address, event.success) == ("nobody", "", ADDRESS, False)


def test_a_lockout_names_the_account_and_the_address(client):
    user = UserFactory(username="clerk")
    for _ in range(5):
        client.post(LOGIN, {"username": "clerk", "password": "not-the-password"})
    lockout = only(AuditEvent.Action.LOGIN_FAILED, detail__failures=5)
    assert_recorded(lockout, actor=None, obj=user, success=False, username="clerk")
    assert lockout.detail["locked_out"] is True


# --- Permission denials: pages, the admin, the API ------------------------------------------------------------


def test_a_refused_page_is_recorded_with_the_view_and_the_record_it_names(client):
    """Guards audit.AuditContextMiddleware/record_denial: every 403 answer is written after the view's
    rollback, naming the page (and its record's id)."""
    user = UserFactory(role=Role.ENTERPRISE)
    client.force_login(user)
    assert client.get(reverse("provider:case_detail", args=[4711])).status_code == 403
    event = only(AuditEvent.Action.PERMISSION_DENIED)
    assert_recorded(event, actor=user, object_type="provider:case_detail", object_id="4711", success=False)
    assert event.path == "/provider/cases/4711/"
    assert event.detail["reason"]  # why: the page's own message


def test_a_refused_admin_page_names_the_model_and_record(client):
    provider = ProviderFactory()
    user = UserFactory(role=Role.ASSESSOR)  # holds no permission on providers
    client.force_login(user)
    assert client.get(reverse("admin:providers_provider_change", args=[provider.pk])).status_code == 403
    event = only(AuditEvent.Action.PERMISSION_DENIED)
    assert_recorded(event, actor=user, object_type="providers.Provider", object_id=str(provider.pk), success=False)


def test_a_refused_api_call_is_recorded_despite_the_apis_rollback(client):
    """DRF rolls the request's transaction back on a 403; the event is written after it."""
    user = UserFactory(role=Role.SYSADMIN)  # no rule for the contracts endpoint
    client.force_login(user)
    assert client.get(reverse("v1:me-contract-list")).status_code == 403
    event = only(AuditEvent.Action.PERMISSION_DENIED)
    assert_recorded(event, actor=user, object_type="v1:me-contract-list", object_id="", success=False)
    assert event.detail["reason"]


def test_a_csrf_failure_is_a_recorded_refusal():
    user = UserFactory(role=Role.ENTERPRISE)
    client = Client(enforce_csrf_checks=True, REMOTE_ADDR=ADDRESS)
    client.force_login(user)
    assert client.post(reverse("logout")).status_code == 403
    event = only(AuditEvent.Action.PERMISSION_DENIED)
    assert (event.actor, event.ip_address, event.success, event.detail["method"]) == (user, ADDRESS, False, "POST")


# --- Confidential records: views and downloads ---------------------------------------------------------------


def test_reading_an_enterprises_dossier_names_the_enterprise(client):
    enterprise = PilotEnterpriseFactory()
    officer = UserFactory(role=Role.OFFICER)
    client.force_login(officer)
    assert client.get(reverse("dossier:detail", args=[enterprise.pk])).status_code == 200
    assert_recorded(only(AuditEvent.Action.DOSSIER_VIEW), actor=officer, obj=PilotEnterprise.objects.get())


@pytest.fixture
def reported_case():
    """A rectification case with the provider's report and one attached file."""
    from evaluations import services

    provider = ProviderFactory()
    officer = UserFactory(role=Role.OFFICER)
    case = ordered_case(provider=provider, officer=officer)
    staff = UserFactory(role=Role.PROVIDER, organisation=provider.organisation)
    services.rectification_respond(case=case, by=staff, report="已整改完毕。", files=[pdf("整改报告.pdf")])
    return case


def test_downloading_a_confidential_file_names_the_file(client, reported_case):
    attachment = attachments_of(reported_case).get()
    officer = UserFactory(role=Role.OFFICER)
    client.force_login(officer)
    url = reverse("provider:case_attachment", args=[reported_case.pk, attachment.pk])
    response = client.get(url)
    assert response.status_code == 200
    assert_recorded(only(AuditEvent.Action.DOWNLOAD), actor=officer, obj=Attachment.objects.get(pk=attachment.pk))


# --- Imports and exports ---------------------------------------------------------------------------------------


def test_an_import_names_the_register_it_wrote_to(client):
    county = CountyFactory()
    officer = UserFactory(role=Role.OFFICER)
    client.force_login(officer)
    content = xlsx_bytes([provider_row(1, county.code)])
    preview = client.post(
        reverse("admin:providers_provider_import"),
        {"format": "0", "import_file": SimpleUploadedFile("providers.xlsx", content)},
    )
    client.post(reverse("admin:providers_provider_process_import"), preview.context["confirm_form"].initial)
    assert Provider.objects.count() == 1
    event = only(AuditEvent.Action.IMPORT)
    assert_recorded(event, actor=officer, object_type="providers.Provider", object_id="")
    assert event.detail["new"] == 1


def test_an_export_names_the_register_it_read(client):
    ProviderFactory()
    auditor = UserFactory(role=Role.AUDITOR)
    client.force_login(auditor)
    data = {"format": "0", "resource": "0"}
    data.update({f"providerresource_{name}": "on" for name in ProviderResource().get_export_order()})
    response = client.post(reverse("admin:providers_provider_export"), data)
    assert response.status_code == 200
    event = only(AuditEvent.Action.EXPORT)
    assert_recorded(event, actor=auditor, object_type="providers.Provider", object_id="")
    assert event.detail["rows"] == 1


# --- Transitions -----------------------------------------------------------------------------------------------


def test_a_transition_names_the_record_its_states_and_who_made_it(client):
    """Guards signals.audit_transition: each state-log row is mirrored into the chain, with the address."""
    provider = ProviderFactory()
    case = ordered_case(provider=provider, officer=UserFactory(role=Role.OFFICER))
    staff = UserFactory(role=Role.PROVIDER, organisation=provider.organisation)
    client.force_login(staff)
    before = set(AuditEvent.objects.values_list("pk", flat=True))
    response = client.post(
        reverse("provider:case_detail", args=[case.pk]), {"action": "report", "report-report": "已整改完毕。"}
    )
    assert response.status_code == 302
    assert RectificationCase.objects.get(pk=case.pk).status == RectificationStatus.RESPONDED
    event = AuditEvent.objects.exclude(pk__in=before).get(action=AuditEvent.Action.TRANSITION)
    assert_recorded(event, actor=staff, obj=case)
    assert (event.detail["transition"], event.detail["source_state"], event.detail["state"]) == (
        "respond",
        RectificationStatus.RECTIFYING,
        RectificationStatus.RESPONDED,
    )


# --- Permission changes ----------------------------------------------------------------------------------------


def test_a_role_given_in_the_admin_names_the_account_and_the_role(client):
    secadmin = UserFactory(role=Role.SECADMIN)
    clerk = UserFactory(full_name="王小明")
    client.force_login(secadmin)
    officer_group = Group.objects.get(name=Role.OFFICER.value)
    data = {
        "username": clerk.username,
        "full_name": clerk.full_name,
        "email": clerk.email,
        "organisation": clerk.organisation_id,
        "is_active": "on",
        "is_staff": "on",
        "groups": [officer_group.pk],
    }
    response = client.post(reverse("admin:portal_user_change", args=[clerk.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    event = only(AuditEvent.Action.PERMISSION_CHANGED, detail__relation="groups", object_id=str(clerk.pk))
    assert_recorded(event, actor=secadmin, obj=User.objects.get(pk=clerk.pk))
    assert event.detail["added"] == [Role.OFFICER.value]


def test_an_administrators_password_reset_names_the_account(client):
    sysadmin = UserFactory(role=Role.SYSADMIN)
    clerk = UserFactory()
    client.force_login(sysadmin)
    client.post(
        reverse("admin:auth_user_password_change", args=[clerk.pk]),
        {"usable_password": "true", "password1": "Lan-hai-2026!", "password2": "Lan-hai-2026!"},
    )
    assert_recorded(only(AuditEvent.Action.PASSWORD_CHANGED), actor=sysadmin, obj=clerk)
