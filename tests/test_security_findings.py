"""Security findings of issue 8's review, each with the control that fixes it. Every test names the control it
guards and fails when that control is removed.

1. The client address behind a proxy (audit log and lockout): the entry the trusted proxy appended, never the
   left-most X-Forwarded-For entry the client chose.
2. County bureaus do not read the provider pool's admission files and registration changes (least privilege).
3. The contract admin cannot change what the parties agreed (parties, amounts, dates): the services do.
4. Users of a deactivated organisation cannot log in (with a clear message) nor keep a session or an API token.
5. A password an administrator set (a reset, a new account) must be changed at the next login.
6. API tokens expire after PORTAL_API_TOKEN_HOURS.
7. The daily housekeeping runs as Celery beat tasks: audit verification (alerting), audit purge, clearsessions.
8. The system administrator cannot set the security administrator's or the auditor's password.
"""

import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from importlib import import_module

import pytest
import time_machine
from axes.models import AccessAttempt
from django.conf import settings as django_settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django_celery_beat.models import PeriodicTask
from rest_framework.authtoken.models import Token

from enterprises.models import ServiceContract
from tangshan_portal import tasks
from tangshan_portal.audit import client_ip, record_event
from tangshan_portal.models import AuditCheckpoint, AuditEvent, Notification, Organisation, User
from tangshan_portal.passwords import PASSWORD_SET_BY_ADMINISTRATOR, password_expired
from tangshan_portal.roles import ROLE_PERMISSIONS, Role, may_set_password
from tangshan_portal.schedules import PERIODIC_TASKS, Daily, sync_schedules
from tests.factories import (
    TEST_PASSWORD,
    OrganisationFactory,
    ServiceContractFactory,
    UserFactory,
    _password_hash,
)
from tests.factories_providers import RegistrationChangeFactory, submit_application

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
PRIVATE = "/notifications/"  # any login_required page
NEW_PASSWORD = "Lan-hai-2026!"
PROXY = "10.0.0.1"  # the reverse proxy, as the web server sees it
CLIENT = "203.0.113.9"  # the client, as the proxy saw it and appended


@pytest.fixture(autouse=True)
def _fast_hashes(settings):
    # Speed only (the controls do not depend on the hash function); PBKDF2 stays so the factories' hashes verify.
    # The factories' hash is made (once per run) before the switch, so later tests can still verify it.
    _password_hash()
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]


def _post_login(client, username, password, url=LOGIN, **meta):
    meta.setdefault("REMOTE_ADDR", "10.0.0.7")
    return client.post(url, {"username": username, "password": password}, **meta)


def _logged_in(client):
    return client.get(PRIVATE).status_code == 200


# --- 1. The client address behind a proxy -----------------------------------------------------------------------


@pytest.fixture
def behind_proxy(settings):
    """A production deployment behind one TLS proxy (DJANGO_BEHIND_TLS_PROXY)."""
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.PORTAL_TRUSTED_PROXY_COUNT = 1
    return settings


def _via_proxy(forged):
    """The request's META after the proxy appended the address it received the request from."""
    header = f"{forged}, {CLIENT}" if forged else CLIENT
    return {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": header}


def test_a_forged_left_most_forwarded_for_does_not_change_the_recorded_address(client, behind_proxy):
    """Guards audit.client_ip: the entry the trusted proxy appended (right-most), not the client's left-most."""
    UserFactory(username="clerk")
    assert _post_login(client, "clerk", TEST_PASSWORD, **_via_proxy("198.51.100.66")).status_code == 302
    login = AuditEvent.objects.get(action=AuditEvent.Action.LOGIN)
    assert login.ip_address == CLIENT


def test_a_forged_left_most_address_does_not_escape_the_lockout(client, behind_proxy):
    """Guards AXES_CLIENT_IP_CALLABLE = audit.client_ip: the lockout keys on the same trusted address, so a new
    forged address on every attempt neither spreads the failures nor lifts the lock."""
    UserFactory(username="clerk")
    for n in range(5):
        _post_login(client, "clerk", "wrong-password", **_via_proxy(f"198.51.100.{n + 1}"))
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {CLIENT}
    refused = _post_login(Client(), "clerk", TEST_PASSWORD, **_via_proxy("192.0.2.200"))
    assert refused.status_code == 429
    failures = AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN_FAILED)
    assert set(failures.values_list("ip_address", flat=True)) == {CLIENT}
    # The lock is the client's, not the proxy's: another client behind the same proxy still logs in.
    other = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "203.0.113.10"}
    assert _post_login(Client(), "clerk", TEST_PASSWORD, **other).status_code == 302


