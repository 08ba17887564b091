from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ComplaintsConfig(AppConfig):
    name = "complaints"
    verbose_name = _("Complaints and appeals")

    def ready(self):
        from evaluations.selectors import register_appeal_check

        from .services import pending_appeal_targets

        # A revocation proposal cannot be approved while any of its evidence is under a pending appeal.
        register_appeal_check(pending_appeal_targets)
