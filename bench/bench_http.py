"""The site and the API over HTTP: throughput, latency against /health, and SQL queries per request.

    python bench/bench_import.py --count 100000 --keep-db   # leaves kb_bench with the corpus
    python bench/bench_similar.py                            # similar posts on it
    python bench/bench_http.py                               # measures on it

Works on a database that bench_import.py left behind (``--database``), with real URLs picked from
its data (a live article, the most used stack tag, a frequent difficulty, a topic to search for):

1. runs VACUUM (ANALYZE) on the database, as autovacuum would in service (``--no-vacuum`` skips it);
2. counts the SQL queries of one request to each URL through Django's test client, in a child
   process with the production settings: cold with the anonymous read cache off
   (``READ_CACHE=0``), then twice with it on (first and warm);
3. serves the app with gunicorn (production settings, no access log) and drives it from a
   separate client process on loopback: a fixed number of requests per URL after a warm-up, at a
   fixed concurrency, over persistent connections, in rounds that interleave every URL with
   ``/health`` so each URL's median is compared with /health's median of the same run. Every
   response must be a 200. The whole set runs twice: read cache on (the default), then off.

Checks each URL against its latency target (median as a multiple of /health's) and its query
budget (QUERY_BUDGETS). Prints a JSON object and writes it to bench/results/http.json;
bench/report.py turns it, with import.json and similar.json, into latest.json and latest.md.
"""

import argparse
import contextlib
import http.client
import itertools
import json
import math
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

from common import production_env

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / "work"
RESULTS = ROOT / "bench" / "results"

# The URLs, in the order of the report: name -> (label, API or not).
URLS = {
    "health": ("/health", False),
    "article": ("article page", False),
    "home": ("home page", False),
    "browse": ("browse page (stack tag)", False),
    "search": ("site search", False),
    "api_list": ("API list, 50 per page", True),
    "api_detail": ("API detail", True),
    "api_filtered": ("API list, filtered and ordered", True),
    "api_search": ("API search", True),
}

# SQL queries one anonymous request may take, cold (read cache off). The numbers come from the
# suite's assertions where it has one; the others are chosen here, like the list they resemble.
QUERY_BUDGETS = {
    "health": (1, "tests/config/test_health.py"),
    "article": (8, "tests/articles/test_site.py"),
    "home": (8, "tests/articles/test_site.py"),
    "browse": (8, "tests/articles/test_site.py"),
    "search": (8, "tests/articles/test_site.py"),
    "api_list": (8, "tests/articles/test_api.py"),
    "api_detail": (6, "tests/articles/test_api.py"),
    "api_filtered": (8, "chosen: as the API list"),
    "api_search": (8, "chosen: as the API list"),
}

# Median latency as a multiple of /health's median in the same run (targets at 100,000 articles).
RATIO_TARGETS = {
    "cached": {
        "article": 3,
        "api_detail": 3,
        "home": 6,
        "browse": 6,
        "search": 6,
        "api_list": 6,
        "api_filtered": 6,
        "api_search": 6,
    },
    "uncached": {"article": 10},
}

MODES = {"cached": "read cache on", "uncached": "read cache off (READ_CACHE=0)"}

# Settings a caller's shell might carry that would make runs differ from one another.
SCRUBBED = (
    "READ_CACHE", "GUNICORN_CMD_ARGS", "CONN_MAX_AGE", "SECURE_PROXY_SSL_HEADER", "CSRF_TRUSTED_ORIGINS",
)  # fmt: skip


class BenchError(Exception):
    pass


# --- environment and child processes -------------------------------------------------------------


def app_env(args, *, read_cache: bool, test_client: bool = False) -> dict[str, str]:
    """Production settings on the benchmark database, plain HTTP, API throttling out of the way."""
    env = production_env(
        args.host,
        args.database,
        base={key: value for key, value in os.environ.items() if key not in SCRUBBED},
        DJANGO_SETTINGS_MODULE="config.settings",
        ALLOWED_HOSTS="127.0.0.1,testserver" if test_client else "127.0.0.1",
        STATIC_ROOT=str(WORK / "static"),
        # A per-second window keeps the throttle's bookkeeping as small as in production while no
        # benchmark client can reach the limit.
        API_THROTTLE_ANON="1000000/second",
        API_THROTTLE_USER="1000000/second",
    )
    if not read_cache:
        env["READ_CACHE"] = "0"
    return env


