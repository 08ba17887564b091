"""The second factor (issue 8, item 1; tangshan_portal/otp.py): TOTP required for the bureau, county, assessor,
auditor and administrator accounts and superusers, on portal pages, the API and the admin; voluntary for providers
and enterprises; throttled, not replayable, audited; reset by the security administrator only.

These tests go through the real enrolment and code pages: the `real_otp` fixture turns off tests/conftest.py's
shortcut that makes the test client's logins count as verified.
"""

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from tangshan_portal.models import AuditEvent
from tangshan_portal.otp import otp_required
from tangshan_portal.roles import Role
from tests.factories import TEST_PASSWORD, ProviderFactory, UserFactory
from tests.otp_helpers import code_at, code_for_secret, usable_code

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("real_otp")]

REQUIRED_ROLES = [Role.OFFICER, Role.APPROVER, Role.COUNTY, Role.ASSESSOR, Role.AUDITOR, Role.SYSADMIN, Role.SECADMIN]
# A fixed instant in the middle of a 30-second time step, so a test's codes never straddle two steps by accident.
T0 = datetime(2026, 11, 30, 2, 0, 10, tzinfo=UTC)
SETUP, VERIFY = reverse("otp_setup"), reverse("otp_verify")
PORTAL_PAGE = reverse("notifications")  # a page every signed-in user may open
ADMIN_PAGE = reverse("admin:index")
MIDDLEWARE = "tangshan_portal.otp.OTPRequiredMiddleware"


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def _zh(message, **values):
    with translation.override("zh-hans"):
        text = str(translation.gettext(message))
    return text % values if values else text


def _client(user):
    from tests.conftest import PortalClient

    client = PortalClient()
    client.force_login(user)
    return client


def _device(user, confirmed=True):
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=confirmed)


def _timestep(device):
    return int(datetime.now(UTC).timestamp()) // device.step


def _current_code(device):
    return code_at(device, _timestep(device))


def _wrong_code(device):
    """A well-formed code that is not valid at any step the device accepts now."""
    valid = {code_at(device, _timestep(device) + offset) for offset in (-1, 0, 1)}
    return next(code for code in ("000000", "111111", "222222", "333333") if code not in valid)


def _sent_to(response, page):
    """Whether the response sends the browser to `page` (SETUP or VERIFY), and with which `next`."""
    if response.status_code != 302:
        return False, None
    location = urlsplit(response["Location"])
    return location.path == page, parse_qs(location.query).get("next", [None])[0]


def assert_second_factor_asked(client, page, paths=(PORTAL_PAGE, ADMIN_PAGE)):
    """Every path sends the session to `page`, carrying the path to come back to."""
    for path in paths:
        sent, next_url = _sent_to(client.get(path), page)
        assert sent and next_url == path, path


def _verify(client, device, *, next_url=PORTAL_PAGE):
    return client.post(VERIFY, {"code": usable_code(device), "next": next_url})


def _events(action, user=None):
    events = AuditEvent.objects.filter(action=action)
    return events.filter(object_id=str(user.pk), object_type="portal.User") if user is not None else events


# --- Who must pass it, and where --------------------------------------------------------------------------------


@pytest.mark.parametrize("role", REQUIRED_ROLES)
def test_each_staff_role_enrols_then_passes_the_code_before_any_portal_or_admin_page(role, clock):
    """Controls: the policy (otp_required) and OTPRequiredMiddleware, on a portal page and on the admin."""
    user = UserFactory(role=role)
    client = _client(user)
    assert_second_factor_asked(client, SETUP)

    device = _device(user)
    assert_second_factor_asked(client, VERIFY)
    response = _verify(client, device, next_url=ADMIN_PAGE)
    assert response.status_code == 302 and response["Location"] == ADMIN_PAGE
    assert client.get(PORTAL_PAGE).status_code == 200
    assert client.get(ADMIN_PAGE).status_code == 200

    # A new login is a new session: the code is asked again.
    clock.shift(timedelta(seconds=30))
    assert_second_factor_asked(_client(user), VERIFY)


