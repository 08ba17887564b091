"""Django's deployment checks pass, at warning level, with the environment docker-compose.yml gives production.

Control guarded: the deployment settings as a whole (issue 8, item 5): DEBUG off, a strong secret key, allowed
hosts, HTTPS redirect, HSTS with subdomains, secure and HttpOnly cookies, nosniff, X-Frame-Options DENY, a referrer
policy. Removing any of them makes `manage.py check --deploy` warn, and `--fail-level WARNING` turns the warning
into a non-zero exit that fails this test. The tests that switch a control off by its variable show that the check
really runs against these settings.
"""

import base64
import os
import re
import runpy
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

SETTINGS_FILE = Path(settings.BASE_DIR) / "tangshan_portal" / "settings.py"

# Variables of the development machine or of the PostgreSQL CI run that must not leak into "production".
_DROPPED_PREFIXES = ("DJANGO_", "PORTAL_", "DATABASE_", "REDIS_", "CELERY_")


def production_environ(tmp_path, **overrides):
    """The environment of the web container in docker-compose.yml, with a fresh random secret key.

    DATABASE_URL and REDIS_URL name the compose services as compose does; nothing here connects to them.
    """
    env = {key: value for key, value in os.environ.items() if not key.startswith(_DROPPED_PREFIXES)}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "tangshan_portal.settings",
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            # compose: "127.0.0.1,${DJANGO_ALLOWED_HOSTS}" (127.0.0.1 for the container's own health check).
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,portal.example.cn",
            "DJANGO_CSRF_TRUSTED_ORIGINS": "https://portal.example.cn",
            # compose's comment: a TLS reverse proxy in front, and this set.
            "DJANGO_BEHIND_TLS_PROXY": "1",
            "DATABASE_URL": "postgres://portal:change-me@postgres:5432/portal",
            "DATABASE_CONN_MAX_AGE": "60",
            "REDIS_URL": "redis://redis:6379/0",
            "DJANGO_MEDIA_ROOT": str(tmp_path / "media"),
            # The encryption key ring (tangshan_portal/crypto.py): without it the check fails with portal.E020.
            "PORTAL_ENCRYPTION_KEYS": "k1:" + base64.b64encode(secrets.token_bytes(16)).decode(),
            "CELERY_FILESYSTEM_DIR": str(tmp_path / "celery"),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    env.update(overrides)
    return env


def production_settings(monkeypatch, tmp_path, **overrides):
    """The settings module's values under the production environment, read without touching the running Django."""
    for key in [k for k in os.environ if k.startswith(_DROPPED_PREFIXES)]:
        monkeypatch.delenv(key)
    for key, value in production_environ(tmp_path, **overrides).items():
        monkeypatch.setenv(key, value)
    return runpy.run_path(str(SETTINGS_FILE))


def run_deploy_check(tmp_path, **overrides):
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        env=production_environ(tmp_path, **overrides),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_deploy_check_is_clean_with_the_production_environment(tmp_path):
    result = run_deploy_check(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    # The one silenced check is the HSTS preload notice (settings.py says why); nothing else is hidden.
    assert "no issues (1 silenced)" in result.stdout, result.stdout


def test_deploy_check_is_clean_with_hsts_preload_on(tmp_path):
    """With preloading chosen nothing at all is silenced."""
    result = run_deploy_check(tmp_path, DJANGO_HSTS_PRELOAD="1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues (0 silenced)" in result.stdout, result.stdout


@pytest.mark.parametrize(
    ("variable", "value", "warning"),
    [
        ("DJANGO_HSTS_SECONDS", "0", "security.W004"),
        ("DJANGO_HSTS_INCLUDE_SUBDOMAINS", "0", "security.W005"),
        ("DJANGO_SECURE_SSL_REDIRECT", "0", "security.W008"),
    ],
)
def test_deploy_check_fails_when_a_control_is_switched_off(tmp_path, variable, value, warning):
    result = run_deploy_check(tmp_path, **{variable: value})
    assert result.returncode != 0
    assert warning in result.stdout + result.stderr


def test_only_the_preload_notice_is_silenced(monkeypatch, tmp_path):
    """Silencing a check hides a missing control from this test: any other silenced check needs a reason here."""
    assert production_settings(monkeypatch, tmp_path)["SILENCED_SYSTEM_CHECKS"] == ["security.W021"]
    assert production_settings(monkeypatch, tmp_path, DJANGO_HSTS_PRELOAD="1")["SILENCED_SYSTEM_CHECKS"] == []


def _pins(path):
    pins = {}
    for line in Path(settings.BASE_DIR, path).read_text(encoding="utf-8").splitlines():
        line = line.split("#")[0].strip()
        if "==" in line and not line.startswith("-"):
            name, version = line.split("==")
            pins[re.sub(r"[-_.]+", "-", name.split("[")[0]).lower()] = version.strip()
    return pins


def test_the_vulnerability_check_reads_one_pin_per_package():
    """Control: `make audit-deps` (pip-audit over the three requirements files). pip-audit refuses a package pinned
    twice to different versions, and only finds out where its database is reachable: this says it here first."""
    files = ["requirements.txt", "requirements-dev.txt", "requirements-audit.txt"]
    pins = {path: _pins(path) for path in files}
    assert all(pins.values())
    conflicts = {
        name: {path: pins[path][name] for path in files if name in pins[path]}
        for name in set().union(*pins.values())
        if len({pins[path][name] for path in files if name in pins[path]}) > 1
    }
    assert conflicts == {}
