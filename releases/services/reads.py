"""The reads the rules need: an article's revision pointers (its ``Release``), the revisions
they name, and the content an editor or reviewer works on."""

from typing import Any

from articles.content import content_from_article, content_prefetch
from articles.models import Article, ArticleState
from releases.errors import InvalidTransition
from releases.models import Release, Revision


def release_of(article: Article) -> Release:
    """The article's revision pointers (every article has one row, made with it)."""
    cached = getattr(article, "_release_cache", None)
    if cached is not None:
        return cached
    return Release.objects.select_related("live_revision", "pending_revision", "conflict_revision").get(
        article_id=article.pk
    )


def review_state(article: Article) -> str:
    """The state a reviewer works with: of the pending work if any, else of the article."""
    return release_of(article).review_state or article.state


def latest_revision(article: Article) -> Revision | None:
    return Revision.objects.filter(article=article).order_by("-number").first()


def live_revision(article: Article) -> Revision | None:
    """The revision readers see (or saw last, for an archived article)."""
    return release_of(article).live_revision


def pending_revision(article: Article) -> Revision | None:
    return release_of(article).pending_revision


def working_revision(article: Article) -> Revision | None:
    """What an editor continues from: the pending work, or else the live revision."""
    release = release_of(article)
    return release.pending_revision or release.live_revision


def pending_content(article: Article) -> dict[str, Any]:
    """The content an editor or reviewer works on: the pending work's, else the live one's."""
    revision = working_revision(article)
    if revision is not None:
        return revision.content
    return content_from_article(content_prefetch(Article.objects.filter(pk=article.pk)).get())


def published_revision(
    article: Article, *, number: int | None = None, version: str | None = None
) -> Revision:
    """A revision that went live, by its number or by a version that names exactly one."""
    published = Revision.objects.filter(article=article, state=ArticleState.PUBLISHED)
    if number is not None:
        revision = published.filter(number=number).first()
        if revision is None:
            raise InvalidTransition(f"Revision {number} was never published for this article.")
        return revision
    matches = list(published.filter(version=version or "").order_by("-number")[:2])
    if not matches:
        raise InvalidTransition(f"Version {version} was never published for this article.")
    if len(matches) > 1:
        raise InvalidTransition(
            f"Several published revisions carry version {version}: name the revision number "
            f"({', '.join(str(r.number) for r in matches)})."
        )
    return matches[0]
