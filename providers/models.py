from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_fsm import ConcurrentTransitionMixin, FSMField, transition
from django_fsm_log.decorators import fsm_log_by, fsm_log_description

from tangshan_portal.fields import EncryptedCharField, USCCField
from tangshan_portal.models import County, Organisation, Scenario
from tangshan_portal.validators import USCC_DB_REGEX


class ProviderType(models.TextChoices):
    INTEGRATED = "integrated", _("Comprehensive integrator")
    PRODUCT = "product", _("“Small, fast, light and precise” product provider")
    CHAIN_LEADER = "chain_leader", _("“Chain leader” enterprise")


class ProviderStatus(models.TextChoices):
    APPLIED = "applied", _("Applied")
    IN_POOL = "in_pool", _("In the resource pool")
    REJECTED = "rejected", _("Rejected")
    WARNED = "warned", _("Warned")
    UNDER_RECTIFICATION = "under_rectification", _("Under rectification")
    REVOKED = "revoked", _("Qualification revoked")
    WITHDRAWN = "withdrawn", pgettext_lazy("provider standing", "Withdrawn")


# Standings in which the provider counts as a member of the resource pool (Art 2): a warning or an open
# rectification does not take a provider out of the pool; only revocation or withdrawal does.
POOL_STATUSES = (ProviderStatus.IN_POOL, ProviderStatus.WARNED, ProviderStatus.UNDER_RECTIFICATION)


class ProviderQuerySet(models.QuerySet):
    def in_pool(self):
        return self.filter(status__in=POOL_STATUSES)


