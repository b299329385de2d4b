"""Reads of the releases app."""

from django.db.models import Q, Value
from django.db.models.functions import Coalesce, NullIf

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
    """Articles with work waiting for review (or an import conflict), oldest change first.

    ``review_state`` is the state of the pending work; ``conflict`` says an import is waiting
    beside it for a reviewer to resolve.
    """
    return (
        Article.objects.filter(
            Q(release__pending_revision__isnull=False) | Q(release__conflict_revision__isnull=False)
        )
        .annotate(
            review_state=Coalesce(NullIf("release__review_state", Value("")), "state"),
            conflict=Q(release__conflict_revision__isnull=False),
        )
        .order_by("updated_at", "id")
    )


def revision_content(article: Article, revision: str) -> dict | None:
    """The content of one revision of ``article`` for staff previews: by number ("12"), or the
    latest revision with that version ("1.5.4")."""
    revisions = Revision.objects.filter(article=article)
    found = (
        revisions.filter(number=int(revision)).first()
        if revision.isdigit() and len(revision) < 10
        else revisions.filter(version=revision[:40]).order_by("-number").first()
    )
    return found.content if found else None
