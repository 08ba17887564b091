"""The case admin for officers, approvers, county staff and auditors (Articles 12–14).

Every field is read-only. A case changes state only through evaluations/services.py, reached from the actions
panel of its page (one confirmation view per action, `<pk>/act/<action>/`) and from the add forms.
django-fsm's FSMAdminMixin is deliberately not used: its buttons call the transition methods directly,
bypassing the services and their side effects, and in django-fsm-2 4.2.4 a crafted `_fsm_transition_to` POST
skips the transition's permission (DESIGN.md, "Known traps"). The change view therefore refuses every POST.

ServiceActionAdminMixin (tangshan_portal/admin_actions.py) carries this approach; complaints/admin.py, the
provider registry's admin and the inspection admin below reuse it. The survey questions are kept here by the
system administrator.
"""

from datetime import timedelta

from django.conf import settings
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, ngettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from enterprises.selectors import contracts_visible_to
from providers.models import Provider
from tangshan_portal.admin import ReadOnlyAdmin, RelatedSearchMixin, ScopedAdminMixin
from tangshan_portal.admin_actions import (  # noqa: F401 (CaseAction and the mixin are used by other apps too)
    CaseAction,
    ServiceActionAdminMixin,
    _person,
    _put_errors,
    _short_datetime,
    attachments_html,
)
from tangshan_portal.grounds import ART13_CONSEQUENCE
from tangshan_portal.imports import RegistryImportExportMixin
from tangshan_portal.models import County

from . import admin_forms, selectors, services
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
from .resources import InspectionResource, SatisfactionRatingResource

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


class CaseAdmin(RelatedSearchMixin, ServiceActionAdminMixin, admin.ModelAdmin):
    transition_labels = TRANSITION_LABELS
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


@admin.register(BlacklistEntry)
class BlacklistEntryAdmin(ReadOnlyAdmin):
    list_display = ["provider_name", "uscc", "ground", "decision_number", "decided_on", "status"]
    list_filter = ["status", "ground", "decided_on"]
    search_fields = ["provider_name", "uscc", "decision_number"]
    date_hierarchy = "decided_on"


@admin.register(SatisfactionRating)
class SatisfactionRatingAdmin(RegistryImportExportMixin, ScopedAdminMixin, ReadOnlyAdmin):
    # Export only (evaluations/resources.py says why a file cannot enter ratings).
    resource_classes = [SatisfactionRatingResource]
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
class InspectionAdmin(RegistryImportExportMixin, ServiceActionAdminMixin, admin.ModelAdmin):
    # XLSX export, and import through services.inspection_record (evaluations/resources.py).
    resource_classes = [InspectionResource]
    transition_labels = TRANSITION_LABELS
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
