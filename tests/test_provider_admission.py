"""Admission to the resource pool (Art 2): the public application, screening against revoked and blacklisted
providers, the public notice on working days, admission, rejection, withdrawal, the daily sweep, the
applicant's pages and the officer's admin."""

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from evaluations.models import BlacklistEntry
from providers import services, tasks
from providers.models import ApplicationStatus, Provider, ProviderApplication, ProviderStatus, ProviderType
from tangshan_portal.models import Attachment, County, Notification, Organisation, Scenario, ScenarioFamily
from tangshan_portal.roles import Role
from tangshan_portal.services import attachments_of
from tangshan_portal.transitions import TransitionError
from tests.enforcement import at, travel
from tests.factories import PilotEnterpriseFactory, ProviderFactory, UserFactory
from tests.factories_providers import PASSWORD, blacklist, company_data, pdf, submit_application

pytestmark = pytest.mark.django_db

APPLY = reverse("public:apply")
STATUS = reverse("provider:application_status")
NOTICES = reverse("public:admission_notices")
User = get_user_model()


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def _html(response):
    return response.content.decode()


def _main(response):
    """The page's own content, without the site navigation (which links to the public blacklist)."""
    html = _html(response)
    return html[html.index('<main id="main"') : html.index("</main>")]


def _scenarios(n=2):
    return list(Scenario.objects.order_by("sort_order", "code")[:n])


def _form_data(**overrides):
    company = company_data()
    data = {
        "username": "zhizao_admin",
        "password1": PASSWORD,
        "password2": PASSWORD,
        "full_name": "李明",
        "phone": "13800000000",
        "email": "liming@example.com",
        **{key: "" if value is None else str(value) for key, value in company.items()},
        "scenarios": [scenario.pk for scenario in _scenarios()],
        "declaration": "on",
        "attachments": [pdf()],
    }
    data.update(overrides)
    return data


def _in_notice(application, officer, moment=None):
    with travel(moment or at(2026, 3, 2)):
        return services.application_start_notice(application=application, by=officer, opinion="资质齐全，同意公示")


def _county_user():
    county = County.objects.order_by("code").first()
    org = Organisation.objects.create(name="路南区工业和信息化局", kind=Organisation.Kind.COUNTY_BUREAU, county=county)
    return UserFactory(role=Role.COUNTY, organisation=org)


# --- The public application form --------------------------------------------------------------------------------


def test_the_form_is_public_and_groups_the_scenarios_by_the_article_5_families(client):
    response = client.get(APPLY)
    assert response.status_code == 200
    html = _html(response)
    for family in ScenarioFamily:
        assert f"<legend>{family.label}</legend>" in html
    for name in ("username", "password1", "password2", "uscc", "legal_representative", "attachments", "declaration"):
        assert f'name="{name}"' in html
    assert 'enctype="multipart/form-data"' in html
    assert "已经或计划与试点企业开展相关数字化改造" in html  # Art 2 in the regulation's words


def test_a_valid_application_creates_the_account_organisation_and_application_and_logs_in(client):
    scenarios = _scenarios(3)
    data = _form_data(scenarios=[s.pk for s in scenarios], uscc="９１４４０３００１９２２０３８２１６")
    response = client.post(APPLY, data)
    assert response.status_code == 302
    assert response["Location"] == STATUS

    application = ProviderApplication.objects.get()
    assert application.status == ApplicationStatus.SUBMITTED
    assert application.uscc == "914403001922038216"  # full-width input normalised
    assert set(application.scenarios.all()) == set(scenarios)
    assert application.flagged is False and application.screening == []
    user = application.applicant
    assert user.username == "zhizao_admin" and user.check_password(PASSWORD)
    assert (user.full_name, user.phone, user.email) == ("李明", "13800000000", "liming@example.com")
    assert user.has_role(Role.PROVIDER) and not user.is_staff
    assert application.organisation.kind == Organisation.Kind.PROVIDER
    assert user.organisation == application.organisation
    assert [a.original_name for a in attachments_of(application)] == ["营业执照.pdf"]
    assert not Provider.objects.exists()  # no provider row before admission
    assert Notification.objects.filter(kind="application_submitted", recipient_role=Role.OFFICER.value).exists()

    # Logged in as the applicant, who sees the status page.
    page = client.get(STATUS)
    assert page.status_code == 200
    assert "唐山智造数字科技有限公司" in _html(page)


