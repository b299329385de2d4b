"""Synthetic page-text exports, for demos, import load tests and similar-posts evaluation.

Every document belongs to one topic cluster: a problem worked on in a stack, with the cluster's own
tools, keywords, stack tags and entities, so documents of the same cluster are "similar posts" of
each other and `clusters.json` (written by `write_corpus`) is the ground truth for that.

Document `i` is generated from its own random stream, seeded with `"{seed}:{i}"`, so it does not
depend on documents `0..i-1`: a corpus of any size streams in constant memory, and the same
arguments always give byte-identical documents. The layout is the one of the real sample export in
`articles/fixtures/samples/` (see `docs/page-format.md`).

`difficulty="hard"` perturbs each document with a second random stream (`"{seed}:{i}:hard"`), so a
hard document keeps the cluster of its normal twin: noise tags shared by every cluster, entities
lost, tools drawn from the whole area (so tags alone no longer separate two problems of the same
area) or borrowed from another cluster, the stack tag dropped, body sections or the ai outline
left out, and generic titles. Hard documents are still valid, well formed page-text exports.

Corpus shapes (`shape=`, the synthesizer's `--shape`) stress the similar-posts engine in other ways;
"normal" and "hard" are the two above, and the other four define topics by combinations of common
attributes, as a real knowledge base does: every topic is one of PROBLEMS worked on in one of STACKS
(10 x 6 = 60 topics), every problem on about 10% of the documents and every stack on about 17%, and
no term belongs to one topic alone.

- "combination": the 60 topics, equally likely.
- "zipf": the same topics, with Zipf-distributed sizes (the largest about 60 times the smallest).
- "noisy": combination, and half of the documents blurred (`"{seed}:{i}:noisy"`): tools of other
  problems and stacks, noise tags, the problem entity lost, a vague topic (the problem or the stack
  alone, or the area) or none of the outline, and boilerplate titles shared across topics.
- "sites": combination, written by three sites in one corpus, each with its own house tags and
  title boilerplate (each on a third of the documents).

This module is plain Python (no Django), so a management command, a benchmark script or a test can
use it alike.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote_plus

__all__ = [
    "CLUSTERS",
    "COMBINATIONS",
    "DIFFICULTIES",
    "PROBLEMS",
    "SHAPES",
    "STACKS",
    "NOISE_TAGS",
    "SHARD_SIZE",
    "SITES",
    "Cluster",
    "SynthesizedDocument",
    "synthesize",
    "synthesize_document",
    "write_corpus",
]

SHAPES = ("normal", "hard", "combination", "zipf", "noisy", "sites")
DIFFICULTIES = SHAPES  # the original name of the argument: "normal" and "hard" were the first shapes
SHARD_SIZE = 1000

SITES = {"alphanode": "anp", "betabyte": "bbt", "gammagrid": "ggd"}
"""Site name -> reference prefix."""


@dataclass(frozen=True)
class SynthesizedDocument:
    """One generated page-text export and the cluster it was generated from."""

    reference: str
    cluster: str
    filename: str
    text: str


@dataclass(frozen=True)
class Cluster:
    """A topic: one problem worked on in one stack, with its characteristic vocabulary."""

    short: str
    problem: str
    stack: str
    area: str
    language: str
    code_language: str
    tools: tuple[str, ...]
    keywords: tuple[str, ...]

    @property
    def name(self) -> str:
        """The cluster's name, e.g. "rollback friendly releases / python services"."""
        return f"{self.short} / {self.stack}"


def _cluster(short, problem, stack, area, language, code_language, tools, keywords) -> Cluster:
    return Cluster(short, problem, stack, area, language, code_language, tuple(tools), tuple(keywords))


