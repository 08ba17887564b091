from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt
from django.views.i18n import set_language
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from complaints.urls_enterprise import enterprise_urls as complaint_enterprise_urls
from complaints.urls_provider import provider_urls as complaint_provider_urls
from dossiers import urls as dossier_urls
from enterprises import urls_contracts, urls_outreach
from evaluations.urls import provider_urls as case_provider_urls
from opendata import urls as opendata_urls
from opendata.api_urls import api_v1_urls
from providers import urls as provider_registry_urls

from . import otp, views, views_documents
from .authentication import PortalAuthenticationForm

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    # Without a CSRF token, so that public pages can be cached and shared: choosing the display language
    # is harmless to forge, and Django's view still only accepts a safe `next` address.
    path("i18n/setlang/", csrf_exempt(set_language), name="set_language"),
    path(
        "accounts/login/",
        # The form says why a correct password was refused (a deactivated organisation).
        auth_views.LoginView.as_view(redirect_authenticated_user=True, authentication_form=PortalAuthenticationForm),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", views.password_change, name="password_change"),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    # The second factor (tangshan_portal/otp.py): enrolment (and, once enrolled, its state) and the code page.
    path("accounts/otp/", otp.otp_setup, name="otp_setup"),
    path("accounts/otp/verify/", otp.otp_verify, name="otp_verify"),
    path("admin/", admin.site.urls),
    # Anyone can check a printed code or a file's SHA-256 against the register of issued documents.
    path("verify/", views_documents.verify_start, name="verify_start"),
    path("verify/<str:code>/", views_documents.verify_document, name="verify_document"),
    path("verify/<str:code>/download/", views_documents.verify_document_download, name="verify_document_download"),
    path("documents/", views_documents.documents_mine, name="documents_mine"),
    path("documents/<str:code>/", views_documents.document_download, name="document_download"),
    path("jobs/<int:pk>/", views_documents.job_status, name="job_status"),
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
                    *dossier_urls.provider_urls,
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
    path("", include(([*opendata_urls.public_urls, *provider_registry_urls.public_urls], "public"))),
    path("downloads/", include((opendata_urls.download_urls, "downloads"))),
    path("api/v1/", include((api_v1_urls, "v1"))),
    path("api/schema/", SpectacularAPIView.as_view(api_version="v1"), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]

handler403 = "tangshan_portal.views.permission_denied"
handler404 = "tangshan_portal.views.page_not_found"
handler500 = "tangshan_portal.views.server_error"
