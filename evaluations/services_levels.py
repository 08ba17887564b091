"""Digital-level assessment (Art 6(1)) and evaluation acceptance (Art 9): the one write path for assessors.

The standard (indicators, points, scenarios and the level rule) is data loaded from LEVEL_STANDARD_FILES,
so a new national version is a new file, and assessments keep pointing at the version they used."""

import json
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from enterprises.models import ContractStatus, PilotEnterprise, ServiceContract
from enterprises.services import contract_fail_acceptance
from tangshan_portal.models import Organisation
from tangshan_portal.services import notify
from tangshan_portal.transitions import TransitionError, log_event, require

from .models import (
    AssessorAssignment,
    LevelAssessment,
    LevelItem,
    LevelItemScore,
    LevelScenario,
    LevelStandard,
    ScenarioLevel,
)

# --- The standard as data ------------------------------------------------------------------------------------


def level_standards_sync(*, using="default", files=None):
    """Create or update each standard from its file; the last file is the current version. Indicators and
    scenarios already used by an assessment are never deleted, only renamed or re-weighted."""
    files = settings.LEVEL_STANDARD_FILES if files is None else files
    current = None
    for path in files:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
        standard, _created = LevelStandard.objects.using(using).update_or_create(
            code=data["code"],
            defaults={"name": data["name"], "published_on": data.get("published_on"), "rule": data["rule"]},
        )
        for order, item in enumerate(data["items"], start=1):
            LevelItem.objects.using(using).update_or_create(
                standard=standard,
                code=item["code"],
                defaults={
                    "dimension": item["dimension"],
                    "name": item["name"],
                    "max_points": item["max_points"],
                    "sort_order": order,
                },
            )
        for order, scenario in enumerate(data["scenarios"], start=1):
            LevelScenario.objects.using(using).update_or_create(
                standard=standard,
                code=scenario["code"],
                defaults={"group": scenario["group"], "name": scenario["name"], "sort_order": order},
            )
        current = standard
    if current is not None:
        LevelStandard.objects.using(using).exclude(pk=current.pk).update(is_current=False)
        LevelStandard.objects.using(using).filter(pk=current.pk).update(is_current=True)
    return current


def level_compute(*, rule, total_score, scenario_levels):
    """The level the rule gives for a total score and the scenario levels (0 when no level is reached).

    Levels are checked from the lowest up and must be reached in order: level 3 requires level 2's
    conditions too, so a rule with a gap cannot skip a level."""
    total_score = Decimal(str(total_score))
    reached = 0
    for step in sorted(rule["levels"], key=lambda s: s["level"]):
        at_or_above = sum(1 for level in scenario_levels if level >= step["level"])
        if total_score >= Decimal(str(step["min_score"])) and at_or_above >= step.get("min_scenarios_at_level", 0):
            reached = step["level"]
        else:
            break
    return reached


# --- Assignments -------------------------------------------------------------------------------------------------


@transaction.atomic
def assessor_assign(*, institution, enterprise, by):
    require(by.has_perm("evaluations.assign_assessor"))
    if institution.kind != Organisation.Kind.INSTITUTION:
        raise ValidationError({"institution": _("Choose a third-party support institution.")})
    assignment, created = AssessorAssignment.objects.get_or_create(
        institution=institution,
        enterprise=enterprise,
        ended_at=None,
        defaults={"assigned_by": by, "assigned_at": timezone.now()},
    )
    if created:
        notify(
            kind="assessor_assigned",
            subject=_("New assessment assignment: %(enterprise)s") % {"enterprise": enterprise.name},
            body="",
            dedup_key=f"assignment:{assignment.pk}",
            organisation=institution,
            link="/admin/evaluations/levelassessment/",
        )
    return assignment


@transaction.atomic
def assessor_unassign(*, assignment, by):
    require(by.has_perm("evaluations.assign_assessor"))
    AssessorAssignment.objects.filter(pk=assignment.pk, ended_at__isnull=True).update(ended_at=timezone.now())


def _require_assigned(by, enterprise):
    require(by.has_perm("evaluations.record_assessment"))
    if not AssessorAssignment.objects.filter(
        institution_id=by.organisation_id, enterprise=enterprise, ended_at__isnull=True
    ).exists():
        raise PermissionDenied(_("Your institution is not assigned to assess this enterprise."))


# --- Assessments -------------------------------------------------------------------------------------------------


@transaction.atomic
def assessment_create(*, enterprise, by, kind, assessed_on, contract=None, standard=None):
    _require_assigned(by, enterprise)
    standard = standard or LevelStandard.objects.get(is_current=True)
    if contract is not None and contract.enterprise_id != enterprise.pk:
        raise ValidationError({"contract": _("Choose a contract of this enterprise.")})
    if kind == LevelAssessment.Kind.ACCEPTANCE:
        if contract is None:
            raise ValidationError({"contract": _("An acceptance assessment is made for a contract.")})
        if contract.status != ContractStatus.INTERNALLY_ACCEPTED:
            raise ValidationError({"contract": _("Evaluation acceptance follows the internal acceptance (Art 8, 9).")})
    if assessed_on > timezone.localdate():
        raise ValidationError({"assessed_on": _("The assessment cannot be dated in the future.")})
    assessment = LevelAssessment.objects.create(
        enterprise=enterprise,
        contract=contract,
        kind=kind,
        standard=standard,
        institution=by.organisation,
        assessed_on=assessed_on,
        created_by=by,
    )
    log_event(assessment, by=by, description=_("Assessment opened"), state=assessment.status)
    return assessment


def _locked_assessment(assessment):
    return LevelAssessment.objects.select_for_update().select_related("standard", "enterprise").get(pk=assessment.pk)


