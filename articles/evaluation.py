"""Measuring similar posts against a ground truth: precision@5, coverage and hubness."""

from collections import Counter, defaultdict

from articles.models import Article, ArticleTag, SimilarArticle


def evaluate(neighbours: dict[int, list[int]], clusters: dict[int, str], live: set[int], k: int = 5) -> dict:
    """Figures for lists of neighbour ids per article id.

    precision@k: the share of each live article's top k that come from its own cluster.
    coverage: the share of live articles with at least k neighbours.
    hubness: the largest number of top-k lists one article appears in, against the mean.
    """
    hits = total = covered = 0
    appearances: Counter = Counter()
    for pk in live:
        top = neighbours.get(pk, [])[:k]
        if len(top) >= k:
            covered += 1
        for other in top:
            appearances[other] += 1
            total += 1
            hits += clusters.get(other) == clusters.get(pk)
    mean = (sum(appearances.values()) / len(appearances)) if appearances else 0.0
    return {
        "precision_at_5": round(hits / total, 4) if total else 0.0,
        "coverage": round(covered / len(live), 4) if live else 0.0,
        "hubness_max": max(appearances.values(), default=0),
        "hubness_mean": round(mean, 2),
    }


def stored_neighbours() -> dict[int, list[int]]:
    lists: dict[int, list[int]] = defaultdict(list)
    for article_id, neighbour_id in SimilarArticle.objects.order_by("article_id", "rank").values_list(
        "article_id", "neighbour_id"
    ):
        lists[article_id].append(neighbour_id)
    return lists


def shared_tag_baseline(live: set[int], k: int = 5) -> dict[int, list[int]]:
    """The plain baseline: rank by the number of shared stack and tool tags (ties by id)."""
    tags: dict[int, set[int]] = defaultdict(set)
    by_tag: dict[int, set[int]] = defaultdict(set)
    for article_id, tag_id in ArticleTag.objects.values_list("article_id", "tag_id"):
        tags[article_id].add(tag_id)
        if article_id in live:
            by_tag[tag_id].add(article_id)
    lists = {}
    for pk in live:
        counts: Counter = Counter()
        for tag_id in tags[pk]:
            counts.update(by_tag[tag_id])
        counts.pop(pk, None)
        lists[pk] = [other for other, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:k]]
    return lists


def live_ids() -> set[int]:
    return set(Article.objects.live().values_list("pk", flat=True))
