"""Similar posts: which live articles are most related to each article, and keeping that fresh.

Each article is a sparse vector of weighted terms: its stack and tool tags, its entities, the
problem and context of its outline, and the distinctive words of its title and topic. Terms
are weighted by rarity (inverse document frequency over live articles); terms found in more
than MAX_DOC_FREQ of them say little and are left out, as search engines' max_doc_freq does.
Two articles score the cosine of their vectors, plus a small bonus for the same code language
and the same difficulty. docs/similar-posts.md gives the formula.

The top NEIGHBOURS of every article are stored in SimilarArticle and read with one indexed
query. rebuild_all() recomputes everything with sparse matrix products, in chunks; refresh()
updates the articles an import or a workflow action touched, and the lists that pointed at
them or should now.
"""

import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
from django.db import transaction
from django.urls import reverse
from scipy import sparse

from articles.bulk import bulk_insert_rows
from articles.models import Article, ArticleEntity, ArticleState, ArticleTag, SimilarArticle, SimilarityIndex

NEIGHBOURS = 10
MAX_DOC_FREQ = 0.1  # terms in more than this share of live articles are left out
MIN_DOC_FREQ_CAP = 20  # a small corpus keeps its common terms (with the lowest weights)
MIN_NEIGHBOURS = 5  # fewer than this and the list is topped up by the fallback
WEIGHTS = {"tag": 1.0, "entity": 1.0, "problem": 1.5, "context": 0.5, "word": 0.4}
SAME_LANGUAGE_BONUS = 0.05
SAME_DIFFICULTY_BONUS = 0.03
CANDIDATES = 400  # incremental refresh: candidates scored exactly per touched article
REBUILD_SHARE = 0.2  # a refresh touching more than this share of articles rebuilds everything
CHUNK = 500
SMALL_CORPUS = 2000  # up to this many articles a full rebuild is as cheap as a refresh

WORD_RE = re.compile(r"[a-z0-9][a-z0-9+#]*")
STOPWORDS = frozenset(
    """a an and are as at be by for from how in into is it its of on or that the this to with
    without we our your you guide practical checklist production notes lessons quick reference
    maintenance handbook field deep dive what when why using use""".split()
)


@dataclass
class Features:
    id: int
    live: bool
    language: str
    difficulty: str
    terms: dict[str, float] = field(default_factory=dict)


def _words(*texts: str | None) -> set[str]:
    words = set()
    for text in texts:
        words.update(w for w in WORD_RE.findall((text or "").lower()) if len(w) > 2 and w not in STOPWORDS)
    return words


def load_features(article_ids: Iterable[int] | None = None) -> dict[int, Features]:
    """Term weights (before IDF) of the given articles, or of all, in three queries."""
    articles = Article.objects.all()
    links = ArticleTag.objects.all()
    entities = ArticleEntity.objects.all()
    if article_ids is not None:
        ids = list(article_ids)
        articles = articles.filter(pk__in=ids)
        links = links.filter(article_id__in=ids)
        entities = entities.filter(article_id__in=ids)
    features = {}
    for pk, state, title, topic, outline, language, difficulty in articles.values_list(
        "pk", "state", "title", "topic", "outline", "code_language", "difficulty"
    ).iterator(chunk_size=5000):
        terms = {f"w:{word}": WEIGHTS["word"] for word in _words(title, topic)}
        outline = outline or {}
        if outline.get("problem"):
            terms[f"p:{outline['problem']}"] = WEIGHTS["problem"]
        if outline.get("context"):
            terms[f"c:{outline['context']}"] = WEIGHTS["context"]
        features[pk] = Features(pk, state == ArticleState.PUBLISHED, language or "", difficulty or "", terms)
    for article_id, tag_id in links.values_list("article_id", "tag_id").iterator(chunk_size=20000):
        if article_id in features:
            features[article_id].terms[f"t:{tag_id}"] = WEIGHTS["tag"]
    for article_id, entity_id in entities.values_list("article_id", "entity_id").iterator(chunk_size=20000):
        if article_id in features:
            features[article_id].terms[f"e:{entity_id}"] = WEIGHTS["entity"]
    return features


def idf_table(features: dict[int, Features]) -> tuple[dict[str, float], int]:
    """IDF of every term over live articles; ubiquitous terms are left out of the table."""
    live = [f for f in features.values() if f.live]
    n = len(live)
    df: dict[str, int] = defaultdict(int)
    for feature in live:
        for term in feature.terms:
            df[term] += 1
    limit = max(MIN_DOC_FREQ_CAP, MAX_DOC_FREQ * n)
    # Smoothed, so that a small corpus still weighs its terms: log((1 + n) / (1 + df)) + 1.
    return {term: math.log((1 + n) / (1 + count)) + 1 for term, count in df.items() if count <= limit}, n


def _vector(feature: Features, idf: dict[str, float]) -> dict[str, float]:
    vector = {term: weight * idf[term] for term, weight in feature.terms.items() if term in idf}
    norm = math.sqrt(sum(v * v for v in vector.values()))
    return {term: v / norm for term, v in vector.items()} if norm else {}


