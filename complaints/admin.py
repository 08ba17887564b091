"""The staff side of complaints (Art 11) and appeals (Art 16).

The same approach as the case admin (evaluations/admin.py): every field is read-only, nothing is added or
deleted here, and a record changes state only through complaints/services.py, from the actions panel of its
page (one confirmation view per action, `<pk>/act/<action>/`). Any POST to the change view is refused, which
also closes django-fsm's crafted `_fsm_transition_to` POST (DESIGN.md, "Known traps").
"""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.prefetch import GenericPrefetch
from django.db.models import Q
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.text import capfirst
from django.utils.translation import gettext, ngettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from enterprises.models import FeeConsequence
from enterprises.selectors import enterprises_visible_to
from evaluations.admin import (
    CaseAction,
    CountyFilter,
    ServiceActionAdminMixin,
    _person,
    _short_datetime,
    local_today,
    titled_choices_filter,
)
from evaluations.admin_forms import ConfirmForm
from evaluations.models import BlacklistEntry, RectificationCase, RevocationCase, SatisfactionRating
from providers.models import Provider
from tangshan_portal.grounds import Art12Ground, Art13Ground, cite_art12, cite_art13
from tangshan_portal.models import County
from tangshan_portal.roles import Role

from . import admin_forms, services
from .models import (
    CATEGORY_GROUNDS,
    OPEN_COMPLAINT_STATUSES,
    Appeal,
    AppealStatus,
    AppealType,
    Complaint,
    ComplaintStatus,
)


def _county_limited(user):
    """County bureau staff see their own county only (fails closed like enterprises.selectors)."""
    org = user.organisation
    return not user.is_superuser and (
        user.has_role(Role.COUNTY) or (org is not None and org.kind == org.Kind.COUNTY_BUREAU)
    )


def _at(value):
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else "—"


def _overdue_date(value, overdue):
    if overdue:
        return format_html(
            '<strong class="case-days-urgent" title="{}">{}</strong>', gettext("overdue"), value.isoformat()
        )
    return value.isoformat()


# --- Complaints ----------------------------------------------------------------------------------------------------


def what_substantiation_opens(complaint, *, short=False):
    """The case a substantiated complaint of this category opens (complaints.models.CATEGORY_GROUNDS)."""
    kind, ground = CATEGORY_GROUNDS[complaint.category]
    if kind == "rectification":
        if short:
            return gettext("If substantiated, it opens a rectification case on %(ground)s.") % {
                "ground": Art12Ground(ground).label
            }
        return gettext(
            "If you find it substantiated, a rectification case is opened against %(provider)s with this complaint "
            "as evidence, citing %(citation)s. The case starts as a draft: check it, then issue the warning. If not "
            "substantiated, the complaint is closed and the enterprise is told the conclusion."
        ) % {"provider": complaint.provider.name, "citation": cite_art12(ground)}
    if short:
        return gettext("If substantiated, it opens a revocation proposal on %(ground)s.") % {
            "ground": Art13Ground(ground).label
        }
    return gettext(
        "If you find it substantiated, a revocation of %(provider)s is proposed with this complaint as evidence, "
        "citing %(citation)s. The provider is told and may state its case; an approver decides. If not "
        "substantiated, the complaint is closed and the enterprise is told the conclusion."
    ) % {"provider": complaint.provider.name, "citation": cite_art13(ground)}


def _concluded(complaint):
    if complaint.rectification_case_id:
        return gettext(
            "The complaint is substantiated: rectification case %(case)s was opened as a draft; warn the provider "
            "from the case's page."
        ) % {"case": complaint.rectification_case}
    if complaint.revocation_case_id:
        return gettext(
            "The complaint is substantiated: revocation proposal %(case)s was opened; the provider may state its "
            "case before an approver decides."
        ) % {"case": complaint.revocation_case}
    return gettext("The complaint was found not substantiated; the enterprise is told the conclusion.")


