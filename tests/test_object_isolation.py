"""Object-level isolation (issue 8, item 2; Art 10(1) "access permissions"; DESIGN.md: "A provider or enterprise
user can never see another organisation's records: the answer is 404").

Guards: the organisation filter of every detail, update and download URL. For each of them, a user of another
organisation with the same role gets 404 — not 403, which would confirm that the record exists, and not 200 —
for GET and, on update URLs, for POST; the anonymous public is sent to the login page (the API answers 401).
Removing the organisation filter from any of these views (or the county or institution scope from the admin)
makes a test here fail. The same URL answered to the owner (side A) is checked too, so a 404 here can never
come from a record that does not exist.
"""

from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import reverse

from complaints.models import Complaint
from tests.factories_matrix import (  # noqa: F401  (the *_fixture functions are fixtures)
    ADMIN_OBJECTS,
    URL_KWARGS,
    first_attachment,
    matrix_media_fixture,
    matrix_media_root_fixture,
    world_fixture,
)
from tests.test_url_matrix import LOGIN, client_for, outcome, request_as, url_patterns

pytestmark = pytest.mark.django_db

PROVIDER, ENTERPRISE, APPLICANT, COUNTY, ASSESSOR = "provider", "enterprise", "applicant", "county", "assessor"
EVERY_ORGANISATION = (ENTERPRISE, PROVIDER, APPLICANT, COUNTY, ASSESSOR)

# Every portal URL that names a record: which other-organisation users (side B) must get 404 for side A's record,
# and whether it changes anything (then POST is refused with 404 too). "post" alone: the view accepts only POST.
GET, POST, BOTH = ("get",), ("post",), ("get", "post")
OBJECT_URLS = {
    "document_download": (EVERY_ORGANISATION, GET),
    "job_status": (EVERY_ORGANISATION, GET),
    "notification_read": ((ENTERPRISE, PROVIDER), POST),
    "provider:case_detail": ((PROVIDER,), BOTH),
    "provider:case_attachment": ((PROVIDER, COUNTY, ENTERPRISE, ASSESSOR), GET),
    "provider:revocation_detail": ((PROVIDER,), BOTH),
    "provider:complaint_detail": ((PROVIDER,), BOTH),
    "provider:appeal_detail": ((PROVIDER,), GET),
    "provider:application_withdraw": ((APPLICANT, PROVIDER), POST),
    "provider:application_attachment": ((APPLICANT, PROVIDER), GET),
    "provider:registration_attachment": ((PROVIDER,), GET),
    "provider:product_edit": ((PROVIDER,), BOTH),
    "provider:contract_detail": ((PROVIDER,), GET),
    "provider:contract_edit": ((PROVIDER,), BOTH),
    "provider:contract_milestone_new": ((PROVIDER,), BOTH),
    "provider:contract_milestone_edit": ((PROVIDER,), BOTH),
    "provider:contract_milestone_delete": ((PROVIDER,), BOTH),
    "provider:contract_item_new": ((PROVIDER,), BOTH),
    "provider:contract_item_edit": ((PROVIDER,), BOTH),
    "provider:contract_item_delete": ((PROVIDER,), BOTH),
    "provider:contract_nda": ((PROVIDER,), BOTH),
    "provider:contract_submit": ((PROVIDER,), POST),
    "provider:contract_recall": ((PROVIDER,), POST),
    "provider:contract_start": ((PROVIDER,), POST),
    "provider:contract_progress_new": ((PROVIDER,), BOTH),
    "provider:contract_change_new": ((PROVIDER,), BOTH),
    "provider:contract_change_withdraw": ((PROVIDER,), POST),
    "provider:contract_acceptance_new": ((PROVIDER,), BOTH),
    "provider:contract_attachment": ((PROVIDER,), GET),
    "provider:diagnosis_detail": ((PROVIDER,), BOTH),
    "provider:diagnosis_finding_edit": ((PROVIDER,), BOTH),
    "provider:diagnosis_attachment": ((PROVIDER,), GET),
    "provider:dossier_survey_new": ((PROVIDER,), BOTH),
    "provider:dossier_survey_detail": ((PROVIDER,), GET),
    "provider:dossier_survey_edit": ((PROVIDER,), BOTH),
    # A matchmaking event of another county the provider did not attend: no intention can name it.
    "provider:intention_new": ((PROVIDER,), BOTH),
    "provider:training_detail": ((PROVIDER,), BOTH),
    "provider:training_edit": ((PROVIDER,), BOTH),
    "provider:training_attachment": ((PROVIDER,), GET),
    "enterprise:complaint_detail": ((ENTERPRISE,), GET),
    "enterprise:complaint_attachment": ((ENTERPRISE,), GET),
    "enterprise:survey_detail": ((ENTERPRISE,), BOTH),
    "enterprise:contract_detail": ((ENTERPRISE,), BOTH),
    "enterprise:contract_attachment": ((ENTERPRISE,), GET),
    "enterprise:intention_answer": ((ENTERPRISE,), POST),
    "enterprise:diagnosis_detail": ((ENTERPRISE,), GET),
    "enterprise:diagnosis_attachment": ((ENTERPRISE,), GET),
    "enterprise:training_material": ((ENTERPRISE,), GET),
    # Another enterprise's consent can be neither seen nor revoked.
    "enterprise:consent_revoke": ((ENTERPRISE,), BOTH),
    # The dossier: the enterprise itself, a provider with a contract, its county, an assigned assessor.
    "dossier:detail": ((ENTERPRISE, PROVIDER, COUNTY, ASSESSOR, APPLICANT), GET),
    "dossier:pdf": ((ENTERPRISE, PROVIDER, COUNTY, ASSESSOR, APPLICANT), POST),
    # The API's own records: the roles that have a rule for the endpoint (the others get 403 for all of it).
    "v1:me-contract-detail": ((ENTERPRISE, PROVIDER, COUNTY, ASSESSOR), GET),
    "v1:me-case-detail": ((PROVIDER, COUNTY), GET),
    "v1:me-survey-detail": ((ENTERPRISE, PROVIDER, COUNTY), GET),
    "v1:me-complaint-detail": ((ENTERPRISE, PROVIDER, COUNTY), GET),
}

