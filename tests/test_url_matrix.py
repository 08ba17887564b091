"""The role × URL matrix (issue 8, item 2; GB/T 22239 level 3, access control): every URL pattern of the portal
— pages, the API and every admin page — declares what each role gets, and each declaration is requested.

Guards: least privilege on every URL. A view that loses its login or role check, an admin that answers a role
beyond (or short of) the permissions roles.ROLE_PERMISSIONS gives it, a new way for a role to write in the admin
(ADMIN_WRITE_SURFACE), and a new URL pattern nobody declared (the meta-tests) all fail a test below.

How to read it: PAGES declares the portal's own URLs by groups (PUBLIC, SIGNED_IN, PROVIDER_PAGE, …) with
exceptions per role; the admin's model pages are derived from each role's permissions (roles.ROLE_PERMISSIONS)
and ADMIN_POLICY, which says which permission each admin asks for (or that it offers an operation to nobody).
Parameterised URLs name the side-A records of tests/factories_matrix.py, which the matrix users act for.
"""

from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

import pytest
from django.conf import settings
from django.contrib import admin
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tangshan_portal.roles import ROLE_PERMISSIONS, STAFF_ROLES, Role
from tests.factories_matrix import (  # noqa: F401  (the *_fixture functions are fixtures)
    ADMIN_OBJECTS,
    URL_KWARGS,
    admin_object_id,
    first_attachment,
    matrix_media_fixture,
    matrix_media_root_fixture,
    world_fixture,
)

# --- Expected answers --------------------------------------------------------------------------------------

LOGIN = "302 → login"  # the portal's login page, with ?next=
ADMIN_LOGIN = "302 → admin login"
DONE = "302"  # a redirect to a page that is not a login page: the view acted, or refused with a message
TO_APPLICATION = "302 → application"  # an applicant not yet admitted is sent to its application's status
REFUSED = "403 or 404"  # admin object pages only, for a role without the permission (see _admin_object)

REDIRECT_TARGETS = {
    LOGIN: settings.LOGIN_URL if settings.LOGIN_URL.startswith("/") else reverse(settings.LOGIN_URL),
    ADMIN_LOGIN: reverse("admin:login"),
    TO_APPLICATION: reverse("provider:application_status"),
}

# The columns: the anonymous public, every role, and the applicant — a provider-role account whose company
# applied to the pool and is not admitted yet (anyone on the internet can become one at /apply/).
ANONYMOUS, APPLICANT = "anonymous", "applicant"
ROLES = [
    ANONYMOUS,
    Role.ENTERPRISE.value,
    Role.PROVIDER.value,
    APPLICANT,
    *(role.value for role in Role if role not in (Role.ENTERPRISE, Role.PROVIDER)),
]
STAFF = {role.value for role in STAFF_ROLES}


def answers(default, **per_role):
    unknown = set(per_role) - set(ROLES)
    assert not unknown, unknown
    return {role: per_role.get(role, default) for role in ROLES}


PUBLIC = answers(200)
SIGNED_IN = answers(200, anonymous=LOGIN)
PROVIDER_PAGE = answers(403, anonymous=LOGIN, provider=200, applicant=TO_APPLICATION)
ENTERPRISE_PAGE = answers(403, anonymous=LOGIN, enterprise=200)
GET_NOT_ALLOWED = answers(405)
# The bureau roles that read cases and the register of issued documents (roles.CASES_READ, DOCUMENTS_READ).
CASE_READERS = {"county": 200, "officer": 200, "approver": 200, "auditor": 200}
DOCUMENT_READERS = {"officer": 200, "approver": 200, "auditor": 200}
# Who sees an enterprise's dossier (dossiers.selectors.dossier_access): the enterprise, a provider with a
# contract, its county, the bureau, an assigned assessor; everyone else 404.
DOSSIER_READERS = dict.fromkeys(("enterprise", "provider", "county", "officer", "approver", "assessor", "auditor"), 200)
# The /api/v1/me/ endpoints: 401 without credentials (token authentication answers with a challenge), 403 for
# a role without a rule for the endpoint (opendata.api_permissions).
API_ME = answers(403, anonymous=401)
API_CONTRACTS = {**API_ME, **dict.fromkeys(["enterprise", "provider", "assessor"], 200), **CASE_READERS}


@dataclass
class Route:
    get: dict
    post: dict = None  # the answers to a POST of `data`, when given (actions that only accept POST)
    query: dict = field(default_factory=dict)
    data: dict = field(default_factory=dict)


def post_only(answers, data=None):
    """A view that only accepts POST: GET is 405 for everyone, the POST answers are given."""
    return Route(get=GET_NOT_ALLOWED, post=answers, data=data or {})


