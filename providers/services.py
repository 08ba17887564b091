"""The one write path for a provider's standing in the resource pool."""

from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from tangshan_portal.models import Organisation
from tangshan_portal.transitions import TransitionError, log_event, require, require_transition

from .models import (
    OPEN_APPLICATION_STATUSES,
    POOL_STATUSES,
    ApplicationStatus,
    Product,
    ProductPriceChange,
    Provider,
    ProviderApplication,
    ProviderStatus,
    RegisteredField,
    RegistrationChange,
)


class StandingError(ValidationError):
    """The requested change does not fit the provider's current standing."""


def _locked(provider):
    return Provider.objects.select_for_update().get(pk=provider.pk)


def _apply(provider, method_name, *, by, reason):
    provider = _locked(provider)
    method = getattr(provider, method_name)
    if not can_proceed(method):
        raise StandingError(
            _("This is not possible while the provider's standing is “%(status)s”.")
            % {"status": provider.get_status_display()}
        )
    method(by=by, description=reason)
    provider.save()
    return provider


@transaction.atomic
def provider_admit(*, provider, by, reason):
    return _apply(provider, "admit", by=by, reason=reason)


@transaction.atomic
def provider_reject(*, provider, by, reason):
    return _apply(provider, "reject", by=by, reason=reason)


@transaction.atomic
def provider_withdraw(*, provider, by, reason):
    return _apply(provider, "withdraw", by=by, reason=reason)


@transaction.atomic
def provider_revoke(*, provider, by, reason):
    return _apply(provider, "revoke", by=by, reason=reason)


@transaction.atomic
def provider_reinstate(*, provider, by, reason):
    return _apply(provider, "reinstate", by=by, reason=reason)


STANDING_TRANSITIONS = {
    ProviderStatus.IN_POOL: "clear",
    ProviderStatus.WARNED: "mark_warned",
    ProviderStatus.UNDER_RECTIFICATION: "mark_under_rectification",
}


@transaction.atomic
def provider_follow_cases(*, provider, standing, by, reason):
    """Set a pool member's standing to the one its open cases call for (DESIGN: warned, then rectifying).

    Providers outside the pool (applied, revoked, withdrawn …) keep their standing: a case does not admit
    or revoke anybody. Returns the provider, changed or not.
    """
    provider = _locked(provider)
    if provider.status not in POOL_STATUSES or provider.status == standing:
        return provider
    method = getattr(provider, STANDING_TRANSITIONS[standing])
    method(by=by, description=reason)
    provider.save()
    return provider


# --- Application and admission (Art 2) ------------------------------------------------------------------


def application_screen(*, uscc, legal_representative):
    """Revoked or blacklisted providers that share the applicant's USCC or legal representative.

    Matching the legal representative by exact name is deliberately broad: the officer decides, the portal
    only makes sure the match is seen."""
    legal_representative = (legal_representative or "").strip()
    same = Q(uscc=uscc)
    if legal_representative:
        same |= Q(legal_representative=legal_representative)
    matches = []
    candidates = (
        Provider.objects.filter(same)
        .filter(Q(status=ProviderStatus.REVOKED) | Q(blacklist_entries__status__in=["published", "under_appeal"]))
        .distinct()
        .order_by("pk")
    )
    for provider in candidates:
        matched_on = []
        if provider.uscc == uscc:
            matched_on.append("uscc")
        if legal_representative and provider.legal_representative == legal_representative:
            matched_on.append("legal_representative")
        matches.append(
            {
                "provider_id": provider.pk,
                "name": provider.name,
                "uscc": provider.uscc,
                "legal_representative": provider.legal_representative,
                "status": provider.status,
                "matched_on": matched_on,
            }
        )
    return matches


APPLICATION_FIELDS = (
    "name",
    "uscc",
    "legal_representative",
    "address",
    "business_scope",
    "registered_capital",
    "provider_type",
    "county",
    "qualifications",
    "products",
    "reference_cases",
    "contact_name",
    "contact_phone",
    "contact_email",
)


