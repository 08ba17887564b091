"""Operations (issue 9, item 4): the probes, the structured logs, gunicorn's configuration, and a backup restored
into a second database (docs/operations.md)."""

import io
import json
import logging
import os
import runpy
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.utils import OperationalError

from tangshan_portal import logs, views
from tangshan_portal.roles import Role
from tests.conftest import PortalClient
from tests.factories import UserFactory
from tests.test_deploy_check import production_environ

BASE_DIR = Path(settings.BASE_DIR)
NEVER_CACHED = ("no-cache", "no-store", "max-age=0")


def _never_cached(response):
    return all(part in response["Cache-Control"] for part in NEVER_CACHED)


# --- /healthz: liveness -----------------------------------------------------------------------------------------


def test_healthz_answers_without_touching_the_database(client):
    """No django_db mark: pytest-django refuses every database access here, so an answer proves the liveness
    probe asks no dependency (and runs outside ATOMIC_REQUESTS, whose transaction would connect first)."""
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert _never_cached(response)


def test_healthz_stays_200_while_the_database_is_down(client, db, monkeypatch):
    def refuse(self):
        raise OperationalError("connection to server at db-secret-host failed")

    # Every query goes through ensure_connection, also on a connection that is open already.
    monkeypatch.setattr(BaseDatabaseWrapper, "ensure_connection", refuse)
    try:
        assert client.get("/healthz").status_code == 200
        response = client.get("/readyz")
    finally:
        monkeypatch.undo()
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "error"
    # The reason goes to the log, never to the probe's caller.
    assert b"db-secret-host" not in response.content and b"OperationalError" not in response.content


# --- /readyz: readiness -----------------------------------------------------------------------------------------


@pytest.fixture
def fresh_migration_check(monkeypatch):
    """Each test starts as a new process would: the positive answer not yet cached."""
    monkeypatch.setattr(views, "_migrations_applied", False)


def test_readyz_reports_the_database_the_migrations_and_the_last_worker(client, db, fresh_migration_check):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["migrations"] == "ok"
    assert body["checks"]["worker_last_seen"] is None
    assert ("redis" in body["checks"]) == bool(settings.REDIS_URL)
    assert _never_cached(response)


def test_readyz_shows_when_a_worker_was_last_seen_without_depending_on_it(client, db, fresh_migration_check):
    from tangshan_portal.services import worker_heartbeat_record

    seen = worker_heartbeat_record(hostname="worker-1")
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"]["worker_last_seen"] == seen.isoformat()


def test_readyz_answers_503_while_migrations_are_pending(client, db, fresh_migration_check, monkeypatch):
    from django.db.migrations.executor import MigrationExecutor

    monkeypatch.setattr(MigrationExecutor, "migration_plan", lambda self, targets: [("unapplied", False)])
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["migrations"] == "pending"
    # Not cached while pending: the node becomes ready as soon as `migrate` has run.
    monkeypatch.undo()
    monkeypatch.setattr(views, "_migrations_applied", False)
    assert client.get("/readyz").status_code == 200


def test_readyz_computes_the_migration_plan_only_until_it_is_empty(client, db, fresh_migration_check, monkeypatch):
    from django.db.migrations.executor import MigrationExecutor

    plans = []
    original = MigrationExecutor.migration_plan

    def counting(self, targets, clean_start=False):
        plans.append(1)
        return original(self, targets, clean_start)

    monkeypatch.setattr(MigrationExecutor, "migration_plan", counting)
    for _ in range(3):
        assert client.get("/readyz").status_code == 200
    assert len(plans) == 1


def test_readyz_answers_503_when_redis_is_configured_but_unreachable(client, db, settings, fresh_migration_check):
    from django.core.cache import caches

    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": settings.REDIS_URL}
    }
    caches["default"].close()
    del caches["default"]
    try:
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.json()["checks"]["redis"] == "error"
        assert client.get("/healthz").status_code == 200
    finally:
        del caches["default"]


@pytest.mark.services
@pytest.mark.django_db
def test_readyz_round_trips_through_redis(client, fresh_migration_check):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"]["redis"] == "ok"


