"""Measure similar posts against the synthesizer's clusters:
``manage.py evaluate_similar --clusters DIR/clusters.json``.

Prints precision@5, coverage and hubness of the stored similar posts, next to the same figures
for two baselines computed on the spot: a plain shared-tag count and a plain IDF-weighted cosine
over the same terms (no frequency cap, no bonus), as one JSON object. ``--methods`` adds other
rankings of the same corpus (``corpus.evaluation.METHODS``), for comparing candidates.
"""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from articles.models import Article
from corpus.evaluation import METHODS, evaluate, live_ids, ranked_by, shared_tag_baseline, stored_neighbours


class Command(BaseCommand):
    help = "Precision@5, coverage and hubness of similar posts against known clusters."

    def add_arguments(self, parser):
        parser.add_argument("--clusters", required=True, type=Path, help="clusters.json of the synthesizer.")
        parser.add_argument(
            "--baselines",
            default="shared_tag,idf_cosine",
            help="Comma-separated baselines to measure (shared_tag, idf_cosine); the shared-tag count "
            "breaks many ties and takes minutes at 100,000 articles.",
        )
        parser.add_argument(
            "--methods",
            default="",
            help=f"Comma-separated rankings to measure as well, among: {', '.join(METHODS)}.",
        )

    def handle(self, *args, clusters, methods, baselines, **options):
        baselines = {name for name in baselines.split(",") if name}
        methods = [name for name in methods.split(",") if name]
        if unknown := set(methods) - set(METHODS):
            raise CommandError(f"unknown methods: {', '.join(sorted(unknown))}")
        try:
            by_reference = json.loads(clusters.read_text())
        except (OSError, ValueError) as exc:
            raise CommandError(f"cannot read {clusters}: {exc}") from exc
        if not isinstance(by_reference, dict) or not all(isinstance(c, str) for c in by_reference.values()):
            raise CommandError(f"{clusters}: expected a JSON object of reference -> cluster name")
        ids = dict(Article.objects.filter(reference__in=by_reference).values_list("reference", "pk"))
        cluster_of = {pk: by_reference[reference] for reference, pk in ids.items()}
        live = live_ids() & set(cluster_of)
        if not live:
            raise CommandError("none of the live articles appears in the clusters file")
        report = {
            "articles": len(live),
            "engine": evaluate(stored_neighbours(), cluster_of, live),
        }
        if "shared_tag" in baselines:
            report["shared_tag_baseline"] = evaluate(shared_tag_baseline(live), cluster_of, live)
        if "idf_cosine" in baselines:
            report["idf_cosine_baseline"] = evaluate(ranked_by("idf_cosine"), cluster_of, live)
        for name in methods:
            report[name] = evaluate(ranked_by(name), cluster_of, live)
        self.stdout.write(json.dumps(report, indent=2))
