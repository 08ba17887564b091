"""Diagnosis (Art 5), dossier surveys (Art 6(2)), matchmaking (Art 4) and training (Art 7) pages."""

from django.urls import path

from . import views_outreach_enterprise as enterprise_views
from . import views_outreach_provider as provider_views

provider_urls = [
    path("diagnoses/", provider_views.diagnosis_list, name="diagnosis_list"),
    path("diagnoses/new/", provider_views.diagnosis_new, name="diagnosis_new"),
    path("diagnoses/<int:pk>/", provider_views.diagnosis_detail, name="diagnosis_detail"),
    path(
        "diagnoses/<int:pk>/findings/<int:finding_pk>/",
        provider_views.diagnosis_finding_edit,
        name="diagnosis_finding_edit",
    ),
    path(
        "diagnoses/<int:pk>/files/<int:attachment_pk>/",
        provider_views.diagnosis_attachment,
        name="diagnosis_attachment",
    ),
    path("dossier-surveys/new/<int:contract_pk>/", provider_views.dossier_survey_new, name="dossier_survey_new"),
    path("dossier-surveys/<int:pk>/", provider_views.dossier_survey_detail, name="dossier_survey_detail"),
    path("dossier-surveys/<int:pk>/edit/", provider_views.dossier_survey_edit, name="dossier_survey_edit"),
    path("events/", provider_views.event_list, name="event_list"),
    path("events/<int:pk>/register/", provider_views.event_register, name="event_register"),
    path("events/<int:event_pk>/intentions/new/", provider_views.intention_new, name="intention_new"),
    path("training/", provider_views.training_list, name="training_list"),
    path("training/new/", provider_views.training_new, name="training_new"),
    path("training/<int:pk>/", provider_views.training_detail, name="training_detail"),
    path("training/<int:pk>/edit/", provider_views.training_edit, name="training_edit"),
    path(
        "training/<int:pk>/files/<int:attachment_pk>/",
        provider_views.training_attachment,
        name="training_attachment",
    ),
]

enterprise_urls = [
    path("intentions/", enterprise_views.intention_list, name="intention_list"),
    path("intentions/<int:pk>/answer/", enterprise_views.intention_answer, name="intention_answer"),
    path("diagnoses/<int:pk>/", enterprise_views.diagnosis_detail, name="diagnosis_detail"),
    path(
        "diagnoses/<int:pk>/files/<int:attachment_pk>/",
        enterprise_views.diagnosis_attachment,
        name="diagnosis_attachment",
    ),
    path("trainings/", enterprise_views.training_attended, name="training_attended"),
    path(
        "trainings/<int:session_pk>/files/<int:attachment_pk>/",
        enterprise_views.training_material,
        name="training_material",
    ),
]
