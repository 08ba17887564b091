from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition
from django_fsm_log.decorators import fsm_log_by, fsm_log_description

from providers.models import Provider
from tangshan_portal.fields import USCCField
from tangshan_portal.models import County, Organisation, Scenario
from tangshan_portal.validators import USCC_DB_REGEX


class EnterpriseSize(models.TextChoices):
    MEDIUM = "medium", _("Medium")
    SMALL = "small", _("Small")
    MICRO = "micro", _("Micro")


class PilotEnterprise(models.Model):
    """A small or medium enterprise in the city's digital-transformation pilot."""

    organisation = models.OneToOneField(
        Organisation,
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="enterprise",
        limit_choices_to={"kind": Organisation.Kind.ENTERPRISE},
        help_text=_("The account organisation whose users act for this enterprise."),
    )
    name = models.CharField(_("name"), max_length=200, db_index=True)
    uscc = USCCField(unique=True)
    county = models.ForeignKey(County, verbose_name=_("county"), on_delete=models.PROTECT, related_name="enterprises")
    industry = models.CharField(_("industry"), max_length=50)
    sub_industry = models.CharField(_("sub-industry"), max_length=80, db_index=True)
    size = models.CharField(_("size"), max_length=10, choices=EnterpriseSize.choices)
    contact_name = models.CharField(_("contact person"), max_length=50, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=30, blank=True)
    baseline_level = models.PositiveSmallIntegerField(
        _("baseline digital level"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(4)],
        help_text=_("Level 1–4 on the national SME digital-level scale, before the pilot."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("pilot enterprise")
        verbose_name_plural = _("pilot enterprises")
        constraints = [
            models.CheckConstraint(condition=Q(uscc__regex=USCC_DB_REGEX), name="enterprise_uscc_format"),
            models.CheckConstraint(
                condition=Q(baseline_level__isnull=True) | Q(baseline_level__gte=1, baseline_level__lte=4),
                name="enterprise_baseline_level_1_4",
            ),
            models.CheckConstraint(condition=Q(size__in=EnterpriseSize.values), name="enterprise_size_valid"),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        if self.organisation_id and self.organisation.kind != Organisation.Kind.ENTERPRISE:
            raise ValidationError({"organisation": _("Choose an organisation of the kind “pilot enterprise”.")})


class ContractStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SIGNED = "signed", _("Signed")
    IN_PROGRESS = "in_progress", _("In progress")
    INTERNALLY_ACCEPTED = "internally_accepted", _("Internally accepted")
    ACCEPTED = "accepted", _("Accepted")
    FAILED = "failed", _("Failed acceptance")
    TERMINATED = "terminated", _("Terminated")


ACTIVE_CONTRACT_STATUSES = (
    ContractStatus.SIGNED,
    ContractStatus.IN_PROGRESS,
    ContractStatus.INTERNALLY_ACCEPTED,
)

MONEY = {"max_digits": 14, "decimal_places": 2, "validators": [MinValueValidator(Decimal("0"))]}


class ServiceContract(ConcurrentTransitionMixin, models.Model):
    """A digital-transformation service contract between a provider and a pilot enterprise (Art 6(1))."""

    number = models.CharField(_("contract number"), max_length=50, unique=True)
    provider = models.ForeignKey(
        Provider, verbose_name=_("provider"), on_delete=models.PROTECT, related_name="contracts"
    )
    enterprise = models.ForeignKey(
        PilotEnterprise, verbose_name=_("enterprise"), on_delete=models.PROTECT, related_name="contracts"
    )
    title = models.CharField(_("project title"), max_length=200)
    amount = models.DecimalField(_("contract amount (yuan)"), **MONEY)
    subsidy = models.DecimalField(_("subsidy (yuan)"), default=Decimal("0"), **MONEY)
    advance_payment = models.DecimalField(_("advance payment (yuan)"), default=Decimal("0"), **MONEY)
    signed_on = models.DateField(_("signed on"), null=True, blank=True)
    start_on = models.DateField(_("starts on"))
    end_on = models.DateField(_("ends on"))
    scenarios = models.ManyToManyField(Scenario, verbose_name=_("scenarios"), blank=True, related_name="contracts")
    status = FSMField(
        _("status"), max_length=30, choices=ContractStatus.choices, default=ContractStatus.DRAFT, db_index=True
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-start_on", "number"]
        verbose_name = _("service contract")
        verbose_name_plural = _("service contracts")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="contract_amount_not_negative"),
            models.CheckConstraint(
                condition=Q(subsidy__gte=0, subsidy__lte=F("amount")), name="contract_subsidy_within_amount"
            ),
            models.CheckConstraint(
                condition=Q(advance_payment__gte=0, advance_payment__lte=F("amount")),
                name="contract_advance_within_amount",
            ),
            models.CheckConstraint(condition=Q(end_on__gte=F("start_on")), name="contract_ends_after_start"),
            models.CheckConstraint(condition=Q(status__in=ContractStatus.values), name="contract_status_valid"),
        ]

    def __str__(self):
        return f"{self.number} {self.title}"

    def clean(self):
        errors = {}
        if self.amount is not None:
            if self.subsidy is not None and self.subsidy > self.amount:
                errors["subsidy"] = _("The subsidy cannot exceed the contract amount.")
            if self.advance_payment is not None and self.advance_payment > self.amount:
                errors["advance_payment"] = _("The advance payment cannot exceed the contract amount.")
        if self.start_on and self.end_on and self.end_on < self.start_on:
            errors["end_on"] = _("The contract cannot end before it starts.")
        if errors:
            raise ValidationError(errors)

    @property
    def provider_outside_pool(self):
        """Art 2: work for a pilot enterprise by a provider that is not in the resource pool is flagged."""
        return not self.provider.is_in_pool

    @fsm_log_by
    @fsm_log_description
    @transition(status, source=ACTIVE_CONTRACT_STATUSES, target=ContractStatus.TERMINATED)
    def terminate(self, by=None, description=None):
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(status, source=ContractStatus.INTERNALLY_ACCEPTED, target=ContractStatus.FAILED)
    def fail_acceptance(self, by=None, description=None):
        pass


class Milestone(models.Model):
    """A contract milestone with its planned date and weight; the provider reports progress against it."""

    contract = models.ForeignKey(
        ServiceContract, verbose_name=_("contract"), on_delete=models.CASCADE, related_name="milestones"
    )
    name = models.CharField(_("name"), max_length=200)
    planned_on = models.DateField(_("planned date"))
    weight = models.PositiveSmallIntegerField(
        _("weight (%)"), validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    reported_progress = models.PositiveSmallIntegerField(
        _("reported progress (%)"), default=0, validators=[MaxValueValidator(100)]
    )
    reported_at = models.DateTimeField(_("progress reported"), null=True, blank=True)

    class Meta:
        ordering = ["contract", "planned_on", "id"]
        verbose_name = _("milestone")
        verbose_name_plural = _("milestones")
        constraints = [
            models.CheckConstraint(condition=Q(weight__gte=1, weight__lte=100), name="milestone_weight_1_100"),
            models.CheckConstraint(condition=Q(reported_progress__lte=100), name="milestone_progress_0_100"),
        ]

    def __str__(self):
        return self.name


class FeeConsequence(models.Model):
    """Art 14: after a revocation or a failed acceptance no service fee is paid and the enterprise may
    recover the advance payment. Kept as a record (never deleted) so that an upheld appeal can lift it."""

    class Cause(models.TextChoices):
        REVOCATION = "revocation", _("Provider's qualification revoked")
        FAILED_ACCEPTANCE = "failed_acceptance", _("Project failed acceptance")

    contract = models.ForeignKey(
        ServiceContract, verbose_name=_("contract"), on_delete=models.PROTECT, related_name="fee_consequences"
    )
    cause = models.CharField(_("cause"), max_length=20, choices=Cause.choices)
    decision_reference = models.CharField(_("decision"), max_length=100, blank=True)
    fee_withheld = models.BooleanField(_("unpaid service fee withheld"), default=True)
    advance_recoverable = models.DecimalField(_("advance payment recoverable (yuan)"), **MONEY)
    decided_at = models.DateTimeField(_("decided"))
    lifted_at = models.DateTimeField(_("lifted"), null=True, blank=True)
    lift_reason = models.TextField(_("reason for lifting"), blank=True)

    class Meta:
        ordering = ["-decided_at"]
        verbose_name = _("fee consequence (Art 14)")
        verbose_name_plural = _("fee consequences (Art 14)")
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "cause", "decision_reference"], name="fee_consequence_once_per_decision"
            ),
        ]

    def __str__(self):
        return f"{self.contract.number} {self.get_cause_display()}"
