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
from array import array
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
MAX_DOC_FREQ = 0.05  # terms in more than this share of live articles are left out
MIN_DOC_FREQ_CAP = 20  # a small corpus keeps its common terms (with the lowest weights)
MIN_NEIGHBOURS = 5  # fewer than this and the list is topped up by the fallback
WEIGHTS = {"tag": 1.0, "entity": 1.0, "problem": 1.5, "context": 0.5, "word": 0.4}
SAME_LANGUAGE_BONUS = 0.05
SAME_DIFFICULTY_BONUS = 0.03
CANDIDATES = 30  # incremental refresh: candidates taken per rare term of a touched article
RARE_TERMS = 4  # ... from its rarest tags and entities, which say the most about it
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


ARTICLE_COLUMNS = ("pk", "state", "title", "topic", "outline", "code_language", "difficulty")


def _text_terms(title, topic, outline) -> dict[str, float]:
    terms = {f"w:{word}": WEIGHTS["word"] for word in _words(title, topic)}
    outline = outline or {}
    if outline.get("problem"):
        terms[f"p:{outline['problem']}"] = WEIGHTS["problem"]
    if outline.get("context"):
        terms[f"c:{outline['context']}"] = WEIGHTS["context"]
    return terms


def load_features(article_ids: Iterable[int]) -> dict[int, Features]:
    """Term weights (before IDF) of a few hundred articles, in three queries."""
    ids = list(article_ids)
    features = {}
    for pk, state, title, topic, outline, language, difficulty in (
        Article.objects.filter(pk__in=ids).order_by().values_list(*ARTICLE_COLUMNS)
    ):
        terms = _text_terms(title, topic, outline)
        features[pk] = Features(pk, state == ArticleState.PUBLISHED, language or "", difficulty or "", terms)
    for article_id, tag_id in (
        ArticleTag.objects.filter(article_id__in=ids).order_by().values_list("article_id", "tag_id")
    ):
        features[article_id].terms[f"t:{tag_id}"] = WEIGHTS["tag"]
    for article_id, entity_id in (
        ArticleEntity.objects.filter(article_id__in=ids).order_by().values_list("article_id", "entity_id")
    ):
        features[article_id].terms[f"e:{entity_id}"] = WEIGHTS["entity"]
    return features


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


def _top(scored: list[tuple[float, int]], limit: int = NEIGHBOURS) -> list[tuple[float, int]]:
    """Best first; ties go to the lower id, so the order is the same on every run."""
    return sorted(scored, key=lambda pair: (-pair[0], pair[1]))[:limit]


# -- full rebuild -----------------------------------------------------------------------------------


def _corpus_matrix():
    """Stream the corpus into a sparse matrix of base weights, in bounded memory.

    Returns (ids, live mask, language codes, difficulty codes, vocabulary, matrix): the three
    tables are read in article order side by side, and terms go straight into typed arrays.
    """
    ids, live = array("q"), array("b")
    languages, difficulties = array("i"), array("i")
    language_codes: dict[str, int] = {"": 0}
    difficulty_codes: dict[str, int] = {"": 0}
    vocabulary: dict[str, int] = {}
    rows, cols, weights = array("i"), array("i"), array("f")

    def add(row: int, term: str, weight: float) -> None:
        rows.append(row)
        cols.append(vocabulary.setdefault(term, len(vocabulary)))
        weights.append(weight)

    tags = (
        ArticleTag.objects.order_by("article_id")
        .values_list("article_id", "tag_id")
        .iterator(chunk_size=20000)
    )
    entities = (
        ArticleEntity.objects.order_by("article_id")
        .values_list("article_id", "entity_id")
        .iterator(chunk_size=20000)
    )
    next_tag, next_entity = next(tags, None), next(entities, None)
    articles = Article.objects.order_by("pk").values_list(*ARTICLE_COLUMNS).iterator(chunk_size=5000)
    for row, (pk, state, title, topic, outline, language, difficulty) in enumerate(articles):
        ids.append(pk)
        live.append(state == ArticleState.PUBLISHED)
        languages.append(language_codes.setdefault(language or "", len(language_codes)))
        difficulties.append(difficulty_codes.setdefault(difficulty or "", len(difficulty_codes)))
        for term, weight in _text_terms(title, topic, outline).items():
            add(row, term, weight)
        while next_tag is not None and next_tag[0] <= pk:
            if next_tag[0] == pk:
                add(row, f"t:{next_tag[1]}", WEIGHTS["tag"])
            next_tag = next(tags, None)
        while next_entity is not None and next_entity[0] <= pk:
            if next_entity[0] == pk:
                add(row, f"e:{next_entity[1]}", WEIGHTS["entity"])
            next_entity = next(entities, None)
    matrix = sparse.csr_matrix(
        (
            np.frombuffer(weights, dtype=np.float32),
            (np.frombuffer(rows, dtype=np.int32), np.frombuffer(cols, dtype=np.int32)),
        ),
        shape=(len(ids), max(1, len(vocabulary))),
    )
    matrix.sum_duplicates()
    return (
        np.frombuffer(ids, dtype=np.int64),
        np.frombuffer(live, dtype=np.int8).astype(bool),
        np.frombuffer(languages, dtype=np.int32),
        np.frombuffer(difficulties, dtype=np.int32),
        vocabulary,
        matrix,
    )


