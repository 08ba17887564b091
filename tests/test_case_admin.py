"""The case admin (Articles 12–14): who may take which action through the admin views, the services behind them,
the crafted-POST hole of django-fsm's admin, county scope, the list filters and the timeline."""

from datetime import date, timedelta

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext_lazy
from django_fsm_log.models import StateLog

from enterprises.models import FeeConsequence, Milestone
from evaluations import services
from evaluations.models import (
    BlacklistEntry,
    Evidence,
    RectificationCase,
    RectificationStatus,
    RevocationCase,
    RevocationStatus,
    SatisfactionRating,
)
from tangshan_portal.models import Attachment, County, Organisation
from tangshan_portal.roles import Role
from tests.enforcement import at, ordered_case, state_case, travel, warned_case
from tests.factories import PilotEnterpriseFactory, ProviderFactory, ServiceContractFactory, UserFactory

pytestmark = pytest.mark.django_db

LOGIN = reverse("admin:login")
RECT_LIST = reverse("admin:evaluations_rectificationcase_changelist")
RECT_ADD = reverse("admin:evaluations_rectificationcase_add")
REVO_LIST = reverse("admin:evaluations_revocationcase_changelist")
REVO_ADD = reverse("admin:evaluations_revocationcase_add")


def _zh(text):
    """A service message as the admin shows it: in the portal's language, HTML-escaped."""
    with translation.override("zh-hans"):
        return escape(str(text))


def _change(case):
    return reverse(f"admin:evaluations_{case._meta.model_name}_change", args=[case.pk])


def _act(case, action):
    return reverse(f"admin:evaluations_{case._meta.model_name}_act", args=[case.pk, action])


def _last_log(case):
    return StateLog.objects.for_(case).order_by("-id").first()


def _county_user(county):
    org = Organisation.objects.create(
        name=f"{county.name}工业和信息化局", kind=Organisation.Kind.COUNTY_BUREAU, county=county
    )
    return UserFactory(role=Role.COUNTY, organisation=org)


def _user(role, provider=None):
    if role == Role.COUNTY:
        # A county user in whose scope the case is: refused for lack of permission, not hidden by scope.
        return _county_user(provider.contracts.first().enterprise.county)
    if role == Role.PROVIDER:
        return UserFactory(role=role, organisation=provider.organisation)
    return UserFactory(role=role)


@pytest.fixture
def county_provider(provider):
    """The provider, with a contract for an enterprise in the first county (so county staff there see it)."""
    ServiceContractFactory(provider=provider, enterprise=PilotEnterpriseFactory(county=County.objects.first()))
    return provider


def _case_in(stage, provider, officer):
    """A rectification case brought to `stage` through the services (the report by the provider's staff)."""
    case = services.rectification_open(provider=provider, ground=3, finding="采购清单价格虚高", by=officer)
    if stage == "draft":
        return case
    # The provider states its case, so the officer may order rectification without waiting for the period.
    case = state_case(services.rectification_warn(case=case, by=officer))
    if stage == "warned":
        return case
    case = services.rectification_order(case=case, by=officer)
    if stage == "rectifying":
        return case
    staff = UserFactory(role=Role.PROVIDER, organisation=provider.organisation)
    return services.rectification_respond(case=case, by=staff, report="已按要求重新报价")


RECTIFICATION_ACTIONS = {
    # action: (stage it needs, form data, resulting status, transition logged)
    "warn": ("draft", {}, RectificationStatus.WARNED, "warn"),
    "order": ("warned", {"deadline": "2026-05-20", "extension_reason": ""}, RectificationStatus.RECTIFYING, "order"),
    "verify": ("responded", {"note": "整改到位"}, RectificationStatus.VERIFIED, "verify"),
    "return": (
        "responded",
        {"reason": "报价依据不足", "new_deadline": "", "extension_reason": ""},
        RectificationStatus.RETURNED,
        "return_to_provider",
    ),
    "withdraw": ("warned", {"reason": "陈述理由成立"}, RectificationStatus.WITHDRAWN, "withdraw"),
}


# --- Rectification actions: the allowed role succeeds, through the service ------------------------------------


@pytest.mark.parametrize("action", list(RECTIFICATION_ACTIONS))
def test_officer_takes_each_rectification_action_through_the_admin(client, action, provider, officer):
    stage, data, target, transition = RECTIFICATION_ACTIONS[action]
    with travel(at(2026, 5, 4)):
        case = _case_in(stage, provider, officer)
        client.force_login(officer)
        page = client.get(_change(case)).content.decode()
        assert f'action="{_act(case, action)}"' in page  # the button is offered
        assert client.get(_act(case, action)).status_code == 200
        response = client.post(_act(case, action), data)
    assert response.status_code == 302, response.content.decode()
    assert response["Location"] == _change(case)
    case.refresh_from_db()
    assert case.status == target
    log = _last_log(case)
    assert (log.transition, log.by, log.state) == (transition, officer, target)


