"""Similar posts at scale: full rebuild time, incremental refresh time, and the page's query.

    python bench/bench_import.py --count 100000 --keep-db   # leaves kb_bench with the corpus
    python bench/bench_similar.py                            # measures on it

Prints a JSON object and writes it to bench/results/similar.json.
"""

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

from common import production_env

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", default="kb_bench")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--refreshes", type=int, default=30)
    args = parser.parse_args()
    env = production_env(args.host, args.database)
    os.environ.update(env)
    started = time.perf_counter()
    subprocess.run([sys.executable, "manage.py", "rebuild_similar"], cwd=ROOT, env=env, check=True)
    rebuild_seconds = time.perf_counter() - started

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from articles import similarity
    from articles.models import Article

    ids = list(Article.objects.live().values_list("pk", flat=True))
    rng = random.Random(7)
    timings = []
    for pk in rng.sample(ids, min(args.refreshes, len(ids))):
        begin = time.perf_counter()
        similarity.refresh([pk])
        timings.append((time.perf_counter() - begin) * 1000)
    with CaptureQueriesContext(connection) as queries:
        similarity.neighbours_for([ids[0]], limit=5)
    results = {
        "articles": Article.objects.count(),
        "live": len(ids),
        "rebuild_seconds": round(rebuild_seconds, 1),
        "refresh_ms_median": round(statistics.median(timings), 1),
        "refresh_ms_p90": round(sorted(timings)[int(len(timings) * 0.9) - 1], 1),
        "similar_block_queries": len(queries),
    }
    out = ROOT / "bench" / "results" / "similar.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
