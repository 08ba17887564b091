"""The one-enterprise-one-dossier page (Art 6(2)) for everyone allowed to see it, and its PDF."""

from django.urls import path

from . import views

dossier_urls = [
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/pdf/", views.pdf, name="pdf"),
]

enterprise_urls = [
    path("dossier/", views.own_dossier, name="dossier"),
    path("dossier/pdf/", views.own_dossier_pdf, name="dossier_pdf"),
]