def test_the_order_form_proposes_the_maximum_deadline_and_the_order_gets_a_number(client, provider, officer):
    with travel(at(2026, 5, 4)):
        case = _case_in("warned", provider, officer)
        client.force_login(officer)
        form = client.get(_act(case, "order")).content.decode()
        assert 'value="2026-06-03"' in form  # 30 calendar days after the local date of the order
        response = client.post(_act(case, "order"), {"deadline": "2026-06-03", "extension_reason": ""}, follow=True)
    case.refresh_from_db()
    assert (case.status, case.deadline, case.document_number) == ("rectifying", date(2026, 6, 3), "唐工信〔2026〕1号")
    assert "唐工信〔2026〕1号" in response.content.decode()  # the success message


# --- … and every other role is refused, leaving the case as it was ----------------------------------------------


@pytest.mark.parametrize("role", [Role.APPROVER, Role.COUNTY, Role.AUDITOR, Role.SYSADMIN, Role.ASSESSOR])
@pytest.mark.parametrize("action", list(RECTIFICATION_ACTIONS))
def test_other_staff_roles_are_refused_every_rectification_action(client, action, role, county_provider, officer):
    stage, data, _target, _transition = RECTIFICATION_ACTIONS[action]
    with travel(at(2026, 5, 4)):
        case = _case_in(stage, county_provider, officer)
        before = (case.status, StateLog.objects.for_(case).count())
        client.force_login(_user(role, county_provider))
        if role in (Role.APPROVER, Role.COUNTY, Role.AUDITOR):
            page = client.get(_change(case))
            assert page.status_code == 200
            assert _act(case, action) not in page.content.decode()  # no button
        assert client.get(_act(case, action)).status_code == 403
        assert client.post(_act(case, action), data).status_code == 403
    case.refresh_from_db()
    assert (case.status, StateLog.objects.for_(case).count()) == before


@pytest.mark.parametrize("who", ["anonymous", "provider"])
@pytest.mark.parametrize("action", list(RECTIFICATION_ACTIONS))
def test_anonymous_and_provider_users_are_sent_to_the_admin_login(client, action, who, provider, officer):
    stage, data, _target, _transition = RECTIFICATION_ACTIONS[action]
    with travel(at(2026, 5, 4)):
        case = _case_in(stage, provider, officer)
        if who == "provider":
            client.force_login(_user(Role.PROVIDER, provider))
        for response in (client.get(_act(case, action)), client.post(_act(case, action), data)):
            assert response.status_code == 302
            assert response["Location"].startswith(LOGIN)
    case.refresh_from_db()
    assert case.status == stage


def test_an_action_the_state_no_longer_allows_explains_itself(client, provider, officer):
    """Two officers on one case: the second finds it moved on and is told so, instead of a 403."""
    with travel(at(2026, 5, 4)):
        case = _case_in("warned", provider, officer)
        client.force_login(officer)
        services.rectification_withdraw(case=case, by=UserFactory(role=Role.OFFICER), reason="已撤销")
        response = client.post(_act(case, "order"), {"deadline": "2026-05-20", "extension_reason": ""})
        assert response.status_code == 200
        assert "errornote" in response.content.decode()
        assert client.get(_act(case, "order")).status_code == 302  # back to the case, with a message
    case.refresh_from_db()
    assert case.status == RectificationStatus.WITHDRAWN


def test_unknown_actions_and_the_sweeps_transitions_are_not_reachable(client, provider, officer):
    with travel(at(2026, 5, 4)):
        case = _case_in("rectifying", provider, officer)
        client.force_login(officer)
        for name in ("mark_overdue", "respond", "approve", "nothing"):
            assert client.post(_act(case, name)).status_code == 404
    case.refresh_from_db()
    assert case.status == RectificationStatus.RECTIFYING


# --- Deadlines beyond the policy maximum -------------------------------------------------------------------------


def test_a_deadline_beyond_30_days_needs_the_permission_and_a_reason(client, provider, officer):
    from django.utils.translation import gettext

    with travel(at(2026, 5, 4)):
        case = _case_in("warned", provider, officer)
        client.force_login(officer)
        late = {"deadline": "2026-06-20", "extension_reason": "涉及硬件采购周期"}
        response = client.post(_act(case, "order"), late)
        assert response.status_code == 200
        with translation.override("zh-hans"):
            expected = gettext(
                "A deadline later than %(days)s days after the order needs the permission to extend deadlines."
            ) % {"days": 30}
        assert escape(expected) in response.content.decode()
        case.refresh_from_db()
        assert case.status == RectificationStatus.WARNED

        officer.user_permissions.add(Permission.objects.get(codename="extend_rectification_deadline"))
        officer = type(officer).objects.get(pk=officer.pk)  # drop the permission cache
        client.force_login(officer)
        no_reason = client.post(_act(case, "order"), {"deadline": "2026-06-20", "extension_reason": " "})
        assert no_reason.status_code == 200
        with translation.override("zh-hans"):
            expected = gettext("Give the reason why this case needs more than %(days)s days.") % {"days": 30}
        assert escape(expected) in no_reason.content.decode()

        response = client.post(_act(case, "order"), late)
    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.status, case.deadline, case.extension_reason) == ("rectifying", date(2026, 6, 20), "涉及硬件采购周期")
    assert _last_log(case).by == officer


