"""申诉处理决定书 (Art 16): the bureau's decision on a provider's appeal, upheld or rejected.

The decision is numbered in the bureau's series (document_number_allocate) when it is issued: an appeal has no
number of its own, and the number and the stored document are written in one transaction, so a failed render
returns the number instead of leaving a gap (see tangshan_portal.services.document_number_allocate).
"""

from django.conf import settings
from django.utils import timezone

from evaluations.documents import revocation_decision_title
from evaluations.models import RectificationCase, RevocationCase, SatisfactionRating
from tangshan_portal.documents import DocumentNotDue, chinese_date, issue_once, sentence, title_lines
from tangshan_portal.grounds import CHINESE_NUMERALS
from tangshan_portal.models import IssuedDocument
from tangshan_portal.services import document_number_allocate

from .models import AppealStatus, AppealType

__all__ = ["DocumentNotDue", "appeal_decision_pdf", "appeal_decision_spec"]

# Art 16's wording, quoted verbatim (the line breaks of the regulation's PDF removed).
ART16_WORDING = {
    1: "试点企业恶意拖延、阻滞诊断咨询服务工作开展，造成时限要求内未能完成工作任务的",
    2: "服务商对企业满意度评价结果为“不满意”，提出异议的",
    3: "被清退、纳入黑名单认定理由存在异议的",
    4: "其他情况",
}


def cite_art16(appeal_type):
    number = int(appeal_type)
    return (
        f"《{settings.PORTAL_REGULATION_TITLE}》第十六条第（{CHINESE_NUMERALS[number - 1]}）项："
        f"“{ART16_WORDING[number]}”"
    )


def _disputed(target):
    """The disputed record as the decision names it: the document that notified it, where there is one."""
    if isinstance(target, RevocationCase):
        return f"我局《{revocation_decision_title(target.provider.name)}》（{target.decision_number}）"
    if isinstance(target, SatisfactionRating):
        contract = target.contract
        return (
            f"试点企业{contract.enterprise.name}于{chinese_date(target.submitted_at)}对服务合同{contract.number}"
            f"“{target.stage}”阶段作出的“不满意”满意度评价"
        )
    if isinstance(target, RectificationCase) and target.document_number:
        return f"我局《关于{target.provider.name}限期整改的通知》（{target.document_number}）"
    return f"我局于{chinese_date(target.warned_at or target.opened_at)}就“{target.finding.strip()}”作出的整改警示"


def _outcome(appeal, target):
    """What the decision does, in the order the service undid it (complaints.services.appeal_uphold)."""
    kind = appeal.appeal_type
    if appeal.status == AppealStatus.REJECTED:
        kept = {
            AppealType.DISSATISFIED_RATING: "维持该次满意度评价结果",
            AppealType.REVOCATION: "维持原决定，黑名单公告继续有效",
        }.get(kind, "维持原整改要求")
        return [f"你单位申诉理由不成立，我局决定不予支持，{kept}。"]
    if kind == AppealType.DIAGNOSIS_DELAYED:
        return [
            "你单位申诉理由成立，我局决定予以支持。",
            f"对你单位未能在原定整改期限内完成整改的情形不予认定，整改期限重新确定为"
            f"{chinese_date(appeal.granted_deadline)}。请你单位在新的期限内完成整改并提交整改报告。"
            if appeal.granted_deadline
            else "对你单位未能在原定整改期限内完成整改的情形不予认定。",
        ]
    if kind == AppealType.DISSATISFIED_RATING:
        return [
            "你单位申诉理由成立，我局决定予以支持。",
            "该次“不满意”评价予以撤销，不再计入该规范第十三条第（二）项所列“不满意”评价次数；"
            "以该评价为依据提出的取消资格建议一并终止。",
        ]
    if kind == AppealType.REVOCATION:
        return [
            "你单位申诉理由成立，我局决定予以支持。",
            f"撤销{_disputed(target)}，恢复你单位数字化服务商资格，将你单位从数字化服务商黑名单中移除，"
            "并解除原决定依据该规范第十四条采取的不予支付服务费用、追回预付款项等措施。"
            "原决定作出后已终止的服务合同是否重新签订，由合同双方协商确定。",
        ]
    return [
        "你单位申诉理由成立，我局决定予以支持。",
        "撤销该整改案件，不再计入该规范第十三条第（一）项所列整改次数；以该案件为依据提出的取消资格建议一并终止。",
    ]


def appeal_decision_spec(appeal, *, number=None):
    """申诉处理决定书 for a decided appeal. `number` is the decision's document number; the builder allocates it
    when it issues the document, and a preview without one shows the blank of a draft (〔  〕号)."""
    if appeal.status not in (AppealStatus.UPHELD, AppealStatus.REJECTED) or appeal.decided_at is None:
        raise DocumentNotDue("An appeal decision needs an upheld or rejected appeal.")
    provider = appeal.provider
    target = appeal.target
    if number is None:
        number = f"{settings.DOCUMENT_NUMBER_PREFIX}〔{timezone.localdate(appeal.decided_at).year}〕  号"
    context = {
        "addressee": provider.name,
        "appeal": appeal,
        "provider": provider,
        "filed_on": chinese_date(appeal.filed_at),
        "disputed": _disputed(target),
        "appeal_citation": cite_art16(appeal.appeal_type),
        "grounds": sentence(appeal.grounds),
        "requested_deadline": chinese_date(appeal.requested_deadline) if appeal.requested_deadline else "",
        "decision": sentence(appeal.decision),
        "outcome": _outcome(appeal, target),
        "dated_on": chinese_date(appeal.decided_at),
        "title_lines": title_lines("关于", provider.name, "申诉事项的处理决定"),
    }
    return {
        "kind": IssuedDocument.Kind.APPEAL_DECISION,
        "template": "pdf/appeal_decision.html",
        "context": context,
        "number": number,
        "title": f"关于{provider.name}申诉事项的处理决定",
        "recipients": [provider.organisation],
    }


def appeal_decision_pdf(appeal, by):
    appeal_decision_spec(appeal, number="")  # refuses an undecided appeal before a number is taken

    def spec(record):
        # The number of the year the decision was taken, like the date printed under it; taken inside
        # issue_once's transaction, so a failed render gives it back.
        number = document_number_allocate(year=timezone.localdate(record.decided_at).year)
        return appeal_decision_spec(record, number=number)

    return issue_once(spec, appeal, by, IssuedDocument.Kind.APPEAL_DECISION)
