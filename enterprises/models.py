from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition
from django_fsm_log.decorators import fsm_log_by, fsm_log_description

from providers.models import Product, Provider
from tangshan_portal.fields import EncryptedCharField, EncryptedTextField, USCCField
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
    # Personal data, encrypted at rest (Art 10(1)); never searched or filtered on.
    contact_phone = EncryptedCharField(_("contact phone"), max_length=30, blank=True)
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
    # The service plan (Art 10(2)): goals, content, process and deliverables, with quality control and the
    # operation-and-maintenance commitment after the pilot (Art 10(3)).
    plan_goals = models.TextField(_("goals"), blank=True)
    plan_content = models.TextField(_("service content"), blank=True)
    plan_process = models.TextField(_("implementation process"), blank=True)
    plan_deliverables = models.TextField(_("deliverables"), blank=True)
    quality_control = models.TextField(_("quality control and periodic evaluation"), blank=True)
    maintenance_commitment = models.TextField(_("operation and maintenance after the pilot"), blank=True)
    nda_signed_on = models.DateField(
        _("confidentiality agreement signed on"),
        null=True,
        blank=True,
        help_text=_("Art 10(2): the signed agreement is kept on file as an attachment."),
    )
    submitted_at = models.DateTimeField(_("submitted for signing"), null=True, blank=True)
    status = FSMField(
        _("status"), max_length=30, choices=ContractStatus.choices, default=ContractStatus.DRAFT, db_index=True
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-start_on", "number"]
        verbose_name = _("service contract")
        verbose_name_plural = _("service contracts")
        # The lists' order: their first page is read from the index instead of sorting every contract.
        indexes = [models.Index(fields=["-start_on", "number"], name="contract_list_order_idx")]
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
    @transition(status, source=ContractStatus.DRAFT, target=ContractStatus.SIGNED)
    def sign(self, by=None, description=None):
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(status, source=ContractStatus.SIGNED, target=ContractStatus.IN_PROGRESS)
    def start(self, by=None, description=None):
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(status, source=ContractStatus.IN_PROGRESS, target=ContractStatus.INTERNALLY_ACCEPTED)
    def accept_internally(self, by=None, description=None):
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(status, source=ContractStatus.INTERNALLY_ACCEPTED, target=ContractStatus.ACCEPTED)
    def accept(self, by=None, description=None):
        pass

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


def _user_fk(verbose_name, *, null=False):
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=verbose_name,
        on_delete=models.PROTECT,
        null=null,
        blank=null,
        related_name="+",
    )


# --- Procurement list (Art 12(3), 13(8)) ----------------------------------------------------------------


class ProcurementItem(models.Model):
    """One line of a contract's procurement list: what is bought, why, how many and at what price.

    The price flags are written by the service that saves the line, from the reference market price and the
    provider's own list price at that moment, so that a later list-price change does not rewrite history.
    """

    contract = models.ForeignKey(
        ServiceContract, verbose_name=_("contract"), on_delete=models.CASCADE, related_name="procurement_items"
    )
    product = models.ForeignKey(
        Product,
        verbose_name=_("catalogue product"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="procurement_items",
    )
    name = models.CharField(_("item"), max_length=200)
    function = models.TextField(_("function"))
    purpose = models.TextField(_("purpose"))
    quantity = models.DecimalField(
        _("quantity"), max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    unit = models.CharField(_("unit"), max_length=20)
    unit_price = models.DecimalField(_("unit price (yuan)"), **MONEY)
    reference_price = models.DecimalField(
        _("reference market price (yuan)"),
        null=True,
        blank=True,
        help_text=_("The usual market price of the same item, for the Art 12(3) price check."),
        **MONEY,
    )
    list_price_at_entry = models.DecimalField(
        _("list price when entered (yuan)"), null=True, blank=True, max_digits=14, decimal_places=2
    )
    above_reference = models.BooleanField(_("above the reference price"), default=False)
    above_list_price = models.BooleanField(_("above the provider's list price"), default=False)

    class Meta:
        ordering = ["contract", "id"]
        verbose_name = _("procurement item")
        verbose_name_plural = _("procurement list")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="procurement_quantity_positive"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="procurement_price_not_negative"),
        ]

    def __str__(self):
        return self.name

    @property
    def total(self):
        return (self.quantity or 0) * (self.unit_price or 0)

    @property
    def flagged(self):
        return self.above_reference or self.above_list_price


