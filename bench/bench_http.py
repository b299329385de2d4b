"""The site and the API over HTTP: what readers feel, cached and uncached, and under writes.

    python bench/bench_import.py --count 100000 --keep-db   # leaves kb_bench with the corpus
    python bench/bench_similar.py                            # similar posts on it
    python bench/bench_http.py                               # measures on it

Works on a database that bench_import.py left behind (``--database``), with real URLs picked from
its data (live articles, the most used stack tags, frequent difficulties, topics to search for):

1. runs VACUUM (ANALYZE) on the database, as autovacuum would in service (``--no-vacuum`` skips it);
2. counts the SQL queries of one request to each kind of URL through Django's test client, in a
   child process with the production settings: cold with the anonymous read cache off
   (``READ_CACHE=0``), then twice with it on (first and warm);
3. serves the app with gunicorn (production settings, an access log that carries each request's
   server time) and drives it from a separate client process on loopback: a fixed number of
   requests per kind of URL after a warm-up, at a fixed concurrency, in rounds that interleave
   every kind with ``/health`` so each median is compared with /health's median of the same run.
   Each kind is a spread of URLs (SPREAD: many articles, several stack tags, several searches)
   visited in turn, so neither the read cache nor the database's own caches see one hot URL.
   Every response must be a 200. The whole set runs twice: read cache on, then off;
4. the mixed run (``--mixed-seconds``, 0 skips it): readers request a wide spread of pages and API
   answers with the read cache on while an editor saves a draft every second and publishes every
   ten through the API with a staff token, and ``manage.py import_articles`` imports 1,000 new
   synthesized documents: p50 and p99 per kind, requests per second, errors, the read cache's
   hit rate (``X-Read-Cache``), drafts saved, versions published and the import's documents per
   second under load.

Checks each kind against its targets (median as a multiple of /health's, and server time for
search) and its query budget (QUERY_BUDGETS). Prints a JSON object and writes it to http.json in
the results directory (common.results_dir); bench/report.py turns it, with import.json and
similar.json, into latest.json and latest.md.
"""

import argparse
import contextlib
import http.client
import itertools
import json
import math
import os
import platform
import random
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

from common import collectstatic, database_parser, production_env, provenance, results_dir

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / "work"

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

# Median latency as a multiple of /health's median in the same run, at 100,000 articles. With the
# read cache off, search must also take at most SERVER_MS_TARGETS of server time (median, from
# gunicorn's access log).
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
    "uncached": {
        "article": 6,
        "api_detail": 6,
        "home": 10,
        "browse": 10,
        "search": 10,
        "api_list": 10,
        "api_filtered": 10,
        "api_search": 10,
    },
}
SERVER_MS_TARGETS = {"uncached": {"search": 30, "api_search": 30}}
TARGET_SCALE = 100_000  # articles: the size the targets are set at

# How many URLs each kind spreads over in the cached and uncached runs. One URL per kind would
# measure one cached page, or one set of rows that stays in PostgreSQL's buffers: readers ask for
# many articles, tags and searches. The home page and the API list stay one URL: their first page
# is what nearly every reader asks for (deeper pages are in the mixed run).
SPREAD = {"article": 40, "api_detail": 40, "browse": 8, "search": 8, "api_filtered": 8, "api_search": 8}

# The mixed run: how readers divide their requests between the kinds, and how wide each spread is.
MIXED_WEIGHTS = {
    "article": 35,
    "api_detail": 15,
    "home": 12,
    "browse": 10,
    "search": 8,
    "api_list": 8,
    "api_filtered": 6,
    "api_search": 6,
}
MIXED_SPREAD = {"article": 400, "api_detail": 400, "home": 10, "browse": 24, "search": 24,
                "api_list": 10, "api_filtered": 16, "api_search": 24}  # fmt: skip
MIXED_IMPORT = 1000  # new documents imported during the mixed run
EDITOR_USERNAME = "bench-editor"

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

    def __init__(self, env: dict[str, str], workers: int, log: Path, access_log: Path | None = None):
        self.env, self.workers, self.log, self.access_log = env, workers, log, access_log
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
        if self.access_log is not None:
            self.access_log.unlink(missing_ok=True)
            command += ["--access-logfile", str(self.access_log), "--access-logformat", ACCESS_LOG_FORMAT]
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