CLUSTERS: tuple[Cluster, ...] = (
    _cluster(
        "rollback friendly releases", "creating rollback friendly releases", "python services",
        "backend", "python", "python",
        ["fastapi", "pytest", "uvicorn", "ruff", "alembic", "gunicorn", "sentry"],
        ["release tag", "feature flag", "rollback window", "artifact pinning", "health check"],
    ),
    _cluster(
        "zero downtime migrations", "running zero downtime migrations", "postgresql",
        "database", "sql", "sql",
        ["psql", "pg_repack", "pgbouncer", "flyway", "pg_stat_statements", "pgbadger"],
        ["lock timeout", "concurrent index", "backfill batch", "replication lag", "expand and contract"],
    ),
    _cluster(
        "cache invalidation", "getting cache invalidation right", "django",
        "backend", "python", "python",
        ["redis", "django-cachalot", "memcached", "celery", "pytest-django", "django-debug-toolbar"],
        ["cache key version", "stale read", "signal handler", "template fragment cache", "write through"],
    ),
    _cluster(
        "observability", "building useful observability", "kubernetes",
        "platform", "bash", "bash",
        ["prometheus", "grafana", "opentelemetry", "loki", "kubectl", "jaeger", "alertmanager"],
        ["service level objective", "trace sampling", "cardinality budget", "pod restart", "alert fatigue"],
    ),
    _cluster(
        "queue backpressure", "handling queue backpressure", "rabbitmq",
        "messaging", "python", "python",
        ["pika", "celery", "rabbitmqctl", "kombu", "flower", "rabbitmq management plugin"],
        ["prefetch count", "queue depth", "consumer ack", "publisher confirm", "message ttl"],
    ),
    _cluster(
        "frontend bundle size", "reducing frontend bundle size", "react",
        "frontend", "javascript", "javascript",
        ["webpack", "vite", "source-map-explorer", "esbuild", "lighthouse", "rollup", "babel"],
        ["code splitting", "tree shaking", "lazy route", "vendor chunk", "dynamic import"],
    ),
    _cluster(
        "goroutine leaks", "tracking down goroutine leaks", "go services",
        "backend", "go", "go",
        ["pprof", "goleak", "delve", "golangci-lint", "go test", "expvar"],
        ["context cancellation", "blocked channel", "worker pool", "heap profile", "select timeout"],
    ),
    _cluster(
        "unsafe code audits", "auditing unsafe code", "rust crates",
        "systems", "rust", "rust",
        ["cargo", "miri", "clippy", "cargo-fuzz", "valgrind", "cargo-geiger"],
        ["raw pointer", "undefined behavior", "lifetime bound", "send and sync", "soundness hole"],
    ),
    _cluster(
        "async runtime tuning", "tuning async runtimes", "tokio services",
        "backend", "rust", "rust",
        ["tokio-console", "tracing", "criterion", "cargo flamegraph", "hyper", "axum"],
        ["blocking task", "worker threads", "cooperative yield", "spawn blocking", "tail latency"],
    ),
    _cluster(
        "type safe api clients", "generating type safe api clients", "typescript apps",
        "frontend", "typescript", "typescript",
        ["openapi-generator", "zod", "tsc", "vitest", "eslint", "orval"],
        ["schema drift", "runtime validation", "strict mode", "discriminated union", "generated types"],
    ),
    _cluster(
        "monorepo build caching", "speeding up monorepo builds", "nx workspaces",
        "tooling", "typescript", "typescript",
        ["nx", "pnpm", "turborepo", "jest", "swc", "changesets"],
        ["remote cache", "affected graph", "task pipeline", "cache hit rate", "workspace boundary"],
    ),
    _cluster(
        "jvm garbage collection", "tuning jvm garbage collection", "spring boot services",
        "backend", "java", "java",
        ["jcmd", "java flight recorder", "g1gc", "gradle", "micrometer", "visualvm", "async-profiler"],
        ["pause time", "heap sizing", "allocation rate", "old generation", "gc log"],
    ),
    _cluster(
        "connection pool exhaustion", "fixing connection pool exhaustion", "hibernate",
        "database", "java", "java",
        ["hikaricp", "hibernate statistics", "jdbc", "p6spy", "spring data jpa", "testcontainers"],
        ["pool size", "n plus one query", "transaction boundary", "idle timeout", "leak detection"],
    ),
    _cluster(
        "php upgrade paths", "planning php version upgrades", "laravel apps",
        "backend", "php", "php",
        ["composer", "rector", "phpstan", "phpunit", "laravel shift", "php-cs-fixer"],
        ["deprecated function", "type juggling", "strict types", "dependency constraint", "upgrade path"],
    ),
    _cluster(
        "wordpress performance", "speeding up wordpress sites", "wordpress",
        "cms", "php", "php",
        ["wp-cli", "query monitor", "redis object cache", "nginx", "php-fpm", "xdebug"],
        ["autoloaded options", "transient cleanup", "page cache", "slow query", "cron event"],
    ),
    _cluster(
        "background jobs", "running reliable background jobs", "rails apps",
        "backend", "ruby", "ruby",
        ["sidekiq", "activejob", "redis", "rspec", "rubocop", "good_job"],
        ["retry policy", "idempotent job", "dead set", "job uniqueness", "queue latency"],
    ),
    _cluster(
        "n plus one queries", "eliminating n plus one queries", "active record",
        "database", "ruby", "ruby",
        ["bullet", "rack-mini-profiler", "rspec", "prosopite", "pghero", "rubocop-rails"],
        ["eager loading", "includes call", "counter cache", "query count", "preload"],
    ),
    _cluster(
        "query plan regressions", "catching query plan regressions", "mysql",
        "database", "sql", "sql",
        ["pt-query-digest", "mysqlsh", "percona toolkit", "performance schema", "orchestrator", "sysbench"],
        ["index hint", "optimizer statistics", "full table scan", "slow query log", "covering index"],
    ),
    _cluster(
        "shell script hardening", "hardening shell scripts", "bash tooling",
        "operations", "bash", "bash",
        ["shellcheck", "shfmt", "bats", "jq", "make", "cron"],
        ["strict mode", "quoting rule", "exit code", "trap handler", "temp file cleanup"],
    ),
    _cluster(
        "ci pipeline speed", "speeding up ci pipelines", "github actions",
        "ci", "bash", "bash",
        ["actions cache", "act", "docker buildx", "hadolint", "yamllint", "reviewdog"],
        ["build matrix", "cache key", "flaky test", "runner minutes", "artifact upload"],
    ),
    _cluster(
        "container image size", "shrinking container images", "container builds",
        "platform", "bash", "bash",
        ["dive", "buildkit", "distroless", "trivy", "skopeo", "podman"],
        ["multi stage build", "layer cache", "base image", "image digest", "vulnerability scan"],
    ),
    _cluster(
        "infrastructure drift", "detecting infrastructure drift", "terraform on aws",
        "infrastructure", "bash", "bash",
        ["terraform", "tflint", "checkov", "aws cli", "terragrunt", "infracost"],
        ["state lock", "plan output", "remote backend", "drift report", "module version"],
    ),
    _cluster(
        "secrets rotation", "rotating secrets safely", "hashicorp vault",
        "security", "go", "go",
        ["vault", "consul-template", "aws secrets manager", "sops", "age", "external-secrets"],
        ["lease duration", "dynamic credentials", "rotation window", "secret sprawl", "audit device"],
    ),
    _cluster(
        "rate limiting", "designing rate limiting", "nginx gateways",
        "networking", "bash", "bash",
        ["nginx", "openresty", "redis", "k6", "vegeta", "fail2ban"],
        ["token bucket", "burst size", "limit zone", "too many requests", "client key"],
    ),
    _cluster(
        "flaky test triage", "triaging flaky tests", "pytest suites",
        "testing", "python", "python",
        ["pytest", "pytest-xdist", "pytest-rerunfailures", "hypothesis", "freezegun", "coverage.py"],
        ["test isolation", "random order", "shared fixture", "time dependency", "quarantine list"],
    ),
    _cluster(
        "pipeline idempotency", "making data pipelines idempotent", "airflow dags",
        "data", "python", "python",
        ["airflow", "dbt", "great expectations", "pandas", "sqlalchemy", "boto3"],
        ["partition key", "backfill run", "upsert", "task retry", "watermark"],
    ),
    _cluster(
        "schema evolution", "managing schema evolution", "kafka streams",
        "messaging", "java", "java",
        ["schema registry", "avro", "kafka connect", "kcat", "protobuf", "ksqldb"],
        ["compatibility mode", "consumer lag", "topic compaction", "schema version", "dead letter topic"],
    ),
    _cluster(
        "websocket scaling", "scaling websocket connections", "node.js servers",
        "realtime", "javascript", "javascript",
        ["socket.io", "ws", "redis pub/sub", "pm2", "autocannon", "clinic.js"],
        ["sticky session", "heartbeat interval", "fan out", "connection churn", "event loop lag"],
    ),
    _cluster(
        "server side rendering", "debugging server side rendering", "next.js",
        "frontend", "typescript", "typescript",
        ["vercel", "react server components", "playwright", "webpack bundle analyzer", "swr", "turbopack"],
        ["hydration mismatch", "streaming render", "static generation", "cache revalidation", "edge runtime"],
    ),
    _cluster(
        "accessibility audits", "running accessibility audits", "vue apps",
        "frontend", "javascript", "javascript",
        ["axe-core", "vue-axe", "lighthouse", "pa11y", "cypress", "eslint-plugin-vuejs-accessibility"],
        ["focus order", "aria label", "colour contrast", "screen reader", "keyboard trap"],
    ),
    _cluster(
        "search relevance", "tuning full text search", "elasticsearch",
        "search", "python", "python",
        ["elasticsearch-dsl", "kibana", "opensearch", "rally", "logstash", "ranking evaluation api"],
        ["analyzer chain", "shard count", "relevance score", "synonym filter", "index alias"],
    ),
    _cluster(
        "grpc error handling", "handling grpc errors", "grpc services",
        "backend", "go", "go",
        ["grpc-go", "protoc", "buf", "grpcurl", "envoy", "ghz"],
        ["status code", "deadline propagation", "retry budget", "interceptor", "error details"],
    ),
    _cluster(
        "restore testing", "testing database restores", "postgresql backups",
        "database", "bash", "bash",
        ["pg_dump", "pgbackrest", "wal-g", "barman", "restic", "pg_verifybackup"],
        ["restore drill", "point in time recovery", "wal archive", "retention policy", "backup verification"],
    ),
    _cluster(
        "dependency updates", "keeping dependencies updated", "npm packages",
        "tooling", "javascript", "javascript",
        ["renovate", "npm audit", "dependabot", "lockfile-lint", "npm-check-updates", "publint"],
        ["lockfile", "breaking change", "transitive dependency", "security advisory", "update batch"],
    ),
    _cluster(
        "mobile release trains", "shipping mobile release trains", "react native apps",
        "mobile", "typescript", "typescript",
        ["fastlane", "expo", "detox", "codepush", "hermes", "metro"],
        ["staged rollout", "crash free rate", "store review", "over the air update", "build number"],
    ),
    _cluster(
        "tenant isolation", "enforcing tenant isolation", "postgresql row level security",
        "security", "sql", "sql",
        ["psql", "pgtap", "postgrest", "supabase", "pgaudit", "sqitch"],
        ["tenant id", "policy check", "session variable", "bypass role", "cross tenant leak"],
    ),
    _cluster(
        "webassembly performance", "optimizing webassembly modules", "rust wasm",
        "frontend", "rust", "rust",
        ["wasm-pack", "wasm-bindgen", "wasm-opt", "twiggy", "trunk", "web-sys"],
        ["binary size", "js boundary", "linear memory", "startup time", "simd"],
    ),
    _cluster(
        "cli ergonomics", "designing friendly command line tools", "rust cli",
        "tooling", "rust", "rust",
        ["clap", "anyhow", "indicatif", "assert_cmd", "serde", "cargo-dist"],
        ["exit status", "help text", "subcommand", "config file", "shell completion"],
    ),
    _cluster(
        "queue workers", "running messenger workers", "symfony",
        "backend", "php", "php",
        ["symfony messenger", "supervisor", "doctrine", "phpunit", "blackfire", "psalm"],
        ["worker memory limit", "failure transport", "message retry", "graceful stop", "transport dsn"],
    ),
    _cluster(
        "memory bloat", "reducing memory bloat", "puma servers",
        "backend", "ruby", "ruby",
        ["jemalloc", "derailed_benchmarks", "memory_profiler", "puma", "stackprof", "heapy"],
        ["copy on write", "worker killer", "object allocation", "heap fragmentation", "malloc arena"],
    ),
    _cluster(
        "reporting queries", "writing maintainable reporting queries", "bigquery",
        "data", "sql", "sql",
        ["bq cli", "dataform", "looker", "sqlfluff", "dbt", "information schema"],
        ["partitioned table", "window function", "slot usage", "materialized view", "cost estimate"],
    ),
    _cluster(
        "graceful shutdown", "implementing graceful shutdown", "go http servers",
        "backend", "go", "go",
        ["net/http", "errgroup", "signal.notifycontext", "testify", "hey", "kubernetes probes"],
        ["drain period", "in flight request", "sigterm", "readiness probe", "shutdown timeout"],
    ),
)  # fmt: skip


