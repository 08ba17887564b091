"""Digital-level assessment (Art 6(1)) and evaluation acceptance (Art 9): the one write path for assessors.

The standard (indicators, points, scenarios and the level rule) is data loaded from LEVEL_STANDARD_FILES,
so a new national version is a new file, and assessments keep pointing at the version they used."""

import json
from datetime import date
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from enterprises.models import ContractStatus, PilotEnterprise, ServiceContract
from enterprises.services import contract_fail_acceptance
from tangshan_portal.documents import issue_after_commit
from tangshan_portal.models import Organisation
from tangshan_portal.services import notify
from tangshan_portal.transitions import TransitionError, log_event, require

from .documents import evaluation_acceptance_pdf
from .models import (
    AssessorAssignment,
    LevelAssessment,
    LevelDimension,
    LevelItem,
    LevelItemScore,
    LevelScenario,
    LevelStandard,
    ScenarioLevel,
)

SCENARIO_LEVELS = range(0, 5)  # 0 = the scenario does not apply to this enterprise; 1–4 its level


def item_key(item):
    """The name under which assessment_record reports an indicator's error (and the scoring form its field)."""
    return f"item_{item.code}"


def scenario_key(scenario):
    return f"scenario_{scenario.code}"


def points_text(value):
    """Points as people write them: 15 and 7.5, not 15.0."""
    value = Decimal(value)
    return str(value.quantize(Decimal(1))) if value == value.to_integral_value() else str(value)


# --- The standard as data ------------------------------------------------------------------------------------


def _check_standard_data(data, path):
    """A wrong data file stops the migration with the reason, instead of loading a standard that computes
    wrong levels."""
    problems = []
    levels = data.get("rule", {}).get("levels") or []
    if not levels:
        problems.append("rule.levels is empty")
    for step in levels:
        if not isinstance(step.get("level"), int) or not 1 <= step["level"] <= 4:
            problems.append(f"rule level {step.get('level')!r} is not 1–4")
        if not isinstance(step.get("min_score"), int | float) or step["min_score"] < 0:
            problems.append(f"rule level {step.get('level')!r}: min_score must be a number ≥ 0")
        if not isinstance(step.get("min_scenarios_at_level", 0), int) or step.get("min_scenarios_at_level", 0) < 0:
            problems.append(f"rule level {step.get('level')!r}: min_scenarios_at_level must be an integer ≥ 0")
    if len({step.get("level") for step in levels}) != len(levels):
        problems.append("rule.levels repeats a level")
    items, scenarios = data.get("items") or [], data.get("scenarios") or []
    if not items or not scenarios:
        problems.append("the standard needs items and scenarios")
    for item in items:
        if item.get("dimension") not in LevelDimension.values:
            problems.append(f"item {item.get('code')!r}: unknown dimension {item.get('dimension')!r}")
        if not isinstance(item.get("max_points"), int | float) or item["max_points"] <= 0:
            problems.append(f"item {item.get('code')!r}: max_points must be positive")
    for kind, rows in (("item", items), ("scenario", scenarios)):
        codes = [row.get("code") for row in rows]
        if len(set(codes)) != len(codes):
            problems.append(f"{kind} codes repeat")
    if problems:
        raise ImproperlyConfigured(f"Digital-level standard {path}: " + "; ".join(problems))


def level_standards_sync(*, using="default", files=None):
    """Create or update each standard from its file; the last file is the current version. Running it again
    changes nothing. An indicator or scenario no longer in its file is deleted unless an assessment used it:
    those are kept (the assessment keeps its scores), only renamed or re-weighted."""
    files = settings.LEVEL_STANDARD_FILES if files is None else files
    current = None
    for path in files:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
        _check_standard_data(data, path)
        published_on = data.get("published_on")
        standard, _created = LevelStandard.objects.using(using).update_or_create(
            code=data["code"],
            defaults={
                "name": data["name"],
                "published_on": date.fromisoformat(published_on) if published_on else None,
                "rule": data["rule"],
            },
        )
        for order, item in enumerate(data["items"], start=1):
            LevelItem.objects.using(using).update_or_create(
                standard=standard,
                code=item["code"],
                defaults={
                    "dimension": item["dimension"],
                    "name": item["name"],
                    "max_points": Decimal(str(item["max_points"])),
                    "sort_order": order,
                },
            )
        for order, scenario in enumerate(data["scenarios"], start=1):
            LevelScenario.objects.using(using).update_or_create(
                standard=standard,
                code=scenario["code"],
                defaults={"group": scenario["group"], "name": scenario["name"], "sort_order": order},
            )
        used_items = LevelItemScore.objects.using(using).filter(item__standard=standard).values("item_id")
        LevelItem.objects.using(using).filter(standard=standard).exclude(
            code__in=[item["code"] for item in data["items"]]
        ).exclude(pk__in=used_items).delete()
        used_scenarios = ScenarioLevel.objects.using(using).filter(scenario__standard=standard).values("scenario_id")
        LevelScenario.objects.using(using).filter(standard=standard).exclude(
            code__in=[scenario["code"] for scenario in data["scenarios"]]
        ).exclude(pk__in=used_scenarios).delete()
        current = standard
    if current is not None:
        # In this order: the partial unique constraint allows one current standard at any moment.
        LevelStandard.objects.using(using).exclude(pk=current.pk).update(is_current=False)
        LevelStandard.objects.using(using).filter(pk=current.pk).update(is_current=True)
    return current


