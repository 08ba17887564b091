import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpResponseServerError, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template import loader
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from . import selectors
from .audit import record_denial, record_event
from .models import AuditEvent
from .passwords import password_expired, password_expires_at, password_set_by_administrator
from .services import notification_mark_read, notifications_for

logger = logging.getLogger(__name__)


@require_GET
def home(request):
    return render(request, "portal/home.html", {"roles": selectors.home_role_sections()})


# Both probes run outside ATOMIC_REQUESTS: its transaction would open a database connection before the view runs,
# and an unreachable database would then answer 500 from Django instead of 200 (healthz) or 503 (readyz).
@transaction.non_atomic_requests
@never_cache
@require_GET
def healthz(request):
    """Liveness: the process answers. No dependency is asked, on purpose: when PostgreSQL or Redis blips, an
    orchestrator that restarts failed containers must not restart every web node (that is /readyz's business:
    take the node out of rotation until it is ready again)."""
    return JsonResponse({"status": "ok"})


# Migrations found all applied once stay applied for the life of the process (a new deployment restarts it), so
# the migration plan, which loads every migration file, is computed only until it first comes out empty.
_migrations_applied = False


def _migrations_pending():
    global _migrations_applied
    if _migrations_applied:
        return False
    executor = MigrationExecutor(connection)
    pending = bool(executor.migration_plan(executor.loader.graph.leaf_nodes()))
    _migrations_applied = not pending
    return pending


@transaction.non_atomic_requests
@never_cache
@require_GET
def readyz(request):
    """Readiness for load balancers and orchestrators: 200 when this node can serve (the database answers, every
    migration is applied, the cache answers when REDIS_URL is set), else 503. The body names the failed check,
    never the error (the log has it, with the request id)."""
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        checks["database"] = "ok"
    except Exception:  # any driver error means "not ready", which is what the probe must report
        logger.exception("readyz: database check failed")
        checks["database"] = "error"
    if checks["database"] == "ok":
        try:
            checks["migrations"] = "pending" if _migrations_pending() else "ok"
        except Exception:
            logger.exception("readyz: migration check failed")
            checks["migrations"] = "error"
    if settings.REDIS_URL:
        try:
            cache.set("readyz", "ok", 5)
            if cache.get("readyz") != "ok":
                raise RuntimeError("cache round-trip returned another value")
            checks["redis"] = "ok"
        except Exception:
            logger.exception("readyz: redis check failed")
            checks["redis"] = "error"
    ready = all(value == "ok" for value in checks.values())
    if checks.get("migrations") == "ok":  # the heartbeat table may not exist before the first migrate
        last = selectors.last_worker_heartbeat()
        # Informational: a web node stays in rotation even while the workers are being restarted.
        checks["worker_last_seen"] = last.isoformat() if last else None
    checks["time"] = timezone.now().isoformat()
    return JsonResponse({"status": "ok" if ready else "error", "checks": checks}, status=200 if ready else 503)


@login_required
def password_change(request):
    """The user's own password change; also where an expired password sends every page (sessions.py).

    The form checks the whole policy (settings.AUTH_PASSWORD_VALIDATORS) with the user, so the history is
    checked too, and saving writes the history and restarts the password's age (passwords.py)."""
    expires_at = password_expires_at(request.user)
    expired = password_expired(request.user)
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        update_session_auth_hash(request, user)
        record_event(
            AuditEvent.Action.PASSWORD_CHANGED,
            request=request,
            actor=user,
            obj=user,
            **({"expired": True} if expired else {}),
        )
        messages.success(request, _("Your password was changed."))
        return redirect("password_change_done")
    return render(
        request,
        "registration/password_change_form.html",
        {
            "form": form,
            "password_expired": expired,
            "password_set_by_administrator": password_set_by_administrator(request.user),
            "password_expires_at": expires_at,
            "password_max_age_days": settings.PORTAL_PASSWORD_MAX_AGE_DAYS,
        },
    )


def permission_denied(request, exception=None):
    # Outside the view's rolled-back transaction; AuditContextMiddleware records the 403 answers that do not come
    # through here (the API's, the admin's refusal pages, a CSRF failure).
    record_denial(request, reason=exception)
    return render(request, "403.html", status=403)


def page_not_found(request, exception=None):
    return render(request, "404.html", status=404)


def server_error(request):
    # No context processors, session or database here: the failure may be any of them.
    body = loader.get_template("500.html").render({"PORTAL_SITE_TITLE": settings.PORTAL_SITE_TITLE})
    return HttpResponseServerError(body)


# --- Notifications in the portal ------------------------------------------------------------------------

NOTIFICATIONS_PER_PAGE = 20


def _local_path(url, request):
    """The URL if it is a path on this site (never another host, scheme or protocol-relative URL), else ''."""
    if url and url.startswith("/") and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}):
        return url
    return ""


@require_GET
@login_required
def notifications(request):
    mine = notifications_for(request.user).order_by("-created_at", "-id")
    page = Paginator(mine, NOTIFICATIONS_PER_PAGE).get_page(request.GET.get("page"))
    for notification in page.object_list:
        notification.local_link = _local_path(notification.link, request)
    return render(
        request,
        "portal/notifications.html",
        {"page": page},
    )


@require_POST
@login_required
def notification_read(request, pk):
    """Mark one of the user's own notifications read, then open what it is about when that is a page of this
    site, else go back to where the user was."""
    notification = get_object_or_404(notifications_for(request.user), pk=pk)
    notification_mark_read(notification=notification, user=request.user)
    if target := _local_path(notification.link, request):
        return redirect(target)
    return redirect(_local_path(request.POST.get("next", ""), request) or reverse("notifications"))