def rebuild_all(progress: Callable[[int], None] | None = None) -> int:
    """Recompute every article's neighbours. Returns how many articles got a list."""
    ids, live_mask, languages, difficulties, vocabulary, matrix = _corpus_matrix()
    n_live = int(live_mask.sum())
    df = np.bincount(matrix[live_mask].indices, minlength=matrix.shape[1])
    idf = np.log((1 + n_live) / (1 + df)) + 1
    idf[df > max(MIN_DOC_FREQ_CAP, MAX_DOC_FREQ * n_live)] = 0.0  # ubiquitous terms say nothing
    idf[df == 0] = 0.0  # only on articles that are not live: no live article shares them
    matrix = sparse.csr_matrix(matrix.multiply(idf.astype(np.float32)))
    matrix.eliminate_zeros()
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    matrix = sparse.csr_matrix(sparse.diags(1.0 / norms) @ matrix, dtype=np.float32)
    live_rows = np.flatnonzero(live_mask)
    live_matrix = matrix[live_rows].T.tocsr()  # CSR once: a CSC operand is converted every chunk
    fallback = _fallback_by_code(ids, live_mask, languages)

    with transaction.atomic():
        SimilarArticle.objects.all().delete()
        for start in range(0, len(ids), CHUNK):
            chunk = np.arange(start, min(start + CHUNK, len(ids)))
            links = []
            lists = _chunk_neighbours(chunk, matrix, live_matrix, live_rows, ids, languages, difficulties)
            for row, best in zip(chunk, lists, strict=True):
                links.extend(_rows(int(ids[row]), best, fallback.get(int(languages[row]), [])))
            bulk_insert_rows(SimilarArticle, ("article_id", "neighbour_id", "rank", "score"), links)
            if progress:
                progress(len(chunk))
        terms = {term: float(idf[col]) for term, col in vocabulary.items() if idf[col] > 0}
        SimilarityIndex.store(idf=terms, live_count=n_live)
    return len(ids)


def _chunk_neighbours(chunk, matrix, live_matrix, live_rows, ids, languages, difficulties):
    """The best live neighbours of a chunk of rows: (score, id) lists, best first."""
    product = (matrix[chunk] @ live_matrix).tocsr()
    lists = []
    for offset, row in enumerate(chunk):
        begin, end = product.indptr[offset], product.indptr[offset + 1]
        targets = live_rows[product.indices[begin:end]]
        cosines = product.data[begin:end].astype(np.float64)
        keep = (targets != row) & (cosines > 0)
        targets, cosines = targets[keep], cosines[keep]
        if len(targets) > 3 * NEIGHBOURS:
            best = np.argpartition(-cosines, 3 * NEIGHBOURS)[: 3 * NEIGHBOURS]
            targets, cosines = targets[best], cosines[best]
        language, difficulty = languages[row], difficulties[row]
        scores = cosines + SAME_LANGUAGE_BONUS * ((languages[targets] == language) & (language != 0))
        scores += SAME_DIFFICULTY_BONUS * ((difficulties[targets] == difficulty) & (difficulty != 0))
        scores = np.round(scores, 6)  # equal to six places is a tie, broken by id in both paths
        target_ids = ids[targets]
        order = np.lexsort((target_ids, -scores))[:NEIGHBOURS]
        lists.append([(float(scores[i]), int(target_ids[i])) for i in order])
    return lists


def _fallback_by_code(ids, live_mask, languages) -> dict[int, list[int]]:
    """Live articles per code language (by code), newest first, for lists that come out short."""
    fallback: dict[int, list[int]] = defaultdict(list)
    for row in np.flatnonzero(live_mask)[::-1]:
        bucket = fallback[int(languages[row])]
        if len(bucket) < 2 * NEIGHBOURS:
            bucket.append(int(ids[row]))
    return fallback


def _rows(pk: int, best: list[tuple[float, int]], fallback: list[int]) -> list[tuple]:
    """SimilarArticle rows for one article, topped up from the fallback when too short."""
    chosen = [(round(value, 6), target) for value, target in best]
    if len(chosen) < MIN_NEIGHBOURS:
        taken = {target for _, target in chosen} | {pk}
        for target in fallback:
            if len(chosen) >= MIN_NEIGHBOURS:
                break
            if target not in taken:
                chosen.append((0.0, target))
                taken.add(target)
    return [(pk, target, rank, value) for rank, (value, target) in enumerate(chosen, start=1)]


# -- incremental refresh -----------------------------------------------------------------------------


_idf_cache: dict = {}


def _current_idf() -> tuple[dict[str, float], int] | None:
    """The stored IDF table and live count, read again only when a rebuild replaced them."""
    row = SimilarityIndex.objects.order_by("-pk").values_list("pk", "live_count").first()
    if row is None:
        return None
    if _idf_cache.get("pk") != row[0]:
        _idf_cache.update(pk=row[0], idf=SimilarityIndex.objects.get(pk=row[0]).idf)
    return _idf_cache["idf"], row[1]


