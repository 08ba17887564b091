"""Authentication controls of issue 8 (classified protection level 3, identity authentication): the password
policy, the login lockout, session timeouts and rotation, and ending the sessions of disabled accounts.

Each test names the control it guards; removing that control makes it fail."""

import itertools
import runpy
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from axes.models import AccessAttempt
from django.conf import settings as django_settings
from django.contrib.auth import SESSION_KEY, password_validation
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from tangshan_portal.models import AuditEvent, PasswordHistory, User
from tangshan_portal.passwords import CharacterClassesValidator, character_classes
from tangshan_portal.roles import Role
from tangshan_portal.sessions import LAST_ACTIVITY, LOGIN_AT
from tests.factories import TEST_PASSWORD, OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 6, 1, 9, 0, tzinfo=SHANGHAI)
LOGIN = "/accounts/login/"
PRIVATE = "/notifications/"  # any login_required page
GOOD = "Lan-hai-2026!"


@pytest.fixture(autouse=True)
def _fast_hashes(settings):
    # Speed only: the policy under test does not depend on the hash function, and PBKDF2's million rounds per
    # password would make these tests slow. PBKDF2 stays listed so the factories' hashes still verify.
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]


def _settings_with(monkeypatch, **env):
    """The settings module evaluated afresh with these environment variables: what a deployment would get."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(Path(django_settings.BASE_DIR) / "tangshan_portal" / "settings.py"))


def _codes(password, user=None):
    try:
        password_validation.validate_password(password, user)
    except ValidationError as error:
        return {e.code for e in error.error_list}
    return set()


def _post_login(client, username, password, ip="10.0.0.7", url=LOGIN):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=ip)


def _logged_in(client):
    return client.get(PRIVATE).status_code == 200


# --- Password policy ---------------------------------------------------------------------------------------


def test_a_password_needs_ten_characters():
    """Guards MinimumLengthValidator(min_length=PORTAL_PASSWORD_MIN_LENGTH)."""
    assert "password_too_short" in _codes("Lan-ha-26")  # nine characters, all four kinds
    assert _codes("Lan-hai-26") == set()


def test_a_password_needs_three_of_the_four_kinds_of_characters():
    """Guards CharacterClassesValidator: upper-case, lower-case, digits, symbols; at least three."""
    assert character_classes("aB3$") == {"upper", "lower", "digit", "symbol"}
    assert character_classes("唐山 abc") == {"lower", "symbol"}  # anything not an ASCII letter or digit is a symbol
    for uniform in ("lanhaiqiao2026", "LANHAIQIAO-XY", "lanhai-qiao-xy", "LanHaiQiaoXy"):
        assert "password_too_uniform" in _codes(uniform), uniform
    for mixed in ("lanhaiqiao-2026", "LANHAIQIAO-2026", "LanHaiQiao2026", "LanHai-Qiao"):
        assert _codes(mixed) == set(), mixed


def test_a_common_password_is_refused_even_with_all_four_kinds():
    """Guards CommonPasswordValidator."""
    assert "password_too_common" in _codes("Password1!")


def test_a_password_like_the_users_own_details_is_refused():
    """Guards UserAttributeSimilarityValidator, with the portal's full-name and phone fields included."""
    user = User(username="zhangwei", full_name="Zhang Weiming", email="zw@example.com", phone="13912345678")
    assert "password_too_similar" in _codes("Zhangwei-2026", user)
    assert "password_too_similar" in _codes("Zhang Weiming1", user)
    assert "password_too_similar" in _codes("+13912345678a", user)
    assert _codes(GOOD, user) == set()


def test_the_policy_help_lists_every_rule_on_the_change_page(client):
    """Guards the policy's visibility: the change form shows what each validator requires."""
    client.force_login(UserFactory())
    html = client.get(reverse("password_change")).content.decode()
    help_texts = password_validation.password_validators_help_texts()
    assert len(help_texts) == len(django_settings.AUTH_PASSWORD_VALIDATORS)
    for text in help_texts:
        assert escape(text) in html