@dataclass(frozen=True)
class Problem:
    """A problem of the combination shapes: worked on in every stack, on about 10% of documents."""

    short: str
    phrase: str
    tools: tuple[str, ...]
    keywords: tuple[str, ...]


@dataclass(frozen=True)
class Stack:
    """A stack of the combination shapes, on about 17% of documents, whatever the problem."""

    name: str
    area: str
    language: str
    code_language: str
    tools: tuple[str, ...]
    keywords: tuple[str, ...]


PROBLEMS: tuple[Problem, ...] = tuple(
    Problem(short, phrase, tuple(tools), tuple(keywords))
    for short, phrase, tools, keywords in (
        ("slow queries", "fixing slow queries",
         ["query profiler", "explain analyzer", "slow log parser", "index advisor", "load generator"],
         ["query plan", "missing index", "row estimate", "sequential scan", "query latency"]),
        ("memory leaks", "tracking down memory leaks",
         ["heap profiler", "allocation tracker", "leak detector", "memory dashboard", "core dump tool"],
         ["heap growth", "retained object", "allocation rate", "leak suspect", "memory limit"]),
        ("flaky tests", "triaging flaky tests",
         ["test rerunner", "test quarantine", "order randomizer", "time freezer", "test reporter"],
         ["test isolation", "random order", "shared fixture", "time dependency", "quarantine list"]),
        ("zero downtime deploys", "shipping zero downtime deploys",
         ["deploy orchestrator", "traffic shifter", "health prober", "release dashboard", "canary analyzer"],
         ["rolling update", "readiness check", "connection draining", "canary release", "deploy window"]),
        ("observability", "building useful observability",
         ["metrics collector", "trace exporter", "log shipper", "alert router", "dashboard builder"],
         ["service level objective", "trace sampling", "alert fatigue", "log volume", "metric cardinality"]),
        ("caching", "getting caching right",
         ["cache proxy", "key inspector", "cache warmer", "hit rate monitor", "eviction simulator"],
         ["cache key", "stale read", "invalidation rule", "hit ratio", "time to live"]),
        ("schema migrations", "running schema migrations safely",
         ["migration runner", "schema differ", "backfill worker", "lock monitor", "migration linter"],
         ["schema change", "lock timeout", "backfill batch", "expand and contract", "migration order"]),
        ("background jobs", "running reliable background jobs",
         ["job scheduler", "queue inspector", "retry manager", "dead letter viewer", "worker supervisor"],
         ["retry policy", "idempotent job", "queue depth", "job timeout", "poison message"]),
        ("secrets handling", "handling secrets safely",
         ["secret store", "key rotator", "secret scanner", "token broker", "audit trail"],
         ["secret rotation", "leaked credential", "access policy", "key expiry", "least privilege"]),
        ("dependency upgrades", "planning dependency upgrades",
         ["update bot", "lockfile checker", "changelog reader", "vulnerability scanner", "version pinner"],
         ["breaking change", "transitive dependency", "security advisory", "upgrade path", "version range"]),
    )
)  # fmt: skip
"""The problems of the combination shapes: their tools and keywords are the same in every stack."""

STACKS: tuple[Stack, ...] = tuple(
    Stack(name, area, language, code_language, tuple(tools), tuple(keywords))
    for name, area, language, code_language, tools, keywords in (
        ("django", "backend", "python", "python",
         ["pytest", "ruff", "celery", "gunicorn", "django-debug-toolbar"],
         ["orm query", "middleware", "settings module", "management command"]),
        ("spring boot", "backend", "java", "java",
         ["gradle", "junit", "micrometer", "hibernate", "actuator"],
         ["bean lifecycle", "application context", "jvm flag", "connection pool"]),
        ("react", "frontend", "javascript", "javascript",
         ["webpack", "jest", "eslint", "vite", "storybook"],
         ["component tree", "render cycle", "bundle size", "state hook"]),
        ("go services", "backend", "go", "go",
         ["pprof", "golangci-lint", "go test", "delve", "expvar"],
         ["goroutine", "context cancellation", "interface value", "module proxy"]),
        ("kubernetes", "platform", "bash", "bash",
         ["kubectl", "helm", "kustomize", "k9s", "argo cd"],
         ["pod spec", "namespace quota", "rollout status", "config map"]),
        ("postgresql", "database", "sql", "sql",
         ["psql", "pgbouncer", "pg_stat_statements", "pgbadger", "pg_repack"],
         ["vacuum", "replication slot", "wal volume", "autovacuum threshold"]),
    )
)  # fmt: skip
"""The stacks of the combination shapes: their tags, tools and keywords, whatever the problem."""

