"""Merge the benchmark results into bench/results/latest.json and a Markdown report, latest.md.

    python bench/report.py            # after bench_import.py, bench_similar.py and bench_http.py
    python bench/report.py --check    # the same, and exit 1 when a target or budget is missed

Reads import.json, similar.json and http.json from bench/results/ (a missing one leaves its
section out and is named in the notes), adds the machine (CPU count and model), the versions
(Python, Django, PostgreSQL server, ...) and the date, and marks every target pass or fail.
"""

import argparse
import datetime as dt
import json
import os
import platform
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PARTS = {
    "import": "bench_import.py",
    "similar": "bench_similar.py",
    "http": "bench_http.py",
}


def load(name: str) -> dict | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def versions(http: dict | None, imported: dict | None) -> dict:
    found = dict((http or {}).get("environment", {}))
    for key in ("cache_backend", "cache_backend_read_cache_on", "postgresql_autovacuum"):
        found.pop(key, None)
    if "django" not in found:
        import django

        found["django"] = django.get_version()
    found.setdefault("python", (imported or {}).get("python") or platform.python_version())
    found.setdefault("postgresql", None)
    return found


def notes_for(parts: dict) -> list[str]:
    """What a reader of the numbers should know: missing parts, mismatches, odd measurements."""
    notes = [
        f"No {name}.json: run bench/{script} first." for name, script in PARTS.items() if not parts[name]
    ]
    counts = {
        "import": (parts["import"] or {}).get("count"),
        "similar": (parts["similar"] or {}).get("articles"),
        "http": (parts["http"] or {}).get("articles"),
    }
    if len({count for count in counts.values() if count is not None}) > 1:
        shown = ", ".join(f"{name}: {count:,}" for name, count in counts.items() if count is not None)
        notes.append(f"The parts ran on different corpora ({shown} articles); rerun them together.")
    http = parts["http"]
    if not http:
        return notes
    if http.get("environment", {}).get("postgresql_autovacuum") == "off":
        ran = "ran VACUUM (ANALYZE) itself" if http["load"].get("vacuumed") else "was run with --no-vacuum"
        notes.append(f"PostgreSQL's autovacuum is off on this server; bench_http.py {ran}.")
    queries = http["queries"].values()
    if all(row["cached_warm"] >= row["cold"] for row in queries):
        notes.append(
            "With the read cache on, a repeated request took as many SQL queries as a cold one for every "
            "URL: the cache did not serve these reads (is READ_CACHE honoured?)."
        )
    load = http["load"]
    for mode, run in http["http"].items():
        for row in run["urls"].values():
            if row["capped"]:
                notes.append(
                    f"{row['label']} ({http['modes'][mode]}): {row['requests']} of {load['requests']} "
                    f"requests within the time bound of {load['max_seconds']:g}s."
                )
        if any(row["headers"].get("set_cookie") for row in run["urls"].values()):
            named = [row["label"] for row in run["urls"].values() if row["headers"].get("set_cookie")]
            notes.append(f"Anonymous responses set a cookie ({http['modes'][mode]}): {', '.join(named)}.")
    rows = [row for run in http["http"].values() for row in run["urls"].values()]
    if retried := sum(row.get("retries", 0) for row in rows):
        notes.append(f"{retried} requests were sent again after the server closed a kept-alive connection.")
    if rows and all(row["connects"] >= row["requests"] for row in rows):
        notes.append(
            "gunicorn's default sync workers close the connection after each response, so the client "
            "reconnected for every request (on loopback this costs little)."
        )
    return notes


# Targets of the import and similar-posts steps at 100,000 articles (the HTTP step has its own).
IMPORT_TARGETS = {"first": 1000, "unchanged": 5000}  # documents per second, at least
PEAK_RSS_MB = 500  # each import run, below
REBUILD_SECONDS = 120
REBUILD_RSS_MB = 500
REFRESH_MS = 50  # median
BLOCK_QUERIES = 1


