"""The import service: page-text documents in, articles and revisions out.

Documents are read as a stream and written in batches, so memory stays flat and the database
sees a few statements per batch rather than per document. Each document is still atomic: a
document that fails validation never reaches the database, and when the database refuses a
batch, the batch is written again one document per transaction so that only the culprit fails.
"""

import hashlib
import logging
import multiprocessing
import os
import sys
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import (
    DatabaseError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    connections,
    router,
    transaction,
)
from django.utils import timezone
from django.utils.text import slugify

from articles import similarity
from articles.bulk import (
    JSONText,
    analyze,
    check_keys_by_index,
    commit_without_flush_wait,
    encode_json,
    insert_rows,
)
from articles.changes import articles_changed
from articles.content import (
    article_field_values,
    content_from_page,
    content_version,
    is_live_eligible,
    validate_content,
)
from articles.models import Article, ArticleEntity, ArticleState, ArticleTag, Entity, ImageSource, Tag
from articles.parsing import MAX_DOCUMENT_BYTES, Problem, normalize_text, parse_page
from articles.writing import PartsWriter
from releases import parse_workers
from releases.models import Release, Revision
from releases.recording import ImportedRevision, record_imports
from releases.services import ImportAction, ImportTarget, carry_uploads, decide_import

RELEASED = (ArticleState.PUBLISHED, ArticleState.ARCHIVED)

logger = logging.getLogger(__name__)

OUTCOMES = ("created", "updated", "unchanged", "stale", "failed")
# A document the database refused for a reason that may pass (another importer committed the
# same reference first, a deadlock) is decided and written again this many times.
RETRIES = 2
PUBLISH_PERMISSION = "releases.publish_article"


class DatabaseUnavailable(Exception):
    """The database went away during the run. Batches committed before it are kept, and
    running the import again finishes the job (committed documents come back unchanged)."""


# Statistics are refreshed once after the first ANALYZE_FIRST_AT written documents, and at the
# end of a run that wrote that many. Once a table has column statistics, the planner scales its
# estimates by the table's current size, so the growing tables need no ANALYZE in between.
ANALYZE_FIRST_AT = 1000
# Batches handed to parse workers ahead of the one being written.
PARSE_AHEAD = 2
SLUG_MAX = 200


@dataclass(frozen=True)
class Source:
    """One document to import: where it came from (for messages) and its raw bytes."""

    path: str
    data: bytes


@dataclass
class DocumentResult:
    path: str
    outcome: str
    reference: str | None = None
    slug: str | None = None
    warnings: list[dict] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)
    article_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "outcome": self.outcome,
            "reference": self.reference,
            "slug": self.slug,
            "warnings": self.warnings,
            "errors": self.errors,
        }


@dataclass
class ImportReport:
    counts: Counter = field(default_factory=Counter)
    warnings: list[dict] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)
    touched_ids: set[int] = field(default_factory=set)

    def add(self, result: DocumentResult) -> None:
        self.counts[result.outcome] += 1
        self.warnings.extend(result.warnings)
        self.errors.extend(result.errors)

    @property
    def failed(self) -> int:
        return self.counts["failed"]

    def as_dict(self) -> dict[str, Any]:
        return {
            **{outcome: self.counts[outcome] for outcome in OUTCOMES},
            "warnings": self.warnings,
            "errors": self.errors,
        }


def _problem_dict(path: str, problem: Problem) -> dict[str, Any]:
    return {"path": path, **problem.as_dict()}


def iter_sources(paths: Iterable[str], stdin=None) -> Iterator[Source]:
    """Files as given, directories as every ``*.txt`` below them in sorted order, ``-`` as stdin.

    A path that cannot be read yields a source whose data is None-like: the importer reports
    it as a failed document rather than stopping the run.
    """
    for raw in paths:
        if raw == "-":
            stream = stdin if stdin is not None else sys.stdin.buffer
            yield Source("<stdin>", stream.read(MAX_DOCUMENT_BYTES + 1))
            continue
        path = Path(raw)
        for file in _text_files(path) if path.is_dir() else [path]:
            yield _read_source(file)


