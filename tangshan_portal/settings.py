"""The one settings file. Everything that differs between machines or cities comes from the environment.

A city other than the default adopts the portal by setting the PORTAL_* variables below (names, document
prefix, county list) and the policy numbers; no code changes.
"""

import json
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from tangshan_portal.logs import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name, default=""):
    return os.environ.get(name, default)


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name, default):
    value = os.environ.get(name)
    return default if value in (None, "") else int(value)


def env_float(name, default):
    value = os.environ.get(name)
    return default if value in (None, "") else float(value)


def env_list(name, default=()):
    value = os.environ.get(name)
    if value in (None, ""):
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", True)

# A development key is only acceptable while DEBUG is on; production must bring its own.
_DEV_SECRET_KEY = "dev-only-insecure-key-never-use-in-production"  # noqa: S105 (refused when DEBUG is off)
SECRET_KEY = env_str("DJANGO_SECRET_KEY", _DEV_SECRET_KEY if DEBUG else "")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

if not DEBUG:
    if not SECRET_KEY or SECRET_KEY == _DEV_SECRET_KEY or len(SECRET_KEY) < 50:
        raise ImproperlyConfigured(
            "DJANGO_DEBUG=0 requires DJANGO_SECRET_KEY: a random value of at least 50 characters."
        )
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("DJANGO_DEBUG=0 requires DJANGO_ALLOWED_HOSTS (comma-separated host names).")

INSTALLED_APPS = [
    "tangshan_portal.apps.PortalConfig",
    "providers",
    "enterprises",
    "evaluations",
    "complaints",
    "dossiers",
    "opendata",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_fsm_log",
    "django_celery_beat",
    "django_celery_results",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    # Admin XLSX import/export (issue 7); its templates and static files need the app installed.
    "import_export",
    "drf_spectacular_sidecar",
    # Content-Security-Policy (issue 8): the app registers django-csp's checks of the policy settings.
    "csp",
    # Login lockout (issue 8, see the authentication block below).
    "axes",
    # The second factor (TOTP, issue 8; tangshan_portal/otp.py).
    "django_otp",
    "django_otp.plugins.otp_totp",
]

MIDDLEWARE = [
    # First: every request gets its id and access log line, including the ones the middleware below answers.
    "tangshan_portal.logs.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Outside WhiteNoise so that static files carry the policy too (an SVG opened on its own runs no script).
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "tangshan_portal.middleware.PortalLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Tells request.user whether this session passed the second factor (user.is_verified()).
    "django_otp.middleware.OTPMiddleware",
    # Gives audit events written outside a view (signals) the request's actor, address and path.
    "tangshan_portal.audit.AuditContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Idle and absolute session timeouts, forced password change (issue 8): after authentication and messages.
    "tangshan_portal.sessions.PortalSessionMiddleware",
    # No page for an account that needs the second factor until this session passed it (tangshan_portal/otp.py):
    # after the session checks, so an ended session is anonymous here and an expired password waits for the code.
    "tangshan_portal.otp.OTPRequiredMiddleware",
    # Turns a login refused by the lockout into the lockout page; django-axes asks to be last.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "tangshan_portal.urls"
WSGI_APPLICATION = "tangshan_portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "tangshan_portal.context_processors.portal",
            ],
        },
    },
]

