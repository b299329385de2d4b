"""The named knobs of the generator (corpus/generator.py, corpus/shapes.py) are what the documents
show: each share, weight and range, read back through the project's parser from a corpus large
enough that a share lands within a few points of its knob.

The bounds are statistical (2,000 documents: a share's standard deviation is about 0.011), but
the corpus is deterministic for its seed, so a test passes or fails the same way every run.
"""

import datetime as dt
from collections import Counter

import pytest

from articles.parsing import parse_page
from corpus import generator, shapes
from corpus.generator import synthesize
from corpus.topics import COMBINATIONS, HOUSE_STYLES, NOISE_TAGS

COUNT = 2000
TOLERANCE = 0.05


def pages(shape: str, count: int = COUNT) -> list:
    result = []
    for document in synthesize(count, seed=29, difficulty=shape):
        parsed = parse_page(document.text)
        assert parsed.ok, (document.reference, parsed.errors)
        result.append((document, parsed.page))
    return result


@pytest.fixture(scope="module")
def normal():
    return pages("normal")


@pytest.fixture(scope="module")
def combination():
    return pages("combination")


def share(flags) -> float:
    flags = list(flags)
    return sum(map(bool, flags)) / len(flags)


def near(observed: float, expected: float) -> bool:
    return abs(observed - expected) <= TOLERANCE


def test_image_counts_and_hosts_follow_their_weights(normal):
    counts = Counter(len(page.image_sources) for _, page in normal)
    total = sum(generator.IMAGE_COUNT_WEIGHTS.values())
    for images, weight in generator.IMAGE_COUNT_WEIGHTS.items():
        assert near(counts[images] / COUNT, weight / total), (images, counts)
    hosts = Counter(source["source"] for _, page in normal for source in page.image_sources)
    total_hosts = sum(generator.IMAGE_SOURCE_WEIGHTS.values())
    for host, weight in generator.IMAGE_SOURCE_WEIGHTS.items():
        assert near(hosts[host] / hosts.total(), weight / total_hosts), (host, hosts)
    for _, page in normal:
        heavy = len(page.image_sources) >= generator.IMAGE_HEAVY_FROM
        assert page.flags["image_heavy"] is heavy


def test_review_states_follow_the_reviewed_share(normal):
    live = [
        page.revision["status"] == "reviewed" and not page.flags["needs_human_review"] for _, page in normal
    ]
    assert near(share(live), generator.REVIEWED_SHARE)
    others = Counter(
        (page.revision["status"], int(page.flags["needs_human_review"]))
        for _, page in normal
        if not (page.revision["status"] == "reviewed" and not page.flags["needs_human_review"])
    )
    expected = Counter(generator.UNREVIEWED_STATES)
    for state, times in expected.items():
        assert near(others[state] / others.total(), times / len(generator.UNREVIEWED_STATES)), (state, others)
    last = generator.FIRST_REVIEW_DATE + dt.timedelta(days=generator.REVIEW_DATE_SPAN_DAYS - 1)
    assert all(generator.FIRST_REVIEW_DATE <= page.revision["last_reviewed"] <= last for _, page in normal)


def test_scalars_stay_in_their_ranges(normal):
    lowest, highest = generator.SCORE_RANGE
    fewest_tools, most_tools = generator.TOOLS_PER_DOCUMENT
    fewest_notes, most_notes = generator.NOTES_PER_DOCUMENT
    for _, page in normal:
        assert all(lowest <= score <= highest for score in page.scores.values())
        parts = [int(part) for part in page.revision["version"].split(".")]
        assert all(0 <= part <= top for part, top in zip(parts, generator.VERSION_PART_MAX, strict=True))
        middles = page.payload["paragraphs"] - 2
        assert 0 <= middles <= generator.MIDDLE_PARAGRAPHS[1]
        # A paragraph drawn twice is written once, but counts for the reading time.
        longest = generator.READING_TIME_BASE + generator.MIDDLE_PARAGRAPHS[1] + generator.READING_TIME_SPREAD
        assert generator.READING_TIME_BASE + middles <= page.reading_time <= longest
        assert 0 <= page.view_count < generator.VIEW_COUNT_MODULUS
        assert page.difficulty in generator.DIFFICULTY_LEVELS
        assert fewest_tools <= len(page.tools) <= most_tools
        assert fewest_notes <= len(page.notes) <= most_notes
    assert {len(page.tools) for _, page in normal} == set(range(fewest_tools, most_tools + 1))
    assert near(share(page.flags["ai_generated_style"] for _, page in normal), generator.AI_STYLE_SHARE)


def test_hard_documents_lose_sections_at_their_shares():
    hard = pages("hard")
    kinds = [Counter(block.kind for block in page.body) for _, page in hard]
    assert near(share(page.outline is None for _, page in hard), shapes.HARD_NO_OUTLINE_SHARE)
    assert near(share(kind["code"] == 0 for kind in kinds), shapes.HARD_NO_CODE_SHARE)
    assert near(share(kind["list"] == 0 for kind in kinds), shapes.HARD_NO_CHECKLIST_SHARE)
    tags = [tag for _, page in hard for tag in page.stack + page.tools]
    noise = share(tag in NOISE_TAGS for tag in tags)
    per_tag = shapes.HARD_NOISE_TAGS_PER_TAG
    assert near(noise, per_tag / (1 + per_tag))


def test_noisy_documents_are_blurred_at_their_share(combination):
    noisy = pages("noisy")
    blurred = [
        clean.text != document.text for (clean, _), (document, _) in zip(combination, noisy, strict=True)
    ]
    assert near(share(blurred), shapes.NOISY_BLURRED_SHARE)
    no_problem = share(all(entity["type"] != "problem" for entity in page.entities) for _, page in noisy)
    assert near(no_problem, shapes.NOISY_BLURRED_SHARE * shapes.NOISY_LOSE_PROBLEM_SHARE)


def test_zipf_topics_take_their_weights():
    sizes = Counter(document.cluster for document in synthesize(COUNT, seed=29, difficulty="zipf"))
    total = sum(shapes.ZIPF_WEIGHTS)
    for position, weight in zip(shapes.ZIPF_ORDER, shapes.ZIPF_WEIGHTS, strict=True):
        assert near(sizes[COMBINATIONS[position].name] / COUNT, weight / total), COMBINATIONS[position].name


def test_sites_add_their_house_style_to_the_combination_twin(combination):
    for (clean, clean_page), (document, page) in zip(combination, pages("sites"), strict=True):
        tags, boilerplate = HOUSE_STYLES[page.site]
        assert clean.cluster == document.cluster
        assert page.title == f"{boilerplate}: {clean_page.title}"
        assert page.stack == clean_page.stack + list(tags)
