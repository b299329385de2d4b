"""Similar posts: which live articles are most related to each article, and keeping that fresh.

Each article is a sparse vector of weighted terms: its stack and tool tags, its entities, the
problem and context of its outline, and the distinctive words of its title and topic. Terms
are weighted by rarity (inverse document frequency over live articles); terms found in more
than MAX_DOC_FREQ of them, or more than MAX_DOC_COUNT, say little and are left out, as search
engines' max_doc_freq does.
Two articles score the cosine of their vectors, plus a small bonus for the same code language
and the same difficulty. docs/similar-posts.md gives the formula.

The top NEIGHBOURS of every article are stored in SimilarArticle and read with one indexed
query. rebuild_all() recomputes everything with sparse matrix products, in chunks; refresh()
updates the articles an import or a workflow action touched, and the lists that pointed at
them or should now.
"""

import math
import os
import re
from array import array
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
from django.db import connections, router, transaction
from django.db.models import Exists, OuterRef, Q
from django.db.models.fields.json import KT
from django.urls import reverse
from scipy import sparse
from sparse_dot_topn import sp_matmul_topn

from articles.bulk import (
    analyze,
    bulk_insert_rows,
    column_writer,
    commit_without_flush_wait,
    lock_for_rewrite,
)
from articles.models import Article, ArticleEntity, ArticleState, ArticleTag, SimilarArticle, SimilarityIndex

NEIGHBOURS = 10
MAX_DOC_FREQ = 0.05  # terms in more than this share of live articles are left out
MAX_DOC_COUNT = 1500  # ... or in more than this many: they cost the rebuild the most
MIN_DOC_FREQ_CAP = 20  # a small corpus keeps its common terms (with the lowest weights)
MIN_NEIGHBOURS = 5  # fewer than this and the list is topped up by the fallback
WEIGHTS = {"tag": 1.0, "entity": 1.0, "problem": 1.5, "context": 0.5, "word": 0.4}
SAME_LANGUAGE_BONUS = 0.05
SAME_DIFFICULTY_BONUS = 0.03
CANDIDATES = 30  # incremental refresh: candidates taken per rare term of a touched article
RARE_TERMS = 4  # ... from its rarest tags and entities, which say the most about it
REBUILD_SHARE = 0.2  # a refresh touching more than this share of articles rebuilds everything
CHUNK = 2000
LINK_FIELDS = ("article_id", "neighbour_id", "rank", "score")
SHORTLIST = 3 * NEIGHBOURS  # a full rebuild re-ranks each article's best cosines with the bonuses
ANY_LANGUAGE = -1  # the fallback's key for articles of any code language
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


def _words(*texts: str | None) -> list[str]:
    """Distinct words, sorted: sums over terms then add in the same order in every process."""
    words = set()
    for text in texts:
        words.update(w for w in WORD_RE.findall((text or "").lower()) if len(w) > 2 and w not in STOPWORDS)
    return sorted(words)


# The outline's problem and context are read as text: decoding each whole outline costs more.
ARTICLE_COLUMNS = (
    "pk", "state", "title", "topic", KT("outline__problem"), KT("outline__context"),
    "code_language", "difficulty",
)  # fmt: skip


def _text_terms(title, topic, problem, context) -> dict[str, float]:
    terms = {f"w:{word}": WEIGHTS["word"] for word in _words(title, topic)}
    if problem:
        terms[f"p:{problem}"] = WEIGHTS["problem"]
    if context:
        terms[f"c:{context}"] = WEIGHTS["context"]
    return terms