def step_checks(imported: dict | None, similar: dict | None) -> dict[str, bool]:
    """Pass or fail of each import and similar-posts target, by a readable name."""
    checks = {}
    if imported:
        for run, floor in IMPORT_TARGETS.items():
            checks[f"{run} import ≥ {floor:,} docs/s"] = imported[run]["docs_per_second"] >= floor
            checks[f"{run} import peak < {PEAK_RSS_MB} MB"] = imported[run]["peak_rss_mb"] < PEAK_RSS_MB
    if similar:
        checks[f"rebuild ≤ {REBUILD_SECONDS} s"] = similar["rebuild_seconds"] <= REBUILD_SECONDS
        if "rebuild_peak_rss_mb" in similar:
            checks[f"rebuild peak ≤ {REBUILD_RSS_MB} MB"] = similar["rebuild_peak_rss_mb"] <= REBUILD_RSS_MB
        checks[f"refresh median ≤ {REFRESH_MS} ms"] = similar["refresh_ms_median"] <= REFRESH_MS
        checks[f"similar block = {BLOCK_QUERIES} query"] = similar["similar_block_queries"] == BLOCK_QUERIES
    return checks


def build() -> dict:
    parts = {name: load(name) for name in PARTS}
    imported, similar, http = parts["import"], parts["similar"], parts["http"]
    report = {
        "generated_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "articles": (http or similar or {}).get("articles") or (imported or {}).get("count"),
        "live": (http or similar or {}).get("live"),
        "machine": {
            "cpu_count": os.cpu_count(),
            "cpu_model": cpu_model(),
            "memory_gib": memory_gib(),
            "platform": platform.platform(),
        },
        "versions": versions(http, imported),
        "import": imported,
        "similar": similar,
        # The SQL of each request stays in http.json; the summary keeps the counts.
        "http": {key: value for key, value in http.items() if key != "query_statements_cold"}
        if http
        else None,
    }
    steps = step_checks(imported, similar)
    report["step_checks"] = steps
    passed = sum(steps.values()) + (http["checks"]["passed"] if http else 0)
    total = len(steps) + (http["checks"]["total"] if http else 0)
    report["checks"] = {"passed": passed, "total": total}
    report["passed"] = passed == total
    report["notes"] = notes_for(parts)
    return report


# --- Markdown ---------------------------------------------------------------------------------------


def number(value, digits: int = 0) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int) or digits == 0:
        return f"{round(value):,}"
    return f"{value:,.{digits}f}"


def table(head: list[str], rows: list[list[str]], align: str) -> list[str]:
    """A Markdown table; ``align`` has one letter per column, l or r."""
    rule = ["---:" if letter == "r" else "---" for letter in align]
    return ["| " + " | ".join(cells) + " |" for cells in (head, rule, *rows)] + [""]


def verdict(passed: bool | None) -> str:
    return "—" if passed is None else ("pass" if passed else "**FAIL**")


def markdown(report: dict) -> str:
    out = ["# Benchmark results", ""]
    machine, found = report["machine"], report["versions"]
    cpu = f"{machine['cpu_count']} CPUs" + (f" ({machine['cpu_model']})" if machine["cpu_model"] else "")
    if machine["memory_gib"]:
        cpu += f", {machine['memory_gib']:g} GiB"
    version_names = [
        ("python", "Python"), ("django", "Django"), ("djangorestframework", "DRF"), ("gunicorn", "gunicorn"),
        ("psycopg", "psycopg"), ("postgresql", "PostgreSQL server"),
    ]  # fmt: skip
    shown = ", ".join(f"{label} {found[key]}" for key, label in version_names if found.get(key))
    articles = number(report["articles"])
    if report["live"] is not None:
        articles += f" ({number(report['live'])} live)"
    summary = [
        ["date", report["generated_at"].replace("T", " ").replace("+00:00", " UTC")],
        ["articles", articles],
        ["machine", cpu],
        ["platform", machine["platform"]],
        ["versions", shown],
    ]
    if "checks" in report:
        checks = report["checks"]
        summary.append(
            [
                "targets",
                f"{checks['passed']} of {checks['total']} checks pass"
                f" — {'all met' if report['passed'] else 'some missed'}"
                " (targets are set at 100,000 articles)",
            ]
        )
    out += table(["", ""], summary, "ll")

    if imported := report["import"]:
        out += [
            "## Import",
            "",
            f"{number(imported['count'])} synthesized documents, each run in a child process.",
            "",
        ]
        rows = []
        for key, label in (("first", "first import"), ("unchanged", "again, all unchanged")):
            run = imported[key]
            rows.append(
                [label, number(run["seconds"], 1), number(run["docs_per_second"]), number(run["peak_rss_mb"])]
                + [number(run[field]) for field in ("created", "updated", "unchanged", "failed")]
            )
        head = ["run", "seconds", "docs/s", "peak RSS (MB)", "created", "updated", "unchanged", "failed"]
        out += table(head, rows, "lrrrrrrr")

    if similar := report["similar"]:
        out += ["## Similar posts", ""]
        row = [
            number(similar["articles"]), number(similar["live"]), number(similar["rebuild_seconds"], 1),
            number(similar["refresh_ms_median"], 1), number(similar["refresh_ms_p90"], 1),
            number(similar["similar_block_queries"]),
        ]  # fmt: skip
        head = [
            "articles",
            "live",
            "full rebuild (s)",
            "one refresh, median (ms)",
            "p90 (ms)",
            "block queries",
        ]
        out += table(head, [row], "rrrrrr")

    if steps := report.get("step_checks"):
        out += ["### Import and similar-posts targets", ""]
        out += table(["target", "result"], [[name, verdict(ok)] for name, ok in steps.items()], "ll")

    if http := report["http"]:
        out += http_markdown(http)

    if report["notes"]:
        out += ["## Notes", ""] + [f"- {note}" for note in report["notes"]] + [""]
    return "\n".join(out)


