from django.apps import AppConfig
from django.conf import settings
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "tangshan_portal"
    # A short label keeps table names and AUTH_USER_MODEL ("portal.User") independent of the city.
    label = "portal"
    verbose_name = _("Portal")

    def ready(self):
        from django.db.models.signals import post_migrate

        from . import signals  # noqa: F401  (connects the audit receivers)

        post_migrate.connect(_sync_schedules_after_migrate, sender=self, dispatch_uid="portal_sync_schedules")

        # The filesystem broker needs its folders before the first message; creating them here means
        # neither the web process nor the worker depends on who started first.
        for folder in getattr(settings, "CELERY_FILESYSTEM_DIRS", []):
            folder.mkdir(parents=True, exist_ok=True)


def _sync_schedules_after_migrate(sender, using, **kwargs):
    # Every deployment runs migrate; syncing here means the beat schedule can never lag behind the code.
    from .schedules import sync_schedules

    sync_schedules(using=using)