def load_features(article_ids: Iterable[int]) -> dict[int, Features]:
    """Term weights (before IDF) of a few hundred articles, in three queries."""
    ids = list(article_ids)
    features = {}
    for pk, state, title, topic, problem, context, language, difficulty in (
        Article.objects.filter(pk__in=ids).order_by().values_list(*ARTICLE_COLUMNS)
    ):
        terms = _text_terms(title, topic, problem, context)
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
    # Sorted terms: the cosine's sum runs in the same order whatever order the rows came in.
    vector = {term: feature.terms[term] * idf[term] for term in sorted(feature.terms) if term in idf}
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

    Returns (ids, live mask, language codes, difficulty codes, vocabulary, matrix). Articles
    are read in primary-key order; their tag and entity links are read as plain integer pairs
    in large chunks and placed with NumPy, since they are most of the terms.
    """
    ids, live = array("q"), array("b")
    languages, difficulties = array("i"), array("i")
    language_codes: dict[str, int] = {"": 0}
    difficulty_codes: dict[str, int] = {"": 0}
    vocabulary: dict[str, int] = {}
    rows, cols, weights = array("i"), array("i"), array("f")

    articles = Article.objects.order_by("pk").values_list(*ARTICLE_COLUMNS).iterator(chunk_size=5000)
    for row, (pk, state, title, topic, problem, context, language, difficulty) in enumerate(articles):
        ids.append(pk)
        live.append(state == ArticleState.PUBLISHED)
        languages.append(language_codes.setdefault(language or "", len(language_codes)))
        difficulties.append(difficulty_codes.setdefault(difficulty or "", len(difficulty_codes)))
        terms = _text_terms(title, topic, problem, context)
        rows.extend([row] * len(terms))
        cols.extend([vocabulary.setdefault(term, len(vocabulary)) for term in terms])
        weights.extend(terms.values())
    id_array = np.frombuffer(ids, dtype=np.int64) if ids else np.zeros(0, dtype=np.int64)
    parts = [
        (
            np.frombuffer(rows, dtype=np.int32) if rows else np.zeros(0, dtype=np.int32),
            np.frombuffer(cols, dtype=np.int32) if cols else np.zeros(0, dtype=np.int32),
            np.frombuffer(weights, dtype=np.float32) if weights else np.zeros(0, dtype=np.float32),
        )
    ]
    for model, column, prefix, weight in (
        (ArticleTag, "tag_id", "t", WEIGHTS["tag"]),
        (ArticleEntity, "entity_id", "e", WEIGHTS["entity"]),
    ):
        for article_ids, term_ids in _link_chunks(model, column):
            found = np.searchsorted(id_array, article_ids)
            found[found == len(id_array)] = 0
            keep = id_array[found] == article_ids if len(id_array) else np.zeros(len(found), dtype=bool)
            found, term_ids = found[keep], term_ids[keep]
            unique, inverse = np.unique(term_ids, return_inverse=True)
            names = [f"{prefix}:{term_id}" for term_id in unique.tolist()]
            codes = np.array([vocabulary.setdefault(name, len(vocabulary)) for name in names], dtype=np.int32)
            parts.append(
                (found.astype(np.int32), codes[inverse], np.full(len(found), weight, dtype=np.float32))
            )
    matrix = sparse.csr_matrix(
        (
            np.concatenate([part[2] for part in parts]),
            (np.concatenate([part[0] for part in parts]), np.concatenate([part[1] for part in parts])),
        ),
        shape=(len(ids), max(1, len(vocabulary))),
    )
    matrix.sum_duplicates()
    return (
        id_array,
        np.frombuffer(live, dtype=np.int8).astype(bool) if live else np.zeros(0, dtype=bool),
        np.frombuffer(languages, dtype=np.int32) if languages else np.zeros(0, dtype=np.int32),
        np.frombuffer(difficulties, dtype=np.int32) if difficulties else np.zeros(0, dtype=np.int32),
        vocabulary,
        matrix,
    )


def _link_chunks(model, column: str, size: int = 200_000):
    """(article ids, term ids) arrays of a link table, a chunk at a time, by a plain cursor."""
    connection = connections[router.db_for_read(model)]
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT article_id, {quote(column)} FROM {quote(model._meta.db_table)}")
        while batch := cursor.fetchmany(size):
            pairs = np.array(batch, dtype=np.int64)
            yield pairs[:, 0], pairs[:, 1]


def rebuild_all(progress: Callable[[int], None] | None = None, *, durable: bool = False) -> int:
    """Recompute every article's neighbours. Returns how many articles got a list."""
    ids, live_mask, languages, difficulties, vocabulary, matrix = _corpus_matrix()
    n_live = int(live_mask.sum())
    df = np.bincount(matrix[live_mask].indices, minlength=matrix.shape[1])
    idf = np.log((1 + n_live) / (1 + df)) + 1
    idf[df > max(MIN_DOC_FREQ_CAP, min(MAX_DOC_FREQ * n_live, MAX_DOC_COUNT))] = 0.0  # they say nothing
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
        if not durable:  # derived data: a crash that loses it is mended by rebuilding again
            commit_without_flush_wait(SimilarArticle)
        lock_for_rewrite(SimilarArticle)
        SimilarArticle.objects.all().delete()
        with column_writer(SimilarArticle, LINK_FIELDS) as write:
            for start in range(0, len(ids), CHUNK):
                chunk = np.arange(start, min(start + CHUNK, len(ids)))
                write(
                    *_chunk_links(
                        chunk, matrix, live_matrix, live_rows, ids, languages, difficulties, fallback
                    )
                )
                if progress:
                    progress(len(chunk))
        terms = {term: float(idf[col]) for term, col in vocabulary.items() if idf[col] > 0}
        SimilarityIndex.store(idf=terms, live_count=n_live)
    # The table was replaced whole: without fresh statistics the planner takes the page's
    # one-row lookups for scans of a large table.
    analyze([SimilarArticle])
    return len(ids)


