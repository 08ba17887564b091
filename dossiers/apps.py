from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DossiersConfig(AppConfig):
    """The one-enterprise-one-dossier (Art 6(2)): a read-only page over every app's records; no models."""

    name = "dossiers"
    verbose_name = _("Enterprise dossiers")
