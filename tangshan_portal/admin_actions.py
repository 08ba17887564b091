"""Read-only admin pages whose records change only through services: the pattern every app's admin uses.

A record's change page shows its facts, an actions panel and a timeline; each action is a confirmation page at
`<pk>/act/<action>/` that calls a service. django-fsm's FSMAdminMixin is deliberately not used: its buttons call
the transition methods directly, bypassing the services and their side effects, and in django-fsm-2 4.2.4 a
crafted `_fsm_transition_to` POST skips the transition's permission (DESIGN.md, "Known traps"). The change view
therefore refuses every POST.
"""

import dataclasses
from collections.abc import Callable

from django.contrib import messages
from django.contrib.admin.utils import flatten_fieldsets, unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransition, has_transition_perm
from django_fsm_log.models import StateLog

from .admin import ScopedAdminMixin
from .files import attachment_response
from .services import attachments_of


def _short_datetime(value):
    """Local date over local time: narrow enough for a list with many columns."""
    if value is None:
        return "—"
    local = timezone.localtime(value)
    return format_html('<span class="nowrap">{}</span><br>{}', local.strftime("%Y-%m-%d"), local.strftime("%H:%M"))


def _person(user):
    if user is None:
        return None
    return user.full_name or user.get_username()


def _put_errors(form, error, field_map=None):
    """A service's ValidationError (CaseError) onto the form: field errors on their fields, the rest on top."""
    field_map = field_map or {}
    if hasattr(error, "error_dict"):
        for key, texts in error.message_dict.items():
            name = field_map.get(key, key)
            form.add_error(name if name in form.fields else None, texts)
    else:
        form.add_error(None, error.messages)


def attachments_html(obj, url_for=None):
    """The record's attachments as a list (name, size, type), each linked when `url_for(attachment)` is given;
    empty when there are none."""
    files = list(attachments_of(obj))
    if not files:
        return ""
    return format_html(
        '<ul class="case-attachments">{}</ul>',
        format_html_join(
            "",
            '<li>{} <span class="quiet">({}, {})</span></li>',
            (
                (
                    format_html('<a href="{}">{}</a>', url_for(f), f.original_name) if url_for else f.original_name,
                    filesizeformat(f.size),
                    f.mime_type,
                )
                for f in files
            ),
        ),
    )


@dataclasses.dataclass(frozen=True)
class CaseAction:
    name: str  # in the URL
    method: str  # the FSM transition whose permission and source states decide who may act, and when
    label: str
    form_class: type
    perform: Callable  # (case, user, cleaned_data) -> case, through the service
    success: Callable  # (case) -> message
    explain: Callable = None  # (case) -> text shown on the confirmation page
    initial: Callable = None  # (case) -> initial form data
    field_map: dict = dataclasses.field(default_factory=dict)  # service error key -> form field
    danger: bool = False
    form_kwargs: Callable = None  # (case) -> extra keyword arguments of the form
    redirect_to: Callable = None  # (result) -> where to go after success, instead of the record's page