def http_markdown(http: dict) -> list[str]:
    load = http["load"]
    vacuumed = " after VACUUM (ANALYZE)" if load.get("vacuumed") else ""
    out = [
        "## HTTP",
        "",
        f"gunicorn, {load['workers']} workers, production settings (DEBUG off, no access log), on the "
        f"database above{vacuumed}. A client process on loopback sends {number(load['requests'])} "
        f"requests per URL after {number(load['warmup'])} unmeasured ones, {load['concurrency']} at a "
        f"time over keep-alive connections, in {load['rounds']} rounds that visit every URL in turn, "
        "so each median is compared with /health's median of the same run. Every response was a 200. "
        "Latency is from sending the request to reading the whole body.",
        "",
        "Targets (at 100,000 articles), as the median's multiple of /health's: article page and API detail "
        "3× with the read cache on, list and search pages 6×, article page 10× with the cache off; "
        "and no URL above its SQL query budget.",
        "",
    ]
    out += table(
        ["URL", "path"], [[row["label"], f"`{row['path']}`"] for row in http["queries"].values()], "ll"
    )
    for mode, run in http["http"].items():
        title = http["modes"][mode]
        out += [f"### {title[0].upper()}{title[1:]}", ""]
        rows = []
        for row in run["urls"].values():
            target = "—" if row["target"] is None else f"≤ {row['target']}×"
            rows.append(
                [
                    row["label"],
                    number(row["rps"], 1),
                    number(row["median_ms"], 2),
                    number(row["p99_ms"], 2),
                    number(row["ratio"], 2) + "×",
                    target,
                    verdict(row["pass"]),
                ]
            )
        head = ["URL", "req/s", "median (ms)", "p99 (ms)", "median / /health", "target", "result"]
        out += table(head, rows, "lrrrrrl")
        footer = f"Client CPU time for the run: {run['client_cpu_seconds']:g}s."
        if "load_average" in run:
            footer += (
                f" One-minute load average before and after: {run['load_average']['before']:g}, "
                f"{run['load_average']['after']:g} (on {http.get('cpu_count', '?')} CPUs)."
            )
        out += [footer, ""]

    out += [
        "## SQL queries per request",
        "",
        "One anonymous request to each URL through Django's test client with the production settings: "
        "cold with the read cache off, then twice with it on. The budget applies to the cold count.",
        "",
    ]
    rows = [
        [
            row["label"],
            number(row["cold"]),
            number(row["cached_first"]),
            number(row["cached_warm"]),
            f"≤ {row['budget']}",
            row["budget_source"],
            verdict(row["pass"]),
        ]
        for row in http["queries"].values()
    ]
    head = ["URL", "cache off", "cache on, first", "cache on, again", "budget", "budget from", "result"]
    out += table(head, rows, "lrrrrll")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true", help="Exit 1 when a target or budget is missed.")
    args = parser.parse_args()
    report = build()
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(report, indent=2) + "\n")
    (RESULTS / "latest.md").write_text(markdown(report))
    print(f"wrote {RESULTS / 'latest.json'} and {RESULTS / 'latest.md'}", file=sys.stderr)
    for note in report["notes"]:
        print(f"note: {note}", file=sys.stderr)
    if args.check and not report.get("passed", False):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
