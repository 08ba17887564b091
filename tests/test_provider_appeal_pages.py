"""The provider's pages on complaints about it, its satisfaction ratings and its appeals (Art 11, 13(2), 16)."""

from datetime import date
from html import escape

import pytest
from django.urls import reverse
from django.utils.translation import gettext

from complaints import services as complaint_services
from complaints.models import Appeal, AppealStatus, AppealType, ComplaintCategory
from evaluations import services
from evaluations.models import BlacklistEntry, RectificationStatus, SatisfactionRating, SurveyItem
from tangshan_portal.models import Notification, Organisation
from tangshan_portal.roles import Role
from tests.enforcement import at, ordered_case, travel, warned_case
from tests.factories import (
    OrganisationFactory,
    PilotEnterpriseFactory,
    ProviderFactory,
    ServiceContractFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

ENTERPRISE_NAME = "保密投诉机械制造有限公司"
CONTACT_NAME = "联系人钱七"
CONTACT_PHONE = "0315-7654321"
COMPLAINANT_NAME = "投诉经办人赵六"
DESCRIPTION = "驻场工程师连续两周未到岗，系统上线一再推迟。"
GROUNDS = "企业迟迟未提供诊断所需的生产数据，延误非我方原因。"


@pytest.fixture
def enterprise(db):
    return PilotEnterpriseFactory(name=ENTERPRISE_NAME, contact_name=CONTACT_NAME, contact_phone=CONTACT_PHONE)


@pytest.fixture
def enterprise_user(enterprise):
    return UserFactory(
        role=Role.ENTERPRISE, organisation=enterprise.organisation, full_name=COMPLAINANT_NAME, username="zhaoliu_qiye"
    )


@pytest.fixture
def other_provider_user(db):
    other = ProviderFactory(name="另一家数字科技有限公司")
    return UserFactory(role=Role.PROVIDER, organisation=other.organisation)


def _html(response):
    return response.content.decode()


def _complaint(provider, enterprise_user, officer=None, *, protect=False, contract=None, description=DESCRIPTION):
    complaint = complaint_services.complaint_submit(
        by=enterprise_user,
        provider=provider,
        category=ComplaintCategory.SERVICE,
        description=description,
        contract=contract,
        protect_identity=protect,
    )
    if officer is not None:
        complaint = complaint_services.complaint_accept(complaint=complaint, by=officer)
    return complaint


def _scores():
    return {item.pk: 3 for item in SurveyItem.objects.filter(is_active=True)}


def _rating(contract, enterprise_user, *, overall=SatisfactionRating.Overall.DISSATISFIED, stage="验收"):
    return services.survey_submit(
        contract=contract, stage=stage, overall=overall, scores=_scores(), by=enterprise_user, comment="响应太慢"
    )


def _approved_revocation(provider, officer, approver):
    with travel(at(2026, 5, 1)):
        revocation = services.revocation_propose(provider=provider, ground=5, finding="伪造服务合同", by=officer)
    with travel(at(2026, 5, 8)):
        return services.revocation_approve(revocation=revocation, by=approver, reason="经核实合同系伪造")


def _overdue_case(provider, officer):
    with travel(at(2026, 3, 20)):
        case = ordered_case(provider=provider, officer=officer)
    with travel(at(2026, 4, 21)):
        services.deadlines_check()
    case.refresh_from_db()
    assert case.status == RectificationStatus.OVERDUE
    return case


def _key(target):
    return f"{target._meta.label_lower}:{target.pk}"


def _new_url(appeal_type, target):
    return f"{reverse('provider:appeal_new')}?type={int(appeal_type)}&target={_key(target)}"


def _detail(complaint):
    return reverse("provider:complaint_detail", args=[complaint.pk])


# --- access ------------------------------------------------------------------------------------------------


@pytest.fixture
def pages(provider, officer, enterprise, enterprise_user, provider_user):
    """One page of each kind, with an appeal against a "dissatisfied" rating."""
    complaint = _complaint(provider, enterprise_user, officer)
    rating = _rating(ServiceContractFactory(provider=provider, enterprise=enterprise), enterprise_user)
    appeal = complaint_services.appeal_file(
        by=provider_user, appeal_type=AppealType.DISSATISFIED_RATING, target=rating, grounds=GROUNDS
    )
    return {
        "complaint_list": reverse("provider:complaint_list"),
        "complaint_detail": _detail(complaint),
        "rating_list": reverse("provider:rating_list"),
        "appeal_list": reverse("provider:appeal_list"),
        "appeal_new": _new_url(AppealType.DISSATISFIED_RATING, rating),
        "appeal_detail": reverse("provider:appeal_detail", args=[appeal.pk]),
    }


def test_anonymous_users_are_sent_to_the_login_page(client, pages):
    for url in pages.values():
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login") + "?next="), url


def test_the_providers_own_staff_see_every_page(client, pages, provider_user):
    client.force_login(provider_user)
    for url in pages.values():
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("role", [Role.ENTERPRISE, Role.OFFICER, Role.APPROVER])
def test_users_who_do_not_act_for_a_provider_get_403(client, pages, enterprise, role):
    organisation = enterprise.organisation if role == Role.ENTERPRISE else OrganisationFactory()
    client.force_login(UserFactory(role=role, organisation=organisation))
    for url in pages.values():
        assert client.get(url).status_code == 403, url
    assert client.post(pages["complaint_detail"], {"action": "respond", "response": "x"}).status_code == 403
    assert client.post(pages["appeal_new"], {"grounds": "x"}).status_code == 403
    assert Appeal.objects.count() == 1


def test_another_providers_staff_get_404_and_see_nothing_in_their_lists(client, pages, other_provider_user):
    client.force_login(other_provider_user)
    for name in ("complaint_detail", "appeal_new", "appeal_detail"):
        assert client.get(pages[name]).status_code == 404, name
    assert client.post(pages["complaint_detail"], {"action": "respond", "response": "不是我们"}).status_code == 404
    assert client.post(pages["appeal_new"], {"grounds": "冒名申诉"}).status_code == 404
    assert Appeal.objects.count() == 1
    for name in ("complaint_list", "rating_list", "appeal_list"):
        html = _html(client.get(pages[name]))
        assert DESCRIPTION not in html and ENTERPRISE_NAME not in html and GROUNDS not in html, name
        assert pages["complaint_detail"] not in html and pages["appeal_detail"] not in html, name


def test_a_provider_cannot_appeal_against_another_providers_case_or_revocation(
    client, provider, officer, approver, other_provider_user
):
    case = ordered_case(provider=provider, officer=officer)
    revocation = _approved_revocation(provider, officer, approver)
    client.force_login(other_provider_user)
    for url in (_new_url(AppealType.OTHER, case), _new_url(AppealType.REVOCATION, revocation)):
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"grounds": "x"}).status_code == 404, url
    assert not Appeal.objects.exists()


