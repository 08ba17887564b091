"""The one write path for diagnosis (Art 5), dossier surveys (Art 6(2)), matchmaking events (Art 4) and
training (Art 7).

Who may act is decided here, from the organisation the user acts for, never from what a form offered:
- a provider in the resource pool diagnoses an enterprise it has a contract with, or a cooperation intention
  the enterprise confirmed; the diagnosis is free of charge (公益性) and says so; a submitted report is final;
- the provider of a contract under implementation surveys the enterprise for its dossier;
- county bureaus hold events in their own county (the city's officers in any county) and record attendance;
  a provider registers itself for an upcoming event; an intention links a provider and an enterprise that
  were both present at the same event, and the enterprise answers it once;
- a provider in the pool records its free training sessions, who attended and the materials.
"""

import re

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from providers.models import POOL_STATUSES
from providers.selectors import provider_of
from tangshan_portal.roles import Role
from tangshan_portal.services import attachment_store, notify
from tangshan_portal.transitions import TransitionError, log_event, require

from . import selectors_outreach as selectors
from .models import (
    CooperationIntention,
    DiagnosisFinding,
    DiagnosisReport,
    DossierSurvey,
    EventAttendance,
    MatchmakingEvent,
    ServiceContract,
    TrainingAttendance,
    TrainingSession,
    TrainingTopic,
)
from .selectors import _is_county_limited, enterprises_visible_to

# --- Who acts ---------------------------------------------------------------------------------------------------


def _acting_provider(by):
    provider = provider_of(by)
    if provider is None:
        raise PermissionDenied(_("Only the staff of a service provider may do this."))
    return provider


def _require_in_pool(provider):
    if provider.status not in POOL_STATUSES:
        raise TransitionError(
            _("Only a provider in the resource pool may do this; your standing is “%(status)s”.")
            % {"status": provider.get_status_display()},
            code="not_in_pool",
        )


def _not_in_future(day, field, message):
    if day is not None and day > timezone.localdate():
        raise ValidationError({field: ValidationError(message, code="future")})


def _notify_org(organisation, *, kind, subject, body, key, link):
    if organisation is None:
        return
    notify(kind=kind, subject=subject, body=body, dedup_key=key, organisation=organisation, link=link)


def _stamp():
    return timezone.now().strftime("%Y%m%d%H%M%S%f")


# --- Diagnosis (Art 5) -------------------------------------------------------------------------------------------


def _locked_draft(report, provider):
    report = DiagnosisReport.objects.select_for_update(of=("self",)).select_related("enterprise").get(pk=report.pk)
    if report.provider_id != provider.pk:
        raise PermissionDenied
    if report.status != DiagnosisReport.Status.DRAFT:
        raise TransitionError(_("A submitted diagnosis report can no longer be changed."), code="submitted")
    return report


@transaction.atomic
def diagnosis_save(*, by, diagnosed_on, summary, free_of_charge, enterprise=None, report=None):
    """Create a draft diagnosis of `enterprise`, or edit the date and overall assessment of a draft.

    `free_of_charge` is the provider's declaration that the diagnosis is provided free of charge (Art 5,
    公益性); without it nothing is saved. The enterprise of a report is fixed once it is created."""
    provider = _acting_provider(by)
    _require_in_pool(provider)
    if not free_of_charge:
        raise ValidationError(
            {
                "free_of_charge": ValidationError(
                    _("Declare that the diagnosis is provided free of charge (Art 5)."), code="not_declared"
                )
            }
        )
    created = report is None
    if created:
        if enterprise is None or not selectors.may_diagnose(provider, enterprise):
            raise PermissionDenied(
                _("You may diagnose an enterprise you have a contract or a confirmed cooperation intention with.")
            )
        report = DiagnosisReport(enterprise=enterprise, provider=provider, created_by=by)
    else:
        report = _locked_draft(report, provider)
    _not_in_future(diagnosed_on, "diagnosed_on", _("The diagnosis cannot be dated in the future."))
    report.diagnosed_on, report.summary = diagnosed_on, summary
    report.full_clean()
    report.save()
    if created:
        log_event(
            report,
            by=by,
            description=_("Diagnosis drafted; the provider declared it free of charge (Art 5)."),
            state=report.status,
        )
    return report


