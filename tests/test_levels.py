"""Digital-level assessment (Art 6(1)) and evaluation acceptance (Art 9) through evaluations/services_levels.py:
the level rule as data, scoring, finalising, the acceptance decision and its Art 14 consequence, who may act,
and loading the standard."""

import json
from datetime import date
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django_fsm_log.models import StateLog

from enterprises.models import ContractStatus, FeeConsequence, PilotEnterprise
from evaluations import services_levels
from evaluations.models import (
    AssessorAssignment,
    LevelAssessment,
    LevelItem,
    LevelItemScore,
    LevelScenario,
    LevelStandard,
    ScenarioLevel,
)
from tangshan_portal.models import Notification
from tangshan_portal.roles import Role
from tangshan_portal.transitions import TransitionError
from tests.enforcement import at, travel
from tests.factories import PilotEnterpriseFactory, ServiceContractFactory, UserFactory
from tests.factories_levels import (
    AssignmentFactory,
    InstitutionFactory,
    accepted_internally,
    assessor_of,
    current_standard,
    final,
    item_points,
    open_assessment,
    scenario_levels,
    scored,
)

pytestmark = pytest.mark.django_db

ACCEPTANCE = LevelAssessment.Kind.ACCEPTANCE
BASELINE = LevelAssessment.Kind.BASELINE


@pytest.fixture
def enterprise(db):
    return PilotEnterpriseFactory(baseline_level=None)


@pytest.fixture
def institution(db):
    return InstitutionFactory(name="唐山数字化评测中心")


@pytest.fixture
def assessor(institution, enterprise):
    AssignmentFactory(institution=institution, enterprise=enterprise)
    return assessor_of(institution)


@pytest.fixture
def contract(enterprise):
    return accepted_internally(enterprise)


@pytest.fixture(autouse=True)
def _today():
    with travel(at(2026, 5, 4)):
        yield


# --- The level rule, read from the standard's data -------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "levels", "expected"),
    [
        (Decimal("39.5"), [2, 2, 2], 1),  # 40 points missed by half a point
        (40, [2], 2),
        (40, [], 1),  # 40 points, but no scenario at level 2
        (65, [3, 3, 3], 3),
        (65, [3, 3], 2),  # two scenarios at level 3 are two at level 2 or above
        (85, [4, 4, 4, 4, 4], 4),
        (85, [4, 4, 4, 4], 3),  # the fifth scenario at level 4 is missing
        (19, [4, 4, 4, 4, 4], 0),  # below level 1, whatever the scenarios
        (20, [], 1),
        (100, [], 1),
    ],
)
def test_level_compute_on_worked_examples(total, levels, expected):
    rule = current_standard().rule
    assert services_levels.level_compute(rule=rule, total_score=total, scenario_levels=levels) == expected


def test_level_compute_counts_the_scenarios_for_every_level_even_from_a_generator():
    rule = current_standard().rule
    levels = (level for level in [3, 3, 3])
    assert services_levels.level_compute(rule=rule, total_score=65, scenario_levels=levels) == 3


def test_the_rule_is_the_standards_data_a_custom_rule_changes_the_result():
    custom = {
        "levels": [
            {"level": 1, "min_score": 10, "min_scenarios_at_level": 0},
            {"level": 2, "min_score": 30, "min_scenarios_at_level": 2},
        ]
    }
    # 35 points with two scenarios at level 2: level 1 by the 2024 standard, level 2 by the custom rule.
    assert services_levels.level_compute(rule=current_standard().rule, total_score=35, scenario_levels=[2, 2]) == 1
    assert services_levels.level_compute(rule=custom, total_score=35, scenario_levels=[2, 2]) == 2
    assert services_levels.level_compute(rule=custom, total_score=35, scenario_levels=[2]) == 1
    assert services_levels.level_compute(rule=custom, total_score=95, scenario_levels=[4] * 16) == 2  # no level 3


