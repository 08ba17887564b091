"""Caching of the public API's answers until public data change (opendata.cache keys them by the public data
version, so an approved blacklist entry shows on the next request in every process)."""

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.utils import timezone
from rest_framework.authentication import TokenAuthentication

from tangshan_portal.models import Announcement

from .cache import cache_key


def _seconds_until_next_publication(now):
    """An announcement dated in the future becomes public without any change being saved, so nothing would
    bump the cache version: an answer that could contain it is kept no longer than until that moment."""
    upcoming = (
        Announcement.objects.filter(published_at__gt=now, withdrawn_at__isnull=True)
        .order_by("published_at")
        .values_list("published_at", flat=True)
        .first()
    )
    if upcoming is None:
        return None
    return max(1, int((upcoming - now).total_seconds()) + 1)


class PublicCacheMixin:
    """Cache list and detail answers of a public endpoint.

    Only for anonymous and token clients: what they get does not depend on who asks. Session users (staff
    trying the API in a browser) get a fresh answer. Throttling and authentication run before the cache is
    read (DRF's `initial`), so a cached answer still counts against the rate. Only the rendered body and its
    content type are stored, never headers or cookies."""

    # Set on endpoints whose answers change when a scheduled announcement's moment arrives.
    cache_until_next_publication = False

    def _cacheable(self, request):
        if request.method != "GET":
            return False
        return request.user.is_anonymous or isinstance(request.successful_authenticator, TokenAuthentication)

    def _timeout(self):
        timeout = settings.PUBLIC_CACHE_SECONDS
        if self.cache_until_next_publication:
            until = _seconds_until_next_publication(timezone.now())
            if until is not None:
                timeout = min(timeout, until)
        return timeout

    def cached(self, request, produce):
        if not self._cacheable(request):
            return produce()
        key = cache_key(request, prefix="api")
        hit = cache.get(key)
        if hit is not None:
            content, content_type = hit
            return HttpResponse(content, content_type=content_type)
        response = produce()
        if response.status_code == 200:
            timeout = self._timeout()

            def store(rendered):
                cache.set(key, (rendered.content, rendered["Content-Type"]), timeout)

            response.add_post_render_callback(store)
        return response

    def list(self, request, *args, **kwargs):
        return self.cached(request, lambda: super(PublicCacheMixin, self).list(request, *args, **kwargs))

    def retrieve(self, request, *args, **kwargs):
        return self.cached(request, lambda: super(PublicCacheMixin, self).retrieve(request, *args, **kwargs))
