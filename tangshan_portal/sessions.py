"""Who may keep a session, and for how long (issue 8, classified protection level 3: identity authentication).

- A session ends after PORTAL_SESSION_IDLE_MINUTES without a request (PORTAL_SESSION_STAFF_IDLE_MINUTES for
  staff, whose accounts reach the admin), and PORTAL_SESSION_ABSOLUTE_HOURS after the login, however busy.
- A password older than PORTAL_PASSWORD_MAX_AGE_DAYS must be changed before any other page opens.
- Disabling an account, or its organisation, ends its sessions at once (`end_sessions`, called by signals).
- After PORTAL_LOCKOUT_FAILURES failed logins, a user name is locked from that address for
  PORTAL_LOCKOUT_MINUTES (django-axes); `lockout_response` is the page that says until when.
"""

from datetime import timedelta
from importlib import import_module

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY, logout
from django.db.models import Max
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

# Session keys. Timestamps are POSIX seconds so that the JSON session serializer stores them as they are.
LOGIN_AT = "portal_login_at"
LAST_ACTIVITY = "portal_last_activity"

# The last-activity mark is rewritten at most this often, so that a burst of requests does not write the
# session row on each one. The idle timeout can only come this much early, never late.
ACTIVITY_RESOLUTION_SECONDS = 60


def session_started(session, now=None):
    """Mark a fresh login; called when a user logs in (signals.session_mark_login)."""
    stamp = (now or timezone.now()).timestamp()
    session[LOGIN_AT] = stamp
    session[LAST_ACTIVITY] = stamp


def idle_limit(user):
    minutes = settings.PORTAL_SESSION_STAFF_IDLE_MINUTES if user.is_staff else settings.PORTAL_SESSION_IDLE_MINUTES
    return timedelta(minutes=minutes)


def session_end_reason(session, user, now):
    """'absolute' or 'idle' when the session must end now, else None.

    A logged-in session without the marks (one from before this policy, or one forged into the store by
    hand) is treated as expired: failing closed costs one extra login."""
    login_at, last_activity = session.get(LOGIN_AT), session.get(LAST_ACTIVITY)
    if login_at is None or last_activity is None:
        return "absolute"
    stamp = now.timestamp()
    if stamp - login_at >= settings.PORTAL_SESSION_ABSOLUTE_HOURS * 3600:
        return "absolute"
    if stamp - last_activity >= idle_limit(user).total_seconds():
        return "idle"
    return None


def _ended_message(reason, user):
    if reason == "idle":
        minutes = int(idle_limit(user).total_seconds() // 60)
        return ngettext(
            "You were logged out after %(minutes)d minute without activity. Please log in again.",
            "You were logged out after %(minutes)d minutes without activity. Please log in again.",
            minutes,
        ) % {"minutes": minutes}
    hours = settings.PORTAL_SESSION_ABSOLUTE_HOURS
    return ngettext(
        "You were logged out because a login lasts at most %(hours)d hour. Please log in again.",
        "You were logged out because a login lasts at most %(hours)d hours. Please log in again.",
        hours,
    ) % {"hours": hours}


# Pages an account with an expired password may still open: the way out and the way to a new password.
PASSWORD_EXPIRY_EXEMPT_URLS = (
    "password_change",
    "password_change_done",
    "logout",
    "set_language",
    "admin:password_change",
    "admin:password_change_done",
    "admin:logout",
    # The second factor comes before the new password (tangshan_portal/otp.py), so these stay open.
    "otp_setup",
    "otp_verify",
)


class PortalSessionMiddleware:
    """Ends sessions that are idle or too old, and sends accounts with an expired password to the password page.

    An ended session continues as an anonymous request, with a message: public pages still show, login_required
    pages send the visitor to the login page, and the API answers 401/403 as for anyone without a session."""

    def __init__(self, get_response):
        self.get_response = get_response
        self._exempt_paths = None

    def exempt_paths(self):
        if self._exempt_paths is None:
            self._exempt_paths = frozenset(reverse(name) for name in PASSWORD_EXPIRY_EXEMPT_URLS)
        return self._exempt_paths

    def __call__(self, request):
        # Without a session cookie there is no login to check, and not touching request.user keeps anonymous
        # answers free of "Vary: Cookie" (the public pages and open data are cached).
        if settings.SESSION_COOKIE_NAME in request.COOKIES and request.user.is_authenticated:
            response = self.check(request)
            if response is not None:
                return response
        return self.get_response(request)

    def check(self, request):
        from .passwords import password_expired, password_set_by_administrator

        user, session, now = request.user, request.session, timezone.now()
        reason = session_end_reason(session, user, now)
        if reason is not None:
            message = _ended_message(reason, user)
            request.portal_session_end = reason  # the audit's logout record says why (signals.audit_logout)
            logout(request)
            messages.info(request, message)
            return None
        if now.timestamp() - session[LAST_ACTIVITY] >= ACTIVITY_RESOLUTION_SECONDS:
            session[LAST_ACTIVITY] = now.timestamp()
        if password_expired(user, now) and request.path not in self.exempt_paths():
            days = settings.PORTAL_PASSWORD_MAX_AGE_DAYS
            if password_set_by_administrator(user):
                message = _("Your password was set by an administrator. Please choose your own to continue.")
            else:
                message = ngettext(
                    "Your password is more than %(days)d day old. Please choose a new one to continue.",
                    "Your password is more than %(days)d days old. Please choose a new one to continue.",
                    days,
                ) % {"days": days}
            messages.warning(request, message)
            return redirect("password_change")
        return None


def end_sessions(*, user_ids):
    """Delete every stored session of these users; returns how many ended.

    The session store keeps no index by user, so the live sessions are read and decoded: a few thousand rows
    for a city portal. This needs a database-backed SESSION_ENGINE (db or cached_db, see settings); deleting
    through the engine's SessionStore also drops a cached_db copy from the cache."""
    from django.contrib.sessions.models import Session

    wanted = {str(pk) for pk in user_ids}
    if not wanted:
        return 0
    store = import_module(settings.SESSION_ENGINE).SessionStore
    ended = 0
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if str(session.get_decoded().get(SESSION_KEY)) in wanted:
            store(session_key=session.session_key).delete()
            ended += 1
    return ended


def lockout_response(request, original_response, credentials):
    """The page for a login refused by the lockout (AXES_LOCKOUT_CALLABLE): when to try again, in words.

    The time is the latest counted failure plus the cool-off. Failures during a lockout do not move it
    (AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT is off), so the time shown holds."""
    from axes.handlers.proxy import AxesProxyHandler
    from axes.helpers import get_cool_off, get_failure_limit

    cool_off = get_cool_off(request)
    context = {"failure_limit": get_failure_limit(request, credentials), "retry_at": None}
    if cool_off is not None:  # None would be a permanent lock, lifted only by an administrator
        latest = None
        for attempts in AxesProxyHandler.get_implementation().get_user_attempts(request, credentials):
            found = attempts.aggregate(latest=Max("attempt_time"))["latest"]
            if found is not None and (latest is None or found > latest):
                latest = found
        context["retry_at"] = (latest or timezone.now()) + cool_off
        context["lockout_minutes"] = int(cool_off.total_seconds() // 60)
    return render(request, "registration/lockout.html", context, status=settings.AXES_HTTP_RESPONSE_CODE)
