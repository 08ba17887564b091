"""The one-enterprise-one-dossier page (Art 6(2)) for everyone allowed to see it, and its PDF; the enterprise's
consent to share it (Art 10(1)) on its self-service pages, and the consents a provider holds on the provider's."""

from django.urls import path

from . import views, views_consent

dossier_urls = [
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/pdf/", views.pdf, name="pdf"),
]

enterprise_urls = [
    path("dossier/", views.own_dossier, name="dossier"),
    path("dossier/pdf/", views.own_dossier_pdf, name="dossier_pdf"),
    path("consents/", views_consent.consent_list, name="consent_list"),
    path("consents/new/", views_consent.consent_new, name="consent_new"),
    path("consents/<int:pk>/revoke/", views_consent.consent_revoke, name="consent_revoke"),
]

provider_urls = [
    path("consents/", views_consent.provider_consent_list, name="consent_list"),
]
