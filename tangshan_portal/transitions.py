"""What every state-changing service does around its django-fsm transition: lock the row, check the state
and then the user's permission, and record events that are not transitions in the same state log."""

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _
from django_fsm import can_proceed, has_transition_perm
from django_fsm_log.models import StateLog


class TransitionError(ValidationError):
    """A request that the record's state or the policy does not allow; the message is for the user."""


def locked(model, pk):
    return model.objects.select_for_update().get(pk=pk)


def require(allowed, message=None):
    if not allowed:
        raise PermissionDenied(message or _("You may not take this action."))


def require_transition(method, by):
    """The state first (a clear message when someone else acted first), then the user's permission."""
    instance = method.__self__
    if not can_proceed(method, check_conditions=False):
        raise TransitionError(
            _("This action is not possible while the status is “%(status)s”; reload the page to see its state.")
            % {"status": instance.get_status_display()}
        )
    require(has_transition_perm(method, by))


def log_event(obj, *, by, description, state, transition="create", source_state=None):
    """A state-log row for what is not an FSM transition: creation, added evidence, a voided rating."""
    return StateLog.objects.create(
        content_type=ContentType.objects.get_for_model(obj),
        object_id=obj.pk,
        by=by,
        source_state=source_state,
        state=state,
        transition=transition,
        description=description,
    )
