"""Merge the benchmark results into bench/results/latest.json and a Markdown report, latest.md.

    python bench/report.py            # after bench_import.py, bench_similar.py and bench_http.py
    python bench/report.py --check    # the same, and exit 1 when a target or budget is missed

Reads import.json, similar.json, http.json, parse.json and lighthouse.json from the results
directory (bench/results, or ``BENCH_RESULTS``; a missing one leaves its section out and is named
in the notes), adds the machine (CPU count and model), the versions (Python, Django, PostgreSQL
server, ...), the commit and time of each section's measurement (with a warning when they
differ), and marks every target pass or fail.
"""

import argparse
import datetime as dt
import json
import os
import platform
import sys
from pathlib import Path

from bench_lighthouse import CATEGORIES as LIGHTHOUSE_CATEGORIES
from common import provenance, results_dir

ROOT = Path(__file__).resolve().parent.parent
RESULTS = results_dir()
PARTS = {
    "import": "bench_import.py",
    "similar": "bench_similar.py",
    "http": "bench_http.py",
    "parse": "bench_parse.py",
    "lighthouse": "bench_lighthouse.py",
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
        f"No {name}.json: run bench/{script} first." for name, script in PARTS.items() if not parts.get(name)
    ]
    counts = {
        "import": (parts["import"] or {}).get("count"),
        "similar": (parts["similar"] or {}).get("articles"),
        "http": (parts["http"] or {}).get("articles"),
    }
    if len({count for count in counts.values() if count is not None}) > 1:
        shown = ", ".join(f"{name}: {count:,}" for name, count in counts.items() if count is not None)
        notes.append(f"The parts ran on different corpora ({shown} articles); rerun them together.")
    measured = {name: part.get("commit") for name, part in parts.items() if part}
    if len(set(measured.values())) > 1:
        shown = ", ".join(f"{name}: {(commit or 'unknown')[:10]}" for name, commit in measured.items())
        notes.append(f"The sections were measured on different commits ({shown}): rerun them together.")
    unknown = [name for name, part in parts.items() if part and not part.get("commit")]
    if unknown:
        notes.append(f"No commit recorded for {', '.join(unknown)} (measured before results named one).")
    dirty = [name for name, part in parts.items() if part and part.get("dirty")]
    if dirty:
        notes.append(
            f"{', '.join(dirty)} ran on a working tree with changes beside its commit: the numbers may "
            "not be the commit's."
        )
    http = parts["http"]
    if not http:
        return notes
    if not http.get("at_scale", True):
        notes.append(
            f"The HTTP targets are set at {http['targets'].get('scale', 100_000):,} articles; this corpus "
            f"has {http['articles']:,}: their results are reported, not counted."
        )
    if (mixed := http.get("mixed")) and mixed.get("hit_rate") is None:
        notes.append(
            "The read cache's hit rate in the mixed run is unknown: no answer carried an X-Read-Cache header."
        )
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
PARSE_SHARE = 0.95  # the parser's speed, at least this share of its baseline commit's
SEARCH_INDEX_SHARE = 0.10  # the search index's cost to the first import, at most this share of it
STEP_SCALE = 100_000  # articles the targets above are set at


def step_checks(imported: dict | None, similar: dict | None, parse: dict | None = None) -> dict[str, bool]:
    """Pass or fail of each import, similar-posts and parser target, by a readable name."""
    checks = {}
    if imported:
        for run, floor in IMPORT_TARGETS.items():
            checks[f"{run} import ≥ {floor:,} docs/s"] = imported[run]["docs_per_second"] >= floor
            checks[f"{run} import peak < {PEAK_RSS_MB} MB"] = imported[run]["peak_rss_mb"] < PEAK_RSS_MB
        if "search_index_share" in imported:
            name = f"search index ≤ {SEARCH_INDEX_SHARE:.0%} of the first import's time"
            checks[name] = imported["search_index_share"] <= SEARCH_INDEX_SHARE
    if similar:
        checks[f"rebuild ≤ {REBUILD_SECONDS} s"] = similar["rebuild_seconds"] <= REBUILD_SECONDS
        if "rebuild_peak_rss_mb" in similar:
            checks[f"rebuild peak ≤ {REBUILD_RSS_MB} MB"] = similar["rebuild_peak_rss_mb"] <= REBUILD_RSS_MB
        checks[f"refresh median ≤ {REFRESH_MS} ms"] = similar["refresh_ms_median"] <= REFRESH_MS
        checks[f"similar block = {BLOCK_QUERIES} query"] = similar["similar_block_queries"] == BLOCK_QUERIES
    if parse and "current_vs_baseline" in parse:
        name = f"parser ≥ {PARSE_SHARE:.0%} of {parse['baseline']['ref']}'s speed"
        checks[name] = parse["current_vs_baseline"] >= PARSE_SHARE
    return checks


