"""The provider's path through the real pages, in Debian's chromium: a company applies on the public form and
an officer admits it after the public notice (Art 2); later, as a provider, it reports progress on a contract
and the enterprise acknowledges it (Art 6(3)). Every form is used with JavaScript disabled."""

import os
from datetime import datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone, translation

from tests.otp_helpers import pass_second_factor
from tests.test_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

USCC = "914403001922038216"  # a valid test vector (DESIGN.md)
COMPANY = "唐山路径数字科技有限公司"
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (make test does as root)")
    # Playwright's sync API runs an event loop in this thread; the ORM calls that the test itself makes
    # (fixtures, assertions) are still ordinary synchronous code.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    # The live server runs in this process, so the uploads land here rather than in the project's media.
    settings.MEDIA_ROOT = tmp_path / "media"


def _page(browser, javascript=False):
    """A page of its own browser context (its own cookies): one per person in the walk."""
    return browser.new_context(locale="zh-CN", java_script_enabled=javascript).new_page()


def _login(page, base, username, password, admin=False):
    page.goto(base + ("/admin/login/" if admin else "/accounts/login/"))
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]" if admin else "main button[type=submit]")
    page.wait_for_load_state()
    pass_second_factor(page, username)


def _zh(message, **values):
    """The text the server shows for `message` on a Chinese page, whether or not it is translated yet."""
    with translation.override("zh-hans"):
        text = str(translation.gettext(message)) if isinstance(message, str) else str(message)
    return text % values if values else text


def _local(day, hour):
    return datetime.combine(day, time(hour), tzinfo=ZoneInfo(settings.TIME_ZONE))


def _wait_at(page, base, path):
    """Wait for the page at `path`, whatever the query (a GET form adds "?") or the fragment (an answer form
    posts to "#report-…", which the redirect keeps)."""
    page.wait_for_url(lambda url: url.startswith(base) and urlsplit(url).path == path)


def _shot(page, name):
    page.screenshot(path=ARTIFACTS / f"provider-path-{name}.png", full_page=True)


