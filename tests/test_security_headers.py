"""Security headers (issue 8, item 5).

Controls guarded, each named in its test's docstring: the Content-Security-Policy (django-csp: its middleware and
the policy in settings), the portal's pages without inline scripts, styles or handlers (so that the policy needs no
'unsafe-inline'), X-Frame-Options DENY, nosniff, the referrer policy, Cross-Origin-Opener-Policy, and in production
HSTS, the HTTPS redirect and secure, HttpOnly cookies. The browser tests load every page family in Chromium and fail
on any violation of the policy.
"""

import json
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings

from tangshan_portal.roles import Role
from tests.otp_helpers import pass_second_factor
from tests.test_deploy_check import production_environ, production_settings

TEMPLATES_DIR = Path(settings.BASE_DIR) / "templates"
# The policy every page gets: only the portal's own files, nothing inline, no framing, no plugins, no <base>.
EXPECTED_POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
    "frame-src": ["'none'"],
}


def parse_policy(header):
    policy = {}
    for directive in filter(None, (part.strip() for part in header.split(";"))):
        name, *values = directive.split()
        policy[name] = values
    return policy


class InlineCodeFinder(HTMLParser):
    """Everything in a page that a policy without 'unsafe-inline' blocks: inline <script> and <style> elements,
    style= attributes, on…= handlers and javascript: links. JSON data blocks are data, not script."""

    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "style":
            self.found.append("<style>")
        if tag == "script" and "src" not in attributes and attributes.get("type") != "application/json":
            self.found.append(f"inline <script {attributes}>")
        for name, value in attrs:
            url = (value or "").strip().lower()
            javascript_url = name in ("href", "src", "action") and url.startswith("javascript:")
            if name == "style" or name.startswith("on") or javascript_url:
                self.found.append(f"<{tag} {name}={value!r}>")


def inline_code(html):
    finder = InlineCodeFinder()
    finder.feed(html)
    return finder.found


@pytest.fixture
def page_families(db):
    """One page of each family the portal serves, with the user who sees it (None: anonymous)."""
    from evaluations.documents import rectification_notice_pdf
    from tests.factories import UserFactory
    from tests.factories_documents import ordered_rectification
    from tests.factories_public import blacklist_entry, pool_provider

    officer = UserFactory(role=Role.OFFICER, username="headers_officer")
    sysadmin = UserFactory(role=Role.SYSADMIN, username="headers_sysadmin")
    provider = pool_provider(name="唐山安全头科技有限公司")
    entry = blacklist_entry(name="唐山黑名单安全头有限公司")
    document = rectification_notice_pdf(ordered_rectification(officer=officer), officer)
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    task = PeriodicTask.objects.order_by("pk").first()  # the portal's schedules, written by the migrations
    CrontabSchedule.objects.create(minute="30", hour="2")  # something for the crontab field to read out
    families = {
        "home": ("/", None),
        "public blacklist": ("/blacklist/", None),
        "blacklist entry": (f"/blacklist/{entry.pk}/", None),
        "login": ("/accounts/login/", None),
        "admin login": ("/admin/login/", None),
        "provider page": (f"/providers/{provider.pk}/", None),
        "verify": ("/verify/", None),
        "verify result": (f"/verify/{document.verification_code}/", None),
        "API docs": ("/api/docs/", None),
        "admin index": ("/admin/", officer),
        "admin change list": ("/admin/providers/provider/", officer),
        "admin change form": (f"/admin/providers/provider/{provider.pk}/change/", officer),
        "import page": ("/admin/providers/provider/import/", officer),
        "export page": ("/admin/providers/provider/export/", officer),
        "periodic task form": (f"/admin/django_celery_beat/periodictask/{task.pk}/change/", sysadmin),
        # The second factor's enrolment, with its QR code drawn as inline SVG (voluntary for a provider's staff).
        "second-factor enrolment": (
            "/accounts/otp/",
            UserFactory(role=Role.PROVIDER, organisation=provider.organisation, username="headers_provider"),
        ),
    }
    return families


