"""The wording of the synthetic corpus: the sentences, headings, checklists, notes, images and
code a document is made of (data only, no logic).

`{problem}`, `{stack}`, `{tool}`, `{kw}` and the other fields are filled in from the document's
topic (corpus/topics.py) by the generator (corpus/generator.py). Changing any table changes the
generated documents, and so every figure measured on them.
"""

__all__ = [
    "ACTIONS",
    "BRIEFS",
    "CHECKLIST",
    "CLOSINGS",
    "CLUSTER_CHECKLIST",
    "CODE",
    "DUMMY_COLOURS",
    "FIRST_HEADINGS",
    "FLICKR_TAGS",
    "FOCUS",
    "GENERIC_MIDDLES",
    "GENERIC_TITLES",
    "INTROS",
    "LAST_HEADINGS",
    "LIST_HEADINGS",
    "MIDDLES",
    "NOTES",
    "SCENARIOS",
    "SUMMARIES",
    "TITLES",
    "UNSPLASH_PHOTOS",
    "VARIANTS",
]

SCENARIOS = (
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

VARIANTS = (
    "maintenance guide", "field notes", "team playbook", "quick reference", "deep dive",
    "checklist edition", "second look", "revisited", "a working example", "step by step",
    "for on-call engineers", "for small teams", "the long version", "the short version",
    "part two", "part three", "in practice", "annotated", "what we measured", "a case study",
    "for reviewers", "from first principles", "with examples", "common mistakes",
    "a retrospective", "for new maintainers", "the boring way", "without heroics",
    "one step at a time", "what actually worked",
)  # fmt: skip

TITLES = (
    "production checklist for {problem} in {stack} {scenario}: {kw}, {variant}",
    "a practical guide to {problem} with {stack} and {tool}: {kw} ({variant})",
    "{problem} in {stack}: lessons about {kw} from {scenario_noun}, {variant}",
    "how we handle {kw} in {stack} with {tool} {scenario}: {variant}",
    "what {scenario_noun} taught us about {kw} in {stack}: {tool}, {variant}",
    "{problem} with {tool} and {tool2} in {stack}: {kw}, {variant}",
    "{stack} notes: {problem} {scenario}, {kw} and {tool} ({variant})",
    "{problem} in {stack}, {variant}: {tool} and {kw} {scenario}",
)  # fmt: skip

FOCUS = (
    "release hygiene", "on-call load", "review habits", "safer defaults", "small changes",
    "fewer surprises", "faster feedback", "clear ownership", "honest metrics", "boring deploys",
    "cheaper mistakes", "better runbooks", "quieter alerts", "shorter incidents", "simpler rollbacks",
    "steady throughput", "predictable builds", "useful dashboards", "cleaner handovers", "calmer releases",
)  # fmt: skip
"""Generic title topics for hard documents: they say nothing about the cluster."""

GENERIC_TITLES = (
    "a practical guide to {focus} in {area} work: {variant}",
    "notes on {area} work {scenario}: {focus}, {variant}",
    "lessons from {scenario_noun}: {focus} ({variant})",
    "what we changed {scenario}: {focus}, {variant}",
    "engineering notes on {problem}: {focus} ({variant})",
    "a {language} team's guide to {focus}: {variant}, {scenario}",
    "production checklist for {focus}: {variant}, {scenario}",
)  # fmt: skip

INTROS = (
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

MIDDLES = (
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

GENERIC_MIDDLES = (
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

CLOSINGS = (
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

FIRST_HEADINGS = (
    "production checks", "what to check first", "how it works", "the approach", "step by step",
    "measuring the problem", "background", "{kw} first", "where {tool} helps", "{problem} in practice",
)  # fmt: skip
LIST_HEADINGS = ("implementation checklist", "release checklist", "checks before shipping", "rollout steps")
LAST_HEADINGS = ("final notes", "wrapping up", "what to keep", "follow up", "next steps")

SUMMARIES = (
    "this ai-style technical summary explains {problem} in {stack}, with emphasis on measurement, "
    "safe defaults, rollback planning, and maintainable documentation.",
    "a practical summary of {problem} for {stack} teams, covering {kw}, {tool} and the checks that "
    "keep releases safe.",
    "this summary covers {problem} in {stack}: what to measure, which {language} tools help, and how "
    "to roll the change out gradually.",
)  # fmt: skip

BRIEFS = (
    "the article is written like a careful ai generated engineering draft: it explains the reason "
    "for the change, lists operational checks, and avoids pretending that one command fixes every "
    "production case.",
    "the article reads like an ai assisted runbook: short steps, explicit checks, and a clear way "
    "back if the change misbehaves.",
    "the article is an ai generated walkthrough that favours measurement over opinion and keeps "
    "every recommendation tied to a check the reader can run.",
)  # fmt: skip

ACTIONS = (
    "measure first, change carefully, document the result",
    "add a check, roll out gradually, keep a rollback ready",
    "start with a baseline, fix the worst offender, repeat",
    "automate the check, review the output every week",
)  # fmt: skip

CHECKLIST = (
    "capture the current behavior", "create a safe backup", "test the smallest change",
    "watch logs after release", "write the final note", "record the baseline metrics",
    "review the rollback plan", "run the full test suite", "ship to a small slice first",
    "update the runbook", "tell the on-call engineer", "compare metrics after a day",
    "remove temporary flags",
)  # fmt: skip
CLUSTER_CHECKLIST = ("run {tool} against staging", "check {kw} before release", "add an alert for {kw}")

NOTES = (
    "sanitized array meta is expected to render as a list in the frontend box",
    "view count is synthetic and only used for testing meta volume",
    "content is generated for import/load testing and should be reviewed before indexing",
    "reading time is an estimate from the generator",
    "scores are editorial estimates and may change after review",
    "tools are listed in the order the generator picked them",
)  # fmt: skip

UNSPLASH_PHOTOS = (
    "photo-1498050108023-c5249f4df085", "photo-1515879218367-8466d910aaa4",
    "photo-1461749280684-dccba630e2f6", "photo-1555066931-4365d14bab8c",
    "photo-1517694712202-14dd9538aa97", "photo-1504639725590-34d0984388bd",
    "photo-1518770660439-4636190af475", "photo-1526379095098-d400fd0bf935",
    "photo-1551288049-bebda4e38f71", "photo-1558494949-ef010cbdcc31",
)  # fmt: skip
FLICKR_TAGS = ("code,developer", "server,datacenter", "laptop,programming", "network,cable", "office,team")
DUMMY_COLOURS = ("111827/ffffff", "1e293b/e2e8f0", "0f766e/ffffff", "7c2d12/fde68a")

CODE: dict[str, tuple[str, ...]] = {
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
