"""The one-enterprise-one-dossier page (Art 6(2)) for everyone allowed to see it."""

from django.urls import path

from . import views

dossier_urls = [
    path("<int:pk>/", views.detail, name="detail"),
]

enterprise_urls = [
    path("dossier/", views.own_dossier, name="dossier"),
]
