from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_fsm import ConcurrentTransitionMixin, FSMField, transition
from django_fsm_log.decorators import fsm_log_by, fsm_log_description

from enterprises.models import PilotEnterprise, ServiceContract
from evaluations.models import RectificationCase, RevocationCase
from providers.models import Provider
from tangshan_portal.grounds import Art12Ground, Art13Ground


def _can_handle(instance, user):
    return user.has_perm("complaints.handle_complaint")


def _can_review(instance, user):
    return user.has_perm("complaints.review_appeal")


class ComplaintCategory(models.TextChoices):
    SERVICE = "service", _("Team, engagement or service does not meet the contract")
    SOLUTION_OR_PRICE = "solution_or_price", _("Solution, procurement list or prices")
    RESULTS = "results", _("Results deviate from the plan")
    NON_COOPERATION = "non_cooperation", _("Refuses to cooperate with evaluation or supervision")
    DATA_LEAK = "data_leak", _("Leak of trade secrets, core technology or sensitive data")
    FRAUD = "fraud", _("Forged contracts, sham transactions or fund fraud")
    UNFAIR_COMPETITION = "unfair_competition", _("Unfair competition or harming the enterprise")
    FALSE_ADVERTISING = "false_advertising", _("False advertising or mismatched products")
    OTHER = "other", _("Other")


# What a substantiated complaint of each category opens: a rectification case on an Art 12 ground, or a
# revocation proposal on an Art 13 ground (the serious categories the regulation lists in Art 13).
CATEGORY_GROUNDS = {
    ComplaintCategory.SERVICE: ("rectification", Art12Ground.SERVICE_FAILURE),
    ComplaintCategory.SOLUTION_OR_PRICE: ("rectification", Art12Ground.SOLUTION_OR_PRICE),
    ComplaintCategory.RESULTS: ("rectification", Art12Ground.RESULT_DEVIATION),
    ComplaintCategory.NON_COOPERATION: ("rectification", Art12Ground.NON_COOPERATION),
    ComplaintCategory.DATA_LEAK: ("revocation", Art13Ground.LEAK),
    ComplaintCategory.FRAUD: ("revocation", Art13Ground.FRAUD),
    ComplaintCategory.UNFAIR_COMPETITION: ("revocation", Art13Ground.UNFAIR_COMPETITION),
    ComplaintCategory.FALSE_ADVERTISING: ("revocation", Art13Ground.FALSE_ADVERTISING),
    ComplaintCategory.OTHER: ("rectification", Art12Ground.OTHER),
}


class ComplaintStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    ACCEPTED = "accepted", pgettext_lazy("complaint status", "Accepted")
    REJECTED = "rejected", _("Not accepted")
    INVESTIGATING = "investigating", _("Under investigation")
    SUBSTANTIATED = "substantiated", _("Substantiated")
    UNSUBSTANTIATED = "unsubstantiated", _("Not substantiated")


OPEN_COMPLAINT_STATUSES = (ComplaintStatus.SUBMITTED, ComplaintStatus.ACCEPTED, ComplaintStatus.INVESTIGATING)