def test_a_bad_attachment_saves_nothing_and_is_reported_next_to_the_field(client):
    fake = SimpleUploadedFile("营业执照.pdf", b"MZ\x90\x00 not a pdf at all", "application/pdf")
    response = client.post(APPLY, _form_data(attachments=[fake]))
    assert response.status_code == 200
    html = _html(response)
    assert "不是PDF、PNG或JPEG图片" in html
    assert 'id="id_attachments_error"' in html
    assert not User.objects.filter(username="zhizao_admin").exists()
    assert not Organisation.objects.filter(kind=Organisation.Kind.PROVIDER).exists()
    assert not ProviderApplication.objects.exists()
    assert not Attachment.objects.exists()
    assert "_auth_user_id" not in client.session


def test_missing_fields_and_a_bad_uscc_give_chinese_errors_and_save_nothing(client):
    data = _form_data(uscc="91350100M000100Y4Z", name="", declaration="", attachments=[], scenarios=[])
    response = client.post(APPLY, data)
    assert response.status_code == 200
    html = _html(response)
    assert "不是有效的统一社会信用代码" in html
    assert html.count("这个字段是必填项。") >= 4  # name, declaration, attachments, scenarios
    assert 'id="id_uscc_error"' in html and 'id="id_declaration_error"' in html
    assert not ProviderApplication.objects.exists()
    assert not User.objects.filter(username="zhizao_admin").exists()


def test_passwords_are_checked_with_the_django_validators(client):
    response = client.post(APPLY, _form_data(password1="abc", password2="abd"))
    assert "输入的两个密码不一致。" in _html(response)
    response = client.post(APPLY, _form_data(password1="12345678", password2="12345678"))
    html = _html(response)
    assert "这个密码太常见了。" in html and 'id="id_password2_error"' in html
    assert not User.objects.filter(username="zhizao_admin").exists()


def test_a_taken_username_and_an_open_application_for_the_same_uscc_are_refused(client):
    UserFactory(username="zhizao_admin")
    response = client.post(APPLY, _form_data())
    assert 'id="id_username_error"' in _html(response)

    first = submit_application()
    response = client.post(APPLY, _form_data(username="another", uscc=first.uscc))
    assert response.status_code == 200
    assert 'id="id_uscc_error"' in _html(response)
    assert ProviderApplication.objects.count() == 1
    assert not User.objects.filter(username="another").exists()


def test_a_logged_in_user_gets_a_note_instead_of_the_form(client, provider_user):
    client.force_login(provider_user)
    response = client.get(APPLY)
    assert response.status_code == 200
    assert 'name="password1"' not in _html(response)
    response = client.post(APPLY, _form_data())
    assert 'name="password1"' not in _html(response)
    assert not ProviderApplication.objects.exists()


# --- Screening against revoked and blacklisted providers ----------------------------------------------------


def test_an_application_is_flagged_when_its_uscc_is_that_of_a_revoked_provider():
    revoked = ProviderFactory(status=ProviderStatus.REVOKED, name="唐山失信科技有限公司", legal_representative="赵四")
    application = submit_application(uscc=revoked.uscc, legal_representative="钱五")
    assert application.flagged is True
    assert application.screening == [
        {
            "provider_id": revoked.pk,
            "name": "唐山失信科技有限公司",
            "uscc": revoked.uscc,
            "legal_representative": "赵四",
            "status": ProviderStatus.REVOKED,
            "matched_on": ["uscc"],
        }
    ]


def test_an_application_is_flagged_when_its_legal_representative_heads_a_blacklisted_provider():
    # Withdrawn, not revoked: only the published blacklist entry makes the match.
    listed = ProviderFactory(status=ProviderStatus.WITHDRAWN, legal_representative="孙六")
    blacklist(listed)
    application = submit_application(legal_representative=" 孙六 ")
    assert application.flagged is True
    assert [(m["provider_id"], m["matched_on"]) for m in application.screening] == [
        (listed.pk, ["legal_representative"])
    ]