PAGES = {
    "home": Route(PUBLIC),
    "healthz": Route(PUBLIC),
    "readyz": Route(PUBLIC),
    "set_language": Route(answers(DONE)),
    "login": Route(answers(DONE, anonymous=200)),
    "logout": Route(GET_NOT_ALLOWED, post=answers(DONE)),
    "password_change": Route(SIGNED_IN),
    "password_change_done": Route(SIGNED_IN),
    # The second factor (tangshan_portal/otp.py), for sessions that passed it (tests/conftest.py): the enrolment
    # page shows the staff's device state and offers the others voluntary enrolment; the code page has nothing
    # left to ask and sends everyone on. tests/test_otp.py covers the sessions that still owe the code.
    "otp_setup": Route(SIGNED_IN),
    "otp_verify": Route(answers(DONE, anonymous=LOGIN)),
    "verify_start": Route(PUBLIC),
    "verify_document": Route(PUBLIC),
    "verify_document_download": Route(PUBLIC),
    "documents_mine": Route(SIGNED_IN),
    # A notice addressed to provider A: its staff and the bureau roles that read the register.
    "document_download": Route(answers(404, anonymous=LOGIN, provider=200, **DOCUMENT_READERS)),
    # Enterprise A's user's own job; nobody else's, whatever their role.
    "job_status": Route(answers(404, anonymous=LOGIN, enterprise=200)),
    "notifications": Route(SIGNED_IN),
    "notification_read": post_only(answers(404, anonymous=LOGIN, enterprise=DONE)),
    # --- Provider pages
    "provider:home": Route(PROVIDER_PAGE),
    "provider:case_list": Route(PROVIDER_PAGE),
    "provider:case_detail": Route(PROVIDER_PAGE),
    # Evidence of a case: whoever may read the case (rectification_cases_visible_to), else 404.
    "provider:case_attachment": Route(answers(404, anonymous=LOGIN, provider=200, **CASE_READERS)),
    "provider:revocation_detail": Route(PROVIDER_PAGE),
    "provider:complaint_list": Route(PROVIDER_PAGE),
    "provider:complaint_detail": Route(PROVIDER_PAGE),
    "provider:rating_list": Route(PROVIDER_PAGE),
    "provider:appeal_list": Route(PROVIDER_PAGE),
    "provider:appeal_new": Route(PROVIDER_PAGE, query={"type": "4", "target": "case"}),
    "provider:appeal_detail": Route(PROVIDER_PAGE),
    # The application pages are the applicant's (provider A was admitted long ago and has none of its own).
    "provider:application_status": Route(answers(403, anonymous=LOGIN, provider=200, applicant=200)),
    "provider:application_withdraw": post_only(answers(403, anonymous=LOGIN, provider=404, applicant=TO_APPLICATION)),
    "provider:application_attachment": Route(answers(403, anonymous=LOGIN, provider=404, applicant=200)),
    "provider:registration_list": Route(PROVIDER_PAGE),
    "provider:registration_new": Route(PROVIDER_PAGE),
    "provider:registration_attachment": Route(PROVIDER_PAGE),
    "provider:product_list": Route(PROVIDER_PAGE),
    "provider:product_new": Route(PROVIDER_PAGE),
    "provider:product_edit": Route(PROVIDER_PAGE),
    "provider:contract_list": Route(PROVIDER_PAGE),
    "provider:contract_new": Route(PROVIDER_PAGE),
    "provider:contract_detail": Route(PROVIDER_PAGE),
    "provider:contract_edit": Route(PROVIDER_PAGE),
    "provider:contract_milestone_new": Route(PROVIDER_PAGE),
    "provider:contract_milestone_edit": Route(PROVIDER_PAGE),
    "provider:contract_milestone_delete": Route(PROVIDER_PAGE),
    "provider:contract_item_new": Route(PROVIDER_PAGE),
    "provider:contract_item_edit": Route(PROVIDER_PAGE),
    "provider:contract_item_delete": Route(PROVIDER_PAGE),
    "provider:contract_nda": Route(PROVIDER_PAGE),
    "provider:contract_submit": post_only({**PROVIDER_PAGE, "provider": DONE}),
    "provider:contract_recall": post_only({**PROVIDER_PAGE, "provider": DONE}),
    "provider:contract_start": post_only({**PROVIDER_PAGE, "provider": DONE}),
    "provider:contract_progress_new": Route(PROVIDER_PAGE),
    "provider:contract_change_new": Route(PROVIDER_PAGE),
    "provider:contract_change_withdraw": post_only({**PROVIDER_PAGE, "provider": DONE}),
    "provider:contract_acceptance_new": Route(PROVIDER_PAGE),
    "provider:contract_attachment": Route(PROVIDER_PAGE),
    "provider:diagnosis_list": Route(PROVIDER_PAGE),
    "provider:diagnosis_new": Route(PROVIDER_PAGE),
    "provider:diagnosis_detail": Route(PROVIDER_PAGE),
    "provider:diagnosis_finding_edit": Route(PROVIDER_PAGE),
    "provider:diagnosis_attachment": Route(PROVIDER_PAGE),
    "provider:dossier_survey_new": Route(PROVIDER_PAGE),
    "provider:dossier_survey_detail": Route(PROVIDER_PAGE),
    "provider:dossier_survey_edit": Route(PROVIDER_PAGE),
    "provider:event_list": Route(PROVIDER_PAGE),
    "provider:event_register": post_only({**PROVIDER_PAGE, "provider": DONE}),
    "provider:intention_new": Route(PROVIDER_PAGE),
    "provider:training_list": Route(PROVIDER_PAGE),
    "provider:training_new": Route(PROVIDER_PAGE),
    "provider:training_detail": Route(PROVIDER_PAGE),
    "provider:training_edit": Route(PROVIDER_PAGE),
    "provider:training_attachment": Route(PROVIDER_PAGE),
    # --- Enterprise pages
    "enterprise:home": Route(ENTERPRISE_PAGE),
    "enterprise:complaint_list": Route(ENTERPRISE_PAGE),
    "enterprise:complaint_new": Route(ENTERPRISE_PAGE),
    "enterprise:complaint_detail": Route(ENTERPRISE_PAGE),
    "enterprise:complaint_attachment": Route(ENTERPRISE_PAGE),
    "enterprise:survey_list": Route(ENTERPRISE_PAGE),
    "enterprise:survey_detail": Route(ENTERPRISE_PAGE),
    "enterprise:contract_list": Route(ENTERPRISE_PAGE),
    "enterprise:contract_detail": Route(ENTERPRISE_PAGE),
    "enterprise:contract_attachment": Route(ENTERPRISE_PAGE),
    "enterprise:intention_list": Route(ENTERPRISE_PAGE),
    "enterprise:intention_answer": post_only({**ENTERPRISE_PAGE, "enterprise": DONE}, data={"answer": "confirm"}),
    "enterprise:diagnosis_detail": Route(ENTERPRISE_PAGE),
    "enterprise:diagnosis_attachment": Route(ENTERPRISE_PAGE),
    "enterprise:training_attended": Route(ENTERPRISE_PAGE),
    "enterprise:training_material": Route(ENTERPRISE_PAGE),
    "enterprise:dossier": Route(ENTERPRISE_PAGE),
    "enterprise:dossier_pdf": post_only({**ENTERPRISE_PAGE, "enterprise": DONE}),
    # Consent to share the dossier (Art 10(1)): the enterprise's own pages; the revocation page names its consent.
    "enterprise:consent_list": Route(ENTERPRISE_PAGE),
    "enterprise:consent_new": Route(ENTERPRISE_PAGE),
    "enterprise:consent_revoke": Route(ENTERPRISE_PAGE),
    "provider:consent_list": Route(PROVIDER_PAGE),
    # --- The dossier of enterprise A
    "dossier:detail": Route(answers(404, anonymous=LOGIN, **DOSSIER_READERS)),
    "dossier:pdf": post_only(answers(404, anonymous=LOGIN, **dict.fromkeys(DOSSIER_READERS, DONE))),
    # --- Public portal, downloads, API
    "public:blacklist": Route(PUBLIC),
    "public:blacklist_history": Route(PUBLIC),
    "public:blacklist_detail": Route(PUBLIC),
    "public:provider_directory": Route(PUBLIC),
    "public:provider_detail": Route(PUBLIC),
    "public:excellent_list": Route(PUBLIC),
    "public:excellent_detail": Route(PUBLIC),
    "public:announcement_list": Route(PUBLIC),
    "public:announcement_detail": Route(PUBLIC),
    "public:apply": Route(PUBLIC),
    "public:admission_notices": Route(PUBLIC),
    "downloads:index": Route(PUBLIC),
    "downloads:ocds": Route(PUBLIC),
    "downloads:file": Route(PUBLIC),
    "v1:blacklist-list": Route(PUBLIC),
    "v1:blacklist-history": Route(PUBLIC),
    "v1:blacklist-detail": Route(PUBLIC),
    "v1:provider-list": Route(PUBLIC),
    "v1:provider-detail": Route(PUBLIC),
    "v1:excellent-batch-list": Route(PUBLIC),
    "v1:excellent-batch-detail": Route(PUBLIC),
    "v1:announcement-list": Route(PUBLIC),
    "v1:announcement-detail": Route(PUBLIC),
    "v1:changes": Route(PUBLIC),
    "v1:me-contract-list": Route(API_CONTRACTS),
    "v1:me-contract-detail": Route(API_CONTRACTS),
    "v1:me-case-list": Route({**API_ME, "provider": 200, **CASE_READERS}),
    "v1:me-case-detail": Route({**API_ME, "provider": 200, **CASE_READERS}),
    "v1:me-survey-list": Route({**API_ME, "enterprise": 200, "provider": 200, **CASE_READERS}),
    "v1:me-survey-detail": Route({**API_ME, "enterprise": 200, "provider": 200, **CASE_READERS}),
    "v1:me-complaint-list": Route({**API_ME, "enterprise": 200, "provider": 200, **CASE_READERS}),
    "v1:me-complaint-detail": Route({**API_ME, "enterprise": 200, "provider": 200, **CASE_READERS}),
    "api-schema": Route(PUBLIC),
    "api-docs": Route(PUBLIC),
}


