"""The provider's self-service pages for Articles 12–13 (joined into the `provider:` namespace)."""

from django.urls import path

from . import views

# Listed without a namespace so that the composition in tangshan_portal/urls.py can join the provider pages of
# several apps under the one `provider:` namespace.
provider_urls = [
    path("", views.home, name="home"),
    path("cases/", views.case_list, name="case_list"),
    path("cases/<int:pk>/", views.case_detail, name="case_detail"),
    path("cases/<int:pk>/attachments/<int:attachment_pk>/", views.case_attachment, name="case_attachment"),
    path("revocations/<int:pk>/", views.revocation_detail, name="revocation_detail"),
]