def test_the_appeal_form_resolves_only_own_appealable_records(
    client, provider, officer, provider_user, enterprise, enterprise_user
):
    case = ordered_case(provider=provider, officer=officer)
    draft = services.rectification_open(provider=provider, ground=2, finding="内部核查中", by=officer)
    rating = _rating(ServiceContractFactory(provider=provider, enterprise=enterprise), enterprise_user)
    base = reverse("provider:appeal_new")
    client.force_login(provider_user)
    bad = [
        base,
        f"{base}?type=2",
        f"{base}?target={_key(rating)}",
        f"{base}?type=9&target={_key(rating)}",
        f"{base}?type=x&target={_key(rating)}",
        f"{base}?type=2&target={_key(case)}",  # a rating appeal cannot target a case
        f"{base}?type=1&target={_key(rating)}",
        f"{base}?type=4&target={_key(draft)}",  # a draft was never notified to the provider
        f"{base}?type=4&target=portal.user:{provider_user.pk}",
        f"{base}?type=4&target=complaints.appeal:1",
        f"{base}?type=4&target=evaluations.rectificationcase:abc",
        f"{base}?type=4&target=evaluations.rectificationcase:{case.pk}0000000000000000000",
        f"{base}?type=4&target=evaluations.rectificationcase:%C2%B2",
        f"{base}?type=4&target=evaluations.rectificationcase",
    ]
    for url in bad:
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"grounds": "x"}).status_code == 404, url
    assert client.get(_new_url(AppealType.OTHER, case)).status_code == 200
    assert not Appeal.objects.exists()