@transaction.atomic
def diagnosis_finding_save(*, by, report, scenario, current_state, recommendation, priority, finding=None):
    """One finding per scenario of Art 5: what the enterprise has now, the retrofit recommended, a priority."""
    provider = _acting_provider(by)
    report = _locked_draft(report, provider)
    if finding is None:
        finding = DiagnosisFinding(report=report)
    elif finding.report_id != report.pk:
        raise PermissionDenied
    taken = DiagnosisFinding.objects.filter(report=report, scenario=scenario)
    if finding.pk is not None:
        taken = taken.exclude(pk=finding.pk)
    if taken.exists():
        raise ValidationError(
            {
                "scenario": ValidationError(
                    _("This report already has a finding for “%(scenario)s”; edit that one.")
                    % {"scenario": scenario.name},
                    code="scenario_taken",
                )
            }
        )
    finding.scenario = scenario
    finding.current_state, finding.recommendation, finding.priority = current_state, recommendation, priority
    finding.full_clean()
    finding.save()
    return finding


@transaction.atomic
def diagnosis_finding_delete(*, by, finding):
    provider = _acting_provider(by)
    _locked_draft(finding.report, provider)
    finding.delete()


@transaction.atomic
def diagnosis_attach(*, by, report, files):
    provider = _acting_provider(by)
    report = _locked_draft(report, provider)
    if not files:
        raise ValidationError({"files": ValidationError(_("Choose at least one file."), code="required")})
    return [attachment_store(target=report, uploaded=uploaded, by=by, purpose="diagnosis") for uploaded in files]


@transaction.atomic
def diagnosis_submit(*, by, report):
    """The provider hands the finished report to the enterprise; from then on it is never changed."""
    provider = _acting_provider(by)
    _require_in_pool(provider)
    report = _locked_draft(report, provider)
    if not report.findings.exists():
        raise TransitionError(
            _("Record at least one finding before you submit the report."),
            code="no_findings",
        )
    if not selectors.may_diagnose(provider, report.enterprise):
        raise PermissionDenied(
            _("You may diagnose an enterprise you have a contract or a confirmed cooperation intention with.")
        )
    report.status = DiagnosisReport.Status.SUBMITTED
    report.submitted_at = timezone.now()
    report.save(update_fields=["status", "submitted_at"])
    log_event(
        report,
        by=by,
        description=_("Submitted to the enterprise"),
        state=report.status,
        transition="submit",
        source_state=DiagnosisReport.Status.DRAFT,
    )
    _notify_org(
        report.enterprise.organisation,
        kind="diagnosis_submitted",
        subject=_("%(provider)s sent you a free diagnosis report") % {"provider": provider.name},
        body=report.summary[:500],
        key=f"diagnosis:{report.pk}:submitted",
        link=reverse("enterprise:diagnosis_detail", args=[report.pk]),
    )
    return report


# --- Dossier survey (Art 6(2)) ------------------------------------------------------------------------------------

SURVEY_FIELDS = ("surveyed_on", "production_process", "supply_chain", "intellectual_property", "other_core_information")


@transaction.atomic
def dossier_survey_save(*, by, data, contract=None, survey=None):
    """The provider's deep survey of the enterprise under one of its contracts, for the enterprise's dossier.
    Recorded, or updated, while the contract is being implemented."""
    provider = _acting_provider(by)
    if survey is not None:
        survey = DossierSurvey.objects.select_for_update().get(pk=survey.pk)
        contract = survey.contract
    if contract is None:
        raise ValidationError(_("Choose the contract the survey belongs to."), code="required")
    contract = ServiceContract.objects.select_for_update(of=("self",)).select_related("enterprise").get(pk=contract.pk)
    if contract.provider_id != provider.pk:
        raise PermissionDenied
    if contract.status not in selectors.SURVEY_CONTRACT_STATUSES:
        raise TransitionError(
            _("A dossier survey is recorded while the contract is being implemented, not while it is “%(status)s”.")
            % {"status": contract.get_status_display()},
            code="contract_status",
        )
    created = survey is None
    if created:
        survey = DossierSurvey(contract=contract, enterprise=contract.enterprise, created_by=by)
    for field in SURVEY_FIELDS:
        if field in data:
            setattr(survey, field, data[field])
    _not_in_future(survey.surveyed_on, "surveyed_on", _("The survey cannot be dated in the future."))
    survey.full_clean()
    survey.save()
    log_event(
        survey,
        by=by,
        description=_("Dossier survey recorded") if created else _("Dossier survey updated"),
        state="recorded",
        transition="create" if created else "update",
    )
    # The enterprise learns what core information about it was recorded, and by whom (Art 10(1)).
    _notify_org(
        contract.enterprise.organisation,
        kind="dossier_survey",
        subject=_("%(provider)s recorded a dossier survey of your enterprise") % {"provider": provider.name},
        body=_("Contract %(number)s") % {"number": contract.number},
        key=f"dossier_survey:{survey.pk}:{_stamp()}",
        link=reverse("enterprise:dossier"),
    )
    return survey


