#!/usr/bin/env python
"""The portal at national scale: one run, two data sizes, every figure a ratio to a floor of the same run.

For every scale F (default 0.1 and 1) it creates a throwaway PostgreSQL database, migrates it and fills it with
`manage.py seed_scale --scale F` (F = 1: 10,000 providers, 200,000 enterprises, 500,000 contracts, 2,000,000
survey answers, 100,000 rectification cases, 5,000 blacklist entries), then measures, with production settings
(DEBUG off, Redis cache, encryption keys, gunicorn):

  public       the blacklist page and API under CONCURRENCY keep-alive clients (throughput, p50, p99), with the
               public cache on (what visitors see between changes) and off (what the first visitor after a
               change pays), as ratios to a bare Django view on the same server (`/bench/bare/`: the whole
               middleware stack, two bytes)
  search       the blacklist searched by name fragments and by USCC, and the provider pool searched by name
               fragments, every request a different term, cache off, one client at a time (the latency a person
               sees; the 32-client p99 of even the bare view is the queue, not the search); the bare view the
               same way is the floor
  admin        the admin change lists of providers, enterprises and rectification cases (plain, searched,
               filtered), as an officer: queries per page and milliseconds, the bare view in the same client the
               floor
  dossier      an enterprise dossier PDF (the enterprise with the most contracts), rolled back; floor: one line
               of Chinese through WeasyPrint
  import       an XLSX file of new providers imported into the full registry as the confirmed admin import does
               it, rolled back; floor: bulk_create of the same rows
  sweep        `evaluations.services.deadlines_check()` on the seeded cases; floors: the bare UPDATE and the one
               SQL statement that writes what the sweep must write (UPDATE + state-log row + notification),
               both rolled back (bench/sweep.py defines them). Last, because it changes the data.

Run:  make bench            (BENCH_SCALES='0.1 1'; about a quarter of an hour on 2 CPUs)
      .venv/bin/python bench/scale.py --scales 0.1 1 --seconds 8
The PostgreSQL server comes from --database-url (default: $DATABASE_URL when it names a PostgreSQL server, else
postgres://postgres@127.0.0.1:5432/); the benchmark creates its own database there (portal_scale_bench, marked,
dropped at the end) and never touches another. Redis: --redis-url (a database number of its own; flushed).
Results: bench/results/scale.json and scale.md; the README's benchmark table is replaced by the new one.
"""

import argparse
import base64
import http.client
import json
import multiprocessing
import os
import platform
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR / "bench"))
sys.path.insert(0, str(BASE_DIR))

from sweep import (  # noqa: E402
    FLOOR_SQL,
    SQL_FULL,
    _cpu_model,
    _memory_gb,
    create_database,
    drop_database,
    scalar,
    server_url,
    timed_rollback,
    vacuum,
    with_database,
)

DB_NAME = "portal_scale_bench"
RESULTS = BASE_DIR / "bench" / "results"
README = BASE_DIR / "README.md"
README_START = "<!-- bench:scale:start -->"
README_END = "<!-- bench:scale:end -->"
PYTHON = str(BASE_DIR / ".venv" / "bin" / "python")
GUNICORN = str(BASE_DIR / ".venv" / "bin" / "gunicorn")
BARE = "/bench/bare/"
SEARCH_TERMS = 60  # different terms per kind of search; each asked SEARCH_ROUNDS times (first round not counted)
SEARCH_ROUNDS = 4
IMPORT_ROWS = 1000


# --- Environment and processes ---------------------------------------------------------------------------------


def bench_env(url, *, redis_url, media_root, key, cache_seconds=600):
    """Production settings: DEBUG off, Redis, real keys. Plain HTTP on the loopback, so no TLS redirect."""
    return {
        **os.environ,
        "DATABASE_URL": url,
        "REDIS_URL": redis_url,
        "DJANGO_SETTINGS_MODULE": "bench.public_settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "bench-" + "x" * 60,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,testserver",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        # As docker-compose.yml runs it: one PostgreSQL connection per worker kept between requests.
        "DATABASE_CONN_MAX_AGE": "60",
        "DJANGO_MEDIA_ROOT": str(media_root),
        # The access line of every request is written as in production (to /dev/null for the servers).
        "DJANGO_LOG_LEVEL": "INFO",
        "PORTAL_LOG_FORMAT": "json",
        "PORTAL_ENCRYPTION_KEYS": key,
        "PORTAL_PUBLIC_CACHE_SECONDS": str(cache_seconds),
        # The benchmark measures serving, not the rate limit that protects it.
        "PORTAL_API_ANON_RATE": "1000000/second",
        "PORTAL_API_USER_RATE": "1000000/second",
        "PYTHONPATH": str(BASE_DIR),
    }


