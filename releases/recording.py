"""The import's bulk writer of revisions, pointers and audit events.

``releases.services.decide_import`` decides what each document means; the importer writes the
article rows and parts, then hands this module one ``ImportedRevision`` per document so that a
batch of 250 costs a few statements: the revisions and audit events go in through COPY, new
articles' pointers too, and only existing articles' pointers are updated row by row.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Max
from django.utils import timezone

from articles.bulk import JSONText, bulk_insert_rows, insert_rows
from articles.content import content_version
from articles.models import ArticleState
from releases.models import AuditAction, AuditEvent, Release, ReviewState, Revision, RevisionKind


@dataclass
class ImportedRevision:
    """One imported document's revision and how it moves its article's pointers."""

    article_id: int
    content: dict[str, Any]
    snapshot: JSONText | None = None  # the content's JSON text, when the parse worker made it
    live: bool = False  # it goes live (else it is pending work, or a conflict)
    new: bool = False  # the article was created by this import
    conflict: bool = False  # kept beside editors' pending work for a reviewer
    superseded: bool = False  # going live, it replaces pending import-only work
    note: str = ""


def record_imports(entries: Sequence[ImportedRevision], *, author=None) -> None:
    """Add each entry's revision (numbered after its article's last), move the pointers and add
    one audit event each. Runs inside the importer's transaction."""
    if not entries:
        return
    existing = {entry.article_id for entry in entries if not entry.new}
    last = (
        dict(
            Revision.objects.filter(article_id__in=existing)
            .values("article_id")
            .annotate(last=Max("number"))
            .values_list("article_id", "last")
        )
        if existing
        else {}
    )
    now = timezone.now()
    author_id = author.pk if author is not None else None
    author_name = author.get_username() if author is not None else ""
    rows = []
    for entry in entries:
        number = last.get(entry.article_id, 0) + 1
        last[entry.article_id] = number
        rows.append(
            {
                "article_id": entry.article_id,
                "number": number,
                "kind": RevisionKind.IMPORT,
                "state": ArticleState.PUBLISHED if entry.live else ArticleState.DRAFT,
                "version": content_version(entry.content) or "",
                "content": entry.snapshot if entry.snapshot is not None else entry.content,
                "conflict": entry.conflict,
                "author_id": author_id,
                "author_name": author_name,
                "note": entry.note,
                "created_at": now,
            }
        )
    ids = insert_rows(Revision, rows)
    _move_pointers(entries, ids)
    insert_rows(
        AuditEvent,
        [
            {
                "article_id": row["article_id"],
                "revision_id": pk,
                "action": AuditAction.IMPORT,
                "user_id": author_id,
                "user_name": author_name,
                "from_state": "",
                "to_state": row["state"],
                "note": row["note"] or ("superseded the pending import" if entry.superseded else ""),
                "created_at": now,
            }
            for entry, row, pk in zip(entries, rows, ids, strict=True)
        ],
    )


def _move_pointers(entries: Sequence[ImportedRevision], ids: Sequence[int]) -> None:
    new_rows = []
    for entry, pk in zip(entries, ids, strict=True):
        if entry.new:
            live, pending = (pk, None) if entry.live else (None, pk)
            new_rows.append(
                (entry.article_id, live, pending, "" if entry.live else ReviewState.DRAFT, None, None)
            )
        elif entry.conflict:
            Release.objects.filter(pk=entry.article_id).update(conflict_revision_id=pk)
        elif entry.live:
            changes: dict[str, Any] = {"live_revision_id": pk}
            if entry.superseded:
                changes.update(pending_revision_id=None, review_state="", edited_at=None)
            Release.objects.filter(pk=entry.article_id).update(**changes)
        else:
            Release.objects.filter(pk=entry.article_id).update(
                pending_revision_id=pk, review_state=ReviewState.DRAFT
            )
    bulk_insert_rows(
        Release,
        (
            "article_id",
            "live_revision_id",
            "pending_revision_id",
            "review_state",
            "conflict_revision_id",
            "edited_at",
        ),
        new_rows,
    )
