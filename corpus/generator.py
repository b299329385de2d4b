"""Synthetic page-text exports, for demos, import load tests and similar-posts evaluation.

Every document belongs to one topic (corpus/topics.py): a problem worked on in a stack, with the
topic's own tools, keywords, stack tags and entities, so documents of the same topic are "similar
posts" of each other and `clusters.json` (written by `write_corpus`) is the ground truth for that.

Document `i` is generated from its own random stream, seeded with `"{seed}:{i}"`, so it does not
depend on documents `0..i-1`: a corpus of any size streams in constant memory, and the same
arguments always give byte-identical documents. This module draws a clean document (a `Plan`);
corpus/shapes.py perturbs it for the shapes that need it, from a second stream, and
corpus/rendering.py writes it out in the layout of the real sample export in
`articles/fixtures/samples/` (see `docs/page-format.md`). `docs/corpus.md` describes the shapes
and every knob below.

Every draw comes from the stream in a fixed order: changing a knob, a table or the order of the
draws changes the documents, and with them every figure measured on a corpus.

This module is plain Python (no Django), so a management command, a benchmark script or a test can
use it alike.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote_plus

from corpus import shapes, wording
from corpus.rendering import render
from corpus.topics import CLUSTERS, COMBINATIONS, SITES, Cluster

__all__ = [
    "SHAPES",
    "SHARD_SIZE",
    "Plan",
    "SynthesizedDocument",
    "synthesize",
    "synthesize_document",
    "write_corpus",
]

SHAPES = ("normal", "hard", "combination", "zipf", "noisy", "sites")
"""The corpus shapes (`--shape`); "normal" and "hard" were the first, once called difficulties."""

SHARD_SIZE = 1000
"""Documents per folder of `write_corpus`: a folder of 100,000 files is slow to list."""

# -- the knobs of a clean document (every shape starts from one) ------------------------------------
# Ranges are inclusive, as random.randint draws them.

REFERENCE_SUFFIXES = 10_000
"""References end in a random 4-digit number, like the real exports' (`anp-ref-035445-8950`)."""

TOOLS_PER_DOCUMENT = (3, 6)
"""Tools tagged on a document, from its topic's tools (fewer when the topic has fewer): at least 3,
so two documents of a topic nearly always share one; at most 6, as the real exports do."""

MIDDLE_PARAGRAPHS = (0, 3)
"""Paragraphs between the introduction and the closing: none makes a short note, 3 a long post."""

GENERIC_MIDDLE_SHARE = 0.3
"""Share of middle paragraphs taken from the generic ones (corpus/wording.py GENERIC_MIDDLES),
which name no topic: about a third of a real post's prose says nothing about its subject."""

GENERIC_CHECKLIST_ITEMS = (2, 4)
"""Checklist items every topic shares ("run the full test suite")."""

TOPIC_CHECKLIST_ITEMS = (1, 2)
"""Checklist items that name the document's tool or keyword ("run {tool} against staging")."""

TOOL_ENTITIES = (0, 2)
"""Tools also listed as entities, besides the stack, area and problem every document lists."""

IMAGE_COUNT_WEIGHTS = {0: 30, 1: 15, 2: 20, 3: 15, 4: 20}
"""Images per document -> relative weight: 30% have none (the `has_images=false` filter and the
reader's plain layout get documents), the rest 1 to 4, a fifth of all documents the most."""

IMAGE_HEAVY_FROM = 3
"""A document with this many images or more is flagged "image heavy"."""

LEADING_FIGURES = 2
"""At most this many figures right after the introduction; the others follow the checklist."""

LEADING_FIGURES_OF_MOST = (1, 3)
"""With the most images (4), a random number of figures right after the introduction instead, so
figures move about the body."""

IMAGE_SOURCE_WEIGHTS = {"unsplash": 50, "loremflickr.com": 25, "dummyimage.com": 25}
"""Image host -> relative weight: half the images are photos, the others the two placeholder
services, so each host of `IMAGE_HOSTS` is exercised."""

REVIEWED_SHARE = 0.75
"""Share of documents exported as reviewed and not needing review: they go live on import. The rest
draw from UNREVIEWED_STATES, so about a quarter of the corpus waits in the review queue."""

UNREVIEWED_STATES = (("draft", 1), ("draft", 1), ("draft", 0), ("reviewed", 1))
"""(status, needs human review) of the other documents, drawn uniformly: half drafts that need
review, a quarter drafts that do not, a quarter reviewed but flagged for another look."""

