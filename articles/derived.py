"""The derived tables of similar posts: each article's list, and what keeps lists fresh
without a rebuild (the IDF table, the inverted index, each list's floor, each article's terms,
and the articles waiting for a refresh). Written only by articles/similarity; rebuilt whole
from the articles by ``rebuild_similar``.
"""

from django.db import models
from django.db.models import Q

# How a list is read, best first: by score, equal scores to the lower id (as they are computed);
# the top-ups of a short list (score 0) in the order the fallback gave them.
LIST_ORDER = ("article_id", "-score", "top_up", "neighbour_id")


class SimilarArticle(models.Model):
    """One of an article's most similar live articles, with its score. A list is read best first:
    ``LIST_ORDER``.

    A derived table, recomputed from the articles (``rebuild_similar``) and written a million
    rows at a time, so its keys carry no database-level foreign key: a check per row would
    cost a rebuild more than the rows themselves. Deleting an article still removes its rows
    through the ORM's cascade, and readers join to live articles (``neighbours_for``).

    A list's order is not stored (no rank column): a refresh that moves an article within a
    list, or lets one in and another out, writes those rows only, not every row below them.
    """

    # Served by the unique (article, neighbour) index; a list holds at most DEPTH rows.
    article = models.ForeignKey(
        "Article", on_delete=models.CASCADE, related_name="similar_links", db_index=False, db_constraint=False
    )
    neighbour = models.ForeignKey("Article", on_delete=models.CASCADE, related_name="+", db_constraint=False)
    score = models.FloatField()
    # 0 for a scored neighbour; for the newest articles a short list is topped up with, their
    # place in the fallback (1 first: the same code language before any other).
    top_up = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = list(LIST_ORDER)
        constraints = [
            models.UniqueConstraint(fields=["article", "neighbour"], name="similar_unique_neighbour"),
            models.CheckConstraint(condition=~Q(article=models.F("neighbour")), name="similar_not_itself"),
        ]
        # The top-ups of short lists (score 0), which change whenever a new article goes live.
        indexes = [models.Index(fields=["article"], condition=Q(score=0), name="similar_topped_up")]

    def __str__(self):
        return f"{self.article_id}: {self.neighbour_id} ({self.score:.3f})"


class SimilarityIndex(models.Model):
    """What the last full rebuild of similar posts learned: the IDF of every term it kept.

    Incremental refreshes score with these weights until the next rebuild.
    """

    idf = models.JSONField(default=dict)
    live_count = models.PositiveIntegerField(default=0)
    built_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "similarity index"

    def __str__(self):
        return f"similarity index of {self.live_count} live articles"

    @classmethod
    def current(cls):
        return cls.objects.order_by("-pk").first()

    @classmethod
    def store(cls, *, idf: dict, live_count: int) -> None:
        cls.objects.all().delete()
        cls.objects.create(idf=idf, live_count=live_count)


class SimilarPosting(models.Model):
    """The articles that carry one term, with their weights: one slice of ids (a bucket) per row.

    ``data`` is the bucket's article ids (int32), then their quantised weights (int16, negative
    for articles that are not live). Written by a rebuild, patched by refreshes;
    articles/similarity/stored_index.py.
    """

    term = models.TextField()
    bucket = models.IntegerField()
    data = models.BinaryField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["term", "bucket"], name="similarposting_unique")]

    def __str__(self):
        return f"{self.term!r} in bucket {self.bucket}"


class SimilarState(models.Model):
    """Per bucket of article ids: each list's floor (the score an article must beat to enter it)
    and each article's code language and difficulty (hashed), as arrays;
    articles/similarity/stored_index.py."""

    bucket = models.IntegerField(primary_key=True)
    floors = models.BinaryField()
    attributes = models.BinaryField()

    def __str__(self):
        return f"similar-posts state of bucket {self.bucket}"


class SimilarVector(models.Model):
    """The terms an article was last indexed with, so a refresh knows which postings to patch."""

    article_id = models.BigIntegerField(primary_key=True)
    terms = models.TextField()

    def __str__(self):
        return f"terms of article {self.article_id}"


class SimilarPending(models.Model):
    """An article whose change similar posts have not taken in yet.

    A refresh queues its articles here before it asks for the lists' lock, and whoever holds
    the lock takes every queued article with it: so a request that cannot wait for a long
    refresh (an import's) leaves its articles to that refresh instead of blocking, and a
    refresh that died before committing leaves them for the next one.
    articles/similarity/incremental.py.
    """

    article_id = models.BigIntegerField(primary_key=True)

    class Meta:
        verbose_name_plural = "similar posts pending"

    def __str__(self):
        return f"article {self.article_id} waits for similar posts"