LIGHTHOUSE_MIN = 0.9  # every category, Lighthouse's "good"


def lighthouse_checks(lighthouse: dict | None) -> dict[str, bool]:
    """Each page's Lighthouse categories at least LIGHTHOUSE_MIN; SEO only where a page may be
    indexed (the search page asks not to be: SEO is about being indexed)."""
    checks = {}
    for page in (lighthouse or {}).get("pages", {}).values():
        scores = {
            name: score for name, score in page["scores"].items() if not (page["noindex"] and name == "seo")
        }
        checks[f"Lighthouse, {page['label']}: every category ≥ {LIGHTHOUSE_MIN}"] = all(
            score is not None and score >= LIGHTHOUSE_MIN for score in scores.values()
        )
    return checks


def build() -> dict:
    parts = {name: load(name) for name in PARTS}
    imported, similar, http, parse = parts["import"], parts["similar"], parts["http"], parts["parse"]
    lighthouse = parts["lighthouse"]
    report = {
        "generated_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "generated_on": provenance(),
        "measured": {
            name: {key: part.get(key) for key in ("commit", "dirty", "measured_at", "finished_at")}
            for name, part in parts.items()
            if part
        },
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
        "parse": parse,
        "lighthouse": lighthouse,
        # The SQL of each request stays in http.json; the summary keeps the counts.
        "http": {
            key: value for key, value in http.items() if key not in ("query_statements_cold", "mixed_urls")
        }
        if http
        else None,
    }
    steps = step_checks(imported, similar, parse) | lighthouse_checks(lighthouse)
    report["step_checks"] = steps
    # Like the HTTP targets, these are set at 100,000 documents: a smaller corpus reports them only.
    report["steps_at_scale"] = (report["articles"] or 0) >= STEP_SCALE
    counted = steps if report["steps_at_scale"] else {}
    passed = sum(counted.values()) + (http["checks"]["passed"] if http else 0)
    total = len(counted) + (http["checks"]["total"] if http else 0)
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
                "checks",
                f"{checks['passed']} of {checks['total']} pass"
                f" — {'all met' if report['passed'] else 'some missed'}"
                + (
                    " (targets are set at 100,000 articles)"
                    if report.get("steps_at_scale", True)
                    else " (query budgets and the mixed run's checks: the targets are set at 100,000 "
                    "articles and only shown here)"
                ),
            ]
        )
    out += table(["", ""], summary, "ll")
    out += measured_markdown(report)

    if imported := report["import"]:
        out += [
            "## Import",
            "",
            f"{number(imported['count'])} synthesized documents, each run in a child process.",
            "",
        ]
        rows = []
        runs = (
            ("first", "first import"),
            ("unchanged", "again, all unchanged"),
            ("first_without_search_index", "first import without the search index"),
        )
        for key, label in runs:
            if key not in imported:
                continue
            run = imported[key]
            rows.append(
                [label, number(run["seconds"], 1), number(run["docs_per_second"]), number(run["peak_rss_mb"])]
                + [number(run[field]) for field in ("created", "updated", "unchanged", "failed")]
            )
        head = ["run", "seconds", "docs/s", "peak RSS (MB)", "created", "updated", "unchanged", "failed"]
        out += table(head, rows, "lrrrrrrr")
        if "search_index_share" in imported:
            out += [
                "The search index (the `search_vector` column a write computes and its GIN indexes) "
                f"costs the first import {imported['search_index_share']:.1%} of its time: the last "
                "run, right after the first, went into a database without it.",
                "",
            ]

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

    if parse := report.get("parse"):
        out += ["## Parser", ""]
        out += [
            f"`articles.parsing.parse_page` over {number(parse['documents'])} documents "
            f"({parse['shape']} shape), {parse['rounds']} rounds of CPU time, median.",
            "",
        ]
        baseline = parse.get("baseline")
        share = f"{parse['current_vs_baseline']:.3f}" if baseline else "—"
        rows = [["this commit", number(parse["docs_per_second_median"]), share]]
        if baseline:
            rows.append(
                [f"`{baseline['ref']}`, interleaved", number(baseline["docs_per_second_median"]), "1.000"]
            )
        out += table(["parser", "docs/s", "share of baseline"], rows, "lrr")

    if lighthouse := report.get("lighthouse"):
        out += lighthouse_markdown(lighthouse)

    if steps := report.get("step_checks"):
        out += ["### Import, similar-posts, parser and Lighthouse targets", ""]
        if report.get("steps_at_scale", True):
            rows = [[name, verdict(ok)] for name, ok in steps.items()]
        else:
            out += [f"Set at {STEP_SCALE:,} articles: shown for this corpus, not counted.", ""]
            mark = f" (targets are set at {STEP_SCALE:,})"
            rows = [[name, ("pass" if ok else "miss") + mark] for name, ok in steps.items()]
        out += table(["target", "result"], rows, "ll")

    if http := report["http"]:
        out += http_markdown(http)

    if report["notes"]:
        out += ["## Notes", ""] + [f"- {note}" for note in report["notes"]] + [""]
    return "\n".join(out)


