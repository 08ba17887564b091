"""Registration changes (Art 12(1)): the provider reports, the officer acknowledges, staff record registry
changes, and registry changes the provider did not report in time are flagged as a possible ground."""

from datetime import date, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from providers import services
from providers.models import RegistrationChange
from providers.selectors import registration_changes_unreported
from tangshan_portal.grounds import ART12_WORDING
from tangshan_portal.models import Attachment, County, Notification, Organisation
from tangshan_portal.roles import Role
from tangshan_portal.services import attachments_of
from tests.enforcement import SHANGHAI, at, travel
from tests.factories import PilotEnterpriseFactory, ProviderFactory, UserFactory
from tests.factories_providers import RegistrationChangeFactory, pdf, submit_application

pytestmark = pytest.mark.django_db

LIST = reverse("provider:registration_list")
NEW = reverse("provider:registration_new")
REGISTRY = RegistrationChange.Source.REGISTRY
PROVIDER = RegistrationChange.Source.PROVIDER
CHANGED_ON = date(2026, 3, 2)  # the registry date of the constructed change; reporting period ends 1 April


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.REGISTRATION_CHANGE_REPORT_DAYS = 30
    return settings.MEDIA_ROOT


def _html(response):
    return response.content.decode()


def _county_user():
    county = County.objects.order_by("code").first()
    org = Organisation.objects.create(name="路北区工业和信息化局", kind=Organisation.Kind.COUNTY_BUREAU, county=county)
    return UserFactory(role=Role.COUNTY, organisation=org)


def _report(client, **overrides):
    data = {
        "field": "address",
        "new_value": "唐山市路南区新华道88号",
        "changed_on": "2026-03-02",
        "explanation": "公司搬迁",
        "evidence": [pdf("新营业执照.pdf")],
    }
    data.update(overrides)
    return client.post(NEW, data)


# --- The provider reports, the officer acknowledges ------------------------------------------------------------


def test_a_reported_change_waits_for_acknowledgement_then_updates_the_provider_and_keeps_history(
    client, provider, provider_user, officer
):
    provider.address = "唐山市路北区建设北路1号"
    provider.save()
    client.force_login(provider_user)
    with travel(at(2026, 3, 5)):
        response = _report(client)
    assert response.status_code == 302 and response["Location"] == LIST
    change = RegistrationChange.objects.get()
    assert (change.source, change.status) == (PROVIDER, RegistrationChange.Status.REPORTED)
    assert (change.old_value, change.new_value, change.changed_on) == (
        "唐山市路北区建设北路1号",
        "唐山市路南区新华道88号",
        date(2026, 3, 2),
    )
    assert [a.original_name for a in attachments_of(change)] == ["新营业执照.pdf"]
    provider.refresh_from_db()
    assert provider.address == "唐山市路北区建设北路1号"  # not before the officer acknowledges
    assert Notification.objects.filter(kind="registration_change_reported", recipient_role=Role.OFFICER.value)

    client.force_login(officer)
    url = reverse("admin:providers_registrationchange_act", args=[change.pk, "acknowledge"])
    assert client.post(url, {}).status_code == 302
    change.refresh_from_db()
    provider.refresh_from_db()
    assert change.status == RegistrationChange.Status.ACKNOWLEDGED and change.acknowledged_by == officer
    assert provider.address == "唐山市路南区新华道88号"

    # A second change of the same item: the history keeps both, each with what it replaced.
    with travel(at(2026, 6, 1)):
        services.registration_change_report(
            provider=provider,
            by=provider_user,
            field="address",
            new_value="唐山市曹妃甸区工业园1号",
            changed_on=date(2026, 5, 20),
            evidence=[pdf()],
        )
    second = RegistrationChange.objects.get(status=RegistrationChange.Status.REPORTED)
    services.registration_change_acknowledge(change=second, by=officer)
    provider.refresh_from_db()
    assert provider.address == "唐山市曹妃甸区工业园1号"
    history = list(provider.registration_changes.order_by("changed_on").values_list("old_value", "new_value"))
    assert history == [
        ("唐山市路北区建设北路1号", "唐山市路南区新华道88号"),
        ("唐山市路南区新华道88号", "唐山市曹妃甸区工业园1号"),
    ]

    client.force_login(provider_user)
    html = _html(client.get(LIST))
    for value in ("唐山市路北区建设北路1号", "唐山市路南区新华道88号", "唐山市曹妃甸区工业园1号", "新营业执照.pdf"):
        assert value in html


