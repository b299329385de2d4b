"""Error pages: JSON under /api/, friendly HTML elsewhere."""

from django.http import JsonResponse
from django.views.defaults import bad_request as default_bad_request
from django.views.defaults import page_not_found, server_error


def bad_request(request, exception=None, *, errors: dict[str, list[str]] | None = None):
    """400. Under /api/ a JSON object of messages (by parameter when ``errors`` names them, as the
    API's own validation answers), elsewhere the site's page."""
    if request.path.startswith("/api/"):
        return JsonResponse(errors or {"detail": "Bad request."}, status=400)
    return default_bad_request(request, exception)


def not_found(request, exception=None):
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return page_not_found(request, exception)


def failed(request):
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Something went wrong on our side; it has been logged."}, status=500)
    return server_error(request)