def lighthouse_markdown(lighthouse: dict) -> list[str]:
    out = [
        "## Lighthouse",
        "",
        f"Lighthouse {next(iter(lighthouse['pages'].values()))['lighthouse']} on the reader's pages, "
        f"the read cache off ({lighthouse['settings']}); of {lighthouse['runs']} runs per page, the one "
        "of median performance score. Times in ms, as Lighthouse's model of that phone and network "
        "puts them.",
        "",
    ]
    rows = []
    for page in lighthouse["pages"].values():
        scores, metrics = page["scores"], page["metrics"]
        rows.append(
            [page["label"]]
            + [
                number(scores.get(name), 2) if scores.get(name) is not None else "—"
                for name in LIGHTHOUSE_CATEGORIES
            ]
            + [number(metrics.get(key)) for key in ("fcp_ms", "lcp_ms", "tbt_ms")]
            + [number(metrics.get("cls"), 3), number(metrics.get("server_response_ms"))]
        )
    head = [
        "page",
        "performance",
        "accessibility",
        "best practices",
        "SEO",
        "FCP",
        "LCP",
        "TBT",
        "CLS",
        "server",
    ]
    out += table(head, rows, "lrrrrrrrrr")
    failed = [
        f"- {page['label']}: "
        + "; ".join(f"{title} (`{name}`)" for name, title in page["failed_audits"].items())
        for page in lighthouse["pages"].values()
        if page["failed_audits"]
    ]
    if failed:
        out += ["Audits scored under 0.9:", "", *failed, ""]
    noindex = [page["label"] for page in lighthouse["pages"].values() if page["noindex"]]
    if noindex:
        out += [
            f"Not indexed on purpose (`noindex`), so not held to the SEO check: {', '.join(noindex)}.",
            "",
        ]
    return out


def measured_markdown(report: dict) -> list[str]:
    """Which commit and when each section was measured, with a warning when they differ."""
    measured = report.get("measured") or {}
    if not measured:
        return []
    rows = []
    for name, part in measured.items():
        commit = part.get("commit")
        tree = "—" if part.get("dirty") is None else ("with changes" if part["dirty"] else "clean")
        when = (part.get("measured_at") or "—").replace("T", " ").replace("+00:00", " UTC")
        rows.append([name, f"`{commit[:12]}`" if commit else "unknown", tree, when])
    out = ["Each section's measurement:", ""]
    out += table(["section", "commit", "working tree", "measured at"], rows, "llll")
    commits = {part.get("commit") for part in measured.values()}
    if len(commits) > 1:
        out += ["**Warning: the sections come from different commits.** Compare them with care.", ""]
    return out


