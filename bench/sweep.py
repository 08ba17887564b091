#!/usr/bin/env python
"""Benchmark of the deadline sweep (`evaluations.services.deadlines_check`) on PostgreSQL.

For every size N it loads N running rectification cases (90 % past their deadline, 10 % due in 1–7 days)
for a few hundred providers with raw `INSERT … SELECT … FROM generate_series`, then measures:

  floor        one raw `UPDATE … SET status='overdue'` of the same rows, in a transaction that is rolled back
  sql_full     one SQL statement doing what the overdue part of the sweep must do (UPDATE + state-log rows +
               notifications), also rolled back: the floor for "set-based with its side effects"
  sweep        deadlines_check(): overdue marking with state logs and notifications, reminders, rule engine
  second run   deadlines_check() again at once: must change nothing

Run:  .venv/bin/python bench/sweep.py --sizes 10000 100000 1000000
The PostgreSQL server and credentials come from --database-url (default: $DATABASE_URL when it names a
PostgreSQL server, else postgres://postgres@127.0.0.1:5432/). The benchmark never touches the database named
there: it creates its own throwaway database (--db-name, default portal_sweep_bench), marked by a comment, and
drops it at the end. See bench/README.md for how to read the numbers.
"""

import argparse
import cProfile
import hashlib
import io
import json
import os
import platform
import pstats
import resource
import subprocess
import sys
import time
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from unittest import mock
from urllib.parse import urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432/postgres"
# Marks the databases the benchmarks create (sweep, public_load, imports), so that a leftover of an interrupted
# run is replaced and any other database of that name is never touched.
DB_MARKER = "portal benchmark: throwaway database, dropped at the end of the run"

N_PROVIDERS = 500
N_ENTERPRISES = 200
CONTRACTS_PER_PROVIDER = 2
MILESTONES_PER_CONTRACT = 4
DOCUMENT_PREFIX = "基准〔2026〕"

# Tables the load writes and the sweep changes; emptied before every size (identity restarted).
DATA_TABLES = (
    "evaluations_evidence",
    "evaluations_blacklistentry",
    "evaluations_revocationcase",
    "evaluations_rectificationcase",
    "evaluations_satisfactionrating",
    "enterprises_feeconsequence",
    "enterprises_milestone",
    "enterprises_servicecontract_scenarios",
    "enterprises_servicecontract",
    "enterprises_pilotenterprise",
    "providers_provider_scenarios",
    "providers_provider",
    "portal_notification",
    "django_fsm_log_statelog",
    "portal_documentsequence",
)


# --- The throwaway database ---------------------------------------------------------------------------------


def server_url(args_url):
    url = args_url or os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        url = DEFAULT_SERVER
    return url


def with_database(url, name):
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def admin_connection(url):
    import psycopg

    return psycopg.connect(with_database(url, "postgres").replace("postgres://", "postgresql://", 1), autocommit=True)


def create_database(url, name):
    """Create `name`, replacing only a leftover of an earlier benchmark run (recognised by its comment)."""
    from psycopg import sql

    with admin_connection(url) as conn:
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if row is not None:
            if row[0] != DB_MARKER:
                raise SystemExit(f"Database {name!r} exists and was not made by this benchmark; choose --db-name.")
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        conn.execute(sql.SQL("COMMENT ON DATABASE {} IS {}").format(sql.Identifier(name), sql.Literal(DB_MARKER)))


def drop_database(url, name):
    from psycopg import sql

    with admin_connection(url) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def setup_django(url):
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tangshan_portal.settings")
    sys.path.insert(0, str(BASE_DIR))
    import django

    django.setup()
    from django.conf import settings

    # Production runs with DEBUG off; with it on, Django keeps the text of every query (5,000-row INSERTs).
    settings.DEBUG = False


# --- Loading ------------------------------------------------------------------------------------------------


def sql(statement, params=None):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.rowcount


def scalar(statement, params=None):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchone()[0]


