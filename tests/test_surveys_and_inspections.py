"""Article 11 satisfaction surveys (feeding Art 13(2)) and the bureau's inspections."""

from datetime import date

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django_fsm_log.models import StateLog

from enterprises.models import ContractStatus, Milestone, ServiceContract
from evaluations import services
from evaluations.models import (
    Evidence,
    Inspection,
    RectificationStatus,
    RevocationCase,
    SatisfactionRating,
    SurveyAnswer,
    SurveyItem,
)
from tangshan_portal.grounds import Art12Ground, Art13Ground
from tangshan_portal.models import Attachment, Notification
from tangshan_portal.roles import Role
from tests.enforcement import at, travel
from tests.factories import (
    OrganisationFactory,
    PilotEnterpriseFactory,
    ProviderFactory,
    ServiceContractFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

Overall = SatisfactionRating.Overall
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def enterprise(db):
    return PilotEnterpriseFactory()


@pytest.fixture
def enterprise_user(enterprise):
    return UserFactory(role=Role.ENTERPRISE, organisation=enterprise.organisation)


@pytest.fixture
def contract(provider, enterprise):
    return ServiceContractFactory(provider=provider, enterprise=enterprise, status=ContractStatus.IN_PROGRESS)


def active_items():
    return list(SurveyItem.objects.filter(is_active=True))


def all_scores(score=4):
    return {item.pk: score for item in active_items()}


def rate(contract, stage, overall, *, by=None, scores=None, when=None, **kwargs):
    """The enterprise's own staff rate `contract` at `stage` through the service."""
    by = by or UserFactory(role=Role.ENTERPRISE, organisation=contract.enterprise.organisation)
    with travel(when or at(2026, 5, 1)):
        return services.survey_submit(
            contract=contract,
            stage=stage,
            overall=overall,
            scores=all_scores() if scores is None else scores,
            by=by,
            **kwargs,
        )


def user_with(role, *, provider=None):
    if role == Role.PROVIDER:
        return UserFactory(role=role, organisation=provider.organisation)
    if role == Role.ENTERPRISE:
        return UserFactory(role=role, organisation=PilotEnterpriseFactory().organisation)
    if role == Role.COUNTY:
        return UserFactory(role=role, organisation=OrganisationFactory(county_bureau=True))
    return UserFactory(role=role)


# --- surveys -------------------------------------------------------------------------------------------------


def test_the_survey_starts_with_five_seeded_questions():
    assert len(active_items()) == 5
    assert "服务响应及时性" in {item.text for item in active_items()}


def test_the_enterprise_rates_its_provider_with_every_question_and_an_overall_rating(contract, enterprise_user):
    items = active_items()
    scores = {item.pk: n for n, item in enumerate(items, start=1)}
    rating = rate(contract, "里程碑1", Overall.BASICALLY_SATISFIED, by=enterprise_user, scores=scores, comment=" 尚可 ")
    rating.refresh_from_db()
    assert (rating.contract, rating.stage, rating.overall) == (contract, "里程碑1", Overall.BASICALLY_SATISFIED)
    assert (rating.submitted_by, rating.submitted_at, rating.comment) == (enterprise_user, at(2026, 5, 1), "尚可")
    assert not rating.voided
    assert dict(rating.answers.values_list("item_id", "score")) == scores
    [log] = StateLog.objects.for_(rating)
    assert (log.by, log.source_state, log.state) == (enterprise_user, None, Overall.BASICALLY_SATISFIED)
    assert not Notification.objects.filter(kind="rating_dissatisfied").exists()


def test_a_submitted_rating_is_locked_for_its_contract_and_stage(contract, enterprise_user):
    first = rate(contract, "验收", Overall.SATISFIED, by=enterprise_user, scores=all_scores(5))
    notifications = Notification.objects.count()
    with pytest.raises(ValidationError):
        rate(contract, "验收", Overall.DISSATISFIED, by=enterprise_user, scores=all_scores(1))
    assert list(SatisfactionRating.objects.values_list("id", "overall")) == [(first.pk, Overall.SATISFIED)]
    assert set(SurveyAnswer.objects.values_list("score", flat=True)) == {5}
    assert SurveyAnswer.objects.count() == 5
    assert Notification.objects.count() == notifications
    # Another stage of the same contract is a new survey.
    rate(contract, "里程碑2", Overall.SATISFIED, by=enterprise_user)
    assert SatisfactionRating.objects.count() == 2


def test_every_active_question_must_be_answered(contract, enterprise_user):
    scores = all_scores()
    missing = active_items()[2]
    del scores[missing.pk]
    with pytest.raises(ValidationError) as excinfo:
        rate(contract, "验收", Overall.SATISFIED, by=enterprise_user, scores=scores)
    assert missing.text in str(excinfo.value)
    assert not SatisfactionRating.objects.exists()


def test_a_retired_question_is_no_longer_asked_and_a_new_one_is(contract, enterprise_user):
    retired = active_items()[0]
    retired.is_active = False
    retired.save()
    added = SurveyItem.objects.create(text="数据安全保障", sort_order=9)
    with pytest.raises(ValidationError):
        rate(
            contract,
            "一",
            Overall.SATISFIED,
            by=enterprise_user,
            scores={pk: 4 for pk in all_scores() if pk != added.pk},
        )
    rating = rate(contract, "一", Overall.SATISFIED, by=enterprise_user)
    assert retired.pk not in set(rating.answers.values_list("item_id", flat=True))
    assert added.pk in set(rating.answers.values_list("item_id", flat=True))


@pytest.mark.parametrize("bad", [0, 6, -1])
def test_scores_go_from_one_to_five(bad, contract, enterprise_user):
    scores = all_scores()
    scores[next(iter(scores))] = bad
    with pytest.raises(ValidationError):
        rate(contract, "验收", Overall.SATISFIED, by=enterprise_user, scores=scores)
    assert not SatisfactionRating.objects.exists()
    assert not SurveyAnswer.objects.exists()


def test_an_overall_rating_is_required(contract, enterprise_user):
    for overall in ("", "very_dissatisfied"):
        with pytest.raises(ValidationError):
            rate(contract, "验收", overall, by=enterprise_user)
    assert not SatisfactionRating.objects.exists()


@pytest.mark.parametrize("who", ["other_enterprise", "provider", "officer", "no_organisation"])
def test_only_the_contracts_enterprise_rates(who, contract, provider):
    user = {
        "other_enterprise": lambda: UserFactory(
            role=Role.ENTERPRISE, organisation=PilotEnterpriseFactory().organisation
        ),
        "provider": lambda: UserFactory(role=Role.PROVIDER, organisation=provider.organisation),
        "officer": lambda: UserFactory(role=Role.OFFICER),
        "no_organisation": lambda: UserFactory(organisation=None),
    }[who]()
    with pytest.raises(PermissionDenied):
        rate(contract, "验收", Overall.DISSATISFIED, by=user)
    assert not SatisfactionRating.objects.exists()
    assert not Notification.objects.exists()


def test_a_milestone_of_another_contract_is_refused(contract, enterprise_user):
    other = ServiceContractFactory()
    milestone = Milestone.objects.create(contract=other, name="上线", planned_on=date(2026, 6, 1), weight=100)
    with pytest.raises(ValidationError):
        rate(contract, "上线", Overall.SATISFIED, by=enterprise_user, milestone=milestone)
    own = Milestone.objects.create(contract=contract, name="上线", planned_on=date(2026, 6, 1), weight=100)
    assert rate(contract, "上线", Overall.SATISFIED, by=enterprise_user, milestone=own).milestone == own


def test_a_dissatisfied_rating_tells_the_provider(contract, provider):
    rate(contract, "里程碑1", Overall.DISSATISFIED)
    notice = Notification.objects.get(kind="rating_dissatisfied")
    assert notice.recipient_organisation == provider.organisation
    assert contract.number in notice.subject
    assert "15" in notice.body  # the appeal window


def test_two_counted_dissatisfied_ratings_make_the_engine_propose_ground_2(contract, provider):
    first = rate(contract, "里程碑1", Overall.DISSATISFIED, when=at(2026, 5, 1))
    with travel(at(2026, 5, 2)):
        services.deadlines_check()
    assert not RevocationCase.objects.exists()
    # A second one on another contract of the same provider: the limit counts per provider.
    other_contract = ServiceContractFactory(provider=provider, status=ContractStatus.IN_PROGRESS)
    second = rate(other_contract, "验收", Overall.DISSATISFIED, when=at(2026, 5, 3))
    with travel(at(2026, 5, 3, 11)):
        assert services.deadlines_check()["proposals"] == 1
    proposal = RevocationCase.objects.get()
    assert (proposal.provider, proposal.ground, proposal.source) == (provider, Art13Ground.DISSATISFIED, "engine")
    rating_type = ContentType.objects.get_for_model(SatisfactionRating)
    assert set(proposal.evidence.filter(content_type=rating_type).values_list("object_id", flat=True)) == {
        first.pk,
        second.pk,
    }


# --- inspections ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(Inspection.Kind))
def test_an_officer_records_an_inspection_of_each_kind(kind, provider, officer, contract):
    with travel(at(2026, 6, 1)):
        inspection = services.inspection_record(
            kind=kind,
            provider=provider,
            contract=contract,
            conducted_on=date(2026, 5, 28),
            findings="  项目现场仅一名实施人员  ",
            issues_found=True,
            by=officer,
            files=[SimpleUploadedFile("走访记录.pdf", PDF, content_type="application/pdf")],
        )
    inspection.refresh_from_db()
    assert (inspection.kind, inspection.provider, inspection.contract) == (kind, provider, contract)
    assert (inspection.conducted_on, inspection.findings, inspection.issues_found) == (
        date(2026, 5, 28),
        "项目现场仅一名实施人员",
        True,
    )
    assert inspection.conducted_by == officer
    attachment = Attachment.objects.get()
    assert (attachment.object_id, attachment.purpose) == (inspection.pk, "inspection")


@pytest.mark.parametrize(
    "role",
    [Role.APPROVER, Role.COUNTY, Role.AUDITOR, Role.SYSADMIN, Role.ASSESSOR, Role.PROVIDER, Role.ENTERPRISE],
)
def test_only_officers_record_inspections(role, provider):
    with pytest.raises(PermissionDenied):
        services.inspection_record(
            kind=Inspection.Kind.PHONE,
            provider=provider,
            conducted_on=date(2026, 1, 5),
            findings="电话回访",
            by=user_with(role, provider=provider),
        )
    assert not Inspection.objects.exists()


def test_an_inspection_cannot_be_recorded_for_a_future_date(provider, officer):
    record = {"kind": Inspection.Kind.SITE_VISIT, "provider": provider, "findings": "实地走访", "by": officer}
    with travel(at(2026, 6, 1, 23, 30)):
        with pytest.raises(ValidationError):
            services.inspection_record(conducted_on=date(2026, 6, 2), **record)
        services.inspection_record(conducted_on=date(2026, 6, 1), **record)
    # 00:30 on 2 June in Shanghai is still 1 June in UTC: the local date decides.
    with travel(at(2026, 6, 2, 0, 30)):
        services.inspection_record(conducted_on=date(2026, 6, 2), **record)
    assert Inspection.objects.count() == 2


def test_an_inspection_needs_findings_and_the_providers_own_contract(provider, officer):
    with pytest.raises(ValidationError):
        services.inspection_record(
            kind=Inspection.Kind.PHONE, provider=provider, conducted_on=date(2026, 1, 5), findings=" ", by=officer
        )
    with pytest.raises(ValidationError):
        services.inspection_record(
            kind=Inspection.Kind.SPOT_CHECK,
            provider=provider,
            contract=ServiceContractFactory(),
            conducted_on=date(2026, 1, 5),
            findings="抽查",
            by=officer,
        )
    assert not Inspection.objects.exists()


def test_an_inspection_opens_a_case_with_itself_as_evidence(provider, officer, contract):
    inspection = services.inspection_record(
        kind=Inspection.Kind.SPOT_CHECK,
        provider=provider,
        contract=contract,
        conducted_on=date(2026, 1, 5),
        findings="采购清单价格高于市场价",
        issues_found=True,
        by=officer,
    )
    with pytest.raises(PermissionDenied):
        services.inspection_open_case(
            inspection=inspection,
            ground=Art12Ground.SOLUTION_OR_PRICE,
            finding="价格虚高",
            by=UserFactory(role=Role.APPROVER),
        )
    case = services.inspection_open_case(
        inspection=inspection, ground=Art12Ground.SOLUTION_OR_PRICE, finding="抽查发现价格虚高", by=officer
    )
    assert (case.provider, case.contract, case.ground, case.status) == (
        provider,
        contract,
        Art12Ground.SOLUTION_OR_PRICE,
        RectificationStatus.DRAFT,
    )
    linked = {(e.content_type.model_class(), e.object_id) for e in Evidence.objects.filter(rectification_case=case)}
    assert linked == {(Inspection, inspection.pk), (ServiceContract, contract.pk)}


def test_an_inspection_without_contract_opens_a_case_citing_the_inspection_only(provider, officer):
    inspection = services.inspection_record(
        kind=Inspection.Kind.QUESTIONNAIRE,
        provider=ProviderFactory(),
        conducted_on=date(2026, 1, 5),
        findings="问卷显示服务响应慢",
        issues_found=True,
        by=officer,
    )
    case = services.inspection_open_case(
        inspection=inspection, ground=Art12Ground.SERVICE_FAILURE, finding="响应慢", by=officer
    )
    assert case.provider == inspection.provider and case.contract is None
    assert [(e.content_type.model_class(), e.object_id) for e in case.evidence.all()] == [(Inspection, inspection.pk)]


def test_an_inspection_without_problems_opens_no_case(provider, officer):
    inspection = services.inspection_record(
        kind=Inspection.Kind.PHONE, provider=provider, conducted_on=date(2026, 1, 5), findings="一切正常", by=officer
    )
    with pytest.raises(ValidationError):
        services.inspection_open_case(inspection=inspection, ground=Art12Ground.OTHER, finding="无", by=officer)


def test_satisfaction_aggregates_per_provider(provider):
    from evaluations.models import SatisfactionRating
    from evaluations.selectors import satisfaction_by_provider
    from tests.factories import ServiceContractFactory

    contract = ServiceContractFactory(provider=provider)
    items = list(SurveyItem.objects.filter(is_active=True))
    staff = UserFactory(role=Role.ENTERPRISE, organisation=contract.enterprise.organisation)
    for stage, overall, score in [("一", "dissatisfied", 1), ("二", "satisfied", 5), ("三", "dissatisfied", 2)]:
        services.survey_submit(
            contract=contract, stage=stage, overall=overall, scores={i.pk: score for i in items}, by=staff
        )
    SatisfactionRating.objects.filter(stage="三").update(voided=True)
    other = ServiceContractFactory()
    row = next(r for r in satisfaction_by_provider(SatisfactionRating.objects.all()) if r["provider_id"] == provider.pk)
    assert (row["total"], row["counted_dissatisfied"]) == (3, 1)
    assert row["mean_score"] == pytest.approx((1 + 5 + 2) / 3)
    assert all(
        r["provider_id"] != other.provider_id for r in satisfaction_by_provider(SatisfactionRating.objects.all())
    )