# --- complaints ----------------------------------------------------------------------------------------------


def test_a_protected_complainants_identity_never_appears(client, provider, officer, enterprise, enterprise_user):
    contract = ServiceContractFactory(provider=provider, enterprise=enterprise, number="HT-SECRET-0001")
    complaint = _complaint(provider, enterprise_user, officer, protect=True, contract=contract)
    client.force_login(UserFactory(role=Role.PROVIDER, organisation=provider.organisation))
    for url in (reverse("provider:complaint_list"), _detail(complaint)):
        html = _html(client.get(url))
        assert DESCRIPTION in html or url == reverse("provider:complaint_list")
        assert gettext("Identity protected") in html
        for secret in (
            ENTERPRISE_NAME,
            enterprise.organisation.name,
            enterprise.uscc,
            CONTACT_NAME,
            CONTACT_PHONE,
            COMPLAINANT_NAME,
            enterprise_user.username,
            contract.number,  # the provider knows whose contract it is
        ):
            assert secret not in html, (url, secret)


def test_an_unprotected_complaint_shows_the_enterprise(client, provider, officer, enterprise_user, provider_user):
    complaint = _complaint(provider, enterprise_user, officer)
    client.force_login(provider_user)
    assert ENTERPRISE_NAME in _html(client.get(reverse("provider:complaint_list")))
    html = _html(client.get(_detail(complaint)))
    assert ENTERPRISE_NAME in html
    assert CONTACT_NAME in html and COMPLAINANT_NAME in html
    assert DESCRIPTION in html
    assert str(ComplaintCategory.SERVICE.label) in html
    assert gettext("Identity protected") not in html


def test_submitted_and_rejected_complaints_are_not_shown(client, provider, officer, enterprise_user, provider_user):
    submitted = _complaint(provider, enterprise_user, description="尚未受理的投诉")
    rejected = complaint_services.complaint_reject(
        complaint=_complaint(provider, enterprise_user, description="不予受理的投诉"),
        by=officer,
        reason="不属于受理范围",
    )
    client.force_login(provider_user)
    html = _html(client.get(reverse("provider:complaint_list")))
    assert _detail(submitted) not in html and _detail(rejected) not in html
    for complaint in (submitted, rejected):
        assert client.get(_detail(complaint)).status_code == 404
        assert client.post(_detail(complaint), {"action": "respond", "response": "x"}).status_code == 404
    # Once accepted, the provider sees it.
    complaint_services.complaint_accept(complaint=submitted, by=officer)
    assert _detail(submitted) in _html(client.get(reverse("provider:complaint_list")))
    assert "尚未受理的投诉" in _html(client.get(_detail(submitted)))


def test_the_provider_responds_while_the_bureau_handles_the_complaint(
    client, provider, officer, enterprise_user, provider_user
):
    complaint = _complaint(provider, enterprise_user, officer)
    client.force_login(provider_user)
    assert 'name="response"' in _html(client.get(_detail(complaint)))
    response = client.post(_detail(complaint), {"action": "respond", "response": "  工程师已于本周返岗。 "})
    assert response.status_code == 302 and response["Location"] == _detail(complaint)
    complaint.refresh_from_db()
    assert complaint.provider_response == "工程师已于本周返岗。"
    assert Notification.objects.get(kind="complaint_provider_response").recipient_user == officer
    assert "工程师已于本周返岗。" in _html(client.get(_detail(complaint)))
    # Still possible during the investigation.
    complaint_services.complaint_investigate(complaint=complaint, by=officer)
    assert client.post(_detail(complaint), {"action": "respond", "response": "补充说明"}).status_code == 302