def _evenly(items: list, count: int) -> list:
    """``count`` items spread evenly over ``items`` (all of them when there are fewer)."""
    if len(items) <= count:
        return list(items)
    step = len(items) / count
    return [items[int(index * step)] for index in range(count)]


def _pages(total: int, size: int, wanted: int) -> list[int]:
    """Page numbers 1..wanted that a list of ``total`` items has at ``size`` per page."""
    return list(range(1, max(1, min(wanted, -(-total // size))) + 1))


def pick_urls() -> dict:
    """Real URLs from the data, deterministic for a given database: for each kind, the URL whose
    queries are counted, the spread of the cached and uncached runs and the mixed run's spread."""
    from django.db.models import Count

    from articles.models import Article, ArticleState, ArticleTag, Tag
    from articles.selectors import READER_PAGE_SIZE, similar_articles

    live = Article.objects.live()
    ids = list(live.order_by("id").values_list("id", flat=True))
    if not ids:
        raise BenchError("the database has no live article: import a corpus with bench_import.py --keep-db")
    # Articles spread over the corpus, each the first from its place that has similar posts, as most do.
    wanted = max(SPREAD["article"], MIXED_SPREAD["article"])
    picked = []
    for start in _evenly(range(len(ids)), wanted):
        window = ids[start : start + 20]
        having = similar_articles(window, limit=1)
        picked.append(next((pk for pk in window if having[pk]), window[0]))
    picked = list(dict.fromkeys(picked))
    rows = {
        row["id"]: row for row in Article.objects.filter(pk__in=picked).values("id", "slug", "topic", "title")
    }
    articles = [rows[pk] for pk in picked]

    stacks = list(
        ArticleTag.objects.filter(article__state=ArticleState.PUBLISHED, tag__kind=Tag.Kind.STACK)
        .values("tag__slug")
        .annotate(uses=Count("id"))
        .order_by("-uses", "tag__slug")[: MIXED_SPREAD["browse"]]
    )
    if not stacks:
        raise BenchError("no live article has a stack tag")
    difficulties = [
        row["difficulty"]
        for row in live.exclude(difficulty__isnull=True)
        .exclude(difficulty="")
        .values("difficulty")
        .annotate(uses=Count("id"))
        .order_by("-uses", "difficulty")
    ]
    # What readers type: the parts of the articles' topics ("schema evolution / kafka streams" ->
    # both parts), in the order the articles come, else the first words of their titles.
    terms = []
    for article in _evenly(articles, len(articles)):
        parts = [part.strip() for part in (article["topic"] or "").split("/") if part.strip()]
        for term in parts or [" ".join(article["title"].split()[:2])]:
            if term not in terms:
                terms.append(term)
    first = articles[len(articles) // 2]

    def search(term):
        return "/search/?" + urlencode({"q": term})

    def api_search(term):
        return "/api/articles/?" + urlencode({"search": term})

    def filtered(stack, difficulty):
        filters = {"stack": stack, "ordering": "-quality"}
        if difficulty:
            filters["difficulty"] = difficulty
        return "/api/articles/?" + urlencode(filters)

    combos = [
        (stack["tag__slug"], difficulty) for stack in stacks for difficulty in difficulties[:2] or [None]
    ]
    browse_pages = [
        f"/stack/{stack['tag__slug']}/" + (f"?page={page}" if page > 1 else "")
        for stack in stacks
        for page in _pages(stack["uses"], READER_PAGE_SIZE, 3)
    ]
    spread = {
        "health": ["/health"],
        "article": [f"/articles/{row['slug']}/" for row in _evenly(articles, SPREAD["article"])],
        "home": ["/"],
        "browse": [f"/stack/{stack['tag__slug']}/" for stack in stacks[: SPREAD["browse"]]],
        "search": [search(term) for term in terms[: SPREAD["search"]]],
        "api_list": ["/api/articles/?page_size=50"],
        "api_detail": [f"/api/articles/{row['slug']}/" for row in _evenly(articles, SPREAD["api_detail"])],
        "api_filtered": [filtered(*combo) for combo in _evenly(combos, SPREAD["api_filtered"])],
        "api_search": [api_search(term) for term in terms[: SPREAD["api_search"]]],
    }
    mixed = {
        "article": [f"/articles/{row['slug']}/" for row in articles[: MIXED_SPREAD["article"]]],
        "home": [
            "/" + (f"?page={page}" if page > 1 else "")
            for page in _pages(len(ids), READER_PAGE_SIZE, MIXED_SPREAD["home"])
        ],
        "browse": browse_pages[: MIXED_SPREAD["browse"]],
        "search": [search(term) for term in terms[: MIXED_SPREAD["search"]]],
        "api_list": [
            "/api/articles/?" + urlencode({"page_size": 50, **({"page": page} if page > 1 else {})})
            for page in _pages(len(ids), 50, MIXED_SPREAD["api_list"])
        ],
        "api_detail": [f"/api/articles/{row['slug']}/" for row in articles[: MIXED_SPREAD["api_detail"]]],
        "api_filtered": [filtered(*combo) for combo in combos[: MIXED_SPREAD["api_filtered"]]],
        "api_search": [api_search(term) for term in terms[: MIXED_SPREAD["api_search"]]],
    }
    urls = {
        "health": "/health",
        "article": f"/articles/{first['slug']}/",
        "home": "/",
        "browse": spread["browse"][0],
        "search": spread["search"][0],
        "api_list": spread["api_list"][0],
        "api_detail": f"/api/articles/{first['slug']}/",
        "api_filtered": spread["api_filtered"][0],
        "api_search": spread["api_search"][0],
    }
    # The editor of the mixed run edits and publishes live articles readers also read.
    editor = [row["slug"] for row in articles[:: max(1, len(articles) // 20)]][:20]
    # New documents for the mixed run's import come from past every synthesized index in use.
    indexes = [
        int(match.group(1))
        for reference in Article.objects.values_list("reference", flat=True).iterator()
        if (match := re.search(r"-ref-(\d+)-", reference))
    ]
    data = {
        "articles": Article.objects.count(),
        "live": len(ids),
        "next_synthesized_index": max(indexes, default=0) + 10_000,
    }
    return {"urls": urls, "spread": spread, "mixed": mixed, "editor": editor, "data": data}


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
        out["picked"] = pick_urls()
        urls = out["picked"]["urls"]
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


def drive(connections, paths: list[str], headers: dict, count: int, seconds: float) -> dict:
    """``count`` GETs over the connections at once (one thread each), at most ``seconds``, each to
    the next of ``paths`` in turn."""
    tickets = itertools.count()
    deadline = time.perf_counter() + seconds
    latencies: list[list[int]] = [[] for _ in connections]
    failures: list[BaseException] = []
    stop = threading.Event()
    info = {}

    def work(index: int) -> None:
        connection, mine = connections[index], latencies[index]
        try:
            while not stop.is_set() and (ticket := next(tickets)) < count and time.perf_counter() < deadline:
                elapsed, size, seen = fetch(connection, paths[ticket % len(paths)], headers)
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
    """Warm every URL up, then run ``rounds`` rounds; each round visits every kind in turn, and a
    kind's requests go to its URLs in turn. Requests carry their kind and phase (warm-up or
    measured) in headers that gunicorn's access log records with each request's server time."""
    port, concurrency, rounds = spec["port"], spec["concurrency"], spec["rounds"]
    connections = [CountingConnection("127.0.0.1", port, timeout=60) for _ in range(concurrency)]
    plan = spec["spread"]

    def headers(name, phase):
        return {
            "Host": f"127.0.0.1:{port}",
            "Accept": "application/json" if URLS[name][1] else "text/html",
            "User-Agent": "kb-bench",
            "X-Bench-Kind": name,
            "X-Bench-Phase": phase,
        }

    cpu_before = time.process_time()
    for name, paths in plan.items():
        # Every URL of the spread at least three times, so each worker's read cache has most of them.
        warmup = max(spec["warmup"], 3 * len(paths)) if len(paths) > 1 else spec["warmup"]
        drive(connections, paths, headers(name, "warmup"), warmup, spec["max_seconds"] / 4)
    per_round = -(-spec["requests"] // rounds)
    runs = {name: [] for name in plan}
    for number in range(rounds):
        for name, paths in plan.items():
            wanted = min(per_round, spec["requests"] - per_round * number)
            if wanted > 0:
                bound = spec["max_seconds"] / rounds
                # Each round starts the spread where the last one stopped.
                shift = (per_round * number) % len(paths)
                turned = paths[shift:] + paths[:shift]
                runs[name].append(drive(connections, turned, headers(name, "measure"), wanted, bound))
        print(f"  round {number + 1}/{rounds} done", file=sys.stderr, flush=True)
    results = {}
    for name, paths in plan.items():
        latencies = sorted(value for run in runs[name] for value in run["latencies"])
        wall = sum(run["wall_ns"] for run in runs[name])
        results[name] = {
            "label": URLS[name][0],
            "path": paths[0],
            "paths": len(paths),
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


# Each access-log line: server time in microseconds, the request's kind and phase, the status.
ACCESS_LOG_FORMAT = "%(D)s %({x-bench-kind}i)s %({x-bench-phase}i)s %(s)s"


def server_times(log: Path, phase: str = "measure") -> dict[str, list[int]]:
    """Server time (µs) of each request of ``phase``, by kind, from gunicorn's access log."""
    times: dict[str, list[int]] = {}
    for line in log.read_text(errors="replace").splitlines():
        fields = line.split()
        if len(fields) == 4 and fields[2] == phase and fields[0].isdigit():
            times.setdefault(fields[1], []).append(int(fields[0]))
    return times


def add_server_times(run: dict, log: Path) -> None:
    """Each kind's server-side median and p99 (ms), in place; None where the log has none."""
    times = server_times(log)
    for name, row in run["urls"].items():
        values = sorted(times.get(name, []))
        row["server_requests"] = len(values)
        row["server_median_ms"] = round(statistics.median(values) / 1000, 2) if values else None
        row["server_p99_ms"] = round(percentile(values, 0.99) / 1000, 2) if values else None


# --- role "mixed": readers, with an editor writing through the API, from its own process -----------


def request(connection, method: str, path: str, headers: dict, body: bytes | None = None):
    """One request that never raises: (latency in ns, status or None, X-Read-Cache, error text)."""
    started = time.perf_counter_ns()
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        content = response.read()
    except (OSError, http.client.HTTPException) as exc:
        connection.close()
        return time.perf_counter_ns() - started, None, None, f"{method} {path}: {exc!r}"
    elapsed = time.perf_counter_ns() - started
    error = None if response.status == 200 else f"{method} {path}: {response.status} {content[:200]!r}"
    return elapsed, response.status, response.getheader("X-Read-Cache"), error


def mixed_client(spec: dict) -> dict:
    """Readers at a fixed concurrency, each request a weighted random kind and a random URL of its
    spread, until the standard input closes (the orchestrator closes it when the run's time is up
    and the import has ended); beside them one editor: a draft saved every second (PATCH), and
    every tenth second that draft submitted, approved and published, then on to the next article."""
    port, plan, weights = spec["port"], spec["mixed"], spec["weights"]
    kinds = [kind for kind in weights if plan.get(kind)]
    stop = threading.Event()

    def watch() -> None:
        sys.stdin.read()
        stop.set()

    threading.Thread(target=watch, daemon=True).start()
    base = {"Host": f"127.0.0.1:{port}", "User-Agent": "kb-bench"}
    lock = threading.Lock()
    latencies: dict[str, list[int]] = {kind: [] for kind in kinds}
    statuses: dict[str, dict] = {kind: {} for kind in kinds}
    cache: dict[str, dict] = {kind: {"hit": 0, "miss": 0, "absent": 0} for kind in kinds}
    errors: list[str] = []

    def reader(number: int) -> None:
        rng = random.Random(spec["seed"] * 1000 + number)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine = []
        while not stop.is_set():
            kind = rng.choices(kinds, [weights[kind] for kind in kinds])[0]
            headers = {**base, "Accept": "application/json" if URLS[kind][1] else "text/html"}
            elapsed, status, seen, error = request(connection, "GET", rng.choice(plan[kind]), headers)
            mine.append((kind, elapsed, status, seen, error))
        connection.close()
        with lock:
            for kind, elapsed, status, seen, error in mine:
                latencies[kind].append(elapsed)
                statuses[kind][str(status)] = statuses[kind].get(str(status), 0) + 1
                cache[kind][seen if seen in ("hit", "miss") else "absent"] += 1
                if error and len(errors) < 20:
                    errors.append(error)

    editor = {"drafts_saved": 0, "published": 0, "errors": 0, "save_ms": [], "publish_ms": [], "messages": []}

    def edit() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        headers = {
            **base,
            "Accept": "application/json",
            "Content-Type": "application/json",
            "Authorization": f"Token {spec['editor']['token']}",
        }
        slugs = spec["editor"]["slugs"]
        started = time.perf_counter()
        tick = 0
        while True:
            tick += 1
            if stop.wait(max(0.0, started + tick - time.perf_counter())):
                break
            slug = slugs[(tick - 1) // 10 % len(slugs)]
            body = json.dumps({"summary": f"Draft {tick} of a benchmark edit, saved at {time.time():.3f}."})
            steps = [("PATCH", f"/api/articles/{slug}/", body, "save")]
            if tick % 10 == 0:
                steps += [
                    ("POST", f"/api/articles/{slug}/submit/", "{}", None),
                    ("POST", f"/api/articles/{slug}/approve/", "{}", None),
                    (
                        "POST",
                        f"/api/articles/{slug}/publish/",
                        json.dumps({"note": f"Benchmark {tick}"}),
                        "publish",
                    ),
                ]
            begun = time.perf_counter_ns()
            for method, path, payload, what in steps:
                _, status, _, error = request(connection, method, path, headers, payload.encode())
                if error:
                    editor["errors"] += 1
                    if len(editor["messages"]) < 10:
                        editor["messages"].append(error)
                    break
                if what == "save":
                    editor["drafts_saved"] += 1
                    editor["save_ms"].append((time.perf_counter_ns() - begun) / 1e6)
                    begun = time.perf_counter_ns()
                elif what == "publish":
                    editor["published"] += 1
                    editor["publish_ms"].append((time.perf_counter_ns() - begun) / 1e6)
        connection.close()

    cpu_before = time.process_time()
    began = time.perf_counter()
    threads = [threading.Thread(target=reader, args=(number,)) for number in range(spec["concurrency"])]
    threads.append(threading.Thread(target=edit))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    kinds_out = {}
    for kind in kinds:
        values = sorted(latencies[kind])
        if not values:
            continue
        counted = cache[kind]["hit"] + cache[kind]["miss"]
        kinds_out[kind] = {
            "label": URLS[kind][0],
            "paths": len(plan[kind]),
            "requests": len(values),
            "rps": round(len(values) / wall, 1),
            "p50_ms": round(statistics.median(values) / 1e6, 2),
            "p99_ms": round(percentile(values, 0.99) / 1e6, 2),
            "statuses": statuses[kind],
            "errors": len(values) - statuses[kind].get("200", 0),
            "cache": cache[kind],
            "hit_rate": round(cache[kind]["hit"] / counted, 3) if counted else None,
        }
    hits = sum(row["cache"]["hit"] for row in kinds_out.values())
    misses = sum(row["cache"]["miss"] for row in kinds_out.values())
    total = sum(row["requests"] for row in kinds_out.values())

    def quantiles(values):
        ordered = sorted(values)
        if not ordered:
            return {"p50_ms": None, "p99_ms": None}
        return {"p50_ms": round(statistics.median(ordered), 1), "p99_ms": round(percentile(ordered, 0.99), 1)}

    return {
        "seconds": round(wall, 1),
        "concurrency": spec["concurrency"],
        "requests": total,
        "rps": round(total / wall, 1),
        "errors": sum(row["errors"] for row in kinds_out.values()),
        "error_messages": errors,
        "hit_rate": round(hits / (hits + misses), 3) if hits + misses else None,
        "cache_header_seen": hits + misses,
        "kinds": kinds_out,
        "editor": {
            "drafts_saved": editor["drafts_saved"],
            "published": editor["published"],
            "errors": editor["errors"],
            "error_messages": editor["messages"],
            "save": quantiles(editor["save_ms"]),
            "publish": quantiles(editor["publish_ms"]),
        },
        "client_cpu_seconds": round(time.process_time() - cpu_before, 1),
    }


# --- the benchmark ---------------------------------------------------------------------------------


def judge(results: dict) -> None:
    """Ratios to /health, each kind's verdict over both runs (with what it missed), the mixed
    run's correctness checks; in place. Targets are set at TARGET_SCALE articles: a smaller corpus
    reports them, marked, and they count as checks only at that size."""
    at_scale = results["articles"] >= TARGET_SCALE
    results["at_scale"] = at_scale
    for mode, run in results["http"].items():
        health = run["urls"]["health"]["median_ms"]
        for name, row in run["urls"].items():
            row["ratio"] = round(row["median_ms"] / health, 2) if health else None
            row["target"] = RATIO_TARGETS[mode].get(name)
            row["server_target_ms"] = SERVER_MS_TARGETS.get(mode, {}).get(name)
    verdicts = {}
    for name in URLS:
        if name == "health":
            continue
        missed, judged = [], False
        for mode, run in results["http"].items():
            row = run["urls"].get(name)
            if row is None:
                continue
            if row["target"] is not None and row["ratio"] is not None:
                judged = True
                if row["ratio"] > row["target"]:
                    missed.append(f"{mode} {row['ratio']:g}× > {row['target']}×")
            if row["server_target_ms"] is not None:
                judged = True
                server = row.get("server_median_ms")
                if server is None or server > row["server_target_ms"]:
                    missed.append(f"{mode} server {server} ms > {row['server_target_ms']} ms")
        verdicts[name] = {"pass": (not missed) if judged else None, "missed": missed}
    results["verdicts"] = verdicts
    checks = [row["pass"] for row in results["queries"].values()]
    if at_scale:
        checks += [verdict["pass"] for verdict in verdicts.values() if verdict["pass"] is not None]
    if mixed := results.get("mixed"):
        mixed["checks"] = {
            "no reader errors": mixed["errors"] == 0,
            "no editor errors": mixed["editor"]["errors"] == 0,
            "drafts saved": mixed["editor"]["drafts_saved"] > 0,
            "versions published": mixed["editor"]["published"] > 0,
            "import created every document": mixed["import"]["created"] == mixed["import"]["documents"],
        }
        checks += list(mixed["checks"].values())
    results["checks"] = {"passed": sum(checks), "total": len(checks)}
    results["passed"] = all(checks)


def summary(results: dict) -> str:
    lines = []
    for mode, run in results["http"].items():
        lines.append(f"{MODES[mode]} ({run['client_cpu_seconds']}s client CPU):")
        lines.append(
            f"  {'url':<32} {'req/s':>8} {'median':>8} {'p99':>8} {'server':>8} {'x health':>8}  target"
        )
        for name, row in run["urls"].items():
            mark = "" if row["target"] is None else f"<= {row['target']}"
            lines.append(
                f"  {URLS[name][0]:<32} {row['rps']:>8} {row['median_ms']:>8} {row['p99_ms']:>8} "
                f"{row.get('server_median_ms')!s:>8} {row['ratio']:>8}  {mark}"
            )
    scale = "" if results["at_scale"] else f" (targets are set at {TARGET_SCALE:,} articles)"
    lines.append(f"targets{scale}:")
    for name, verdict in results["verdicts"].items():
        shown = (
            "—"
            if verdict["pass"] is None
            else "pass"
            if verdict["pass"]
            else "MISS " + "; ".join(verdict["missed"])
        )
        lines.append(f"  {URLS[name][0]:<32} {shown}")
    lines.append("SQL queries (cold / cache on first / warm, budget):")
    for name, row in results["queries"].items():
        lines.append(
            f"  {URLS[name][0]:<32} {row['cold']:>3} / {row['cached_first']:>3} / {row['cached_warm']:>3}"
            f"  <= {row['budget']} {'pass' if row['pass'] else 'FAIL'}"
        )
    if mixed := results.get("mixed"):
        hit = "unknown" if mixed["hit_rate"] is None else f"{mixed['hit_rate']:.1%}"
        lines.append(
            f"mixed run: {mixed['seconds']}s, {mixed['rps']} req/s, {mixed['errors']} errors, "
            f"read cache hit rate {hit}; {mixed['editor']['drafts_saved']} drafts saved, "
            f"{mixed['editor']['published']} published; "
            f"import {mixed['import']['created']}/{mixed['import']['documents']} created, "
            f"{mixed['import']['docs_per_second']} docs/s"
        )
        for name, row in mixed["kinds"].items():
            lines.append(f"  {URLS[name][0]:<32} {row['rps']:>8} {row['p50_ms']:>8} {row['p99_ms']:>8}")
    lines.append(f"checks: {results['checks']['passed']}/{results['checks']['total']} passed")
    return "\n".join(lines)


def vacuum(args) -> None:
    """VACUUM (ANALYZE) the freshly imported database, as autovacuum would in service: without
    it no visibility map exists (no index-only scans) and, where autovacuum is off, never will."""
    subprocess.run(
        ["psql", "-h", args.host, "-U", "postgres", "-d", args.database, "-q", "-c", "VACUUM (ANALYZE)"],
        check=True,
    )


def editor_token(env: dict[str, str]) -> str:
    """A staff account for the mixed run's editor, and its API token (made once, then reused)."""
    code = (
        "from django.contrib.auth import get_user_model\n"
        "from rest_framework.authtoken.models import Token\n"
        f"user, _ = get_user_model().objects.get_or_create(username={EDITOR_USERNAME!r})\n"
        "user.is_staff = user.is_superuser = user.is_active = True\n"
        "user.set_unusable_password()\n"
        "user.save()\n"
        "print(Token.objects.get_or_create(user=user)[0].key)\n"
    )
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"bench_http: could not make the editor's token:\n{done.stderr}")
    return done.stdout.strip().splitlines()[-1]


def synthesize_new(start: int, count: int, seed: int, shape: str) -> Path:
    """``count`` synthesized documents from index ``start`` on: references the database does not hold."""
    sys.path.insert(0, str(ROOT))
    from corpus.generator import synthesize_document

    out = WORK / f"mixed-{shape}-{seed}-{start}-{count}"
    if not (out / ".complete").exists():
        out.mkdir(parents=True, exist_ok=True)
        for index in range(start, start + count):
            document = synthesize_document(index, seed=seed, difficulty=shape)
            (out / document.filename).write_text(document.text)
        (out / ".complete").touch()
    return out


def run_mixed(args, picked: dict) -> dict:
    """Readers, the editor and an import at once, against gunicorn with the read cache on."""
    env = app_env(args, read_cache=True)
    token = editor_token(env)
    corpus = synthesize_new(picked["data"]["next_synthesized_index"], MIXED_IMPORT, args.seed, args.shape)
    print(
        f"mixed run: {args.mixed_seconds:g}s, readers, an editor and an import of {MIXED_IMPORT}",
        file=sys.stderr,
    )
    with Server(env, args.workers, WORK / "gunicorn-mixed.log") as server:
        spec = {
            "port": server.port,
            "seconds": args.mixed_seconds,
            "concurrency": args.concurrency,
            "mixed": picked["mixed"],
            "weights": MIXED_WEIGHTS,
            "editor": {"token": token, "slugs": picked["editor"]},
            "seed": args.seed,
        }
        before = os.getloadavg()[0]
        readers = subprocess.Popen(
            [sys.executable, __file__, "--role", "mixed"],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        readers.stdin.write(json.dumps(spec) + "\n")
        readers.stdin.flush()
        began = time.perf_counter()
        time.sleep(min(2.0, args.mixed_seconds / 10))  # the readers first, then the import joins them
        started = time.perf_counter()
        importer = subprocess.run(
            [sys.executable, "manage.py", "import_articles", str(corpus), "--format", "json"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        import_seconds = time.perf_counter() - started
        # The readers and the editor go on for the run's length, and at least until the import ended.
        time.sleep(max(0.0, began + args.mixed_seconds - time.perf_counter()))
        readers.stdin.close()
        output = readers.stdout.read()
        if readers.wait() != 0:
            raise SystemExit(f"bench_http: the mixed client failed (exit {readers.returncode}); see above.")
        after = os.getloadavg()[0]
        tail = server.log_tail()
    if tail.strip():
        print(f"gunicorn said (mixed run):\n{tail}", file=sys.stderr)
    if importer.returncode not in (0, 1):
        raise SystemExit(f"bench_http: import_articles exited with {importer.returncode}:\n{importer.stderr}")
    imported = json.loads(importer.stdout)
    run = json.loads(output)
    run["import"] = {
        "documents": MIXED_IMPORT,
        "seconds": round(import_seconds, 2),
        "docs_per_second": round(MIXED_IMPORT / import_seconds),
        "started_after_seconds": round(min(2.0, args.mixed_seconds / 10), 1),
        **{key: imported[key] for key in ("created", "updated", "unchanged", "stale", "failed")},
    }
    run["load_average"] = {"before": round(before, 2), "after": round(after, 2)}
    run["weights"] = MIXED_WEIGHTS
    return run


def run_benchmark(args) -> dict:
    measured = provenance()
    cold_env = app_env(args, read_cache=False, test_client=True)
    collectstatic(cold_env)
    if args.vacuum:
        print(f"VACUUM (ANALYZE) {args.database}", file=sys.stderr)
        vacuum(args)
    print(f"picking URLs and counting queries on {args.database}", file=sys.stderr)
    cold = child("probe", {"repeat": 1}, cold_env)
    picked = cold["picked"]
    urls = picked["urls"]
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
        "access_log": ACCESS_LOG_FORMAT,
    }
    http_runs = {}
    for mode in MODES:
        env = app_env(args, read_cache=mode == "cached")
        print(f"serving with gunicorn, {MODES[mode]}", file=sys.stderr)
        access_log = WORK / f"access-{mode}.log"
        with Server(env, args.workers, WORK / f"gunicorn-{mode}.log", access_log) as server:
            spec = {**load, "port": server.port, "spread": picked["spread"]}
            before = os.getloadavg()[0]
            run = child("client", spec, {**os.environ})
            # Other work on the machine shows here: the benchmark itself keeps about two cores busy.
            run["load_average"] = {"before": round(before, 2), "after": round(os.getloadavg()[0], 2)}
            tail = server.log_tail()
        # gunicorn writes a request's access-log line before it takes the next; all are there now.
        add_server_times(run, access_log)
        if tail.strip():
            print(f"gunicorn said ({MODES[mode]}):\n{tail}", file=sys.stderr)
        http_runs[mode] = run

    mixed = run_mixed(args, picked) if args.mixed_seconds > 0 else None

    results = {
        **measured,
        "finished_at": provenance()["measured_at"],
        "database": args.database,
        **{key: value for key, value in picked["data"].items() if key != "next_synthesized_index"},
        "cpu_count": os.cpu_count(),
        "environment": {
            **cold["environment"],
            "cache_backend_read_cache_on": warm["environment"]["cache_backend"],
        },
        "load": load,
        "urls": urls,
        "spread": picked["spread"],
        "mixed_urls": picked["mixed"],
        "http": http_runs,
        "mixed": mixed,
        "queries": queries,
        "query_statements_cold": cold["statements"],
        "modes": MODES,
        "targets": {
            "ratio_to_health": RATIO_TARGETS,
            "server_median_ms": SERVER_MS_TARGETS,
            "scale": TARGET_SCALE,
            "query_budgets": QUERY_BUDGETS,
        },
    }
    judge(results)
    return results


def main() -> None:
    parser = database_parser(__doc__)
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
    parser.add_argument(
        "--mixed-seconds", type=float, default=60, help="Length of the mixed run (0: no mixed run)."
    )
    parser.add_argument("--seed", type=int, default=2026, help="The corpus's seed (bench_import's).")
    parser.add_argument("--shape", default="combination", help="The corpus's shape (bench_import's).")
    parser.add_argument("--role", choices=["probe", "client", "mixed"], help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.role:
        spec = json.loads(sys.stdin.readline())
        try:
            out = {"probe": probe, "client": client, "mixed": mixed_client}[args.role](spec)
        except BenchError as exc:
            raise SystemExit(f"bench_http: {exc}") from None
        print(json.dumps(out))
        return

    results = run_benchmark(args)
    (results_dir() / "http.json").write_text(json.dumps(results, indent=2) + "\n")
    print(summary(results), file=sys.stderr)
    print(json.dumps({key: results[key] for key in ("checks", "passed")}, indent=2))


if __name__ == "__main__":
    main()
