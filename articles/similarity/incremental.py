"""The incremental refresh: after some articles changed, score them against every other
article exactly, from the stored index, and update their lists and every list they leave, enter
or rank in; the lists are the ones a rebuild with the same weights gives. ``deferred`` collects
the refreshes of a bulk action into one. Refreshes go through a queue (SimilarPending), so a
request never waits out another's long refresh and an article whose refresh died is taken by the
next one.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from threading import local

import numpy as np
from django.db import connections, router, transaction
from django.db.models import Q

from articles.bulk import bulk_insert_rows, lock_for_rewrite, values_binary
from articles.changes import articles_changed
from articles.derived import LIST_ORDER
from articles.models import Article, SimilarArticle, SimilarPending, SimilarPosting, SimilarVector
from articles.similarity.lists import (
    DEPTH,
    LINK_FIELDS,
    MIN_NEIGHBOURS,
    NEIGHBOURS,
    _fallback_for,
    _rows,
)
from articles.similarity.rebuild import rebuild_lists
from articles.similarity.scoring import (
    UNIT,
    Weights,
    _bonus_points,
    _code,
    _order,
    current_weights,
    load_features,
    quantise,
)
from articles.similarity.stored_index import BUCKET, OPEN, _decode, _encode, _State, _update

REBUILD_SHARE = 0.2  # a refresh of more than this share of the articles ...
REBUILD_MIN = 1000  # ... and more than this many (a bulk import) rebuilds everything instead


# A refresh asked for by a request (an editor's publish, an API import) waits at most this long
# for another refresh's lock (seconds); past it, that refresh takes its articles with it once
# done, and the request answers at once instead of outliving the server's timeout.
REQUEST_WAIT = 0.5

_deferral = local()


@contextmanager
def deferred(*, wait: bool = True) -> Iterator[None]:
    """Collect the refreshes asked for inside the block and run one, for all their articles, at
    its end: a bulk action refreshes once however many articles it changed."""
    stack = getattr(_deferral, "stack", None)
    if stack is None:
        stack = _deferral.stack = []
    stack.append(set())
    try:
        yield
    finally:
        refresh(stack.pop(), wait=wait)


def refresh(article_ids: Iterable[int], *, wait: bool = True) -> None:
    """Bring similar posts up to date after these articles changed (imported, edited, published,
    rolled back, archived or deleted): their own lists, and every list they leave, enter or
    move in. Scored with the stored weights, exactly: the lists are the ones a rebuild with
    those weights gives (``rebuild_all(keep_weights=True)``).

    The articles are queued first (SimilarPending), then every queued article is refreshed under
    the lists' lock. ``wait=False`` (a request) waits at most REQUEST_WAIT for that lock; if
    another refresh holds it longer, that one takes these articles when it is done. Either way
    nothing is lost: a queued article stays queued until a refresh commits it.
    """
    touched = {int(pk) for pk in article_ids}
    if not touched:
        return
    stack = getattr(_deferral, "stack", None)
    if stack:
        stack[-1].update(touched)
        return
    # Committed before the lock is asked for: whoever holds it looks at the queue once done.
    SimilarPending.objects.bulk_create(
        [SimilarPending(article_id=pk) for pk in sorted(touched)], ignore_conflicts=True
    )
    _refresh_queued(wait)


def rebuild_all(
    progress: Callable[[int], None] | None = None, *, durable: bool = False, keep_weights: bool = False
) -> int:
    """Recompute every article's list (``rebuild.rebuild_lists``), then refresh the articles
    queued while it ran. Returns how many articles got a list."""
    count = rebuild_lists(progress, durable=durable, keep_weights=keep_weights)
    _refresh_queued(wait=True)
    return count


def _refresh_queued(wait: bool) -> None:
    """Refresh the queued articles until none is left. Each pass takes the lists' lock and the
    whole queue, in the transaction that commits their lists (durably, like the writes they
    follow), so what was queued while one pass held the lock is taken by the next. A pass that
    cannot have the lock in time leaves the queue to the refresh holding it, which comes back
    here once it is done."""
    while SimilarPending.objects.exists():
        with transaction.atomic():
            if not lock_for_rewrite(SimilarArticle, wait=None if wait else REQUEST_WAIT):
                return  # one refresh at a time: each reads what the last wrote
            queued = SimilarPending.objects.count()
            if not queued:
                continue  # taken by the refresh this one waited for
            weights = current_weights()
            if weights is not None and queued <= max(REBUILD_MIN, REBUILD_SHARE * weights.live_count):
                _Refresh(_dequeue(), weights).run()
            elif wait or queued <= REBUILD_MIN:
                rebuild_lists(durable=True)  # never built, or a bulk import: the cheaper way
            else:
                # A bulk import's articles, left by a run that died: no request rebuilds for
                # them; the next import or rebuild_similar does.
                return


def _dequeue() -> set[int]:
    """Take every queued article off the queue (the caller holds the lists' lock)."""
    connection = connections[router.db_for_write(SimilarPending)]
    table = connection.ops.quote_name(SimilarPending._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} RETURNING article_id")  # noqa: S608 (a quoted table name)
        return {article_id for (article_id,) in cursor.fetchall()}


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
        # Stored rows read on the way, (article, neighbour) -> (row id, score, top-up place), and
        # the articles whose whole list is among them: what the writes are worked out against.
        self.stored: dict[tuple[int, int], tuple[int, float, int]] = {}
        self.read_lists: set[int] = set()

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
        owners = (pointing | set(entering)) - self.touched
        for row_id, article_id, neighbour_id, score, top_up in (
            SimilarArticle.objects.filter(article_id__in=owners)
            .order_by(*LIST_ORDER)
            .values_list("pk", *LINK_FIELDS)
        ):
            current[article_id].append((round(score * UNIT), neighbour_id))
            self.stored[article_id, neighbour_id] = (row_id, score, top_up)
        self.read_lists |= owners
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
            for row_id, article_id, neighbour_id, score, top_up in (
                SimilarArticle.objects.filter(article_id__in=topped_up)
                .exclude(article_id__in=list(lists))
                .order_by(*LIST_ORDER)
                .values_list("pk", *LINK_FIELDS)
            ):
                self.stored[article_id, neighbour_id] = (row_id, score, top_up)
                self.read_lists.add(article_id)
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
        for row, term, bucket, data in values_binary(
            SimilarPosting.objects.filter(condition).values_list("pk", "term", "bucket", "data")
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
        ids, points, weights, lengths = [], [], [], []
        for (term, _bucket), (_row, term_ids, term_points, _changed) in self.postings.items():
            if term in vector and len(term_ids):
                ids.append(term_ids)
                points.append(term_points)
                weights.append(vector[term])
                lengths.append(len(term_ids))
        if not ids:
            return (np.zeros(0, np.int64), np.zeros(0, bool)), np.zeros(0)
        ids, points = np.concatenate(ids), np.concatenate(points).astype(np.int64)
        weights = np.repeat(np.array(weights, dtype=np.int64), lengths)
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
        # The rows these lists hold now (most were read on the way), and any other row that
        # points at a gone article.
        owners = set(lists) | gone
        unread = owners - self.read_lists
        if unread or gone:
            for row_id, article_id, neighbour_id, *values in (
                SimilarArticle.objects.filter(Q(article_id__in=unread) | Q(neighbour_id__in=gone))
                .order_by()
                .values_list("pk", *LINK_FIELDS)
            ):
                self.stored[article_id, neighbour_id] = (row_id, *values)
        stored = {key: value for key, value in self.stored.items() if key[0] in owners or key[1] in gone}
        wanted = {(article_id, neighbour_id): tuple(values) for article_id, neighbour_id, *values in rows}
        # Only the rows that differ are written: an article entering a list is one row in and
        # one out, one moving within it one new score, whatever the rows below it.
        dropped = {key: value[0] for key, value in stored.items() if key not in wanted}
        rescored = {
            key: values for key, values in wanted.items() if key in stored and stored[key][1:] != values
        }
        added = [row for row in rows if row[:2] not in stored]
        # A list whose rows changed changed what its article's page (and the API's full list)
        # shows: a list's order is that of its scores.
        changed = {key[0] for key in [*dropped, *rescored]} | {row[0] for row in added}
        if changed:  # only live articles' lists are shown
            changed = list(Article.objects.live().filter(pk__in=changed).values_list("pk", flat=True))
        if changed:  # their own pages changed, not what others show of them (titles, addresses)
            articles_changed(changed, live=True, shown_elsewhere=False)
        if dropped:
            SimilarArticle.objects.filter(pk__in=list(dropped.values())).delete()
        _update(
            SimilarArticle, LINK_FIELDS[2:], [(stored[key][0], *values) for key, values in rescored.items()]
        )
        bulk_insert_rows(SimilarArticle, LINK_FIELDS, added)
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
