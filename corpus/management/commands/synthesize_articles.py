"""Write synthetic page-text documents: ``manage.py synthesize_articles --count N --seed S --out DIR``.

Deterministic for a seed. Documents come from topic clusters, and DIR/clusters.json maps each
reference to its cluster, so the similar-posts engine can be measured against a ground truth.
"""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from corpus.generator import SHAPES, write_corpus


class Command(BaseCommand):
    help = "Write N synthetic page-text documents and DIR/clusters.json."

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, required=True)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--out", required=True, type=Path)
        parser.add_argument(
            "--shape",
            choices=SHAPES,
            default=None,
            help="Corpus shape (docs/corpus.md): 'normal'; 'hard' adds noise tags shared across "
            "clusters and drops entities; 'combination' makes topics of a common problem and a common "
            "stack; 'zipf' gives those topics Zipf sizes; 'noisy' blurs half of them; 'sites' writes "
            "them as three sites with their own house style.",
        )
        parser.add_argument(
            "--difficulty", choices=["normal", "hard"], default="normal", help="The same as --shape."
        )

    def handle(self, *args, count, seed, out, difficulty, shape, **options):
        difficulty = shape or difficulty
        if count < 0:
            raise CommandError("--count must be 0 or more")
        progress = tqdm(
            total=count,
            unit="doc",
            file=sys.stderr,
            disable=not sys.stderr.isatty() or options["verbosity"] == 0,
        )
        written = write_corpus(
            out, count, seed=seed, difficulty=difficulty, progress=lambda n: progress.update(1)
        )
        progress.close()
        self.stdout.write(f"Wrote {written} documents to {out} (seed {seed}, shape {difficulty}).")
