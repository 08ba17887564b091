"""The open-data API, version 1 (namespace `v1`, under /api/v1/). Read-only: every route answers GET."""

from django.urls import path

from . import api

LIST = {"get": "list"}
DETAIL = {"get": "retrieve"}

api_v1_urls = [
    # Public data, no login.
    path("blacklist/", api.BlacklistViewSet.as_view(LIST), name="blacklist-list"),
    path("blacklist/history/", api.BlacklistHistoryViewSet.as_view(LIST), name="blacklist-history"),
    path("blacklist/<int:pk>/", api.BlacklistViewSet.as_view(DETAIL), name="blacklist-detail"),
    path("providers/", api.ProviderViewSet.as_view(LIST), name="provider-list"),
    path("providers/<int:pk>/", api.ProviderViewSet.as_view(DETAIL), name="provider-detail"),
    path("excellent-batches/", api.ExcellentBatchViewSet.as_view(LIST), name="excellent-batch-list"),
    path("excellent-batches/<int:pk>/", api.ExcellentBatchViewSet.as_view(DETAIL), name="excellent-batch-detail"),
    path("announcements/", api.AnnouncementViewSet.as_view(LIST), name="announcement-list"),
    path("announcements/<int:pk>/", api.AnnouncementViewSet.as_view(DETAIL), name="announcement-detail"),
    path("changes/", api.ChangeFeedView.as_view(), name="changes"),
    # Each role's own records (token or session).
    path("me/contracts/", api.OwnContractViewSet.as_view(LIST), name="me-contract-list"),
    path("me/contracts/<int:pk>/", api.OwnContractViewSet.as_view(DETAIL), name="me-contract-detail"),
    path("me/cases/", api.OwnCaseViewSet.as_view(LIST), name="me-case-list"),
    path("me/cases/<int:pk>/", api.OwnCaseViewSet.as_view(DETAIL), name="me-case-detail"),
    path("me/surveys/", api.OwnSurveyViewSet.as_view(LIST), name="me-survey-list"),
    path("me/surveys/<int:pk>/", api.OwnSurveyViewSet.as_view(DETAIL), name="me-survey-detail"),
    path("me/complaints/", api.OwnComplaintViewSet.as_view(LIST), name="me-complaint-list"),
    path("me/complaints/<int:pk>/", api.OwnComplaintViewSet.as_view(DETAIL), name="me-complaint-detail"),
]