def test_returning_after_the_deadline_needs_a_new_deadline_within_the_policy(client, provider, officer):
    from django.utils.translation import gettext

    with travel(at(2026, 5, 4)):
        case = _case_in("responded", provider, officer)  # ordered on 4 May: deadline 3 June
    client.force_login(officer)
    with travel(at(2026, 6, 5)):
        response = client.post(_act(case, "return"), {"reason": "仍不完整", "new_deadline": "", "extension_reason": ""})
        assert response.status_code == 200
        html = response.content.decode()
        with translation.override("zh-hans"):
            expected = gettext("The deadline has passed: set a new deadline to give the provider time to rectify.")
        assert escape(expected) in html and html.index(escape(expected)) > html.index("field-new_deadline")

        # Beyond 30 days after the original order: the service's "deadline" error lands on "new deadline".
        later = {"reason": "仍不完整", "new_deadline": "2026-06-20", "extension_reason": ""}
        response = client.post(_act(case, "return"), later)
        assert response.status_code == 200
        html = response.content.decode()
        with translation.override("zh-hans"):
            expected = gettext(
                "A deadline later than %(days)s days after the order needs the permission to extend deadlines."
            ) % {"days": 30}
        assert escape(expected) in html and html.index(escape(expected)) > html.index("field-new_deadline")
        case.refresh_from_db()
        assert (case.status, case.return_count) == ("responded", 0)

        officer.user_permissions.add(Permission.objects.get(codename="extend_rectification_deadline"))
        client.force_login(type(officer).objects.get(pk=officer.pk))
        response = client.post(_act(case, "return"), {**later, "extension_reason": "需重新采购设备"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.status, case.deadline, case.return_count) == ("returned", date(2026, 6, 20), 1)
    assert case.extension_reason == "需重新采购设备"
    assert (_last_log(case).transition, _last_log(case).by) == ("return_to_provider", officer)


# --- The crafted POST of django-fsm's admin (DESIGN.md, "Known traps") ------------------------------------------


@pytest.mark.parametrize(
    ("stage", "transition"),
    [("responded", "verify"), ("draft", "warn"), ("rectifying", "mark_overdue"), ("warned", "withdraw")],
)
def test_a_crafted_fsm_transition_post_to_the_change_view_changes_nothing(
    client, admin_user, stage, transition, provider, officer
):
    with travel(at(2026, 5, 4)):
        case = _case_in(stage, provider, officer)
        before = StateLog.objects.for_(case).count()
        for user in (officer, admin_user):
            client.force_login(user)
            response = client.post(
                _change(case),
                {"_fsm_transition_to": transition, "status": "verified", "finding": "改写", "_save": "1"},
            )
            assert response.status_code == 403
    case.refresh_from_db()
    assert (case.status, case.finding, StateLog.objects.for_(case).count()) == (stage, "采购清单价格虚高", before)


def test_a_crafted_fsm_transition_post_cannot_approve_a_revocation(client, provider, officer, approver):
    proposal = _propose(provider, officer)
    client.force_login(approver)
    with travel(at(2026, 5, 8)):
        response = client.post(_change(proposal), {"_fsm_transition_to": "approve", "decision_number": "X"})
    assert response.status_code == 403
    proposal.refresh_from_db()
    assert (proposal.status, proposal.decision_number) == (RevocationStatus.PROPOSED, None)
    assert not BlacklistEntry.objects.exists()


def test_the_case_page_offers_no_save_or_delete(client, admin_user, provider, officer):
    with travel(at(2026, 5, 4)):
        case = _case_in("warned", provider, officer)
    client.force_login(admin_user)
    html = client.get(_change(case)).content.decode()
    assert 'name="_save"' not in html and 'name="_continue"' not in html
    assert client.get(reverse("admin:evaluations_rectificationcase_delete", args=[case.pk])).status_code == 403
    assert client.post(reverse("admin:evaluations_rectificationcase_delete", args=[case.pk])).status_code == 403
    assert RectificationCase.objects.filter(pk=case.pk).exists()


# --- Opening a case ----------------------------------------------------------------------------------------------


def test_officer_opens_a_case_through_the_service(client, provider, officer):
    contract = ServiceContractFactory(provider=provider, number="C-EVID")
    client.force_login(officer)
    page = client.get(RECT_ADD)
    assert page.status_code == 200
    assert provider.name in page.content.decode()  # a plain list of choices: works without JavaScript
    with travel(at(2026, 5, 4)):
        response = client.post(
            RECT_ADD,
            {"provider": provider.pk, "ground": "2", "finding": "  服务团队未进驻  ", "contract": contract.pk},
        )
    case = RectificationCase.objects.get()
    assert response.status_code == 302 and response["Location"] == _change(case)
    assert (case.status, case.ground, case.finding, case.opened_by) == ("draft", 2, "服务团队未进驻", officer)
    log = _last_log(case)
    assert (log.transition, log.by) == ("create", officer)  # rectification_open wrote it, not save_model
    assert Evidence.objects.get(rectification_case=case).target == contract


def test_a_contract_of_another_provider_is_refused_on_the_form(client, provider, officer):
    client.force_login(officer)
    response = client.post(
        RECT_ADD,
        {"provider": provider.pk, "ground": "2", "finding": "x", "contract": ServiceContractFactory().pk},
    )
    assert response.status_code == 200
    html = response.content.decode()
    expected = _zh(gettext_lazy("This contract is not one of this provider's contracts."))
    assert expected in html and html.index(expected) > html.index("field-contract")
    assert not RectificationCase.objects.exists()


@pytest.mark.parametrize("role", [Role.APPROVER, Role.COUNTY, Role.AUDITOR])
def test_only_officers_open_cases_and_propose_revocations(client, role, provider):
    client.force_login(_user(role, provider) if role != Role.COUNTY else _county_user(County.objects.first()))
    for url in (RECT_ADD, REVO_ADD):
        assert client.get(url).status_code == 403
        assert client.post(url, {"provider": provider.pk, "ground": "5", "finding": "x"}).status_code == 403
    assert not RectificationCase.objects.exists() and not RevocationCase.objects.exists()


# --- County scope and read-only roles ---------------------------------------------------------------------------


def test_county_staff_see_their_countys_cases_and_get_404_for_another(client, officer):
    own, other = County.objects.order_by("code")[:2]
    mine = ProviderFactory(name="本县服务商")
    ServiceContractFactory(provider=mine, enterprise=PilotEnterpriseFactory(county=own))
    theirs = ProviderFactory(name="外县服务商", county=own)  # registered here, but working elsewhere
    ServiceContractFactory(provider=theirs, enterprise=PilotEnterpriseFactory(county=other))
    with travel(at(2026, 5, 4)):
        my_case = warned_case(provider=mine, officer=officer)
        their_case = warned_case(provider=theirs, officer=officer)
        my_proposal = services.revocation_propose(provider=mine, ground=5, finding="虚假交易", by=officer)
        their_proposal = services.revocation_propose(provider=theirs, ground=5, finding="虚假交易", by=officer)
    client.force_login(_county_user(own))

    listing = client.get(RECT_LIST)
    assert [c.pk for c in listing.context["cl"].result_list] == [my_case.pk]
    assert [c.pk for c in client.get(REVO_LIST).context["cl"].result_list] == [my_proposal.pk]
    assert client.get(_change(my_case)).status_code == 200
    for url in (
        _change(their_case),
        _act(their_case, "order"),
        reverse("admin:evaluations_rectificationcase_history", args=[their_case.pk]),
        _change(their_proposal),
        _act(their_proposal, "approve"),
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(_change(their_case), {"_fsm_transition_to": "order"}).status_code == 404
    # The same answer as for a case that does not exist.
    assert client.get(_change(RectificationCase(pk=their_case.pk + 1000))).status_code == 404


def test_auditor_reads_every_case_page_and_is_offered_no_action(client, provider, officer):
    with travel(at(2026, 5, 4)):
        case = _case_in("responded", provider, officer)
        proposal = services.revocation_propose(provider=provider, ground=5, finding="虚假交易", by=officer)
    client.force_login(UserFactory(role=Role.AUDITOR))
    for obj in (case, proposal):
        html = client.get(_change(obj)).content.decode()
        assert "case-action-list" not in html
        assert "case-timeline" in html


# --- List filters -------------------------------------------------------------------------------------------------


@pytest.fixture
def cases_by_deadline(provider, officer):
    """On 1 May: cases ordered with deadlines on 3, 6, 10 and 31 May, a warned case, a verified one."""
    with travel(at(2026, 5, 1)):
        cases = {
            "past": ordered_case(provider=provider, officer=officer, deadline=date(2026, 5, 3)),
            "in2": ordered_case(provider=provider, officer=officer, deadline=date(2026, 5, 6)),
            "in6": ordered_case(provider=provider, officer=officer, deadline=date(2026, 5, 10)),
            "in27": ordered_case(provider=provider, officer=officer, deadline=date(2026, 5, 31)),
            "warned": warned_case(provider=provider, officer=officer),
        }
        closed = ordered_case(provider=provider, officer=officer, deadline=date(2026, 5, 2))
        staff = UserFactory(role=Role.PROVIDER, organisation=provider.organisation)
        services.rectification_respond(case=closed, by=staff, report="已整改")
        cases["verified"] = services.rectification_verify(case=closed, by=officer)
    return cases


def _listed(client, query):
    response = client.get(RECT_LIST + query)
    assert response.status_code == 200
    return {case.pk for case in response.context["cl"].result_list}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?days_left=overdue", {"past"}),
        ("?days_left=3", {"in2"}),
        ("?days_left=7", {"in6"}),
        ("?days_left=later", {"in27"}),
        ("?days_left=none", {"warned"}),
        ("?overdue=yes", {"past"}),
        ("?overdue=no", {"in2", "in6", "in27", "warned", "verified"}),
        ("?status__exact=rectifying", {"past", "in2", "in6", "in27"}),
        ("?ground__exact=2", {"past", "in2", "in6", "in27", "warned", "verified"}),
        ("?ground__exact=5", set()),
    ],
)
def test_list_filters(client, officer, cases_by_deadline, query, expected):
    client.force_login(officer)
    # 4 May, 23:30 in Shanghai (15:30 UTC): days are counted in the local calendar.
    with travel(at(2026, 5, 4, 23, 30)):
        assert _listed(client, query) == {cases_by_deadline[name].pk for name in expected}


