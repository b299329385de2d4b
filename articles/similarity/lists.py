"""The stored lists (SimilarArticle): how long they are, the rows of one (topped up from the
fallback, the newest live articles, when it comes out short), and reading them for pages.

The DEPTH best of every article are stored (pages show the first NEIGHBOURS) and read with one
indexed query, best first (``LIST_ORDER``: by score, equal scores to the lower id).
"""

from django.db.models import Exists, OuterRef, Q

from articles.derived import LIST_ORDER
from articles.models import Article, ArticleState, SimilarArticle, article_url
from articles.similarity.scoring import UNIT

NEIGHBOURS = 10  # shown at most
DEPTH = 20  # kept per article: a refresh that moves an article down a list still knows the next ones
MIN_NEIGHBOURS = 5  # fewer than this and the list is topped up by the fallback
LINK_FIELDS = ("article_id", "neighbour_id", "score", "top_up")


def _rows(pk: int, best: list[tuple[float, int]], fallback: list[int]) -> list[tuple]:
    """SimilarArticle rows (article, neighbour, score, top-up place) for one article (best:
    (points, id), best first), topped up from the fallback when shorter than MIN_NEIGHBOURS."""
    chosen = [(pk, target, points / UNIT, 0) for points, target in best]
    if len(chosen) < MIN_NEIGHBOURS:
        taken = {target for _, target, _, _ in chosen} | {pk}
        for target in fallback:
            if len(chosen) >= MIN_NEIGHBOURS:
                break
            if target not in taken:
                chosen.append((pk, target, 0.0, len(chosen) - len(best) + 1))
                taken.add(target)
    return chosen


def _fallback_for(languages: set[str]) -> dict[str, list[int]]:
    """Newest live articles of each of these code languages, then of any language."""
    if not languages:
        return {}
    newest = Article.objects.live().order_by("-pk").values_list("pk", flat=True)
    anything = list(newest[: 2 * NEIGHBOURS])
    fallback: dict[str, list[int]] = {}
    for language in languages:
        same = (
            newest.filter(Q(code_language="") | Q(code_language__isnull=True))
            if not language
            else newest.filter(code_language=language)
        )
        fallback[language] = list(same[: 2 * NEIGHBOURS]) + anything
    return fallback


def without_lists(limit: int = 10_000) -> set[int]:
    """Articles with no similar posts stored although there are others to suggest: never
    refreshed (a run stopped between its last commit and its refresh), so the next refresh
    should include them. The fallback gives every list entries once two articles are live."""
    if Article.objects.live()[:2].count() < 2:
        return set()
    lists = SimilarArticle.objects.filter(article_id=OuterRef("pk"))
    return set(Article.objects.filter(~Exists(lists)).order_by().values_list("pk", flat=True)[:limit])


def neighbours_for(article_ids: list[int], *, limit: int) -> dict[int, list[dict]]:
    """Stored similar posts of these articles, best first, live ones only: one indexed query (a
    list is at most DEPTH rows, cut to ``limit`` here)."""
    result: dict[int, list[dict]] = {pk: [] for pk in article_ids}
    if not article_ids:
        return result
    rows = (
        SimilarArticle.objects.filter(article_id__in=article_ids, neighbour__state=ArticleState.PUBLISHED)
        .order_by(*LIST_ORDER)
        .values_list("article_id", "score", "neighbour__slug", "neighbour__title", "neighbour__topic")
    )
    for article_id, s, slug, title, topic in rows:
        if len(result[article_id]) >= limit:
            continue
        result[article_id].append(
            {
                "slug": slug,
                "title": title,
                "topic": topic,
                "url": article_url(slug),
                "score": round(float(s), 4),
            }
        )
    return result