@transaction.atomic
def assessment_record(*, assessment, by, item_points, scenario_levels, conclusion=""):
    """Record the indicator points ({item_id: points}) and scenario levels ({scenario_id: 0–4}) of a draft;
    the total and the level are computed, never typed."""
    assessment = _locked_assessment(assessment)
    _require_assigned(by, assessment.enterprise)
    if assessment.status != LevelAssessment.Status.DRAFT:
        raise TransitionError(_("A final assessment is not changed; record a new one."))
    items = {item.pk: item for item in assessment.standard.items.all()}
    scenarios = {scenario.pk: scenario for scenario in assessment.standard.scenarios.all()}
    errors = []
    points_clean = {}
    for item_id, item in items.items():
        raw = item_points.get(item_id, item_points.get(str(item_id)))
        try:
            points = Decimal(str(raw)) if raw not in (None, "") else None
        except InvalidOperation:
            points = None
        if points is None or points < 0 or points > item.max_points:
            errors.append(_("%(item)s: enter points from 0 to %(max)s.") % {"item": item.name, "max": item.max_points})
        else:
            points_clean[item_id] = points
    levels_clean = {}
    for scenario_id, scenario in scenarios.items():
        raw = scenario_levels.get(scenario_id, scenario_levels.get(str(scenario_id), 0))
        try:
            level = int(raw)
        except (TypeError, ValueError):
            level = -1
        if not 0 <= level <= 4:
            errors.append(_("%(scenario)s: choose a level from 0 to 4.") % {"scenario": scenario.name})
        else:
            levels_clean[scenario_id] = level
    if errors:
        raise ValidationError(errors)
    LevelItemScore.objects.filter(assessment=assessment).delete()
    LevelItemScore.objects.bulk_create(
        LevelItemScore(assessment=assessment, item_id=item_id, points=points)
        for item_id, points in points_clean.items()
    )
    ScenarioLevel.objects.filter(assessment=assessment).delete()
    ScenarioLevel.objects.bulk_create(
        ScenarioLevel(assessment=assessment, scenario_id=sid, level=level) for sid, level in levels_clean.items()
    )
    assessment.total_score = sum(points_clean.values(), Decimal("0"))
    assessment.level = level_compute(
        rule=assessment.standard.rule, total_score=assessment.total_score, scenario_levels=levels_clean.values()
    )
    assessment.conclusion = conclusion
    assessment.save()
    return assessment


@transaction.atomic
def assessment_finalise(*, assessment, by):
    """Make the assessment final. A baseline assessment sets the enterprise's baseline level."""
    assessment = _locked_assessment(assessment)
    _require_assigned(by, assessment.enterprise)
    if assessment.status != LevelAssessment.Status.DRAFT:
        raise TransitionError(_("This assessment is already final."))
    if not assessment.item_scores.exists():
        raise TransitionError(_("Record the indicator points and scenario levels first."))
    assessment.status = LevelAssessment.Status.FINAL
    assessment.finalised_at = timezone.now()
    assessment.save()
    if assessment.kind == LevelAssessment.Kind.BASELINE:
        PilotEnterprise.objects.filter(pk=assessment.enterprise_id).update(baseline_level=assessment.level or None)
    log_event(
        assessment,
        by=by,
        description=_("Final: %(score)s points, level %(level)s")
        % {"score": assessment.total_score, "level": assessment.level},
        state=assessment.status,
        transition="finalise",
        source_state=LevelAssessment.Status.DRAFT,
    )
    return assessment


@transaction.atomic
def acceptance_decide(*, assessment, by, passed, reason):
    """Evaluation acceptance (Art 9) on a final acceptance assessment. Passing requires the digital level
    ACCEPTANCE_MIN_LEVEL (二级) or above (Art 6(1)); failing withholds the fee and makes the advance
    recoverable (Art 14)."""
    assessment = _locked_assessment(assessment)
    _require_assigned(by, assessment.enterprise)
    if assessment.kind != LevelAssessment.Kind.ACCEPTANCE:
        raise TransitionError(_("Only an acceptance assessment decides acceptance."))
    if assessment.status != LevelAssessment.Status.FINAL:
        raise TransitionError(_("Finalise the assessment before deciding acceptance."))
    if assessment.acceptance_passed is not None:
        raise TransitionError(_("Acceptance has already been decided on this assessment."))
    if not reason.strip():
        raise ValidationError({"reason": _("State the acceptance conclusion.")})
    contract = ServiceContract.objects.select_for_update().get(pk=assessment.contract_id)
    if contract.status != ContractStatus.INTERNALLY_ACCEPTED:
        raise TransitionError(
            _("The contract is “%(status)s”, not awaiting evaluation acceptance.")
            % {"status": contract.get_status_display()}
        )
    minimum = settings.ACCEPTANCE_MIN_LEVEL
    if passed:
        if assessment.level < minimum:
            raise TransitionError(
                _(
                    "Acceptance requires digital level %(min)s or above (Art 6(1)); "
                    "this assessment gives level %(level)s."
                )
                % {"min": minimum, "level": assessment.level}
            )
        contract.accept(by=by, description=reason)
        contract.save()
    else:
        contract_fail_acceptance(contract=contract, by=by, reason=reason)
    assessment.acceptance_passed = passed
    assessment.save(update_fields=["acceptance_passed"])
    for organisation in (contract.provider.organisation, contract.enterprise.organisation):
        if organisation is not None:
            notify(
                kind="acceptance_decided",
                subject=(
                    _("Contract %(number)s passed evaluation acceptance")
                    if passed
                    else _("Contract %(number)s failed evaluation acceptance")
                )
                % {"number": contract.number},
                body=reason,
                dedup_key=f"acceptance:{assessment.pk}:{organisation.pk}",
                organisation=organisation,
            )
    return assessment
