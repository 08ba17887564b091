#!/usr/bin/env python
"""Benchmark of the registry imports (tangshan_portal/imports.py) on PostgreSQL, as a ratio to bulk_create.

For every size N and registry (providers, pilot enterprises) it builds an XLSX file of N new rows as a county
would send it (Chinese headers, a quarter of the providers with service scenarios) and measures, on an empty
table each time:

  bulk_create   the same rows as model instances, `bulk_create` in batches of 1,000 (and the providers'
                scenario links likewise), in one transaction: the floor, with no validation at all (run twice,
                the faster counts)
  read          parsing the XLSX file into rows (the admin and the job do it once per step)
  create        run_import() of the file, as the confirmed admin import does it: every row validated, saved,
                its public-change rows written (opendata signals), all in one transaction
  update        the same file again with one column changed in every row
  unchanged     the same file a third time: every row compared and passed over
  job           the background job of a large file (BackgroundJob + tangshan_portal.jobs.job_run): the rows
                checked in rolled-back parts with progress between them, then all written in one transaction

Run:  .venv/bin/python bench/imports.py --sizes 1000 5000 10000
The PostgreSQL server and credentials come from --database-url (default: $DATABASE_URL when it names a
PostgreSQL server, else postgres://postgres@127.0.0.1:5432/). The benchmark never touches the database named
there: it creates its own throwaway database (--db-name, default portal_imports_bench), marked by a comment,
and drops it at the end. Results: bench/results/<name>.json and .md (--name, default imports).
"""

import argparse
import hashlib
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR / "bench"))

from sweep import create_database, drop_database, server_url, with_database  # noqa: E402

BULK_BATCH = 1000
REGISTRIES = ("providers", "enterprises")

# Emptied before every measurement (identity restarted): the registries and what their saves write.
DATA_TABLES = (
    "providers_provider_scenarios",
    "providers_provider",
    "enterprises_pilotenterprise",
    "opendata_publicchange",
    "portal_auditevent",
    "portal_backgroundjob",
)


# The throwaway database: the same helpers as the sweep benchmark (one marker for all benchmarks).


def setup_django(url, media_root):
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_MEDIA_ROOT"] = str(media_root)
    # The job runs in this process (no worker), as soon as its row is committed.
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "1"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tangshan_portal.settings")
    sys.path.insert(0, str(BASE_DIR))
    import django

    django.setup()
    from django.conf import settings

    # Production runs with DEBUG off; with it on, Django keeps the text of every query.
    settings.DEBUG = False


def sql(statement, params=None):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def scalar(statement, params=None):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchone()[0]


def reset():
    sql("TRUNCATE " + ", ".join(DATA_TABLES) + " RESTART IDENTITY CASCADE")
    sql("ANALYZE providers_provider, enterprises_pilotenterprise, opendata_publicchange")


# --- The files ------------------------------------------------------------------------------------------------


def provider_rows(n):
    from tangshan_portal.models import County, Scenario
    from tests.factories_imports import provider_row

    counties = list(County.objects.order_by("code").values_list("code", flat=True))
    scenarios = list(Scenario.objects.order_by("code").values_list("code", flat=True))
    rows = []
    for i in range(1, n + 1):
        picked = ",".join(scenarios[(i + k) % len(scenarios)] for k in range(2)) if scenarios and i % 4 == 0 else ""
        rows.append(provider_row(i, counties[i % len(counties)], scenarios=picked))
    return rows


def enterprise_rows(n):
    from tangshan_portal.models import County
    from tests.factories_imports import enterprise_row

    counties = list(County.objects.order_by("code").values_list("code", flat=True))
    return [enterprise_row(i, counties[i % len(counties)]) for i in range(1, n + 1)]


def registry(name):
    """(rows(n), xlsx(rows), resource class, model, changed column, bulk_create(rows))"""
    if name == "providers":
        from providers.models import Provider
        from providers.resources import ProviderResource
        from tests.factories_imports import xlsx_bytes

        return provider_rows, xlsx_bytes, ProviderResource, Provider, "contact_name", bulk_providers
    from enterprises.models import PilotEnterprise
    from enterprises.resources import PilotEnterpriseResource
    from tests.factories_imports import enterprise_xlsx_bytes

    return (
        enterprise_rows,
        enterprise_xlsx_bytes,
        PilotEnterpriseResource,
        PilotEnterprise,
        "contact_name",
        (bulk_enterprises),
    )


