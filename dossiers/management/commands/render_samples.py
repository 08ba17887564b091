"""`manage.py render_samples --out DIR`: one PDF of every official document kind, rendered from the demo data.

Samples are not issued. The builders' `*_spec` halves say what each document would contain for a demo record,
and the command renders that with the sample marking (a "样本" watermark and no verification code) straight
to DIR: nothing enters the register of issued documents, nothing is audited as issued, no document number is
taken, and a sample can never be passed off as a verifiable document. The demo holds no decided appeal, so
the appeal decision is drafted on an unsaved appeal against the demo's overdue rectification case.

The dossier is rendered the same way from `dossiers.documents.dossier_pdf_spec`, as a case officer sees it.

A database without the demo data is refused with a message rather than seeded behind the user's back: the demo
accounts share a public password, and `seed_demo` has its own guard for production. `--seed` runs `seed_demo`
first (with that guard) for a fresh database.
"""

import time
from datetime import timedelta
from pathlib import Path

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone, translation

from complaints.documents import appeal_decision_spec
from complaints.models import Appeal, AppealStatus, AppealType
from enterprises.documents import internal_acceptance_spec
from enterprises.models import InternalAcceptance, PilotEnterprise
from evaluations.documents import (
    blacklist_announcement_spec,
    evaluation_acceptance_spec,
    excellent_list_spec,
    rectification_notice_spec,
    revocation_decision_spec,
)
from evaluations.models import (
    BlacklistEntry,
    ExcellentBatch,
    LevelAssessment,
    RectificationCase,
    RectificationStatus,
    RevocationCase,
    RevocationStatus,
)
from providers.models import Provider
from tangshan_portal.documents import chinese_date, common_context, render_document
from tangshan_portal.models import IssuedDocument, User
from tangshan_portal.roles import Role

NAMES = {
    IssuedDocument.Kind.RECTIFICATION_NOTICE: "整改通知书",
    IssuedDocument.Kind.REVOCATION_DECISION: "取消资格决定书",
    IssuedDocument.Kind.BLACKLIST_ANNOUNCEMENT: "黑名单公告",
    IssuedDocument.Kind.APPEAL_DECISION: "申诉处理决定书",
    IssuedDocument.Kind.EXCELLENT_LIST: "优秀服务商名单",
    IssuedDocument.Kind.DOSSIER: "一企一档",
    IssuedDocument.Kind.INTERNAL_ACCEPTANCE: "内部验收证明",
    IssuedDocument.Kind.EVALUATION_ACCEPTANCE: "评测验收证明",
}

NO_DEMO = (
    "数据库中没有演示数据，无法生成样本。请先运行 manage.py seed_demo，或加 --seed 由本命令先写入演示数据。\n"
    "The database holds no demo data to render samples from. Run `manage.py seed_demo` first, or pass --seed."
)


class Skip(Exception):
    pass


def _first(queryset, what):
    record = queryset.first()
    if record is None:
        raise Skip(f"演示数据中没有{what} / no {what} in the data")
    return record


def _sample_appeal():
    """A decided appeal: the demo's own if there is one, else an upheld Art 16(1) appeal drafted (not saved)
    against an overdue or ordered case, granting a new deadline — the fullest form of the decision."""
    decided = Appeal.objects.filter(status__in=[AppealStatus.UPHELD, AppealStatus.REJECTED]).order_by("-decided_at")
    if decided.exists():
        return decided.first()
    case = (
        RectificationCase.objects.filter(status=RectificationStatus.OVERDUE).first()
        or RectificationCase.objects.exclude(document_number=None).exclude(status=RectificationStatus.DRAFT).first()
    )
    if case is None:
        raise Skip("演示数据中没有可申诉的整改案件 / no ordered rectification case to appeal against")
    # Decided today, filed within the appeal window of the order and no earlier than it.
    decided_at = timezone.now()
    filed_at = max(case.ordered_at, decided_at - timedelta(days=5))
    return Appeal(
        provider=case.provider,
        appeal_type=AppealType.DIAGNOSIS_DELAYED,
        target=case,
        grounds=(
            "试点企业以停产检修为由，将诊断咨询现场调研推迟近三周，致使整改未能在期限内完成；"
            "企业停产通知及双方往来函件已作为证据提交"
        ),
        requested_deadline=timezone.localdate(decided_at) + timedelta(days=20),
        filed_at=filed_at,
        status=AppealStatus.UPHELD,
        decided_at=decided_at,
        decision="经核实，试点企业在整改期间停产检修属实，诊断咨询现场调研确因企业原因推迟，整改逾期不可归责于你单位",
        granted_deadline=timezone.localdate(decided_at) + timedelta(days=20),
    )


