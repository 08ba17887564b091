from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition
from django_fsm_log.decorators import fsm_log_by, fsm_log_description

from tangshan_portal.fields import USCCField
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
    WITHDRAWN = "withdrawn", _("Withdrawn")


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
    contact_phone = models.CharField(_("contact phone"), max_length=30, blank=True)
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