@pytest.mark.django_db
def test_probes_stay_open_to_a_session_that_owes_its_second_factor(real_otp, settings):
    settings.PORTAL_OTP_ENABLED = True
    client = PortalClient()
    client.force_login(UserFactory(role=Role.OFFICER))
    # The control: every other page sends this session to the second factor first.
    assert client.get("/").status_code == 302
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200


# --- Structured logs --------------------------------------------------------------------------------------------


@pytest.fixture
def json_log():
    """The records of the test, as the production handler writes them (settings.LOGGING with json)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    handler.addFilter(logs.RequestContextFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    previous = root.level
    root.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)
    root.setLevel(previous)


def _access_lines(lines):
    return [line for line in lines if line["logger"] == "portal.request"]


@pytest.mark.django_db
def test_a_request_writes_one_json_access_line_without_personal_data(client, json_log):
    user = UserFactory(role=Role.ENTERPRISE, username="zhang_wei_login", full_name="张伟", phone="13912345678")
    client.force_login(user)
    response = client.get("/notifications/", {"q": "唐山秘密科技有限公司"})
    assert response.status_code == 200

    lines = json_log()
    [access] = _access_lines(lines)
    assert set(access) >= {"timestamp", "level", "logger", "message", "request_id", "method", "path", "status"}
    assert access["timestamp"].endswith("+00:00") and "T" in access["timestamp"]
    assert access["level"] == "INFO"
    assert access["method"] == "GET"
    assert access["path"] == "/notifications/"
    assert access["status"] == 200
    assert isinstance(access["duration_ms"], float)
    assert access["user_id"] == user.pk
    assert access["request_id"] == response["X-Request-ID"]
    # Django's own record of a 404 carries the request, whose representation has the query string.
    assert client.get("/no-such-page/", {"uscc": "91130200MA0SECRET"}).status_code == 404
    lines = json_log()
    assert any(line["logger"] == "django.request" for line in lines)
    everything = json.dumps(lines, ensure_ascii=False)
    for personal in ("zhang_wei_login", "张伟", "13912345678", "唐山秘密科技有限公司", "q=", "SECRET"):
        assert personal not in everything


@pytest.mark.django_db
def test_records_logged_inside_a_request_carry_its_context(client, json_log, monkeypatch):
    def refuse(self):
        raise OperationalError("down")

    monkeypatch.setattr(BaseDatabaseWrapper, "ensure_connection", refuse)
    try:
        response = client.get("/readyz")
    finally:
        monkeypatch.undo()

    [failure] = [line for line in json_log() if line["message"] == "readyz: database check failed"]
    assert failure["level"] == "ERROR"
    assert failure["request_id"] == response["X-Request-ID"]
    assert failure["path"] == "/readyz" and failure["method"] == "GET"
    assert "OperationalError" in failure["exc_info"]
    # Outside a request no request field is added.
    logging.getLogger("portal.test").warning("outside")
    [outside] = [line for line in json_log() if line["message"] == "outside"]
    assert "request_id" not in outside and "path" not in outside


def test_the_request_id_comes_from_the_trusted_proxy_only(client, settings, json_log):
    settings.PORTAL_TRUSTED_PROXY_COUNT = 0
    response = client.get("/healthz", HTTP_X_REQUEST_ID="client-chosen-id-1")
    generated = response["X-Request-ID"]
    assert generated != "client-chosen-id-1" and len(generated) == 32

    settings.PORTAL_TRUSTED_PROXY_COUNT = 1
    response = client.get("/healthz", HTTP_X_REQUEST_ID="0f3c9a7e-proxy-id")
    assert response["X-Request-ID"] == "0f3c9a7e-proxy-id"
    # Even the proxy's header is replaced when it could break a log line.
    response = client.get("/healthz", HTTP_X_REQUEST_ID="forged\nline injected")
    assert "\n" not in response["X-Request-ID"] and len(response["X-Request-ID"]) == 32

    ids = [line["request_id"] for line in _access_lines(json_log())]
    assert ids[0] == generated and ids[1] == "0f3c9a7e-proxy-id"


def test_the_user_id_is_read_only_when_the_request_looked_the_user_up():
    """A page that never asked who is there must not get the session and user queries for the log's sake."""
    from django.http import HttpRequest
    from django.utils.functional import SimpleLazyObject

    def lookup():
        raise AssertionError("the log looked the user up")

    request = HttpRequest()
    request.user = SimpleLazyObject(lookup)
    assert logs._user_id(request) is None

    user = UserFactory.build(pk=42)
    request.user = SimpleLazyObject(lambda: user)
    request.user.pk  # the view asked  # noqa: B018
    assert logs._user_id(request) == 42
    request.user = user  # DRF's authentication sets the user itself
    assert logs._user_id(request) == 42