def staff_user():
    from tangshan_portal.models import Organisation, User

    bureau, _ = Organisation.objects.get_or_create(name="基准测试工信局", defaults={"kind": Organisation.Kind.BUREAU})
    user, _ = User.objects.get_or_create(
        username="bench_officer", defaults={"full_name": "基准测试", "organisation": bureau, "is_staff": True}
    )
    return user


def reset():
    sql("TRUNCATE " + ", ".join(DATA_TABLES) + " RESTART IDENTITY CASCADE")
    sql("DELETE FROM portal_organisation WHERE kind IN ('provider', 'enterprise')")


def load(n, *, today, officer_id):
    """N running cases, N_PROVIDERS providers with organisations, contracts with milestones and ratings."""
    from django.conf import settings

    from tangshan_portal.demo import city_division_code, sequential_uscc

    city = city_division_code(settings.PORTAL_COUNTIES)
    county_ids = [row[0] for row in _rows("SELECT id FROM portal_county ORDER BY code")]
    tz = settings.TIME_ZONE
    params = {"p": N_PROVIDERS, "e": N_ENTERPRISES, "today": today, "tz": tz, "officer": officer_id}

    sql(
        """INSERT INTO portal_organisation (name, kind, is_active, created_at)
        SELECT '基准数字科技有限公司' || lpad(g::text, 4, '0'), 'provider', true, now()
          FROM generate_series(1, %(p)s) g
        UNION ALL
        SELECT '基准制造有限公司' || lpad(g::text, 4, '0'), 'enterprise', true, now()
          FROM generate_series(1, %(e)s) g""",
        params,
    )
    sql(
        """INSERT INTO providers_provider (name, uscc, legal_representative, address, business_scope,
            registered_capital, provider_type, contact_name, contact_phone, contact_email, status, applied_at,
            updated_at, county_id, organisation_id)
        SELECT o.name, u.code, '张伟', '唐山市路南区建设路' || u.k || '号', '', 1000,
               (ARRAY['integrated', 'product', 'chain_leader'])[1 + u.k %% 3], '', '', '', 'under_rectification',
               now(), now(), (%(counties)s::bigint[])[1 + u.k %% cardinality(%(counties)s::bigint[])], o.id
          FROM unnest(%(codes)s::text[]) WITH ORDINALITY AS u(code, k)
          JOIN portal_organisation o ON o.name = '基准数字科技有限公司' || lpad(u.k::text, 4, '0')""",
        {**params, "counties": county_ids, "codes": [sequential_uscc(i, city, tag="B") for i in range(N_PROVIDERS)]},
    )
    sql(
        """INSERT INTO enterprises_pilotenterprise (name, uscc, industry, sub_industry, size, contact_name,
            contact_phone, baseline_level, created_at, updated_at, county_id, organisation_id)
        SELECT o.name, u.code, '制造业', '装备制造', 'small', '', '', 1, now(), now(),
               (%(counties)s::bigint[])[1 + u.k %% cardinality(%(counties)s::bigint[])], o.id
          FROM unnest(%(codes)s::text[]) WITH ORDINALITY AS u(code, k)
          JOIN portal_organisation o ON o.name = '基准制造有限公司' || lpad(u.k::text, 4, '0')""",
        {**params, "counties": county_ids, "codes": [sequential_uscc(i, city, tag="C") for i in range(N_ENTERPRISES)]},
    )
    # Contracts in progress for 120 days; every tenth lags far behind its milestones (engine ground 3).
    sql(
        """INSERT INTO enterprises_servicecontract (number, title, amount, subsidy, advance_payment, signed_on,
            start_on, end_on, status, created_at, updated_at, enterprise_id, provider_id, plan_goals, plan_content,
            plan_process, plan_deliverables, quality_control, maintenance_commitment)
        SELECT 'BENCH-' || p.id || '-' || j, '基准测试服务项目', 300000, 100000, 30000,
               %(today)s::date - 125, %(today)s::date - 120, %(today)s::date + 120, 'in_progress', now(), now(),
               (SELECT min(id) FROM enterprises_pilotenterprise) + (p.id * 7 + j) %% %(e)s, p.id, '', '', '', '', '', ''
          FROM providers_provider p CROSS JOIN generate_series(1, %(cpp)s) j""",
        {**params, "cpp": CONTRACTS_PER_PROVIDER},
    )
    sql(
        """INSERT INTO enterprises_milestone (name, planned_on, weight, reported_progress, reported_at, contract_id)
        SELECT '里程碑' || j, c.start_on + 60 * j, 25,
               CASE WHEN c.id %% 10 = 0 THEN (ARRAY[50, 0, 0, 0])[j] ELSE (ARRAY[100, 100, 70, 50])[j] END,
               now(), c.id
          FROM enterprises_servicecontract c CROSS JOIN generate_series(1, %(mpc)s) j""",
        {**params, "mpc": MILESTONES_PER_CONTRACT},
    )
    # Every contract rated once; every twentieth provider has two counted "dissatisfied" ratings (ground 2).
    sql(
        """INSERT INTO evaluations_satisfactionrating (stage, overall, comment, submitted_at, voided, void_reason,
            contract_id, submitted_by_id)
        SELECT '中期', CASE WHEN c.provider_id %% 20 = 0 THEN 'dissatisfied' ELSE 'satisfied' END, '', now(), false,
               '', c.id, %(officer)s
          FROM enterprises_servicecontract c""",
        params,
    )
    # N running cases: one in five returned once; 90 % past their deadline, 10 % due in 1–7 days.
    return sql(
        """WITH prov AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM providers_provider)
        INSERT INTO evaluations_rectificationcase (provider_id, contract_id, ground, finding, status, opened_by_id,
            opened_at, warned_at, reply_due_at, provider_reply, replied_at, document_number, ordered_at,
            ordered_by_id, deadline, extension_reason, report, responded_at, return_count, closed_at, overdue_at,
            closing_note)
        SELECT prov.id, NULL, 1 + g %% 6, '基准测试发现的问题 #' || g,
               CASE WHEN g %% 5 = 1 THEN 'returned' ELSE 'rectifying' END, %(officer)s,
               d.ordered - interval '8 days', d.ordered - interval '7 days', d.ordered - interval '2 days', '', NULL,
               %(prefix)s || g || '号', d.ordered, %(officer)s, dl.deadline, '',
               CASE WHEN g %% 5 = 1 THEN '已整改（基准数据）' ELSE '' END,
               CASE WHEN g %% 5 = 1 THEN d.ordered + interval '10 days' END,
               CASE WHEN g %% 5 = 1 THEN 1 ELSE 0 END, NULL, NULL, ''
          FROM generate_series(1, %(n)s) g
          JOIN prov ON prov.k = g %% %(p)s
          CROSS JOIN LATERAL (
              SELECT CASE WHEN g %% 10 = 0 THEN %(today)s::date + (1 + (g / 10) %% 7)
                          ELSE %(today)s::date - (1 + g %% 60) END AS deadline) dl
          CROSS JOIN LATERAL (SELECT ((dl.deadline - 30) + time '09:00') AT TIME ZONE %(tz)s AS ordered) d""",
        {**params, "n": n, "prefix": DOCUMENT_PREFIX},
    )


