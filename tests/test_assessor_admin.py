"""The digital-level admin (Art 6(1), 9): assessors open, score, finalise and decide acceptance on their assigned
enterprises only, through the services; officers assign institutions; the standard is read-only; nobody else
writes anything, and POSTs to the read-only pages are refused."""

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from enterprises.models import ContractStatus, FeeConsequence
from evaluations import services_levels
from evaluations.models import AssessorAssignment, LevelAssessment, LevelItemScore
from tangshan_portal.models import County, Organisation
from tangshan_portal.roles import Role
from tests.enforcement import at, travel
from tests.factories import PilotEnterpriseFactory, ServiceContractFactory, UserFactory
from tests.factories_levels import (
    AssignmentFactory,
    InstitutionFactory,
    accepted_internally,
    assessor_of,
    current_standard,
    final,
    open_assessment,
    scored,
)

pytestmark = pytest.mark.django_db

LOGIN = reverse("admin:login")
LIST = reverse("admin:evaluations_levelassessment_changelist")
ADD = reverse("admin:evaluations_levelassessment_add")
ASSIGNMENTS = reverse("admin:evaluations_assessorassignment_changelist")
ASSIGN = reverse("admin:evaluations_assessorassignment_add")
ACCEPTANCE = LevelAssessment.Kind.ACCEPTANCE


def _zh(text):
    """A message as the admin shows it: in the portal's language, HTML-escaped."""
    with translation.override("zh-hans"):
        return escape(translation.gettext(str(text)))


def _zh_text(msgid):
    with translation.override("zh-hans"):
        return translation.gettext(msgid)


def _change(obj):
    return reverse(f"admin:evaluations_{obj._meta.model_name}_change", args=[obj.pk])


def _score(assessment):
    return reverse("admin:evaluations_levelassessment_score", args=[assessment.pk])


def _act(obj, action):
    return reverse(f"admin:evaluations_{obj._meta.model_name}_act", args=[obj.pk, action])


