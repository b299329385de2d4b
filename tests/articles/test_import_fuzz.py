"""The importer (not only the parser) on damaged and hostile documents, against a real database.

Valid documents are mutated the ways exports get damaged: cut off, lines lost, repeated or
reordered, bytes swapped, control characters and broken UTF-8 injected, values made huge, lines
indented deeply or made enormous. Whatever comes in, each document ends in one of the documented
outcomes; a failure names the line, the field and the problem and leaves every table as it was;
and the work grows linearly with the size of a document, up to a documented size limit.
"""

import gc
import io
import json
import re
import tempfile
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from articles.models import Article, ArticleEntity, ArticleTag, Entity, ImageSource, Tag
from articles.parsing import MAX_DOCUMENT_BYTES, MAX_ERRORS, MAX_LINE_CHARS
from releases.importing import OUTCOMES, Importer, Source, import_document, parsing, pipeline
from releases.models import AuditEvent, Revision
from tests.conftest import BASE_DIR, SAMPLE_PATH

pytestmark = pytest.mark.django_db

SAMPLE = SAMPLE_PATH.read_bytes()
REFERENCE = b"anp-ref-035445-8950"
MODELS = (Article, Tag, Entity, ArticleTag, ArticleEntity, ImageSource, Revision, AuditEvent)
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def row_counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


# -- mutations ------------------------------------------------------------------------------------


def _split(data: bytes) -> list[bytes]:
    return data.split(b"\n")


def _position(draw, data: bytes) -> int:
    return draw(st.integers(0, len(data)))


def cut(draw, data):
    return data[: _position(draw, data)]


def delete_lines(draw, data):
    lines = _split(data)
    start = draw(st.integers(0, len(lines) - 1))
    del lines[start : start + draw(st.integers(1, 6))]
    return b"\n".join(lines)


def duplicate_lines(draw, data):
    lines = _split(data)
    start = draw(st.integers(0, len(lines) - 1))
    block = lines[start : start + draw(st.integers(1, 6))]
    lines[start:start] = block * draw(st.integers(1, 3))
    return b"\n".join(lines)


def move_lines(draw, data):
    lines = _split(data)
    start = draw(st.integers(0, len(lines) - 1))
    block = lines[start : start + draw(st.integers(1, 6))]
    del lines[start : start + len(block)]
    target = draw(st.integers(0, len(lines)))
    lines[target:target] = block
    return b"\n".join(lines)


def swap_bytes(draw, data):
    if len(data) < 2:
        return data
    at = draw(st.integers(0, len(data) - 2))
    return data[:at] + data[at + 1 : at + 2] + data[at : at + 1] + data[at + 2 :]


def inject_control(draw, data):
    at = _position(draw, data)
    char = draw(st.sampled_from([bytes([code]) for code in [*range(0x00, 0x20), 0x7F]]))
    return data[:at] + char * draw(st.integers(1, 3)) + data[at:]


def inject_bad_utf8(draw, data):
    at = _position(draw, data)
    bad = draw(
        st.sampled_from([b"\xff", b"\xc3", b"\xe2\x80", b"\xed\xa0\x80", b"\xc0\xaf", b"\xf4\x90\x80\x80"])
    )
    return data[:at] + bad + data[at:]


def inject_bytes(draw, data):
    at = _position(draw, data)
    return data[:at] + draw(st.binary(min_size=1, max_size=24)) + data[at:]


HUGE_NUMBERS = [b"9" * 19, b"9" * 40, b"18446744073709551616", b"2147483648", b"0" * 30 + b"1", b"-1", b"1e9"]


def huge_number(draw, data):
    """Replace one number of the document (a count, a score, a date part, a version part)."""
    numbers = list(re.finditer(rb"\d+", data))
    if not numbers:
        return data
    match = draw(st.sampled_from(numbers))
    return data[: match.start()] + draw(st.sampled_from(HUGE_NUMBERS)) + data[match.end() :]


def huge_value(draw, data):
    """Make one line's value enormous (a title, a key's value, a list item, a URL)."""
    lines = _split(data)
    index = draw(st.integers(0, len(lines) - 1))
    filler = draw(st.sampled_from([b"x", b"word ", "\u00e9".encode(), b"<script>", b"{{ x }}"]))
    lines[index] += filler * draw(st.integers(100, 20_000))
    return b"\n".join(lines)


