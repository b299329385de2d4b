"""The index a refresh works from, as a rebuild leaves it and refreshes patch it: per term and
slice of ids, the articles carrying the term (SimilarPosting, weights signed by liveness); per
slice of ids, every list's floor and every article's code language and difficulty
(SimilarState); and each article's terms (SimilarVector).
"""

import numpy as np
from django.db import connections, router

from articles.bulk import binary_cursor, bulk_insert_rows, values_binary
from articles.models import SimilarPosting, SimilarState, SimilarVector

BUCKET = 4096  # postings are stored per slice of this many article ids (a change rewrites one)
SLICE = 512  # floors and attributes likewise: a refresh rewrites the slices of the lists it changed
OPEN = -1.0  # the floor of a list that holds every live article scoring above zero


def _encode(ids: np.ndarray, points: np.ndarray) -> bytes:
    return ids.astype(np.int32).tobytes() + points.astype(np.int16).tobytes()


def _decode(data) -> tuple[np.ndarray, np.ndarray]:
    """(ids, points) as stored: read-only int32 and int16 views of the bytes, which NumPy widens
    where they meet wider arrays."""
    data = bytes(data)
    size = len(data) // 6
    return (
        np.frombuffer(data, dtype=np.int32, count=size),
        np.frombuffer(data, dtype=np.int16, offset=4 * size),
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
        rows = values_binary(SimilarState.objects.values_list("bucket", "floors", "attributes"))
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
    with binary_cursor(connection) as cursor:  # the rows are mostly bytea
        cursor.executemany(sql, params)