# --- Matchmaking events (Art 4) -----------------------------------------------------------------------------------

EVENT_FIELDS = ("county", "title", "held_on", "venue", "description")


def _require_event_scope(by, county):
    """County bureau staff act for their own county only; the city's officers for every county."""
    if by.is_superuser:
        return
    if _is_county_limited(by) and (by.county is None or county is None or by.county.pk != county.pk):
        raise PermissionDenied(_("You may act only on events of your own county."))


def _locked_event(event):
    return MatchmakingEvent.objects.select_for_update(of=("self",)).select_related("county").get(pk=event.pk)


@transaction.atomic
def event_create(*, by, county, title, held_on, venue, description=""):
    require(by.has_perm("enterprises.add_matchmakingevent"))
    _require_event_scope(by, county)
    event = MatchmakingEvent(
        county=county, title=title, held_on=held_on, venue=venue, description=description, created_by=by
    )
    event.full_clean()
    event.save()
    log_event(event, by=by, description=_("Event announced"), state="announced")
    if held_on >= timezone.localdate():
        # Art 4 asks providers to attend: every provider account hears of an upcoming event.
        notify(
            kind="event_announced",
            subject=_("Matchmaking event in %(county)s on %(date)s: %(title)s")
            % {"county": county.name, "date": held_on.isoformat(), "title": title},
            body=venue,
            dedup_key=f"event:{event.pk}:announced",
            role=Role.PROVIDER,
            link=reverse("provider:event_list"),
        )
    return event


@transaction.atomic
def event_update(*, by, event, data):
    require(by.has_perm("enterprises.change_matchmakingevent"))
    event = _locked_event(event)
    _require_event_scope(by, event.county)
    before = (event.held_on, event.venue)
    for field in EVENT_FIELDS:
        if field in data:
            setattr(event, field, data[field])
    _require_event_scope(by, event.county)
    event.full_clean()
    event.save()
    if (event.held_on, event.venue) != before:
        log_event(
            event,
            by=by,
            description=_("Date or venue changed: %(date)s, %(venue)s")
            % {"date": event.held_on.isoformat(), "venue": event.venue},
            state="announced",
            transition="update",
            source_state="announced",
        )
        stamp = _stamp()
        for attendance in event.attendances.select_related("provider__organisation", "enterprise__organisation"):
            party = attendance.provider or attendance.enterprise
            _notify_org(
                party.organisation,
                kind="event_changed",
                subject=_("Matchmaking event “%(title)s” now on %(date)s at %(venue)s")
                % {"title": event.title, "date": event.held_on.isoformat(), "venue": event.venue},
                body=event.description[:500],
                key=f"event:{event.pk}:changed:{attendance.pk}:{stamp}",
                link=reverse("provider:event_list") if attendance.provider_id else "",
            )
    return event


def _require_attendance_staff(by, event, permission):
    require(by.has_perm(permission))
    _require_event_scope(by, event.county)


def attendance_has_intentions(attendance):
    intentions = CooperationIntention.objects.filter(event_id=attendance.event_id)
    if attendance.provider_id:
        return intentions.filter(provider_id=attendance.provider_id).exists()
    return intentions.filter(enterprise_id=attendance.enterprise_id).exists()


@transaction.atomic
def attendance_register(*, by, event, provider=None, enterprise=None):
    """A provider registers itself for an upcoming event; county staff register providers or enterprises."""
    event = _locked_event(event)
    acting = provider_of(by)
    if acting is not None:
        if enterprise is not None or (provider is not None and provider.pk != acting.pk):
            raise PermissionDenied
        provider = acting
        _require_in_pool(provider)
        if event.held_on < timezone.localdate():
            raise TransitionError(_("Registration closed: the event has taken place."), code="event_past")
    else:
        _require_attendance_staff(by, event, "enterprises.add_eventattendance")
        if (provider is None) == (enterprise is None):
            raise ValidationError(_("Register either a provider or an enterprise."), code="provider_xor_enterprise")
        if enterprise is not None and not enterprises_visible_to(by).filter(pk=enterprise.pk).exists():
            raise PermissionDenied
    party = {"provider": provider} if provider is not None else {"enterprise": enterprise}
    if EventAttendance.objects.filter(event=event, **party).exists():
        field = "provider" if provider is not None else "enterprise"
        raise ValidationError(
            {field: ValidationError(_("Already registered for this event."), code="already_registered")}
        )
    attendance = EventAttendance.objects.create(event=event, registered_by=by, registered_at=timezone.now(), **party)
    if enterprise is not None:
        _notify_org(
            enterprise.organisation,
            kind="event_registered",
            subject=_("You are registered for the matchmaking event “%(title)s” on %(date)s")
            % {"title": event.title, "date": event.held_on.isoformat()},
            body=event.venue,
            key=f"event:{event.pk}:registered:{attendance.pk}",
            link="",
        )
    return attendance


