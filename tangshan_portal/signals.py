from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import m2m_changed, post_save, pre_save
from django.dispatch import receiver
from django_fsm_log.models import StateLog

from .audit import current_request, record_event, record_state_logs
from .models import AuditEvent, Organisation, User
from .roles import Role
from .sessions import end_sessions, session_started


def _account_named(username):
    """The account a login attempt names, if there is one: the object of its audit event (never shown to the
    person logging in, so it reveals nothing to them)."""
    model = get_user_model()
    return model._default_manager.filter(**{model.USERNAME_FIELD: str(username or "")}).first()


@receiver(user_logged_in, dispatch_uid="audit_login")
def audit_login(sender, request, user, **kwargs):
    record_event(AuditEvent.Action.LOGIN, request=request, actor=user, obj=user)


@receiver(user_logged_out, dispatch_uid="audit_logout")
def audit_logout(sender, request, user, **kwargs):
    if user is not None:
        # The session middleware says why it ended a session ("idle" or "absolute"); a plain logout has no reason.
        reason = getattr(request, "portal_session_end", None)
        record_event(AuditEvent.Action.LOGOUT, request=request, actor=user, **({"reason": reason} if reason else {}))


@receiver(user_login_failed, dispatch_uid="audit_login_failed")
def audit_login_failed(sender, credentials, request=None, **kwargs):
    # The password never reaches the log: Django masks it in `credentials`, and only the user name is kept.
    # An attempt refused by a running lockout says so, so the log tells guessing during a lockout from typos.
    # django-axes marks such a request before the password is checked and counts no failure for it; the attempt
    # that sets a lockout is counted (axes_failures_since_start), and audit_lockout records the lockout itself.
    locked = getattr(request, "axes_locked_out", False) and getattr(request, "axes_failures_since_start", 0) is None
    detail = {"locked_out": True} if locked else {}
    # A correct password refused because the account's organisation is deactivated (authentication.py).
    refused = getattr(request, "portal_login_refused", None)
    if refused:
        detail["reason"] = refused
    username = str(credentials.get("username", ""))[:150]
    record_event(
        AuditEvent.Action.LOGIN_FAILED,
        request=request,
        obj=_account_named(username),
        success=False,
        username=username,
        **detail,
    )


# --- Authentication policy (issue 8): session marks, lockouts, disabled accounts ----------------------------


@receiver(user_logged_in, dispatch_uid="session_mark_login")
def session_mark_login(sender, request, user, **kwargs):
    # The idle and absolute timeouts (tangshan_portal.sessions) count from here. Django has already given the
    # session a new key (login() cycles it), so nothing from before the login carries the marks.
    if request is not None and hasattr(request, "session"):
        session_started(request.session)


@receiver(user_locked_out, dispatch_uid="audit_lockout")
def audit_lockout(sender, request, username, ip_address, **kwargs):
    # django-axes sends this both when a failure reaches the limit and for each attempt refused while the lock
    # lasts; only the first is a new lockout (the others are logged by audit_login_failed, marked locked_out).
    failures = getattr(request, "axes_failures_since_start", None)
    if failures is None:
        return
    record_event(
        AuditEvent.Action.LOGIN_FAILED,
        request=request,
        obj=_account_named(username),
        success=False,
        username=str(username or "")[:150],
        locked_out=True,
        failures=failures,
        lockout_minutes=settings.PORTAL_LOCKOUT_MINUTES,
    )


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="end_sessions_of_disabled_user")
def end_sessions_of_disabled_user(sender, instance, created, update_fields=None, **kwargs):
    # Django already refuses a disabled account on its next request; deleting the sessions makes that true for
    # every session store and every backend, and leaves nothing to revive if the account is enabled again.
    if created or instance.is_active or (update_fields is not None and "is_active" not in update_fields):
        return
    end_sessions(user_ids=[instance.pk])


@receiver(post_save, sender=Organisation, dispatch_uid="end_sessions_of_disabled_organisation")
def end_sessions_of_disabled_organisation(sender, instance, created, update_fields=None, **kwargs):
    if created or instance.is_active or (update_fields is not None and "is_active" not in update_fields):
        return
    end_sessions(user_ids=list(instance.users.values_list("pk", flat=True)))


# --- Permission changes (issue 8, item 4: the audit records who changed whose rights) --------------------------