def test_an_application_is_not_flagged_by_providers_in_good_standing_or_a_removed_entry():
    ProviderFactory(status=ProviderStatus.IN_POOL, legal_representative="李明")
    cleared = ProviderFactory(status=ProviderStatus.IN_POOL, legal_representative="李明")
    blacklist(cleared, status=BlacklistEntry.Status.REMOVED)  # an upheld appeal took it down
    application = submit_application(legal_representative="李明")
    assert application.flagged is False
    assert application.screening == []


def test_the_screening_is_not_shown_to_the_applicant(client):
    revoked = ProviderFactory(status=ProviderStatus.REVOKED, name="唐山失信科技有限公司")
    application = submit_application(uscc=revoked.uscc)
    assert application.flagged
    client.force_login(application.applicant)
    html = _main(client.get(STATUS))
    assert application.name in html
    assert "唐山失信科技有限公司" not in html and revoked.uscc in html  # its own code, nothing about the match
    assert "撤销" not in html and "黑名单" not in html and "revoked" not in html.lower()
    assert "screening" not in html.lower() and "筛查" not in html


# --- Public notice, admission, rejection --------------------------------------------------------------------


def test_start_notice_sets_the_notice_period_in_working_days(officer, settings):
    settings.ADMISSION_NOTICE_WORKING_DAYS = 5
    plain = _in_notice(submit_application(), officer, at(2026, 3, 2))  # a Monday
    assert plain.status == ApplicationStatus.IN_NOTICE
    assert (plain.notice_starts_on, plain.notice_ends_on) == (date(2026, 3, 2), date(2026, 3, 9))
    assert (plain.reviewed_by, plain.review_opinion) == (officer, "资质齐全，同意公示")

    # Wednesday 30 September 2026: National Day holidays, then the make-up Saturday 10 October.
    holiday = _in_notice(submit_application(), officer, at(2026, 9, 30))
    assert (holiday.notice_starts_on, holiday.notice_ends_on) == (date(2026, 9, 30), date(2026, 10, 13))
    assert Notification.objects.filter(
        kind="application_notice_started", recipient_organisation=holiday.organisation
    ).exists()


def test_start_notice_needs_an_opinion_and_the_reviewer_permission(officer, approver):
    application = submit_application()
    with pytest.raises(TransitionError):
        services.application_start_notice(application=application, by=officer, opinion="  ")
    for user in (approver, _county_user(), application.applicant):
        with pytest.raises(PermissionDenied):
            services.application_start_notice(application=application, by=user, opinion="同意")
    application.refresh_from_db()
    assert application.status == ApplicationStatus.SUBMITTED


def test_admission_is_refused_during_the_notice_and_works_after_it(officer):
    scenarios = _scenarios(3)
    county = County.objects.order_by("code").first()
    application = submit_application(scenarios=scenarios, county=county, provider_type=ProviderType.PRODUCT)
    _in_notice(application, officer, at(2026, 3, 2))  # notice until Monday 9 March

    with travel(at(2026, 3, 9, 23, 30)), pytest.raises(TransitionError, match="2026-03-09"):
        services.application_admit(application=application, by=officer)
    assert not Provider.objects.exists()

    with travel(at(2026, 3, 10, 9)):
        services.application_admit(application=application, by=officer)
    application.refresh_from_db()
    provider = application.provider
    assert application.status == ApplicationStatus.ADMITTED and application.decided_at is not None
    assert provider.status == ProviderStatus.IN_POOL
    assert provider.organisation == application.organisation
    assert (provider.uscc, provider.name, provider.county, provider.provider_type) == (
        application.uscc,
        application.name,
        county,
        ProviderType.PRODUCT,
    )
    assert provider.registered_capital == Decimal("1000.00")
    assert set(provider.scenarios.all()) == set(scenarios)
    assert Notification.objects.filter(kind="application_admitted", recipient_organisation=provider.organisation)


