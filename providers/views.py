"""The provider registry's pages: the public application form (Art 2) and admission notices, the applicant's
status page, and the provider's own registration data (Art 12(1)) and catalogue with list prices (Art 13(8)).

Every write goes through providers.services; what a user may see comes from providers.selectors. Another
provider's records answer 404."""

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tangshan_portal.files import attachment_response
from tangshan_portal.forms import put_service_errors
from tangshan_portal.services import attach_files, attachments_of
from tangshan_portal.transitions import TransitionError

from . import selectors, services
from .access import provider_staff_required
from .forms import (
    ApplicationForm,
    ProductEditForm,
    ProductForm,
    RegistrationChangeForm,
    WithdrawForm,
    registered_field_label,
)
from .models import (
    OPEN_APPLICATION_STATUSES,
    ApplicationStatus,
    Product,
    ProductPriceChange,
    RegisteredField,
    RegistrationChange,
)

# Application statuses drawn with the badge colours the stylesheet already has.
APPLICATION_BADGES = {
    ApplicationStatus.SUBMITTED: "responded",
    ApplicationStatus.IN_NOTICE: "proposed",
    ApplicationStatus.ADMITTED: "in_pool",
    ApplicationStatus.REJECTED: "rejected",
    ApplicationStatus.WITHDRAWN: "withdrawn",
}
REGISTRATION_BADGES = {
    RegistrationChange.Status.REPORTED: "responded",
    RegistrationChange.Status.ACKNOWLEDGED: "in_pool",
    RegistrationChange.Status.RECORDED: "draft",
}


def percent(ratio):
    """A ratio as a signed percentage with up to two decimals: 0.5 → "+50%", -0.1250 → "-12.5%"."""
    text = f"{ratio * 100:+.2f}".rstrip("0").rstrip(".")
    return f"{text}%"


def _threshold_percent():
    return percent(settings.PRICE_CHANGE_THRESHOLD).lstrip("+")


def _serve(request, attachment, **audit):
    return attachment_response(request, attachment, **audit)


# --- Public: the application form and the admission notices ---------------------------------------------------


@require_http_methods(["GET", "POST"])
def apply(request):
    """Art 2: a provider that works, or plans to work, with pilot enterprises applies to join the pool."""
    if request.user.is_authenticated:
        # An account acts for one organisation: a new company applies with a new account.
        return render(request, "public/apply_logged_in.html", {"applications": selectors.applications_of(request.user)})
    form = ApplicationForm()
    if request.method == "POST":
        form = ApplicationForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                application = services.application_submit(
                    account=form.account(),
                    data=form.application_data(),
                    scenarios=form.cleaned_data["scenarios"],
                    attachments=form.cleaned_data["attachments"],
                    password=form.cleaned_data["password1"],
                )
            except ValidationError as error:
                put_service_errors(form, error)
            else:
                login(request, application.applicant, backend="tangshan_portal.authentication.PortalModelBackend")
                messages.success(
                    request,
                    _("Your application was submitted. The bureau reviews it; you can follow it on this page."),
                )
                return redirect("provider:application_status")
    return render(request, "public/apply.html", {"form": form, "notice_days": settings.ADMISSION_NOTICE_WORKING_DAYS})


@require_GET
def admission_notices(request):
    """The admissions in public notice (公示): anyone may object to the bureau before the notice ends."""
    return render(
        request,
        "public/notices.html",
        {
            "applications": selectors.applications_in_notice(),
            "notice_days": settings.ADMISSION_NOTICE_WORKING_DAYS,
        },
    )


# --- The applicant's status page ------------------------------------------------------------------------------