def test_an_empty_response_is_refused(client, provider, officer, enterprise_user, provider_user):
    complaint = _complaint(provider, enterprise_user, officer)
    client.force_login(provider_user)
    response = client.post(_detail(complaint), {"action": "respond", "response": "   "})
    assert response.status_code == 200
    assert response.context["form"].errors["response"]
    assert client.post(_detail(complaint), {"action": "other"}).status_code == 400
    complaint.refresh_from_db()
    assert complaint.provider_response == ""


def test_a_response_after_the_conclusion_is_refused(client, provider, officer, enterprise_user, provider_user):
    complaint = _complaint(provider, enterprise_user, officer)
    complaint = complaint_services.complaint_investigate(complaint=complaint, by=officer)
    complaint_services.complaint_conclude(complaint=complaint, by=officer, substantiated=False, conclusion="查无实据")
    client.force_login(provider_user)
    html = _html(client.get(_detail(complaint)))
    assert "查无实据" in html and "status-complaint-unsubstantiated" in html
    assert 'name="response"' not in html
    response = client.post(_detail(complaint), {"action": "respond", "response": "迟到的回应"})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        gettext("A response can be given while the bureau handles the complaint.")
    ]
    assert 'class="form-errors"' in _html(response)
    complaint.refresh_from_db()
    assert (complaint.provider_response, complaint.provider_responded_at) == ("", None)


# --- ratings -------------------------------------------------------------------------------------------------


def test_ratings_page_lists_ratings_with_answers_and_the_appeal_button_only_when_allowed(
    client, provider, approver, enterprise, enterprise_user, provider_user
):
    contract = ServiceContractFactory(provider=provider, enterprise=enterprise, number="HT-2026-0042")
    with travel(at(2026, 4, 1)):
        late = _rating(contract, enterprise_user, stage="里程碑一")
    with travel(at(2026, 5, 1)):
        satisfied = _rating(contract, enterprise_user, stage="里程碑二", overall=SatisfactionRating.Overall.SATISFIED)
        counted = _rating(contract, enterprise_user, stage="验收")
        voided = _rating(contract, enterprise_user, stage="中期")
        services.rating_void(rating=voided, by=approver, reason="企业撤回评价")
        pending = _rating(contract, enterprise_user, stage="里程碑三")
        appeal = complaint_services.appeal_file(
            by=provider_user, appeal_type=AppealType.DISSATISFIED_RATING, target=pending, grounds=GROUNDS
        )
    client.force_login(provider_user)
    with travel(at(2026, 5, 10)):
        response = client.get(reverse("provider:rating_list"))
    html = _html(response)
    assert "HT-2026-0042" in html and ENTERPRISE_NAME in html
    for stage in ("里程碑一", "里程碑二", "验收", "中期", "里程碑三"):
        assert stage in html
    assert "2026-05-01" in html
    assert "企业撤回评价" in html and gettext("Voided") in html
    assert SurveyItem.objects.filter(is_active=True).first().text in html
    assert "响应太慢" in html
    assert escape(_new_url(AppealType.DISSATISFIED_RATING, counted)) in html
    for no_button in (late, satisfied, voided, pending):
        assert _key(no_button) not in html
    assert reverse("provider:appeal_detail", args=[appeal.pk]) in html
    assert gettext("Appeal window closed") in html
    totals = response.context["totals"]
    assert (totals["total"], totals["dissatisfied"], totals["counted"]) == (5, 4, 3)


def test_another_providers_ratings_are_not_listed(client, enterprise, enterprise_user, provider_user):
    _rating(ServiceContractFactory(enterprise=enterprise, number="HT-OTHER-0001"), enterprise_user)
    client.force_login(provider_user)
    assert "HT-OTHER-0001" not in _html(client.get(reverse("provider:rating_list")))


# --- filing appeals ----------------------------------------------------------------------------------------------


