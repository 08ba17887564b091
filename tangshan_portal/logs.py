"""Structured logs: one format for the web processes, gunicorn and the Celery worker (docs/operations.md).

PORTAL_LOG_FORMAT=json (the default with DEBUG off) writes one JSON object per line with `timestamp` (ISO 8601,
UTC offset included), `level`, `logger` and `message`; text (the default in development) writes the same fields
as a readable line. Inside a request every record also carries `request_id`, `method`, `path` and `user_id`, and
RequestLogMiddleware writes one `portal.request` line per request with its `status` and `duration_ms`; inside a
Celery task, `task_id` and `task_name`.

What never reaches the logs: user names, phone numbers or any other personal data of an account (only its
numeric id), and the query string of any request. Public searches put company names and USCCs there, the
admin's change lists put search terms there, and a login form's `next` can carry anything; paths name records by
id only. The client address is not logged either: the audit log records it with the events that need it.

This module is imported by gunicorn's master (gunicorn.conf.py) before Django is set up, so it imports nothing
that needs settings at import time.
"""

import contextvars
import logging
import re
import time
import uuid
from datetime import UTC, datetime

from django.utils.functional import LazyObject, empty
from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

# The request (and the id chosen for it) or the Celery task being handled in this thread; None outside.
_request_context = contextvars.ContextVar("portal_request_context", default=None)
_task_context = contextvars.ContextVar("portal_task_context", default=None)

REQUEST_ID_HEADER = "X-Request-ID"
# What a proxy's request id may look like (nginx's $request_id is 32 hex digits; UUIDs have dashes). Anything else
# is replaced: a client-made id with spaces or line breaks must not forge log lines.
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")

# Attributes other libraries put on their records that must not be written out: Django's `request` (its repr
# carries the query string) and the development server's `server_time`.
_NEVER_LOGGED = ("request", "server_time")

CONTEXT_FIELDS = ("request_id", "method", "path", "status", "duration_ms", "user_id", "task_id", "task_name")


def _user_id(request):
    """The id of the request's user if the request already looked the user up, else None.

    Never triggers the lookup itself: a public page that never asked who is there stays without the session and
    user queries (and its query count unchanged)."""
    user = request.__dict__.get("user")
    if isinstance(user, LazyObject):  # AuthenticationMiddleware's lazy user; DRF replaces it with the user itself
        user = None if user._wrapped is empty else user._wrapped
    if user is not None and getattr(user, "is_authenticated", False):
        return user.pk
    return None


def request_context_fields():
    """The fields the current request or task adds to a record: {} outside both."""
    fields = {}
    current = _request_context.get()
    if current is not None:
        request, request_id = current
        fields.update(request_id=request_id, method=request.method, path=request.path)
        user_id = _user_id(request)
        if user_id is not None:
            fields["user_id"] = user_id
    task = _task_context.get()
    if task is not None:
        fields.update(task)
    return fields


class RequestContextFilter(logging.Filter):
    """Adds the current request's (or task's) fields to every record that passes a handler. Fields the record
    already has (the access line's own status and duration) are kept."""

    def filter(self, record):
        for name, value in request_context_fields().items():
            if not hasattr(record, name):
                setattr(record, name, value)
        for name in _NEVER_LOGGED:
            record.__dict__.pop(name, None)
        return True


def _timestamp(record):
    return datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds")


class JsonFormatter(_JsonFormatter):
    """One JSON object per line: timestamp, level, logger, message, then the context and any `extra` fields."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger"})
        kwargs.setdefault("reserved_attrs", [*RESERVED_ATTRS, *_NEVER_LOGGED])
        kwargs.setdefault("json_ensure_ascii", False)
        super().__init__("%(levelname)s %(name)s %(message)s", *args, **kwargs)

    def add_fields(self, log_data, record, message_dict):
        log_data["timestamp"] = _timestamp(record)
        super().add_fields(log_data, record, message_dict)


class TextFormatter(logging.Formatter):
    """The same fields for people: `timestamp LEVEL logger message key=value …`."""

    def format(self, record):
        line = f"{_timestamp(record)} {record.levelname} {record.name} {record.getMessage()}"
        extras = " ".join(f"{name}={record.__dict__[name]}" for name in CONTEXT_FIELDS if name in record.__dict__)
        if extras:
            line = f"{line} [{extras}]"
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line = f"{line}\n{record.exc_text}"
        if record.stack_info:
            line = f"{line}\n{self.formatStack(record.stack_info)}"
        return line


def logging_config(log_format, level="INFO", loggers=None):
    """A dictConfig for stdout in `log_format` ("json" or "text"): the settings' LOGGING, gunicorn's and Celery's."""
    if log_format not in ("json", "text"):
        raise ValueError(f"PORTAL_LOG_FORMAT must be json or text, not {log_format!r}")
    formatter = "tangshan_portal.logs.JsonFormatter" if log_format == "json" else "tangshan_portal.logs.TextFormatter"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_context": {"()": "tangshan_portal.logs.RequestContextFilter"}},
        "formatters": {"portal": {"()": formatter}},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
                "formatter": "portal",
                "filters": ["request_context"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": loggers or {},
    }


def _request_id(request):
    from django.conf import settings

    # Only a proxy the deployment declared may name the request (it then overwrites whatever the client sent);
    # without one, the header is the client's own and is ignored.
    if getattr(settings, "PORTAL_TRUSTED_PROXY_COUNT", 0) > 0:
        offered = request.headers.get(REQUEST_ID_HEADER, "")
        if _REQUEST_ID_RE.match(offered):
            return offered
    return uuid.uuid4().hex


access_logger = logging.getLogger("portal.request")


class RequestLogMiddleware:
    """Gives each request an id (the trusted proxy's X-Request-ID, else a new one), makes it and the request's
    method, path and user id part of every record logged while the request is handled, answers it in the
    X-Request-ID response header, and writes one access line with the status and the duration. First in
    MIDDLEWARE, so redirects and refusals of the other middleware are logged and timed too."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        request_id = _request_id(request)
        request.request_id = request_id
        token = _request_context.set((request, request_id))
        try:
            response = self.get_response(request)
            duration_ms = round((time.perf_counter() - started) * 1000, 1)
            response[REQUEST_ID_HEADER] = request_id
            level = logging.ERROR if response.status_code >= 500 else logging.INFO
            access_logger.log(
                level,
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                # user_id even when None, so that every access line has the same keys.
                extra={"status": response.status_code, "duration_ms": duration_ms, "user_id": _user_id(request)},
            )
            return response
        finally:
            _request_context.reset(token)


def task_started(task_id=None, task=None, **kwargs):
    """Celery's task_prerun: the task's id and name join every record until task_finished (task_postrun, same
    thread)."""
    _task_context.set({"task_id": task_id, "task_name": getattr(task, "name", None)})


def task_finished(**kwargs):
    _task_context.set(None)
