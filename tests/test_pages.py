import json
import subprocess
import sys

import pytest
from django.conf import settings
from django.test import override_settings
from django.urls import reverse

from tangshan_portal.models import AuditEvent, WorkerHeartbeat

pytestmark = pytest.mark.django_db


def test_home_page_is_chinese_by_default_and_explains_each_user_group(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="zh-CN">' in html
    assert settings.PORTAL_SITE_TITLE in html
    for heading in ["社会公众", "试点企业", "服务商", "工信部门", "第三方支撑机构"]:
        assert heading in html, heading
    # Only local assets: nothing in the page points at another host.
    assert "//" not in "".join(part.split('"')[0] for part in html.split('src="')[1:])
    assert 'href="http' not in html


def test_language_switch_turns_the_portal_english_and_back(client):
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    html = client.get("/").content.decode()
    assert '<html lang="en">' in html
    assert "What the portal offers you" in html
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    assert '<html lang="zh-CN">' in client.get("/").content.decode()


def test_unknown_page_answers_404_in_chinese(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "页面不存在" in response.content.decode()


@override_settings(DEBUG=False)
def test_server_error_page_is_chinese(client):
    from tangshan_portal.views import server_error

    response = server_error(client.get("/").wsgi_request)
    assert response.status_code == 500
    assert "服务器错误" in response.content.decode()


def test_worker_heartbeat_service_keeps_one_row_per_host():
    from tangshan_portal.services import worker_heartbeat_record

    first = worker_heartbeat_record(hostname="worker-1")
    second = worker_heartbeat_record(hostname="worker-1")
    assert WorkerHeartbeat.objects.count() == 1
    assert WorkerHeartbeat.objects.get().seen_at == second >= first


@pytest.mark.parametrize("debug_env", ["0"])
def test_production_mode_refuses_to_start_without_secret_key_and_hosts(debug_env):
    def run(env):
        base = {
            "PATH": "/usr/bin:/bin",
            "DJANGO_SETTINGS_MODULE": "tangshan_portal.settings",
            "DJANGO_DEBUG": debug_env,
        }
        return subprocess.run(
            [sys.executable, "-c", "import django; django.setup(); print('started')"],
            env={**base, **env},
            capture_output=True,
            text=True,
            cwd=settings.BASE_DIR,
            check=False,
        )

    no_key = run({})
    assert no_key.returncode != 0
    assert "DJANGO_SECRET_KEY" in no_key.stderr
    no_hosts = run({"DJANGO_SECRET_KEY": "k" * 60})
    assert no_hosts.returncode != 0
    assert "DJANGO_ALLOWED_HOSTS" in no_hosts.stderr
    ok = run({"DJANGO_SECRET_KEY": "k" * 60, "DJANGO_ALLOWED_HOSTS": "portal.example.com"})
    assert ok.returncode == 0, ok.stderr
    assert "started" in ok.stdout


def test_database_url_selects_postgresql_and_redis_url_the_broker_and_cache():
    code = (
        "import json; from django.conf import settings; "
        "print(json.dumps([settings.DATABASES['default']['ENGINE'], settings.DATABASES['default']['NAME'], "
        "settings.CELERY_BROKER_URL, settings.CACHES['default']['BACKEND']]))"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "tangshan_portal.settings",
        "DATABASE_URL": "postgres://portal@db.internal:5432/portal",
        "REDIS_URL": "redis://cache.internal:6379/0",
    }
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=settings.BASE_DIR, check=True
    )
    engine, name, broker, cache = json.loads(out.stdout)
    assert engine == "django.db.backends.postgresql"
    assert name == "portal"
    assert broker == "redis://cache.internal:6379/0"
    assert cache == "django.core.cache.backends.redis.RedisCache"


def test_embedded_defaults_are_sqlite_filesystem_broker_and_local_memory():
    code = (
        "import json; from django.conf import settings; "
        "print(json.dumps([settings.DATABASES['default']['ENGINE'], settings.CELERY_BROKER_URL, "
        "settings.CACHES['default']['BACKEND'], settings.LANGUAGE_CODE, settings.TIME_ZONE, settings.USE_TZ, "
        "sorted(settings.CELERY_BROKER_TRANSPORT_OPTIONS)]))"
    )
    env = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "tangshan_portal.settings"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=settings.BASE_DIR, check=True
    )
    engine, broker, cache, language, tz, use_tz, transport_options = json.loads(out.stdout)
    assert engine == "django.db.backends.sqlite3"
    assert broker == "filesystem://"
    assert cache == "django.core.cache.backends.locmem.LocMemCache"
    assert (language, tz, use_tz) == ("zh-hans", "Asia/Shanghai", True)
    assert "control_folder" in transport_options


def test_permission_denied_is_logged(client, django_user_model):
    # Any view that raises PermissionDenied must leave a trace in the audit log, with the path and IP.
    from django.core.exceptions import PermissionDenied
    from django.test import RequestFactory

    from tangshan_portal.views import permission_denied

    request = RequestFactory().get("/admin/secret/", REMOTE_ADDR="10.1.2.3")
    request.user = django_user_model.objects.create_user("clerk", password="x" * 12)
    response = permission_denied(request, PermissionDenied())
    assert response.status_code == 403
    event = AuditEvent.objects.get(action=AuditEvent.Action.PERMISSION_DENIED)
    assert (event.actor_username, event.path, event.ip_address, event.success) == (
        "clerk",
        "/admin/secret/",
        "10.1.2.3",
        False,
    )


def test_chinese_is_the_default_even_for_an_english_browser(client):
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert '<html lang="zh-CN">' in html
    assert "平台为您提供的服务" in html


def test_an_unknown_language_cookie_falls_back_to_chinese(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "xx"
    assert '<html lang="zh-CN">' in client.get("/").content.decode()