def _get(client, path, user):
    if user is not None:
        client.force_login(user)
    else:
        client.logout()
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response


def test_every_page_family_sends_the_policy(client, page_families):
    """Control: django-csp's middleware and CONTENT_SECURITY_POLICY. Without the middleware there is no header;
    any relaxation ('unsafe-inline', 'unsafe-eval', a host, data:) changes the directives compared here."""
    for family, (path, user) in page_families.items():
        response = _get(client, path, user)
        assert "Content-Security-Policy" in response.headers, family
        assert parse_policy(response.headers["Content-Security-Policy"]) == EXPECTED_POLICY, family


def test_served_pages_contain_no_inline_code(client, page_families):
    """Control: the portal's templates and the overrides of the admin's, import-export's, Celery beat's and
    Swagger UI's templates (templates/admin/…, templates/drf_spectacular/): no page carries code the policy blocks."""
    for family, (path, user) in page_families.items():
        response = _get(client, path, user)
        assert inline_code(response.content.decode()) == [], family


def test_swagger_ui_starts_from_a_static_file_with_its_settings_in_data_attributes(client, db):
    """Control: templates/drf_spectacular/swagger_ui.html, which replaces the library's inline start-up script."""
    page = client.get("/api/docs/").content.decode()
    assert 'id="swagger-ui-init"' in page
    assert "/static/js/swagger-ui-init.js" in page
    assert 'data-schema-url="/api/schema/"' in page
    assert "/static/css/swagger-ui-page.css" in page


def _stylesheet_rules(nodes, media=""):
    import tinycss2

    for node in nodes:
        if node.type == "qualified-rule":
            declarations = tinycss2.parse_declaration_list(node.content, skip_whitespace=True, skip_comments=True)
            yield media, tinycss2.serialize(node.prelude).strip(), [d for d in declarations if d.type == "declaration"]
        elif node.type == "at-rule" and node.lower_at_keyword == "media" and node.content:
            condition = tinycss2.serialize(node.prelude).strip().strip("()")
            yield from _stylesheet_rules(
                tinycss2.parse_rule_list(node.content, skip_whitespace=True, skip_comments=True), condition
            )


def _css_urls(declaration):
    for token in declaration.value:
        if token.type == "url":
            yield token.value
        elif token.type == "function" and token.lower_name == "url":
            yield from (argument.value for argument in token.arguments if argument.type == "string")


def _images_by_rule(path, resolve):
    import tinycss2

    sheet = tinycss2.parse_stylesheet(Path(path).read_text(encoding="utf-8"), skip_whitespace=True, skip_comments=True)
    images = {}
    for media, selector, declarations in _stylesheet_rules(sheet):
        for declaration in declarations:
            for url in _css_urls(declaration):
                image = resolve(url)
                if image is not None:
                    # The shorthand's image is overridden by its longhand.
                    name = "background-image" if declaration.lower_name == "background" else declaration.lower_name
                    images[(media, selector, name)] = image
    return images


def _data_url_bytes(url):
    import base64
    from urllib.parse import unquote

    if not url.startswith("data:"):
        return None
    head, _, body = url.partition(",")
    return base64.b64decode(body) if head.endswith(";base64") else unquote(body).encode()


def test_swagger_ui_icons_are_files_instead_of_data_urls():
    """Control: static/css/swagger-ui-page.css with static/img/swagger-ui/, which give every data: image of the
    sidecar's swagger-ui.css (refused by img-src 'self') as a file of the same bytes. After an upgrade this names
    each new data: image; the debug-grid utility classes are never used by Swagger UI."""
    from django.contrib.staticfiles import finders

    sidecar = _images_by_rule(
        finders.find("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css"), resolve=_data_url_bytes
    )
    sidecar = {key: image for key, image in sidecar.items() if "debug-grid" not in key[1]}
    ours_path = Path(finders.find("css/swagger-ui-page.css"))

    def file_bytes(url):
        return None if url.startswith("data:") else (ours_path.parent / url).resolve().read_bytes()

    ours = _images_by_rule(ours_path, resolve=file_bytes)
    assert sidecar, "swagger-ui.css has no data: image any more: the overrides can go"
    missing = [key for key, image in sidecar.items() if ours.get(key) != image]
    assert missing == []