# --- Progress, changes and internal acceptance (Art 6(3), 8) ---------------------------------------------


class ProgressReport(models.Model):
    """A provider's regular progress report to the enterprise (Art 6(3)). The milestone's progress counts
    for the schedule check only once the enterprise has acknowledged the report."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("Awaiting the enterprise")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged by the enterprise")
        DISPUTED = "disputed", _("Disputed by the enterprise")

    contract = models.ForeignKey(
        ServiceContract, verbose_name=_("contract"), on_delete=models.PROTECT, related_name="progress_reports"
    )
    milestone = models.ForeignKey(
        Milestone, verbose_name=_("milestone"), on_delete=models.PROTECT, related_name="progress_reports"
    )
    progress = models.PositiveSmallIntegerField(_("milestone progress (%)"), validators=[MaxValueValidator(100)])
    summary = models.TextField(_("work done"))
    problems = models.TextField(_("problems and proposed solutions"), blank=True)
    next_steps = models.TextField(_("next steps"), blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.SUBMITTED)
    submitted_by = _user_fk(_("submitted by"))
    submitted_at = models.DateTimeField(_("submitted"))
    responded_by = _user_fk(_("answered by"), null=True)
    responded_at = models.DateTimeField(_("answered"), null=True, blank=True)
    enterprise_comment = models.TextField(_("enterprise's comment"), blank=True)

    class Meta:
        ordering = ["-submitted_at", "-id"]
        verbose_name = _("progress report")
        verbose_name_plural = _("progress reports")
        constraints = [
            models.CheckConstraint(condition=Q(progress__lte=100), name="progress_report_0_100"),
            models.CheckConstraint(
                condition=Q(status="submitted") | Q(responded_at__isnull=False), name="progress_report_answer_dated"
            ),
            models.CheckConstraint(
                condition=~Q(status="disputed") | ~Q(enterprise_comment=""), name="progress_dispute_has_reason"
            ),
        ]

    def __str__(self):
        return f"{self.contract.number} · {self.milestone} · {self.progress}%"


class ChangeRequest(models.Model):
    """A change to the contract's content, schedule or amount, which the enterprise must agree to (Art 6(3))."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("Awaiting the enterprise")
        AGREED = "agreed", _("Agreed by the enterprise")
        DECLINED = "declined", _("Declined by the enterprise")
        WITHDRAWN = "withdrawn", _("Withdrawn by the provider")

    contract = models.ForeignKey(
        ServiceContract, verbose_name=_("contract"), on_delete=models.PROTECT, related_name="change_requests"
    )
    description = models.TextField(_("proposed change"))
    reason = models.TextField(_("reason"))
    new_end_on = models.DateField(_("new end date"), null=True, blank=True)
    new_amount = models.DecimalField(_("new contract amount (yuan)"), null=True, blank=True, **MONEY)
    previous_end_on = models.DateField(_("end date before"), null=True, blank=True)
    previous_amount = models.DecimalField(
        _("amount before (yuan)"), null=True, blank=True, max_digits=14, decimal_places=2
    )
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PROPOSED)
    proposed_by = _user_fk(_("proposed by"))
    proposed_at = models.DateTimeField(_("proposed"))
    decided_by = _user_fk(_("decided by"), null=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    enterprise_comment = models.TextField(_("enterprise's comment"), blank=True)

    class Meta:
        ordering = ["-proposed_at", "-id"]
        verbose_name = _("change request")
        verbose_name_plural = _("change requests")
        constraints = [
            models.CheckConstraint(
                condition=Q(status="proposed") | Q(decided_at__isnull=False), name="change_request_decision_dated"
            ),
        ]

    def __str__(self):
        return f"{self.contract.number} · {self.proposed_at:%Y-%m-%d}"


class InternalAcceptance(models.Model):
    """The internal acceptance held jointly by provider and enterprise after completion (Art 8).

    The provider prepares and signs it with the archived implementation and acceptance documents; the
    enterprise signs or refuses with a reason. A refused record stays; the provider prepares a new one."""

    class Status(models.TextChoices):
        AWAITING_ENTERPRISE = "awaiting_enterprise", _("Signed by the provider, awaiting the enterprise")
        SIGNED = "signed", _("Signed by both sides")
        REFUSED = "refused", _("Refused by the enterprise")

    contract = models.ForeignKey(
        ServiceContract,
        verbose_name=_("contract"),
        on_delete=models.PROTECT,
        related_name="internal_acceptances",
    )
    held_on = models.DateField(_("held on"))
    participants = models.TextField(_("participants"))
    conclusion = models.TextField(_("conclusion"))
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.AWAITING_ENTERPRISE)
    provider_signed_by = _user_fk(_("signed for the provider by"))
    provider_signed_at = models.DateTimeField(_("provider signed"))
    enterprise_signed_by = _user_fk(_("answered for the enterprise by"), null=True)
    enterprise_signed_at = models.DateTimeField(_("enterprise answered"), null=True, blank=True)
    refusal_reason = models.TextField(_("reason for refusal"), blank=True)

    class Meta:
        ordering = ["-provider_signed_at", "-id"]
        verbose_name = _("internal acceptance")
        verbose_name_plural = _("internal acceptances")
        constraints = [
            models.UniqueConstraint(
                fields=["contract"],
                condition=Q(status__in=["awaiting_enterprise", "signed"]),
                name="internal_acceptance_one_live_per_contract",
            ),
            models.CheckConstraint(
                condition=~Q(status="refused") | ~Q(refusal_reason=""), name="internal_acceptance_refusal_reason"
            ),
        ]

    def __str__(self):
        return f"{self.contract.number} · {self.held_on}"