def test_the_policy_numbers_come_from_the_environment(monkeypatch):
    """Guards configurability: each city sets its own password, lockout and session numbers."""
    defaults = _settings_with(monkeypatch)
    assert (
        defaults["PORTAL_PASSWORD_MIN_LENGTH"],
        defaults["PORTAL_PASSWORD_MIN_CLASSES"],
        defaults["PORTAL_PASSWORD_HISTORY"],
        defaults["PORTAL_PASSWORD_MAX_AGE_DAYS"],
        defaults["AXES_FAILURE_LIMIT"],
        defaults["AXES_COOLOFF_TIME"],
        defaults["PORTAL_SESSION_IDLE_MINUTES"],
        defaults["PORTAL_SESSION_STAFF_IDLE_MINUTES"],
        defaults["PORTAL_SESSION_ABSOLUTE_HOURS"],
    ) == (10, 3, 5, 90, 5, timedelta(minutes=30), 30, 15, 12)
    assert defaults["AXES_LOCKOUT_PARAMETERS"] == [["username", "ip_address"]]

    city = _settings_with(
        monkeypatch,
        PORTAL_PASSWORD_MIN_LENGTH="12",
        PORTAL_PASSWORD_MIN_CLASSES="4",
        PORTAL_PASSWORD_HISTORY="8",
        PORTAL_PASSWORD_MAX_AGE_DAYS="60",
        PORTAL_LOCKOUT_FAILURES="3",
        PORTAL_LOCKOUT_MINUTES="45",
        PORTAL_SESSION_IDLE_MINUTES="20",
        PORTAL_SESSION_STAFF_IDLE_MINUTES="10",
        PORTAL_SESSION_ABSOLUTE_HOURS="8",
    )
    options = {v["NAME"].rsplit(".", 1)[1]: v.get("OPTIONS", {}) for v in city["AUTH_PASSWORD_VALIDATORS"]}
    assert options["MinimumLengthValidator"] == {"min_length": 12}
    assert options["CharacterClassesValidator"] == {"min_classes": 4}
    assert options["PasswordHistoryValidator"] == {"history": 8}
    assert city["PORTAL_PASSWORD_MAX_AGE_DAYS"] == 60
    assert (city["AXES_FAILURE_LIMIT"], city["AXES_COOLOFF_TIME"]) == (3, timedelta(minutes=45))
    assert (city["PORTAL_SESSION_IDLE_MINUTES"], city["PORTAL_SESSION_STAFF_IDLE_MINUTES"]) == (20, 10)
    assert (city["PORTAL_SESSION_ABSOLUTE_HOURS"], city["SESSION_COOKIE_AGE"]) == (8, 8 * 3600)


def test_four_kinds_can_be_required():
    """Guards the validator's option: a city may demand all four kinds."""
    with pytest.raises(ValidationError):
        CharacterClassesValidator(min_classes=4).validate("lanhai-Qiao")
    CharacterClassesValidator(min_classes=4).validate("lanhai-Qiao1")


# --- Password history --------------------------------------------------------------------------------------


def _change(client, old, new):
    return client.post(reverse("password_change"), {"old_password": old, "new_password1": new, "new_password2": new})


def test_none_of_the_last_five_passwords_can_be_chosen_again(client):
    """Guards PasswordHistoryValidator (PORTAL_PASSWORD_HISTORY = 5), through the user's own change page."""
    user = UserFactory()
    client.force_login(user)
    passwords = [TEST_PASSWORD] + [f"Lan-hai-{n}-qiao" for n in range(1, 6)]
    for old, new in itertools.pairwise(passwords):
        assert _change(client, old, new).status_code == 302, new
    current = passwords[-1]
    # The current password and the four before it are refused ...
    for recent in passwords[-5:]:
        response = _change(client, current, recent)
        assert response.status_code == 200, recent
        assert "password_reused" in {e.code for e in response.context["form"].errors.as_data()["new_password2"]}
    # ... the sixth-newest may come back.
    assert _change(client, current, passwords[0]).status_code == 302
    user.refresh_from_db()
    assert user.check_password(passwords[0])


def test_the_history_keeps_only_hashes_and_only_as_many_as_the_policy_needs():
    """Guards the history's data minimisation: hashes only, pruned to PORTAL_PASSWORD_HISTORY rows."""
    user = UserFactory()
    for n in range(8):
        user.set_password(f"Lan-hai-{n}-qiao")
        user.save()
    rows = list(PasswordHistory.objects.filter(user=user))
    assert len(rows) == 5
    assert rows[0].password == user.password
    assert not any("Lan-hai" in row.password for row in rows)
    assert all(row.password.startswith("md5$") for row in rows)


