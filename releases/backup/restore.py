"""Restoring a backup file: its header checked, each article line restored in its own
transaction (or rolled back, for a dry run), failures reported with the file, line and field,
a cut-short file recognised by its missing closing line, and similar posts rebuilt at the end.
The report has the importer's shape (``releases.importing.ImportReport``)."""

import logging
from collections.abc import Callable, Iterable
from typing import Any

from django.db import DatabaseError, transaction

from articles import similarity
from articles.writing import PartsWriter
from releases.backup.file_format import FORMAT, READS, VERSION, _json_loads
from releases.backup.merge import _restore_article
from releases.backup.records import _Invalid, _parse_record
from releases.importing import DocumentResult, ImportReport

logger = logging.getLogger(__package__)  # releases.backup, one logger for export and restore


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