def _specs():
    """(kind, function returning the spec) in the order of the table."""
    kinds = IssuedDocument.Kind
    return [
        (
            kinds.RECTIFICATION_NOTICE,
            lambda: rectification_notice_spec(
                _first(
                    RectificationCase.objects.exclude(document_number=None)
                    .exclude(status=RectificationStatus.DRAFT)
                    .order_by("-ordered_at"),
                    "已下达整改通知的案件",
                )
            ),
        ),
        (
            kinds.REVOCATION_DECISION,
            lambda: revocation_decision_spec(
                _first(
                    RevocationCase.objects.filter(status=RevocationStatus.APPROVED).order_by("-decided_at"),
                    "已批准的取消资格案件",
                )
            ),
        ),
        (
            kinds.BLACKLIST_ANNOUNCEMENT,
            lambda: blacklist_announcement_spec(
                _first(
                    BlacklistEntry.objects.exclude(status=BlacklistEntry.Status.REMOVED).order_by("-published_at"),
                    "黑名单条目",
                )
            ),
        ),
        (kinds.APPEAL_DECISION, lambda: appeal_decision_spec(_sample_appeal())),
        (
            kinds.EXCELLENT_LIST,
            lambda: excellent_list_spec(
                _first(
                    ExcellentBatch.objects.filter(status=ExcellentBatch.Status.PUBLISHED).order_by("-published_at"),
                    "已发布的优秀服务商批次",
                )
            ),
        ),
        (
            kinds.INTERNAL_ACCEPTANCE,
            lambda: internal_acceptance_spec(
                _first(
                    InternalAcceptance.objects.filter(status=InternalAcceptance.Status.SIGNED).order_by(
                        "-enterprise_signed_at"
                    ),
                    "双方已签署的内部验收",
                )
            ),
        ),
        (
            kinds.EVALUATION_ACCEPTANCE,
            lambda: evaluation_acceptance_spec(
                _first(
                    LevelAssessment.objects.filter(
                        kind=LevelAssessment.Kind.ACCEPTANCE,
                        status=LevelAssessment.Status.FINAL,
                        acceptance_passed__isnull=False,
                    ).order_by("-acceptance_passed", "-assessed_on"),
                    "已作出结论的验收评测",
                )
            ),
        ),
    ]


def _render_sample(spec, now):
    # The context document_issue gives a template, with the sample marking instead of a verification code.
    context = {
        **common_context(),
        **spec["context"],
        "document_title": spec["title"],
        "document_number": spec["number"],
        "issued_on": chinese_date(now),
        "verification_code": "",
        "verify_url": "",
        "confidential": spec["kind"] not in IssuedDocument.PUBLIC_KINDS,
        "sample": True,
    }
    return render_document(spec["template"], context)


def _dossier_sample(now):
    """The dossier as a case officer sees it (the whole dossier), rendered from its spec like the others."""
    from dossiers.documents import DOCUMENT_LANGUAGE, dossier_pdf_spec

    officers = User.objects.filter(is_active=True, groups__name=Role.OFFICER).order_by("pk")
    requester = officers.filter(username="demo_officer").first() or officers.first()
    if requester is None:
        raise Skip("没有可用的经办人员账号 / no active case officer account")
    enterprise = (
        PilotEnterprise.objects.filter(organisation__users__username="demo_enterprise").first()
        or PilotEnterprise.objects.order_by("pk").first()
    )
    if enterprise is None:
        raise Skip("演示数据中没有试点企业 / no pilot enterprise")
    with translation.override(DOCUMENT_LANGUAGE):
        return _render_sample(dossier_pdf_spec(enterprise, requester), now)


class Command(BaseCommand):
    help = (
        "Render one sample PDF of every official document kind from the demo data into --out (files named by "
        "kind). Samples are marked 样本 and are not issued: the register of issued documents is left unchanged."
    )

    def add_arguments(self, parser):
        parser.add_argument("--out", required=True, help="Folder to write the PDFs to (created if missing).")
        parser.add_argument(
            "--seed", action="store_true", help="Run seed_demo first (for a fresh database; seed_demo's guards apply)."
        )

    def handle(self, *args, out, seed=False, **options):
        if seed:
            call_command("seed_demo", stdout=self.stdout, stderr=self.stderr)
        if not Provider.objects.exists():
            raise CommandError(NO_DEMO)
        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        now = timezone.now()
        rows, skipped = [], []
        jobs = [(kind, lambda spec_of=spec_of: _render_sample(spec_of(), now)) for kind, spec_of in _specs()]
        jobs.append((IssuedDocument.Kind.DOSSIER, lambda: _dossier_sample(now)))
        for kind, make in jobs:
            started = time.perf_counter()
            try:
                data, pages = make()
            except Skip as exc:
                skipped.append((kind, str(exc)))
                continue
            seconds = time.perf_counter() - started
            (folder / f"{kind}.pdf").write_bytes(data)
            rows.append((kind, pages, len(data), seconds))

        # The Chinese names are double-width: padded by hand to 16 terminal columns.
        self.stdout.write(f"{'kind':<24} 名称{' ' * 12} {'pages':>5} {'bytes':>9} {'seconds':>8}")
        for kind, pages, size, seconds in rows:
            name = NAMES[kind]
            self.stdout.write(f"{kind:<24} {name}{' ' * (16 - 2 * len(name))} {pages:>5} {size:>9} {seconds:>8.2f}")
        for kind, reason in skipped:
            self.stderr.write(self.style.WARNING(f"{kind}: 未生成 skipped — {reason}"))
        self.stdout.write(f"{len(rows)} 份样本已写入 samples written to {folder}")
        missing = [kind for kind, _reason in skipped if kind != IssuedDocument.Kind.DOSSIER]
        if missing:
            raise CommandError(f"缺少演示数据，未生成 / missing demo data for: {', '.join(missing)}")
