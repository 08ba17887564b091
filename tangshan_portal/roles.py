"""The role groups of DESIGN.md and the model permissions each one holds.

Permissions are declared here, in one place, and written to the groups by `sync_role_groups`, which every
migration that adds models calls again; what a role may *see* beyond model permissions (its organisation,
its county) is enforced by the selectors of each app.

The system administrator, the security administrator and the auditor are separated duties (三权分立): no
account holds two of them, whichever way its group membership changes (see the end of this module).
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.signals import m2m_changed
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ENTERPRISE = "enterprise", _("Pilot enterprise")
    PROVIDER = "provider", _("Service provider")
    COUNTY = "county", _("County bureau")
    OFFICER = "officer", _("Case officer")
    APPROVER = "approver", _("Approver")
    ASSESSOR = "assessor", _("Third-party assessor")
    AUDITOR = "auditor", _("Auditor")
    SYSADMIN = "sysadmin", _("System administrator")
    SECADMIN = "secadmin", _("Security administrator")


# Roles whose users work in the Django admin.
STAFF_ROLES = frozenset(
    {Role.COUNTY, Role.OFFICER, Role.APPROVER, Role.ASSESSOR, Role.AUDITOR, Role.SYSADMIN, Role.SECADMIN}
)

# Separation of the three administrative duties (三权分立, GB/T 22239-2019 level 3): the system administrator
# keeps accounts and reference data, the security administrator decides who holds which role, the auditor
# reads what both did. Whoever held two of them could act and hide it, or grant themselves what they run, so
# no account holds more than one (enforced below, whichever side of the membership changes).
SEPARATED_ROLES = (Role.SYSADMIN, Role.SECADMIN, Role.AUDITOR)

# The fields of an account that say what it may do. Only the security administrator changes them; the system
# administrator keeps everything else about the account (name, organisation, password, whether it is active).
ROLE_ASSIGNMENT_FIELDS = ("groups", "user_permissions", "is_staff", "is_superuser")

REFERENCE = ["portal.view_county", "portal.view_scenario", "portal.view_organisation"]
# The provider pool's admission files and registration changes (Art 2, 12(1)): the city bureau's work, with the
# applicants' contact data and documents, and no county scope. County bureaus have no part in admission, so they
# do not read them (least privilege); the pool itself (providers, products) they read like the public does.
PROVIDER_FILES_READ = [
    "providers.view_providerapplication",
    "providers.view_registrationchange",
]
REGISTRY_READ = [
    "providers.view_provider",
    "providers.view_product",
    "providers.view_productpricechange",
    "enterprises.view_pilotenterprise",
    "enterprises.view_servicecontract",
    "enterprises.view_procurementitem",
    "enterprises.view_progressreport",
    "enterprises.view_changerequest",
    "enterprises.view_internalacceptance",
    "enterprises.view_diagnosisreport",
    "enterprises.view_diagnosisfinding",
    "enterprises.view_dossiersurvey",
    "enterprises.view_matchmakingevent",
    "enterprises.view_eventattendance",
    "enterprises.view_cooperationintention",
    "enterprises.view_trainingsession",
    "enterprises.view_trainingattendance",
]
LEVELS_READ = [
    "evaluations.view_levelstandard",
    "evaluations.view_levelitem",
    "evaluations.view_levelscenario",
    "evaluations.view_levelassessment",
    "evaluations.view_levelitemscore",
    "evaluations.view_scenariolevel",
    "evaluations.view_assessorassignment",
]
# County bureaus hold the matchmaking events of Art 4; the city bureau's officers may too.
EVENTS_WRITE = [
    "enterprises.add_matchmakingevent",
    "enterprises.change_matchmakingevent",
    "enterprises.add_eventattendance",
    "enterprises.change_eventattendance",
    "enterprises.delete_eventattendance",
]
REGISTRY_WRITE = [
    "providers.add_provider",
    "providers.change_provider",
    "enterprises.add_pilotenterprise",
    "enterprises.change_pilotenterprise",
    "enterprises.add_servicecontract",
    "enterprises.change_servicecontract",
]
PUBLIC_READ = [
    "portal.view_announcement",
    "evaluations.view_excellentbatch",
    "evaluations.view_excellententry",
    "opendata.view_publicchange",
]
CASES_READ = [
    "evaluations.view_rectificationcase",
    "evaluations.view_revocationcase",
    "evaluations.view_blacklistentry",
    "evaluations.view_satisfactionrating",
    "enterprises.view_milestone",
    "enterprises.view_feeconsequence",
    "evaluations.view_inspection",
    "evaluations.view_surveyitem",
    "complaints.view_complaint",
    "complaints.view_appeal",
    "django_fsm_log.view_statelog",
]
# The register of issued documents, bureau-wide: county users see their county's cases but not this register,
# which has no county scope.
DOCUMENTS_READ = ["portal.view_issueddocument"]
SCHEDULES = [
    f"django_celery_beat.{action}_{model}"
    for model in ("periodictask", "crontabschedule", "intervalschedule", "clockedschedule", "solarschedule")
    for action in ("view", "add", "change", "delete")
]

# Personal data (phones, contact persons' names) unmasked in admin lists and exports (tangshan_portal.masking), for
# the roles whose work is contacting people: case officers (providers, enterprises, applicants), county bureaus
# (their own county's enterprises, through their scoped admin), assessors (visits to their assigned enterprises) and
# the system administrator (the accounts it keeps). Approvers decide on files and auditors check processes: neither
# calls anyone, so both see masked values — and whoever may edit a record still sees it whole on its form.
PERSONAL_DATA = ["portal.view_personal_data"]
# Art 10(1) records of the dossier (dossiers/): an officer requests the destruction of an enterprise's data at the
# end of service, an approver approves it (never the same person), the auditor reads the requests, the records that
# prove each destruction and the consents enterprises gave.
DESTRUCTION_READ = ["dossiers.view_destructionrequest", "dossiers.view_destructionrecord"]
CONSENTS_READ = ["dossiers.view_dossierconsent"]

ROLE_PERMISSIONS = {
    Role.ENTERPRISE: [],
    Role.PROVIDER: [],
    Role.COUNTY: [*REFERENCE, *REGISTRY_READ, *LEVELS_READ, *CASES_READ, *EVENTS_WRITE, *PUBLIC_READ, *PERSONAL_DATA],
    # Deadlines beyond RECTIFICATION_DAYS_MAX need evaluations.extend_rectification_deadline, which no role
    # holds: the system administrator grants it to named senior officers.
    Role.OFFICER: [
        *REFERENCE,
        *REGISTRY_READ,
        *PROVIDER_FILES_READ,
        *REGISTRY_WRITE,
        *LEVELS_READ,
        *CASES_READ,
        *DOCUMENTS_READ,
        *EVENTS_WRITE,
        *PUBLIC_READ,
        "portal.add_announcement",
        "portal.change_announcement",
        "portal.publish_announcement",
        "evaluations.add_excellentbatch",
        "evaluations.change_excellentbatch",
        "evaluations.add_excellententry",
        "evaluations.change_excellententry",
        "evaluations.delete_excellententry",
        "providers.review_application",
        "providers.acknowledge_registration_change",
        "providers.record_registration_change",
        "evaluations.assign_assessor",
        "evaluations.manage_rectification",
        "evaluations.propose_revocation",
        "evaluations.record_inspection",
        "complaints.handle_complaint",
        *PERSONAL_DATA,
        *DESTRUCTION_READ,
        *CONSENTS_READ,
        "dossiers.request_destruction",
    ],
    Role.APPROVER: [
        *REFERENCE,
        *REGISTRY_READ,
        *PROVIDER_FILES_READ,
        *LEVELS_READ,
        *CASES_READ,
        *DOCUMENTS_READ,
        "evaluations.decide_revocation",
        "evaluations.publish_excellent_batch",
        *PUBLIC_READ,
        "complaints.review_appeal",
        *DESTRUCTION_READ,
        "dossiers.approve_destruction",
    ],
    # Assessors see only the enterprises assigned to their institution (evaluations.selectors).
    Role.ASSESSOR: [
        "portal.view_county",
        "portal.view_scenario",
        "enterprises.view_pilotenterprise",
        "enterprises.view_servicecontract",
        *LEVELS_READ,
        "evaluations.add_levelassessment",
        "evaluations.change_levelassessment",
        "evaluations.record_assessment",
        *PERSONAL_DATA,
    ],
    # The auditor reads everything (including the audit log) and changes nothing: only view_ permissions.
    Role.AUDITOR: [
        *REFERENCE,
        *REGISTRY_READ,
        *PROVIDER_FILES_READ,
        *LEVELS_READ,
        *PUBLIC_READ,
        "authtoken.view_tokenproxy",
        "portal.view_user",
        "auth.view_group",
        "portal.view_auditevent",
        "portal.view_auditcheckpoint",
        "portal.view_notification",
        "portal.view_documentsequence",
        *CASES_READ,
        *DOCUMENTS_READ,
        "django_celery_beat.view_periodictask",
        *DESTRUCTION_READ,
        *CONSENTS_READ,
    ],
    # The system administrator keeps accounts, reference data and schedules, and decides no case. It reads
    # the accounts' roles but does not change them (ROLE_ASSIGNMENT_FIELDS are the security administrator's).
    Role.SYSADMIN: [
        *PERSONAL_DATA,
        "portal.view_user",
        "portal.view_backgroundjob",
        "portal.add_user",
        "portal.change_user",
        "auth.view_permission",
        "auth.view_group",
        "portal.view_organisation",
        "portal.add_organisation",
        "portal.change_organisation",
        "portal.view_county",
        "portal.add_county",
        "portal.change_county",
        "portal.view_scenario",
        "portal.add_scenario",
        "portal.change_scenario",
        "portal.view_workcalendarday",
        "portal.add_workcalendarday",
        "portal.change_workcalendarday",
        "portal.delete_workcalendarday",
        # API tokens for other government systems (Art 10(3)), issued to named service accounts.
        "authtoken.view_tokenproxy",
        "authtoken.add_tokenproxy",
        "authtoken.delete_tokenproxy",
        "evaluations.view_surveyitem",
        "evaluations.add_surveyitem",
        "evaluations.change_surveyitem",
        *SCHEDULES,
    ],
    # The security administrator decides who holds which role and individual permission (the change_user
    # permission lets it save the account form, of which it may change only ROLE_ASSIGNMENT_FIELDS); it creates
    # no account, keeps no reference data, decides no case and does not read the audit log.
    Role.SECADMIN: [
        "portal.view_user",
        "portal.change_user",
        "auth.view_group",
        "auth.view_permission",
        "portal.view_organisation",
        # Resets a lost authenticator (tangshan_portal/otp.py): sees who enrolled, deletes a device, never its
        # secret. Not the system administrator, who sets passwords: one person would hold both factors.
        "portal.view_authenticatordevice",
        "portal.delete_authenticatordevice",
    ],
}


# Permissions granted to individual users on top of their role, the only ones the user admin offers.
INDIVIDUAL_PERMISSIONS = ["evaluations.extend_rectification_deadline"]


def sync_role_groups(apps=None):
    """Create the role groups and set each one's permissions to exactly ROLE_PERMISSIONS.

    Takes the migration's `apps` so migrations can call it with historical models; permissions of models
    that do not exist yet at that point are skipped and picked up by the migration that adds them.
    Returns the permission names that could not be found.
    """
    if apps is None:
        from django.apps import apps as global_apps

        apps = global_apps
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after all migrations ran; a data migration needs them now.
    # Historical app configs have no models_module, which makes create_permissions skip them.
    for app_config in apps.get_app_configs():
        original = getattr(app_config, "models_module", None)
        app_config.models_module = original or True
        try:
            create_permissions(app_config, apps=apps, verbosity=0)
        finally:
            app_config.models_module = original

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    missing = []
    for role, names in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=role.value)
        perms = []
        for name in names:
            app_label, codename = name.split(".", 1)
            perm = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
            if perm is None:
                missing.append(name)
            else:
                perms.append(perm)
        group.permissions.set(perms)
    return missing


# --- Separation of duties ---------------------------------------------------------------------------------


def separated_roles_among(names):
    """The separated roles among these role (group) names, in a fixed order; other names are ignored."""
    held = {str(name) for name in names}
    return [role for role in SEPARATED_ROLES if role.value in held]


def validate_role_separation(names):
    """Raise ValidationError when the role (group) names include more than one of SEPARATED_ROLES."""
    held = separated_roles_among(names)
    if len(held) > 1:
        raise ValidationError(
            _(
                "One account may hold only one of the roles system administrator, security administrator and "
                "auditor; this account would hold %(roles)s."
            ),
            code="role_separation",
            params={"roles": "、".join(str(role.label) for role in held)},
        )


def may_assign_roles(user):
    """Whether this user may change ROLE_ASSIGNMENT_FIELDS of accounts: the security administrator (and a
    superuser, the break-glass account created on the command line)."""
    return _acts_as(user, Role.SECADMIN)


def may_manage_accounts(user):
    """Whether this user may change everything else about accounts — names, organisation, activation and
    passwords: the system administrator (and a superuser). Never the security administrator, who could otherwise
    set another account's password and act as it."""
    return _acts_as(user, Role.SYSADMIN)