def manage(env, *args):
    subprocess.run([PYTHON, "manage.py", *args], cwd=BASE_DIR, env={**env, "DJANGO_LOG_LEVEL": "WARNING"}, check=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_server(proc):
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=30)


def _client_process(port, path, threads, seconds, queue):
    latencies = []
    errors = [0]
    statuses = {}
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def run():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        bad = 0
        while time.monotonic() < stop_at:
            start = time.perf_counter()
            try:
                conn.request("GET", path, headers={"Accept-Language": "zh-CN"})
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    bad += 1
                    statuses[response.status] = statuses.get(response.status, 0) + 1
            except (OSError, http.client.HTTPException):
                bad += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                continue
            mine.append(time.perf_counter() - start)
        with lock:
            latencies.extend(mine)
            errors[0] += bad

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    queue.put((latencies, errors[0], statuses))


def drive(port, path, *, concurrency, seconds, processes):
    queue = multiprocessing.Queue()
    threads = max(1, concurrency // processes)
    procs = [
        multiprocessing.Process(target=_client_process, args=(port, path, threads, seconds, queue))
        for _ in range(processes)
    ]
    started = time.perf_counter()
    for proc in procs:
        proc.start()
    results = [queue.get() for _ in procs]
    for proc in procs:
        proc.join()
    elapsed = time.perf_counter() - started
    latencies = sorted(lat for lats, _errors, _statuses in results for lat in lats)
    errors = sum(errors for _lats, errors, _statuses in results)
    statuses = {}
    for _lats, _errors, counts in results:
        for status, count in counts.items():
            statuses[str(status)] = statuses.get(str(status), 0) + count
    if not latencies:
        raise SystemExit(f"no successful request to {path}")
    return {
        "requests": len(latencies),
        "errors": errors,
        "throughput_rps": round(len(latencies) / elapsed, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "p99_ms": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000, 2),
        "error_statuses": statuses,
    }


def start_server(env, workers):
    port = free_port()
    # gunicorn reads ./gunicorn.conf.py (the production configuration) too; these options take precedence.
    command = [GUNICORN, "bench.public_wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers", str(workers)]
    proc = subprocess.Popen(
        [*command, "--log-level", "warning", "--access-logfile", "/dev/null"],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", BARE)
            if conn.getresponse().status == 200:
                return proc, port
        except OSError:
            time.sleep(0.2)
    stop_server(proc)
    raise SystemExit("gunicorn did not answer within 60 s")


def flush_redis(redis_url):
    import redis

    redis.Redis.from_url(redis_url).flushdb()


# --- Measurements over HTTP ------------------------------------------------------------------------------------


def load(port, paths, *, concurrency, seconds, warmup, processes):
    out = {}
    for name, path in paths.items():
        drive(port, path, concurrency=concurrency, seconds=warmup, processes=processes)
        out[name] = drive(port, path, concurrency=concurrency, seconds=seconds, processes=processes)
        print(
            f"    {name:13s} {out[name]['throughput_rps']:8.1f} req/s  p50 {out[name]['p50_ms']:7.2f} ms  "
            f"p99 {out[name]['p99_ms']:7.2f} ms  errors {out[name]['errors']}",
            flush=True,
        )
    return out


def percentile(sorted_values, fraction):
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * fraction))]