# --- The admin -----------------------------------------------------------------------------------------------
#
# Which permission each admin asks for: by default the model's own view/add/change/delete permission; here the
# exceptions — a service permission instead (e.g. opening a case), or None: the admin offers it to nobody
# (records written only by services, never deleted). Every registered admin must be listed (the meta-test).

NEVER = None
READ_ONLY = {"add": NEVER, "change": NEVER, "delete": NEVER}
SERVICES_ONLY = READ_ONLY  # a read-only page with actions that call the services (admin_actions.py)

ADMIN_POLICY = {
    "auth.group": {},
    "portal.county": {"delete": NEVER},
    "portal.scenario": {"delete": NEVER},
    "portal.organisation": {"delete": NEVER},
    "portal.user": {"delete": NEVER},
    "portal.auditevent": READ_ONLY,
    "portal.auditcheckpoint": READ_ONLY,
    "portal.workcalendarday": {},
    "portal.issueddocument": READ_ONLY,
    "portal.backgroundjob": READ_ONLY,
    # Published announcements and batches are fixed (the matrix names published ones).
    "portal.announcement": {"change": NEVER, "delete": NEVER},
    # Authenticators are created by their owners on the enrolment page and never edited; deleting one is the
    # security administrator's reset (tangshan_portal/otp.py).
    "portal.authenticatordevice": {"add": NEVER, "change": NEVER},
    "providers.provider": {"delete": NEVER},
    "providers.providerapplication": SERVICES_ONLY,
    "providers.registrationchange": {**SERVICES_ONLY, "add": "providers.record_registration_change"},
    "providers.product": READ_ONLY,
    "providers.productpricechange": READ_ONLY,
    "enterprises.pilotenterprise": {"delete": NEVER},
    "enterprises.servicecontract": {"delete": NEVER},
    "enterprises.matchmakingevent": {"delete": NEVER},
    "enterprises.trainingsession": READ_ONLY,
    "enterprises.diagnosisreport": READ_ONLY,
    "enterprises.dossiersurvey": READ_ONLY,
    "evaluations.rectificationcase": {**SERVICES_ONLY, "add": "evaluations.manage_rectification"},
    "evaluations.revocationcase": {**SERVICES_ONLY, "add": "evaluations.propose_revocation"},
    "evaluations.blacklistentry": READ_ONLY,
    "evaluations.satisfactionrating": READ_ONLY,
    "evaluations.inspection": {**SERVICES_ONLY, "add": "evaluations.record_inspection"},
    "evaluations.surveyitem": {"delete": NEVER},
    "evaluations.levelstandard": READ_ONLY,
    "evaluations.assessorassignment": {**SERVICES_ONLY, "add": "evaluations.assign_assessor"},
    "evaluations.levelassessment": {**SERVICES_ONLY, "add": "evaluations.record_assessment"},
    "evaluations.excellentbatch": {"change": NEVER, "delete": NEVER},
    "complaints.complaint": SERVICES_ONLY,
    "complaints.appeal": SERVICES_ONLY,
    "django_celery_beat.periodictask": {},
    "django_celery_beat.crontabschedule": {},
    "django_celery_beat.intervalschedule": {},
    "django_celery_beat.clockedschedule": {},
    "django_celery_beat.solarschedule": {},
    "django_celery_results.taskresult": {},
    "django_celery_results.groupresult": {},
    "authtoken.tokenproxy": {},
    # Art 10(1): requests change only through the services (request, approve, reject, carry out); the records that
    # prove a destruction and the enterprises' consents are read-only here.
    "dossiers.destructionrequest": {**SERVICES_ONLY, "add": "dossiers.request_destruction"},
    "dossiers.destructionrecord": READ_ONLY,
    "dossiers.dossierconsent": READ_ONLY,
}


