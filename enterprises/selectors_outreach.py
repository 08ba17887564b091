"""Reads for diagnosis (Art 5), dossier surveys (Art 6(2)), matchmaking (Art 4) and training (Art 7).

Provider and enterprise staff see their own organisation's records; bureau staff see what their data scope
allows (county bureaus: their county only), exactly as enterprises.selectors does for contracts."""

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from providers.models import POOL_STATUSES
from tangshan_portal.models import Scenario, ScenarioFamily

from .models import (
    ACTIVE_CONTRACT_STATUSES,
    CooperationIntention,
    DiagnosisReport,
    DossierSurvey,
    EventAttendance,
    MatchmakingEvent,
    PilotEnterprise,
    ServiceContract,
    TrainingAttendance,
    TrainingSession,
)
from .selectors import _is_assessor_limited, _is_county_limited, contracts_visible_to, enterprises_visible_to

# A survey belongs to the implementation of a contract (Art 6(2) “在项目实施过程中”): signed, under way or
# internally accepted; not a draft nobody signed, nor a contract that ended.
SURVEY_CONTRACT_STATUSES = ACTIVE_CONTRACT_STATUSES


# --- Diagnosis (Art 5) ---------------------------------------------------------------------------------------


def diagnosable_enterprises(provider):
    """The enterprises this provider may diagnose: those it has a contract with, or a cooperation intention
    the enterprise confirmed. Only a provider in the resource pool diagnoses at all."""
    if provider.status not in POOL_STATUSES:
        return PilotEnterprise.objects.none()
    contracted = ServiceContract.objects.filter(provider=provider, enterprise=OuterRef("pk"))
    intended = CooperationIntention.objects.filter(
        provider=provider, enterprise=OuterRef("pk"), status=CooperationIntention.Status.CONFIRMED
    )
    return PilotEnterprise.objects.filter(Exists(contracted) | Exists(intended)).order_by("name", "pk")


def may_diagnose(provider, enterprise):
    return diagnosable_enterprises(provider).filter(pk=enterprise.pk).exists()


def provider_diagnoses(provider):
    return DiagnosisReport.objects.filter(provider=provider).select_related("enterprise")


def enterprise_diagnoses(enterprise):
    """What the enterprise sees: the reports submitted to it; a draft is the provider's working paper."""
    submitted = DiagnosisReport.objects.filter(enterprise=enterprise, status=DiagnosisReport.Status.SUBMITTED)
    return submitted.select_related("provider")


def findings_by_family(report):
    """[(family value, family label, [findings])] in the order of Art 5, every family present."""
    grouped = {value: [] for value in ScenarioFamily.values}
    for finding in report.findings.select_related("scenario").order_by("scenario__sort_order", "scenario__code"):
        grouped.setdefault(finding.scenario.family, []).append(finding)
    labels = dict(ScenarioFamily.choices)
    return [(value, labels.get(value, value), findings) for value, findings in grouped.items()]


def scenario_choices(exclude=()):
    """Scenarios grouped by family, for a <select> with one <optgroup> per family."""
    labels = dict(ScenarioFamily.choices)
    groups = {value: [] for value in ScenarioFamily.values}
    for scenario in Scenario.objects.exclude(pk__in=list(exclude)).order_by("sort_order", "code"):
        groups.setdefault(scenario.family, []).append((str(scenario.pk), scenario.name))
    return [(labels.get(value, value), options) for value, options in groups.items() if options]


def diagnoses_visible_to(user, queryset=None):
    """Bureau staff's view (admin): by the enterprise's county."""
    queryset = DiagnosisReport.objects.all() if queryset is None else queryset
    return queryset.filter(enterprise__in=enterprises_visible_to(user).values("pk"))


# --- Dossier survey (Art 6(2)) -------------------------------------------------------------------------------


def surveyable_contracts(provider):
    return (
        ServiceContract.objects.filter(provider=provider, status__in=SURVEY_CONTRACT_STATUSES)
        .select_related("enterprise")
        .order_by("-start_on", "number")
    )


def provider_surveys(provider):
    return DossierSurvey.objects.filter(contract__provider=provider).select_related("enterprise", "contract")


def surveys_visible_to(user, queryset=None):
    queryset = DossierSurvey.objects.all() if queryset is None else queryset
    return queryset.filter(contract__in=contracts_visible_to(user).values("pk"))


# --- Matchmaking events (Art 4) ------------------------------------------------------------------------------


def events_visible_to(user, queryset=None):
    """County bureau staff see their county's events only; everyone else with the permission sees all."""
    queryset = MatchmakingEvent.objects.all() if queryset is None else queryset
    if user.is_superuser:
        return queryset
    if _is_assessor_limited(user):
        return queryset.none()
    if _is_county_limited(user):
        county = user.county
        return queryset.none() if county is None else queryset.filter(county=county)
    return queryset


def events_for_provider(provider, *, today=None):
    """(upcoming, past) events of every county, each annotated with this provider's attendance row."""
    today = today or timezone.localdate()
    events = MatchmakingEvent.objects.select_related("county")
    attendances = {
        row.event_id: row for row in EventAttendance.objects.filter(provider=provider).only("event_id", "attended")
    }
    upcoming = list(events.filter(held_on__gte=today).order_by("held_on", "id"))
    past = events.filter(held_on__lt=today).order_by("-held_on", "-id")
    for event in upcoming:
        event.my_attendance = attendances.get(event.pk)
    return upcoming, past, attendances


def attended_events(provider):
    """Events at which the county bureau recorded this provider as present."""
    return MatchmakingEvent.objects.filter(attendances__provider=provider, attendances__attended=True).select_related(
        "county"
    )


def event_enterprises_present(event):
    """The enterprises recorded as present at the event: the only ones an intention may name."""
    present = EventAttendance.objects.filter(event=event, attended=True, enterprise__isnull=False).values(
        "enterprise_id"
    )
    return PilotEnterprise.objects.filter(pk__in=present).order_by("name", "pk")


def provider_intentions(provider):
    return (
        CooperationIntention.objects.filter(provider=provider)
        .select_related("event__county", "enterprise")
        .prefetch_related("scenarios")
    )


def enterprise_intentions(enterprise):
    return (
        CooperationIntention.objects.filter(enterprise=enterprise)
        .select_related("event__county", "provider")
        .prefetch_related("scenarios")
    )


# --- Training (Art 7) ----------------------------------------------------------------------------------------


def provider_trainings(provider):
    return TrainingSession.objects.filter(provider=provider).select_related("county")


def enterprise_trainings(enterprise):
    return TrainingAttendance.objects.filter(enterprise=enterprise).select_related(
        "session__provider", "session__county"
    )


def trainings_visible_to(user, queryset=None):
    """Bureau staff's view (admin): a county bureau sees sessions held in its county or attended by one of
    its enterprises."""
    queryset = TrainingSession.objects.all() if queryset is None else queryset
    if user.is_superuser:
        return queryset
    if _is_assessor_limited(user):
        return queryset.none()
    if not _is_county_limited(user):
        return queryset
    county = user.county
    if county is None:
        return queryset.none()
    attended = TrainingAttendance.objects.filter(session=OuterRef("pk"), enterprise__county=county)
    return queryset.filter(Q(county=county) | Exists(attended))
