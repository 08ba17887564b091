"""The second factor (issue 8, classified protection level 3: identity authentication by two or more techniques).

An account that holds one of PORTAL_OTP_REQUIRED_ROLES (the bureau's, county, assessor, auditor and administrator
roles by default), and every superuser, must pass a time-based one-time code (TOTP, RFC 6238: any authenticator
app) in each session before any page of the portal or the admin opens; the admin uses the same session, so its
login ends in the same step. Without a device the account is sent to enrol one first: the page shows the secret
as text and as a QR code (drawn on the server, no script), and the device counts only once a code from it was
accepted. Providers and enterprises may enrol of their own accord; from then on their code is asked as well,
otherwise enrolling would protect nothing.

What django-otp gives and what this module adds:
- OTPMiddleware (django-otp) marks request.user verified when the session names a confirmed device of the user;
  `OTPRequiredMiddleware` below refuses everything else to a session that needs the code and lacks it.
- TOTPDevice.verify_token refuses a code of a time step at or before the last accepted one (no replay) and
  throttles: after n wrong codes the next attempt waits OTP_TOTP_THROTTLE_FACTOR × 2^(n-1) seconds.
- Every success, failure, enrolment and reset is an audit event.
- The security administrator resets a lost device in the admin (AuthenticatorDeviceAdmin: it deletes the device
  and shows no secret); the account then enrols again at its next login. The system administrator cannot: whoever
  keeps the accounts' passwords must not also control their second factor.

First enrolment trusts whoever holds the password at that moment (as any enrolment without a second channel does):
accounts are meant to enrol at their first login, and an account that already has a device can never replace it
from its own session; only a reset lets it enrol again.
"""

from base64 import b32encode
from urllib.parse import urlencode

import segno
from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.decorators import login_required
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django_otp import login as otp_login
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from .audit import record_event
from .models import AuditEvent, AuthenticatorDevice

# --- Policy ----------------------------------------------------------------------------------------------------


def otp_required(user):
    """Whether this account must pass a second factor (and enrol one if it has none): PORTAL_OTP_REQUIRED_ROLES and
    superusers, while PORTAL_OTP_ENABLED is on."""
    if not (user.is_authenticated and user.is_active and settings.PORTAL_OTP_ENABLED):
        return False
    if user.is_superuser:
        return True
    required = set(settings.PORTAL_OTP_REQUIRED_ROLES)
    return any(role.value in required for role in user.roles)


def confirmed_device(user):
    """The account's confirmed authenticator, or None."""
    if not user.is_authenticated:
        return None
    return TOTPDevice.objects.filter(user_id=user.pk, confirmed=True).order_by("pk").first()


def otp_needed(user):
    """Whether this session must pass a code: the account is required to, or enrolled a device of its own accord."""
    return otp_required(user) or confirmed_device(user) is not None


# --- Enforcement -----------------------------------------------------------------------------------------------

# What a session that still owes its code may open: the way out, the language switch, the code pages themselves
# and the health check. The password pages are not here: with an expired password the code comes first
# (sessions.PASSWORD_EXPIRY_EXEMPT_URLS lets the code pages through), so the password is never changed by
# someone who only knows the old one.
EXEMPT_URLS = ("logout", "admin:logout", "set_language", "otp_setup", "otp_verify", "healthz", "readyz")
# The API answers in JSON: a redirect to an HTML form helps no API client.
API_PREFIX = "/api/"


def _exempt_paths():
    paths = set()
    for name in EXEMPT_URLS:
        try:
            paths.add(reverse(name))
        except NoReverseMatch:  # readyz exists only in some deployments' URL confs
            continue
    return frozenset(paths)


def _with_next(url, next_url):
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


