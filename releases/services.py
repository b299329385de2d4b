"""Every write of the releases app: revisions, the review workflow, publish and rollback.

Functions are keyword-only and named ``<entity>_<action>``. The admin, the API and the
importer all call them, so each rule lives here once. Each transition checks permission
first and state second, locks the article row, and records an audit event.
"""

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from articles import similarity
from articles.bulk import JSONText, insert_rows
from articles.content import (
    content_from_article,
    content_prefetch,
    content_version,
    validate_content,
    version_key,
)
from articles.models import Article, ArticleState
from articles.writing import article_apply_content
from releases.models import AuditAction, AuditEvent, Revision, RevisionKind

BUMPS = ("patch", "minor", "major")


class WorkflowError(Exception):
    """A refused workflow action. ``status`` is the HTTP status the API answers with."""

    status = 409

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class ActionForbidden(WorkflowError):
    status = 403


class InvalidTransition(WorkflowError):
    status = 409


class EditConflict(WorkflowError):
    status = 409


class NoteRequired(WorkflowError):
    status = 400


class InvalidContent(WorkflowError):
    status = 400

    def __init__(self, message: str, problems: list[dict]):
        super().__init__(message)
        self.problems = problems


# -- reads that the rules need ----------------------------------------------------------------


def review_state(article: Article) -> str:
    """The state a reviewer works with: of the pending changes if any, else of the article."""
    return article.pending_state or article.state


def bump_version(version: str | None, level: str = "patch") -> str:
    """1.5.4 -> 1.5.5 (patch), 1.6.0 (minor), 2.0.0 (major); no version yet -> 1.0.0."""
    if level not in BUMPS:
        raise InvalidTransition(f"bump must be one of {', '.join(BUMPS)}, not {level!r}")
    key = version_key(version)
    if key is None:
        return "1.0.0"
    major, minor, patch = key
    if level == "major":
        return f"{major + 1}.0.0"
    if level == "minor":
        return f"{major}.{minor + 1}.0"
    return f"{major}.{minor}.{patch + 1}"


def latest_revision(article: Article) -> Revision | None:
    return Revision.objects.filter(article=article).order_by("-number").first()


def live_revision(article: Article) -> Revision | None:
    """The revision whose content is live (the latest one made in state published)."""
    return Revision.objects.filter(article=article, state=ArticleState.PUBLISHED).order_by("-number").first()


def pending_content(article: Article) -> dict[str, Any]:
    """The content a reviewer is looking at: the latest revision's, or the row's."""
    latest = latest_revision(article)
    if latest is not None:
        return latest.content
    return content_from_article(content_prefetch(Article.objects.filter(pk=article.pk)).get())


# -- helpers ------------------------------------------------------------------------------------


def _require(user, permission: str, action: str) -> None:
    if user is None or not user.is_active or not user.has_perm(permission):
        raise ActionForbidden(f"You are not allowed to {action}.")


def _require_note(note: str | None, action: str) -> str:
    note = (note or "").strip()
    if not note:
        raise NoteRequired(f"A note is required to {action}.")
    return note


def _locked(article: Article) -> Article:
    """The article row, locked until the transaction ends, so concurrent actions queue up."""
    return Article.objects.select_for_update().get(pk=article.pk)


def _add_revision(article: Article, *, kind, state, content, user, note="", base_number=None, conflict=False):
    number = (Revision.objects.filter(article=article).aggregate(n=Max("number"))["n"] or 0) + 1
    return Revision.objects.create(
        article=article,
        number=number,
        kind=kind,
        state=state,
        version=content_version(content),
        content=content,
        base_number=base_number,
        conflict=conflict,
        author=user,
        note=note,
    )


def _audit(article, action, *, user, from_state, to_state, note="", revision=None) -> AuditEvent:
    return AuditEvent.objects.create(
        article=article,
        revision=revision,
        action=action,
        user=user,
        from_state=from_state,
        to_state=to_state,
        note=note,
    )


def _set_review_state(article: Article, state: str) -> None:
    """Move the pending changes (or a never-published article) to ``state``."""
    if article.has_released_version:
        article.pending_state = state
    else:
        article.state = state
    article.save(update_fields=["state", "pending_state", "updated_at"])


def _with_revision_block(content: dict, **changes) -> dict:
    content = {**content, "revision": {**(content.get("revision") or {}), **changes}}
    content["revision"].setdefault("status", None)
    content["revision"].setdefault("version", None)
    content["revision"].setdefault("last_reviewed", None)
    return content


# -- the importer's entry point -----------------------------------------------------------------


