"""The provider's pages about complaints, ratings and appeals; joined into the `provider:` namespace."""

from django.urls import path

from . import views_provider as views

# Names must not clash with evaluations.urls.provider_urls (home, case_list, case_detail, case_attachment,
# revocation_detail): both lists share the one `provider:` namespace.
provider_urls = [
    path("complaints/", views.complaint_list, name="complaint_list"),
    path("complaints/<int:pk>/", views.complaint_detail, name="complaint_detail"),
    path("ratings/", views.rating_list, name="rating_list"),
    path("appeals/", views.appeal_list, name="appeal_list"),
    path("appeals/new/", views.appeal_new, name="appeal_new"),
    path("appeals/<int:pk>/", views.appeal_detail, name="appeal_detail"),
]