def test_acknowledging_needs_the_permission_and_a_reported_change(provider, provider_user, officer, approver):
    change = services.registration_change_report(
        provider=provider,
        by=provider_user,
        field="name",
        new_value="唐山测评数字科技有限公司",
        changed_on=date(2026, 3, 2),
        evidence=[pdf()],
    )
    with pytest.raises(PermissionDenied):
        services.registration_change_acknowledge(change=change, by=approver)
    services.registration_change_acknowledge(change=change, by=officer)
    with pytest.raises(services.TransitionError):
        services.registration_change_acknowledge(change=change, by=officer)
    provider.refresh_from_db()
    assert provider.name == "唐山测评数字科技有限公司"


def test_a_registered_capital_change_is_applied_as_a_number(provider, provider_user, officer):
    change = services.registration_change_report(
        provider=provider,
        by=provider_user,
        field="registered_capital",
        new_value="2500.50",
        changed_on=date(2026, 3, 2),
        evidence=[pdf()],
    )
    services.registration_change_acknowledge(change=change, by=officer)
    provider.refresh_from_db()
    assert provider.registered_capital == Decimal("2500.50")


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"evidence": []}, "evidence", "这个字段是必填项。"),
        ({"changed_on": "2099-01-01"}, "changed_on", None),
        ({"field": "registered_capital", "new_value": "很多"}, "new_value", None),
        ({"new_value": "唐山市路北区建设北路1号"}, "new_value", None),  # the value already registered
        ({"field": ""}, "field", "这个字段是必填项。"),
        (
            {"evidence": [SimpleUploadedFile("执照.pdf", b"<html>not a pdf</html>", "application/pdf")]},
            "evidence",
            "不是PDF、PNG或JPEG图片",
        ),
    ],
)
def test_bad_reports_are_refused_next_to_the_field_and_nothing_is_saved(
    client, provider, provider_user, overrides, field, message
):
    provider.address = "唐山市路北区建设北路1号"
    provider.save()
    client.force_login(provider_user)
    with travel(at(2026, 3, 5)):
        response = _report(client, **overrides)
    assert response.status_code == 200
    html = _html(response)
    assert f'id="id_{field}_error"' in html
    assert 'class="form-errors"' in html
    if message:
        assert message in html
    assert not RegistrationChange.objects.exists()
    assert not Attachment.objects.exists()


def test_staff_record_a_registry_change_in_the_admin(client, provider, officer, approver):
    provider.legal_representative = "张伟"
    provider.save()
    add = reverse("admin:providers_registrationchange_add")
    client.force_login(approver)
    assert client.get(add).status_code == 403

    client.force_login(officer)
    form = client.get(add, {"provider": provider.pk})
    assert form.status_code == 200
    assert f'<option value="{provider.pk}" selected>' in _html(form)
    with travel(at(2026, 3, 10)):
        future = client.post(
            add,
            {"provider": provider.pk, "field": "legal_representative", "new_value": "王强", "changed_on": "2026-04-01"},
        )
        assert future.status_code == 200 and not RegistrationChange.objects.exists()
        response = client.post(
            add,
            {
                "provider": provider.pk,
                "field": "legal_representative",
                "new_value": "王强",
                "changed_on": "2026-03-02",
                "explanation": "国家企业信用信息公示系统",
            },
        )
    assert response.status_code == 302
    change = RegistrationChange.objects.get()
    assert (change.source, change.status, change.old_value, change.new_value) == (
        REGISTRY,
        RegistrationChange.Status.RECORDED,
        "张伟",
        "王强",
    )
    assert change.recorded_by == officer
    provider.refresh_from_db()
    assert provider.legal_representative == "王强"


# --- The unreported-change selector on constructed dates ----------------------------------------------------


def _registry_change(provider, **kwargs):
    return RegistrationChangeFactory(provider=provider, source=REGISTRY, changed_on=CHANGED_ON, **kwargs)


def _provider_report(provider, *, changed_on, recorded_at, field="address"):
    return RegistrationChangeFactory(
        provider=provider, source=PROVIDER, field=field, changed_on=changed_on, recorded_at=recorded_at
    )


def _flagged(today):
    return set(registration_changes_unreported(today=today))


def test_a_change_reported_in_time_is_not_flagged(provider):
    registry = _registry_change(provider)
    # The provider dated it a day earlier (the resolution date) and reported it within the period.
    _provider_report(provider, changed_on=date(2026, 3, 1), recorded_at=at(2026, 3, 20))
    assert registry not in _flagged(date(2026, 6, 1))