class ServiceActionAdminMixin(ScopedAdminMixin):
    """A read-only change page with an actions panel and a timeline; each action is a confirmation page at
    `<pk>/act/<action>/` that calls a service; the add page (if any) calls a service too.

    Who may act, and when, comes from the FSM transition named by each action (its permission and source
    states); `action_refusal` adds the rules a transition's permission cannot know (e.g. "not a participant").
    Subclasses set `case_actions`, `transition_labels` and the add hooks (`open_form_class`, `open_case`).
    """

    case_actions = {}
    transition_labels = {}
    open_form_class = None
    open_title = ""
    add_label = ""
    created_label = _("Opened")
    change_list_template = "admin/portal/case_change_list.html"
    action_template = "admin/portal/case_action.html"
    refusal_template = "admin/portal/action_refused.html"
    open_template = "admin/portal/case_open.html"

    # Nothing is edited here and nothing is ever deleted.
    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return flatten_fieldsets(self.fieldsets)

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/act/<slug:action>/",
                self.admin_site.admin_view(self.action_view),
                name="{}_{}_act".format(*info),
            ),
            path(
                "<path:object_id>/attachment/<int:attachment_id>/",
                self.admin_site.admin_view(self.attachment_view),
                name="{}_{}_attachment".format(*info),
            ),
            *super().get_urls(),
        ]

    def _url(self, name, *args):
        return reverse(
            f"admin:{self.opts.app_label}_{self.opts.model_name}_{name}", args=args, current_app=self.admin_site.name
        )

    def admin_url(self, obj, request=None):
        """The admin page of any registered object, or None when there is none or this user may not see it."""
        if obj is None or not self.admin_site.is_registered(type(obj)):
            return None
        if request is not None and not self.admin_site.get_model_admin(type(obj)).has_view_or_change_permission(
            request
        ):
            return None
        return reverse(
            f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change",
            args=[obj.pk],
            current_app=self.admin_site.name,
        )

    # --- attachments: listed on the page, downloaded by whoever may see the record

    def attachments_display_html(self, obj):
        html = attachments_html(obj, url_for=lambda attachment: self._url("attachment", obj.pk, attachment.pk))
        return html or self.get_empty_value_display()

    def attachment_view(self, request, object_id, attachment_id):
        if not self.has_view_permission(request):
            raise PermissionDenied
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404
        attachment = attachments_of(obj).filter(pk=attachment_id).first()
        if attachment is None:
            raise Http404
        return attachment_response(request, attachment, record=f"{self.opts.label}:{obj.pk}")

    # --- the change page: read-only, with the actions panel and the timeline

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method == "POST":
            # Every field is read-only, so there is nothing to save: any POST here is refused. This also closes
            # the crafted `_fsm_transition_to=` POST that django-fsm's admin would run without its permission.
            self._require_in_scope(request, object_id)
            raise PermissionDenied
        return super().change_view(request, object_id, form_url, extra_context)

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {"add_label": self.add_label, **(extra_context or {})})

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context.update(self.change_page_context(request, obj))
        return super().render_change_form(request, context, add, change, form_url, obj)

    def change_page_context(self, request, obj):
        return {
            "case_actions": [
                {"label": action.label, "url": self._url("act", obj.pk, action.name), "danger": action.danger}
                for action in self.available_actions(request, obj)
            ],
            "case_notes": self.case_notes(request, obj),
            "case_timeline": self.timeline(obj),
        }

    def available_actions(self, request, obj):
        """The actions this user may take now: the transition's source state and permission (django-fsm), and
        no refusal of this admin's own."""
        return [
            action
            for action in self.case_actions.values()
            if self.can_take_now(obj, action, request.user) and self.action_refusal(request, obj, action) is None
        ]

    def can_take_now(self, obj, action, user):
        return has_transition_perm(getattr(obj, action.method), user)

    def may_ever_take(self, obj, action, user):
        """The transition's permission whatever the state: a user who may never take it gets 403; a user who
        may, but not in this state (someone else acted first), gets the service's explanation."""
        return any(
            transition.has_perm(obj, user)
            for transition in obj.get_all_status_transitions()
            if transition.name == action.method
        )

    def not_now_message(self, obj, action):
        return gettext("This action is not possible while the case is “%(status)s”.") % {
            "status": obj.get_status_display()
        }

    def action_refusal(self, request, obj, action):
        """Why this user may not take this action on this record although the transition allows it, or None."""
        return None

    def case_notes(self, request, obj):
        return []

    def system_actor(self, log):
        return gettext("System")

    def timeline(self, obj):
        labels = dict(obj._meta.get_field("status").flatchoices)
        rows = []
        for log in StateLog.objects.for_(obj).select_related("by").order_by("timestamp", "id"):
            rows.append(
                {
                    "at": log.timestamp,
                    "by": _person(log.by) or self.system_actor(log),
                    "action": self.created_label
                    if log.transition == "create"
                    else self.transition_labels.get(log.transition, log.transition),
                    "source": labels.get(log.source_state, log.source_state) if log.source_state else None,
                    "target": labels.get(log.state, log.state),
                    "description": log.description or "",
                }
            )
        return rows

    # --- one confirmation view per action, calling the service

    def case_action_form(self, spec, obj, data=None, files=None):
        kwargs = spec.form_kwargs(obj) if spec.form_kwargs else {}
        if data is None:
            return spec.form_class(initial=spec.initial(obj) if spec.initial else None, **kwargs)
        return spec.form_class(data, files, **kwargs)

    def action_view(self, request, object_id, action):
        spec = self.case_actions.get(action)
        if spec is None:
            raise Http404
        if not self.has_view_permission(request):
            raise PermissionDenied
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404  # outside the user's scope, or no such record: the same answer
        if not self.may_ever_take(obj, spec, request.user):
            raise PermissionDenied
        change_url = self._url("change", obj.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "app_label": self.opts.app_label,
            "has_view_permission": True,
            "title": spec.label,
            "subtitle": str(obj),
            "case": obj,
            "action": spec,
            "case_notes": self.case_notes(request, obj),
            "change_url": change_url,
        }
        refusal = self.action_refusal(request, obj, spec)
        if refusal is not None:
            return self.refuse(request, context, refusal)
        if request.method == "POST":
            form = self.case_action_form(spec, obj, request.POST, request.FILES)
            if form.is_valid():
                # The service checks the state and the permission again, under a row lock.
                try:
                    result = spec.perform(obj, request.user, form.cleaned_data)
                except ConcurrentTransition:
                    form.add_error(
                        None, gettext("Someone else changed this case at the same moment; reload it and try again.")
                    )
                except ValidationError as error:
                    _put_errors(form, error, spec.field_map)
                except PermissionDenied as error:
                    return self.refuse(request, context, str(error) or gettext("You may not take this action."))
                else:
                    messages.success(request, spec.success(result))
                    return HttpResponseRedirect(spec.redirect_to(result) if spec.redirect_to else change_url)
        else:
            if not self.can_take_now(obj, spec, request.user):
                messages.error(request, self.not_now_message(obj, spec))
                return HttpResponseRedirect(change_url)
            form = self.case_action_form(spec, obj)
        context.update(
            explanation=spec.explain(obj) if spec.explain else "",
            summary=self.summary(obj),
            form=form,
            media=self.media + form.media,
        )
        return TemplateResponse(request, self.action_template, context)

    def refuse(self, request, context, message):
        """403 with the reason, instead of a bare refusal: the user may act on such records, but not this one."""
        return TemplateResponse(request, self.refusal_template, {**context, "refusal": message}, status=403)

    def summary(self, obj):
        return [
            (obj._meta.get_field("provider").verbose_name, obj.provider),
            (_("ground"), obj.ground_wording),
            (obj._meta.get_field("finding").verbose_name, obj.finding),
            (obj._meta.get_field("status").verbose_name, obj.get_status_display()),
        ]

    # --- the add form: creates the record through the service

    def open_case(self, request, data):
        raise NotImplementedError

    def opened_message(self, obj):
        raise NotImplementedError

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            form = self.open_form_class(request.POST, request.FILES)
            if form.is_valid():
                try:
                    obj = self.open_case(request, form.cleaned_data)
                except ValidationError as error:
                    _put_errors(form, error)
                else:
                    messages.success(request, self.opened_message(obj))
                    return HttpResponseRedirect(self._url("change", obj.pk))
        else:
            form = self.open_form_class(initial=self.open_initial(request))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "app_label": self.opts.app_label,
            "has_view_permission": self.has_view_permission(request),
            "title": self.open_title,
            "form": form,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, self.open_template, context)

    # What a link may pre-fill on the add page, e.g. a flagged registration change opening an Art 12(1) case.
    open_prefill = ("provider", "contract", "ground")

    def open_initial(self, request):
        return {k: v for k, v in request.GET.items() if k in self.open_prefill}