def _request(meta):
    from django.test import RequestFactory

    return RequestFactory().get("/", **meta)


def test_the_address_is_counted_from_the_right_by_the_number_of_trusted_proxies(settings):
    """Guards PORTAL_TRUSTED_PROXY_COUNT: behind two proxies the client's address is the second from the right;
    without a proxy the header is ignored; a header short of entries or not an address falls back to REMOTE_ADDR."""
    chain = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "198.51.100.66, 203.0.113.9, 10.0.0.2"}
    settings.PORTAL_TRUSTED_PROXY_COUNT = 2
    assert client_ip(_request(chain)) == "203.0.113.9"
    settings.PORTAL_TRUSTED_PROXY_COUNT = 1
    assert client_ip(_request(chain)) == "10.0.0.2"
    settings.PORTAL_TRUSTED_PROXY_COUNT = 0
    assert client_ip(_request(chain)) == PROXY
    settings.PORTAL_TRUSTED_PROXY_COUNT = 2
    assert client_ip(_request({"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "203.0.113.9"})) == PROXY
    assert client_ip(_request({"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "nonsense, 10.0.0.2"})) == PROXY


def test_the_proxy_count_comes_from_the_environment(monkeypatch):
    """Guards the setting: one proxy by default behind the TLS proxy, none otherwise, a negative count refused."""
    import runpy
    from pathlib import Path

    from django.core.exceptions import ImproperlyConfigured

    path = str(Path(django_settings.BASE_DIR) / "tangshan_portal" / "settings.py")
    monkeypatch.setenv("DJANGO_DEBUG", "0")
    monkeypatch.setenv("DJANGO_SECRET_KEY", "x" * 60)
    monkeypatch.setenv("DJANGO_ALLOWED_HOSTS", "portal.example.cn")
    monkeypatch.setenv("PORTAL_ENCRYPTION_KEYS", "test1:dGVzdC1vbmx5LWtleS0xNg==")
    assert runpy.run_path(path)["PORTAL_TRUSTED_PROXY_COUNT"] == 0
    monkeypatch.setenv("DJANGO_BEHIND_TLS_PROXY", "1")
    assert runpy.run_path(path)["PORTAL_TRUSTED_PROXY_COUNT"] == 1
    monkeypatch.setenv("PORTAL_TRUSTED_PROXY_COUNT", "2")
    assert runpy.run_path(path)["PORTAL_TRUSTED_PROXY_COUNT"] == 2
    monkeypatch.setenv("PORTAL_TRUSTED_PROXY_COUNT", "-1")
    with pytest.raises(ImproperlyConfigured):
        runpy.run_path(path)


# --- 2. County bureaus and the provider pool's files ----------------------------------------------------------


def test_county_bureaus_hold_no_permission_on_admission_files_or_registration_changes():
    """Guards roles.PROVIDER_FILES_READ being left out of the county role; the bureau roles keep it."""
    county = set(ROLE_PERMISSIONS[Role.COUNTY])
    for name in ("providers.view_providerapplication", "providers.view_registrationchange"):
        assert name not in county
        for role in (Role.OFFICER, Role.APPROVER, Role.AUDITOR):
            assert name in ROLE_PERMISSIONS[role]


def test_a_county_officer_cannot_open_the_applications_or_registration_changes(client):
    """Guards the same in the admin: the city-wide lists and their records answer 403 to county staff."""
    application = submit_application()
    change = RegistrationChangeFactory()
    county_user = UserFactory(role=Role.COUNTY, organisation=OrganisationFactory(county_bureau=True))
    officer = UserFactory(role=Role.OFFICER)
    urls = [
        reverse("admin:providers_providerapplication_changelist"),
        reverse("admin:providers_providerapplication_change", args=[application.pk]),
        reverse("admin:providers_registrationchange_changelist"),
        reverse("admin:providers_registrationchange_change", args=[change.pk]),
    ]
    client.force_login(county_user)
    for url in urls:
        assert client.get(url).status_code == 403, url
    index = client.get(reverse("admin:index")).content.decode()
    assert reverse("admin:providers_providerapplication_changelist") not in index
    client.force_login(officer)
    for url in urls:
        assert client.get(url).status_code == 200, url


# --- 3. The contract admin and what the parties agreed ----------------------------------------------------------


def _unchanged_form(response):
    """The admin change form as a browser would post it back unchanged (fields and inline management forms)."""
    data = {}
    form = response.context["adminform"].form
    for name in form.fields:
        value = form[name].value()
        if value in (None, False, ""):
            continue
        data[name] = [str(v) for v in value] if isinstance(value, list | tuple) else str(value)
    for inline in response.context["inline_admin_formsets"]:
        for bound in inline.formset.management_form:
            data[bound.html_name] = str(bound.value())
    return data


def test_the_contract_admin_cannot_change_parties_amounts_or_dates(client, officer):
    """Guards ServiceContractAdmin.agreed_fields: read-only once the contract exists, so a crafted POST changes
    nothing of what the parties agreed (the services do: the provider's draft, agreed change requests)."""
    contract = ServiceContractFactory()
    other = ServiceContractFactory()
    url = reverse("admin:enterprises_servicecontract_change", args=[contract.pk])
    client.force_login(officer)
    page = client.get(url)
    assert page.status_code == 200
    shown = page.context["adminform"].form.fields
    for name in ServiceContractFactory._meta.model._meta.get_fields():
        if name.name in ("amount", "provider", "start_on", "end_on", "number"):
            assert name.name not in shown
    data = _unchanged_form(page)
    data.update(
        {
            "title": "改过的项目名称",
            "number": "FORGED-1",
            "provider": str(other.provider_id),
            "enterprise": str(other.enterprise_id),
            "amount": "1.00",
            "subsidy": "0.50",
            "advance_payment": "0.50",
            "signed_on": "2020-01-01",
            "start_on": "2020-01-01",
            "end_on": "2030-12-31",
        }
    )
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    contract.refresh_from_db()
    assert contract.title == "改过的项目名称"  # the post went through ...
    after = ServiceContract.objects.values(
        "number", "provider", "enterprise", "amount", "subsidy", "advance_payment", "signed_on", "start_on", "end_on"
    ).get(pk=contract.pk)
    assert after == {  # ... and changed none of what was agreed
        "number": contract.number,
        "provider": contract.provider_id,
        "enterprise": contract.enterprise_id,
        "amount": Decimal("300000.00"),
        "subsidy": Decimal("100000.00"),
        "advance_payment": Decimal("0.00"),
        "signed_on": None,
        "start_on": contract.start_on,
        "end_on": contract.end_on,
    }
    assert str(contract.start_on) == "2026-03-01" and str(contract.end_on) == "2026-09-30"


# --- 4. Deactivated organisations --------------------------------------------------------------------------------


@pytest.fixture
def closed_org_user():
    organisation = OrganisationFactory(kind=Organisation.Kind.PROVIDER, is_active=False)
    return UserFactory(username="closed_staff", organisation=organisation)


def test_users_of_a_deactivated_organisation_cannot_log_in_and_are_told_why(client, closed_org_user):
    """Guards authentication.PortalModelBackend (refuses) and the login form's message (says why, but only once
    the password was right)."""
    response = _post_login(client, "closed_staff", TEST_PASSWORD)
    assert response.status_code == 200 and not _logged_in(client)
    page = response.content.decode()
    assert "停用" in page or "deactivated" in page
    wrong = _post_login(Client(), "closed_staff", "wrong-password").content.decode()
    assert "停用" not in wrong and "deactivated" not in wrong
    events = AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN_FAILED).order_by("id")
    assert [e.detail.get("reason") for e in events] == ["organisation_inactive", None]
    assert all(e.actor_username == "closed_staff" and not e.success for e in events)
    # The organisation active again, the same password works.
    Organisation.objects.filter(pk=closed_org_user.organisation_id).update(is_active=True)
    assert _post_login(Client(), "closed_staff", TEST_PASSWORD).status_code == 302


def test_the_admin_login_refuses_them_too(client):
    """Guards admin.site.login_form and the backend on the admin's login page."""
    organisation = OrganisationFactory(is_active=False)
    UserFactory(username="closed_officer", organisation=organisation, role=Role.OFFICER)
    response = _post_login(client, "closed_officer", TEST_PASSWORD, url=reverse("admin:login"))
    assert response.status_code == 200
    assert SESSION_KEY not in client.session
    page = response.content.decode()
    assert "停用" in page or "deactivated" in page


def test_a_session_left_over_from_before_the_deactivation_is_refused(client):
    """Guards PortalModelBackend.get_user: even a session that the deactivation did not end (an update that sent
    no signal) carries no user on its next request."""
    organisation = OrganisationFactory(kind=Organisation.Kind.PROVIDER)
    user = UserFactory(organisation=organisation)
    client.force_login(user)
    assert _logged_in(client)
    Organisation.objects.filter(pk=organisation.pk).update(is_active=False)  # no post_save: sessions stay
    assert Session.objects.exists()
    assert not _logged_in(client)


def test_an_api_token_of_a_deactivated_organisation_is_refused(client):
    """Guards ExpiringTokenAuthentication's organisation check."""
    organisation = OrganisationFactory(kind=Organisation.Kind.PROVIDER)
    token = Token.objects.create(user=UserFactory(organisation=organisation))
    url = reverse("v1:me-contract-list")
    assert client.get(url, HTTP_AUTHORIZATION=f"Token {token.key}").status_code != 401
    Organisation.objects.filter(pk=organisation.pk).update(is_active=False)
    assert client.get(url, HTTP_AUTHORIZATION=f"Token {token.key}").status_code == 401


# --- 5. A password set by an administrator -----------------------------------------------------------------------


def _admin_sets_password(client, account, password=NEW_PASSWORD):
    url = reverse("admin:auth_user_password_change", args=[account.pk])
    return client.post(url, {"usable_password": "true", "password1": password, "password2": password})


@pytest.fixture
def sysadmin():
    return UserFactory(role=Role.SYSADMIN, username="sysadmin_a")


def test_a_password_reset_by_the_administrator_must_be_changed_at_the_next_login(client, sysadmin):
    """Guards UserAdmin.user_change_password marking the password as set by an administrator (whoever reset it
    knows it): the account's next login opens only the password page until the user chose their own."""
    clerk = UserFactory(username="clerk")
    client.force_login(sysadmin)
    assert _admin_sets_password(client, clerk).status_code == 302
    clerk.refresh_from_db()
    assert clerk.password_changed_at == PASSWORD_SET_BY_ADMINISTRATOR and password_expired(clerk)
    event = AuditEvent.objects.get(action=AuditEvent.Action.PASSWORD_CHANGED)
    assert (event.actor, event.object_id, event.success) == (sysadmin, str(clerk.pk), True)
    assert event.detail == {"set_by_administrator": True, "must_change": True}

    user_client = Client()
    assert _post_login(user_client, "clerk", NEW_PASSWORD).status_code == 302
    response = user_client.get(PRIVATE)
    assert response.status_code == 302 and response["Location"] == reverse("password_change")
    page = user_client.get(reverse("password_change")).content.decode()
    assert "管理员" in page or "administrator" in page
    changed = user_client.post(
        reverse("password_change"),
        {"old_password": NEW_PASSWORD, "new_password1": "Own-choice-2026!", "new_password2": "Own-choice-2026!"},
    )
    assert changed.status_code == 302
    assert user_client.get(PRIVATE).status_code == 200


def test_the_reset_is_forced_even_when_passwords_never_expire(client, sysadmin, settings):
    """Guards passwords.password_expires_at: an administrator's password expires whatever the age policy."""
    settings.PORTAL_PASSWORD_MAX_AGE_DAYS = 0
    clerk = UserFactory(username="clerk")
    client.force_login(sysadmin)
    _admin_sets_password(client, clerk)
    clerk.refresh_from_db()
    assert password_expired(clerk)


def test_a_new_accounts_first_password_must_be_changed_too(client, sysadmin):
    """Guards UserAdmin.save_model: the password given when the account is created is the administrator's."""
    client.force_login(sysadmin)
    response = client.post(
        reverse("admin:portal_user_add"),
        {
            "username": "newcomer",
            "full_name": "新同事",
            "organisation": str(OrganisationFactory().pk),
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert password_expired(User.objects.get(username="newcomer"))


def test_an_administrators_own_password_stays_theirs(client, sysadmin):
    """Guards the exception: setting one's own password in the admin does not force another change."""
    client.force_login(sysadmin)
    assert _admin_sets_password(client, sysadmin).status_code == 302
    sysadmin.refresh_from_db()
    assert not password_expired(sysadmin)


# --- 6. API tokens expire ----------------------------------------------------------------------------------------


def test_an_api_token_expires_after_the_configured_hours(client, settings):
    """Guards ExpiringTokenAuthentication and PORTAL_API_TOKEN_HOURS: 401 from the moment the token is that old,
    and the refusal is in the audit log with the token's account."""
    settings.PORTAL_API_TOKEN_HOURS = 48
    issued = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
    user = UserFactory(role=Role.OFFICER, username="service_account")
    with time_machine.travel(issued, tick=False) as traveller:
        token = Token.objects.create(user=user)
        url = reverse("v1:me-contract-list")
        headers = {"HTTP_AUTHORIZATION": f"Token {token.key}", "REMOTE_ADDR": "10.0.0.9"}
        traveller.shift(timedelta(hours=47, minutes=59))
        assert client.get(url, **headers).status_code == 200
        traveller.shift(timedelta(minutes=1))
        expired = client.get(url, **headers)
    assert expired.status_code == 401
    assert "expired" in expired.json()["detail"] or "过期" in expired.json()["detail"]
    event = AuditEvent.objects.get(action=AuditEvent.Action.LOGIN_FAILED)
    assert (event.actor_username, event.ip_address, event.success) == ("service_account", "10.0.0.9", False)
    assert event.detail["api_token"] is True


def test_the_token_lifetime_comes_from_the_environment_and_must_be_set(monkeypatch):
    import runpy
    from pathlib import Path

    from django.core.exceptions import ImproperlyConfigured

    path = str(Path(django_settings.BASE_DIR) / "tangshan_portal" / "settings.py")
    assert runpy.run_path(path)["PORTAL_API_TOKEN_HOURS"] == 24 * 90
    monkeypatch.setenv("PORTAL_API_TOKEN_HOURS", "12")
    assert runpy.run_path(path)["PORTAL_API_TOKEN_HOURS"] == 12
    monkeypatch.setenv("PORTAL_API_TOKEN_HOURS", "0")
    with pytest.raises(ImproperlyConfigured):
        runpy.run_path(path)


# --- 7. Daily housekeeping as beat tasks -------------------------------------------------------------------------


def test_the_housekeeping_tasks_are_in_the_beat_schedule_at_night():
    """Guards schedules.PERIODIC_TASKS: audit verification, audit purge and clearsessions, daily by crontab."""
    sync_schedules()
    expected = {
        "portal.verify_audit": "2",
        "portal.purge_audit": "2",
        "portal.clear_expired_sessions": "3",
    }
    for task, hour in expected.items():
        periodic = PeriodicTask.objects.get(task=task)
        assert periodic.interval is None and periodic.crontab is not None
        assert (periodic.crontab.hour, periodic.crontab.day_of_week) == (hour, "*")
        assert str(periodic.crontab.timezone) == django_settings.CELERY_TIMEZONE
    assert all(isinstance(every, int | Daily) for _task, every in PERIODIC_TASKS.values())
    sync_schedules()  # idempotent
    assert PeriodicTask.objects.filter(task="portal.verify_audit").count() == 1


def _tamper(event):
    """A raw change, as someone with database access makes it (on PostgreSQL past the append-only trigger)."""
    from tests.test_audit_chain import sql, trigger_off

    with trigger_off():
        sql("UPDATE portal_auditevent SET actor_username = 'someone-else' WHERE id = %s", [event.pk])


def test_the_daily_verification_alerts_the_security_administrators_and_auditors(caplog):
    """Guards tasks.verify_audit / audit.audit_chain_check: a broken chain is logged as an ERROR and notified to
    both roles, once per problem; an intact chain notifies nobody."""
    events = [record_event(AuditEvent.Action.EXPORT, username="clerk", rows=i) for i in range(3)]
    assert tasks.verify_audit()["ok"] is True
    assert not Notification.objects.exists()

    _tamper(events[1])
    with caplog.at_level(logging.ERROR, logger="tangshan_portal.audit"):
        result = tasks.verify_audit()
    assert result["ok"] is False
    assert any(r.levelno == logging.ERROR and f"event id {events[1].pk}" in r.getMessage() for r in caplog.records)
    notices = Notification.objects.filter(kind="audit_chain_broken")
    assert sorted(notices.values_list("recipient_role", flat=True)) == ["auditor", "secadmin"]
    assert all(f"event id {events[1].pk}" in n.body for n in notices)
    tasks.verify_audit()  # the next night: logged again, notified once
    assert notices.count() == 2


def test_the_daily_purge_task_removes_only_expired_events(settings):
    """Guards tasks.purge_audit: it calls the retention purge (a checkpoint, the chain still verifies)."""
    settings.AUDIT_RETENTION_DAYS = 200
    with time_machine.travel(datetime(2025, 1, 1, tzinfo=UTC), tick=False):
        old = record_event(AuditEvent.Action.EXPORT, username="clerk")
    with time_machine.travel(datetime(2026, 6, 1, tzinfo=UTC), tick=False):
        kept = record_event(AuditEvent.Action.EXPORT, username="clerk")
        result = tasks.purge_audit()
    assert result["up_to_sequence"] == old.sequence and result["deleted"] == 1
    assert not AuditEvent.objects.filter(pk=old.pk).exists() and AuditEvent.objects.filter(pk=kept.pk).exists()
    assert AuditCheckpoint.objects.get().last_sequence == old.sequence
    assert tasks.verify_audit()["ok"] is True


def test_the_daily_session_task_clears_expired_sessions():
    """Guards tasks.clear_expired_sessions (what `manage.py clearsessions` does)."""
    store = import_module(django_settings.SESSION_ENGINE).SessionStore
    with time_machine.travel(datetime(2026, 6, 1, tzinfo=UTC), tick=False):
        stale = store()
        stale["x"] = 1
        stale.create()
    fresh = store()
    fresh["x"] = 2
    fresh.create()
    tasks.clear_expired_sessions()
    assert list(Session.objects.values_list("session_key", flat=True)) == [fresh.session_key]


# --- 8. Separation of duties in password resets -----------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.SECADMIN, Role.AUDITOR])
def test_the_system_administrator_cannot_set_a_security_administrators_or_auditors_password(client, sysadmin, role):
    """Guards roles.may_set_password in UserAdmin.user_change_password: whoever sets a password can act as the
    account, and these two duties check the system administrator."""
    account = UserFactory(role=role)
    before = account.password
    client.force_login(sysadmin)
    url = reverse("admin:auth_user_password_change", args=[account.pk])
    assert client.get(url).status_code == 403
    assert _admin_sets_password(client, account).status_code == 403
    account.refresh_from_db()
    assert account.password == before
    denial = AuditEvent.objects.filter(action=AuditEvent.Action.PERMISSION_DENIED).last()
    assert (denial.actor, denial.object_type, denial.object_id) == (sysadmin, "portal.User", str(account.pk))


def test_the_system_administrator_still_resets_ordinary_accounts_and_a_superuser_any(client, sysadmin):
    officer = UserFactory(role=Role.OFFICER)
    auditor = UserFactory(role=Role.AUDITOR)
    superuser = UserFactory(is_superuser=True, is_staff=True)
    assert may_set_password(sysadmin, officer)
    assert not may_set_password(sysadmin, superuser)
    assert may_set_password(superuser, auditor)
    assert not may_set_password(UserFactory(role=Role.SECADMIN), officer)
    client.force_login(sysadmin)
    assert _admin_sets_password(client, officer).status_code == 302
    assert _admin_sets_password(client, superuser).status_code == 403
