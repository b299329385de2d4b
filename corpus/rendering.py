"""A plan written out as page text, in the layout of the real sample export
(`articles/fixtures/samples/`, `docs/page-format.md`): the body blocks, then the site's post meta
with its hash, then the end marker. No randomness here: the plan holds every draw.

Plain Python, like the generator.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from corpus.topics import SITES

if TYPE_CHECKING:
    from corpus.generator import Plan

__all__ = ["render"]


def _figures(images: list[tuple[str, str, str]]) -> list[str]:
    lines = []
    for source, _url, caption in images:
        lines.append(caption)
        lines.append(f"{caption}. image source: {source}")
    return lines


def render(plan: Plan) -> str:
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
