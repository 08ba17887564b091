"""Contract pages for both sides: `provider:` drafts and reports, `enterprise:` signs and acknowledges."""

from django.urls import path

from tangshan_portal.views import not_built_yet as stub

provider_urls = [
    path("contracts/", stub, name="contract_list"),
]

enterprise_urls = [
    path("contracts/", stub, name="contract_list"),
]
