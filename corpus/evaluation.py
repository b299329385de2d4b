"""Measuring similar posts against a ground truth: precision@5, coverage and hubness."""

from collections import Counter, defaultdict
from collections.abc import Callable

import numpy as np
from scipy import sparse

from articles import similarity
from articles.derived import LIST_ORDER
from articles.models import Article, SimilarArticle
from articles.similarity import rebuild


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
    for article_id, neighbour_id in SimilarArticle.objects.order_by(*LIST_ORDER).values_list(
        "article_id", "neighbour_id"
    ):
        lists[article_id].append(neighbour_id)
    return lists


def shared_tag_baseline(live: set[int], k: int = 5) -> dict[int, list[int]]:
    """The plain baseline: rank by the number of shared stack and tool tags (ties by id)."""
    ids, live_mask, _languages, _difficulties, vocabulary, base = rebuild._corpus_matrix()
    tags = np.array(
        [term.startswith("t:") for term in vocabulary] + [False] * (base.shape[1] - len(vocabulary))
    )
    counts = sparse.csr_matrix(base[:, np.flatnonzero(tags)])
    counts.data[:] = 1.0
    lists = _exact_top(counts, ids, live_mask, k)
    return {pk: lists.get(pk, []) for pk in live}


def live_ids() -> set[int]:
    return set(Article.objects.live().values_list("pk", flat=True))


# -- the same corpus ranked other ways: baselines and the candidate methods -------------------------