def _chunk_links(chunk, matrix, live_matrix, live_rows, ids, languages, difficulties, fallback):
    """SimilarArticle rows of a chunk of articles, as arrays (article ids, neighbour ids, ranks,
    scores): each article's best live neighbours, best first.

    The product keeps each row's SHORTLIST best cosines only (in compiled code, on every core),
    then the bonuses re-rank that shortlist for the whole chunk at once. The few lists shorter
    than MIN_NEIGHBOURS are topped up from the fallback.
    """
    product = sp_matmul_topn(
        matrix[chunk], live_matrix, top_n=SHORTLIST + 1, threshold=0.0, n_threads=_threads()
    )
    counts = np.diff(product.indptr)
    width = max(1, int(counts.max()) if len(counts) else 1)
    row_of = np.repeat(np.arange(len(chunk)), counts)
    slot = np.arange(product.nnz) - product.indptr[row_of]
    targets = np.zeros((len(chunk), width), dtype=np.int64)
    cosines = np.zeros((len(chunk), width), dtype=np.float64)
    targets[row_of, slot] = live_rows[product.indices]
    cosines[row_of, slot] = product.data
    valid = (cosines > 0) & (targets != chunk[:, None])  # an article is never its own neighbour
    language, difficulty = languages[chunk][:, None], difficulties[chunk][:, None]
    scores = cosines + SAME_LANGUAGE_BONUS * ((languages[targets] == language) & (language != 0))
    scores += SAME_DIFFICULTY_BONUS * ((difficulties[targets] == difficulty) & (difficulty != 0))
    scores = np.where(valid, np.round(scores, 6), -np.inf)  # equal to six places is a tie...
    target_ids = ids[targets]
    order = np.lexsort((target_ids, -scores), axis=-1)[:, :NEIGHBOURS]  # ... broken by id
    best_scores = np.take_along_axis(scores, order, axis=-1)
    best_ids = np.take_along_axis(target_ids, order, axis=-1)
    # Invalid entries sort last, so each row's valid ones are its first ranks.
    kept = best_scores != -np.inf
    full = kept.sum(axis=1) >= MIN_NEIGHBOURS
    rows, ranks = np.nonzero(kept & full[:, None])
    article_ids, neighbour_ids = ids[chunk][rows], best_ids[rows, ranks]
    rank_values, score_values = ranks + 1, best_scores[rows, ranks]
    short = [
        _rows(
            int(ids[row]),
            [(score, target) for score, target in zip(scores_, targets_, strict=True) if score != -np.inf],
            fallback.get(int(languages[row]), fallback[ANY_LANGUAGE]),
        )
        for row, scores_, targets_ in zip(
            chunk[~full], best_scores[~full].tolist(), best_ids[~full].tolist(), strict=True
        )
    ]
    columns = (article_ids, neighbour_ids, rank_values, score_values)
    extra = [link for links in short for link in links]
    if extra:
        added = zip(*extra, strict=True)  # every link is (article, neighbour, rank, score)
        columns = tuple(np.concatenate([mine, more]) for mine, more in zip(columns, added, strict=True))
    return columns


def _threads() -> int | None:
    """Threads for the product: every core (None, sequential, on a single-core machine)."""
    cores = os.cpu_count() or 1
    return cores if cores > 1 else None