def holds(role, perm):
    return perm is not None and perm in ROLE_PERMISSIONS.get(Role(role), ()) if role in STAFF else False


def _policy(label, operation):
    app_label, model_name = label.split(".")
    default = f"{app_label}.{operation}_{model_name}"
    return ADMIN_POLICY[label].get(operation, default)


def needs(*perms, granted=200, refused=403):
    """Staff holding every one of `perms` get `granted`, other staff `refused`; everyone else the admin login."""
    return {
        role: (granted if all(holds(role, p) for p in perms) else refused) if role in STAFF else ADMIN_LOGIN
        for role in ROLES
    }


def _reads(role, label):
    return holds(role, _policy(label, "view")) or holds(role, _policy(label, "change"))


def _admin_object(label, operation):
    """An object page: the operation's permission, or reading for the change and history pages. A role without
    it is refused with 403, or with 404 when the admin limits its queryset to the user's scope first
    (ScopedAdminMixin): both refuse without saying more; which one is the admin's implementation."""

    def allowed(role):
        return _reads(role, label) if operation == "view" else holds(role, _policy(label, operation))

    return {role: (200 if allowed(role) else REFUSED) if role in STAFF else ADMIN_LOGIN for role in ROLES}


def _model_routes(label):
    app_label, model_name = label.split(".")
    info = f"admin:{app_label}_{model_name}"
    reading = {role: (200 if _reads(role, label) else 403) if role in STAFF else ADMIN_LOGIN for role in ROLES}
    return {
        f"{info}_changelist": Route(reading),
        f"{info}_add": Route(needs(_policy(label, "add"))),
        f"{info}_change": Route(_admin_object(label, "view")),
        f"{info}_history": Route(_admin_object(label, "view")),
        f"{info}_delete": Route(_admin_object(label, "delete")),
        # The admin's old-style address of an object redirects to its change page, for any staff member.
        f"admin/{app_label}/{model_name}/<path:object_id>/": Route(
            {role: DONE if role in STAFF else ADMIN_LOGIN for role in ROLES}
        ),
    }


