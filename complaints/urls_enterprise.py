"""The enterprise's self-service pages (namespace `enterprise:`, under /enterprise/)."""

from django.urls import path

from . import views_enterprise as views

enterprise_urls = [
    path("", views.home, name="home"),
    path("complaints/", views.complaint_list, name="complaint_list"),
    path("complaints/new/", views.complaint_new, name="complaint_new"),
    path("complaints/<int:pk>/", views.complaint_detail, name="complaint_detail"),
    path(
        "complaints/<int:pk>/attachments/<int:attachment_pk>/",
        views.complaint_attachment,
        name="complaint_attachment",
    ),
    path("surveys/", views.survey_list, name="survey_list"),
    path("surveys/<int:contract_pk>/<slug:stage>/", views.survey_detail, name="survey_detail"),
]
