"""The official documents of supervision and evaluation: 整改通知书 (Art 12), 取消资格决定书 and the blacklist
announcement (Art 13, 14), the excellent-provider list (Art 15) and the evaluation acceptance certificate (Art 9).

Each kind has a `<kind>_spec(record)` that reads the decided record and says what the document contains, and a
`<kind>_pdf(record, by)` builder that issues it once (see enterprises.documents for the pattern). The services
decide when a document is due and call the builder after their decision commits (issue_after_commit).
"""

import re

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django_fsm_log.models import StateLog

from enterprises.documents import level_name
from tangshan_portal.documents import DocumentNotDue, chinese_date, issue_once, sentence, title_lines
from tangshan_portal.grounds import ART13_CONSEQUENCE, cite_art12, cite_art13
from tangshan_portal.models import IssuedDocument

from .models import BlacklistEntry, ExcellentBatch, LevelAssessment, RectificationStatus, RevocationStatus

__all__ = [
    "DocumentNotDue",
    "blacklist_announcement_pdf",
    "evaluation_acceptance_pdf",
    "excellent_list_pdf",
    "rectification_notice_pdf",
    "revocation_decision_pdf",
]


def revocation_decision_title(provider_name):
    return f"关于取消{provider_name}数字化服务商资格的决定"


# --- 整改通知书 (Art 12) -------------------------------------------------------------------------------------


def rectification_notice_spec(case):
    """整改通知书 for a case that has been ordered (it has a document number and a deadline)."""
    if not case.document_number or case.deadline is None or case.status == RectificationStatus.DRAFT:
        raise DocumentNotDue("A rectification notice needs an ordered case (document number and deadline).")
    provider = case.provider
    context = {
        "addressee": provider.name,
        "provider": provider,
        "case": case,
        "finding": sentence(case.finding),
        "ground_citation": cite_art12(case.ground),
        "ordered_on": chinese_date(case.ordered_at) if case.ordered_at else "",
        "deadline": chinese_date(case.deadline),
        "appeal_window_days": settings.APPEAL_WINDOW_DAYS,
        "max_rectifications": settings.MAX_RECTIFICATIONS,
        "dated_on": chinese_date(case.ordered_at) if case.ordered_at else "",
        "title_lines": title_lines("关于", provider.name, "限期整改的通知"),
    }
    return {
        "kind": IssuedDocument.Kind.RECTIFICATION_NOTICE,
        "template": "pdf/rectification_notice.html",
        "context": context,
        "number": case.document_number,
        "title": f"关于{provider.name}限期整改的通知",
        "recipients": [provider.organisation],
    }


def rectification_notice_pdf(case, by, *, now=None):
    return issue_once(rectification_notice_spec, case, by, IssuedDocument.Kind.RECTIFICATION_NOTICE, now=now)


# --- 取消资格决定书 and the blacklist announcement (Art 13, 14) ------------------------------------------------


def revocation_decision_spec(revocation):
    """取消资格决定书 for an approved revocation (it has a decision number)."""
    if revocation.status != RevocationStatus.APPROVED or not (revocation.decision_number and revocation.decided_at):
        raise DocumentNotDue("A revocation decision needs an approved case with a decision number.")
    provider = revocation.provider
    context = {
        "addressee": provider.name,
        "provider": provider,
        "revocation": revocation,
        "finding": sentence(revocation.finding),
        "ground_citation": cite_art13(revocation.ground),
        "consequence": ART13_CONSEQUENCE,
        "proposed_on": chinese_date(revocation.proposed_at),
        "statement": sentence(revocation.provider_statement),
        "decision_reason": sentence(revocation.decision_reason),
        "decided_on": chinese_date(revocation.decided_at),
        "appeal_window_days": settings.APPEAL_WINDOW_DAYS,
        "dated_on": chinese_date(revocation.decided_at),
        "title_lines": title_lines("关于取消", provider.name, "数字化服务商资格的决定"),
    }
    return {
        "kind": IssuedDocument.Kind.REVOCATION_DECISION,
        "template": "pdf/revocation_decision.html",
        "context": context,
        "number": revocation.decision_number,
        "title": revocation_decision_title(provider.name),
        "recipients": [provider.organisation],
    }


def revocation_decision_pdf(revocation, by, *, now=None):
    return issue_once(revocation_decision_spec, revocation, by, IssuedDocument.Kind.REVOCATION_DECISION, now=now)


def blacklist_announcement_spec(entry):
    """取消资格/黑名单公告: what the public blacklist shows, as the bureau's announcement (Art 13: 在局官网上予以
    公告). Only the entry's snapshot is printed — name, code, the quoted ground, the decision and the remedy — never
    the finding of the case, which may name the enterprise harmed."""
    if entry.pk is None or entry.published_at is None or entry.status == BlacklistEntry.Status.REMOVED:
        raise DocumentNotDue("A blacklist announcement needs a published (not removed) blacklist entry.")
    context = {
        "entry": entry,
        "provider_name": entry.provider_name,
        "uscc": entry.uscc,
        "ground_citation": entry.ground_wording,
        # The table names the article only: the regulation's title is cited in full in the sentence above it.
        "ground_short": re.sub(r"^《[^》]*》", "", entry.ground_wording),
        "decision_number": entry.decision_number,
        "decided_on": chinese_date(entry.decided_on),
        "appeal_window_days": settings.APPEAL_WINDOW_DAYS,
        "dated_on": chinese_date(entry.published_at),
        "title_lines": title_lines("关于将", entry.provider_name, "列入数字化服务商黑名单的公告"),
    }
    return {
        "kind": IssuedDocument.Kind.BLACKLIST_ANNOUNCEMENT,
        "template": "pdf/blacklist_announcement.html",
        "context": context,
        # A public announcement of the decision, not a second decision: it cites the decision number and takes
        # none of its own (a document number identifies exactly one document).
        "number": "",
        "title": f"关于将{entry.provider_name}列入数字化服务商黑名单的公告",
        # Public anyway; addressed to the provider so that it finds it among its documents.
        "recipients": [entry.provider.organisation],
    }


