"""Import throughput and memory on a fresh PostgreSQL database.

    python bench/bench_import.py --count 100000 [--shape combination]

Synthesizes COUNT documents (cached under bench/work/), creates a fresh database, migrates it,
imports the corpus with ``manage.py import_articles`` in a child process (documents per second,
peak resident memory of that process), then imports it again (all unchanged). Prints a JSON
object and writes it to bench/results/import.json.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

from common import production_env, provenance, results_dir

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


def psql(sql: str, host: str) -> None:
    subprocess.run(["psql", "-h", host, "-U", "postgres", "-d", "postgres", "-q", "-c", sql], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--shape", default="normal", help="The synthesizer's corpus shape (--shape).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--keep-db", action="store_true", help="Leave the database for later steps.")
    parser.add_argument("--database", default="kb_bench")
    parser.add_argument("--workers", type=int, default=None, help="Parse workers (default: the command's).")
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

    psql(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)', args.host)
    psql(f'CREATE DATABASE "{args.database}"', args.host)
    env = production_env(args.host, args.database)
    run([PYTHON, "manage.py", "migrate", "--no-input", "-v", "0"], env)

    results = {
        **provenance(),
        "count": args.count,
        "shape": args.shape,
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
    }
    for label in ("first", "unchanged"):
        seconds, rss_mb, out = run(
            [
                PYTHON,
                "manage.py",
                "import_articles",
                str(corpus),
                "--format",
                "json",
                *(["--workers", str(args.workers)] if args.workers is not None else []),
            ],
            env,
            capture=True,
        )
        report = json.loads(out)
        results[label] = {
            "seconds": round(seconds, 2),
            "docs_per_second": round(args.count / seconds),
            "peak_rss_mb": round(rss_mb),
            **{key: report[key] for key in ("created", "updated", "unchanged", "stale", "failed")},
        }
        print(f"{label}: {results[label]}", file=sys.stderr)

    if not args.keep_db:
        psql(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)', args.host)
    results["finished_at"] = provenance()["measured_at"]
    (results_dir() / "import.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