def revisions_record_import(
    entries: Iterable[tuple[int, dict[str, Any], str, JSONText | None]],
    *,
    author=None,
    conflicts: set[int] = frozenset(),
) -> None:
    """Add one import revision per (article id, content, state, content's JSON text or None),
    numbered after each article's last, each with its audit event.

    Runs inside the importer's transaction, in a few statements for the whole batch.
    ``conflicts`` names articles whose import arrived on top of unpublished editor changes.
    """
    entries = list(entries)
    if not entries:
        return
    last = dict(
        Revision.objects.filter(article_id__in={entry[0] for entry in entries})
        .values("article_id")
        .annotate(last=Max("number"))
        .values_list("article_id", "last")
    )
    now = timezone.now()
    author_id = author.pk if author is not None else None
    revisions = []
    for article_id, content, state, snapshot in entries:
        number = last.get(article_id, 0) + 1
        last[article_id] = number
        conflict = article_id in conflicts
        revisions.append(
            {
                "article_id": article_id,
                "number": number,
                "kind": RevisionKind.IMPORT,
                "state": state,
                "version": content_version(content),
                "content": snapshot if snapshot is not None else content,
                "conflict": conflict,
                "author_id": author_id,
                "note": "conflicts with unpublished editor changes" if conflict else "",
                "created_at": now,
            }
        )
    ids = insert_rows(Revision, revisions)
    insert_rows(
        AuditEvent,
        [
            {
                "article_id": revision["article_id"],
                "revision_id": pk,
                "action": AuditAction.IMPORT,
                "user_id": author_id,
                "to_state": revision["state"],
                "note": revision["note"],
                "created_at": now,
            }
            for revision, pk in zip(revisions, ids, strict=True)
        ],
    )


# -- workflow actions -----------------------------------------------------------------------------


@transaction.atomic
def article_edit(
    *, article: Article, user, content: dict[str, Any], base_number: int | None = None, note: str = ""
) -> Revision:
    """Save an editor's changes as a new draft revision; live content stays as it is.

    ``base_number`` is the revision the editor started from: if someone saved a newer one since,
    the edit is refused with a conflict and nothing is written. Without it, the edit applies to
    the latest draft.
    """
    _require(user, "articles.change_article", "edit articles")
    article = _locked(article)
    latest = latest_revision(article)
    latest_number = latest.number if latest else 0
    if base_number is not None and base_number != latest_number:
        who = latest.author_label if latest else "someone"
        raise EditConflict(
            f"Revision {latest_number} was saved by {who} after revision {base_number}, which your "
            "changes start from. Reload the article and apply your changes again."
        )
    if content.get("reference") != article.reference:
        raise InvalidContent("The reference identifies the article and cannot change.", [])
    problems = [problem.as_dict() for problem in validate_content(content)]
    if problems:
        raise InvalidContent("Some fields are not valid.", problems)

    before = review_state(article)
    revision = _add_revision(
        article,
        kind=RevisionKind.EDIT,
        state=ArticleState.DRAFT,
        content=content,
        user=user,
        note=note,
        base_number=latest_number,
    )
    if not article.has_released_version:
        # Nobody sees a never-published article: its row carries the draft.
        article_apply_content(article, content)
    article.edited_at = timezone.now()
    article.save(update_fields=["edited_at", "updated_at"])
    _set_review_state(article, ArticleState.DRAFT)
    _audit(
        article,
        AuditAction.EDIT,
        user=user,
        from_state=before,
        to_state=ArticleState.DRAFT,
        note=note,
        revision=revision,
    )
    return revision


@transaction.atomic
def article_submit(*, article: Article, user, note: str = "") -> Article:
    """Send a draft to review."""
    _require(user, "releases.submit_article", "submit articles for review")
    article = _locked(article)
    before = review_state(article)
    if before not in (ArticleState.DRAFT, ArticleState.CHANGES_REQUESTED):
        raise InvalidTransition(f"Only a draft can be submitted for review; this article is {before}.")
    _set_review_state(article, ArticleState.IN_REVIEW)
    _audit(
        article, AuditAction.SUBMIT, user=user, from_state=before, to_state=ArticleState.IN_REVIEW, note=note
    )
    return article


@transaction.atomic
def article_approve(*, article: Article, user, note: str = "") -> Article:
    """Approve the changes in review: stamps 'last reviewed' and clears 'needs human review'."""
    _require(user, "releases.review_article", "approve articles")
    article = _locked(article)
    before = review_state(article)
    if before != ArticleState.IN_REVIEW:
        raise InvalidTransition(f"Only an article in review can be approved; this article is {before}.")
    content = _with_revision_block(
        pending_content(article), status="reviewed", last_reviewed=dt.date.today().isoformat()
    )
    if content.get("flags") is not None:
        content["flags"] = {**content["flags"], "needs_human_review": False}
    revision = _add_revision(
        article, kind=RevisionKind.REVIEW, state=ArticleState.REVIEWED, content=content, user=user, note=note
    )
    if not article.has_released_version:
        article_apply_content(article, content)
    _set_review_state(article, ArticleState.REVIEWED)
    _audit(
        article,
        AuditAction.APPROVE,
        user=user,
        from_state=before,
        to_state=ArticleState.REVIEWED,
        note=note,
        revision=revision,
    )
    return article


