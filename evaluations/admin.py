"""The case admin for officers, approvers, county staff and auditors (Articles 12–14).

Every field is read-only. A case changes state only through evaluations/services.py, reached from the actions
panel of its page (one confirmation view per action, `<pk>/act/<action>/`) and from the add forms.
django-fsm's FSMAdminMixin is deliberately not used: its buttons call the transition methods directly,
bypassing the services and their side effects, and in django-fsm-2 4.2.4 a crafted `_fsm_transition_to` POST
skips the transition's permission (DESIGN.md, "Known traps"). The change view therefore refuses every POST.

ServiceActionAdminMixin carries this approach; complaints/admin.py (complaints, appeals) and the inspection
admin below reuse it. The survey questions are kept here by the system administrator.
"""

import dataclasses
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets, unquote
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, ngettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransition, has_transition_perm
from django_fsm_log.models import StateLog

from enterprises.selectors import contracts_visible_to
from providers.models import Provider
from tangshan_portal.admin import ScopedAdminMixin
from tangshan_portal.audit import record_event
from tangshan_portal.models import AuditEvent, County
from tangshan_portal.services import attachments_of

from . import admin_forms, selectors, services
from .grounds import ART13_CONSEQUENCE
from .models import (
    OPEN_RECTIFICATION_STATUSES,
    RUNNING_DEADLINE_STATUSES,
    BlacklistEntry,
    Evidence,
    Inspection,
    RectificationCase,
    RectificationStatus,
    RevocationCase,
    RevocationStatus,
    SatisfactionRating,
    SurveyAnswer,
    SurveyItem,
)

# Cases whose "days left" mean something: the deadline is running, or has run out.
DAYS_LEFT_STATUSES = (*RUNNING_DEADLINE_STATUSES, RectificationStatus.OVERDUE)
URGENT_DAYS = 3


def local_today():
    """Today in the portal's time zone (Asia/Shanghai), the calendar the deadlines are set in."""
    return timezone.localdate(timezone.now(), timezone.get_default_timezone())


def days_left(case, today=None):
    if case.deadline is None or case.status not in DAYS_LEFT_STATUSES:
        return None
    return (case.deadline - (today or local_today())).days


def overdue_q(today):
    return Q(status=RectificationStatus.OVERDUE) | Q(status__in=RUNNING_DEADLINE_STATUSES, deadline__lt=today)


def days_left_html(case, today=None):
    days = days_left(case, today)
    if days is None:
        return "—"
    if days < 0:
        text = ngettext("overdue by %(n)s day", "overdue by %(n)s days", -days) % {"n": -days}
    elif days == 0:
        text = gettext("due today")
    else:
        text = ngettext("%(n)s day", "%(n)s days", days) % {"n": days}
    if days <= URGENT_DAYS:
        return format_html('<strong class="case-days-urgent">{}</strong>', text)
    return text


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


# --- List filters ----------------------------------------------------------------------------------------------


def titled_choices_filter(title):
    """A choices filter under its own title, where the field's verbose name reads wrongly in a list's sidebar."""

    class TitledChoicesFilter(admin.ChoicesFieldListFilter):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.title = title

    return TitledChoicesFilter


class CountyFilter(admin.SimpleListFilter):
    """The provider's county of registration, or the county of an enterprise it has a contract with."""

    title = _("county")
    parameter_name = "county"

    def lookups(self, request, model_admin):
        if request.user.county is not None:
            return []  # county staff see their own county only: nothing to choose
        return [(str(county.pk), county.name) for county in County.objects.order_by("code")]

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        providers = Provider.objects.filter(Q(county_id=value) | Q(contracts__enterprise__county_id=value))
        return queryset.filter(provider__in=providers.values("pk"))


class OverdueFilter(admin.SimpleListFilter):
    title = _("overdue")
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request, queryset):
        condition = overdue_q(local_today())
        if self.value() == "yes":
            return queryset.filter(condition)
        if self.value() == "no":
            return queryset.exclude(condition)
        return queryset