@transaction.atomic
def attendance_mark(*, by, attendance, attended):
    """County staff record who was present; only an event that has taken place has attendees."""
    attendance = (
        EventAttendance.objects.select_for_update(of=("self",)).select_related("event__county").get(pk=attendance.pk)
    )
    _require_attendance_staff(by, attendance.event, "enterprises.change_eventattendance")
    if attended and attendance.event.held_on > timezone.localdate():
        raise ValidationError(
            {"attended": ValidationError(_("Presence is recorded once the event has taken place."), code="not_held")}
        )
    if not attended and attendance.attended and attendance_has_intentions(attendance):
        raise TransitionError(
            _("Cooperation intentions of this event rest on this attendance; it cannot be undone."),
            code="intentions_exist",
        )
    attendance.attended = attended
    attendance.save(update_fields=["attended"])
    return attendance


@transaction.atomic
def attendance_remove(*, by, attendance):
    attendance = (
        EventAttendance.objects.select_for_update(of=("self",)).select_related("event__county").get(pk=attendance.pk)
    )
    _require_attendance_staff(by, attendance.event, "enterprises.delete_eventattendance")
    if attendance_has_intentions(attendance):
        raise TransitionError(
            _("Cooperation intentions of this event rest on this attendance; it cannot be removed."),
            code="intentions_exist",
        )
    attendance.delete()


@transaction.atomic
def intention_propose(*, by, event, enterprise, scenarios, note):
    """A provider records the cooperation intention it reached with an enterprise at an event both attended."""
    provider = _acting_provider(by)
    _require_in_pool(provider)
    event = _locked_event(event)
    if not EventAttendance.objects.filter(event=event, provider=provider, attended=True).exists():
        raise PermissionDenied(_("Only a provider recorded as present at the event may record intentions from it."))
    if not EventAttendance.objects.filter(event=event, enterprise=enterprise, attended=True).exists():
        raise ValidationError(
            {
                "enterprise": ValidationError(
                    _("This enterprise was not recorded as present at the event."), code="enterprise_not_present"
                )
            }
        )
    if CooperationIntention.objects.filter(event=event, provider=provider, enterprise=enterprise).exists():
        raise ValidationError(
            {
                "enterprise": ValidationError(
                    _("You already recorded an intention with this enterprise at this event."),
                    code="already_proposed",
                )
            }
        )
    if not note.strip():
        raise ValidationError({"note": ValidationError(_("Say what was agreed."), code="required")})
    intention = CooperationIntention(
        event=event,
        provider=provider,
        enterprise=enterprise,
        note=note.strip(),
        proposed_by=by,
        proposed_at=timezone.now(),
    )
    intention.full_clean()
    intention.save()
    intention.scenarios.set(scenarios)
    _notify_org(
        enterprise.organisation,
        kind="intention_proposed",
        subject=_("%(provider)s recorded a cooperation intention with you; please confirm or decline")
        % {"provider": provider.name},
        body=intention.note[:500],
        key=f"intention:{intention.pk}:proposed",
        link=reverse("enterprise:intention_list"),
    )
    return intention


