"""What readers see: publish the approved work (or an archived article again), roll back to an
earlier published revision, archive a live article. Publishing and rolling back move the live
pointer to a new published revision with the next version."""

from django.db import transaction

from articles.changes import articles_changed
from articles.content import content_version
from articles.models import Article, ArticleState
from releases.errors import InvalidContent, InvalidTransition
from releases.models import AuditAction, ReviewState, Revision, RevisionKind

from .reads import published_revision
from .rules import _note_for, _require_rule, _require_state
from .steps import _add_revision, _audit, _go_live, _locked, _refresh_similar, _with_revision_block
from .versions import BUMPS, _next_published_version


@transaction.atomic
def article_publish(*, article: Article, user, note: str, bump: str = "patch") -> Revision:
    """Make the approved work live with the next version (of the live one, bumped by ``bump``).

    An archived article with nothing pending is published again as it was.
    """
    _require_rule(user, "publish")
    note = _note_for("publish", note)
    if bump not in BUMPS:
        raise InvalidContent(f"bump must be one of {', '.join(BUMPS)}.", [])
    article, release = _locked(article)
    before = release.review_state or article.state
    live, pending = release.live_revision, release.pending_revision
    _require_state("publish", article, release)
    republish = release.review_state != ReviewState.REVIEWED
    source = live if republish else pending
    base_version = live.version if live is not None else content_version(source.content)
    content = _with_revision_block(
        source.content, version=_next_published_version(article, base_version, bump)
    )
    revision = _add_revision(
        article,
        kind=RevisionKind.PUBLISH,
        state=ArticleState.PUBLISHED,
        content=content,
        user=user,
        note=note,
        base=source,
    )
    release.pending_revision = None
    release.review_state = ""
    release.edited_at = None
    _go_live(article, release, revision)
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
def article_rollback(
    *, article: Article, user, note: str, revision: int | None = None, version: str | None = None
) -> Revision:
    """Restore an earlier published revision (by number, or by a version only it carries): its
    content goes live again as a new revision with the next patch version. Only the live pointer
    moves: pending work stays pending, and stays in the queue."""
    _require_rule(user, "rollback")
    note = _note_for("rollback", note)
    if revision is None and not version:
        raise InvalidContent("Name the revision (or the version) to roll back to.", [])
    article, release = _locked(article)
    _require_state("rollback", article, release)
    target = published_revision(article, number=revision, version=version)
    live = release.live_revision
    if live is not None and live.number == target.number and article.state == ArticleState.PUBLISHED:
        raise InvalidTransition(f"Revision {target.number} (version {target.version}) is live already.")
    before = article.state
    base_version = live.version if live is not None else target.version
    content = _with_revision_block(
        target.content, version=_next_published_version(article, base_version, "patch")
    )
    made = _add_revision(
        article,
        kind=RevisionKind.ROLLBACK,
        state=ArticleState.PUBLISHED,
        content=content,
        user=user,
        note=note,
        base=target,
    )
    _go_live(article, release, made)
    _audit(
        article,
        AuditAction.ROLLBACK,
        user=user,
        from_state=before,
        to_state=ArticleState.PUBLISHED,
        note=note,
        revision=made,
    )
    return made


@transaction.atomic
def article_archive(*, article: Article, user, note: str) -> Article:
    """Take a live article down. It is kept, and comes back by publishing again."""
    _require_rule(user, "archive")
    note = _note_for("archive", note)
    article, release = _locked(article)
    _require_state("archive", article, release)
    article.state = ArticleState.ARCHIVED
    article.save(update_fields=["state", "updated_at"])
    articles_changed([article.pk], live=True)  # it was live: its pages and the lists go
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