def _text_files(root: Path) -> list[Path]:
    """Every ``*.txt`` file below ``root``, sorted as paths sort; symbolic links to directories
    are not followed and unreadable directories are skipped, as Path.rglob does.

    One scandir per directory tells files from directories without a stat per file: listing
    100,000 documents takes a tenth of what rglob and is_file take.
    """
    found, directories = [], [str(root)]
    while directories:
        try:
            with os.scandir(directories.pop()) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        directories.append(entry.path)
                    elif entry.name.endswith(".txt") and entry.is_file():
                        found.append(entry.path)
        except OSError:
            continue
    found.sort(key=lambda name: name.split(os.sep))
    return [Path(name) for name in found]


def _read_source(file: Path) -> Source:
    try:
        with file.open("rb") as handle:
            return Source(str(file), handle.read(MAX_DOCUMENT_BYTES + 1))
    except OSError as exc:
        return UnreadableSource(str(file), b"", reason=exc.strerror or str(exc))


@dataclass(frozen=True)
class UnreadableSource(Source):
    reason: str = ""


@dataclass
class _Item:
    """A document on its way through the pipeline."""

    source: Source
    text: str = ""
    digest: str = ""
    content: dict[str, Any] | None = None
    snapshot: JSONText | None = None  # the content's JSON text, for the revision
    columns: dict[str, Any] = field(default_factory=dict)  # the article's column values
    warnings: list[dict] = field(default_factory=list)
    row: dict[str, Any] | None = None  # what the database holds for its reference
    decision: Any = None  # the action layer's ImportDecision
    result: DocumentResult | None = None


def parse_document(
    job: tuple[str, str],
) -> tuple[dict | None, list[dict], list[dict], tuple[JSONText, dict[str, Any]] | None]:
    """Parse and validate one document's text:
    (content or None, errors, warnings, (snapshot, columns) or None).

    Pure and picklable, so that parse workers in other processes can run it. The revision's
    snapshot (the content's JSON text) and the article's column values, JSON columns encoded,
    are made here too, in the worker, so that the process writing to the database has less
    to do.
    """
    path, text = job
    parsed = parse_page(text)
    warnings = [_problem_dict(path, warning) for warning in parsed.warnings]
    if not parsed.ok:
        return None, [_problem_dict(path, error) for error in parsed.errors], warnings, None
    content = content_from_page(parsed.page)
    columns = article_field_values(content)
    problems = validate_content(content, columns)
    if problems:
        return None, [_problem_dict(path, problem) for problem in problems], warnings, None
    for name in JSON_COLUMNS:
        if columns[name] is not None:
            columns[name] = encode_json(columns[name])
    return content, [], warnings, (encode_json(content), columns)


JSON_COLUMNS = frozenset(
    field.attname for field in Article._meta.concrete_fields if field.get_internal_type() == "JSONField"
)


def default_workers() -> int:
    """Parse workers for a large import: one core is left to the writer and the database."""
    return max(0, (os.cpu_count() or 1) - 1)


def _parse_pool(workers: int) -> ProcessPoolExecutor:
    # Fresh interpreters ("spawn"): a forked child would share the parent's database socket.
    # A worker that dies breaks the pool with an error instead of hanging the import.
    return ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context("spawn"), initializer=parse_workers.init_worker
    )


