"""Load the demo content: the sample article plus a synthesized set. Safe to run again.

Re-running imports the same documents, which the importer recognises as unchanged.
"""

from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from corpus.generator import write_corpus
from releases.importing import import_documents, iter_sources


class Command(BaseCommand):
    help = "Import the sample article and a synthesized demo set (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, default=300, help="Synthesized documents.")
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args, count, seed, **options):
        if count < 0:
            raise CommandError("--count must be 0 or more")
        demo_dir = Path(settings.VAR_DIR) / "demo" / f"seed-{seed}-count-{count}"
        if not (demo_dir / "clusters.json").exists():
            write_corpus(demo_dir, count, seed=seed)
        samples = Path(apps.get_app_config("articles").path) / "fixtures" / "samples"
        report = import_documents(iter_sources([str(samples), str(demo_dir)]))
        counts = ", ".join(f"{n} {outcome}" for outcome, n in sorted(report.counts.items()))
        self.stdout.write(f"Demo content: {counts}.")
        if report.failed:
            for error in report.errors[:10]:
                self.stderr.write(f"{error['path']}:{error['line']}: {error['field']}: {error['message']}")
