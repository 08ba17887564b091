"""The provider registry's pages: the public application form and notices (joined into `public:`) and
the provider's own registration data and catalogue (joined into `provider:`)."""

from django.urls import path

from tangshan_portal.views import not_built_yet as stub

provider_urls = [
    path("application/", stub, name="application_status"),
    path("registration/", stub, name="registration_list"),
    path("products/", stub, name="product_list"),
]

public_urls = [
    path("apply/", stub, name="apply"),
    path("notices/", stub, name="admission_notices"),
]
