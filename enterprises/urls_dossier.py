"""The one-enterprise-one-dossier page (Art 6(2)) for everyone allowed to see it."""

from django.urls import path

from . import views_dossier

dossier_urls = [
    path("<int:pk>/", views_dossier.detail, name="detail"),
]

enterprise_urls = [
    path("dossier/", views_dossier.own_dossier, name="dossier"),
]
