"""The full rebuild: every article's neighbours recomputed with sparse matrix products, in
chunks, the IDF table learnt again (or kept), and the index a refresh works from written anew.
"""

import math
import os
from array import array
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from django.db import connections, router, transaction
from scipy import sparse
from sparse_dot_topn import sp_matmul_topn

from articles.bulk import analyze, column_writer, commit_without_flush_wait, lock_for_rewrite
from articles.changes import everything_changed
from articles.models import (
    Article,
    ArticleEntity,
    ArticleState,
    ArticleTag,
    SimilarArticle,
    SimilarityIndex,
    SimilarPending,
    SimilarPosting,
    SimilarState,
    SimilarVector,
)
from articles.similarity.lists import DEPTH, LINK_FIELDS, MIN_NEIGHBOURS, NEIGHBOURS, _rows
from articles.similarity.scoring import (
    ARTICLE_COLUMNS,
    SCALE,
    UNIT,
    WEIGHTS,
    Weights,
    _bonus_points,
    _code,
    _text_terms,
    current_weights,
)
from articles.similarity.stored_index import OPEN, _store_index

CHUNK = 2000  # rows ranked together; fewer than 2**11 (a packed sort key, _chunk_links)
ANY_LANGUAGE = -1  # the fallback's key for articles of any code language


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


def rebuild_lists(
    progress: Callable[[int], None] | None = None, *, durable: bool = False, keep_weights: bool = False
) -> int:
    """Recompute every article's neighbours. Returns how many articles got a list.

    The lists' lock is taken before the articles are read, so a refresh cannot commit between
    the read and the rewrite and be overwritten; the articles queued for a refresh until then are
    taken off the queue, as the rebuild reads them as they are.

    The IDF table is learnt again from the live articles, unless ``keep_weights``: then the
    stored one is used, and the lists are the ones incremental refreshes keep.
    """
    with transaction.atomic():
        if not durable:  # derived data: a crash that loses it is mended by rebuilding again
            for model in (SimilarArticle, SimilarPosting, SimilarState, SimilarVector):
                commit_without_flush_wait(model)
        lock_for_rewrite(SimilarArticle)
        SimilarPending.objects.all().delete()
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
    """SimilarArticle rows of a chunk of articles, as arrays (article ids, neighbour ids, scores,
    top-up places), and their floors: each article's DEPTH best live neighbours, best first.

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
    columns = [
        ids[chunk][rows[kept]],
        target_ids[kept],
        points[kept] / UNIT,
        np.zeros(int(kept.sum()), np.int16),
    ]
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
    """Threads for the product: every core this process may run on (None, sequential, when that
    is one: a single-core machine, or a process pinned to one core with ``taskset``)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
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