def test_marked_overdue_cases_are_in_the_overdue_bucket(client, officer, cases_by_deadline):
    with travel(at(2026, 5, 4)):
        services.deadlines_check()
        client.force_login(officer)
        assert _listed(client, "?days_left=overdue") == {cases_by_deadline["past"].pk}
        assert RectificationCase.objects.get(pk=cases_by_deadline["past"].pk).status == RectificationStatus.OVERDUE


def test_days_left_column_is_red_when_three_or_fewer(client, officer, cases_by_deadline):
    client.force_login(officer)
    with travel(at(2026, 5, 4)):
        html = client.get(RECT_LIST).content.decode()
    assert html.count('class="case-days-urgent"') == 2  # overdue by one day, and 2 days left
    assert "6 days" in html or "6 天" in html


def test_county_filter_uses_the_providers_county_and_its_contracts_counties(client, officer):
    first, second, third = County.objects.order_by("code")[:3]
    registered = ProviderFactory(county=first)
    working = ProviderFactory(county=third)
    ServiceContractFactory(provider=working, enterprise=PilotEnterpriseFactory(county=first))
    ServiceContractFactory(provider=working, enterprise=PilotEnterpriseFactory(county=first))  # no duplicate rows
    elsewhere = ProviderFactory(county=second)
    with travel(at(2026, 5, 4)):
        cases = [warned_case(provider=p, officer=officer) for p in (registered, working, elsewhere)]
    client.force_login(officer)
    response = client.get(RECT_LIST + f"?county={first.pk}")
    assert [c.pk for c in response.context["cl"].result_list] == [cases[1].pk, cases[0].pk]