def staff_answers(default, **per_role):
    """Staff get `default` unless named; everyone else the admin login."""
    return {role: per_role.get(role, default) if role in STAFF else ADMIN_LOGIN for role in ROLES}


STAFF_ONLY = staff_answers(200)


def _app_index(app_label):
    """An app's index lists the models the role may use; without any, Django answers 404."""
    return {
        role: (200 if any(p.split(".")[0] == app_label for p in ROLE_PERMISSIONS[Role(role)]) else 404)
        if role in STAFF
        else ADMIN_LOGIN
        for role in ROLES
    }


# Admin pages beyond the model pages: the site's own and the extra views of some admins. For actions
# (`act/<action>/`) the record is in a state where the action is possible, so who may take it decides.
ADMIN_PAGES = {
    "admin:index": Route(STAFF_ONLY),
    "admin:login": Route({role: DONE if role in STAFF else 200 for role in ROLES}),
    # Signing out of the admin: staff only by POST; anyone else is sent to the admin's front door.
    "admin:logout": Route({role: 405 if role in STAFF else DONE for role in ROLES}, post=answers(DONE)),
    "admin:password_change": Route(STAFF_ONLY),
    "admin:password_change_done": Route(STAFF_ONLY),
    "admin:jsi18n": Route(STAFF_ONLY),
    # Autocomplete of the account form's organisation: who may read organisations.
    "admin:autocomplete": Route(
        needs("portal.view_organisation"),
        query={"app_label": "portal", "model_name": "user", "field_name": "organisation", "term": ""},
    ),
    # No model has a public page of its own (get_absolute_url): the shortcut finds nothing.
    "admin:view_on_site": Route({role: 404 if role in STAFF else ADMIN_LOGIN for role in ROLES}),
    "admin:app_list": Route({}),  # one request per app label, see _app_index
    "admin/(?P<url>.*)$": Route({role: 404 if role in STAFF else ADMIN_LOGIN for role in ROLES}),
    # Another account's password: the system administrator's (accounts), never the security administrator's
    # (roles) — whoever could set both could sign in as anyone and grant themselves anything.
    "admin:auth_user_password_change": Route(staff_answers(403, sysadmin=200)),
    # Registry import and export (tangshan_portal/imports.py): import needs the registry's add permission (the
    # contracts are only checked against the register, so reading them is enough), export the view permission.
    "admin:providers_provider_import": Route(needs("providers.add_provider")),
    "admin:providers_provider_import_template": Route(needs("providers.add_provider")),
    "admin:providers_provider_process_import": Route(needs("providers.add_provider", granted=405)),
    "admin:providers_provider_export": Route(needs("providers.view_provider")),
    "admin:enterprises_pilotenterprise_import": Route(needs("enterprises.add_pilotenterprise")),
    "admin:enterprises_pilotenterprise_import_template": Route(needs("enterprises.add_pilotenterprise")),
    "admin:enterprises_pilotenterprise_process_import": Route(needs("enterprises.add_pilotenterprise", granted=405)),
    "admin:enterprises_pilotenterprise_export": Route(needs("enterprises.view_pilotenterprise")),
    "admin:enterprises_servicecontract_import": Route(needs("enterprises.view_servicecontract")),
    "admin:enterprises_servicecontract_import_template": Route(needs("enterprises.view_servicecontract")),
    "admin:enterprises_servicecontract_process_import": Route(needs(NEVER)),
    "admin:enterprises_servicecontract_export": Route(needs("enterprises.view_servicecontract")),
    "admin:evaluations_inspection_import": Route(needs("evaluations.record_inspection")),
    "admin:evaluations_inspection_import_template": Route(needs("evaluations.record_inspection")),
    "admin:evaluations_inspection_process_import": Route(needs("evaluations.record_inspection", granted=405)),
    "admin:evaluations_inspection_export": Route(needs("evaluations.view_inspection")),
    # Ratings are the enterprises' own acts: exported, never imported.
    "admin:evaluations_satisfactionrating_import": Route(needs(NEVER)),
    "admin:evaluations_satisfactionrating_import_template": Route(needs(NEVER)),
    "admin:evaluations_satisfactionrating_process_import": Route(needs(NEVER)),
    "admin:evaluations_satisfactionrating_export": Route(needs("evaluations.view_satisfactionrating")),
    # Files of a record: whoever may read the record.
    "admin:providers_providerapplication_attachment": Route(needs("providers.view_providerapplication")),
    "admin:providers_registrationchange_attachment": Route(needs("providers.view_registrationchange")),
    "admin:enterprises_servicecontract_file": Route(needs("enterprises.view_servicecontract")),
    "admin:enterprises_trainingsession_attachment": Route(needs("enterprises.view_trainingsession")),
    "admin:enterprises_diagnosisreport_attachment": Route(needs("enterprises.view_diagnosisreport")),
    "admin:evaluations_rectificationcase_attachment": Route(needs("evaluations.view_rectificationcase")),
    "admin:evaluations_revocationcase_attachment": Route(needs("evaluations.view_revocationcase")),
    "admin:evaluations_inspection_attachment": Route(needs("evaluations.view_inspection")),
    "admin:evaluations_assessorassignment_attachment": Route(needs("evaluations.view_assessorassignment")),
    "admin:evaluations_levelassessment_attachment": Route(needs("evaluations.view_levelassessment")),
    "admin:complaints_complaint_attachment": Route(needs("complaints.view_complaint")),
    "admin:complaints_appeal_attachment": Route(needs("complaints.view_appeal")),
    # Actions: the permission of the transition (or of the service) they run.
    "admin:providers_providerapplication_act": Route(needs("providers.review_application")),
    "admin:providers_registrationchange_act": Route(needs("providers.acknowledge_registration_change")),
    "admin:evaluations_rectificationcase_act": Route(needs("evaluations.manage_rectification")),
    "admin:evaluations_revocationcase_act": Route(needs("evaluations.decide_revocation")),
    "admin:evaluations_inspection_act": Route(needs("evaluations.manage_rectification")),
    "admin:evaluations_assessorassignment_act": Route(needs("evaluations.assign_assessor")),
    "admin:evaluations_levelassessment_act": Route(needs("evaluations.record_assessment")),
    "admin:evaluations_levelassessment_score": Route(needs("evaluations.record_assessment")),
    "admin:complaints_complaint_act": Route(needs("complaints.handle_complaint")),
    "admin:complaints_appeal_act": Route(needs("complaints.review_appeal")),
    "admin:portal_announcement_act": Route(needs("portal.publish_announcement")),
    "admin:evaluations_excellentbatch_act": Route(needs("evaluations.publish_excellent_batch")),
    "admin:dossiers_destructionrequest_act": Route(needs("dossiers.approve_destruction")),
}

