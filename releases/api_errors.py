"""The API's one answer to a refused action: its status by kind, its reason as ``detail``."""

from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from releases.errors import (
    ActionForbidden,
    EditConflict,
    InvalidContent,
    InvalidTransition,
    NoteRequired,
    WorkflowError,
)

# The most specific kind first; anything else refused is a conflict with the article's state.
STATUS_BY_KIND: tuple[tuple[type[WorkflowError], int], ...] = (
    (ActionForbidden, 403),
    (NoteRequired, 400),
    (InvalidContent, 400),
    (EditConflict, 409),
    (InvalidTransition, 409),
)
DEFAULT_STATUS = 409


def status_of(error: WorkflowError) -> int:
    return next((status for kind, status in STATUS_BY_KIND if isinstance(error, kind)), DEFAULT_STATUS)


def exception_handler(exc, context):
    """DRF's handler, plus refused workflow actions: ``{"detail": ..., "problems": [...]}``."""
    if isinstance(exc, WorkflowError):
        body = {"detail": exc.message}
        if getattr(exc, "problems", None):
            body["problems"] = exc.problems
        return Response(body, status=status_of(exc))
    return drf_exception_handler(exc, context)