def child(role: str, spec: dict, env: dict[str, str]) -> dict:
    """Run this file in another role, with ``spec`` as JSON on its input; return its JSON output."""
    process = subprocess.run(
        [sys.executable, __file__, "--role", role],
        cwd=ROOT,
        env=env,
        input=json.dumps(spec),
        stdout=subprocess.PIPE,
        text=True,
    )
    if process.returncode != 0:
        raise SystemExit(f"bench_http: the {role} process failed (exit {process.returncode}); see above.")
    return json.loads(process.stdout)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """gunicorn on a free loopback port, from start to a green /health, stopped on exit."""

    def __init__(self, env: dict[str, str], workers: int, log: Path):
        self.env, self.workers, self.log = env, workers, log
        self.port = free_port()
        self.process = None

    def __enter__(self):
        gunicorn = Path(sys.executable).with_name("gunicorn")
        command = [str(gunicorn)] if gunicorn.exists() else [sys.executable, "-m", "gunicorn"]
        command += [
            "config.wsgi",
            "--workers", str(self.workers),
            "--bind", f"127.0.0.1:{self.port}",
            "--error-logfile", "-",
            "--log-level", "warning",
        ]  # fmt: skip
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("w") as log:
            self.process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log, stderr=log)
        try:
            self._wait_for_health()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _wait_for_health(self, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited with {self.process.returncode}:\n{self.log_tail()}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                connection.request("GET", "/health")
                if connection.getresponse().status == 200:
                    connection.close()
                    return
                connection.close()
            time.sleep(0.2)
        raise SystemExit(f"gunicorn did not answer /health within {seconds:.0f}s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def __exit__(self, *exc_info):
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# --- role "probe": pick the URLs and count their queries, inside Django ---------------------------


def pick_urls() -> tuple[dict[str, str], dict]:
    """Real URLs from the data: deterministic for a given database."""
    from django.db.models import Count

    from articles.models import Article, ArticleState, ArticleTag, Tag
    from articles.selectors import similar_articles

    live = Article.objects.live()
    ids = list(live.order_by("id").values_list("id", flat=True))
    if not ids:
        raise BenchError("the database has no live article: import a corpus with bench_import.py --keep-db")
    # An article from the middle of the corpus that has similar posts, as most have.
    middle = len(ids) // 2
    article_id = ids[middle]
    for candidate in ids[middle : middle + 50]:
        if similar_articles([candidate], limit=1)[candidate]:
            article_id = candidate
            break
    article = Article.objects.get(pk=article_id)

    stack = (
        ArticleTag.objects.filter(article__state=ArticleState.PUBLISHED, tag__kind=Tag.Kind.STACK)
        .values("tag__slug")
        .annotate(uses=Count("id"))
        .order_by("-uses", "tag__slug")
        .first()
    )
    if stack is None:
        raise BenchError("no live article has a stack tag")
    difficulty = (
        live.exclude(difficulty__isnull=True)
        .exclude(difficulty="")
        .values("difficulty")
        .annotate(uses=Count("id"))
        .order_by("-uses", "difficulty")
        .first()
    )
    # What a reader would type: the article's topic ("schema evolution / kafka streams" -> its
    # first part), else the first words of its title.
    term = (article.topic or "").split("/")[0].strip() or " ".join(article.title.split()[:2])
    api_filters = {"stack": stack["tag__slug"], "ordering": "-quality"}
    if difficulty:
        api_filters["difficulty"] = difficulty["difficulty"]
    urls = {
        "health": "/health",
        "article": article.get_absolute_url(),
        "home": "/",
        "browse": f"/stack/{stack['tag__slug']}/",
        "search": "/search/?" + urlencode({"q": term}),
        "api_list": "/api/articles/?page_size=50",
        "api_detail": f"/api/articles/{article.slug}/",
        "api_filtered": "/api/articles/?" + urlencode(api_filters),
        "api_search": "/api/articles/?" + urlencode({"search": term}),
    }
    data = {"articles": Article.objects.count(), "live": len(ids)}
    return urls, data


def probe_environment() -> dict:
    import django
    import gunicorn
    import psycopg
    import rest_framework
    from django.conf import settings
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server_version = cursor.fetchone()[0]
        cursor.execute("SHOW autovacuum")
        autovacuum = cursor.fetchone()[0]
    return {
        "python": platform.python_version(),
        "django": django.get_version(),
        "djangorestframework": rest_framework.__version__,
        "gunicorn": gunicorn.__version__,
        "psycopg": psycopg.__version__,
        "postgresql": server_version.split()[0],
        "postgresql_autovacuum": autovacuum,
        "cache_backend": settings.CACHES["default"]["BACKEND"],
    }


def compact(sql: str, limit: int = 1500) -> str:
    """A statement for reading: the column list of the outer SELECT left out, the rest kept."""
    sql = re.sub(r"^SELECT (DISTINCT )?.+? FROM ", r"SELECT \1... FROM ", sql, count=1, flags=re.DOTALL)
    return sql if len(sql) <= limit else sql[:limit] + " ..."


def probe(spec: dict) -> dict:
    """Count the SQL queries of ``repeat`` requests to each URL, each from a fresh anonymous client."""
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    out = {"environment": probe_environment()}
    if spec.get("urls"):
        urls = spec["urls"]
    else:
        urls, out["data"] = pick_urls()
        out["urls"] = urls
    counts, statements = {}, {}
    browser = Client()  # one handler for all: building one (middleware, static index) is slow
    for name, url in urls.items():
        accept = "application/json" if URLS[name][1] else "text/html"
        counts[name] = []
        for attempt in range(spec["repeat"]):
            browser.cookies.clear()  # every request comes from a new anonymous visitor
            with CaptureQueriesContext(connection) as captured:
                response = browser.get(url, HTTP_ACCEPT=accept)
            if response.status_code != 200:
                raise BenchError(f"GET {url} answered {response.status_code} through the test client")
            counts[name].append(len(captured))
            if attempt == 0:
                statements[name] = [compact(query["sql"]) for query in captured.captured_queries]
    out["queries"] = counts
    out["statements"] = statements
    return out


# --- role "client": the load, from its own process -------------------------------------------------


class CountingConnection(http.client.HTTPConnection):
    """A keep-alive connection that counts how often it had to (re)connect, and its retries."""

    connects = 0
    retries = 0

    def connect(self):
        self.connects += 1
        super().connect()


RETRYABLE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)


def fetch(connection: CountingConnection, path: str, headers: dict) -> tuple[int, int, dict]:
    """One GET: (latency in ns, body bytes, headers of interest). Retried once, on a new
    connection, only when a kept-alive connection turns out closed by the server; any other
    failure, or a second one, ends the run."""
    for attempt in (1, 2):
        reused = connection.sock is not None
        started = time.perf_counter_ns()
        try:
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            body = response.read()
        except RETRYABLE:
            connection.close()
            if attempt == 2 or not reused:
                raise
            connection.retries += 1
            continue
        elapsed = time.perf_counter_ns() - started
        if response.status != 200:
            raise BenchError(f"GET {path} answered {response.status}: {body[:300]!r}")
        seen = {
            "content_type": response.getheader("Content-Type"),
            "cache_control": response.getheader("Cache-Control"),
            "set_cookie": response.getheader("Set-Cookie") is not None,
            "connection": response.getheader("Connection"),
        }
        return elapsed, len(body), seen
    raise AssertionError("unreachable")


def drive(connections, path: str, headers: dict, count: int, seconds: float) -> dict:
    """``count`` GETs of ``path`` over the connections at once (one thread each), at most ``seconds``."""
    tickets = itertools.count()
    deadline = time.perf_counter() + seconds
    latencies: list[list[int]] = [[] for _ in connections]
    failures: list[BaseException] = []
    stop = threading.Event()
    info = {}

    def work(index: int) -> None:
        connection, mine = connections[index], latencies[index]
        try:
            while not stop.is_set() and next(tickets) < count and time.perf_counter() < deadline:
                elapsed, size, seen = fetch(connection, path, headers)
                mine.append(elapsed)
                info.setdefault("first", (size, seen))
        except BaseException as exc:  # noqa: B036 - reported by the caller, which stops the run
            failures.append(exc)
            stop.set()

    connects_before = sum(connection.connects for connection in connections)
    retries_before = sum(connection.retries for connection in connections)
    started = time.perf_counter_ns()
    threads = [threading.Thread(target=work, args=(index,)) for index in range(len(connections))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter_ns() - started
    if failures:
        raise failures[0]
    size, seen = info.get("first", (0, {}))
    return {
        "latencies": [value for values in latencies for value in values],
        "wall_ns": wall,
        "connects": sum(connection.connects for connection in connections) - connects_before,
        "retries": sum(connection.retries for connection in connections) - retries_before,
        "bytes": size,
        "headers": seen,
    }


def percentile(ordered: list[int], fraction: float) -> int:
    """Nearest-rank percentile of an ascending list."""
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def client(spec: dict) -> dict:
    """Warm every URL up, then run ``rounds`` rounds; each round visits every URL in turn."""
    port, concurrency, rounds = spec["port"], spec["concurrency"], spec["rounds"]
    connections = [CountingConnection("127.0.0.1", port, timeout=60) for _ in range(concurrency)]
    plan = spec["urls"]
    headers = {
        name: {
            "Host": f"127.0.0.1:{port}",
            "Accept": "application/json" if URLS[name][1] else "text/html",
            "User-Agent": "kb-bench",
        }
        for name in plan
    }
    cpu_before = time.process_time()
    for name, path in plan.items():
        drive(connections, path, headers[name], spec["warmup"], spec["max_seconds"] / 4)
    per_round = -(-spec["requests"] // rounds)
    runs = {name: [] for name in plan}
    for number in range(rounds):
        for name, path in plan.items():
            wanted = min(per_round, spec["requests"] - per_round * number)
            if wanted > 0:
                bound = spec["max_seconds"] / rounds
                runs[name].append(drive(connections, path, headers[name], wanted, bound))
        print(f"  round {number + 1}/{rounds} done", file=sys.stderr, flush=True)
    results = {}
    for name, path in plan.items():
        latencies = sorted(value for run in runs[name] for value in run["latencies"])
        wall = sum(run["wall_ns"] for run in runs[name])
        results[name] = {
            "label": URLS[name][0],
            "path": path,
            "requests": len(latencies),
            "capped": len(latencies) < spec["requests"],
            "seconds": round(wall / 1e9, 2),
            "rps": round(len(latencies) / (wall / 1e9), 1),
            "median_ms": round(statistics.median(latencies) / 1e6, 2),
            "p99_ms": round(percentile(latencies, 0.99) / 1e6, 2),
            "mean_ms": round(statistics.fmean(latencies) / 1e6, 2),
            "max_ms": round(latencies[-1] / 1e6, 2),
            "connects": sum(run["connects"] for run in runs[name]),
            "retries": sum(run["retries"] for run in runs[name]),
            "bytes": runs[name][0]["bytes"],
            "headers": runs[name][0]["headers"],
        }
    for connection in connections:
        connection.close()
    return {"urls": results, "client_cpu_seconds": round(time.process_time() - cpu_before, 1)}


# --- the benchmark ---------------------------------------------------------------------------------


def collectstatic(env: dict[str, str]) -> None:
    """Production pages name content-hashed static files, so the manifest must exist."""
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"], cwd=ROOT, env=env, check=True
    )


def judge(results: dict) -> None:
    """Add ratios to /health and pass/fail marks, in place."""
    checks = []
    for mode, run in results["http"].items():
        health = run["urls"]["health"]["median_ms"]
        for name, row in run["urls"].items():
            row["ratio"] = round(row["median_ms"] / health, 2) if health else None
            target = RATIO_TARGETS[mode].get(name)
            row["target"] = target
            row["pass"] = None if target is None or row["ratio"] is None else row["ratio"] <= target
            if row["pass"] is not None:
                checks.append(row["pass"])
    for row in results["queries"].values():
        checks.append(row["pass"])
    results["checks"] = {"passed": sum(checks), "total": len(checks)}
    results["passed"] = all(checks)


def summary(results: dict) -> str:
    lines = []
    for mode, run in results["http"].items():
        lines.append(f"{MODES[mode]} ({run['client_cpu_seconds']}s client CPU):")
        lines.append(f"  {'url':<32} {'req/s':>8} {'median':>8} {'p99':>8} {'x health':>8}  target")
        for name, row in run["urls"].items():
            mark = "" if row["pass"] is None else f"<= {row['target']} {'pass' if row['pass'] else 'FAIL'}"
            lines.append(
                f"  {URLS[name][0]:<32} {row['rps']:>8} {row['median_ms']:>8} {row['p99_ms']:>8} "
                f"{row['ratio']:>8}  {mark}"
            )
    lines.append("SQL queries (cold / cache on first / warm, budget):")
    for name, row in results["queries"].items():
        lines.append(
            f"  {URLS[name][0]:<32} {row['cold']:>3} / {row['cached_first']:>3} / {row['cached_warm']:>3}"
            f"  <= {row['budget']} {'pass' if row['pass'] else 'FAIL'}"
        )
    lines.append(f"checks: {results['checks']['passed']}/{results['checks']['total']} passed")
    return "\n".join(lines)


def vacuum(args) -> None:
    """VACUUM (ANALYZE) the freshly imported database, as autovacuum would in service: without
    it no visibility map exists (no index-only scans) and, where autovacuum is off, never will."""
    subprocess.run(
        ["psql", "-h", args.host, "-U", "postgres", "-d", args.database, "-q", "-c", "VACUUM (ANALYZE)"],
        check=True,
    )


def run_benchmark(args) -> dict:
    cold_env = app_env(args, read_cache=False, test_client=True)
    collectstatic(cold_env)
    if args.vacuum:
        print(f"VACUUM (ANALYZE) {args.database}", file=sys.stderr)
        vacuum(args)
    print(f"picking URLs and counting queries on {args.database}", file=sys.stderr)
    cold = child("probe", {"repeat": 1}, cold_env)
    urls = cold["urls"]
    warm = child("probe", {"urls": urls, "repeat": 2}, app_env(args, read_cache=True, test_client=True))
    queries = {}
    for name in urls:
        budget, source = QUERY_BUDGETS[name]
        queries[name] = {
            "label": URLS[name][0],
            "path": urls[name],
            "cold": cold["queries"][name][0],
            "cached_first": warm["queries"][name][0],
            "cached_warm": warm["queries"][name][1],
            "budget": budget,
            "budget_source": source,
            "pass": cold["queries"][name][0] <= budget,
        }

    load = {
        "vacuumed": args.vacuum,
        "requests": args.requests,
        "warmup": args.warmup,
        "concurrency": args.concurrency,
        "rounds": args.rounds,
        "max_seconds": args.max_seconds,
        "workers": args.workers,
    }
    http_runs = {}
    for mode in MODES:
        env = app_env(args, read_cache=mode == "cached")
        print(f"serving with gunicorn, {MODES[mode]}", file=sys.stderr)
        with Server(env, args.workers, WORK / f"gunicorn-{mode}.log") as server:
            spec = {**load, "port": server.port, "urls": urls}
            before = os.getloadavg()[0]
            run = child("client", spec, {**os.environ})
            # Other work on the machine shows here: the benchmark itself keeps about two cores busy.
            run["load_average"] = {"before": round(before, 2), "after": round(os.getloadavg()[0], 2)}
            tail = server.log_tail()
        if tail.strip():
            print(f"gunicorn said ({MODES[mode]}):\n{tail}", file=sys.stderr)
        http_runs[mode] = run

    results = {
        "database": args.database,
        **cold["data"],
        "cpu_count": os.cpu_count(),
        "environment": {
            **cold["environment"],
            "cache_backend_read_cache_on": warm["environment"]["cache_backend"],
        },
        "load": load,
        "urls": urls,
        "http": http_runs,
        "queries": queries,
        "query_statements_cold": cold["statements"],
        "modes": MODES,
        "targets": {"ratio_to_health": RATIO_TARGETS, "query_budgets": QUERY_BUDGETS},
    }
    judge(results)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", default="kb_bench")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--requests", type=int, default=2000, help="Measured requests per URL and run.")
    parser.add_argument("--warmup", type=int, default=100, help="Unmeasured requests per URL first.")
    parser.add_argument("--concurrency", type=int, default=8, help="Requests in flight at once.")
    parser.add_argument("--rounds", type=int, default=4, help="Rounds that interleave the URLs.")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers.")
    parser.add_argument(
        "--max-seconds", type=float, default=60, help="Time bound per URL and run (a shorter run is marked)."
    )
    parser.add_argument(
        "--no-vacuum", dest="vacuum", action="store_false", help="Measure without VACUUM (ANALYZE) first."
    )
    parser.add_argument("--role", choices=["probe", "client"], help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.role:
        spec = json.loads(sys.stdin.read())
        try:
            out = probe(spec) if args.role == "probe" else client(spec)
        except BenchError as exc:
            raise SystemExit(f"bench_http: {exc}") from None
        print(json.dumps(out))
        return

    results = run_benchmark(args)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "http.json").write_text(json.dumps(results, indent=2) + "\n")
    print(summary(results), file=sys.stderr)
    print(json.dumps({key: results[key] for key in ("checks", "passed")}, indent=2))


if __name__ == "__main__":
    main()