def test_the_admitted_applicant_reaches_the_provider_pages(client, officer):
    application = submit_application()
    client.force_login(application.applicant)
    assert client.get(reverse("provider:home"))["Location"] == STATUS
    _in_notice(application, officer, at(2026, 3, 2))
    with travel(at(2026, 3, 10)):
        services.application_admit(application=application, by=officer)
    assert client.get(reverse("provider:home")).status_code == 200
    assert client.get(STATUS).status_code == 200  # its history stays readable


def test_a_withdrawn_provider_that_applies_again_is_readmitted_as_the_same_row(officer):
    old = ProviderFactory(status=ProviderStatus.WITHDRAWN, name="唐山旧名科技有限公司")
    old_organisation = old.organisation
    application = submit_application(uscc=old.uscc, name="唐山新名科技有限公司")
    assert not application.flagged
    _in_notice(application, officer, at(2026, 3, 2))
    with travel(at(2026, 3, 10)):
        services.application_admit(application=application, by=officer)
    old.refresh_from_db()
    assert Provider.objects.count() == 1
    assert application.__class__.objects.get().provider == old
    assert old.status == ProviderStatus.IN_POOL
    assert old.name == "唐山新名科技有限公司"
    assert old.organisation == application.organisation != old_organisation


def test_a_revoked_provider_cannot_be_admitted_through_an_application(officer):
    revoked = ProviderFactory(status=ProviderStatus.REVOKED)
    application = submit_application(uscc=revoked.uscc)
    _in_notice(application, officer, at(2026, 3, 2))
    with travel(at(2026, 3, 10)), pytest.raises(TransitionError, match="申诉"):
        services.application_admit(application=application, by=officer)
    revoked.refresh_from_db()
    application.refresh_from_db()
    assert revoked.status == ProviderStatus.REVOKED
    assert application.status == ApplicationStatus.IN_NOTICE and application.provider is None


def test_a_provider_in_the_pool_cannot_apply_again():
    member = ProviderFactory(status=ProviderStatus.IN_POOL)
    with pytest.raises(ValidationError) as info:
        submit_application(uscc=member.uscc)
    assert "uscc" in info.value.message_dict


def test_rejection_needs_a_reason_and_tells_the_applicant(client, officer):
    application = submit_application()
    with pytest.raises(TransitionError):
        services.application_reject(application=application, by=officer, reason=" ")
    services.application_reject(application=application, by=officer, reason="参考案例无法核实")
    application.refresh_from_db()
    assert application.status == ApplicationStatus.REJECTED
    assert application.decision_reason == "参考案例无法核实"
    assert Notification.objects.filter(kind="application_rejected", recipient_organisation=application.organisation)
    client.force_login(application.applicant)
    html = _html(client.get(STATUS))
    assert "参考案例无法核实" in html
    assert "application_withdraw" not in html and "/withdraw/" not in html


# --- The applicant withdraws ---------------------------------------------------------------------------------


def test_the_applicant_withdraws_an_open_application(client, officer):
    application = submit_application()
    client.force_login(application.applicant)
    assert "/withdraw/" in _html(client.get(STATUS))
    url = reverse("provider:application_withdraw", args=[application.pk])
    assert client.get(url).status_code == 405
    response = client.post(url, {"reason": "公司业务调整"})
    assert response.status_code == 302 and response["Location"] == STATUS
    application.refresh_from_db()
    assert application.status == ApplicationStatus.WITHDRAWN
    assert application.decision_reason == "公司业务调整"
    # Decided: withdrawing again is refused with a message, nothing changes.
    response = client.post(url, {"reason": ""}, follow=True)
    assert 'class="message message-error"' in _html(response)
    application.refresh_from_db()
    assert application.status == ApplicationStatus.WITHDRAWN


def test_another_applicants_application_answers_404(client):
    mine = submit_application()
    theirs = submit_application()
    client.force_login(mine.applicant)
    url = reverse("provider:application_withdraw", args=[theirs.pk])
    assert client.post(url).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == ApplicationStatus.SUBMITTED
    attachment = attachments_of(theirs).get()
    assert client.get(reverse("provider:application_attachment", args=[theirs.pk, attachment.pk])).status_code == 404
    own = attachments_of(mine).get()
    response = client.get(reverse("provider:application_attachment", args=[mine.pk, own.pk]))
    assert response.status_code == 200
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("attachment")


