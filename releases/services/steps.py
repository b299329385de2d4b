"""What every action executes once its checks pass: lock the article, add a revision, move the
pointers of its ``releases.models.Release``, project the live revision (or a never-published
article's pending work) onto the article row, write one audit event, refresh similar posts after
commit."""

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from articles import similarity
from articles.changes import articles_changed
from articles.content import content_version
from articles.models import Article, ArticleState
from articles.writing import article_apply_content
from releases.models import AuditEvent, Release, Revision


def _locked(article: Article) -> tuple[Article, Release]:
    """The article row, locked until the transaction ends so concurrent actions queue up, and
    its pointers."""
    article = Article.objects.select_for_update().get(pk=article.pk)
    release = Release.objects.select_related("live_revision", "pending_revision", "conflict_revision").get(
        article_id=article.pk
    )
    article._release_cache = release
    return article, release


def _username(user) -> str:
    return user.get_username() if user is not None else ""


def _add_revision(
    article: Article, *, kind, state, content, user, note="", base=None, merged=None, conflict=False
):
    number = (Revision.objects.filter(article=article).aggregate(n=Max("number"))["n"] or 0) + 1
    return Revision.objects.create(
        article=article,
        number=number,
        kind=kind,
        state=state,
        version=content_version(content) or "",
        content=content,
        base_number=base.number if base is not None else None,
        merged_number=merged.number if merged is not None else None,
        conflict=conflict,
        author=user,
        author_name=_username(user),
        note=note,
    )


def _audit(article, action, *, user, from_state, to_state, note="", revision=None) -> AuditEvent:
    return AuditEvent.objects.create(
        article=article,
        revision=revision,
        action=action,
        user=user,
        user_name=_username(user),
        from_state=from_state or "",
        to_state=to_state or "",
        note=note,
    )


def _with_revision_block(content: dict, **changes) -> dict:
    content = {**content, "revision": {**(content.get("revision") or {}), **changes}}
    content["revision"].setdefault("status", None)
    content["revision"].setdefault("version", None)
    content["revision"].setdefault("last_reviewed", None)
    return content


def _make_pending(
    article: Article, release: Release, revision: Revision, state: str, *, edited: bool
) -> None:
    """Point the pending work at ``revision`` in ``state``; ``edited``: by editors' hands."""
    release.pending_revision = revision
    release.review_state = state
    if edited:
        release.edited_at = timezone.now()
    release.save()
    _project_pending(article, release)


def _project_pending(article: Article, release: Release) -> None:
    """A never-published article's row shows its pending content (staff only see it)."""
    if release.live_revision_id is None and release.pending_revision is not None:
        article_apply_content(article, release.pending_revision.content)
        articles_changed([article.pk], live=False)
        article.state = release.review_state
        article.save(update_fields=["state", "updated_at"])


def _go_live(article: Article, release: Release, revision: Revision) -> None:
    """Make ``revision`` what readers see: the pointer moves, the row follows."""
    release.live_revision = revision
    release.save()
    article_apply_content(article, revision.content)
    article.state = ArticleState.PUBLISHED
    if article.published_at is None:
        article.published_at = timezone.now()
    article.save(update_fields=["state", "published_at", "updated_at"])
    articles_changed([article.pk], live=True)
    _refresh_similar(article)


def _refresh_similar(article: Article) -> None:
    """Similar posts follow what readers see: refreshed once the change is committed, without
    waiting out another refresh (an import's) that holds the lists: that one takes it along."""
    transaction.on_commit(lambda: similarity.refresh([article.pk], wait=False))
