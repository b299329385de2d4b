"""The one place every writer says "these articles changed", and whether readers can see it.

Writers (``releases.services``, ``releases.importing``, ``releases.backup``,
``articles.similarity``, ``articles.writing``'s callers) call ``articles_changed`` in the
transaction that makes the change. A change that is not live (a draft, a pending revision, a
review state, a comment, a schedule, an import kept for review) invalidates nothing anonymous
clients are served. A live one (a publish, a rollback, an archive, an import that changes a live
article or adds one, a restore, a tag or entity rename, new similar posts) makes these stale once
the transaction commits (``transaction.on_commit``):

- the articles' own answers (reader page, API detail, similar endpoint),
- those of the articles that show one of them among their similar posts (read when the bump
  runs, after the commit, so that an article that joined a list meanwhile is not missed),
- every list (home, browse pages, search, the API's list, the feed, the sitemap);

or, when more than ``WHOLE_SITE_PAST`` articles changed at once, every answer.

The bump only deletes cache keys (``articles.read_cache.invalidate``): no database row is locked
for it, so writers never queue behind one another for the cache's sake.
"""

from collections.abc import Iterable

from django.db import transaction

from articles import read_cache
from articles.models import Article, SimilarArticle


def articles_changed(ids: Iterable[int], *, live: bool) -> None:
    """These articles changed; ``live``: in what anonymous clients see (or saw: an archive, a
    restore over a live article). Without ``live`` nothing is invalidated. With it, even no ids
    (a renamed tag no live article carries) makes the lists stale."""
    if live:
        transaction.on_commit(Bump(ids), robust=True)


def everything_changed() -> None:
    """Every anonymous answer is stale once the transaction commits (a similar-posts rebuild)."""
    transaction.on_commit(Bump([], everything=True), robust=True)


class Bump:
    """The invalidation a committed change owes the read cache."""

    def __init__(self, ids: Iterable[int], *, everything: bool = False):
        self.ids = sorted({int(pk) for pk in ids})
        self.everything = everything

    @classmethod
    def joined(cls, bumps: Iterable["Bump"]) -> "Bump":
        """One bump that owes what all of these owe (commits that landed together)."""
        bumps = list(bumps)
        return cls([pk for bump in bumps for pk in bump.ids], everything=any(b.everything for b in bumps))

    def __call__(self) -> None:
        # Done whatever this process's READ_CACHE says: the web processes may cache all the same.
        if self.everything or len(self.ids) > WHOLE_SITE_PAST:
            read_cache.invalidate([read_cache.ALL])
            return
        names = [read_cache.LISTS]
        if self.ids:
            names += [read_cache.article_namespace(slug) for slug in _slugs_of_articles_showing(self.ids)]
        read_cache.invalidate(names)


# A bump of more articles than this makes every answer stale: past it the site's answers that stay
# cached are few (each article shows about five others, and each is shown by as many), and naming
# them means reading tens of thousands of rows after the commit (an import of a thousand live
# documents, the similar-posts refresh that follows it).
WHOLE_SITE_PAST = 1_000

# Ids per query, below every database's limit on parameters.
_CHUNK = 900


def _slugs_of_articles_showing(ids: list[int]) -> list[str]:
    """The slugs of these articles and of those that show one of them among their similar posts:
    two reads by index per chunk of ids (one query that joined them with ``OR`` read the whole
    table, for minutes once the ids ran into the thousands)."""
    affected = set(ids)
    for chunk in _chunks(ids):
        affected.update(
            SimilarArticle.objects.filter(neighbour_id__in=chunk).values_list("article_id", flat=True)
        )
    slugs: list[str] = []
    for chunk in _chunks(sorted(affected)):
        slugs += Article.objects.filter(pk__in=chunk).values_list("slug", flat=True)
    return slugs


def _chunks(ids: list[int]):
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]