# --- The daily sweep ---------------------------------------------------------------------------------------


def test_the_beat_task_admits_only_the_applications_whose_notice_is_over(officer):
    due = _in_notice(submit_application(), officer, at(2026, 3, 2))  # ends 9 March
    later = _in_notice(submit_application(), officer, at(2026, 3, 5))  # ends 12 March
    waiting = submit_application()  # never reviewed
    revoked = ProviderFactory(status=ProviderStatus.REVOKED)
    blocked = _in_notice(submit_application(uscc=revoked.uscc), officer, at(2026, 3, 2))

    with travel(at(2026, 3, 10, 1)):
        result = tasks.admit_after_notice.apply().get()
    assert result == 1
    for application in (due, later, waiting, blocked):
        application.refresh_from_db()
    assert due.status == ApplicationStatus.ADMITTED and due.provider.status == ProviderStatus.IN_POOL
    assert later.status == ApplicationStatus.IN_NOTICE
    assert waiting.status == ApplicationStatus.SUBMITTED
    assert blocked.status == ApplicationStatus.IN_NOTICE  # the revoked provider's code: the officer decides

    with travel(at(2026, 3, 13, 1)):
        assert tasks.admit_after_notice.apply().get() == 1
    later.refresh_from_db()
    assert later.status == ApplicationStatus.ADMITTED


# --- Access to the applicant's page ----------------------------------------------------------------------------


def test_access_to_the_application_page(client, provider_user):
    application = submit_application()
    withdraw = reverse("provider:application_withdraw", args=[application.pk])
    attachment = reverse("provider:application_attachment", args=[application.pk, attachments_of(application).get().pk])
    for response in (client.get(STATUS), client.post(withdraw), client.get(attachment)):
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))

    enterprise = PilotEnterpriseFactory()
    client.force_login(UserFactory(role=Role.ENTERPRISE, organisation=enterprise.organisation))
    assert client.get(STATUS).status_code == 403
    assert client.post(withdraw).status_code == 403
    assert client.get(attachment).status_code == 403
    assert client.get(reverse("provider:home")).status_code == 403
    application.refresh_from_db()
    assert application.status == ApplicationStatus.SUBMITTED

    # A provider's staff (admitted before applications existed) see an empty page, not an error.
    client.force_login(provider_user)
    response = client.get(STATUS)
    assert response.status_code == 200
    assert '<p class="empty">' in _html(response)