def _messages(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def _score_form(standard, total_by_item=None, levels=None, conclusion="现场核验"):
    """The scoring page's POST: every indicator's points (`total_by_item` {code: points}, 0 otherwise) and every
    scenario's level (`levels` {code: level}, 0 otherwise)."""
    data = {"conclusion": conclusion}
    for item in standard.items.all():
        data[f"item_{item.code}"] = str((total_by_item or {}).get(item.code, 0))
    for scenario in standard.scenarios.all():
        data[f"scenario_{scenario.code}"] = str((levels or {}).get(scenario.code, 0))
    return data


@pytest.fixture(autouse=True)
def _today():
    with travel(at(2026, 5, 4)):
        yield


@pytest.fixture
def enterprise(db):
    return PilotEnterpriseFactory(name="唐山精工机械有限公司", baseline_level=None)


@pytest.fixture
def institution(db):
    return InstitutionFactory(name="唐山数字化评测中心")


@pytest.fixture
def assessor(institution, enterprise):
    AssignmentFactory(institution=institution, enterprise=enterprise)
    return assessor_of(institution)


@pytest.fixture
def contract(enterprise):
    return accepted_internally(enterprise, number="TS-2026-0042")


@pytest.fixture
def other_assessment():
    """An assessment by another institution of an enterprise assigned to it only."""
    other = InstitutionFactory(name="另一家评测机构")
    enterprise = PilotEnterpriseFactory(name="唐山其他制造有限公司")
    AssignmentFactory(institution=other, enterprise=enterprise)
    return open_assessment(assessor_of(other), enterprise)


# --- Access -------------------------------------------------------------------------------------------------------


def test_anonymous_users_are_sent_to_the_login_page(client, assessor, enterprise):
    assessment = open_assessment(assessor, enterprise)
    assignment = AssessorAssignment.objects.get()
    urls = [
        LIST,
        ADD,
        _change(assessment),
        _score(assessment),
        _act(assessment, "finalise"),
        ASSIGNMENTS,
        ASSIGN,
        _act(assignment, "end"),
        _change(current_standard()),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(LOGIN), url
    assert client.post(_score(assessment), {})["Location"].startswith(LOGIN)


def test_an_assessor_sees_only_the_assigned_enterprises_of_the_own_institution(
    client, assessor, enterprise, other_assessment
):
    own = open_assessment(assessor, enterprise)
    client.force_login(assessor)
    page = client.get(LIST).content.decode()
    assert _change(own) in page
    assert _change(other_assessment) not in page
    assert "唐山其他制造有限公司" not in page
    for url in (
        _change(other_assessment),
        _score(other_assessment),
        _act(other_assessment, "finalise"),
        reverse("admin:evaluations_levelassessment_history", args=[other_assessment.pk]),
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(_score(other_assessment), _score_form(current_standard())).status_code == 404
    other_assessment.refresh_from_db()
    assert other_assessment.total_score == 0


def test_after_the_assignment_ends_the_assessor_no_longer_sees_the_assessment(client, assessor, enterprise, officer):
    own = open_assessment(assessor, enterprise)
    services_levels.assessor_unassign(assignment=AssessorAssignment.objects.get(), by=officer)
    client.force_login(assessor)
    assert _change(own) not in client.get(LIST).content.decode()
    assert client.get(_change(own)).status_code == 404


def test_an_institution_without_assignments_sees_nothing_and_cannot_choose_the_enterprise(client, assessor, enterprise):
    open_assessment(assessor, enterprise)
    outsider = assessor_of(InstitutionFactory())
    client.force_login(outsider)
    assert "唐山精工机械有限公司" not in client.get(LIST).content.decode()
    assert "唐山精工机械有限公司" not in client.get(ADD).content.decode()
    response = client.post(ADD, {"enterprise": enterprise.pk, "kind": "baseline", "assessed_on": "2026-05-04"})
    assert response.status_code == 200
    assert LevelAssessment.objects.filter(institution=outsider.organisation).count() == 0


def test_bureau_staff_read_all_assessments_and_county_staff_their_county(client, assessor, enterprise, officer):
    own = open_assessment(assessor, enterprise)
    client.force_login(officer)
    assert _change(own) in client.get(LIST).content.decode()
    assert client.get(_change(own)).status_code == 200
    county_org = Organisation.objects.create(
        name="县局", kind=Organisation.Kind.COUNTY_BUREAU, county=County.objects.exclude(pk=enterprise.county_id)[0]
    )
    client.force_login(UserFactory(role=Role.COUNTY, organisation=county_org))
    assert client.get(_change(own)).status_code == 404
    county_org.county = enterprise.county
    county_org.save()
    assert client.get(_change(own)).status_code == 200


@pytest.mark.parametrize("role", [Role.OFFICER, Role.APPROVER, Role.AUDITOR])
def test_bureau_roles_cannot_score_finalise_or_decide(client, role, assessor, enterprise, contract):
    draft = scored(open_assessment(assessor, enterprise), assessor, 45, 2)
    decided = final(open_assessment(assessor, enterprise, kind=ACCEPTANCE, contract=contract), assessor, 45, 2)
    client.force_login(UserFactory(role=role))
    assert client.get(ADD).status_code == 403
    assert (
        client.post(ADD, {"enterprise": enterprise.pk, "kind": "baseline", "assessed_on": "2026-05-04"}).status_code
        == 403
    )
    assert client.get(_score(draft)).status_code == 403
    assert client.post(_score(draft), _score_form(draft.standard, {"equipment": 15})).status_code == 403
    assert client.post(_act(draft, "finalise"), {}).status_code == 403
    assert client.post(_act(decided, "pass"), {"reason": "通过"}).status_code == 403
    page = client.get(_change(draft)).content.decode()
    assert _score(draft) not in page and _act(draft, "finalise") not in page
    draft.refresh_from_db()
    decided.refresh_from_db()
    contract.refresh_from_db()
    assert (draft.status, draft.total_score) == ("draft", Decimal("45"))
    assert decided.acceptance_passed is None
    assert contract.status == ContractStatus.INTERNALLY_ACCEPTED
    assert LevelAssessment.objects.count() == 2


def test_the_change_page_refuses_every_post(client, assessor, enterprise):
    draft = scored(open_assessment(assessor, enterprise), assessor, 45, 2)
    client.force_login(assessor)
    response = client.post(_change(draft), {"total_score": "99", "level": "4", "status": "final"})
    assert response.status_code == 403
    draft.refresh_from_db()
    assert (draft.status, draft.total_score, draft.level) == ("draft", Decimal("45"), 2)


# --- Opening an assessment ---------------------------------------------------------------------------------------


def test_the_add_page_offers_assigned_enterprises_and_their_internally_accepted_contracts(
    client, assessor, enterprise, contract
):
    ServiceContractFactory(enterprise=enterprise, number="TS-2026-0099", status=ContractStatus.IN_PROGRESS)
    PilotEnterpriseFactory(name="未分配的企业")
    client.force_login(assessor)
    page = client.get(ADD).content.decode()
    assert "唐山精工机械有限公司" in page
    assert "未分配的企业" not in page
    assert "TS-2026-0042" in page
    assert "TS-2026-0099" not in page
    assert 'value="2026-05-04"' in page  # today, in the portal's time zone


def test_an_assessor_opens_a_baseline_assessment_through_the_service(client, assessor, enterprise):
    client.force_login(assessor)
    response = client.post(ADD, {"enterprise": enterprise.pk, "kind": "baseline", "assessed_on": "2026-05-03"})
    assessment = LevelAssessment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == _score(assessment)
    assert (assessment.enterprise, assessment.kind, assessment.institution, assessment.created_by) == (
        enterprise,
        "baseline",
        assessor.organisation,
        assessor,
    )
    assert assessment.standard == current_standard()
    assert assessment.assessed_on == date(2026, 5, 3)


def test_an_acceptance_assessment_needs_an_internally_accepted_contract_on_the_add_page(
    client, assessor, enterprise, contract
):
    in_progress = ServiceContractFactory(enterprise=enterprise, status=ContractStatus.IN_PROGRESS)
    client.force_login(assessor)
    response = client.post(ADD, {"enterprise": enterprise.pk, "kind": "acceptance", "assessed_on": "2026-05-04"})
    assert response.status_code == 200
    assert 'class="form-row errors field-contract"' in response.content.decode()
    response = client.post(
        ADD,
        {"enterprise": enterprise.pk, "kind": "acceptance", "contract": in_progress.pk, "assessed_on": "2026-05-04"},
    )
    assert response.status_code == 200  # not a choice: the form refuses it before the service
    assert not LevelAssessment.objects.exists()
    response = client.post(
        ADD, {"enterprise": enterprise.pk, "kind": "acceptance", "contract": contract.pk, "assessed_on": "2026-05-04"}
    )
    assert response.status_code == 302
    assert LevelAssessment.objects.get().contract == contract


def test_a_future_date_is_refused_next_to_the_field(client, assessor, enterprise):
    client.force_login(assessor)
    response = client.post(ADD, {"enterprise": enterprise.pk, "kind": "baseline", "assessed_on": "2026-05-05"})
    page = response.content.decode()
    assert 'class="form-row errors field-assessed_on"' in page
    assert _zh("The assessment cannot be dated in the future.") in page
    assert not LevelAssessment.objects.exists()


# --- Scoring ------------------------------------------------------------------------------------------------------


def test_the_scoring_page_has_one_input_per_indicator_and_one_level_per_scenario(client, assessor, enterprise):
    assessment = open_assessment(assessor, enterprise)
    client.force_login(assessor)
    page = client.get(_score(assessment)).content.decode()
    standard = current_standard()
    for item in standard.items.all():
        assert f'name="item_{item.code}"' in page
        assert f'max="{item.max_points}"' in page or f'max="{int(item.max_points)}"' in page
    assert page.count('type="number"') == 10
    for scenario in standard.scenarios.all():
        assert f'name="scenario_{scenario.code}"' in page
    assert page.count("<select") == 16
    for area in ("研发设计", "生产管控", "采购供应", "营销服务", "经营管理"):
        assert area in page
    assert page.count('<fieldset class="module aligned"') == 3 + 5 + 1  # dimensions, business areas, conclusion
    assert 'name="total_score"' not in page and 'name="level"' not in page  # computed, never typed


def test_saving_the_scores_shows_the_computed_total_and_level(client, assessor, enterprise):
    assessment = open_assessment(assessor, enterprise)
    client.force_login(assessor)
    data = _score_form(
        assessment.standard,
        {"equipment": "15", "network": "10", "systems": "15", "data": "10", "planning": "7.5"},
        {"product_design": 3, "process_design": 3, "planning_scheduling": 3, "finance": 2},
        conclusion="基础较好",
    )
    response = client.post(_score(assessment), data)
    assert response.status_code == 302
    assert response["Location"] == _score(assessment)
    assessment.refresh_from_db()
    assert (assessment.total_score, assessment.level, assessment.conclusion) == (Decimal("57.5"), 2, "基础较好")
    page = client.get(_score(assessment)).content.decode()
    assert "<strong>57.5</strong>" in page
    assert "<strong>2</strong>" in page
    assert 'value="7.5"' in page  # the saved points are shown again
    change = client.get(_change(assessment)).content.decode()
    assert "57.5" in change and _act(assessment, "finalise") in change


@pytest.mark.parametrize(
    ("field", "value"),
    [("item_equipment", "15.5"), ("item_network", "-1"), ("item_systems", ""), ("scenario_finance", "5")],
)
def test_bad_scores_are_shown_next_to_the_field_and_nothing_is_saved(client, assessor, enterprise, field, value):
    assessment = scored(open_assessment(assessor, enterprise), assessor, 45, 2)
    client.force_login(assessor)
    data = _score_form(assessment.standard, {"equipment": 15, "network": 10, "systems": 15, "data": 10, "planning": 10})
    data[field] = value
    response = client.post(_score(assessment), data)
    assert response.status_code == 200
    page = response.content.decode()
    assert f'class="form-row errors field-{field}"' in page
    assert f'href="#id_{field}"' in page  # the error summary links to the field
    assessment.refresh_from_db()
    assert (assessment.total_score, assessment.level) == (Decimal("45"), 2)
    assert LevelItemScore.objects.filter(assessment=assessment, points__gt=0).count() == 4


def test_finalise_through_the_admin_freezes_the_assessment(client, assessor, enterprise):
    assessment = scored(open_assessment(assessor, enterprise), assessor, 45, 2)
    client.force_login(assessor)
    assert client.get(_act(assessment, "finalise")).status_code == 200
    response = client.post(_act(assessment, "finalise"), {})
    assert response.status_code == 302
    assessment.refresh_from_db()
    assert assessment.status == "final"
    enterprise.refresh_from_db()
    assert enterprise.baseline_level == 2

    # Read-only everywhere: no scoring page, no second finalise, no change through a POST.
    response = client.get(_score(assessment))
    assert response.status_code == 302 and response["Location"] == _change(assessment)
    response = client.post(_score(assessment), _score_form(assessment.standard, {"equipment": 15}))
    assert response.status_code == 302
    assert client.post(_act(assessment, "finalise"), {}).status_code == 302
    page = client.get(_change(assessment)).content.decode()
    assert _score(assessment) not in page and _act(assessment, "finalise") not in page
    assessment.refresh_from_db()
    assert (assessment.total_score, assessment.level) == (Decimal("45"), 2)


def test_finalise_is_not_offered_before_the_scores(client, assessor, enterprise):
    assessment = open_assessment(assessor, enterprise)
    client.force_login(assessor)
    page = client.get(_change(assessment)).content.decode()
    assert _score(assessment) in page and _act(assessment, "finalise") not in page
    response = client.post(_act(assessment, "finalise"), {})
    assert response.status_code == 302
    assert _messages(response) == [_zh_text("Record the indicator points and scenario levels first.")]
    assessment.refresh_from_db()
    assert assessment.status == "draft"


# --- Acceptance --------------------------------------------------------------------------------------------------


def _final_acceptance(assessor, enterprise, contract, total, *levels):
    return final(open_assessment(assessor, enterprise, kind=ACCEPTANCE, contract=contract), assessor, total, *levels)


def test_passing_below_level_2_shows_the_services_refusal_and_changes_nothing(client, assessor, enterprise, contract):
    assessment = _final_acceptance(assessor, enterprise, contract, 39, 2, 2, 2)
    client.force_login(assessor)
    page = client.get(_change(assessment)).content.decode()
    assert _act(assessment, "pass") in page and _act(assessment, "fail") in page
    response = client.post(_act(assessment, "pass"), {"reason": "通过"}, follow=True)
    assert response.redirect_chain[-1] == (_change(assessment), 302)
    expected = _zh_text(
        "Acceptance requires digital level %(min)s or above (Art 6(1)); this assessment gives level %(level)s."
    ) % {"min": 2, "level": 1}
    assert escape(expected) in response.content.decode()
    contract.refresh_from_db()
    assessment.refresh_from_db()
    assert contract.status == ContractStatus.INTERNALLY_ACCEPTED
    assert assessment.acceptance_passed is None


def test_passing_at_level_2_accepts_the_contract(client, assessor, enterprise, contract):
    assessment = _final_acceptance(assessor, enterprise, contract, 40, 2)
    client.force_login(assessor)
    assert client.get(_act(assessment, "pass")).status_code == 200
    response = client.post(_act(assessment, "pass"), {"reason": "达到二级"})
    assert response.status_code == 302
    contract.refresh_from_db()
    assessment.refresh_from_db()
    assert contract.status == ContractStatus.ACCEPTED
    assert assessment.acceptance_passed is True
    page = client.get(_change(assessment)).content.decode()
    assert _act(assessment, "pass") not in page and _act(assessment, "fail") not in page
    # Deciding twice: refused with the reason, nothing changes.
    response = client.post(_act(assessment, "fail"), {"reason": "再次"})
    assert response.status_code == 302
    contract.refresh_from_db()
    assert contract.status == ContractStatus.ACCEPTED
    assert not FeeConsequence.objects.exists()


def test_failing_records_the_fee_consequence(client, assessor, enterprise, contract):
    assessment = _final_acceptance(assessor, enterprise, contract, 65, 3, 3, 3)
    client.force_login(assessor)
    response = client.post(_act(assessment, "fail"), {"reason": ""})
    assert response.status_code == 200  # the conclusion is required: back to the form
    assert not FeeConsequence.objects.exists()
    response = client.post(_act(assessment, "fail"), {"reason": "成效偏差"})
    assert response.status_code == 302
    contract.refresh_from_db()
    assert contract.status == ContractStatus.FAILED
    consequence = FeeConsequence.objects.get(contract=contract)
    assert (consequence.cause, consequence.fee_withheld) == (FeeConsequence.Cause.FAILED_ACCEPTANCE, True)


def test_the_change_page_shows_baseline_and_acceptance_levels_side_by_side(client, assessor, enterprise, contract):
    final(open_assessment(assessor, enterprise, on=date(2026, 3, 2)), assessor, 25)
    final(open_assessment(assessor, enterprise, on=date(2026, 4, 1)), assessor, 45, 2)
    scored(open_assessment(assessor, enterprise, on=date(2026, 5, 4)), assessor, 90, 4, 4, 4, 4, 4)  # a draft
    acceptance = _final_acceptance(assessor, enterprise, contract, 65, 3, 3, 3)
    client.force_login(assessor)
    page = client.get(_change(acceptance)).content.decode()
    section = page[page.index('id="enterprise-levels-heading"') :]
    section = section[: section.index("</section>")]
    # The latest final baseline (level 2 of 1 April; not the draft at 90 points) and the acceptance (level 3).
    assert "<td><strong>2</strong></td><td><strong>3</strong></td>" in section
    assert "2026-04-01" in section and "2026-05-04" in section
    assert "TS-2026-0042" in section


def test_the_timeline_shows_opening_finalising_and_the_decision(client, assessor, enterprise, contract):
    assessment = _final_acceptance(assessor, enterprise, contract, 45, 2)
    services_levels.acceptance_decide(assessment=assessment, by=assessor, passed=True, reason="达到二级，予以通过")
    client.force_login(assessor)
    page = client.get(_change(assessment)).content.decode()
    section = page[page.index('id="case-timeline-heading"') :]
    assert "达到二级，予以通过" in section
    assert section.count("<tr>") == 4  # header, opened, finalised, acceptance


# --- Assignments --------------------------------------------------------------------------------------------------


def test_an_officer_assigns_an_institution_through_the_admin(client, officer, enterprise, institution):
    client.force_login(officer)
    page = client.get(ASSIGN).content.decode()
    assert "唐山数字化评测中心" in page and "唐山精工机械有限公司" in page
    response = client.post(ASSIGN, {"institution": institution.pk, "enterprise": enterprise.pk})
    assignment = AssessorAssignment.objects.get()
    assert response.status_code == 302 and response["Location"] == _change(assignment)
    assert (assignment.institution, assignment.enterprise, assignment.assigned_by) == (institution, enterprise, officer)
    # Again: refused next to the field, nothing added.
    response = client.post(ASSIGN, {"institution": institution.pk, "enterprise": enterprise.pk})
    assert response.status_code == 200
    assert 'class="form-row errors field-enterprise"' in response.content.decode()
    assert AssessorAssignment.objects.count() == 1


def test_only_institutions_are_offered(client, officer, enterprise, institution):
    client.force_login(officer)
    response = client.post(ASSIGN, {"institution": officer.organisation.pk, "enterprise": enterprise.pk})
    assert response.status_code == 200
    assert 'class="form-row errors field-institution"' in response.content.decode()
    assert not AssessorAssignment.objects.exists()


def test_an_officer_ends_an_assignment_through_the_admin(client, officer, assessor):
    assignment = AssessorAssignment.objects.get()
    client.force_login(officer)
    page = client.get(_change(assignment)).content.decode()
    assert _act(assignment, "end") in page
    assert client.get(_act(assignment, "end")).status_code == 200
    with travel(at(2026, 5, 6)):
        client.force_login(officer)  # two days later: the first session has timed out
        response = client.post(_act(assignment, "end"), {})
    assert response.status_code == 302
    assignment.refresh_from_db()
    assert assignment.ended_at == at(2026, 5, 6)
    client.force_login(officer)
    response = client.post(_act(assignment, "end"), {})  # already ended: the service's refusal as a message
    assert response.status_code == 302
    assert _act(assignment, "end") not in client.get(_change(assignment)).content.decode()


def test_an_approver_can_neither_add_nor_end_assignments(client, approver, assessor, enterprise):
    assignment = AssessorAssignment.objects.get()
    client.force_login(approver)
    assert client.get(ASSIGNMENTS).status_code == 200  # may read them
    assert client.get(ASSIGN).status_code == 403
    institution = InstitutionFactory()
    assert client.post(ASSIGN, {"institution": institution.pk, "enterprise": enterprise.pk}).status_code == 403
    assert client.get(_act(assignment, "end")).status_code == 403
    assert client.post(_act(assignment, "end"), {}).status_code == 403
    assert client.post(_change(assignment), {"ended_at": "2026-05-04"}).status_code == 403
    assignment.refresh_from_db()
    assert assignment.ended_at is None
    assert AssessorAssignment.objects.count() == 1


def test_an_assessor_sees_only_the_own_institutions_assignments(client, assessor):
    other = AssignmentFactory()
    own = AssessorAssignment.objects.get(institution=assessor.organisation)
    client.force_login(assessor)
    page = client.get(ASSIGNMENTS).content.decode()
    assert _change(own) in page and _change(other) not in page
    assert client.get(_change(other)).status_code == 404
    assert client.get(ASSIGN).status_code == 403
    assert client.post(_act(own, "end"), {}).status_code == 403


# --- The standard: read-only for everyone --------------------------------------------------------------------------


def test_the_standard_page_shows_its_items_scenarios_and_rule(client, assessor):
    standard = current_standard()
    client.force_login(assessor)
    page = client.get(_change(standard)).content.decode()
    for item in standard.items.all():
        assert item.name in page
    for scenario in standard.scenarios.all():
        assert scenario.name in page
    rule = page[page.index('class="level-rule"') :]
    rule = rule[: rule.index("</table>")]
    assert rule.count('<th scope="row">') == 4
    for minimum in ("<td>20</td>", "<td>40</td>", "<td>60</td>", "<td>80</td>", "<td>5</td>"):
        assert minimum in rule
    assert _zh_text("Indicators by dimension (%(total)s points)") % {"total": "100"} in page


def test_nobody_changes_the_standard_in_the_admin(client, admin_user, officer):
    standard = current_standard()
    for user in (admin_user, officer):
        client.force_login(user)
        assert client.get(reverse("admin:evaluations_levelstandard_add")).status_code == 403
        assert client.post(_change(standard), {"name": "改名", "code": "2024"}).status_code == 403
        assert client.get(reverse("admin:evaluations_levelstandard_delete", args=[standard.pk])).status_code == 403
    standard.refresh_from_db()
    assert standard.name == "中小企业数字化水平评测指标（2024年版）"


def test_the_enterprise_search_of_the_add_page_finds_only_assigned_enterprises(client, assessor, enterprise):
    PilotEnterpriseFactory(name="唐山未分配制造有限公司")
    client.force_login(assessor)
    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "evaluations", "model_name": "levelassessment", "field_name": "enterprise", "term": "唐山"},
    )
    assert response.status_code == 200
    assert [row["text"] for row in response.json()["results"]] == ["唐山精工机械有限公司"]
