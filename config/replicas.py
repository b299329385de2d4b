"""Reads from PostgreSQL read replicas, for the requests that can take them.

``DATABASE_REPLICA_URLS`` lists replicas of the primary. Anonymous GET and HEAD requests
(readers and API clients, who only ever see published content) read from one of them, chosen
per request. Everything else uses the primary: signed-in users and clients sending credentials
(a session cookie or an ``Authorization`` header, such as an API token: an editor always reads
what they just wrote), every write, the admin, the importer and other commands.
"""

import random
from contextvars import ContextVar

from django.conf import settings

_read_alias: ContextVar[str | None] = ContextVar("read_alias", default=None)


class ReplicaRouter:
    """Sends the reads of a replica-eligible request to its replica; everything else to default."""

    def db_for_read(self, model, **hints):
        return _read_alias.get()

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True  # every alias holds the same data

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == "default"


def _has_credentials(request) -> bool:
    """Signed in through the session, or sending credentials the API authenticates later (a token
    is only read by DRF, inside the view, after this middleware has chosen)."""
    return request.user.is_authenticated or "Authorization" in request.headers


class ReplicaReadsMiddleware:
    """Chooses a replica for an anonymous GET or HEAD request, for the whole of its handling."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        replicas = settings.READ_REPLICAS
        if not replicas or request.method not in ("GET", "HEAD") or _has_credentials(request):
            return self.get_response(request)
        token = _read_alias.set(random.choice(replicas))
        try:
            return self.get_response(request)
        finally:
            _read_alias.reset(token)