def _chunks(iterable: Iterable, size: int) -> Iterator[list]:
    chunk = []
    for element in iterable:
        chunk.append(element)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class Importer:
    """Imports a stream of documents. One instance per run; it caches tag and entity ids."""

    def __init__(
        self,
        *,
        dry_run: bool = False,
        batch_size: int = 250,
        user=None,
        workers: int = 0,
        durable: bool = True,
    ):
        self.dry_run = dry_run
        # A commit is acknowledged only once it is on disk, unless the caller can bring the
        # documents again after a crash (the command line, importing files that stay on disk).
        self.durable = durable
        self.batch_size = batch_size
        self.user = user
        # Going live is publishing: an import on behalf of someone who may not publish keeps
        # everything it brings as drafts for a reviewer. Operators' runs (no user) may.
        self.may_publish = user is None or user.has_perm(PUBLISH_PERMISSION)
        self.workers = workers
        self._written = 0
        self.parts = PartsWriter()

    # -- the pipeline -------------------------------------------------------------------------

    def run(
        self,
        sources: Iterable[Source],
        *,
        report: ImportReport | None = None,
        on_result: Callable[[DocumentResult], None] | None = None,
    ) -> ImportReport:
        report = report or ImportReport()
        try:
            self._run(sources, report, on_result)
        except (OperationalError, InterfaceError) as exc:
            if _connection_lost():
                raise DatabaseUnavailable(_first_line(exc)) from exc
            raise
        return report

    def _run(self, sources, report: ImportReport, on_result) -> None:
        analyzed_at = 0
        for batch in self._parsed_batches(sources):
            self._write_batch(batch)
            for item in batch:
                self._report(item.result, report, on_result)
            if not analyzed_at and self._written >= ANALYZE_FIRST_AT:
                # Tables that grew from nothing have no column statistics yet: without them
                # the lookup of a batch's digests is planned as a full scan.
                _analyze_tables()
                analyzed_at = self._written
        if self._written > analyzed_at and self._written >= ANALYZE_FIRST_AT:
            _analyze_tables()
        if report.counts["unchanged"] and not self.dry_run:
            # A run stopped between its last commit and its refresh left articles without lists.
            report.touched_ids |= similarity.without_lists()
        if report.touched_ids:
            # Once for the whole run: when the import returns, similar posts are fresh.
            similarity.refresh(report.touched_ids)

    def _parsed_batches(self, sources: Iterable[Source]) -> Iterator[list[_Item]]:
        """Batches of documents, read, checked against what was imported and parsed.

        With parse workers, the next PARSE_AHEAD batches are parsed in other processes while
        the caller writes the current one, so neither side waits for the other; at most
        PARSE_AHEAD + 1 batches are in memory at any time.
        """
        pool = None
        pending: deque = deque()
        try:
            for number, sources_batch in enumerate(_chunks(sources, self.batch_size)):
                batch = [_Item(source) for source in sources_batch]
                for item in batch:
                    self._prepare(item)
                todo = [item for item in batch if item.result is None]
                self._mark_unchanged(todo)
                todo = [item for item in todo if item.result is None]
                if pool is None and self.workers > 0 and number > 0:
                    # A run of more than one batch is worth starting worker processes for.
                    pool = _parse_pool(self.workers)
                job = None
                if pool is not None:
                    jobs = [(item.source.path, item.text) for item in todo]
                    job = pool.map(parse_workers.parse_document, jobs, chunksize=25)
                pending.append((batch, todo, job))
                if len(pending) > (PARSE_AHEAD if pool is not None else 0):
                    yield self._finish_parsing(*pending.popleft())
            while pending:
                yield self._finish_parsing(*pending.popleft())
        finally:
            if pool is not None:
                pool.shutdown(cancel_futures=True)

    def _finish_parsing(self, batch, todo, job) -> list[_Item]:
        parsed = list(job) if job is not None else [parse_document((i.source.path, i.text)) for i in todo]
        for item, (content, errors, warnings, prepared) in zip(todo, parsed, strict=True):
            if errors:
                item.result = DocumentResult(item.source.path, "failed", warnings=warnings, errors=errors)
            else:
                item.content, item.warnings = content, warnings
                item.snapshot, item.columns = prepared
        return batch

    def _write_batch(self, batch: list[_Item]) -> None:
        pending = [item for item in batch if item.result is None]
        # Two documents with the same reference in one batch are written one after the other.
        while pending:
            group, seen, rest = [], set(), []
            for item in pending:
                reference = item.content["reference"]
                (rest if reference in seen else group).append(item)
                seen.add(reference)
            self._write_group(group)
            pending = rest

    def _report(self, result: DocumentResult, report: ImportReport, on_result) -> None:
        if result.outcome == "failed":
            logger.warning(
                "import failed: %s: %s",
                result.path,
                "; ".join(f"line {e['line']}: {e['field']}: {e['message']}" for e in result.errors[:3]),
            )
        report.add(result)
        if result.outcome in ("created", "updated") and not self.dry_run and result.article_id:
            report.touched_ids.add(result.article_id)
        if on_result:
            on_result(result)

    def _prepare(self, item: _Item) -> None:
        source = item.source
        if isinstance(source, UnreadableSource):
            item.result = self._failed(
                source.path, Problem(None, "document", f"cannot be read: {source.reason}")
            )
            return
        if len(source.data) > MAX_DOCUMENT_BYTES:
            item.result = self._failed(
                source.path,
                Problem(
                    None, "document", f"is larger than the {MAX_DOCUMENT_BYTES // (1024 * 1024)} MB limit"
                ),
            )
            return
        try:
            item.text = source.data.decode("utf-8")
        except UnicodeDecodeError:
            item.result = self._parse_failure(source)
            return
        item.digest = hashlib.sha256(normalize_text(item.text).encode("utf-8")).hexdigest()

    def _parse_failure(self, source: Source) -> DocumentResult:
        parsed = parse_page(source.data)
        return self._failed(source.path, *parsed.errors)

    def _mark_unchanged(self, items: list[_Item]) -> None:
        """Identical to what was last imported for its reference: nothing to parse or write."""
        digests = {item.digest for item in items}
        known = dict(
            Article.objects.filter(source_digest__in=digests).values_list("source_digest", "reference")
        )
        for item in items:
            if item.digest in known:
                item.result = DocumentResult(item.source.path, "unchanged", reference=known[item.digest])

    def _failed(self, path: str, *problems: Problem, warnings=None) -> DocumentResult:
        return DocumentResult(
            path, "failed", warnings=warnings or [], errors=[_problem_dict(path, p) for p in problems]
        )

    # -- writing ------------------------------------------------------------------------------

    def _write_group(self, items: list[_Item], attempt: int = 0) -> None:
        """Write documents with distinct references: in one transaction, or one by one if refused."""
        if self.dry_run:
            self._classify(items)
            return
        try:
            with transaction.atomic():
                if not self.durable:
                    commit_without_flush_wait(Article)
                check_keys_by_index(Article)
                self._classify(items, lock=True)
                self._write(items)
        except DatabaseError as exc:
            if _connection_lost():
                raise DatabaseUnavailable(_first_line(exc)) from exc
            for item in items:
                item.result = None
            if len(items) > 1:
                for item in items:
                    self._write_group([item])
            elif attempt < RETRIES and isinstance(exc, (IntegrityError, OperationalError)):
                # Another importer may have committed this reference first, or a deadlock broke
                # the transaction: nothing was written, so deciding again is safe.
                self._write_group(items, attempt + 1)
            else:
                item = items[0]
                item.result = self._failed(
                    item.source.path,
                    Problem(None, "document", f"the database refused it: {_first_line(exc)[:200]}"),
                    warnings=item.warnings,
                )

    def _classify(self, items: list[_Item], lock: bool = False) -> None:
        """Ask the action layer's rule what each document means, against the database."""
        references = [item.content["reference"] for item in items]
        existing_qs = Article.objects.filter(reference__in=references).values(
            "id", "reference", "site", "slug", "state", "source_digest",
            "release__live_revision__version", "release__pending_revision__version",
            "release__pending_revision_id", "release__edited_at",
            "release__live_revision__content__image_sources",
            "release__pending_revision__content__image_sources",
        )  # fmt: skip
        if lock:
            # Lock the rows first, then read them with their pointers in a statement of its own:
            # a statement that waited for a lock sees the locked row as committed, but the rows
            # it joined as they were when it started (PostgreSQL, read committed).
            locked = Article.objects.filter(reference__in=references).select_for_update()
            list(locked.values_list("pk", flat=True))
        existing = {row["reference"]: row for row in existing_qs}
        published = self._published_contents(items, existing)
        for item in items:
            content, path = item.content, item.source.path
            row = existing.get(content["reference"])
            version = content_version(content)
            target = None
            if row is not None:
                same = published.get((row["id"], version))
                target = ImportTarget(
                    site=row["site"],
                    state=row["state"],
                    source_digest=row["source_digest"],
                    live_version=row["release__live_revision__version"],
                    pending_version=row["release__pending_revision__version"],
                    has_pending=row["release__pending_revision_id"] is not None,
                    editors_pending=row["release__edited_at"] is not None,
                    same_as_published=None if same is None else same == content,
                )
            item.row = row
            if row is not None:
                self._carry_uploads(item, row)
            item.decision = decision = decide_import(
                site=content["site"],
                version=version,
                digest=item.digest,
                goes_live=self.may_publish and is_live_eligible(content),
                target=target,
            )
            reference, slug = content["reference"], row["slug"] if row else None
            warnings, errors = list(item.warnings), []
            if decision.message:
                failed = decision.action is ImportAction.FAILED
                problem = {
                    "path": path,
                    "line": None,
                    "field": "site" if failed else "revision",
                    "message": decision.message,
                }
                (errors if failed else warnings).append(problem)
            item.result = DocumentResult(
                path, decision.outcome, reference, slug, warnings=warnings, errors=errors
            )
            item.result.article_id = row["id"] if row else None

    @staticmethod
    def _carry_uploads(item: _Item, row: dict) -> None:
        """Uploaded images are part of the revision: an imported image source with the URL of one
        that has an upload (in the pending work, else the live revision) keeps that upload."""
        images = (
            row["release__pending_revision__content__image_sources"]
            or row["release__live_revision__content__image_sources"]
        )
        if not images or not any(image.get("upload") for image in images):
            return
        carried = carry_uploads(item.content, {"image_sources": images})
        if carried != item.content:
            item.content, item.snapshot = carried, None

    @staticmethod
    def _published_contents(items: list[_Item], existing: dict) -> dict[tuple[int, str], dict]:
        """(article id, version) -> content of the published revision with that version, for the
        documents whose version was published already (one query for the batch)."""
        wanted = {
            (existing[item.content["reference"]]["id"], content_version(item.content))
            for item in items
            if item.content["reference"] in existing and content_version(item.content)
        }
        if not wanted:
            return {}
        rows = Revision.objects.filter(
            article_id__in={article_id for article_id, _ in wanted},
            version__in={version for _, version in wanted},
            state=ArticleState.PUBLISHED,
        ).values_list("article_id", "version", "content")
        return {
            (article_id, version): content
            for article_id, version, content in rows
            if (article_id, version) in wanted
        }

    def _write(self, items: list[_Item]) -> None:
        """Apply the decisions: new articles, new live revisions, pending work and conflicts."""
        by_action: dict[ImportAction, list[_Item]] = {}
        for item in items:
            by_action.setdefault(item.decision.action, []).append(item)
        to_create = by_action.get(ImportAction.CREATE, [])
        to_live = by_action.get(ImportAction.LIVE, [])
        to_pend = by_action.get(ImportAction.PENDING, [])
        to_conflict = by_action.get(ImportAction.CONFLICT, [])
        self._written += len(to_create) + len(to_live) + len(to_pend) + len(to_conflict)
        if not (to_create or to_live or to_pend or to_conflict):
            return
        now = timezone.now()
        revisions: list[ImportedRevision] = []
        went_live: list[int] = []  # new live articles and live ones with new content

        if to_create:
            slugs = self._new_slugs([item.content for item in to_create])
            rows = []
            for item, slug in zip(to_create, slugs, strict=True):
                live = self.may_publish and is_live_eligible(item.content)
                rows.append(
                    {
                        **item.columns,
                        "slug": slug,
                        "state": ArticleState.PUBLISHED if live else ArticleState.DRAFT,
                        "published_at": now if live else None,
                        "source_digest": item.digest,
                        "source_version": content_version(item.content),
                        "created_at": now,
                        "updated_at": now,
                    }
                )
            ids = insert_rows(Article, rows)
            for item, row, pk in zip(to_create, rows, ids, strict=True):
                item.result.slug, item.result.article_id = row["slug"], pk
                live = row["state"] == ArticleState.PUBLISHED
                revisions.append(ImportedRevision(pk, item.content, item.snapshot, live=live, new=True))
                if live:
                    went_live.append(pk)
            self.parts.write([(pk, item.content) for item, pk in zip(to_create, ids, strict=True)])

        rewritten = []
        for item in to_live:
            row = item.row
            values = {
                **article_field_values(item.content),
                "state": ArticleState.PUBLISHED,
                "source_digest": item.digest,
                "source_version": content_version(item.content),
                "updated_at": now,
            }
            if row["state"] not in RELEASED:
                values["published_at"] = now
            Article.objects.filter(pk=row["id"]).update(**values)
            rewritten.append((row["id"], item.content))
            went_live.append(row["id"])
            superseded = row["release__pending_revision_id"] is not None
            revisions.append(
                ImportedRevision(row["id"], item.content, item.snapshot, live=True, superseded=superseded)
            )
        for item in to_pend:
            row = item.row
            values = {
                "source_digest": item.digest,
                "source_version": content_version(item.content),
                "updated_at": now,
            }
            if row["release__live_revision__version"] is None and row["state"] not in RELEASED:
                # Never published: the row shows the pending work (to staff only).
                values.update(article_field_values(item.content), state=ArticleState.DRAFT)
                rewritten.append((row["id"], item.content))
            Article.objects.filter(pk=row["id"]).update(**values)
            revisions.append(
                ImportedRevision(row["id"], item.content, item.snapshot, note=item.decision.message)
            )
        for item in to_conflict:
            Article.objects.filter(pk=item.row["id"]).update(
                source_digest=item.digest, source_version=content_version(item.content), updated_at=now
            )
            revisions.append(
                ImportedRevision(
                    item.row["id"], item.content, item.snapshot, conflict=True, note=item.decision.message
                )
            )
        if rewritten:
            self.parts.replace(rewritten)
        record_imports(revisions, author=self.user)
        if went_live:
            articles_changed(went_live, live=True)
        # Pending work, conflicts and never-published drafts: nothing anonymous clients see.
        live_set = set(went_live)
        articles_changed(
            [entry.article_id for entry in revisions if entry.article_id not in live_set], live=False
        )

    def _new_slugs(self, contents: list[dict]) -> list[str]:
        """Slugs from titles, unique against the database and within the batch.

        A title already taken gets the reference as a suffix, which is unique by definition.
        """
        bases = [slugify(content["title"])[:SLUG_MAX].strip("-") or "article" for content in contents]
        candidates = set(bases) | {
            f"{base[: SLUG_MAX - 50]}-{slugify(content['reference'])[:49]}".strip("-")
            for base, content in zip(bases, contents, strict=True)
        }
        taken = set(Article.objects.filter(slug__in=candidates).values_list("slug", flat=True))
        slugs = []
        for base, content in zip(bases, contents, strict=True):
            slug = base
            if slug in taken:
                slug = f"{base[: SLUG_MAX - 50]}-{slugify(content['reference'])[:49]}".strip("-")
            counter = 2
            unique = slug
            while unique in taken:
                unique = f"{slug[: SLUG_MAX - 8]}-{counter}"
                counter += 1
            taken.add(unique)
            slugs.append(unique)
        return slugs


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _connection_lost() -> bool:
    """True when the database connection is gone (not merely a failed statement)."""
    connection = connections[router.db_for_write(Article)]
    try:
        return connection.connection is None or not connection.is_usable()
    except DatabaseError:
        return True


def _analyze_tables() -> None:
    analyze([Article, ArticleTag, ArticleEntity, ImageSource, Tag, Entity, Revision, Release])


def import_documents(
    sources: Iterable[Source],
    *,
    dry_run: bool = False,
    user=None,
    batch_size: int = 250,
    workers: int = 0,
    on_result: Callable[[DocumentResult], None] | None = None,
    report: ImportReport | None = None,
    durable: bool = True,
) -> ImportReport:
    """Import every document; the report counts outcomes and lists warnings and errors.

    ``workers`` > 0 parses in that many other processes while this one writes (for large runs).
    Outcomes are added to ``report`` when given, so they survive a DatabaseUnavailable.
    ``durable=False`` lets commits return before they reach the disk: only for documents that
    can be imported again after a crash (files on disk).
    """
    importer = Importer(dry_run=dry_run, user=user, batch_size=batch_size, workers=workers, durable=durable)
    return importer.run(sources, report=report, on_result=on_result)


def import_document(data: bytes, *, path: str = "<upload>", user=None) -> DocumentResult:
    """Import one document and return its own result (the API's single-document import)."""
    results: list[DocumentResult] = []
    import_documents([Source(path, data)], user=user, on_result=results.append)
    return results[0]