class OTPRequiredMiddleware:
    """Sends an authenticated session that owes its second factor to enrolment (no device yet) or to the code
    page, and answers 403 in JSON under /api/. Place it after django_otp's OTPMiddleware and the portal's session
    middleware."""

    def __init__(self, get_response):
        self.get_response = get_response
        self._exempt = None

    def exempt(self, path):
        if self._exempt is None:
            self._exempt = _exempt_paths()
        static = settings.STATIC_URL if settings.STATIC_URL.startswith("/") else "/" + settings.STATIC_URL
        return path in self._exempt or path.startswith(static)

    def __call__(self, request):
        # As in sessions.PortalSessionMiddleware: without a session cookie there is nobody to check, and leaving
        # request.user untouched keeps the public pages' answers free of "Vary: Cookie".
        if settings.SESSION_COOKIE_NAME in request.COOKIES and request.user.is_authenticated:
            response = self.check(request)
            if response is not None:
                return response
        return self.get_response(request)

    def check(self, request):
        user = request.user
        if not hasattr(user, "is_verified"):
            # Without django-otp's middleware nobody would ever count as verified: refuse to run rather than
            # lock everyone out, or, worse, be "fixed" by taking this middleware out.
            raise ImproperlyConfigured("tangshan_portal.otp.OTPRequiredMiddleware needs OTPMiddleware before it.")
        if user.is_verified() or self.exempt(request.path):
            return None
        device = confirmed_device(user)
        if device is None and not otp_required(user):
            return None
        if request.path_info.startswith(API_PREFIX):
            return JsonResponse(
                {"detail": gettext("This session has not passed the second factor yet: enter your one-time code.")},
                status=403,
            )
        target = reverse("otp_verify" if device is not None else "otp_setup")
        return redirect(_with_next(target, request.get_full_path()))


@checks.register(checks.Tags.security)
def check_second_factor_middleware(app_configs, **kwargs):
    """Without its middleware, or with it before django-otp's, the requirement silently does nothing (or locks
    everyone out): `manage.py check` (and so every start and the CI) fails instead."""
    middleware = list(settings.MIDDLEWARE)
    ours, theirs = "tangshan_portal.otp.OTPRequiredMiddleware", "django_otp.middleware.OTPMiddleware"
    if ours not in middleware or theirs not in middleware or middleware.index(theirs) > middleware.index(ours):
        return [
            checks.Error(
                f"The second factor needs {theirs} and, after it, {ours} in MIDDLEWARE.",
                id="portal.E030",
            )
        ]
    return []


@checks.register(checks.Tags.security, deploy=True)
def check_second_factor_enabled(app_configs, **kwargs):
    if settings.PORTAL_OTP_ENABLED and settings.PORTAL_OTP_REQUIRED_ROLES:
        return []
    return [
        checks.Warning(
            "The second factor is not required of any role (PORTAL_OTP_ENABLED / PORTAL_OTP_REQUIRED_ROLES): "
            "classified protection level 3 asks for two factors for administrators.",
            id="portal.W031",
        )
    ]


# --- Codes -----------------------------------------------------------------------------------------------------


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("One-time code"),
        max_length=16,
        help_text=_("The 6-digit code your authenticator app shows now."),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True, "size": 8}
        ),
    )

    def clean_code(self):
        code = "".join(self.cleaned_data["code"].split())
        if not code.isdigit() or len(code) not in (6, 8):
            raise forms.ValidationError(_("Enter the 6 digits your authenticator app shows."), code="format")
        return code


def _already_used(device, code):
    """Whether the code is right for a time step that was already used (a replay or a double submission)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return totp.verify(int(code), device.tolerance) and totp.t() <= device.last_t


def check_code(device_pk, code):
    """Try the code on the device under a row lock (so two concurrent tries cannot both pass or dodge the
    throttle). Returns (device, None) when accepted, else (device, why): "throttled", "reused" or "wrong".
    For "throttled" the device's verify_is_allowed() says until when."""
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().get(pk=device_pk)
        allowed, _info = device.verify_is_allowed()
        if not allowed:
            return device, "throttled"
        if device.verify_token(code):
            return device, None
        # verify_token has counted the failure (and committed it with the request).
        return device, "reused" if _already_used(device, code) else "wrong"


