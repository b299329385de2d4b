"""The compare view's text diff: lines first, then words, and always the exact texts back."""

import time

from django.template.loader import render_to_string
from hypothesis import given, settings
from hypothesis import strategies as st

from articles.content import content_from_page
from articles.parsing import parse_page
from releases import compare
from releases.compare import MAX_WORD_DIFF_TOKENS, compare_contents, diff_text
from tests.conftest import SAMPLE_PATH

SAMPLE_TEXT = SAMPLE_PATH.read_text(encoding="utf-8")


def old_of(pieces):
    return "".join(text for op, text in pieces if op in "=-")


def new_of(pieces):
    return "".join(text for op, text in pieces if op in "=+")


def changed(pieces):
    return [(op, text) for op, text in pieces if op != "="]


def sample_content() -> dict:
    return content_from_page(parse_page(SAMPLE_TEXT).page)


def test_identical_texts_are_one_unchanged_piece():
    assert diff_text("same text\nhere", "same text\nhere") == [("=", "same text\nhere")]
    assert diff_text("", "") == []


def test_one_changed_word_is_one_removal_and_one_addition():
    old = "first line stays\na reliable python services setup\nlast line stays\n"
    new = "first line stays\na dependable python services setup\nlast line stays\n"
    pieces = diff_text(old, new)
    assert changed(pieces) == [("-", "reliable"), ("+", "dependable")]
    assert old_of(pieces) == old and new_of(pieces) == new


def test_a_one_word_edit_of_the_sample_body_is_one_change():
    body = sample_content()["body_text"]
    edited = body.replace("a reliable python", "a dependable python", 1)
    assert changed(diff_text(body, edited)) == [("-", "reliable"), ("+", "dependable")]


def test_crlf_against_lf_changes_only_the_line_ends():
    body = sample_content()["body_text"]
    crlf = body.replace("\n", "\r\n")
    pieces = diff_text(body, crlf)
    assert old_of(pieces) == body and new_of(pieces) == crlf
    assert all(text.strip() == "" for _, text in changed(pieces)), "only line ends may differ"
    for op, text in changed(pieces):  # whole line ends, runs of them for blank lines
        assert set(text.split("\r\n" if op == "+" else "\n")) == {""}, (op, text)
    # and an edit in CRLF text is still found as the one word it is
    edited = crlf.replace("a reliable python", "a dependable python", 1)
    words = [(op, text) for op, text in changed(diff_text(body, edited)) if text.strip()]
    assert words == [("-", "reliable"), ("+", "dependable")]


def test_a_reflowed_paragraph_shows_changed_whitespace_only():
    old = "one two three four\nfive six seven eight\n\nnext paragraph\n"
    new = "one two three\nfour five six\nseven eight\n\nnext paragraph\n"
    pieces = diff_text(old, new)
    assert old_of(pieces) == old and new_of(pieces) == new
    assert changed(pieces), "the line breaks did move"
    assert all(text.isspace() for _, text in changed(pieces)), changed(pieces)


def test_whole_lines_added_and_removed():
    old = "keep\nremove me\nkeep too\n"
    new = "keep\nkeep too\nbrand new line\n"
    pieces = diff_text(old, new)
    assert old_of(pieces) == old and new_of(pieces) == new
    assert ("-", "remove me\n") in pieces
    assert ("+", "brand new line\n") in pieces


def test_unrelated_sentences_do_not_share_their_spaces():
    pieces = diff_text("alpha beta gamma", "delta epsilon zeta")
    assert pieces == [("-", "alpha beta gamma"), ("+", "delta epsilon zeta")]


def test_from_and_to_empty_text():
    assert diff_text("", "new text\n") == [("+", "new text\n")]
    assert diff_text("old text", "") == [("-", "old text")]


def test_pieces_alternate_and_removals_come_first():
    pieces = diff_text("a b c d e f\r\ng h i\n", "a x c d y f\nq h i\n")
    for (op, _), (next_op, _) in zip(pieces, pieces[1:], strict=False):
        assert op != next_op, pieces
        assert (op, next_op) != ("+", "-"), pieces


