"""Every write of the releases app: revisions now, the review workflow on top of them.

Functions are keyword-only and named ``<entity>_<action>``; the admin, the API and the
importer all call them, so each rule lives here once.
"""

from collections.abc import Iterable
from typing import Any

from django.db.models import Max

from articles.bulk import bulk_insert
from articles.models import Article
from releases.models import Revision, RevisionKind


def revisions_record_import(
    entries: Iterable[tuple[Article, dict[str, Any], str]], *, author=None
) -> list[Revision]:
    """Add one import revision per (article, content, state), numbered after each article's last.

    Runs inside the importer's transaction, in two statements for the whole batch.
    """
    entries = list(entries)
    if not entries:
        return []
    last = dict(
        Revision.objects.filter(article_id__in={article.id for article, _, _ in entries})
        .values("article_id")
        .annotate(last=Max("number"))
        .values_list("article_id", "last")
    )
    revisions = []
    for article, content, state in entries:
        number = last.get(article.id, 0) + 1
        last[article.id] = number
        revisions.append(
            Revision(
                article_id=article.id,
                number=number,
                kind=RevisionKind.IMPORT,
                state=state,
                version=(content.get("revision") or {}).get("version") or "",
                content=content,
                author=author,
            )
        )
    bulk_insert(revisions)
    return revisions