def test_text_format_for_development():
    record = logging.LogRecord("portal.request", logging.INFO, __file__, 1, "GET %s", ("/x",), None)
    record.request_id, record.status = "abc123", 200
    line = logs.TextFormatter().format(record)
    assert line.endswith("INFO portal.request GET /x [request_id=abc123 status=200]")


def test_settings_pick_json_in_production_and_text_in_development(tmp_path):
    probe = "from django.conf import settings; print(settings.LOGGING['formatters']['portal']['()'])"

    def formatter(**env):
        environ = production_environ(tmp_path, **env)
        result = subprocess.run(
            [sys.executable, "-c", probe], env=environ, cwd=BASE_DIR, capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.strip().splitlines()[-1]

    assert formatter() == "tangshan_portal.logs.JsonFormatter"
    assert formatter(DJANGO_DEBUG="1") == "tangshan_portal.logs.TextFormatter"
    assert formatter(PORTAL_LOG_FORMAT="text") == "tangshan_portal.logs.TextFormatter"


def test_celery_leaves_the_logging_configuration_to_the_portal():
    from tangshan_portal.celery import app

    app.log.already_setup = False
    app.log.setup_logging_subsystem(loglevel="DEBUG", colorize=False)
    # Without the setup_logging receiver Celery would install its own handler and format on the root logger.
    formatters = {type(handler.formatter) for handler in logging.getLogger().handlers}
    assert formatters == {logs.TextFormatter if settings.PORTAL_LOG_FORMAT == "text" else logs.JsonFormatter}


def test_records_of_a_celery_task_carry_its_id_and_name(json_log):
    class Task:
        name = "portal.example_task"

    logs.task_started(task_id="task-1", task=Task())
    logging.getLogger("portal.test").info("inside a task")
    logs.task_finished(task_id="task-1", task=Task())
    logging.getLogger("portal.test").info("after the task")
    inside, after = [line for line in json_log() if line["logger"] == "portal.test"]
    assert inside["task_id"] == "task-1" and inside["task_name"] == "portal.example_task"
    assert "task_id" not in after


# --- gunicorn.conf.py -------------------------------------------------------------------------------------------

_GUNICORN_ENV = (
    "DJANGO_DEBUG",
    "DJANGO_BEHIND_TLS_PROXY",
    "PORTAL_TRUSTED_PROXY_COUNT",
    "PORTAL_LOG_FORMAT",
    "GUNICORN_WORKERS",
    "GUNICORN_FORWARDED_ALLOW_IPS",
    "GUNICORN_ACCESS_LOG",
)


def _gunicorn_config(monkeypatch, **env):
    from gunicorn.config import Config

    for name in _GUNICORN_ENV:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    namespace = runpy.run_path(str(BASE_DIR / "gunicorn.conf.py"))
    config = Config()
    for name, value in namespace.items():
        if name in config.settings:
            config.set(name, value)  # gunicorn's own validation of every value
    return config


def test_gunicorn_config_defaults(monkeypatch):
    config = _gunicorn_config(monkeypatch, DJANGO_DEBUG="0")
    assert config.workers == 2 * len(os.sched_getaffinity(0)) + 1
    assert config.bind == ["0.0.0.0:8000"]
    assert config.max_requests == 5000 and config.max_requests_jitter == 2500
    assert config.graceful_timeout == 30 and config.timeout == 60
    assert config.worker_tmp_dir == ("/dev/shm" if os.path.isdir("/dev/shm") else None)  # noqa: S108
    formatter = config.logconfig_dict["formatters"]["portal"]["()"]
    assert formatter == "tangshan_portal.logs.JsonFormatter"
    assert config.logconfig_dict["loggers"]["gunicorn.access"]["handlers"] == []
    assert _gunicorn_config(monkeypatch, GUNICORN_WORKERS="3", GUNICORN_ACCESS_LOG="1").workers == 3


@pytest.mark.parametrize(
    ("env", "allowed"),
    [
        ({"DJANGO_DEBUG": "0"}, []),
        ({"DJANGO_DEBUG": "0", "DJANGO_BEHIND_TLS_PROXY": "1"}, ["*"]),
        ({"DJANGO_DEBUG": "1", "DJANGO_BEHIND_TLS_PROXY": "1"}, []),
        ({"DJANGO_DEBUG": "0", "DJANGO_BEHIND_TLS_PROXY": "1", "PORTAL_TRUSTED_PROXY_COUNT": "0"}, []),
        ({"PORTAL_TRUSTED_PROXY_COUNT": "2"}, ["*"]),
        ({"PORTAL_TRUSTED_PROXY_COUNT": "1", "GUNICORN_FORWARDED_ALLOW_IPS": "10.0.0.0/8"}, ["10.0.0.0/8"]),
    ],
)
def test_gunicorn_trusts_forwarded_headers_exactly_when_the_portal_trusts_a_proxy(monkeypatch, env, allowed):
    assert _gunicorn_config(monkeypatch, **env).forwarded_allow_ips == allowed


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_gunicorn_serves_with_json_logs_and_the_proxys_request_id(tmp_path):
    """The production container's command, end to end: every line on stdout is JSON, the portal's access line
    carries the id the proxy sent, and the response echoes it."""
    port = _free_port()
    env = production_environ(
        tmp_path,
        DATABASE_URL=f"sqlite:///{tmp_path / 'empty.sqlite3'}",
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_WORKERS="1",
        HOME=str(tmp_path),
    )
    env.pop("REDIS_URL")
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("gunicorn")), "-c", "gunicorn.conf.py", "tangshan_portal.wsgi"],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/healthz", headers={"X-Request-ID": "proxy-req-0001", "Host": "127.0.0.1"}
        )
        for _attempt in range(120):
            try:
                with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 (a local http URL)
                    assert response.status == 200
                    assert response.headers["X-Request-ID"] == "proxy-req-0001"
                    break
            except OSError:
                time.sleep(0.25)
        else:
            pytest.fail("gunicorn did not answer")
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
    lines = [json.loads(line) for line in output.splitlines() if line.strip()]
    assert {"gunicorn.error", "portal.request"} <= {line["logger"] for line in lines}
    [access] = [line for line in lines if line["logger"] == "portal.request"]
    assert access["request_id"] == "proxy-req-0001" and access["path"] == "/healthz" and access["status"] == 200