def http_markdown(http: dict) -> list[str]:
    load = http["load"]
    vacuumed = " after VACUUM (ANALYZE)" if load.get("vacuumed") else ""
    at_scale = http.get("at_scale", True)
    scale = http["targets"].get("scale", 100_000)
    spread = http.get("spread") or {}
    out = [
        "## HTTP: what readers feel",
        "",
        f"gunicorn, {load['workers']} workers, production settings (DEBUG off), an access log that "
        f"records each request's server time (`{load.get('access_log', '')}`), on the database above"
        f"{vacuumed}. A client process on loopback sends {number(load['requests'])} requests per kind "
        f"of URL after a warm-up, {load['concurrency']} at a time, in {load['rounds']} rounds that visit "
        "every kind in turn with /health among them, so each median is compared with /health's median "
        "of the same run; a kind's requests go to the URLs of its spread in turn. Every response was a "
        "200. Latency is from sending the request to reading the whole body (client); server time is "
        "gunicorn's `%(D)s`, from reading the request to writing the response. The set runs twice: "
        "read cache on, and off (`READ_CACHE=0`).",
        "",
    ]
    verdicts = http.get("verdicts") or {}
    runs = http["http"]
    if verdicts and "cached" in runs and "uncached" in runs:
        out += [
            "### Cached and uncached, as multiples of /health",
            "",
        ]
        if not at_scale:
            out += [
                f"Targets are set at {scale:,} articles; this run has {number(http['articles'])}: the "
                "results are shown, marked, and not counted.",
                "",
            ]
        rows = []
        for name, judged in verdicts.items():
            cached, uncached = runs["cached"]["urls"][name], runs["uncached"]["urls"][name]
            targets = [f"cached ≤ {cached['target']}×"] if cached.get("target") else []
            if uncached.get("target"):
                targets.append(f"uncached ≤ {uncached['target']}×")
            if uncached.get("server_target_ms"):
                targets.append(f"uncached server ≤ {uncached['server_target_ms']} ms")
            if judged["pass"] is None:
                result = "—"
            elif judged["pass"]:
                result = "pass" if at_scale else f"pass (targets are set at {scale:,})"
            else:
                missed = "; ".join(judged["missed"])
                result = (
                    f"**FAIL**: {missed}" if at_scale else f"miss: {missed} (targets are set at {scale:,})"
                )
            rows.append(
                [
                    cached["label"],
                    number(cached["ratio"], 2) + "×",
                    number(uncached["ratio"], 2) + "×",
                    number(uncached.get("server_median_ms"), 1),
                    ", ".join(targets) or "—",
                    result,
                ]
            )
        head = [
            "URL",
            "cached median ×",
            "uncached median ×",
            "uncached server median (ms)",
            "targets",
            "result",
        ]
        out += table(head, rows, "lrrrll")

    out += [
        "### The URLs",
        "",
        "Each kind is a spread of real URLs from the database, visited in turn, so that neither the read "
        "cache nor PostgreSQL's buffers see one hot URL: articles spread evenly over the corpus (each "
        "with similar posts where its neighbourhood has one), the most used stack tags, searches for "
        "the parts of those articles' topics, the API list filtered by those stacks and the most common "
        "difficulties, ordered by `-quality`. The home page and the API list are one URL each: their "
        "first page is what nearly every reader asks for (deeper pages are in the mixed run). SQL "
        "queries are counted on the first URL of each kind.",
        "",
    ]
    out += table(
        ["URL", "URLs in the spread", "first of them"],
        [
            [row["label"], number(len(spread.get(name, [row["path"]]))), f"`{row['path']}`"]
            for name, row in http["queries"].items()
        ],
        "lrl",
    )
    for mode, run in runs.items():
        title = http["modes"][mode]
        out += [f"### {title[0].upper()}{title[1:]}", ""]
        rows = []
        for row in run["urls"].values():
            target = "—" if row["target"] is None else f"≤ {row['target']}×"
            if row.get("server_target_ms"):
                target += f", server ≤ {row['server_target_ms']} ms"
            rows.append(
                [
                    row["label"],
                    number(row.get("paths", 1)),
                    number(row["rps"], 1),
                    number(row["median_ms"], 2),
                    number(row["p99_ms"], 2),
                    number(row.get("server_median_ms"), 2),
                    number(row.get("server_p99_ms"), 2),
                    number(row["ratio"], 2) + "×",
                    target,
                ]
            )
        head = [
            "URL", "URLs", "req/s", "median (ms)", "p99 (ms)", "server median (ms)", "server p99 (ms)",
            "median / /health", "target",
        ]  # fmt: skip
        out += table(head, rows, "lrrrrrrrl")
        footer = f"Client CPU time for the run: {run['client_cpu_seconds']:g}s."
        if "load_average" in run:
            footer += (
                f" One-minute load average before and after: {run['load_average']['before']:g}, "
                f"{run['load_average']['after']:g} (on {http.get('cpu_count', '?')} CPUs)."
            )
        out += [footer, ""]

    if mixed := http.get("mixed"):
        out += mixed_markdown(mixed, load)

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


