"""The corpus shapes beyond a clean document: how each one picks a topic or perturbs a plan.

"normal" is the clean document of corpus/generator.py. "hard" and "noisy" perturb it from a second
random stream of their own (`"{seed}:{i}:hard"`, `"{seed}:{i}:noisy"`), so a perturbed document
keeps the topic of its clean twin and `clusters.json` stays the ground truth. "zipf" only changes
how topics are drawn, "sites" only adds each site's house style. `docs/corpus.md` describes the
shapes and what they stress.

Every knob is the probability of one perturbation, drawn per document in the order below;
changing one changes the documents of its shape.

Plain Python, like the generator.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from corpus import wording
from corpus.topics import CLUSTERS, COMBINATIONS, HOUSE_STYLES, NOISE_TAGS, Cluster

if TYPE_CHECKING:
    from corpus.generator import Plan

__all__ = ["blur", "harden", "house_style", "zipf_topic"]

# -- "zipf" ------------------------------------------------------------------------------------------

ZIPF_EXPONENT = 1.0
"""Topic of rank r (1 = largest) drawn with weight 1 / r ** ZIPF_EXPONENT: with 60 topics the
largest is 60 times the smallest and the six largest hold about half the corpus: the long tail a
real knowledge base has (a classic Zipf law has exponent 1)."""

ZIPF_WEIGHTS = tuple(1.0 / (rank + 1) ** ZIPF_EXPONENT for rank in range(len(COMBINATIONS)))
ZIPF_ORDER = tuple(random.Random("zipf-order").sample(range(len(COMBINATIONS)), len(COMBINATIONS)))
"""The ranks are given to the topics in a fixed shuffled order, so the largest topics are not all
the first problem's."""

# -- "hard" ------------------------------------------------------------------------------------------

HARD_BORROW_TOOLS_SHARE = 0.2
HARD_BORROWED_TOOLS = (1, 2)
"""Share of hard documents that also tag 1 or 2 tools of another, random topic: a post that
mentions a neighbouring tool, without making the neighbour its topic."""

HARD_AREA_TOOLS_SHARE = 0.5
HARD_AREA_TOOLS = (3, 6)
"""Share of hard documents whose tools are redrawn (3 to 6) from every topic of their area (all of
"backend", say): tags alone then no longer separate two problems of the same area, in half the
corpus, so the words and entities must."""

HARD_DROP_STACK_TAG_SHARE = 0.3
"""Share of hard documents that lose their stack tag, keeping area and language only."""

HARD_NOISE_TAGS_PER_TAG = 0.43
HARD_NOISE_TAGS_JITTER = 1.0
"""Noise tags (NOISE_TAGS, shared by every topic) added per clean tag, give or take up to
HARD_NOISE_TAGS_JITTER in all: 0.43 per clean tag makes about 30% of a hard document's tags noise
(0.43 / 1.43)."""

HARD_NOISE_IN_STACK_SHARE = 0.3
"""Share of those noise tags that go among the stack tags; the others go among the tools."""

HARD_LOSE_ENTITIES_SHARE = 0.3
HARD_LOSE_ALL_ENTITIES_SHARE = 0.4
"""Share of hard documents that lose entities, and among them the share that lose all of them
(the others keep at least one, in their order): about 30% of hard documents lose an entity."""

HARD_GENERIC_TITLE_SHARE = 0.6
"""Share of hard documents with a generic title (wording.GENERIC_TITLES) that names neither the
stack nor the tools, so title words stop giving the topic away for most of them."""

HARD_VAGUE_TOPIC_SHARE = 0.3
"""Share of hard documents whose `topic` names the problem alone or the area and language."""

HARD_NO_OUTLINE_SHARE = 0.2
HARD_NO_FIRST_HEADING_SHARE = 0.3
HARD_NO_CHECKLIST_SHARE = 0.2
HARD_NO_LAST_HEADING_SHARE = 0.25
HARD_NO_CODE_SHARE = 0.15
"""Shares of hard documents without the ai outline, the first heading, the checklist (its
heading and list), the last heading, the code block: the sections real exports leave out, each
rare enough that most hard documents still have it."""

HARD_GENERIC_MIDDLES_SHARE = 0.4
"""Share of hard documents whose middle paragraphs are all generic ones, naming no topic."""

# -- "noisy" -----------------------------------------------------------------------------------------

NOISY_BLURRED_SHARE = 0.5
"""Share of noisy documents blurred at all; the other half are exactly their combination twin,
so the engine is measured on a mix of clean and blurred documents."""

NOISY_FOREIGN_TOOLS_SHARE = 0.5
NOISY_FOREIGN_TOOLS = 2
"""Share of blurred documents that add 2 tools of a topic with another problem and another stack."""

NOISY_NOISE_TAGS_SHARE = 0.5
NOISY_NOISE_TAGS = (1, 3)
"""Share of blurred documents that add 1 to 3 noise tags (NOISE_TAGS) to their tools."""

NOISY_LOSE_PROBLEM_SHARE = 0.5
"""Share of blurred documents that lose their problem entity: a quarter of the noisy corpus."""

NOISY_VAGUE_TOPIC_SHARE = 0.4
"""Share of blurred documents whose `topic` is the problem, the stack or the area alone."""

NOISY_NO_OUTLINE_SHARE = 0.25
"""Share of blurred documents without the ai outline (which names problem and stack)."""

NOISY_GENERIC_TITLE_SHARE = 0.5
"""Share of blurred documents with a generic title, boilerplate shared across topics."""