COMBINATIONS: tuple[Cluster, ...] = tuple(
    _cluster(
        problem.short, problem.phrase, stack.name, stack.area, stack.language, stack.code_language,
        [*problem.tools, *stack.tools], [*problem.keywords, *stack.keywords],
    )
    for problem in PROBLEMS
    for stack in STACKS
)  # fmt: skip
"""The 60 topics of the combination shapes: each problem in each stack."""

_ZIPF_WEIGHTS = tuple(1.0 / (rank + 1) for rank in range(len(COMBINATIONS)))
_ZIPF_ORDER = tuple(random.Random("zipf-order").sample(range(len(COMBINATIONS)), len(COMBINATIONS)))
"""Topic sizes of the "zipf" shape: the topic of rank r (in a fixed shuffled order) ~ 1 / r."""

_HOUSE = {
    "alphanode": (("alphanode", "engineering blog"), "alphanode engineering"),
    "betabyte": (("betabyte", "tech notes"), "betabyte tech notes"),
    "gammagrid": (("gammagrid", "platform team"), "from the gammagrid platform team"),
}
"""The "sites" shape: each site's house tags and title boilerplate."""


NOISE_TAGS = (
    "git", "logs", "docker", "linux", "monitoring", "performance", "cloud", "devops",
    "documentation", "yaml", "http", "api", "open source", "best practices",
)  # fmt: skip
"""Tags that hard documents add to any cluster: they carry no signal about the topic."""

_SCENARIOS = (
    ("before a major migration", "a major migration"),
    ("during a traffic spike", "a traffic spike"),
    ("after an incident", "an incident"),
    ("while onboarding a new team", "onboarding a new team"),
    ("ahead of a compliance audit", "a compliance audit"),
    ("during a platform upgrade", "a platform upgrade"),
    ("after a failed deploy", "a failed deploy"),
    ("in the middle of a cost review", "a cost review"),
    ("before a holiday code freeze", "a holiday code freeze"),
    ("while splitting a monolith", "splitting a monolith"),
    ("after a dependency upgrade", "a dependency upgrade"),
    ("during a data center move", "a data center move"),
)  # fmt: skip

_VARIANTS = (
    "maintenance guide", "field notes", "team playbook", "quick reference", "deep dive",
    "checklist edition", "second look", "revisited", "a working example", "step by step",
    "for on-call engineers", "for small teams", "the long version", "the short version",
    "part two", "part three", "in practice", "annotated", "what we measured", "a case study",
    "for reviewers", "from first principles", "with examples", "common mistakes",
    "a retrospective", "for new maintainers", "the boring way", "without heroics",
    "one step at a time", "what actually worked",
)  # fmt: skip

_TITLES = (
    "production checklist for {problem} in {stack} {scenario}: {kw}, {variant}",
    "a practical guide to {problem} with {stack} and {tool}: {kw} ({variant})",
    "{problem} in {stack}: lessons about {kw} from {scenario_noun}, {variant}",
    "how we handle {kw} in {stack} with {tool} {scenario}: {variant}",
    "what {scenario_noun} taught us about {kw} in {stack}: {tool}, {variant}",
    "{problem} with {tool} and {tool2} in {stack}: {kw}, {variant}",
    "{stack} notes: {problem} {scenario}, {kw} and {tool} ({variant})",
    "{problem} in {stack}, {variant}: {tool} and {kw} {scenario}",
)  # fmt: skip

_FOCUS = (
    "release hygiene", "on-call load", "review habits", "safer defaults", "small changes",
    "fewer surprises", "faster feedback", "clear ownership", "honest metrics", "boring deploys",
    "cheaper mistakes", "better runbooks", "quieter alerts", "shorter incidents", "simpler rollbacks",
    "steady throughput", "predictable builds", "useful dashboards", "cleaner handovers", "calmer releases",
)  # fmt: skip
"""Generic title topics for hard documents: they say nothing about the cluster."""

_GENERIC_TITLES = (
    "a practical guide to {focus} in {area} work: {variant}",
    "notes on {area} work {scenario}: {focus}, {variant}",
    "lessons from {scenario_noun}: {focus} ({variant})",
    "what we changed {scenario}: {focus}, {variant}",
    "engineering notes on {problem}: {focus} ({variant})",
    "a {language} team's guide to {focus}: {variant}, {scenario}",
    "production checklist for {focus}: {variant}, {scenario}",
)  # fmt: skip

_INTROS = (
    "a reliable {stack} setup is less about clever code and more about repeatable habits. in this "
    "guide, we look at {problem} {scenario} and keep the steps focused on production work.",
    "teams that run {stack} in production eventually have to deal with {problem}. this article "
    "walks through the approach we used {scenario}, with {tool} doing most of the heavy lifting.",
    "{problem} sounds like a small task until it fails {scenario}. here is how we approach it in "
    "{stack}, what we measure, and what we check before calling it done.",
    "this is a field report on {problem} in {stack}. the work happened {scenario}, and the notes "
    "below focus on {kw} and the checks that kept the change safe.",
    "most trouble with {kw} in {stack} comes from missing feedback, not missing features. we revisit "
    "{problem} with {tool} and {tool2} and keep every step small and observable.",
)  # fmt: skip

_MIDDLES = (
    "start by measuring {kw}. {tool} gives a baseline in a few minutes, and that baseline is what "
    "you compare against after every change. without it, {problem} turns into guesswork.",
    "{kw} and {kw2} are usually connected. when one moves, check the other before touching the "
    "code, and keep the {tool} output next to the pull request so reviewers see the same numbers.",
    "in {stack}, the defaults are rarely wrong, but they are tuned for a different workload. read "
    "what {tool} reports about {kw}, change one setting at a time, and write down why.",
    "{tool2} is useful here because it turns {kw} into something you can alert on. a dashboard "
    "nobody opens does not help; an alert with a clear owner does.",
    "a common mistake is to treat {problem} as a one-off project. it works better as a habit: a "
    "short {language} script, a scheduled check with {tool}, and a note in the runbook.",
    "when the change touches {kw}, ship it to a small slice of traffic first. {stack} makes that "
    "easy enough that skipping it is hard to justify, even {scenario}.",
)  # fmt: skip

_GENERIC_MIDDLES = (
    "large content sites need predictable background work. queues, cron events, and import scripts "
    "should be idempotent, logged, and safe to run again. that makes recovery much easier when a "
    "request stops halfway through.",
    "database changes need extra care. check the existing indexes, inspect the query plan, and test "
    "the migration on a copy of real data. the fastest query in development can still become the "
    "slowest request in production.",
    "small pull requests are easier to review and easier to revert. split the work so that every "
    "step leaves the system in a working state, even if the full change takes a week.",
    "write the rollback before the rollout. if the way back is not obvious, the change is not "
    "ready, no matter how good the tests look.",
    "good runbooks are short. they name the owner, the command to run, the signal that says it "
    "worked, and the signal that says it did not.",
)  # fmt: skip