# URLs with parameters that name public records (or check a printed code): nobody is isolated from them.
PUBLIC_OBJECT_URLS = {
    "verify_document",
    "verify_document_download",
    "public:blacklist_detail",
    "public:provider_detail",
    "public:excellent_detail",
    "public:announcement_detail",
    "downloads:file",
    "v1:blacklist-detail",
    "v1:provider-detail",
    "v1:excellent-batch-detail",
    "v1:announcement-detail",
    # A matchmaking event is announced to every provider; registering acts on the provider's own attendance.
    "provider:event_register",
}

# Who owns side A's record (default: the provider for provider pages, the enterprise for enterprise pages and the
# API). The owner must reach the view — the page, an action's redirect, or 400 for the empty form of a page with
# several actions — which proves the 404s below are not about a record that does not exist.
OWNER = {
    "v1:me-case-detail": PROVIDER,
    "document_download": PROVIDER,
    "job_status": ENTERPRISE,
    "notification_read": ENTERPRISE,
    "provider:case_attachment": PROVIDER,
    "provider:application_withdraw": APPLICANT,
    "provider:application_attachment": APPLICANT,
    "dossier:detail": ENTERPRISE,
    "dossier:pdf": ENTERPRISE,
}


def _urls(key, w):
    kwargs = URL_KWARGS[key](w.a, w)
    return [reverse(key, kwargs=kw) for kw in (kwargs if isinstance(kwargs, list) else [kwargs])]


def client_for_other(role, w):
    """A client signed in as the side-B user of the role: another organisation than side A's records."""
    client = Client()
    client.force_login(w.other_users[role])
    return client


def _owner(key):
    return OWNER.get(key) or (ENTERPRISE if key.startswith(("enterprise:", "v1:")) else PROVIDER)


@pytest.mark.parametrize("key", sorted(OBJECT_URLS))
def test_another_organisation_gets_404_and_the_public_the_login_page(world, key):
    others, methods = OBJECT_URLS[key]
    is_api = key.startswith("v1:")
    for url in _urls(key, world):
        owner = client_for(_owner(key), world)
        for method in methods:
            got = request_as(owner, method, url).status_code
            assert got in (200, 302, 400), f"{method.upper()} {url} by its owner: {got} (the record must exist)"
        for role in others:
            client = client_for_other(role, world)
            for method in methods:
                got = request_as(client, method, url).status_code
                assert got == 404, f"{method.upper()} {url} by {role} of another organisation: {got}, not 404"
        anonymous = client_for("anonymous", world)
        for method in methods:
            response = request_as(anonymous, method, url)
            if is_api:
                assert response.status_code == 401, f"{url} without credentials: {response.status_code}"
            else:
                ok, observed = outcome(response, LOGIN)
                assert ok, f"{method.upper()} {url} anonymously: {observed}, not the login page"


def test_every_url_that_names_a_record_is_isolated_or_public():
    """Guards the list above: a new portal URL with parameters must be declared isolated (with the roles that
    must get 404) or public."""
    with_parameters = {key for key, route in url_patterns() if "<" in route and not key.startswith("admin")}
    assert with_parameters - set(OBJECT_URLS) - PUBLIC_OBJECT_URLS == set()
    assert set(OBJECT_URLS) | PUBLIC_OBJECT_URLS <= with_parameters


# --- Records named in the query string or in a form ------------------------------------------------------------


