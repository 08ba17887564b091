"""The one-enterprise-one-dossier page (Art 6(2)) for everyone allowed to see it."""

from django.urls import path

from tangshan_portal.views import not_built_yet as stub

dossier_urls = [
    path("<int:pk>/", stub, name="detail"),
]

enterprise_urls = [
    path("dossier/", stub, name="dossier"),
]
