"""gunicorn's configuration: `gunicorn -c gunicorn.conf.py tangshan_portal.wsgi` (docker-compose.yml, Dockerfile).

Every value comes from the environment, with the defaults below; docs/operations.md says how to size them.

    GUNICORN_BIND                 0.0.0.0:8000
    GUNICORN_WORKERS              2 × CPUs + 1 (CPUs this process may use)
    GUNICORN_THREADS              1 (more than 1 selects the gthread worker)
    GUNICORN_TIMEOUT              60 s without a word from a worker before it is killed and replaced
    GUNICORN_GRACEFUL_TIMEOUT     30 s for running requests to finish after a restart or stop signal
    GUNICORN_KEEPALIVE            5 s (behind a reverse proxy that keeps connections open)
    GUNICORN_MAX_REQUESTS         5000 requests before a worker is replaced (0: never), against slow leaks
    GUNICORN_MAX_REQUESTS_JITTER  half of it: a random 0-2500 more, so that the workers are replaced one at a time
    GUNICORN_ACCESS_LOG           0: no access log of gunicorn's own (see below); 1 writes it to stdout
    GUNICORN_FORWARDED_ALLOW_IPS  see below

Logs go to stdout in the portal's format (PORTAL_LOG_FORMAT, json by default with DEBUG off;
tangshan_portal/logs.py). The portal writes the access line of every request itself (logger `portal.request`,
with the request id and the user id, which gunicorn does not know), so gunicorn's own access log, a second line
for the same request, is off unless GUNICORN_ACCESS_LOG=1; then it comes in the same format, its message the line
of access_log_format below.

X-Forwarded-Proto and the other secure-scheme headers are believed only from the addresses in
forwarded_allow_ips. Its default follows PORTAL_TRUSTED_PROXY_COUNT, the setting that also decides whose
X-Forwarded-For entry is the client's (tangshan_portal/audit.py, with the same default: 1 when DJANGO_DEBUG=0 and
DJANGO_BEHIND_TLS_PROXY=1, else 0): with no trusted proxy nobody may set them; with one or more, every request
arrives through the proxy (the port is reachable only from it: docker-compose.yml publishes it on the host's
loopback), so any peer is the proxy ("*"). GUNICORN_FORWARDED_ALLOW_IPS names the proxies' addresses instead.
"""

import os

from tangshan_portal.logs import logging_config


def _env(name, default):
    value = os.environ.get(name)
    return default if value in (None, "") else value


def _env_bool(name, default):
    value = os.environ.get(name)
    if value in (None, ""):
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def trusted_proxy_count():
    """PORTAL_TRUSTED_PROXY_COUNT as tangshan_portal/settings.py reads it, without loading Django in the master."""
    debug = _env_bool("DJANGO_DEBUG", True)
    default = 1 if not debug and _env_bool("DJANGO_BEHIND_TLS_PROXY", False) else 0
    return int(_env("PORTAL_TRUSTED_PROXY_COUNT", default))


bind = [address.strip() for address in _env("GUNICORN_BIND", "0.0.0.0:8000").split(",") if address.strip()]


def _cpus():
    # The CPUs this process may run on (a container's cpuset), not the host's; a CPU quota is not seen here, so a
    # container limited by --cpus should set GUNICORN_WORKERS.
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


workers = int(_env("GUNICORN_WORKERS", 2 * _cpus() + 1))
threads = int(_env("GUNICORN_THREADS", 1))
timeout = int(_env("GUNICORN_TIMEOUT", 60))
graceful_timeout = int(_env("GUNICORN_GRACEFUL_TIMEOUT", 30))
keepalive = int(_env("GUNICORN_KEEPALIVE", 5))
# A replaced worker loads the whole application again (seconds). Under even load the workers reach the limit
# together: with 1000 ± 100, `make bench` saw all five replaced within the same second and the blacklist page's p99
# go from 0.1 s to 5 s. A wide jitter spreads the replacements out; the larger limit makes them rare.
max_requests = int(_env("GUNICORN_MAX_REQUESTS", 5000))
max_requests_jitter = int(_env("GUNICORN_MAX_REQUESTS_JITTER", max_requests // 2))

forwarded_allow_ips = _env("GUNICORN_FORWARDED_ALLOW_IPS", "*" if trusted_proxy_count() > 0 else "")

# The workers' heartbeat files: on a container's overlay filesystem a write can stall long enough for the master to
# kill a healthy worker; /dev/shm is memory.
if os.path.isdir("/dev/shm"):  # noqa: S108 (a fixed system directory, not a temporary file name)
    worker_tmp_dir = "/dev/shm"  # noqa: S108

_log_format = _env("PORTAL_LOG_FORMAT", "text" if _env_bool("DJANGO_DEBUG", True) else "json")
_level = _env("DJANGO_LOG_LEVEL", "INFO")
_access = _env_bool("GUNICORN_ACCESS_LOG", False)
logconfig_dict = logging_config(
    _log_format,
    _level,
    loggers={
        "gunicorn.error": {"handlers": ["console"], "level": _level, "propagate": False},
        # gunicorn writes access lines whenever logconfig_dict is set; this logger decides whether they go anywhere.
        "gunicorn.access": {"handlers": ["console"] if _access else [], "level": "INFO", "propagate": False},
    },
)
# No client address and no query string (%(U)s is the path alone), as in the portal's own access line.
access_log_format = "%(m)s %(U)s %(s)s %(M)sms request_id=%({x-request-id}o)s"