def test_an_assessment_is_computed_by_the_rule_of_its_own_standard(assessor, enterprise, tmp_path):
    data = json.loads(settings.LEVEL_STANDARD_FILES[-1].read_text(encoding="utf-8"))
    data["code"] = "2099"
    data["rule"] = {"levels": [{"level": 1, "min_score": 10}, {"level": 2, "min_score": 30}]}
    path = tmp_path / "custom.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    services_levels.level_standards_sync(files=[path])
    custom = LevelStandard.objects.get(code="2099")

    assessment = services_levels.assessment_create(
        enterprise=enterprise, by=assessor, kind=BASELINE, assessed_on=date(2026, 5, 4), standard=custom
    )
    assessment = services_levels.assessment_record(
        assessment=assessment,
        by=assessor,
        item_points=item_points(custom, 35),
        scenario_levels=scenario_levels(custom),
    )
    assert (assessment.total_score, assessment.level) == (Decimal("35"), 2)  # the 2024 rule would give 1


# --- Recording: validated as a whole, computed, never typed -------------------------------------------------------


def test_record_computes_the_total_and_the_level_and_stores_every_score(assessor, enterprise):
    assessment = scored(open_assessment(assessor, enterprise), assessor, Decimal("62.5"), 3, 3, 3, 2, 1)
    assessment.refresh_from_db()
    assert (assessment.total_score, assessment.level, assessment.conclusion) == (Decimal("62.5"), 3, "现场核验")
    standard = current_standard()
    assert LevelItemScore.objects.filter(assessment=assessment).count() == standard.items.count() == 10
    assert ScenarioLevel.objects.filter(assessment=assessment).count() == standard.scenarios.count() == 16
    assert sorted(ScenarioLevel.objects.filter(assessment=assessment).values_list("level", flat=True)) == (
        [0] * 11 + [1, 2, 3, 3, 3]
    )


def test_recording_again_replaces_the_scores(assessor, enterprise):
    assessment = scored(open_assessment(assessor, enterprise), assessor, 65, 3, 3, 3)
    assessment = scored(assessment, assessor, 30)
    assert (assessment.total_score, assessment.level) == (Decimal("30"), 1)
    assert LevelItemScore.objects.filter(assessment=assessment).count() == 10


def _bad_points(standard, change):
    points = {pk: str(value) for pk, value in item_points(standard, 40).items()}
    change(points, list(standard.items.order_by("sort_order")))
    return points


BAD_POINTS = {
    "above the maximum": lambda points, items: points.__setitem__(items[0].pk, str(items[0].max_points + 1)),
    "negative": lambda points, items: points.__setitem__(items[1].pk, "-1"),
    "missing": lambda points, items: points.pop(items[2].pk),
    "empty": lambda points, items: points.__setitem__(items[2].pk, ""),
    "not a number": lambda points, items: points.__setitem__(items[3].pk, "十"),
    "NaN": lambda points, items: points.__setitem__(items[3].pk, "NaN"),
    "infinite": lambda points, items: points.__setitem__(items[3].pk, "Infinity"),
    "two decimals": lambda points, items: points.__setitem__(items[3].pk, "2.25"),
}


@pytest.mark.parametrize("case", list(BAD_POINTS))
def test_record_refuses_bad_points_and_saves_nothing(assessor, enterprise, case):
    assessment = scored(open_assessment(assessor, enterprise), assessor, 65, 3, 3, 3)
    standard = current_standard()
    before = list(LevelItemScore.objects.filter(assessment=assessment).values_list("item_id", "points"))
    with pytest.raises(ValidationError) as refused:
        services_levels.assessment_record(
            assessment=assessment,
            by=assessor,
            item_points=_bad_points(standard, BAD_POINTS[case]),
            scenario_levels=scenario_levels(standard, 1),
            conclusion="改了",
        )
    assert len(refused.value.message_dict) == 1
    (key,) = refused.value.message_dict
    assert key.startswith("item_")  # keyed by the indicator, the name of its field on the scoring page
    assessment.refresh_from_db()
    assert (assessment.total_score, assessment.level, assessment.conclusion) == (Decimal("65"), 3, "现场核验")
    assert list(LevelItemScore.objects.filter(assessment=assessment).values_list("item_id", "points")) == before
    assert sorted(ScenarioLevel.objects.filter(assessment=assessment).values_list("level", flat=True))[-3:] == [3, 3, 3]