# SQLite is the embedded default so that `make run` needs no server; DATABASE_URL selects PostgreSQL.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
    )
}
# A request that fails leaves nothing half saved.
DATABASES["default"]["ATOMIC_REQUESTS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Without a busy timeout the web process and the Celery worker trip over each other's write locks.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "portal.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

# --- Authentication (issue 8, item 1; classified protection level 3) --------------------------------------
# Guarded by tests/test_auth_policy.py. Every number is the city's to set; the names are in README.md.
#
# Passwords: at least PORTAL_PASSWORD_MIN_LENGTH characters of at least PORTAL_PASSWORD_MIN_CLASSES of the four
# kinds (upper-case, lower-case, digits, symbols); not a common password, not like the user name, full name,
# e-mail or phone; none of the last PORTAL_PASSWORD_HISTORY passwords; changed every
# PORTAL_PASSWORD_MAX_AGE_DAYS days (0: never expires). PasswordHistoryValidator also restarts a password's age
# when it is set, so it stays in the list even with PORTAL_PASSWORD_HISTORY=0 (which only stops the reuse check).
PORTAL_PASSWORD_MIN_LENGTH = env_int("PORTAL_PASSWORD_MIN_LENGTH", 10)
PORTAL_PASSWORD_MIN_CLASSES = env_int("PORTAL_PASSWORD_MIN_CLASSES", 3)
PORTAL_PASSWORD_HISTORY = env_int("PORTAL_PASSWORD_HISTORY", 5)
PORTAL_PASSWORD_MAX_AGE_DAYS = env_int("PORTAL_PASSWORD_MAX_AGE_DAYS", 90)
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("username", "full_name", "email", "phone")},
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": PORTAL_PASSWORD_MIN_LENGTH},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {
        "NAME": "tangshan_portal.passwords.CharacterClassesValidator",
        "OPTIONS": {"min_classes": PORTAL_PASSWORD_MIN_CLASSES},
    },
    {"NAME": "tangshan_portal.passwords.PasswordHistoryValidator", "OPTIONS": {"history": PORTAL_PASSWORD_HISTORY}},
]

# Lockout (django-axes): PORTAL_LOCKOUT_FAILURES failed logins for one user name from one address lock that pair
# for PORTAL_LOCKOUT_MINUTES. Keyed by both, so nobody can lock a colleague out from elsewhere, and one address
# cannot guess at one account for ever. Each lockout is written to the audit log (tangshan_portal/signals.py).
PORTAL_LOCKOUT_FAILURES = env_int("PORTAL_LOCKOUT_FAILURES", 5)
PORTAL_LOCKOUT_MINUTES = env_int("PORTAL_LOCKOUT_MINUTES", 30)
AXES_FAILURE_LIMIT = PORTAL_LOCKOUT_FAILURES
AXES_COOLOFF_TIME = timedelta(minutes=PORTAL_LOCKOUT_MINUTES)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# The lock lasts its time from the failure that set it; attempts during it neither count nor extend it, so the
# lockout page can say exactly when to try again.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# A successful login clears the user's earlier failures from that address.
AXES_RESET_ON_SUCCESS = True
# The client address, one rule for the audit log and the lockout (tangshan_portal.audit.client_ip): behind
# PORTAL_TRUSTED_PROXY_COUNT reverse proxies that each append to X-Forwarded-For, the entry that many places from
# the right (the left-most entries are whatever the client sent); with 0, REMOTE_ADDR. One proxy by default when
# DJANGO_BEHIND_TLS_PROXY says there is one.
PORTAL_TRUSTED_PROXY_COUNT = env_int(
    "PORTAL_TRUSTED_PROXY_COUNT", 1 if not DEBUG and env_bool("DJANGO_BEHIND_TLS_PROXY", False) else 0
)
if PORTAL_TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("PORTAL_TRUSTED_PROXY_COUNT must be 0 (no proxy) or more.")
AXES_CLIENT_IP_CALLABLE = "tangshan_portal.audit.client_ip"
AXES_LOCKOUT_CALLABLE = "tangshan_portal.sessions.lockout_response"
# Logins and logouts are in the audit log already; a second log of them would only be more personal data to keep.
AXES_DISABLE_ACCESS_LOG = True
# No admin pages for django-axes' tables: lockouts are read in the audit log, and a lock ends by itself after
# PORTAL_LOCKOUT_MINUTES or at once with `manage.py axes_reset_username <user name>`.
AXES_ENABLE_ADMIN = False
# django-axes must see every authentication: its backend comes first and refuses a locked-out pair before the
# password is checked. django-axes needs the request in authenticate(); tests/conftest.py's client passes one.
# PortalModelBackend is Django's, also refusing the users of a deactivated organisation (authentication.py).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "tangshan_portal.authentication.PortalModelBackend",
]
# API tokens (Art 10(3): other government systems' service accounts) expire this many hours after they are
# issued; the system administrator issues a new one in the admin.
PORTAL_API_TOKEN_HOURS = env_int("PORTAL_API_TOKEN_HOURS", 24 * 90)
if PORTAL_API_TOKEN_HOURS < 1:
    raise ImproperlyConfigured("PORTAL_API_TOKEN_HOURS must be at least 1: API tokens must expire.")

