#!/usr/bin/env python
"""Benchmark of the official documents (issue 7): time per document kind and for a 20-page enterprise dossier,
and how the dossier's time grows with its length.

What it measures, in one process on a throwaway SQLite database (migrated and filled with `seed_demo`):

  floors      a one-line page rendered by WeasyPrint with the Noto CJK SC face the documents use
              (`weasyprint`), the same through the portal's official layout `pdf/base.html` with all its faces
              and the footer (`base.html`), and the Django template render alone of the 20-page dossier
              (`template`: what the PDF costs before WeasyPrint sees it)
  kinds       each builder named in the issue's fixed names (rectification notice … evaluation acceptance),
              issuing the document for a record of the demo data: render, store the file, hash, audit. Every
              repetition runs inside a transaction that is rolled back (and its file is removed), so the
              builders, which return an already issued document, really render every time. A builder that
              does not exist yet is skipped and said so, as is a kind without a record in the demo data.
  dossier     `dossiers.documents.dossier_pdf_issue` for enterprises seeded to about 5, 10, 20 and 40 pages
              (contracts with 12 milestones, a change request, a deep survey, a diagnosis with findings and a
              training each), issued as a case officer (the whole dossier); with the time of each phase:
              gathering the sections (queries), the template, WeasyPrint's layout, writing the PDF, and
              the rest (hash, file, database row, audit).

Every figure is a ratio to a floor measured in the same run on the same machine, so the machine's speed cancels
out; rendering is CPU-bound, so CPU seconds are reported beside wall seconds. SQLite is enough: the database
part (gathering the dossier's sections) is a few percent of the time, which the phase table shows.

Run:  .venv/bin/python bench/documents.py              (about two minutes)
      .venv/bin/python bench/documents.py --pages 5 10 20 40 --repeat 5
Results: bench/results/documents.md. See bench/README.md.
"""

import argparse
import importlib
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
RESULTS = BASE_DIR / "bench" / "results"

# (kind, builder "module:function", what record of the demo data it is issued for)
BUILDERS = [
    ("rectification_notice", "evaluations.documents:rectification_notice_pdf", "ordered rectification case"),
    ("revocation_decision", "evaluations.documents:revocation_decision_pdf", "approved revocation"),
    ("blacklist_announcement", "evaluations.documents:blacklist_announcement_pdf", "published blacklist entry"),
    ("appeal_decision", "complaints.documents:appeal_decision_pdf", "decided appeal"),
    ("excellent_list", "evaluations.documents:excellent_list_pdf", "published excellent-provider batch"),
    ("internal_acceptance", "enterprises.documents:internal_acceptance_pdf", "signed internal acceptance"),
    ("evaluation_acceptance", "evaluations.documents:evaluation_acceptance_pdf", "decided acceptance assessment"),
]

MILESTONES_PER_CONTRACT = 12


# --- Set-up ---------------------------------------------------------------------------------------------------


