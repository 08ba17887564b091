"""The provider registry's pages: the public application form and notices (joined into `public:`) and
the applicant's status page and the provider's own registration data and catalogue (joined into `provider:`)."""

from django.urls import path

from . import views

provider_urls = [
    path("application/", views.application_status, name="application_status"),
    path("application/<int:pk>/withdraw/", views.application_withdraw, name="application_withdraw"),
    path(
        "application/<int:pk>/attachments/<int:attachment_pk>/",
        views.application_attachment,
        name="application_attachment",
    ),
    path("registration/", views.registration_list, name="registration_list"),
    path("registration/new/", views.registration_new, name="registration_new"),
    path(
        "registration/<int:pk>/attachments/<int:attachment_pk>/",
        views.registration_attachment,
        name="registration_attachment",
    ),
    path("products/", views.product_list, name="product_list"),
    path("products/new/", views.product_new, name="product_new"),
    path("products/<int:pk>/", views.product_edit, name="product_edit"),
]

public_urls = [
    path("apply/", views.apply, name="apply"),
    path("notices/", views.admission_notices, name="admission_notices"),
]