# Template syntax confuses an HTML parser, so the templates themselves are searched for the same constructs.
_TEMPLATE_INLINE = [
    re.compile(r"<style\b", re.IGNORECASE),
    re.compile(r"<script\b(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.IGNORECASE),
    re.compile(r"\sstyle\s*=", re.IGNORECASE),
    re.compile(r"\son[a-z]+\s*=", re.IGNORECASE),
    re.compile(r"javascript:", re.IGNORECASE),
]
_TEMPLATE_COMMENT = re.compile(r"{% comment %}.*?{% endcomment %}|{#.*?#}", re.DOTALL)


def test_no_template_of_a_served_page_has_inline_code():
    """Control: every template of a page the portal serves (templates/pdf/ are rendered by WeasyPrint into PDF files,
    never served as HTML, and keep their <style>). Catches pages that the other tests do not open."""
    offenders = []
    for template in sorted(TEMPLATES_DIR.rglob("*.html")):
        relative = template.relative_to(TEMPLATES_DIR)
        if relative.parts[0] == "pdf":
            continue
        text = _TEMPLATE_COMMENT.sub("", template.read_text(encoding="utf-8"))
        offenders += [f"{relative}: {m.group(0)!r}" for pattern in _TEMPLATE_INLINE for m in pattern.finditer(text)]
    assert offenders == []


def test_no_admin_change_list_writes_an_inline_style():
    """Control: Django's admin/change_list.html writes an inline <style> when a ModelAdmin turns off both action bars;
    no admin of the portal does, so the policy needs no exception for it (the other tests open few change lists)."""
    from django.contrib import admin

    both_off = [
        str(model_admin)
        for model_admin in admin.site._registry.values()
        if not model_admin.actions_on_top and not model_admin.actions_on_bottom
    ]
    assert both_off == []


def test_the_finder_sees_each_kind_of_inline_code():
    """The two checks above are only as good as their finder."""
    assert len(inline_code('<style>p{}</style><p style="x">')) == 2
    assert len(inline_code('<script>alert(1)</script><a onclick="x()" href="javascript:x()">')) == 3
    assert inline_code('<script src="/s.js"></script><script type="application/json">{}</script>') == []
    assert len(re.findall(_TEMPLATE_INLINE[3], '<input onchange="f(event)">')) == 1


def test_framing_sniffing_referrer_and_opener_headers(client, db):
    """Controls: X_FRAME_OPTIONS="DENY" (XFrameOptionsMiddleware), SECURE_CONTENT_TYPE_NOSNIFF,
    SECURE_REFERRER_POLICY and SECURE_CROSS_ORIGIN_OPENER_POLICY (SecurityMiddleware)."""
    for path in ("/", "/accounts/login/", "/blacklist/"):
        headers = client.get(path).headers
        assert headers["X-Frame-Options"] == "DENY", path
        assert headers["X-Content-Type-Options"] == "nosniff", path
        assert headers["Referrer-Policy"] == "same-origin", path
        assert headers["Cross-Origin-Opener-Policy"] == "same-origin", path


@override_settings(WHITENOISE_USE_FINDERS=True, WHITENOISE_AUTOREFRESH=True)
def test_static_files_carry_the_policy_too(client):
    """Control: CSPMiddleware placed outside WhiteNoise, so that an SVG or HTML file opened on its own is bound by
    the policy as well (WhiteNoise answers static files before any inner middleware runs)."""
    response = client.get("/static/img/favicon.svg")
    assert response.status_code == 200
    assert parse_policy(response.headers["Content-Security-Policy"]) == EXPECTED_POLICY


# --- Production (DEBUG off) ----------------------------------------------------------------------------------

# Runs in a fresh interpreter with the production environment: the settings are read once, at start-up.
_PROBE = r"""
import json
import django

django.setup()
from django.test import Client, override_settings

# The hashed-name manifest exists only after collectstatic (the image build); file names play no part in headers.
plain_storage = {"staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
override_settings(STORAGES=plain_storage).enable()

# An empty database: /readyz answers 503, and the probes only have to show that they are not redirected.
client = Client(HTTP_HOST="portal.example.cn", raise_request_exception=False)
answers = {}
for name, path, extra in [
    ("https", "/accounts/login/", {"HTTP_X_FORWARDED_PROTO": "https"}),
    ("http", "/accounts/login/", {}),
    ("healthz", "/healthz", {}),
    ("readyz", "/readyz", {}),
]:
    response = client.get(path, **extra)
    answers[name] = {
        "status": response.status_code,
        "headers": dict(response.headers),
        "cookies": {
            key: {"secure": bool(morsel["secure"]), "httponly": bool(morsel["httponly"])}
            for key, morsel in response.cookies.items()
        },
    }
print(json.dumps(answers))
"""


def _production_answers(tmp_path, **overrides):
    env = production_environ(tmp_path, **overrides)
    # Nothing to connect to here: /readyz asks an empty SQLite file and no Redis.
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'probe.sqlite3'}"
    env.pop("REDIS_URL")
    result = subprocess.run(
        [sys.executable, "-c", _PROBE],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_sends_hsts_redirects_to_https_and_sets_secure_cookies(tmp_path):
    """Controls (DEBUG off, behind the TLS proxy as docker-compose runs it): SECURE_HSTS_SECONDS (one year) with
    SECURE_HSTS_INCLUDE_SUBDOMAINS and without preload; SECURE_SSL_REDIRECT with /healthz and /readyz exempt for
    the container's health check and the orchestrator's probes; CSRF_COOKIE_SECURE and CSRF_COOKIE_HTTPONLY; the
    policy and X-Frame-Options in production too."""
    answers = _production_answers(tmp_path)

    https = answers["https"]
    assert https["status"] == 200
    assert https["headers"]["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert parse_policy(https["headers"]["Content-Security-Policy"]) == EXPECTED_POLICY
    assert https["headers"]["X-Frame-Options"] == "DENY"
    assert https["cookies"]["csrftoken"] == {"secure": True, "httponly": True}

    http = answers["http"]
    assert http["status"] == 301
    assert http["headers"]["Location"] == "https://portal.example.cn/accounts/login/"
    assert "Strict-Transport-Security" not in http["headers"]  # browsers ignore HSTS over http anyway

    # The container's health check and the probes call http://<node>:8000/…: answered, not sent to https.
    assert answers["healthz"]["status"] == 200
    assert answers["readyz"]["status"] == 503  # the empty database has no migrations applied
    for probe in ("healthz", "readyz"):
        assert "Location" not in answers[probe]["headers"]


def test_production_hsts_preload_is_the_deployments_choice(tmp_path):
    """Control: DJANGO_HSTS_PRELOAD adds preload (off by default, see settings.py)."""
    answers = _production_answers(tmp_path, DJANGO_HSTS_PRELOAD="1")
    assert answers["https"]["headers"]["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"


def test_production_cookie_and_https_settings(monkeypatch, tmp_path):
    """Controls: the session cookie is Secure and HttpOnly in production (the probe above has no session to show),
    X-Forwarded-Proto is trusted only behind the declared proxy, and development never sends HSTS."""
    production = production_settings(monkeypatch, tmp_path)
    assert production["SESSION_COOKIE_SECURE"] is True
    assert production["SESSION_COOKIE_HTTPONLY"] is True
    assert production["CSRF_COOKIE_SECURE"] is True
    assert production["SECURE_SSL_REDIRECT"] is True
    assert production["SECURE_PROXY_SSL_HEADER"] == ("HTTP_X_FORWARDED_PROTO", "https")

    without_proxy = production_settings(monkeypatch, tmp_path, DJANGO_BEHIND_TLS_PROXY="0")
    assert "SECURE_PROXY_SSL_HEADER" not in without_proxy

    development = production_settings(monkeypatch, tmp_path, DJANGO_DEBUG="1")
    assert development["SECURE_HSTS_SECONDS"] == 0
    assert development["SECURE_SSL_REDIRECT"] is False
    assert development["SESSION_COOKIE_SECURE"] is False


# --- Chromium: no page violates the policy ---------------------------------------------------------------------

_RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.effectiveDirective} blocked ${e.blockedURI} at ${e.sourceFile}:${e.lineNumber}`);
});
"""


@pytest.fixture
def chromium():
    import os

    from tests.test_browser import CHROMIUM, CHROMIUM_ARGS

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (make test does as root)")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


class Watched:
    """A browser context that records every CSP violation, from the page's events and from the console."""

    def __init__(self, browser):
        self.context = browser.new_context(locale="zh-CN")
        self.context.add_init_script(_RECORD_VIOLATIONS)
        self.page = self.context.new_page()
        self.console = []
        self.page.on(
            "console",
            lambda message: self.console.append(message.text) if "Content Security Policy" in message.text else None,
        )

    def login(self, base, username, password):
        self.page.goto(base + "/accounts/login/")
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", password)
        self.page.click("main button[type=submit]")
        self.page.wait_for_load_state()
        pass_second_factor(self.page, username)

    def visit(self, url):
        """Open the page and return (the Content-Security-Policy it was sent, the violations it caused)."""
        self.console.clear()
        response = self.page.goto(url)
        assert response.status == 200, (url, response.status)
        # Swagger UI fetches the schema after load; networkidle also lets queued violation events arrive.
        self.page.wait_for_load_state("networkidle")
        violations = self.page.evaluate("window.__cspViolations") + self.console
        return response.headers.get("content-security-policy"), violations


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_chromium_loads_every_page_family_without_a_violation(chromium, live_server, page_families):
    """Controls: the policy and the inline-free pages, as a browser enforces them: each family is loaded as its
    user and must send the policy and trigger no violation (a blocked inline script or style, a data: image …)."""
    from tests.factories import TEST_PASSWORD

    sessions = {}
    for family, (path, user) in page_families.items():
        key = user.username if user else None
        if key not in sessions:
            sessions[key] = Watched(chromium)
            if user is not None:
                sessions[key].login(live_server.url, user.username, TEST_PASSWORD)
        policy, violations = sessions[key].visit(live_server.url + path)
        assert policy is not None and parse_policy(policy) == EXPECTED_POLICY, family
        assert violations == [], family


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_scripts_moved_to_static_files_still_work(chromium, live_server, page_families):
    """The code that left the pages still runs from its static files: Swagger UI lists the API's operations, the
    periodic-task form reads the crontab in words, the export form's "select all" box clears every column."""
    from tests.factories import TEST_PASSWORD

    anonymous = Watched(chromium)
    anonymous.visit(live_server.url + "/api/docs/")
    anonymous.page.wait_for_selector(".opblock", timeout=15_000)
    assert anonymous.page.locator(".opblock").count() > 3

    sysadmin = Watched(chromium)
    user = page_families["periodic task form"][1]
    sysadmin.login(live_server.url, user.username, TEST_PASSWORD)
    sysadmin.visit(live_server.url + page_families["periodic task form"][0])
    readable = json.loads(sysadmin.page.locator("#readable-crontabs").text_content())
    crontab_id, words = next(iter(readable.items()))
    sysadmin.page.select_option("#id_crontab", crontab_id)
    assert words in sysadmin.page.locator(".field-crontab .help").inner_text()

    officer = Watched(chromium)
    user = page_families["export page"][1]
    officer.login(live_server.url, user.username, TEST_PASSWORD)
    officer.visit(live_server.url + page_families["export page"][0])
    boxes = officer.page.locator('.selectable-field-export-row input[type="checkbox"]:not(.select-toggle)')
    assert boxes.count() > 1
    officer.page.uncheck("#select-all-toggle")
    assert all(not boxes.nth(i).is_checked() for i in range(boxes.count()))
