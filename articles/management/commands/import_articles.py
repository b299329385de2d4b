"""Import page-text exports: ``manage.py import_articles PATH [PATH ...]``.

PATH is a file, a directory (every ``*.txt`` below it, in sorted order) or ``-`` for standard
input. Each document is atomic; a failed one is reported and the rest go on. Exit status: 0
when no document failed, 1 when any did, 2 for bad usage.
"""

import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from articles.importing import OUTCOMES, default_workers, import_documents, iter_sources


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
        report = import_documents(
            iter_sources(paths),
            dry_run=options["dry_run"],
            batch_size=options["batch_size"],
            workers=options["workers"],
            on_result=lambda result: progress.update(1),
        )
        progress.close()

        if options["format"] == "json":
            self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False))
        else:
            self._write_summary(report, options)
        if report.failed:
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


def _where(problem) -> str:
    line = f":{problem['line']}" if problem.get("line") else ""
    return f"{problem['path']}{line}: {problem['field']}"