def refresh(article_ids: Iterable[int]) -> None:
    """Bring similar posts up to date after these articles changed (imported, edited, published,
    rolled back or archived): their own lists, and the lists that pointed at them or should now.
    """
    touched = set(article_ids)
    if not touched:
        return
    current = _current_idf()
    if current is None or current[1] <= SMALL_CORPUS or len(touched) > REBUILD_SHARE * current[1]:
        rebuild_all()
        return
    idf = current[0]
    pointing = set(
        SimilarArticle.objects.filter(neighbour_id__in=touched).values_list("article_id", flat=True)
    )
    features = load_features(touched)
    candidates = _candidates(touched, idf, features)
    old_lists: dict[int, list[tuple[float, int]]] = defaultdict(list)
    for article_id, neighbour_id, value in (
        SimilarArticle.objects.filter(article_id__in=candidates | pointing)
        .order_by("article_id", "rank")
        .values_list("article_id", "neighbour_id", "score")
    ):
        old_lists[article_id].append((value, neighbour_id))
    old_neighbours = {target for pk in pointing for _, target in old_lists[pk]}
    features.update(load_features((pointing | candidates | old_neighbours) - set(features)))
    vectors = {pk: _vector(feature, idf) for pk, feature in features.items()}

    def scored(pk: int, pool: Iterable[int]) -> list[tuple[float, int]]:
        mine, me = vectors[pk], features[pk]
        pairs = []
        for other in pool:
            if other == pk or other not in features or not features[other].live:
                continue
            theirs = vectors[other]
            cosine = sum(value * theirs.get(term, 0.0) for term, value in mine.items())
            if cosine > 0:
                pairs.append((round(cosine + _bonus(me, features[other]), 6), other))
        return _top(pairs)

    lists: dict[int, list[tuple[float, int]]] = {}
    pool = candidates | touched
    for pk in touched & set(features):
        lists[pk] = scored(pk, pool)
    for pk in (pointing - touched) & set(features):
        # It pointed at a touched article: score its old neighbours and the touched ones again.
        lists[pk] = scored(pk, {target for _, target in old_lists[pk]} | touched)
    for pk in (candidates - touched - pointing) & set(features):
        merged = {target: value for value, target in old_lists[pk]}
        for value, other in scored(pk, touched):
            merged[other] = value
        best = _top([(value, target) for target, value in merged.items()])
        if [(round(v, 6), t) for v, t in best] != [(round(v, 6), t) for v, t in old_lists[pk]]:
            lists[pk] = best

    short = [pk for pk, best in lists.items() if len(best) < MIN_NEIGHBOURS]
    fallback = _fallback_for(features, short)
    rows = [
        row for pk, best in lists.items() for row in _rows(pk, best, fallback.get(features[pk].language, []))
    ]
    with transaction.atomic():
        SimilarArticle.objects.filter(article_id__in=lists).delete()
        bulk_insert_rows(SimilarArticle, ("article_id", "neighbour_id", "rank", "score"), rows)


def _fallback_for(features: dict[int, Features], short: list[int]) -> dict[str, list[int]]:
    """Newest live articles of each code language that short lists need."""
    languages = {features[pk].language for pk in short}
    fallback: dict[str, list[int]] = {}
    for language in languages:
        live = Article.objects.live().filter(code_language=language or None)
        fallback[language] = list(live.order_by("-pk").values_list("pk", flat=True)[: 2 * NEIGHBOURS])
    return fallback


def _candidates(touched: set[int], idf: dict[str, float], features: dict[int, Features]) -> set[int]:
    """Candidates for the touched articles' lists: live articles sharing their rarest tags and
    entities, and their neighbours and neighbours' neighbours in the current lists."""
    terms = {term for pk in touched if pk in features for term in features[pk].terms}
    weights = {
        (term[0], int(term[2:])): idf[term] for term in terms if term[:2] in ("t:", "e:") and term in idf
    }
    found: dict[int, float] = defaultdict(float)
    live = Article.objects.live()
    rarest = sorted(weights.items(), key=lambda item: (-item[1], item[0]))[
        : RARE_TERMS * max(1, len(touched))
    ]
    for (kind, term_id), weight in rarest:
        sharing = (
            live.filter(article_tags__tag_id=term_id)
            if kind == "t"
            else live.filter(article_entities__entity_id=term_id)
        )
        for pk in sharing.order_by("pk").values_list("pk", flat=True)[:CANDIDATES]:
            found[pk] += weight
    ranked = sorted(found, key=lambda pk: (-found[pk], pk))
    pool = set(ranked[: 2 * CANDIDATES * max(1, len(touched))])
    # The neighbour graph knows the closest articles already: the touched articles' neighbours
    # and their neighbours are the best candidates there are (two indexed lookups).
    first = set(
        SimilarArticle.objects.filter(article_id__in=touched)
        .order_by()
        .values_list("neighbour_id", flat=True)
    )
    second = set(
        SimilarArticle.objects.filter(article_id__in=first, rank__lte=3)
        .order_by()
        .values_list("neighbour_id", flat=True)
    )
    return pool | first | second


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
