"""The topics of the synthetic corpus: what a document is about (data only, no logic).

A topic is a `Cluster`: a problem worked on in a stack, with its own tools, keywords and
stack tags. The "normal" and "hard" shapes draw from CLUSTERS, 42 topics with vocabularies of their
own; the combination shapes ("combination", "zipf", "noisy", "sites") from COMBINATIONS, every one
of PROBLEMS in every one of STACKS, so no term belongs to one topic alone. `docs/corpus.md`
describes the shapes.

Changing any table changes the generated documents: the evaluations and benchmarks compare
corpora made from a seed, so a change here makes earlier figures incomparable.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "CLUSTERS",
    "COMBINATIONS",
    "HOUSE_STYLES",
    "NOISE_TAGS",
    "PROBLEMS",
    "SITES",
    "STACKS",
    "Cluster",
    "Problem",
    "Stack",
]

SITES = {"alphanode": "anp", "betabyte": "bbt", "gammagrid": "ggd"}
"""Site name -> reference prefix. Each document is written by one of them, drawn uniformly."""


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

HOUSE_STYLES = {
    "alphanode": (("alphanode", "engineering blog"), "alphanode engineering"),
    "betabyte": (("betabyte", "tech notes"), "betabyte tech notes"),
    "gammagrid": (("gammagrid", "platform team"), "from the gammagrid platform team"),
}
"""The "sites" shape: each site's house tags (added to its stack tags) and title boilerplate."""

NOISE_TAGS = (
    "git", "logs", "docker", "linux", "monitoring", "performance", "cloud", "devops",
    "documentation", "yaml", "http", "api", "open source", "best practices",
)  # fmt: skip
"""Tags that hard and noisy documents add to any topic: they carry no signal about it."""