def test_filing_an_appeal_against_a_dissatisfied_rating(client, provider, enterprise, enterprise_user, provider_user):
    with travel(at(2026, 5, 1)):
        rating = _rating(ServiceContractFactory(provider=provider, enterprise=enterprise), enterprise_user)
    url = _new_url(AppealType.DISSATISFIED_RATING, rating)
    client.force_login(provider_user)
    with travel(at(2026, 5, 10)):
        page = client.get(url)
        html = _html(page)
        assert "2026-05-16 10:00" in html  # the window end
        assert 'name="grounds"' in html and 'name="requested_deadline"' not in html
        assert f'action="{escape(url)}"' in html
        response = client.post(url, {"grounds": "  该评价所述问题已于验收前整改完毕。 "})
    appeal = Appeal.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("provider:appeal_detail", args=[appeal.pk])
    assert (appeal.appeal_type, appeal.target, appeal.status) == (
        AppealType.DISSATISFIED_RATING,
        rating,
        AppealStatus.SUBMITTED,
    )
    assert (appeal.provider, appeal.filed_by, appeal.grounds) == (
        provider,
        provider_user,
        "该评价所述问题已于验收前整改完毕。",
    )
    assert Notification.objects.filter(kind="appeal_filed").exists()


def test_filing_an_appeal_against_a_revocation_marks_the_blacklist_entry(
    client, provider, officer, approver, provider_user
):
    revocation = _approved_revocation(provider, officer, approver)
    detail = reverse("provider:revocation_detail", args=[revocation.pk])
    url = _new_url(AppealType.REVOCATION, revocation)
    client.force_login(provider_user)
    with travel(at(2026, 5, 12)):
        assert escape(url) in _html(client.get(detail))
        assert client.post(url, {"grounds": "合同真实有效，附银行流水。"}).status_code == 302
        assert escape(url) not in _html(client.get(detail))  # the entry is under appeal now
    appeal = Appeal.objects.get()
    assert (appeal.appeal_type, appeal.target, appeal.status) == (
        AppealType.REVOCATION,
        revocation,
        AppealStatus.SUBMITTED,
    )
    assert BlacklistEntry.objects.get(revocation=revocation).status == BlacklistEntry.Status.UNDER_APPEAL


def test_filing_an_appeal_against_a_missed_deadline_asks_for_a_new_deadline(client, provider, officer, provider_user):
    case = _overdue_case(provider, officer)
    url = _new_url(AppealType.DIAGNOSIS_DELAYED, case)
    client.force_login(provider_user)
    with travel(at(2026, 4, 25)):
        html = _html(client.get(reverse("provider:case_detail", args=[case.pk])))
        assert escape(url) in html and escape(_new_url(AppealType.OTHER, case)) in html
        assert 'name="requested_deadline"' in _html(client.get(url))
        missing = client.post(url, {"grounds": GROUNDS})
        assert missing.status_code == 200 and missing.context["form"].errors["requested_deadline"]
        past = client.post(url, {"grounds": GROUNDS, "requested_deadline": "2026-04-20"})
        assert past.context["form"].errors["requested_deadline"]
        assert not Appeal.objects.exists()
        assert client.post(url, {"grounds": GROUNDS, "requested_deadline": "2026-05-20"}).status_code == 302
    appeal = Appeal.objects.get()
    assert (appeal.appeal_type, appeal.target, appeal.status, appeal.requested_deadline) == (
        AppealType.DIAGNOSIS_DELAYED,
        case,
        AppealStatus.SUBMITTED,
        date(2026, 5, 20),
    )


def test_filing_an_other_appeal_against_an_ordered_case(client, provider, officer, provider_user):
    with travel(at(2026, 4, 1)):
        case = ordered_case(provider=provider, officer=officer)
    url = _new_url(AppealType.OTHER, case)
    client.force_login(provider_user)
    with travel(at(2026, 4, 5)):
        html = _html(client.get(reverse("provider:case_detail", args=[case.pk])))
        assert escape(url) in html
        assert escape(_new_url(AppealType.DIAGNOSIS_DELAYED, case)) not in html  # not overdue
        assert client.post(url, {"grounds": "整改通知认定的事实有误。"}).status_code == 302
    appeal = Appeal.objects.get()
    assert (appeal.appeal_type, appeal.target, appeal.status) == (AppealType.OTHER, case, AppealStatus.SUBMITTED)
    assert appeal.requested_deadline is None


