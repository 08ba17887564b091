"""The enterprise dossier (一企一档, Art 6(2)) as an issued PDF, built by a background job.

A dossier runs to tens of pages, so it is not rendered in the request: the page starts a BackgroundJob
(tangshan_portal.jobs) and the requester watches its progress. The PDF holds exactly what the dossier page
shows the requester — the same selectors with the same access level — so a provider's PDF contains its own
contracts with the enterprise and, under the enterprise's written consent, the parts of the dossier the consent
names; never another provider's contracts. Access is decided again when the job runs, so a consent revoked (or
expired) while the job waited in the queue means no PDF.

Every request is a new issue (the dossier changes from one day to the next). It has no recipients: the
requester may download it because the job is theirs (tangshan_portal.documents.documents_visible_to), and
the bureau because it keeps the register of everything issued.
"""

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from enterprises.models import PilotEnterprise
from providers.models import Provider
from tangshan_portal.documents import DocumentError, document_issue
from tangshan_portal.jobs import JobError, job_progress
from tangshan_portal.masking import may_see_personal_data
from tangshan_portal.models import BackgroundJob, IssuedDocument, Organisation

from .selectors import (
    DOSSIER_FULL,
    PROVIDER_ACCESS,
    Dossier,
    dossier_access,
    dossier_complaint_counts,
    dossier_consents_shown,
    dossier_contract_details,
    dossier_contracts,
    dossier_destruction,
    dossier_diagnoses,
    dossier_intentions,
    dossier_is_own,
    dossier_level_history,
    dossier_surveys,
    dossier_trainings,
)

# The regulation's own wording, quoted where the page and the PDF rest on it.
ART_6_1_TARGET = "确保系统能够正常运行并达到二级及以上标准。"
ART_6_2_DOSSIER = "整合生产流程、供应链数据、知识产权等核心信息，形成“一企一档”，为政府决策与企业转型提供数据支撑。"
ART_10_1_PROTECTION = (
    "收集数据遵循最小必要原则，经授权后进行，存储加密并设访问权限，"
    "按约定用途使用，共享需书面同意，结束服务及时安全销毁。"
)
ART_14_FEES = "服务商被清退或未通过验收的，不予支付服务费用，试点企业有权追回该项目预付款项。"

# The sections in the order they are gathered, each with the stage the job page shows while it is read.
# The stage is stored untranslated and translated on the page, in the language of whoever looks at it.
SECTIONS = (
    ("contracts", gettext_noop("Reading the contracts, milestones and acceptance")),
    ("level_history", gettext_noop("Reading the digital-level assessments")),
    ("diagnoses", gettext_noop("Reading the diagnoses")),
    ("surveys", gettext_noop("Reading the deep surveys")),
    ("intentions", gettext_noop("Reading matchmaking")),
    ("trainings", gettext_noop("Reading training")),
    ("complaints", gettext_noop("Reading complaints")),
)
STAGE_RENDER = gettext_noop("Laying out the pages")
STAGE_STORE = gettext_noop("Storing the document")
# Sections, then rendering, then storing.
TOTAL_STEPS = len(SECTIONS) + 2

# Official documents are written in Chinese whatever language the requester browses in; the status labels
# and numbers in the PDF follow the document, not the browser.
DOCUMENT_LANGUAGE = "zh-hans"


def _collectors(user, enterprise, access):
    return {
        "contracts": lambda: dossier_contract_details(dossier_contracts(user, enterprise, access)),
        "level_history": lambda: dossier_level_history(user, enterprise, access),
        "diagnoses": lambda: dossier_diagnoses(user, enterprise, access),
        "surveys": lambda: dossier_surveys(user, enterprise, access),
        "intentions": lambda: dossier_intentions(user, enterprise, access),
        "trainings": lambda: dossier_trainings(user, enterprise, access),
        "complaints": lambda: dossier_complaint_counts(user, enterprise, access),
    }