def test_the_current_password_counts_even_without_history(client):
    """Guards the reuse check for accounts created before the history existed (no rows yet)."""
    user = UserFactory()
    assert not PasswordHistory.objects.filter(user=user).exists()
    client.force_login(user)
    assert _change(client, TEST_PASSWORD, TEST_PASSWORD).status_code == 200


def test_a_validator_without_a_user_or_an_unsaved_user_does_not_fail():
    """Guards the registration and admin-creation paths, which validate before the account exists."""
    assert _codes(GOOD) == set()
    assert _codes(GOOD, User(username="newcomer")) == set()


# --- Password expiry ---------------------------------------------------------------------------------------


def test_an_expired_password_sends_every_page_to_the_change_page_until_changed(client):
    """Guards the maximum password age (PORTAL_PASSWORD_MAX_AGE_DAYS = 90) in PortalSessionMiddleware."""
    with time_machine.travel(START, tick=False) as traveller:
        user = UserFactory()
        traveller.shift(timedelta(days=89, hours=23))
        client.force_login(user)
        assert client.get(PRIVATE).status_code == 200
        traveller.shift(timedelta(hours=1))
        client.force_login(user)
        for url in (PRIVATE, reverse("home"), reverse("documents_mine")):
            response = client.get(url)
            assert response.status_code == 302 and response["Location"] == reverse("password_change"), url
        page = client.get(reverse("password_change"), follow=True)
        assert page.status_code == 200 and page.context["password_expired"]
        assert any("90" in str(m) for m in page.context["messages"])
        assert _change(client, TEST_PASSWORD, GOOD).status_code == 302
        assert client.get(PRIVATE).status_code == 200
    user.refresh_from_db()
    assert user.password_changed_at == START + timedelta(days=90)
    event = AuditEvent.objects.get(action=AuditEvent.Action.PASSWORD_CHANGED)
    assert event.detail == {"expired": True}


def test_an_expired_password_still_lets_the_user_log_out(client):
    """Guards the exemptions: logging out is never blocked by the expiry redirect."""
    with time_machine.travel(START, tick=False) as traveller:
        user = UserFactory()
        traveller.shift(timedelta(days=120))
        client.force_login(user)
        response = client.post(reverse("logout"))
        assert response.status_code == 302 and response["Location"] == reverse("home")
        assert not _logged_in(client)


def test_any_password_change_restarts_the_age(client):
    """Guards PasswordHistoryValidator.password_changed: setting a password (admin reset, seed_demo) dates it."""
    with time_machine.travel(START, tick=False) as traveller:
        user = UserFactory()
        traveller.shift(timedelta(days=100))
        user.set_password(GOOD)
        user.save()
        client.force_login(user)
        assert client.get(PRIVATE).status_code == 200
    assert User.objects.get(pk=user.pk).password_changed_at == START + timedelta(days=100)


def test_passwords_do_not_expire_when_the_age_is_zero(client, settings):
    """Guards the switch PORTAL_PASSWORD_MAX_AGE_DAYS=0 (no expiry)."""
    settings.PORTAL_PASSWORD_MAX_AGE_DAYS = 0
    with time_machine.travel(START, tick=False) as traveller:
        user = UserFactory()
        traveller.shift(timedelta(days=400))
        client.force_login(user)
        assert client.get(PRIVATE).status_code == 200


# --- Lockout (django-axes) -----------------------------------------------------------------------------------


def test_five_failures_lock_the_user_name_from_that_address_for_thirty_minutes(client):
    """Guards the lockout: AxesStandaloneBackend first, AXES_FAILURE_LIMIT=5, AXES_COOLOFF_TIME=30 minutes,
    keyed by user name and address; the lockout page says when to try again."""
    UserFactory(username="clerk")
    UserFactory(username="colleague")
    with time_machine.travel(START, tick=False) as traveller:
        for _ in range(4):
            assert _post_login(client, "clerk", "wrong-password").status_code == 200
        locked = _post_login(client, "clerk", "wrong-password")
        assert locked.status_code == 429
        assert "registration/lockout.html" in [t.name for t in locked.templates]
        assert "2026-06-01 09:30" in locked.content.decode()

        # The right password no longer helps, from this address ...
        traveller.shift(timedelta(minutes=29))
        refused = _post_login(client, "clerk", TEST_PASSWORD)
        assert refused.status_code == 429 and not _logged_in(client)
        # ... and a refused attempt does not move the lock.
        assert "2026-06-01 09:30" in refused.content.decode()
        # Another address, or another user name from this one, is not locked.
        assert _post_login(Client(), "clerk", TEST_PASSWORD, ip="10.0.0.8").status_code == 302
        assert _post_login(Client(), "colleague", TEST_PASSWORD).status_code == 302

        traveller.shift(timedelta(minutes=1, seconds=1))  # "after 09:30"
        assert _post_login(client, "clerk", TEST_PASSWORD).status_code == 302
        assert _logged_in(client)