def may_set_password(user, account):
    """Whether `user` may set `account`'s password in the admin (a reset). Whoever sets a password can act as the
    account, so only who manages accounts may, and never for the duties that check the system administrator: the
    security administrator's and the auditor's passwords, like a superuser's, are reset only by a superuser (the
    break-glass account created on the command line)."""
    if not may_manage_accounts(user):
        return False
    if user.is_superuser:
        return True
    if account.is_superuser:
        return False
    return not {Role.SECADMIN, Role.AUDITOR} & account.roles


def _acts_as(user, role):
    if not (user.is_authenticated and user.is_active):
        return False
    return user.is_superuser or role in user.roles


def _enforce_role_separation(sender, instance, action, reverse, model, pk_set, **kwargs):
    """Refuse a group membership that would give an account two separated roles, before the row is written:
    whether `user.groups` or `group.user_set` is added to, and whatever form, command or service does it."""
    if action != "pre_add" or not pk_set:
        return
    if not reverse:
        # instance is the user; pk_set are group ids (only those not held yet).
        added = model.objects.filter(pk__in=pk_set).values_list("name", flat=True)
        validate_role_separation([*instance.groups.values_list("name", flat=True), *added])
        return
    # instance is the group; pk_set are user ids.
    if instance.name not in {role.value for role in SEPARATED_ROLES}:
        return
    for user in model.objects.filter(pk__in=pk_set).prefetch_related("groups"):
        validate_role_separation([*(group.name for group in user.groups.all()), instance.name])


# The membership table is the user model's auto-created `groups` through model. Connected here, where the rule
# is declared, by the lazy "app_label.Model" sender, so it holds from the moment the models are loaded.
m2m_changed.connect(
    _enforce_role_separation,
    sender=f"{settings.AUTH_USER_MODEL}_groups",
    dispatch_uid="portal_role_separation",
)
