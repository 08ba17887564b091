"""The public portal's pages (namespace `public:`, no login) and bulk downloads (namespace `downloads:`)."""

from django.urls import path, re_path

from . import download_views, views

# Permalinks: /blacklist/<id>/ keeps answering after an entry is removed, because decisions and reports cite it.
public_urls = [
    path("blacklist/", views.blacklist, name="blacklist"),
    path("blacklist/history/", views.blacklist_history, name="blacklist_history"),
    path("blacklist/<int:pk>/", views.blacklist_detail, name="blacklist_detail"),
    path("providers/", views.provider_directory, name="provider_directory"),
    path("providers/<int:pk>/", views.provider_detail, name="provider_detail"),
    path("excellent/", views.excellent_list, name="excellent_list"),
    path("excellent/<int:pk>/", views.excellent_detail, name="excellent_detail"),
    path("announcements/", views.announcement_list, name="announcement_list"),
    path("announcements/<int:pk>/", views.announcement_detail, name="announcement_detail"),
]

download_urls = [
    path("", download_views.index, name="index"),
    path("contracts-ocds.json", download_views.contracts_ocds, name="ocds"),
    re_path(
        r"^(?P<slug>blacklist|blacklist-history|providers)\.(?P<fmt>csv|xlsx|json)$",
        download_views.dataset_file,
        name="file",
    ),
]