def test_the_lockout_covers_the_admin_login_too(client):
    """Guards the lockout on every login form: the admin site authenticates through the same backends."""
    UserFactory(username="officer_x", role=Role.OFFICER)
    admin_login = reverse("admin:login")
    for _ in range(5):
        response = _post_login(client, "officer_x", "wrong-password", url=admin_login)
    assert response.status_code == 429
    assert _post_login(client, "officer_x", TEST_PASSWORD, url=admin_login).status_code == 429


def test_a_successful_login_clears_earlier_failures(client):
    """Guards AXES_RESET_ON_SUCCESS: typos spread over days do not add up to a lockout."""
    UserFactory(username="clerk")
    for _ in range(4):
        _post_login(client, "clerk", "wrong-password")
    assert _post_login(client, "clerk", TEST_PASSWORD).status_code == 302
    client.post(reverse("logout"))
    for _ in range(4):
        assert _post_login(client, "clerk", "wrong-password").status_code == 200
    assert _post_login(client, "clerk", TEST_PASSWORD).status_code == 302


def test_a_lockout_is_written_to_the_audit_log_once_and_refused_attempts_say_so(client):
    """Guards signals.audit_lockout and the locked_out mark in signals.audit_login_failed."""
    UserFactory(username="clerk")
    for _ in range(5):
        _post_login(client, "clerk", "wrong-password")
    _post_login(client, "clerk", TEST_PASSWORD)
    _post_login(client, "clerk", "another-guess")
    failures = list(AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN_FAILED).order_by("id"))
    lockouts = [e for e in failures if "failures" in e.detail]
    assert len(lockouts) == 1
    lockout = lockouts[0]
    assert (lockout.actor_username, lockout.ip_address, lockout.success) == ("clerk", "10.0.0.7", False)
    assert lockout.detail == {"locked_out": True, "failures": 5, "lockout_minutes": 30}
    ordinary = [e for e in failures if e is not lockout]
    assert [e.detail.get("locked_out", False) for e in ordinary] == [False] * 5 + [True, True]
    for event in failures:
        assert "wrong-password" not in str(event.detail) and TEST_PASSWORD not in str(event.detail)
    assert AccessAttempt.objects.get().failures_since_start == 5


def test_an_unknown_user_name_is_locked_like_a_real_one(client):
    """Guards against account discovery: the lockout does not reveal which user names exist."""
    for _ in range(5):
        response = _post_login(client, "nobody-here", "wrong-password")
    assert response.status_code == 429


# --- Sessions ----------------------------------------------------------------------------------------------


def test_login_gives_the_session_a_new_key(client):
    """Guards against session fixation: Django's login() cycles the key (the key planted before is dead)."""
    UserFactory(username="clerk")
    session = client.session
    session["planted"] = "by someone else"
    session.save()
    planted = session.session_key
    assert _post_login(client, "clerk", TEST_PASSWORD).status_code == 302
    current = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    assert current != planted
    assert not Session.objects.filter(session_key=planted).exists()
    assert Session.objects.get(session_key=current).get_decoded()[SESSION_KEY] == str(User.objects.get().pk)


def test_a_session_ends_after_thirty_idle_minutes(client):
    """Guards the idle timeout (PORTAL_SESSION_IDLE_MINUTES = 30) in PortalSessionMiddleware."""
    user = UserFactory(role=Role.PROVIDER)
    with time_machine.travel(START, tick=False) as traveller:
        client.force_login(user)
        traveller.shift(timedelta(minutes=29))
        assert _logged_in(client)
        traveller.shift(timedelta(minutes=29))  # counted from the last request, not from the login
        assert _logged_in(client)
        traveller.shift(timedelta(minutes=30))
        response = client.get(PRIVATE, follow=True)
        assert response.redirect_chain[0][0].startswith(reverse("login"))
        assert any("30" in str(m) for m in response.context["messages"])
        assert not _logged_in(client)
    logout = AuditEvent.objects.get(action=AuditEvent.Action.LOGOUT)
    assert (logout.actor, logout.detail) == (user, {"reason": "idle"})