def test_an_appeal_cannot_name_another_providers_case(world):
    """Guards complaints.views_provider._resolve_target: the appeal form's `target=` parameter."""
    url = (
        reverse("provider:appeal_new")
        + "?"
        + urlencode({"type": 4, "target": f"evaluations.rectificationcase:{world.a.case.pk}"})
    )
    assert request_as(client_for(PROVIDER, world), "get", url).status_code == 200
    for method in ("get", "post"):
        assert request_as(client_for_other(PROVIDER, world), method, url).status_code == 404


def test_a_complaint_form_does_not_preselect_or_accept_another_enterprises_contract(world):
    """Guards complaints.views_enterprise._initial_from_query and the form's contract choices."""
    contract = world.a.contract
    url = reverse("enterprise:complaint_new")
    client = client_for_other(ENTERPRISE, world)
    page = client.get(f"{url}?contract={contract.pk}")
    assert page.status_code == 200
    assert contract.number not in page.content.decode()
    before = Complaint.objects.count()
    response = request_as(
        client,
        "post",
        url,
        {
            "provider": contract.provider_id,
            "contract": contract.pk,
            "category": Complaint._meta.get_field("category").choices[0][0],
            "description": "以他人合同投诉。",
        },
    )
    assert response.status_code == 200  # the form again, with the contract refused
    assert "contract" in response.context["form"].errors
    assert Complaint.objects.count() == before


# --- The admin: a county bureau sees its county, an institution its assigned enterprises ------------------------
#
# Models the admin limits to the county's (or the institution's) records. The provider registry (providers,
# applications, registration changes, products), reference data and public lists are city-wide by design
# (roles.REGISTRY_READ) and are not listed here.
ADMIN_SCOPED = {
    COUNTY: [
        "enterprises.pilotenterprise",
        "enterprises.servicecontract",
        "enterprises.matchmakingevent",
        "enterprises.trainingsession",
        "enterprises.diagnosisreport",
        "enterprises.dossiersurvey",
        "evaluations.rectificationcase",
        "evaluations.revocationcase",
        "evaluations.satisfactionrating",
        "evaluations.inspection",
        "evaluations.assessorassignment",
        "evaluations.levelassessment",
        "complaints.complaint",
        "complaints.appeal",
    ],
    ASSESSOR: [
        "enterprises.pilotenterprise",
        "enterprises.servicecontract",
        "evaluations.assessorassignment",
        "evaluations.levelassessment",
    ],
}

# The admins' file views ("attachment", or "file" for contracts).
FILE_VIEW = {"enterprises.servicecontract": "file"}
FILES = {
    "providers.providerapplication",
    "providers.registrationchange",
    "enterprises.servicecontract",
    "enterprises.trainingsession",
    "enterprises.diagnosisreport",
    "evaluations.rectificationcase",
    "evaluations.revocationcase",
    "evaluations.inspection",
    "evaluations.assessorassignment",
    "evaluations.levelassessment",
    "complaints.complaint",
    "complaints.appeal",
}


def _admin_pages(label, w):
    app_label, model_name = label.split(".")
    obj = ADMIN_OBJECTS[label](w)
    info = f"admin:{app_label}_{model_name}"
    pages = [("get", reverse(f"{info}_change", args=[obj.pk])), ("get", reverse(f"{info}_history", args=[obj.pk]))]
    # A POST to a change page is the admin's update: refused for another county's record before anything else.
    pages.append(("post", reverse(f"{info}_change", args=[obj.pk])))
    if label in FILES:
        view = FILE_VIEW.get(label, "attachment")
        pages.append(("get", reverse(f"{info}_{view}", args=[obj.pk, first_attachment(obj).pk])))
    return pages


@pytest.mark.parametrize(
    ("role", "label"), [(role, label) for role, labels in ADMIN_SCOPED.items() for label in labels]
)
def test_admin_records_of_another_county_or_institution_answer_404(world, role, label):
    own, other = client_for(role, world), client_for_other(role, world)
    for method, url in _admin_pages(label, world):
        if method == "get":
            assert request_as(own, method, url).status_code == 200, f"{url} for the record's own {role}"
        got = request_as(other, method, url).status_code
        assert got == 404, f"{method.upper()} {url} by a {role} user of another organisation: {got}, not 404"


def test_an_assessor_cannot_score_or_finalise_another_institutions_assessment(world):
    """Guards the assessment admin's scope on its own views (score sheet and actions)."""
    draft = world.a.assessment_draft
    own, other = client_for(ASSESSOR, world), client_for_other(ASSESSOR, world)
    for url in (
        reverse("admin:evaluations_levelassessment_score", args=[draft.pk]),
        reverse("admin:evaluations_levelassessment_act", args=[draft.pk, "finalise"]),
    ):
        assert request_as(own, "get", url).status_code == 200
        for method in ("get", "post"):
            assert request_as(other, method, url).status_code == 404, url
