#!/usr/bin/env python
"""Load benchmark of the public blacklist: the page `/blacklist/` and the API `/api/v1/blacklist/`.

For every size N (blacklist entries) it loads the data into a throwaway PostgreSQL database, starts gunicorn
(production settings: DEBUG off, Redis cache) and drives it with CONCURRENCY keep-alive clients, measuring
throughput and p50/p99 latency of:

  bare         a bare Django view (`/bench/bare/`: the whole middleware stack, a 2-byte answer) — the floor
  page         /blacklist/ (first page of 20), as the public sees it: cached until public data change
  page_search  /blacklist/?q=<part of a name> (a partial-name search, its own cache entry)
  api          /api/v1/blacklist/ (first page of 50), cached the same way
  page_nocache, api_nocache
               the same two with the cache switched off (PORTAL_PUBLIC_CACHE_SECONDS=0): what a change costs
               the first visitor, and how that cost grows with N

Every figure is reported as a ratio to `bare` measured on the same server in the same run, so the machine's
speed cancels out. The load generator runs on the same machine as the server (it takes CPU from it); the
ratios, not the absolute numbers, are the result.

Run:  .venv/bin/python bench/public_load.py --sizes 1000 10000
Results: bench/results/public_load.json and public_load.md. See bench/README.md.
"""

import argparse
import http.client
import json
import multiprocessing
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR / "bench"))
sys.path.insert(0, str(BASE_DIR))

from sweep import create_database, drop_database, server_url, with_database  # noqa: E402

DB_NAME = "portal_public_bench"
RESULTS = BASE_DIR / "bench" / "results"
N_POOL_PROVIDERS = 300

ENDPOINTS = {
    "bare": "/bench/bare/",
    "page": "/blacklist/",
    "page_search": "/blacklist/?q=%E5%9F%BA%E5%87%86%E7%A7%91%E6%8A%80",  # 基准科技: matches every name
    "api": "/api/v1/blacklist/",
}


# --- Data -----------------------------------------------------------------------------------------------------


def setup_django(url):
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "tangshan_portal.settings"
    import django

    django.setup()
    from django.conf import settings

    settings.DEBUG = False