# Sessions: end after PORTAL_SESSION_IDLE_MINUTES without a request (PORTAL_SESSION_STAFF_IDLE_MINUTES for
# staff accounts) and PORTAL_SESSION_ABSOLUTE_HOURS after the login (tangshan_portal/sessions.py). Django gives
# the session a new key at login. Sessions live in the database: disabling an account or organisation finds
# and deletes its sessions there, which a cache-only or cookie session engine could not do.
PORTAL_SESSION_IDLE_MINUTES = env_int("PORTAL_SESSION_IDLE_MINUTES", 30)
PORTAL_SESSION_STAFF_IDLE_MINUTES = env_int("PORTAL_SESSION_STAFF_IDLE_MINUTES", 15)
PORTAL_SESSION_ABSOLUTE_HOURS = env_int("PORTAL_SESSION_ABSOLUTE_HOURS", 12)
SESSION_ENGINE = "django.contrib.sessions.backends.db"
# The stored session and its cookie expire this long after the session was last written, so an abandoned
# session leaves the store (`manage.py clearsessions`) no later than the absolute limit would have ended it.
SESSION_COOKIE_AGE = PORTAL_SESSION_ABSOLUTE_HOURS * 3600

# Second factor (django-otp, TOTP as in any authenticator app; tangshan_portal/otp.py, tests/test_otp.py). An
# account holding one of PORTAL_OTP_REQUIRED_ROLES, and any superuser, opens no page, admin included, until its
# session has passed a one-time code; without a device it is sent to enrol one first. Providers and enterprises
# may enrol voluntarily, and from then on their code is asked too. PORTAL_OTP_ENABLED=0 lifts the requirement
# (never in production: level 3 asks for two factors for administrators), not the check of an enrolled device.
PORTAL_OTP_ENABLED = env_bool("PORTAL_OTP_ENABLED", True)
PORTAL_OTP_REQUIRED_ROLES = env_list(
    "PORTAL_OTP_REQUIRED_ROLES", ["officer", "approver", "county", "assessor", "auditor", "sysadmin", "secadmin"]
)
# django-otp's own throttling: after n wrong codes the next try waits PORTAL_OTP_THROTTLE_FACTOR × 2^(n-1) seconds.
OTP_TOTP_THROTTLE_FACTOR = env_int("PORTAL_OTP_THROTTLE_FACTOR", 1)
# The device admin never shows a secret or its QR code: the security administrator resets a device, and only its
# owner sees the new secret, once, while enrolling.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# --- Language and time -------------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("DJANGO_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

