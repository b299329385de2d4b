"""Tests for ``articles.parsing``: reading page-text exports into typed pages.

The reference document is the real export in ``articles/fixtures/samples``; its meta is
compared with ``meta_example.json`` (the same document as the API serves it). These tests
need no database.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from articles.parsing import (
    MAX_BODY_BLOCKS,
    MAX_DOCUMENT_BYTES,
    MAX_ERRORS,
    MAX_EXTRA_ENTRIES,
    MAX_LINE_CHARS,
    Block,
    ParsedPage,
    ParseResult,
    Problem,
    normalize_text,
    parse_page,
)
from articles.parsing.lines import bullet_heads, bullet_run

SAMPLE_PATH = Path(__file__).resolve().parents[2] / "articles/fixtures/samples/anp-ref-035445-8950.txt"
SAMPLE_BYTES = SAMPLE_PATH.read_bytes()
SAMPLE_TEXT = SAMPLE_BYTES.decode("utf-8")
EXPECTED = json.loads((Path(__file__).resolve().parent / "meta_example.json").read_text(encoding="utf-8"))

HEADER = "alphanode post meta"
END = "Similar Posts"

META_FIELDS = [
    "topic",
    "summary",
    "brief",
    "outline",
    "stack",
    "tools",
    "code_language",
    "difficulty",
    "reading_time",
    "view_count",
    "scores",
    "revision",
    "reference",
    "hash",
    "flags",
    "checklist",
    "entities",
    "image_sources",
    "payload",
    "notes",
    "extra",
]

SAMPLE_BLOCK_KINDS = [
    "paragraph",
    "figure",
    "figure",
    "heading",
    "paragraph",
    "paragraph",
    "code",
    "heading",
    "list",
    "figure",
    "figure",
    "heading",
    "paragraph",
]

SAMPLE_CODE = "\n".join(
    [
        "from fastapi import FastAPI",
        "app = FastAPI()",
        "",
        "@app.get('/health')",
        "def health():",
        "    return {'ok': True}",
    ]
)

# Meta entry key -> (ParsedPage attribute, value when the entry is absent).
OPTIONAL_ENTRIES = {
    "topic": ("topic", None),
    "summary": ("summary", None),
    "ai outline": ("outline", None),
    "ai brief": ("brief", None),
    "stack": ("stack", []),
    "tools": ("tools", []),
    "code language": ("code_language", None),
    "difficulty": ("difficulty", None),
    "reading time": ("reading_time", None),
    "view count": ("view_count", None),
    "score": ("scores", None),
    "revision": ("revision", None),
    "hash": ("hash", None),
    "flags": ("flags", None),
    "checklist": ("checklist", []),
    "entities": ("entities", []),
    "image sources": ("image_sources", []),
    "payload": ("payload", None),
    "notes": ("notes", []),
}


# --------------------------------------------------------------------------- helpers


def parse_ok(data: str | bytes) -> ParsedPage:
    """Parse a document that must be valid and return its page."""
    result = parse_page(data)
    assert result.errors == []
    assert result.ok
    assert result.page is not None
    return result.page


def parse_errors(data: str | bytes) -> list[Problem]:
    """Parse a document that must be refused and return its errors."""
    result = parse_page(data)
    assert not result.ok
    assert result.page is None
    assert result.errors
    return result.errors


def find_problem(problems: list[Problem], field: str) -> Problem:
    """Return the single problem about ``field``."""
    matching = [problem for problem in problems if problem.field == field]
    assert len(matching) == 1, problems
    return matching[0]


def line_number(text: str, line: str) -> int:
    """1-based number of the first line of ``text`` equal to ``line``."""
    return text.split("\n").index(line) + 1


def replace_line(text: str, old: str, new: str) -> str:
    """Replace the one line equal to ``old`` with ``new`` (which may hold several lines)."""
    lines = text.split("\n")
    assert lines.count(old) == 1, old
    lines[lines.index(old)] = new
    return "\n".join(lines)


def split_sample() -> tuple[list[str], list[list[str]], list[str]]:
    """Split the sample into (lines up to the header, meta entries as line lists, end lines)."""
    lines = SAMPLE_TEXT.split("\n")
    header = lines.index(HEADER)
    end = lines.index(END)
    entries: list[list[str]] = []
    for line in lines[header + 1 : end]:
        if line == "":
            continue
        if line.startswith(" "):
            entries[-1].append(line)
        else:
            entries.append([line])
    return lines[: header + 1], entries, lines[end:]


def build(head: list[str], entries: list[list[str]], tail: list[str]) -> str:
    """Reassemble a document from the parts :func:`split_sample` returns."""
    meta = [line for entry in entries for line in entry]
    return "\n".join([*head, "", *meta, "", *tail])


def entry_key(entry: list[str]) -> str:
    """The key of a meta entry (scalar keys are matched by prefix)."""
    first = entry[0]
    for key in OPTIONAL_ENTRIES:
        if first == key or (len(entry) == 1 and first.startswith(key)):
            return key
    assert first.startswith("reference"), first
    return "reference"


def without_entry(key: str) -> str:
    """The sample with one meta entry removed."""
    head, entries, tail = split_sample()
    kept = [entry for entry in entries if entry_key(entry) != key]
    assert len(kept) == len(entries) - 1
    return build(head, kept, tail)


def with_meta(*extra_lines: str, text: str = SAMPLE_TEXT) -> str:
    """The document with lines added at the end of its meta, just before the end marker."""
    return replace_line(text, END, "\n".join([*extra_lines, END]))


def json_value(page: ParsedPage, name: str) -> object:
    """A page attribute in the form ``meta_example.json`` uses (dates as ISO text)."""
    value = getattr(page, name)
    if name == "revision" and value is not None:
        value = {**value, "last_reviewed": value["last_reviewed"].isoformat()}
    return value


def filler_paragraphs(total: int, width: int = 80_000) -> str:
    """Body paragraphs of exactly ``total`` characters (ASCII), each line shorter than the limit."""
    parts = []
    remaining = total
    while remaining > 0:
        size = min(width, remaining)
        if remaining - size and remaining - size < 3:
            size -= 3
        parts.append("\n\n" + "a" * (size - 3) + ".")
        remaining -= size
    text = "".join(parts)
    assert len(text) == total
    return text


def sample_with_body_filler(total_bytes: int) -> bytes:
    """The sample padded with body paragraphs to exactly ``total_bytes`` bytes."""
    anchor = "\n\nproduction checks\n"
    assert SAMPLE_TEXT.count(anchor) == 1
    filler = filler_paragraphs(total_bytes - len(SAMPLE_BYTES))
    document = SAMPLE_TEXT.replace(anchor, filler + anchor).encode("utf-8")
    assert len(document) == total_bytes
    return document


def assert_consistent(result: object) -> None:
    """A parse result is either a page without errors or no page with explained errors."""
    assert isinstance(result, ParseResult)
    assert len(result.errors) <= MAX_ERRORS
    assert len(result.warnings) <= MAX_ERRORS
    for problem in [*result.errors, *result.warnings]:
        assert isinstance(problem, Problem)
        assert isinstance(problem.field, str) and problem.field
        assert isinstance(problem.message, str) and problem.message.strip()
        assert problem.line is None or (isinstance(problem.line, int) and problem.line >= 1)
    if result.ok:
        assert result.page is not None
        assert result.errors == []
        assert isinstance(result.page.reference, str) and result.page.reference
    else:
        assert result.page is None
        assert result.errors


@pytest.fixture(scope="module")
def sample_page() -> ParsedPage:
    return parse_ok(SAMPLE_BYTES)


# --------------------------------------------------------------------------- the sample


def test_sample_parses_without_errors_or_warnings():
    result = parse_page(SAMPLE_BYTES)
    assert result.ok
    assert result.errors == []
    assert result.warnings == []


@pytest.mark.parametrize("name", META_FIELDS)
def test_sample_meta_matches_meta_example(sample_page, name):
    assert json_value(sample_page, name) == EXPECTED[name]


def test_sample_has_no_extra_meta(sample_page):
    assert sample_page.extra == {}


def test_sample_typed_values(sample_page):
    assert sample_page.revision["last_reviewed"] == datetime.date(2026, 6, 28)
    assert isinstance(sample_page.reading_time, int)
    assert isinstance(sample_page.payload["seed"], int)
    assert sample_page.flags["needs_human_review"] is False
    assert sample_page.flags["has_images"] is True


def test_sample_title_and_site(sample_page):
    assert sample_page.title == EXPECTED["title"]
    assert sample_page.site == EXPECTED["site"] == "alphanode"


def test_sample_body_block_kinds(sample_page):
    assert [block.kind for block in sample_page.body] == SAMPLE_BLOCK_KINDS


def test_sample_headings(sample_page):
    headings = [block.text for block in sample_page.body if block.kind == "heading"]
    assert headings == ["production checks", "implementation checklist", "final notes"]


def test_sample_figures_link_to_image_sources(sample_page):
    figures = [block for block in sample_page.body if block.kind == "figure"]
    assert [figure.image for figure in figures] == [0, 1, 2, 3]
    assert [figure.source for figure in figures] == [
        "unsplash",
        "unsplash",
        "loremflickr.com",
        "dummyimage.com",
    ]
    for figure in figures:
        assert sample_page.image_sources[figure.image]["caption"] == figure.caption


def test_sample_code_block_keeps_inner_blank_line(sample_page):
    (code,) = [block for block in sample_page.body if block.kind == "code"]
    assert code.text == SAMPLE_CODE
    assert code.language == "python"


def test_sample_list_block(sample_page):
    (listing,) = [block for block in sample_page.body if block.kind == "list"]
    assert listing.items == EXPECTED["checklist"]


def test_sample_paragraphs(sample_page):
    paragraphs = [block.text for block in sample_page.body if block.kind == "paragraph"]
    assert len(paragraphs) == 4
    assert paragraphs[0].startswith("a reliable python services setup")
    assert paragraphs[-1].endswith("so future maintenance is easier.")


def test_sample_body_text_is_verbatim(sample_page):
    lines = SAMPLE_TEXT.split("\n")
    expected = "\n".join(lines[1 : lines.index(HEADER)]).strip("\n")
    assert sample_page.body_text == expected


def test_block_as_dict_holds_only_keys_of_its_kind(sample_page):
    dicts = [block.as_dict() for block in sample_page.body]
    assert dicts[0].keys() == {"kind", "text"}
    assert dicts[1] == {
        "kind": "figure",
        "caption": "creating rollback friendly releases with python services visual reference 1",
        "source": "unsplash",
        "image": 0,
    }
    assert dicts[6] == {"kind": "code", "text": SAMPLE_CODE, "language": "python"}
    assert dicts[8] == {"kind": "list", "items": EXPECTED["checklist"]}
    assert Block(kind="heading", text="x").as_dict() == {"kind": "heading", "text": "x"}


def test_problem_as_dict():
    assert Problem(3, "score.quality", "bad").as_dict() == {
        "line": 3,
        "field": "score.quality",
        "message": "bad",
    }


# --------------------------------------------------------------------------- equivalent variants


VARIANTS = {
    "str input": lambda text: text,
    "crlf": lambda text: text.replace("\n", "\r\n").encode(),
    "lone cr": lambda text: text.replace("\n", "\r").encode(),
    "bom": lambda text: ("\ufeff" + text).encode(),
    "bom and crlf": lambda text: ("\ufeff" + text.replace("\n", "\r\n")).encode(),
    "trailing spaces and tabs": lambda text: "\n".join(line + " \t " for line in text.split("\n")).encode(),
    "trailing blank lines": lambda text: (text + "\n\n\n  \n").encode(),
    "bytearray": lambda text: bytearray(text.encode()),
    "blank lines between meta entries": lambda text: build(
        split_sample()[0], [[*entry, ""] for entry in split_sample()[1]], split_sample()[2]
    ),
    "text after the end marker": lambda text: text + "\nsome related post\nreferenceother\n  • x\nBad Line",
}


@pytest.mark.parametrize("variant", VARIANTS, ids=list(VARIANTS))
def test_equivalent_variants_parse_to_the_same_page(sample_page, variant):
    page = parse_ok(VARIANTS[variant](SAMPLE_TEXT))
    for name in META_FIELDS:
        assert getattr(page, name) == getattr(sample_page, name), name
    assert page.title == sample_page.title
    assert page.site == sample_page.site
    assert page.body == sample_page.body
    assert page.body_text == sample_page.body_text


def test_reordered_entries_parse_to_the_same_page(sample_page):
    head, entries, tail = split_sample()
    page = parse_ok(build(head, list(reversed(entries)), tail))
    for name in META_FIELDS:
        assert getattr(page, name) == getattr(sample_page, name), name


def test_reordered_record_fields_parse_to_the_same_values(sample_page):
    text = SAMPLE_TEXT.replace(
        "  • quality: 80\n  • freshness: 48\n  • depth: 61\n  • clarity: 91",
        "  • clarity: 91\n  • depth: 61\n  • quality: 80\n  • freshness: 48",
    )
    assert text != SAMPLE_TEXT
    assert parse_ok(text).scores == sample_page.scores


def test_bullet_indentation_is_lenient(sample_page):
    text = SAMPLE_TEXT.replace("  • quality: 80", "    • quality: 80").replace(
        "    • type: area", "  • type: area"
    )
    page = parse_ok(text)
    assert page.scores == sample_page.scores
    assert page.entities == sample_page.entities


@pytest.mark.parametrize("key", OPTIONAL_ENTRIES)
def test_each_optional_entry_can_be_removed(sample_page, key):
    attribute, absent = OPTIONAL_ENTRIES[key]
    page = parse_ok(without_entry(key))
    assert getattr(page, attribute) == absent
    for name in META_FIELDS:
        if name != attribute:
            assert getattr(page, name) == getattr(sample_page, name), name


def test_only_reference_is_required():
    page = parse_ok("a title\n\nsome text.\n\nsite post meta\nreferencer-1\nSimilar Posts")
    assert page.reference == "r-1"
    assert page.site == "site"
    assert page.topic is None and page.scores is None and page.flags is None
    assert page.stack == [] and page.entities == [] and page.extra == {}
    assert [block.kind for block in page.body] == ["paragraph"]


def test_missing_record_field_is_none():
    page = parse_ok(SAMPLE_TEXT.replace("  • depth: 61\n", "").replace("  • status: reviewed\n", ""))
    assert page.scores == {"quality": 80, "freshness": 48, "depth": None, "clarity": 91}
    assert page.revision["status"] is None


def test_known_list_key_without_bullets_is_an_empty_list():
    text = SAMPLE_TEXT.replace("  • fastapi\n  • pytest\n  • uvicorn\n  • ruff\n  • git\n  • logs\n", "")
    assert "\ntools\ncode language" in text
    result = parse_page(text)
    assert result.ok
    assert result.page.tools == []
    assert result.warnings == []


# --------------------------------------------------------------------------- scalar keys


def test_scalar_value_may_start_with_another_key():
    page = parse_ok(SAMPLE_TEXT.replace("difficultyadvanced", "difficultyreading time"))
    assert page.difficulty == "reading time"
    assert page.reading_time == 4


def test_scalar_keys_are_not_read_inside_bullets():
    page = parse_ok(with_meta("notes extra", "  • referencefake", "  • topicnot a topic"))
    assert page.reference == "anp-ref-035445-8950"
    assert page.topic == EXPECTED["topic"]
    assert page.extra == {"notes extra": ["referencefake", "topicnot a topic"]}


def test_largest_whole_number_is_accepted():
    page = parse_ok(SAMPLE_TEXT.replace("view count590939", f"view count{2**63 - 1}"))
    assert page.view_count == 2**63 - 1


# --------------------------------------------------------------------------- rejections


def test_missing_header_is_refused():
    errors = parse_errors(replace_line(SAMPLE_TEXT, HEADER, ""))
    problem = find_problem(errors, "post meta")
    assert problem.line is None
    assert "post meta" in problem.message


def test_header_on_the_title_line_does_not_count():
    errors = parse_errors("alphanode post meta\n\nreferencex\nSimilar Posts\n")
    assert find_problem(errors, "post meta").line is None


def test_missing_end_marker_is_refused_as_truncated():
    truncated = SAMPLE_TEXT[: SAMPLE_TEXT.index(END)]
    problem = find_problem(parse_errors(truncated), END)
    assert problem.line is None
    assert "truncated" in problem.message


def test_truncation_inside_meta_reports_every_problem():
    truncated = SAMPLE_TEXT[: SAMPLE_TEXT.index("referenceanp")]
    errors = parse_errors(truncated)
    assert {problem.field for problem in errors} == {END, "reference"}


def test_missing_reference_is_refused():
    errors = parse_errors(without_entry("reference"))
    problem = find_problem(errors, "reference")
    assert problem.line is None
    assert "reference" in problem.message


def test_empty_reference_is_refused():
    text = SAMPLE_TEXT.replace("referenceanp-ref-035445-8950", "reference")
    problem = find_problem(parse_errors(text), "reference")
    assert problem.line == line_number(text, "reference")


@pytest.mark.parametrize("value", ["four", "-4", "4.5", "４", "9" * 20, str(2**63)])
def test_bad_whole_number_is_refused(value):
    text = SAMPLE_TEXT.replace("reading time4", f"reading time{value}")
    problem = find_problem(parse_errors(text), "reading time")
    assert problem.line == line_number(text, f"reading time{value}")
    assert "whole number" in problem.message


def test_whole_number_message_names_what_is_accepted_and_the_value():
    text = SAMPLE_TEXT.replace("reading time4", "reading timefour")
    message = find_problem(parse_errors(text), "reading time").message
    assert message == "expected a whole number (0 or more), got 'four'"


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ("  • paragraphs: 3", "  • paragraphs: three", "payload.paragraphs"),
        ("  • seed: 35445", "  • seed: -1", "payload.seed"),
    ],
)
def test_bad_payload_number_is_refused(old, new, field):
    text = replace_line(SAMPLE_TEXT, old, new)
    assert find_problem(parse_errors(text), field).line == line_number(text, new)


@pytest.mark.parametrize("value", ["101", "-1", "abc", "80.5", ""])
def test_score_outside_0_to_100_is_refused(value):
    new = f"  • quality: {value}".rstrip()
    text = replace_line(SAMPLE_TEXT, "  • quality: 80", new)
    problem = find_problem(parse_errors(text), "score.quality")
    assert problem.line == line_number(text, new)


@pytest.mark.parametrize(("written", "read"), [("0", 0), ("0" * 25 + "7", 7)])
def test_whole_number_zero_and_leading_zeros_are_accepted(written, read):
    """Zero is a whole number, and leading zeros neither change a number nor make it too large."""
    text = SAMPLE_TEXT.replace("view count590939", f"view count{written}")
    assert parse_ok(text).view_count == read


def test_too_large_score_message_names_the_range():
    text = replace_line(SAMPLE_TEXT, "  • quality: 80", "  • quality: 1000")
    message = find_problem(parse_errors(text), "score.quality").message
    assert message == "expected a whole number from 0 to 100, got a number that is too large (4 digits)"


def test_record_text_field_may_hold_a_colon():
    text = replace_line(SAMPLE_TEXT, "  • status: reviewed", "  • status: reviewed: by alice")
    assert parse_ok(text).revision["status"] == "reviewed: by alice"


def test_every_problem_of_a_record_is_reported():
    """A bad bullet stops neither the reading of its record nor the checks of the fields after it."""
    text = replace_line(SAMPLE_TEXT, "  • quality: 80", "  • quality:\n  • beauty: 1")
    text = replace_line(text, "  • depth: 61", "  • depth: 6x")
    problems = {(problem.line, problem.field, problem.message) for problem in parse_errors(text)}
    assert problems == {
        (line_number(text, "  • quality:"), "score.quality", "'quality' has no value"),
        (
            line_number(text, "  • beauty: 1"),
            "score",
            "unknown field 'beauty' in 'score'; expected one of: quality, freshness, depth, clarity",
        ),
        (
            line_number(text, "  • depth: 6x"),
            "score.depth",
            "expected a whole number from 0 to 100, got '6x'",
        ),
    }


def test_every_unknown_field_of_a_record_list_is_reported():
    text = replace_line(SAMPLE_TEXT, "    • type: area", "    • weight: 3\n    • colour: red")
    lines = sorted(problem.line for problem in parse_errors(text) if problem.field == "entities")
    assert lines == [line_number(text, "    • weight: 3"), line_number(text, "    • colour: red")]


def test_a_bad_field_line_leaves_its_record_whole():
    """The fields after a refused line still belong to the record it interrupts: the first image
    source keeps its url and caption, so only the bad line is reported."""
    first_source = "    • source: unsplash"
    assert SAMPLE_TEXT.count(first_source) == 2
    text = SAMPLE_TEXT.replace(first_source, first_source + "\n    • width: 1200", 1)
    problems = [(problem.line, problem.field) for problem in parse_errors(text)]
    assert problems == [(line_number(text, "    • width: 1200"), "image sources")]
    # The same after a field given twice in a record, and in a record with an empty bullet.
    text = replace_line(SAMPLE_TEXT, "  • depth: 61", "  • depth: 61\n  •\n  • depth: 62")
    problems = [(problem.line, problem.field) for problem in parse_errors(text)]
    empty, repeated = line_number(text, "  •"), line_number(text, "  • depth: 62")
    assert problems == [(empty, "score"), (repeated, "score.depth")]


def test_score_message_names_the_range_and_the_value():
    text = replace_line(SAMPLE_TEXT, "  • quality: 80", "  • quality: abc")
    message = find_problem(parse_errors(text), "score.quality").message
    assert message == "expected a whole number from 0 to 100, got 'abc'"


def test_score_100_and_0_are_accepted():
    text = replace_line(SAMPLE_TEXT, "  • quality: 80", "  • quality: 100")
    text = replace_line(text, "  • depth: 61", "  • depth: 0")
    scores = parse_ok(text).scores
    assert (scores["quality"], scores["depth"]) == (100, 0)


@pytest.mark.parametrize("value", ["2", "yes", "true", "01"])
def test_flag_other_than_0_or_1_is_refused(value):
    new = f"  • has images: {value}"
    text = replace_line(SAMPLE_TEXT, "  • has images: 1", new)
    problem = find_problem(parse_errors(text), "flags.has images")
    assert problem.line == line_number(text, new)


@pytest.mark.parametrize("value", ["1.5", "1.5.4.2", "v1.5.4", "1.x.4", "1..4", "1234567890.0.0"])
def test_bad_version_is_refused(value):
    new = f"  • version: {value}"
    text = replace_line(SAMPLE_TEXT, "  • version: 1.5.4", new)
    problem = find_problem(parse_errors(text), "revision.version")
    assert problem.line == line_number(text, new)


@pytest.mark.parametrize(
    "value", ["2026-02-30", "2026-13-01", "0000-01-01", "2026-6-28", "28/06/2026", "soon"]
)
def test_bad_date_is_refused(value):
    new = f"  • last reviewed: {value}"
    text = replace_line(SAMPLE_TEXT, "  • last reviewed: 2026-06-28", new)
    problem = find_problem(parse_errors(text), "revision.last reviewed")
    assert problem.line == line_number(text, new)


def test_version_parts_of_nine_digits_are_accepted():
    text = replace_line(SAMPLE_TEXT, "  • version: 1.5.4", "  • version: 999999999.0.0")
    assert parse_ok(text).revision["version"] == "999999999.0.0"


@pytest.mark.parametrize("value", ["２０２６-06-28", "20x6-06-28"])
def test_date_with_other_than_ascii_digits_is_refused_as_not_a_date(value):
    """Full-width digits would convert to a date: only 0-9 are digits of a date."""
    text = replace_line(SAMPLE_TEXT, "  • last reviewed: 2026-06-28", f"  • last reviewed: {value}")
    message = find_problem(parse_errors(text), "revision.last reviewed").message
    assert message == f"expected a date YYYY-MM-DD, got '{value}'"


def test_leap_day_is_a_real_date():
    text = replace_line(SAMPLE_TEXT, "  • last reviewed: 2026-06-28", "  • last reviewed: 2028-02-29")
    assert parse_ok(text).revision["last_reviewed"] == datetime.date(2028, 2, 29)


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "ftp://loremflickr.com/1200/630",
        "data:image/png;base64,AAAA",
        "/relative/image.png",
        "//loremflickr.com/image.png",
        "https://",
        "http://[::1",
        "https://example.com/a b.png",
        "HTTPS://loremflickr.com/1200/630",  # the database's check compares the text as written
    ],
)
def test_bad_image_url_is_refused(url):
    old = "    • url: https://loremflickr.com/1200/630/code,developer?lock=35447"
    new = f"    • url: {url}"
    text = replace_line(SAMPLE_TEXT, old, new)
    problem = find_problem(parse_errors(text), "image sources[3].url")
    assert problem.line == line_number(text, new)


def test_image_url_with_whitespace_says_so():
    old = "    • url: https://loremflickr.com/1200/630/code,developer?lock=35447"
    text = replace_line(SAMPLE_TEXT, old, "    • url: https://example.com/a b.png")
    message = find_problem(parse_errors(text), "image sources[3].url").message
    assert message == (
        "expected an absolute http or https URL, got 'https://example.com/a b.png' (it contains whitespace)"
    )


def test_image_url_with_a_port_and_no_host_is_refused():
    old = "    • url: https://loremflickr.com/1200/630/code,developer?lock=35447"
    text = replace_line(SAMPLE_TEXT, old, "    • url: http://:80/a.png")
    assert find_problem(parse_errors(text), "image sources[3].url").line == line_number(
        text, "    • url: http://:80/a.png"
    )


def test_plain_http_image_url_is_accepted():
    old = "    • url: https://loremflickr.com/1200/630/code,developer?lock=35447"
    text = replace_line(SAMPLE_TEXT, old, "    • url: http://loremflickr.com/1200/630")
    assert parse_ok(text).image_sources[2]["url"] == "http://loremflickr.com/1200/630"


def test_image_source_without_url_is_refused():
    old = "    • url: https://loremflickr.com/1200/630/code,developer?lock=35447"
    text = replace_line(SAMPLE_TEXT, old, "")
    text = text.replace("    • source: loremflickr.com\n\n", "    • source: loremflickr.com\n")
    problem = find_problem(parse_errors(text), "image sources[3].url")
    assert problem.line == line_number(text, "    • source: loremflickr.com")


def test_non_utf8_bytes_are_refused_with_the_byte_offset():
    offset = SAMPLE_BYTES.index(b"production checks")
    data = SAMPLE_BYTES[:offset] + b"\xff" + SAMPLE_BYTES[offset + 1 :]
    problem = find_problem(parse_errors(data), "document")
    assert f"byte offset {offset}" in problem.message
    assert problem.line == line_number(SAMPLE_TEXT, "production checks")


@pytest.mark.parametrize("character", ["\x00", "\x07", "\x1b", "\x0c", "\x0b"])
def test_control_characters_are_refused_with_the_line(character):
    text = SAMPLE_TEXT.replace("production checks", f"production{character} checks")
    problem = find_problem(parse_errors(text), "document")
    assert problem.line == line_number(SAMPLE_TEXT, "production checks")
    assert "binary or control characters are not allowed" in problem.message


def test_control_character_after_the_end_marker_is_refused():
    problem = find_problem(parse_errors(SAMPLE_TEXT + "\nrelated\x00post"), "document")
    assert problem.line == len(SAMPLE_TEXT.split("\n")) + 1


def test_nul_byte_in_bytes_is_refused():
    data = SAMPLE_BYTES.replace(b"difficultyadvanced", b"difficulty\x00advanced")
    problem = find_problem(parse_errors(data), "document")
    assert problem.line == line_number(SAMPLE_TEXT, "difficultyadvanced")


def test_tabs_are_allowed():
    page = parse_ok(SAMPLE_TEXT.replace("    return {'ok': True}", "\treturn {'ok': True}"))
    assert "\treturn {'ok': True}" in page.body_text


@pytest.mark.parametrize("data", [b"", "", "   \n\n\t\n", b"\xef\xbb\xbf", "\r\n\r\n"])
def test_empty_document_is_refused(data):
    problem = find_problem(parse_errors(data), "document")
    assert "empty" in problem.message


def test_empty_title_is_refused():
    errors = parse_errors("\n" + SAMPLE_TEXT)
    assert find_problem(errors, "title").line == 1


def test_duplicate_key_is_refused_naming_both_lines():
    text = with_meta("tools", "  • make")
    problem = find_problem(parse_errors(text), "tools")
    first, second = line_number(text, "tools"), len(text.split("\n")) - 2
    assert problem.line == second
    assert str(first) in problem.message and str(second) in problem.message


def test_duplicate_scalar_key_is_refused():
    text = with_meta("difficultyeasy")
    problem = find_problem(parse_errors(text), "difficulty")
    assert problem.line == line_number(text, "difficultyeasy")
    assert str(line_number(text, "difficultyadvanced")) in problem.message


def test_unknown_record_field_is_refused():
    text = replace_line(SAMPLE_TEXT, "  • depth: 61", "  • depth: 61\n  • beauty: 99")
    problem = find_problem(parse_errors(text), "score")
    assert problem.line == line_number(text, "  • beauty: 99")
    assert problem.message == (
        "unknown field 'beauty' in 'score'; expected one of: quality, freshness, depth, clarity"
    )


def test_unknown_record_field_is_named_without_its_value():
    """The field name ends at the first colon: a value holding one (a time) is not part of it."""
    text = replace_line(SAMPLE_TEXT, "  • depth: 61", "  • depth: 61\n  • beauty: 9:30")
    message = find_problem(parse_errors(text), "score").message
    assert message.startswith("unknown field 'beauty' in 'score';")


def test_unknown_record_list_field_is_refused():
    text = replace_line(SAMPLE_TEXT, "    • type: area", "    • type: area\n    • weight: 3")
    problem = find_problem(parse_errors(text), "entities")
    assert problem.line == line_number(text, "    • weight: 3")


def test_repeated_record_field_is_refused():
    text = replace_line(SAMPLE_TEXT, "  • depth: 61", "  • depth: 61\n  • depth: 62")
    problem = find_problem(parse_errors(text), "score.depth")
    assert problem.line == line_number(text, "  • depth: 62")


def test_record_bullet_without_a_name_is_refused():
    text = replace_line(SAMPLE_TEXT, "  • depth: 61", "  • depth 61")
    problem = find_problem(parse_errors(text), "score")
    assert problem.line == line_number(text, "  • depth 61")
    assert problem.message == "expected 'name: value' in 'score', got 'depth 61'"


def test_empty_list_item_is_refused():
    text = replace_line(SAMPLE_TEXT, "  • ruff", "  •")
    assert find_problem(parse_errors(text), "tools").line == line_number(text, "  •")


def test_empty_scalar_is_refused():
    text = replace_line(SAMPLE_TEXT, "difficultyadvanced", "difficulty")
    problem = find_problem(parse_errors(text), "difficulty")
    assert problem.line == line_number(text, "difficulty")


@pytest.mark.parametrize(
    "line",
    [
        "Tools",
        "random: text",
        "  - fastapi",
        "  * fastapi",
        "   • three spaces",
        "\t• tab",
        "key  two spaces",
    ],
)
def test_unrecognised_meta_line_is_refused(line):
    text = with_meta(line)
    problem = find_problem(parse_errors(text), "post meta")
    assert problem.line == len(text.split("\n")) - 1
    assert "unrecognised meta line" in problem.message


def test_bullet_after_a_blank_line_is_refused():
    text = replace_line(SAMPLE_TEXT, "  • logs", "\n  • logs")
    problem = find_problem(parse_errors(text), "post meta")
    assert problem.line == line_number(text, "  • logs")
    assert problem.message == (
        "unrecognised meta line '  • logs': a bullet must directly follow a key that stands alone on its line"
    )


def test_bullet_after_a_scalar_is_refused():
    text = replace_line(SAMPLE_TEXT, "difficultyadvanced", "difficultyadvanced\n  • hard")
    problem = find_problem(parse_errors(text), "difficulty")
    assert problem.line == line_number(text, "  • hard")


def test_all_errors_are_collected():
    text = replace_line(SAMPLE_TEXT, "  • quality: 80", "  • quality: 101")
    text = replace_line(text, "  • has images: 1", "  • has images: 2")
    text = replace_line(text, "  • last reviewed: 2026-06-28", "  • last reviewed: 2026-02-30")
    text = text.replace("reading time4", "reading timex")
    fields = {problem.field for problem in parse_errors(text)}
    assert fields == {"score.quality", "flags.has images", "revision.last reviewed", "reading time"}


def test_error_list_is_capped():
    text = with_meta(*(f"Bad line {number}" for number in range(200)))
    errors = parse_errors(text)
    assert len(errors) == MAX_ERRORS
    assert "too many errors" in errors[-1].message
    assert errors[0].line == line_number(text, "Bad line 0")


def test_too_many_unknown_entries_are_refused():
    text = with_meta(*(f"unknown {number}" for number in range(MAX_EXTRA_ENTRIES + 1)))
    problem = find_problem(parse_errors(text), "post meta")
    assert problem.line == line_number(text, f"unknown {MAX_EXTRA_ENTRIES}")


def test_line_over_the_limit_is_refused():
    long_line = "a" * (MAX_LINE_CHARS + 1)
    text = SAMPLE_TEXT.replace("production checks", long_line)
    problem = find_problem(parse_errors(text), "document")
    assert problem.line == line_number(SAMPLE_TEXT, "production checks")
    assert str(MAX_LINE_CHARS) in problem.message


def test_line_at_the_limit_is_accepted():
    text = SAMPLE_TEXT.replace("production checks", "a" * (MAX_LINE_CHARS - 1) + ".")
    assert parse_ok(text).body[3].kind == "paragraph"


def test_unsupported_input_type_is_refused():
    problem = find_problem(parse_errors(12345), "document")  # type: ignore[arg-type]
    assert "int" in problem.message


def test_lone_surrogate_in_text_is_refused():
    problem = find_problem(parse_errors(SAMPLE_TEXT.replace("final notes", "final \ud800notes")), "document")
    assert problem.line == line_number(SAMPLE_TEXT, "final notes")


# --------------------------------------------------------------------------- size limits


def test_two_megabyte_document_parses():
    data = sample_with_body_filler(2_000_000)
    page = parse_ok(data)
    assert len(page.body) == len(SAMPLE_BLOCK_KINDS) + 25
    assert page.reference == EXPECTED["reference"]


def test_document_exactly_at_the_size_limit_is_accepted():
    assert parse_page(sample_with_body_filler(MAX_DOCUMENT_BYTES)).ok


@pytest.mark.parametrize("as_text", [False, True])
def test_document_over_the_size_limit_is_refused(as_text):
    data = sample_with_body_filler(MAX_DOCUMENT_BYTES + 1)
    problem = find_problem(parse_errors(data.decode() if as_text else data), "document")
    assert problem.line is None
    assert str(MAX_DOCUMENT_BYTES) in problem.message


def test_text_size_limit_counts_utf8_bytes():
    anchor = "\n\nproduction checks\n"
    wide = ("\n\n" + "é" * 40_000 + ".") * 27
    text = SAMPLE_TEXT.replace(anchor, wide + anchor)
    assert len(text) < MAX_DOCUMENT_BYTES < len(text.encode())
    assert find_problem(parse_errors(text), "document").line is None


def test_very_many_body_blocks_are_capped_with_a_warning():
    blocks = "\n\n".join(f"paragraph number {number}." for number in range(MAX_BODY_BLOCKS + 100))
    text = SAMPLE_TEXT.replace("\n\nproduction checks\n", "\n\n" + blocks + "\n\nproduction checks\n")
    result = parse_page(text)
    assert result.ok
    assert len(result.page.body) == MAX_BODY_BLOCKS + 1
    assert result.page.body[-1].kind == "paragraph"
    assert result.page.body[-1].text.endswith("so future maintenance is easier.")
    assert find_problem(result.warnings, "body").line is not None
    assert "paragraph number 5099." in result.page.body_text


# --------------------------------------------------------------------------- extras and warnings


def test_unknown_entry_is_kept_as_extra_with_a_warning():
    text = with_meta("reviewer notes", "  • checked by: alice", "    • a: b", "  • {{ raw }}")
    result = parse_page(text)
    assert result.ok
    assert result.page.extra == {"reviewer notes": ["checked by: alice", "a: b", "{{ raw }}"]}
    warning = find_problem(result.warnings, "reviewer notes")
    assert warning.line == line_number(text, "reviewer notes")
    assert "extra meta" in warning.message


def test_unknown_key_without_bullets_is_an_empty_extra_with_a_warning():
    result = parse_page(with_meta("lonely key"))
    assert result.ok
    assert result.page.extra == {"lonely key": []}
    assert find_problem(result.warnings, "lonely key").line is not None


def test_unknown_key_may_use_every_key_character():
    """A key is lower-case letters, digits and single spaces: one using all of them is a key."""
    key = "abcdefghijklmnopqrstuvwxyz 0123456789"
    result = parse_page(with_meta(key))
    assert result.ok
    assert result.page.extra == {key: []}


def test_unknown_key_starting_with_a_scalar_key_word_is_extra_when_bullets_follow():
    result = parse_page(with_meta("summary notes", "  • first"))
    assert result.ok
    assert result.page.summary == EXPECTED["summary"]
    assert result.page.extra == {"summary notes": ["first"]}


def test_scalar_key_glued_to_more_letters_stays_a_scalar_even_before_bullets():
    text = without_entry("topic")
    text = with_meta("topics", "  • first", text=text)
    problem = find_problem(parse_errors(text), "topic")
    assert problem.line == line_number(text, "  • first")


def test_figure_caption_without_source_is_a_warning():
    text = SAMPLE_TEXT.replace(
        "\nproduction checks\n",
        "\nan unlisted chart\nan unlisted chart. image source: nowhere\n\nproduction checks\n",
    )
    result = parse_page(text)
    assert result.ok
    figure = result.page.body[3]
    assert (figure.kind, figure.caption, figure.source, figure.image) == (
        "figure",
        "an unlisted chart",
        "nowhere",
        None,
    )
    warning = find_problem(result.warnings, "body")
    assert warning.line == line_number(text, "an unlisted chart")
    assert "an unlisted chart" in warning.message


def test_flags_claiming_images_without_any_are_a_warning():
    head, entries, tail = split_sample()
    head = [line for line in head if "visual reference" not in line]
    entries = [entry for entry in entries if entry_key(entry) != "image sources"]
    text = build(head, entries, tail)
    result = parse_page(text)
    assert result.ok
    assert not any(block.kind == "figure" for block in result.page.body)
    warning = find_problem(result.warnings, "flags.has images")
    assert warning.line == line_number(text, "  • has images: 1")


def test_flags_claiming_images_with_only_figures_warn_about_the_captions_only():
    head, entries, tail = split_sample()
    text = build(head, [entry for entry in entries if entry_key(entry) != "image sources"], tail)
    result = parse_page(text)
    assert result.ok
    assert [warning.field for warning in result.warnings] == ["body"] * 4


def test_flags_denying_images_that_exist_are_a_warning():
    text = replace_line(SAMPLE_TEXT, "  • has images: 1", "  • has images: 0")
    result = parse_page(text)
    assert result.ok
    assert find_problem(result.warnings, "flags.has images").line == line_number(text, "  • has images: 0")
    image_heavy = find_problem(result.warnings, "flags.image heavy")
    assert image_heavy.line == line_number(text, "  • image heavy: 1")


def test_consistent_flags_give_no_warning():
    text = replace_line(SAMPLE_TEXT, "  • image heavy: 1", "  • image heavy: 0")
    result = parse_page(text)
    assert result.ok
    assert result.warnings == []


# --------------------------------------------------------------------------- hostile text


def test_hostile_text_is_kept_verbatim():
    script = "<script>alert(1)</script>"
    template = "{{ 7|add:7 }} {% load static %}"
    handler = '<img src=x onerror="alert(1)">'
    text = script + SAMPLE_TEXT[SAMPLE_TEXT.index("\n") :]
    head, meta = text.split(HEADER)
    text = head + HEADER + meta.replace("  • create a safe backup", f"  • {template}")
    text = replace_line(
        text, "  • view count is synthetic and only used for testing meta volume", f"  • {handler}"
    )
    text = text.replace("topiccreating rollback", "topic" + script + " creating rollback")
    page = parse_ok(text)
    assert page.title == script
    assert page.checklist[1] == template
    assert page.notes[1] == handler
    assert page.topic.startswith(script)


def test_hostile_body_text_is_kept_verbatim():
    hostile = "<script>alert(1)</script> {{ 7|add:7 }} onerror=alert(1)"
    page = parse_ok(SAMPLE_TEXT.replace("final notes", hostile))
    assert hostile in page.body_text
    assert any(hostile in (block.text or "") for block in page.body)


# --------------------------------------------------------------------------- body classification


def body_of(body: str, meta: str = "code languagego\n") -> list[Block]:
    """Parse a small document with the given body and return its blocks."""
    return parse_ok(f"title\n\n{body}\n\nsite post meta\n{meta}referencer\nSimilar Posts\n").body


def test_code_chunks_separated_by_blank_lines_form_one_block():
    blocks = body_of("intro text here.\n\nfunc main() {\n\n\n    fmt.Println(1)\n}\n\nclosing words here.")
    assert [block.kind for block in blocks] == ["paragraph", "code", "paragraph"]
    assert blocks[1].text == "func main() {\n\n\n    fmt.Println(1)\n}"
    assert blocks[1].language == "go"


def test_code_language_is_empty_without_meta():
    (block,) = body_of("x = compute(1)\ny = x + 1", meta="")
    assert (block.kind, block.language) == ("code", "")


@pytest.mark.parametrize(
    "snippet",
    [
        "import os\nprint(os.getcwd())",
        "$ pip install fastapi\n$ uvicorn app:app --reload",
        "SELECT id, name FROM users WHERE id = 1;",
        "const answer = 42;\nconsole.log(answer);",
        "<?php\necho 'hi';",
        "#!/bin/sh\nset -e",
    ],
)
def test_code_snippets_are_code(snippet):
    (block,) = body_of(snippet)
    assert block.kind == "code"
    assert block.text == snippet


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("why releases fail", "heading"),
        ("this is a sentence about releases.", "paragraph"),
        ("what should we check first?", "paragraph"),
        ("steps to follow:", "paragraph"),
        ("a" * 81, "paragraph"),
        ("first line of prose, still going\nand a second line of it.", "paragraph"),
    ],
)
def test_headings_and_paragraphs(text, kind):
    (block,) = body_of(text)
    assert (block.kind, block.text) == (kind, text)


def test_figures_directly_after_list_lines():
    blocks = body_of("  • one\n  • two\ncap a\ncap a. image source: here\ncap b\ncap b. image source:")
    assert [block.kind for block in blocks] == ["list", "figure", "figure"]
    assert blocks[0].items == ["one", "two"]
    assert (blocks[1].caption, blocks[1].source) == ("cap a", "here")
    assert (blocks[2].caption, blocks[2].source) == ("cap b", "")


def test_source_line_without_its_caption_is_not_a_figure():
    (block,) = body_of("other caption. image source: here")
    assert (block.kind, block.text) == ("heading", "other caption. image source: here")
    blocks = body_of("one caption\nanother caption. image source: here")
    assert [block.kind for block in blocks] == ["paragraph"]


def test_empty_body_is_allowed():
    page = parse_ok("title\nsite post meta\nreferencer\nSimilar Posts")
    assert page.body == []
    assert page.body_text == ""


# --------------------------------------------------------------------------- normalize_text


def test_normalize_text_canonical_form():
    raw = "\ufefftitle  \r\nline\t\rnext \n\n \n\t\n"
    assert normalize_text(raw) == "title\nline\nnext\n"
    assert normalize_text(raw.encode()) == "title\nline\nnext\n"


def test_normalize_text_of_blank_input_is_empty():
    assert normalize_text(" \n\t\r\n") == ""
    assert normalize_text(b"") == ""


def test_normalize_text_rejects_invalid_utf8():
    with pytest.raises(UnicodeDecodeError):
        normalize_text(b"abc\xff")


@pytest.mark.parametrize("variant", VARIANTS, ids=list(VARIANTS))
def test_normalize_text_is_idempotent_on_variants(variant):
    data = VARIANTS[variant](SAMPLE_TEXT)
    once = normalize_text(bytes(data) if isinstance(data, bytearray) else data)
    assert normalize_text(once) == once


def test_normalize_text_makes_variants_equal():
    canonical = normalize_text(SAMPLE_TEXT)
    assert normalize_text(("\ufeff" + SAMPLE_TEXT.replace("\n", "\r\n") + "  \r\n\r\n").encode()) == canonical


# --------------------------------------------------------------------------- properties


@st.composite
def mutated_samples(draw: st.DrawFn) -> bytes:
    """The sample with one random damage applied."""
    lines = SAMPLE_TEXT.split("\n")
    operation = draw(
        st.sampled_from(["delete", "duplicate", "swap", "truncate", "insert", "replace byte", "replace line"])
    )
    if operation == "delete":
        del lines[draw(st.integers(0, len(lines) - 1))]
    elif operation == "duplicate":
        index = draw(st.integers(0, len(lines) - 1))
        lines.insert(index, lines[index])
    elif operation == "swap":
        first = draw(st.integers(0, len(lines) - 1))
        second = draw(st.integers(0, len(lines) - 1))
        lines[first], lines[second] = lines[second], lines[first]
    elif operation == "replace line":
        lines[draw(st.integers(0, len(lines) - 1))] = draw(st.text(max_size=30))
    data = "\n".join(lines).encode("utf-8", "surrogatepass")
    if operation == "truncate":
        data = data[: draw(st.integers(0, len(data)))]
    elif operation == "insert":
        inserted = draw(
            st.one_of(
                st.text(max_size=20),
                st.text(st.characters(max_codepoint=0x1F), min_size=1, max_size=5),
                st.sampled_from(["\n", "\r", "\ufeff", "  • ", "    • x: y", END, HEADER, "\n\n", "•"]),
            )
        )
        position = draw(st.integers(0, len(data)))
        data = data[:position] + inserted.encode("utf-8", "surrogatepass") + data[position:]
    elif operation == "replace byte":
        position = draw(st.integers(0, len(data) - 1))
        data = data[:position] + bytes([draw(st.integers(0, 255))]) + data[position + 1 :]
    return data


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_samples())
def test_mutated_samples_never_raise(data):
    assert_consistent(parse_page(data))


@settings(max_examples=200, deadline=None)
@given(mutated_samples())
def test_mutated_samples_as_text_never_raise(data):
    text = data.decode("utf-8", "replace")
    assert_consistent(parse_page(text))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_never_raise(data):
    assert_consistent(parse_page(data))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=2000))
def test_arbitrary_text_never_raises(text):
    assert_consistent(parse_page(text))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from(["a", " ", "\t", "\n", "\r", "\ufeff", "  • ", "x post meta", END])).map("".join)
)
def test_text_made_of_format_pieces_never_raises(text):
    assert_consistent(parse_page(text))


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_normalize_text_is_idempotent(text):
    once = normalize_text(text)
    assert normalize_text(once) == once


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["a", " ", "\t", "\n", "\r", "\r\n", "\ufeff"])).map("".join))
def test_normalize_text_is_idempotent_on_whitespace_mixtures(text):
    once = normalize_text(text)
    assert normalize_text(once) == once
    assert once == "" or (once.endswith("\n") and not once.endswith("\n\n"))
    assert "\r" not in once


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["", " ", "  ", "   ", "    ", "\t", "     "]),
    st.sampled_from(["\u2022 ", "\u2022", "\u2022  ", "- ", "* ", ""]),
    st.sampled_from(["name", "type", "url", "nam", "names", "Name", "type ", ""]),
    st.text(alphabet=st.characters(blacklist_characters="\n\r"), max_size=12),
)
def test_the_field_heads_tell_the_bullets_the_bullet_rule_tells(indent, bullet, word, rest):
    """A record's usual fields are read by a table (bullet_heads) and every other bullet by the
    bullet rule (bullet_run): a line is a field of the table exactly when the rule reads it as a
    bullet whose text is that field's name, a colon and the rest."""
    line = indent + bullet + word + ":" + rest
    heads = bullet_heads(("name", "type", "url"))
    texts = bullet_run([line, "next key"], 0, 2)
    by_rule = texts[0].partition(":")[0] if texts else None
    head, colon, _ = line.partition(":")
    assert heads.get(head) == (by_rule if by_rule in ("name", "type", "url") else None)
