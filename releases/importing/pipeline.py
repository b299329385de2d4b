"""The import run: documents read as a stream, unchanged ones skipped by their digest, the rest
parsed (ahead, in worker processes, for large runs) and written in batches, one transaction each;
a batch the database refuses is written again one document per transaction, and a document
refused for a reason that may pass is decided again. Statistics are refreshed as the tables
grow, and similar posts once at the end of the run."""

import hashlib
import logging
from collections import deque
from collections.abc import Callable, Iterable, Iterator

from django.db import (
    DatabaseError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    connections,
    router,
    transaction,
)

from articles import similarity
from articles.bulk import analyze, check_keys_by_index, commit_without_flush_wait
from articles.models import Article, ArticleEntity, ArticleTag, Entity, ImageSource, Tag
from articles.parsing import MAX_DOCUMENT_BYTES, Problem, normalize_text, parse_page
from releases import parse_workers
from releases.importing.documents import Source, UnreadableSource, _Item
from releases.importing.parsing import _parse_pool, parse_document
from releases.importing.results import DocumentResult, ImportReport, _problem_dict
from releases.importing.writer import BatchWriter
from releases.models import Release, Revision

logger = logging.getLogger(__package__)  # releases.importing, the importer's one logger

# A document the database refused for a reason that may pass (another importer committed the
# same reference first, a deadlock) is decided and written again this many times.
RETRIES = 2


class DatabaseUnavailable(Exception):
    """The database went away during the run. Batches committed before it are kept, and
    running the import again finishes the job (committed documents come back unchanged)."""


# Statistics are refreshed once after the first ANALYZE_FIRST_AT written documents, and at the
# end of a run that wrote that many. Once a table has column statistics, the planner scales its
# estimates by the table's current size, so the growing tables need no ANALYZE in between.
ANALYZE_FIRST_AT = 1000
# Batches handed to parse workers ahead of the one being written.
PARSE_AHEAD = 2


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
        wait_for_similar: bool = True,
    ):
        self.dry_run = dry_run
        # A run refreshes similar posts itself; a request's (wait_for_similar=False) leaves its
        # articles to a refresh already holding the lists, rather than outliving its timeout.
        self.wait_for_similar = wait_for_similar
        # A commit is acknowledged only once it is on disk, unless the caller can bring the
        # documents again after a crash (the command line, importing files that stay on disk).
        self.durable = durable
        self.batch_size = batch_size
        self.workers = workers
        self.writer = BatchWriter(user)

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
            if not analyzed_at and self.writer.written >= ANALYZE_FIRST_AT:
                # Tables that grew from nothing have no column statistics yet: without them
                # the lookup of a batch's digests is planned as a full scan.
                _analyze_tables()
                analyzed_at = self.writer.written
        if self.writer.written > analyzed_at and self.writer.written >= ANALYZE_FIRST_AT:
            _analyze_tables()
        if report.counts["unchanged"] and not self.dry_run:
            # A run stopped between its last commit and its refresh left articles without lists.
            report.touched_ids |= similarity.without_lists()
        if report.touched_ids:
            # Once for the whole run: when the import returns, similar posts are fresh.
            similarity.refresh(report.touched_ids, wait=self.wait_for_similar)

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
            self.writer.classify(items)
            return
        try:
            with transaction.atomic():
                if not self.durable:
                    commit_without_flush_wait(Article)
                check_keys_by_index(Article)
                self.writer.classify(items, lock=True)
                self.writer.write(items)
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
    Importer(user=user, wait_for_similar=False).run([Source(path, data)], on_result=results.append)
    return results[0]