@transaction.atomic
def application_submit(*, account, data, scenarios, attachments=(), password=None):
    """Create the applicant's organisation, account and application in one transaction (Art 2).

    `account` is a dict with username, full_name, phone and email; `data` holds APPLICATION_FIELDS.
    Returns the application. Nothing is saved when any part fails."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from tangshan_portal.roles import Role
    from tangshan_portal.services import attachment_store, notify

    uscc = data["uscc"]
    if ProviderApplication.objects.filter(uscc=uscc, status__in=OPEN_APPLICATION_STATUSES).exists():
        raise ValidationError(
            {"uscc": _("An application for this Unified Social Credit Code is already under review.")}
        )
    if Provider.objects.filter(uscc=uscc, status__in=POOL_STATUSES).exists():
        raise ValidationError({"uscc": _("A provider with this Unified Social Credit Code is already in the pool.")})

    org_name = data["name"]
    if Organisation.objects.filter(name=org_name).exists():
        # Organisation names are unique; an earlier (rejected or withdrawn) applicant keeps its own.
        org_name = f"{data['name']}（{uscc}）"
    organisation = Organisation.objects.create(name=org_name, kind=Organisation.Kind.PROVIDER)
    User = get_user_model()
    user = User(
        username=account["username"],
        full_name=account.get("full_name", ""),
        email=account.get("email", ""),
        phone=account.get("phone", ""),
        organisation=organisation,
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    user.groups.add(Group.objects.get(name=Role.PROVIDER.value))

    application = ProviderApplication(
        applicant=user,
        organisation=organisation,
        submitted_at=timezone.now(),
        **{field: data.get(field) for field in APPLICATION_FIELDS},
    )
    if application.contact_email is None:
        application.contact_email = ""
    application.screening = application_screen(uscc=uscc, legal_representative=data["legal_representative"])
    application.flagged = bool(application.screening)
    application.full_clean(exclude=["status"])
    application.save()
    application.scenarios.set(scenarios)
    for uploaded in attachments:
        attachment_store(target=application, uploaded=uploaded, by=user, purpose="application")
    log_event(application, by=user, description=_("Application submitted"), state=application.status)
    notify(
        kind="application_submitted",
        subject=_("New provider application: %(name)s") % {"name": application.name},
        body=(
            _("This applicant matches a revoked or blacklisted provider; check the screening result.")
            if application.flagged
            else _("Review the application and decide on admission.")
        ),
        dedup_key=f"application:{application.pk}:submitted",
        role=Role.OFFICER.value,
        link=f"/admin/providers/providerapplication/{application.pk}/change/",
    )
    return application


def _application_locked(application):
    return ProviderApplication.objects.select_for_update().get(pk=application.pk)


def _require_reviewer(by):
    """The application's transitions carry no `permission=`, so the reviewer's permission is checked here;
    `by=None` is the system (the daily admission sweep)."""
    if by is not None:
        require(by.has_perm("providers.review_application"))


@transaction.atomic
def application_start_notice(*, application, by, opinion):
    """The officer's review passed: the admission is announced publicly for the notice period first."""
    from tangshan_portal.workdays import add_working_days

    application = _application_locked(application)
    require_transition(application.start_notice, by)
    _require_reviewer(by)
    if not opinion.strip():
        raise TransitionError(_("Write the review opinion."))
    today = timezone.localdate()
    application.reviewed_by = by
    application.review_opinion = opinion
    application.screening = application_screen(
        uscc=application.uscc, legal_representative=application.legal_representative
    )
    application.flagged = bool(application.screening)
    application.notice_starts_on = today
    application.notice_ends_on = add_working_days(today, settings.ADMISSION_NOTICE_WORKING_DAYS)
    application.start_notice(by=by, description=opinion)
    application.save()
    _notify_applicant(
        application,
        "notice_started",
        _("Your application is in public notice until %(date)s") % {"date": application.notice_ends_on},
        _("Admission takes effect after the public notice period if no objection is upheld."),
    )
    return application


@transaction.atomic
def application_admit(*, application, by, reason=""):
    """Make the admission effective once the notice period is over: the provider joins the pool."""
    application = _application_locked(application)
    require_transition(application.admit, by)
    _require_reviewer(by)
    if timezone.localdate() <= application.notice_ends_on:
        raise TransitionError(
            _("The public notice runs until %(date)s; admission takes effect after it.")
            % {"date": application.notice_ends_on}
        )
    reason = reason or _("Public notice ended without an upheld objection.")
    values = {
        "name": application.name,
        "legal_representative": application.legal_representative,
        "address": application.address,
        "business_scope": application.business_scope,
        "registered_capital": application.registered_capital,
        "provider_type": application.provider_type,
        "county": application.county,
        "contact_name": application.contact_name,
        "contact_phone": application.contact_phone,
        "contact_email": application.contact_email,
        "organisation": application.organisation,
    }
    provider = Provider.objects.select_for_update().filter(uscc=application.uscc).first()
    if provider is None:
        provider = Provider(uscc=application.uscc, **values)
        provider.full_clean(exclude=["status"])
        provider.save()
        provider.admit(by=by, description=reason)
    elif provider.status == ProviderStatus.APPLIED:
        provider.admit(by=by, description=reason)
    elif provider.status in (ProviderStatus.REJECTED, ProviderStatus.WITHDRAWN):
        # The new applicant's organisation acts for the provider from now on (values below).
        provider.readmit(by=by, description=reason)
    else:
        raise TransitionError(
            _("The provider with this USCC is “%(status)s”; a revoked provider returns only through an appeal.")
            % {"status": provider.get_status_display()}
        )
    for field, value in values.items():
        setattr(provider, field, value)
    provider.save()
    provider.scenarios.set(application.scenarios.all())
    application.provider = provider
    application.decided_at = timezone.now()
    application.decision_reason = reason
    application.admit(by=by, description=reason)
    application.save()
    _notify_applicant(
        application,
        "admitted",
        _("Admitted to the resource pool"),
        _("Your company is now in the provider resource pool."),
    )
    return application