# --- Backup and restore -----------------------------------------------------------------------------------------

RESTORE_DB = "portal_h2_restore"


def _pg_url(name):
    db = settings.DATABASES["default"]
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}"


def _admin_connection():
    db = settings.DATABASES["default"]
    return psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"],
        password=db.get("PASSWORD") or None,
        dbname="postgres",
        autocommit=True,
    )


@pytest.fixture
def restore_database():
    """A second, empty database on the same server, dropped afterwards."""
    with _admin_connection() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{RESTORE_DB}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{RESTORE_DB}"')
    yield RESTORE_DB
    with _admin_connection() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{RESTORE_DB}" WITH (FORCE)')


def _script(name, database, media, *args, backup_dir=None):
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "PORTAL_", "DATABASE"))}
    env.update(
        DATABASE_URL=_pg_url(database),
        DJANGO_MEDIA_ROOT=str(media),
        PORTAL_ENCRYPTION_KEYS=settings.PORTAL_ENCRYPTION_KEYS,
        PORTAL_BACKUP_DIR=str(backup_dir or ""),
    )
    return subprocess.run(
        [sys.executable, str(BASE_DIR / "bin" / name), *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _table_counts(dbname):
    db = settings.DATABASES["default"]
    with psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"],
        password=db.get("PASSWORD") or None,
        dbname=dbname,
    ) as conn:
        tables = [row[0] for row in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
        counts = {table: conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0] for table in tables}  # noqa: S608
        head = None
        if "portal_auditevent" in counts:
            head = conn.execute("SELECT sequence, chain_hash FROM portal_auditevent ORDER BY sequence DESC LIMIT 1")
            head = head.fetchone()
        return counts, head


def _world():
    """Some of everything: organisations, users, providers, enterprises, audit events, and an encrypted file."""
    from tangshan_portal.audit import record_event
    from tangshan_portal.services import attachment_store
    from tests.factories import PilotEnterpriseFactory, ProviderFactory
    from tests.factories_contracts import pdf
    from tests.factories_outreach import DossierSurveyFactory

    officer = UserFactory(role=Role.OFFICER, phone="13800000001")
    for _ in range(3):
        ProviderFactory()
        PilotEnterpriseFactory()
    for number in range(5):
        record_event("login", actor=officer, detail=number)
    body = b"%PDF-1.4\n% backup drill confidential-marker\n%%EOF\n"
    attachment = attachment_store(target=DossierSurveyFactory(), uploaded=pdf("工艺说明.pdf", body), by=officer)
    return attachment, body


@pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="bin/backup and bin/restore drive pg_dump and pg_restore: the drill needs PostgreSQL (DATABASE_URL)",
)
@pytest.mark.django_db(transaction=True)
def test_a_backup_restores_into_a_fresh_database_whole(tmp_path, restore_database):
    from tangshan_portal.storage import EncryptedFileSystemStorage

    attachment, body = _world()
    source_db = settings.DATABASES["default"]["NAME"]  # pytest-django's test database, where _world committed
    backups = tmp_path / "backups"

    done = _script("backup", source_db, settings.MEDIA_ROOT, "--keep", "2", backup_dir=backups)
    assert done.returncode == 0, done.stderr
    assert "NOT in this backup" in done.stdout  # the keys warning
    [backup] = list(backups.glob("portal-*"))
    manifest = json.loads((backup / "manifest.json").read_text())
    assert set(manifest["parts"]) == {"database.dump", "media.tar"}
    assert manifest["encryption_keys_included"] is False and manifest["encryption_key_ids"] == ["test1"]
    assert "portal.0001_initial" in manifest["migrations"]
    assert settings.PORTAL_ENCRYPTION_KEYS.split(":", 1)[1] not in (backup / "manifest.json").read_text()

    # A tampered part is refused before anything is written.
    tampered = tmp_path / "tampered"
    tampered.mkdir()
    for part in backup.iterdir():
        (tampered / part.name).write_bytes(part.read_bytes())
    dump = bytearray((tampered / "database.dump").read_bytes())
    dump[len(dump) // 2] ^= 0x01
    (tampered / "database.dump").write_bytes(bytes(dump))
    restored_media = tmp_path / "restored-media"
    refused = _script("restore", restore_database, restored_media, str(tampered))
    assert refused.returncode == 1
    assert "database.dump does not match its SHA-256" in refused.stderr
    assert _table_counts(restore_database)[0] == {}
    assert not restored_media.exists() or not any(restored_media.iterdir())

    restored = _script("restore", restore_database, restored_media, str(backup))
    assert restored.returncode == 0, restored.stderr + restored.stdout
    assert "Audit chain intact" in restored.stdout
    assert "NOT in this backup" in restored.stdout

    source_counts, source_head = _table_counts(source_db)
    restored_counts, restored_head = _table_counts(restore_database)
    assert restored_counts == source_counts
    assert source_counts["portal_auditevent"] >= 5 and source_counts["providers_provider"] >= 3
    assert restored_head == source_head
    assert manifest["audit_head"] == f"{source_head[0]}:{source_head[1]}"

    restored_storage = EncryptedFileSystemStorage(location=restored_media)
    assert restored_storage.read_plaintext(attachment.file.name) == body
    assert b"confidential-marker" not in (restored_media / attachment.file.name).read_bytes()

    # Into a database that has tables now: refused without --force.
    again = _script("restore", restore_database, tmp_path / "other-media", str(backup))
    assert again.returncode == 1 and "is not empty" in again.stderr
