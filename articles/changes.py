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
  unless the change is one those pages do not show (an article's own similar posts:
  ``shown_elsewhere=False``),
- every list (home, browse pages, search, the API's list, the feed, the sitemap);

or, when more than ``WHOLE_SITE_PAST`` articles changed at once, every answer.

The bump only deletes cache keys (``articles.read_cache.invalidate``): no database row is locked
for it, so writers never queue behind one another for the cache's sake.
"""

from collections.abc import Iterable

from django.db import transaction

from articles import read_cache
from articles.models import Article, SimilarArticle


def articles_changed(ids: Iterable[int], *, live: bool, shown_elsewhere: bool = True) -> None:
    """These articles changed; ``live``: in what anonymous clients see (or saw: an archive, a
    restore over a live article). Without ``live`` nothing is invalidated. With it, even no ids
    (a renamed tag no live article carries) makes the lists stale.

    ``shown_elsewhere=False``: what changed is on the articles' own answers only, never on the
    pages that show them among their similar posts (new similar posts of their own, which
    leave their titles and addresses as they were)."""
    if live:
        bump = Bump(ids) if shown_elsewhere else Bump([], own=ids)
        transaction.on_commit(bump, robust=True)


def everything_changed() -> None:
    """Every anonymous answer is stale once the transaction commits (a similar-posts rebuild)."""
    transaction.on_commit(Bump([], everything=True), robust=True)


class Bump:
    """The invalidation a committed change owes the read cache: ``ids``, articles whose change
    the pages showing them show too; ``own``, articles whose change is on their own answers."""

    def __init__(self, ids: Iterable[int], *, own: Iterable[int] = (), everything: bool = False):
        self.ids = sorted({int(pk) for pk in ids})
        self.own = sorted({int(pk) for pk in own} - set(self.ids))
        self.everything = everything
        # Django names a robust on-commit callback that failed by its __qualname__: without one
        # the error logged about an unreachable cache became an AttributeError for the writer.
        self.__qualname__ = type(self).__qualname__

    @classmethod
    def joined(cls, bumps: Iterable["Bump"]) -> "Bump":
        """One bump that owes what all of these owe (commits that landed together)."""
        bumps = list(bumps)
        return cls(
            [pk for bump in bumps for pk in bump.ids],
            own=[pk for bump in bumps for pk in bump.own],
            everything=any(b.everything for b in bumps),
        )

    def __call__(self) -> None:
        # Done whatever this process's READ_CACHE says: the web processes may cache all the same.
        if self.everything or len(self.ids) + len(self.own) > WHOLE_SITE_PAST:
            read_cache.invalidate([read_cache.ALL])
            return
        names = [read_cache.LISTS]
        affected = _showing(self.ids) | set(self.own)
        names += [read_cache.article_namespace(slug) for slug in _slugs(sorted(affected))]
        read_cache.invalidate(names)


# A bump of more articles than this makes every answer stale: past it the site's answers that stay
# cached are few (each article shows about five others, and each is shown by as many), and naming
# them means reading tens of thousands of rows after the commit (an import of a thousand live
# documents, the similar-posts refresh that follows it).
WHOLE_SITE_PAST = 1_000

# Ids per query, below every database's limit on parameters.
_CHUNK = 900


def _showing(ids: list[int]) -> set[int]:
    """These articles and those that show one of them among their similar posts: a read by index
    per chunk of ids (one query that joined the slugs in with ``OR`` read the whole table, for
    minutes once the ids ran into the thousands)."""
    affected = set(ids)
    for chunk in _chunks(ids):
        affected.update(
            SimilarArticle.objects.filter(neighbour_id__in=chunk).values_list("article_id", flat=True)
        )
    return affected


def _slugs(ids: list[int]) -> list[str]:
    slugs: list[str] = []
    for chunk in _chunks(ids):
        slugs += Article.objects.filter(pk__in=chunk).values_list("slug", flat=True)
    return slugs


def _chunks(ids: list[int]):
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]
