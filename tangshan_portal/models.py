from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import RegexValidator
from django.db import models, router, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from .fields import EncryptedCharField
from .roles import Role


class County(models.Model):
    """A county-level division (区/县/市) of the city; loaded from PORTAL_COUNTIES_FILE."""

    code = models.CharField(
        _("division code"),
        max_length=6,
        unique=True,
        validators=[RegexValidator(r"^\d{6}$", _("A division code has six digits."))],
    )
    name = models.CharField(_("name"), max_length=50, unique=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("county")
        verbose_name_plural = _("counties")
        constraints = [
            models.CheckConstraint(condition=models.Q(code__regex=r"^[0-9]{6}$"), name="county_code_six_digits"),
        ]

    def __str__(self):
        return self.name


class ScenarioFamily(models.TextChoices):
    """The four scenario families of Article 5."""

    PRODUCTION = "production", _("Production process digitalisation")
    LIFECYCLE = "lifecycle", _("Product lifecycle digitalisation")
    SUPPLY_CHAIN = "supply_chain", _("Industry and supply chain digitalisation")
    MANAGEMENT = "management", _("Smart management and decision-making")


class Scenario(models.Model):
    """A digital-transformation scenario named by Article 5; providers offer them and contracts cover them."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    family = models.CharField(_("scenario family"), max_length=20, choices=ScenarioFamily.choices)
    name = models.CharField(_("name"), max_length=50)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("service scenario")
        verbose_name_plural = _("service scenarios")

    def __str__(self):
        return self.name


class Organisation(models.Model):
    """Every user acts for exactly one organisation; what they may see follows from it."""

    class Kind(models.TextChoices):
        BUREAU = "bureau", _("City bureau")
        COUNTY_BUREAU = "county_bureau", _("County bureau")
        PROVIDER = "provider", _("Service provider")
        ENTERPRISE = "enterprise", _("Pilot enterprise")
        INSTITUTION = "institution", _("Third-party support institution")

    name = models.CharField(_("name"), max_length=200, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    county = models.ForeignKey(
        County,
        verbose_name=_("county"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="organisations",
        help_text=_("Required for a county bureau: it limits what the bureau's staff can see."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["kind", "name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(kind="county_bureau") | models.Q(county__isnull=False),
                name="county_bureau_has_county",
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        if self.kind == self.Kind.COUNTY_BUREAU and not self.county_id:
            raise ValidationError({"county": _("A county bureau must name its county.")})


class User(AbstractUser):
    """A portal account. Chinese names are not split into first and last name, so one field holds it."""

    full_name = models.CharField(_("full name"), max_length=100, blank=True)
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
    )
    # Encrypted at rest (Art 10(1), tangshan_portal.crypto): only ever read, never searched or filtered on.
    phone = EncryptedCharField(_("phone"), max_length=30, blank=True)
    # When the password was last set (tangshan_portal/passwords.py); passwords older than
    # PORTAL_PASSWORD_MAX_AGE_DAYS must be changed before anything else. Accounts that existed before the policy
    # start counting from the migration that added it.
    password_changed_at = models.DateTimeField(_("password changed"), default=timezone.now, editable=False)

    class Meta(AbstractUser.Meta):
        verbose_name = _("user")
        verbose_name_plural = _("users")
        # Personal data (phones, contact persons' names) unmasked in lists and exports (tangshan_portal.masking).
        permissions = [("view_personal_data", _("Can see personal data unmasked in lists and exports"))]

    def __str__(self):
        return self.full_name or self.username

    def get_full_name(self):
        return self.full_name or super().get_full_name()

    @property
    def roles(self):
        """The roles this user holds, read from group membership (cached per request object)."""
        if not hasattr(self, "_roles_cache"):
            names = set(self.groups.values_list("name", flat=True)) if self.pk else set()
            self._roles_cache = {role for role in Role if role.value in names}
        return self._roles_cache

    def has_role(self, role):
        return Role(role) in self.roles

    @property
    def county(self):
        """The county that limits a county bureau user's data scope, else None."""
        org = self.organisation
        if org is not None and org.kind == Organisation.Kind.COUNTY_BUREAU:
            return org.county
        return None


class AuditQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("The audit log is append-only.")

    def delete(self):
        raise PermissionError("The audit log is append-only.")

    def bulk_create(self, objs, *args, **kwargs):
        # bulk_create skips save(), so its rows would carry no place in the hash chain.
        raise PermissionError("Audit events are written one by one (tangshan_portal.audit.record_event).")

    def bulk_update(self, objs, *args, **kwargs):
        raise PermissionError("The audit log is append-only.")


class AuditEvent(models.Model):
    """An event that is not a state transition (those are in django-fsm-log's StateLog): logins, exports,
    refusals, permission changes. Rows are only ever inserted, each linked to the one before by a hash chain
    (tangshan_portal.audit); PostgreSQL also refuses UPDATE and DELETE with a trigger, except the retention
    purge's deletes of the oldest events."""

    class Action(models.TextChoices):
        LOGIN = "login", _("Login")
        LOGIN_FAILED = "login_failed", _("Failed login")
        LOGOUT = "logout", _("Logout")
        PASSWORD_CHANGED = "password_changed", _("Password changed")
        PERMISSION_DENIED = "permission_denied", _("Permission denied")
        EXPORT = "export", _("Export")
        IMPORT = "import", _("Import")
        DOWNLOAD = "download", _("Download")
        # Confidential pages (Art 10(1)): who read an enterprise's dossier, and with which access.
        DOSSIER_VIEW = "dossier_view", _("Dossier viewed")
        # Official documents: issued (the PDF was stored) and read by someone other than the bureau.
        DOCUMENT_ISSUED = "document_issued", _("Document issued")
        # A user's groups, individual permissions or superuser/staff/active flags, or a group's permissions.
        PERMISSION_CHANGED = "permission_changed", _("Permissions changed")
        # The retention purge (manage.py purge_audit): which events it removed, and the checkpoint it left.
        AUDIT_PURGED = "audit_purged", _("Audit log purged")
        # A state-log entry (django-fsm-log) mirrored into the chain with the request's address.
        TRANSITION = "transition", _("State change")
        # Art 10(1) "sharing only with written consent": an enterprise grants or revokes a provider's access to
        # its dossier (every view under a consent is a DOSSIER_VIEW naming the consent).
        CONSENT_GRANTED = "consent_granted", _("Consent granted")
        CONSENT_REVOKED = "consent_revoked", _("Consent revoked")
        # Art 10(1) "destroyed securely at the end of service": what was removed, with the manifest's hash.
        DATA_DESTROYED = "data_destroyed", _("Data destroyed")
        # The second factor (tangshan_portal/otp.py): a code accepted or refused (and why), an authenticator
        # enrolled, and one reset by the security administrator.
        OTP_VERIFIED = "otp_verified", _("Second factor passed")
        OTP_FAILED = "otp_failed", _("Second factor refused")
        OTP_ENROLLED = "otp_enrolled", _("Authenticator enrolled")
        OTP_RESET = "otp_reset", _("Authenticator reset")
        # manage.py rotate_encryption_keys: the key now encrypting and how many values and files it re-encrypted.
        ENCRYPTION_ROTATED = "encryption_rotated", _("Encryption keys rotated")

    # The place in the hash chain: 1, 2, 3, … with no gaps, so a deleted event shows as a missing number.
    sequence = models.BigIntegerField(_("sequence"), unique=True, editable=False)
    # Set under the chain lock when the event is saved (never by the caller), so time follows the chain.
    at = models.DateTimeField(_("time"), default=timezone.now, editable=False, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        # Accounts are deactivated, never deleted, while the audit log points at them.
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # The name is copied so the record still says who acted after an account is renamed or removed.
    actor_username = models.CharField(_("user name"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=30, choices=Action.choices, db_index=True)
    success = models.BooleanField(_("succeeded"), default=True)
    object_type = models.CharField(_("object type"), max_length=100, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    path = models.CharField(_("path"), max_length=300, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=300, blank=True)
    # DjangoJSONEncoder: a date, decimal or lazy text in the detail is stored as text instead of failing.
    detail = models.JSONField(_("detail"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    prev_hash = models.CharField(_("previous hash"), max_length=64, editable=False)
    chain_hash = models.CharField(_("hash"), max_length=64, editable=False)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        constraints = [
            models.CheckConstraint(condition=models.Q(sequence__gte=1), name="auditevent_sequence_positive"),
            models.CheckConstraint(
                condition=models.Q(chain_hash__regex=r"^[0-9a-f]{64}$", prev_hash__regex=r"^[0-9a-f]{64}$"),
                name="auditevent_hashes_hex",
            ),
        ]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_username} {self.get_action_display()}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("The audit log is append-only.")
        # The chain lives with the one write path (audit imports this module, hence the late import).
        from .audit import link_event

        using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
        # A transaction of its own when there is none (a lock taken in autocommit mode would end with its
        # statement); inside one, no savepoint: an audit event that cannot be written fails the whole operation.
        with transaction.atomic(using=using, savepoint=False):
            link_event(self, using)
            super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("The audit log is append-only.")


class AuditCheckpoint(models.Model):
    """Where the retention purge cut the start of the audit chain: the last event it deleted. Verification
    starts from the newest checkpoint; the purge's own AuditEvent (in the chain) repeats these values so a
    forged checkpoint shows. Never changed or deleted (PostgreSQL trigger, migration 0011)."""

    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    last_sequence = models.BigIntegerField(_("last sequence purged"), unique=True)
    last_id = models.BigIntegerField(_("last event id purged"))
    last_hash = models.CharField(_("hash of the last event purged"), max_length=64)
    cutoff = models.DateTimeField(_("events before"))
    retention_days = models.PositiveIntegerField(_("retention days"))
    events = models.PositiveBigIntegerField(_("events purged"))

    class Meta:
        ordering = ["-last_sequence"]
        verbose_name = _("audit purge checkpoint")
        verbose_name_plural = _("audit purge checkpoints")

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} ≤ {self.last_sequence}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("Audit checkpoints are never changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Audit checkpoints are never deleted.")


class WorkerHeartbeat(models.Model):
    """Written by a Celery task so /healthz can say whether a worker is consuming the queue."""

    hostname = models.CharField(max_length=200, unique=True)
    seen_at = models.DateTimeField()

    class Meta:
        verbose_name = _("worker heartbeat")
        verbose_name_plural = _("worker heartbeats")

    def __str__(self):
        return self.hostname


class DocumentSequence(models.Model):
    """The per-year serial of official document numbers (文号) of one prefix, e.g. 唐工信〔2026〕12号."""

    prefix = models.CharField(_("prefix"), max_length=20)
    year = models.PositiveSmallIntegerField(_("year"))
    last_number = models.PositiveIntegerField(_("last number issued"), default=0)

    class Meta:
        verbose_name = _("document number sequence")
        verbose_name_plural = _("document number sequences")
        constraints = [models.UniqueConstraint(fields=["prefix", "year"], name="document_sequence_unique")]

    def __str__(self):
        return f"{self.prefix}〔{self.year}〕"


class Notification(models.Model):
    """An outbox row: written in the same transaction as the change it reports, sent later by a task.

    Exactly one recipient kind is set: a user, an organisation (all its active users), or a role (all users
    holding it). `dedup_key` makes writing the same notice twice (a repeated sweep) a no-op.
    """

    recipient_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
    )
    recipient_organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
    )
    recipient_role = models.CharField(_("role"), max_length=20, choices=Role.choices, blank=True)
    kind = models.CharField(_("kind"), max_length=40, db_index=True)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("text"))
    link = models.CharField(_("link"), max_length=300, blank=True)
    dedup_key = models.CharField(_("deduplication key"), max_length=120, unique=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [models.Index(fields=["sent_at", "next_attempt_at"], name="notification_outbox_idx")]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(recipient_user__isnull=False, recipient_organisation__isnull=True, recipient_role="")
                    | models.Q(recipient_user__isnull=True, recipient_organisation__isnull=False, recipient_role="")
                    | (
                        models.Q(recipient_user__isnull=True, recipient_organisation__isnull=True)
                        & ~models.Q(recipient_role="")
                    )
                ),
                name="notification_one_recipient",
            ),
        ]

    def __str__(self):
        return self.subject


