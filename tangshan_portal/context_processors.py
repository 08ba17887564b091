from django.conf import settings


def portal(request):
    return {
        "PORTAL_SITE_TITLE": settings.PORTAL_SITE_TITLE,
        "PORTAL_AUTHORITY_NAME": settings.PORTAL_AUTHORITY_NAME,
        "PORTAL_CITY_NAME": settings.PORTAL_CITY_NAME,
        "PORTAL_REGULATION_TITLE": settings.PORTAL_REGULATION_TITLE,
    }