def test_superusers_need_it_too_whatever_their_roles(clock):
    user = UserFactory(is_superuser=True, is_staff=True)
    assert otp_required(user)
    assert_second_factor_asked(_client(user), SETUP)


def test_the_admin_login_ends_in_the_same_step_before_any_admin_page(clock):
    officer = UserFactory(role=Role.OFFICER, username="admin_officer")
    device = _device(officer)
    client = Client()
    response = client.post(
        reverse("admin:login") + "?next=/admin/", {"username": "admin_officer", "password": TEST_PASSWORD}
    )
    assert response.status_code == 302 and response["Location"] == ADMIN_PAGE
    for path in (ADMIN_PAGE, reverse("admin:portal_user_changelist"), reverse("admin:password_change")):
        sent, next_url = _sent_to(client.get(path), VERIFY)
        assert sent and next_url == path, path
    response = client.post(VERIFY, {"code": _current_code(device), "next": ADMIN_PAGE})
    assert response["Location"] == ADMIN_PAGE
    assert client.get(ADMIN_PAGE).status_code == 200


@pytest.mark.parametrize("role", [Role.PROVIDER, Role.ENTERPRISE])
def test_providers_and_enterprises_are_not_required_to_enrol(role, clock):
    user = UserFactory(role=role)
    assert not otp_required(user)
    client = _client(user)
    assert client.get(PORTAL_PAGE).status_code == 200
    # The code page has nothing to ask of them.
    assert client.get(VERIFY + "?next=" + PORTAL_PAGE)["Location"] == PORTAL_PAGE
    assert not TOTPDevice.objects.filter(user=user).exists()


def test_a_provider_may_enrol_and_is_then_asked_for_its_code(clock):
    provider = ProviderFactory()
    user = UserFactory(role=Role.PROVIDER, organisation=provider.organisation)
    client = _client(user)
    page = client.get(SETUP)
    assert page.status_code == 200 and page.context["required"] is False
    response = client.post(SETUP, {"code": code_for_secret(page.context["secret"])})
    assert response.status_code == 302
    assert TOTPDevice.objects.get(user=user).confirmed
    assert client.get(PORTAL_PAGE).status_code == 200

    clock.shift(timedelta(seconds=30))
    assert_second_factor_asked(_client(user), VERIFY, paths=(PORTAL_PAGE, reverse("provider:home")))


def test_the_api_answers_403_in_json_to_a_session_without_the_code(clock):
    officer = UserFactory(role=Role.OFFICER)
    device = _device(officer)
    client = _client(officer)
    for path in (reverse("v1:me-contract-list"), reverse("v1:blacklist-list")):
        response = client.get(path)
        assert response.status_code == 403, path
        assert response["Content-Type"] == "application/json"
        assert response.json()["detail"] == _zh(
            "This session has not passed the second factor yet: enter your one-time code."
        )
    _verify(client, device)
    assert client.get(reverse("v1:me-contract-list")).status_code == 200


def test_the_way_out_and_the_language_switch_stay_open(clock):
    officer = UserFactory(role=Role.OFFICER)
    _device(officer)
    client = _client(officer)
    assert client.get(reverse("healthz")).status_code == 200
    response = client.post(reverse("set_language"), {"language": "en", "next": VERIFY})
    assert response.status_code == 302 and response["Location"] == VERIFY
    assert client.get(VERIFY).status_code == 200
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_the_code_comes_before_the_new_password_when_the_password_expired(clock):
    officer = UserFactory(role=Role.OFFICER)
    device = _device(officer)
    officer.password_changed_at = T0 - timedelta(days=settings.PORTAL_PASSWORD_MAX_AGE_DAYS + 1)
    officer.save(update_fields=["password_changed_at"])
    client = _client(officer)
    # The expired password sends to the password page, which waits for the code; the code page opens (no loop).
    assert client.get(PORTAL_PAGE)["Location"] == reverse("password_change")
    assert _sent_to(client.get(reverse("password_change")), VERIFY) == (True, reverse("password_change"))
    assert client.get(VERIFY).status_code == 200
    response = _verify(client, device, next_url=reverse("password_change"))
    assert response["Location"] == reverse("password_change")
    assert client.get(reverse("password_change")).status_code == 200
    assert client.get(PORTAL_PAGE)["Location"] == reverse("password_change")