def bulk_providers(rows):
    from django.db import transaction

    from providers.models import Provider
    from tangshan_portal.models import County, Scenario

    counties = dict(County.objects.values_list("code", "pk"))
    scenarios = dict(Scenario.objects.values_list("code", "pk"))
    with transaction.atomic():
        providers = Provider.objects.bulk_create(
            [
                Provider(
                    name=row["name"],
                    uscc=row["uscc"],
                    legal_representative=row["legal_representative"],
                    address=row["address"],
                    business_scope=row["business_scope"],
                    registered_capital=Decimal(row["registered_capital"]),
                    provider_type=row["provider_type"],
                    county_id=counties[row["county"]],
                    contact_name=row["contact_name"],
                    contact_phone=row["contact_phone"],
                    contact_email=row["contact_email"],
                )
                for row in rows
            ],
            batch_size=BULK_BATCH,
        )
        through = Provider.scenarios.through
        links = [
            through(provider_id=provider.pk, scenario_id=scenarios[code])
            for provider, row in zip(providers, rows, strict=True)
            for code in filter(None, row["scenarios"].split(","))
        ]
        through.objects.bulk_create(links, batch_size=BULK_BATCH)


def bulk_enterprises(rows):
    from django.db import transaction

    from enterprises.models import PilotEnterprise
    from tangshan_portal.models import County

    counties = dict(County.objects.values_list("code", "pk"))
    with transaction.atomic():
        PilotEnterprise.objects.bulk_create(
            [
                PilotEnterprise(
                    name=row["name"],
                    uscc=row["uscc"],
                    county_id=counties[row["county"]],
                    industry=row["industry"],
                    sub_industry=row["sub_industry"],
                    size=row["size"],
                    contact_name=row["contact_name"],
                    contact_phone=row["contact_phone"],
                    baseline_level=int(row["baseline_level"]),
                )
                for row in rows
            ],
            batch_size=BULK_BATCH,
        )


# --- Measuring ------------------------------------------------------------------------------------------------


