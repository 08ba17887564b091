"""The internal acceptance certificate (内部验收证明, Art 8), and what the document builders of the apps above
share: the level names and the money format (DocumentNotDue and the title and sentence helpers are in
tangshan_portal.documents).

A builder has two halves. `<kind>_spec(record)` reads the record and returns what the document says (template,
context, title, number, recipients) or raises DocumentNotDue while the record is not decided; it writes
nothing, so `manage.py render_samples` renders from it without touching the register. `<kind>_pdf(record, by)`
issues it (tangshan_portal.documents.document_issue) unless it was issued already: a service calls the builder
after its decision commits, and the admin may call it again after a failed render, so a second call must
return the first document rather than a second, differently coded one.
"""

from django.contrib.contenttypes.models import ContentType

from tangshan_portal.documents import DocumentNotDue, chinese_date, issue_once, sentence, title_lines
from tangshan_portal.models import Attachment, IssuedDocument

from .models import InternalAcceptance

LEVEL_NAMES = {1: "一级", 2: "二级", 3: "三级", 4: "四级"}


def level_name(level):
    """The national digital-level scale in words; 0 means no level was reached."""
    return LEVEL_NAMES.get(level or 0, "未达到一级")


def money(amount):
    return f"{amount:,.2f}元" if amount is not None else ""


def _signature(user, when):
    return f"{user}（{chinese_date(when)}）" if user is not None and when is not None else ""


def internal_acceptance_spec(acceptance):
    """内部验收证明: the record both parties signed, and the documents they archived with it."""
    if acceptance.status != InternalAcceptance.Status.SIGNED or acceptance.enterprise_signed_at is None:
        raise DocumentNotDue("An internal acceptance certificate needs the signatures of both parties.")
    contract = acceptance.contract
    provider, enterprise = contract.provider, contract.enterprise
    archived = Attachment.objects.filter(
        content_type=ContentType.objects.get_for_model(acceptance), object_id=acceptance.pk
    ).values_list("original_name", flat=True)
    context = {
        "addressees": [provider.name, enterprise.name],
        "contract": contract,
        "provider": provider,
        "enterprise": enterprise,
        "acceptance": acceptance,
        "held_on": chinese_date(acceptance.held_on),
        "participants": acceptance.participants.strip(),
        "conclusion": sentence(acceptance.conclusion),
        "amount": money(contract.amount),
        "period": f"{chinese_date(contract.start_on)}至{chinese_date(contract.end_on)}",
        "provider_signature": _signature(acceptance.provider_signed_by, acceptance.provider_signed_at),
        "enterprise_signature": _signature(acceptance.enterprise_signed_by, acceptance.enterprise_signed_at),
        "archived": list(archived),
        # The certificate is dated when the second signature completed the record, not when it is rendered.
        "dated_on": chinese_date(acceptance.enterprise_signed_at),
        "title_lines": title_lines(contract.title, "内部验收证明"),
    }
    return {
        "kind": IssuedDocument.Kind.INTERNAL_ACCEPTANCE,
        "template": "pdf/internal_acceptance.html",
        "context": context,
        "title": f"{contract.title}内部验收证明",
        # A certificate of a record, not a decision of the bureau: it carries no document number (发文字号).
        "number": "",
        "recipients": [provider.organisation, enterprise.organisation],
    }


def internal_acceptance_pdf(acceptance, by):
    return issue_once(internal_acceptance_spec, acceptance, by, IssuedDocument.Kind.INTERNAL_ACCEPTANCE)