@pytest.mark.parametrize("level", [5, -1, "2.5", "二", None, True])
def test_record_refuses_scenario_levels_outside_0_to_4_and_saves_nothing(assessor, enterprise, level):
    assessment = open_assessment(assessor, enterprise)
    standard = current_standard()
    levels = scenario_levels(standard, 2)
    first = standard.scenarios.order_by("sort_order").first()
    levels[first.pk] = level
    with pytest.raises(ValidationError) as refused:
        services_levels.assessment_record(
            assessment=assessment, by=assessor, item_points=item_points(standard, 50), scenario_levels=levels
        )
    assert list(refused.value.message_dict) == [f"scenario_{first.code}"]
    assert not LevelItemScore.objects.filter(assessment=assessment).exists()
    assert not ScenarioLevel.objects.filter(assessment=assessment).exists()
    assessment.refresh_from_db()
    assert (assessment.total_score, assessment.level) == (0, 0)


def test_record_refuses_scores_for_another_standards_indicators(assessor, enterprise):
    assessment = open_assessment(assessor, enterprise)
    standard = current_standard()
    points = item_points(standard, 50)
    points[999999] = 1
    with pytest.raises(ValidationError):
        services_levels.assessment_record(
            assessment=assessment, by=assessor, item_points=points, scenario_levels=scenario_levels(standard)
        )
    assert not LevelItemScore.objects.filter(assessment=assessment).exists()


# --- Finalising ---------------------------------------------------------------------------------------------------


def test_finalise_freezes_the_assessment(assessor, enterprise):
    assessment = final(open_assessment(assessor, enterprise, kind=BASELINE), assessor, 45, 2)
    assert assessment.status == LevelAssessment.Status.FINAL
    assert assessment.finalised_at == at(2026, 5, 4)
    log = StateLog.objects.for_(assessment).order_by("-id").first()
    assert (log.transition, log.by, log.state) == ("finalise", assessor, "final")

    with pytest.raises(TransitionError):
        scored(assessment, assessor, 90, 4, 4, 4, 4, 4)
    with pytest.raises(TransitionError):
        services_levels.assessment_finalise(assessment=assessment, by=assessor)
    assessment.refresh_from_db()
    assert (assessment.total_score, assessment.level) == (Decimal("45"), 2)
    assert LevelItemScore.objects.filter(assessment=assessment, points__gt=0).count() == 4


def test_finalise_needs_the_scores(assessor, enterprise):
    assessment = open_assessment(assessor, enterprise)
    with pytest.raises(TransitionError):
        services_levels.assessment_finalise(assessment=assessment, by=assessor)
    assessment.refresh_from_db()
    assert assessment.status == LevelAssessment.Status.DRAFT


def test_finalise_refuses_an_assessment_missing_an_indicator_added_to_the_standard(assessor, enterprise):
    assessment = scored(open_assessment(assessor, enterprise), assessor, 45, 2)
    LevelItem.objects.create(
        standard=assessment.standard, dimension="effect", code="added", name="新增指标", max_points=1, sort_order=99
    )
    with pytest.raises(TransitionError):
        services_levels.assessment_finalise(assessment=assessment, by=assessor)


def test_a_final_baseline_sets_the_enterprises_baseline_level(assessor, enterprise):
    final(open_assessment(assessor, enterprise, kind=BASELINE), assessor, 65, 3, 3, 3)
    enterprise.refresh_from_db()
    assert enterprise.baseline_level == 3


def test_a_baseline_below_level_1_clears_the_baseline_level(assessor):
    enterprise = PilotEnterpriseFactory(baseline_level=2)
    AssignmentFactory(institution=assessor.organisation, enterprise=enterprise)
    final(open_assessment(assessor, enterprise), assessor, 15)
    enterprise.refresh_from_db()
    assert enterprise.baseline_level is None  # the national scale has no level 0; the column allows 1–4


def test_an_older_baseline_finalised_late_does_not_replace_the_newer_one(assessor, enterprise):
    older = scored(open_assessment(assessor, enterprise, on=date(2026, 3, 1)), assessor, 25)
    final(open_assessment(assessor, enterprise, on=date(2026, 4, 1)), assessor, 45, 2)
    services_levels.assessment_finalise(assessment=older, by=assessor)
    enterprise.refresh_from_db()
    assert enterprise.baseline_level == 2