def test_a_new_provider_applies_and_an_officer_admits_it_after_the_notice_period(browser, live_server, tmp_path):
    from providers.models import ApplicationStatus, Provider, ProviderApplication, ProviderStatus
    from tangshan_portal.models import County, Scenario
    from tangshan_portal.roles import Role
    from tests.factories import TEST_PASSWORD, UserFactory

    UserFactory(role=Role.OFFICER, username="path_officer")
    county = County.objects.order_by("code").first()
    scenarios = list(Scenario.objects.order_by("sort_order", "code")[:2])
    licence = tmp_path / "营业执照.pdf"
    licence.write_bytes(PDF)
    base = live_server.url

    # The applicant: from the home page to the public form, without JavaScript.
    company = _page(browser)
    company.goto(base + "/")
    company.click('main a[href="/apply/"]')
    _wait_at(company, base, "/apply/")
    company.fill("#id_username", "path_applicant")
    company.fill("#id_password1", "Ts-path-2026-secure")
    company.fill("#id_password2", "Ts-path-2026-secure")
    company.fill("#id_full_name", "李明")
    company.fill("#id_phone", "13800000000")
    company.fill("#id_email", "liming@example.com")
    company.fill("#id_name", COMPANY)
    company.fill("#id_uscc", USCC)
    company.fill("#id_legal_representative", "李明")
    company.fill("#id_address", "唐山市路北区建设北路100号")
    company.fill("#id_registered_capital", "1000")
    company.select_option("#id_county", str(county.pk))
    company.fill("#id_business_scope", "软件开发；信息系统集成服务；工业互联网数据服务")
    company.check("input[name=provider_type][value=integrated]")
    for scenario in scenarios:
        company.check(f"input[name=scenarios][value='{scenario.pk}']")
    company.fill("#id_qualifications", "ISO 9001 质量管理体系认证")
    company.fill("#id_products", "设备联网与数据采集平台；MES 生产执行系统")
    company.fill("#id_reference_cases", "为唐山某钢铁企业实施设备联网改造")
    company.fill("#id_contact_name", "王芳")
    company.fill("#id_contact_phone", "0315-1234567")
    company.fill("#id_contact_email", "contact@example.com")
    company.set_input_files("input[name=attachments]", str(licence))
    company.check("#id_declaration")
    _shot(company, "apply-filled")
    company.click("main button[type=submit]")
    _wait_at(company, base, "/provider/application/")
    _shot(company, "application-submitted")

    application = ProviderApplication.objects.get(uscc=USCC)
    assert application.status == ApplicationStatus.SUBMITTED
    assert (application.name, application.applicant.username, application.county) == (COMPANY, "path_applicant", county)
    assert set(application.scenarios.all()) == set(scenarios)
    panel = company.locator(f"#application-{application.pk}-title").locator("xpath=..")
    assert COMPANY in panel.locator("h2").inner_text()
    assert _zh(ApplicationStatus.SUBMITTED.label) in panel.inner_text()
    assert panel.locator("ul.attachments a").inner_text() == "营业执照.pdf"
    # Before admission, "my provider" leads the applicant back to its application.
    company.click('header a[href="/provider/"]')
    _wait_at(company, base, "/provider/application/")

    # The officer: admin index → applications → the application → start the public notice.
    bureau = _page(browser)
    _login(bureau, base, "path_officer", TEST_PASSWORD, admin=True)
    bureau.click('a[href="/admin/providers/providerapplication/"]')
    _wait_at(bureau, base, "/admin/providers/providerapplication/")
    bureau.locator("#result_list").get_by_role("link", name=COMPANY).click()
    change_url = f"/admin/providers/providerapplication/{application.pk}/change/"
    _wait_at(bureau, base, change_url)
    bureau.click('form[action$="/act/start_notice/"] button[type=submit]')
    _wait_at(bureau, base, f"/admin/providers/providerapplication/{application.pk}/act/start_notice/")
    bureau.fill("textarea[name=opinion]", "资质齐全，近三年有设备联网实施案例，符合入库条件。")
    reviewed_on = timezone.localdate()
    bureau.click("input[name=_confirm]")
    _wait_at(bureau, base, change_url)
    application.refresh_from_db()
    assert application.status == ApplicationStatus.IN_NOTICE
    assert reviewed_on <= application.notice_starts_on <= timezone.localdate()
    assert application.notice_ends_on > application.notice_starts_on
    _shot(bureau, "admin-in-notice")

    # The public notice lists the company for anyone, logged in or not.
    public = _page(browser, javascript=True)
    public.goto(base + "/")
    public.click('header a[href="/notices/"]')
    _wait_at(public, base, "/notices/")
    row = public.locator("table.data-table tbody tr").filter(has_text=COMPANY)
    assert row.count() == 1
    assert USCC in row.inner_text()
    assert application.notice_ends_on.isoformat() in row.inner_text()
    _shot(public, "public-notices")

    # Admitting during the notice period is refused with the service's reason, and nothing changes.
    bureau.click('form[action$="/act/admit/"] button[type=submit]')
    admit_url = f"/admin/providers/providerapplication/{application.pk}/act/admit/"
    _wait_at(bureau, base, admit_url)
    with bureau.expect_navigation():  # the refused form comes back on the same page
        bureau.click("input[name=_confirm]")
    refusal = _zh(
        "The public notice runs until %(date)s; admission takes effect after it.", date=application.notice_ends_on
    )
    assert urlsplit(bureau.url).path == admit_url
    assert refusal in bureau.locator(".errorlist.nonfield").inner_text()
    _shot(bureau, "admin-admit-refused")
    application.refresh_from_db()
    assert application.status == ApplicationStatus.IN_NOTICE
    assert not Provider.objects.filter(uscc=USCC).exists()

    # The day after the notice ends (the live server runs in this process, so it travels too).
    with time_machine.travel(_local(application.notice_ends_on + timedelta(days=1), 9), tick=True):
        # The officer comes back another day: a new login, since a notice over a long holiday can outlast the
        # session.
        bureau = _page(browser)
        _login(bureau, base, "path_officer", TEST_PASSWORD, admin=True)
        bureau.goto(base + change_url)
        bureau.click('form[action$="/act/admit/"] button[type=submit]')
        _wait_at(bureau, base, admit_url)
        bureau.click("input[name=_confirm]")
        _wait_at(bureau, base, change_url)
        assert (
            _zh("%(name)s is admitted to the resource pool.", name=COMPANY)
            in bureau.locator(".messagelist").inner_text()
        )
        _shot(bureau, "admin-admitted")

        application.refresh_from_db()
        provider = Provider.objects.get(uscc=USCC)
        assert application.status == ApplicationStatus.ADMITTED and application.provider == provider
        assert provider.status == ProviderStatus.IN_POOL
        assert provider.organisation == application.organisation == application.applicant.organisation
        assert (provider.name, provider.county) == (COMPANY, county)
        assert set(provider.scenarios.all()) == set(scenarios)

        public.goto(base + "/notices/")
        assert COMPANY not in public.locator("main").inner_text()

        # The applicant logs in again and now reaches the provider's own pages.
        member = _page(browser)
        _login(member, base, "path_applicant", "Ts-path-2026-secure")
        member.click('header a[href="/provider/"]')
        _wait_at(member, base, "/provider/")
        assert member.locator("main h1").inner_text() == COMPANY
        assert USCC in member.locator("main dl.facts").inner_text()
        assert _zh(ProviderStatus.IN_POOL.label) in member.locator("main dl.facts").inner_text()
        assert _zh("Admitted to the resource pool") in member.locator("main").inner_text()  # its notification
        _shot(member, "provider-home")


