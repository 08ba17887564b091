from django.db.models import Max
from django.utils.translation import gettext_lazy as _

from .models import WorkerHeartbeat


def last_worker_heartbeat():
    return WorkerHeartbeat.objects.aggregate(last=Max("seen_at"))["last"]


def home_role_sections():
    """What the portal offers each user group, in the order a visitor is most likely to need it."""
    return [
        {
            "key": "public",
            "title": _("The public"),
            "text": _(
                "Read the resource-pool directory of admitted providers, the excellent providers, the bureau's "
                "announcements and the blacklist of providers whose qualification was revoked."
            ),
        },
        {
            "key": "enterprise",
            "title": _("Pilot enterprises"),
            "text": _(
                "Follow your contracts and your enterprise dossier, acknowledge progress reports, sign the "
                "internal acceptance, rate your provider and file complaints with the bureau."
            ),
        },
        {
            "key": "provider",
            "title": _("Service providers"),
            "text": _(
                "Keep your registration and products up to date, report progress on your contracts, answer "
                "rectification notices and file appeals."
            ),
        },
        {
            "key": "bureau",
            "title": _("Bureau and county staff"),
            "text": _(
                "Admit providers to the pool, supervise contracts, run rectification and revocation cases "
                "with a full record of every decision; county bureaus see their own county."
            ),
        },
        {
            "key": "assessor",
            "title": _("Third-party institutions"),
            "text": _("Record digital-level assessments and acceptance evaluations for assigned enterprises."),
        },
    ]
