"""The one way to write the portal-wide audit log."""

from .models import AuditEvent


def client_ip(request):
    # REMOTE_ADDR is what the web server saw; a reverse proxy's X-Forwarded-For is trusted only when the
    # deployment says it sits behind one, otherwise any client could forge its address in the log.
    from django.conf import settings

    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[0].strip() or None
    return request.META.get("REMOTE_ADDR") or None


def record_event(action, *, request=None, actor=None, obj=None, success=True, username="", **detail):
    if actor is None and request is not None:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            actor = user
    event = AuditEvent(
        action=action,
        success=success,
        actor=actor,
        actor_username=(actor.get_username() if actor is not None else username)[:150],
        detail=detail,
    )
    if obj is not None:
        event.object_type = obj._meta.label
        event.object_id = str(obj.pk)
        event.object_repr = str(obj)[:200]
    if request is not None:
        event.path = request.get_full_path()[:300]
        event.ip_address = client_ip(request)
        event.user_agent = request.META.get("HTTP_USER_AGENT", "")[:300]
    event.save()
    return event
