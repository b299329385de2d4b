"""Recompute the similar posts of every article: ``manage.py rebuild_similar``.

Reads the corpus once, scores it with sparse matrix products in chunks, and writes each
chunk's lists as it goes; the new lists replace the old ones in one transaction.
"""

import sys
import time

from django.core.management.base import BaseCommand
from tqdm import tqdm

from articles.models import Article
from articles.similarity import rebuild_all


class Command(BaseCommand):
    help = "Recompute similar posts for every article."

    def handle(self, *args, **options):
        progress = tqdm(
            total=Article.objects.count(),
            unit="article",
            file=sys.stderr,
            disable=not sys.stderr.isatty() or options["verbosity"] == 0,
        )
        started = time.perf_counter()
        count = rebuild_all(progress=progress.update)
        progress.close()
        self.stdout.write(
            f"Similar posts rebuilt for {count} articles in {time.perf_counter() - started:.1f}s."
        )