# --- Static and media files (served locally: the bureau network has no CDN) --------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("DJANGO_MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
STORAGES = {
    # Every stored file is encrypted (tangshan_portal/storage.py) and reaches users only through the views that
    # check access (tangshan_portal/files.py): MEDIA_URL is served by no URL of the portal.
    "default": {"BACKEND": "tangshan_portal.storage.EncryptedFileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- Encryption at rest (issue 8, item 3; tangshan_portal/crypto.py) --------------------------------------------
# Encrypted columns and every stored file. PORTAL_ENCRYPTION_KEYS="<key id>:<base64 key>,…": the first key
# encrypts, all of them decrypt (rotation: `manage.py rotate_encryption_keys`). Without it, DEBUG derives a
# development key from SECRET_KEY; with DEBUG off the system check portal.E020 stops the portal.
PORTAL_ENCRYPTION_KEYS = env_str("PORTAL_ENCRYPTION_KEYS")
# The cipher: SM4-GCM by default (GB/T 39786); a dotted path to another backend class of the same interface.
PORTAL_ENCRYPTION_BACKEND = env_str("PORTAL_ENCRYPTION_BACKEND", "tangshan_portal.crypto.SM4GCMBackend")

# --- Redis: Celery broker and cache when REDIS_URL is set; embedded fallbacks otherwise -----------------
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CELERY_BROKER_URL = "filesystem://"
    _broker_dir = Path(env_str("CELERY_FILESYSTEM_DIR", str(BASE_DIR / "var" / "celery")))
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "out"),
        "data_folder_out": str(_broker_dir / "out"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
        # Without a control folder the filesystem transport cannot carry broadcast (remote control) messages.
        "control_folder": str(_broker_dir / "control"),
    }
    CELERY_FILESYSTEM_DIRS = [_broker_dir / name for name in ("out", "processed", "control")]

CELERY_RESULT_BACKEND = "django-db"
CELERY_RESULT_EXTENDED = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)