@pytest.mark.parametrize(
    ("setting", "value", "role"),
    [("PORTAL_OTP_ENABLED", False, Role.OFFICER), ("PORTAL_OTP_REQUIRED_ROLES", ["officer"], Role.COUNTY)],
)
def test_the_requirement_follows_the_settings(settings, clock, setting, value, role):
    setattr(settings, setting, value)
    user = UserFactory(role=role)
    assert not otp_required(user)
    assert _client(user).get(PORTAL_PAGE).status_code == 200


def test_removing_the_middleware_lets_an_unverified_session_through(settings, clock):
    """The tests above check the control itself: without the middleware their assertion fails."""
    officer = UserFactory(role=Role.OFFICER)
    settings.MIDDLEWARE = [name for name in settings.MIDDLEWARE if name != MIDDLEWARE]
    client = _client(officer)
    with pytest.raises(AssertionError):
        assert_second_factor_asked(client, SETUP)
    assert client.get(ADMIN_PAGE).status_code == 200


def test_the_middleware_refuses_to_run_without_django_otps(settings, clock):
    settings.MIDDLEWARE = [name for name in settings.MIDDLEWARE if name != "django_otp.middleware.OTPMiddleware"]
    client = _client(UserFactory(role=Role.OFFICER))
    client.raise_request_exception = True
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured):
        client.get(PORTAL_PAGE)


# --- Enrolment ---------------------------------------------------------------------------------------------------


def test_enrolment_shows_the_secret_and_a_qr_code_and_confirms_only_with_a_code(clock):
    officer = UserFactory(role=Role.OFFICER, username="enrolling")
    client = _client(officer)
    page = client.get(SETUP + "?next=" + ADMIN_PAGE)
    assert page.status_code == 200
    html = page.content.decode()
    device = TOTPDevice.objects.get(user=officer)
    assert not device.confirmed
    from base64 import b32encode

    secret = b32encode(device.bin_key).decode().rstrip("=")
    assert "".join(page.context["secret"].split()) == secret
    assert 'id="otp-secret"' in html and '<svg viewBox="' in html and 'class="otp-qr"' in html
    # Drawn on the page itself: no image request, no data: URL, no script.
    assert "data:image" not in html and "<script" not in html
    # A reload shows the same secret (the app set up from it keeps working).
    assert client.get(SETUP).context["secret"] == page.context["secret"]

    # Not confirmed by a wrong code, and the session does not count as verified.
    clock.shift(timedelta(seconds=1))
    response = client.post(SETUP, {"code": _wrong_code(device), "next": ADMIN_PAGE})
    assert response.status_code == 200
    assert not TOTPDevice.objects.get(pk=device.pk).confirmed
    assert_second_factor_asked(client, SETUP)

    clock.shift(timedelta(seconds=5))
    response = client.post(SETUP, {"code": code_for_secret(page.context["secret"]), "next": ADMIN_PAGE})
    assert response.status_code == 302 and response["Location"] == ADMIN_PAGE
    assert TOTPDevice.objects.get(pk=device.pk).confirmed
    assert client.get(ADMIN_PAGE).status_code == 200
    assert _events(AuditEvent.Action.OTP_ENROLLED, officer).count() == 1
    assert _events(AuditEvent.Action.OTP_VERIFIED, officer).get().detail["stage"] == "enrol"
    assert _events(AuditEvent.Action.OTP_FAILED, officer).get().detail["stage"] == "enrol"


def test_an_enrolled_account_cannot_replace_its_authenticator_from_its_session(clock):
    """Otherwise whoever learnt the password could enrol their own phone; only the security administrator's reset
    opens the enrolment again."""
    officer = UserFactory(role=Role.OFFICER)
    device = _device(officer)
    client = _client(officer)
    assert _sent_to(client.get(SETUP), VERIFY)[0]
    _verify(client, device)
    page = client.get(SETUP)
    assert page.status_code == 200 and "secret" not in page.context
    assert device.key not in page.content.decode()
    client.post(SETUP, {"code": "123456"})
    assert list(TOTPDevice.objects.filter(user=officer)) == [device]


