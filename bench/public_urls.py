from django.http import HttpResponse
from django.urls import path

from tangshan_portal.urls import handler403, handler404, handler500, urlpatterns  # noqa: F401


def bare(request):
    """The floor: the whole middleware stack, no database, no template."""
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [path("bench/bare/", bare), *urlpatterns]