def test_an_acceptance_assessment_does_not_touch_the_baseline_level(assessor, enterprise, contract):
    final(open_assessment(assessor, enterprise, kind=ACCEPTANCE, contract=contract), assessor, 65, 3, 3, 3)
    enterprise.refresh_from_db()
    assert enterprise.baseline_level is None


# --- Opening: acceptance follows the internal acceptance ----------------------------------------------------------


@pytest.mark.parametrize(
    "status", [ContractStatus.DRAFT, ContractStatus.SIGNED, ContractStatus.IN_PROGRESS, ContractStatus.ACCEPTED]
)
def test_an_acceptance_assessment_needs_an_internally_accepted_contract(assessor, enterprise, status):
    contract = ServiceContractFactory(enterprise=enterprise, status=status)
    with pytest.raises(ValidationError) as refused:
        open_assessment(assessor, enterprise, kind=ACCEPTANCE, contract=contract)
    assert "contract" in refused.value.message_dict
    assert not LevelAssessment.objects.exists()


def test_an_acceptance_assessment_needs_a_contract_of_that_enterprise(assessor, enterprise):
    with pytest.raises(ValidationError) as refused:
        open_assessment(assessor, enterprise, kind=ACCEPTANCE)
    assert "contract" in refused.value.message_dict
    other = accepted_internally(PilotEnterpriseFactory())
    with pytest.raises(ValidationError) as refused:
        open_assessment(assessor, enterprise, kind=ACCEPTANCE, contract=other)
    assert "contract" in refused.value.message_dict
    assert not LevelAssessment.objects.exists()


def test_an_assessment_cannot_be_dated_in_the_future_or_be_of_an_unknown_kind(assessor, enterprise):
    with pytest.raises(ValidationError) as refused:
        open_assessment(assessor, enterprise, on=date(2026, 5, 5))
    assert "assessed_on" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        open_assessment(assessor, enterprise, kind="midterm")
    assert "kind" in refused.value.message_dict
    assert open_assessment(assessor, enterprise, on=date(2026, 5, 4)).institution == assessor.organisation


# --- The acceptance decision (Art 9, 6(1), 14) ------------------------------------------------------------------


def _final_acceptance(assessor, enterprise, contract, total, *levels):
    return final(open_assessment(assessor, enterprise, kind=ACCEPTANCE, contract=contract), assessor, total, *levels)


def test_passing_is_refused_below_level_2_and_the_contract_stays_internally_accepted(assessor, enterprise, contract):
    assessment = _final_acceptance(assessor, enterprise, contract, 39, 2, 2, 2)
    assert assessment.level == 1
    with pytest.raises(TransitionError) as refused:
        services_levels.acceptance_decide(assessment=assessment, by=assessor, passed=True, reason="通过")
    assert "2" in str(refused.value.messages[0])
    contract.refresh_from_db()
    assessment.refresh_from_db()
    assert contract.status == ContractStatus.INTERNALLY_ACCEPTED
    assert assessment.acceptance_passed is None
    assert not FeeConsequence.objects.exists()


def test_passing_at_level_2_accepts_the_contract_and_tells_both_sides(assessor, enterprise, contract):
    assessment = _final_acceptance(assessor, enterprise, contract, 40, 2)
    services_levels.acceptance_decide(assessment=assessment, by=assessor, passed=True, reason="达到二级，验收通过")
    contract.refresh_from_db()
    assessment.refresh_from_db()
    assert contract.status == ContractStatus.ACCEPTED
    assert assessment.acceptance_passed is True
    assert not FeeConsequence.objects.exists()
    log = StateLog.objects.for_(contract).order_by("-id").first()
    assert (log.transition, log.by, log.description) == ("accept", assessor, "达到二级，验收通过")
    recipients = set(
        Notification.objects.filter(kind="acceptance_decided").values_list("recipient_organisation", flat=True)
    )
    assert recipients == {contract.provider.organisation_id, enterprise.organisation_id}