FIRST_REVIEW_DATE = dt.date(2025, 1, 1)
REVIEW_DATE_SPAN_DAYS = 730
"""Last-reviewed dates spread evenly over the two years from FIRST_REVIEW_DATE, so "review due"
(`REVIEW_MAX_AGE_DAYS`) holds for some documents and not others."""

DIFFICULTY_LEVELS = ("beginner", "intermediate", "advanced")
"""The `difficulty` meta field, drawn uniformly."""

READING_TIME_BASE = 2
READING_TIME_SPREAD = 6
"""Reading time in minutes: READING_TIME_BASE + one per middle paragraph drawn (one drawn twice
is written once) + 0 to READING_TIME_SPREAD, so longer documents read longer without a fixed
ratio."""

VIEW_COUNT_PARETO_ALPHA = 1.1
VIEW_COUNT_SCALE = 900
VIEW_COUNT_MODULUS = 1_000_000
"""View counts: Pareto-distributed (alpha close to 1: most posts are read a few thousand times, a
few very often) from VIEW_COUNT_SCALE up, wrapped below VIEW_COUNT_MODULUS to stay 6 digits."""

SCORE_RANGE = (20, 99)
"""Quality, freshness, depth and clarity scores, drawn uniformly: low enough that some fall under
`REVIEW_MIN_FRESHNESS`, never a perfect 100."""

VERSION_PART_MAX = (3, 12, 20)
"""The largest major, minor and patch number of a document's version (each drawn from 0 up)."""

AI_STYLE_SHARE = 0.9
"""Share of documents flagged "ai generated style": nearly all, as in the real exports."""

NOTES_PER_DOCUMENT = (1, 3)
"""Editorial notes at the end of the meta block."""


@dataclass(frozen=True)
class SynthesizedDocument:
    """One generated page-text export and the cluster it was generated from."""

    reference: str
    cluster: str
    filename: str
    text: str


