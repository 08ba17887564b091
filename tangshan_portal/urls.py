from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from complaints.urls_enterprise import enterprise_urls as complaint_enterprise_urls
from complaints.urls_provider import provider_urls as complaint_provider_urls
from dossiers import urls as dossier_urls
from enterprises import urls_contracts, urls_outreach
from evaluations.urls import provider_urls as case_provider_urls
from evaluations.urls import public_patterns
from providers import urls as provider_registry_urls

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", views.password_change, name="password_change"),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("admin/", admin.site.urls),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/<int:pk>/read/", views.notification_read, name="notification_read"),
    # The provider's pages come from two apps but share one namespace: the URL conf is where apps meet.
    path(
        "provider/",
        include(
            (
                [
                    *case_provider_urls,
                    *complaint_provider_urls,
                    *provider_registry_urls.provider_urls,
                    *urls_contracts.provider_urls,
                    *urls_outreach.provider_urls,
                ],
                "provider",
            )
        ),
    ),
    path(
        "enterprise/",
        include(
            (
                [
                    *complaint_enterprise_urls,
                    *urls_contracts.enterprise_urls,
                    *urls_outreach.enterprise_urls,
                    *dossier_urls.enterprise_urls,
                ],
                "enterprise",
            )
        ),
    ),
    path("dossier/", include((dossier_urls.dossier_urls, "dossier"))),
    path("", include(([*public_patterns[0], *provider_registry_urls.public_urls], public_patterns[1]))),
]

handler403 = "tangshan_portal.views.permission_denied"
handler404 = "tangshan_portal.views.page_not_found"
handler500 = "tangshan_portal.views.server_error"