def _refusal(device, why):
    if why == "throttled":
        _allowed, info = device.verify_is_allowed()
        until = (info or {}).get("locked_until") or timezone.now()
        return gettext("Too many wrong codes. Please wait until %(time)s, then enter the current code.") % {
            "time": date_format(timezone.localtime(until), "H:i:s")
        }
    if why == "reused":
        return gettext("This code was already used. Please wait for the next code and enter that one.")
    return gettext("The code is not correct. Please enter the code your authenticator app shows now.")


def _audit_failure(request, device, why, stage):
    record_event(
        AuditEvent.Action.OTP_FAILED,
        request=request,
        obj=device.user,
        success=False,
        stage=stage,
        reason=why,
        failures=device.throttling_failure_count,
    )


def _pass(request, device, stage):
    otp_login(request, device)
    # A new session key for the session that gained the second factor: a key seen before this point (on a
    # shared machine, in a log) is worth nothing afterwards.
    request.session.cycle_key()
    record_event(AuditEvent.Action.OTP_VERIFIED, request=request, obj=device.user, stage=stage)


def _next_url(request):
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return ""


def _go_on(request, next_url):
    return redirect(next_url or settings.LOGIN_REDIRECT_URL)


# --- Pages -----------------------------------------------------------------------------------------------------


def _qr_svg(device):
    """The device's otpauth:// address as an inline SVG QR code: no script, no image request, no data: URL (the
    content security policy allows images from the portal only)."""
    qr = segno.make(device.config_url, error="m", micro=False)
    return qr.svg_inline(border=4, dark="#000", light="#fff", omitsize=True, svgclass="otp-qr", lineclass=None)


def _grouped(secret):
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@never_cache
@login_required
def otp_setup(request):
    """Enrol an authenticator: the secret (text and QR code), then one code from it to confirm it.

    An account that has a device already sees its state here (and, before its code, is sent to the code page)."""
    user, next_url = request.user, _next_url(request)
    device = confirmed_device(user)
    if device is not None:
        if not user.is_verified():
            return redirect(_with_next(reverse("otp_verify"), next_url))
        return render(request, "registration/otp_status.html", {"device": device, "required": otp_required(user)})

    # The same pending device until it is confirmed: reloading the page must not invalidate the app just set up.
    pending = TOTPDevice.objects.filter(user_id=user.pk, confirmed=False).order_by("-pk").first()
    if pending is None:
        pending = TOTPDevice.objects.create(user=user, name=str(_("Authenticator app")), confirmed=False)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device, why = check_code(pending.pk, form.cleaned_data["code"])
        if why is None:
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            TOTPDevice.objects.filter(user_id=user.pk, confirmed=False).delete()
            record_event(AuditEvent.Action.OTP_ENROLLED, request=request, obj=user, device=device.persistent_id)
            _pass(request, device, "enrol")
            messages.success(request, gettext("Two-step verification is on for your account."))
            return _go_on(request, next_url)
        _audit_failure(request, device, why, "enrol")
        form.add_error(None, _refusal(device, why))
        pending = device
    secret = b32encode(pending.bin_key).decode("ascii").rstrip("=")
    return render(
        request,
        "registration/otp_setup.html",
        {
            "form": form,
            "next": next_url,
            "secret": _grouped(secret),
            "qr_svg": _qr_svg(pending),
            "issuer": settings.OTP_TOTP_ISSUER,
            "required": otp_required(user),
            "digits": pending.digits,
            "step": pending.step,
        },
    )


@never_cache
@login_required
def otp_verify(request):
    """The code that completes the login of an account with a device."""
    user, next_url = request.user, _next_url(request)
    if user.is_verified():
        return _go_on(request, next_url)
    device = confirmed_device(user)
    if device is None:
        if otp_required(user):
            return redirect(_with_next(reverse("otp_setup"), next_url))
        return _go_on(request, next_url)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device, why = check_code(device.pk, form.cleaned_data["code"])
        if why is None:
            _pass(request, device, "login")
            return _go_on(request, next_url)
        _audit_failure(request, device, why, "login")
        form.add_error(None, _refusal(device, why))
    return render(request, "registration/otp_verify.html", {"form": form, "next": next_url})