def test_a_warned_case_and_a_proposed_revocation_offer_no_appeal(client, provider, officer, provider_user):
    case = warned_case(provider=provider, officer=officer)
    revocation = services.revocation_propose(provider=provider, ground=5, finding="伪造服务合同", by=officer)
    client.force_login(provider_user)
    assert reverse("provider:appeal_new") not in _html(client.get(reverse("provider:case_detail", args=[case.pk])))
    revocation_html = _html(client.get(reverse("provider:revocation_detail", args=[revocation.pk])))
    assert reverse("provider:appeal_new") not in revocation_html


def test_a_late_appeal_shows_the_error_and_creates_nothing(
    client, provider, enterprise, enterprise_user, provider_user
):
    with travel(at(2026, 4, 1)):
        rating = _rating(ServiceContractFactory(provider=provider, enterprise=enterprise), enterprise_user)
    url = _new_url(AppealType.DISSATISFIED_RATING, rating)
    client.force_login(provider_user)
    with travel(at(2026, 4, 16, 10, 1)):
        page = _html(client.get(url))
        assert 'name="grounds"' not in page and "2026-04-16 10:00" in page
        assert escape(url) not in _html(client.get(reverse("provider:rating_list")))
        response = client.post(url, {"grounds": GROUNDS})
    assert response.status_code == 200
    message = gettext("The appeal window of %(days)s days has closed.") % {"days": 15}
    assert response.context["form"].non_field_errors() == [message]
    assert message in _html(response)
    assert not Appeal.objects.exists()


def test_an_appeal_on_the_last_minute_of_the_window_is_accepted(
    client, provider, enterprise, enterprise_user, provider_user
):
    with travel(at(2026, 4, 1)):
        rating = _rating(ServiceContractFactory(provider=provider, enterprise=enterprise), enterprise_user)
    client.force_login(provider_user)
    with travel(at(2026, 4, 16, 10, 0)):
        assert client.post(_new_url(AppealType.DISSATISFIED_RATING, rating), {"grounds": GROUNDS}).status_code == 302
    assert Appeal.objects.count() == 1


def test_a_second_appeal_while_one_is_pending_is_refused(client, provider, enterprise, enterprise_user, provider_user):
    rating = _rating(ServiceContractFactory(provider=provider, enterprise=enterprise), enterprise_user)
    first = complaint_services.appeal_file(
        by=provider_user, appeal_type=AppealType.DISSATISFIED_RATING, target=rating, grounds=GROUNDS
    )
    url = _new_url(AppealType.DISSATISFIED_RATING, rating)
    client.force_login(provider_user)
    page = _html(client.get(url))
    assert 'name="grounds"' not in page
    assert reverse("provider:appeal_detail", args=[first.pk]) in page
    response = client.post(url, {"grounds": "再次申诉"})
    assert response.status_code == 200
    message = gettext("An appeal against this record is already pending.")
    assert response.context["form"].non_field_errors() == [message]
    assert message in _html(response)
    assert Appeal.objects.count() == 1


def test_a_rating_that_is_not_dissatisfied_cannot_be_appealed(
    client, provider, enterprise, enterprise_user, provider_user
):
    rating = _rating(
        ServiceContractFactory(provider=provider, enterprise=enterprise),
        enterprise_user,
        overall=SatisfactionRating.Overall.BASICALLY_SATISFIED,
    )
    url = _new_url(AppealType.DISSATISFIED_RATING, rating)
    client.force_login(provider_user)
    page = _html(client.get(url))
    message = gettext("Only a counted “dissatisfied” rating can be appealed.")
    assert 'name="grounds"' not in page and escape(message) in page
    response = client.post(url, {"grounds": GROUNDS})
    assert response.context["form"].non_field_errors() == [message]
    assert not Appeal.objects.exists()