def test_search_by_provider_name_uscc_and_document_number(client, officer, provider):
    with travel(at(2026, 5, 4)):
        case = ordered_case(provider=provider, officer=officer)
        other = warned_case(provider=ProviderFactory(name="另一家公司"), officer=officer)
    client.force_login(officer)
    for term in ("测评科技", provider.uscc, "唐工信〔2026〕1号"):
        assert _listed(client, f"?q={term}") == {case.pk}
    assert _listed(client, "?q=另一家") == {other.pk}


# --- The case page: ground wording, evidence, attachments, timeline ----------------------------------------------


def test_case_page_shows_wording_statement_report_attachments_evidence_and_timeline(client, provider, officer):
    contract = ServiceContractFactory(provider=provider, number="C-ON-PAGE")
    with travel(at(2026, 5, 1)):
        case = warned_case(provider=provider, officer=officer, contract=contract)
    staff = UserFactory(role=Role.PROVIDER, organisation=provider.organisation)
    with travel(at(2026, 5, 2, 9)):
        services.rectification_reply(case=case, by=staff, statement="我方已补派驻场人员")
    with travel(at(2026, 5, 4, 16, 5)):
        services.rectification_order(case=case, by=officer)
    with travel(at(2026, 5, 20)):
        services.rectification_respond(case=case, by=staff, report="已完成整改并提交驻场记录")
        Attachment.objects.create(
            content_type=ContentType.objects.get_for_model(case),
            object_id=case.pk,
            file="attachments/x",
            original_name="驻场记录.pdf",
            mime_type="application/pdf",
            size=2048,
            sha256="0" * 64,
            uploaded_by=staff,
            uploaded_at=at(2026, 5, 20),
        )
    client.force_login(officer)
    with travel(at(2026, 5, 21)):
        html = client.get(_change(case)).content.decode()
    assert "人员能力不足或团队配置不合理" in html  # the regulation's wording of ground (2)
    assert "我方已补派驻场人员" in html and "已完成整改并提交驻场记录" in html
    assert "驻场记录.pdf" in html and "2.0" in html
    contract_url = reverse("admin:enterprises_servicecontract_change", args=[contract.pk])
    assert f'href="{contract_url}"' in html and "C-ON-PAGE" in html
    # The timeline, oldest first, in local time, with who did it.
    timeline = html[html.index("case-timeline") :]
    steps = [timeline.index(text) for text in ("2026-05-01 10:00", "2026-05-04 16:05", "2026-05-20 10:00")]
    assert steps == sorted(steps)
    assert officer.full_name in timeline and staff.full_name in timeline
    assert "唐工信〔2026〕1号" in timeline  # the order's description
    assert f'action="{_act(case, "verify")}"' in html and f'action="{_act(case, "return")}"' in html
    assert f'action="{_act(case, "order")}"' not in html