class Complaint(ConcurrentTransitionMixin, models.Model):
    """A pilot enterprise's complaint about a provider to the bureau (Art 11)."""

    enterprise = models.ForeignKey(
        PilotEnterprise, verbose_name=_("enterprise"), on_delete=models.PROTECT, related_name="complaints"
    )
    provider = models.ForeignKey(
        Provider, verbose_name=_("provider"), on_delete=models.PROTECT, related_name="complaints"
    )
    contract = models.ForeignKey(
        ServiceContract,
        verbose_name=_("contract"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="complaints",
    )
    category = models.CharField(_("category"), max_length=30, choices=ComplaintCategory.choices)
    description = models.TextField(_("description"))
    protect_identity = models.BooleanField(
        _("keep our identity from the provider"),
        default=False,
        help_text=_("The bureau still knows who complained; the provider sees the complaint without your name."),
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("submitted by"), on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField(_("submitted"))
    acknowledge_by = models.DateField(_("to be acknowledged by"))
    resolve_by = models.DateField(_("to be resolved by"))
    status = FSMField(_("status"), max_length=20, choices=ComplaintStatus.choices, default=ComplaintStatus.SUBMITTED)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handled by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    conclusion = models.TextField(_("conclusion"), blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    provider_response = models.TextField(_("provider's response"), blank=True)
    provider_responded_at = models.DateTimeField(_("response received"), null=True, blank=True)
    rectification_case = models.ForeignKey(
        RectificationCase,
        verbose_name=_("rectification case opened"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="complaints",
    )
    revocation_case = models.ForeignKey(
        RevocationCase,
        verbose_name=_("revocation proposal opened"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="complaints",
    )

    class Meta:
        ordering = ["-submitted_at", "-id"]
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")
        permissions = [("handle_complaint", _("Can handle complaints"))]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=ComplaintStatus.values), name="complaint_status_valid"),
            models.CheckConstraint(condition=Q(category__in=ComplaintCategory.values), name="complaint_category_valid"),
            models.CheckConstraint(condition=Q(resolve_by__gte=models.F("acknowledge_by")), name="complaint_due_order"),
        ]

    def __str__(self):
        return _("Complaint %(id)s") % {"id": self.pk}

    @fsm_log_by
    @fsm_log_description
    @transition(status, source=ComplaintStatus.SUBMITTED, target=ComplaintStatus.ACCEPTED, permission=_can_handle)
    def accept(self, by=None, description=None):
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(status, source=ComplaintStatus.SUBMITTED, target=ComplaintStatus.REJECTED, permission=_can_handle)
    def reject(self, by=None, description=None):
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(status, source=ComplaintStatus.ACCEPTED, target=ComplaintStatus.INVESTIGATING, permission=_can_handle)
    def investigate(self, by=None, description=None):
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(
        status, source=ComplaintStatus.INVESTIGATING, target=ComplaintStatus.SUBSTANTIATED, permission=_can_handle
    )
    def substantiate(self, by=None, description=None):
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(
        status, source=ComplaintStatus.INVESTIGATING, target=ComplaintStatus.UNSUBSTANTIATED, permission=_can_handle
    )
    def find_unsubstantiated(self, by=None, description=None):
        pass


class AppealType(models.IntegerChoices):
    DIAGNOSIS_DELAYED = 1, _("Art 16(1) the enterprise delayed the diagnosis, so a deadline was missed")
    DISSATISFIED_RATING = 2, _("Art 16(2) objection to a “dissatisfied” rating")
    REVOCATION = 3, _("Art 16(3) objection to the grounds of a revocation or blacklisting")
    OTHER = 4, _("Art 16(4) other")


class AppealStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    UNDER_REVIEW = "under_review", _("Under review")
    UPHELD = "upheld", _("Upheld")
    REJECTED = "rejected", pgettext_lazy("appeal status", "Rejected")


PENDING_APPEAL_STATUSES = (AppealStatus.SUBMITTED, AppealStatus.UNDER_REVIEW)


class Appeal(ConcurrentTransitionMixin, models.Model):
    """A provider's appeal (Art 16) against one disputed record: a rectification case (its deadline or the
    case itself), a satisfaction rating, or a revocation decision and its blacklist entry."""

    provider = models.ForeignKey(Provider, verbose_name=_("provider"), on_delete=models.PROTECT, related_name="appeals")
    appeal_type = models.PositiveSmallIntegerField(_("type"), choices=AppealType.choices)
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT)
    object_id = models.PositiveBigIntegerField()
    target = GenericForeignKey("content_type", "object_id")
    grounds = models.TextField(_("grounds of the appeal"))
    requested_deadline = models.DateField(
        _("requested new deadline"),
        null=True,
        blank=True,
        help_text=_("For a missed deadline: the deadline you ask for."),
    )
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("filed by"), on_delete=models.PROTECT, related_name="+"
    )
    filed_at = models.DateTimeField(_("filed"))
    status = FSMField(_("status"), max_length=20, choices=AppealStatus.choices, default=AppealStatus.SUBMITTED)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewer"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    review_started_at = models.DateTimeField(_("review started"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision = models.TextField(_("decision"), blank=True)
    granted_deadline = models.DateField(_("new deadline granted"), null=True, blank=True)

    class Meta:
        ordering = ["-filed_at", "-id"]
        verbose_name = _("appeal")
        verbose_name_plural = _("appeals")
        permissions = [("review_appeal", _("Can review appeals"))]
        indexes = [models.Index(fields=["content_type", "object_id", "status"], name="appeal_target_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(appeal_type__gte=1, appeal_type__lte=4), name="appeal_type_1_4"),
            models.CheckConstraint(condition=Q(status__in=AppealStatus.values), name="appeal_status_valid"),
            # One pending appeal per disputed record: a second one would decide the same question twice.
            models.UniqueConstraint(
                fields=["content_type", "object_id"],
                condition=Q(status__in=["submitted", "under_review"]),
                name="appeal_one_pending_per_target",
            ),
        ]

    def __str__(self):
        return _("Appeal %(id)s") % {"id": self.pk}

    @fsm_log_by
    @fsm_log_description
    @transition(status, source=AppealStatus.SUBMITTED, target=AppealStatus.UNDER_REVIEW, permission=_can_review)
    def start_review(self, by=None, description=None):
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(status, source=AppealStatus.UNDER_REVIEW, target=AppealStatus.UPHELD, permission=_can_review)
    def uphold(self, by=None, description=None):
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(status, source=AppealStatus.UNDER_REVIEW, target=AppealStatus.REJECTED, permission=_can_review)
    def reject(self, by=None, description=None):
        pass