def _rows(statement, params=None):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall()


def vacuum(*tables):
    sql("VACUUM ANALYZE " + ", ".join(tables))


# --- Measurements -------------------------------------------------------------------------------------------

FLOOR_SQL = """UPDATE evaluations_rectificationcase SET status = 'overdue', overdue_at = now()
    WHERE status IN ('rectifying', 'returned') AND deadline < %(today)s"""

# What the overdue part of the sweep has to write, in one statement: the case rows, their state-log rows and
# the provider's notifications. Not the sweep's code: a reference for "set-based, with the side effects".
SQL_FULL = """WITH old AS (
        SELECT id, status FROM evaluations_rectificationcase
         WHERE status IN ('rectifying', 'returned') AND deadline < %(today)s FOR UPDATE
    ), marked AS (
        UPDATE evaluations_rectificationcase c SET status = 'overdue', overdue_at = now() FROM old
         WHERE c.id = old.id
        RETURNING c.id, old.status AS source, c.provider_id, c.document_number, c.deadline
    ), logs AS (
        INSERT INTO django_fsm_log_statelog (timestamp, by_id, content_type_id, object_id, source_state, state,
            transition, description)
        SELECT now(), NULL, %(ct)s, id, source, 'overdue', 'mark_overdue', '整改期限已过' FROM marked
    )
    INSERT INTO portal_notification (recipient_role, kind, subject, body, link, dedup_key, created_at, attempts,
        last_error, recipient_organisation_id)
    SELECT '', 'rectification_overdue', '整改逾期：' || m.document_number, '整改期限 ' || m.deadline || ' 已过。',
           '/provider/cases/' || m.id || '/', 'rectification:' || m.id || ':overdue', now(), 0, '', p.organisation_id
      FROM marked m JOIN providers_provider p ON p.id = m.provider_id
     WHERE p.organisation_id IS NOT NULL
    ON CONFLICT (dedup_key) DO NOTHING"""


