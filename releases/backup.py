"""Backup and restore of the whole knowledge base as JSON lines (docs/backup.md).

``export_backup`` streams every article, in primary-key order and in chunks, as one JSON object
per line: its row (workflow state and bookkeeping), the row's content with tags, entities and
image sources in order, its revision pointers (``releases.models.Release``, by revision number),
every revision and its audit trail. The first line is a header that names the format, the last
a closing line that counts the articles, so a backup is recognised by its first line and a
cut-short one by its missing last line.

``restore_backup`` reads such a file back (format version 2, or version 1 from before the
pointers, which it derives as migration releases 0007 does), one transaction per article, into
an empty database or one that already holds some of the articles (a merge: nothing is
duplicated). Every revision's content passes the one content validator
(``articles.content.clean_content``). It adds no revision or audit event of its own, and
rebuilds similar posts at the end: an operator's run that brings the corpus back learns the
weights from it again, as ``rebuild_similar`` does. Its report has the importer's shape
(``releases.importing.ImportReport``).
"""

import contextlib
import datetime as dt
import json
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TextIO

from django.contrib.auth import get_user_model
from django.core.exceptions import ObjectDoesNotExist
from django.db import DatabaseError, connection, transaction
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.text import slugify

from articles import similarity
from articles.changes import articles_changed
from articles.content import article_field_values, clean_content, content_from_article
from articles.models import Article, ArticleEntity, ArticleState, ArticleTag, ImageSource
from articles.parsing import version_problem
from articles.writing import PartsWriter
from releases.importing import DocumentResult, ImportReport
from releases.models import AuditAction, AuditEvent, Release, ReviewState, Revision, RevisionKind
from releases.services import carry_uploads

logger = logging.getLogger(__name__)

FORMAT = "kb-backup"
VERSION = 2
# Version 1 predates the revision pointers: its rows carry pending_state and edited_at instead.
READS = (1, 2)
CHUNK_SIZE = 200
# The header is small; a first line longer than this is not one.
HEADER_MAX_BYTES = 4096

# Row fields a backup carries besides the content (which gives every other column).
ROW_FIELDS = (
    "slug", "state", "published_at", "source_digest", "source_version", "created_at", "updated_at",
)  # fmt: skip
_ROW_TIMES = ("published_at", "created_at", "updated_at")
_V1_ROW_TIMES = ("edited_at", *_ROW_TIMES)
_STATES = frozenset(ArticleState.values)
_RELEASED = (ArticleState.PUBLISHED, ArticleState.ARCHIVED)
# The Release pointers, each a revision number in a backup.
POINTERS = ("live_revision", "pending_revision", "conflict_revision")


def is_backup_header(line: bytes | str) -> bool:
    """True when ``line`` is the first line of a backup. A page-text export never starts so."""
    text = line.decode("utf-8", "replace") if isinstance(line, bytes) else line
    if not text.lstrip().startswith("{"):
        return False
    try:
        header = _json_loads(text)
    except ValueError:
        return False
    return isinstance(header, dict) and header.get("format") == FORMAT


def is_backup_file(path) -> bool:
    """True when the file at ``path`` starts with a backup header."""
    try:
        with open(path, "rb") as handle:
            return is_backup_header(handle.readline(HEADER_MAX_BYTES))
    except OSError:
        return False


