"""Comments on a review: on the pending work, optionally on one field, open until resolved and
kept in the history."""

from django.db import transaction
from django.utils import timezone

from articles.models import Article
from releases.compare import LABELS as FIELD_LABELS
from releases.errors import InvalidContent, InvalidTransition
from releases.models import AuditAction, ReviewComment

from .rules import _note_for, _require_rule, _require_state
from .steps import _audit, _locked, _username


def open_comments(article: Article) -> list[ReviewComment]:
    """The article's unresolved review comments, oldest first."""
    return list(
        ReviewComment.objects.filter(article=article, resolved_at__isnull=True)
        .select_related("revision")
        .order_by("created_at", "id")
    )


def comment_label(comment: ReviewComment) -> str:
    where = f"on {comment.field_label}, " if comment.field else ""
    return f"{comment.author_name} ({where}revision {comment.revision.number}): {comment.body}"


@transaction.atomic
def comment_add(*, article: Article, user, body: str, field: str = "") -> ReviewComment:
    """Comment on the pending work, optionally on one field; it stays open until resolved."""
    _require_rule(user, "comment")
    body = _note_for("comment", body)
    field = (field or "").strip()
    if field and field not in FIELD_LABELS:
        raise InvalidContent(f"No field {field!r} to comment on.", [])
    article, release = _locked(article)
    _require_state("comment", article, release)
    comment = ReviewComment.objects.create(
        article=article,
        revision=release.pending_revision,
        field=field,
        body=body,
        author=user,
        author_name=_username(user),
    )
    state = release.review_state
    _audit(
        article, AuditAction.COMMENT, user=user, from_state=state, to_state=state, note=comment_label(comment)
    )
    return comment


@transaction.atomic
def comment_resolve(*, comment: ReviewComment, user) -> ReviewComment:
    """Mark a comment as dealt with; it stays in the history."""
    _require_rule(user, "comment")
    article, release = _locked(comment.article)
    comment = ReviewComment.objects.select_for_update().select_related("revision").get(pk=comment.pk)
    if comment.resolved_at is not None:
        raise InvalidTransition(f"{comment.resolved_by_name or 'Someone'} resolved this comment already.")
    comment.resolved_at = timezone.now()
    comment.resolved_by = user
    comment.resolved_by_name = _username(user)
    comment.save(update_fields=["resolved_at", "resolved_by", "resolved_by_name"])
    state = release.review_state
    _audit(
        article,
        AuditAction.RESOLVE_COMMENT,
        user=user,
        from_state=state,
        to_state=state,
        note=comment_label(comment),
    )
    return comment