_CLOSINGS = (
    "the best result is not only a faster or cleaner {stack} implementation. it is a change that "
    "another developer can inspect, understand, and safely repeat. keep the final commands, "
    "metrics, and assumptions close to the article so future maintenance is easier.",
    "{problem} is never finished, but it can be boring, and boring is the goal. keep the {tool} "
    "checks in place and revisit the numbers after the next release.",
    "the short version: measure {kw}, change one thing, and write it down. {stack} rewards teams "
    "that treat operations as part of the code.",
    "if you only take one thing from this guide, make it the checklist. it is what turns {problem} "
    "from a heroic effort into routine {area} work.",
)  # fmt: skip

_FIRST_HEADINGS = (
    "production checks", "what to check first", "how it works", "the approach", "step by step",
    "measuring the problem", "background", "{kw} first", "where {tool} helps", "{problem} in practice",
)  # fmt: skip
_LIST_HEADINGS = ("implementation checklist", "release checklist", "checks before shipping", "rollout steps")
_LAST_HEADINGS = ("final notes", "wrapping up", "what to keep", "follow up", "next steps")

_SUMMARIES = (
    "this ai-style technical summary explains {problem} in {stack}, with emphasis on measurement, "
    "safe defaults, rollback planning, and maintainable documentation.",
    "a practical summary of {problem} for {stack} teams, covering {kw}, {tool} and the checks that "
    "keep releases safe.",
    "this summary covers {problem} in {stack}: what to measure, which {language} tools help, and how "
    "to roll the change out gradually.",
)  # fmt: skip

_BRIEFS = (
    "the article is written like a careful ai generated engineering draft: it explains the reason "
    "for the change, lists operational checks, and avoids pretending that one command fixes every "
    "production case.",
    "the article reads like an ai assisted runbook: short steps, explicit checks, and a clear way "
    "back if the change misbehaves.",
    "the article is an ai generated walkthrough that favours measurement over opinion and keeps "
    "every recommendation tied to a check the reader can run.",
)  # fmt: skip

_ACTIONS = (
    "measure first, change carefully, document the result",
    "add a check, roll out gradually, keep a rollback ready",
    "start with a baseline, fix the worst offender, repeat",
    "automate the check, review the output every week",
)  # fmt: skip

_CHECKLIST = (
    "capture the current behavior", "create a safe backup", "test the smallest change",
    "watch logs after release", "write the final note", "record the baseline metrics",
    "review the rollback plan", "run the full test suite", "ship to a small slice first",
    "update the runbook", "tell the on-call engineer", "compare metrics after a day",
    "remove temporary flags",
)  # fmt: skip
_CLUSTER_CHECKLIST = ("run {tool} against staging", "check {kw} before release", "add an alert for {kw}")

_NOTES = (
    "sanitized array meta is expected to render as a list in the frontend box",
    "view count is synthetic and only used for testing meta volume",
    "content is generated for import/load testing and should be reviewed before indexing",
    "reading time is an estimate from the generator",
    "scores are editorial estimates and may change after review",
    "tools are listed in the order the generator picked them",
)  # fmt: skip

_UNSPLASH_PHOTOS = (
    "photo-1498050108023-c5249f4df085", "photo-1515879218367-8466d910aaa4",
    "photo-1461749280684-dccba630e2f6", "photo-1555066931-4365d14bab8c",
    "photo-1517694712202-14dd9538aa97", "photo-1504639725590-34d0984388bd",
    "photo-1518770660439-4636190af475", "photo-1526379095098-d400fd0bf935",
    "photo-1551288049-bebda4e38f71", "photo-1558494949-ef010cbdcc31",
)  # fmt: skip
_FLICKR_TAGS = ("code,developer", "server,datacenter", "laptop,programming", "network,cable", "office,team")
_DUMMY_COLOURS = ("111827/ffffff", "1e293b/e2e8f0", "0f766e/ffffff", "7c2d12/fde68a")