# The record and the action each action page is requested with (side A, a state where the action is open).
ADMIN_ACTIONS = {
    "providers_providerapplication": lambda w: (w.a.application, "start_notice"),
    "providers_registrationchange": lambda w: (w.a.registration, "acknowledge"),
    "evaluations_rectificationcase": lambda w: (w.a.case, "withdraw"),
    "evaluations_revocationcase": lambda w: (w.a.revocation, "dismiss"),
    "evaluations_inspection": lambda w: (w.a.inspection, "open_case"),
    "evaluations_assessorassignment": lambda w: (w.a.assignment, "end"),
    "evaluations_levelassessment": lambda w: (w.a.assessment_draft, "finalise"),
    "complaints_complaint": lambda w: (w.a.complaint, "investigate"),
    "complaints_appeal": lambda w: (w.a.appeal, "review"),
    "portal_announcement": lambda w: (w.announcement_draft, "publish"),
    "evaluations_excellentbatch": lambda w: (w.excellent_draft, "publish"),
    "dossiers_destructionrequest": lambda w: (w.destruction_request, "reject"),
}


def admin_routes():
    routes = dict(ADMIN_PAGES)
    for label in ADMIN_POLICY:
        routes.update(_model_routes(label))
    return routes


def _label_of(short_name):
    """'providers_provider_act' -> ('providers.provider', 'act') for a registered admin."""
    for model in admin.site._registry:
        info = f"{model._meta.app_label}_{model._meta.model_name}_"
        if short_name.startswith(info):
            return model._meta.label_lower, short_name[len(info) :]
    return None, None


def admin_requests(key, route, w):
    """The URLs one admin pattern is requested at."""
    if route.query:
        return [reverse(key) + "?" + urlencode(route.query)]
    if key == "admin:app_list":
        return [reverse(key, kwargs={"app_label": label}) for label in sorted(_admin_app_labels())]
    if key == "admin/(?P<url>.*)$":
        return ["/admin/matrix-no-such-page/"]
    if key == "admin:view_on_site":
        from django.contrib.contenttypes.models import ContentType

        ct = ContentType.objects.get_for_model(w.a.provider)
        return [reverse(key, kwargs={"content_type_id": ct.pk, "object_id": w.a.provider.pk})]
    if key == "admin:auth_user_password_change":
        return [reverse(key, kwargs={"id": w.a.provider_user.pk})]
    if key.startswith("admin/"):  # "admin/<app>/<model>/<path:object_id>/"
        app_label, model_name = key.split("/")[1:3]
        return [f"/admin/{app_label}/{model_name}/{admin_object_id(f'{app_label}.{model_name}', w)}/"]
    label, view = _label_of(key.split(":", 1)[1])
    if label is None or view in ("changelist", "add", "import", "import_template", "process_import", "export"):
        return [reverse(key)]
    if view in ("act", "score"):
        obj, action = ADMIN_ACTIONS[key.split(":", 1)[1].rsplit("_", 1)[0]](w)
        kwargs = {"object_id": obj.pk, "action": action} if view == "act" else {"object_id": obj.pk}
        return [reverse(key, kwargs=kwargs)]
    if view in ("attachment", "file"):
        obj = ADMIN_OBJECTS[label](w)
        return [reverse(key, kwargs={"object_id": obj.pk, "attachment_id": first_attachment(obj).pk})]
    return [reverse(key, kwargs={"object_id": admin_object_id(label, w)})]