def level_compute(*, rule, total_score, scenario_levels):
    """The level the rule gives for a total score and the scenario levels (0 when no level is reached).

    Levels are checked from the lowest up and must be reached in order: level 3 requires level 2's
    conditions too, so a rule with a gap cannot skip a level."""
    total_score = Decimal(str(total_score))
    # Counted once per level: a generator would be exhausted after the first.
    scenario_levels = list(scenario_levels)
    reached = 0
    for step in sorted(rule["levels"], key=lambda s: s["level"]):
        at_or_above = sum(1 for level in scenario_levels if level >= step["level"])
        if total_score >= Decimal(str(step["min_score"])) and at_or_above >= step.get("min_scenarios_at_level", 0):
            reached = step["level"]
        else:
            break
    return reached


# --- Assignments -------------------------------------------------------------------------------------------------


def active_assignment(*, institution, enterprise):
    return AssessorAssignment.objects.filter(institution=institution, enterprise=enterprise, ended_at=None).first()


@transaction.atomic
def assessor_assign(*, institution, enterprise, by):
    """Assign an institution to assess an enterprise; assigning it again returns the running assignment."""
    require(by.has_perm("evaluations.assign_assessor"))
    if institution.kind != Organisation.Kind.INSTITUTION or not institution.is_active:
        raise ValidationError({"institution": _("Choose an active third-party support institution.")})
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
            link=reverse("admin:evaluations_levelassessment_changelist"),
        )
    return assignment


@transaction.atomic
def assessor_unassign(*, assignment, by):
    """End an assignment: from now on the institution neither sees the enterprise nor records for it."""
    require(by.has_perm("evaluations.assign_assessor"))
    assignment = (
        AssessorAssignment.objects.select_for_update(of=("self",)).select_related("enterprise").get(pk=assignment.pk)
    )
    if assignment.ended_at is not None:
        raise TransitionError(_("This assignment has already ended."))
    assignment.ended_at = timezone.now()
    assignment.save(update_fields=["ended_at"])
    notify(
        kind="assessor_unassigned",
        subject=_("Assessment assignment ended: %(enterprise)s") % {"enterprise": assignment.enterprise.name},
        body="",
        dedup_key=f"assignment-ended:{assignment.pk}",
        organisation=assignment.institution,
    )
    return assignment


def _require_assigned(by, enterprise):
    require(by.has_perm("evaluations.record_assessment"))
    if not AssessorAssignment.objects.filter(
        institution_id=by.organisation_id, enterprise=enterprise, ended_at__isnull=True
    ).exists():
        raise PermissionDenied(_("Your institution is not assigned to assess this enterprise."))


def _require_assessor_of(by, assessment):
    """The institution that opened the assessment records and decides on it, while it is assigned: another
    institution assigned to the same enterprise may not write in it."""
    _require_assigned(by, assessment.enterprise)
    if assessment.institution_id != by.organisation_id:
        raise PermissionDenied(_("This assessment belongs to another institution."))


# --- Assessments -------------------------------------------------------------------------------------------------


@transaction.atomic
def assessment_create(*, enterprise, by, kind, assessed_on, contract=None, standard=None):
    _require_assigned(by, enterprise)
    if kind not in LevelAssessment.Kind.values:
        raise ValidationError({"kind": _("Choose the kind of assessment.")})
    if standard is None:
        standard = LevelStandard.objects.filter(is_current=True).first()
        if standard is None:
            raise TransitionError(_("No digital-level standard is in force; ask the system administrator."))
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
    return (
        LevelAssessment.objects.select_for_update(of=("self",))
        .select_related("standard", "enterprise")
        .get(pk=assessment.pk)
    )


def _points(raw):
    """Points as entered: a finite number with at most one decimal (the precision the score is kept in)."""
    if raw is None or raw == "" or isinstance(raw, bool):
        return None
    try:
        points = Decimal(str(raw).strip())
        # is_finite first: comparing NaN raises.
        if not points.is_finite() or points != points.quantize(Decimal("0.1")):
            return None
    except InvalidOperation:
        return None
    return points