# --- The code ----------------------------------------------------------------------------------------------------


def test_a_wrong_code_is_refused_in_chinese_and_audited(clock):
    officer = UserFactory(role=Role.OFFICER)
    device = _device(officer)
    client = _client(officer)
    response = client.post(VERIFY, {"code": _wrong_code(device), "next": PORTAL_PAGE})
    assert response.status_code == 200
    assert _zh("The code is not correct. Please enter the code your authenticator app shows now.") in (
        response.content.decode()
    )
    assert '<html lang="zh-CN">' in response.content.decode()
    assert_second_factor_asked(client, VERIFY)
    event = _events(AuditEvent.Action.OTP_FAILED, officer).get()
    assert (event.success, event.actor, event.detail["reason"], event.detail["stage"]) == (
        False,
        officer,
        "wrong",
        "login",
    )
    assert not _events(AuditEvent.Action.OTP_VERIFIED).exists()


def test_a_wrong_code_is_refused_in_english_when_english_was_chosen(clock):
    officer = UserFactory(role=Role.OFFICER)
    device = _device(officer)
    client = _client(officer)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.post(VERIFY, {"code": _wrong_code(device)})
    assert "The code is not correct. Please enter the code your authenticator app shows now." in (
        response.content.decode()
    )


def test_a_malformed_code_is_refused_without_reaching_the_device(clock):
    officer = UserFactory(role=Role.OFFICER)
    device = _device(officer)
    response = _client(officer).post(VERIFY, {"code": "12ab56"})
    assert response.status_code == 200 and response.context["form"].errors
    assert TOTPDevice.objects.get(pk=device.pk).throttling_failure_count == 0


def test_the_right_code_passes_and_is_audited_and_the_session_key_changes(clock):
    officer = UserFactory(role=Role.OFFICER)
    device = _device(officer)
    client = _client(officer)
    key_before = client.session.session_key
    response = client.post(VERIFY, {"code": " ".join([_current_code(device)[:3], _current_code(device)[3:]])})
    assert response.status_code == 302 and response["Location"] == reverse(settings.LOGIN_REDIRECT_URL)
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert client.session.session_key != key_before
    event = _events(AuditEvent.Action.OTP_VERIFIED, officer).get()
    assert (event.success, event.actor, event.path, event.detail["stage"]) == (True, officer, VERIFY, "login")
    device.refresh_from_db()
    assert device.last_used_at is not None and device.last_t == _timestep(device)


def test_next_must_stay_on_the_portal(clock):
    officer = UserFactory(role=Role.OFFICER)
    device = _device(officer)
    response = _client(officer).post(VERIFY, {"code": _current_code(device), "next": "https://evil.example/"})
    assert response["Location"] == reverse(settings.LOGIN_REDIRECT_URL)


def test_repeated_failures_are_throttled_with_a_clear_message(clock):
    officer = UserFactory(role=Role.OFFICER)
    device = _device(officer)
    client = _client(officer)
    for attempt in range(1, 4):
        client.post(VERIFY, {"code": _wrong_code(device)})
        # After n failures the next try waits 2^(n-1) seconds (OTP_TOTP_THROTTLE_FACTOR = 1).
        clock.shift(timedelta(seconds=2 ** (attempt - 1)))
    assert TOTPDevice.objects.get(pk=device.pk).throttling_failure_count == 3
    client.post(VERIFY, {"code": _wrong_code(device)})  # the fourth: the next try waits 8 seconds

    # Even the right code is refused while the wait lasts, and the page says until when.
    clock.shift(timedelta(seconds=7))
    response = client.post(VERIFY, {"code": _current_code(device)})
    until = date_format(timezone.localtime(T0 + timedelta(seconds=1 + 2 + 4 + 8)), "H:i:s")
    assert response.status_code == 200
    assert _zh("Too many wrong codes. Please wait until %(time)s, then enter the current code.", time=until) in (
        response.content.decode()
    )
    assert_second_factor_asked(client, VERIFY)
    throttled = _events(AuditEvent.Action.OTP_FAILED, officer).filter(detail__reason="throttled")
    assert throttled.count() == 1

    clock.shift(timedelta(seconds=1))
    assert client.post(VERIFY, {"code": _current_code(device)}).status_code == 302
    assert TOTPDevice.objects.get(pk=device.pk).throttling_failure_count == 0