def _admin_app_labels():
    return {model._meta.app_label for model in admin.site._registry}


def _app_list_answers(url):
    return _app_index(url.rstrip("/").rsplit("/", 1)[1])


# --- Enumeration of the URL patterns -------------------------------------------------------------------------


def _skipped(route):
    prefixes = tuple(p.lstrip("/") for p in (settings.STATIC_URL, settings.MEDIA_URL) if p)
    return route.startswith(prefixes) or route.startswith(tuple("^" + p for p in prefixes))


def url_patterns(resolver=None, prefix="", namespace=None):
    """Every URL pattern as (key, route): the namespaced name, or the route for an unnamed pattern."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            ns = namespace
            if pattern.namespace:
                ns = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from url_patterns(pattern, prefix + str(pattern.pattern), ns)
        elif isinstance(pattern, URLPattern):
            route = prefix + str(pattern.pattern)
            if _skipped(route):
                continue
            if pattern.name:
                yield (f"{namespace}:{pattern.name}" if namespace else pattern.name), route
            else:
                yield route, route


def declared():
    return {**PAGES, **admin_routes()}


def page_requests(key, route, w):
    """The URLs one portal pattern is requested at (side A's records)."""
    kwargs = URL_KWARGS[key](w.a, w) if key in URL_KWARGS else {}
    query = dict(route.query)
    if query.get("target") == "case":
        query["target"] = f"evaluations.rectificationcase:{w.a.case.pk}"
    suffix = "?" + urlencode(query) if query else ""
    return [reverse(key, kwargs=kw) + suffix for kw in (kwargs if isinstance(kwargs, list) else [kwargs])]


# --- Requests ----------------------------------------------------------------------------------------------------


def outcome(response, expected):
    """Whether the response is the expected answer; returns the observed answer for the report."""
    status = response.status_code
    location = response.get("Location", "")
    if status in (301, 302):
        path = urlsplit(location).path
        for token, target in REDIRECT_TARGETS.items():
            if path == target:
                return token == expected, f"302 → {path}"
        return expected == DONE, f"{status} → {path}"
    if expected == REFUSED:
        return status in (403, 404), str(status)
    return status == expected, str(status)


def request_as(client, method, url, data=None):
    # Every request runs in a savepoint that is rolled back: a POST that acts leaves the world as it was for
    # the next request, and the order of the matrix does not matter.
    with transaction.atomic():
        response = client.post(url, data or {}) if method == "post" else client.get(url)
        transaction.set_rollback(True)
    return response


def client_for(role, w):
    client = Client()
    if role != ANONYMOUS:
        client.force_login(w.users[role])
    return client


# Answers that differ from the matrix today. Each is a finding for the lead: the views and admins are not this
# test's to change. The role tests leave these cells out, and test_known_leaks_are_still_open asserts the declared
# answer under xfail(strict=True): once the view is fixed it passes, strict makes that a failure, and the entry
# is removed from here.
KNOWN_LEAKS = {}

# Signing out ends the client's session: these are requested with a client of their own.
SIGNS_OUT = {"logout", "admin:logout"}


def _check(role, keys_and_routes, w, urls_of):
    client = client_for(role, w)
    wrong = []
    checked = 0
    for key, route in keys_and_routes:
        for method, table in (("get", route.get), ("post", route.post)):
            if table is None:
                continue
            if (key, role) in KNOWN_LEAKS:
                continue
            for url in urls_of(key, route, w):
                if key in SIGNS_OUT:
                    client = client_for(role, w)
                expected = _app_list_answers(url)[role] if key == "admin:app_list" else table[role]
                ok, observed = outcome(request_as(client, method, url, route.data), expected)
                checked += 1
                if not ok:
                    wrong.append(f"{method.upper()} {url} [{key}]: expected {expected}, got {observed}")
                if key in SIGNS_OUT:
                    client = client_for(role, w)
    return checked, wrong


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_every_portal_url_answers_each_role_as_declared(world, role):
    checked, wrong = _check(role, PAGES.items(), world, page_requests)
    assert checked >= len(PAGES)
    assert not wrong, f"{role}: {len(wrong)} of {checked} answers differ from the matrix:\n" + "\n".join(wrong)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_every_admin_url_answers_each_role_as_declared(world, role):
    checked, wrong = _check(role, admin_routes().items(), world, admin_requests)
    assert not wrong, f"{role}: {len(wrong)} of {checked} answers differ from the matrix:\n" + "\n".join(wrong)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("key", "role"),
    [
        pytest.param(key, role, marks=pytest.mark.xfail(strict=True, reason=why))
        for (key, role), why in KNOWN_LEAKS.items()
    ],
)
def test_known_leaks_are_still_open(world, key, role):
    route = declared()[key]
    urls_of = admin_requests if key.startswith("admin") else page_requests
    client = client_for(role, world)
    for method, table in (("get", route.get), ("post", route.post)):
        if table is None:
            continue
        for url in urls_of(key, route, world):
            ok, observed = outcome(request_as(client, method, url, route.data), table[role])
            assert ok, f"{method.upper()} {url}: expected {table[role]}, got {observed}"