def _bonus(a: Features, b: Features) -> float:
    bonus = 0.0
    if a.language and a.language == b.language:
        bonus += SAME_LANGUAGE_BONUS
    if a.difficulty and a.difficulty == b.difficulty:
        bonus += SAME_DIFFICULTY_BONUS
    return bonus


def score(a: Features, b: Features, idf: dict[str, float]) -> float:
    """How related two articles are: cosine of their IDF vectors plus the small bonuses."""
    va, vb = _vector(a, idf), _vector(b, idf)
    cosine = sum(value * vb.get(term, 0.0) for term, value in va.items())
    return cosine + _bonus(a, b) if cosine > 0 else 0.0


def _top(scored: list[tuple[float, int]], limit: int = NEIGHBOURS) -> list[tuple[float, int]]:
    """Best first; ties go to the lower id, so the order is the same on every run."""
    return sorted(scored, key=lambda pair: (-pair[0], pair[1]))[:limit]


# -- full rebuild -----------------------------------------------------------------------------------


def rebuild_all(progress: Callable[[int], None] | None = None) -> int:
    """Recompute every article's neighbours. Returns how many articles got a list."""
    features = load_features()
    idf, n_live = idf_table(features)
    ids = np.array(sorted(features), dtype=np.int64)
    columns: dict[str, int] = {}
    rows, cols, values = [], [], []
    for row, pk in enumerate(ids):
        vector = _vector(features[int(pk)], idf)
        for term, value in vector.items():
            rows.append(row)
            cols.append(columns.setdefault(term, len(columns)))
            values.append(value)
    matrix = sparse.csr_matrix(
        (np.array(values, dtype=np.float32), (rows, cols)), shape=(len(ids), max(1, len(columns)))
    )
    live_mask = np.array([features[int(pk)].live for pk in ids])
    languages = np.array([features[int(pk)].language for pk in ids], dtype=object)
    difficulties = np.array([features[int(pk)].difficulty for pk in ids], dtype=object)
    live_matrix = matrix[live_mask].T.tocsc()
    live_rows = np.flatnonzero(live_mask)
    fallback = _fallback_lists(features)

    with transaction.atomic():
        SimilarArticle.objects.all().delete()
        for start in range(0, len(ids), CHUNK):
            product = (matrix[start : start + CHUNK] @ live_matrix).tocsr()
            links = []
            for offset in range(product.shape[0]):
                row = start + offset
                begin, end = product.indptr[offset], product.indptr[offset + 1]
                targets = live_rows[product.indices[begin:end]]
                cosines = product.data[begin:end].astype(np.float64)
                keep = (targets != row) & (cosines > 0)
                targets, cosines = targets[keep], cosines[keep]
                if len(targets) > 3 * NEIGHBOURS:
                    best = np.argpartition(-cosines, 3 * NEIGHBOURS)[: 3 * NEIGHBOURS]
                    targets, cosines = targets[best], cosines[best]
                bonus = SAME_LANGUAGE_BONUS * (languages[targets] == languages[row]) * (languages[row] != "")
                bonus = bonus + SAME_DIFFICULTY_BONUS * (difficulties[targets] == difficulties[row]) * (
                    difficulties[row] != ""
                )
                scored = [(float(s), int(ids[t])) for s, t in zip(cosines + bonus, targets, strict=True)]
                links.extend(_rows(int(ids[row]), _top(scored), fallback, features))
            bulk_insert_rows(SimilarArticle, ("article_id", "neighbour_id", "rank", "score"), links)
            if progress:
                progress(product.shape[0])
        SimilarityIndex.store(idf=idf, live_count=n_live)
    return len(ids)


def _fallback_lists(features: dict[int, Features]) -> dict[str, list[int]]:
    """Live articles per code language, newest first: the top-up for lists that come out short."""
    by_language: dict[str, list[int]] = defaultdict(list)
    for pk in sorted(features, reverse=True):
        feature = features[pk]
        if feature.live and len(by_language[feature.language]) < 2 * NEIGHBOURS:
            by_language[feature.language].append(pk)
    return by_language


def _rows(pk: int, best: list[tuple[float, int]], fallback, features) -> list[tuple]:
    """SimilarArticle rows for one article, topped up from the fallback when too short."""
    chosen = [(round(s, 6), target) for s, target in best]
    if len(chosen) < MIN_NEIGHBOURS:
        taken = {target for _, target in chosen} | {pk}
        for target in fallback.get(features[pk].language, []):
            if len(chosen) >= MIN_NEIGHBOURS:
                break
            if target not in taken:
                chosen.append((0.0, target))
                taken.add(target)
    return [(pk, target, rank, s) for rank, (s, target) in enumerate(chosen, start=1)]


# -- incremental refresh -----------------------------------------------------------------------------