def applicant_required(view):
    """Logged in (else to the login page) and acting for a provider organisation that has applied or is a
    provider (else 403). The view gets the user's provider (None before admission) and its applications."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        provider = selectors.provider_of(request.user)
        applications = selectors.applications_of(request.user)
        if provider is None and not applications.exists():
            raise PermissionDenied(_("This page is for providers and the companies that applied to the pool."))
        return view(request, provider, applications, *args, **kwargs)

    return login_required(wrapper)


@require_GET
@applicant_required
def application_status(request, provider, applications):
    rows = list(applications.prefetch_related("scenarios").order_by("-submitted_at", "-id"))
    for application in rows:
        application.badge = APPLICATION_BADGES.get(application.status, application.status)
        application.is_open = application.status in OPEN_APPLICATION_STATUSES
    attach_files(rows)
    return render(
        request,
        "providers/application_status.html",
        {
            "provider": provider,
            "applications": rows,
            "withdraw_form": WithdrawForm(),
            "notice_days": settings.ADMISSION_NOTICE_WORKING_DAYS,
        },
    )


@require_POST
@applicant_required
def application_withdraw(request, provider, applications, pk):
    application = get_object_or_404(applications, pk=pk)
    form = WithdrawForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors.get("reason", [])))
        return redirect("provider:application_status")
    try:
        services.application_withdraw(application=application, by=request.user, reason=form.cleaned_data["reason"])
    except TransitionError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Your application was withdrawn."))
    return redirect("provider:application_status")


@require_GET
@applicant_required
def application_attachment(request, provider, applications, pk, attachment_pk):
    application = get_object_or_404(applications, pk=pk)
    attachment = get_object_or_404(attachments_of(application), pk=attachment_pk)
    return _serve(request, attachment, application=application.pk)


# --- Registration data (Art 12(1)) ----------------------------------------------------------------------------


def _registration_changes(provider):
    return RegistrationChange.objects.filter(provider=provider)


@require_GET
@provider_staff_required
def registration_list(request, provider):
    changes = list(_registration_changes(provider).order_by("-changed_on", "-id"))
    for change in changes:
        change.badge = REGISTRATION_BADGES.get(change.status, change.status)
        change.field_label = registered_field_label(change.field)
    attach_files(changes)
    current = [
        (registered_field_label(RegisteredField.NAME), provider.name),
        (registered_field_label(RegisteredField.LEGAL_REPRESENTATIVE), provider.legal_representative),
        (registered_field_label(RegisteredField.ADDRESS), provider.address),
        (registered_field_label(RegisteredField.BUSINESS_SCOPE), provider.business_scope),
        (
            registered_field_label(RegisteredField.REGISTERED_CAPITAL),
            _("%(amount)s × 10,000 yuan") % {"amount": provider.registered_capital}
            if provider.registered_capital is not None
            else "",
        ),
    ]
    return render(
        request,
        "providers/registration_list.html",
        {
            "provider": provider,
            "current": current,
            "changes": changes,
            "pending": sum(1 for change in changes if change.status == RegistrationChange.Status.REPORTED),
            "report_days": settings.REGISTRATION_CHANGE_REPORT_DAYS,
        },
    )


@require_http_methods(["GET", "POST"])
@provider_staff_required
def registration_new(request, provider):
    form = RegistrationChangeForm(provider=provider)
    if request.method == "POST":
        form = RegistrationChangeForm(request.POST, request.FILES, provider=provider)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.registration_change_report(
                    provider=provider,
                    by=request.user,
                    field=data["field"],
                    new_value=data["new_value"],
                    changed_on=data["changed_on"],
                    explanation=data["explanation"],
                    evidence=data["evidence"],
                )
            except ValidationError as error:
                put_service_errors(form, error)
            else:
                messages.success(
                    request,
                    _("The change was reported. The registry shows the new value once the bureau acknowledges it."),
                )
                return redirect("provider:registration_list")
    return render(
        request,
        "providers/registration_form.html",
        {"provider": provider, "form": form, "report_days": settings.REGISTRATION_CHANGE_REPORT_DAYS},
    )


@require_GET
@provider_staff_required
def registration_attachment(request, provider, pk, attachment_pk):
    change = get_object_or_404(_registration_changes(provider), pk=pk)
    attachment = get_object_or_404(attachments_of(change), pk=attachment_pk)
    return _serve(request, attachment, registration_change=change.pk)


# --- Products and list prices ----------------------------------------------------------------------------------


def _products(provider):
    return Product.objects.filter(provider=provider)


@require_GET
@provider_staff_required
def product_list(request, provider):
    products = list(
        _products(provider)
        .prefetch_related(
            "scenarios",
            Prefetch("price_changes", queryset=ProductPriceChange.objects.order_by("-changed_at", "-id")),
        )
        .order_by("-is_active", "name")
    )
    for product in products:
        for change in product.price_changes.all():
            change.percent = percent(change.change_ratio)
    return render(
        request,
        "providers/product_list.html",
        {"provider": provider, "products": products, "threshold": _threshold_percent()},
    )


@require_http_methods(["GET", "POST"])
@provider_staff_required
def product_new(request, provider):
    form = ProductForm(provider=provider)
    if request.method == "POST":
        form = ProductForm(request.POST, provider=provider)
        if form.is_valid():
            data = form.cleaned_data
            try:
                product = services.product_create(
                    provider=provider,
                    by=request.user,
                    name=data["name"],
                    functions=data["functions"],
                    unit=data["unit"],
                    list_price=data["list_price"],
                    scenarios=data["scenarios"],
                )
            except ValidationError as error:
                put_service_errors(form, error)
            else:
                messages.success(request, _("“%(name)s” was added to your catalogue.") % {"name": product.name})
                return redirect("provider:product_list")
    return render(request, "providers/product_form.html", {"provider": provider, "form": form, "product": None})


@require_http_methods(["GET", "POST"])
@provider_staff_required
def product_edit(request, provider, pk):
    product = get_object_or_404(_products(provider), pk=pk)
    # Cleaning a ModelForm writes the input onto the instance: the page keeps the saved name as its title.
    saved_name = product.name
    form = ProductEditForm(instance=product, provider=provider)
    if request.method == "POST":
        form = ProductEditForm(request.POST, instance=product, provider=provider)
        if form.is_valid():
            data = form.cleaned_data
            last_change = product.price_changes.order_by("-id").values_list("pk", flat=True).first()
            try:
                product = services.product_update(
                    product=product,
                    by=request.user,
                    name=data["name"],
                    functions=data["functions"],
                    unit=data["unit"],
                    list_price=data["list_price"],
                    scenarios=data["scenarios"],
                    is_active=data["is_active"],
                    reason=data["reason"].strip(),
                )
            except ValidationError as error:
                put_service_errors(form, error)
            else:
                messages.success(request, _("“%(name)s” was saved.") % {"name": product.name})
                change = product.price_changes.order_by("-id").first()
                if change is not None and change.pk != last_change and change.drastic:
                    messages.warning(
                        request,
                        _(
                            "The list price changed by %(ratio)s, more than %(threshold)s: the bureau is told of this "
                            "drastic change. Drastic price changes that disrupt the market are a ground for revoking "
                            "the qualification (Art 13(8))."
                        )
                        % {"ratio": percent(change.change_ratio), "threshold": _threshold_percent()},
                    )
                return redirect("provider:product_list")
    return render(
        request,
        "providers/product_form.html",
        {
            "provider": provider,
            "form": form,
            "product": product,
            "saved_name": saved_name,
            "threshold": _threshold_percent(),
        },
    )
