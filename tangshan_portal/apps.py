from django.apps import AppConfig
from django.conf import settings
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "tangshan_portal"
    # A short label keeps table names and AUTH_USER_MODEL ("portal.User") independent of the city.
    label = "portal"
    verbose_name = _("Portal")

    def ready(self):
        from . import signals  # noqa: F401  (connects the audit receivers)

        # The filesystem broker needs its folders before the first message; creating them here means
        # neither the web process nor the worker depends on who started first.
        for folder in getattr(settings, "CELERY_FILESYSTEM_DIRS", []):
            folder.mkdir(parents=True, exist_ok=True)