def test_an_applicant_is_sent_from_the_other_provider_pages_to_its_status_page(client):
    application = submit_application()
    client.force_login(application.applicant)
    for name in ("provider:home", "provider:case_list", "provider:registration_list", "provider:product_list"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and response["Location"] == STATUS, name


# --- The public notices page --------------------------------------------------------------------------------


def test_the_notices_page_lists_applications_in_notice_without_personal_data(client, officer, settings):
    shown = submit_application(name="唐山公示科技有限公司", legal_representative="周七", contact_phone="13912345678")
    _in_notice(shown, officer, at(2026, 3, 2))
    submit_application(name="唐山待审科技有限公司")
    with travel(at(2026, 3, 3)):
        response = client.get(NOTICES)
    assert response.status_code == 200
    html = _html(response)
    assert "唐山公示科技有限公司" in html and shown.uscc in html
    assert "2026-03-02" in html and "2026-03-09" in html
    for scenario in shown.scenarios.all():
        assert scenario.name in html
    assert "唐山待审科技有限公司" not in html
    assert settings.PORTAL_AUTHORITY_NAME in html
    for personal in ("周七", "13912345678", "contact@example.com", "李明", shown.applicant.username):
        assert personal not in html


# --- The officer's admin ------------------------------------------------------------------------------------


def _act(application, action):
    return reverse("admin:providers_providerapplication_act", args=[application.pk, action])


def _change(application):
    return reverse("admin:providers_providerapplication_change", args=[application.pk])


def test_the_admin_list_flags_and_filters_applications_matching_revoked_providers(client, officer):
    revoked = ProviderFactory(status=ProviderStatus.REVOKED)
    flagged = submit_application(uscc=revoked.uscc, name="唐山命中科技有限公司")
    submit_application(name="唐山清白科技有限公司")
    client.force_login(officer)
    url = reverse("admin:providers_providerapplication_changelist")
    html = _html(client.get(url))
    assert html.count('<strong class="case-days-urgent">') == 1
    filtered = _html(client.get(url, {"flagged": "yes"}))
    assert "唐山命中科技有限公司" in filtered and "唐山清白科技有限公司" not in filtered

    page = _html(client.get(_change(flagged)))
    assert reverse("admin:providers_provider_change", args=[revoked.pk]) in page
    attachment = attachments_of(flagged).get()
    attachment_url = reverse("admin:providers_providerapplication_attachment", args=[flagged.pk, attachment.pk])
    assert attachment_url in page
    download = client.get(attachment_url)
    assert download.status_code == 200 and download["X-Content-Type-Options"] == "nosniff"


def test_the_officer_runs_an_application_through_the_admin_actions(client, officer):
    application = submit_application()
    client.force_login(officer)
    page = _html(client.get(_change(application)))
    assert _act(application, "start_notice") in page and _act(application, "reject") in page
    assert _act(application, "admit") not in page

    with travel(at(2026, 3, 2)):
        response = client.post(_act(application, "start_notice"), {"opinion": ""})
        assert response.status_code == 200  # the opinion is required
        response = client.post(_act(application, "start_notice"), {"opinion": "资质齐全"})
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == ApplicationStatus.IN_NOTICE

    with travel(at(2026, 3, 5)):
        response = client.post(_act(application, "admit"), {"reason": ""})
    assert response.status_code == 200
    assert "2026-03-09" in _html(response)  # the service's refusal, shown on the form
    application.refresh_from_db()
    assert application.status == ApplicationStatus.IN_NOTICE

    with travel(at(2026, 3, 10)):
        response = client.post(_act(application, "admit"), {"reason": ""})
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == ApplicationStatus.ADMITTED


def test_rejecting_in_the_admin_needs_a_reason(client, officer):
    application = submit_application()
    client.force_login(officer)
    assert client.post(_act(application, "reject"), {"reason": ""}).status_code == 200
    application.refresh_from_db()
    assert application.status == ApplicationStatus.SUBMITTED
    assert client.post(_act(application, "reject"), {"reason": "材料不实"}).status_code == 302
    application.refresh_from_db()
    assert (application.status, application.decision_reason) == (ApplicationStatus.REJECTED, "材料不实")


@pytest.mark.parametrize("role", [Role.COUNTY, Role.APPROVER, Role.ASSESSOR, Role.AUDITOR])
def test_only_officers_act_on_applications(client, role):
    application = submit_application()
    user = _county_user() if role == Role.COUNTY else UserFactory(role=role)
    client.force_login(user)
    for action in ("start_notice", "reject", "admit"):
        assert client.get(_act(application, action)).status_code == 403
        assert client.post(_act(application, action), {"opinion": "同意", "reason": "不同意"}).status_code == 403
    # County bureaus have no part in admission and do not read the files (roles.PROVIDER_FILES_READ).
    expected_view = 403 if role in (Role.ASSESSOR, Role.COUNTY) else 200
    assert client.get(_change(application)).status_code == expected_view
    application.refresh_from_db()
    assert application.status == ApplicationStatus.SUBMITTED


def test_a_post_to_the_application_change_view_is_forbidden(client, officer):
    application = submit_application()
    client.force_login(officer)
    response = client.post(_change(application), {"_fsm_transition_to": "start_notice", "name": "改名"})
    assert response.status_code == 403
    application.refresh_from_db()
    assert (application.status, application.name) == (ApplicationStatus.SUBMITTED, "唐山智造数字科技有限公司")
    assert client.get(reverse("admin:providers_providerapplication_add")).status_code == 403


def test_an_application_page_needs_a_provider_organisation(client):
    application = submit_application()
    application.organisation.kind = Organisation.Kind.ENTERPRISE
    application.organisation.save()
    client.force_login(application.applicant)
    assert client.get(STATUS).status_code == 403
