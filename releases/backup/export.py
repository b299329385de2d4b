"""Writing a backup: every article in primary-key order, in chunks, each chunk in a fixed
number of queries and all of them from one snapshot, one JSON line per article between the
header and the closing line."""

import contextlib
import logging
from collections.abc import Iterator
from typing import Any, TextIO

from django.core.exceptions import ObjectDoesNotExist
from django.db import connection, transaction
from django.db.models import Prefetch
from django.utils import timezone

from articles.content import content_from_article, content_prefetch
from articles.models import Article
from releases.backup.file_format import _ROW_TIMES, FORMAT, POINTERS, ROW_FIELDS, VERSION, _iso, _json_dumps
from releases.models import AuditEvent, Release, Revision

logger = logging.getLogger(__package__)  # releases.backup, one logger for export and restore

CHUNK_SIZE = 200


def export_backup(out: TextIO, *, chunk_size: int = CHUNK_SIZE) -> int:
    """Write the backup to ``out`` line by line; return how many articles it holds.

    Articles are read in chunks of ``chunk_size`` (keyset pagination on the primary key), each
    chunk in a fixed number of queries, so memory holds one chunk at a time whatever the size of
    the database. On PostgreSQL every chunk is read from one snapshot.
    """
    if chunk_size < 1:
        raise ValueError("chunk_size must be at least 1")
    count = 0
    with _snapshot():
        header = {"format": FORMAT, "version": VERSION, "exported_at": _iso(timezone.now())}
        out.write(_json_dumps(header) + "\n")
        for article in iter_articles(chunk_size):
            out.write(_json_dumps(article_record(article)) + "\n")
            count += 1
        out.write(_json_dumps({"end": FORMAT, "articles": count}) + "\n")
    logger.info("backup exported: %s articles", count)
    return count


@contextlib.contextmanager
def _snapshot():
    """A read-only REPEATABLE READ transaction on PostgreSQL, so that the chunks agree.

    Inside a transaction already (a caller's, or a test's) the export reads within it.
    """
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


def iter_articles(chunk_size: int = CHUNK_SIZE) -> Iterator[Article]:
    """Every article in primary-key order with what ``article_record`` reads, chunk by chunk."""
    last = 0
    while True:
        chunk = list(
            content_prefetch(Article.objects.filter(pk__gt=last))
            .order_by("pk")
            .select_related("release")
            .prefetch_related(
                Prefetch("revisions", queryset=Revision.objects.select_related("author").order_by("number")),
                Prefetch(
                    "audit_events",
                    queryset=AuditEvent.objects.select_related("user").order_by("created_at", "id"),
                ),
            )[:chunk_size]
        )
        if not chunk:
            return
        yield from chunk
        last = chunk[-1].pk


def article_record(article: Article) -> dict[str, Any]:
    """One backup line: the article's row, its content, pointers, revisions and audit trail."""
    revisions = list(article.revisions.all())
    numbers = {revision.id: revision.number for revision in revisions}
    row = {name: getattr(article, name) for name in ROW_FIELDS}
    for name in _ROW_TIMES:
        row[name] = _iso(row[name])
    try:
        release = article.release
    except ObjectDoesNotExist:  # every article has one; an export does not fail for lack of it
        release = Release(article=article)
    return {
        "article": row,
        "content": content_from_article(article),
        "release": {
            **{name: numbers.get(getattr(release, f"{name}_id")) for name in POINTERS},
            "review_state": release.review_state,
            "edited_at": _iso(release.edited_at),
        },
        "revisions": [
            {
                "number": revision.number,
                "kind": revision.kind,
                "state": revision.state,
                "version": revision.version,
                "base_number": revision.base_number,
                "merged_number": revision.merged_number,
                "conflict": revision.conflict,
                "author": _name(revision.author),
                "author_name": revision.author_name or _name(revision.author) or "",
                "created_at": _iso(revision.created_at),
                "note": revision.note,
                "content": revision.content,
            }
            for revision in revisions
        ],
        "audit": [
            {
                "action": event.action,
                "from_state": event.from_state,
                "to_state": event.to_state,
                "user": _name(event.user),
                "user_name": event.user_name or _name(event.user) or "",
                "created_at": _iso(event.created_at),
                "note": event.note,
                "revision": numbers.get(event.revision_id),
            }
            for event in article.audit_events.all()
        ],
    }


def _name(user) -> str | None:
    return user.get_username() if user is not None else None
