"""Import throughput and memory on a fresh PostgreSQL database.

    python bench/bench_import.py --count 100000 [--shape combination]

Synthesizes COUNT documents (cached under bench/work/), creates a fresh database, migrates it,
imports the corpus with ``manage.py import_articles`` in a child process (documents per second,
peak resident memory of that process), then imports it again (all unchanged). Prints a JSON
object and writes it to bench/results/import.json.

With ``--search-index-baseline`` the first import runs once more, right after, into a database
of its own without the search index (the ``search_vector`` column and its GIN indexes): the
difference between the two first imports is the search index's cost to it (a target: at most
SEARCH_INDEX_SHARE of it, checked by report.py).
"""

import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

from common import database_parser, production_env, provenance, results_dir

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / "work"
PYTHON = sys.executable


def run(args, env, capture=False):
    """Run a child process; return (seconds, peak RSS in MB, stdout)."""
    started = time.perf_counter()
    process = subprocess.Popen(
        args, cwd=ROOT, env=env, stdout=subprocess.PIPE if capture else subprocess.DEVNULL, text=True
    )
    stdout = process.stdout.read() if capture else ""
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        raise SystemExit(f"{' '.join(map(str, args))} exited with {code}")
    return elapsed, usage.ru_maxrss / 1024, stdout


def psql(sql: str, host: str, database: str = "postgres") -> None:
    subprocess.run(["psql", "-h", host, "-U", "postgres", "-d", database, "-q", "-c", sql], check=True)


def drop_database(name: str, host: str) -> None:
    psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', host)


# The search index: the weighted tsvector a write computes for every article, and its GIN indexes
# (dropped with it). The trigram indexes of "did you mean" stay.
WITHOUT_SEARCH_INDEX = "ALTER TABLE articles_article DROP COLUMN search_vector"


def import_run(corpus: Path, env: dict, count: int, workers: int | None) -> dict:
    """One ``manage.py import_articles`` of the corpus in a child process, and what it did."""
    seconds, rss_mb, out = run(
        [
            PYTHON,
            "manage.py",
            "import_articles",
            str(corpus),
            "--format",
            "json",
            *(["--workers", str(workers)] if workers is not None else []),
        ],
        env,
        capture=True,
    )
    report = json.loads(out)
    return {
        "seconds": round(seconds, 2),
        "docs_per_second": round(count / seconds),
        "peak_rss_mb": round(rss_mb),
        **{key: report[key] for key in ("created", "updated", "unchanged", "stale", "failed")},
    }


def fresh_database(name: str, host: str) -> dict:
    """A new, migrated database of that name; the production environment on it."""
    drop_database(name, host)
    psql(f'CREATE DATABASE "{name}"', host)
    env = production_env(host, name)
    run([PYTHON, "manage.py", "migrate", "--no-input", "-v", "0"], env)
    return env


def main() -> None:
    parser = database_parser(__doc__)
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--shape", default="normal", help="The synthesizer's corpus shape (--shape).")
    parser.add_argument("--keep-db", action="store_true", help="Leave the database for later steps.")
    parser.add_argument("--workers", type=int, default=None, help="Parse workers (default: the command's).")
    parser.add_argument(
        "--search-index-baseline",
        action="store_true",
        help="Also time the first import into a database without the search index.",
    )
    args = parser.parse_args()

    name = f"{args.count}-{args.seed}" if args.shape == "normal" else f"{args.shape}-{args.count}-{args.seed}"
    corpus = WORK / f"corpus-{name}"
    if not (corpus / "clusters.json").exists():
        print(f"synthesizing {args.count} documents into {corpus}", file=sys.stderr)
        env = {**os.environ, "DEBUG": "1"}
        synth_seconds, _, _ = run(
            [PYTHON, "manage.py", "synthesize_articles", "--count", str(args.count), "--seed", str(args.seed),
             "--shape", args.shape, "--out", str(corpus)],
            env,
        )  # fmt: skip
        print(f"synthesized in {synth_seconds:.1f}s", file=sys.stderr)

    env = fresh_database(args.database, args.host)

    results = {
        **provenance(),
        "count": args.count,
        "shape": args.shape,
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
    }
    for label in ("first", "unchanged"):
        results[label] = import_run(corpus, env, args.count, args.workers)
        print(f"{label}: {results[label]}", file=sys.stderr)

    if args.search_index_baseline:
        # Right after the first and the unchanged import, on the machine in the same state.
        plain = f"{args.database}_without_search"
        plain_env = fresh_database(plain, args.host)
        psql(WITHOUT_SEARCH_INDEX, args.host, plain)
        results["first_without_search_index"] = import_run(corpus, plain_env, args.count, args.workers)
        drop_database(plain, args.host)
        first, without = results["first"]["seconds"], results["first_without_search_index"]["seconds"]
        results["search_index_share"] = round((first - without) / first, 3)
        print(f"without the search index: {results['first_without_search_index']}", file=sys.stderr)

    if not args.keep_db:
        drop_database(args.database, args.host)
    results["finished_at"] = provenance()["measured_at"]
    (results_dir() / "import.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
