"""Admin pages for digital-level assessments and evaluation acceptance (Art 6(1), 9).

The same approach as the case admin (evaluations/admin.py, ServiceActionAdminMixin): every page is read-only,
the change view refuses every POST, and each change is one service call of evaluations/services_levels.py —
the add pages, the scoring page (`<pk>/score/`) and the confirmation pages of the actions (`<pk>/act/<name>/`).
A refusal of the service (a state or policy rule) comes back as an admin message; bad input as errors on the
form; either way nothing is saved.

Who sees what comes from evaluations/selectors_levels.py: assessors their institution's assessments of the
enterprises assigned to it now, county staff their county, the bureau everything.
"""

import dataclasses

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from enterprises.models import ContractStatus, PilotEnterprise, ServiceContract
from tangshan_portal.transitions import TransitionError

from . import selectors_levels, services_levels
from .admin import CaseAction, ReadOnlyAdmin, ServiceActionAdminMixin, _person, _put_errors, local_today
from .admin_forms import CaseForm, ChoiceListAutocompleteSelect, ConfirmForm
from .models import AssessorAssignment, LevelAssessment, LevelStandard

# The regulation's words for the legal grounds shown on these pages.
ART6_1_WORDING = "确保系统能够正常运行并达到二级及以上标准"
ART14_WORDING = "服务商被清退或未通过验收的，不予支付服务费用，试点企业有权追回该项目预付款项。"

LEVEL_CHOICES = [
    (0, _("0 — not applicable")),
    (1, _("Level 1")),
    (2, _("Level 2")),
    (3, _("Level 3")),
    (4, _("Level 4")),
]


def _date_input():
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _local(value):
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else "—"


def level_rule_rows(standard):
    """The standard's level rule as table rows, lowest level first."""
    return [
        {
            "level": step["level"],
            "min_score": step["min_score"],
            "min_scenarios": step.get("min_scenarios_at_level", 0),
        }
        for step in sorted(standard.rule.get("levels", []), key=lambda step: step["level"])
    ]


class Refused(Exception):
    """A service's refusal for the state or the policy: shown as an admin message on the record's page."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


def refusing(perform):
    """Wrap an action's service call so that a TransitionError becomes a message instead of a form error."""

    def wrapped(obj, user, data):
        try:
            return perform(obj, user, data)
        except TransitionError as error:
            raise Refused(" ".join(error.messages)) from error

    return wrapped