@transaction.atomic
def article_request_changes(*, article: Article, user, note: str) -> Article:
    """Send the changes in review back to the editors, saying what to change."""
    _require(user, "releases.review_article", "request changes")
    note = _require_note(note, "request changes")
    article = _locked(article)
    before = review_state(article)
    if before != ArticleState.IN_REVIEW:
        raise InvalidTransition(
            f"Changes can only be requested for an article in review; this one is {before}."
        )
    _set_review_state(article, ArticleState.CHANGES_REQUESTED)
    _audit(
        article,
        AuditAction.REQUEST_CHANGES,
        user=user,
        from_state=before,
        to_state=ArticleState.CHANGES_REQUESTED,
        note=note,
    )
    return article


@transaction.atomic
def article_publish(*, article: Article, user, note: str, bump: str = "patch") -> Revision:
    """Make the approved changes live with the next version (of the live one, bumped by ``bump``).

    An archived article with no pending changes is published again as it was.
    """
    _require(user, "releases.publish_article", "publish articles")
    note = _require_note(note, "publish")
    if bump not in BUMPS:
        raise InvalidContent(f"bump must be one of {', '.join(BUMPS)}.", [])
    article = _locked(article)
    before = review_state(article)
    republish = article.state == ArticleState.ARCHIVED and article.pending_state is None
    if before != ArticleState.REVIEWED and not republish:
        raise InvalidTransition(f"Only approved changes can be published; this article is {before}.")
    live = live_revision(article)
    current_version = article.version if article.has_released_version else None
    base = live.version if live and current_version is None and live.version else current_version
    source = live.content if republish and live else pending_content(article)
    new_version = bump_version(base or (source.get("revision") or {}).get("version"), bump)
    content = _with_revision_block(source, version=new_version)
    revision = _add_revision(
        article,
        kind=RevisionKind.PUBLISH,
        state=ArticleState.PUBLISHED,
        content=content,
        user=user,
        note=note,
    )
    _go_live(article, content)
    _audit(
        article,
        AuditAction.PUBLISH,
        user=user,
        from_state=before,
        to_state=ArticleState.PUBLISHED,
        note=note,
        revision=revision,
    )
    return revision


@transaction.atomic
def article_rollback(*, article: Article, user, version: str, note: str) -> Revision:
    """Restore an earlier published version as a new published revision (a patch bump)."""
    _require(user, "releases.publish_article", "roll back articles")
    note = _require_note(note, "roll back")
    article = _locked(article)
    target = (
        Revision.objects.filter(article=article, state=ArticleState.PUBLISHED, version=version)
        .order_by("-number")
        .first()
    )
    if target is None:
        raise InvalidTransition(f"Version {version} was never published for this article.")
    live = live_revision(article)
    if live is not None and live.number == target.number and article.state == ArticleState.PUBLISHED:
        raise InvalidTransition(f"Version {version} is the live version already.")
    before = article.state
    new_version = bump_version(article.version or (live.version if live else None), "patch")
    content = _with_revision_block(target.content, version=new_version)
    revision = _add_revision(
        article,
        kind=RevisionKind.ROLLBACK,
        state=ArticleState.PUBLISHED,
        content=content,
        user=user,
        note=note,
        base_number=target.number,
    )
    _go_live(article, content, keep_pending=True)
    _audit(
        article,
        AuditAction.ROLLBACK,
        user=user,
        from_state=before,
        to_state=ArticleState.PUBLISHED,
        note=note,
        revision=revision,
    )
    return revision


@transaction.atomic
def article_archive(*, article: Article, user, note: str) -> Article:
    """Take a live article down. It is kept, and comes back by publishing again."""
    _require(user, "releases.publish_article", "archive articles")
    note = _require_note(note, "archive")
    article = _locked(article)
    if article.state != ArticleState.PUBLISHED:
        raise InvalidTransition(f"Only a published article can be archived; this article is {article.state}.")
    article.state = ArticleState.ARCHIVED
    article.save(update_fields=["state", "updated_at"])
    _refresh_similar(article)
    _audit(
        article,
        AuditAction.ARCHIVE,
        user=user,
        from_state=ArticleState.PUBLISHED,
        to_state=ArticleState.ARCHIVED,
        note=note,
    )
    return article


def _refresh_similar(article: Article) -> None:
    """Similar posts follow what readers see: refreshed once the change is committed."""
    transaction.on_commit(lambda: similarity.refresh([article.pk]))


def _go_live(article: Article, content: dict, *, keep_pending: bool = False) -> None:
    _refresh_similar(article)
    article_apply_content(article, content)
    article.state = ArticleState.PUBLISHED
    if not keep_pending:
        article.pending_state = None
        article.edited_at = None
    if article.published_at is None:
        article.published_at = timezone.now()
    article.save(update_fields=["state", "pending_state", "edited_at", "published_at", "updated_at"])
