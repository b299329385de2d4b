"""Similar posts against the synthesizer's ground truth, on every corpus shape.

    python bench/evaluate_shapes.py --count 5000 [--shapes combination,noisy] [--methods capped,svd128]

For each shape (corpus/generator.py, SHAPES): synthesize COUNT documents (cached under
bench/work/), import them into a fresh PostgreSQL database (cloned from one migrated template),
rebuild similar posts, and run ``manage.py evaluate_similar``: the engine's precision@5, coverage
and hubness next to the shared-tag and the plain IDF-cosine baselines (and ``--methods``).
Prints a Markdown table and writes bench/results/similar_shapes.json.
"""

import json
import sys
import time
from pathlib import Path

from bench_import import PYTHON, ROOT, WORK, drop_database, psql, run
from common import database_parser, production_env

sys.path.insert(0, str(ROOT))
from corpus.generator import SHAPES  # noqa: E402

RESULTS = ROOT / "bench" / "results"


def main() -> None:
    parser = database_parser(__doc__)
    parser.set_defaults(database="kb_eval_similar")
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--shapes", default=",".join(SHAPES))
    parser.add_argument("--methods", default="")
    parser.add_argument("--out", type=Path, default=RESULTS / "similar_shapes.json")
    args = parser.parse_args()

    template = f"{args.database}_template"
    drop_database(template, args.host)
    psql(f'CREATE DATABASE "{template}"', args.host)
    run([PYTHON, "manage.py", "migrate", "--no-input", "-v", "0"], production_env(args.host, template))

    results = {}
    for shape in args.shapes.split(","):
        corpus = WORK / f"shape-{shape}-{args.count}-{args.seed}"
        if not (corpus / "clusters.json").exists():
            run(
                [PYTHON, "manage.py", "synthesize_articles", "--count", str(args.count), "--seed",
                 str(args.seed), "--shape", shape, "--out", str(corpus)],
                {**production_env(args.host, template), "DEBUG": "1"},
            )  # fmt: skip
        drop_database(args.database, args.host)
        psql(f'CREATE DATABASE "{args.database}" TEMPLATE "{template}"', args.host)
        env = production_env(args.host, args.database)
        run([PYTHON, "manage.py", "import_articles", str(corpus), "--format", "json"], env, capture=True)
        started = time.perf_counter()
        run([PYTHON, "manage.py", "rebuild_similar"], env)
        rebuild = time.perf_counter() - started
        _, _, out = run(
            [PYTHON, "manage.py", "evaluate_similar", "--clusters", str(corpus / "clusters.json"),
             *(["--methods", args.methods] if args.methods else [])],
            env,
            capture=True,
        )  # fmt: skip
        results[shape] = {**json.loads(out), "rebuild_seconds": round(rebuild, 1)}
        print(shape, json.dumps(results[shape]), file=sys.stderr)
    drop_database(args.database, args.host)
    drop_database(template, args.host)

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps({"count": args.count, "seed": args.seed, "shapes": results}, indent=2) + "\n"
    )
    print(table(results))


def table(results: dict) -> str:
    rankings = [
        name for name in next(iter(results.values())) if isinstance(results[next(iter(results))][name], dict)
    ]
    lines = [
        "| shape | " + " | ".join(f"{name} p@5 / cov / hub max/mean" for name in rankings) + " |",
        "|---|" + "---|" * len(rankings),
    ]
    for shape, figures in results.items():
        cells = [
            f"{f['precision_at_5']:.3f} / {f['coverage']:.3f} / {f['hubness_max']}/{f['hubness_mean']}"
            for f in (figures[name] for name in rankings)
        ]
        lines.append(f"| {shape} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