@transaction.atomic
def intention_answer(*, by, intention, confirm):
    """The enterprise confirms or declines, once; a confirmed intention lets the provider diagnose it."""
    intention = (
        CooperationIntention.objects.select_for_update(of=("self",))
        .select_related("enterprise", "provider__organisation")
        .get(pk=intention.pk)
    )
    if by.organisation_id is None or by.organisation_id != intention.enterprise.organisation_id:
        raise PermissionDenied
    if intention.status != CooperationIntention.Status.PROPOSED:
        raise TransitionError(_("This intention has already been answered."), code="already_answered")
    source = intention.status
    intention.status = CooperationIntention.Status.CONFIRMED if confirm else CooperationIntention.Status.DECLINED
    intention.answered_by, intention.answered_at = by, timezone.now()
    intention.save(update_fields=["status", "answered_by", "answered_at"])
    log_event(
        intention,
        by=by,
        description=intention.get_status_display(),
        state=intention.status,
        transition="answer",
        source_state=source,
    )
    _notify_org(
        intention.provider.organisation,
        kind="intention_answered",
        subject=_("%(enterprise)s: cooperation intention %(verdict)s")
        % {"enterprise": intention.enterprise.name, "verdict": intention.get_status_display()},
        body=intention.note[:500],
        key=f"intention:{intention.pk}:answered",
        link=reverse("provider:event_list"),
    )
    return intention


# --- Training (Art 7) --------------------------------------------------------------------------------------------

TRAINING_FIELDS = ("title", "held_on", "hours", "county", "venue", "description")
NAME_SEPARATORS = re.compile(r"[\n,，、;；]+")


def training_topics_clean(topics):
    """The Art 7 topics chosen, at least one, each known, in the order of TrainingTopic."""
    chosen = set(topics or ())
    unknown = chosen - set(TrainingTopic.values)
    if unknown:
        raise ValidationError({"topics": ValidationError(_("Choose topics from the list."), code="unknown_topic")})
    if not chosen:
        raise ValidationError({"topics": ValidationError(_("Choose at least one topic of Art 7."), code="no_topic")})
    return [value for value in TrainingTopic.values if value in chosen]


def _locked_session(session, provider):
    session = TrainingSession.objects.select_for_update().get(pk=session.pk)
    if session.provider_id != provider.pk:
        raise PermissionDenied
    return session


@transaction.atomic
def training_save(*, by, data, topics, session=None):
    """Create or edit a free training session (Art 7): title, topics, date, hours, county, venue, content."""
    provider = _acting_provider(by)
    _require_in_pool(provider)
    topics = training_topics_clean(topics)
    created = session is None
    session = TrainingSession(provider=provider, created_by=by) if created else _locked_session(session, provider)
    for field in TRAINING_FIELDS:
        if field in data:
            setattr(session, field, data[field])
    session.topics = topics
    session.full_clean()
    session.save()
    if created:
        log_event(session, by=by, description=_("Training session recorded"), state="recorded")
    return session


@transaction.atomic
def training_attendance_save(*, by, session, enterprise, attendees, names="", attendance=None):
    """Which enterprise sent how many people to a session that has taken place."""
    provider = _acting_provider(by)
    _require_in_pool(provider)
    session = _locked_session(session, provider)
    if session.held_on > timezone.localdate():
        raise TransitionError(_("Attendance is recorded once the session has taken place."), code="not_held")
    if attendees is None or attendees < 1:
        raise ValidationError({"attendees": ValidationError(_("At least one person attended."), code="min_attendees")})
    listed = [name for name in NAME_SEPARATORS.split(names or "") if name.strip()]
    if len(listed) > attendees:
        raise ValidationError(
            {
                "names": ValidationError(
                    _("%(listed)s names are listed for %(attendees)s attendees.")
                    % {"listed": len(listed), "attendees": attendees},
                    code="too_many_names",
                )
            }
        )
    if attendance is None:
        if TrainingAttendance.objects.filter(session=session, enterprise=enterprise).exists():
            raise ValidationError(
                {
                    "enterprise": ValidationError(
                        _("This enterprise's attendance is recorded already; change that row."),
                        code="already_recorded",
                    )
                }
            )
        attendance = TrainingAttendance(session=session, enterprise=enterprise)
    elif attendance.session_id != session.pk:
        raise PermissionDenied
    attendance.attendees, attendance.names = attendees, (names or "").strip()
    attendance.full_clean()
    attendance.save()
    return attendance


@transaction.atomic
def training_attendance_delete(*, by, attendance):
    provider = _acting_provider(by)
    _require_in_pool(provider)
    _locked_session(attendance.session, provider)
    attendance.delete()


@transaction.atomic
def training_materials_attach(*, by, session, files):
    provider = _acting_provider(by)
    _require_in_pool(provider)
    session = _locked_session(session, provider)
    if not files:
        raise ValidationError({"files": ValidationError(_("Choose at least one file."), code="required")})
    return [attachment_store(target=session, uploaded=uploaded, by=by, purpose="training") for uploaded in files]
