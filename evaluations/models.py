from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_fsm import ConcurrentTransitionMixin, FSMField, transition
from django_fsm_log.decorators import fsm_log_by, fsm_log_description

from enterprises.models import ServiceContract
from providers.models import Provider
from tangshan_portal.grounds import Art12Ground, Art13Ground


def _is_provider_staff(instance, user):
    provider = instance.provider
    return bool(provider.organisation_id) and user.organisation_id == provider.organisation_id


def _is_not_proposer(instance, user):
    return user.has_perm("evaluations.decide_revocation") and instance.proposed_by_id != user.pk


class SatisfactionRating(models.Model):
    """An enterprise's overall satisfaction with its provider on a contract (Art 11, 13(2)).

    Minimal for the rule engine; the survey with its questionnaire items extends it (complaints issue)."""

    class Overall(models.TextChoices):
        SATISFIED = "satisfied", _("Satisfied")
        BASICALLY_SATISFIED = "basically_satisfied", _("Basically satisfied")
        DISSATISFIED = "dissatisfied", _("Dissatisfied")

    contract = models.ForeignKey(
        ServiceContract, verbose_name=_("contract"), on_delete=models.PROTECT, related_name="ratings"
    )
    stage = models.CharField(_("stage"), max_length=50)
    milestone = models.ForeignKey(
        "enterprises.Milestone",
        verbose_name=_("milestone"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ratings",
    )
    overall = models.CharField(_("overall rating"), max_length=30, choices=Overall.choices)
    comment = models.TextField(_("comment"), blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("submitted by"), on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField(_("submitted"))
    voided = models.BooleanField(_("voided"), default=False)
    voided_at = models.DateTimeField(_("voided at"), null=True, blank=True)
    void_reason = models.TextField(_("reason for voiding"), blank=True)

    class Meta:
        ordering = ["-submitted_at"]
        verbose_name = _("satisfaction rating")
        verbose_name_plural = _("satisfaction ratings")
        constraints = [
            models.UniqueConstraint(fields=["contract", "stage"], name="rating_once_per_contract_stage"),
            models.CheckConstraint(
                condition=Q(overall__in=["satisfied", "basically_satisfied", "dissatisfied"]),
                name="rating_overall_valid",
            ),
        ]

    def __str__(self):
        return f"{self.contract.number} {self.stage}: {self.get_overall_display()}"


class RectificationStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    WARNED = "warned", _("Warned")
    RECTIFYING = "rectifying", _("Rectifying")
    RESPONDED = "responded", _("Report submitted")
    RETURNED = "returned", _("Returned for more rectification")
    VERIFIED = "verified", _("Verified and closed")
    OVERDUE = "overdue", _("Overdue")
    WITHDRAWN = "withdrawn", pgettext_lazy("rectification case status", "Withdrawn")


OPEN_RECTIFICATION_STATUSES = (
    RectificationStatus.DRAFT,
    RectificationStatus.WARNED,
    RectificationStatus.RECTIFYING,
    RectificationStatus.RESPONDED,
    RectificationStatus.RETURNED,
    RectificationStatus.OVERDUE,
)
# Cases whose deadline is running: the sweep marks them overdue and reminds the provider.
RUNNING_DEADLINE_STATUSES = (RectificationStatus.RECTIFYING, RectificationStatus.RETURNED)


class RectificationCaseQuerySet(models.QuerySet):
    def counted(self):
        """Art 13(1): a case counts once the rectification was ordered, unless it was withdrawn."""
        return self.filter(ordered_at__isnull=False).exclude(status=RectificationStatus.WITHDRAWN)

    def open(self):
        return self.filter(status__in=OPEN_RECTIFICATION_STATUSES)


class RectificationCase(ConcurrentTransitionMixin, models.Model):
    """Art 12: warning → rectification order with a deadline (≤ RECTIFICATION_DAYS_MAX days) → report →
    verified, or returned, or overdue."""

    provider = models.ForeignKey(
        Provider, verbose_name=_("provider"), on_delete=models.PROTECT, related_name="rectification_cases"
    )
    contract = models.ForeignKey(
        ServiceContract,
        verbose_name=_("contract concerned"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="rectification_cases",
    )
    ground = models.PositiveSmallIntegerField(_("Art 12 ground"), choices=Art12Ground.choices)
    finding = models.TextField(_("finding"))
    status = FSMField(
        _("status"), max_length=20, choices=RectificationStatus.choices, default=RectificationStatus.DRAFT
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("opened by"), on_delete=models.PROTECT, related_name="+"
    )
    opened_at = models.DateTimeField(_("opened"), auto_now_add=True)
    warned_at = models.DateTimeField(_("warning issued"), null=True, blank=True)
    reply_due_at = models.DateTimeField(_("statement due"), null=True, blank=True)
    provider_reply = models.TextField(_("provider's statement"), blank=True)
    replied_at = models.DateTimeField(_("statement received"), null=True, blank=True)
    document_number = models.CharField(_("document number"), max_length=40, null=True, blank=True, unique=True)
    ordered_at = models.DateTimeField(_("rectification ordered"), null=True, blank=True)
    ordered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("ordered by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    deadline = models.DateField(_("deadline"), null=True, blank=True, db_index=True)
    extension_reason = models.TextField(_("reason for a longer deadline"), blank=True)
    report = models.TextField(_("rectification report"), blank=True)
    responded_at = models.DateTimeField(_("report received"), null=True, blank=True)
    return_count = models.PositiveSmallIntegerField(_("times returned"), default=0)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    overdue_at = models.DateTimeField(_("marked overdue"), null=True, blank=True)
    closing_note = models.TextField(_("closing note"), blank=True)

    objects = RectificationCaseQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_at", "-id"]
        verbose_name = _("rectification case")
        verbose_name_plural = _("rectification cases")
        permissions = [
            ("manage_rectification", _("Can open and run rectification cases")),
            ("extend_rectification_deadline", _("Can set a rectification deadline beyond the policy maximum")),
        ]
        indexes = [
            models.Index(fields=["status", "deadline"], name="rectification_sweep_idx"),
            # The lists' order (newest first): their first page is read from the index instead of a sort.
            models.Index(fields=["opened_at", "id"], name="rectification_opened_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(ground__gte=1, ground__lte=6), name="rectification_ground_1_6"),
            models.CheckConstraint(
                condition=Q(status__in=RectificationStatus.values), name="rectification_status_valid"
            ),
            # Once ordered, a case always has its document number and deadline.
            models.CheckConstraint(
                condition=Q(ordered_at__isnull=True) | Q(document_number__isnull=False, deadline__isnull=False),
                name="rectification_order_complete",
            ),
        ]

    def __str__(self):
        return self.document_number or _("Rectification case %(id)s") % {"id": self.pk}

    @property
    def ground_wording(self):
        from tangshan_portal.grounds import cite_art12

        return cite_art12(self.ground)

    @property
    def is_counted(self):
        return self.ordered_at is not None and self.status != RectificationStatus.WITHDRAWN

    # Transitions change this row only; evaluations/services.py does the rest (numbers, notices, standing).

    @fsm_log_by
    @fsm_log_description
    @transition(
        status,
        source=RectificationStatus.DRAFT,
        target=RectificationStatus.WARNED,
        permission="evaluations.manage_rectification",
    )
    def warn(self, by=None, description=None):
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(
        status,
        source=RectificationStatus.WARNED,
        target=RectificationStatus.RECTIFYING,
        permission="evaluations.manage_rectification",
    )
    def order(self, by=None, description=None):
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(
        status,
        source=[RectificationStatus.RECTIFYING, RectificationStatus.RETURNED],
        target=RectificationStatus.RESPONDED,
        permission=_is_provider_staff,
    )
    def respond(self, by=None, description=None):
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(
        status,
        source=RectificationStatus.RESPONDED,
        target=RectificationStatus.VERIFIED,
        permission="evaluations.manage_rectification",
    )
    def verify(self, by=None, description=None):
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(
        status,
        source=RectificationStatus.RESPONDED,
        target=RectificationStatus.RETURNED,
        permission="evaluations.manage_rectification",
    )
    def return_to_provider(self, by=None, description=None):
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(
        status, source=RUNNING_DEADLINE_STATUSES, target=RectificationStatus.OVERDUE, permission=lambda *a: False
    )
    def mark_overdue(self, by=None, description=None):
        """Only the deadline sweep marks a case overdue (set-based, in services.deadlines_check)."""

    @fsm_log_by
    @fsm_log_description
    @transition(
        status, source=RectificationStatus.OVERDUE, target=RectificationStatus.RECTIFYING, permission=lambda *a: False
    )
    def excuse_deadline(self, by=None, description=None):
        """Only an upheld appeal (Art 16(1)) reopens an overdue case, with a new deadline."""

    @fsm_log_by
    @fsm_log_description
    @transition(
        status,
        source=OPEN_RECTIFICATION_STATUSES,
        target=RectificationStatus.WITHDRAWN,
        permission="evaluations.manage_rectification",
    )
    def withdraw(self, by=None, description=None):
        pass


class RevocationStatus(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    APPROVED = "approved", _("Approved")
    DISMISSED = "dismissed", _("Dismissed")
    REVERSED = "reversed", _("Reversed on appeal")


class RevocationCase(ConcurrentTransitionMixin, models.Model):
    """Art 13: a proposal to revoke a provider's qualification, decided by an approver who did not propose it,
    after the provider was told the grounds and had WARNING_REPLY_DAYS to state its case."""

    class Source(models.TextChoices):
        OFFICER = "officer", _("Case officer")
        ENGINE = "engine", _("Rule engine")

    provider = models.ForeignKey(
        Provider, verbose_name=_("provider"), on_delete=models.PROTECT, related_name="revocation_cases"
    )
    ground = models.PositiveSmallIntegerField(_("Art 13 ground"), choices=Art13Ground.choices)
    finding = models.TextField(_("finding"))
    source = models.CharField(_("proposed by"), max_length=10, choices=Source.choices)
    status = FSMField(_("status"), max_length=20, choices=RevocationStatus.choices, default=RevocationStatus.PROPOSED)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("proposing officer"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    proposed_at = models.DateTimeField(_("proposed"))
    statement_due_at = models.DateTimeField(_("statement due"))
    provider_statement = models.TextField(_("provider's statement"), blank=True)
    statement_at = models.DateTimeField(_("statement received"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_reason = models.TextField(_("reasons for the decision"), blank=True)
    decision_number = models.CharField(_("decision number"), max_length=40, null=True, blank=True, unique=True)
    reversed_at = models.DateTimeField(_("reversed"), null=True, blank=True)
    reversal_reason = models.TextField(_("reason for the reversal"), blank=True)

    class Meta:
        ordering = ["-proposed_at", "-id"]
        verbose_name = _("revocation case")
        verbose_name_plural = _("revocation cases")
        permissions = [
            ("propose_revocation", _("Can propose a revocation")),
            ("decide_revocation", _("Can approve or dismiss a revocation")),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(ground__gte=1, ground__lte=9), name="revocation_ground_1_9"),
            models.CheckConstraint(condition=Q(status__in=RevocationStatus.values), name="revocation_status_valid"),
            # The rule engine (and officers) may hold at most one open proposal per provider and ground.
            models.UniqueConstraint(
                fields=["provider", "ground"],
                condition=Q(status="proposed"),
                name="revocation_one_open_per_provider_ground",
            ),
            models.CheckConstraint(
                condition=~Q(status="approved") | Q(decision_number__isnull=False, decided_at__isnull=False),
                name="revocation_approval_complete",
            ),
        ]

    def __str__(self):
        return self.decision_number or _("Revocation proposal %(id)s") % {"id": self.pk}

    @property
    def ground_wording(self):
        from tangshan_portal.grounds import cite_art13

        return cite_art13(self.ground)

    @fsm_log_by
    @fsm_log_description
    @transition(status, source=RevocationStatus.PROPOSED, target=RevocationStatus.APPROVED, permission=_is_not_proposer)
    def approve(self, by=None, description=None):
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(
        status, source=RevocationStatus.PROPOSED, target=RevocationStatus.DISMISSED, permission=_is_not_proposer
    )
    def dismiss(self, by=None, description=None):
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(status, source=RevocationStatus.APPROVED, target=RevocationStatus.REVERSED, permission=lambda *a: False)
    def reverse(self, by=None, description=None):
        """Only an upheld appeal (Art 16(3)) reverses a decision; the record and its number stay."""


class Evidence(models.Model):
    """A record that a case relies on: a complaint, inspection, rating, registration change, contract or
    another case. Appeals against that record block decisions that cite it."""

    rectification_case = models.ForeignKey(
        RectificationCase, on_delete=models.CASCADE, null=True, blank=True, related_name="evidence"
    )
    revocation_case = models.ForeignKey(
        RevocationCase, on_delete=models.CASCADE, null=True, blank=True, related_name="evidence"
    )
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT)
    object_id = models.PositiveBigIntegerField()
    target = GenericForeignKey("content_type", "object_id")
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("evidence")
        verbose_name_plural = _("evidence")
        indexes = [models.Index(fields=["content_type", "object_id"], name="evidence_target_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(rectification_case__isnull=False, revocation_case__isnull=True)
                | Q(rectification_case__isnull=True, revocation_case__isnull=False),
                name="evidence_one_case",
            ),
            models.UniqueConstraint(
                fields=["rectification_case", "content_type", "object_id"], name="evidence_unique_rectification"
            ),
            models.UniqueConstraint(
                fields=["revocation_case", "content_type", "object_id"], name="evidence_unique_revocation"
            ),
        ]

    def __str__(self):
        return f"{self.content_type.name} #{self.object_id}"


class BlacklistEntry(models.Model):
    """The public announcement of an approved revocation (Art 13). Never deleted: an upheld appeal marks it
    removed, with date and reason, and it leaves the public list but stays in history."""

    class Status(models.TextChoices):
        PUBLISHED = "published", _("Published")
        UNDER_APPEAL = "under_appeal", _("Under appeal")
        REMOVED = "removed", _("Removed")

    revocation = models.OneToOneField(
        RevocationCase, verbose_name=_("decision"), on_delete=models.PROTECT, related_name="blacklist_entry"
    )
    provider = models.ForeignKey(
        Provider, verbose_name=_("provider"), on_delete=models.PROTECT, related_name="blacklist_entries"
    )
    # Snapshots: the entry states what was decided, even if the provider later changes its name.
    provider_name = models.CharField(_("provider name"), max_length=200)
    uscc = models.CharField(_("Unified Social Credit Code"), max_length=18, db_index=True)
    ground = models.PositiveSmallIntegerField(_("Art 13 ground"), choices=Art13Ground.choices)
    ground_wording = models.TextField(_("grounds"))
    decision_number = models.CharField(_("decision number"), max_length=40, unique=True)
    decided_on = models.DateField(_("decision date"))
    authority = models.CharField(_("deciding authority"), max_length=100)
    remedy = models.TextField(_("remedy"))
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PUBLISHED)
    published_at = models.DateTimeField(_("published"))
    removed_at = models.DateTimeField(_("removed"), null=True, blank=True)
    removal_reason = models.TextField(_("reason for removal"), blank=True)
    # For incremental sync of the open data (`updated_since`); every change must save this field too.
    updated_at = models.DateTimeField(_("updated"), auto_now=True, db_index=True)

    class Meta:
        ordering = ["-decided_on", "-id"]
        verbose_name = _("blacklist entry")
        verbose_name_plural = _("blacklist entries")
        # The public list's order: its first page is read from the index instead of sorting every entry.
        indexes = [models.Index(fields=["decided_on", "id"], name="blacklist_decided_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["published", "under_appeal", "removed"]), name="blacklist_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status="removed") | Q(removed_at__isnull=False), name="blacklist_removal_dated"
            ),
        ]

    def __str__(self):
        return f"{self.provider_name}（{self.decision_number}）"


class SurveyItem(models.Model):
    """A questionnaire item of the satisfaction survey (Art 11), rated 1–5; maintained by the bureau.
    Items are retired, never deleted, so submitted answers keep their question."""

    text = models.CharField(_("question"), max_length=300)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("in use"), default=True)

    class Meta:
        ordering = ["sort_order", "id"]
        verbose_name = _("survey question")
        verbose_name_plural = _("survey questions")

    def __str__(self):
        return self.text


class SurveyAnswer(models.Model):
    rating = models.ForeignKey(SatisfactionRating, on_delete=models.CASCADE, related_name="answers")
    item = models.ForeignKey(SurveyItem, verbose_name=_("question"), on_delete=models.PROTECT, related_name="+")
    score = models.PositiveSmallIntegerField(_("score (1–5)"))

    class Meta:
        verbose_name = _("survey answer")
        verbose_name_plural = _("survey answers")
        constraints = [
            models.UniqueConstraint(fields=["rating", "item"], name="survey_answer_once"),
            models.CheckConstraint(condition=Q(score__gte=1, score__lte=5), name="survey_score_1_5"),
        ]

    def __str__(self):
        return f"{self.item}: {self.score}"


class Inspection(models.Model):
    """The bureau's tracking of a provider (Art 11): questionnaire, phone interview, site visit or project
    spot check, with findings; an inspection can be the evidence of a case."""

    class Kind(models.TextChoices):
        QUESTIONNAIRE = "questionnaire", _("Questionnaire")
        PHONE = "phone", _("Phone interview")
        SITE_VISIT = "site_visit", _("Site visit")
        SPOT_CHECK = "spot_check", _("Project spot check")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    provider = models.ForeignKey(
        Provider, verbose_name=_("provider"), on_delete=models.PROTECT, related_name="inspections"
    )
    contract = models.ForeignKey(
        ServiceContract,
        verbose_name=_("contract"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="inspections",
    )
    conducted_on = models.DateField(_("date"))
    findings = models.TextField(_("findings"))
    issues_found = models.BooleanField(_("problems found"), default=False)
    conducted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        ordering = ["-conducted_on", "-id"]
        verbose_name = _("inspection")
        verbose_name_plural = _("inspections")
        permissions = [("record_inspection", _("Can record inspections"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["questionnaire", "phone", "site_visit", "spot_check"]),
                name="inspection_kind_valid",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.provider} {self.conducted_on}"


# --- Digital-level assessment (Art 6(1), 9) --------------------------------------------------------------


class LevelStandard(models.Model):
    """A version of the national SME digital-level evaluation standard, loaded from a data file.

    `rule` holds the level rule as data: {"levels": [{"level": 1, "min_score": 20, "min_scenarios_at_level": 0},
    ...]}. A level is reached when the total score and the number of scenarios rated at that level or above
    both meet its minimum; the result is the highest level reached (0 when none)."""

    code = models.SlugField(_("version"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=200)
    published_on = models.DateField(_("published"), null=True, blank=True)
    rule = models.JSONField(_("level rule"))
    is_current = models.BooleanField(_("current version"), default=False)

    class Meta:
        ordering = ["-code"]
        verbose_name = _("digital-level standard")
        verbose_name_plural = _("digital-level standards")
        constraints = [
            models.UniqueConstraint(fields=["is_current"], condition=Q(is_current=True), name="one_current_standard"),
        ]

    def __str__(self):
        return self.name


class LevelDimension(models.TextChoices):
    FOUNDATION = "foundation", _("Digital foundation")
    MANAGEMENT = "management", _("Digital management")
    EFFECT = "effect", _("Digital effect")


class LevelItem(models.Model):
    standard = models.ForeignKey(
        LevelStandard, verbose_name=_("standard"), on_delete=models.CASCADE, related_name="items"
    )
    dimension = models.CharField(_("dimension"), max_length=20, choices=LevelDimension.choices)
    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("indicator"), max_length=100)
    max_points = models.DecimalField(_("maximum points"), max_digits=5, decimal_places=1)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["standard", "sort_order", "code"]
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        constraints = [
            models.UniqueConstraint(fields=["standard", "code"], name="level_item_code_unique"),
            models.CheckConstraint(condition=Q(max_points__gt=0), name="level_item_points_positive"),
        ]

    def __str__(self):
        return self.name


class LevelScenario(models.Model):
    """One of the standard's business scenarios, each rated level 1–4."""

    standard = models.ForeignKey(
        LevelStandard, verbose_name=_("standard"), on_delete=models.CASCADE, related_name="scenarios"
    )
    group = models.CharField(_("business area"), max_length=50)
    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("scenario"), max_length=100)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["standard", "sort_order", "code"]
        verbose_name = _("assessment scenario")
        verbose_name_plural = _("assessment scenarios")
        constraints = [models.UniqueConstraint(fields=["standard", "code"], name="level_scenario_code_unique")]

    def __str__(self):
        return self.name


class AssessorAssignment(models.Model):
    """A third-party support institution assigned to assess an enterprise; assessors see only these."""

    institution = models.ForeignKey(
        "portal.Organisation",
        verbose_name=_("institution"),
        on_delete=models.PROTECT,
        related_name="assessor_assignments",
        limit_choices_to={"kind": "institution"},
    )
    enterprise = models.ForeignKey(
        "enterprises.PilotEnterprise",
        verbose_name=_("enterprise"),
        on_delete=models.PROTECT,
        related_name="assessor_assignments",
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("assigned by"), on_delete=models.PROTECT, related_name="+"
    )
    assigned_at = models.DateTimeField(_("assigned"))
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)

    class Meta:
        ordering = ["-assigned_at"]
        verbose_name = _("assessor assignment")
        verbose_name_plural = _("assessor assignments")
        permissions = [("assign_assessor", _("Can assign assessors to enterprises"))]
        constraints = [
            models.UniqueConstraint(
                fields=["institution", "enterprise"],
                condition=Q(ended_at__isnull=True),
                name="assessor_assignment_once_active",
            ),
        ]

    def __str__(self):
        return f"{self.institution} → {self.enterprise}"


class LevelAssessment(models.Model):
    """A digital-level assessment of an enterprise by an assessor: item scores and scenario levels, from
    which the level is computed by the standard's rule. A final assessment is never edited."""

    class Kind(models.TextChoices):
        BASELINE = "baseline", _("Baseline (before the project)")
        ACCEPTANCE = "acceptance", _("Evaluation acceptance (Art 9)")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        FINAL = "final", _("Final")

    enterprise = models.ForeignKey(
        "enterprises.PilotEnterprise",
        verbose_name=_("enterprise"),
        on_delete=models.PROTECT,
        related_name="level_assessments",
    )
    contract = models.ForeignKey(
        ServiceContract,
        verbose_name=_("contract"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="level_assessments",
        help_text=_("Required for an acceptance assessment."),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    standard = models.ForeignKey(
        LevelStandard, verbose_name=_("standard"), on_delete=models.PROTECT, related_name="assessments"
    )
    institution = models.ForeignKey(
        "portal.Organisation",
        verbose_name=_("institution"),
        on_delete=models.PROTECT,
        related_name="level_assessments",
    )
    assessed_on = models.DateField(_("assessed on"))
    total_score = models.DecimalField(_("total score"), max_digits=5, decimal_places=1, default=0)
    level = models.PositiveSmallIntegerField(_("digital level"), default=0)
    conclusion = models.TextField(_("conclusion"), blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("assessor"), on_delete=models.PROTECT, related_name="+"
    )
    finalised_at = models.DateTimeField(_("finalised"), null=True, blank=True)
    # For an acceptance assessment: the acceptance decision it led to (passed or failed).
    acceptance_passed = models.BooleanField(_("acceptance passed"), null=True, blank=True)

    class Meta:
        ordering = ["-assessed_on", "-id"]
        verbose_name = _("digital-level assessment")
        verbose_name_plural = _("digital-level assessments")
        permissions = [("record_assessment", _("Can record digital-level assessments and evaluation acceptance"))]
        constraints = [
            models.CheckConstraint(condition=Q(level__gte=0, level__lte=4), name="assessment_level_0_4"),
            models.CheckConstraint(
                condition=~Q(kind="acceptance") | Q(contract__isnull=False), name="acceptance_assessment_has_contract"
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(finalised_at__isnull=False), name="final_assessment_dated"
            ),
        ]

    def __str__(self):
        return f"{self.enterprise} · {self.get_kind_display()} · {self.assessed_on}"


class LevelItemScore(models.Model):
    assessment = models.ForeignKey(
        LevelAssessment, verbose_name=_("assessment"), on_delete=models.CASCADE, related_name="item_scores"
    )
    item = models.ForeignKey(LevelItem, verbose_name=_("indicator"), on_delete=models.PROTECT, related_name="+")
    points = models.DecimalField(_("points"), max_digits=5, decimal_places=1)

    class Meta:
        ordering = ["assessment", "item__sort_order"]
        verbose_name = _("indicator score")
        verbose_name_plural = _("indicator scores")
        constraints = [
            models.UniqueConstraint(fields=["assessment", "item"], name="item_score_once"),
            models.CheckConstraint(condition=Q(points__gte=0), name="item_score_not_negative"),
        ]

    def __str__(self):
        return f"{self.item}: {self.points}"


class ScenarioLevel(models.Model):
    assessment = models.ForeignKey(
        LevelAssessment, verbose_name=_("assessment"), on_delete=models.CASCADE, related_name="scenario_levels"
    )
    scenario = models.ForeignKey(LevelScenario, verbose_name=_("scenario"), on_delete=models.PROTECT, related_name="+")
    level = models.PositiveSmallIntegerField(_("level"))

    class Meta:
        ordering = ["assessment", "scenario__sort_order"]
        verbose_name = _("scenario level")
        verbose_name_plural = _("scenario levels")
        constraints = [
            models.UniqueConstraint(fields=["assessment", "scenario"], name="scenario_level_once"),
            # 0 = the scenario does not apply to this enterprise.
            models.CheckConstraint(condition=Q(level__gte=0, level__lte=4), name="scenario_level_0_4"),
        ]

    def __str__(self):
        return f"{self.scenario}: {self.level}"


# --- Excellent providers (Art 15) ------------------------------------------------------------------------------


class ExcellentBatch(models.Model):
    """A batch of excellent providers selected for a period (Art 15). Published batches are public."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")

    name = models.CharField(_("name"), max_length=200)
    period_start = models.DateField(_("period from"))
    period_end = models.DateField(_("period to"))
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.DRAFT)
    document_number = models.CharField(_("document number"), max_length=40, blank=True)
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("published by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True, db_index=True)

    class Meta:
        ordering = ["-period_end", "-id"]
        verbose_name = _("excellent-provider batch")
        verbose_name_plural = _("excellent-provider batches")
        permissions = [("publish_excellent_batch", _("Can approve and publish excellent-provider batches"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")), name="excellent_period_order"
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(published_at__isnull=False), name="excellent_published_dated"
            ),
        ]

    def __str__(self):
        return self.name


class ExcellentEntry(models.Model):
    batch = models.ForeignKey(ExcellentBatch, verbose_name=_("batch"), on_delete=models.CASCADE, related_name="entries")
    provider = models.ForeignKey(
        Provider, verbose_name=_("provider"), on_delete=models.PROTECT, related_name="excellent_entries"
    )
    rank = models.PositiveSmallIntegerField(_("rank"))
    score = models.DecimalField(_("score"), max_digits=6, decimal_places=2, null=True, blank=True)
    citation = models.TextField(_("citation"), blank=True)

    class Meta:
        ordering = ["batch", "rank"]
        verbose_name = _("excellent provider")
        verbose_name_plural = _("excellent providers")
        constraints = [
            models.UniqueConstraint(fields=["batch", "provider"], name="excellent_provider_once_per_batch"),
            models.UniqueConstraint(fields=["batch", "rank"], name="excellent_rank_once_per_batch"),
        ]

    def __str__(self):
        return f"{self.rank}. {self.provider}"
