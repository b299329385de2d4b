"""Lighthouse on the reader's pages, uncached, at the benchmark's scale: what a reader on a phone
feels, measured by a tool this project did not write.

    python bench/bench_lighthouse.py --database kb_bench   # after bench_http.py

1. serves the app with gunicorn (production settings, the read cache off) on the benchmark
   database, as ``bench_http.py`` does;
2. runs Lighthouse (npm's ``lighthouse``, pinned in package.json, driving Debian's chromium) on the
   pages ``bench_http.py`` picked for the same database (its ``http.json``): the home page, the
   first article, browse and search pages. Lighthouse's defaults: a mid-range phone on a slow 4G
   network, simulated (its Lantern model over the observed load), the four categories;
3. runs each page ``--runs`` times and keeps the run of median performance score (Lighthouse's
   advice for its run-to-run spread);
4. writes ``lighthouse.json`` to the results directory: each page's scores, metrics (first and
   largest contentful paint, total blocking time, layout shift, speed index, the server's
   response time), the audits it failed, and whether it asks not to be indexed. ``report.py``
   adds the checks: every category at least 0.9 (Lighthouse's "good") on every page, but SEO on a
   page that asks not to be indexed (the search page's ``noindex``: a search's answers are no
   content of their own), to which Lighthouse's SEO category, about being indexed, does not apply.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

from bench_http import Server, app_env
from common import ROOT, collectstatic, database_parser, provenance, results_dir

LIGHTHOUSE = ROOT / "node_modules" / ".bin" / "lighthouse"
CHROMIUM = "/usr/bin/chromium"
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
METRICS = {
    "first-contentful-paint": "fcp_ms",
    "largest-contentful-paint": "lcp_ms",
    "total-blocking-time": "tbt_ms",
    "cumulative-layout-shift": "cls",
    "speed-index": "speed_index_ms",
    "server-response-time": "server_response_ms",
}
PAGES = {"home": "home", "article": "article page", "browse": "browse", "search": "site search"}
WORK = ROOT / "bench" / "work"


def lighthouse(url: str) -> dict:
    """One Lighthouse run of ``url``: its JSON report (a run Chromium could not trace is retried)."""
    command = [
        str(LIGHTHOUSE),
        url,
        "--output=json",
        "--output-path=stdout",
        "--quiet",
        f"--only-categories={','.join(CATEGORIES)}",
        "--chrome-flags=--headless=new --no-sandbox --disable-gpu --no-first-run",
    ]
    for _attempt in range(3):
        done = subprocess.run(
            command, capture_output=True, text=True, env={**os.environ, "CHROME_PATH": CHROMIUM}, timeout=300
        )
        if done.returncode == 0:
            report = json.loads(done.stdout)
            if not report.get("runtimeError"):
                return report
        print(f"lighthouse: run of {url} failed, again: {done.stderr[-500:]}", file=sys.stderr)
    raise SystemExit(f"bench_lighthouse: Lighthouse could not measure {url}")


def summarise(report: dict) -> dict:
    audits = report["audits"]
    failed = sorted(
        {
            audit_ref["id"]
            for category in report["categories"].values()
            for audit_ref in category["auditRefs"]
            if audit_ref.get("weight", 0) > 0
            and audits[audit_ref["id"]].get("score") is not None
            and audits[audit_ref["id"]]["score"] < 0.9
        }
    )
    return {
        "scores": {name: report["categories"][name]["score"] for name in CATEGORIES},
        "metrics": {
            key: round(audits[audit]["numericValue"], 3 if key == "cls" else 0)
            for audit, key in METRICS.items()
            if audits.get(audit, {}).get("numericValue") is not None
        },
        "failed_audits": {name: audits[name]["title"] for name in failed},
        "noindex": _asks_not_to_be_indexed(audits),
        "lighthouse": report["lighthouseVersion"],
        "user_agent": report.get("environment", {}).get("hostUserAgent"),
    }


def _asks_not_to_be_indexed(audits: dict) -> bool:
    """Whether the page itself asks search engines not to index it (a robots meta tag with
    ``noindex``), as Lighthouse's ``is-crawlable`` audit found it."""
    items = (audits.get("is-crawlable", {}).get("details") or {}).get("items") or []
    sources = [item.get("source") or {} for item in items]
    return any(
        source.get("type") == "node" and "noindex" in source.get("snippet", "").lower() for source in sources
    )


def main() -> None:
    parser = database_parser(__doc__)
    parser.add_argument("--runs", type=int, default=3, help="Lighthouse runs per page (the median is kept).")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers.")
    args = parser.parse_args()
    for needed, how in (
        (LIGHTHOUSE, "scripts/ensure-test-tools"),
        (Path(CHROMIUM), "scripts/ensure-chromium"),
    ):
        if not needed.exists():
            raise SystemExit(f"bench_lighthouse: {needed} is missing: run {how} (make bench does)")
    http = results_dir() / "http.json"
    if not http.exists():
        raise SystemExit(f"bench_lighthouse: {http} is missing: run bench/bench_http.py first")
    picked = json.loads(http.read_text())
    if picked.get("database") != args.database:
        raise SystemExit(f"bench_lighthouse: {http} measured {picked.get('database')}, not {args.database}")

    measured = provenance()
    env = app_env(args, read_cache=False)
    collectstatic(env)
    pages = {}
    with Server(env, args.workers, WORK / "gunicorn-lighthouse.log") as server:
        for name, label in PAGES.items():
            url = f"http://127.0.0.1:{server.port}{picked['urls'][name]}"
            print(f"lighthouse: {label} ({args.runs} runs)", file=sys.stderr)
            runs = [summarise(lighthouse(url)) for _ in range(args.runs)]
            runs.sort(key=lambda run: run["scores"]["performance"])
            kept = runs[(len(runs) - 1) // 2]
            pages[name] = {
                "label": label,
                "path": picked["urls"][name],
                **kept,
                "performance_runs": [run["scores"]["performance"] for run in runs],
                "lcp_ms_runs": [run["metrics"].get("lcp_ms") for run in runs],
            }
    results = {
        **measured,
        "finished_at": provenance()["measured_at"],
        "database": args.database,
        "articles": picked.get("articles"),
        "runs": args.runs,
        "settings": "Lighthouse defaults: mobile emulation, simulated slow 4G and 4x CPU slowdown",
        "read_cache": False,
        "pages": pages,
    }
    (results_dir() / "lighthouse.json").write_text(json.dumps(results, indent=2) + "\n")
    for page in pages.values():
        scores = " ".join(f"{name} {score:.2f}" for name, score in page["scores"].items())
        print(f"{page['label']}: {scores}; LCP {page['metrics'].get('lcp_ms')} ms", file=sys.stderr)


if __name__ == "__main__":
    main()