def test_an_empty_grounds_field_is_refused(client, provider, enterprise, enterprise_user, provider_user):
    rating = _rating(ServiceContractFactory(provider=provider, enterprise=enterprise), enterprise_user)
    client.force_login(provider_user)
    response = client.post(_new_url(AppealType.DISSATISFIED_RATING, rating), {"grounds": "  "})
    assert response.status_code == 200 and response.context["form"].errors["grounds"]
    assert not Appeal.objects.exists()


# --- following appeals ----------------------------------------------------------------------------------------


def test_appeal_list_shows_the_appeals_and_what_can_be_appealed_now(
    client, provider, officer, approver, enterprise, enterprise_user, provider_user
):
    contract = ServiceContractFactory(provider=provider, enterprise=enterprise, number="HT-2026-0077")
    with travel(at(2026, 5, 1)):
        appealed = _rating(contract, enterprise_user, stage="验收")
        open_rating = _rating(contract, enterprise_user, stage="中期")
        case = ordered_case(provider=provider, officer=officer)
        complaint_services.appeal_file(
            by=provider_user, appeal_type=AppealType.DISSATISFIED_RATING, target=appealed, grounds=GROUNDS
        )
    client.force_login(provider_user)
    with travel(at(2026, 5, 5)):
        response = client.get(reverse("provider:appeal_list"))
    html = _html(response)
    assert str(AppealType.DISSATISFIED_RATING.label) in html
    assert "HT-2026-0077" in html and "验收" in html
    assert "status-appeal-submitted" in html and "2026-05-01" in html
    urls = {row["url"] for row in response.context["appealable"]}
    assert urls == {_new_url(AppealType.OTHER, case), _new_url(AppealType.DISSATISFIED_RATING, open_rating)}
    assert escape(_new_url(AppealType.OTHER, case)) in html
    with travel(at(2026, 5, 20)):
        assert client.get(reverse("provider:appeal_list")).context["appealable"] == []


def test_appeal_detail_shows_status_decision_and_timeline(
    client, provider, approver, enterprise, enterprise_user, provider_user
):
    rating = _rating(ServiceContractFactory(provider=provider, enterprise=enterprise), enterprise_user)
    appeal = complaint_services.appeal_file(
        by=provider_user, appeal_type=AppealType.DISSATISFIED_RATING, target=rating, grounds=GROUNDS
    )
    url = reverse("provider:appeal_detail", args=[appeal.pk])
    client.force_login(provider_user)
    html = _html(client.get(url))
    assert GROUNDS in html and "status-appeal-submitted" in html
    appeal = complaint_services.appeal_start_review(appeal=appeal, by=approver)
    complaint_services.appeal_uphold(appeal=appeal, by=approver, decision="企业评价与事实不符，予以撤销。")
    response = client.get(url)
    html = _html(response)
    assert "status-appeal-upheld" in html and "企业评价与事实不符，予以撤销。" in html
    assert [row["target"] for row in response.context["history"]] == [
        str(AppealStatus.SUBMITTED.label),
        str(AppealStatus.UNDER_REVIEW.label),
        str(AppealStatus.UPHELD.label),
    ]
    rating.refresh_from_db()
    assert rating.voided
    ratings_html = _html(client.get(reverse("provider:rating_list")))
    assert "企业评价与事实不符" in ratings_html  # the void reason
    assert _key(rating) not in ratings_html  # no further appeal against a voided rating


def test_the_provider_nav_links_to_complaints_ratings_and_appeals(client, provider_user):
    client.force_login(provider_user)
    html = _html(client.get(reverse("provider:home")))
    for name in ("complaint_list", "rating_list", "appeal_list"):
        assert f'href="{reverse("provider:" + name)}"' in html
    assert 'aria-current="page"' in _html(client.get(reverse("provider:rating_list")))


def test_a_provider_organisation_of_another_kind_is_refused(client, provider):
    provider.organisation.kind = Organisation.Kind.ENTERPRISE
    provider.organisation.save()
    client.force_login(UserFactory(role=Role.PROVIDER, organisation=provider.organisation))
    assert client.get(reverse("provider:appeal_list")).status_code == 403