# What each staff role may write in the admin (a = add, c = change, d = delete), as the admin pages above are
# derived from roles.ROLE_PERMISSIONS and ADMIN_POLICY. The derivation follows the roles by design, so this literal
# is what makes granting a role a new way to write something a visible, reviewed change. Decisions of the
# regulation are not here: they are the actions' own permissions (ADMIN_PAGES), taken through the services.
ADMIN_WRITE_SURFACE = {
    "county": ["enterprises.matchmakingevent:ac"],
    "officer": [
        "portal.announcement:a",
        "providers.provider:ac",
        "providers.registrationchange:a",
        "enterprises.pilotenterprise:ac",
        "enterprises.servicecontract:ac",
        "enterprises.matchmakingevent:ac",
        "evaluations.rectificationcase:a",
        "evaluations.revocationcase:a",
        "evaluations.inspection:a",
        "evaluations.assessorassignment:a",
        "evaluations.excellentbatch:a",
        "dossiers.destructionrequest:a",
    ],
    "approver": [],
    "assessor": ["evaluations.levelassessment:a"],
    "auditor": [],
    "sysadmin": [
        "portal.county:ac",
        "portal.scenario:ac",
        "portal.organisation:ac",
        "portal.user:ac",
        "portal.workcalendarday:acd",
        "evaluations.surveyitem:ac",
        "django_celery_beat.periodictask:acd",
        "django_celery_beat.crontabschedule:acd",
        "django_celery_beat.intervalschedule:acd",
        "django_celery_beat.clockedschedule:acd",
        "django_celery_beat.solarschedule:acd",
        "authtoken.tokenproxy:ad",
    ],
    # Only the account's roles: the admin makes the account's other fields read-only for this role (roles.
    # may_manage_accounts; tests/test_role_separation.py until the admin applies it).
    "secadmin": ["portal.user:c", "portal.authenticatordevice:d"],
}


def test_what_each_role_may_write_in_the_admin_is_declared():
    """Guards least privilege in roles.ROLE_PERMISSIONS: a new write permission for a role (or a new admin that
    offers one) fails here until it is added to ADMIN_WRITE_SURFACE."""
    surface = {}
    for role in sorted(STAFF):
        surface[role] = [
            f"{label}:{ops}"
            for label in ADMIN_POLICY
            if (ops := "".join(op[0] for op in ("add", "change", "delete") if holds(role, _policy(label, op))))
        ]
    assert surface == ADMIN_WRITE_SURFACE


# --- Meta-tests: the matrix covers exactly the URL patterns that exist -------------------------------------------


def test_every_url_pattern_is_in_the_matrix_and_every_entry_still_exists():
    """Guards the matrix itself: a new URL pattern (page, API, admin view or admin model) fails here until its
    answers for every role are declared; a declaration whose pattern was removed fails too."""
    keys = [key for key, _route in url_patterns()]
    duplicates = sorted({key for key in keys if keys.count(key) > 1})
    assert not duplicates, f"URL names used twice (the matrix cannot tell them apart): {duplicates}"
    missing = sorted(set(keys) - set(declared()))
    stale = sorted(set(declared()) - set(keys))
    assert not missing, "URL patterns missing from the role × URL matrix (tests/test_url_matrix.py):\n" + "\n".join(
        missing
    )
    assert not stale, "Matrix entries whose URL pattern no longer exists:\n" + "\n".join(stale)


def test_every_registered_admin_has_a_policy_and_a_record():
    """A newly registered admin must say which permission each of its operations needs, and name a record."""
    labels = {model._meta.label_lower for model in admin.site._registry}
    assert labels == set(ADMIN_POLICY), labels ^ set(ADMIN_POLICY)
    assert labels == set(ADMIN_OBJECTS), labels ^ set(ADMIN_OBJECTS)


def test_every_parameterised_portal_url_names_a_record():
    """Every portal URL with parameters is requested with a real record (else the matrix would only see 404s)."""
    unnamed = [
        key for key, route in url_patterns() if "<" in route and not key.startswith("admin") and key not in URL_KWARGS
    ]
    assert unnamed == [], unnamed


def test_every_role_is_a_column_and_has_a_user():
    """A role added to roles.Role must get a column (and a user in the world) before the matrix can pass."""
    assert {role.value for role in Role} <= set(ROLES)
    assert all(set(table) == set(ROLES) for route in declared().values() for table in (route.get, route.post) if table)