def one_client(port, paths, rounds):
    """One keep-alive client asking every path in turn, `rounds` times; the first round warms up."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    latencies, errors = [], 0
    for round_ in range(rounds):
        for path in paths:
            started = time.perf_counter()
            conn.request("GET", path, headers={"Accept-Language": "zh-CN"})
            response = conn.getresponse()
            response.read()
            elapsed = time.perf_counter() - started
            if response.status != 200:
                errors += 1
            if round_:
                latencies.append(elapsed)
    conn.close()
    latencies.sort()
    return {
        "requests": len(latencies),
        "terms": len(paths),
        "errors": errors,
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
        "max_ms": round(latencies[-1] * 1000, 2),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 2),
    }


def search_paths(rng):
    """Terms a person would type: three or four characters from the middle of real names, and whole USCCs."""
    from evaluations.models import BlacklistEntry
    from providers.models import Provider

    def fragments(names):
        out = []
        for name in names:
            core = name.removesuffix("有限公司").removesuffix("股份")
            length = rng.choice((3, 4))
            start = rng.randrange(0, max(1, len(core) - length))
            out.append(core[start : start + length])
        return out

    entries = list(BlacklistEntry.objects.order_by("pk").values_list("provider_name", "uscc"))
    providers = list(Provider.objects.order_by("pk").values_list("name", flat=True))
    entries = rng.sample(entries, min(SEARCH_TERMS, len(entries)))
    providers = rng.sample(providers, min(SEARCH_TERMS, len(providers)))
    return {
        "blacklist_name": [f"/blacklist/?q={quote(term)}" for term in fragments(name for name, _ in entries)],
        "blacklist_uscc": [f"/blacklist/?q={uscc}" for _, uscc in entries],
        "api_name": [f"/api/v1/blacklist/?q={quote(term)}" for term in fragments(name for name, _ in entries)],
        "pool_name": [f"/providers/?q={quote(term)}" for term in fragments(providers)],
        "bare": [BARE] * SEARCH_TERMS,
    }


# --- Measurements in the process ---------------------------------------------------------------------------------


def timed_get(client, path, repeat):
    from django.db import connection

    # Counted by a wrapper: a request empties connection.queries_log when it starts (reset_queries).
    counted = [0]

    def count(execute, sql, params, many, context):
        counted[0] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        response = client.get(path)
    if response.status_code != 200:
        raise SystemExit(f"{path} answered {response.status_code}")
    walls = []
    for _ in range(repeat):
        started = time.perf_counter()
        client.get(path)
        walls.append(time.perf_counter() - started)
    return {"queries": counted[0], "ms": round(statistics.median(walls) * 1000, 2)}


def admin_lists(user, rng, repeat=5):
    from django.test import Client

    from evaluations.models import RectificationStatus
    from providers.models import Provider
    from tests.otp_helpers import mark_client_verified

    client = Client()
    client.force_login(user)
    mark_client_verified(client, user)
    name = rng.choice(list(Provider.objects.values_list("name", flat=True)[:1000]))
    pages = {
        "bare": BARE,
        "providers": "/admin/providers/provider/",
        "providers_search": f"/admin/providers/provider/?q={quote(name[2:6])}",
        "enterprises": "/admin/enterprises/pilotenterprise/",
        "cases": "/admin/evaluations/rectificationcase/",
        "cases_rectifying": f"/admin/evaluations/rectificationcase/?status__exact={RectificationStatus.RECTIFYING}",
    }
    out = {page: timed_get(client, path, repeat) for page, path in pages.items()}
    for page, row in out.items():
        row["ms_vs_bare"] = round(row["ms"] / out["bare"]["ms"], 1)
        print(f"    admin {page:17s} {row['queries']:3d} queries  {row['ms']:8.1f} ms  ×{row['ms_vs_bare']}")
    return out


def dossier(user, repeat=3):
    from django.db.models import Count
    from documents import floor_weasyprint, rolled_back, timed

    from dossiers.documents import dossier_pdf_issue
    from enterprises.models import PilotEnterprise

    enterprise = PilotEnterprise.objects.annotate(n=Count("contracts")).order_by("-n", "pk").first()
    floor, _ = timed(floor_weasyprint, repeat)
    stats, (pages, size) = timed(lambda: rolled_back(lambda: dossier_pdf_issue(enterprise, user)), repeat)
    row = {
        "enterprise_contracts": enterprise.n,
        "pages": pages,
        "bytes": size,
        "cpu_s": round(stats["cpu"], 3),
        "wall_s": round(stats["wall"], 3),
        "floor_cpu_s": round(floor["cpu"], 3),
        "cpu_vs_floor": round(stats["cpu"] / floor["cpu"], 1),
    }
    print(f"    dossier {pages} pages, {enterprise.n} contracts: CPU {row['cpu_s']} s (×{row['cpu_vs_floor']} floor)")
    return row


def import_throughput(n):
    from django.db import transaction
    from imports import bulk_providers, provider_rows, read_dataset

    from providers.resources import ProviderResource
    from tangshan_portal.imports import run_import
    from tests.factories_imports import xlsx_bytes

    rows = provider_rows(n)
    content = xlsx_bytes(rows)

    def rolled_back(function):
        with transaction.atomic():
            started = time.perf_counter()
            value = function()
            seconds = time.perf_counter() - started
            transaction.set_rollback(True)
        return seconds, value

    floor = min(rolled_back(lambda: bulk_providers(rows))[0] for _ in range(2))
    dataset = read_dataset(content)
    seconds, result = rolled_back(lambda: run_import(ProviderResource(), dataset, dry_run=False))
    if not result.ok or result.new != n:
        raise SystemExit(f"the import failed: {result.errors[:3]}")
    row = {
        "rows": n,
        "seconds": round(seconds, 2),
        "rows_per_s": round(n / seconds, 1),
        "floor_seconds": round(floor, 3),
        "ratio_to_floor": round(seconds / floor, 1),
    }
    print(f"    import {n} providers: {row['rows_per_s']} rows/s (×{row['ratio_to_floor']} bulk_create)")
    return row


def sweep():
    from django.contrib.contenttypes.models import ContentType
    from django.utils import timezone

    from evaluations import services
    from evaluations.models import RectificationCase

    today = timezone.localdate()
    params = {"today": today, "ct": ContentType.objects.get_for_model(RectificationCase).pk}
    expected = scalar(
        "SELECT count(*) FROM evaluations_rectificationcase WHERE status IN ('rectifying', 'returned') "
        "AND deadline < %s",
        [today],
    )
    floor = min(timed_rollback(FLOOR_SQL, params)[0] for _ in range(2))
    sql_full = min(timed_rollback(SQL_FULL, params)[0] for _ in range(2))
    vacuum("evaluations_rectificationcase", "django_fsm_log_statelog", "portal_notification")
    started = time.perf_counter()
    result = services.deadlines_check()
    seconds = time.perf_counter() - started
    if result["overdue"] != expected:
        raise SystemExit(f"the sweep marked {result['overdue']} cases overdue, {expected} expected")
    row = {
        "running_cases": scalar(
            "SELECT count(*) FROM evaluations_rectificationcase WHERE status IN ('overdue', 'rectifying', 'returned')"
        ),
        "overdue": result["overdue"],
        "reminders": result["reminders"],
        "proposals": result["proposals"],
        "seconds": round(seconds, 2),
        "floor_seconds": round(floor, 3),
        "sql_full_seconds": round(sql_full, 3),
        "ratio_to_floor": round(seconds / floor, 1),
        "ratio_to_sql_full": round(seconds / sql_full, 1),
    }
    print(
        f"    sweep {row['overdue']:,} overdue: {row['seconds']} s (×{row['ratio_to_floor']} UPDATE, "
        f"×{row['ratio_to_sql_full']} SQL with side effects)"
    )
    return row


# --- One size ------------------------------------------------------------------------------------------------------


def measure_size(scale, args, server, url, env_for):
    from django.db import connection

    print(f"scale {scale}: database", flush=True)
    connection.close()
    create_database(server, DB_NAME)
    env = env_for(600)
    flush_redis(args.redis_url)
    started = time.perf_counter()
    manage(env, "migrate", "--noinput", "-v0")
    migrate_seconds = time.perf_counter() - started
    started = time.perf_counter()
    manage(env, "seed_scale", "--scale", str(scale), "--seed", "1", "--no-progress")
    seed_seconds = time.perf_counter() - started
    manage(env, "collectstatic", "--noinput", "-v0")
    counts = {
        table: scalar(f"SELECT count(*) FROM {table}")  # noqa: S608 - fixed names
        for table in (
            "providers_provider",
            "enterprises_pilotenterprise",
            "enterprises_servicecontract",
            "evaluations_surveyanswer",
            "evaluations_rectificationcase",
            "evaluations_blacklistentry",
        )
    }
    print(f"  migrate {migrate_seconds:.0f} s, seed {seed_seconds:.0f} s: {counts}", flush=True)
    size = {"scale": scale, "counts": counts, "seed_seconds": round(seed_seconds, 1), "public": {}}
    rng = random.Random(1)  # noqa: S311 - a repeatable choice of search terms, not a secret

    for cache_seconds, paths in (
        (600, {"bare": BARE, "page": "/blacklist/", "api": "/api/v1/blacklist/"}),
        (0, {"page_nocache": "/blacklist/", "api_nocache": "/api/v1/blacklist/"}),
    ):
        print(f"  public, cache {'on' if cache_seconds else 'off'}", flush=True)
        proc, port = start_server(env_for(cache_seconds), args.workers)
        try:
            size["public"].update(
                load(
                    port,
                    paths,
                    concurrency=args.concurrency,
                    seconds=args.seconds,
                    warmup=args.warmup,
                    processes=args.processes,
                )
            )
            if not cache_seconds:
                print("  search, one client, cache off", flush=True)
                size["search"] = {
                    kind: one_client(port, paths_, SEARCH_ROUNDS) for kind, paths_ in search_paths(rng).items()
                }
                for kind, row in size["search"].items():
                    print(f"    {kind:15s} p50 {row['p50_ms']:6.1f} ms  p99 {row['p99_ms']:6.1f} ms")
        finally:
            stop_server(proc)
    bare = size["public"]["bare"]
    for row in size["public"].values():
        row["throughput_vs_bare"] = round(row["throughput_rps"] / bare["throughput_rps"], 3)
        row["p99_vs_bare"] = round(row["p99_ms"] / bare["p99_ms"], 2)
    for row in size["search"].values():
        row["p99_vs_bare"] = round(row["p99_ms"] / size["search"]["bare"]["p99_ms"], 1)

    from imports import bench_user

    user = bench_user()  # an officer (bench/imports.py)
    print("  admin lists", flush=True)
    size["admin"] = admin_lists(user, rng)
    print("  dossier PDF", flush=True)
    size["dossier"] = dossier(user)
    print("  import", flush=True)
    size["import"] = import_throughput(args.import_rows)
    print("  deadline sweep", flush=True)
    size["sweep"] = sweep()
    connection.close()
    if not args.keep_db:
        drop_database(server, DB_NAME)
    return size


# --- Report ----------------------------------------------------------------------------------------------------------


def machine():
    import django

    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpus": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory_gb": _memory_gb(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "git_commit": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=BASE_DIR, capture_output=True, text=True
        ).stdout.strip(),
    }


def _growth(a, b):
    return f"×{b / a:.2f}" if a else "–"


def markdown(report):
    sizes = report["sizes"]
    m = report["machine"]
    head = " | ".join(f"scale {s['scale']}" for s in sizes)
    lines = [
        "# The portal at scale",
        "",
        f"{m['date']} · {m['cpus']} CPUs ({m['cpu_model']}), {m['memory_gb']} GB · PostgreSQL {m['postgresql']} · "
        f"Python {m['python']} · Django {m['django']} · commit {m['git_commit']} · gunicorn {report['workers']} sync "
        f"workers · {report['concurrency']} concurrent clients on the same machine, {report['seconds']} s per "
        "measurement. Produced by `make bench` (`bench/scale.py`); how to read it: `bench/README.md`.",
        "",
        "Data (`manage.py seed_scale`):",
        "",
        f"| rows | {head} |",
        "|---|" + "---:|" * len(sizes),
    ]
    for table in sizes[0]["counts"]:
        lines.append(f"| {table} | " + " | ".join(f"{s['counts'][table]:,}" for s in sizes) + " |")
    lines.append("| seed seconds | " + " | ".join(f"{s['seed_seconds']:.0f}" for s in sizes) + " |")

    growth = len(sizes) >= 2
    first, last = sizes[0], sizes[-1]

    lines += [
        "",
        f"Public blacklist, {report['concurrency']} clients (× bare: throughput ratio to the bare Django view on the "
        "same server; target ≥ 0.50 for the page):",
        "",
        "| endpoint | " + " | ".join(f"req/s · × bare · p50 · p99 ms ({s['scale']})" for s in sizes) + " |",
        "|---|" + "---:|" * len(sizes),
    ]
    for name in first["public"]:
        cells = [
            f"{s['public'][name]['throughput_rps']:.0f} · {s['public'][name]['throughput_vs_bare']:.2f} · "
            f"{s['public'][name]['p50_ms']:.0f} · {s['public'][name]['p99_ms']:.0f}"
            for s in sizes
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")

    lines += [
        "",
        "Search, one client, cache off, a different term every request (target: p99 < 100 ms at 5,000 entries and "
        "10,000 providers):",
        "",
        "| search | "
        + " | ".join(f"p50 / p99 ms ({s['scale']})" for s in sizes)
        + (" | p99 growth |" if growth else " |"),
        "|---|" + "---:|" * (len(sizes) + growth),
    ]
    for kind in first["search"]:
        cells = [f"{s['search'][kind]['p50_ms']:.1f} / {s['search'][kind]['p99_ms']:.1f}" for s in sizes]
        if growth:
            cells.append(_growth(first["search"][kind]["p99_ms"], last["search"][kind]["p99_ms"]))
        lines.append(f"| {kind} | " + " | ".join(cells) + " |")

    lines += [
        "",
        "Admin change lists as an officer (queries per page must not grow with the data):",
        "",
        "| page | " + " | ".join(f"queries · ms · × bare ({s['scale']})" for s in sizes) + " |",
        "|---|" + "---:|" * len(sizes),
    ]
    for page in first["admin"]:
        cells = [
            f"{s['admin'][page]['queries']} · {s['admin'][page]['ms']:.1f} · {s['admin'][page]['ms_vs_bare']}"
            for s in sizes
        ]
        lines.append(f"| {page} | " + " | ".join(cells) + " |")

    lines += [
        "",
        "Dossier PDF, import and the deadline sweep:",
        "",
        f"| measurement | {head} |",
        "|---|" + "---:|" * len(sizes),
        "| dossier: pages · CPU s · × one-line WeasyPrint page | "
        + " | ".join(
            f"{s['dossier']['pages']} · {s['dossier']['cpu_s']} · ×{s['dossier']['cpu_vs_floor']}" for s in sizes
        )
        + " |",
        "| import: rows/s · × bulk_create | "
        + " | ".join(f"{s['import']['rows_per_s']:.0f} · ×{s['import']['ratio_to_floor']}" for s in sizes)
        + " |",
        "| sweep: overdue cases · s | "
        + " | ".join(f"{s['sweep']['overdue']:,} · {s['sweep']['seconds']}" for s in sizes)
        + " |",
        "| sweep × bare UPDATE | " + " | ".join(f"×{s['sweep']['ratio_to_floor']}" for s in sizes) + " |",
        "| sweep × SQL with its side effects (target ≤ 3) | "
        + " | ".join(f"×{s['sweep']['ratio_to_sql_full']}" for s in sizes)
        + " |",
    ]
    return "\n".join(lines) + "\n"


def update_readme(table):
    text = README.read_text()
    if README_START not in text or README_END not in text:
        print(f"README.md has no {README_START} … {README_END} markers: the table was not copied there")
        return
    before, rest = text.split(README_START, 1)
    _old, after = rest.split(README_END, 1)
    body = table.split("\n", 2)[2]  # without the heading
    README.write_text(f"{before}{README_START}\n{body}{README_END}{after}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", type=float, nargs="+", default=[0.1, 1.0])
    parser.add_argument("--database-url", default="")
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL") or "redis://127.0.0.1:6379/10")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--processes", type=int, default=4, help="client processes sharing the concurrency")
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--warmup", type=float, default=2)
    parser.add_argument("--import-rows", type=int, default=IMPORT_ROWS)
    parser.add_argument("--name", default="scale", help="results file name in bench/results/")
    parser.add_argument("--keep-db", action="store_true", help="keep the last size's database")
    parser.add_argument("--no-readme", action="store_true", help="do not copy the table into README.md")
    args = parser.parse_args(argv)

    server = server_url(args.database_url)
    url = with_database(server, DB_NAME)
    key = "bench:" + base64.b64encode(os.urandom(16)).decode()
    media = tempfile.TemporaryDirectory(prefix="portal-bench-media-")

    def env_for(cache_seconds):
        return bench_env(url, redis_url=args.redis_url, media_root=media.name, key=key, cache_seconds=cache_seconds)

    # This process measures the admin lists, the dossier, the import and the sweep with the same settings.
    os.environ.update({k: v for k, v in env_for(0).items() if k not in ("PYTHONPATH",)})
    os.environ["DJANGO_LOG_LEVEL"] = "WARNING"  # not an access line per admin request on the terminal
    import django

    django.setup()

    report = {
        "machine": machine(),
        "concurrency": args.concurrency,
        "workers": args.workers,
        "seconds": args.seconds,
        "warmup": args.warmup,
        "sizes": [],
    }
    try:
        for scale in args.scales:
            report["sizes"].append(measure_size(scale, args, server, url, env_for))
            report["machine"].setdefault("postgresql", _server_version(server))
            RESULTS.mkdir(parents=True, exist_ok=True)
            (RESULTS / f"{args.name}.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
            (RESULTS / f"{args.name}.md").write_text(markdown(report))
    finally:
        from django.db import connection

        connection.close()
        if not args.keep_db:
            drop_database(server, DB_NAME)
        media.cleanup()
    table = markdown(report)
    if not args.no_readme:
        update_readme(table)
    print(table)


def _server_version(server):
    import psycopg

    with psycopg.connect(with_database(server, "postgres").replace("postgres://", "postgresql://", 1)) as conn:
        return conn.execute("SHOW server_version").fetchone()[0]


if __name__ == "__main__":
    main()