class NotificationRead(models.Model):
    """Who has read what: a notice to an organisation or a role is read by each of its users separately."""

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="reads")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    read_at = models.DateTimeField(_("read"))

    class Meta:
        verbose_name = _("notification read")
        verbose_name_plural = _("notifications read")
        constraints = [models.UniqueConstraint(fields=["notification", "user"], name="notification_read_once")]

    def __str__(self):
        return f"{self.user} · {self.notification}"


def attachment_path(instance, filename):
    # The stored name never reuses the uploaded one: it is kept only as metadata.
    return f"attachments/{instance.uploaded_at:%Y/%m}/{instance.sha256[:2]}/{instance.sha256}"


class Attachment(models.Model):
    """An uploaded file attached to some record; checked by content on upload, served only by views that
    apply the attached record's access rule."""

    content_type = models.ForeignKey("contenttypes.ContentType", on_delete=models.PROTECT)
    object_id = models.PositiveBigIntegerField()
    purpose = models.CharField(_("purpose"), max_length=40, blank=True)
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=200)
    original_name = models.CharField(_("file name"), max_length=200)
    mime_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("uploaded"))

    class Meta:
        ordering = ["uploaded_at", "id"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        indexes = [models.Index(fields=["content_type", "object_id"], name="attachment_target_idx")]

    def __str__(self):
        return self.original_name


class WorkCalendarDay(models.Model):
    """An exception to the Monday–Friday week: a public holiday on a weekday, or a make-up working day
    (调休) on a weekend. Seeded from China's official calendar and maintained by the system administrator;
    a year without rows simply counts Monday to Friday."""

    date = models.DateField(_("date"), unique=True)
    is_workday = models.BooleanField(_("working day"))
    name = models.CharField(_("name"), max_length=50, blank=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("calendar day")
        verbose_name_plural = _("working-day calendar")

    def __str__(self):
        return f"{self.date} {self.name}"


class Announcement(models.Model):
    """A notice the bureau publishes on the public portal (Art 13: blacklisting is announced publicly)."""

    class Category(models.TextChoices):
        NOTICE = "notice", _("Notice")
        ADMISSION = "admission", _("Resource-pool admission")
        BLACKLIST = "blacklist", _("Revocation and blacklist")
        EXCELLENT = "excellent", _("Excellent providers")
        POLICY = "policy", _("Policy")

    title = models.CharField(_("title"), max_length=200)
    category = models.CharField(_("category"), max_length=20, choices=Category.choices, default=Category.NOTICE)
    body = models.TextField(_("text"))
    published_at = models.DateTimeField(
        _("published"),
        null=True,
        blank=True,
        db_index=True,
        help_text=_("Empty while a draft; the announcement is public from this moment on."),
    )
    withdrawn_at = models.DateTimeField(_("withdrawn"), null=True, blank=True)
    withdrawal_reason = models.TextField(_("reason for withdrawal"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("written by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True, db_index=True)

    class Meta:
        ordering = ["-published_at", "-id"]
        verbose_name = _("announcement")
        verbose_name_plural = _("announcements")
        permissions = [("publish_announcement", _("Can publish and withdraw announcements"))]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(withdrawn_at__isnull=True) | models.Q(published_at__isnull=False),
                name="announcement_withdrawn_after_published",
            ),
        ]

    def __str__(self):
        return self.title


def issued_document_path(instance, filename):
    # Named by the printed verification code (never by user input); the year keeps directories small.
    return f"documents/{instance.issued_at:%Y}/{instance.verification_code}.pdf"


class IssuedDocument(models.Model):
    """An official document as issued: the exact PDF bytes, their SHA-256 and the verification code printed on
    the page (see tangshan_portal.documents for why the two differ). Never deleted, never changed: a corrected
    document is a new issue."""

    class Kind(models.TextChoices):
        RECTIFICATION_NOTICE = "rectification_notice", _("Rectification notice")
        REVOCATION_DECISION = "revocation_decision", _("Revocation decision")
        BLACKLIST_ANNOUNCEMENT = "blacklist_announcement", _("Blacklist announcement")
        APPEAL_DECISION = "appeal_decision", _("Appeal decision")
        EXCELLENT_LIST = "excellent_list", _("Excellent-provider list")
        DOSSIER = "dossier", _("Enterprise dossier")
        INTERNAL_ACCEPTANCE = "internal_acceptance", _("Internal acceptance certificate")
        EVALUATION_ACCEPTANCE = "evaluation_acceptance", _("Evaluation acceptance certificate")

    # Kinds whose content is published anyway: the verify page may offer the file itself. The others
    # concern one provider or enterprise and the verify page only confirms that they exist.
    PUBLIC_KINDS = frozenset({Kind.BLACKLIST_ANNOUNCEMENT, Kind.EXCELLENT_LIST})

    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices, db_index=True)
    title = models.CharField(_("title"), max_length=200)
    document_number = models.CharField(_("document number"), max_length=40, blank=True, db_index=True)
    verification_code = models.CharField(_("verification code"), max_length=32, unique=True, editable=False)
    sha256 = models.CharField(_("SHA-256"), max_length=64, unique=True, editable=False)
    file = models.FileField(_("file"), upload_to=issued_document_path, max_length=200)
    pages = models.PositiveIntegerField(_("pages"))
    size = models.PositiveBigIntegerField(_("size"))
    content_type = models.ForeignKey("contenttypes.ContentType", on_delete=models.PROTECT, related_name="+")
    object_id = models.PositiveBigIntegerField()
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("issued by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    issued_at = models.DateTimeField(_("issued"), db_index=True)
    authority = models.CharField(_("issuing authority"), max_length=100)
    # The organisations the document is addressed to (the provider of a notice, both parties of a
    # certificate): they may download it; the bureau always may.
    recipients = models.ManyToManyField(
        "portal.Organisation", verbose_name=_("recipients"), blank=True, related_name="issued_documents"
    )

    class Meta:
        ordering = ["-issued_at", "-id"]
        verbose_name = _("issued document")
        verbose_name_plural = _("issued documents")
        indexes = [models.Index(fields=["content_type", "object_id"], name="issueddoc_target_idx")]
        constraints = [
            models.CheckConstraint(condition=models.Q(sha256__regex=r"^[0-9a-f]{64}$"), name="issueddoc_sha256_hex"),
            models.CheckConstraint(
                condition=models.Q(verification_code__regex=r"^[0-9a-f]{32}$"), name="issueddoc_code_hex"
            ),
            models.CheckConstraint(condition=models.Q(pages__gte=1), name="issueddoc_pages_positive"),
        ]

    def __str__(self):
        return f"{self.document_number or self.title} ({self.verification_code})"

    @property
    def is_public(self):
        return self.kind in self.PUBLIC_KINDS

    def delete(self, *args, **kwargs):
        raise PermissionError("Issued documents are kept for ever.")


class BackgroundJob(models.Model):
    """Work too long for a request (a dossier PDF, a large import) run by a Celery task, with progress the
    requester's page shows. The task receives only the id (DESIGN.md): the row is the job's whole state."""

    class Kind(models.TextChoices):
        DOSSIER_PDF = "dossier_pdf", _("Dossier PDF")
        IMPORT = "import", _("Import")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    # What the job works on, e.g. {"enterprise": 3} or {"model": "providers.provider", "rows": 10000}.
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    # An uploaded file the job reads (an import); kept with the job so the audit can point at it.
    input_file = models.FileField(_("input file"), upload_to="jobs/%Y/%m/", max_length=200, blank=True)
    done_steps = models.PositiveIntegerField(_("done"), default=0)
    total_steps = models.PositiveIntegerField(_("total"), default=0)
    stage = models.CharField(_("stage"), max_length=100, blank=True)
    # The outcome: counts, or row-level errors of a refused import.
    result = models.JSONField(_("result"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    document = models.ForeignKey(
        IssuedDocument, verbose_name=_("document"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("requested by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("background job")
        verbose_name_plural = _("background jobs")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["queued", "running", "done", "failed"]), name="job_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(done_steps__lte=models.F("total_steps")) | models.Q(total_steps=0),
                name="job_progress_bounded",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def percent(self):
        if self.status == self.Status.DONE:
            return 100
        if not self.total_steps:
            return 0
        return int(100 * self.done_steps / self.total_steps)

    @property
    def finished(self):
        return self.status in (self.Status.DONE, self.Status.FAILED)


class PasswordHistory(models.Model):
    """The hashes of a user's recent passwords, so that none of the last PORTAL_PASSWORD_HISTORY is chosen again.

    Written only by tangshan_portal.passwords when a password is set; older rows are deleted as new ones come."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="password_history"
    )
    # A hash in Django's "algorithm$…" form, exactly as in User.password; never the password itself.
    password = models.CharField(_("password hash"), max_length=128)
    created_at = models.DateTimeField(_("set at"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("previous password")
        verbose_name_plural = _("previous passwords")
        indexes = [models.Index(fields=["user", "-created_at"], name="password_history_user_idx")]

    def __str__(self):
        return f"{self.user_id} {self.created_at:%Y-%m-%d %H:%M}"


class AuthenticatorDevice(TOTPDevice):
    """django-otp's TOTP device under the portal's own name and permissions, for the security administrator's
    reset page (tangshan_portal/otp.py); the plugin's model says "TOTP device" in every language."""

    class Meta:
        proxy = True
        verbose_name = _("authenticator")
        verbose_name_plural = _("authenticators")
