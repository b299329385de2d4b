"""Python work per request, in instructions: the application's own CPU work, whatever the load.

    python bench/bench_instructions.py --database kb_bench                     # this working tree
    python bench/bench_instructions.py --database kb_bench --baseline 5fc1750  # and a commit's code

Wall-clock figures move with the machine (these 2-CPU machines differ by about 1.7x, and by a
quarter from minute to minute on a busy one); the number of instructions a request runs does
not. For each kind of URL (an article page, the API detail, home, a browse page, the API lists
and both searches: the URLs whose queries bench_http.py counts, ``pick_urls``), a child process
serves it through Django's test client under valgrind's callgrind with production settings and
the read cache off (``READ_CACHE=0``): once with 3 requests, once with 13, and the difference
over 10 is one request's instructions (start-up and the first requests cancel out). The
database's own work is not counted, only the application process's. ``/health`` varies by about
2 million instructions between runs; the pages run 25 to 120 million.

With ``--baseline REF`` the code of that commit (a ``git worktree`` in a temporary folder, sharing
this virtualenv) is measured the same way on the same database, side by side. Needs valgrind.
Prints a JSON object and writes it to instructions.json in the results directory.
"""

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench_http import pick_urls  # noqa: E402
from common import checkout, collectstatic, database_parser, production_env, provenance, results_dir  # noqa: E402

WARMUP, MEASURED = 3, 10
COLLECTED = re.compile(r"Collected : (\d+)")


def client(root: str, count: int, url: str) -> None:
    """Serve ``url`` ``count`` times (after the warm-up) with the code under ``root``."""
    sys.path.insert(0, root)
    import django

    django.setup()
    from django.test import Client

    browser = Client()
    for number in range(WARMUP + count):
        response = browser.get(url)
        if response.status_code != 200:
            raise SystemExit(f"{url}: {response.status_code} on request {number + 1}")


def instructions(root: Path, url: str, env: dict[str, str]) -> int:
    """Instructions of one request to ``url`` with the code under ``root``."""
    counts = []
    for count in (0, MEASURED):
        done = subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                "--callgrind-out-file=/dev/null",
                sys.executable,
                __file__,
                "--role-client",
                str(root),
                str(count),
                url,
            ],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
        )
        found = COLLECTED.search(done.stderr)
        if done.returncode != 0 or found is None:
            raise SystemExit(f"bench_instructions: {url} under {root} failed:\n{done.stderr[-2000:]}")
        counts.append(int(found[1]))
    return round((counts[1] - counts[0]) / MEASURED)


def main() -> None:
    if len(sys.argv) == 5 and sys.argv[1] == "--role-client":
        client(sys.argv[2], int(sys.argv[3]), sys.argv[4])
        return
    parser = database_parser(__doc__)
    parser.add_argument("--baseline", help="A commit whose code is measured beside this tree's.")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("bench_instructions: valgrind is not installed (Debian: apt-get install valgrind)")
    env = production_env(
        args.host,
        args.database,
        DJANGO_SETTINGS_MODULE="config.settings",
        ALLOWED_HOSTS="testserver",
        READ_CACHE="0",
        API_THROTTLE_ANON="1000000/second",
        API_THROTTLE_USER="1000000/second",
    )
    os.environ.update(env)
    measured_at = provenance()
    import django

    django.setup()
    chosen = pick_urls()["urls"]
    with tempfile.TemporaryDirectory(prefix="bench-instructions-") as scratch:
        with checkout(args.baseline) if args.baseline else contextlib.nullcontext() as baseline:
            trees = {"current": ROOT} if baseline is None else {"baseline": baseline, "current": ROOT}
            measured = {}
            for name, root in trees.items():
                tree_env = {**env, "STATIC_ROOT": str(Path(scratch) / f"static-{name}")}
                collectstatic(tree_env, root)
                measured[name] = {kind: instructions(root, url, tree_env) for kind, url in chosen.items()}
    results = {
        **measured_at,
        "database": args.database,
        "baseline": args.baseline,
        "urls": chosen,
        "instructions_per_request": measured,
    }
    if args.baseline:
        results["change"] = {
            kind: round(measured["current"][kind] / measured["baseline"][kind] - 1, 3) for kind in chosen
        }
    (results_dir() / "instructions.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
