"""Gzip for answers that carry no secret, and only for those (BREACH).

BREACH recovers a secret from a compressed HTTPS answer that also reflects text the attacker
chooses, by watching the answer's size. So an answer is compressed only when it cannot hold a
secret, which here means all of:

* the client is not signed in (no session user) and sent no credentials (``Authorization``):
  anonymous reader pages, the feed, the sitemap and the API for anonymous clients;
* no CSRF token was put into it: Django notes when a template or view asked for the token (the
  admin's sign-in form, any form that posts), and such an answer is sent as it is;
* it is not marked ``Cache-Control: private``, which staff-only answers are.

Everything else (the admin, staff previews, forms, anything for a signed-in user or a token
client) goes out uncompressed. The rule is ``carries_secrets``; ``SafeGZipMiddleware`` applies it,
placed above the session, CSRF and conditional-GET middleware in ``MIDDLEWARE`` so it sees their
finished answer (ETags are made on the plain body; compressing turns them weak).
"""

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.middleware.gzip import GZipMiddleware

from articles.read_cache import cache_control_directives


def carries_secrets(request: HttpRequest, response: HttpResponseBase) -> bool:
    """Whether this answer may hold a secret, and so must never be compressed."""
    # A rendered CSRF token: get_token() flags the request, and CsrfViewMiddleware then (re)sets
    # the CSRF cookie on the answer and clears the flag. Either mark means a token is in the body.
    if request.META.get("CSRF_COOKIE_NEEDS_UPDATE") or settings.CSRF_COOKIE_NAME in response.cookies:
        return True
    if "HTTP_AUTHORIZATION" in request.META:
        return True
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return True
    return "private" in cache_control_directives(response)


class SafeGZipMiddleware(GZipMiddleware):
    """Django's GZipMiddleware for answers without secrets (``carries_secrets``), and only those."""

    def process_response(self, request, response):
        if carries_secrets(request, response):
            return response
        return super().process_response(request, response)
