"""Every saved public record writes a PublicChange row in the same transaction. Signals rather than calls in
each service, because public data change through many services (admission, every standing change, appeals,
registration changes, catalogue edits); bulk `.update()` on these models is therefore avoided in the code."""

from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.signals import m2m_changed, post_save
from django.dispatch import receiver

from enterprises.models import ContractStatus, ServiceContract
from evaluations.models import BlacklistEntry, ExcellentBatch, ExcellentEntry
from providers.models import Product, Provider
from tangshan_portal.models import Announcement

from .models import PublicChange, PublicVersion


def _changed(resource, object_id):
    # The version first: its row lock orders the public changes by commit (see PublicVersion).
    if not PublicVersion.objects.filter(pk=1).update(value=F("value") + 1):
        try:
            with transaction.atomic():
                PublicVersion.objects.create(pk=1, value=1)
        except IntegrityError:
            PublicVersion.objects.filter(pk=1).update(value=F("value") + 1)
    PublicChange.objects.create(resource=resource, object_id=object_id)


@receiver(post_save, sender=BlacklistEntry, dispatch_uid="opendata_blacklist")
def blacklist_saved(sender, instance, raw=False, **kwargs):
    if not raw:
        _changed(PublicChange.Resource.BLACKLIST, instance.pk)


@receiver(post_save, sender=Provider, dispatch_uid="opendata_provider")
def provider_saved(sender, instance, raw=False, **kwargs):
    if not raw:
        _changed(PublicChange.Resource.PROVIDER, instance.pk)


@receiver(post_save, sender=Product, dispatch_uid="opendata_product")
def product_saved(sender, instance, raw=False, **kwargs):
    if not raw:
        _changed(PublicChange.Resource.PROVIDER, instance.provider_id)


@receiver(post_save, sender=ServiceContract, dispatch_uid="opendata_contract")
def contract_saved(sender, instance, raw=False, **kwargs):
    # The directory lists the counties a provider serves, read from its signed contracts.
    if not raw and instance.status != ContractStatus.DRAFT:
        _changed(PublicChange.Resource.PROVIDER, instance.provider_id)


@receiver(m2m_changed, sender=Provider.scenarios.through, dispatch_uid="opendata_provider_scenarios")
def provider_scenarios_changed(sender, instance, action, reverse=False, **kwargs):
    if action in ("post_add", "post_remove", "post_clear") and not reverse:
        _changed(PublicChange.Resource.PROVIDER, instance.pk)


@receiver(post_save, sender=ExcellentBatch, dispatch_uid="opendata_excellent_batch")
def excellent_batch_saved(sender, instance, raw=False, **kwargs):
    if not raw:
        _changed(PublicChange.Resource.EXCELLENT, instance.pk)


@receiver(post_save, sender=ExcellentEntry, dispatch_uid="opendata_excellent_entry")
def excellent_entry_saved(sender, instance, raw=False, **kwargs):
    if not raw:
        _changed(PublicChange.Resource.EXCELLENT, instance.batch_id)


@receiver(post_save, sender=Announcement, dispatch_uid="opendata_announcement")
def announcement_saved(sender, instance, raw=False, **kwargs):
    if not raw:
        _changed(PublicChange.Resource.ANNOUNCEMENT, instance.pk)