# -- export ---------------------------------------------------------------------------------------


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
            Article.objects.filter(pk__gt=last)
            .order_by("pk")
            .select_related("release")
            .prefetch_related(
                Prefetch("article_tags", queryset=ArticleTag.objects.select_related("tag")),
                Prefetch("article_entities", queryset=ArticleEntity.objects.select_related("entity")),
                "image_sources",
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


# -- restore --------------------------------------------------------------------------------------


class _Invalid(Exception):
    """A backup line that cannot be restored: which field, and why."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass
class _Record:
    row: dict[str, Any]
    content: dict[str, Any]
    revisions: list[dict[str, Any]]
    audit: list[dict[str, Any]]
    release: dict[str, Any]  # the pointers as revision numbers of the backup, review_state, edited_at

    @property
    def reference(self) -> str:
        return self.content["reference"]

    def projection(self) -> dict[str, Any]:
        """The content the row shows: the live revision's, else the pending one's (an article
        never published), else (no revision at all) the backup's row content."""
        number = self.release["live_revision"] or self.release["pending_revision"]
        if number is None:
            return self.content
        return next(revision["content"] for revision in self.revisions if revision["number"] == number)

    def usernames(self) -> set[str]:
        names = {revision["author"] for revision in self.revisions} | {event["user"] for event in self.audit}
        return {name for name in names if name}

    def last_change(self) -> dt.datetime | None:
        times = [item["created_at"] for item in (*self.revisions, *self.audit)]
        return max(times, default=None)


def restore_backup(
    lines: Iterable[bytes],
    *,
    path: str,
    dry_run: bool = False,
    report: ImportReport | None = None,
    on_result: Callable[[DocumentResult], None] | None = None,
) -> ImportReport:
    """Restore the backup whose lines (bytes, as read from the file) are ``lines``.

    Each article line is restored in its own transaction and ends ``created``, ``updated`` or
    ``unchanged`` (``failed`` with the file, line and field when it cannot be restored, and then
    nothing of it is written). With ``dry_run`` every article is restored and rolled back, so the
    report is exact and the database stays as it was.
    """
    restorer = _Restorer(path=path, dry_run=dry_run, report=report or ImportReport(), on_result=on_result)
    restorer.run(lines)
    return restorer.report


class _Restorer:
    def __init__(self, *, path, dry_run, report, on_result):
        self.path = path
        self.dry_run = dry_run
        self.report = report
        self.on_result = on_result
        self.parts = PartsWriter()
        self.touched: set[int] = set()
        self.counts = {"created": 0, "updated": 0, "unchanged": 0, "failed": 0}
        self.version = VERSION

    def run(self, lines: Iterable[bytes]) -> None:
        ended = None
        restored = 0
        number = 0
        for number, raw in enumerate(lines, start=1):
            if number == 1:
                if not self._header(raw):
                    return
                continue
            if not raw.strip():
                continue
            if ended is not None:
                self._fail(number, "backup", f"comes after the closing line {ended}")
                continue
            try:
                data = _json_loads(raw.decode("utf-8"))
            except UnicodeDecodeError as exc:
                self._fail(number, "line", f"is not UTF-8 (byte {exc.start + 1})")
                continue
            except ValueError as exc:
                self._fail(number, "line", f"is not valid JSON: {exc}")
                continue
            if isinstance(data, dict) and "end" in data:
                ended = number
                if data.get("articles") != restored:
                    self._warn(
                        number,
                        "articles",
                        f"the closing line counts {data.get('articles')} articles; {restored} were read",
                    )
                continue
            restored += 1
            self._restore_line(number, data)
        if number == 0:
            self._fail(1, "format", "the backup is empty: it has no header line")
        elif ended is None:
            self._fail(number + 1, "backup", "ends without its closing line: it was cut short")
        if self.touched and not self.dry_run:
            similarity.rebuild_all(durable=True)
        logger.info(
            "backup %s from %s: %s",
            "checked" if self.dry_run else "restored",
            self.path,
            ", ".join(f"{count} {outcome}" for outcome, count in self.counts.items()),
        )

    def _header(self, raw: bytes) -> bool:
        try:
            header = _json_loads(raw.decode("utf-8"))
        except ValueError:
            header = None
        if not isinstance(header, dict) or header.get("format") != FORMAT:
            self._fail(1, "format", f"is not a {FORMAT} header")
            return False
        version = header.get("version")
        if isinstance(version, bool) or version not in READS:
            readable = " and ".join(map(str, READS))
            self._fail(1, "version", f"{version!r} is not supported; this release reads {readable}")
            return False
        self.version = version
        return True

    def _restore_line(self, number: int, data: Any) -> None:
        warnings: list[dict] = []
        content = data.get("content") if isinstance(data, dict) else None
        reference = content.get("reference") if isinstance(content, dict) else None
        try:
            record = _parse_record(data, self.version)
            with transaction.atomic():
                outcome, article = _restore_article(record, self.parts, lambda f, m: warnings.append((f, m)))
                if self.dry_run:
                    transaction.set_rollback(True)
        except _Invalid as invalid:
            self._fail(number, invalid.field, invalid.message, reference=reference)
            return
        except DatabaseError as exc:
            reason = (str(exc).splitlines() or [type(exc).__name__])[0][:200]
            self._fail(number, "article", f"the database refused it: {reason}", reference=reference)
            return
        if outcome in ("created", "updated_row") and not self.dry_run:
            self.touched.add(article.pk)
        outcome = "updated" if outcome == "updated_row" else outcome
        result = DocumentResult(
            self.path,
            outcome,
            record.reference,
            article.slug,
            warnings=[self._problem(number, field, message) for field, message in warnings],
        )
        result.article_id = article.pk
        self._add(result)

    def _problem(self, line: int, field: str, message: str) -> dict[str, Any]:
        return {"path": self.path, "line": line, "field": field, "message": message}

    def _fail(self, line: int, field: str, message: str, reference: str | None = None) -> None:
        if not isinstance(reference, str):
            reference = None
        self._add(
            DocumentResult(self.path, "failed", reference, errors=[self._problem(line, field, message)])
        )
        logger.warning("restore failed: %s:%s: %s: %s", self.path, line, field, message)

    def _warn(self, line: int, field: str, message: str) -> None:
        self.report.warnings.append(self._problem(line, field, message))

    def _add(self, result: DocumentResult) -> None:
        self.counts[result.outcome] += 1
        self.report.add(result)
        if self.on_result:
            self.on_result(result)


def _restore_article(record: _Record, parts: PartsWriter, warn) -> tuple[str, Article]:
    """Create or merge one article: (outcome, article), the outcome ``updated_row`` when the row
    took the backup's content and state, ``updated`` when only history was added.

    The merge rule (docs/backup.md): revisions and audit events already here are recognised and
    kept; the others are added. The row (content, parts, workflow state) and the revision
    pointers take the backup's only when the backup's last change (its newest revision or audit
    event) is newer than this database's; the row is then the projection of the live revision
    (of the pending one, for an article never published).
    """
    content, row = record.content, record.row
    article = Article.objects.select_for_update().filter(reference=record.reference).first()
    if article is not None and article.site != content["site"]:
        raise _Invalid(
            "content.site",
            f"reference {record.reference} belongs here to an article of site {article.site!r}, "
            f"not {content['site']!r}",
        )
    users = _users(record.usernames(), warn)
    projection = record.projection()
    outcome = "unchanged"
    was_state = article.state if article is not None else None
    if article is None:
        slug = _free_slug(row["slug"], record.reference)
        if slug != row["slug"]:
            warn("article.slug", f"{row['slug']} is taken by another article here: restored as {slug}")
        article = Article(**article_field_values(projection), **{**_bookkeeping(row), "slug": slug})
        article.save()
        parts.write([(article.id, carry_uploads(projection, record.content))])
        outcome = "created"
    else:
        backup_last = record.last_change()
        local_last = _last_change(article)
        if backup_last is not None and (local_last is None or backup_last > local_last):
            Article.objects.filter(pk=article.pk).update(
                **article_field_values(projection), **_bookkeeping(row)
            )
            ArticleTag.objects.filter(article=article).delete()
            ArticleEntity.objects.filter(article=article).delete()
            ImageSource.objects.filter(article=article).delete()
            parts.write([(article.id, carry_uploads(projection, record.content))])
            outcome = "updated_row"
    if outcome in ("created", "updated_row"):
        # Live before or after: its pages and the lists; else nothing readers saw.
        articles_changed([article.pk], live=ArticleState.PUBLISHED in (was_state, row["state"]))
    numbers, added = _merge_revisions(article, record.revisions, users, warn)
    added += _merge_audit(article, record.audit, users, numbers)
    if outcome in ("created", "updated_row"):
        _set_release(article, record.release, numbers)
    elif _ensure_release(article):
        added += 1
    if outcome == "created":
        # Last, so that nothing above stamps the row with the time of the restore.
        Article.objects.filter(pk=article.pk).update(
            created_at=row["created_at"], updated_at=row["updated_at"]
        )
    elif outcome == "unchanged" and added:
        outcome = "updated"
    return outcome, article


def _set_release(article: Article, release: dict[str, Any], numbers: dict[int, int]) -> None:
    """Point the article's Release at the backup's revisions (by their numbers here)."""
    ids = dict(Revision.objects.filter(article=article).values_list("number", "id"))
    pointers = {
        f"{name}_id": None if release[name] is None else ids[numbers[release[name]]] for name in POINTERS
    }
    Release.objects.update_or_create(
        article=article,
        defaults={**pointers, "review_state": release["review_state"], "edited_at": release["edited_at"]},
    )


def _ensure_release(article: Article) -> bool:
    """Give an article kept as it is here a Release if it has none (derived from its row state and
    revisions as migration releases 0007 does, without a pending state); True when one was made."""
    if Release.objects.filter(article=article).exists():
        return False
    revisions = list(Revision.objects.filter(article=article).values("id", "number", "state", "conflict"))
    ids = {revision["number"]: revision["id"] for revision in revisions}
    derived = derive_release(article.state, None, None, revisions)
    Release.objects.create(
        article=article,
        **{f"{name}_id": ids.get(derived[name]) for name in POINTERS},
        review_state=derived["review_state"],
        edited_at=derived["edited_at"],
    )
    return True


def derive_release(
    state: str, pending_state: str | None, edited_at: dt.datetime | None, revisions: Iterable[dict]
) -> dict[str, Any]:
    """An article's pointers (revision numbers) from the state its row kept before the pointers
    existed, as migration releases 0007 derives them: live is the latest revision made in state
    published (of a published or archived article); pending, the latest revision that is not a
    conflict when the article had a pending state or was never published; conflict, the latest
    revision when it is flagged so and is not the pending one.

    ``revisions``: dicts with ``number``, ``state`` and ``conflict``.
    """
    latest_first = sorted(revisions, key=lambda revision: revision["number"], reverse=True)
    released = state in _RELEASED
    live = next((r["number"] for r in latest_first if r["state"] == ArticleState.PUBLISHED), None)
    review_state = pending_state if released else state
    pending = None
    if review_state in ReviewState.values and latest_first:
        pending = next((r["number"] for r in latest_first if not r["conflict"]), latest_first[0]["number"])
    latest = latest_first[0] if latest_first else None
    conflict = latest["number"] if latest and latest["conflict"] and latest["number"] != pending else None
    return {
        "live_revision": live if released else None,
        "pending_revision": pending,
        "conflict_revision": conflict,
        "review_state": review_state if pending is not None else "",
        "edited_at": edited_at,
    }


def _bookkeeping(row: dict[str, Any]) -> dict[str, Any]:
    return {name: row[name] for name in ROW_FIELDS if name != "slug"}


def _last_change(article: Article) -> dt.datetime | None:
    """When this database last changed the article: its newest revision or audit event."""
    times = [
        model.objects.filter(article=article)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
        for model in (Revision, AuditEvent)
    ]
    return max((time for time in times if time is not None), default=None)


def _free_slug(slug: str, reference: str) -> str:
    """The backup's slug when no other article has it, else one suffixed with the reference."""
    if not Article.objects.filter(slug=slug).exists():
        return slug
    base = f"{slug[:150]}-{slugify(reference)[:49]}".strip("-")
    candidate, counter = base, 2
    while Article.objects.filter(slug=candidate).exists():
        candidate = f"{base[:192]}-{counter}"
        counter += 1
    return candidate


def _users(names: set[str], warn) -> dict[str, Any]:
    """Users by username; a missing one is created inactive and without a usable password."""
    if not names:
        return {}
    user_model = get_user_model()
    field = user_model.USERNAME_FIELD
    users = {user.get_username(): user for user in user_model.objects.filter(**{f"{field}__in": names})}
    for name in sorted(names - users.keys()):
        user = user_model(**{field: name, "is_active": False})
        user.set_unusable_password()
        user.save()
        users[name] = user
        warn("user", f"{name} did not exist here: created inactive, without a password")
    return users


def _revision_key(revision) -> tuple:
    if isinstance(revision, dict):
        return (revision["created_at"], revision["kind"], revision["state"], revision["version"])
    return (revision.created_at, revision.kind, revision.state, revision.version)


def _merge_revisions(article, revisions, users, warn) -> tuple[dict[int, int], int]:
    """Add the backup's revisions this article lacks. Returns (backup number -> number here, added).

    A revision is the same one when it was made at the same moment, of the same kind, state and
    version. A new one keeps its number when that number is free here, and otherwise comes after
    the last revision here (the histories diverged), with a warning.
    """
    local = {
        _revision_key(revision): revision.number for revision in Revision.objects.filter(article=article)
    }
    taken = set(local.values())
    top = max(taken, default=0)
    numbers: dict[int, int] = {}
    new = []
    for revision in revisions:
        known = local.get(_revision_key(revision))
        if known is not None:
            numbers[revision["number"]] = known
            continue
        number = revision["number"]
        if number in taken:
            number = top + 1
            warn(
                f"revisions[{revision['number']}]",
                f"revision {revision['number']} differs from revision {revision['number']} here: "
                f"added as revision {number}",
            )
        taken.add(number)
        top = max(top, number)
        numbers[revision["number"]] = number
        new.append(revision)
    objs = [
        Revision(
            article=article,
            number=numbers[revision["number"]],
            kind=revision["kind"],
            state=revision["state"],
            version=revision["version"],
            content=revision["content"],
            base_number=numbers.get(revision["base_number"], revision["base_number"]),
            merged_number=numbers.get(revision["merged_number"], revision["merged_number"]),
            conflict=revision["conflict"],
            author=users.get(revision["author"]),
            author_name=revision["author_name"],
            note=revision["note"],
        )
        for revision in new
    ]
    _insert_with_times(Revision, objs, [revision["created_at"] for revision in new])
    return numbers, len(objs)


def _merge_audit(article, events, users, numbers: dict[int, int]) -> int:
    """Add the backup's audit events this article lacks (same action, time and user); return how many."""
    username = f"user__{get_user_model().USERNAME_FIELD}"
    local = set(AuditEvent.objects.filter(article=article).values_list("action", "created_at", username))
    new = [event for event in events if (event["action"], event["created_at"], event["user"]) not in local]
    if not new:
        return 0
    revision_ids = dict(Revision.objects.filter(article=article).values_list("number", "id"))
    objs = [
        AuditEvent(
            article=article,
            revision_id=revision_ids.get(numbers.get(event["revision"])) if event["revision"] else None,
            action=event["action"],
            from_state=event["from_state"],
            to_state=event["to_state"],
            user=users.get(event["user"]),
            user_name=event["user_name"],
            note=event["note"],
        )
        for event in new
    ]
    _insert_with_times(AuditEvent, objs, [event["created_at"] for event in new])
    return len(objs)


def _insert_with_times(model, objs, times) -> None:
    """Insert rows, then give them their original creation times (inserting stamps 'now')."""
    if not objs:
        return
    model.objects.bulk_create(objs)
    for obj, created_at in zip(objs, times, strict=True):
        obj.created_at = created_at
    model.objects.bulk_update(objs, ["created_at"])


# -- reading and checking a backup line ---------------------------------------------------------------


def _parse_record(data: Any, version: int = VERSION) -> _Record:
    """Check one article line of a backup of format ``version`` and convert its times; raises
    _Invalid naming the field."""
    if not isinstance(data, dict):
        raise _Invalid("line", "is not a JSON object")
    row = _expect(data, "article", dict, "article")
    content = _expect(data, "content", dict, "content")
    revisions = _expect(data, "revisions", list, "revisions")
    audit = _expect(data, "audit", list, "audit")
    parsed_row = _parse_row(row, version)
    parsed_content = _parse_content(content)
    parsed_revisions = _parse_revisions(revisions, parsed_content)
    numbers = {revision["number"] for revision in parsed_revisions}
    if version == 1:
        release = derive_release(
            parsed_row["state"], parsed_row["pending_state"], parsed_row["edited_at"], parsed_revisions
        )
    else:
        release = _parse_release(_expect(data, "release", dict, "release"), numbers)
    record = _Record(parsed_row, parsed_content, parsed_revisions, _parse_audit(audit), release)
    for index, event in enumerate(record.audit):
        if event["revision"] is not None and event["revision"] not in numbers:
            raise _Invalid(
                f"audit[{index}].revision", f"names revision {event['revision']}, which the line lacks"
            )
    return record


def _parse_row(row: dict, version: int) -> dict[str, Any]:
    slug = _expect(row, "slug", str, "article.slug")
    if not slug or len(slug) > Article._meta.get_field("slug").max_length:
        raise _Invalid("article.slug", "must be 1 to 255 characters")
    parsed = {"slug": slug}
    parsed["state"] = _state(row.get("state"), "article.state")
    if version == 1:
        pending = row.get("pending_state")
        parsed["pending_state"] = None if pending is None else _state(pending, "article.pending_state")
    for name in ("source_digest", "source_version"):
        value = _expect(row, name, str, f"article.{name}")
        if len(value) > Article._meta.get_field(name).max_length:
            raise _Invalid(f"article.{name}", "is too long")
        parsed[name] = value
    for name in _V1_ROW_TIMES if version == 1 else _ROW_TIMES:
        optional = name in ("edited_at", "published_at")
        parsed[name] = _time(row.get(name), f"article.{name}", optional=optional)
    return parsed


def _parse_content(content: dict) -> dict[str, Any]:
    for name in ("reference", "site", "title"):
        if not isinstance(content.get(name), str) or not content[name]:
            raise _Invalid(f"content.{name}", "is missing or empty")
    for name in ("stack", "tools", "checklist", "notes"):
        value = content.get(name) or []
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise _Invalid(f"content.{name}", "must be a list of strings")
    for name, keys in (("entities", ("name", "type")), ("image_sources", ("url",))):
        value = content.get(name) or []
        if not isinstance(value, list):
            raise _Invalid(f"content.{name}", "must be a list of objects")
        for index, item in enumerate(value, start=1):
            if not isinstance(item, dict) or not all(isinstance(item.get(key), str) for key in keys):
                raise _Invalid(f"content.{name}[{index}]", f"must be an object with {' and '.join(keys)}")
    for name in ("scores", "flags", "revision", "outline", "payload"):
        if content.get(name) is not None and not isinstance(content[name], dict):
            raise _Invalid(f"content.{name}", "must be an object or null")
    return _clean(content, "content")


def _clean(content: dict, where: str) -> dict[str, Any]:
    """The content normalised by the one content validator, or _Invalid naming its first problem."""
    try:
        cleaned, problems = clean_content(content)
    except (TypeError, KeyError, ValueError, AttributeError) as exc:
        raise _Invalid(where, f"cannot be stored: {exc}") from None
    if problems:
        problem = problems[0]
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        raise _Invalid(f"{where}.{problem.field}", problem.message + more)
    return cleaned


def _parse_revisions(revisions: list, content: dict[str, Any]) -> list[dict[str, Any]]:
    """The revisions by number, each content checked like the row's and of the same article."""
    parsed, seen = [], set()
    for index, revision in enumerate(revisions):
        where = f"revisions[{index}]"
        if not isinstance(revision, dict):
            raise _Invalid(where, "is not an object")
        number = revision.get("number")
        if not _is_number(number):
            raise _Invalid(f"{where}.number", "must be a whole number from 1")
        if number in seen:
            raise _Invalid(f"{where}.number", f"revision {number} appears twice")
        seen.add(number)
        parents = {}
        for name in ("base_number", "merged_number"):
            parents[name] = revision.get(name)
            if parents[name] is not None and not _is_number(parents[name]):
                raise _Invalid(f"{where}.{name}", "must be a whole number from 1 or null")
        if revision.get("kind") not in RevisionKind.values:
            raise _Invalid(f"{where}.kind", f"must be one of {', '.join(RevisionKind.values)}")
        version = _expect(revision, "version", str, f"{where}.version")
        if len(version) > Revision._meta.get_field("version").max_length:
            raise _Invalid(f"{where}.version", "is too long")
        if version and version_problem(version):
            raise _Invalid(f"{where}.version", version_problem(version))
        if not isinstance(revision.get("conflict"), bool):
            raise _Invalid(f"{where}.conflict", "must be true or false")
        author = _username(revision.get("author"), f"{where}.author")
        snapshot = _expect(revision, "content", dict, f"{where}.content")
        for name in ("reference", "site"):
            if snapshot.get(name) != content[name]:
                raise _Invalid(
                    f"{where}.content.{name}",
                    f"{snapshot.get(name)!r} is not the article's {content[name]!r}",
                )
        parsed.append(
            {
                "number": number,
                "kind": revision["kind"],
                "state": _state(revision.get("state"), f"{where}.state"),
                "version": version,
                **parents,
                "conflict": revision["conflict"],
                "author": author,
                "author_name": _name_kept(revision.get("author_name"), author, f"{where}.author_name"),
                "created_at": _time(revision.get("created_at"), f"{where}.created_at"),
                "note": _expect(revision, "note", str, f"{where}.note"),
                "content": _clean(snapshot, f"{where}.content"),
            }
        )
    return sorted(parsed, key=lambda revision: revision["number"])


def _parse_release(release: dict, numbers: set[int]) -> dict[str, Any]:
    parsed: dict[str, Any] = {}
    for name in POINTERS:
        value = release.get(name)
        if value is not None and not _is_number(value):
            raise _Invalid(f"release.{name}", "must be a revision number or null")
        if value is not None and value not in numbers:
            raise _Invalid(f"release.{name}", f"names revision {value}, which the line lacks")
        parsed[name] = value
    review_state = release.get("review_state")
    if review_state != "" and review_state not in ReviewState.values:
        raise _Invalid("release.review_state", f"{review_state!r} is not a review state (or empty)")
    if (parsed["pending_revision"] is None) != (review_state == ""):
        raise _Invalid(
            "release.review_state",
            "must be empty when no revision is pending, and a review state when one is",
        )
    parsed["review_state"] = review_state
    parsed["edited_at"] = _time(release.get("edited_at"), "release.edited_at", optional=True)
    return parsed


def _parse_audit(events: list) -> list[dict[str, Any]]:
    parsed = []
    for index, event in enumerate(events):
        where = f"audit[{index}]"
        if not isinstance(event, dict):
            raise _Invalid(where, "is not an object")
        if event.get("action") not in AuditAction.values:
            raise _Invalid(f"{where}.action", f"must be one of {', '.join(AuditAction.values)}")
        revision = event.get("revision")
        if revision is not None and (not isinstance(revision, int) or isinstance(revision, bool)):
            raise _Invalid(f"{where}.revision", "must be a revision number or null")
        states = {}
        for name in ("from_state", "to_state"):
            value = _expect(event, name, str, f"{where}.{name}")
            if value and value not in _STATES:
                raise _Invalid(f"{where}.{name}", f"{value!r} is not a workflow state")
            states[name] = value
        user = _username(event.get("user"), f"{where}.user")
        parsed.append(
            {
                "action": event["action"],
                **states,
                "user": user,
                "user_name": _name_kept(event.get("user_name"), user, f"{where}.user_name"),
                "created_at": _time(event.get("created_at"), f"{where}.created_at"),
                "note": _expect(event, "note", str, f"{where}.note"),
                "revision": revision,
            }
        )
    return parsed


def _is_number(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _name_kept(value: Any, username: str | None, field: str) -> str:
    """The name a revision or audit event keeps as text: the backup's, else (a version 1 backup)
    the user name, else '' (the importer)."""
    if value is None:
        return username or ""
    if not isinstance(value, str) or len(value) > 150:
        raise _Invalid(field, "must be a name of at most 150 characters")
    return value


def _expect(data: dict, key: str, kind: type, field: str):
    value = data.get(key)
    if not isinstance(value, kind):
        raise _Invalid(field, f"is missing or not {_KIND_NAMES[kind]}")
    return value


_KIND_NAMES = {dict: "an object", list: "a list", str: "a string"}


def _state(value: Any, field: str) -> str:
    if value not in _STATES:
        raise _Invalid(field, f"{value!r} is not a workflow state")
    return value


def _username(value: Any, field: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value or len(value) > 150:
        raise _Invalid(field, "must be a user name (1 to 150 characters) or null")
    return value


def _time(value: Any, field: str, *, optional: bool = False) -> dt.datetime | None:
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise _Invalid(field, "is missing or not an ISO 8601 time")
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise _Invalid(field, f"{value!r} is not an ISO 8601 time") from None
    if parsed.tzinfo is None:
        raise _Invalid(field, f"{value!r} has no time zone")
    return parsed


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _json_dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def _json_loads(text: str) -> Any:
    return json.loads(text)
