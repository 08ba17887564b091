import os

import pytest
from django.conf import settings


def services_configured():
    engine = settings.DATABASES["default"]["ENGINE"]
    return engine == "django.db.backends.postgresql" and bool(settings.REDIS_URL)


def pytest_runtest_setup(item):
    if "services" in item.keywords and not services_configured():
        # CI sets REQUIRE_SERVICES=1 on its PostgreSQL + Redis run, so a misconfigured run fails loudly
        # instead of quietly skipping the tests that prove the real services work.
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail("REQUIRE_SERVICES=1 but DATABASE_URL (PostgreSQL) and REDIS_URL are not both set")
        pytest.skip("needs DATABASE_URL (PostgreSQL) and REDIS_URL")