@transaction.atomic
def application_reject(*, application, by, reason):
    application = _application_locked(application)
    require_transition(application.reject, by)
    _require_reviewer(by)
    if not reason.strip():
        raise TransitionError(_("Give the reason for the rejection; the applicant will read it."))
    application.reviewed_by = application.reviewed_by or by
    application.decided_at = timezone.now()
    application.decision_reason = reason
    application.reject(by=by, description=reason)
    application.save()
    _notify_applicant(application, "rejected", _("Your application was rejected"), reason)
    return application


@transaction.atomic
def application_withdraw(*, application, by, reason=""):
    application = _application_locked(application)
    if by.organisation_id != application.organisation_id:
        raise PermissionDenied
    if not can_proceed(application.withdraw):
        raise TransitionError(_("This application has already been decided."))
    application.decided_at = timezone.now()
    application.decision_reason = reason or _("Withdrawn by the applicant.")
    application.withdraw(by=by, description=application.decision_reason)
    application.save()
    return application


def applications_admit_due(*, by=None):
    """The daily sweep: admit every application whose notice period is over. Returns how many."""
    today = timezone.localdate()
    admitted = 0
    for pk in ProviderApplication.objects.filter(
        status=ApplicationStatus.IN_NOTICE, notice_ends_on__lt=today
    ).values_list("pk", flat=True):
        try:
            application_admit(application=ProviderApplication(pk=pk), by=by)
        except TransitionError:
            continue  # decided or blocked meanwhile; the officer sees why on the application
        admitted += 1
    return admitted


def _notify_applicant(application, event, subject, body):
    from tangshan_portal.services import notify

    notify(
        kind=f"application_{event}",
        subject=subject,
        body=body,
        dedup_key=f"application:{application.pk}:{event}",
        organisation=application.organisation,
        link="/provider/application/",
    )


# --- Registration changes (Art 12(1)) -------------------------------------------------------------------


def _current_value(provider, field):
    value = getattr(provider, field)
    return "" if value is None else str(value)


def _apply_registration_value(provider, field, value):
    if field == RegisteredField.REGISTERED_CAPITAL:
        try:
            value = Decimal(value)
        except (InvalidOperation, TypeError):
            raise ValidationError({"new_value": _("Enter the registered capital as a number (10,000 yuan).")}) from None
    setattr(provider, field, value)
    provider.full_clean(exclude=["status", "organisation"])
    provider.save()


@transaction.atomic
def registration_change_report(*, provider, by, field, new_value, changed_on, explanation="", evidence=()):
    """The provider reports a change of its registration data with evidence; an officer acknowledges it."""
    from tangshan_portal.services import attachment_store, notify

    if by.organisation_id is None or by.organisation_id != provider.organisation_id:
        raise PermissionDenied
    if not evidence:
        raise ValidationError({"evidence": _("Attach the evidence of the change (e.g. the new business licence).")})
    if changed_on > timezone.localdate():
        raise ValidationError({"changed_on": _("The date of the change cannot be in the future.")})
    if field == RegisteredField.REGISTERED_CAPITAL:
        try:
            Decimal(new_value)
        except (InvalidOperation, TypeError):
            raise ValidationError({"new_value": _("Enter the registered capital as a number (10,000 yuan).")}) from None
    provider = _locked(provider)
    change = RegistrationChange.objects.create(
        provider=provider,
        field=field,
        old_value=_current_value(provider, field),
        new_value=new_value,
        changed_on=changed_on,
        source=RegistrationChange.Source.PROVIDER,
        status=RegistrationChange.Status.REPORTED,
        explanation=explanation,
        recorded_by=by,
        recorded_at=timezone.now(),
    )
    for uploaded in evidence:
        attachment_store(target=change, uploaded=uploaded, by=by, purpose="registration_change")
    notify(
        kind="registration_change_reported",
        subject=_("%(provider)s reported a registration change") % {"provider": provider.name},
        body=f"{change.get_field_display()}: {change.old_value} → {change.new_value}",
        dedup_key=f"regchange:{change.pk}:reported",
        role="officer",
        link=f"/admin/providers/registrationchange/{change.pk}/change/",
    )
    return change