def load(n):
    """N revoked providers, each with an approved revocation and its blacklist entry (10 % under appeal,
    5 % removed), plus N_POOL_PROVIDERS providers in the pool. bulk_create in batches: fast and no signals."""
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from evaluations.models import BlacklistEntry, RevocationCase
    from providers.models import Provider, ProviderStatus, ProviderType
    from tangshan_portal.demo import sequential_uscc
    from tangshan_portal.grounds import cite_art13
    from tangshan_portal.models import Organisation, User

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE evaluations_blacklistentry, evaluations_revocationcase, providers_provider_scenarios, "
            "providers_product, providers_provider, opendata_publicchange RESTART IDENTITY CASCADE"
        )
    bureau, _ = Organisation.objects.get_or_create(name="基准测试工信局", defaults={"kind": Organisation.Kind.BUREAU})
    officer, _ = User.objects.get_or_create(username="bench_officer", defaults={"organisation": bureau})
    now = timezone.now()
    providers = [
        Provider(
            name=f"唐山基准科技{i:05d}有限公司",
            uscc=sequential_uscc(i + 1, "130200", tag="B"),
            legal_representative=f"法人{i}",
            address="唐山市路南区",
            provider_type=ProviderType.INTEGRATED,
            status=ProviderStatus.REVOKED if i < n else ProviderStatus.IN_POOL,
        )
        for i in range(n + N_POOL_PROVIDERS)
    ]
    Provider.objects.bulk_create(providers, batch_size=2000)
    revoked = list(Provider.objects.filter(status=ProviderStatus.REVOKED).order_by("pk"))
    cases = [
        RevocationCase(
            provider=p,
            ground=1 + i % 9,
            finding="基准测试",
            source=RevocationCase.Source.OFFICER,
            proposed_by=officer,
            proposed_at=now,
            statement_due_at=now,
            status="approved",
            decided_by=officer,
            decided_at=now,
            decision_number=f"基准〔2026〕{i + 1}号",
        )
        for i, p in enumerate(revoked)
    ]
    RevocationCase.objects.bulk_create(cases, batch_size=2000)
    statuses = ["published"] * 17 + ["under_appeal"] * 2 + ["removed"]
    entries = []
    for i, case in enumerate(RevocationCase.objects.order_by("pk").select_related("provider")):
        status = statuses[i % len(statuses)]
        entries.append(
            BlacklistEntry(
                revocation=case,
                provider=case.provider,
                provider_name=case.provider.name,
                uscc=case.provider.uscc,
                ground=case.ground,
                ground_wording=cite_art13(case.ground),
                decision_number=case.decision_number,
                decided_on=(now - timedelta(days=i % 700)).date(),
                authority="唐山市工业和信息化局",
                remedy="可依法申诉。",
                status=status,
                published_at=now,
                removed_at=now if status == "removed" else None,
                removal_reason="申诉成立" if status == "removed" else "",
            )
        )
    BlacklistEntry.objects.bulk_create(entries, batch_size=2000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {
        "entries": len(entries),
        "listed": BlacklistEntry.objects.exclude(status="removed").count(),
        "pool_providers": N_POOL_PROVIDERS,
    }


# --- The server -----------------------------------------------------------------------------------------------


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(url, *, cache_seconds, redis_url):
    return {
        **os.environ,
        "DATABASE_URL": url,
        "REDIS_URL": redis_url,
        "DJANGO_SETTINGS_MODULE": "bench.public_settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "bench-" + "x" * 60,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_LOG_LEVEL": "WARNING",
        "PORTAL_PUBLIC_CACHE_SECONDS": str(cache_seconds),
        # The benchmark measures serving, not the rate limit that protects it (a one-second window keeps
        # the throttle's per-client history short, as the production rate of 120/minute does).
        "PORTAL_API_ANON_RATE": "1000000/second",
        "PORTAL_API_USER_RATE": "1000000/second",
        "PYTHONPATH": str(BASE_DIR),
    }


def collectstatic(url, redis_url):
    """With production settings (DEBUG off), which need whitenoise's manifest of hashed file names."""
    subprocess.run(
        [str(BASE_DIR / ".venv" / "bin" / "python"), "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=BASE_DIR,
        env=server_env(url, cache_seconds=0, redis_url=redis_url),
        check=True,
    )


def start_server(url, *, workers, cache_seconds, redis_url):
    port = free_port()
    env = server_env(url, cache_seconds=cache_seconds, redis_url=redis_url)
    proc = subprocess.Popen(
        [
            str(BASE_DIR / ".venv" / "bin" / "gunicorn"),
            "bench.public_wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ],
        cwd=BASE_DIR,
        env=env,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", ENDPOINTS["bare"])
            if conn.getresponse().status == 200:
                return proc, port
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("gunicorn did not answer within 30 s")


def stop_server(proc):
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=30)


# --- The load -------------------------------------------------------------------------------------------------


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


def measure(port, names, *, concurrency, seconds, processes, warmup):
    out = {}
    for name in names:
        path = ENDPOINTS[name.removesuffix("_nocache")]
        drive(port, path, concurrency=concurrency, seconds=warmup, processes=processes)
        out[name] = drive(port, path, concurrency=concurrency, seconds=seconds, processes=processes)
        print(
            f"    {name:13s} {out[name]['throughput_rps']:9.1f} req/s  p50 {out[name]['p50_ms']:7.2f} ms  "
            f"p99 {out[name]['p99_ms']:7.2f} ms  errors {out[name]['errors']} {out[name]['error_statuses']}",
            flush=True,
        )
    return out


def with_ratios(results):
    bare = results["bare"]
    for row in results.values():
        row["throughput_vs_bare"] = round(row["throughput_rps"] / bare["throughput_rps"], 3)
        row["p50_vs_bare"] = round(row["p50_ms"] / bare["p50_ms"], 2)
        row["p99_vs_bare"] = round(row["p99_ms"] / bare["p99_ms"], 2)
    return results


def markdown(report):
    lines = [
        "# Public blacklist under load",
        "",
        f"Run {report['run_at']} on {report['machine']['cpus']} CPUs ({report['machine']['platform']}), "
        f"PostgreSQL {report['machine']['postgresql']}, gunicorn {report['workers']} sync workers, "
        f"{report['concurrency']} concurrent keep-alive clients on the same machine, "
        f"{report['seconds']} s per measurement after {report['warmup']} s warm-up.",
        "",
        "Ratios are to the bare Django view measured on the same server in the same run (throughput: higher is "
        "better, 1.0 = as fast as the bare view; latency: lower is better).",
        "",
        "| entries | endpoint | req/s | × bare | p50 ms | p99 ms | p99 × bare | errors |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for size in report["sizes"]:
        for name, row in size["results"].items():
            lines.append(
                f"| {size['entries']:,} | {name} | {row['throughput_rps']:.0f} | {row['throughput_vs_bare']:.2f} | "
                f"{row['p50_ms']:.1f} | {row['p99_ms']:.1f} | {row['p99_vs_bare']:.1f} | {row['errors']} |"
            )
    if len(report["sizes"]) >= 2:
        small, large = report["sizes"][0], report["sizes"][-1]
        growth = large["entries"] / small["entries"]
        lines += ["", f"Growth from {small['entries']:,} to {large['entries']:,} entries (×{growth:.0f} data):", ""]
        for name in small["results"]:
            a, b = small["results"][name], large["results"][name]
            p50 = b["p50_ms"] / a["p50_ms"]
            rps = b["throughput_rps"] / a["throughput_rps"]
            lines.append(f"- {name}: p50 ×{p50:.2f}, throughput ×{rps:.2f}")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--database-url", default="")
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/13")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--processes", type=int, default=4, help="client processes sharing the concurrency")
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--warmup", type=float, default=2)
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args()

    server = server_url(args.database_url)
    url = with_database(server, DB_NAME)
    create_database(server, DB_NAME)
    setup_django(url)
    from django.db import connection

    collectstatic(url, args.redis_url)
    report = {
        "run_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "concurrency": args.concurrency,
        "workers": args.workers,
        "seconds": args.seconds,
        "warmup": args.warmup,
        "sizes": [],
    }
    try:
        for n in args.sizes:
            print(f"{n:,} entries: loading", flush=True)
            loaded = load(n)
            connection.close()
            with connection.cursor() as cursor:
                cursor.execute("SHOW server_version")
                report["machine"]["postgresql"] = cursor.fetchone()[0]
            connection.close()
            size = {"entries": n, **loaded, "results": {}}
            for cache_seconds, names in (
                (600, ["bare", "page", "page_search", "api"]),
                (0, ["page_nocache", "api_nocache"]),
            ):
                print(f"  cache {'on' if cache_seconds else 'off'}", flush=True)
                proc, port = start_server(
                    url, workers=args.workers, cache_seconds=cache_seconds, redis_url=args.redis_url
                )
                try:
                    size["results"].update(
                        measure(
                            port,
                            names,
                            concurrency=args.concurrency,
                            seconds=args.seconds,
                            processes=args.processes,
                            warmup=args.warmup,
                        )
                    )
                finally:
                    stop_server(proc)
            with_ratios(size["results"])
            report["sizes"].append(size)
            RESULTS.mkdir(parents=True, exist_ok=True)
            (RESULTS / "public_load.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
            (RESULTS / "public_load.md").write_text(markdown(report))
    finally:
        connection.close()
        if not args.keep_db:
            drop_database(server, DB_NAME)
    print((RESULTS / "public_load.md").read_text())


if __name__ == "__main__":
    main()
