"""The address of the client that sent a request: the one rule every per-client limit uses.

``REMOTE_ADDR`` is the peer that opened the connection. Behind ``TRUSTED_PROXIES`` reverse proxies
that each append the address they saw to ``X-Forwarded-For``, the client is the entry that many
places from the right: those entries were written by the proxies, while anything further left is
whatever the client sent, so it is never used. With 0 proxies (the default) the header is ignored
altogether, since any client can write it. A header with fewer entries than proxies did not come
through all of them, and ``REMOTE_ADDR`` is used.

The sign-in throttle (``config.signin.throttle``) and the API's rate limits
(``config.throttling``) both call ``client_address``.
"""

from django.conf import settings


def client_address(request) -> str:
    """The client's address for ``request`` (an ``HttpRequest`` or a DRF ``Request``); '' when unknown."""
    proxies = settings.TRUSTED_PROXIES
    if proxies > 0:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "")