def _exact_top(matrix, ids, live_mask, k: int, bonus: Callable | None = None) -> dict[int, list[int]]:
    """Each article's k best live articles by the dot product of ``matrix`` rows (never itself;
    ties to the lower id), exactly: blocks of rows against every live row, in sparse products."""
    live_rows = np.flatnonzero(live_mask)
    live_t = matrix[live_rows].T.tocsr() if sparse.issparse(matrix) else matrix[live_rows].T
    lists: dict[int, list[int]] = {}
    rows = max(1, min(1000, 10_000_000 // max(1, len(live_rows))))  # a block's scores stay < 100 MB
    for start in range(0, matrix.shape[0], rows):
        block = np.arange(start, min(start + rows, matrix.shape[0]))
        product = matrix[block] @ live_t
        scores = product.toarray() if sparse.issparse(product) else np.asarray(product)
        if bonus is not None:
            scores = scores + bonus(block, live_rows) * (scores > 0)
        scores[live_rows[None, :] == block[:, None]] = -np.inf
        scores = np.round(scores, 6)
        # The k-th best score of each row: every candidate at least as good, ties included, is
        # then ordered by score and id.
        kth = -np.partition(-scores, min(k, scores.shape[1]) - 1, axis=1)[:, min(k, scores.shape[1]) - 1]
        for row, cut in zip(block.tolist(), kth.tolist(), strict=True):
            candidates = np.flatnonzero((scores[row - start] >= cut) & (scores[row - start] > 0))
            targets = ids[live_rows[candidates]]
            order = np.lexsort((targets, -scores[row - start, candidates]))[:k]
            lists[int(ids[row])] = targets[order].tolist()
    return lists


def _top_by_products(matrix, ids, live_mask, k: int) -> dict[int, list[int]]:
    """The same lists as _exact_top without a bonus, faster: each row's k + 2 best products in
    compiled code; rows whose cut fell on equal scores are ranked again by _exact_top."""
    from sparse_dot_topn import sp_matmul_topn

    live_rows = np.flatnonzero(live_mask)
    live_t = sparse.csr_matrix(matrix[live_rows].T)
    lists: dict[int, list[int]] = {}
    again = []
    for start in range(0, matrix.shape[0], 2000):
        block = np.arange(start, min(start + 2000, matrix.shape[0]))
        product = sp_matmul_topn(
            matrix[block], live_t, top_n=k + 2, threshold=0.0, n_threads=rebuild._threads()
        )
        for position, row in enumerate(block.tolist()):
            begin, end = product.indptr[position], product.indptr[position + 1]
            targets = live_rows[product.indices[begin:end]]
            values = np.round(product.data[begin:end], 6)
            mine = targets != row
            targets, values = targets[mine], values[mine]
            order = np.lexsort((ids[targets], -values))
            if end - begin == k + 2 and len(order) > k and values[order[k - 1]] == values.min():
                again.append(row)  # equal scores at the cut: some left out may have lower ids
                continue
            lists[int(ids[row])] = ids[targets[order[:k]]].tolist()
    if again:
        lists.update(_exact_top_rows(matrix, ids, live_mask, k, np.array(again)))
    return lists


def _exact_top_rows(matrix, ids, live_mask, k: int, rows: np.ndarray) -> dict[int, list[int]]:
    """_exact_top for some rows only."""
    live_rows = np.flatnonzero(live_mask)
    live_t = matrix[live_rows].T.tocsr()
    lists = {}
    for row in rows.tolist():
        scores = np.round((matrix[[row]] @ live_t).toarray().ravel(), 6)
        scores[live_rows == row] = -np.inf
        candidates = np.flatnonzero(scores > 0)
        order = np.lexsort((ids[live_rows[candidates]], -scores[candidates]))[:k]
        lists[int(ids[row])] = ids[live_rows[candidates[order]]].tolist()
    return lists


def _normalised(matrix):
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sparse.csr_matrix(sparse.diags(1.0 / norms) @ matrix)


def _idf(matrix, live_mask):
    df = np.bincount(matrix[live_mask].indices, minlength=matrix.shape[1])
    return np.log((1 + live_mask.sum()) / (1 + df)) + 1, df


def ranked_by(method: str, k: int = 5) -> dict[int, list[int]]:
    """The corpus in the database ranked by one of METHODS (computed here, nothing stored)."""
    ids, live_mask, languages, difficulties, _vocabulary, base = rebuild._corpus_matrix()
    idf, df = _idf(base, live_mask)
    binary = base.copy()
    binary.data[:] = 1.0

    def bonus(block, live_rows):
        same_language = (languages[block][:, None] == languages[live_rows][None, :]) & (
            languages[block][:, None] != 0
        )
        same_difficulty = (difficulties[block][:, None] == difficulties[live_rows][None, :]) & (
            difficulties[block][:, None] != 0
        )
        return (
            similarity.SAME_LANGUAGE_BONUS * same_language
            + similarity.SAME_DIFFICULTY_BONUS * same_difficulty
        )

    if method == "idf_cosine":  # the plain baseline: every term weighs 1 x its IDF, no cap, no bonus
        return _top_by_products(_normalised(binary.multiply(idf).tocsr()), ids, live_mask, k)
    if method == "capped":  # the engine before: base weights x IDF, common terms left out, bonuses
        cap = max(20, min(0.05 * live_mask.sum(), 1500))
        return _exact_top(
            _normalised(base.multiply(np.where(df > cap, 0, idf)).tocsr()), ids, live_mask, k, bonus
        )
    if method == "weighted":  # base weights x IDF over every term, bonuses
        return _exact_top(_normalised(base.multiply(idf).tocsr()), ids, live_mask, k, bonus)
    if method == "weighted_nobonus":
        return _exact_top(_normalised(base.multiply(idf).tocsr()), ids, live_mask, k)
    if method == "idf2":  # squared IDF: rarer terms count for more still
        return _exact_top(_normalised(base.multiply(idf**2).tocsr()), ids, live_mask, k, bonus)
    if method.startswith("svd"):  # dense vectors: truncated SVD of the weighted matrix
        from scipy.sparse.linalg import svds

        dims = int(method[3:] or 128)
        weighted = _normalised(base.multiply(idf).tocsr())
        u, s, _vt = svds(weighted.astype(np.float64), k=min(dims, min(weighted.shape) - 1), random_state=0)
        dense = u * s
        norms = np.linalg.norm(dense, axis=1)
        norms[norms == 0] = 1.0
        return _exact_top(dense / norms[:, None], ids, live_mask, k, bonus)
    raise ValueError(f"unknown method {method!r}")


METHODS = ("idf_cosine", "capped", "weighted", "weighted_nobonus", "idf2", "svd128")