# The relations that carry rights: through model -> (name in the log, holder model, holder field, item field).
_RIGHTS_RELATIONS = {
    User.groups.through: ("groups", User, "user", "group"),
    User.user_permissions.through: ("user_permissions", User, "user", "permission"),
    Group.permissions.through: ("group_permissions", Group, "group", "permission"),
}
# Account flags that are rights too: a superuser holds every permission, staff reach the admin, inactive none.
_RIGHTS_FLAGS = ("is_superuser", "is_staff", "is_active")


def _right_label(item):
    if isinstance(item, Permission):
        return f"{item.content_type.app_label}.{item.codename}"
    return item.name if isinstance(item, Group) else item.get_username()


def audit_rights_change(sender, instance, action, reverse, model, pk_set, using, **kwargs):
    """One event per user or group whose groups or permissions changed, from either side of the relation
    (user.groups.add(g) and g.user_set.add(u) alike), naming what was added or removed."""
    relation, holder_model, holder_field, item_field = _RIGHTS_RELATIONS[sender]
    if action == "pre_clear":
        # clear() reports no pk_set: remember what it is about to remove.
        side = item_field if reverse else holder_field
        instance._audit_cleared = list(
            sender.objects.using(using)
            .filter(**{side: instance.pk})
            .values_list(f"{holder_field}_id", f"{item_field}_id")
        )
        return
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if action == "post_clear":
        pairs = instance.__dict__.pop("_audit_cleared", [])
    else:
        pairs = [(pk, instance.pk) if reverse else (instance.pk, pk) for pk in pk_set or ()]
    if not pairs:
        return
    item_model = sender._meta.get_field(item_field).related_model
    item_query = item_model.objects.using(using)
    if item_model is Permission:
        item_query = item_query.select_related("content_type")
    items = item_query.in_bulk({item for _holder, item in pairs})
    holders = holder_model.objects.using(using).in_bulk({holder for holder, _item in pairs})
    changes = {}
    for holder, item in pairs:
        changes.setdefault(holder, []).append(_right_label(items[item]))
    request = current_request()
    for holder_pk, labels in changes.items():
        holder = holders[holder_pk]
        if sender is Group.permissions.through and request is None and holder.name in Role.values:
            # The role groups' permissions are declared in roles.py and re-applied by every migrate (and test
            # flush); that code is reviewed in version control. Any change made in a request is recorded.
            continue
        change = "added" if action == "post_add" else "removed"
        record_event(
            AuditEvent.Action.PERMISSION_CHANGED,
            request=request,
            obj=holder,
            relation=relation,
            **{change: sorted(labels)},
        )


for _through in _RIGHTS_RELATIONS:
    m2m_changed.connect(audit_rights_change, sender=_through, dispatch_uid=f"audit_rights_{_through._meta.label}")


@receiver(pre_save, sender=User, dispatch_uid="audit_rights_flags_before")
def audit_rights_flags_before(sender, instance, raw=False, update_fields=None, **kwargs):
    instance._audit_flags = None
    if raw or instance.pk is None or (update_fields is not None and not set(update_fields) & set(_RIGHTS_FLAGS)):
        return
    # One query, only when a save may change a flag (a login's last_login save names its field and skips it).
    instance._audit_flags = User.objects.filter(pk=instance.pk).values(*_RIGHTS_FLAGS).first()


@receiver(post_save, sender=User, dispatch_uid="audit_rights_flags_after")
def audit_rights_flags_after(sender, instance, created, raw=False, **kwargs):
    before = instance.__dict__.pop("_audit_flags", None)
    if created or raw or before is None:
        return
    changed = {
        name: [before[name], getattr(instance, name)]
        for name in _RIGHTS_FLAGS
        if before[name] != getattr(instance, name)
    }
    if changed:
        record_event(AuditEvent.Action.PERMISSION_CHANGED, obj=instance, relation="flags", changed=changed)


# --- State changes (issue 8, item 4: transitions in the tamper-evident log) ------------------------------------


@receiver(post_save, sender=StateLog, dispatch_uid="audit_transition")
def audit_transition(sender, instance, created, raw=False, **kwargs):
    """Mirror each state-log row (a transition, or an event a service logs beside them) into the audit chain, with
    the request's address. In the transaction that wrote the row (AuditEvent.save joins it without a savepoint):
    a transition that rolls back leaves no event, and one whose event cannot be written does not happen.

    Rows written with bulk_create (a sweep) send no signal: such callers use audit.record_state_logs."""
    if created and not raw:
        record_state_logs([instance])