@transaction.atomic
def registration_change_acknowledge(*, change, by):
    """The officer acknowledges a reported change; the provider's record takes the new value."""
    change = RegistrationChange.objects.select_for_update().get(pk=change.pk)
    require(by.has_perm("providers.acknowledge_registration_change"))
    if change.status != RegistrationChange.Status.REPORTED:
        raise TransitionError(_("This change has already been acknowledged."))
    _apply_registration_value(_locked(change.provider), change.field, change.new_value)
    change.status = RegistrationChange.Status.ACKNOWLEDGED
    change.acknowledged_by = by
    change.acknowledged_at = timezone.now()
    change.save()
    log_event(
        change.provider,
        by=by,
        description=_("Registration change acknowledged: %(field)s “%(old)s” → “%(new)s”")
        % {"field": change.get_field_display(), "old": change.old_value, "new": change.new_value},
        state=change.provider.status,
        transition="registration_change",
        source_state=change.provider.status,
    )
    return change


@transaction.atomic
def registration_change_record(*, provider, by, field, new_value, changed_on, explanation=""):
    """Staff record a change found in the business registry; the provider's record follows the registry.
    Without a matching report from the provider within the policy days it is a possible Art 12(1) ground."""
    require(by.has_perm("providers.record_registration_change"))
    if changed_on > timezone.localdate():
        raise ValidationError({"changed_on": _("The date of the change cannot be in the future.")})
    provider = _locked(provider)
    change = RegistrationChange.objects.create(
        provider=provider,
        field=field,
        old_value=_current_value(provider, field),
        new_value=new_value,
        changed_on=changed_on,
        source=RegistrationChange.Source.REGISTRY,
        status=RegistrationChange.Status.RECORDED,
        explanation=explanation,
        recorded_by=by,
        recorded_at=timezone.now(),
    )
    _apply_registration_value(provider, field, new_value)
    return change


# --- Products and prices ----------------------------------------------------------------------------------


def _own_provider(provider, by):
    if by.organisation_id is None or by.organisation_id != provider.organisation_id:
        raise PermissionDenied


@transaction.atomic
def product_create(*, provider, by, name, functions, unit, list_price, scenarios=()):
    _own_provider(provider, by)
    product = Product(provider=provider, name=name, functions=functions, unit=unit, list_price=list_price)
    product.full_clean()
    product.save()
    product.scenarios.set(scenarios)
    return product


@transaction.atomic
def product_update(*, product, by, name, functions, unit, list_price, scenarios=(), is_active=True, reason=""):
    """Edit a catalogue entry. A list-price change is kept with its ratio; one beyond
    PRICE_CHANGE_THRESHOLD is flagged as drastic (Art 13(8)) and the officers are told."""
    from tangshan_portal.services import notify

    product = Product.objects.select_for_update().get(pk=product.pk)
    _own_provider(product.provider, by)
    old_price = product.list_price
    product.name, product.functions, product.unit = name, functions, unit
    product.list_price, product.is_active = list_price, is_active
    product.full_clean()
    product.save()
    product.scenarios.set(scenarios)
    if list_price != old_price:
        ratio = (Decimal(list_price) - old_price) / old_price
        drastic = abs(ratio) > Decimal(str(settings.PRICE_CHANGE_THRESHOLD))
        change = ProductPriceChange.objects.create(
            product=product,
            old_price=old_price,
            new_price=list_price,
            change_ratio=ratio.quantize(Decimal("0.0001")),
            drastic=drastic,
            changed_by=by,
            changed_at=timezone.now(),
            reason=reason,
        )
        if drastic:
            notify(
                kind="drastic_price_change",
                subject=_("Drastic list-price change by %(provider)s") % {"provider": product.provider.name},
                body=_("%(product)s: %(old)s → %(new)s yuan (%(ratio)s). Art 13(8) may apply.")
                % {
                    "product": product.name,
                    "old": old_price,
                    "new": list_price,
                    "ratio": f"{ratio:+.0%}",
                },
                dedup_key=f"pricechange:{change.pk}",
                role="officer",
                link=f"/admin/providers/productpricechange/{change.pk}/change/",
            )
    return product
