"""Measure similar posts against the synthesizer's clusters:
``manage.py evaluate_similar --clusters DIR/clusters.json``.

Prints precision@5, coverage and hubness of the stored similar posts, next to the same figures
for a plain shared-tag count, as one JSON object.
"""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from articles.evaluation import evaluate, live_ids, shared_tag_baseline, stored_neighbours
from articles.models import Article


class Command(BaseCommand):
    help = "Precision@5, coverage and hubness of similar posts against known clusters."

    def add_arguments(self, parser):
        parser.add_argument("--clusters", required=True, type=Path, help="clusters.json of the synthesizer.")

    def handle(self, *args, clusters, **options):
        try:
            by_reference = json.loads(clusters.read_text())
        except (OSError, ValueError) as exc:
            raise CommandError(f"cannot read {clusters}: {exc}") from exc
        ids = dict(Article.objects.filter(reference__in=by_reference).values_list("reference", "pk"))
        cluster_of = {pk: by_reference[reference] for reference, pk in ids.items()}
        live = live_ids() & set(cluster_of)
        if not live:
            raise CommandError("none of the live articles appears in the clusters file")
        report = {
            "articles": len(live),
            "engine": evaluate(stored_neighbours(), cluster_of, live),
            "shared_tag_baseline": evaluate(shared_tag_baseline(live), cluster_of, live),
        }
        self.stdout.write(json.dumps(report, indent=2))