def _fallback_by_code(ids, live_mask, languages) -> dict[int, list[int]]:
    """For lists that come out short: the newest live articles of each code language (by code),
    followed by the newest live articles of any language."""
    fallback: dict[int, list[int]] = defaultdict(list)
    newest: list[int] = []
    for row in np.flatnonzero(live_mask)[::-1]:
        bucket = fallback[int(languages[row])]
        if len(bucket) < 2 * NEIGHBOURS:
            bucket.append(int(ids[row]))
        if len(newest) < 2 * NEIGHBOURS:
            newest.append(int(ids[row]))
    return defaultdict(list, {code: bucket + newest for code, bucket in fallback.items()}) | {
        ANY_LANGUAGE: newest
    }


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
        rebuild_all(durable=True)  # it follows a write that was acknowledged as durable
        return
    idf = current[0]
    # One query over the neighbour graph: who points at the touched articles, and whom they
    # point at (the first hop of their candidates).
    pointing, first = set(), set()
    for article_id, neighbour_id in (
        SimilarArticle.objects.filter(Q(neighbour_id__in=touched) | Q(article_id__in=touched))
        .order_by()
        .values_list("article_id", "neighbour_id")
    ):
        if neighbour_id in touched:
            pointing.add(article_id)
        if article_id in touched:
            first.add(neighbour_id)
    features = load_features(touched)
    candidates = _candidates(touched, idf, features, first)
    old_lists: dict[int, list[tuple[float, int]]] = defaultdict(list)
    for article_id, neighbour_id, value in (
        SimilarArticle.objects.filter(article_id__in=(candidates | pointing) - touched)
        .order_by("article_id", "rank")
        .values_list("article_id", "neighbour_id", "score")
    ):
        old_lists[article_id].append((value, neighbour_id))
    features.update(load_features((pointing | candidates) - set(features)))
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
    for pk in ((pointing | candidates) - touched) & set(features):
        # Only the touched articles changed: the other stored scores still hold (the weights
        # stay fixed until the next rebuild), so the touched ones are scored again and merged.
        merged = {target: value for value, target in old_lists[pk] if target not in touched}
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
    # Committed durably, like the writes it follows (an editor's publish, an API import): only a
    # full rebuild, which can simply run again, skips the wait for the disk.
    with transaction.atomic():
        lock_for_rewrite(SimilarArticle)
        SimilarArticle.objects.filter(article_id__in=lists).delete()
        bulk_insert_rows(SimilarArticle, LINK_FIELDS, rows)


def _fallback_for(features: dict[int, Features], short: list[int]) -> dict[str, list[int]]:
    """Newest live articles of each code language that short lists need, then of any language."""
    if not short:
        return {}
    newest = Article.objects.live().order_by("-pk").values_list("pk", flat=True)
    anything = list(newest[: 2 * NEIGHBOURS])
    fallback: dict[str, list[int]] = {}
    for language in {features[pk].language for pk in short}:
        fallback[language] = list(newest.filter(code_language=language or None)[: 2 * NEIGHBOURS]) + anything
    return fallback


def _candidates(
    touched: set[int], idf: dict[str, float], features: dict[int, Features], first: set[int]
) -> set[int]:
    """Candidates for the touched articles' lists: live articles sharing their rarest tags and
    entities, their current neighbours (``first``) and those neighbours' closest ones."""
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
    # The neighbour graph knows the closest articles already: the neighbours of the touched
    # articles and their own best few are the best candidates there are.
    second = set(
        SimilarArticle.objects.filter(article_id__in=first, rank__lte=3)
        .order_by()
        .values_list("neighbour_id", flat=True)
    )
    return pool | first | second


def without_lists(limit: int = 10_000) -> set[int]:
    """Articles with no similar posts stored although there are others to suggest: never
    refreshed (a run stopped between its last commit and its refresh), so the next refresh
    should include them. The fallback gives every list entries once two articles are live."""
    if Article.objects.live()[:2].count() < 2:
        return set()
    lists = SimilarArticle.objects.filter(article_id=OuterRef("pk"))
    return set(Article.objects.filter(~Exists(lists)).order_by().values_list("pk", flat=True)[:limit])


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