def test_the_sweep_shows_in_the_timeline_as_the_system(client, provider, officer):
    with travel(at(2026, 5, 1)):
        case = ordered_case(provider=provider, officer=officer, deadline=date(2026, 5, 3))
    with travel(at(2026, 5, 4, 1)):
        services.deadlines_check()
    client.force_login(officer)
    html = client.get(_change(case)).content.decode()
    timeline = html[html.index("case-timeline") :]
    assert "2026-05-04 01:00" in timeline
    case.refresh_from_db()
    assert case.status == RectificationStatus.OVERDUE
    # An overdue case can only be withdrawn from here; the rule engine takes it further.
    assert f'action="{_act(case, "withdraw")}"' in html and f'action="{_act(case, "verify")}"' not in html


# --- Revocation proposals and decisions ------------------------------------------------------------------------


def _propose(provider, officer, when=None):
    with travel(when or at(2026, 5, 1)):
        return services.revocation_propose(provider=provider, ground=5, finding="伪造服务合同套取资金", by=officer)


def test_officer_proposes_a_revocation_through_the_service(client, provider, officer):
    client.force_login(officer)
    assert client.get(REVO_ADD).status_code == 200
    with travel(at(2026, 5, 1)):
        response = client.post(REVO_ADD, {"provider": provider.pk, "ground": "7", "finding": "虚假宣传"})
    proposal = RevocationCase.objects.get()
    assert response.status_code == 302 and response["Location"] == _change(proposal)
    assert (proposal.status, proposal.ground, proposal.source, proposal.proposed_by) == (
        "proposed",
        7,
        "officer",
        officer,
    )
    assert (_last_log(proposal).transition, _last_log(proposal).by) == ("create", officer)
    # A second open proposal on the same ground: the service's message on the ground field.
    with travel(at(2026, 5, 1)):
        again = client.post(REVO_ADD, {"provider": provider.pk, "ground": "7", "finding": "虚假宣传"})
    assert again.status_code == 200 and "errorlist" in again.content.decode()
    assert RevocationCase.objects.count() == 1


def test_approver_approves_after_the_statement_period(client, provider, officer, approver):
    from django.utils.translation import gettext

    contract = ServiceContractFactory(provider=provider, status="in_progress", advance_payment="50000.00")
    proposal = _propose(provider, officer)
    client.force_login(approver)
    with travel(at(2026, 5, 3)):
        page = client.get(_change(proposal)).content.decode()
        assert f'action="{_act(proposal, "approve")}"' in page
        early = client.post(_act(proposal, "approve"), {"reason": "事实清楚"})
    # The provider may still state its case: the service says so, on the form.
    assert early.status_code == 200
    with translation.override("zh-hans"):
        expected = gettext(
            "The provider may state its case until %(due)s; decide after that or once it has replied."
        ) % {"due": "2026-05-06 10:00"}
    assert escape(expected) in early.content.decode()
    proposal.refresh_from_db()
    assert proposal.status == RevocationStatus.PROPOSED

    with travel(at(2026, 5, 7)):
        response = client.post(_act(proposal, "approve"), {"reason": "事实清楚，证据充分"})
    assert response.status_code == 302, response.content.decode()
    proposal.refresh_from_db()
    log = _last_log(proposal)
    assert proposal.status == RevocationStatus.APPROVED
    assert (log.transition, log.by, log.state) == ("approve", approver, "approved")
    entry = BlacklistEntry.objects.get(revocation=proposal)
    assert entry.decision_number == proposal.decision_number
    assert FeeConsequence.objects.get(contract=contract).advance_recoverable == 50000
    html = client.get(_change(proposal)).content.decode()
    assert reverse("admin:evaluations_blacklistentry_change", args=[entry.pk]) in html
    assert "case-action-list" not in html  # decided: nothing left to do


