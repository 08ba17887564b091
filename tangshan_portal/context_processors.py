import functools

from django.conf import settings

from .services import unread_notifications_count


def portal(request):
    user = getattr(request, "user", None)
    return {
        # A callable: the COUNT runs only on pages whose template shows it, at most once per request.
        "unread_notifications": functools.cache(lambda: unread_notifications_count(user)) if user else 0,
        "PORTAL_SITE_TITLE": settings.PORTAL_SITE_TITLE,
        "PORTAL_AUTHORITY_NAME": settings.PORTAL_AUTHORITY_NAME,
        "PORTAL_CITY_NAME": settings.PORTAL_CITY_NAME,
        "PORTAL_REGULATION_TITLE": settings.PORTAL_REGULATION_TITLE,
    }
