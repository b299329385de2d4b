"""Back up every article: ``manage.py export_articles OUT.jsonl`` (``-`` for standard output).

One JSON object per line, streamed: a header, one line per article (its row, live content,
every revision and its audit trail), and a closing line. ``import_articles OUT.jsonl``
restores it. docs/backup.md describes the format and the merge rule.
"""

import os
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from releases.backup import export_backup


class Command(BaseCommand):
    help = "Write every article, its revisions and audit trail as JSON lines (OUT, or - for stdout)."

    def add_arguments(self, parser):
        parser.add_argument("out", metavar="OUT", help="The backup file to write, or - for standard output.")
        parser.add_argument("--chunk-size", type=int, default=200, help="Articles read per query batch.")

    def handle(self, *args, out, chunk_size, **options):
        if chunk_size < 1:
            raise CommandError("--chunk-size must be at least 1", returncode=2)
        if out == "-":
            count = export_backup(self.stdout, chunk_size=chunk_size)
            if options["verbosity"] > 0:
                sys.stderr.write(f"Exported {count} articles.\n")
            return

        target = Path(out)
        if not target.parent.is_dir():
            raise CommandError(f"no such directory: {target.parent}", returncode=2)
        # Written beside the target and renamed when complete: OUT is never a partial backup.
        partial = target.with_name(f".{target.name}.partial")
        try:
            with partial.open("w", encoding="utf-8", newline="\n") as handle:
                count = export_backup(handle, chunk_size=chunk_size)
            os.replace(partial, target)
        except OSError as exc:
            raise CommandError(f"cannot write {target}: {exc.strerror or exc}") from exc
        finally:
            partial.unlink(missing_ok=True)
        if options["verbosity"] > 0:
            self.stdout.write(f"Exported {count} articles to {target}.")
