"""The anonymous read cache: whole answers for readers and API clients who are not signed in.

Every key holds the content generation (``ContentGeneration``), which database triggers advance
in the same transaction as any change to what these answers show: an article's live version,
its parts, a tag's name, similar posts. A process that reads the generation after a change
committed builds a new key, so no process can serve a stale or unpublished version, with no
purge and whatever the cache backend. Signed-in users are never served from it (staff see
drafts). ``READ_CACHE=0`` turns it off; ``CACHE_URL`` chooses the backend (settings).
"""

import hashlib
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse
from rest_framework.response import Response

from articles.models import ContentGeneration

# What staff see and readers do not (a draft, a preview of a revision, pending work) is kept by no
# cache, shared or the browser's: the reader page of a draft or preview, staff's API answers.
UNPUBLISHED_CACHE_CONTROL = "private, no-store"

# Response headers a cached page keeps: the rest are set again on the way out.
KEPT_HEADERS = ("Content-Type", "ETag", "Last-Modified", "Content-Language")


def enabled() -> bool:
    return settings.READ_CACHE


def _cache():
    return caches[settings.READ_CACHE_ALIAS]


def generation() -> int:
    """The current content generation: one indexed single-row read."""
    value = ContentGeneration.objects.values_list("value", flat=True).first()
    return value or 0


def _key(kind: str, request: HttpRequest) -> str:
    # The absolute URI, as a digest (any length, any characters): pagination links in API
    # answers carry the scheme and host.
    uri = hashlib.sha256(request.build_absolute_uri().encode()).hexdigest()
    return f"read:{kind}:{generation()}:{uri}"


def _cacheable(request: HttpRequest) -> bool:
    return enabled() and request.method in ("GET", "HEAD") and not request.user.is_authenticated


def anonymous_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Serve a reader page from the cache to anonymous visitors; store its 200 answers."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not _cacheable(request):
            return view(request, *args, **kwargs)
        key = _key("page", request)
        cached = _cache().get(key)
        if cached is not None:
            content, headers = cached
            response = HttpResponse(content)
            for name, value in headers.items():
                response[name] = value
            return response
        response = view(request, *args, **kwargs)
        if response.status_code == 200 and not response.cookies and not response.streaming:
            headers = {name: response[name] for name in KEPT_HEADERS if response.has_header(name)}
            _cache().set(key, (response.content, headers), settings.READ_CACHE_TIMEOUT)
        return response

    return wrapper


def anonymous_api(view, request, build: Callable[[], Response]) -> Response:
    """An API answer for an anonymous client from the cache, or built and stored.

    The data is kept rather than the bytes, so content negotiation and the view's own headers
    (Cache-Control, Vary) apply as usual; ``view.last_modified`` is kept with it.
    """
    if not _cacheable(request):
        return build()
    key = _key("api", request)
    cached = _cache().get(key)
    if cached is not None:
        data, etag, view.last_modified = cached
        response = Response(data)
        if etag:
            response["ETag"] = etag
        return response
    response = build()
    if response.status_code == 200:
        entry = (response.data, response.get("ETag"), getattr(view, "last_modified", None))
        _cache().set(key, entry, settings.READ_CACHE_TIMEOUT)
    return response