def deep_indent(draw, data):
    lines = _split(data)
    index = draw(st.integers(0, len(lines) - 1))
    indent = draw(st.sampled_from([b" ", b"\t", b"  \xe2\x80\xa2 "]))
    lines[index] = indent * draw(st.integers(10, 20_000)) + lines[index]
    return b"\n".join(lines)


def enormous_line(draw, data):
    """A line just under or over MAX_LINE_CHARS characters, inserted anywhere."""
    lines = _split(data)
    unit = draw(st.sampled_from(["a", "word ", "\u2022", "x = f(y) "]))
    length = draw(st.sampled_from([MAX_LINE_CHARS - 10, MAX_LINE_CHARS + 1, MAX_LINE_CHARS * 2]))
    line = (unit * (length // len(unit) + 1))[:length].encode()
    lines.insert(draw(st.integers(0, len(lines))), line)
    return b"\n".join(lines)


def new_reference(draw, data):
    """Another article (so that the document is created), or a strange reference."""
    regular = st.from_regex(r"[a-z]{3}-ref-[0-9]{6}-[0-9]{4}", fullmatch=True)
    strange = st.text(min_size=0, max_size=300).filter(lambda t: "\n" not in t and "\r" not in t)
    reference = draw(st.one_of(regular, regular, strange))
    return data.replace(REFERENCE, reference.encode("utf-8", "surrogatepass"))


def change_version(draw, data):
    version = draw(
        st.sampled_from([b"1.5.3", b"1.5.5", b"2.0.0", b"1.5", b"1.5.4.1", b"01.05.04", b"", b"v1"])
    )
    return data.replace(b"version: 1.5.4", b"version: " + version)


def line_endings(draw, data):
    ending = draw(st.sampled_from([b"\r\n", b"\r", b"\n\n", b"  \n"]))
    return draw(st.sampled_from([b"", b"\xef\xbb\xbf"])) + data.replace(b"\n", ending)


DAMAGE = [
    cut, delete_lines, duplicate_lines, move_lines, swap_bytes, inject_control, inject_bad_utf8,
    inject_bytes, huge_number, huge_value, deep_indent, enormous_line, line_endings,
]  # fmt: skip
# Changes a valid document survives as often as not, so that writes are exercised as much as refusals.
CHANGES = [new_reference, change_version, duplicate_lines, move_lines, deep_indent, huge_value, line_endings]


@st.composite
def mutated_documents(draw, base: bytes = SAMPLE) -> bytes:
    data = base
    for _ in range(draw(st.integers(1, 3))):
        data = draw(st.sampled_from(draw(st.sampled_from([DAMAGE, CHANGES]))))(draw, data)
    return data


# -- what every result must satisfy ------------------------------------------------------------


def assert_well_formed_failure(result, path: str) -> None:
    assert result.errors, "a failed document carries at least one error"
    for error in result.errors:
        assert set(error) >= {"path", "line", "field", "message"}, error
        assert error["path"] == path
        assert isinstance(error["field"], str) and error["field"], error
        assert isinstance(error["message"], str) and error["message"].strip(), error
        assert error["line"] is None or (isinstance(error["line"], int) and error["line"] >= 1), error


def assert_outcome_consistent(result, path: str, before: dict[str, int], after: dict[str, int]) -> None:
    """The outcome is a documented one, and the tables changed exactly as it says."""
    assert result.outcome in OUTCOMES
    assert result.path == path
    if result.outcome == "failed":
        assert_well_formed_failure(result, path)
        assert after == before, "a failed document leaves every table as it was"
    elif result.outcome in ("unchanged", "stale"):
        assert after == before
    else:
        article = Article.objects.get(pk=result.article_id)
        assert article.reference == result.reference and article.slug == result.slug
        created = result.outcome == "created"
        assert after["Article"] == before["Article"] + created
        assert after["Revision"] == before["Revision"] + 1
        assert after["AuditEvent"] == before["AuditEvent"] + 1
        latest = Revision.objects.filter(article=article).latest("number")
        assert latest.kind == "import" and latest.content["reference"] == article.reference


# -- property tests --------------------------------------------------------------------------------


@FUZZ
@given(data=mutated_documents())
def test_a_mutated_document_imports_or_fails_cleanly(sample_article, data):
    """Against a database holding the sample, so that updates and stale versions happen too."""
    with transaction.atomic():
        before = row_counts()
        result = import_document(data, path="exports/mutated.txt")
        assert_outcome_consistent(result, "exports/mutated.txt", before, row_counts())
        transaction.set_rollback(True)


@FUZZ
@given(documents=st.lists(mutated_documents(), min_size=2, max_size=5))
def test_a_batch_of_mutated_documents_fails_only_its_bad_documents(sample_article, documents):
    """One batch, one transaction: a document the database refuses must not take the others
    down, and the tables grow by exactly what the results report."""
    with transaction.atomic():
        before = row_counts()
        results = []
        sources = [Source(f"batch/{n}.txt", data) for n, data in enumerate(documents)]
        Importer(batch_size=10).run(sources, on_result=results.append)
        after = row_counts()
        assert [r.path for r in results] == [s.path for s in sources]
        outcomes = [r.outcome for r in results]
        assert set(outcomes) <= set(OUTCOMES)
        for result in results:
            if result.outcome == "failed":
                assert_well_formed_failure(result, result.path)
        written = outcomes.count("created") + outcomes.count("updated")
        assert after["Article"] == before["Article"] + outcomes.count("created")
        assert after["Revision"] == before["Revision"] + written
        assert after["AuditEvent"] == before["AuditEvent"] + written
        transaction.set_rollback(True)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(documents=st.lists(mutated_documents(), min_size=1, max_size=4))
def test_the_command_reports_every_mutated_document_and_exits_by_the_rules(sample_article, documents):
    """import_articles on files: one result per file, exit status 1 exactly when one failed."""
    with tempfile.TemporaryDirectory() as folder, transaction.atomic():
        for n, data in enumerate(documents):
            (Path(folder) / f"{n:02d}.txt").write_bytes(data)
        before = row_counts()
        out = io.StringIO()
        try:
            call_command("import_articles", folder, "--format", "json", "--workers", "0", stdout=out)
            status = 0
        except SystemExit as exc:
            status = exc.code
        report = json.loads(out.getvalue())
        assert sum(report[outcome] for outcome in OUTCOMES) == len(documents)
        assert status == (1 if report["failed"] else 0)
        assert all(error["message"] and error["field"] for error in report["errors"])
        assert len({error["path"] for error in report["errors"]}) == report["failed"]
        assert row_counts()["Article"] == before["Article"] + report["created"]
        transaction.set_rollback(True)


# -- deterministic cases the mutations reach only by luck ----------------------------------------------


ON_POSTGRESQL = connection.vendor == "postgresql"


@pytest.mark.parametrize(
    ("key", "item"),
    [
        pytest.param("entities", "    • name: entity {n}\n    • type: t\n", id="entities"),
        # The same on SQLite, only slower: run there once, for entities.
        pytest.param("tools", "  • tool {n}\n", id="tools", marks=pytest.mark.postgres),
        pytest.param(
            "image sources", "    • url: https://e.co/{n}\n    • caption: {n}\n", id="image-sources",
            marks=pytest.mark.postgres,
        ),
    ],
)  # fmt: skip
def test_more_list_items_than_a_position_column_holds_import_or_fail_cleanly(key, item):
    text = SAMPLE.decode()
    items = "".join(item.format(n=n) for n in range(32_800))
    text = text.replace(f"\n{key}\n", f"\n{key}\n{items}", 1)
    assert len(text.encode()) < MAX_DOCUMENT_BYTES
    before = row_counts()
    result = import_document(text.encode(), path="long-lists.txt")
    assert_outcome_consistent(result, "long-lists.txt", before, row_counts())


# -- size and time -------------------------------------------------------------------------------------


def _sample_parts() -> tuple[str, str, str]:
    text = SAMPLE.decode()
    title, rest = text.split("\n", 1)
    body, meta = rest.split("alphanode post meta\n", 1)
    return title, body, meta


def grown(size: int, *, body: str = "", key: str = "", item: str = "") -> bytes:
    """The sample grown to about `size` bytes by repeating a body unit or the items of a meta list."""
    title, sample_body, meta = _sample_parts()
    pieces, budget, n = [], size - len(SAMPLE), 0
    while True:
        piece = (body or item).format(n=n % 1000)
        budget -= len(piece.encode())
        if budget < 0 and pieces:
            break
        pieces.append(piece)
        n += 1
    filler = "".join(pieces)
    if body:
        text = f"{title}\n{sample_body}{filler}alphanode post meta\n{meta}"
    else:
        text = f"{title}\n{sample_body}alphanode post meta\n" + meta.replace(
            f"{key}\n", f"{key}\n{filler}", 1
        )
    data = text.encode()
    assert len(data) <= MAX_DOCUMENT_BYTES
    return data


SHAPES = {
    "paragraphs": {"body": "a short paragraph of prose, number {n}, that ends here.\n\n"},
    "one-code-block": {"body": "    result = compute(value, other)  # step {n}\n"},
    "deep-indentation": {"body": " " * 400 + "if ready_{n}:\n"},
    "headings": {"body": "heading number {n}\n\n"},
    "list-items": {"body": "  • an item of a list {n}\n"},
    "figures": {"body": "caption {n}\ncaption {n}. image source: unsplash\n"},
    "long-lines": {"body": "word " * 19_000 + "end {n}.\n\n"},
    "blank-lines": {"body": "\n"},
    "control-characters": {"body": "bad \x01 line {n}\n"},
    "checklist": {"key": "checklist", "item": "  • step {n} to do\n"},
    # Long names: fewer entities than a position column holds, even at the size limit.
    "entities": {
        "key": "entities",
        "item": "    • name: entity number {n} of a long list of names\n    • type: kind\n",
    },
    "notes": {"key": "notes", "item": "  • note {n}\n"},
}


def timed(action, repeat: int = 2):
    """Best time of ``action()`` over ``repeat`` runs, and its last result.

    The garbage collector is paused while timing. Its full collections are triggered by how
    many objects were made since the last one, in a test process full of objects, so one falls
    on whichever run crosses that threshold (usually the larger document's) and would be
    counted as that run's own work. What is left is the import's own work: what these tests
    bound.
    """
    best, result = float("inf"), None
    gc.collect()
    gc.disable()
    try:
        for _ in range(repeat):
            start = time.perf_counter()
            result = action()
            best = min(best, time.perf_counter() - start)
    finally:
        gc.enable()
    return best, result


def dry_import_seconds(data: bytes) -> tuple[float, list]:
    """Best time of reading, parsing, validating and classifying one document (no writes)."""

    def dry_import():
        results = []
        Importer(dry_run=True).run([Source("big.txt", data)], on_result=results.append)
        return results

    return timed(dry_import)


def assert_refused_for_control_characters(data: bytes, result) -> None:
    """Every grown line holds U+0001: the document fails, one error per such line from the first
    (at its line and column), until the list of errors is full."""
    lines = data.split(b"\n")
    bad = [number for number, line in enumerate(lines, start=1) if b"\x01" in line]
    assert len(bad) > MAX_ERRORS
    assert result.outcome == "failed"
    assert_well_formed_failure(result, "big.txt")
    listed, last = result.errors[:-1], result.errors[-1]
    assert len(listed) == MAX_ERRORS - 1
    assert [error["line"] for error in listed] == bad[: MAX_ERRORS - 1]
    for error in listed:
        column = lines[error["line"] - 1].index(b"\x01") + 1
        assert error["field"] == "document"
        assert error["message"] == (
            f"binary or control characters are not allowed (U+0001 at column {column})"
        )
    assert (last["line"], last["field"]) == (None, "document")
    assert "too many errors" in last["message"]


@pytest.mark.parametrize("shape", SHAPES)
def test_import_time_grows_linearly_up_to_the_size_limit(shape):
    """A document four times as large takes about four times as long (allowing for noise),
    never sixteen: no step of the import is quadratic in the size of a document."""
    small_size = (MAX_DOCUMENT_BYTES - 64 * 1024) // 4
    small, large = grown(small_size, **SHAPES[shape]), grown(4 * small_size, **SHAPES[shape])
    assert 3.5 < len(large) / len(small) < 4.5
    small_seconds, small_results = dry_import_seconds(small)
    large_seconds, large_results = dry_import_seconds(large)
    if shape == "control-characters":
        for data, results in ((small, small_results), (large, large_results)):
            assert_refused_for_control_characters(data, results[0])
    else:
        assert small_results[0].outcome == large_results[0].outcome != "failed"
    for result in (*small_results, *large_results):
        assert result.outcome in OUTCOMES
        if result.outcome == "failed":
            assert_well_formed_failure(result, "big.txt")
    # Generous: 4x the input may take up to 10x the time, where quadratic work would take 16x.
    assert large_seconds < 10 * max(small_seconds, 0.002), (small_seconds, large_seconds)


def test_writing_a_large_document_takes_linear_time_and_a_fixed_number_of_queries():
    def write(data: bytes) -> tuple[float, int]:
        def once() -> int:
            with transaction.atomic(), CaptureQueriesContext(connection) as queries:
                result = import_document(data, path="big.txt")
                assert result.outcome == "created", result.errors
                transaction.set_rollback(True)
            return len(queries)

        return timed(once)

    shape = {"body": "paragraph {n} of prose about releases, rollbacks and checks.\n\n"}
    small_size = MAX_DOCUMENT_BYTES // 8
    small_seconds, small_queries = write(grown(small_size, **shape))
    large_seconds, large_queries = write(grown(4 * small_size, **shape))
    assert large_queries == small_queries
    assert large_seconds < 10 * max(small_seconds, 0.005), (small_seconds, large_seconds)


def test_a_document_at_the_size_limit_imports_and_one_byte_more_is_refused():
    at_limit = grown(MAX_DOCUMENT_BYTES - 4096, body="\n")
    at_limit = at_limit.replace(b"\n\n", b"\n" * (2 + MAX_DOCUMENT_BYTES - len(at_limit)), 1)
    assert len(at_limit) == MAX_DOCUMENT_BYTES
    assert import_document(at_limit, path="at-limit.txt").outcome == "created"
    before = row_counts()
    over = at_limit.replace(b"\n\n", b"\n\n\n", 1)
    result = import_document(over, path="over.txt")
    assert result.outcome == "failed"
    assert_well_formed_failure(result, "over.txt")
    assert (result.errors[0]["field"], result.errors[0]["line"]) == ("document", None)
    assert row_counts() == before


@pytest.fixture
def parse_spy(monkeypatch):
    """Records every parse the importer starts: (function, size of its input in characters)."""
    calls = []

    def spy(original):
        def wrapper(data):
            text = data[1] if isinstance(data, tuple) else data
            calls.append((original.__name__, len(text)))
            return original(data)

        return wrapper

    # Where the importer reads them: the parse itself, and the run that starts it (or refuses
    # undecodable bytes with the parser's message).
    monkeypatch.setattr(parsing, "parse_page", spy(parsing.parse_page))
    monkeypatch.setattr(pipeline, "parse_page", spy(pipeline.parse_page))
    monkeypatch.setattr(pipeline, "parse_document", spy(pipeline.parse_document))
    return calls


TEN_MB = 10 * 1024 * 1024
SIZE_MESSAGE = f"is larger than the {MAX_DOCUMENT_BYTES // (1024 * 1024)} MB limit"


def test_a_ten_megabyte_document_is_refused_unparsed_with_the_size_limit(parse_spy):
    data = SAMPLE.replace(b"\nalphanode post meta", b"\n" + b"a long paragraph. " * (TEN_MB // 18), 1)
    assert len(data) > TEN_MB
    start = time.perf_counter()
    result = import_document(data, path="huge.txt")
    seconds = time.perf_counter() - start
    assert result.outcome == "failed"
    assert [(e["field"], e["message"]) for e in result.errors] == [("document", SIZE_MESSAGE)]
    assert parse_spy == [], "refused before parsing"
    assert seconds < 5
    assert row_counts() == {model.__name__: 0 for model in MODELS}


@pytest.mark.parametrize("via", ["file", "stdin"])
def test_the_command_refuses_a_ten_megabyte_file_quickly(tmp_path, monkeypatch, parse_spy, via):
    huge = tmp_path / "huge.txt"
    huge.write_bytes(SAMPLE + b"x" * TEN_MB)
    (tmp_path / "good.txt").write_bytes(SAMPLE)
    args = [str(huge), str(tmp_path / "good.txt")]
    out = io.StringIO()
    with huge.open("rb") as stream:
        if via == "stdin":
            monkeypatch.setattr("sys.stdin", io.TextIOWrapper(stream))
            args[0] = "-"
        start = time.perf_counter()
        with pytest.raises(SystemExit) as exit_info:
            call_command("import_articles", *args, "--format", "json", "--workers", "0", stdout=out)
        seconds = time.perf_counter() - start
    assert exit_info.value.code == 1
    report = json.loads(out.getvalue())
    assert (report["created"], report["failed"]) == (1, 1)
    assert [(e["field"], e["message"]) for e in report["errors"]] == [("document", SIZE_MESSAGE)]
    assert parse_spy and all(size <= len(SAMPLE) for _, size in parse_spy), "only the good one is parsed"
    assert seconds < 10
    assert Article.objects.count() == 1


def test_the_size_limits_are_documented():
    page_format = (BASE_DIR / "docs" / "page-format.md").read_text(encoding="utf-8")
    assert f"{MAX_DOCUMENT_BYTES:,} bytes" in page_format
    assert f"{MAX_LINE_CHARS:,} characters" in page_format
    assert SIZE_MESSAGE in page_format