def setup_django(workdir):
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ["DJANGO_MEDIA_ROOT"] = str(workdir / "media")
    os.environ["DJANGO_SETTINGS_MODULE"] = "tangshan_portal.settings"
    os.environ.setdefault("DJANGO_LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.conf import settings

    # As in production: no query log, templates without debug information.
    settings.DEBUG = False


def seed():
    """migrate and seed_demo in a child process: seed_demo wants DEBUG on (its guard for real servers), the
    measurement wants it off from the first template on."""
    env = {**os.environ, "DJANGO_DEBUG": "1"}
    for command in (["migrate", "--noinput", "-v0"], ["seed_demo"]):
        subprocess.run(
            [sys.executable, "manage.py", *command], cwd=BASE_DIR, env=env, check=True, stdout=subprocess.DEVNULL
        )


def officer():
    from tangshan_portal.models import User
    from tangshan_portal.roles import Role

    users = User.objects.filter(is_active=True, groups__name=Role.OFFICER).order_by("pk")
    return users.filter(username="demo_officer").first() or users.first()


# --- Timing ---------------------------------------------------------------------------------------------------


def timed(function, repeat):
    """Median and minimum wall and CPU seconds of `repeat` calls, after one call that is not counted (fonts,
    templates and the import of the builder's module are loaded by the first)."""
    result = function()
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        result = function()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return {
        "wall": statistics.median(walls),
        "wall_min": min(walls),
        "cpu": statistics.median(cpus),
        "runs": repeat,
    }, result


def rolled_back(issue):
    """Issue a document inside a transaction that is rolled back, remove its file; return (pages, bytes)."""
    from django.db import transaction

    with transaction.atomic():
        doc = issue()
        pages, size, storage, name = doc.pages, doc.size, doc.file.storage, doc.file.name
        transaction.set_rollback(True)
    storage.delete(name)
    return pages, size


# --- Floors ---------------------------------------------------------------------------------------------------

ONE_LINE = (
    '<html lang="zh-CN"><body style="font-family: \'Noto Serif CJK SC\'; font-size: 16pt">'
    "唐山市工业和信息化局关于限期整改的通知</body></html>"
)


def floor_weasyprint():
    from weasyprint import HTML

    data = HTML(string=ONE_LINE).write_pdf()
    return 1, len(data)


def floor_base():
    from tangshan_portal.documents import render_pdf

    data = render_pdf(
        "pdf/base.html",
        {
            "document_title": "关于限期整改的通知",
            "issued_on": "2026年11月29日",
            "verification_code": "0" * 32,
            "verify_url": "/verify/" + "0" * 32 + "/",
            "confidential": True,
        },
    )
    return 1, len(data)


# --- Document kinds -------------------------------------------------------------------------------------------


def _builder(path):
    module, name = path.split(":")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        return exc


def _target(kind):
    """A record of the demo data the builder of this kind can issue for (the queries of render_samples)."""
    from complaints.models import Appeal, AppealStatus
    from enterprises.models import InternalAcceptance
    from evaluations.models import (
        BlacklistEntry,
        ExcellentBatch,
        LevelAssessment,
        RectificationCase,
        RectificationStatus,
        RevocationCase,
        RevocationStatus,
    )

    if kind == "rectification_notice":
        return (
            RectificationCase.objects.exclude(document_number=None)
            .exclude(document_number="")
            .exclude(status=RectificationStatus.DRAFT)
            .order_by("-ordered_at")
            .first()
        )
    if kind == "revocation_decision":
        return RevocationCase.objects.filter(status=RevocationStatus.APPROVED).order_by("-decided_at").first()
    if kind == "blacklist_announcement":
        return BlacklistEntry.objects.exclude(status=BlacklistEntry.Status.REMOVED).order_by("-published_at").first()
    if kind == "appeal_decision":
        return Appeal.objects.filter(status__in=[AppealStatus.UPHELD, AppealStatus.REJECTED]).first()
    if kind == "excellent_list":
        return ExcellentBatch.objects.filter(status=ExcellentBatch.Status.PUBLISHED).order_by("-published_at").first()
    if kind == "internal_acceptance":
        return InternalAcceptance.objects.filter(status=InternalAcceptance.Status.SIGNED).first()
    if kind == "evaluation_acceptance":
        return (
            LevelAssessment.objects.filter(
                kind=LevelAssessment.Kind.ACCEPTANCE,
                status=LevelAssessment.Status.FINAL,
                acceptance_passed__isnull=False,
            )
            .order_by("-acceptance_passed", "-assessed_on")
            .first()
        )
    raise ValueError(kind)


def _decided_appeal(by):
    """The demo data hold no decided appeal: an upheld Art 16(1) appeal against the overdue rectification case,
    written inside the caller's (rolled-back) transaction."""
    from django.utils import timezone

    from complaints.models import Appeal, AppealStatus, AppealType
    from evaluations.models import RectificationCase, RectificationStatus
    from tangshan_portal.models import User

    case = RectificationCase.objects.filter(status=RectificationStatus.OVERDUE).first()
    if case is None:
        return None
    filer = User.objects.filter(organisation_id=case.provider.organisation_id).first() or by
    now = timezone.now()
    return Appeal.objects.create(
        provider=case.provider,
        appeal_type=AppealType.DIAGNOSIS_DELAYED,
        target=case,
        grounds="试点企业停产检修，诊断咨询现场调研推迟近三周，整改未能在期限内完成。",
        requested_deadline=timezone.localdate(now) + timedelta(days=20),
        filed_by=filer,
        filed_at=max(case.ordered_at, now - timedelta(days=5)),
        status=AppealStatus.UPHELD,
        reviewer=by,
        review_started_at=now,
        decided_at=now,
        decision="经核实，整改逾期不可归责于你单位。",
        granted_deadline=timezone.localdate(now) + timedelta(days=20),
    )


def measure_kinds(by, repeat):
    from tangshan_portal.documents import issued_documents_for

    rows, skipped = [], []
    for kind, path, record in BUILDERS:
        builder = _builder(path)
        if isinstance(builder, Exception):
            skipped.append((kind, f"`{path}` does not exist yet ({type(builder).__name__})"))
            print(f"  {kind:24s} skipped: {path} does not exist yet", flush=True)
            continue
        target = _target(kind)
        if target is None and kind == "appeal_decision":
            # Built inside each rolled-back transaction, since nothing may stay behind.
            def issue(builder=builder):
                appeal = _decided_appeal(by)
                if appeal is None:
                    raise LookupError("no overdue rectification case to appeal against")
                return builder(appeal, by)

            record += " (drafted, rolled back with the document)"
        elif target is None:
            skipped.append((kind, f"no {record} in the demo data"))
            print(f"  {kind:24s} skipped: no {record} in the demo data", flush=True)
            continue
        else:

            def issue(builder=builder, target=target, kind=kind):
                # seed_demo's decisions issued their documents already, and a builder returns the document
                # already issued: it is taken out of the way inside the rolled-back transaction.
                issued_documents_for(target).filter(kind=kind).delete()
                return builder(target, by)

        try:
            stats, (pages, size) = timed(lambda issue=issue: rolled_back(issue), repeat)
        except Exception as exc:  # a builder being written right now may fail; the others still count
            skipped.append((kind, f"failed: {type(exc).__name__}: {exc}"))
            print(f"  {kind:24s} skipped: {type(exc).__name__}: {exc}", flush=True)
            continue
        rows.append({"kind": kind, "record": record, "pages": pages, "bytes": size, **stats})
        print(f"  {kind:24s} {stats['wall']:.3f} s  {pages} p", flush=True)
    return rows, skipped


# --- The dossier ----------------------------------------------------------------------------------------------


class DossierSeeder:
    """Pilot enterprises with as many contracts (and their milestones, surveys, diagnoses, trainings) as it takes
    to reach a number of pages. Written with the ORM directly: it is data for a measurement, not a workflow."""

    def __init__(self, by):
        from django.conf import settings

        from providers.models import Provider, ProviderStatus
        from tangshan_portal.models import County, Scenario

        self.by = by
        self.county = County.objects.get(code=settings.PORTAL_COUNTIES[0][0])
        self.providers = list(Provider.objects.filter(status=ProviderStatus.IN_POOL).order_by("pk")[:6])
        self.scenarios = list(Scenario.objects.order_by("sort_order", "code")[:4])
        self.serial = 0

    def enterprise(self, label):
        from enterprises.models import EnterpriseSize, PilotEnterprise
        from tangshan_portal.demo import sequential_uscc
        from tangshan_portal.models import Organisation

        self.serial += 1
        name = f"唐山基准{label}页机械制造有限公司"
        org = Organisation.objects.create(name=name, kind=Organisation.Kind.ENTERPRISE)
        return PilotEnterprise.objects.create(
            organisation=org,
            name=name,
            uscc=sequential_uscc(900 + self.serial, self.county.code, tag="X"),
            county=self.county,
            industry="制造业",
            sub_industry="通用设备制造",
            size=EnterpriseSize.MEDIUM,
            contact_name="王经理",
            contact_phone="0315-2000000",
            baseline_level=1,
        )

    def add_contract(self, enterprise, n):
        from django.utils import timezone

        from enterprises.models import (
            ChangeRequest,
            ContractStatus,
            DiagnosisFinding,
            DiagnosisReport,
            DossierSurvey,
            Milestone,
            ServiceContract,
            TrainingAttendance,
            TrainingSession,
            TrainingTopic,
        )

        now = timezone.now()
        provider = self.providers[n % len(self.providers)]
        contract = ServiceContract.objects.create(
            number=f"BENCH-{enterprise.pk}-{n:03d}",
            provider=provider,
            enterprise=enterprise,
            title=f"生产线设备联网与制造执行系统建设项目（第{n + 1}期）",
            amount=Decimal("480000.00"),
            subsidy=Decimal("160000.00"),
            advance_payment=Decimal("96000.00"),
            signed_on=date(2026, 3, 1),
            start_on=date(2026, 3, 1),
            end_on=date(2026, 12, 31),
            status=ContractStatus.IN_PROGRESS,
            submitted_at=now,
            nda_signed_on=date(2026, 3, 1),
        )
        Milestone.objects.bulk_create(
            Milestone(
                contract=contract,
                name=f"第{m + 1}阶段：关键设备数据采集、网关部署与系统联调",
                planned_on=date(2026, 3, 15) + timedelta(days=20 * m),
                weight=8 if m < MILESTONES_PER_CONTRACT - 1 else 12,
                reported_progress=min(100, 10 * m),
            )
            for m in range(MILESTONES_PER_CONTRACT)
        )
        ChangeRequest.objects.create(
            contract=contract,
            description="增加两台数据采集网关，并将质量追溯模块纳入实施范围。",
            reason="企业新增一条冲压生产线。",
            proposed_by=self.by,
            proposed_at=now,
        )
        DossierSurvey.objects.create(
            contract=contract,
            enterprise=enterprise,
            surveyed_on=date(2026, 3, 10),
            production_process="下料→冲压→焊接→涂装→总装五道工序，冲压线节拍45秒，关键设备12台。",
            supply_chain="主要钢材供应商三家，年采购额约八千万元；外协件供应商十一家。",
            intellectual_property="发明专利两项，实用新型专利七项。",
            created_by=self.by,
        )
        report = DiagnosisReport.objects.create(
            enterprise=enterprise,
            provider=provider,
            diagnosed_on=date(2026, 2, 15),
            summary="企业设备联网率低，生产计划依赖人工排产，质量数据以纸质记录为主，建议分两期实施。",
            status=DiagnosisReport.Status.SUBMITTED,
            created_by=self.by,
            submitted_at=now,
        )
        DiagnosisFinding.objects.bulk_create(
            DiagnosisFinding(
                report=report,
                scenario=scenario,
                current_state="关键设备未联网，数据靠人工抄录，日报滞后一天。",
                recommendation="加装数据采集网关，建设设备管理与生产报工模块。",
            )
            for scenario in self.scenarios
        )
        session = TrainingSession.objects.create(
            provider=provider,
            title=f"数据安全与设备联网培训（第{n + 1}期）",
            topics=[TrainingTopic.values[0]],
            held_on=date(2026, 4, 10),
            hours=Decimal("4.0"),
            venue="企业会议室",
            created_by=self.by,
        )
        TrainingAttendance.objects.create(session=session, enterprise=enterprise, attendees=15)
        return contract


def _pages(enterprise, by):
    from dossiers.documents import dossier_pdf_issue

    return rolled_back(lambda: dossier_pdf_issue(enterprise, by))[0]


def seed_dossiers(seeder, targets):
    """One enterprise per target length. Pages grow by about two per contract; the count is estimated from two
    seeded sizes, then contracts are added one at a time until the dossier has at least the target's pages."""
    probe = seeder.enterprise("probe")
    seeder.add_contract(probe, 0)
    one = _pages(probe, seeder.by)
    for n in range(1, 4):
        seeder.add_contract(probe, n)
    four = _pages(probe, seeder.by)
    per_contract = max(0.5, (four - one) / 3)
    enterprises = {}
    for target in targets:
        enterprise = seeder.enterprise(target)
        # pages ≈ one + per_contract × (contracts − 1); start one below the estimate and add.
        contracts = max(1, int((target - one) / per_contract))
        for n in range(contracts):
            seeder.add_contract(enterprise, n)
        pages = _pages(enterprise, seeder.by)
        while pages < target:
            seeder.add_contract(enterprise, contracts)
            contracts += 1
            pages = _pages(enterprise, seeder.by)
        enterprises[target] = (enterprise, contracts, pages)
        print(f"  seeded {target:>3}-page dossier: {contracts} contracts, {pages} pages", flush=True)
    return enterprises


class Clock:
    """Wall and CPU seconds of the phases of one run."""

    def __init__(self):
        self.phases = {}
        self._wall, self._cpu = time.perf_counter(), time.process_time()

    def lap(self, name):
        wall, cpu = time.perf_counter(), time.process_time()
        self.phases[name] = {"wall": wall - self._wall, "cpu": cpu - self._cpu}
        self._wall, self._cpu = wall, cpu


def dossier_phases(enterprise, by):
    """The phases of one issue, timed separately: gather, template, layout, write."""
    from django.template.loader import render_to_string
    from django.utils import translation
    from weasyprint import HTML

    from dossiers.documents import DOCUMENT_LANGUAGE, dossier_pdf_spec
    from tangshan_portal.documents import _static_roots, _url_fetcher, common_context

    clock = Clock()
    with translation.override(DOCUMENT_LANGUAGE):
        spec = dossier_pdf_spec(enterprise, by)
        # What document_issue adds to the context; the values do not change the cost.
        context = {
            **common_context(),
            **spec["context"],
            "document_title": spec["title"],
            "document_number": "",
            "issued_on": "2026年11月29日",
            "verification_code": "0" * 32,
            "verify_url": "/verify/" + "0" * 32 + "/",
            "confidential": True,
        }
        clock.lap("gather")
        html = render_to_string(spec["template"], context)
        clock.lap("template")
    laid_out = HTML(string=html, base_url=_static_roots()[0].as_uri() + "/", url_fetcher=_url_fetcher).render()
    clock.lap("layout")
    laid_out.write_pdf()
    clock.lap("write")
    return clock.phases


def measure_dossiers(enterprises, by, repeat):
    from django.db import connection

    from dossiers.documents import dossier_pdf_issue

    def counting(execute, sql, params, many, context):
        counted[0] += 1
        return execute(sql, params, many, context)

    counted = [0]
    rows = []
    for target, (enterprise, contracts, _pages_seen) in enterprises.items():
        stats, (pages, size) = timed(lambda e=enterprise: rolled_back(lambda: dossier_pdf_issue(e, by)), repeat)
        runs = [dossier_phases(enterprise, by) for _ in range(max(1, repeat))]
        phases = {
            name: {unit: statistics.median(run[name][unit] for run in runs) for unit in ("wall", "cpu")}
            for name in runs[0]
        }
        phases["rest"] = {
            unit: max(0.0, stats[unit] - sum(p[unit] for p in phases.values())) for unit in ("wall", "cpu")
        }
        counted[0] = 0
        with connection.execute_wrapper(counting):
            rolled_back(lambda e=enterprise: dossier_pdf_issue(e, by))
        rows.append(
            {
                "target_pages": target,
                "pages": pages,
                "contracts": contracts,
                "milestones": contracts * MILESTONES_PER_CONTRACT,
                "bytes": size,
                "queries": counted[0],
                "phases": phases,
                **stats,
            }
        )
        print(
            f"  dossier {pages:>3} pages: CPU {stats['cpu']:.2f} s ({stats['cpu'] / pages:.3f} s/page), "
            f"wall {stats['wall']:.2f} s",
            flush=True,
        )
    return rows


def template_floor(enterprise, by, repeat):
    """The Django template alone for the 20-page dossier (context gathered once, outside the timing)."""
    from django.template.loader import render_to_string
    from django.utils import translation

    from dossiers.documents import DOCUMENT_LANGUAGE, dossier_pdf_spec
    from tangshan_portal.documents import common_context

    with translation.override(DOCUMENT_LANGUAGE):
        spec = dossier_pdf_spec(enterprise, by)
        context = {
            **common_context(),
            **spec["context"],
            "document_title": spec["title"],
            "issued_on": "2026年11月29日",
        }
        stats, _html = timed(lambda: render_to_string(spec["template"], context), repeat)
    return stats


# --- Report ---------------------------------------------------------------------------------------------------


def machine_facts():
    import django
    import weasyprint

    def git(*args):
        try:
            return subprocess.run(["git", *args], cwd=BASE_DIR, capture_output=True, text=True, check=True).stdout
        except (OSError, subprocess.CalledProcessError):
            return ""

    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        harfbuzz = subprocess.run(
            ["dpkg-query", "-W", "-f=${Version}", "libharfbuzz-subset0"], capture_output=True, text=True
        ).stdout
    except OSError:
        harfbuzz = ""
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu,
        "load_average": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "weasyprint": weasyprint.__version__,
        "harfbuzz_subset": harfbuzz or "?",
        "git_commit": git("rev-parse", "--short", "HEAD").strip(),
        "local_changes": bool(
            git("status", "--porcelain", "--", "templates/pdf", "tangshan_portal/documents.py").strip()
        ),
    }