def test_a_change_not_reported_at_all_is_flagged_once_the_period_is_over(provider):
    registry = _registry_change(provider)
    assert _flagged(date(2026, 4, 1)) == set()  # the last day of the period: still time to report
    assert _flagged(date(2026, 4, 2)) == {registry}


def test_a_late_report_does_not_clear_the_flag(provider):
    registry = _registry_change(provider)
    _provider_report(provider, changed_on=CHANGED_ON, recorded_at=at(2026, 4, 5))
    assert _flagged(date(2026, 6, 1)) == {registry}


def test_the_report_deadline_is_the_last_day_in_the_portals_time_zone(provider):
    on_time = _registry_change(provider)
    # 23:30 in Shanghai on 1 April is 15:30 UTC the same day: in time.
    _provider_report(provider, changed_on=CHANGED_ON, recorded_at=at(2026, 4, 1, 23, 30))
    other = ProviderFactory()
    late = _registry_change(other)
    # 00:10 in Shanghai on 2 April is still 1 April in UTC: late all the same.
    _provider_report(other, changed_on=CHANGED_ON, recorded_at=datetime(2026, 4, 2, 0, 10, tzinfo=SHANGHAI))
    assert _flagged(date(2026, 6, 1)) == {late}
    assert on_time not in _flagged(date(2026, 6, 1))


def test_only_a_report_of_the_same_item_near_the_registry_date_counts(provider):
    registry = _registry_change(provider)
    _provider_report(provider, field="name", changed_on=CHANGED_ON, recorded_at=at(2026, 3, 3))
    _provider_report(provider, changed_on=date(2026, 1, 15), recorded_at=at(2026, 1, 20))  # an earlier move
    # Another provider's report of the same item does not count either.
    _provider_report(ProviderFactory(), changed_on=CHANGED_ON, recorded_at=at(2026, 3, 3))
    assert _flagged(date(2026, 6, 1)) == {registry}

    # The window on the date of the change is inclusive: 30 days before the registry date still matches.
    _provider_report(provider, changed_on=date(2026, 1, 31), recorded_at=at(2026, 2, 1))
    assert _flagged(date(2026, 6, 1)) == set()


def test_the_period_follows_the_policy_setting(provider, settings):
    registry = _registry_change(provider)
    settings.REGISTRATION_CHANGE_REPORT_DAYS = 10  # period ends 12 March
    _provider_report(provider, changed_on=CHANGED_ON, recorded_at=at(2026, 3, 20))
    assert _flagged(date(2026, 3, 12)) == set()
    assert _flagged(date(2026, 3, 13)) == {registry}


def test_provider_reports_are_never_flagged(provider):
    _provider_report(provider, changed_on=CHANGED_ON, recorded_at=at(2026, 9, 1))
    assert _flagged(date(2026, 12, 1)) == set()


def test_the_selector_defaults_to_today(provider):
    with travel(at(2026, 4, 2)):
        registry = _registry_change(provider)
        assert set(registration_changes_unreported()) == {registry}
    with travel(at(2026, 4, 1)):
        assert set(registration_changes_unreported()) == set()


# --- The admin list, its filter and the action -----------------------------------------------------------------


def test_the_admin_flags_unreported_changes_with_the_art_12_1_ground_and_a_link_to_open_a_case(client, officer):
    flagged_provider = ProviderFactory(name="唐山未报科技有限公司")
    flagged = _registry_change(flagged_provider, new_value="唐山市丰南区新址")
    reported = ProviderFactory(name="唐山已报科技有限公司")
    _registry_change(reported, new_value="唐山市丰润区新址")
    _provider_report(reported, changed_on=CHANGED_ON, recorded_at=at(2026, 3, 3))
    changelist = reverse("admin:providers_registrationchange_changelist")
    open_case = reverse("admin:evaluations_rectificationcase_add") + f"?provider={flagged_provider.pk}"

    client.force_login(officer)
    with travel(at(2026, 6, 1)):
        html = _html(client.get(changelist))
        assert html.count('<strong class="case-days-urgent">') == 1
        assert open_case in html.replace("&amp;", "&")
        filtered = _html(client.get(changelist, {"unreported": "yes"}))
        assert "唐山市丰南区新址" in filtered and "唐山市丰润区新址" not in filtered
        page = _html(client.get(reverse("admin:providers_registrationchange_change", args=[flagged.pk])))
    assert ART12_WORDING[1].format(authority="唐山市工业和信息化局") in page
    assert open_case in page.replace("&amp;", "&")

    # The rectification form opens with the provider filled in.
    case_form = _html(client.get(open_case))
    assert f'<option value="{flagged_provider.pk}" selected>' in case_form