def _scenario_level(raw):
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str) and raw.strip().isdigit():
        return int(raw.strip())
    return None


@transaction.atomic
def assessment_record(*, assessment, by, item_points, scenario_levels, conclusion=""):
    """Record the indicator points ({item_id: points}) and scenario levels ({scenario_id: 0–4}, a scenario left
    out counts as 0, not applicable) of a draft; the total and the level are computed, never typed.

    Any error refuses the whole record and changes nothing; the errors are keyed `item_<code>` and
    `scenario_<code>` (item_key, scenario_key), the names of the scoring form's fields."""
    assessment = _locked_assessment(assessment)
    _require_assessor_of(by, assessment)
    if assessment.status != LevelAssessment.Status.DRAFT:
        raise TransitionError(_("A final assessment is not changed; record a new one."))
    items = {item.pk: item for item in assessment.standard.items.all()}
    scenarios = {scenario.pk: scenario for scenario in assessment.standard.scenarios.all()}
    unknown = {str(key) for key in item_points} - {str(pk) for pk in items}
    unknown |= {str(key) for key in scenario_levels} - {str(pk) for pk in scenarios}
    if unknown:
        raise ValidationError(_("The scores name indicators or scenarios that are not part of this standard."))
    errors = {}
    points_clean = {}
    for item_id, item in items.items():
        points = _points(item_points.get(item_id, item_points.get(str(item_id))))
        if points is None or points < 0 or points > item.max_points:
            errors[item_key(item)] = _("%(item)s: enter points from 0 to %(max)s, with at most one decimal.") % {
                "item": item.name,
                "max": points_text(item.max_points),
            }
        else:
            points_clean[item_id] = points
    levels_clean = {}
    for scenario_id, scenario in scenarios.items():
        level = _scenario_level(scenario_levels.get(scenario_id, scenario_levels.get(str(scenario_id), 0)))
        if level not in SCENARIO_LEVELS:
            errors[scenario_key(scenario)] = _("%(scenario)s: choose a level from 0 to 4.") % {
                "scenario": scenario.name
            }
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
    _require_assessor_of(by, assessment)
    if assessment.status != LevelAssessment.Status.DRAFT:
        raise TransitionError(_("This assessment is already final."))
    # Every indicator of the standard, not merely some: an indicator added to the standard after the points
    # were recorded would otherwise count as zero without anyone having scored it.
    recorded = set(assessment.item_scores.values_list("item_id", flat=True))
    if not recorded or recorded != set(assessment.standard.items.values_list("pk", flat=True)):
        raise TransitionError(_("Record the indicator points and scenario levels first."))
    assessment.status = LevelAssessment.Status.FINAL
    assessment.finalised_at = timezone.now()
    assessment.save()
    if assessment.kind == LevelAssessment.Kind.BASELINE:
        # The latest baseline by its date counts, not the last one finalised: finalising an older assessment
        # late must not overwrite a newer baseline.
        latest = (
            LevelAssessment.objects.filter(
                enterprise_id=assessment.enterprise_id,
                kind=LevelAssessment.Kind.BASELINE,
                status=LevelAssessment.Status.FINAL,
            )
            .order_by("-assessed_on", "-finalised_at", "-pk")
            .first()
        )
        if latest.pk == assessment.pk:
            # Below level 1 there is no baseline level on the national scale (the column allows 1–4).
            PilotEnterprise.objects.filter(pk=assessment.enterprise_id).update(
                baseline_level=assessment.level or None, updated_at=timezone.now()
            )
    log_event(
        assessment,
        by=by,
        description=_("Final: %(score)s points, level %(level)s")
        % {"score": points_text(assessment.total_score), "level": assessment.level},
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
    _require_assessor_of(by, assessment)
    if assessment.kind != LevelAssessment.Kind.ACCEPTANCE:
        raise TransitionError(_("Only an acceptance assessment decides acceptance."))
    if assessment.status != LevelAssessment.Status.FINAL:
        raise TransitionError(_("Finalise the assessment before deciding acceptance."))
    if assessment.acceptance_passed is not None:
        raise TransitionError(_("Acceptance has already been decided on this assessment."))
    if not (reason or "").strip():
        raise ValidationError({"reason": _("State the acceptance conclusion.")})
    contract = (
        ServiceContract.objects.select_for_update(of=("self",))
        .select_related("provider", "enterprise")
        .get(pk=assessment.contract_id)
    )
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
    assessment.acceptance_passed = bool(passed)
    assessment.save(update_fields=["acceptance_passed"])
    log_event(
        assessment,
        by=by,
        description=reason,
        state=assessment.status,
        transition="acceptance_passed" if passed else "acceptance_failed",
        source_state=assessment.status,
    )
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
    issue_after_commit(evaluation_acceptance_pdf, assessment, by)
    return assessment
