"""Browser smoke test: Debian's chromium driven by Playwright for Python (never `playwright install`)."""

import os
import re
from pathlib import Path

import pytest
from django.conf import settings

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
    page.wait_for_url(live_server.url + "/admin/")
    page.click('a[href="/admin/providers/provider/"]')
    page.wait_for_url(live_server.url + "/admin/providers/provider/")
    assert page.locator("#result_list").is_visible()
    assert page.locator("#result_list").get_by_text("唐山智造云科技有限公司").is_visible()
    page.screenshot(path=ARTIFACTS / "admin-providers.png", full_page=True)
