"""Art 10(1) records of the dossier: the enterprise's written consent to share it, and the destruction of the
enterprise's data at the end of service with the proof of what was destroyed.

The rules live in dossiers/services.py; these models only hold the facts and refuse what may never happen to
them (a destruction record is never changed or deleted)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition
from django_fsm_log.decorators import fsm_log_by, fsm_log_description

from enterprises.models import PilotEnterprise
from providers.models import Provider


def _user_fk(verbose_name, *, null=False):
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=verbose_name,
        on_delete=models.PROTECT,
        null=null,
        blank=null,
        related_name="+",
    )


class ConsentScope(models.TextChoices):
    """The parts of the dossier a consent shares: the enterprise's own information. Another provider's
    contracts, cooperation intentions and the complaints are never shared by a consent."""

    LEVELS = "levels", _("Digital-level history")
    DIAGNOSES = "diagnoses", _("Diagnoses and their findings")
    SURVEYS = "surveys", _("Deep surveys (core information)")
    TRAININGS = "trainings", _("Training attended")


class ConsentQuerySet(models.QuerySet):
    def valid(self, now=None):
        """Given, not revoked, and not past its last day (a local date: valid through that whole day)."""
        now = now or timezone.now()
        return self.filter(granted_at__lte=now, revoked_at__isnull=True, valid_until__gte=timezone.localdate(now))


class DossierConsent(models.Model):
    """An enterprise's written consent (书面同意, Art 10(1)) that one provider may read named parts of its dossier
    beyond the provider's own contracts, for a stated purpose and until a stated day. Revoking it ends the access
    at once; an expired consent gives nothing. Kept after revocation or expiry as the record of what was shared."""

    enterprise = models.ForeignKey(
        PilotEnterprise, verbose_name=_("enterprise"), on_delete=models.PROTECT, related_name="dossier_consents"
    )
    grantee = models.ForeignKey(
        Provider, verbose_name=_("provider"), on_delete=models.PROTECT, related_name="dossier_consents"
    )
    purpose = models.TextField(_("purpose"))
    # A list of ConsentScope values; checked by the service (dossiers.services.consent_grant).
    scope = models.JSONField(_("parts shared"), default=list)
    granted_by = _user_fk(_("given by"))
    granted_at = models.DateTimeField(_("given"))
    valid_until = models.DateField(_("valid until"), help_text=_("The last day on which the consent applies."))
    revoked_by = _user_fk(_("revoked by"), null=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    objects = ConsentQuerySet.as_manager()

    class Meta:
        ordering = ["-granted_at", "-id"]
        verbose_name = _("dossier consent")
        verbose_name_plural = _("dossier consents")
        indexes = [models.Index(fields=["grantee", "enterprise"], name="consent_grantee_enterprise_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(revoked_at__isnull=True, revoked_by__isnull=True)
                | Q(revoked_at__isnull=False, revoked_by__isnull=False),
                name="consent_revocation_complete",
            ),
            models.CheckConstraint(condition=~Q(purpose=""), name="consent_purpose_required"),
        ]

    def __str__(self):
        return f"{self.enterprise} → {self.grantee} ({self.valid_until:%Y-%m-%d})"

    @property
    def scope_labels(self):
        labels = dict(ConsentScope.choices)
        return [labels[code] for code in ConsentScope.values if code in (self.scope or [])]

    def status(self, now=None):
        """One of "active", "revoked" and "expired", as ConsentQuerySet.valid decides it."""
        now = now or timezone.now()
        if self.revoked_at is not None:
            return "revoked"
        if self.valid_until < timezone.localdate(now):
            return "expired"
        return "active"

    @property
    def is_active(self):
        return self.status() == "active"


class DestructionStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested, awaiting approval")
    APPROVED = "approved", _("Approved, being carried out")
    EXECUTED = "executed", _("Destroyed")
    REJECTED = "rejected", _("Rejected")


OPEN_DESTRUCTION_STATUSES = (DestructionStatus.REQUESTED, DestructionStatus.APPROVED)


def _may_approve(instance, user):
    # Four eyes: whoever asked for the destruction never approves it.
    return user.has_perm("dossiers.approve_destruction") and user.pk != instance.requested_by_id


def _may_decide(instance, user):
    return user.has_perm("dossiers.approve_destruction")


class DestructionRequest(ConcurrentTransitionMixin, models.Model):
    """A case officer's request to destroy an enterprise's personal data and confidential content at the end of
    its pilot service (Art 10(1) "结束服务及时安全销毁"), approved by another person before anything is removed.
    The execution (dossiers.services.destruction_execute) writes a DestructionRecord."""

    enterprise = models.ForeignKey(
        PilotEnterprise, verbose_name=_("enterprise"), on_delete=models.PROTECT, related_name="destruction_requests"
    )
    legal_ground = models.TextField(_("legal ground"))
    reason = models.TextField(_("reason"), blank=True)
    status = FSMField(
        _("status"), max_length=20, choices=DestructionStatus.choices, default=DestructionStatus.REQUESTED
    )
    requested_by = _user_fk(_("requested by"))
    requested_at = models.DateTimeField(_("requested"))
    decided_by = _user_fk(_("decided by"), null=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_note = models.TextField(_("reason for the decision"), blank=True)
    executed_at = models.DateTimeField(_("carried out"), null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        verbose_name = _("destruction request")
        verbose_name_plural = _("destruction requests")
        permissions = [
            ("request_destruction", _("Can request the destruction of an enterprise's data")),
            ("approve_destruction", _("Can approve the destruction of an enterprise's data")),
        ]
        constraints = [
            # One open request per enterprise: two approvals could not both be right.
            models.UniqueConstraint(
                fields=["enterprise"],
                condition=Q(status__in=["requested", "approved"]),
                name="destruction_one_open_per_enterprise",
            ),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in DestructionStatus]), name="destruction_status_valid"
            ),
            models.CheckConstraint(condition=~Q(legal_ground=""), name="destruction_legal_ground_required"),
            models.CheckConstraint(
                condition=Q(status="requested") | Q(decided_at__isnull=False, decided_by__isnull=False),
                name="destruction_decision_recorded",
            ),
        ]

    def __str__(self):
        return _("Destruction of %(enterprise)s's data (#%(id)s)") % {"enterprise": self.enterprise, "id": self.pk}

    @fsm_log_by
    @fsm_log_description
    @transition(status, source=DestructionStatus.REQUESTED, target=DestructionStatus.APPROVED, permission=_may_approve)
    def approve(self, by=None, description=None):
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(status, source=DestructionStatus.REQUESTED, target=DestructionStatus.REJECTED, permission=_may_decide)
    def reject(self, by=None, description=None):
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(status, source=DestructionStatus.APPROVED, target=DestructionStatus.EXECUTED, permission=_may_decide)
    def execute(self, by=None, description=None):
        pass


class DestructionRecordQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("A destruction record is never changed.")

    def delete(self):
        raise PermissionError("A destruction record is never deleted.")


class DestructionRecord(models.Model):
    """The proof of one destruction: who asked, who approved, who (or which task) carried it out and when, on
    which legal ground, and a manifest of what was removed — categories with row counts, and for each file its
    SHA-256 and size, never any content — with the SHA-256 of the manifest, which the DATA_DESTROYED audit event
    repeats inside the tamper-evident audit chain. Never changed, never deleted."""

    request = models.OneToOneField(
        DestructionRequest, verbose_name=_("request"), on_delete=models.PROTECT, related_name="record"
    )
    enterprise = models.ForeignKey(
        PilotEnterprise, verbose_name=_("enterprise"), on_delete=models.PROTECT, related_name="destruction_records"
    )
    # Copied: the proof reads on its own, whatever happens to the registry row later.
    enterprise_name = models.CharField(_("enterprise name"), max_length=200)
    enterprise_uscc = models.CharField(_("Unified Social Credit Code"), max_length=18)
    legal_ground = models.TextField(_("legal ground"))
    requested_by = _user_fk(_("requested by"))
    requested_at = models.DateTimeField(_("requested"))
    approved_by = _user_fk(_("approved by"))
    approved_at = models.DateTimeField(_("approved"))
    # Empty when the background task carried it out.
    executed_by = _user_fk(_("carried out by"), null=True)
    executed_at = models.DateTimeField(_("carried out"))
    manifest = models.JSONField(_("manifest"))
    manifest_sha256 = models.CharField(_("SHA-256 of the manifest"), max_length=64)

    objects = DestructionRecordQuerySet.as_manager()

    class Meta:
        ordering = ["-executed_at", "-id"]
        verbose_name = _("destruction record")
        verbose_name_plural = _("destruction records")
        constraints = [
            models.CheckConstraint(
                condition=Q(manifest_sha256__regex=r"^[0-9a-f]{64}$"), name="destruction_manifest_sha256_hex"
            ),
        ]

    def __str__(self):
        return _("Destruction record #%(id)s: %(enterprise)s") % {"id": self.pk, "enterprise": self.enterprise_name}

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("A destruction record is never changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("A destruction record is never deleted.")
