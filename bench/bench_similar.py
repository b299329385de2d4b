"""Similar posts at scale: full rebuild time and peak memory, incremental refresh time after real
changes, and the page's query.

    python bench/bench_import.py --count 100000 --shape combination --keep-db   # leaves kb_bench
    python bench/bench_similar.py --count 100000 --shape combination            # measures on it

The refreshes follow changes of content: sampled live articles get a new version from the
synthesizer (same site), half of them of another topic, half of their own. Each change is
imported inside ``similarity.deferred()``, so the refresh runs, and is timed, on its own.
Prints a JSON object and writes it to bench/results/similar.json.
"""

import json
import os
import random
import statistics
import sys
import time

from bench_import import PYTHON, ROOT, run
from common import database_parser, production_env, provenance, results_dir

sys.path.insert(0, str(ROOT))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return round(ordered[max(0, int(len(ordered) * share) - 1)], 1)


def main() -> None:
    parser = database_parser(__doc__)
    parser.add_argument("--refreshes", type=int, default=40)
    parser.add_argument("--count", type=int, default=100_000, help="The corpus's size (bench_import's).")
    parser.add_argument("--seed", type=int, default=2026, help="The corpus's seed (bench_import's).")
    parser.add_argument("--shape", default="combination", help="The corpus's shape (bench_import's).")
    args = parser.parse_args()
    env = production_env(args.host, args.database)
    os.environ.update(env)
    measured = provenance()
    rebuild_seconds, rebuild_rss_mb, _ = run([PYTHON, "manage.py", "rebuild_similar"], env)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from articles import similarity
    from articles.models import Article
    from articles.similarity import incremental
    from corpus.generator import synthesize_document
    from releases.importing import Source, import_documents

    live = list(Article.objects.live().order_by("pk").values_list("pk", "reference", "topic"))
    rng = random.Random(7)
    spare = args.count  # replacement documents come from past the corpus's end
    timings: dict[str, list[float]] = {"topic": [], "same topic": []}
    changed: dict[str, int] = {"topic": 0, "same topic": 0}
    for number, (pk, reference, topic) in enumerate(rng.sample(live, min(args.refreshes, len(live)))):
        kind = "topic" if number % 2 == 0 else "same topic"
        while True:
            document = synthesize_document(spare, seed=args.seed, difficulty=args.shape)
            spare += 1
            same_topic = document.cluster == topic
            if document.reference[:3] == reference[:3] and same_topic == (kind == "same topic"):
                break
        text = document.text.replace(f"reference{document.reference}", f"reference{reference}")
        text = text.replace("needs human review: 1", "needs human review: 0").replace(
            "status: draft", "status: reviewed"
        )
        text = _bump(text, number)
        deferral = similarity.deferred()
        deferral.__enter__()
        before = Article.objects.values("source_digest", "body_text", "topic").get(pk=pk)
        report = import_documents([Source(f"{reference}.txt", text.encode())])
        assert report.counts["updated"] == 1, report
        _check_changed(pk, before, kind, incremental)
        changed[kind] += 1
        begin = time.perf_counter()
        deferral.__exit__(None, None, None)
        timings[kind].append((time.perf_counter() - begin) * 1000)
    every = timings["topic"] + timings["same topic"]
    with CaptureQueriesContext(connection) as queries:
        similarity.neighbours_for([live[0][0]], limit=5)
    results = {
        **measured,
        "finished_at": provenance()["measured_at"],
        "articles": Article.objects.count(),
        "live": len(live),
        "shape": args.shape,
        "cpu_count": os.cpu_count(),
        "rebuild_seconds": round(rebuild_seconds, 1),
        "rebuild_peak_rss_mb": round(rebuild_rss_mb),
        "refreshes": len(every),
        "refresh_ms_median": round(statistics.median(every), 1),
        "refresh_ms_p90": percentile(every, 0.9),
        "refresh_ms_median_topic_change": round(statistics.median(timings["topic"]), 1),
        "refresh_ms_median_same_topic": round(statistics.median(timings["same topic"]), 1),
        "similar_block_queries": len(queries),
        # Each timed refresh followed a change of the live content that the refresh was asked for.
        "refreshes_verified": changed,
    }
    out = results_dir() / "similar.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


def _check_changed(pk: int, before: dict, kind: str, incremental) -> None:
    """The refresh about to be timed follows a real change: the article is live with the new
    document's content (its topic another one, or the same with another text) and it is among the
    articles the deferred refresh will bring up to date."""
    from articles.models import Article

    after = Article.objects.live().values("source_digest", "body_text", "topic").filter(pk=pk).first()
    problems = []
    if after is None:
        problems.append("the article is no longer live")
    else:
        if after["source_digest"] == before["source_digest"] or after["body_text"] == before["body_text"]:
            problems.append("the live content did not change")
        if (after["topic"] != before["topic"]) != (kind == "topic"):
            problems.append(f"the topic went from {before['topic']!r} to {after['topic']!r} ({kind})")
    if pk not in incremental._deferral.stack[-1]:
        problems.append("the import asked for no refresh of it")
    if problems:
        raise SystemExit(f"bench_similar: article {pk}: " + "; ".join(problems))


def _bump(text: str, number: int) -> str:
    """A version above any the synthesizer writes (and any earlier run's), so the change is
    imported as an update."""
    import re

    return re.sub(r"version: [0-9.]+", f"version: 900.{int(time.time()) % 10**8}.{number}", text, count=1)


if __name__ == "__main__":
    main()