def test_approver_dismisses_a_proposal(client, provider, officer, approver):
    """Dismissal favours the provider, so the service does not make it wait for the statement period."""
    proposal = _propose(provider, officer)
    client.force_login(approver)
    with travel(at(2026, 5, 3)):
        assert client.get(_act(proposal, "dismiss")).status_code == 200
        response = client.post(_act(proposal, "dismiss"), {"reason": "证据不足"})
    assert response.status_code == 302
    proposal.refresh_from_db()
    log = _last_log(proposal)
    assert (proposal.status, proposal.decision_reason) == (RevocationStatus.DISMISSED, "证据不足")
    assert (log.transition, log.by, log.state) == ("dismiss", approver, "dismissed")
    assert not BlacklistEntry.objects.exists()


def test_an_approval_after_the_providers_statement_need_not_wait(client, provider, provider_user, officer, approver):
    proposal = _propose(provider, officer)
    with travel(at(2026, 5, 2)):
        services.revocation_state_case(revocation=proposal, by=provider_user, statement="合同真实有效")
        client.force_login(approver)
        html = client.get(_change(proposal)).content.decode()
        assert "合同真实有效" in html
        assert client.post(_act(proposal, "approve"), {"reason": "陈述不成立"}).status_code == 302
    proposal.refresh_from_db()
    assert proposal.status == RevocationStatus.APPROVED


@pytest.mark.parametrize("who", ["officer", "proposer", Role.COUNTY, Role.AUDITOR, Role.SYSADMIN])
@pytest.mark.parametrize("action", ["approve", "dismiss"])
def test_only_an_approver_who_did_not_propose_decides(client, action, who, county_provider, officer):
    if who == "proposer":
        # An officer who is also an approver still may not decide what they proposed.
        officer.groups.add(*UserFactory(role=Role.APPROVER).groups.all())
        officer = type(officer).objects.get(pk=officer.pk)
    proposal = _propose(county_provider, officer)
    user = officer if who in ("officer", "proposer") else _user(who, county_provider)
    client.force_login(user)
    with travel(at(2026, 5, 8)):
        if who != Role.SYSADMIN:
            assert _act(proposal, action) not in client.get(_change(proposal)).content.decode()
        assert client.get(_act(proposal, action)).status_code == 403
        assert client.post(_act(proposal, action), {"reason": "理由"}).status_code == 403
    proposal.refresh_from_db()
    assert proposal.status == RevocationStatus.PROPOSED
    assert StateLog.objects.for_(proposal).count() == 1


@pytest.mark.parametrize("who", ["anonymous", "provider"])
def test_anonymous_and_provider_users_cannot_decide(client, who, provider, officer):
    proposal = _propose(provider, officer)
    if who == "provider":
        client.force_login(_user(Role.PROVIDER, provider))
    with travel(at(2026, 5, 8)):
        response = client.post(_act(proposal, "approve"), {"reason": "理由"})
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)
    proposal.refresh_from_db()
    assert proposal.status == RevocationStatus.PROPOSED


def test_the_second_of_two_approvers_is_told_the_proposal_was_already_decided(client, provider, officer, approver):
    from django.utils.translation import gettext

    second = UserFactory(role=Role.APPROVER)
    proposal = _propose(provider, officer)
    with travel(at(2026, 5, 8)):
        client.force_login(second)
        assert client.get(_act(proposal, "dismiss")).status_code == 200  # the second approver opens the form …
        services.revocation_approve(revocation=proposal, by=approver, reason="事实清楚")  # … the first decides
        response = client.post(_act(proposal, "dismiss"), {"reason": "证据不足"})
    assert response.status_code == 200
    with translation.override("zh-hans"):
        label = RevocationStatus.APPROVED.label
        expected = gettext("This proposal was already %(status)s by another approver.") % {"status": str(label)}
    assert escape(expected) in response.content.decode()
    proposal.refresh_from_db()
    assert (proposal.status, proposal.decided_by) == (RevocationStatus.APPROVED, approver)


def test_the_revocation_page_shows_evidence_and_the_engines_proposal(client, provider, officer, approver):
    with travel(at(2026, 5, 1)):
        for _n in range(3):
            ordered_case(provider=provider, officer=officer)
        proposals = services.engine_run()
    assert len(proposals) == 1
    proposal = proposals[0]
    client.force_login(approver)
    html = client.get(_change(proposal)).content.decode()
    assert "限期整改超过 2 次或限期拒不进行整改" in html
    for case in RectificationCase.objects.all():
        assert f'href="{_change(case)}"' in html
    listing = client.get(REVO_LIST + "?source__exact=engine")
    assert [p.pk for p in listing.context["cl"].result_list] == [proposal.pk]


