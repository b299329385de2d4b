"""Liveness and readiness probe for load balancers and uptime checks."""

import logging

from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)


@never_cache
@require_safe
def health(request):
    """Answer 200 after a real query, or 503 with a short reason when the database is down."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        # Drop the broken connection so the next request opens a fresh one: the probe turns
        # green again as soon as the database is back, without a restart.
        connection.close()
        reason = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
        logger.warning("health check failed: %s: %s", type(exc).__name__, reason)
        return JsonResponse(
            {"ok": False, "database": f"{type(exc).__name__}: {reason}".rstrip(": ")}, status=503
        )
    return JsonResponse({"ok": True, "database": "ok"})
