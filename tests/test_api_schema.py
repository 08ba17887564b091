"""The API's OpenAPI 3 schema, its offline Swagger UI, and a schema-driven fuzzer (schemathesis) that finds no
server error, as anonymous client and as an officer's token client, with data present.

Runs alike on SQLite and on PostgreSQL + Redis (no `services` mark): the fuzzer calls the WSGI application in
the test's transaction."""

import re

import pytest
import schemathesis
import yaml
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import override_settings
from hypothesis import HealthCheck, given, strategies
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.factories_api import public_data, token_for, world

pytestmark = pytest.mark.django_db

PATHS = {
    "/api/v1/blacklist/",
    "/api/v1/blacklist/{id}/",
    "/api/v1/blacklist/history/",
    "/api/v1/providers/",
    "/api/v1/providers/{id}/",
    "/api/v1/excellent-batches/",
    "/api/v1/excellent-batches/{id}/",
    "/api/v1/announcements/",
    "/api/v1/announcements/{id}/",
    "/api/v1/changes/",
    "/api/v1/me/contracts/",
    "/api/v1/me/contracts/{id}/",
    "/api/v1/me/cases/",
    "/api/v1/me/cases/{id}/",
    "/api/v1/me/surveys/",
    "/api/v1/me/surveys/{id}/",
    "/api/v1/me/complaints/",
    "/api/v1/me/complaints/{id}/",
}


def test_the_schema_generates_without_warnings_and_validates(tmp_path):
    target = tmp_path / "schema.yaml"
    # --fail-on-warn turns every drf-spectacular warning (an unresolvable type, an enum collision, a missing
    # serializer) into an error; --validate checks the result against the OpenAPI 3 JSON schema.
    call_command("spectacular", "--api-version", "v1", "--validate", "--fail-on-warn", "--file", str(target))
    schema = yaml.safe_load(target.read_text())
    assert schema["openapi"].startswith("3.")
    assert set(schema["paths"]) == PATHS
    assert all(set(operations) == {"get"} for operations in schema["paths"].values())
    assert "tokenAuth" in schema["components"]["securitySchemes"]


def test_the_schema_is_served_to_anyone(client):
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    assert set(schema["paths"]) == PATHS
    listed = schema["paths"]["/api/v1/blacklist/"]["get"]
    assert {p["name"] for p in listed["parameters"]} == {
        "q",
        "ground",
        "year",
        "status",
        "sort",
        "updated_since",
        "page",
        "page_size",
    }
    changes = schema["paths"]["/api/v1/changes/"]["get"]
    assert {p["name"] for p in changes["parameters"]} == {"after", "resource", "limit"}
    limit = next(p for p in changes["parameters"] if p["name"] == "limit")
    assert limit["schema"]["maximum"] == 1000
    # The role rules are documented on each role endpoint.
    assert "403" in schema["paths"]["/api/v1/me/cases/"]["get"]["description"]
    # Error answers are documented too.
    assert set(schema["paths"]["/api/v1/me/contracts/"]["get"]["responses"]) == {
        "200",
        "400",
        "401",
        "403",
        "404",
        "429",
    }
    assert set(schema["paths"]["/api/v1/providers/{id}/"]["get"]["responses"]) == {"200", "404", "429"}
    # Answers of the public endpoints need no authentication; the role endpoints do.
    assert {} in listed["security"]
    assert {} not in schema["paths"]["/api/v1/me/contracts/"]["get"]["security"]


def test_swagger_ui_is_served_offline(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "js/swagger-ui-init.js" in html
    assert "/api/schema/" in html
    # Nothing from another host: no absolute or protocol-relative URL anywhere in the page.
    assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", html, re.IGNORECASE)
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert len(assets) >= 3
    for asset in assets:
        assert asset.startswith(settings.STATIC_URL), asset
        assert finders.find(asset.removeprefix(settings.STATIC_URL)), asset


# --- The fuzzer --------------------------------------------------------------------------------------------


@pytest.fixture
def wsgi_application():
    """The portal's WSGI application, called inside the test's transaction. Django closes the database
    connection at the end of a request when it is inside a transaction (it looks broken to a real server);
    the test client turns that off, and so does this fixture."""
    from tangshan_portal.wsgi import application

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield application
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_data():
    w = world()
    data = public_data(3)
    # Existing ids for the detail operations, so that the fuzzer also reads real records, not only 404s.
    w.detail_ids = {
        "/api/v1/blacklist/{id}/": [entry.pk for entry in [*data.entries, data.removed]],
        "/api/v1/providers/{id}/": [provider.pk for provider in data.providers],
        "/api/v1/excellent-batches/{id}/": [data.batch.pk],
        "/api/v1/announcements/{id}/": [announcement.pk for announcement in data.announcements],
        **{f"/api/v1/me/{endpoint}/{{id}}/": sorted(pks) for endpoint, pks in w.own["officer"].items()},
    }
    return w


FUZZ_SETTINGS = hypothesis_settings(
    max_examples=20,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
    print_blob=True,
)


@pytest.mark.parametrize("client_kind", ["anonymous", "officer token"])
def test_the_fuzzer_finds_no_server_error(wsgi_application, fuzz_data, client_kind):
    headers = {}
    if client_kind == "officer token":
        headers["Authorization"] = f"Token {token_for(fuzz_data.officer)}"
    rates = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"anon": "100000/minute", "user": "100000/minute"}}
    with override_settings(REST_FRAMEWORK=rates):
        schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", wsgi_application)
        operations = [result.ok() for result in schema.get_all_operations()]
        assert {operation.path for operation in operations} == PATHS
        statuses = {}
        for operation in operations:
            # Valid and invalid input alike: an invalid parameter must answer 4xx, never 5xx.
            variants = [
                operation.as_strategy(GenerationMode.POSITIVE),
                operation.as_strategy(GenerationMode.NEGATIVE),
            ]
            if operation.path in fuzz_data.detail_ids:
                variants.append(
                    strategies.sampled_from(fuzz_data.detail_ids[operation.path]).flatmap(
                        lambda pk, operation=operation: operation.as_strategy(path_parameters={"id": pk})
                    )
                )
            cases = strategies.one_of(*variants)

            @FUZZ_SETTINGS
            @given(case=cases)
            def call(case):
                response = case.call(headers=headers)
                statuses.setdefault(case.operation.path, set()).add(response.status_code)
                # A 200 must also match the documented response schema (types, nullability, required fields).
                case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])

            call()
    # The fuzzer reached every operation and got real answers, not only refusals.
    assert set(statuses) == PATHS
    ok = {path for path, codes in statuses.items() if 200 in codes}
    public = {path for path in PATHS if not path.startswith("/api/v1/me/")}
    own = PATHS - public
    assert public <= ok
    if client_kind == "anonymous":
        assert all(statuses[path] <= {401, 404} for path in own)
        assert all(401 in statuses[path] for path in own)
    else:
        assert own <= ok