COMPLAINT_ACTIONS = {
    action.name: action
    for action in [
        CaseAction(
            name="accept",
            method="accept",
            label=_("Accept the complaint"),
            form_class=admin_forms.AcceptForm,
            perform=lambda c, user, data: services.complaint_accept(complaint=c, by=user, note=data["note"]),
            success=lambda c: gettext("The complaint was accepted; the enterprise and the provider are told."),
            explain=lambda c: gettext(
                "The bureau takes the complaint up. The enterprise is told; the provider is told a complaint about "
                "it was accepted and may respond. Next, start the investigation."
            ),
        ),
        CaseAction(
            name="reject",
            method="reject",
            label=_("Do not accept"),
            form_class=admin_forms.RejectForm,
            perform=lambda c, user, data: services.complaint_reject(complaint=c, by=user, reason=data["reason"]),
            success=lambda c: gettext("The complaint was not accepted; the enterprise is told the reason."),
            explain=lambda c: gettext("The complaint is closed without investigation and the enterprise is told why."),
            danger=True,
        ),
        CaseAction(
            name="investigate",
            method="investigate",
            label=_("Start the investigation"),
            form_class=admin_forms.InvestigateForm,
            perform=lambda c, user, data: services.complaint_investigate(complaint=c, by=user, note=data["note"]),
            success=lambda c: gettext("The investigation has started."),
            explain=lambda c: gettext("When the facts are established, conclude the investigation."),
        ),
        CaseAction(
            name="conclude",
            # Both outcomes leave "under investigation" with the same permission; the form chooses the transition.
            method="substantiate",
            label=_("Conclude the investigation"),
            form_class=admin_forms.ConcludeForm,
            perform=lambda c, user, data: services.complaint_conclude(
                complaint=c, by=user, substantiated=data["substantiated"], conclusion=data["conclusion"]
            ),
            success=_concluded,
            explain=what_substantiation_opens,
        ),
    ]
}

COMPLAINT_TRANSITIONS = {
    "accept": pgettext_lazy("complaint", "Accepted"),
    "reject": _("Not accepted"),
    "investigate": _("Investigation started"),
    "substantiate": _("Found substantiated"),
    "find_unsubstantiated": _("Found not substantiated"),
}


class ComplaintCountyFilter(admin.SimpleListFilter):
    """The complaining enterprise's county."""

    title = _("county")
    parameter_name = "county"

    def lookups(self, request, model_admin):
        if request.user.county is not None:
            return []  # county staff see their own county only: nothing to choose
        return [(str(county.pk), county.name) for county in County.objects.order_by("code")]

    def queryset(self, request, queryset):
        return queryset.filter(enterprise__county_id=self.value()) if self.value() else queryset


def ack_overdue_q(today):
    return Q(status=ComplaintStatus.SUBMITTED, acknowledge_by__lt=today)


def resolution_overdue_q(today):
    return Q(status__in=OPEN_COMPLAINT_STATUSES, resolve_by__lt=today)


class ComplaintOverdueFilter(admin.SimpleListFilter):
    title = _("overdue")
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [
            ("acknowledgement", _("Acknowledgement overdue")),
            ("resolution", _("Resolution overdue")),
            ("any", _("Either overdue")),
        ]

    def queryset(self, request, queryset):
        today = local_today()
        conditions = {
            "acknowledgement": ack_overdue_q(today),
            "resolution": resolution_overdue_q(today),
            "any": ack_overdue_q(today) | resolution_overdue_q(today),
        }
        condition = conditions.get(self.value())
        return queryset if condition is None else queryset.filter(condition)