def test_failing_marks_the_contract_failed_and_records_the_art14_consequence(assessor, enterprise, contract):
    assessment = _final_acceptance(assessor, enterprise, contract, 65, 3, 3, 3)
    services_levels.acceptance_decide(assessment=assessment, by=assessor, passed=False, reason="成效与方案偏差明显")
    contract.refresh_from_db()
    assessment.refresh_from_db()
    assert contract.status == ContractStatus.FAILED
    assert assessment.acceptance_passed is False
    consequence = FeeConsequence.objects.get(contract=contract)
    assert consequence.cause == FeeConsequence.Cause.FAILED_ACCEPTANCE
    assert consequence.fee_withheld is True
    assert consequence.advance_recoverable == Decimal("60000.00")
    log = StateLog.objects.for_(assessment).order_by("-id").first()
    assert (log.transition, log.description) == ("acceptance_failed", "成效与方案偏差明显")


def test_acceptance_is_decided_once(assessor, enterprise, contract):
    assessment = _final_acceptance(assessor, enterprise, contract, 45, 2)
    services_levels.acceptance_decide(assessment=assessment, by=assessor, passed=True, reason="通过")
    for passed in (True, False):
        with pytest.raises(TransitionError):
            services_levels.acceptance_decide(assessment=assessment, by=assessor, passed=passed, reason="再次")
    contract.refresh_from_db()
    assert contract.status == ContractStatus.ACCEPTED
    assert not FeeConsequence.objects.exists()


def test_a_second_acceptance_assessment_cannot_decide_a_decided_contract(assessor, enterprise, contract):
    first = _final_acceptance(assessor, enterprise, contract, 45, 2)
    second = _final_acceptance(assessor, enterprise, contract, 30)
    services_levels.acceptance_decide(assessment=first, by=assessor, passed=True, reason="通过")
    with pytest.raises(TransitionError):
        services_levels.acceptance_decide(assessment=second, by=assessor, passed=False, reason="不通过")
    contract.refresh_from_db()
    assert contract.status == ContractStatus.ACCEPTED


def test_acceptance_needs_a_final_acceptance_assessment_and_a_reason(assessor, enterprise, contract):
    draft = scored(open_assessment(assessor, enterprise, kind=ACCEPTANCE, contract=contract), assessor, 45, 2)
    with pytest.raises(TransitionError):
        services_levels.acceptance_decide(assessment=draft, by=assessor, passed=True, reason="通过")
    baseline = final(open_assessment(assessor, enterprise), assessor, 45, 2)
    with pytest.raises(TransitionError):
        services_levels.acceptance_decide(assessment=baseline, by=assessor, passed=True, reason="通过")
    decided = services_levels.assessment_finalise(assessment=draft, by=assessor)
    with pytest.raises(ValidationError) as refused:
        services_levels.acceptance_decide(assessment=decided, by=assessor, passed=True, reason="  ")
    assert "reason" in refused.value.message_dict
    contract.refresh_from_db()
    assert contract.status == ContractStatus.INTERNALLY_ACCEPTED


# --- Who may assess: an assigned institution's assessors, on their own institution's assessments -------------------


def test_an_assessor_of_a_non_assigned_institution_is_refused_everything(assessor, enterprise, contract):
    assessment = _final_acceptance(assessor, enterprise, contract, 45, 2)
    draft = open_assessment(assessor, enterprise)
    outsider = assessor_of(InstitutionFactory())
    with pytest.raises(PermissionDenied):
        open_assessment(outsider, enterprise)
    with pytest.raises(PermissionDenied):
        scored(draft, outsider, 90, 4, 4, 4, 4, 4)
    with pytest.raises(PermissionDenied):
        services_levels.assessment_finalise(assessment=draft, by=outsider)
    with pytest.raises(PermissionDenied):
        services_levels.acceptance_decide(assessment=assessment, by=outsider, passed=True, reason="通过")
    draft.refresh_from_db()
    contract.refresh_from_db()
    assert (draft.status, draft.total_score) == ("draft", 0)
    assert contract.status == ContractStatus.INTERNALLY_ACCEPTED
    assert LevelAssessment.objects.filter(institution=outsider.organisation).count() == 0


