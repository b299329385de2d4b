"""Import page-text exports: ``manage.py import_articles PATH [PATH ...]``.

PATH is a file, a directory (every ``*.txt`` below it, in sorted order) or ``-`` for standard
input. Each document is atomic; a failed one is reported and the rest go on. Exit status: 0
when no document failed, 1 when any did, 2 for bad usage.

A file (or standard input) whose first line is a backup header, as ``export_articles`` writes,
is restored by ``releases.backup.restore_backup`` instead: one article per line, reported in
the same format.
"""

import itertools
import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from releases.backup import HEADER_MAX_BYTES, is_backup_file, is_backup_header, restore_backup
from releases.importing import (
    OUTCOMES,
    DatabaseUnavailable,
    ImportReport,
    default_workers,
    import_documents,
    iter_sources,
)


class Command(BaseCommand):
    help = "Import page-text documents (files, directories of *.txt, or - for stdin)."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", metavar="PATH")
        parser.add_argument("--format", choices=["text", "json"], default="text", help="Report format.")
        parser.add_argument("--dry-run", action="store_true", help="Parse and validate; write nothing.")
        parser.add_argument("--batch-size", type=int, default=250, help="Documents per write batch.")
        parser.add_argument(
            "--workers",
            type=int,
            default=default_workers(),
            help="Processes that parse while this one writes (0: parse here). Default: CPUs - 1.",
        )

    def handle(self, *args, **options):
        paths = options["paths"]
        missing = [path for path in paths if path != "-" and not Path(path).exists()]
        if missing:
            raise CommandError(f"no such file or directory: {', '.join(missing)}", returncode=2)
        if options["workers"] < 0:
            raise CommandError("--workers must be 0 or more", returncode=2)
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1", returncode=2)

        show_progress = sys.stderr.isatty() and options["verbosity"] > 0
        progress = tqdm(unit="doc", disable=not show_progress, file=sys.stderr, dynamic_ncols=True)
        report = ImportReport()
        try:
            self._import(paths, report, options, on_result=lambda result: progress.update(1))
        except DatabaseUnavailable as exc:
            progress.close()
            self._stop(report, options, exc)
        progress.close()

        if options["format"] == "json":
            self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False))
        else:
            self._write_summary(report, options)
        if report.failed:
            sys.exit(1)

    def _import(self, paths, report, options, on_result) -> None:
        for kind, where, source in _groups(paths):
            if kind == "backup":
                restore_backup(
                    source, path=where, dry_run=options["dry_run"], report=report, on_result=on_result
                )
                continue
            import_documents(
                iter_sources(where, stdin=source),
                dry_run=options["dry_run"],
                batch_size=options["batch_size"],
                workers=options["workers"],
                on_result=on_result,
                report=report,
                # Files stay on disk, so a crash that loses the last commits is undone by running
                # the import again; documents read from standard input are committed durably.
                durable="-" in where,
            )

    def _stop(self, report, options, exc) -> None:
        """The database went away: say so once, with what was done, and exit 1."""
        message = (
            f"the database connection was lost ({exc}); documents reported above were committed "
            "and the rest were not: run the import again once the database is back"
        )
        report.errors.append({"path": None, "line": None, "field": "database", "message": message})
        if options["format"] == "json":
            self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False))
        else:
            self._write_summary(report, options)
        self.stderr.write(f"import_articles: {message}")
        sys.exit(1)

    def _write_summary(self, report, options):
        counts = ", ".join(f"{report.counts[outcome]} {outcome}" for outcome in OUTCOMES)
        prefix = "Dry run: " if options["dry_run"] else ""
        self.stdout.write(f"{prefix}{counts}.")
        if options["verbosity"] > 0:
            for warning in report.warnings:
                self.stdout.write(self.style.WARNING(f"warning: {_where(warning)}: {warning['message']}"))
            for error in report.errors:
                self.stdout.write(self.style.ERROR(f"error: {_where(error)}: {error['message']}"))


def _groups(paths):
    """The paths in order, as ("backup", path, lines) for each backup file (or standard input
    that holds one) and ("documents", paths, stdin) for each run of other paths."""

    documents: list[str] = []
    stdin = None
    for path in paths:
        if path == "-" and stdin is None:
            first = sys.stdin.buffer.readline(HEADER_MAX_BYTES)
            stdin = _PeekedStdin(first, sys.stdin.buffer)
            if is_backup_header(first):
                if documents:
                    yield "documents", documents, stdin
                    documents = []
                yield "backup", "<stdin>", itertools.chain([first], sys.stdin.buffer)
                continue
            documents.append(path)
        elif path != "-" and Path(path).is_file() and is_backup_file(path):
            if documents:
                yield "documents", documents, stdin
                documents = []
            with open(path, "rb") as handle:
                yield "backup", path, handle
        else:
            documents.append(path)
    if documents:
        yield "documents", documents, stdin


class _PeekedStdin:
    """Standard input after its first line was read to look for a backup header."""

    def __init__(self, first: bytes, rest):
        self._first, self._rest = first, rest

    def read(self, size: int = -1) -> bytes:
        first, self._first = self._first, b""
        if size is not None and size >= 0:
            return first + self._rest.read(max(0, size - len(first)))
        return first + self._rest.read()


def _where(problem) -> str:
    line = f":{problem['line']}" if problem.get("line") else ""
    return f"{problem['path']}{line}: {problem['field']}"