def cpu_seconds():
    """CPU seconds used so far by this process and by its PostgreSQL backend (same machine). Unlike wall time,
    they hardly change when other work shares the CPUs; I/O waits are in neither."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    python = usage.ru_utime + usage.ru_stime
    try:
        fields = Path(f"/proc/{backend_pid()}/stat").read_text().rsplit(")", 1)[1].split()
        postgres = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        postgres = float("nan")  # a remote server
    return python, postgres


def backend_pid():
    return scalar("SELECT pg_backend_pid()")


@contextmanager
def clock():
    """Wall seconds, CPU seconds (Python, PostgreSQL backend) and the load average, of the block."""
    result = {"load_before": round(os.getloadavg()[0], 2)}
    python, postgres = cpu_seconds()
    started = time.perf_counter()
    yield result
    result["seconds"] = time.perf_counter() - started
    python_after, postgres_after = cpu_seconds()
    result["cpu_python"] = round(python_after - python, 2)
    result["cpu_postgres"] = round(postgres_after - postgres, 2)
    result["load_after"] = round(os.getloadavg()[0], 2)


def timed_rollback(statement, params):
    """Run one statement in a transaction that is rolled back; returns (seconds, rows)."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        started = time.perf_counter()
        cursor.execute(statement, params)
        seconds = time.perf_counter() - started
        rows = cursor.rowcount
        transaction.set_rollback(True)
    return seconds, rows


