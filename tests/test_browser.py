"""Browser smoke test: Debian's chromium driven by Playwright for Python (never `playwright install`)."""

import os
import re
from pathlib import Path

import pytest
from django.conf import settings

from tests.otp_helpers import pass_second_factor

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"
CJK = re.compile(r"[\u4e00-\u9fff]")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


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


def _fonts_rendering(page, selector):
    """The platform fonts Chromium used for the element's text, with how many glyphs each drew."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument", {"depth": -1})
    node = cdp.send("DOM.querySelector", {"nodeId": root["root"]["nodeId"], "selector": selector})
    return cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node["nodeId"]})["fonts"]


def test_home_page_renders_chinese_glyphs(browser, live_server):
    page = browser.new_page(locale="zh-CN")
    page.goto(live_server.url + "/")
    heading = page.locator("h1")
    text = heading.inner_text()
    assert text == settings.PORTAL_SITE_TITLE
    page.screenshot(path=ARTIFACTS / "home.png", full_page=True)
    fonts = _fonts_rendering(page, "h1")
    cjk_glyphs = sum(font["glyphCount"] for font in fonts if "CJK" in font["familyName"])
    # Every Chinese character must be drawn by a CJK font; a missing font shows up as another family here.
    assert cjk_glyphs >= len(CJK.findall(text)), fonts
    assert page.locator("html").get_attribute("lang") == "zh-CN"


def test_officer_logs_into_the_admin_and_opens_the_provider_list(browser, live_server, django_user_model):
    from django.contrib.auth.models import Group

    from providers.models import Provider, ProviderType

    officer = django_user_model.objects.create_user(
        "officer1", password="Officer-pass-2026", full_name="王经办", is_staff=True
    )
    officer.groups.add(Group.objects.get(name="officer"))
    Provider.objects.create(
        name="唐山智造云科技有限公司",
        uscc="91350100M000100Y43",
        legal_representative="李明",
        address="路南区",
        provider_type=ProviderType.INTEGRATED,
    )
    page = browser.new_page(locale="zh-CN")
    page.goto(live_server.url + "/admin/")
    page.fill("#id_username", "officer1")
    page.fill("#id_password", "Officer-pass-2026")
    page.click("input[type=submit]")
    page.wait_for_load_state()
    # The second factor: the officer has no authenticator yet, so the login goes on to the enrolment page.
    assert page.url.startswith(live_server.url + "/accounts/otp/?next=")
    pass_second_factor(page, "officer1")
    page.wait_for_url(live_server.url + "/admin/")
    page.click('a[href="/admin/providers/provider/"]')
    page.wait_for_url(live_server.url + "/admin/providers/provider/")
    assert page.locator("#result_list").is_visible()
    assert page.locator("#result_list").get_by_text("唐山智造云科技有限公司").is_visible()
    page.screenshot(path=ARTIFACTS / "admin-providers.png", full_page=True)


def _login(page, base, username, password, admin=True):
    page.goto(base + ("/admin/login/" if admin else "/accounts/login/"))
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]" if admin else "main button[type=submit]")
    page.wait_for_load_state()
    pass_second_factor(page, username)


def test_rectification_walk_warning_order_response_verification(browser, live_server, tmp_path):
    """An officer opens and warns in the admin, the provider states its case and later reports on its own
    pages, the officer orders and finally verifies: every step through the real pages, without JavaScript
    being needed for any form."""
    from evaluations.models import RectificationCase, RectificationStatus
    from providers.models import ProviderStatus
    from tangshan_portal.roles import Role
    from tests.factories import TEST_PASSWORD, ProviderFactory, UserFactory

    officer = UserFactory(role=Role.OFFICER, username="walk_officer")
    provider = ProviderFactory(name="唐山走查科技有限公司")
    UserFactory(role=Role.PROVIDER, organisation=provider.organisation, username="walk_provider")
    base = live_server.url

    bureau = browser.new_context(locale="zh-CN", java_script_enabled=False).new_page()
    _login(bureau, base, "walk_officer", TEST_PASSWORD)
    bureau.goto(base + "/admin/evaluations/rectificationcase/add/")
    bureau.select_option("#id_provider", str(provider.pk))
    bureau.select_option("#id_ground", "2")
    bureau.fill("#id_finding", "驻场团队未按合同约定时间进驻试点企业")
    bureau.click("input[type=submit][name=_save], input[type=submit]")
    case = RectificationCase.objects.get(provider=provider)
    act = f"{base}/admin/evaluations/rectificationcase/{case.pk}/act"
    bureau.goto(f"{act}/warn/")
    bureau.click("input[name=_confirm]")
    case.refresh_from_db()
    assert case.status == RectificationStatus.WARNED

    company = browser.new_context(locale="zh-CN", java_script_enabled=False).new_page()
    _login(company, base, "walk_provider", TEST_PASSWORD, admin=False)
    company.goto(f"{base}/provider/cases/{case.pk}/")
    assert "人员能力不足或团队配置不合理" in company.content()  # the regulation's wording of ground (2)
    company.fill("textarea[name=reply-statement]", "驻场人员因疫情延误三天，现已全部到位。")
    company.click("button[value=reply]")
    company.wait_for_load_state()

    bureau.goto(f"{act}/order/")
    bureau.click("input[name=_confirm]")
    case.refresh_from_db()
    assert case.status == RectificationStatus.RECTIFYING
    assert case.document_number.startswith("唐工信〔")

    report = tmp_path / "整改报告.pdf"
    report.write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    company.goto(f"{base}/provider/cases/{case.pk}/")
    assert case.document_number in company.content()
    company.fill("textarea[name=report-report]", "已增派两名实施工程师驻场，附驻场签到记录。")
    company.set_input_files("input[name=report-files]", str(report))
    company.click("button[value=report]")
    company.wait_for_load_state()
    company.screenshot(path=ARTIFACTS / "walk-provider-report.png", full_page=True)
    case.refresh_from_db()
    assert case.status == RectificationStatus.RESPONDED

    bureau.goto(f"{act}/verify/")
    bureau.fill("textarea[name=note]", "整改到位，予以销号。")
    bureau.click("input[name=_confirm]")
    bureau.wait_for_load_state()
    bureau.screenshot(path=ARTIFACTS / "walk-admin-verified.png", full_page=True)
    case.refresh_from_db()
    provider.refresh_from_db()
    assert case.status == RectificationStatus.VERIFIED
    assert case.ordered_by == officer and case.opened_by == officer
    assert provider.status == ProviderStatus.IN_POOL
    timeline = bureau.locator("body").inner_text()
    assert "整改到位，予以销号。" in timeline


def test_complaint_rating_appeal_and_the_public_blacklist(browser, live_server):
    """An enterprise complains and rates its provider "不满意"; the rule engine's proposal is approved and
    published; the provider appeals; an approver who took no part upholds it; the public list follows."""
    from datetime import timedelta

    from django.utils import timezone

    from complaints.models import Appeal, AppealStatus, Complaint
    from enterprises.models import ContractStatus, Milestone
    from evaluations import services
    from evaluations.models import BlacklistEntry, RevocationCase, SatisfactionRating, SurveyItem
    from providers.models import ProviderStatus
    from tangshan_portal.roles import Role
    from tests.factories import TEST_PASSWORD, ServiceContractFactory, UserFactory

    today = timezone.localdate()
    contract = ServiceContractFactory(
        status=ContractStatus.IN_PROGRESS, start_on=today - timedelta(days=60), end_on=today + timedelta(days=120)
    )
    provider, enterprise = contract.provider, contract.enterprise
    provider.name = "唐山申诉科技有限公司"
    provider.save()
    milestone = Milestone.objects.create(
        contract=contract, name="系统上线", planned_on=today - timedelta(days=3), weight=100, reported_progress=100
    )
    UserFactory(role=Role.ENTERPRISE, organisation=enterprise.organisation, username="walk_enterprise")
    UserFactory(role=Role.PROVIDER, organisation=provider.organisation, username="walk_vendor")
    approver = UserFactory(role=Role.APPROVER, username="walk_approver")
    UserFactory(role=Role.APPROVER, username="walk_reviewer")
    # An earlier "dissatisfied" rating from another stage of the same contract.
    SatisfactionRating.objects.create(
        contract=contract,
        stage="中期评价",
        overall=SatisfactionRating.Overall.DISSATISFIED,
        submitted_by=UserFactory(organisation=enterprise.organisation),
        submitted_at=timezone.now() - timedelta(days=20),
    )
    base = live_server.url

    firm = browser.new_context(locale="zh-CN", java_script_enabled=False).new_page()
    _login(firm, base, "walk_enterprise", TEST_PASSWORD, admin=False)
    firm.goto(base + "/enterprise/complaints/new/")
    firm.select_option("select[name=provider]", str(provider.pk))
    firm.select_option("select[name=category]", "service")
    firm.fill("textarea[name=description]", "实施人员频繁更换，系统上线一再推迟。")
    firm.click("main button[type=submit]")
    firm.wait_for_load_state()
    assert Complaint.objects.get(enterprise=enterprise).status == "submitted"

    firm.goto(f"{base}/enterprise/surveys/{contract.pk}/milestone-{milestone.pk}/")
    for item in SurveyItem.objects.filter(is_active=True):
        firm.check(f"input[name=item_{item.pk}][value='1']")
    firm.check("input[name=overall][value=dissatisfied]")
    firm.click("main button[type=submit]")
    firm.wait_for_load_state()
    firm.screenshot(path=ARTIFACTS / "walk-enterprise-survey.png", full_page=True)
    assert SatisfactionRating.objects.filter(contract=contract, overall="dissatisfied").count() == 2

    services.deadlines_check()
    proposal = RevocationCase.objects.get(provider=provider)
    services.revocation_approve(
        revocation=proposal, by=approver, reason="两次不满意评价", now=timezone.now() + timedelta(days=6)
    )
    public = browser.new_context(locale="zh-CN").new_page()
    public.goto(base + "/blacklist/")
    assert "唐山申诉科技有限公司" in public.content()

    vendor = browser.new_context(locale="zh-CN", java_script_enabled=False).new_page()
    _login(vendor, base, "walk_vendor", TEST_PASSWORD, admin=False)
    vendor.goto(f"{base}/provider/appeals/new/?type=3&target=evaluations.revocationcase:{proposal.pk}")
    vendor.fill("textarea[name=grounds]", "其中一次不满意评价系因企业自身原因推迟上线所致。")
    vendor.click("main button[type=submit]")
    vendor.wait_for_load_state()
    appeal = Appeal.objects.get(provider=provider)
    public.goto(base + "/blacklist/")
    assert "申诉中" in public.content()

    bureau = browser.new_context(locale="zh-CN", java_script_enabled=False).new_page()
    _login(bureau, base, "walk_reviewer", TEST_PASSWORD)
    act = f"{base}/admin/complaints/appeal/{appeal.pk}/act"
    bureau.goto(f"{act}/review/")
    bureau.click("input[name=_confirm]")
    bureau.goto(f"{act}/uphold/")
    bureau.fill("textarea[name=decision]", "经复核，评价依据不足，撤销取消资格决定。")
    bureau.click("input[name=_confirm]")
    bureau.wait_for_load_state()
    appeal.refresh_from_db()
    provider.refresh_from_db()
    assert appeal.status == AppealStatus.UPHELD
    assert provider.status == ProviderStatus.IN_POOL
    entry = BlacklistEntry.objects.get(provider=provider)
    assert entry.status == BlacklistEntry.Status.REMOVED and entry.removed_at is not None

    public.goto(base + "/blacklist/")
    public.screenshot(path=ARTIFACTS / "walk-blacklist-after-appeal.png", full_page=True)
    assert "唐山申诉科技有限公司" not in public.content()