# --- Diagnosis (Art 5) and the dossier survey (Art 6(2)) -------------------------------------------------


class DiagnosisReport(models.Model):
    """A free consulting diagnosis of one enterprise (Art 5), organised by the scenario families."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")

    enterprise = models.ForeignKey(
        PilotEnterprise, verbose_name=_("enterprise"), on_delete=models.PROTECT, related_name="diagnoses"
    )
    provider = models.ForeignKey(
        Provider, verbose_name=_("provider"), on_delete=models.PROTECT, related_name="diagnoses"
    )
    diagnosed_on = models.DateField(_("diagnosed on"))
    # The diagnosis describes the enterprise's operations: confidential (Art 10(1)), encrypted at rest.
    summary = EncryptedTextField(_("overall assessment"))
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.DRAFT)
    created_by = _user_fk(_("written by"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)

    class Meta:
        ordering = ["-diagnosed_on", "-id"]
        verbose_name = _("diagnosis report")
        verbose_name_plural = _("diagnosis reports")

    def __str__(self):
        return f"{self.enterprise} · {self.diagnosed_on}"


class DiagnosisFinding(models.Model):
    class Priority(models.TextChoices):
        HIGH = "high", _("High")
        MEDIUM = "medium", _("Medium")
        LOW = "low", _("Low")

    report = models.ForeignKey(
        DiagnosisReport, verbose_name=_("diagnosis report"), on_delete=models.CASCADE, related_name="findings"
    )
    scenario = models.ForeignKey(Scenario, verbose_name=_("scenario"), on_delete=models.PROTECT, related_name="+")
    current_state = EncryptedTextField(_("current state"))
    recommendation = EncryptedTextField(_("recommended retrofit"))
    priority = models.CharField(_("priority"), max_length=10, choices=Priority.choices, default=Priority.MEDIUM)

    class Meta:
        ordering = ["report", "scenario__sort_order", "id"]
        verbose_name = _("diagnosis finding")
        verbose_name_plural = _("diagnosis findings")
        constraints = [
            models.UniqueConstraint(fields=["report", "scenario"], name="finding_one_per_scenario"),
        ]

    def __str__(self):
        return str(self.scenario)


class DossierSurvey(models.Model):
    """The provider's deep survey of the enterprise for the one-enterprise-one-dossier (Art 6(2)): the core
    information that government decisions rest on and that Art 10(1) protects."""

    enterprise = models.ForeignKey(
        PilotEnterprise, verbose_name=_("enterprise"), on_delete=models.PROTECT, related_name="dossier_surveys"
    )
    contract = models.ForeignKey(
        ServiceContract, verbose_name=_("contract"), on_delete=models.PROTECT, related_name="dossier_surveys"
    )
    surveyed_on = models.DateField(_("surveyed on"))
    # The enterprise's trade secrets (Art 10(1)): encrypted at rest.
    production_process = EncryptedTextField(_("production process"))
    supply_chain = EncryptedTextField(_("supply-chain data"))
    intellectual_property = EncryptedTextField(_("intellectual property"), blank=True)
    other_core_information = EncryptedTextField(_("other core information"), blank=True)
    created_by = _user_fk(_("written by"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-surveyed_on", "-id"]
        verbose_name = _("dossier survey")
        verbose_name_plural = _("dossier surveys")

    def __str__(self):
        return f"{self.enterprise} · {self.surveyed_on}"


# --- Matchmaking (Art 4) and training (Art 7) -------------------------------------------------------------


class MatchmakingEvent(models.Model):
    """A supply–demand matchmaking event (供需对接会) held by a county bureau (Art 4)."""

    county = models.ForeignKey(County, verbose_name=_("county"), on_delete=models.PROTECT, related_name="events")
    title = models.CharField(_("title"), max_length=200)
    held_on = models.DateField(_("date"))
    venue = models.CharField(_("venue"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    created_by = _user_fk(_("created by"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-held_on", "-id"]
        verbose_name = _("matchmaking event")
        verbose_name_plural = _("matchmaking events")

    def __str__(self):
        return f"{self.held_on} {self.title}"


class EventAttendance(models.Model):
    """A provider or an enterprise registered for, and possibly present at, a matchmaking event."""

    event = models.ForeignKey(
        MatchmakingEvent, verbose_name=_("event"), on_delete=models.CASCADE, related_name="attendances"
    )
    provider = models.ForeignKey(
        Provider, verbose_name=_("provider"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    enterprise = models.ForeignKey(
        PilotEnterprise,
        verbose_name=_("enterprise"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    attended = models.BooleanField(_("attended"), default=False)
    registered_by = _user_fk(_("registered by"))
    registered_at = models.DateTimeField(_("registered"))

    class Meta:
        ordering = ["event", "id"]
        verbose_name = _("attendance")
        verbose_name_plural = _("attendance")
        constraints = [
            models.CheckConstraint(
                condition=Q(provider__isnull=False, enterprise__isnull=True)
                | Q(provider__isnull=True, enterprise__isnull=False),
                name="attendance_provider_xor_enterprise",
            ),
            models.UniqueConstraint(fields=["event", "provider"], name="attendance_provider_once"),
            models.UniqueConstraint(fields=["event", "enterprise"], name="attendance_enterprise_once"),
        ]

    def __str__(self):
        return str(self.provider or self.enterprise)


class CooperationIntention(models.Model):
    """A cooperation intention reached at a matchmaking event (Art 4), proposed by the provider and
    confirmed by the enterprise."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("Awaiting the enterprise")
        CONFIRMED = "confirmed", _("Confirmed by the enterprise")
        DECLINED = "declined", _("Declined by the enterprise")

    event = models.ForeignKey(
        MatchmakingEvent, verbose_name=_("event"), on_delete=models.PROTECT, related_name="intentions"
    )
    provider = models.ForeignKey(
        Provider, verbose_name=_("provider"), on_delete=models.PROTECT, related_name="intentions"
    )
    enterprise = models.ForeignKey(
        PilotEnterprise, verbose_name=_("enterprise"), on_delete=models.PROTECT, related_name="intentions"
    )
    scenarios = models.ManyToManyField(Scenario, verbose_name=_("scenarios"), blank=True, related_name="+")
    note = models.TextField(_("what was agreed"))
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PROPOSED)
    proposed_by = _user_fk(_("proposed by"))
    proposed_at = models.DateTimeField(_("proposed"))
    answered_by = _user_fk(_("answered by"), null=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)

    class Meta:
        ordering = ["-proposed_at", "-id"]
        verbose_name = _("cooperation intention")
        verbose_name_plural = _("cooperation intentions")
        constraints = [
            models.UniqueConstraint(
                fields=["event", "provider", "enterprise"], name="intention_once_per_event_and_pair"
            ),
        ]

    def __str__(self):
        return f"{self.provider} ↔ {self.enterprise}"


