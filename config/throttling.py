"""The API's rate limits: DRF's throttles, counting each client by ``config.client_address``.

DRF's own address rule trusts ``X-Forwarded-For`` unless ``NUM_PROXIES`` is set, so any client
could start a new count with each request by sending a made-up header. These classes count the
address the sign-in throttle counts, under the same ``TRUSTED_PROXIES`` setting.

Counts live in the default cache (``CACHE_URL``): with the in-memory default each worker process
keeps its own, so N workers let up to N times the rate through; a shared cache (redis://, or
file:// on one machine) makes it one count for every worker and app server.
"""

from rest_framework import throttling

from config.client_address import client_address


class ClientAddressIdent:
    def get_ident(self, request):
        return client_address(request)


class AnonRateThrottle(ClientAddressIdent, throttling.AnonRateThrottle):
    """``API_THROTTLE_ANON``: requests without credentials, per client address."""


class UserRateThrottle(ClientAddressIdent, throttling.UserRateThrottle):
    """``API_THROTTLE_USER``: per signed-in user (per client address for anonymous requests)."""