def test_a_code_is_accepted_once_a_replay_in_the_same_time_step_is_refused(clock):
    officer = UserFactory(role=Role.OFFICER)
    device = _device(officer)
    code = _current_code(device)
    first, second = _client(officer), _client(officer)
    assert first.post(VERIFY, {"code": code}).status_code == 302
    response = second.post(VERIFY, {"code": code})
    assert response.status_code == 200
    assert _zh("This code was already used. Please wait for the next code and enter that one.") in (
        response.content.decode()
    )
    assert_second_factor_asked(second, VERIFY)
    assert _events(AuditEvent.Action.OTP_FAILED, officer).get().detail["reason"] == "reused"
    # The next time step's code is a new code.
    clock.shift(timedelta(seconds=30))
    clock.shift(timedelta(seconds=1))
    assert second.post(VERIFY, {"code": _current_code(device)}).status_code == 302


# --- The security administrator's reset --------------------------------------------------------------------------


def _verified(user):
    client = _client(user)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or _device(user)
    assert _verify(client, device).status_code == 302
    return client


def test_the_security_administrator_resets_a_device_and_its_owner_enrols_again(clock):
    officer = UserFactory(role=Role.OFFICER, username="lost_phone")
    device = _device(officer)
    officer_session = _verified(officer)
    clock.shift(timedelta(seconds=30))
    secadmin = _verified(UserFactory(role=Role.SECADMIN))

    changelist = reverse("admin:portal_authenticatordevice_changelist")
    page = secadmin.get(changelist)
    assert page.status_code == 200 and "lost_phone" in page.content.decode()
    # The page shows who enrolled, never a secret.
    from base64 import b32encode

    for secret in (device.key, b32encode(device.bin_key).decode().rstrip("=")):
        assert secret not in page.content.decode()
        change = secadmin.get(reverse("admin:portal_authenticatordevice_change", args=[device.pk]))
        assert change.status_code == 200 and secret not in change.content.decode()

    response = secadmin.post(changelist, {"action": "reset_devices", "_selected_action": [device.pk]})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(pk=device.pk).exists()
    event = _events(AuditEvent.Action.OTP_RESET, officer).get()
    assert event.actor.has_role(Role.SECADMIN) and event.detail["device"] == device.persistent_id

    # The owner's verified session loses its verification: enrol again.
    assert_second_factor_asked(officer_session, SETUP)


def test_the_security_administrator_may_also_reset_from_the_delete_page(clock):
    officer = UserFactory(role=Role.OFFICER)
    device = _device(officer)
    secadmin = _verified(UserFactory(role=Role.SECADMIN))
    delete = reverse("admin:portal_authenticatordevice_delete", args=[device.pk])
    assert secadmin.get(delete).status_code == 200
    assert secadmin.post(delete, {"post": "yes"}).status_code == 302
    assert not TOTPDevice.objects.filter(pk=device.pk).exists()
    assert _events(AuditEvent.Action.OTP_RESET, officer).count() == 1


@pytest.mark.parametrize("role", [Role.SYSADMIN, Role.AUDITOR, Role.OFFICER])
def test_no_other_role_can_reset_a_device(role, clock):
    officer = UserFactory(role=Role.OFFICER)
    device = _device(officer)
    staff = _verified(UserFactory(role=role))
    changelist = reverse("admin:portal_authenticatordevice_changelist")
    assert staff.get(changelist).status_code == 403
    assert staff.post(changelist, {"action": "reset_devices", "_selected_action": [device.pk]}).status_code == 403
    delete = reverse("admin:portal_authenticatordevice_delete", args=[device.pk])
    assert staff.post(delete, {"post": "yes"}).status_code == 403
    assert TOTPDevice.objects.filter(pk=device.pk).exists()
    assert not _events(AuditEvent.Action.OTP_RESET).exists()