def test_another_institution_assigned_to_the_same_enterprise_cannot_write_in_this_assessment(assessor, enterprise):
    draft = open_assessment(assessor, enterprise)
    other = assessor_of(InstitutionFactory())
    AssignmentFactory(institution=other.organisation, enterprise=enterprise)
    with pytest.raises(PermissionDenied):
        scored(draft, other, 90, 4, 4, 4, 4, 4)
    with pytest.raises(PermissionDenied):
        services_levels.assessment_finalise(assessment=scored(draft, assessor, 45, 2), by=other)
    draft.refresh_from_db()
    assert (draft.status, draft.total_score) == ("draft", Decimal("45"))


def test_after_the_assignment_ends_the_institution_records_nothing(assessor, enterprise, officer):
    draft = open_assessment(assessor, enterprise)
    services_levels.assessor_unassign(assignment=AssessorAssignment.objects.get(enterprise=enterprise), by=officer)
    with pytest.raises(PermissionDenied):
        scored(draft, assessor, 45, 2)
    with pytest.raises(PermissionDenied):
        open_assessment(assessor, enterprise)


@pytest.mark.parametrize("role", [Role.OFFICER, Role.APPROVER, Role.COUNTY, Role.AUDITOR])
def test_bureau_roles_cannot_score_or_decide(role, assessor, enterprise):
    user = UserFactory(role=role)
    draft = open_assessment(assessor, enterprise)
    with pytest.raises(PermissionDenied):
        scored(draft, user, 45, 2)
    with pytest.raises(PermissionDenied):
        open_assessment(user, enterprise)
    draft.refresh_from_db()
    assert draft.total_score == 0


# --- Assignments -------------------------------------------------------------------------------------------------


def test_an_officer_assigns_an_institution_once_and_it_is_notified(officer, enterprise, institution):
    first = services_levels.assessor_assign(institution=institution, enterprise=enterprise, by=officer)
    again = services_levels.assessor_assign(institution=institution, enterprise=enterprise, by=officer)
    assert first.pk == again.pk
    assert (first.assigned_by, first.assigned_at, first.ended_at) == (officer, at(2026, 5, 4), None)
    assert Notification.objects.filter(kind="assessor_assigned", recipient_organisation=institution).count() == 1


def test_only_institutions_are_assigned_and_only_by_officers(officer, approver, enterprise, institution):
    with pytest.raises(PermissionDenied):
        services_levels.assessor_assign(institution=institution, enterprise=enterprise, by=approver)
    with pytest.raises(ValidationError):
        services_levels.assessor_assign(institution=officer.organisation, enterprise=enterprise, by=officer)
    institution.is_active = False
    institution.save()
    with pytest.raises(ValidationError):
        services_levels.assessor_assign(institution=institution, enterprise=enterprise, by=officer)
    assert not AssessorAssignment.objects.exists()


def test_ending_an_assignment_once(officer, approver, enterprise, institution):
    assignment = services_levels.assessor_assign(institution=institution, enterprise=enterprise, by=officer)
    with pytest.raises(PermissionDenied):
        services_levels.assessor_unassign(assignment=assignment, by=approver)
    with travel(at(2026, 5, 6)):
        services_levels.assessor_unassign(assignment=assignment, by=officer)
    with pytest.raises(TransitionError):
        services_levels.assessor_unassign(assignment=assignment, by=officer)
    assignment.refresh_from_db()
    assert assignment.ended_at == at(2026, 5, 6)
    assert Notification.objects.filter(kind="assessor_unassigned", recipient_organisation=institution).count() == 1
    # A new assignment may follow the ended one.
    renewed = services_levels.assessor_assign(institution=institution, enterprise=enterprise, by=officer)
    assert renewed.pk != assignment.pk


# --- The standard as data ----------------------------------------------------------------------------------------


def test_the_2024_standard_is_loaded_after_migrate():
    standard = current_standard()
    assert standard.code == "2024"
    assert standard.published_on == date(2024, 9, 1)
    assert sum(item.max_points for item in standard.items.all()) == 100
    by_dimension = {}
    for item in standard.items.all():
        by_dimension[item.dimension] = by_dimension.get(item.dimension, 0) + item.max_points
    assert by_dimension == {"foundation": 50, "management": 30, "effect": 20}
    assert standard.scenarios.count() == 16
    assert [step["level"] for step in standard.rule["levels"]] == [1, 2, 3, 4]