class Instrument:
    """Wall time and database time per phase of deadlines_check, and the time of every claim query."""

    PHASES = ("_mark_overdue", "_create_reminders", "engine_run")

    def __init__(self):
        self.current = "other"
        self.phases = {}
        self.claims = []

    def _phase(self, name):
        return self.phases.setdefault(name, {"seconds": 0.0, "queries": 0, "db_seconds": 0.0})

    def wrap(self, name, function):
        def wrapper(*args, **kwargs):
            previous, self.current = self.current, name
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self._phase(name)["seconds"] += time.perf_counter() - started
                self.current = previous

        return wrapper

    def __call__(self, execute, statement, params, many, context):
        started = time.perf_counter()
        try:
            return execute(statement, params, many, context)
        finally:
            elapsed = time.perf_counter() - started
            phase = self._phase(self.current)
            phase["queries"] += 1
            phase["db_seconds"] += elapsed
            if "SKIP LOCKED" in statement:
                self.claims.append(elapsed)

    @contextmanager
    def active(self):
        from django.db import connection

        from evaluations import services

        with ExitStack() as stack:
            for name in self.PHASES:
                stack.enter_context(mock.patch.object(services, name, self.wrap(name, getattr(services, name))))
            stack.enter_context(connection.execute_wrapper(self))
            yield self

    def report(self):
        phases = {
            name: {key: round(value, 4) if isinstance(value, float) else value for key, value in stats.items()}
            for name, stats in self.phases.items()
        }
        claims = self.claims
        tenth = max(1, len(claims) // 10)
        return {
            "phases": phases,
            "claim_queries": len(claims),
            "claim_ms_first_tenth": round(1000 * sum(claims[:tenth]) / tenth, 2) if claims else None,
            "claim_ms_last_tenth": round(1000 * sum(claims[-tenth:]) / tenth, 2) if claims else None,
            "claim_seconds_total": round(sum(claims), 3),
        }


def state():
    """Everything a sweep writes, to check that the second run changes nothing."""
    return {
        "cases": dict(_rows("SELECT status, count(*) FROM evaluations_rectificationcase GROUP BY status")),
        "overdue_at": _rows("SELECT count(overdue_at), max(overdue_at) FROM evaluations_rectificationcase")[0],
        "state_logs": scalar("SELECT count(*) FROM django_fsm_log_statelog"),
        "notifications": dict(_rows("SELECT kind, count(*) FROM portal_notification GROUP BY kind")),
        "proposals": dict(_rows("SELECT ground::text, count(*) FROM evaluations_revocationcase GROUP BY ground")),
        "evidence": scalar("SELECT count(*) FROM evaluations_evidence"),
        # Order-independent checksums of what was written (not the timestamps), to compare variants.
        "state_log_checksum": scalar(
            "SELECT sum(hashtext(concat_ws('|', object_id, source_state, state, transition, description))::bigint)"
            " FROM django_fsm_log_statelog WHERE transition = 'mark_overdue'"
        ),
        "notification_checksum": scalar(
            "SELECT sum(hashtext(concat_ws('|', kind, recipient_organisation_id, subject, body, link, dedup_key))"
            "::bigint) FROM portal_notification WHERE kind IN ('rectification_overdue', 'rectification_reminder')"
        ),
    }


def measure(n, *, officer_id, floor_repeats, profile_dir=None):
    from django.contrib.contenttypes.models import ContentType
    from django.utils import timezone

    from evaluations import services
    from evaluations.models import RectificationCase

    today = timezone.localdate()
    reset()
    started = time.perf_counter()
    loaded = load(n, today=today, officer_id=officer_id)
    load_seconds = time.perf_counter() - started
    vacuum_started = time.perf_counter()
    sql("VACUUM ANALYZE")
    vacuum_seconds = time.perf_counter() - vacuum_started
    expected_overdue = scalar(
        "SELECT count(*) FROM evaluations_rectificationcase WHERE status IN ('rectifying', 'returned') "
        "AND deadline < %s",
        [today],
    )
    params = {"today": today, "ct": ContentType.objects.get_for_model(RectificationCase).pk}

    floors = [timed_rollback(FLOOR_SQL, params) for _ in range(floor_repeats)]
    floor_seconds = min(seconds for seconds, _rows in floors)
    assert all(rows == expected_overdue for _seconds, rows in floors), floors
    sql_full = [timed_rollback(SQL_FULL, params) for _ in range(floor_repeats)]
    sql_full_seconds = min(seconds for seconds, _rows in sql_full)
    # The rolled-back writes left dead row versions and index entries behind: clean them before the sweep.
    vacuum("evaluations_rectificationcase", "django_fsm_log_statelog", "portal_notification")

    instrument = Instrument()
    with instrument.active(), clock() as sweep_clock:
        result = services.deadlines_check()
    sweep_seconds = sweep_clock["seconds"]
    after_first = state()
    assert result["overdue"] == expected_overdue, (result, expected_overdue)
    assert after_first["cases"].get("overdue") == expected_overdue
    assert after_first["state_logs"] >= expected_overdue

    second_instrument = Instrument()
    with second_instrument.active(), clock() as second_clock:
        second = services.deadlines_check()
    second_seconds = second_clock["seconds"]
    after_second = state()
    unchanged = after_second == after_first

    row = {
        "rows": n,
        "loaded": loaded,
        "overdue": result["overdue"],
        "reminders": result["reminders"],
        "proposals": result["proposals"],
        "load_seconds": round(load_seconds, 2),
        "vacuum_seconds": round(vacuum_seconds, 2),
        "sweep_seconds": round(sweep_seconds, 3),
        "us_per_case": round(1e6 * sweep_seconds / n, 2),
        "sweep_cpu_python_seconds": sweep_clock["cpu_python"],
        "sweep_cpu_postgres_seconds": sweep_clock["cpu_postgres"],
        "cpu_us_per_case": round(1e6 * (sweep_clock["cpu_python"] + sweep_clock["cpu_postgres"]) / n, 2),
        "load_average_before_after": [sweep_clock["load_before"], sweep_clock["load_after"]],
        "second_run_cpu_seconds": round(second_clock["cpu_python"] + second_clock["cpu_postgres"], 2),
        "second_run_phases": second_instrument.report()["phases"],
        "floor_seconds": round(floor_seconds, 4),
        "floor_runs": [round(seconds, 4) for seconds, _rows in floors],
        "ratio_sweep_to_floor": round(sweep_seconds / floor_seconds, 1),
        "sql_full_seconds": round(sql_full_seconds, 4),
        "ratio_sweep_to_sql_full": round(sweep_seconds / sql_full_seconds, 1),
        "second_run_seconds": round(second_seconds, 3),
        "second_run_result": second,
        "second_run_changed_nothing": unchanged,
        "written": after_first,
        **instrument.report(),
    }
    if not unchanged:
        row["after_second_run"] = after_second
    if profile_dir is not None:
        row["profile"] = str(profile(n, officer_id=officer_id, today=today, directory=profile_dir))
    return row


def profile(n, *, officer_id, today, directory):
    """Reload the same data and run the sweep under cProfile (slower than the measured run)."""
    from evaluations import services

    reset()
    load(n, today=today, officer_id=officer_id)
    sql("VACUUM ANALYZE")
    profiler = cProfile.Profile()
    profiler.enable()
    services.deadlines_check()
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    out.write(f"deadlines_check() under cProfile, {n} running cases\n\n== by cumulative time ==\n")
    stats.sort_stats("cumulative").print_stats(35)
    out.write("\n== by own time ==\n")
    stats.sort_stats("tottime").print_stats(35)
    path = directory / f"profile_{n}.txt"
    text = out.getvalue().replace(str(BASE_DIR) + "/", "").replace(sys.prefix + "/", "")
    path.write_text(text, encoding="utf-8")
    return os.path.relpath(path, BASE_DIR)


# --- Report -------------------------------------------------------------------------------------------------


def machine_facts():
    import django
    from django.conf import settings

    def git(*args):
        try:
            return subprocess.run(["git", *args], cwd=BASE_DIR, capture_output=True, text=True, check=True).stdout
        except (OSError, subprocess.CalledProcessError):
            return ""

    services_file = BASE_DIR / "evaluations" / "services.py"
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu_count": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory_gb": _memory_gb(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "postgresql": scalar("SHOW server_version"),
        "postgresql_settings": {
            name: scalar(f"SHOW {name}")
            for name in ("shared_buffers", "work_mem", "synchronous_commit", "max_wal_size")
        },
        "time_zone": settings.TIME_ZONE,
        "git_commit": git("rev-parse", "--short", "HEAD").strip(),
        "services_py_sha256": hashlib.sha256(services_file.read_bytes()).hexdigest()[:16],
        "services_py_modified": bool(git("status", "--porcelain", "--", "evaluations/services.py").strip()),
        "sweep_batch": __import__("evaluations.services", fromlist=["SWEEP_BATCH"]).SWEEP_BATCH,
        "providers": N_PROVIDERS,
        "enterprises": N_ENTERPRISES,
        "contracts": N_PROVIDERS * CONTRACTS_PER_PROVIDER,
    }


def _cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def _memory_gb():
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def add_growth(rows):
    previous = None
    for row in rows:
        if previous is None:
            row["per_case_growth"] = None
        else:
            row["per_case_growth"] = round(row["us_per_case"] / previous["us_per_case"], 2)
        previous = row


def markdown(facts, rows):
    lines = [
        "# Deadline sweep benchmark"
        + ("" if facts["variant"].startswith("services") else f" — variant `{facts['variant']}`"),
        "",
        f"{facts['date']} · {facts['cpu_count']} CPUs ({facts['cpu_model']}), {facts['memory_gb']} GB · "
        f"PostgreSQL {facts['postgresql']} · Python {facts['python']} · Django {facts['django']} · "
        f"commit {facts['git_commit']}{' + local changes to services.py' if facts['services_py_modified'] else ''} "
        f"(services.py sha256 {facts['services_py_sha256']}) · SWEEP_BATCH {facts['sweep_batch']}",
        "",
        f"PostgreSQL settings: {', '.join(f'{k}={v}' for k, v in facts['postgresql_settings'].items())}. "
        f"Data per size: {facts['providers']} providers, {facts['enterprises']} enterprises, "
        f"{facts['contracts']} contracts in progress with milestones and ratings; N running cases, 90 % overdue, "
        "10 % due within 7 days. Produced by `bench/sweep.py`; see `bench/README.md`.",
        "",
        "| rows | overdue | reminders | proposals | sweep s | µs/case | per-case growth | floor s | "
        "sweep/floor | SQL-with-side-effects s | sweep/SQL-full | second run s | second run changed nothing |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|",
    ]
    cpu_lines = [
        "",
        "CPU seconds of the first sweep (this process + its PostgreSQL backend; unlike wall time they barely move "
        "when other work shares the machine) and the 1-minute load average before and after it:",
        "",
        "| rows | CPU s Python | CPU s PostgreSQL | CPU µs/case | CPU per-case growth | load before → after |",
        "|---:|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        growth = "–" if row["per_case_growth"] is None else f"×{row['per_case_growth']}"
        lines.append(
            f"| {row['rows']:,} | {row['overdue']:,} | {row['reminders']:,} | {row['proposals']} | "
            f"{row['sweep_seconds']:.2f} | {row['us_per_case']:.1f} | {growth} | {row['floor_seconds']:.3f} | "
            f"{row['ratio_sweep_to_floor']:.1f} | {row['sql_full_seconds']:.3f} | "
            f"{row['ratio_sweep_to_sql_full']:.1f} | "
            f"{row['second_run_seconds']:.2f} | {'yes' if row['second_run_changed_nothing'] else '**no**'} |"
        )
    previous = None
    for row in rows:
        growth = "–" if previous is None else f"×{row['cpu_us_per_case'] / previous['cpu_us_per_case']:.2f}"
        before, after = row["load_average_before_after"]
        cpu_lines.append(
            f"| {row['rows']:,} | {row['sweep_cpu_python_seconds']:.1f} | {row['sweep_cpu_postgres_seconds']:.1f} | "
            f"{row['cpu_us_per_case']:.1f} | {growth} | {before} → {after} |"
        )
        previous = row
    lines += cpu_lines
    lines += [
        "",
        "Where the first sweep's time goes (wall seconds per phase; database time and query count in brackets; "
        "`claim` is each statement with `FOR UPDATE SKIP LOCKED`: on PostgreSQL the whole batch of overdue cases, "
        "claimed, marked, logged and notified in one statement):",
        "",
        "| rows | mark overdue | reminders | rule engine | claim queries | claim ms, first tenth | "
        "claim ms, last tenth |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        cells = []
        for name in Instrument.PHASES:
            phase = row["phases"].get(name, {"seconds": 0, "db_seconds": 0, "queries": 0})
            cells.append(f"{phase['seconds']:.2f} ({phase['db_seconds']:.2f} db, {phase['queries']} q)")
        lines.append(
            f"| {row['rows']:,} | {' | '.join(cells)} | {row['claim_queries']} | {row['claim_ms_first_tenth']} | "
            f"{row['claim_ms_last_tenth']} |"
        )
    if all("second_run_phases" in row for row in rows):
        lines += [
            "",
            "The second run, right after the first (nothing left to mark; reminders written again as no-ops; the "
            "engine re-reads the evidence):",
            "",
            "| rows | second run s | mark overdue | reminders | rule engine |",
            "|---:|---:|---:|---:|---:|",
        ]
        for row in rows:
            phases = row["second_run_phases"]
            cells = [
                f"{phases.get(name, {}).get('seconds', 0):.2f} ({phases.get(name, {}).get('queries', 0)} q)"
                for name in Instrument.PHASES
            ]
            lines.append(f"| {row['rows']:,} | {row['second_run_seconds']:.2f} | {' | '.join(cells)} |")
    lines.append("")
    return "\n".join(lines)


def write_results(args, facts, rows):
    (args.output_dir / f"{args.name}.json").write_text(
        json.dumps({"machine": facts, "results": rows}, ensure_ascii=False, indent=2, default=str) + "\n",
        encoding="utf-8",
    )
    (args.output_dir / f"{args.name}.md").write_text(markdown(facts, rows), encoding="utf-8")


def run(args, bench_url):
    setup_django(bench_url)
    from django.core.management import call_command

    from evaluations import services

    call_command("migrate", verbosity=0, interactive=False)
    officer = staff_user()
    facts = machine_facts()
    facts["variant"] = args.variant or "services.py as it is"
    rows = []
    with ExitStack() as stack:
        if args.variant:
            sys.path.insert(0, str(BASE_DIR / "bench"))
            from variants import VARIANTS

            for name, replacement in VARIANTS[args.variant].items():
                stack.enter_context(mock.patch.object(services, name, replacement))
        for n in sorted(args.sizes):
            print(f"size {n:,}: loading, floor, sweep, second sweep …", flush=True)
            row = measure(
                n,
                officer_id=officer.pk,
                floor_repeats=args.floor_repeats,
                profile_dir=args.output_dir if n in args.profile_sizes else None,
            )
            rows.append(row)
            add_growth(rows)
            write_results(args, facts, rows)  # after every size, so an interrupted run keeps what it measured
            print(
                f"  sweep {row['sweep_seconds']:.2f} s = {row['us_per_case']:.1f} µs/case; floor "
                f"{row['floor_seconds']:.3f} s (×{row['ratio_sweep_to_floor']}); SQL with side effects "
                f"{row['sql_full_seconds']:.3f} s (×{row['ratio_sweep_to_sql_full']}); second run "
                f"{row['second_run_seconds']:.2f} s, changed nothing: {row['second_run_changed_nothing']}",
                flush=True,
            )
    add_growth(rows)
    return facts, rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--database-url", help="server and credentials (default: $DATABASE_URL if PostgreSQL)")
    parser.add_argument("--db-name", default="portal_sweep_bench", help="the throwaway database to create")
    parser.add_argument("--keep-db", action="store_true", help="do not drop the database at the end")
    parser.add_argument("--floor-repeats", type=int, default=2, help="rolled-back floor runs per size (min wins)")
    parser.add_argument("--profile-sizes", type=int, nargs="*", default=[], help="also run these sizes under cProfile")
    parser.add_argument("--output-dir", type=Path, default=BASE_DIR / "bench" / "results")
    parser.add_argument("--name", default="sweep", help="base name of the result files")
    parser.add_argument(
        "--variant",
        choices=["orm"],
        help="measure a variant of the sweep's private functions (bench/variants.py) instead of the code",
    )
    args = parser.parse_args(argv)

    url = server_url(args.database_url)
    args.output_dir.mkdir(parents=True, exist_ok=True)
    print(f"creating throwaway database {args.db_name} on {urlsplit(url).hostname}", flush=True)
    create_database(url, args.db_name)
    try:
        facts, rows = run(args, with_database(url, args.db_name))
    finally:
        if "django.db" in sys.modules:
            from django.db import connections

            connections.close_all()
        if not args.keep_db:
            drop_database(url, args.db_name)

    write_results(args, facts, rows)
    print(markdown(facts, rows))
    return 0 if all(row["second_run_changed_nothing"] for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