def cpu_seconds():
    """CPU seconds used so far by this process and by its PostgreSQL backend (same machine). Unlike wall time,
    they hardly change when other work shares the CPUs."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    python = usage.ru_utime + usage.ru_stime
    try:
        pid = scalar("SELECT pg_backend_pid()")
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        postgres = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        postgres = float("nan")  # a remote server
    return python + postgres


class Timing:
    def __init__(self, wall, cpu):
        self.wall, self.cpu = wall, cpu


def clock(function, *args, **kwargs):
    """(Timing, the function's value): wall seconds and CPU seconds of this process and its backend."""
    cpu_before = cpu_seconds()
    started = time.perf_counter()
    value = function(*args, **kwargs)
    wall = time.perf_counter() - started
    return Timing(wall, cpu_seconds() - cpu_before), value


def bench_user():
    from django.contrib.auth.models import Group

    from tangshan_portal.models import Organisation, User
    from tangshan_portal.roles import Role

    bureau, _ = Organisation.objects.get_or_create(name="基准测试工信局", defaults={"kind": Organisation.Kind.BUREAU})
    user, _ = User.objects.get_or_create(
        username="bench_import_officer", defaults={"full_name": "基准测试", "organisation": bureau, "is_staff": True}
    )
    user.groups.add(Group.objects.get(name=Role.OFFICER.value))
    return User.objects.get(pk=user.pk)


def run_job(user, content, model_label):
    from django.db import transaction

    from tangshan_portal import imports
    from tangshan_portal.models import BackgroundJob

    with transaction.atomic():
        job = imports.import_job_start(
            model_admin=imports.IMPORTERS[model_label], user=user, content=content, file_name="bench.xlsx"
        )
    # job_start enqueued the task on commit; with CELERY_TASK_ALWAYS_EAGER it ran right there.
    job.refresh_from_db()
    if job.status != BackgroundJob.Status.DONE:
        raise SystemExit(f"the import job failed: {job.error} {job.result.get('errors', [])[:3]}")
    return job


def read_dataset(content):
    from tangshan_portal.imports import TextXLSX

    return TextXLSX().create_dataset(content)


def measure(name, n, user, *, skip_job=False):
    from tangshan_portal.imports import run_import

    rows_of, xlsx_of, resource_class, model, changed, bulk = registry(name)
    rows = rows_of(n)
    content = xlsx_of(rows)
    changed_content = xlsx_of([{**row, changed: row[changed] + "（新）"} for row in rows])
    print(f"{name} {n:,}: file {len(content) / 1e6:.1f} MB", flush=True)
    load_before = os.getloadavg()[0]

    # The floor, twice: the faster counts (as the sweep benchmark's floor), since one short run moves a lot.
    bulk_runs = []
    for _attempt in range(2):
        reset()
        bulk_runs.append(clock(bulk, rows)[0])
        assert model.objects.count() == n
    bulk_t = min(bulk_runs, key=lambda timing: timing.wall)

    reset()
    read_t, dataset = clock(read_dataset, content)
    create_t, created = clock(run_import, resource_class(), dataset, dry_run=False)
    if not created.ok or created.new != n:
        raise SystemExit(f"create failed: {created.errors[:3]}")
    update_t, updated = clock(run_import, resource_class(), read_dataset(changed_content), dry_run=False)
    if not updated.ok or updated.updated != n:
        raise SystemExit(f"update failed: {updated.errors[:3]}")
    unchanged_t, unchanged = clock(run_import, resource_class(), read_dataset(changed_content), dry_run=False)
    if not unchanged.ok or unchanged.skipped != n:
        raise SystemExit(f"unchanged failed: {unchanged.errors[:3]}")

    job_t = None
    if not skip_job:
        reset()
        job_t, job = clock(run_job, user, content, model._meta.label)
        assert model.objects.count() == n and (job.done_steps, job.total_steps) == (n, n)

    row = {
        "registry": name,
        "rows": n,
        "bulk_create_s": bulk_t.wall,
        "bulk_create_cpu_s": bulk_t.cpu,
        "read_s": read_t.wall,
        "create_s": create_t.wall,
        "create_cpu_s": create_t.cpu,
        "update_s": update_t.wall,
        "unchanged_s": unchanged_t.wall,
        "job_s": job_t.wall if job_t else None,
        "job_cpu_s": job_t.cpu if job_t else None,
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
    }
    row["create_ratio"] = create_t.wall / bulk_t.wall
    row["create_cpu_ratio"] = create_t.cpu / bulk_t.cpu if bulk_t.cpu else None
    print(
        f"  bulk_create {bulk_t.wall:.2f} s · read {read_t.wall:.2f} s · create {create_t.wall:.2f} s "
        f"(×{row['create_ratio']:.1f}, CPU ×{row['create_cpu_ratio'] or 0:.1f}) · update {update_t.wall:.2f} s "
        f"· unchanged {unchanged_t.wall:.2f} s" + (f" · job {job_t.wall:.2f} s" if job_t else ""),
        flush=True,
    )
    return row


def machine_facts():
    import django
    from django.conf import settings

    from tangshan_portal import imports

    def git(*args):
        try:
            return subprocess.run(["git", *args], cwd=BASE_DIR, capture_output=True, text=True, check=True).stdout
        except (OSError, subprocess.CalledProcessError):
            return ""

    code = BASE_DIR / "tangshan_portal" / "imports.py"
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu_count": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory_gb": _memory_gb(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "django_import_export": _version("django-import-export"),
        "postgresql": scalar("SHOW server_version"),
        "postgresql_settings": {
            name: scalar(f"SHOW {name}") for name in ("shared_buffers", "synchronous_commit", "max_wal_size")
        },
        "git_commit": git("rev-parse", "--short", "HEAD").strip(),
        "imports_py_sha256": hashlib.sha256(code.read_bytes()).hexdigest()[:16],
        "imports_py_modified": bool(git("status", "--porcelain", "--", "tangshan_portal/imports.py").strip()),
        "chunk_rows": getattr(imports, "CHUNK_ROWS", None),
        "time_zone": settings.TIME_ZONE,
    }


def _version(distribution):
    from importlib.metadata import version

    return version(distribution)


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
            if line.startswith("MemTotal"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


# --- Results --------------------------------------------------------------------------------------------------


def markdown(facts, rows):
    lines = [
        "# Registry import benchmark",
        "",
        f"{facts['date']} · {facts['cpu_count']} CPUs ({facts['cpu_model']}), {facts['memory_gb']} GB · "
        f"PostgreSQL {facts['postgresql']} · Python {facts['python']} · Django {facts['django']} · "
        f"django-import-export {facts['django_import_export']} · commit {facts['git_commit']} "
        f"(imports.py sha256 {facts['imports_py_sha256']}{', modified' if facts['imports_py_modified'] else ''})",
        "",
        "PostgreSQL settings: "
        + ", ".join(f"{name}={value}" for name, value in facts["postgresql_settings"].items())
        + f". Job parts of {facts['chunk_rows']} rows. Produced by `bench/imports.py`; how to read it is "
        "below the table.",
        "",
        "| registry | rows | bulk_create s | read XLSX s | import s | × bulk_create | CPU × bulk_create | µs/row "
        "| per-row growth | update s | unchanged s | job s | job × import | load before → after |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    previous = {}
    for row in rows:
        per_row = row["create_s"] / row["rows"] * 1e6
        growth = previous.get(row["registry"])
        growth_text = f"×{per_row / growth:.2f}" if growth else "–"
        previous[row["registry"]] = per_row
        job = "– | –" if row["job_s"] is None else f"{row['job_s']:.2f} | {row['job_s'] / row['create_s']:.2f}"
        cpu = f"{row['create_cpu_ratio']:.1f}" if row.get("create_cpu_ratio") else "–"
        lines.append(
            f"| {row['registry']} | {row['rows']:,} | {row['bulk_create_s']:.3f} | {row['read_s']:.2f} "
            f"| {row['create_s']:.2f} | {row['create_ratio']:.1f} | {cpu} | {per_row:.0f} | {growth_text} "
            f"| {row['update_s']:.2f} | {row['unchanged_s']:.2f} | {job} "
            f"| {row['load_before']:.2f} → {row['load_after']:.2f} |"
        )
    return "\n".join(lines) + "\n"


READING = """
How to read it:

- **import s** is `run_import()` of the file of N new rows, one transaction, as the confirmed admin import runs it
  (every row validated, saved, its public-change rows written); **× bulk_create** divides it by the `bulk_create`
  of the same rows measured just before on the same empty table (no validation, no signals, 1,000 rows per
  INSERT; the faster of two runs). **CPU × bulk_create** is the same ratio in CPU seconds of this process and
  its PostgreSQL backend, which move much less than wall time when other work shares the machine (see the load
  average).
- **µs/row** is import s / N; **per-row growth** divides it by the previous size's: ×1.0 is linear.
- **update s**: the same rows again with one column changed in every row; **unchanged s**: the same file a third
  time, every row compared and passed over.
- **job s**: a background import job of the same file on an empty table (the job page's path for files above
  `PORTAL_IMPORT_ASYNC_ROWS`): the rows checked in rolled-back parts with the progress written between them, then
  everything written in one transaction. It does the validation twice by design, so about twice the import.
- **read XLSX s** is parsing the file, which the admin does once for the preview and once on confirmation.
"""
NOTES_MARKER = "<!-- Notes below this line are kept when the benchmark rewrites this file. -->"


def write_results(args, facts, rows):
    args.output_dir.mkdir(parents=True, exist_ok=True)
    (args.output_dir / f"{args.name}.json").write_text(
        json.dumps({"facts": facts, "rows": rows}, ensure_ascii=False, indent=2) + "\n"
    )
    target = args.output_dir / f"{args.name}.md"
    notes = NOTES_MARKER + "\n"
    if target.exists() and NOTES_MARKER in target.read_text():
        # The reading of the numbers, written by hand under the generated part, survives a new run.
        notes = NOTES_MARKER + target.read_text().split(NOTES_MARKER, 1)[1]
    target.write_text(markdown(facts, rows) + READING + "\n" + notes)


def run(args, url):
    with tempfile.TemporaryDirectory(prefix="portal-imports-bench-") as media:
        setup_django(url, media)
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        user = bench_user()
        facts = machine_facts()
        rows = []
        for name in args.registries:
            for n in args.sizes:
                rows.append(measure(name, n, user, skip_job=args.skip_job))
                write_results(args, facts, rows)  # after each size: a long run leaves its partial results
        return facts, rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000, 10000])
    parser.add_argument("--registries", nargs="+", choices=REGISTRIES, default=list(REGISTRIES))
    parser.add_argument("--database-url", help="server and credentials (default: $DATABASE_URL if PostgreSQL)")
    parser.add_argument("--db-name", default="portal_imports_bench", help="the throwaway database to create")
    parser.add_argument("--keep-db", action="store_true", help="do not drop the database at the end")
    parser.add_argument("--output-dir", type=Path, default=BASE_DIR / "bench" / "results")
    parser.add_argument("--name", default="imports", help="base name of the result files")
    parser.add_argument("--skip-job", action="store_true", help="do not measure the background job")
    args = parser.parse_args(argv)

    url = server_url(args.database_url)
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