def zipf_topic(rng: random.Random) -> Cluster:
    """The "zipf" shape's topic draw: COMBINATIONS with Zipf-distributed sizes."""
    return COMBINATIONS[rng.choices(ZIPF_ORDER, weights=ZIPF_WEIGHTS)[0]]


def harden(plan: Plan, rng: random.Random) -> None:
    """The "hard" shape: make the document harder to cluster while keeping it a valid, well formed
    export."""
    cluster = plan.cluster

    if rng.random() < HARD_BORROW_TOOLS_SHARE:
        other = rng.choice([c for c in CLUSTERS if c is not cluster])
        sampled = rng.sample(other.tools, rng.randint(*HARD_BORROWED_TOOLS))
        borrowed = [tool for tool in sampled if tool not in plan.tools]
        for tool in borrowed:
            plan.tools.insert(rng.randint(0, len(plan.tools)), tool)

    if rng.random() < HARD_AREA_TOOLS_SHARE:
        pool = sorted({tool for c in CLUSTERS if c.area == cluster.area for tool in c.tools})
        plan.tools = rng.sample(pool, min(len(pool), rng.randint(*HARD_AREA_TOOLS)))
    if rng.random() < HARD_DROP_STACK_TAG_SHARE and cluster.stack in plan.stack:
        plan.stack.remove(cluster.stack)

    clean = len(plan.stack) + len(plan.tools)
    jitter = rng.uniform(-HARD_NOISE_TAGS_JITTER, HARD_NOISE_TAGS_JITTER)
    noise_count = max(0, round(clean * HARD_NOISE_TAGS_PER_TAG + jitter))
    for tag in rng.sample(NOISE_TAGS, min(noise_count, len(NOISE_TAGS))):
        target = plan.stack if rng.random() < HARD_NOISE_IN_STACK_SHARE else plan.tools
        if tag not in plan.stack and tag not in plan.tools:
            target.insert(rng.randint(0, len(target)), tag)

    if rng.random() < HARD_LOSE_ENTITIES_SHARE:
        if rng.random() < HARD_LOSE_ALL_ENTITIES_SHARE:
            plan.entities = []
        else:
            keep = rng.randint(1, max(1, len(plan.entities) - 1))
            plan.entities = sorted(rng.sample(plan.entities, keep), key=plan.entities.index)

    if rng.random() < HARD_GENERIC_TITLE_SHARE:
        plan.title = _generic_title(plan, rng)

    if rng.random() < HARD_VAGUE_TOPIC_SHARE:
        plan.topic = rng.choice((cluster.short, f"{cluster.area} practices / {cluster.language}"))

    if rng.random() < HARD_NO_OUTLINE_SHARE:
        plan.outline = None
    if rng.random() < HARD_NO_FIRST_HEADING_SHARE:
        plan.first_heading = None
    if rng.random() < HARD_NO_CHECKLIST_SHARE:
        plan.list_heading = None
        plan.body_list = False
    if rng.random() < HARD_NO_LAST_HEADING_SHARE:
        plan.last_heading = None
    if rng.random() < HARD_NO_CODE_SHARE:
        plan.code = None
    if rng.random() < HARD_GENERIC_MIDDLES_SHARE:
        plan.middles = [rng.choice(wording.GENERIC_MIDDLES) for _ in plan.middles]
        plan.middles = list(dict.fromkeys(plan.middles))


def blur(plan: Plan, rng: random.Random) -> None:
    """The "noisy" shape: half of the documents lose what sets their topic apart, the way real
    exports do: foreign tools, noise tags, the problem entity, a precise topic, the outline, a
    title of their own."""
    if rng.random() >= NOISY_BLURRED_SHARE:
        return
    cluster = plan.cluster
    if rng.random() < NOISY_FOREIGN_TOOLS_SHARE:
        other = rng.choice([c for c in COMBINATIONS if c.short != cluster.short and c.stack != cluster.stack])
        for tool in rng.sample(other.tools, NOISY_FOREIGN_TOOLS):
            if tool not in plan.tools:
                plan.tools.insert(rng.randint(0, len(plan.tools)), tool)
    if rng.random() < NOISY_NOISE_TAGS_SHARE:
        for tag in rng.sample(NOISE_TAGS, rng.randint(*NOISY_NOISE_TAGS)):
            if tag not in plan.tools and tag not in plan.stack:
                plan.tools.append(tag)
    if rng.random() < NOISY_LOSE_PROBLEM_SHARE:
        plan.entities = [entity for entity in plan.entities if entity[1] != "problem"]
    if rng.random() < NOISY_VAGUE_TOPIC_SHARE:
        plan.topic = rng.choice((cluster.short, cluster.stack, f"{cluster.area} practices"))
    if rng.random() < NOISY_NO_OUTLINE_SHARE:
        plan.outline = None
    if rng.random() < NOISY_GENERIC_TITLE_SHARE:
        plan.title = _generic_title(plan, rng)


def house_style(plan: Plan) -> None:
    """The "sites" shape: every site adds its house tags and its title boilerplate."""
    tags, boilerplate = HOUSE_STYLES[plan.site]
    plan.stack.extend(tags)
    plan.title = f"{boilerplate}: {plan.title}"


def _generic_title(plan: Plan, rng: random.Random) -> str:
    """A title of wording.GENERIC_TITLES: the problem's short name at most, never the stack."""
    cluster = plan.cluster
    words = {
        "problem": cluster.short,
        "area": cluster.area,
        "language": cluster.language,
        "scenario": plan.scenario,
        "scenario_noun": plan.scenario_noun,
        "focus": rng.choice(wording.FOCUS),
        "variant": rng.choice(wording.VARIANTS),
    }
    return rng.choice(wording.GENERIC_TITLES).format_map(words)