def test_a_staff_session_ends_after_fifteen_idle_minutes(client):
    """Guards the shorter idle timeout for staff (PORTAL_SESSION_STAFF_IDLE_MINUTES = 15)."""
    user = UserFactory(role=Role.OFFICER)
    with time_machine.travel(START, tick=False) as traveller:
        client.force_login(user)
        traveller.shift(timedelta(minutes=14))
        assert _logged_in(client)
        traveller.shift(timedelta(minutes=15))
        assert not _logged_in(client)


def test_a_busy_session_still_ends_twelve_hours_after_the_login(client):
    """Guards the absolute limit (PORTAL_SESSION_ABSOLUTE_HOURS = 12)."""
    user = UserFactory(role=Role.PROVIDER)
    with time_machine.travel(START, tick=False) as traveller:
        client.force_login(user)
        for _ in range(35):  # every 20 minutes for 11 h 40 min
            traveller.shift(timedelta(minutes=20))
            assert _logged_in(client)
        traveller.shift(timedelta(minutes=20))
        assert not _logged_in(client)
    assert AuditEvent.objects.get(action=AuditEvent.Action.LOGOUT).detail == {"reason": "absolute"}


def test_the_absolute_limit_is_the_middlewares_not_only_the_cookies(client, settings):
    """Guards the middleware's own absolute check: the stored session would live longer (SESSION_COOKIE_AGE)."""
    settings.PORTAL_SESSION_ABSOLUTE_HOURS = 2
    user = UserFactory(role=Role.PROVIDER)
    with time_machine.travel(START, tick=False) as traveller:
        client.force_login(user)
        for _ in range(5):
            traveller.shift(timedelta(minutes=20))
            assert _logged_in(client)
        traveller.shift(timedelta(minutes=20))
        assert not _logged_in(client)


def test_a_logged_in_session_without_the_login_marks_is_ended(client):
    """Guards the fail-closed rule: a session from before the policy (or planted in the store) cannot live on."""
    client.force_login(UserFactory())
    session = client.session
    del session[LOGIN_AT], session[LAST_ACTIVITY]
    session.save()
    assert not _logged_in(client)


def test_a_session_carries_the_login_marks(client):
    """Guards signals.session_mark_login: the timeouts count from the login itself."""
    UserFactory(username="clerk")
    with time_machine.travel(START, tick=False):
        _post_login(client, "clerk", TEST_PASSWORD)
        session = client.session
        assert session[LOGIN_AT] == session[LAST_ACTIVITY] == START.timestamp()


# --- Disabled accounts -------------------------------------------------------------------------------------


def _sessions_of(user):
    return [s for s in Session.objects.all() if s.get_decoded().get(SESSION_KEY) == str(user.pk)]


def test_disabling_an_account_ends_all_its_sessions(client):
    """Guards signals.end_sessions_of_disabled_user: every session of the account is deleted from the store."""
    user, colleague = UserFactory(), UserFactory()
    second = Client()
    client.force_login(user)
    second.force_login(user)
    Client().force_login(colleague)
    assert len(_sessions_of(user)) == 2

    user.is_active = False
    user.save(update_fields=["is_active"])
    assert _sessions_of(user) == []
    assert len(_sessions_of(colleague)) == 1
    assert not _logged_in(client) and not _logged_in(second)


def test_saving_an_active_account_leaves_its_sessions_alone(client):
    """Guards the signal's precision: only disabling ends sessions."""
    user = UserFactory()
    client.force_login(user)
    user.full_name = "改名"
    user.save()
    assert len(_sessions_of(user)) == 1 and _logged_in(client)


def test_disabling_an_organisation_ends_its_users_sessions(client):
    """Guards signals.end_sessions_of_disabled_organisation."""
    organisation = OrganisationFactory(kind="provider")
    staff = [UserFactory(organisation=organisation) for _ in range(2)]
    outsider = UserFactory()
    for user in [*staff, outsider]:
        Client().force_login(user)
    organisation.is_active = False
    organisation.save()
    assert all(_sessions_of(user) == [] for user in staff)
    assert len(_sessions_of(outsider)) == 1
