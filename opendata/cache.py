"""Caching of public pages and public API answers.

The cache key carries the public data version (opendata.models.PublicVersion), read with one primary-key query
per request. A change committed by any process (a web worker, the Celery worker, a management command)
therefore shows on the next request everywhere, without deleting keys and without relying on a shared cache;
old entries simply age out."""

import hashlib
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.utils import translation

from .models import PublicVersion


def public_version():
    return PublicVersion.objects.filter(pk=1).values_list("value", flat=True).first() or 0


def cache_key(request, prefix="page"):
    raw = "|".join(
        [
            prefix,
            str(public_version()),
            translation.get_language() or "",
            request.path,
            request.GET.urlencode(),
            request.headers.get("Accept", "") if prefix == "api" else "",
        ]
    )
    return "public:" + hashlib.sha256(raw.encode()).hexdigest()


def cached_public_page(view):
    """Cache an anonymous GET answer of a public page until public data change. Logged-in users get a fresh
    page (the navigation shows their name and notifications)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method != "GET" or request.user.is_authenticated:
            return view(request, *args, **kwargs)
        key = cache_key(request)
        cached = cache.get(key)
        if cached is not None:
            return cached
        response = view(request, *args, **kwargs)
        # A response that sets a cookie (a session, a CSRF token) belongs to one visitor: never shared.
        if response.status_code == 200 and not getattr(response, "streaming", False) and not response.cookies:
            if hasattr(response, "render") and callable(response.render):
                response = response.render()
            cache.set(key, response, settings.PUBLIC_CACHE_SECONDS)
        return response

    return wrapper