@admin.register(Complaint)
class ComplaintAdmin(ServiceActionAdminMixin, admin.ModelAdmin):
    case_actions = COMPLAINT_ACTIONS
    transition_labels = COMPLAINT_TRANSITIONS
    created_label = _("Submitted")
    change_form_template = "admin/complaints/record_change_form.html"

    list_display = [
        "number",
        "enterprise",
        "provider",
        "category",
        "status",
        "submitted",
        "acknowledge_by_display",
        "resolve_by_display",
    ]
    list_display_links = ["number"]
    list_filter = ["status", "category", ComplaintCountyFilter, ComplaintOverdueFilter]
    search_fields = ["=id", "enterprise__name", "enterprise__uscc", "provider__name", "provider__uscc", "description"]
    list_select_related = ["enterprise", "provider"]
    fieldsets = (
        (None, {"fields": ("enterprise", "provider", "contract", "category", "status")}),
        (_("Complaint"), {"fields": ("description", "attachments_display", "complainant_display", "submitted_at")}),
        (_("Deadlines"), {"fields": ("acknowledge_by", "resolve_by")}),
        (_("Provider's response"), {"fields": ("provider_response", "provider_responded_at")}),
        (
            _("Handling"),
            {
                "fields": (
                    "handled_by",
                    "accepted_at",
                    "conclusion",
                    "closed_at",
                    "rectification_case",
                    "revocation_case",
                )
            },
        ),
    )

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if _county_limited(request.user):
            queryset = queryset.filter(enterprise__in=enterprises_visible_to(request.user).values("pk"))
        return queryset

    def has_add_permission(self, request):
        return False  # enterprises file complaints in their own pages

    def not_now_message(self, obj, action):
        return gettext("This action is not possible while the complaint is “%(status)s”.") % {
            "status": obj.get_status_display()
        }

    @admin.display(description=_("No."))
    def number(self, obj):
        return obj.pk

    @admin.display(description=_("submitted"), ordering="submitted_at")
    def submitted(self, obj):
        return _short_datetime(obj.submitted_at)

    @admin.display(description=_("acknowledge by"), ordering="acknowledge_by")
    def acknowledge_by_display(self, obj):
        return _overdue_date(
            obj.acknowledge_by, obj.status == ComplaintStatus.SUBMITTED and obj.acknowledge_by < local_today()
        )

    @admin.display(description=_("resolve by"), ordering="resolve_by")
    def resolve_by_display(self, obj):
        return _overdue_date(obj.resolve_by, obj.status in OPEN_COMPLAINT_STATUSES and obj.resolve_by < local_today())

    @admin.display(description=_("attachments"))
    def attachments_display(self, obj):
        return self.attachments_display_html(obj)

    @admin.display(description=_("complainant"))
    def complainant_display(self, obj):
        person = _person(obj.submitted_by)
        if obj.protect_identity:
            return format_html("{} <em>({})</em>", person, gettext("identity kept from the provider"))
        return person

    def case_notes(self, request, obj):
        notes = []
        today = local_today()
        if obj.status == ComplaintStatus.SUBMITTED:
            days = (obj.acknowledge_by - today).days
            if days < 0:
                notes.append(
                    format_html(
                        '<strong class="case-days-urgent">{}</strong>',
                        gettext("To be acknowledged by %(date)s: overdue.") % {"date": obj.acknowledge_by},
                    )
                )
            else:
                notes.append(gettext("To be acknowledged by %(date)s.") % {"date": obj.acknowledge_by})
        if obj.status in OPEN_COMPLAINT_STATUSES:
            text = gettext("To be resolved by %(date)s.") % {"date": obj.resolve_by}
            if obj.resolve_by < today:
                text = format_html('<strong class="case-days-urgent">{} {}</strong>', text, gettext("Overdue."))
            notes.append(text)
        if obj.protect_identity:
            notes.append(gettext("The enterprise asked to keep its identity from the provider."))
        if obj.status == ComplaintStatus.INVESTIGATING:
            notes.append(what_substantiation_opens(obj, short=True))
        return notes

    def summary(self, obj):
        return [
            (_("enterprise"), obj.enterprise),
            (_("provider"), obj.provider),
            (_("category"), obj.get_category_display()),
            (_("description"), obj.description),
            (_("provider's response"), obj.provider_response or "—"),
            (_("status"), obj.get_status_display()),
        ]


# --- Appeals -------------------------------------------------------------------------------------------------------


def _target_label(target):
    """E.g. “取消资格案件 唐工信〔2026〕1号”; a case without a number already names its kind (“整改案件 3”)."""
    number = getattr(target, "document_number", None) or getattr(target, "decision_number", None)
    if isinstance(target, (RectificationCase, RevocationCase)) and not number:
        return str(target)
    return f"{capfirst(target._meta.verbose_name)} {target}"


def _target_state(target):
    if target is None:
        return "—"
    if isinstance(target, SatisfactionRating):
        if target.voided:
            return gettext("Voided on %(at)s") % {"at": _at(target.voided_at)}
        return gettext("Counted: %(overall)s, submitted %(at)s") % {
            "overall": target.get_overall_display(),
            "at": _at(target.submitted_at),
        }
    state = target.get_status_display()
    if isinstance(target, RectificationCase) and target.deadline:
        return gettext("%(state)s; deadline %(deadline)s") % {"state": state, "deadline": target.deadline.isoformat()}
    if isinstance(target, RevocationCase):
        entry = BlacklistEntry.objects.filter(revocation=target).first()
        if entry is not None:
            return gettext("%(state)s; provider %(standing)s; blacklist entry %(entry)s") % {
                "state": state,
                "standing": target.provider.get_status_display(),
                "entry": entry.get_status_display(),
            }
    return state


