"""Diagnosis (Art 5), dossier surveys (Art 6(2)), matchmaking (Art 4) and training (Art 7) pages."""

from django.urls import path

from tangshan_portal.views import not_built_yet as stub

provider_urls = [
    path("diagnoses/", stub, name="diagnosis_list"),
    path("events/", stub, name="event_list"),
    path("training/", stub, name="training_list"),
]

enterprise_urls = [
    path("intentions/", stub, name="intention_list"),
]