def test_a_huge_changed_run_is_shown_whole_between_its_common_start_and_end():
    words = [f"w{number}" for number in range(MAX_WORD_DIFF_TOKENS)]
    old = "same start " + " ".join(words) + " same end"
    new = "same start " + " ".join(["x", *words[1:-1], "y"]) + " same end"
    pieces = diff_text(old, new)
    assert pieces == [
        ("=", "same start "),
        ("-", old.removeprefix("same start ").removesuffix(" same end")),
        ("+", new.removeprefix("same start ").removesuffix(" same end")),
        ("=", " same end"),
    ]


def test_one_change_in_a_huge_text_is_still_found_exactly():
    old = "\n".join(" ".join(f"w{line}-{word}" for word in range(20)) for line in range(30_000))
    new = old.replace("w15000-7 ", "changed ", 1)
    assert changed(diff_text(old, new)) == [("-", "w15000-7"), ("+", "changed")]


def test_too_many_changed_lines_are_diffed_as_one_run(monkeypatch):
    monkeypatch.setattr(compare, "MAX_DIFF_LINES", 3)
    old = "a\nb\nc\nd\ne\n"
    new = "A\nb\nc\nd\nE\n"
    pieces = diff_text(old, new)
    assert old_of(pieces) == old and new_of(pieces) == new
    assert changed(pieces) == [("-", "a"), ("+", "A"), ("-", "e"), ("+", "E")]
    monkeypatch.setattr(compare, "MAX_WORD_DIFF_TOKENS", 3)
    assert diff_text(old, new) == [("-", "a\nb\nc\nd\ne"), ("+", "A\nb\nc\nd\nE"), ("=", "\n")]


def test_repetitive_texts_are_diffed_quickly():
    # Many equal lines and words make difflib slow; the limits keep a compare page fast.
    lines = [" ".join(["the same words again"] * 5) for _ in range(5_000)]
    old = "\n".join(lines)
    new = "\n".join(["first changed", *lines[1:-1], "last changed"])
    started = time.perf_counter()
    pieces = diff_text(old, new)
    assert time.perf_counter() - started < 5
    assert old_of(pieces) == old and new_of(pieces) == new


TEXT = st.lists(
    st.one_of(
        st.sampled_from(["a", "b", "word", "other", " ", "  ", "\n", "\r\n", "\r", "\t", "\n\n", "\u2028"]),
        st.text(max_size=3),
    ),
    max_size=40,
).map("".join)


@settings(max_examples=500, deadline=None)
@given(TEXT, TEXT)
def test_the_pieces_always_give_back_both_texts_exactly(old, new):
    pieces = diff_text(old, new)
    assert old_of(pieces) == old
    assert new_of(pieces) == new
    assert all(op in ("=", "-", "+") and text for op, text in pieces)
    if old == new:
        assert not changed(pieces)


@settings(max_examples=200, deadline=None)
@given(TEXT, st.data())
def test_an_edit_of_a_text_gives_back_both_texts(old, data):
    start = data.draw(st.integers(0, len(old)))
    stop = data.draw(st.integers(start, len(old)))
    new = old[:start] + data.draw(TEXT) + old[stop:]
    pieces = diff_text(old, new)
    assert old_of(pieces) == old and new_of(pieces) == new


def test_compare_contents_diffs_text_fields_and_skips_equal_ones():
    old = sample_content()
    new = {**old, "summary": old["summary"].replace("emphasis", "focus"), "title": old["title"]}
    changes = compare_contents(old, new)
    assert [change.key for change in changes] == ["summary"]
    assert changed(changes[0].pieces) == [("-", "emphasis"), ("+", "focus")]
    assert compare_contents(old, dict(old)) == []


def test_the_compare_template_shows_pieces_exactly_and_escaped():
    old = sample_content()
    new = {**old, "body_text": old["body_text"].replace("a reliable python", "a <b>new</b> python", 1)}
    changes = compare_contents(old, new)
    html = render_to_string(
        "admin/releases/compare.html",
        {
            "changes": changes,
            "numbers": [1, 2],
            "old": {"number": 1},
            "new": {"number": 2},
            "article": {"pk": 1, "title": "t"},
        },
    )
    assert '<div class="diff">' in html
    assert "<del>reliable</del><ins>&lt;b&gt;new&lt;/b&gt;</ins> python services setup" in html
    assert "<b>new</b>" not in html
    # the unchanged text keeps its own line breaks, with nothing added between pieces
    assert "on production work.\n\ncreating rollback friendly releases" in html