class TrainingTopic(models.TextChoices):
    """The free training topics of Art 7."""

    DIGITAL_TOOLS = "digital_tools", _("Use of digital tools")
    DIGITISED_PROCESSES = "digitised_processes", _("Digitised business processes")
    DATA_SECURITY = "data_security", _("Data-security awareness")
    POLICY = "policy", _("Policy promotion")


class TrainingSession(models.Model):
    """A free training session a provider holds for pilot enterprises (Art 7)."""

    provider = models.ForeignKey(
        Provider, verbose_name=_("provider"), on_delete=models.PROTECT, related_name="training_sessions"
    )
    title = models.CharField(_("title"), max_length=200)
    topics = models.JSONField(_("topics"), default=list)
    held_on = models.DateField(_("date"))
    hours = models.DecimalField(
        _("hours"), max_digits=4, decimal_places=1, validators=[MinValueValidator(Decimal("0.5"))]
    )
    county = models.ForeignKey(
        County, verbose_name=_("county"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    venue = models.CharField(_("venue"), max_length=200)
    description = models.TextField(_("content"), blank=True)
    created_by = _user_fk(_("created by"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-held_on", "-id"]
        verbose_name = _("training session")
        verbose_name_plural = _("training sessions")
        constraints = [
            models.CheckConstraint(condition=Q(hours__gt=0), name="training_hours_positive"),
        ]

    def __str__(self):
        return f"{self.held_on} {self.title}"

    def topic_labels(self):
        labels = dict(TrainingTopic.choices)
        return [labels.get(code, code) for code in self.topics]


class TrainingAttendance(models.Model):
    session = models.ForeignKey(
        TrainingSession, verbose_name=_("training session"), on_delete=models.CASCADE, related_name="attendances"
    )
    enterprise = models.ForeignKey(
        PilotEnterprise, verbose_name=_("enterprise"), on_delete=models.PROTECT, related_name="trainings"
    )
    attendees = models.PositiveSmallIntegerField(_("number of attendees"), validators=[MinValueValidator(1)])
    names = models.TextField(_("attendees' names"), blank=True)

    class Meta:
        ordering = ["session", "id"]
        verbose_name = _("training attendance")
        verbose_name_plural = _("training attendance")
        constraints = [
            models.UniqueConstraint(fields=["session", "enterprise"], name="training_attendance_once"),
            models.CheckConstraint(condition=Q(attendees__gte=1), name="training_attendees_positive"),
        ]

    def __str__(self):
        return str(self.enterprise)
