"""Reads of articles: one function per question the site and the API ask."""

from typing import Any

from django.db import connection
from django.shortcuts import get_object_or_404
from django.urls import reverse

from articles.content import content_from_article, content_prefetch
from articles.models import Article, ArticleState

SIMILAR_LIMIT = 10


def article_for_reader(*, slug: str, user) -> Article:
    """The article at ``slug`` if ``user`` may see it; a 404 otherwise, never a hint it exists."""
    return get_object_or_404(Article.objects.visible_to(user), slug=slug)


def articles_with_content(queryset=None):
    """Articles with everything ``article_meta`` reads, in a fixed number of queries."""
    return content_prefetch(queryset if queryset is not None else Article.objects.all())


def article_meta(article: Article, *, similar: list[dict] | None = None) -> dict[str, Any]:
    """The meta JSON of an article: the post-meta box plus identity, state and similar posts."""
    content = content_from_article(article)
    meta = {
        "slug": article.slug,
        "url": article.get_absolute_url(),
        "state": article.state,
        "published_at": article.published_at,
        "updated_at": article.updated_at,
    }
    for key in content:
        if key not in ("body", "body_text"):
            meta[key] = content[key]
    meta["similar"] = similar if similar is not None else []
    meta["body"] = content["body"]
    return meta


def similar_articles(article_ids: list[int], *, limit: int = SIMILAR_LIMIT) -> dict[int, list[dict]]:
    """Up to ``limit`` live articles sharing the most stack and tool tags with each article.

    One query for any number of articles. Score: shared tags over the larger tag count, so
    1.0 means the same tags. Ties break by title, then id, so the order is stable.
    """
    if not article_ids:
        return {}
    placeholders = ", ".join(["%s"] * len(article_ids))
    sql = f"""
        WITH counts AS (
            SELECT article_id, COUNT(*) AS n FROM articles_articletag GROUP BY article_id
        ),
        shared AS (
            SELECT mine.article_id AS source_id, theirs.article_id AS target_id, COUNT(*) AS n
            FROM articles_articletag mine
            JOIN articles_articletag theirs
              ON theirs.tag_id = mine.tag_id AND theirs.article_id <> mine.article_id
            JOIN articles_article target ON target.id = theirs.article_id AND target.state = %s
            WHERE mine.article_id IN ({placeholders})
            GROUP BY mine.article_id, theirs.article_id
        ),
        scored AS (
            SELECT shared.source_id, shared.target_id,
                   CAST(shared.n AS REAL) / (CASE WHEN cs.n > ct.n THEN cs.n ELSE ct.n END) AS score
            FROM shared
            JOIN counts cs ON cs.article_id = shared.source_id
            JOIN counts ct ON ct.article_id = shared.target_id
        ),
        ranked AS (
            SELECT scored.source_id, scored.target_id, scored.score,
                   ROW_NUMBER() OVER (
                       PARTITION BY scored.source_id ORDER BY scored.score DESC, target.title, target.id
                   ) AS position
            FROM scored JOIN articles_article target ON target.id = scored.target_id
        )
        SELECT ranked.source_id, target.slug, target.title, target.topic, ranked.score
        FROM ranked JOIN articles_article target ON target.id = ranked.target_id
        WHERE ranked.position <= %s
        ORDER BY ranked.source_id, ranked.position
    """
    result: dict[int, list[dict]] = {article_id: [] for article_id in article_ids}
    with connection.cursor() as cursor:
        cursor.execute(sql, [ArticleState.PUBLISHED, *article_ids, limit])
        for source_id, slug, title, topic, score in cursor.fetchall():
            result[source_id].append(
                {
                    "slug": slug,
                    "title": title,
                    "topic": topic,
                    "url": reverse("articles:detail", kwargs={"slug": slug}),
                    "score": round(float(score), 4),
                }
            )
    return result