# --- E-mail ------------------------------------------------------------------------------------------
EMAIL_BACKEND = env_str(
    "DJANGO_EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env_str("DJANGO_EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("DJANGO_EMAIL_PORT", 25)
DEFAULT_FROM_EMAIL = env_str("DJANGO_DEFAULT_FROM_EMAIL", "portal@localhost")

# --- Security headers and deployment (issue 8, item 5) ----------------------------------------------------
# Guarded by tests/test_security_headers.py (each header, in production mode too) and tests/test_deploy_check.py
# (`check --deploy --fail-level WARNING` clean with the production environment).
#
# Cookies: the session and CSRF cookies travel only over HTTPS in production and never reach page scripts (no
# script of the portal reads the CSRF cookie: forms carry the token, Swagger UI gets it from its page).
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_HTTPONLY = True
# No page of the portal may be framed (clickjacking); CSP's frame-ancestors says the same to newer browsers.
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
# same-origin rather than strict-origin-when-cross-origin: public searches put names and USCCs in the query string,
# and no other site needs to know which page of the portal sent a visitor to it.
SECURE_REFERRER_POLICY = "same-origin"
# A window the portal opens, or that opens the portal, gets no handle on the other (Django's default, said aloud).
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if not DEBUG and env_bool("DJANGO_BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# HTTPS only in production. Behind the TLS proxy the redirect reads X-Forwarded-Proto (above). Health checks and
# orchestrator probes call http://<node>:8000/healthz and /readyz directly, so those paths are never redirected. Set
# DJANGO_SECURE_SSL_REDIRECT=0 only where the proxy itself already redirects every http:// request.
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
# HSTS: one year, subdomains included. Only sent over HTTPS, and never in development (it would pin localhost).
SECURE_HSTS_SECONDS = 0 if DEBUG else env_int("DJANGO_HSTS_SECONDS", 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", True)
# Preloading binds the parent domain and all its subdomains into browsers for months and is slow to undo; the
# portal usually runs on a subdomain of the bureau's or the city's domain, whose owner makes that decision.
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", False)
SILENCED_SYSTEM_CHECKS = []
if not SECURE_HSTS_PRELOAD:
    # security.W021 only says "not preloaded"; that is the domain owner's decision above, not a missing control.
    SILENCED_SYSTEM_CHECKS.append("security.W021")

# Content-Security-Policy (django-csp 4), one policy for every path, with no exception. No page of the portal has
# an inline script, inline style, style= attribute or on…= handler: everything comes from the portal's own static
# files, so 'self' is enough and neither 'unsafe-inline' nor nonces are needed. The third-party pages that had
# inline code are overridden in templates/ with the code moved to static/: Swagger UI (templates/drf_spectacular/;
# its data: icons are files in static/img/swagger-ui/, so img-src needs no data:), import-export's export form and
# Celery beat's task form (templates/admin/). tests/test_security_headers.py loads every page family in Chromium
# and fails on any violation.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "object-src": ["'none'"],
        # No page uses <base>; refusing it stops injected markup from re-rooting relative script URLs.
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "frame-src": ["'none'"],
    },
}

# Logs (docs/operations.md, tangshan_portal/logs.py): one line per record on stdout, JSON in production and text in
# development; inside a request with its id, method, path and user id, never personal data or a query string.
# gunicorn.conf.py and the Celery worker (tangshan_portal/celery.py) use the same configuration.
PORTAL_LOG_FORMAT = env_str("PORTAL_LOG_FORMAT", "text" if DEBUG else "json")
if PORTAL_LOG_FORMAT not in ("json", "text"):
    raise ImproperlyConfigured("PORTAL_LOG_FORMAT must be json or text.")
LOGGING = logging_config(
    PORTAL_LOG_FORMAT,
    env_str("DJANGO_LOG_LEVEL", "INFO"),
    loggers={
        # Through the root handler only: Django's own console and mail handlers would write a second copy.
        "django": {"handlers": [], "propagate": True},
        # The development server's access lines repeat RequestLogMiddleware's; its warnings and errors still show.
        "django.server": {"handlers": [], "level": "WARNING", "propagate": True},
    },
)

# --- The city that runs this portal ------------------------------------------------------------------
PORTAL_CITY_NAME = env_str("PORTAL_CITY_NAME", "唐山市")
PORTAL_AUTHORITY_NAME = env_str("PORTAL_AUTHORITY_NAME", "唐山市工业和信息化局")
PORTAL_SITE_TITLE = env_str("PORTAL_SITE_TITLE", "唐山市中小企业数字化转型服务商监管平台")
# The name authenticator apps show above the account's codes (the second factor, see Authentication above).
OTP_TOTP_ISSUER = env_str("PORTAL_OTP_ISSUER") or PORTAL_SITE_TITLE
PORTAL_REGULATION_TITLE = env_str(
    "PORTAL_REGULATION_TITLE", "唐山市中小企业数字化转型试点城市数字化服务商管理规范（试行）"
)
# The address printed on official documents next to their verification code (/verify/<code>/). Without the
# variable: the development server, or https:// and the first public host name of the deployment.
_PUBLIC_HOSTS = [h for h in ALLOWED_HOSTS if h not in ("127.0.0.1", "localhost", "[::1]", "*")]
PORTAL_PUBLIC_URL = env_str(
    "PORTAL_PUBLIC_URL",
    "http://127.0.0.1:8000" if DEBUG or not _PUBLIC_HOSTS else f"https://{_PUBLIC_HOSTS[0].lstrip('.')}",
).rstrip("/")
# The county-level divisions: a JSON file of [{"code": "130202", "name": "路南区"}, ...].
PORTAL_COUNTIES_FILE = Path(
    env_str("PORTAL_COUNTIES_FILE", str(BASE_DIR / "tangshan_portal" / "reference" / "counties-130200.json"))
)


def _load_counties(path):
    with open(path, encoding="utf-8") as fh:
        return [(row["code"], row["name"]) for row in json.load(fh)]


PORTAL_COUNTIES = _load_counties(PORTAL_COUNTIES_FILE)

# --- Policy numbers of the regulation (Art 12–16); each city may override them --------------------------
WARNING_REPLY_DAYS = env_int("PORTAL_WARNING_REPLY_DAYS", 5)
RECTIFICATION_DAYS_MAX = env_int("PORTAL_RECTIFICATION_DAYS_MAX", 30)
MAX_RECTIFICATIONS = env_int("PORTAL_MAX_RECTIFICATIONS", 2)
MAX_DISSATISFIED = env_int("PORTAL_MAX_DISSATISFIED", 2)
REMINDER_DAYS = [int(d) for d in env_list("PORTAL_REMINDER_DAYS", ["7", "3", "1"])]
SCHEDULE_LAG_THRESHOLD = env_float("PORTAL_SCHEDULE_LAG_THRESHOLD", 0.30)
PRICE_DEVIATION_THRESHOLD = env_float("PORTAL_PRICE_DEVIATION_THRESHOLD", 0.20)
APPEAL_WINDOW_DAYS = env_int("PORTAL_APPEAL_WINDOW_DAYS", 15)
# Complaints (Art 11): acknowledged and resolved within these many working days of the holiday calendar.
COMPLAINT_ACK_WORKING_DAYS = env_int("PORTAL_COMPLAINT_ACK_WORKING_DAYS", 5)
COMPLAINT_RESOLUTION_WORKING_DAYS = env_int("PORTAL_COMPLAINT_RESOLUTION_WORKING_DAYS", 30)
DOCUMENT_NUMBER_PREFIX = env_str("PORTAL_DOCUMENT_NUMBER_PREFIX", "唐工信")
# Provider path (Art 2, 6, 9, 12(1), 13(8)).
# Admission takes effect after a public notice (公示) of this many working days.
ADMISSION_NOTICE_WORKING_DAYS = env_int("PORTAL_ADMISSION_NOTICE_WORKING_DAYS", 5)
# A registration change must be reported within this many days of the registry date (Art 12(1)).
REGISTRATION_CHANGE_REPORT_DAYS = env_int("PORTAL_REGISTRATION_CHANGE_REPORT_DAYS", 30)
# A list-price change larger than this share of the old price is flagged as drastic (Art 13(8)).
PRICE_CHANGE_THRESHOLD = env_float("PORTAL_PRICE_CHANGE_THRESHOLD", 0.50)
# Evaluation acceptance requires this digital level or above (Art 6(1): 二级及以上).
ACCEPTANCE_MIN_LEVEL = env_int("PORTAL_ACCEPTANCE_MIN_LEVEL", 2)
# The digital-level standards loaded as data; the last one listed is the current version.
LEVEL_STANDARD_FILES = [
    Path(p)
    for p in env_list(
        "PORTAL_LEVEL_STANDARD_FILES", [str(BASE_DIR / "evaluations" / "reference" / "digital-level-2024.json")]
    )
]

# --- Audit log retention (issue 8, item 4; tangshan_portal/audit.py) --------------------------------------------
# `manage.py purge_audit` deletes audit events older than this many days. Network logs must be kept at least six
# months (Cybersecurity Law Art 21(3), GB/T 22239): six calendar months are at most 184 days, so less is refused.
AUDIT_RETENTION_DAYS = env_int("PORTAL_AUDIT_RETENTION_DAYS", 365)
if AUDIT_RETENTION_DAYS < 184:
    raise ImproperlyConfigured("PORTAL_AUDIT_RETENTION_DAYS must be at least 184 (six months).")

# --- Sharing and destruction of enterprise data (issue 8, item 3; Art 10(1); dossiers/services.py) ---------------
# A written consent to share an enterprise's dossier with a provider beyond its own contracts names its end date,
# at most this many days after it is given: sharing is never open-ended.
PORTAL_CONSENT_MAX_DAYS = env_int("PORTAL_CONSENT_MAX_DAYS", 365)
# Art 10(1) asks for destruction "promptly" (及时) once the service has ended: by default as soon as no contract of
# the enterprise is active. A city that must keep the records for a dispute period first sets the days here, counted
# from the day the enterprise's last contract ended.
PORTAL_DESTRUCTION_RETENTION_DAYS = env_int("PORTAL_DESTRUCTION_RETENTION_DAYS", 0)
if PORTAL_CONSENT_MAX_DAYS < 1 or PORTAL_DESTRUCTION_RETENTION_DAYS < 0:
    raise ImproperlyConfigured(
        "PORTAL_CONSENT_MAX_DAYS must be at least 1 and PORTAL_DESTRUCTION_RETENTION_DAYS must not be negative."
    )

# --- Public portal and open data (Art 10(3), 13) ---------------------------------------------------------
# Public pages and API answers are cached until public data change (opendata/cache.py); this bounds their age.
PUBLIC_CACHE_SECONDS = env_int("PORTAL_PUBLIC_CACHE_SECONDS", 600)
# Open Contracting Data Standard: the prefix registered for this publisher's contract ids (ocid).
OCDS_OCID_PREFIX = env_str("PORTAL_OCDS_OCID_PREFIX", "ocds-tsgxj-")

# --- Registry import and export (XLSX, tangshan_portal/imports.py) ------------------------------------------
# A file with more data rows than this is checked and imported by a background job whose page shows the
# progress; 0 imports every file in the request.
IMPORT_ASYNC_ROWS = env_int("PORTAL_IMPORT_ASYNC_ROWS", 2000)
# The registry admins check their own permissions (RegistryResource.import_permissions); these make any other
# admin that uses the library's mixins ask for a permission too, instead of the library's "anyone with admin
# access".
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "add"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"
# The audit log records every import; a LogEntry per imported row would swamp the admin history.
IMPORT_EXPORT_SKIP_ADMIN_LOG = True
# Between the preview and the confirmation the file waits in the cache (Redis in production): any web node can
# confirm it, and an abandoned preview, with its contact data, expires instead of staying in a temp folder.
IMPORT_EXPORT_TMP_STORAGE_CLASS = "import_export.tmp_storages.CacheStorage"
# Off on purpose: the library's escaping deletes the leading "=" (changing the data) and leaves "+", "-", "@";
# TextXLSX writes every text cell as text instead, so no formula can run.
IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT = False

REST_FRAMEWORK = {
    "DEFAULT_VERSIONING_CLASS": "rest_framework.versioning.NamespaceVersioning",
    "DEFAULT_VERSION": "v1",
    "ALLOWED_VERSIONS": ["v1"],
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        # DRF's TokenAuthentication with an expiry (PORTAL_API_TOKEN_HOURS) and the organisation check.
        "tangshan_portal.authentication.ExpiringTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    # These read the rate on each request (DRF's own classes fix it at import).
    "DEFAULT_THROTTLE_CLASSES": [
        "opendata.api_permissions.ApiAnonThrottle",
        "opendata.api_permissions.ApiUserThrottle",
    ],
    # Counted in the default cache: Redis, shared by all web nodes, whenever REDIS_URL is set.
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_str("PORTAL_API_ANON_RATE", "120/minute"),
        "user": env_str("PORTAL_API_USER_RATE", "1200/minute"),
    },
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
}
SPECTACULAR_SETTINGS = {
    "TITLE": PORTAL_SITE_TITLE + " · open data API",
    "DESCRIPTION": "Open data of " + PORTAL_AUTHORITY_NAME + " (Art 10(3)): the blacklist, the provider "
    "resource pool, excellent providers and announcements, and each role's own records.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI from the sidecar package, served by the portal itself: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Demo accounts are created by `seed_demo` only when this is on (never in production).
PORTAL_DEMO_PASSWORD = env_str("PORTAL_DEMO_PASSWORD", "Demo-2026-pass")
# The authenticator secret (base32) of the demo accounts that need the second factor, public like the password
# (README). With DEBUG off `seed_demo` uses it only when the variable is set; otherwise those accounts enrol their
# own authenticator at their first login.
PORTAL_DEMO_OTP_SECRET = env_str("PORTAL_DEMO_OTP_SECRET", "DEMODEMODEMODEMODEMODEMODEMODEMO")