def what_upholding_undoes(appeal):
    """Exactly what an upheld appeal of this type undoes (complaints.services.appeal_uphold)."""
    target = appeal.target
    if appeal.appeal_type == AppealType.DIAGNOSIS_DELAYED:
        return gettext(
            "Upholding excuses the missed deadline of rectification case %(case)s (now: %(state)s): the new "
            "deadline you set below applies, an overdue case runs again, and the provider's standing follows its "
            "open cases. The provider asked for %(requested)s."
        ) % {
            "case": target,
            "state": _target_state(target),
            "requested": appeal.requested_deadline.isoformat() if appeal.requested_deadline else "—",
        }
    if appeal.appeal_type == AppealType.DISSATISFIED_RATING:
        return gettext(
            "Upholding voids the rating %(rating)s: it stays on record but no longer counts towards Article 13(2)."
        ) % {"rating": target}
    if appeal.appeal_type == AppealType.REVOCATION:
        entry = BlacklistEntry.objects.filter(revocation=target).first()
        fees = FeeConsequence.objects.filter(decision_reference=target.decision_number, lifted_at__isnull=True).count()
        lines = [
            gettext("Upholding reverses revocation decision %(decision)s:") % {"decision": target.decision_number},
            gettext("%(provider)s is reinstated to the resource pool;") % {"provider": target.provider.name},
            gettext(
                "the blacklist entry %(entry)s is marked removed with today's date and your reasons: it leaves the "
                "public list and stays in history;"
            )
            % {"entry": entry.decision_number if entry else "—"},
            gettext("the Article 14 fee consequences of the decision are lifted (%(fees)s);")
            % {"fees": ngettext("%(n)s contract", "%(n)s contracts", fees) % {"n": fees}},
            gettext("contracts that were terminated stay terminated: the parties decide whether to sign again."),
        ]
        return format_html(
            "{}<br>{}", lines[0], format_html_join(mark_safe("<br>"), "· {}", ((line,) for line in lines[1:]))
        )
    return gettext(
        "Upholding withdraws rectification case %(case)s (now: %(state)s): it no longer counts towards Article "
        "13(1), and the provider's standing follows its remaining open cases."
    ) % {"case": target, "state": _target_state(target)}


def _what_rejecting_means(appeal):
    if appeal.appeal_type == AppealType.REVOCATION:
        return gettext(
            "The decision stands. The blacklist entry, shown as “under appeal” meanwhile, is published again."
        )
    return gettext("The disputed record stays as it is; the provider is told your reasons.")


APPEAL_ACTIONS = {
    action.name: action
    for action in [
        CaseAction(
            name="review",
            method="start_review",
            label=_("Take up the review"),
            form_class=ConfirmForm,
            perform=lambda a, user, data: services.appeal_start_review(appeal=a, by=user),
            success=lambda a: gettext("You are the reviewer of this appeal; uphold or reject it when ready."),
            explain=lambda a: gettext(
                "You become the reviewer: only you can then decide the appeal. You must have taken no part in the "
                "disputed decision."
            ),
        ),
        CaseAction(
            name="uphold",
            method="uphold",
            label=_("Uphold the appeal"),
            form_class=admin_forms.UpholdForm,
            form_kwargs=lambda a: {"appeal": a},
            initial=lambda a: {"new_deadline": a.requested_deadline},
            perform=lambda a, user, data: services.appeal_uphold(
                appeal=a, by=user, decision=data["decision"], new_deadline=data.get("new_deadline")
            ),
            success=lambda a: gettext("The appeal was upheld and its target undone; the provider is told."),
            explain=what_upholding_undoes,
            danger=True,
        ),
        CaseAction(
            name="reject",
            method="reject",
            label=_("Reject the appeal"),
            form_class=admin_forms.AppealDecisionForm,
            perform=lambda a, user, data: services.appeal_reject(appeal=a, by=user, decision=data["decision"]),
            success=lambda a: gettext("The appeal was rejected; the provider is told the reasons."),
            explain=_what_rejecting_means,
        ),
    ]
}

APPEAL_TRANSITIONS = {
    "start_review": _("Review started"),
    "uphold": _("Upheld"),
    "reject": pgettext_lazy("appeal status", "Rejected"),
}


