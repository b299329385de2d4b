"""Similar posts: which live articles are most related to each article, and keeping that fresh.

Each article is a sparse vector of weighted terms: its stack and tool tags, its entities, the
problem and context of its outline, and the distinctive words of its title and topic. Every
term counts, weighed by its rarity (inverse document frequency over live articles): the terms
that define a topic in a real knowledge base are common, and it is their combination that
makes two articles related. Two articles score the cosine of their vectors, plus a small bonus
for the same code language and the same difficulty. docs/similar-posts.md gives the formula,
why it was chosen and what it costs.

Weights are whole multiples of 1/SCALE, so every score is an exact sum whatever order it is
added up in: a refresh and a rebuild reach the same scores and break ties the same way.

The DEPTH best of every article are stored in SimilarArticle (pages show the first NEIGHBOURS)
and read with one indexed query. rebuild_all() recomputes everything with sparse matrix
products, in chunks, and leaves an inverted index (SimilarPosting), each list's floor
(SimilarState) and each article's terms (SimilarVector). refresh() uses them to score the
articles that changed against every other article exactly, and to update the lists they
leave, enter or rank in; its lists are the ones a rebuild with the same weights gives.
"""

import math
import os
import re
import zlib
from array import array
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from threading import local

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
from articles.changes import articles_changed, everything_changed
from articles.models import (
    Article,
    ArticleEntity,
    ArticleState,
    ArticleTag,
    SimilarArticle,
    SimilarityIndex,
    SimilarPosting,
    SimilarState,
    SimilarVector,
)

NEIGHBOURS = 10  # shown at most
DEPTH = 20  # kept per article: a refresh that moves an article down a list still knows the next ones
MIN_NEIGHBOURS = 5  # fewer than this and the list is topped up by the fallback
WEIGHTS = {"tag": 1.0, "entity": 1.0, "problem": 2.0, "context": 0.5, "word": 0.6}  # docs/similar-posts.md
SAME_LANGUAGE_BONUS = 0.05
SAME_DIFFICULTY_BONUS = 0.03
SCALE = 2**14  # weights are quantised to 1/SCALE (they fit an int16), scores to 1/SCALE²
UNIT = SCALE * SCALE
LANGUAGE_POINTS = round(SAME_LANGUAGE_BONUS * UNIT)
DIFFICULTY_POINTS = round(SAME_DIFFICULTY_BONUS * UNIT)
REBUILD_SHARE = 0.2  # a refresh of more than this share of the articles ...
REBUILD_MIN = 1000  # ... and more than this many (a bulk import) rebuilds everything instead
BUCKET = 4096  # postings are stored per slice of this many article ids (a change rewrites one)
SLICE = 512  # floors and attributes likewise: a refresh rewrites the slices of the lists it changed
CHUNK = 2000  # rows ranked together; fewer than 2**11 (a packed sort key, _chunk_links)
LINK_FIELDS = ("article_id", "neighbour_id", "rank", "score")
ANY_LANGUAGE = -1  # the fallback's key for articles of any code language
OPEN = -1.0  # the floor of a list that holds every live article scoring above zero

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


def _bonus_points(language_a, difficulty_a, language_b, difficulty_b):
    """The bonus in score points (1/UNIT) of two articles by their codes (see _code); arrays work."""
    return LANGUAGE_POINTS * ((language_a == language_b) & (language_a != 0)) + DIFFICULTY_POINTS * (
        (difficulty_a == difficulty_b) & (difficulty_a != 0)
    )


def _code(value: str | None) -> int:
    """A code language or difficulty as a number, the same in every process (0: none)."""
    return ((zlib.crc32(value.encode()) & 0x7FFFFFFF) or 1) if value else 0