def mixed_markdown(mixed: dict, load: dict) -> list[str]:
    editor, imported = mixed["editor"], mixed["import"]
    hit_rate = (
        "unknown (no answer carried `X-Read-Cache`)"
        if mixed["hit_rate"] is None
        else f"{mixed['hit_rate']:.1%}"
    )
    weights = ", ".join(f"{name} {weight}" for name, weight in mixed.get("weights", {}).items())
    out = [
        "## Mixed run: readers while an editor and an import write",
        "",
        f"{mixed['seconds']:g} s with the read cache on, gunicorn {load['workers']} workers. "
        f"{mixed['concurrency']} readers each request a random kind (weights: {weights}) and a random URL "
        "of its spread (many articles, home pages 1..n, browse pages of many stack tags, searches, API "
        "list pages, details and filtered lists). Meanwhile an editor, through the API with a staff "
        "token, saves a draft (`PATCH`) every second and every tenth second submits, approves and "
        f"publishes it; and `manage.py import_articles` imports {number(imported['documents'])} new "
        f"synthesized documents, starting {imported.get('started_after_seconds', 0):g} s in.",
        "",
    ]
    rows = []
    for row in mixed["kinds"].values():
        counted = row["cache"]["hit"] + row["cache"]["miss"]
        rows.append(
            [
                row["label"],
                number(row["paths"]),
                number(row["requests"]),
                number(row["rps"], 1),
                number(row["p50_ms"], 2),
                number(row["p99_ms"], 2),
                number(row["errors"]),
                "—" if not counted else f"{row['hit_rate']:.1%}",
            ]
        )
    head = ["URL", "URLs", "requests", "req/s", "p50 (ms)", "p99 (ms)", "errors", "read cache hits"]
    out += table(head, rows, "lrrrrrrr")
    summary = [
        ["requests", f"{number(mixed['requests'])}, {number(mixed['rps'], 1)}/s"],
        ["errors (must be 0)", number(mixed["errors"])],
        ["read cache hit rate", hit_rate],
        [
            "drafts saved",
            f"{number(editor['drafts_saved'])} (p50 {number(editor['save']['p50_ms'], 1)} ms, "
            f"p99 {number(editor['save']['p99_ms'], 1)} ms)",
        ],
        [
            "versions published",
            f"{number(editor['published'])} (submit, approve and publish: p50 "
            f"{number(editor['publish']['p50_ms'], 1)} ms, p99 {number(editor['publish']['p99_ms'], 1)} ms)",
        ],
        ["editor errors", number(editor["errors"])],
        [
            "import under load",
            f"{number(imported['created'])} created of {number(imported['documents'])} "
            f"({number(imported['failed'])} failed) in {number(imported['seconds'], 1)} s: "
            f"{number(imported['docs_per_second'])} docs/s",
        ],
    ]
    if "load_average" in mixed:
        summary.append(
            [
                "load average",
                f"{mixed['load_average']['before']:g} before, {mixed['load_average']['after']:g} after",
            ]
        )
    out += table(["", ""], summary, "ll")
    if mixed.get("checks"):
        out += table(["check", "result"], [[name, verdict(ok)] for name, ok in mixed["checks"].items()], "ll")
    messages = mixed.get("error_messages", []) + editor.get("error_messages", [])
    if messages:
        out += ["Errors seen:", ""] + [f"- `{message}`" for message in messages[:10]] + [""]
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