_CODE: dict[str, tuple[str, ...]] = {
    "python": (
        "from fastapi import FastAPI\napp = FastAPI()\n\n@app.get('/health')\ndef health():\n"
        "    return {'ok': True}",
        "import logging\nimport time\nlog = logging.getLogger(__name__)\n\ndef timed(step, func, *args):\n"
        "    start = time.perf_counter()\n    result = func(*args)\n"
        "    log.info('%s took %.3fs', step, time.perf_counter() - start)\n    return result",
        "from dataclasses import dataclass\n\n@dataclass(frozen=True)\nclass ReleaseCheck:\n"
        "    name: str\n    passed: bool\n\nchecks = [ReleaseCheck('migrations', True), "
        "ReleaseCheck('smoke tests', False)]\nfailed = [check.name for check in checks if not check.passed]",
    ),
    "go": (
        "func main() {\n\tctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)\n"
        "\tdefer cancel()\n\tif err := run(ctx); err != nil {\n\t\tlog.Fatal(err)\n\t}\n}",
        "func worker(ctx context.Context, jobs <-chan Job) error {\n\tfor {\n\t\tselect {\n"
        "\t\tcase <-ctx.Done():\n\t\t\treturn ctx.Err()\n\t\tcase job := <-jobs:\n"
        "\t\t\tif err := job.Run(ctx); err != nil {\n\t\t\t\treturn err\n\t\t\t}\n\t\t}\n\t}\n}",
        'srv := &http.Server{Addr: ":8080", Handler: mux}\ngo srv.ListenAndServe()\n'
        "<-ctx.Done()\nshutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)\n"
        "defer cancel()\nerr := srv.Shutdown(shutdownCtx)",
    ),
    "rust": (
        "use std::time::Duration;\nfn retry<T, E>(mut op: impl FnMut() -> Result<T, E>, attempts: u32) "
        "-> Result<T, E> {\n    let mut last = op();\n    for _ in 1..attempts {\n"
        "        if last.is_ok() {\n            break;\n        }\n"
        "        std::thread::sleep(Duration::from_millis(200));\n        last = op();\n    }\n    last\n}",
        "#[tokio::main]\nasync fn main() -> anyhow::Result<()> {\n"
        '    let listener = tokio::net::TcpListener::bind("0.0.0.0:8080").await?;\n'
        "    axum::serve(listener, app()).await?;\n    Ok(())\n}",
        "#[derive(Debug, serde::Deserialize)]\nstruct Config {\n    timeout_ms: u64,\n    retries: u32,\n}\n"
        'let config: Config = toml::from_str(&std::fs::read_to_string("config.toml")?)?;',
    ),
    "javascript": (
        'const express = require("express");\nconst app = express();\n'
        'app.get("/health", (req, res) => res.json({ ok: true }));\napp.listen(process.env.PORT || 3000);',
        'import { lazy } from "react";\nconst Reports = lazy(() => import("./Reports"));\n'
        'export const routes = [{ path: "/reports", component: Reports }];',
        "export async function withRetry(fn, attempts = 3) {\n  for (let i = 0; i < attempts; i++) {\n"
        "    try {\n      return await fn();\n    } catch (err) {\n"
        "      if (i === attempts - 1) throw err;\n    }\n  }\n}",
    ),
    "typescript": (
        'import { z } from "zod";\nconst Release = z.object({ version: z.string(), status: z.string() });\n'
        "export type Release = z.infer<typeof Release>;\n"
        "export async function fetchRelease(id: string): Promise<Release> {\n"
        "  const res = await fetch(`/api/releases/${id}`);\n  return Release.parse(await res.json());\n}",
        "export function chunk<T>(items: T[], size: number): T[][] {\n  const out: T[][] = [];\n"
        "  for (let i = 0; i < items.length; i += size) {\n    out.push(items.slice(i, i + size));\n  }\n"
        "  return out;\n}",
        "const controller = new AbortController();\n"
        "const timer = setTimeout(() => controller.abort(), 5000);\n"
        "const response = await fetch(url, { signal: controller.signal });\nclearTimeout(timer);",
    ),
    "java": (
        "import java.time.Duration;\npublic final class HealthCheck {\n"
        "    private static final Duration TIMEOUT = Duration.ofSeconds(5);\n"
        "    public static boolean ping(Client client) {\n        return client.ping(TIMEOUT).isOk();\n"
        "    }\n}",
        "@Transactional(readOnly = true)\npublic List<Order> recentOrders(long customerId) {\n"
        "    return orderRepository.findTop20ByCustomerIdOrderByCreatedAtDesc(customerId);\n}",
        "ExecutorService pool = Executors.newFixedThreadPool(8);\n"
        "List<Future<Result>> futures = pool.invokeAll(tasks, 30, TimeUnit.SECONDS);\npool.shutdown();",
    ),
    "php": (
        "<?php\ndeclare(strict_types=1);\nuse Illuminate\\Support\\Facades\\Cache;\n"
        "$report = Cache::remember('report:daily', 600, fn () => Report::daily());",
        "<?php\nfunction retry(callable $fn, int $attempts = 3): mixed {\n"
        "    for ($i = 1; $i <= $attempts; $i++) {\n        try {\n            return $fn();\n"
        "        } catch (RuntimeException $e) {\n            usleep(200000 * $i);\n        }\n    }\n"
        "    throw $e;\n}",
        "$options = get_option('site_options', []);\n$options['cache_ttl'] = 300;\n"
        "update_option('site_options', $options, false);",
    ),
    "ruby": (
        'class ReportJob\n  include Sidekiq::Job\n  sidekiq_options retry: 5, queue: "low"\n'
        "  def perform(report_id)\n    Report.find(report_id).refresh!\n  end\nend",
        "orders = Order.includes(:customer, :line_items).where(created_at: 1.day.ago..)\n"
        "orders.each { |order| puts order.customer.name }",
        'require "benchmark"\nelapsed = Benchmark.realtime { ReportBuilder.new(account).call }\n'
        'Rails.logger.info("report built in #{elapsed.round(2)}s")',
    ),
    "sql": (
        "set lock_timeout = '5s';\ncreate index concurrently if not exists idx_orders_created_at\n"
        "    on orders (created_at);\nanalyze orders;",
        "SELECT relname, n_dead_tup, last_autovacuum\nFROM pg_stat_user_tables\n"
        "ORDER BY n_dead_tup DESC\nLIMIT 10;",
        "with daily as (\n    select date(created_at) as day, count(*) as orders\n    from orders\n"
        "    group by 1\n)\nselect day, orders,\n"
        "    avg(orders) over (order by day rows 6 preceding) as week_avg\nfrom daily;",
    ),
    "bash": (
        "#!/usr/bin/env bash\nset -euo pipefail\nkubectl rollout status deployment/api --timeout=120s\n"
        "kubectl logs deployment/api --since=10m | grep -c error",
        '#!/usr/bin/env bash\nset -euo pipefail\ncleanup() { rm -rf "$tmp"; }\ntmp=$(mktemp -d)\n'
        "trap cleanup EXIT\n"
        'curl -fsS "$URL" -o "$tmp/payload.json" && jq \'.items | length\' "$tmp/payload.json"',
        'for host in $(cat hosts.txt); do\n  ssh "$host" \'systemctl is-active app\' || echo "$host down"\n'
        "done",
    ),
}


@dataclass
class _Plan:
    """Everything a document says, before it is written out as text."""

    index: int
    cluster: Cluster
    site: str
    reference: str
    title: str
    topic: str
    summary: str
    brief: str
    outline: dict[str, str] | None
    stack: list[str]
    tools: list[str]
    difficulty: str
    reading_time: int
    view_count: int
    scores: dict[str, int]
    revision: dict[str, str]
    flags: dict[str, int]
    checklist: list[str]
    entities: list[tuple[str, str]]
    images: list[tuple[str, str, str]]
    scenario: str
    scenario_noun: str
    notes: list[str]
    first_heading: str | None
    list_heading: str | None
    last_heading: str | None
    intro: str
    middles: list[str]
    closing: str
    code: str | None
    body_list: bool = True
    figures_first: int = 0


def synthesize(count: int, *, seed: int = 0, difficulty: str = "normal") -> Iterator[SynthesizedDocument]:
    """Yield `count` documents, deterministic for (count, seed, difficulty): the same arguments give
    byte-identical documents. Streams (a generator): never builds the whole corpus in memory, so
    100,000 documents are cheap. Document `i` is also `synthesize_document(i, seed=..., ...)`.

    Raises ValueError at once (not on first iteration) for a negative count or an unknown difficulty.
    """
    _check(count, difficulty)
    return (synthesize_document(index, seed=seed, difficulty=difficulty) for index in range(count))


def synthesize_document(index: int, *, seed: int = 0, difficulty: str = "normal") -> SynthesizedDocument:
    """Document number `index` of the corpus for (seed, difficulty), without generating the others."""
    _check(index, difficulty, "index")
    rng = random.Random(f"{seed}:{index}")
    if difficulty == "zipf":
        plan = _plan(index, rng, lambda r: COMBINATIONS[r.choices(_ZIPF_ORDER, weights=_ZIPF_WEIGHTS)[0]])
    elif difficulty in ("combination", "noisy", "sites"):
        plan = _plan(index, rng, lambda r: r.choice(COMBINATIONS))
    else:
        plan = _plan(index, rng)
    if difficulty == "hard":
        _harden(plan, random.Random(f"{seed}:{index}:hard"))
    elif difficulty == "noisy":
        _blur(plan, random.Random(f"{seed}:{index}:noisy"))
    elif difficulty == "sites":
        _house_style(plan)
    return SynthesizedDocument(
        reference=plan.reference,
        cluster=plan.cluster.name,
        filename=f"{plan.reference}.txt",
        text=_render(plan),
    )


