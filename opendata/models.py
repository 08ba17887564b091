from django.db import models
from django.utils.translation import gettext_lazy as _


class PublicChange(models.Model):
    """One change of public data (a blacklist entry, a pool provider, an excellent-provider batch, an
    announcement), written in the transaction that made it.

    Its id is the change feed's cursor (`/api/v1/changes/?after=`) and the newest id is the version of every
    cached public page and API answer, so a committed change is visible on the next request in every process,
    whatever the cache backend."""

    class Resource(models.TextChoices):
        BLACKLIST = "blacklist", _("Blacklist entry")
        PROVIDER = "provider", _("Provider")
        EXCELLENT = "excellent", _("Excellent-provider batch")
        ANNOUNCEMENT = "announcement", _("Announcement")

    id = models.BigAutoField(primary_key=True)
    resource = models.CharField(_("resource"), max_length=20, choices=Resource.choices)
    object_id = models.PositiveBigIntegerField(_("object id"))
    changed_at = models.DateTimeField(_("changed"), auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("public data change")
        verbose_name_plural = _("public data changes")
        indexes = [models.Index(fields=["resource", "id"], name="publicchange_resource_idx")]

    def __str__(self):
        return f"{self.id} {self.resource}:{self.object_id}"


class PublicVersion(models.Model):
    """One row: incremented by every transaction that changes public data, before it writes its PublicChange.

    The increment's row lock is held until commit, so transactions that change public data commit one after the
    other and the counter (and the PublicChange ids written after it) grow in commit order. Reading the counter
    therefore never misses a change that committed out of order, which the newest PublicChange id alone could."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    value = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name = _("public data version")
        verbose_name_plural = _("public data version")

    def __str__(self):
        return str(self.value)
