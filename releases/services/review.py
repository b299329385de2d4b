"""The review of pending work: submit it, approve it (stamping 'last reviewed') or request
changes (listing the open comments); and, when a live article's review is due, send it back to
review."""

import datetime as dt

from django.db import transaction

from articles.changes import articles_changed
from articles.models import Article, ArticleState
from releases.models import AuditAction, ReviewState, Revision, RevisionKind

from .comments import comment_label, open_comments
from .rules import _note_for, _require_rule, _require_state
from .steps import _add_revision, _audit, _locked, _make_pending, _with_revision_block


def _move_review_state(article, release, *, to: str) -> None:
    release.review_state = to
    release.save(update_fields=["review_state"])
    if release.live_revision_id is None:
        article.state = to
        article.save(update_fields=["state", "updated_at"])
        articles_changed([article.pk], live=False)  # never published: readers see nothing of it


@transaction.atomic
def article_submit(*, article: Article, user, note: str = "") -> Article:
    """Send the pending work to review."""
    _require_rule(user, "submit")
    article, release = _locked(article)
    before = release.review_state
    _require_state("submit", article, release)
    _move_review_state(article, release, to=ReviewState.IN_REVIEW)
    _audit(
        article, AuditAction.SUBMIT, user=user, from_state=before, to_state=ReviewState.IN_REVIEW, note=note
    )
    return article


@transaction.atomic
def article_approve(*, article: Article, user, note: str = "") -> Article:
    """Approve the work in review: stamps 'last reviewed' and clears 'needs human review'."""
    _require_rule(user, "approve")
    article, release = _locked(article)
    before = release.review_state
    _require_state("approve", article, release)
    pending = release.pending_revision
    content = _with_revision_block(
        pending.content, status="reviewed", last_reviewed=dt.date.today().isoformat()
    )
    if content.get("flags") is not None:
        content["flags"] = {**content["flags"], "needs_human_review": False}
    revision = _add_revision(
        article,
        kind=RevisionKind.REVIEW,
        state=ArticleState.REVIEWED,
        content=content,
        user=user,
        note=note,
        base=pending,
    )
    _make_pending(article, release, revision, ReviewState.REVIEWED, edited=False)
    _audit(
        article,
        AuditAction.APPROVE,
        user=user,
        from_state=before,
        to_state=ReviewState.REVIEWED,
        note=note,
        revision=revision,
    )
    return article


@transaction.atomic
def article_request_changes(*, article: Article, user, note: str) -> Article:
    """Send the work in review back to the editors, saying what to change."""
    _require_rule(user, "request_changes")
    note = _note_for("request_changes", note)
    article, release = _locked(article)
    before = release.review_state
    _require_state("request_changes", article, release)
    comments = open_comments(article)
    if comments:
        listed = "\n".join(f"- {comment_label(comment)}" for comment in comments)
        note = f"{note}\n\nOpen comments:\n{listed}"
    _move_review_state(article, release, to=ReviewState.CHANGES_REQUESTED)
    _audit(
        article,
        AuditAction.REQUEST_CHANGES,
        user=user,
        from_state=before,
        to_state=ReviewState.CHANGES_REQUESTED,
        note=note,
    )
    return article


@transaction.atomic
def article_request_review(*, article: Article, user, note: str) -> Revision:
    """Put a live article back in the review queue (its review is due): its live content becomes
    pending work in review, so approving it stamps a new 'last reviewed' date."""
    _require_rule(user, "request_review")
    note = _note_for("request_review", note)
    article, release = _locked(article)
    _require_state("request_review", article, release)
    live = release.live_revision
    revision = _add_revision(
        article,
        kind=RevisionKind.REOPEN,
        state=ReviewState.IN_REVIEW,
        content=live.content,
        user=user,
        note=note,
        base=live,
    )
    _make_pending(article, release, revision, ReviewState.IN_REVIEW, edited=False)
    _audit(
        article,
        AuditAction.REQUEST_REVIEW,
        user=user,
        from_state=ArticleState.PUBLISHED,
        to_state=ReviewState.IN_REVIEW,
        note=note,
        revision=revision,
    )
    return revision