def test_a_provider_reports_progress_and_the_enterprise_acknowledges_it(browser, live_server):
    from enterprises import services
    from enterprises.models import ContractStatus, Milestone, ProcurementItem, ProgressReport
    from tests.factories import TEST_PASSWORD, PilotEnterpriseFactory, ProviderFactory
    from tests.factories_contracts import DraftContractFactory, enterprise_staff, provider_staff

    today = timezone.localdate()
    provider = ProviderFactory(name="唐山进度科技有限公司")
    enterprise = PilotEnterpriseFactory(name="唐山精工机械有限公司")
    vendor = provider_staff(provider, username="path_vendor")
    buyer = enterprise_staff(enterprise, username="path_buyer")
    contract = DraftContractFactory(
        provider=provider,
        enterprise=enterprise,
        number="TS-2026-0601",
        title="设备联网与MES实施",
        start_on=today - timedelta(days=30),
        end_on=today + timedelta(days=150),
        nda_signed_on=today - timedelta(days=35),
    )
    networking = Milestone.objects.create(
        contract=contract, name="设备联网", planned_on=today + timedelta(days=30), weight=60
    )
    Milestone.objects.create(contract=contract, name="系统上线", planned_on=today + timedelta(days=120), weight=40)
    ProcurementItem.objects.create(
        contract=contract,
        name="MES 系统",
        function="生产计划与执行管理",
        purpose="计划调度数字化",
        quantity=Decimal("1"),
        unit="套",
        unit_price=Decimal("120000.00"),
        reference_price=Decimal("110000.00"),
    )
    # Sent, signed and started by the two sides through the services: the walk under test starts after that.
    services.contract_submit(contract=contract, by=vendor)
    services.contract_sign(contract=contract, by=buyer)
    services.contract_start(contract=contract, by=vendor)
    contract.refresh_from_db()
    assert contract.status == ContractStatus.IN_PROGRESS
    base = live_server.url
    detail_path = f"/provider/contracts/{contract.pk}/"

    # The provider: its contracts → the contract → report 60 % on the first milestone.
    company = _page(browser)
    _login(company, base, "path_vendor", TEST_PASSWORD)
    company.click('header a[href="/provider/"]')
    _wait_at(company, base, "/provider/")
    company.click('nav.sub-nav a[href="/provider/contracts/"]')
    _wait_at(company, base, "/provider/contracts/")
    company.click(f'main a[href="{detail_path}"]')
    _wait_at(company, base, detail_path)
    company.click(f'main a[href="{detail_path}progress/new/"]')
    _wait_at(company, base, f"{detail_path}progress/new/")
    company.select_option("select[name=milestone]", str(networking.pk))
    company.fill("input[name=progress]", "60")
    company.fill("textarea[name=summary]", "已完成 12 台设备联网与数据采集调试。")
    company.fill("textarea[name=problems]", "两台老旧机床无通信接口，拟加装采集网关。")
    company.fill("textarea[name=next_steps]", "下周完成剩余 8 台设备联网。")
    _shot(company, "progress-form")
    company.click("main button[type=submit]")
    _wait_at(company, base, detail_path)

    report = ProgressReport.objects.get(contract=contract)
    assert (report.milestone, report.progress, report.status) == (networking, 60, ProgressReport.Status.SUBMITTED)
    assert report.submitted_by == vendor
    networking.refresh_from_db()
    assert networking.reported_progress == 0  # it counts only once the enterprise acknowledges it
    entry = company.locator(f"#report-{report.pk}")
    assert "设备联网: 60%" in entry.locator("h3").inner_text()
    assert _zh(ProgressReport.Status.SUBMITTED.label) in entry.locator(".badge").inner_text()
    _shot(company, "contract-reported")

    # The enterprise: "waiting for you" on its home page → the contract → acknowledge with a comment.
    firm = _page(browser)
    _login(firm, base, "path_buyer", TEST_PASSWORD)
    firm.click('header a[href="/enterprise/"]')
    _wait_at(firm, base, "/enterprise/")
    waiting = firm.locator('section[aria-labelledby="pending-title"]')
    link = waiting.locator(f'a[href="/enterprise/contracts/{contract.pk}/"]')
    assert link.count() == 1
    assert "TS-2026-0601" in link.inner_text() and "设备联网" in link.inner_text() and "60%" in link.inner_text()
    _shot(firm, "enterprise-waiting")
    link.click()
    _wait_at(firm, base, f"/enterprise/contracts/{contract.pk}/")
    firm.fill(f"textarea[name=report-{report.pk}-comment]", "经现场核实，12 台设备数据已接入。")
    with firm.expect_navigation():  # the answer posts to the page it is on and comes back to it
        firm.click(f"#report-{report.pk} button[name=action][value=acknowledge]")
    _wait_at(firm, base, f"/enterprise/contracts/{contract.pk}/")
    assert _zh("You acknowledged the progress report.") in firm.locator("main").inner_text()
    _shot(firm, "enterprise-acknowledged")

    report.refresh_from_db()
    networking.refresh_from_db()
    assert report.status == ProgressReport.Status.ACKNOWLEDGED
    assert (report.responded_by, report.enterprise_comment) == (buyer, "经现场核实，12 台设备数据已接入。")
    assert networking.reported_progress == 60 and networking.reported_at is not None
    firm.goto(base + "/enterprise/")
    assert (
        firm.locator(f'section[aria-labelledby="pending-title"] a[href="/enterprise/contracts/{contract.pk}/"]').count()
        == 0
    )

    # Back on the provider's page: the acknowledgement, the enterprise's comment and the milestone's progress.
    company.goto(base + detail_path)
    entry = company.locator(f"#report-{report.pk}")
    assert _zh(ProgressReport.Status.ACKNOWLEDGED.label) in entry.locator(".badge").inner_text()
    assert "经现场核实，12 台设备数据已接入。" in entry.inner_text()
    milestone_row = company.locator('section[aria-labelledby="milestones-title"] tbody tr').filter(has_text="设备联网")
    assert milestone_row.locator("td").nth(2).inner_text().startswith("60%")
    _shot(company, "contract-acknowledged")
