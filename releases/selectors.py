"""Reads of the releases app."""

from django.db.models import Exists, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from articles.models import Article, ArticleState
from releases.models import Revision

REVIEW_STATES = (
    ArticleState.DRAFT,
    ArticleState.IN_REVIEW,
    ArticleState.CHANGES_REQUESTED,
    ArticleState.REVIEWED,
)


def revisions_for(article: Article):
    """Every revision of an article, newest first, with its author."""
    return Revision.objects.filter(article=article).select_related("author").order_by("-number")


def review_queue():
    """Articles with changes waiting for review (or never published), oldest change first.

    ``review_state`` is the state a reviewer works with; ``conflict`` says the latest revision
    is an import that arrived on top of unpublished editor changes.
    """
    latest = Revision.objects.filter(article=OuterRef("pk")).order_by("-number")
    return (
        Article.objects.filter(Q(state__in=REVIEW_STATES) | Q(pending_state__isnull=False))
        .annotate(
            review_state=Coalesce("pending_state", "state"),
            conflict=Subquery(latest.values("conflict")[:1]),
            has_revisions=Exists(latest),
        )
        .order_by("updated_at", "id")
    )


def revision_content(article: Article, version: str) -> dict | None:
    """The content of the latest revision of ``article`` with ``version``, for staff previews."""
    revision = Revision.objects.filter(article=article, version=version).order_by("-number").first()
    return revision.content if revision else None