def test_nobody_adds_or_edits_a_device_in_the_admin(clock):
    device = _device(UserFactory(role=Role.OFFICER))
    superuser = _verified(UserFactory(is_superuser=True, is_staff=True))
    assert superuser.get(reverse("admin:portal_authenticatordevice_add")).status_code == 403
    change = reverse("admin:portal_authenticatordevice_change", args=[device.pk])
    superuser.post(change, {"confirmed": ""})
    assert TOTPDevice.objects.get(pk=device.pk).confirmed
    # django-otp's own device admin, with its secrets and QR codes, is not offered.
    from django.urls import NoReverseMatch

    with pytest.raises(NoReverseMatch):
        reverse("admin:otp_totp_totpdevice_changelist")


# --- The demo accounts -------------------------------------------------------------------------------------------


def _seed():
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("seed_demo", stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.fixture
def demo_settings(settings):
    settings.DEBUG = True  # seed_demo refuses to run with DEBUG off (pytest-django's default)
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return settings


def test_the_demo_staff_log_in_with_the_documented_demo_key(demo_settings, clock):
    from base64 import b32decode
    from pathlib import Path

    from tangshan_portal.demo import DEMO_ACCOUNTS

    secret = settings.PORTAL_DEMO_OTP_SECRET
    assert f"`{secret}`" in (Path(settings.BASE_DIR) / "README.md").read_text(encoding="utf-8")
    output = _seed()
    assert secret in output
    for account in DEMO_ACCOUNTS:
        devices = list(TOTPDevice.objects.filter(user__username=account.username))
        if account.role in settings.PORTAL_OTP_REQUIRED_ROLES:
            assert [(d.key, d.confirmed) for d in devices] == [(b32decode(secret).hex(), True)], account.username
        else:
            assert devices == [], account.username

    # The real login form, then the code an authenticator app set up from the README's key shows.
    client = Client()
    response = client.post(
        reverse("login"), {"username": "demo_officer", "password": settings.PORTAL_DEMO_PASSWORD, "next": ADMIN_PAGE}
    )
    assert response["Location"] == ADMIN_PAGE
    assert _sent_to(client.get(ADMIN_PAGE), VERIFY) == (True, ADMIN_PAGE)
    assert client.post(VERIFY, {"code": code_for_secret(secret), "next": ADMIN_PAGE})["Location"] == ADMIN_PAGE
    assert client.get(ADMIN_PAGE).status_code == 200

    # Idempotent; an authenticator reset (or replaced) is restored by the next seed.
    clock.shift(timedelta(seconds=30))
    assert "restored" not in _seed()
    TOTPDevice.objects.filter(user__username="demo_approver").delete()
    assert "restored demo_approver: authenticator" in _seed()
    assert TOTPDevice.objects.get(user__username="demo_approver").key == b32decode(secret).hex()


def test_a_demo_server_uses_the_public_demo_key_only_when_told_to(demo_settings, monkeypatch, clock):
    demo_settings.DEBUG = False
    monkeypatch.setenv("PORTAL_DEMO_PASSWORD", "Demo-server-only-2026")
    demo_settings.PORTAL_DEMO_PASSWORD = "Demo-server-only-2026"
    from io import StringIO

    from django.core.management import call_command

    call_command("seed_demo", "--allow-production", stdout=StringIO(), stderr=StringIO())
    assert not TOTPDevice.objects.exists()


def test_the_system_checks_refuse_a_missing_or_misplaced_middleware(settings):
    from tangshan_portal.otp import check_second_factor_enabled, check_second_factor_middleware

    assert check_second_factor_middleware(None) == []
    settings.MIDDLEWARE = [name for name in settings.MIDDLEWARE if name != MIDDLEWARE]
    assert [problem.id for problem in check_second_factor_middleware(None)] == ["portal.E030"]
    settings.MIDDLEWARE = [MIDDLEWARE, *settings.MIDDLEWARE]  # before django-otp's: nobody could ever pass
    assert [problem.id for problem in check_second_factor_middleware(None)] == ["portal.E030"]

    assert check_second_factor_enabled(None) == []
    settings.PORTAL_OTP_ENABLED = False
    assert [problem.id for problem in check_second_factor_enabled(None)] == ["portal.W031"]