def test_level_standards_sync_is_idempotent_and_keeps_one_current_standard(tmp_path):
    counts = (LevelStandard.objects.count(), LevelItem.objects.count(), LevelScenario.objects.count())
    services_levels.level_standards_sync()
    services_levels.level_standards_sync()
    assert (LevelStandard.objects.count(), LevelItem.objects.count(), LevelScenario.objects.count()) == counts
    assert list(LevelStandard.objects.filter(is_current=True).values_list("code", flat=True)) == ["2024"]

    data = json.loads(settings.LEVEL_STANDARD_FILES[-1].read_text(encoding="utf-8"))
    data["code"] = "2026"
    newer = tmp_path / "digital-level-2026.json"
    newer.write_text(json.dumps(data), encoding="utf-8")
    services_levels.level_standards_sync(files=[*settings.LEVEL_STANDARD_FILES, newer])
    services_levels.level_standards_sync(files=[*settings.LEVEL_STANDARD_FILES, newer])
    assert list(LevelStandard.objects.filter(is_current=True).values_list("code", flat=True)) == ["2026"]
    assert LevelStandard.objects.count() == counts[0] + 1
    assert LevelItem.objects.filter(standard__code="2026").count() == 10

    services_levels.level_standards_sync()
    assert list(LevelStandard.objects.filter(is_current=True).values_list("code", flat=True)) == ["2024"]


def test_sync_deletes_an_indicator_dropped_from_its_file_unless_an_assessment_used_it(tmp_path, assessor, enterprise):
    data = json.loads(settings.LEVEL_STANDARD_FILES[-1].read_text(encoding="utf-8"))
    base_items, base_scenarios = list(data["items"]), list(data["scenarios"])
    path = tmp_path / "digital-level-2030.json"

    def sync(extra):
        data.update(
            code="2030",
            items=[*base_items, {"dimension": "effect", "code": extra, "name": "试用指标", "max_points": 1}]
            if extra
            else base_items,
            scenarios=[*base_scenarios, {"group": "经营管理", "code": extra, "name": "试用场景"}]
            if extra
            else base_scenarios,
        )
        path.write_text(json.dumps(data), encoding="utf-8")
        services_levels.level_standards_sync(files=[path])
        return LevelStandard.objects.get(code="2030")

    standard = sync("used")
    assessment = services_levels.assessment_create(
        enterprise=enterprise, by=assessor, kind=BASELINE, assessed_on=date(2026, 5, 4), standard=standard
    )
    scored(assessment, assessor, 45, 2)  # scores every indicator, "used" among them

    sync("unused")  # "used" left the file but keeps its scores; "unused" is new
    assert set(standard.items.filter(code__in=["used", "unused"]).values_list("code", flat=True)) == {
        "used",
        "unused",
    }
    sync(None)  # "unused" left the file and nothing used it
    assert list(standard.items.filter(code__in=["used", "unused"]).values_list("code", flat=True)) == ["used"]
    assert list(standard.scenarios.filter(code__in=["used", "unused"]).values_list("code", flat=True)) == ["used"]
    assert LevelItemScore.objects.filter(assessment=assessment).count() == 11


def test_sync_refuses_a_broken_data_file(tmp_path):
    data = json.loads(settings.LEVEL_STANDARD_FILES[-1].read_text(encoding="utf-8"))
    data["code"] = "broken"
    data["items"][0]["dimension"] = "finance"
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ImproperlyConfigured):
        services_levels.level_standards_sync(files=[path])
    assert not LevelStandard.objects.filter(code="broken").exists()


def test_the_enterprise_row_keeps_its_constraint(assessor, enterprise):
    # The baseline level written by finalise is always valid for the column (1–4 or empty).
    final(open_assessment(assessor, enterprise), assessor, 85, 4, 4, 4, 4, 4)
    assert PilotEnterprise.objects.get(pk=enterprise.pk).baseline_level == 4