class DaysLeftFilter(admin.SimpleListFilter):
    title = _("days left")
    parameter_name = "days_left"

    def lookups(self, request, model_admin):
        return [
            ("overdue", _("Overdue")),
            ("3", _("3 days or fewer")),
            ("7", _("4 to 7 days")),
            ("later", _("More than 7 days")),
            ("none", _("No deadline yet")),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        today = local_today()
        running = Q(status__in=RUNNING_DEADLINE_STATUSES)
        if value == "overdue":
            return queryset.filter(overdue_q(today))
        if value == "3":
            return queryset.filter(running, deadline__gte=today, deadline__lte=today + timedelta(days=3))
        if value == "7":
            return queryset.filter(
                running, deadline__gt=today + timedelta(days=3), deadline__lte=today + timedelta(days=7)
            )
        if value == "later":
            return queryset.filter(running, deadline__gt=today + timedelta(days=7))
        if value == "none":
            return queryset.filter(status__in=OPEN_RECTIFICATION_STATUSES, deadline__isnull=True)
        return queryset


# --- Actions: one service call each ------------------------------------------------------------------------------


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


RECTIFICATION_ACTIONS = {
    action.name: action
    for action in [
        CaseAction(
            name="warn",
            method="warn",
            label=_("Issue the warning"),
            form_class=admin_forms.ConfirmForm,
            perform=lambda case, user, data: services.rectification_warn(case=case, by=user),
            success=lambda case: (
                gettext("The warning was issued; the provider may state its case until %(due)s.")
                % {"due": timezone.localtime(case.reply_due_at).strftime("%Y-%m-%d %H:%M")}
            ),
            explain=lambda case: (
                gettext(
                    "The provider is told the finding and the ground and may state its case within %(days)s days. "
                    "Afterwards you withdraw the case or order rectification."
                )
                % {"days": settings.WARNING_REPLY_DAYS}
            ),
        ),
        CaseAction(
            name="order",
            method="order",
            label=_("Order rectification"),
            form_class=admin_forms.OrderForm,
            perform=lambda case, user, data: services.rectification_order(
                case=case, by=user, deadline=data["deadline"], extension_reason=data["extension_reason"]
            ),
            success=lambda case: (
                gettext("Rectification ordered: %(number)s, deadline %(deadline)s.")
                % {"number": case.document_number, "deadline": case.deadline.isoformat()}
            ),
            explain=lambda case: (
                gettext(
                    "The order gets the next document number and tells the provider the deadline: by default, and at "
                    "most, %(days)s calendar days after today."
                )
                % {"days": settings.RECTIFICATION_DAYS_MAX}
            ),
            initial=lambda case: {"deadline": services.max_deadline(local_today())},
        ),
        CaseAction(
            name="verify",
            method="verify",
            label=_("Verify and close"),
            form_class=admin_forms.VerifyForm,
            perform=lambda case, user, data: services.rectification_verify(case=case, by=user, note=data["note"]),
            success=lambda case: (
                gettext("The rectification was verified and the case %(case)s is closed.") % {"case": case}
            ),
            explain=lambda case: gettext("The rectification report is accepted and the case is closed."),
        ),
        CaseAction(
            name="return",
            method="return_to_provider",
            label=_("Return to the provider"),
            form_class=admin_forms.ReturnForm,
            perform=lambda case, user, data: services.rectification_return(
                case=case,
                by=user,
                reason=data["reason"],
                new_deadline=data["new_deadline"],
                extension_reason=data["extension_reason"],
            ),
            success=lambda case: (
                gettext("The report was returned to the provider; deadline %(deadline)s.")
                % {"deadline": case.deadline.isoformat()}
            ),
            explain=lambda case: (
                gettext(
                    "The report is insufficient: the provider must rectify further and report again by the deadline "
                    "(currently %(deadline)s)."
                )
                % {"deadline": case.deadline.isoformat() if case.deadline else "—"}
            ),
            field_map={"deadline": "new_deadline"},
        ),
        CaseAction(
            name="withdraw",
            method="withdraw",
            label=_("Withdraw the case"),
            form_class=admin_forms.ReasonForm,
            perform=lambda case, user, data: services.rectification_withdraw(case=case, by=user, reason=data["reason"]),
            success=lambda case: gettext("The case %(case)s was withdrawn.") % {"case": case},
            explain=lambda case: gettext(
                "The case is closed without consequence and no longer counts towards Article 13(1); the provider "
                "is told the reason if it was warned."
            ),
            danger=True,
        ),
    ]
}

REVOCATION_ACTIONS = {
    action.name: action
    for action in [
        CaseAction(
            name="approve",
            method="approve",
            label=_("Approve the revocation"),
            form_class=admin_forms.DecisionForm,
            perform=lambda case, user, data: services.revocation_approve(
                revocation=case, by=user, reason=data["reason"]
            ),
            success=lambda case: (
                gettext(
                    "Revocation approved by decision %(number)s: the provider is revoked, the blacklist entry is "
                    "published and its active contracts are terminated."
                )
                % {"number": case.decision_number}
            ),
            explain=lambda case: gettext("If approved: %(consequence)s") % {"consequence": ART13_CONSEQUENCE},
            danger=True,
        ),
        CaseAction(
            name="dismiss",
            method="dismiss",
            label=_("Dismiss the proposal"),
            form_class=admin_forms.DecisionForm,
            perform=lambda case, user, data: services.revocation_dismiss(
                revocation=case, by=user, reason=data["reason"]
            ),
            success=lambda case: gettext("The proposal was dismissed."),
            explain=lambda case: gettext("The provider keeps its qualification and is told the reasons."),
        ),
    ]
}

TRANSITION_LABELS = {
    "warn": _("Warning issued"),
    "order": _("Rectification ordered"),
    "respond": _("Report submitted"),
    "verify": _("Verified"),
    "return_to_provider": _("Returned to the provider"),
    "mark_overdue": _("Marked overdue"),
    "withdraw": pgettext_lazy("rectification case status", "Withdrawn"),
    "approve": _("Approved"),
    "dismiss": _("Dismissed"),
}


# --- Read-only pages whose actions call services: the case admin's approach, reused by complaints and appeals ---


class ServiceActionAdminMixin(ScopedAdminMixin):
    """A read-only change page with an actions panel and a timeline; each action is a confirmation page at
    `<pk>/act/<action>/` that calls a service; the add page (if any) calls a service too.

    Who may act, and when, comes from the FSM transition named by each action (its permission and source
    states); `action_refusal` adds the rules a transition's permission cannot know (e.g. "not a participant").
    Subclasses set `case_actions`, `transition_labels` and the add hooks (`open_form_class`, `open_case`).
    """

    case_actions = {}
    transition_labels = TRANSITION_LABELS
    open_form_class = None
    open_title = ""
    add_label = ""
    created_label = _("Opened")
    change_list_template = "admin/evaluations/case_change_list.html"
    action_template = "admin/evaluations/case_action.html"
    refusal_template = "admin/evaluations/action_refused.html"
    open_template = "admin/evaluations/case_open.html"

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
        try:
            handle = attachment.file.open("rb")
        except FileNotFoundError as exc:
            raise Http404(gettext("The file is no longer available.")) from exc
        record_event(AuditEvent.Action.DOWNLOAD, request=request, obj=attachment, record=f"{self.opts.label}:{obj.pk}")
        response = FileResponse(
            handle, as_attachment=True, filename=attachment.original_name, content_type=attachment.mime_type
        )
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
        response["Cache-Control"] = "private, no-store"
        return response

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

    def action_form(self, spec, obj, data=None, files=None):
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
            form = self.action_form(spec, obj, request.POST, request.FILES)
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
            form = self.action_form(spec, obj)
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

    def open_initial(self, request):
        return {k: v for k, v in request.GET.items() if k in ("provider", "contract")}


# --- The common case admin -------------------------------------------------------------------------------------


class CaseAdmin(ServiceActionAdminMixin, admin.ModelAdmin):
    evidence_field = ""
    change_form_template = "admin/evaluations/case_change_form.html"

    def change_page_context(self, request, obj):
        return {**super().change_page_context(request, obj), "case_evidence": self.evidence_rows(request, obj)}

    def evidence_rows(self, request, obj):
        rows = []
        evidence = (
            Evidence.objects.filter(**{self.evidence_field: obj})
            .select_related("content_type")
            .prefetch_related("target")
            .order_by("id")
        )
        for item in evidence:
            model = item.content_type.model_class()
            target = item.target
            url = None
            if self._may_view(request, model, target):
                url = reverse(
                    f"admin:{model._meta.app_label}_{model._meta.model_name}_change",
                    args=[target.pk],
                    current_app=self.admin_site.name,
                )
            rows.append(
                {
                    "type": model._meta.verbose_name if model is not None else item.content_type.name,
                    "label": str(target)
                    if target is not None
                    else gettext("(record #%(id)s no longer exists)") % {"id": item.object_id},
                    "url": url,
                    "note": item.note,
                }
            )
        return rows

    def _may_view(self, request, model, target):
        if target is None or model is None or not self.admin_site.is_registered(model):
            return False
        return self.admin_site.get_model_admin(model).has_view_or_change_permission(request)


# --- Rectification cases (Art 12) --------------------------------------------------------------------------------


@admin.register(RectificationCase)
class RectificationCaseAdmin(CaseAdmin):
    case_actions = RECTIFICATION_ACTIONS
    evidence_field = "rectification_case"
    open_form_class = admin_forms.RectificationOpenForm
    open_title = _("Open a rectification case")
    add_label = _("Open a rectification case")

    list_display = ["case_number", "provider", "ground", "status", "deadline", "days_left_display", "opened_on"]
    list_display_links = ["case_number"]
    list_filter = ["status", "ground", CountyFilter, OverdueFilter, DaysLeftFilter]
    search_fields = ["provider__name", "provider__uscc", "document_number"]
    list_select_related = ["provider"]
    fieldsets = (
        (None, {"fields": ("provider", "contract", "status", "ground", "ground_wording_display", "finding")}),
        (_("Warning and statement"), {"fields": ("warned_at", "reply_due_at", "provider_reply", "replied_at")}),
        (
            _("Rectification order"),
            {
                "fields": (
                    "document_number",
                    "ordered_at",
                    "ordered_by",
                    "deadline",
                    "days_left_display",
                    "extension_reason",
                )
            },
        ),
        (_("Rectification report"), {"fields": ("report", "responded_at", "attachments_display", "return_count")}),
        (_("Closing"), {"fields": ("closed_at", "overdue_at", "closing_note")}),
        (_("Record"), {"fields": ("opened_by", "opened_at")}),
    )

    def get_queryset(self, request):
        return selectors.rectification_cases_visible_to(request.user, super().get_queryset(request))

    def has_add_permission(self, request):
        return request.user.has_perm("evaluations.manage_rectification")

    @admin.display(description=_("case"), ordering="document_number")
    def case_number(self, obj):
        return obj.document_number or gettext("No. pending (#%(id)s)") % {"id": obj.pk}

    @admin.display(description=_("days left"), ordering="deadline")
    def days_left_display(self, obj):
        return days_left_html(obj)

    @admin.display(description=_("opened"), ordering="opened_at")
    def opened_on(self, obj):
        return date_format(timezone.localdate(obj.opened_at, timezone.get_default_timezone()), "DATE_FORMAT")

    @admin.display(description=_("ground in the regulation's words"))
    def ground_wording_display(self, obj):
        return obj.ground_wording

    @admin.display(description=_("attachments"))
    def attachments_display(self, obj):
        return self.attachments_display_html(obj)

    def open_case(self, request, data):
        return services.rectification_open(
            provider=data["provider"],
            ground=data["ground"],
            finding=data["finding"],
            contract=data["contract"],
            by=request.user,
        )

    def opened_message(self, obj):
        return gettext("Case opened. Check the finding, then issue the warning to the provider.")

    def system_actor(self, log):
        if log.transition == "mark_overdue":
            return gettext("Deadline sweep")
        return super().system_actor(log)

    def case_notes(self, request, obj):
        notes = []
        if obj.status == RectificationStatus.WARNED:
            if obj.replied_at:
                notes.append(
                    gettext("The provider stated its case on %(at)s.")
                    % {"at": timezone.localtime(obj.replied_at).strftime("%Y-%m-%d %H:%M")}
                )
            elif obj.reply_due_at:
                notes.append(
                    gettext("The provider may state its case until %(due)s.")
                    % {"due": timezone.localtime(obj.reply_due_at).strftime("%Y-%m-%d %H:%M")}
                )
        if obj.deadline and obj.status in DAYS_LEFT_STATUSES:
            notes.append(format_html("{} {} ({})", gettext("Deadline:"), obj.deadline.isoformat(), days_left_html(obj)))
        return notes


# --- Revocation cases (Art 13) -----------------------------------------------------------------------------------


@admin.register(RevocationCase)
class RevocationCaseAdmin(CaseAdmin):
    case_actions = REVOCATION_ACTIONS
    evidence_field = "revocation_case"
    open_form_class = admin_forms.RevocationProposeForm
    open_title = _("Propose a revocation")
    add_label = _("Propose a revocation")
    created_label = _("Proposed")

    list_display = [
        "provider",
        "ground",
        "source_display",
        "status",
        "proposed_on",
        "statement_due",
        "decided_on",
        "decision",
    ]
    list_display_links = ["provider"]
    list_filter = ["status", "ground", "source", CountyFilter]
    search_fields = ["provider__name", "provider__uscc", "decision_number"]
    list_select_related = ["provider", "proposed_by"]
    fieldsets = (
        (None, {"fields": ("provider", "status", "ground", "ground_wording_display", "finding")}),
        (_("Proposal"), {"fields": ("source_display", "proposed_at")}),
        (_("Provider's statement"), {"fields": ("statement_due_at", "provider_statement", "statement_at")}),
        (
            _("Decision"),
            {"fields": ("decided_by", "decided_at", "decision_reason", "decision_number", "blacklist_entry_display")},
        ),
    )

    def get_queryset(self, request):
        return selectors.revocation_cases_visible_to(request.user, super().get_queryset(request))

    def has_add_permission(self, request):
        return request.user.has_perm("evaluations.propose_revocation")

    @admin.display(description=_("decision number"), ordering="decision_number")
    def decision(self, obj):
        number = obj.decision_number
        if not number:
            return "—"
        # May break after the year, never inside the prefix or the number.
        head, sep, tail = number.partition("〕")
        if not sep:
            return number
        return format_html('<span class="nowrap">{}</span><wbr><span class="nowrap">{}</span>', head + sep, tail)

    @admin.display(description=_("proposed"), ordering="proposed_at")
    def proposed_on(self, obj):
        return _short_datetime(obj.proposed_at)

    @admin.display(description=_("statement due"), ordering="statement_due_at")
    def statement_due(self, obj):
        return _short_datetime(obj.statement_due_at)

    @admin.display(description=_("decided"), ordering="decided_at")
    def decided_on(self, obj):
        return _short_datetime(obj.decided_at)

    @admin.display(description=_("proposed by"), ordering="source")
    def source_display(self, obj):
        if obj.source == RevocationCase.Source.OFFICER and obj.proposed_by_id:
            return f"{obj.get_source_display()}：{_person(obj.proposed_by)}"
        return obj.get_source_display()

    @admin.display(description=_("ground in the regulation's words"))
    def ground_wording_display(self, obj):
        return obj.ground_wording

    @admin.display(description=_("blacklist entry"))
    def blacklist_entry_display(self, obj):
        entry = BlacklistEntry.objects.filter(revocation=obj).first()
        if entry is None:
            return self.get_empty_value_display()
        url = reverse("admin:evaluations_blacklistentry_change", args=[entry.pk], current_app=self.admin_site.name)
        return format_html('<a href="{}">{}</a> ({})', url, entry, entry.get_status_display())

    def open_case(self, request, data):
        return services.revocation_propose(
            provider=data["provider"], ground=data["ground"], finding=data["finding"], by=request.user
        )

    def opened_message(self, obj):
        return gettext(
            "Revocation proposed. The provider was told the grounds and may state its case until %(due)s; an "
            "approver decides after that."
        ) % {"due": timezone.localtime(obj.statement_due_at).strftime("%Y-%m-%d %H:%M")}

    def system_actor(self, log):
        return gettext("Rule engine") if log.transition == "create" else super().system_actor(log)

    def case_notes(self, request, obj):
        if obj.status != RevocationStatus.PROPOSED:
            return []
        notes = []
        if obj.statement_at:
            notes.append(
                gettext("The provider stated its case on %(at)s.")
                % {"at": timezone.localtime(obj.statement_at).strftime("%Y-%m-%d %H:%M")}
            )
        elif timezone.now() < obj.statement_due_at:
            notes.append(
                gettext("The provider may state its case until %(due)s; no decision before then.")
                % {"due": timezone.localtime(obj.statement_due_at).strftime("%Y-%m-%d %H:%M")}
            )
        else:
            notes.append(gettext("The time for the provider's statement has passed without a statement."))
        if selectors.evidence_under_appeal(obj):
            notes.append(gettext("An appeal against evidence of this proposal is pending: it cannot be approved yet."))
        if obj.proposed_by_id == request.user.pk:
            notes.append(gettext("You proposed this revocation, so another approver decides it."))
        return notes


# --- The blacklist and the ratings: read-only ------------------------------------------------------------------


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(BlacklistEntry)
class BlacklistEntryAdmin(ReadOnlyAdmin):
    list_display = ["provider_name", "uscc", "ground", "decision_number", "decided_on", "status"]
    list_filter = ["status", "ground", "decided_on"]
    search_fields = ["provider_name", "uscc", "decision_number"]
    date_hierarchy = "decided_on"


@admin.register(SatisfactionRating)
class SatisfactionRatingAdmin(ScopedAdminMixin, ReadOnlyAdmin):
    list_display = ["contract", "provider", "stage", "overall", "voided", "submitted_at"]
    list_filter = ["overall", "voided", "stage"]
    search_fields = ["contract__number", "contract__provider__name", "contract__provider__uscc"]
    list_select_related = ["contract__provider"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return queryset.filter(contract__in=contracts_visible_to(request.user).values("pk"))

    @admin.display(description=_("provider"), ordering="contract__provider__name")
    def provider(self, obj):
        return obj.contract.provider

    def changelist_view(self, request, extra_context=None):
        # The per-provider aggregate the bureau manages by (Art 11, 13(2)), over the ratings this user may see.
        extra_context = {
            **(extra_context or {}),
            "satisfaction_summary": selectors.satisfaction_by_provider(self.get_queryset(request)),
            "max_dissatisfied": settings.MAX_DISSATISFIED,
        }
        return super().changelist_view(request, extra_context)


# --- Inspections (Art 11): recorded and turned into cases through the services ------------------------------------


INSPECTION_ACTIONS = {
    "open_case": CaseAction(
        name="open_case",
        method="",  # not a transition: the permission to open cases decides (InspectionAdmin.may_ever_take)
        label=_("Open a rectification case"),
        form_class=admin_forms.InspectionCaseForm,
        initial=lambda inspection: {"finding": inspection.findings},
        perform=lambda inspection, user, data: services.inspection_open_case(
            inspection=inspection, ground=data["ground"], finding=data["finding"], by=user
        ),
        success=lambda case: gettext(
            "Case opened with the inspection as evidence. Check the finding, then issue the warning to the provider."
        ),
        redirect_to=lambda case: reverse("admin:evaluations_rectificationcase_change", args=[case.pk]),
        explain=lambda inspection: (
            gettext(
                "A rectification case is opened as a draft against %(provider)s, with this inspection%(contract)s as "
                "evidence. Nothing is sent to the provider until you issue the warning from the case's page."
            )
            % {
                "provider": inspection.provider.name,
                "contract": gettext(" and contract %(number)s") % {"number": inspection.contract.number}
                if inspection.contract_id
                else "",
            }
        ),
    ),
}


@admin.register(Inspection)
class InspectionAdmin(ServiceActionAdminMixin, admin.ModelAdmin):
    case_actions = INSPECTION_ACTIONS
    open_form_class = admin_forms.InspectionRecordForm
    open_title = _("Record an inspection")
    add_label = _("Record an inspection")
    open_template = "admin/evaluations/inspection_open.html"
    change_form_template = "admin/evaluations/inspection_change_form.html"

    list_display = ["conducted_on", "kind_display", "provider", "contract", "issues_found", "recorded_by"]
    list_display_links = ["conducted_on", "kind_display"]
    list_filter = [
        ("kind", titled_choices_filter(_("kind of inspection"))),
        "issues_found",
        ("provider", admin.RelatedOnlyFieldListFilter),
        CountyFilter,
    ]
    date_hierarchy = "conducted_on"
    search_fields = ["provider__name", "provider__uscc", "contract__number", "findings"]
    list_select_related = ["provider", "contract", "conducted_by"]
    fieldsets = (
        (None, {"fields": ("kind_display", "provider", "contract", "conducted_on", "issues_found")}),
        (_("Findings"), {"fields": ("findings", "attachments_display", "cases_display")}),
        (_("Record"), {"fields": ("conducted_by", "recorded_at")}),
    )

    def get_queryset(self, request):
        return selectors._scope(request.user, super().get_queryset(request))

    def has_add_permission(self, request):
        return request.user.has_perm("evaluations.record_inspection")

    # Opening a case is not a transition of the inspection: the permission to open cases decides.
    def may_ever_take(self, obj, action, user):
        return user.has_perm("evaluations.manage_rectification")

    def can_take_now(self, obj, action, user):
        return self.may_ever_take(obj, action, user)

    def action_refusal(self, request, obj, action):
        if not obj.issues_found:
            return gettext("This inspection found no problems, so it cannot be the evidence of a case.")
        return None

    def timeline(self, obj):
        return []  # an inspection has no states; its record says who recorded it and when

    def change_page_context(self, request, obj):
        state = gettext("Problems found") if obj.issues_found else gettext("No problems found")
        # The actions panel of the case pages shows `original.get_status_display`; an inspection has no status.
        return {**super().change_page_context(request, obj), "record_state": {"get_status_display": state}}

    @admin.display(description=_("kind of inspection"), ordering="kind")
    def kind_display(self, obj):
        return obj.get_kind_display()

    @admin.display(description=_("recorded by"), ordering="conducted_by__full_name")
    def recorded_by(self, obj):
        return _person(obj.conducted_by)

    @admin.display(description=_("attachments"))
    def attachments_display(self, obj):
        return self.attachments_display_html(obj)

    @admin.display(description=_("cases opened from it"))
    def cases_display(self, obj):
        evidence = Evidence.objects.filter(
            content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk
        ).select_related("rectification_case", "revocation_case")
        cases = [item.rectification_case or item.revocation_case for item in evidence]
        if not cases:
            return self.get_empty_value_display()
        return format_html_join(
            "、",
            '<a href="{}">{}</a>（{}）',
            ((self.admin_url(case), case, case.get_status_display()) for case in cases),
        )

    def summary(self, obj):
        return [
            (_("provider"), obj.provider),
            (_("contract"), obj.contract or "—"),
            (_("kind of inspection"), obj.get_kind_display()),
            (_("date"), obj.conducted_on.isoformat()),
            (_("findings"), obj.findings),
        ]

    def open_initial(self, request):
        return {"conducted_on": local_today(), **super().open_initial(request)}

    def open_case(self, request, data):
        return services.inspection_record(
            kind=data["kind"],
            provider=data["provider"],
            contract=data["contract"],
            conducted_on=data["conducted_on"],
            findings=data["findings"],
            issues_found=data["issues_found"],
            files=data["attachments"],
            by=request.user,
        )

    def opened_message(self, obj):
        if obj.issues_found:
            return gettext("Inspection recorded. If the problems call for it, open a rectification case from here.")
        return gettext("Inspection recorded.")


# --- Survey questions: the system administrator keeps them; answered questions are retired, never rewritten ------


@admin.register(SurveyItem)
class SurveyItemAdmin(admin.ModelAdmin):
    list_display = ["text", "sort_order", "is_active"]
    list_editable = ["sort_order", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["text"]
    fields = ["text", "sort_order", "is_active"]
    actions = ["retire", "restore"]

    def has_delete_permission(self, request, obj=None):
        return False  # submitted answers keep pointing at their question

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and SurveyAnswer.objects.filter(item=obj).exists():
            # Rewording an answered question would change what past ratings say: retire it and add a new one.
            return ["text"]
        return []

    @admin.action(description=_("Retire the selected questions"), permissions=["change"])
    def retire(self, request, queryset):
        count = queryset.update(is_active=False)
        self.message_user(
            request, ngettext("%(n)s question retired.", "%(n)s questions retired.", count) % {"n": count}
        )

    @admin.action(description=_("Put the selected questions back in use"), permissions=["change"])
    def restore(self, request, queryset):
        count = queryset.update(is_active=True)
        self.message_user(
            request, ngettext("%(n)s question back in use.", "%(n)s questions back in use.", count) % {"n": count}
        )

# Registered in their own modules to keep this one readable.
from . import admin_levels  # noqa: E402, F401