def test_readers_who_open_no_cases_see_the_flag_but_not_the_link_to_open_a_case(client):
    provider = ProviderFactory()
    _registry_change(provider)
    client.force_login(UserFactory(role=Role.APPROVER))
    with travel(at(2026, 6, 1)):
        html = _html(client.get(reverse("admin:providers_registrationchange_changelist")))
    assert html.count('<strong class="case-days-urgent">') == 1
    assert reverse("admin:evaluations_rectificationcase_add") not in html
    # County bureaus have no part in the registry's files (roles.PROVIDER_FILES_READ): not even the list.
    client.force_login(_county_user())
    assert client.get(reverse("admin:providers_registrationchange_changelist")).status_code == 403


@pytest.mark.parametrize("role", [Role.COUNTY, Role.APPROVER, Role.ASSESSOR, Role.AUDITOR])
def test_only_officers_acknowledge(client, provider, provider_user, role):
    change = services.registration_change_report(
        provider=provider,
        by=provider_user,
        field="name",
        new_value="新名称",
        changed_on=date(2026, 3, 2),
        evidence=[pdf()],
    )
    client.force_login(_county_user() if role == Role.COUNTY else UserFactory(role=role))
    url = reverse("admin:providers_registrationchange_act", args=[change.pk, "acknowledge"])
    assert client.get(url).status_code == 403
    assert client.post(url, {}).status_code == 403
    change.refresh_from_db()
    assert change.status == RegistrationChange.Status.REPORTED


def test_the_registration_change_page_refuses_posts_and_offers_no_action_once_acknowledged(
    client, provider, provider_user, officer
):
    change = services.registration_change_report(
        provider=provider,
        by=provider_user,
        field="name",
        new_value="新名称",
        changed_on=date(2026, 3, 2),
        evidence=[pdf()],
    )
    client.force_login(officer)
    page = reverse("admin:providers_registrationchange_change", args=[change.pk])
    act = reverse("admin:providers_registrationchange_act", args=[change.pk, "acknowledge"])
    assert act in _html(client.get(page))
    assert client.post(page, {"status": "acknowledged"}).status_code == 403
    change.refresh_from_db()
    assert change.status == RegistrationChange.Status.REPORTED

    attachment = attachments_of(change).get()
    download = client.get(reverse("admin:providers_registrationchange_attachment", args=[change.pk, attachment.pk]))
    assert download.status_code == 200 and download["Content-Disposition"].startswith("attachment")

    client.post(act, {})
    assert act not in _html(client.get(page))
    response = client.get(act)
    assert response.status_code == 302  # with the message that there is nothing to acknowledge


def test_the_provider_admin_shows_the_history_and_keeps_registered_data_read_only(client, provider, officer):
    _registry_change(provider, new_value="唐山市迁安市新址")
    client.force_login(officer)
    html = _html(client.get(reverse("admin:providers_provider_change", args=[provider.pk])))
    assert "唐山市迁安市新址" in html
    assert 'name="address"' not in html and 'name="name"' not in html and 'name="contact_name"' in html
    assert reverse("admin:providers_registrationchange_add") + f"?provider={provider.pk}" in html


# --- Access to the provider's pages ----------------------------------------------------------------------------


def test_access_to_the_registration_pages(client, provider, provider_user):
    other = ProviderFactory()
    other_user = UserFactory(role=Role.PROVIDER, organisation=other.organisation)
    change = services.registration_change_report(
        provider=other, by=other_user, field="name", new_value="别家新名", changed_on=date(2026, 3, 2), evidence=[pdf()]
    )
    attachment = attachments_of(change).get()
    attachment_url = reverse("provider:registration_attachment", args=[change.pk, attachment.pk])

    for url in (LIST, NEW, attachment_url):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))

    client.force_login(UserFactory(role=Role.ENTERPRISE, organisation=PilotEnterpriseFactory().organisation))
    for url in (LIST, NEW, attachment_url):
        assert client.get(url).status_code == 403

    client.force_login(provider_user)
    assert client.get(LIST).status_code == 200
    assert client.get(NEW).status_code == 200
    assert "别家新名" not in _html(client.get(LIST))
    assert client.get(attachment_url).status_code == 404

    client.force_login(other_user)
    download = client.get(attachment_url)
    assert download.status_code == 200 and download["X-Content-Type-Options"] == "nosniff"

    applicant = submit_application().applicant
    client.force_login(applicant)
    assert client.get(NEW)["Location"] == reverse("provider:application_status")