# --- The security administrator's reset ------------------------------------------------------------------------


class AuthenticatorDeviceAdmin(admin.ModelAdmin):
    """The authenticators of all accounts, for the security administrator: who enrolled when, last use, failed
    attempts; deleting one resets the account's second factor. No secret, no QR code, no adding or editing: a
    device is only ever created by its owner on the enrolment page."""

    list_display = ("account", "organisation", "confirmed_label", "created", "last_used", "failures")
    list_filter = ("confirmed",)
    search_fields = ("user__username", "user__full_name")
    list_select_related = ("user", "user__organisation")
    fields = ("account", "organisation", "confirmed_label", "created", "last_used", "failures")
    readonly_fields = fields
    actions = ["reset_devices"]

    @admin.display(description=_("account"), ordering="user__username")
    def account(self, device):
        return f"{device.user.get_username()} ({device.user})"

    @admin.display(description=_("organisation"))
    def organisation(self, device):
        return device.user.organisation or "—"

    @admin.display(description=_("confirmed"), boolean=True, ordering="confirmed")
    def confirmed_label(self, device):
        return device.confirmed

    @admin.display(description=_("enrolled"), ordering="created_at")
    def created(self, device):
        return device.created_at

    @admin.display(description=_("last used"), ordering="last_used_at")
    def last_used(self, device):
        return device.last_used_at

    @admin.display(description=_("failed attempts"))
    def failures(self, device):
        return device.throttling_failure_count

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        # The action below records each reset; Django's bulk delete would not say whose factor it removed.
        actions.pop("delete_selected", None)
        return actions

    @admin.action(description=_("Reset the second factor of the selected accounts"), permissions=["delete"])
    def reset_devices(self, request, queryset):
        count = reset_devices(queryset, request=request)
        self.message_user(
            request,
            ngettext(
                "%(count)d authenticator reset: its account sets up a new one at its next login.",
                "%(count)d authenticators reset: their accounts set up new ones at their next login.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )

    def delete_model(self, request, obj):
        reset_devices(type(obj).objects.filter(pk=obj.pk), request=request)

    def delete_queryset(self, request, queryset):
        reset_devices(queryset, request=request)


def reset_devices(queryset, *, request=None):
    """Delete these authenticators, one audit event each. A session verified with one of them counts as
    unverified from its next request on (OTPMiddleware finds no device), so its owner must enrol again."""
    count = 0
    with transaction.atomic():
        # Locked by primary key: the admin's queryset joins the nullable organisation, which FOR UPDATE refuses.
        devices = TOTPDevice.objects.filter(pk__in=list(queryset.values_list("pk", flat=True)))
        for device in devices.select_related("user").select_for_update(of=("self",)).order_by("pk"):
            record_event(
                AuditEvent.Action.OTP_RESET,
                request=request,
                obj=device.user,
                # The plugin's id (as sessions and the enrolment's event name it), not the proxy's.
                device=f"{TOTPDevice.model_label()}/{device.pk}",
                confirmed=device.confirmed,
            )
            device.delete()
            count += 1
    return count


def register_device_admin(site):
    """Put AuthenticatorDeviceAdmin in place of django-otp's device admin, which shows every secret and QR code to
    anyone who may view devices. Importing the plugin's admin here first means its registration has happened
    whatever the app order, so the unregister cannot be undone by a later autodiscover."""
    import django_otp.plugins.otp_totp.admin  # noqa: F401

    if site.is_registered(TOTPDevice):
        site.unregister(TOTPDevice)
    site.register(AuthenticatorDevice, AuthenticatorDeviceAdmin)