@admin.register(Appeal)
class AppealAdmin(ServiceActionAdminMixin, admin.ModelAdmin):
    case_actions = APPEAL_ACTIONS
    transition_labels = APPEAL_TRANSITIONS
    created_label = _("Filed")
    change_form_template = "admin/complaints/record_change_form.html"

    list_display = ["number", "provider", "article", "target_display", "status", "filed", "reviewer_display"]
    list_display_links = ["number"]
    list_filter = ["status", ("appeal_type", titled_choices_filter(_("appeal type"))), CountyFilter]
    search_fields = ["=id", "provider__name", "provider__uscc", "grounds"]
    fieldsets = (
        (None, {"fields": ("provider", "article", "status", "target_display", "target_state_display")}),
        (_("Appeal"), {"fields": ("grounds", "requested_deadline", "filed_by", "filed_at")}),
        (_("Review"), {"fields": ("reviewer", "review_started_at", "decided_at", "decision", "granted_deadline")}),
    )

    def get_queryset(self, request):
        queryset = (
            super()
            .get_queryset(request)
            .select_related("provider", "reviewer", "content_type")
            .prefetch_related(
                GenericPrefetch(
                    "target",
                    [
                        RectificationCase.objects.all(),
                        RevocationCase.objects.select_related("provider"),
                        SatisfactionRating.objects.select_related("contract"),
                    ],
                )
            )
        )
        if _county_limited(request.user):
            county = request.user.county
            if county is None:
                return queryset.none()
            providers = Provider.objects.filter(contracts__enterprise__county=county)
            queryset = queryset.filter(provider__in=providers.values("pk"))
        return queryset

    def has_add_permission(self, request):
        return False  # providers file appeals in their own pages

    def not_now_message(self, obj, action):
        return gettext("This action is not possible while the appeal is “%(status)s”.") % {
            "status": obj.get_status_display()
        }

    def action_refusal(self, request, obj, action):
        user = request.user
        if action.name == "review" and user.pk in services.decision_participants(obj.target):
            return gettext("You took part in the disputed decision and may not review this appeal.")
        if action.name in ("uphold", "reject") and obj.reviewer_id and obj.reviewer_id != user.pk:
            return gettext("Only the reviewer who took up this appeal, %(reviewer)s, may decide it.") % {
                "reviewer": _person(obj.reviewer)
            }
        return None

    @admin.display(description=_("No."))
    def number(self, obj):
        return obj.pk

    @admin.display(description=_("appeal type"), ordering="appeal_type")
    def article(self, obj):
        return obj.get_appeal_type_display()

    @admin.display(description=_("disputed record"))
    def target_display(self, obj):
        target = obj.target
        if target is None:
            return gettext("(record #%(id)s no longer exists)") % {"id": obj.object_id}
        label = _target_label(target)
        # Whoever reads appeals reads cases and ratings (roles.CASES_READ); the target's admin applies its scope.
        url = self.admin_url(target)
        return format_html('<a href="{}">{}</a>', url, label) if url else label

    @admin.display(description=_("its current state"))
    def target_state_display(self, obj):
        return _target_state(obj.target)

    @admin.display(description=_("filed"), ordering="filed_at")
    def filed(self, obj):
        return _short_datetime(obj.filed_at)

    @admin.display(description=_("reviewer"), ordering="reviewer__full_name")
    def reviewer_display(self, obj):
        return _person(obj.reviewer) or "—"

    def case_notes(self, request, obj):
        notes = []
        if obj.status in (AppealStatus.SUBMITTED, AppealStatus.UNDER_REVIEW) and obj.target is not None:
            participants = services.decision_participants(obj.target)
            if participants:
                names = get_user_model().objects.filter(pk__in=participants).order_by("full_name", "username")
                notes.append(
                    format_html(
                        "{} {}",
                        gettext("Took part in the disputed decision, so may not review this appeal:"),
                        format_html_join("、", "{}", ((_person(user),) for user in names)),
                    )
                )
            if request.user.pk in participants:
                notes.append(gettext("You took part in the disputed decision: another approver reviews this appeal."))
        if obj.status == AppealStatus.UNDER_REVIEW:
            notes.append(gettext("Under review by %(reviewer)s.") % {"reviewer": _person(obj.reviewer)})
        if obj.appeal_type == AppealType.DIAGNOSIS_DELAYED and obj.requested_deadline:
            notes.append(gettext("The provider asks for a new deadline: %(date)s.") % {"date": obj.requested_deadline})
        return notes

    def summary(self, obj):
        return [
            (_("provider"), obj.provider),
            (_("appeal type"), obj.get_appeal_type_display()),
            (_("disputed record"), _target_label(obj.target) if obj.target else "—"),
            (_("its current state"), _target_state(obj.target)),
            (_("grounds of the appeal"), obj.grounds),
            (_("status"), obj.get_status_display()),
        ]
