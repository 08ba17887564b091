from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from .audit import record_event
from .models import AuditEvent


@receiver(user_logged_in, dispatch_uid="audit_login")
def audit_login(sender, request, user, **kwargs):
    record_event(AuditEvent.Action.LOGIN, request=request, actor=user)


@receiver(user_logged_out, dispatch_uid="audit_logout")
def audit_logout(sender, request, user, **kwargs):
    if user is not None:
        record_event(AuditEvent.Action.LOGOUT, request=request, actor=user)


@receiver(user_login_failed, dispatch_uid="audit_login_failed")
def audit_login_failed(sender, credentials, request=None, **kwargs):
    # The password never reaches the log: Django masks it in `credentials`, and only the user name is kept.
    record_event(
        AuditEvent.Action.LOGIN_FAILED,
        request=request,
        success=False,
        username=str(credentials.get("username", ""))[:150],
    )