# --- Blacklist, ratings, contracts: read-only lists --------------------------------------------------------------


def test_blacklist_and_ratings_are_read_only_for_everyone(client, admin_user, provider, officer, approver):
    proposal = _propose(provider, officer)
    with travel(at(2026, 5, 8)):
        services.revocation_approve(revocation=proposal, by=approver, reason="事实清楚")
    entry = BlacklistEntry.objects.get()
    contract = ServiceContractFactory(provider=ProviderFactory(), number="C-RATED")
    rating = SatisfactionRating.objects.create(
        contract=contract, stage="验收", overall="dissatisfied", submitted_by=officer, submitted_at=at(2026, 5, 1)
    )
    for user in (officer, admin_user):
        client.force_login(user)
        listing = client.get(reverse("admin:evaluations_blacklistentry_changelist")).content.decode()
        assert entry.decision_number in listing and provider.uscc in listing
        assert "C-RATED" in client.get(reverse("admin:evaluations_satisfactionrating_changelist")).content.decode()
        assert client.get(reverse("admin:evaluations_blacklistentry_add")).status_code == 403
        assert client.get(reverse("admin:evaluations_satisfactionrating_add")).status_code == 403
        for name, obj in (("blacklistentry", entry), ("satisfactionrating", rating)):
            change = reverse(f"admin:evaluations_{name}_change", args=[obj.pk])
            assert client.get(change).status_code == 200
            assert client.post(change, {"status": "removed"}).status_code == 403
            assert client.post(reverse(f"admin:evaluations_{name}_delete", args=[obj.pk])).status_code == 403
        assert client.get(reverse("admin:evaluations_revocationcase_delete", args=[proposal.pk])).status_code == 403
    entry.refresh_from_db()
    assert entry.status == BlacklistEntry.Status.PUBLISHED


def test_contract_page_shows_milestones_and_fee_consequences(client, provider, officer, approver):
    contract = ServiceContractFactory(provider=provider, status="in_progress", advance_payment="30000.00")
    Milestone.objects.create(contract=contract, name="设备联网", planned_on=date(2026, 6, 1), weight=60)
    proposal = _propose(provider, officer)
    with travel(at(2026, 5, 8)):
        proposal = services.revocation_approve(revocation=proposal, by=approver, reason="事实清楚")
    client.force_login(officer)
    html = client.get(reverse("admin:enterprises_servicecontract_change", args=[contract.pk])).content.decode()
    assert "设备联网" in html and "field-planned_on" in html
    assert proposal.decision_number in html and "30000" in html.replace(",", "")
    assert 'name="fee_consequences-0-DELETE"' not in html and 'name="milestones-0-DELETE"' not in html


def test_days_left_bucket_boundaries_follow_the_local_calendar(client, officer, provider):
    """At 23:30 on 4 May in Shanghai it is still 4 May there (15:30 UTC): a deadline of 7 May is 3 days away."""
    with travel(at(2026, 5, 1)):
        case = ordered_case(provider=provider, officer=officer, deadline=date(2026, 5, 7))
    client.force_login(officer)
    with travel(at(2026, 5, 4, 23, 30)):
        assert _listed(client, "?days_left=3") == {case.pk}
    with travel(at(2026, 5, 3, 0, 30)):  # 2 May in UTC, 3 May here: 4 days away
        assert _listed(client, "?days_left=7") == {case.pk}
    assert case.deadline - timedelta(days=3) == date(2026, 5, 4)


def test_case_lists_query_count_does_not_grow_with_rows(client, officer, django_assert_max_num_queries):
    def make(n):
        with travel(at(2026, 5, 4)):
            for _i in range(n):
                provider = ProviderFactory()
                ordered_case(provider=provider, officer=officer)
                services.revocation_propose(provider=provider, ground=5, finding="虚假交易", by=officer)

    client.force_login(officer)
    make(2)
    with django_assert_max_num_queries(30) as few:
        client.get(RECT_LIST)
        client.get(REVO_LIST)
    make(20)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(RECT_LIST)
        client.get(REVO_LIST)


def test_the_ratings_list_shows_the_per_provider_summary(client, provider):
    from evaluations.models import SatisfactionRating

    contract = ServiceContractFactory(provider=provider)
    SatisfactionRating.objects.create(
        contract=contract, stage="一", overall="dissatisfied", submitted_by=UserFactory(), submitted_at=at(2026, 5, 1)
    )
    client.force_login(UserFactory(role=Role.APPROVER))
    html = client.get(reverse("admin:evaluations_satisfactionrating_changelist")).content.decode()
    assert 'id="satisfaction-summary-heading"' in html and provider.name in html
