import os

import pytest
from django.conf import settings
from django.test import Client, RequestFactory


def services_configured():
    engine = settings.DATABASES["default"]["ENGINE"]
    return engine == "django.db.backends.postgresql" and bool(settings.REDIS_URL)


# The test run's own fixed encryption key (tangshan_portal/crypto.py): the test runner switches DEBUG off, which
# allows no development key, and a fixed key keeps runs alike whatever the machine's environment says. The
# encryption tests (tests/test_encryption.py) change the keys with the `settings` fixture.
TEST_ENCRYPTION_KEYS = "test1:dGVzdC1vbmx5LWtleS0xNg=="


def pytest_configure(config):
    settings.PORTAL_ENCRYPTION_KEYS = TEST_ENCRYPTION_KEYS


def pytest_runtest_setup(item):
    if "services" in item.keywords and not services_configured():
        # CI sets REQUIRE_SERVICES=1 on its PostgreSQL + Redis run, so a misconfigured run fails loudly
        # instead of quietly skipping the tests that prove the real services work.
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail("REQUIRE_SERVICES=1 but DATABASE_URL (PostgreSQL) and REDIS_URL are not both set")
        pytest.skip("needs DATABASE_URL (PostgreSQL) and REDIS_URL")


class PortalClient(Client):
    """The test client, with a request in `login()`.

    django-axes checks every authentication against the lockout and refuses one without the request it keys on
    (settings.AUTHENTICATION_BACKENDS); Django's client.login() calls authenticate() without one. This passes a
    request from the address the test client uses, as the login page would."""

    def login(self, **credentials):
        credentials.setdefault("request", RequestFactory().post("/accounts/login/"))
        return super().login(**credentials)


@pytest.fixture
def client():
    return PortalClient()


# --- The second factor (tangshan_portal/otp.py) ------------------------------------------------------------------
# Every login of the test client (login(), force_login(), pytest-django's admin_client, raw Client() instances)
# ends with a session that passed the second factor, for users who need one: the tests of everything else keep
# logging in as before. tests/test_otp.py asks for `real_otp` and goes through the real enrolment and code pages;
# the browser tests log in through the real forms and type the code (tests/otp_helpers.py).
_OTP_SHORTCUT = {"on": True}
_client_login = Client._login


def _login_with_second_factor(self, user, backend=None):
    _client_login(self, user, backend)
    if _OTP_SHORTCUT["on"]:
        from tests.otp_helpers import mark_client_verified

        mark_client_verified(self, user)


Client._login = _login_with_second_factor


@pytest.fixture
def real_otp():
    """Logins of the test client stay without the second factor, as after the real login form."""
    _OTP_SHORTCUT["on"] = False
    yield
    _OTP_SHORTCUT["on"] = True


@pytest.fixture(autouse=True)
def _empty_cache():
    # Public pages are cached under the newest PublicChange id; a rolled-back test can leave the same id
    # behind on SQLite, so every test starts with an empty cache.
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path_factory):
    # Decisions issue their documents after commit; the PDFs of a test run never land in var/media.
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")


@pytest.fixture
def officer(db):
    from tangshan_portal.roles import Role
    from tests.factories import UserFactory

    return UserFactory(role=Role.OFFICER, username="officer_a")


@pytest.fixture
def approver(db):
    from tangshan_portal.roles import Role
    from tests.factories import UserFactory

    return UserFactory(role=Role.APPROVER, username="approver_a")


@pytest.fixture
def provider(db):
    from tests.factories import ProviderFactory

    return ProviderFactory(name="唐山测评科技有限公司")


@pytest.fixture
def provider_user(provider):
    from tangshan_portal.roles import Role
    from tests.factories import UserFactory

    return UserFactory(role=Role.PROVIDER, organisation=provider.organisation, username="provider_staff")