def markdown(facts, floors, kinds, skipped, dossiers, template, repeat):
    weasy, base = floors["weasyprint"]["cpu"], floors["base.html"]["cpu"]
    changes = " + local changes to the documents" if facts["local_changes"] else ""
    lines = [
        "# Official documents benchmark",
        "",
        f"{facts['date']} · {facts['cpu_count']} CPUs ({facts['cpu_model']}), load {facts['load_average']:.2f} "
        f"at the start · Python {facts['python']} · Django {facts['django']} · WeasyPrint {facts['weasyprint']} · "
        f"libharfbuzz-subset0 {facts['harfbuzz_subset']} · commit {facts['git_commit']}{changes} · SQLite "
        "(rendering dominates: the database's share is the `gather` column below)",
        "",
        f"Median of {repeat} runs after one warm-up run. Rendering is single-threaded and CPU-bound, so the "
        "figures and ratios are **CPU seconds** of the process, which barely move when other work shares the "
        "machine; wall seconds are beside them. Produced by `bench/documents.py` (`make bench-documents`); see "
        "`bench/README.md`. Ratios are to floors measured in the same run:",
        "",
        f"- **weasyprint** — one line of Chinese in Noto Serif CJK SC through WeasyPrint: CPU "
        f"{weasy * 1000:.0f} ms (wall {floors['weasyprint']['wall'] * 1000:.0f} ms).",
        "- **base.html** — the same line in the official layout (`pdf/base.html`: red header, footer with page "
        f"numbers and verification code, four faces): CPU {base * 1000:.0f} ms "
        f"(wall {floors['base.html']['wall'] * 1000:.0f} ms).",
        "- **template** — the Django template of the 20-page dossier rendered to HTML, without WeasyPrint: CPU "
        f"{template['cpu'] * 1000:.0f} ms.",
        "",
        "## Per document kind",
        "",
        "Issuing = render + store the file + SHA-256 + database row + audit: the builder a decision's service "
        "calls, for a record of the demo data. Each run is rolled back (the document issued by `seed_demo` is "
        "taken out of the way inside it), so the builder renders every time.",
        "",
        "| kind | record | pages | KB | CPU s | wall s | × weasyprint | × base.html |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in kinds:
        lines.append(
            f"| {row['kind']} | {row['record']} | {row['pages']} | {row['bytes'] / 1024:.0f} | {row['cpu']:.3f} | "
            f"{row['wall']:.3f} | {row['cpu'] / weasy:.1f} | {row['cpu'] / base:.2f} |"
        )
    twenty = next((row for row in dossiers if row["target_pages"] == 20), None)
    if twenty:
        lines.append(
            f"| **dossier** | {twenty['contracts']} contracts, {twenty['milestones']} milestones | {twenty['pages']} | "
            f"{twenty['bytes'] / 1024:.0f} | {twenty['cpu']:.3f} | {twenty['wall']:.3f} | "
            f"{twenty['cpu'] / weasy:.1f} | {twenty['cpu'] / base:.2f} |"
        )
    for kind, reason in skipped:
        lines.append(f"| {kind} | skipped: {reason} | | | | | | |")
    lines += [
        "",
        "## The dossier by length",
        "",
        "Each contract adds about two pages (12 milestones, a change request, a deep survey, a diagnosis with four "
        "findings, a training); the enterprises are seeded until they reach at least the asked number of pages. "
        "**per-page growth** is CPU s/page at this length divided by CPU s/page at the previous one: ×1.0 is "
        "linear; below 1 the fixed cost (the first page, the fonts written into the file) is spread over more pages.",
        "",
        "| pages | contracts | queries | KB | CPU s | wall s | CPU s/page | per-page growth | × weasyprint | "
        "× base.html |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    previous = None
    for row in dossiers:
        per_page = row["cpu"] / row["pages"]
        growth = "–" if previous is None else f"×{per_page / previous:.2f}"
        lines.append(
            f"| {row['pages']} | {row['contracts']} | {row['queries']} | {row['bytes'] / 1024:.0f} | "
            f"{row['cpu']:.2f} | {row['wall']:.2f} | {per_page:.3f} | {growth} | {row['cpu'] / weasy:.1f} | "
            f"{row['cpu'] / base:.2f} |"
        )
        previous = per_page
    lines += [
        "",
        "Where a dossier's CPU time goes (phases timed separately, medians; `rest` = the issue's median minus the "
        "phases: hash, file, database row, audit):",
        "",
        "| pages | gather (queries) | template | layout | write PDF | rest | layout + write, share of the phases |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in dossiers:
        p = {name: phase["cpu"] for name, phase in row["phases"].items()}
        total = sum(p.values())
        share = (p["layout"] + p["write"]) / total if total else 0
        lines.append(
            f"| {row['pages']} | {p['gather']:.3f} | {p['template']:.3f} | {p['layout']:.3f} | {p['write']:.3f} | "
            f"{p['rest']:.3f} | {share:.0%} |"
        )
    if len(dossiers) >= 2:
        first, last = dossiers[0], dossiers[-1]
        per_page = (last["cpu"] / last["pages"]) / (first["cpu"] / first["pages"])
        lines += [
            "",
            f"From {first['pages']} to {last['pages']} pages (×{last['pages'] / first['pages']:.1f}): CPU time "
            f"×{last['cpu'] / first['cpu']:.2f}, CPU s/page ×{per_page:.2f}.",
        ]
    lines.append("")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, nargs="+", default=[5, 10, 20, 40], help="dossier lengths to seed")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per measurement (after one warm-up)")
    parser.add_argument("--output", type=Path, default=RESULTS / "documents.md")
    parser.add_argument("--keep", action="store_true", help="keep the temporary database and media folder")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="portal_documents_bench_"))
    setup_django(workdir)
    try:
        print(f"database and media in {workdir}; migrate and seed_demo …", flush=True)
        seed()
        by = officer()
        facts = machine_facts()
        print("floors", flush=True)
        floors = {
            "weasyprint": timed(floor_weasyprint, args.repeat)[0],
            "base.html": timed(floor_base, args.repeat)[0],
        }
        print("document kinds", flush=True)
        kinds, skipped = measure_kinds(by, args.repeat)
        print("dossier: seeding", flush=True)
        targets = sorted(set(args.pages) | {20})
        enterprises = seed_dossiers(DossierSeeder(by), targets)
        print("dossier: measuring", flush=True)
        dossiers = measure_dossiers(enterprises, by, args.repeat)
        template = template_floor(enterprises[20][0], by, args.repeat)
        report = markdown(facts, floors, kinds, skipped, dossiers, template, args.repeat)
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(report, encoding="utf-8")
        print(report)
    finally:
        if not args.keep:
            import shutil

            from django.db import connections

            connections.close_all()
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"kept {workdir}")


if __name__ == "__main__":
    main()
