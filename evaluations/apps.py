from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _

# The satisfaction survey's starting questions; the bureau edits them in the admin afterwards.
DEFAULT_SURVEY_ITEMS = [
    "服务响应及时性",
    "服务人员专业能力",
    "解决方案与企业需求的契合度",
    "项目实施质量与进度",
    "沟通协调与问题处理",
]


class EvaluationsConfig(AppConfig):
    name = "evaluations"
    verbose_name = _("Supervision and evaluation")

    def ready(self):
        from enterprises.selectors import register_assigned_enterprises

        register_assigned_enterprises(_assigned_enterprises)
        post_migrate.connect(_default_survey_items, sender=self, dispatch_uid="evaluations_survey_items")
        post_migrate.connect(_level_standards, sender=self, dispatch_uid="evaluations_level_standards")
        _register_due_documents()


def _register_due_documents():
    """The decided records that must carry a document; the sweep issues any that a decision failed to."""
    from tangshan_portal.documents import register_due_documents
    from tangshan_portal.models import IssuedDocument

    from . import documents
    from .models import BlacklistEntry, ExcellentBatch, LevelAssessment, RectificationCase, RevocationCase

    kind = IssuedDocument.Kind
    register_due_documents(
        kind.RECTIFICATION_NOTICE,
        lambda: RectificationCase.objects.exclude(document_number="").exclude(deadline=None).exclude(status="draft"),
        documents.rectification_notice_pdf,
    )
    register_due_documents(
        kind.REVOCATION_DECISION,
        lambda: RevocationCase.objects.filter(status="approved").exclude(decision_number="").exclude(decided_at=None),
        documents.revocation_decision_pdf,
    )
    register_due_documents(
        kind.BLACKLIST_ANNOUNCEMENT,
        lambda: BlacklistEntry.objects.exclude(status=BlacklistEntry.Status.REMOVED).exclude(published_at=None),
        documents.blacklist_announcement_pdf,
    )
    register_due_documents(
        kind.EXCELLENT_LIST,
        lambda: ExcellentBatch.objects.filter(status=ExcellentBatch.Status.PUBLISHED).exclude(published_at=None),
        documents.excellent_list_pdf,
    )
    register_due_documents(
        kind.EVALUATION_ACCEPTANCE,
        lambda: LevelAssessment.objects.filter(
            kind=LevelAssessment.Kind.ACCEPTANCE, status=LevelAssessment.Status.FINAL, contract__isnull=False
        ).exclude(acceptance_passed=None),
        documents.evaluation_acceptance_pdf,
    )


def _default_survey_items(sender, using, **kwargs):
    # Also after a flush (which empties the table): a survey without questions cannot be submitted.
    from .models import SurveyItem

    if not SurveyItem.objects.using(using).exists():
        SurveyItem.objects.using(using).bulk_create(
            SurveyItem(text=text, sort_order=order) for order, text in enumerate(DEFAULT_SURVEY_ITEMS, start=1)
        )


def _level_standards(sender, using, **kwargs):
    from .services_levels import level_standards_sync

    level_standards_sync(using=using)


def _assigned_enterprises(institution_id):
    from .models import AssessorAssignment

    return AssessorAssignment.objects.filter(institution_id=institution_id, ended_at__isnull=True).values(
        "enterprise_id"
    )