class Provider(ConcurrentTransitionMixin, models.Model):
    """A digital-service provider: an applicant to, member of, or former member of the resource pool."""

    organisation = models.OneToOneField(
        Organisation,
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="provider",
        limit_choices_to={"kind": Organisation.Kind.PROVIDER},
        help_text=_("The account organisation whose users act for this provider."),
    )
    name = models.CharField(_("name"), max_length=200, db_index=True)
    uscc = USCCField(unique=True)
    legal_representative = models.CharField(_("legal representative"), max_length=50)
    address = models.CharField(_("registered address"), max_length=300)
    business_scope = models.TextField(_("business scope"), blank=True)
    registered_capital = models.DecimalField(
        _("registered capital (10,000 yuan)"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    provider_type = models.CharField(_("provider type"), max_length=20, choices=ProviderType.choices)
    county = models.ForeignKey(
        County,
        verbose_name=_("county of registration"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="providers",
        help_text=_("Empty when the provider is registered outside the city."),
    )
    scenarios = models.ManyToManyField(
        Scenario, verbose_name=_("service scenarios"), blank=True, related_name="providers"
    )
    contact_name = models.CharField(_("contact person"), max_length=50, blank=True)
    # Personal data, encrypted at rest (Art 10(1)); never searched or filtered on.
    contact_phone = EncryptedCharField(_("contact phone"), max_length=30, blank=True)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    # Not protected: FSMField(protected=True) breaks full_clean and imports (DESIGN.md); the state changes
    # only through services, and the admin shows it read-only.
    status = FSMField(
        _("standing"), max_length=30, choices=ProviderStatus.choices, default=ProviderStatus.APPLIED, db_index=True
    )
    applied_at = models.DateTimeField(_("applied"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = ProviderQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("service provider")
        verbose_name_plural = _("service providers")
        constraints = [
            models.CheckConstraint(condition=models.Q(uscc__regex=USCC_DB_REGEX), name="provider_uscc_format"),
            models.CheckConstraint(
                condition=models.Q(registered_capital__isnull=True) | models.Q(registered_capital__gte=Decimal(0)),
                name="provider_capital_not_negative",
            ),
            models.CheckConstraint(condition=models.Q(status__in=ProviderStatus.values), name="provider_status_valid"),
            models.CheckConstraint(
                condition=models.Q(provider_type__in=ProviderType.values), name="provider_type_valid"
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        if self.organisation_id and self.organisation.kind != Organisation.Kind.PROVIDER:
            raise ValidationError({"organisation": _("Choose an organisation of the kind “service provider”.")})

    @property
    def is_in_pool(self):
        return self.status in POOL_STATUSES

    # Transitions only change this row; the services in providers/services.py decide when they happen,
    # record who and why (django-fsm-log) and do everything else that must happen with them.

    @fsm_log_by
    @fsm_log_description
    @transition(status, source=ProviderStatus.APPLIED, target=ProviderStatus.IN_POOL)
    def admit(self, by=None, description=None):
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(status, source=ProviderStatus.APPLIED, target=ProviderStatus.REJECTED)
    def reject(self, by=None, description=None):
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(
        status, source=[ProviderStatus.IN_POOL, ProviderStatus.UNDER_RECTIFICATION], target=ProviderStatus.WARNED
    )
    def mark_warned(self, by=None, description=None):
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(
        status, source=[ProviderStatus.IN_POOL, ProviderStatus.WARNED], target=ProviderStatus.UNDER_RECTIFICATION
    )
    def mark_under_rectification(self, by=None, description=None):
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(
        status, source=[ProviderStatus.WARNED, ProviderStatus.UNDER_RECTIFICATION], target=ProviderStatus.IN_POOL
    )
    def clear(self, by=None, description=None):
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(status, source=POOL_STATUSES, target=ProviderStatus.REVOKED)
    def revoke(self, by=None, description=None):
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(status, source=ProviderStatus.REVOKED, target=ProviderStatus.IN_POOL)
    def reinstate(self, by=None, description=None):
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(status, source=ProviderStatus.IN_POOL, target=ProviderStatus.WITHDRAWN)
    def withdraw(self, by=None, description=None):
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(status, source=[ProviderStatus.REJECTED, ProviderStatus.WITHDRAWN], target=ProviderStatus.IN_POOL)
    def readmit(self, by=None, description=None):
        """A new application by a company that was rejected before or left the pool; revoked providers
        return only through an upheld appeal (Art 16)."""


# --- Application and admission (Art 2) ------------------------------------------------------------------


class ApplicationStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted, awaiting review")
    IN_NOTICE = "in_notice", _("In public notice")
    ADMITTED = "admitted", _("Admitted to the resource pool")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn by the applicant")


OPEN_APPLICATION_STATUSES = (ApplicationStatus.SUBMITTED, ApplicationStatus.IN_NOTICE)


class ProviderApplication(ConcurrentTransitionMixin, models.Model):
    """An application to join the resource pool (Art 2), submitted through the public form.

    The company data live here rather than on a Provider row until admission, because an applicant may share
    its USCC with a revoked provider: the officer must see that match, and the registry keeps one provider
    per USCC. Admission creates the provider (or re-admits a withdrawn or rejected one).
    """

    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("applicant account"),
        on_delete=models.PROTECT,
        related_name="provider_applications",
    )
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        related_name="provider_applications",
        limit_choices_to={"kind": Organisation.Kind.PROVIDER},
    )
    provider = models.ForeignKey(
        "Provider",
        verbose_name=_("provider"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="applications",
        help_text=_("Set when the application is admitted."),
    )
    name = models.CharField(_("company name"), max_length=200)
    uscc = USCCField()
    legal_representative = models.CharField(_("legal representative"), max_length=50)
    address = models.CharField(_("registered address"), max_length=300)
    business_scope = models.TextField(_("business scope"))
    registered_capital = models.DecimalField(
        _("registered capital (10,000 yuan)"),
        max_digits=14,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0"))],
    )
    provider_type = models.CharField(_("provider type"), max_length=20, choices=ProviderType.choices)
    county = models.ForeignKey(
        County,
        verbose_name=_("county of registration"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Leave empty when the company is registered outside the city."),
    )
    scenarios = models.ManyToManyField(Scenario, verbose_name=_("service scenarios"), related_name="+")
    qualifications = models.TextField(
        _("qualifications"), help_text=_("Certificates, accreditations and licences, one per line.")
    )
    products = models.TextField(
        _("products and services"), help_text=_("The products and services offered to pilot enterprises.")
    )
    reference_cases = models.TextField(
        _("reference cases"), help_text=_("Digital-transformation projects completed for other enterprises.")
    )
    contact_name = models.CharField(_("contact person"), max_length=50)
    contact_phone = EncryptedCharField(_("contact phone"), max_length=30)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    status = FSMField(
        _("status"),
        max_length=20,
        choices=ApplicationStatus.choices,
        default=ApplicationStatus.SUBMITTED,
        db_index=True,
    )
    submitted_at = models.DateTimeField(_("submitted"))
    # The screening against revoked and blacklisted providers, written when submitted and again when
    # reviewed: a list of {"provider_id", "name", "uscc", "status", "matched_on": ["uscc"|"legal_representative"]}.
    screening = models.JSONField(_("screening result"), default=list, blank=True)
    flagged = models.BooleanField(_("matches a revoked or blacklisted provider"), default=False, db_index=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    review_opinion = models.TextField(_("review opinion"), blank=True)
    notice_starts_on = models.DateField(_("public notice starts"), null=True, blank=True)
    notice_ends_on = models.DateField(_("public notice ends"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_reason = models.TextField(_("reason for the decision"), blank=True)

    class Meta:
        ordering = ["-submitted_at", "-id"]
        verbose_name = _("provider application")
        verbose_name_plural = _("provider applications")
        permissions = [("review_application", _("Can review provider applications and admit or reject them"))]
        constraints = [
            models.CheckConstraint(condition=models.Q(uscc__regex=USCC_DB_REGEX), name="application_uscc_format"),
            models.CheckConstraint(
                condition=models.Q(status__in=ApplicationStatus.values), name="application_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(registered_capital__gte=Decimal(0)), name="application_capital_not_negative"
            ),
            # One open application per company at a time.
            models.UniqueConstraint(
                fields=["uscc"],
                condition=models.Q(status__in=["submitted", "in_notice"]),
                name="application_one_open_per_uscc",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="in_notice")
                | models.Q(notice_starts_on__isnull=False, notice_ends_on__isnull=False),
                name="application_notice_has_dates",
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def notice_over(self):
        from django.utils import timezone

        return self.notice_ends_on is not None and timezone.localdate() > self.notice_ends_on

    @fsm_log_by
    @fsm_log_description
    @transition(status, source=ApplicationStatus.SUBMITTED, target=ApplicationStatus.IN_NOTICE)
    def start_notice(self, by=None, description=None):
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(status, source=ApplicationStatus.IN_NOTICE, target=ApplicationStatus.ADMITTED)
    def admit(self, by=None, description=None):
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(status, source=OPEN_APPLICATION_STATUSES, target=ApplicationStatus.REJECTED)
    def reject(self, by=None, description=None):
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(status, source=OPEN_APPLICATION_STATUSES, target=ApplicationStatus.WITHDRAWN)
    def withdraw(self, by=None, description=None):
        pass


# --- Registration changes (Art 12(1)) -------------------------------------------------------------------


class RegisteredField(models.TextChoices):
    """The registration data whose change a provider must report (Art 12(1))."""

    NAME = "name", _("Name")
    ADDRESS = "address", _("Registered address")
    LEGAL_REPRESENTATIVE = "legal_representative", _("Legal representative")
    BUSINESS_SCOPE = "business_scope", _("Business scope")
    REGISTERED_CAPITAL = "registered_capital", _("Registered capital")


class RegistrationChange(models.Model):
    """A change of the provider's registration data: reported by the provider (and acknowledged by an
    officer), or recorded by staff from the business registry. Rows are never edited or deleted; together
    they are the provider's registration history."""

    class Source(models.TextChoices):
        PROVIDER = "provider", _("Reported by the provider")
        REGISTRY = "registry", _("Recorded by staff from the business registry")

    class Status(models.TextChoices):
        REPORTED = "reported", _("Reported, awaiting acknowledgement")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        RECORDED = "recorded", _("Recorded by staff")

    provider = models.ForeignKey(
        Provider, verbose_name=_("provider"), on_delete=models.PROTECT, related_name="registration_changes"
    )
    field = models.CharField(_("changed item"), max_length=30, choices=RegisteredField.choices)
    old_value = models.TextField(_("before"))
    new_value = models.TextField(_("after"))
    changed_on = models.DateField(_("date of the change"), help_text=_("As registered with the market regulator."))
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices)
    explanation = models.TextField(_("explanation"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded"))
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("acknowledged by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)

    class Meta:
        ordering = ["-changed_on", "-id"]
        verbose_name = _("registration change")
        verbose_name_plural = _("registration changes")
        permissions = [
            ("acknowledge_registration_change", _("Can acknowledge reported registration changes")),
            ("record_registration_change", _("Can record registration changes from the business registry")),
        ]
        indexes = [models.Index(fields=["provider", "field", "changed_on"], name="regchange_match_idx")]
        constraints = [
            models.CheckConstraint(condition=models.Q(field__in=RegisteredField.values), name="regchange_field_valid"),
            models.CheckConstraint(
                condition=models.Q(source="provider", status__in=["reported", "acknowledged"])
                | models.Q(source="registry", status="recorded"),
                name="regchange_status_fits_source",
            ),
        ]

    def __str__(self):
        return f"{self.provider} · {self.get_field_display()} · {self.changed_on}"


# --- Products and prices ("小快轻准") ------------------------------------------------------------------


class Product(models.Model):
    """A product or service in the provider's catalogue with its list price (Art 12(3), 13(8))."""

    provider = models.ForeignKey(
        Provider, verbose_name=_("provider"), on_delete=models.PROTECT, related_name="products"
    )
    name = models.CharField(_("product name"), max_length=200)
    functions = models.TextField(_("functions"))
    scenarios = models.ManyToManyField(Scenario, verbose_name=_("scenarios"), blank=True, related_name="products")
    unit = models.CharField(_("unit"), max_length=20, help_text=_("e.g. set, licence·year, person·day"))
    list_price = models.DecimalField(
        _("list price (yuan)"), max_digits=14, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    is_active = models.BooleanField(_("offered"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["provider", "name"]
        verbose_name = _("product")
        verbose_name_plural = _("products")
        constraints = [
            models.CheckConstraint(condition=models.Q(list_price__gt=0), name="product_list_price_positive"),
            models.UniqueConstraint(fields=["provider", "name"], name="product_name_unique_per_provider"),
        ]

    def __str__(self):
        return self.name


class ProductPriceChange(models.Model):
    """Each list-price change, kept so that drastic changes (Art 13(8)) are visible and dated."""

    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="price_changes"
    )
    old_price = models.DecimalField(_("old list price (yuan)"), max_digits=14, decimal_places=2)
    new_price = models.DecimalField(_("new list price (yuan)"), max_digits=14, decimal_places=2)
    change_ratio = models.DecimalField(_("change"), max_digits=9, decimal_places=4)
    drastic = models.BooleanField(_("drastic change"), default=False, db_index=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("changed by"), on_delete=models.PROTECT, related_name="+"
    )
    changed_at = models.DateTimeField(_("changed"))
    reason = models.TextField(_("reason"), blank=True)

    class Meta:
        ordering = ["-changed_at", "-id"]
        verbose_name = _("list-price change")
        verbose_name_plural = _("list-price changes")

    def __str__(self):
        return f"{self.product}: {self.old_price} → {self.new_price}"