def blacklist_announcement_pdf(entry, by):
    return issue_once(blacklist_announcement_spec, entry, by, IssuedDocument.Kind.BLACKLIST_ANNOUNCEMENT)


# --- 优秀服务商名单 (Art 15) ----------------------------------------------------------------------------------


def excellent_list_title(batch):
    """(title, title lines, name of the list): e.g. 关于公布2026年度第一批优秀数字化服务商名单的通知."""
    name = batch.name.removesuffix("名单")
    # A batch name reads as year, batch and what was selected: the title may break between them.
    parts = [part for part in re.split(r"(?<=年度)|(?<=批)", name) if part]
    return f"关于公布{name}名单的通知", title_lines("关于公布", *parts, "名单的通知"), f"{name}名单"


def excellent_list_spec(batch):
    if batch.status != ExcellentBatch.Status.PUBLISHED or batch.published_at is None:
        raise DocumentNotDue("An excellent-provider list needs a published batch.")
    entries = list(batch.entries.select_related("provider").order_by("rank"))
    title, lines, list_name = excellent_list_title(batch)
    context = {
        "batch": batch,
        "list_name": list_name,
        "entries": entries,
        "count": len(entries),
        "period_start": chinese_date(batch.period_start),
        "period_end": chinese_date(batch.period_end),
        "dated_on": chinese_date(batch.published_at),
        "title_lines": lines,
    }
    return {
        "kind": IssuedDocument.Kind.EXCELLENT_LIST,
        "template": "pdf/excellent_list.html",
        "context": context,
        # The bureau's number when the batch was approved under one; a list published without one has none.
        "number": batch.document_number,
        "title": title,
        "recipients": [],
    }


def excellent_list_pdf(batch, by):
    return issue_once(excellent_list_spec, batch, by, IssuedDocument.Kind.EXCELLENT_LIST)


# --- 评测验收证明 (Art 9, 14) ---------------------------------------------------------------------------------

ACCEPTANCE_TRANSITIONS = ("acceptance_passed", "acceptance_failed")


def _acceptance_decision(assessment):
    """The state-log row of acceptance_decide: who decided, when, and the stated conclusion."""
    return (
        StateLog.objects.filter(
            content_type=ContentType.objects.get_for_model(assessment),
            object_id=assessment.pk,
            transition__in=ACCEPTANCE_TRANSITIONS,
        )
        .order_by("-timestamp", "-pk")
        .first()
    )


def _baseline_of(assessment):
    return (
        LevelAssessment.objects.filter(
            enterprise_id=assessment.enterprise_id,
            kind=LevelAssessment.Kind.BASELINE,
            status=LevelAssessment.Status.FINAL,
            assessed_on__lte=assessment.assessed_on,
        )
        .order_by("-assessed_on", "-finalised_at", "-pk")
        .first()
    )


def evaluation_acceptance_spec(assessment):
    """评测验收证明 (passed) or 评测验收结果告知书 (failed) for a decided acceptance assessment."""
    if (
        assessment.kind != LevelAssessment.Kind.ACCEPTANCE
        or assessment.status != LevelAssessment.Status.FINAL
        or assessment.acceptance_passed is None
        or assessment.contract_id is None
    ):
        raise DocumentNotDue("An evaluation acceptance certificate needs a decided acceptance assessment.")
    contract = assessment.contract
    provider, enterprise = contract.provider, contract.enterprise
    decision = _acceptance_decision(assessment) if assessment.pk else None
    baseline = _baseline_of(assessment) if assessment.pk else None
    baseline_level = baseline.level if baseline is not None else enterprise.baseline_level
    passed = assessment.acceptance_passed
    decided_at = decision.timestamp if decision is not None else assessment.finalised_at
    context = {
        "addressees": [provider.name, enterprise.name],
        "assessment": assessment,
        "contract": contract,
        "provider": provider,
        "enterprise": enterprise,
        "institution": assessment.institution,
        "standard": assessment.standard,
        "passed": passed,
        "assessed_on": chinese_date(assessment.assessed_on),
        "baseline": baseline,
        "baseline_level": level_name(baseline_level) if baseline_level is not None else "",
        "baseline_on": chinese_date(baseline.assessed_on) if baseline is not None else "",
        "level": level_name(assessment.level),
        "score": f"{assessment.total_score:.1f}",
        "minimum_level": level_name(settings.ACCEPTANCE_MIN_LEVEL),
        "conclusion": sentence(assessment.conclusion),
        "decision_reason": sentence(decision.description) if decision is not None else "",
        "appeal_window_days": settings.APPEAL_WINDOW_DAYS,
        "dated_on": chinese_date(decided_at) if decided_at else "",
    }
    suffix = "评测验收证明" if passed else "评测验收结果告知书"
    context["title_lines"] = title_lines(contract.title, suffix)
    title = f"{contract.title}{suffix}"
    return {
        "kind": IssuedDocument.Kind.EVALUATION_ACCEPTANCE,
        "template": "pdf/evaluation_acceptance.html",
        "context": context,
        # A certificate of a third-party evaluation, not a decision numbered in the bureau's series.
        "number": "",
        "title": title,
        "recipients": [provider.organisation, enterprise.organisation, assessment.institution],
    }


def evaluation_acceptance_pdf(assessment, by):
    return issue_once(evaluation_acceptance_spec, assessment, by, IssuedDocument.Kind.EVALUATION_ACCEPTANCE)
