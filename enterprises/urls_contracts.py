"""Contract pages for both sides: `provider:` drafts and reports, `enterprise:` signs and acknowledges.

The paths match the links the contract services write into notifications (`/provider/contracts/<pk>/`,
`/enterprise/contracts/<pk>/`)."""

from django.urls import path

from . import views_contracts_enterprise as enterprise
from . import views_contracts_provider as provider

provider_urls = [
    path("contracts/", provider.contract_list, name="contract_list"),
    path("contracts/new/", provider.contract_new, name="contract_new"),
    path("contracts/<int:pk>/", provider.contract_detail, name="contract_detail"),
    path("contracts/<int:pk>/edit/", provider.contract_edit, name="contract_edit"),
    path("contracts/<int:pk>/milestones/new/", provider.contract_milestone, name="contract_milestone_new"),
    path(
        "contracts/<int:pk>/milestones/<int:milestone_pk>/",
        provider.contract_milestone,
        name="contract_milestone_edit",
    ),
    path(
        "contracts/<int:pk>/milestones/<int:milestone_pk>/delete/",
        provider.contract_milestone_delete,
        name="contract_milestone_delete",
    ),
    path("contracts/<int:pk>/items/new/", provider.contract_item, name="contract_item_new"),
    path("contracts/<int:pk>/items/<int:item_pk>/", provider.contract_item, name="contract_item_edit"),
    path("contracts/<int:pk>/items/<int:item_pk>/delete/", provider.contract_item_delete, name="contract_item_delete"),
    path("contracts/<int:pk>/nda/", provider.contract_nda, name="contract_nda"),
    path("contracts/<int:pk>/submit/", provider.contract_submit, name="contract_submit"),
    path("contracts/<int:pk>/recall/", provider.contract_recall, name="contract_recall"),
    path("contracts/<int:pk>/start/", provider.contract_start, name="contract_start"),
    path("contracts/<int:pk>/progress/new/", provider.contract_progress_new, name="contract_progress_new"),
    path("contracts/<int:pk>/changes/new/", provider.contract_change_new, name="contract_change_new"),
    path(
        "contracts/<int:pk>/changes/<int:change_pk>/withdraw/",
        provider.contract_change_withdraw,
        name="contract_change_withdraw",
    ),
    path("contracts/<int:pk>/acceptance/new/", provider.contract_acceptance_new, name="contract_acceptance_new"),
    path(
        "contracts/<int:pk>/files/<int:attachment_pk>/",
        provider.contract_attachment,
        name="contract_attachment",
    ),
]

enterprise_urls = [
    path("contracts/", enterprise.contract_list, name="contract_list"),
    path("contracts/<int:pk>/", enterprise.contract_detail, name="contract_detail"),
    path(
        "contracts/<int:pk>/files/<int:attachment_pk>/",
        enterprise.contract_attachment,
        name="contract_attachment",
    ),
]