def dossier_context(enterprise, user, *, progress=None):
    """Everything the dossier page shows this user, for the page and for the PDF alike.

    Raises PermissionDenied when the user may not see the dossier at all (the views answer 404 before
    getting here; the job re-checks at run time). `progress(done, total, stage)` is called before each
    section is read.
    """
    access = dossier_access(user, enterprise)
    if access is None:
        raise PermissionDenied
    collectors = _collectors(user, enterprise, access)
    sections = {}
    for done, (name, stage) in enumerate(SECTIONS):
        if progress:
            progress(done, len(SECTIONS), stage)
        sections[name] = collectors[name]()
    provider = None
    if access in PROVIDER_ACCESS:
        provider = Provider.objects.filter(
            organisation_id=user.organisation_id, organisation__kind=Organisation.Kind.PROVIDER
        ).first()
    return {
        "enterprise": enterprise,
        "dossier": Dossier(
            enterprise=enterprise,
            access=access,
            target_level=settings.ACCEPTANCE_MIN_LEVEL,
            consents=dossier_consents_shown(user, enterprise, access),
            destruction=dossier_destruction(enterprise),
            **sections,
        ),
        "own": dossier_is_own(user, enterprise),
        # The contact phone is personal data: for the enterprise itself, and for full access by a role that
        # contacts people (tangshan_portal.masking); never for a provider.
        "show_contact_phone": access == DOSSIER_FULL
        and (dossier_is_own(user, enterprise) or may_see_personal_data(user)),
        "provider": provider,
        "art_6_1_target": ART_6_1_TARGET,
        "art_6_2_dossier": ART_6_2_DOSSIER,
        "art_10_1_protection": ART_10_1_PROTECTION,
        "art_14_fees": ART_14_FEES,
    }


def dossier_title(enterprise):
    return f"{enterprise.name}“一企一档”"


def dossier_pdf_spec(enterprise, user, *, progress=None):
    """What the dossier PDF says for this user, in the form of the other builders' `*_spec` halves (kind,
    template, context, title, number, recipients); reads only. Render it inside
    `translation.override(DOCUMENT_LANGUAGE)`: the status labels are translated when the template renders.
    `progress(done, total, stage)` is called before each section is read."""
    context = dossier_context(enterprise, user, progress=progress)
    context.update(
        {
            "requester": user,
            "requester_organisation": user.organisation.name if user.organisation_id else "",
        }
    )
    return {
        "kind": IssuedDocument.Kind.DOSSIER,
        "template": "pdf/dossier.html",
        "context": context,
        "title": dossier_title(enterprise),
        "number": "",
        # Nobody is addressed: the requester may download it through the job (see the module docstring).
        "recipients": [],
    }


def dossier_pdf_issue(enterprise, by, *, progress=None):
    """Issue the dossier as `by` may see it (an IssuedDocument of kind DOSSIER, no recipients).

    `progress(done, total, stage)` reports the sections read, then the layout and the storing
    (TOTAL_STEPS in all). Raises PermissionDenied when `by` may not see the dossier.
    """

    def report(done, stage):
        if progress:
            progress(done, TOTAL_STEPS, stage)

    stages = {"render": (len(SECTIONS), STAGE_RENDER), "store": (len(SECTIONS) + 1, STAGE_STORE)}
    with translation.override(DOCUMENT_LANGUAGE):
        spec = dossier_pdf_spec(enterprise, by, progress=lambda done, _total, stage: report(done, stage))
        return document_issue(
            kind=spec["kind"],
            template=spec["template"],
            context=spec["context"],
            target=enterprise,
            by=by,
            title=spec["title"],
            number=spec["number"],
            recipients=spec["recipients"],
            progress=lambda stage: report(*stages[stage]),
        )


def dossier_pdf_job(job):
    """The runner of BackgroundJob.Kind.DOSSIER_PDF (registered in DossiersConfig.ready).

    Access is decided again here, not trusted from the request: a contract may have been terminated, an
    organisation deactivated or an assessor's assignment ended while the job waited in the queue.
    """
    requester = job.requested_by
    enterprise = (
        PilotEnterprise.objects.select_related("county", "organisation")
        .filter(pk=(job.params or {}).get("enterprise"))
        .first()
    )
    access = dossier_access(requester, enterprise) if enterprise is not None else None
    if access is None:
        raise JobError(_("You may no longer see this enterprise's dossier, so its PDF was not made."))
    try:
        doc = dossier_pdf_issue(
            enterprise,
            requester,
            progress=lambda done, total, stage: job_progress(job, done, total, stage),
        )
    except PermissionDenied as exc:
        raise JobError(_("You may no longer see this enterprise's dossier, so its PDF was not made.")) from exc
    except DocumentError as exc:
        # A character no document font can draw (in a name, say): the bureau must correct the record.
        raise JobError(
            _("The PDF could not be made: the dossier contains characters the document fonts cannot print.")
        ) from exc
    BackgroundJob.objects.filter(pk=job.pk).update(document=doc)
    return {"enterprise": enterprise.pk, "access": access, "pages": doc.pages}