class MessagesForRefusalsMixin:
    """Actions whose service refusals (Refused) go back to the record's page as an error message."""

    def action_view(self, request, object_id, action):
        try:
            return super().action_view(request, object_id, action)
        except Refused as refused:
            # The service ran in its own atomic block, which rolled back: nothing of the action was saved.
            messages.error(request, refused.message)
            return HttpResponseRedirect(self._url("change", unquote(object_id)))

    def add_view(self, request, form_url="", extra_context=None):
        """The add page of the mixin, with forms that know the user (their choices depend on the user's scope)."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            form = self.open_form_class(request.POST, request.FILES, user=request.user)
            if form.is_valid():
                try:
                    obj = self.open_case(request, form.cleaned_data)
                except TransitionError as error:
                    messages.error(request, " ".join(error.messages))
                except ValidationError as error:
                    _put_errors(form, error)
                else:
                    messages.success(request, self.opened_message(obj))
                    return HttpResponseRedirect(self.after_open_url(obj))
        else:
            form = self.open_form_class(initial=self.open_initial(request), user=request.user)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "app_label": self.opts.app_label,
            "has_view_permission": self.has_view_permission(request),
            "title": self.open_title,
            "form": form,
            "media": self.media + form.media,
            "open_help": self.open_help(request),
        }
        return TemplateResponse(request, self.open_template, context)

    def after_open_url(self, obj):
        return self._url("change", obj.pk)

    def open_help(self, request):
        return ""


# --- The standard: read-only for everyone -----------------------------------------------------------------------


@admin.register(LevelStandard)
class LevelStandardAdmin(ReadOnlyAdmin):
    list_display = ["name", "code", "published_on", "is_current", "item_count", "scenario_count"]
    list_display_links = ["name"]
    fields = ["name", "code", "published_on", "is_current"]
    change_form_template = "admin/evaluations/levels/standard_change_form.html"

    @admin.display(description=_("indicators"))
    def item_count(self, obj):
        return obj.items.count()

    @admin.display(description=_("scenarios"))
    def scenario_count(self, obj):
        return obj.scenarios.count()

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            groups = selectors_levels.items_by_dimension(obj)
            context.update(
                item_groups=groups,
                total_points=sum(group["max_points"] for group in groups),
                scenario_groups=selectors_levels.scenarios_by_group(obj),
                scenario_total=obj.scenarios.count(),
                rule_rows=level_rule_rows(obj),
                rule_note=obj.rule.get("note", ""),
                acceptance_min_level=settings.ACCEPTANCE_MIN_LEVEL,
                art6_wording=ART6_1_WORDING,
            )
        return super().render_change_form(request, context, add, change, form_url, obj)


# --- Assignments: officers add and end them through the services -------------------------------------------------


class AssignmentForm(CaseForm):
    institution = forms.ModelChoiceField(
        label=_("institution"),
        queryset=selectors_levels.assignable_institutions(),
        help_text=_("An active third-party support institution; its assessors will see this enterprise."),
    )
    enterprise = forms.ModelChoiceField(
        label=_("enterprise"),
        queryset=PilotEnterprise.objects.none(),
        widget=ChoiceListAutocompleteSelect(AssessorAssignment._meta.get_field("enterprise"), admin.site),
        help_text=_("Type part of the name or the credit code to search."),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["institution"].queryset = selectors_levels.assignable_institutions()
        self.fields["enterprise"].queryset = selectors_levels.assignable_enterprises(user)


class ActiveAssignmentFilter(admin.SimpleListFilter):
    title = _("assignment")
    parameter_name = "active"

    def lookups(self, request, model_admin):
        return [("yes", _("Running")), ("no", _("Ended"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(ended_at__isnull=True)
        if self.value() == "no":
            return queryset.filter(ended_at__isnull=False)
        return queryset


ASSIGNMENT_ACTIONS = {
    "end": CaseAction(
        name="end",
        method="",  # not a transition: the permission to assign assessors decides (may_ever_take)
        label=_("End the assignment"),
        form_class=ConfirmForm,
        perform=refusing(
            lambda assignment, user, data: services_levels.assessor_unassign(assignment=assignment, by=user)
        ),
        success=lambda assignment: (
            gettext("The assignment of %(institution)s to %(enterprise)s has ended.")
            % {"institution": assignment.institution, "enterprise": assignment.enterprise}
        ),
        explain=lambda assignment: gettext(
            "From now on the institution no longer sees this enterprise and cannot record or decide assessments "
            "for it. Its final assessments stay. The institution is notified."
        ),
        danger=True,
    ),
}


@admin.register(AssessorAssignment)
class AssessorAssignmentAdmin(MessagesForRefusalsMixin, ServiceActionAdminMixin, admin.ModelAdmin):
    case_actions = ASSIGNMENT_ACTIONS
    open_form_class = AssignmentForm
    open_title = _("Assign an institution")
    add_label = _("Assign an institution")
    open_template = "admin/evaluations/levels/open.html"
    change_form_template = "admin/evaluations/levels/assignment_change_form.html"

    list_display = ["enterprise", "county", "institution", "assigned_at", "assigned_by_display", "ended_at"]
    list_display_links = ["enterprise"]
    list_filter = [ActiveAssignmentFilter, ("institution", admin.RelatedOnlyFieldListFilter), "enterprise__county"]
    search_fields = ["enterprise__name", "enterprise__uscc", "institution__name"]
    list_select_related = ["enterprise__county", "institution", "assigned_by"]
    fieldsets = ((None, {"fields": ("institution", "enterprise", "assigned_at", "assigned_by_display", "ended_at")}),)
    # No list actions: ServiceActionAdminMixin.action_form (the confirmation forms) shadows ModelAdmin.action_form,
    # so the list's action drop-down would fail. An assignment is ended from its page.
    actions = None

    def get_queryset(self, request):
        return selectors_levels.assignments_visible_to(request.user, super().get_queryset(request))

    def has_add_permission(self, request):
        return request.user.has_perm("evaluations.assign_assessor")

    @admin.display(description=_("county"), ordering="enterprise__county__code")
    def county(self, obj):
        return obj.enterprise.county

    @admin.display(description=_("assigned by"), ordering="assigned_by__full_name")
    def assigned_by_display(self, obj):
        return _person(obj.assigned_by)

    # Ending is not a transition of an FSM: the permission decides who, the end date decides when.
    def may_ever_take(self, obj, action, user):
        return user.has_perm("evaluations.assign_assessor")

    def can_take_now(self, obj, action, user):
        return self.may_ever_take(obj, action, user) and obj.ended_at is None

    def not_now_message(self, obj, action):
        return gettext("This assignment has already ended.")

    def timeline(self, obj):
        return []  # the record itself says who assigned it, when, and when it ended

    def change_page_context(self, request, obj):
        state = gettext("Ended on %(at)s") % {"at": _local(obj.ended_at)} if obj.ended_at else gettext("Running")
        return {**super().change_page_context(request, obj), "record_state": {"get_status_display": state}}

    def summary(self, obj):
        return [
            (_("institution"), obj.institution),
            (_("enterprise"), obj.enterprise),
            (_("assigned"), _local(obj.assigned_at)),
            (_("assigned by"), _person(obj.assigned_by)),
        ]

    def open_initial(self, request):
        return {k: v for k, v in request.GET.items() if k in ("institution", "enterprise")}

    def open_case(self, request, data):
        existing = services_levels.active_assignment(institution=data["institution"], enterprise=data["enterprise"])
        if existing is not None:
            raise ValidationError(
                {
                    "enterprise": gettext("%(institution)s has been assigned to this enterprise since %(at)s.")
                    % {"institution": existing.institution, "at": _local(existing.assigned_at)}
                }
            )
        return services_levels.assessor_assign(
            institution=data["institution"], enterprise=data["enterprise"], by=request.user
        )

    def opened_message(self, obj):
        return gettext("%(institution)s is assigned to assess %(enterprise)s; its assessors were notified.") % {
            "institution": obj.institution,
            "enterprise": obj.enterprise,
        }


# --- Assessments: opened, scored, finalised and decided through the services -------------------------------------


class ContractChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.number} {obj.title}（{obj.enterprise.name}；{obj.provider.name}）"


class AssessmentOpenForm(CaseForm):
    enterprise = forms.ModelChoiceField(
        label=_("enterprise"),
        queryset=PilotEnterprise.objects.none(),
        widget=ChoiceListAutocompleteSelect(LevelAssessment._meta.get_field("enterprise"), admin.site),
        help_text=_("One of the enterprises your institution is assigned to assess."),
    )
    kind = forms.ChoiceField(label=_("kind"), choices=[("", "---------"), *LevelAssessment.Kind.choices])
    contract = ContractChoiceField(
        label=_("contract"),
        queryset=ServiceContract.objects.none(),
        required=False,
        help_text=_(
            "Required for an evaluation acceptance: only contracts of the enterprise that passed internal "
            "acceptance (Art 8) are listed. Leave empty for a baseline assessment."
        ),
    )
    assessed_on = forms.DateField(label=_("assessed on"), widget=_date_input(), help_text=_("Format YYYY-MM-DD."))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["enterprise"].queryset = selectors_levels.assigned_enterprises(user).order_by("name")
        # Without JavaScript the list cannot follow the chosen enterprise: opened from an enterprise (?enterprise=)
        # it shows that enterprise's contracts only; the service checks the pair either way.
        enterprise = None
        raw = self.data.get("enterprise") or self.initial.get("enterprise")
        if raw:
            enterprise = self.fields["enterprise"].queryset.filter(pk=str(raw)).first() if str(raw).isdigit() else None
        self.fields["contract"].queryset = selectors_levels.acceptance_contracts(user, enterprise)


def _assessment_result(assessment):
    return gettext("%(score)s points, digital level %(level)s") % {
        "score": services_levels.points_text(assessment.total_score),
        "level": assessment.level,
    }


class AcceptanceForm(CaseForm):
    reason = forms.CharField(
        label=_("acceptance conclusion"),
        widget=forms.Textarea(attrs={"rows": 5, "cols": 60}),
        help_text=_("Recorded with the decision and sent to the provider and the enterprise."),
    )


ASSESSMENT_ACTIONS = {
    action.name: action
    for action in [
        CaseAction(
            name="finalise",
            method="",
            label=_("Finalise the assessment"),
            form_class=ConfirmForm,
            perform=refusing(
                lambda assessment, user, data: services_levels.assessment_finalise(assessment=assessment, by=user)
            ),
            success=lambda assessment: (
                gettext("The assessment is final: %(result)s.") % {"result": _assessment_result(assessment)}
            ),
            explain=lambda assessment: (
                gettext(
                    "The assessment becomes final with %(result)s and can no longer be changed; a correction needs "
                    "a new assessment."
                )
                % {"result": _assessment_result(assessment)}
                + " "
                + (
                    gettext("As a baseline assessment, it sets the enterprise's baseline digital level.")
                    if assessment.kind == LevelAssessment.Kind.BASELINE
                    else gettext("Afterwards you decide the evaluation acceptance of the contract.")
                )
            ),
        ),
        CaseAction(
            name="pass",
            method="",
            label=_("Pass acceptance"),
            form_class=AcceptanceForm,
            perform=refusing(
                lambda assessment, user, data: services_levels.acceptance_decide(
                    assessment=assessment, by=user, passed=True, reason=data["reason"]
                )
            ),
            success=lambda assessment: (
                gettext("Contract %(number)s passed evaluation acceptance.") % {"number": assessment.contract.number}
            ),
            explain=lambda assessment: (
                gettext(
                    "The contract passes evaluation acceptance (Art 9). Art 6(1) requires digital level %(min)s or "
                    "above (“%(wording)s”); this assessment gives level %(level)s."
                )
                % {"min": settings.ACCEPTANCE_MIN_LEVEL, "wording": ART6_1_WORDING, "level": assessment.level}
            ),
        ),
        CaseAction(
            name="fail",
            method="",
            label=_("Fail acceptance"),
            form_class=AcceptanceForm,
            perform=refusing(
                lambda assessment, user, data: services_levels.acceptance_decide(
                    assessment=assessment, by=user, passed=False, reason=data["reason"]
                )
            ),
            success=lambda assessment: (
                gettext(
                    "Contract %(number)s failed evaluation acceptance: the service fee is withheld and the advance "
                    "payment is recoverable (Art 14)."
                )
                % {"number": assessment.contract.number}
            ),
            explain=lambda assessment: (
                gettext(
                    "The contract fails evaluation acceptance. Art 14: “%(wording)s” The fee consequence is recorded "
                    "on the contract."
                )
                % {"wording": ART14_WORDING}
            ),
            danger=True,
        ),
    ]
}


@admin.register(LevelAssessment)
class LevelAssessmentAdmin(MessagesForRefusalsMixin, ServiceActionAdminMixin, admin.ModelAdmin):
    case_actions = ASSESSMENT_ACTIONS
    open_form_class = AssessmentOpenForm
    open_title = _("Open an assessment")
    add_label = _("Open an assessment")
    open_template = "admin/evaluations/levels/open.html"
    score_template = "admin/evaluations/levelassessment/score.html"
    transition_labels = {
        "finalise": _("Finalised"),
        "acceptance_passed": _("Acceptance passed"),
        "acceptance_failed": _("Acceptance failed"),
    }

    list_display = [
        "enterprise",
        "kind_display",
        "contract_number",
        "assessed_on",
        "result_display",
        "state_display",
        "institution",
    ]
    list_display_links = ["enterprise", "kind_display"]
    list_filter = [
        "status",
        "kind",
        "level",
        "acceptance_passed",
        ("institution", admin.RelatedOnlyFieldListFilter),
    ]
    date_hierarchy = "assessed_on"
    search_fields = ["enterprise__name", "enterprise__uscc", "contract__number"]
    list_select_related = ["enterprise", "contract", "institution"]
    fieldsets = (
        (None, {"fields": ("enterprise", "kind_display", "contract", "standard", "institution", "assessed_on")}),
        (
            _("Result"),
            {"fields": ("status", "total_score", "level_display", "conclusion", "acceptance_display")},
        ),
        (_("Record"), {"fields": ("created_by_display", "finalised_at")}),
    )

    def get_queryset(self, request):
        return selectors_levels.assessments_visible_to(request.user, super().get_queryset(request))

    def get_list_display(self, request):
        if selectors_levels.is_assessor(request.user):
            return [name for name in self.list_display if name != "institution"]  # always their own
        return self.list_display

    def has_add_permission(self, request):
        return request.user.has_perm("evaluations.record_assessment")

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/score/",
                self.admin_site.admin_view(self.score_view),
                name="{}_{}_score".format(*info),
            ),
            *super().get_urls(),
        ]

    # --- the list and the read-only page

    @admin.display(description=_("kind"), ordering="kind")
    def kind_display(self, obj):
        return obj.get_kind_display()

    @admin.display(description=_("contract"), ordering="contract__number")
    def contract_number(self, obj):
        return format_html('<span class="nowrap">{}</span>', obj.contract.number) if obj.contract_id else "—"

    @admin.display(description=_("result"), ordering="level")
    def result_display(self, obj):
        if obj.status == LevelAssessment.Status.DRAFT and obj.total_score == 0 and obj.level == 0:
            return gettext("not scored yet")
        return _assessment_result(obj)

    @admin.display(description=_("status"), ordering="status")
    def state_display(self, obj):
        if obj.kind == LevelAssessment.Kind.ACCEPTANCE and obj.status == LevelAssessment.Status.FINAL:
            return format_html("{}<br>{}", obj.get_status_display(), self.acceptance_display(obj))
        return obj.get_status_display()

    @admin.display(description=_("digital level"), ordering="level")
    def level_display(self, obj):
        if obj.status == LevelAssessment.Status.DRAFT and not obj.item_scores.exists():
            return gettext("not scored yet")
        return obj.level

    @admin.display(description=_("acceptance"), ordering="acceptance_passed")
    def acceptance_display(self, obj):
        if obj.kind != LevelAssessment.Kind.ACCEPTANCE:
            return "—"
        if obj.acceptance_passed is None:
            return gettext("acceptance not decided")
        if obj.acceptance_passed:
            return gettext("acceptance passed")
        return format_html('<strong class="case-days-urgent">{}</strong>', gettext("acceptance failed"))

    @admin.display(description=_("assessor"))
    def created_by_display(self, obj):
        return _person(obj.created_by)

    def change_page_context(self, request, obj):
        context = super().change_page_context(request, obj)
        if self.may_record(request.user, obj) and obj.status == LevelAssessment.Status.DRAFT:
            # The scoring page first: it is what a draft needs, and it is a page of its own, not a confirmation.
            context["case_actions"] = [
                {"label": gettext("Record the scores"), "url": self._url("score", obj.pk), "danger": False},
                *context["case_actions"],
            ]
        scores = {score.item_id: score.points for score in obj.item_scores.all()}
        levels = {level.scenario_id: level.level for level in obj.scenario_levels.all()}
        latest = selectors_levels.latest_final_levels(obj.enterprise)
        context.update(
            item_groups=selectors_levels.items_by_dimension(obj.standard, scores) if scores else [],
            scenario_groups=selectors_levels.scenarios_by_group(obj.standard, levels) if levels else [],
            enterprise_levels=[
                {
                    "title": gettext("Baseline"),
                    "assessment": latest["baseline"],
                    "url": self._visible_url(request, latest["baseline"]),
                },
                {
                    "title": gettext("Evaluation acceptance"),
                    "assessment": latest["acceptance"],
                    "url": self._visible_url(request, latest["acceptance"]),
                },
            ],
            acceptance_min_level=settings.ACCEPTANCE_MIN_LEVEL,
        )
        return context

    def _visible_url(self, request, assessment):
        if assessment is None or not self.get_queryset(request).filter(pk=assessment.pk).exists():
            return None
        return self._url("change", assessment.pk)

    def case_notes(self, request, obj):
        notes = []
        if obj.status == LevelAssessment.Status.FINAL:
            notes.append(
                gettext("Final since %(at)s: %(result)s. It is not changed any more.")
                % {"at": _local(obj.finalised_at), "result": _assessment_result(obj)}
            )
            if obj.kind == LevelAssessment.Kind.ACCEPTANCE and obj.acceptance_passed is None:
                if obj.level < settings.ACCEPTANCE_MIN_LEVEL:
                    notes.append(
                        gettext(
                            "Level %(level)s is below level %(min)s, which acceptance requires (Art 6(1)): the "
                            "contract cannot pass on this assessment."
                        )
                        % {"level": obj.level, "min": settings.ACCEPTANCE_MIN_LEVEL}
                    )
                if obj.contract.status != ContractStatus.INTERNALLY_ACCEPTED:
                    notes.append(
                        gettext("Contract %(number)s is “%(status)s”: its acceptance is no longer open.")
                        % {"number": obj.contract.number, "status": obj.contract.get_status_display()}
                    )
        elif not obj.item_scores.exists():
            notes.append(gettext("Record the indicator points and scenario levels, then finalise."))
        else:
            notes.append(gettext("Draft: %(result)s so far.") % {"result": _assessment_result(obj)})
        return notes

    def summary(self, obj):
        rows = [
            (_("enterprise"), obj.enterprise),
            (_("kind"), obj.get_kind_display()),
            (_("assessed on"), obj.assessed_on.isoformat()),
            (_("total score"), obj.total_score),
            (_("digital level"), obj.level),
            (_("status"), obj.get_status_display()),
        ]
        if obj.contract_id:
            rows.insert(2, (_("contract"), f"{obj.contract}（{obj.contract.get_status_display()}）"))
        return rows

    # --- who may act, and when

    def may_record(self, user, obj):
        return user.has_perm("evaluations.record_assessment") and obj.institution_id == user.organisation_id

    def may_ever_take(self, obj, action, user):
        return user.has_perm("evaluations.record_assessment")

    def can_take_now(self, obj, action, user):
        if not self.may_record(user, obj):
            return False
        if action.name == "finalise":
            return obj.status == LevelAssessment.Status.DRAFT and obj.item_scores.exists()
        return (
            obj.kind == LevelAssessment.Kind.ACCEPTANCE
            and obj.status == LevelAssessment.Status.FINAL
            and obj.acceptance_passed is None
            and obj.contract.status == ContractStatus.INTERNALLY_ACCEPTED
        )

    def action_refusal(self, request, obj, action):
        user = request.user
        if obj.institution_id != user.organisation_id:
            return gettext("This assessment belongs to another institution.")
        if not selectors_levels.assigned_enterprises(user).filter(pk=obj.enterprise_id).exists():
            return gettext("Your institution is not assigned to assess this enterprise.")
        return None

    def not_now_message(self, obj, action):
        if action.name == "finalise":
            if obj.status != LevelAssessment.Status.DRAFT:
                return gettext("This assessment is already final.")
            return gettext("Record the indicator points and scenario levels first.")
        if obj.kind != LevelAssessment.Kind.ACCEPTANCE:
            return gettext("Only an acceptance assessment decides acceptance.")
        if obj.status != LevelAssessment.Status.FINAL:
            return gettext("Finalise the assessment before deciding acceptance.")
        if obj.acceptance_passed is not None:
            return gettext("Acceptance has already been decided on this assessment.")
        return gettext("The contract is “%(status)s”, not awaiting evaluation acceptance.") % {
            "status": obj.contract.get_status_display()
        }

    # --- the add page

    def open_initial(self, request):
        initial = {k: v for k, v in request.GET.items() if k in ("enterprise", "contract", "kind")}
        return {"assessed_on": local_today(), **initial}

    def open_case(self, request, data):
        return services_levels.assessment_create(
            enterprise=data["enterprise"],
            by=request.user,
            kind=data["kind"],
            assessed_on=data["assessed_on"],
            contract=data["contract"],
        )

    def opened_message(self, obj):
        return gettext("Assessment opened. Record the indicator points and the scenario levels.")

    def after_open_url(self, obj):
        return self._url("score", obj.pk)

    def open_help(self, request):
        return gettext(
            "Open a baseline assessment before the project, and an evaluation acceptance (Art 9) for a contract "
            "after its internal acceptance. The points and the level are recorded on the next page."
        )

    # --- the scoring page: one number per indicator, one level per scenario; the service computes the rest

    def score_view(self, request, object_id):
        if not self.has_view_permission(request):
            raise PermissionDenied
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404
        if not request.user.has_perm("evaluations.record_assessment"):
            raise PermissionDenied
        change_url = self._url("change", obj.pk)
        score_url = self._url("score", obj.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "app_label": self.opts.app_label,
            "has_view_permission": True,
            "title": gettext("Record the scores"),
            "subtitle": str(obj),
            "case": obj,
            "change_url": change_url,
            "case_notes": [],
        }
        refusal = self.action_refusal(request, obj, None)
        if refusal is not None:
            return self.refuse(request, context, refusal)
        if obj.status != LevelAssessment.Status.DRAFT:
            messages.error(request, gettext("A final assessment is not changed; record a new one."))
            return HttpResponseRedirect(change_url)
        standard = obj.standard
        if request.method == "POST":
            form = ScoreForm(request.POST, standard=standard)
            if form.is_valid():
                try:
                    saved = services_levels.assessment_record(
                        assessment=obj,
                        by=request.user,
                        item_points=form.item_points(),
                        scenario_levels=form.scenario_levels(),
                        conclusion=form.cleaned_data["conclusion"],
                    )
                except TransitionError as error:
                    messages.error(request, " ".join(error.messages))
                    return HttpResponseRedirect(change_url)
                except ValidationError as error:
                    _put_errors(form, error)
                except PermissionDenied as error:
                    return self.refuse(request, context, str(error) or gettext("You may not take this action."))
                else:
                    messages.success(
                        request, gettext("Scores saved: %(result)s.") % {"result": _assessment_result(saved)}
                    )
                    return HttpResponseRedirect(score_url)
        else:
            form = ScoreForm(initial=ScoreForm.initial_for(obj), standard=standard)
        context.update(
            form=form,
            item_groups=form.item_groups(),
            scenario_groups=form.scenario_groups(),
            scored=obj.item_scores.exists(),
            rule_rows=level_rule_rows(standard),
            acceptance_min_level=settings.ACCEPTANCE_MIN_LEVEL,
            finalise_url=self._url("act", obj.pk, "finalise"),
            media=self.media + form.media,
        )
        return TemplateResponse(request, self.score_template, context)


@dataclasses.dataclass
class _Group:
    label: str
    max_points: object = None
    fields: list = dataclasses.field(default_factory=list)


class ScoreForm(forms.Form):
    """The fields follow the standard: `item_<code>` per indicator, `scenario_<code>` per scenario."""

    required_css_class = "required"

    def __init__(self, *args, standard, **kwargs):
        super().__init__(*args, **kwargs)
        self.standard = standard
        self.items = list(standard.items.all())
        self.scenarios = list(standard.scenarios.all())
        for item in self.items:
            self.fields[services_levels.item_key(item)] = forms.DecimalField(
                label=item.name,
                min_value=0,
                max_value=item.max_points,
                max_digits=5,
                decimal_places=1,
                help_text=_("0 to %(max)s points") % {"max": services_levels.points_text(item.max_points)},
                widget=forms.NumberInput(attrs={"step": "0.1", "inputmode": "decimal", "class": "vIntegerField"}),
            )
        for scenario in self.scenarios:
            self.fields[services_levels.scenario_key(scenario)] = forms.TypedChoiceField(
                label=scenario.name, choices=LEVEL_CHOICES, coerce=int, initial=0
            )
        self.fields["conclusion"] = forms.CharField(
            label=_("conclusion"),
            required=False,
            widget=forms.Textarea(attrs={"rows": 5, "cols": 60}),
            help_text=_("The assessor's findings and recommendations, as the report states them."),
        )

    @staticmethod
    def initial_for(assessment):
        initial = {"conclusion": assessment.conclusion}
        for score in assessment.item_scores.select_related("item"):
            initial[services_levels.item_key(score.item)] = score.points
        for level in assessment.scenario_levels.select_related("scenario"):
            initial[services_levels.scenario_key(level.scenario)] = level.level
        return initial

    def item_points(self):
        return {item.pk: self.cleaned_data[services_levels.item_key(item)] for item in self.items}

    def scenario_levels(self):
        return {scenario.pk: self.cleaned_data[services_levels.scenario_key(scenario)] for scenario in self.scenarios}

    def item_groups(self):
        groups = []
        for group in selectors_levels.items_by_dimension(self.standard):
            groups.append(
                _Group(
                    label=group["label"],
                    max_points=group["max_points"],
                    fields=[self[services_levels.item_key(item)] for item, _points in group["items"]],
                )
            )
        return groups

    def scenario_groups(self):
        return [
            _Group(
                label=group["label"],
                fields=[self[services_levels.scenario_key(scenario)] for scenario, _level in group["scenarios"]],
            )
            for group in selectors_levels.scenarios_by_group(self.standard)
        ]