def _order(entries: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """(points, id) best first; equal scores go to the lower id, so every run agrees."""
    return sorted(entries, key=lambda entry: (-entry[0], entry[1]))


@dataclass(frozen=True)
class Weights:
    """The IDF of every term the last rebuild saw, over its live_count live articles."""

    idf: dict[str, float]
    live_count: int

    @property
    def unseen(self) -> float:
        """The IDF of a term no article carried then: as rare as a term on one article."""
        return math.log((1 + self.live_count) / 2) + 1

    def of(self, term: str) -> float:
        return self.idf.get(term, self.unseen)


def quantise(terms: dict[str, float], weights: Weights) -> dict[str, int]:
    """An article's vector: each term's base weight times its IDF, normalised, in whole 1/SCALE.

    The same arithmetic as _quantised (the rebuild's), value for value: an exactly rounded sum
    of squares, then IEEE division and round-half-even, so both give the same integers."""
    values = {term: base * weights.of(term) for term, base in terms.items()}
    norm = math.sqrt(math.fsum([value * value for value in values.values()]))
    if not norm:
        return {}
    vector = {}
    for term, value in values.items():
        if points := round(value / norm * SCALE):
            vector[term] = points
    return vector


_weights_cache: dict = {}


def current_weights() -> Weights | None:
    """The stored IDF table, read again only when a rebuild replaced it."""
    row = SimilarityIndex.objects.order_by("-pk").values_list("pk", "live_count", "built_at").first()
    if row is None:
        return None
    if _weights_cache.get("key") != row:  # a rolled-back rebuild's id can come again (SQLite)
        _weights_cache.update(key=row, weights=Weights(SimilarityIndex.objects.get(pk=row[0]).idf, row[1]))
    return _weights_cache["weights"]


# -- full rebuild -----------------------------------------------------------------------------------


def _corpus_matrix():
    """Stream the corpus into a sparse matrix of base weights, in bounded memory.

    Returns (ids, live mask, language codes, difficulty codes, vocabulary, matrix). Articles
    are read in primary-key order; their tag and entity links are read as plain integer pairs
    in large chunks and placed with NumPy, since they are most of the terms.
    """
    ids, live = array("q"), array("b")
    languages, difficulties = array("q"), array("q")
    vocabulary: dict[str, int] = {}
    rows, cols, weights = array("i"), array("i"), array("d")

    articles = Article.objects.order_by("pk").values_list(*ARTICLE_COLUMNS).iterator(chunk_size=5000)
    for row, (pk, state, title, topic, problem, context, language, difficulty) in enumerate(articles):
        ids.append(pk)
        live.append(state == ArticleState.PUBLISHED)
        languages.append(_code(language))
        difficulties.append(_code(difficulty))
        terms = _text_terms(title, topic, problem, context)
        rows.extend([row] * len(terms))
        cols.extend([vocabulary.setdefault(term, len(vocabulary)) for term in terms])
        weights.extend(terms.values())
    id_array = np.frombuffer(ids, dtype=np.int64) if ids else np.zeros(0, dtype=np.int64)
    parts = [
        (
            np.frombuffer(rows, dtype=np.int32) if rows else np.zeros(0, dtype=np.int32),
            np.frombuffer(cols, dtype=np.int32) if cols else np.zeros(0, dtype=np.int32),
            np.frombuffer(weights, dtype=np.float64) if weights else np.zeros(0, dtype=np.float64),
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
            parts.append((found.astype(np.int32), codes[inverse], np.full(len(found), weight)))
    matrix = sparse.csr_matrix(
        (
            np.concatenate([part[2] for part in parts]),
            (np.concatenate([part[0] for part in parts]), np.concatenate([part[1] for part in parts])),
        ),
        shape=(len(ids), max(1, len(vocabulary))),
    )
    matrix.sum_duplicates()
    as_array = {"b": np.int8, "q": np.int64}
    return (
        id_array,
        np.frombuffer(live, dtype=np.int8).astype(bool) if live else np.zeros(0, dtype=bool),
        np.frombuffer(languages, dtype=as_array["q"]) if languages else np.zeros(0, dtype=np.int64),
        np.frombuffer(difficulties, dtype=as_array["q"]) if difficulties else np.zeros(0, dtype=np.int64),
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


def _quantised(base, idf: np.ndarray):
    """Every row's vector (see quantise), as a CSR matrix of whole numbers in float64: their
    products and sums are exact, so the sparse products give the scores a refresh gives."""
    matrix = base.tocsr()
    data = matrix.data * idf[matrix.indices]
    squares = data * data
    bounds = matrix.indptr.tolist()
    norms = np.array(
        [
            math.sqrt(math.fsum(squares[start:end].tolist()))
            for start, end in zip(bounds, bounds[1:], strict=False)
        ]
    )
    spread = np.repeat(norms, np.diff(matrix.indptr))
    points = np.rint(data / np.where(spread > 0, spread, 1.0) * SCALE)
    points[spread == 0] = 0
    result = sparse.csr_matrix((points, matrix.indices, matrix.indptr), shape=matrix.shape)
    result.eliminate_zeros()
    result.sort_indices()
    return result


def rebuild_all(
    progress: Callable[[int], None] | None = None, *, durable: bool = False, keep_weights: bool = False
) -> int:
    """Recompute every article's neighbours. Returns how many articles got a list.

    The IDF table is learnt again from the live articles, unless ``keep_weights``: then the
    stored one is used, and the lists are the ones incremental refreshes keep.
    """
    ids, live_mask, languages, difficulties, vocabulary, base = _corpus_matrix()
    if len(ids) >= 1 << 22:
        raise ValueError("more articles than the rebuild's sort key holds (4 million)")
    terms = list(vocabulary)
    n_live = int(live_mask.sum())
    stored = current_weights() if keep_weights else None
    if stored is not None:
        weights = stored
        idf = np.array([weights.of(term) for term in terms], dtype=np.float64)
    else:
        df = np.bincount(base[live_mask].indices, minlength=base.shape[1])[: len(terms)]
        idf = np.log((1 + n_live) / (1 + df)) + 1
        weights = Weights(
            {term: float(value) for term, value in zip(terms, idf.tolist(), strict=True)}, n_live
        )
    if len(idf) < base.shape[1]:
        idf = np.concatenate([idf, np.ones(base.shape[1] - len(idf))])
    matrix = _quantised(base, idf)
    blocks = _column_blocks(matrix, live_mask, languages, difficulties)
    fallback = _fallback_by_code(ids, live_mask, languages)
    floors = np.full(len(ids), OPEN)

    with transaction.atomic():
        if not durable:  # derived data: a crash that loses it is mended by rebuilding again
            for model in (SimilarArticle, SimilarPosting, SimilarState, SimilarVector):
                commit_without_flush_wait(model)
        lock_for_rewrite(SimilarArticle)
        SimilarArticle.objects.all().delete()
        with column_writer(SimilarArticle, LINK_FIELDS) as write:
            for start in range(0, len(ids), CHUNK):
                chunk = np.arange(start, min(start + CHUNK, len(ids)))
                columns, chunk_floors = _chunk_links(
                    chunk, matrix, blocks, ids, languages, difficulties, fallback
                )
                floors[chunk] = chunk_floors
                write(*columns)
                if progress:
                    progress(len(chunk))
        _store_index(ids, live_mask, languages, difficulties, terms, base, matrix, floors)
        SimilarityIndex.store(idf=weights.idf, live_count=weights.live_count)
        everything_changed()  # every article page shows similar posts
    # The tables were replaced whole: without fresh statistics the planner takes the page's
    # one-row lookups for scans of a large table.
    analyze([SimilarArticle, SimilarPosting, SimilarVector])
    return len(ids)


@dataclass
class _Block:
    """Live articles of one code language and one difficulty: a bonus the same for all of them."""

    language: int
    difficulty: int
    rows: np.ndarray  # their rows in the corpus matrix
    transposed: object  # their vectors, one per column


def _column_blocks(matrix, live_mask, languages, difficulties) -> list[_Block]:
    live_rows = np.flatnonzero(live_mask)
    keys = np.stack([languages[live_rows], difficulties[live_rows]], axis=1)
    blocks = []
    for language, difficulty in sorted({tuple(key) for key in keys.tolist()}):
        rows = live_rows[(keys[:, 0] == language) & (keys[:, 1] == difficulty)]
        blocks.append(_Block(language, difficulty, rows, matrix[rows].T.tocsr()))
    return blocks


def _chunk_links(chunk, matrix, blocks, ids, languages, difficulties, fallback):
    """SimilarArticle rows of a chunk of articles, as arrays (article ids, neighbour ids, ranks,
    scores), and their floors: each article's DEPTH best live neighbours, best first.

    Within a block the bonus is the same for every neighbour, so each block's DEPTH best
    cosines (compiled code, every core) hold the block's share of the DEPTH best scores; the
    blocks' shares are merged with their bonuses. Lists shorter than MIN_NEIGHBOURS are
    topped up from the fallback.
    """
    rows_matrix = matrix[chunk]
    found_rows, found_targets, found_points = [], [], []
    for block in blocks:
        rows, targets, cosines = _block_top(rows_matrix, block)
        bonus = _bonus_points(
            languages[chunk[rows]], difficulties[chunk[rows]], block.language, block.difficulty
        )
        found_rows.append(rows)
        found_targets.append(targets)
        found_points.append(cosines + bonus)
    rows = np.concatenate(found_rows) if found_rows else np.zeros(0, dtype=np.int64)
    targets = np.concatenate(found_targets) if found_targets else np.zeros(0, dtype=np.int64)
    points = np.concatenate(found_points) if found_points else np.zeros(0)
    mine = targets != chunk[rows]  # an article is never its own neighbour
    rows, targets, points = rows[mine], targets[mine], points[mine]
    # Best first, equal scores to the lower id (rows are in id order): one sort of a packed key,
    # the row (11 bits), the score's complement (30 bits), the neighbour's row (22 bits).
    key = (rows.astype(np.int64) << 52) | (((1 << 30) - 1 - points.astype(np.int64)) << 22) | targets
    order = np.argsort(key)
    rows, target_ids, points = rows[order], ids[targets[order]], points[order]
    counts = np.bincount(rows, minlength=len(chunk))
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])
    ranks = np.arange(len(rows)) - first[rows] + 1
    kept = ranks <= DEPTH
    floors = np.full(len(chunk), OPEN)
    full = counts > DEPTH
    last = first + DEPTH - 1
    floors[full] = points[last[full]] / UNIT
    columns = [ids[chunk][rows[kept]], target_ids[kept], ranks[kept], points[kept] / UNIT]
    extra = [
        link
        for row in np.flatnonzero(counts < MIN_NEIGHBOURS).tolist()
        for link in _rows(
            int(ids[chunk[row]]),
            list(
                zip(
                    points[first[row] : first[row] + counts[row]].tolist(),
                    target_ids[first[row] : first[row] + counts[row]].tolist(),
                    strict=True,
                )
            ),
            fallback.get(int(languages[chunk[row]]), fallback[ANY_LANGUAGE]),
        )[counts[row] :]
    ]
    if extra:
        added = zip(*extra, strict=True)
        columns = [
            np.concatenate([mine_, np.array(more)]) for mine_, more in zip(columns, added, strict=True)
        ]
    return columns, floors


def _block_top(rows_matrix, block: _Block):
    """(row, target row, cosine points) of each row's DEPTH + 1 best cosines in a block, exactly:
    rows whose cut fell inside a run of equal cosines are computed in full."""
    top_n = DEPTH + 2  # the article itself may be among them, and one more shows a cut
    product = sp_matmul_topn(rows_matrix, block.transposed, top_n=top_n, threshold=0.0, n_threads=_threads())
    counts = np.diff(product.indptr)
    rows = np.repeat(np.arange(rows_matrix.shape[0]), counts)
    targets, cosines = product.indices.astype(np.int64), product.data
    # A full row whose smallest kept cosine occurs twice: the cut fell inside a run of equal
    # cosines, and the ones left out may have lower ids.
    smallest = np.full(len(counts), np.inf)
    filled = counts > 0
    smallest[filled] = np.minimum.reduceat(cosines, product.indptr[:-1][filled]) if len(cosines) else []
    at_cut = np.bincount(rows, weights=cosines == smallest[rows], minlength=len(counts))
    suspect = np.flatnonzero((counts == top_n) & (at_cut >= 2)).tolist()
    if suspect:
        redo = np.isin(rows, suspect)
        full = sparse.csr_matrix(rows_matrix[suspect] @ block.transposed)
        extra_rows, extra_targets, extra_cosines = [rows[~redo]], [targets[~redo]], [cosines[~redo]]
        for position, row in enumerate(suspect):
            start, end = full.indptr[position], full.indptr[position + 1]
            values, columns = full.data[start:end], full.indices[start:end]
            if len(values) > DEPTH + 1:  # the DEPTH + 1 best, and every cosine equal to the last
                cut = np.partition(values, len(values) - DEPTH - 1)[len(values) - DEPTH - 1]
                values, columns = values[values >= cut], columns[values >= cut]
            extra_rows.append(np.full(len(values), row, dtype=np.int64))
            extra_targets.append(columns.astype(np.int64))
            extra_cosines.append(values)
        rows, targets, cosines = (np.concatenate(part) for part in (extra_rows, extra_targets, extra_cosines))
    return rows.astype(np.int32), block.rows[targets].astype(np.int32), cosines


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
    """SimilarArticle rows for one article (best: (points, id), best first), topped up from the
    fallback when shorter than MIN_NEIGHBOURS."""
    chosen = [(points / UNIT, target) for points, target in best]
    if len(chosen) < MIN_NEIGHBOURS:
        taken = {target for _, target in chosen} | {pk}
        for target in fallback:
            if len(chosen) >= MIN_NEIGHBOURS:
                break
            if target not in taken:
                chosen.append((0.0, target))
                taken.add(target)
    return [(pk, target, rank, value) for rank, (value, target) in enumerate(chosen, start=1)]


# -- the stored index: postings, floors, vectors ------------------------------------------------------


def _encode(ids: np.ndarray, points: np.ndarray) -> bytes:
    return ids.astype(np.int32).tobytes() + points.astype(np.int16).tobytes()


def _decode(data) -> tuple[np.ndarray, np.ndarray]:
    data = bytes(data)
    size = len(data) // 6
    return (
        np.frombuffer(data, dtype=np.int32, count=size).astype(np.int64),
        np.frombuffer(data, dtype=np.int16, offset=4 * size).astype(np.int64),
    )


def _store_index(ids, live_mask, languages, difficulties, terms, base, matrix, floors) -> None:
    """Postings (signed by liveness), floors and attributes per bucket, and each article's terms."""
    for model in (SimilarPosting, SimilarState, SimilarVector):
        model.objects.all().delete()
    # By column, rows come in id order: each term's buckets are runs of its postings.
    by_term = matrix.tocsc()
    by_term.sort_indices()
    sign = np.where(live_mask, 1, -1)

    def postings():
        for column, term in enumerate(terms):
            start, end = by_term.indptr[column], by_term.indptr[column + 1]
            if start == end:
                continue
            rows = by_term.indices[start:end]
            article_ids = ids[rows]
            points = by_term.data[start:end].astype(np.int64) * sign[rows]
            buckets = article_ids // BUCKET
            cuts = np.flatnonzero(np.diff(buckets)) + 1
            for first, last in zip(np.r_[0, cuts].tolist(), np.r_[cuts, len(rows)].tolist(), strict=True):
                yield term, int(buckets[first]), _encode(article_ids[first:last], points[first:last])

    bulk_insert_rows(SimilarPosting, ("term", "bucket", "data"), list(postings()))
    states = []
    for bucket in np.unique(ids // SLICE).tolist():
        mine = (ids // SLICE) == bucket
        slots = ids[mine] - bucket * SLICE
        bucket_floors = np.full(SLICE, np.inf)
        bucket_floors[slots] = floors[mine]
        attributes = np.zeros((2, SLICE), dtype=np.int32)
        attributes[0, slots], attributes[1, slots] = languages[mine], difficulties[mine]
        states.append((bucket, bucket_floors.tobytes(), attributes.tobytes()))
    bulk_insert_rows(SimilarState, ("bucket", "floors", "attributes"), states)
    base = base.tocsr()
    for first in range(0, len(ids), 10_000):  # in chunks: the terms of every article are large
        bounds = base.indptr[first : first + 10_001].tolist()
        bulk_insert_rows(
            SimilarVector,
            ("article_id", "terms"),
            [
                (pk, "\n".join(sorted(terms[col] for col in base.indices[start:end].tolist())))
                for pk, start, end in zip(
                    ids[first : first + 10_000].tolist(), bounds, bounds[1:], strict=False
                )
            ],
        )


class _State:
    """Floors and attributes of every article, read from SimilarState into arrays indexed by id."""

    def __init__(self):
        rows = list(SimilarState.objects.values_list("bucket", "floors", "attributes"))
        self._grow(max((bucket for bucket, _, _ in rows), default=0) + 1)
        for bucket, floors, attributes in rows:
            start = bucket * SLICE
            self.floors[start : start + SLICE] = np.frombuffer(bytes(floors), dtype=np.float64)
            codes = np.frombuffer(bytes(attributes), dtype=np.int32)
            self.attributes[:, start : start + SLICE] = codes.reshape(2, SLICE)
        self.changed: set[int] = set()

    def _grow(self, slices: int) -> None:
        size = slices * SLICE
        floors, attributes = np.full(size, np.inf), np.zeros((2, size), dtype=np.int64)
        if hasattr(self, "floors"):
            floors[: len(self.floors)] = self.floors
            attributes[:, : self.attributes.shape[1]] = self.attributes
        self.floors, self.attributes = floors, attributes

    def _slot(self, pk: int) -> int:
        if pk >= len(self.floors):
            self._grow(pk // SLICE + 1)
        self.changed.add(pk // SLICE)
        return pk

    def floor(self, pk: int) -> float:
        return float(self.floors[pk]) if pk < len(self.floors) else np.inf

    def set_floor(self, pk: int, value: float) -> None:
        slot = self._slot(pk)  # first: it may grow the arrays, which the assignment must see
        self.floors[slot] = value

    def set_attributes(self, pk: int, language: int, difficulty: int) -> None:
        slot = self._slot(pk)  # first: it may grow the arrays, which the assignment must see
        self.attributes[:, slot] = (language, difficulty)

    def lookup(self, pks: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Floors, language codes and difficulty codes of these ids."""
        if len(pks) and pks.max() >= len(self.floors):
            self._grow(int(pks.max()) // SLICE + 1)
        return self.floors[pks], self.attributes[0, pks], self.attributes[1, pks]

    def save(self) -> None:
        rows = []
        for bucket in sorted(self.changed):
            start = bucket * SLICE
            codes = self.attributes[:, start : start + SLICE].astype(np.int32)
            rows.append((bucket, self.floors[start : start + SLICE].tobytes(), codes.tobytes()))
        _update(SimilarState, ("floors", "attributes"), rows, insert_missing=True)


# -- incremental refresh -----------------------------------------------------------------------------


_deferral = local()


@contextmanager
def deferred() -> Iterator[None]:
    """Collect the refreshes asked for inside the block and run one, for all their articles, at
    its end: a bulk action refreshes once however many articles it changed."""
    stack = getattr(_deferral, "stack", None)
    if stack is None:
        stack = _deferral.stack = []
    stack.append(set())
    try:
        yield
    finally:
        refresh(stack.pop())


def refresh(article_ids: Iterable[int]) -> None:
    """Bring similar posts up to date after these articles changed (imported, edited, published,
    rolled back, archived or deleted): their own lists, and every list they leave, enter or
    move in. Scored with the stored weights, exactly: the lists are the ones a rebuild with
    those weights gives (``rebuild_all(keep_weights=True)``).
    """
    touched = {int(pk) for pk in article_ids}
    if not touched:
        return
    stack = getattr(_deferral, "stack", None)
    if stack:
        stack[-1].update(touched)
        return
    weights = current_weights()
    if weights is None or len(touched) > max(REBUILD_MIN, REBUILD_SHARE * weights.live_count):
        rebuild_all(durable=True)  # never built, or a bulk import: a rebuild is the cheaper way
        return
    # Committed durably, like the writes it follows (an editor's publish, an API import).
    with transaction.atomic():
        lock_for_rewrite(SimilarArticle)  # one refresh at a time: each reads what the last wrote
        _Refresh(touched, weights).run()


class _Refresh:
    """One refresh, inside the transaction that holds the lock: reads, scores, writes."""

    def __init__(self, touched: set[int], weights: Weights):
        self.touched = touched
        self.weights = weights
        self.features = load_features(touched)
        self.vectors = {pk: quantise(feature.terms, weights) for pk, feature in self.features.items()}
        self.state = _State()
        # (term, bucket) -> [row id or None, ids, points, changed]
        self.postings: dict[tuple[str, int], list] = {}
        self._complete: set[str] = set()  # terms whose every bucket is in self.postings

    def run(self) -> None:
        self._patch_postings()
        for pk, feature in self.features.items():
            self.state.set_attributes(pk, _code(feature.language), _code(feature.difficulty))
        for pk in self.touched - set(self.features):
            self.state.set_floor(pk, np.inf)  # gone: in no list, with no list
        lists: dict[int, list[tuple[int, int]]] = {}
        entering: dict[int, list[tuple[int, int]]] = defaultdict(list)
        touched = np.array(sorted(self.touched), dtype=np.int64)
        for pk, vector in self.vectors.items():
            (candidates, live), cosines = self._scores(vector)
            floors, languages, difficulties = self.state.lookup(candidates)
            feature = self.features[pk]
            scores = cosines + _bonus_points(
                languages, difficulties, _code(feature.language), _code(feature.difficulty)
            )
            lists[pk] = self._own_list(pk, candidates, live, scores)
            if feature.live:
                # Lists it may enter: a score at least their floor (ties are settled on the rows).
                reach = (scores / UNIT >= floors) & ~np.isin(candidates, touched)
                for owner, value in zip(
                    candidates[reach].tolist(), scores[reach].astype(np.int64).tolist(), strict=True
                ):
                    entering[owner].append((value, pk))
        # One query: the lists that point at a touched article, and those it may enter.
        current: dict[int, list[tuple[int, int]]] = defaultdict(list)
        pointing = set(
            SimilarArticle.objects.filter(neighbour_id__in=self.touched)
            .order_by()
            .values_list("article_id", flat=True)
        )
        for article_id, neighbour_id, score in (
            SimilarArticle.objects.filter(article_id__in=(pointing | set(entering)) - self.touched)
            .order_by("article_id", "rank")
            .values_list("article_id", "neighbour_id", "score")
        ):
            current[article_id].append((round(score * UNIT), neighbour_id))
        recompute = []
        for owner in sorted((set(current) | set(entering)) - self.touched):
            floor = self.state.floor(owner)
            if floor == np.inf:
                continue  # not an article any more
            rows = [entry for entry in current[owner] if entry[0] > 0]
            kept = [entry for entry in rows if entry[1] not in self.touched]
            if floor == OPEN:
                merged = _order(kept + entering[owner])
            else:
                # Outside the list nothing is better than its last entry (the cut); a touched
                # article that was that entry and scores the same stays.
                cut = (-round(floor * UNIT), rows[-1][1] if rows else 0)
                merged = _order(kept + [entry for entry in entering[owner] if (-entry[0], entry[1]) <= cut])
                if len(merged) < NEIGHBOURS:
                    recompute.append(owner)
                    continue
            if len(merged) > DEPTH:
                self.state.set_floor(owner, merged[DEPTH - 1][0] / UNIT)
            elif floor != OPEN:
                self.state.set_floor(owner, merged[-1][0] / UNIT)
            if merged[:DEPTH] != rows or len(rows) < len(current[owner]):
                lists[owner] = merged[:DEPTH]
        if recompute:
            self._recompute(recompute, lists)
        if any(feature.live for feature in self.features.values()):
            # A new live article changes the newest ones, which short lists are topped up with:
            # those topped up already, and those still empty (made while no other was live).
            topped_up = SimilarArticle.objects.filter(score=0).values("article_id")
            for article_id, neighbour_id, score in (
                SimilarArticle.objects.filter(article_id__in=topped_up)
                .exclude(article_id__in=list(lists))
                .order_by("article_id", "rank")
                .values_list("article_id", "neighbour_id", "score")
            ):
                found = lists.setdefault(article_id, [])
                if score > 0:
                    found.append((round(score * UNIT), neighbour_id))
            for owner in self._empty_lists(set(lists) | self.touched):
                lists[owner] = []
        self._write(lists)

    def _empty_lists(self, known: set[int]) -> list[int]:
        """Open lists (every live article scoring above zero is in them) that hold no row at
        all: made while no other article was live, so no fallback could top them up."""
        open_owners = set(np.flatnonzero(self.state.floors == OPEN).tolist()) - known
        if not open_owners:
            return []
        holding = set(
            SimilarArticle.objects.filter(article_id__in=open_owners)
            .order_by()
            .values_list("article_id", flat=True)
            .distinct()
        )
        return sorted(open_owners - holding)

    def _recompute(self, owners: list[int], lists) -> None:
        """Lists that lost too many of their entries: scored again against every article."""
        features = load_features(owners)
        vectors = {pk: quantise(feature.terms, self.weights) for pk, feature in features.items()}
        self._read_postings({term for vector in vectors.values() for term in vector}, set())
        for pk, vector in vectors.items():
            (candidates, live), cosines = self._scores(vector)
            _floors, languages, difficulties = self.state.lookup(candidates)
            feature = features[pk]
            scores = cosines + _bonus_points(
                languages, difficulties, _code(feature.language), _code(feature.difficulty)
            )
            lists[pk] = self._own_list(pk, candidates, live, scores)

    def _own_list(self, pk: int, candidates, live, scores) -> list[tuple[int, int]]:
        """An article's DEPTH best among every live article it shares a term with; its floor."""
        mine = live & (candidates != pk)
        candidates, scores = candidates[mine], scores[mine]
        if len(scores) > DEPTH + 1:  # only those at least as good as the (DEPTH + 1)-th, ties included
            cut = -np.partition(-scores, DEPTH)[DEPTH]
            candidates, scores = candidates[scores >= cut], scores[scores >= cut]
        order = np.lexsort((candidates, -scores))[: DEPTH + 1]
        own = list(zip(scores[order].astype(np.int64).tolist(), candidates[order].tolist(), strict=True))
        self.state.set_floor(pk, OPEN if len(own) <= DEPTH else own[DEPTH - 1][0] / UNIT)
        return own[:DEPTH]

    def _read_postings(self, terms: set[str], patched: set[tuple[str, int]]) -> None:
        """Every bucket of these terms, and these (term, bucket) rows, unless read already."""
        terms = {term for term in terms if term not in self._complete}
        patched = {key for key in patched if key not in self.postings and key[0] not in terms}
        if not terms and not patched:
            return
        condition = Q(term__in=terms)
        if patched:
            condition |= Q(
                term__in={term for term, _ in patched}, bucket__in={bucket for _, bucket in patched}
            )
        for row, term, bucket, data in SimilarPosting.objects.filter(condition).values_list(
            "pk", "term", "bucket", "data"
        ):
            if term in terms or (term, bucket) in patched:
                self.postings.setdefault((term, bucket), [row, *_decode(data), False])
        self._complete |= terms

    def _patch_postings(self) -> None:
        """Take the touched articles out of the postings of their old terms, put them in those of
        their new ones (signed by liveness), and record their terms."""
        old = {
            pk: terms.split("\n") if terms else []
            for pk, terms in SimilarVector.objects.filter(article_id__in=self.touched).values_list(
                "article_id", "terms"
            )
        }
        keys = {
            (term, pk // BUCKET)
            for pk in self.touched
            for term in [*old.get(pk, []), *self.vectors.get(pk, {})]
        }
        self._read_postings({term for vector in self.vectors.values() for term in vector}, keys)
        touched = np.array(sorted(self.touched), dtype=np.int64)
        for key in sorted(keys):
            term, bucket = key
            entry = self.postings.setdefault(key, [None, np.zeros(0, np.int64), np.zeros(0, np.int64), False])
            keep = ~np.isin(entry[1], touched)
            ids, points = entry[1][keep], entry[2][keep]
            added = [
                (pk, vector[term] if self.features[pk].live else -vector[term])
                for pk, vector in self.vectors.items()
                if pk // BUCKET == bucket and term in vector
            ]
            if added:
                ids = np.concatenate([ids, np.array([pk for pk, _ in added], dtype=np.int64)])
                points = np.concatenate([points, np.array([value for _, value in added], dtype=np.int64)])
                order = np.argsort(ids, kind="stable")
                ids, points = ids[order], points[order]
            if len(ids) != len(entry[1]) or added:
                entry[1:] = [ids, points, True]

    def _scores(self, vector: dict[str, int]):
        """((candidate ids, live mask), cosine points) of every article sharing a term with
        ``vector``: sums of whole numbers, exact in any order."""
        ids, points, weights = [], [], []
        for (term, _bucket), (_row, term_ids, term_points, _changed) in self.postings.items():
            if term in vector and len(term_ids):
                ids.append(term_ids)
                points.append(term_points)
                weights.append(np.full(len(term_ids), vector[term], dtype=np.int64))
        if not ids:
            return (np.zeros(0, np.int64), np.zeros(0, bool)), np.zeros(0)
        ids, points, weights = np.concatenate(ids), np.concatenate(points), np.concatenate(weights)
        cosines = np.bincount(ids, weights=(np.abs(points) * weights).astype(np.float64))
        live = np.zeros(len(cosines), dtype=bool)
        live[ids] = points > 0
        unique = np.flatnonzero(cosines > 0)
        cosines, live = cosines[unique], live[unique]
        return (unique, live), cosines

    def _write(self, lists: dict[int, list[tuple[int, int]]]) -> None:
        gone = self.touched - set(self.features)
        short = [pk for pk, best in lists.items() if len(best) < MIN_NEIGHBOURS]
        languages = (
            dict(Article.objects.filter(pk__in=short).values_list("pk", "code_language")) if short else {}
        )
        fallback = _fallback_for({languages.get(pk) or "" for pk in short})
        rows = [
            row
            for pk, best in lists.items()
            if pk not in gone
            for row in _rows(pk, best, fallback.get(languages.get(pk) or "", []))
        ]
        replaced = SimilarArticle.objects.filter(
            Q(article_id__in=list(lists) + list(gone)) | Q(neighbour_id__in=gone)
        )
        before = _shown(replaced.values_list(*LINK_FIELDS))
        replaced.delete()
        # The lists that changed are what the articles' pages (and the API's full list) show.
        after = _shown(row for row in rows if row[1] not in gone)
        changed = [pk for pk in before.keys() | after.keys() if before.get(pk) != after.get(pk)]
        if changed:  # only live articles' lists are shown
            changed = list(Article.objects.live().filter(pk__in=changed).values_list("pk", flat=True))
        if changed:
            articles_changed(changed, live=True)
        bulk_insert_rows(SimilarArticle, LINK_FIELDS, rows)
        changed = [(key, entry) for key, entry in self.postings.items() if entry[3]]
        emptied = [entry[0] for _key, entry in changed if entry[0] is not None and not len(entry[1])]
        if emptied:
            SimilarPosting.objects.filter(pk__in=emptied).delete()
        _update(
            SimilarPosting,
            ("data",),
            [
                (entry[0], _encode(entry[1], entry[2]))
                for _key, entry in changed
                if entry[0] is not None and len(entry[1])
            ],
        )
        bulk_insert_rows(
            SimilarPosting,
            ("term", "bucket", "data"),
            [
                (term, bucket, _encode(entry[1], entry[2]))
                for (term, bucket), entry in changed
                if entry[0] is None and len(entry[1])
            ],
        )
        _update(
            SimilarVector,
            ("terms",),
            [(pk, "\n".join(sorted(feature.terms))) for pk, feature in self.features.items()],
            insert_missing=True,
        )
        if gone:
            SimilarVector.objects.filter(article_id__in=gone).delete()
        self.state.save()


def _shown(rows) -> dict[int, list[tuple]]:
    """Each article's list as readers get it (neighbours in order, scores as the API rounds them),
    from SimilarArticle rows (article, neighbour, rank, score)."""
    lists: dict[int, list[tuple]] = {}
    for article_id, neighbour_id, _rank, score in sorted(rows, key=lambda row: (row[0], row[2])):
        lists.setdefault(article_id, []).append((neighbour_id, round(float(score), 4)))
    return lists


def _update(model, fields: tuple[str, ...], rows: list[tuple], *, insert_missing: bool = False) -> None:
    """Set ``fields`` of rows given as (primary key, *values), in one round trip; with
    ``insert_missing``, rows that are not there yet are inserted."""
    if not rows:
        return
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    table, key = quote(model._meta.db_table), quote(model._meta.pk.column)
    columns = [quote(model._meta.get_field(name).column) for name in fields]
    if insert_missing:
        sql = (
            f"INSERT INTO {table} ({key}, {', '.join(columns)}) VALUES (%s{', %s' * len(columns)}) "
            f"ON CONFLICT ({key}) DO UPDATE SET " + ", ".join(f"{c} = EXCLUDED.{c}" for c in columns)
        )
        params = rows
    else:
        sql = f"UPDATE {table} SET {', '.join(f'{c} = %s' for c in columns)} WHERE {key} = %s"
        params = [(*values, pk) for pk, *values in rows]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


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