@dataclass
class Plan:
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
        plan = _plan(index, rng, shapes.zipf_topic)
    elif difficulty in ("combination", "noisy", "sites"):
        plan = _plan(index, rng, lambda r: r.choice(COMBINATIONS))
    else:
        plan = _plan(index, rng)
    if difficulty == "hard":
        shapes.harden(plan, random.Random(f"{seed}:{index}:hard"))
    elif difficulty == "noisy":
        shapes.blur(plan, random.Random(f"{seed}:{index}:noisy"))
    elif difficulty == "sites":
        shapes.house_style(plan)
    return SynthesizedDocument(
        reference=plan.reference,
        cluster=plan.cluster.name,
        filename=f"{plan.reference}.txt",
        text=render(plan),
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
    if difficulty not in SHAPES:
        raise ValueError(f"difficulty (the shape) must be one of {', '.join(SHAPES)}, got {difficulty!r}")
    if number < 0:
        raise ValueError(f"{name} must be >= 0, got {number}")


def _plan(index: int, rng: random.Random, pick: Callable[[random.Random], Cluster] | None = None) -> Plan:
    """Draw a normal (clean) document; every draw comes from `rng`, in a fixed order. `pick` draws
    the topic (by default one of CLUSTERS)."""
    cluster = pick(rng) if pick else rng.choice(CLUSTERS)
    site = rng.choice(tuple(SITES))
    reference = f"{SITES[site]}-ref-{index:06d}-{rng.randrange(REFERENCE_SUFFIXES):04d}"
    scenario, scenario_noun = rng.choice(wording.SCENARIOS)
    fewest_tools, most_tools = TOOLS_PER_DOCUMENT
    tools = rng.sample(cluster.tools, rng.randint(fewest_tools, min(most_tools, len(cluster.tools))))
    keywords = rng.sample(cluster.keywords, 2)  # {kw} and {kw2} of the wording
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
        "variant": rng.choice(wording.VARIANTS),
    }
    title = rng.choice(wording.TITLES).format_map(words)

    middle_count = rng.randint(*MIDDLE_PARAGRAPHS)
    middles = []
    for _ in range(middle_count):
        table = wording.GENERIC_MIDDLES if rng.random() < GENERIC_MIDDLE_SHARE else wording.MIDDLES
        middles.append(rng.choice(table).format_map(words))
    middles = list(dict.fromkeys(middles))

    checklist = rng.sample(wording.CHECKLIST, rng.randint(*GENERIC_CHECKLIST_ITEMS))
    checklist += [
        item.format_map(words)
        for item in rng.sample(wording.CLUSTER_CHECKLIST, rng.randint(*TOPIC_CHECKLIST_ITEMS))
    ]
    rng.shuffle(checklist)

    entities = [(cluster.stack, "stack"), (cluster.area, "area"), (cluster.problem, "problem")]
    entities += [(tool, "tool") for tool in tools[: rng.randint(*TOOL_ENTITIES)]]

    image_count = rng.choices(tuple(IMAGE_COUNT_WEIGHTS), weights=tuple(IMAGE_COUNT_WEIGHTS.values()))[0]
    images = []
    for k in range(1, image_count + 1):
        caption = f"{cluster.problem} with {cluster.stack} visual reference {k}"
        images.append(_image(rng, caption, index + k - 1))

    if rng.random() < REVIEWED_SHARE:
        status, needs_review = "reviewed", 0
    else:
        status, needs_review = rng.choice(UNREVIEWED_STATES)
    reviewed = FIRST_REVIEW_DATE + dt.timedelta(days=rng.randrange(REVIEW_DATE_SPAN_DAYS))
    major, minor, patch = VERSION_PART_MAX

    return Plan(
        index=index,
        cluster=cluster,
        site=site,
        reference=reference,
        title=title,
        topic=cluster.name,
        summary=rng.choice(wording.SUMMARIES).format_map(words),
        brief=rng.choice(wording.BRIEFS),
        outline={
            "context": scenario,
            "problem": cluster.problem,
            "stack": cluster.stack,
            "recommended action": rng.choice(wording.ACTIONS),
        },
        stack=[cluster.stack, cluster.area, cluster.language],
        tools=tools,
        difficulty=rng.choice(DIFFICULTY_LEVELS),
        reading_time=READING_TIME_BASE + middle_count + rng.randint(0, READING_TIME_SPREAD),
        view_count=int(rng.paretovariate(VIEW_COUNT_PARETO_ALPHA) * VIEW_COUNT_SCALE) % VIEW_COUNT_MODULUS,
        scores={name: rng.randint(*SCORE_RANGE) for name in ("quality", "freshness", "depth", "clarity")},
        revision={
            "status": status,
            "version": f"{rng.randint(0, major)}.{rng.randint(0, minor)}.{rng.randint(0, patch)}",
            "last reviewed": reviewed.isoformat(),
        },
        flags={
            "ai generated style": int(rng.random() < AI_STYLE_SHARE),
            "has images": int(image_count > 0),
            "image heavy": int(image_count >= IMAGE_HEAVY_FROM),
            "needs human review": needs_review,
        },
        checklist=checklist,
        entities=entities,
        images=images,
        scenario=scenario,
        scenario_noun=scenario_noun,
        notes=rng.sample(wording.NOTES, rng.randint(*NOTES_PER_DOCUMENT)),
        first_heading=rng.choice(wording.FIRST_HEADINGS).format_map(words),
        list_heading=rng.choice(wording.LIST_HEADINGS),
        last_heading=rng.choice(wording.LAST_HEADINGS),
        intro=rng.choice(wording.INTROS).format_map(words),
        middles=middles,
        closing=rng.choice(wording.CLOSINGS).format_map(words),
        code=rng.choice(wording.CODE[cluster.code_language]),
        figures_first=(
            min(LEADING_FIGURES, image_count)
            if image_count < max(IMAGE_COUNT_WEIGHTS)
            else rng.randint(*LEADING_FIGURES_OF_MOST)
        ),
    )


def _image(rng: random.Random, caption: str, lock: int) -> tuple[str, str, str]:
    """An image source (source, https url, caption)."""
    source = rng.choices(tuple(IMAGE_SOURCE_WEIGHTS), weights=tuple(IMAGE_SOURCE_WEIGHTS.values()))[0]
    if source == "unsplash":
        photo = rng.choice(wording.UNSPLASH_PHOTOS)
        url = f"https://images.unsplash.com/{photo}?auto=format&fit=crop&w=1200&q=80"
    elif source == "loremflickr.com":
        url = f"https://loremflickr.com/1200/630/{rng.choice(wording.FLICKR_TAGS)}?lock={lock}"
    else:
        colours = rng.choice(wording.DUMMY_COLOURS)
        url = f"https://dummyimage.com/1200x630/{colours}.png&text={quote_plus(caption[:38])}"
    return source, url, caption