def refresh(article_ids: Iterable[int]) -> None:
    """Bring similar posts up to date after these articles changed (imported, edited, published,
    rolled back or archived): their own lists, and the lists that pointed at them or should now.
    """
    touched = set(article_ids)
    if not touched:
        return
    index = SimilarityIndex.current()
    total = Article.objects.count()
    if index is None or total <= SMALL_CORPUS or len(touched) > REBUILD_SHARE * total:
        rebuild_all()
        return
    idf = index.idf
    # Lists that pointed at a touched article are recomputed too: it may have left, or moved.
    pointing = set(
        SimilarArticle.objects.filter(neighbour_id__in=touched).values_list("article_id", flat=True)
    )
    candidates = _candidates(touched, idf)
    features = load_features(touched | pointing | candidates)
    fallback = _fallback_lists(load_features(_recent_live(200)))
    with transaction.atomic():
        lists: dict[int, list[tuple[float, int]]] = {}
        live_candidates = [
            features[pk] for pk in candidates | touched if pk in features and features[pk].live
        ]
        for pk in touched | pointing:
            if pk not in features:
                continue
            own_candidates = (
                live_candidates if pk in touched else _candidates_for(pk, features, idf, pointing)
            )
            scored = [
                (score(features[pk], other, idf), other.id) for other in own_candidates if other.id != pk
            ]
            lists[pk] = _top([pair for pair in scored if pair[0] > 0])
        # Lists that should now include a touched article: merge it where it beats their last entry.
        current = defaultdict(list)
        for article_id, neighbour_id, s in (
            SimilarArticle.objects.filter(article_id__in=candidates - set(lists))
            .order_by("article_id", "rank")
            .values_list("article_id", "neighbour_id", "score")
        ):
            current[article_id].append((s, neighbour_id))
        for pk in candidates - set(lists):
            if pk not in features:
                continue
            merged = {target: s for s, target in current[pk] if target not in touched}
            for other in touched:
                if other in features and features[other].live and other != pk:
                    s = score(features[pk], features[other], idf)
                    if s > 0:
                        merged[other] = s
            best = _top([(s, target) for target, s in merged.items()])
            old_rows = [(target, round(s, 6)) for s, target in current[pk]]
            new_rows = [(target, s) for _, target, _, s in _rows(pk, best, fallback, features)]
            if new_rows != old_rows:
                lists[pk] = best
        SimilarArticle.objects.filter(article_id__in=lists).delete()
        rows = [row for pk, best in lists.items() for row in _rows(pk, best, fallback, features)]
        bulk_insert_rows(SimilarArticle, ("article_id", "neighbour_id", "rank", "score"), rows)


def _candidates(touched: set[int], idf: dict[str, float]) -> set[int]:
    """Live articles sharing a rare tag or entity with a touched article, rarest first."""
    tag_ids = [int(term[2:]) for term in idf if term.startswith("t:")]
    entity_ids = [int(term[2:]) for term in idf if term.startswith("e:")]
    mine_tags = set(ArticleTag.objects.filter(article_id__in=touched).values_list("tag_id", flat=True))
    mine_entities = set(
        ArticleEntity.objects.filter(article_id__in=touched).values_list("entity_id", flat=True)
    )
    rare_tags = sorted(mine_tags & set(tag_ids), key=lambda t: -idf[f"t:{t}"])
    rare_entities = sorted(mine_entities & set(entity_ids), key=lambda e: -idf[f"e:{e}"])
    found: dict[int, float] = defaultdict(float)
    live = Article.objects.live()
    for tag_id in rare_tags:
        for pk in live.filter(article_tags__tag_id=tag_id).values_list("pk", flat=True)[:CANDIDATES]:
            found[pk] += idf[f"t:{tag_id}"]
    for entity_id in rare_entities:
        for pk in live.filter(article_entities__entity_id=entity_id).values_list("pk", flat=True)[
            :CANDIDATES
        ]:
            found[pk] += idf[f"e:{entity_id}"]
    ranked = sorted(found, key=lambda pk: (-found[pk], pk))
    return set(ranked[: CANDIDATES * max(1, len(touched))])


def _candidates_for(pk, features, idf, pool) -> list[Features]:
    """Candidates for a list that pointed at a touched article: its old neighbours and the pool."""
    old = set(SimilarArticle.objects.filter(article_id=pk).values_list("neighbour_id", flat=True))
    extra = load_features(old - set(features))
    features.update(extra)
    return [features[other] for other in old | set(features) if other in features and features[other].live]


def _recent_live(limit: int) -> list[int]:
    return list(Article.objects.live().order_by("-id").values_list("pk", flat=True)[:limit])


def neighbours_for(article_ids: list[int], *, limit: int) -> dict[int, list[dict]]:
    """Stored similar posts of these articles, best first, live ones only: one indexed query."""
    result: dict[int, list[dict]] = {pk: [] for pk in article_ids}
    if not article_ids:
        return result
    rows = (
        SimilarArticle.objects.filter(
            article_id__in=article_ids, rank__lte=limit, neighbour__state=ArticleState.PUBLISHED
        )
        .order_by("article_id", "rank")
        .values_list("article_id", "score", "neighbour__slug", "neighbour__title", "neighbour__topic")
    )
    for article_id, s, slug, title, topic in rows:
        result[article_id].append(
            {
                "slug": slug,
                "title": title,
                "topic": topic,
                "url": reverse("articles:detail", kwargs={"slug": slug}),
                "score": round(float(s), 4),
            }
        )
    return result