def write_corpus(
    out_dir: Path,
    count: int,
    *,
    seed: int = 0,
    difficulty: str = "normal",
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write every document as out_dir/<shard>/<filename> and out_dir/clusters.json; return the count.

    Documents are sharded by index into subfolders of at most SHARD_SIZE files (`000/` holds
    documents 0-999, `001/` the next thousand, ...; the folder names are zero padded so they sort in
    index order). clusters.json is a JSON object mapping each reference to its cluster name, in
    index order. `progress(n)` is called after each document with the number written so far.
    Existing files of the same name are overwritten; other files in out_dir are left alone.
    """
    _check(count, difficulty)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    width = max(3, len(str(max(count - 1, 0) // SHARD_SIZE)))
    clusters: dict[str, str] = {}
    shard_dir: Path | None = None
    for n, document in enumerate(synthesize(count, seed=seed, difficulty=difficulty), start=1):
        index = n - 1
        if index % SHARD_SIZE == 0:
            shard_dir = out_dir / f"{index // SHARD_SIZE:0{width}d}"
            shard_dir.mkdir(exist_ok=True)
        with open(shard_dir / document.filename, "wb") as handle:
            handle.write(document.text.encode("utf-8"))
        clusters[document.reference] = document.cluster
        if progress is not None:
            progress(n)
    with open(out_dir / "clusters.json", "w", encoding="utf-8", newline="\n") as handle:
        json.dump(clusters, handle, indent=0)
        handle.write("\n")
    return count


def _check(number: int, difficulty: str, name: str = "count") -> None:
    if difficulty not in DIFFICULTIES:
        raise ValueError(f"difficulty (the shape) must be one of {', '.join(SHAPES)}, got {difficulty!r}")
    if number < 0:
        raise ValueError(f"{name} must be >= 0, got {number}")


def _plan(index: int, rng: random.Random, pick: Callable[[random.Random], Cluster] | None = None) -> _Plan:
    """Draw a normal (clean) document; every draw comes from `rng`, in a fixed order. `pick` draws
    the topic (by default one of CLUSTERS)."""
    cluster = pick(rng) if pick else rng.choice(CLUSTERS)
    site = rng.choice(tuple(SITES))
    reference = f"{SITES[site]}-ref-{index:06d}-{rng.randrange(10000):04d}"
    scenario, scenario_noun = rng.choice(_SCENARIOS)
    tools = rng.sample(cluster.tools, rng.randint(3, min(6, len(cluster.tools))))
    keywords = rng.sample(cluster.keywords, 2)
    words = {
        "problem": cluster.problem,
        "stack": cluster.stack,
        "area": cluster.area,
        "language": cluster.language,
        "scenario": scenario,
        "scenario_noun": scenario_noun,
        "tool": tools[0],
        "tool2": tools[1],
        "kw": keywords[0],
        "kw2": keywords[1],
        "variant": rng.choice(_VARIANTS),
    }
    title = rng.choice(_TITLES).format_map(words)

    middle_count = rng.randint(0, 3)
    middles = [
        rng.choice(_GENERIC_MIDDLES if rng.random() < 0.3 else _MIDDLES).format_map(words)
        for _ in range(middle_count)
    ]
    middles = list(dict.fromkeys(middles))

    checklist = rng.sample(_CHECKLIST, rng.randint(2, 4))
    checklist += [item.format_map(words) for item in rng.sample(_CLUSTER_CHECKLIST, rng.randint(1, 2))]
    rng.shuffle(checklist)

    entities = [(cluster.stack, "stack"), (cluster.area, "area"), (cluster.problem, "problem")]
    entities += [(tool, "tool") for tool in tools[: rng.randint(0, 2)]]

    image_count = rng.choices((0, 1, 2, 3, 4), weights=(30, 15, 20, 15, 20))[0]
    images = []
    for k in range(1, image_count + 1):
        caption = f"{cluster.problem} with {cluster.stack} visual reference {k}"
        images.append(_image(rng, caption, index + k - 1))

    if rng.random() < 0.75:
        status, needs_review = "reviewed", 0
    else:
        status, needs_review = rng.choice((("draft", 1), ("draft", 1), ("draft", 0), ("reviewed", 1)))
    reviewed = dt.date(2025, 1, 1) + dt.timedelta(days=rng.randrange(730))

    return _Plan(
        index=index,
        cluster=cluster,
        site=site,
        reference=reference,
        title=title,
        topic=cluster.name,
        summary=rng.choice(_SUMMARIES).format_map(words),
        brief=rng.choice(_BRIEFS),
        outline={
            "context": scenario,
            "problem": cluster.problem,
            "stack": cluster.stack,
            "recommended action": rng.choice(_ACTIONS),
        },
        stack=[cluster.stack, cluster.area, cluster.language],
        tools=tools,
        difficulty=rng.choice(("beginner", "intermediate", "advanced")),
        reading_time=2 + middle_count + rng.randint(0, 6),
        view_count=int(rng.paretovariate(1.1) * 900) % 1_000_000,
        scores={name: rng.randint(20, 99) for name in ("quality", "freshness", "depth", "clarity")},
        revision={
            "status": status,
            "version": f"{rng.randint(0, 3)}.{rng.randint(0, 12)}.{rng.randint(0, 20)}",
            "last reviewed": reviewed.isoformat(),
        },
        flags={
            "ai generated style": int(rng.random() < 0.9),
            "has images": int(image_count > 0),
            "image heavy": int(image_count >= 3),
            "needs human review": needs_review,
        },
        checklist=checklist,
        entities=entities,
        images=images,
        scenario=scenario,
        scenario_noun=scenario_noun,
        notes=rng.sample(_NOTES, rng.randint(1, 3)),
        first_heading=rng.choice(_FIRST_HEADINGS).format_map(words),
        list_heading=rng.choice(_LIST_HEADINGS),
        last_heading=rng.choice(_LAST_HEADINGS),
        intro=rng.choice(_INTROS).format_map(words),
        middles=middles,
        closing=rng.choice(_CLOSINGS).format_map(words),
        code=rng.choice(_CODE[cluster.code_language]),
        figures_first=min(2, image_count) if image_count < 4 else rng.randint(1, 3),
    )


def _image(rng: random.Random, caption: str, lock: int) -> tuple[str, str, str]:
    """An image source (source, https url, caption)."""
    source = rng.choices(("unsplash", "loremflickr.com", "dummyimage.com"), weights=(50, 25, 25))[0]
    if source == "unsplash":
        photo = rng.choice(_UNSPLASH_PHOTOS)
        url = f"https://images.unsplash.com/{photo}?auto=format&fit=crop&w=1200&q=80"
    elif source == "loremflickr.com":
        url = f"https://loremflickr.com/1200/630/{rng.choice(_FLICKR_TAGS)}?lock={lock}"
    else:
        url = f"https://dummyimage.com/1200x630/{rng.choice(_DUMMY_COLOURS)}.png&text={quote_plus(caption[:38])}"
    return source, url, caption


def _harden(plan: _Plan, rng: random.Random) -> None:
    """Make the document harder to cluster while keeping it a valid, well formed export."""
    cluster = plan.cluster

    if rng.random() < 0.2:
        other = rng.choice([c for c in CLUSTERS if c is not cluster])
        borrowed = [tool for tool in rng.sample(other.tools, rng.randint(1, 2)) if tool not in plan.tools]
        for tool in borrowed:
            plan.tools.insert(rng.randint(0, len(plan.tools)), tool)

    if rng.random() < 0.5:
        # Tools from the whole area (every cluster of, say, "backend"), so tags alone no longer
        # tell two problems of the same area apart.
        pool = sorted({tool for c in CLUSTERS if c.area == cluster.area for tool in c.tools})
        plan.tools = rng.sample(pool, min(len(pool), rng.randint(3, 6)))
    if rng.random() < 0.3 and cluster.stack in plan.stack:
        plan.stack.remove(cluster.stack)

    clean = len(plan.stack) + len(plan.tools)
    noise_count = max(0, round(clean * 0.43 + rng.uniform(-1.0, 1.0)))
    for tag in rng.sample(NOISE_TAGS, min(noise_count, len(NOISE_TAGS))):
        target = plan.stack if rng.random() < 0.3 else plan.tools
        if tag not in plan.stack and tag not in plan.tools:
            target.insert(rng.randint(0, len(target)), tag)

    if rng.random() < 0.3:
        if rng.random() < 0.4:
            plan.entities = []
        else:
            keep = rng.randint(1, max(1, len(plan.entities) - 1))
            plan.entities = sorted(rng.sample(plan.entities, keep), key=plan.entities.index)

    if rng.random() < 0.6:
        words = {
            "problem": cluster.short,
            "area": cluster.area,
            "language": cluster.language,
            "scenario": plan.scenario,
            "scenario_noun": plan.scenario_noun,
            "focus": rng.choice(_FOCUS),
            "variant": rng.choice(_VARIANTS),
        }
        plan.title = rng.choice(_GENERIC_TITLES).format_map(words)

    if rng.random() < 0.3:
        plan.topic = rng.choice((cluster.short, f"{cluster.area} practices / {cluster.language}"))

    if rng.random() < 0.2:
        plan.outline = None
    if rng.random() < 0.3:
        plan.first_heading = None
    if rng.random() < 0.2:
        plan.list_heading = None
        plan.body_list = False
    if rng.random() < 0.25:
        plan.last_heading = None
    if rng.random() < 0.15:
        plan.code = None
    if rng.random() < 0.4:
        plan.middles = [rng.choice(_GENERIC_MIDDLES) for _ in plan.middles]
        plan.middles = list(dict.fromkeys(plan.middles))


def _blur(plan: _Plan, rng: random.Random) -> None:
    """The "noisy" shape: half of the documents lose what sets their topic apart, the way real
    exports do: foreign tools, noise tags, the problem entity, a precise topic, the outline, a
    title of their own."""
    if rng.random() >= 0.5:
        return
    cluster = plan.cluster
    if rng.random() < 0.5:
        other = rng.choice([c for c in COMBINATIONS if c.short != cluster.short and c.stack != cluster.stack])
        for tool in rng.sample(other.tools, 2):
            if tool not in plan.tools:
                plan.tools.insert(rng.randint(0, len(plan.tools)), tool)
    if rng.random() < 0.5:
        for tag in rng.sample(NOISE_TAGS, rng.randint(1, 3)):
            if tag not in plan.tools and tag not in plan.stack:
                plan.tools.append(tag)
    if rng.random() < 0.5:
        plan.entities = [entity for entity in plan.entities if entity[1] != "problem"]
    if rng.random() < 0.4:
        plan.topic = rng.choice((cluster.short, cluster.stack, f"{cluster.area} practices"))
    if rng.random() < 0.25:
        plan.outline = None
    if rng.random() < 0.5:
        words = {
            "problem": cluster.short,
            "area": cluster.area,
            "language": cluster.language,
            "scenario": plan.scenario,
            "scenario_noun": plan.scenario_noun,
            "focus": rng.choice(_FOCUS),
            "variant": rng.choice(_VARIANTS),
        }
        plan.title = rng.choice(_GENERIC_TITLES).format_map(words)


def _house_style(plan: _Plan) -> None:
    """The "sites" shape: every site adds its house tags and its title boilerplate."""
    tags, boilerplate = _HOUSE[plan.site]
    plan.stack.extend(tags)
    plan.title = f"{boilerplate}: {plan.title}"


def _figures(images: list[tuple[str, str, str]]) -> list[str]:
    lines = []
    for source, _url, caption in images:
        lines.append(caption)
        lines.append(f"{caption}. image source: {source}")
    return lines


def _render(plan: _Plan) -> str:
    """Write the plan out in the layout of the sample export."""
    blocks: list[list[str]] = [[plan.title], [plan.intro]]
    first, rest = plan.images[: plan.figures_first], plan.images[plan.figures_first :]
    if first:
        blocks.append(_figures(first))
    if plan.first_heading:
        blocks.append([plan.first_heading])
    blocks.extend([paragraph] for paragraph in plan.middles)
    if plan.code:
        blocks.append(plan.code.split("\n"))
    if plan.list_heading:
        blocks.append([plan.list_heading])
    if plan.body_list:
        blocks.append([f"  \u2022 {item}" for item in plan.checklist] + _figures(rest))
    elif rest:
        blocks.append(_figures(rest))
    if plan.last_heading:
        blocks.append([plan.last_heading])
    blocks.append([plan.closing])
    paragraphs = 2 + len(plan.middles)

    head = "\n\n".join("\n".join(block) for block in blocks)
    meta = [
        f"topic{plan.topic}",
        f"summary{plan.summary}",
    ]
    if plan.outline is not None:
        meta.append("ai outline")
        meta.extend(f"  \u2022 {key}: {value}" for key, value in plan.outline.items())
    meta.append(f"ai brief{plan.brief}")
    meta.append("stack")
    meta.extend(f"  \u2022 {tag}" for tag in plan.stack)
    meta.append("tools")
    meta.extend(f"  \u2022 {tool}" for tool in plan.tools)
    meta.append(f"code language{plan.cluster.code_language}")
    meta.append(f"difficulty{plan.difficulty}")
    meta.append(f"reading time{plan.reading_time}")
    meta.append(f"view count{plan.view_count}")
    meta.append("score")
    meta.extend(f"  \u2022 {key}: {value}" for key, value in plan.scores.items())
    meta.append("revision")
    meta.extend(f"  \u2022 {key}: {value}" for key, value in plan.revision.items())
    meta.append(f"reference{plan.reference}")
    hash_at = len(meta)
    meta.append("flags")
    meta.extend(f"  \u2022 {key}: {value}" for key, value in plan.flags.items())
    meta.append("checklist")
    meta.extend(f"  \u2022 {item}" for item in plan.checklist)
    if plan.entities:
        meta.append("entities")
        for name, kind in plan.entities:
            meta.append(f"    \u2022 name: {name}")
            meta.append(f"    \u2022 type: {kind}")
    if plan.images:
        meta.append("image sources")
        for source, url, caption in plan.images:
            meta.append(f"    \u2022 source: {source}")
            meta.append(f"    \u2022 url: {url}")
            meta.append(f"    \u2022 caption: {caption}")
    meta.append("payload")
    meta.append(f"  \u2022 source id: {plan.site}-{plan.index:06d}")
    meta.append(f"  \u2022 generator: {SITES[plan.site]} content synthesizer")
    meta.append(f"  \u2022 paragraphs: {paragraphs}")
    meta.append(f"  \u2022 scenario: {plan.scenario}")
    meta.append(f"  \u2022 seed: {plan.index}")
    meta.append("notes")
    meta.extend(f"  \u2022 {note}" for note in plan.notes)

    digest = hashlib.sha256("\n".join((head, *meta)).encode("utf-8")).hexdigest()[:24]
    meta.insert(hash_at, f"hash{digest}")
    return f"{head}\n\n{plan.site} post meta\n\n" + "\n".join(meta) + "\n\nSimilar Posts\n"
