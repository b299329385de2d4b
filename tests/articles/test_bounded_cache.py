"""Process-local caches hold a bounded number of bytes, whatever the entries' sizes.

The bound is checked on memory: the entries' sizes measured here with ``sys.getsizeof`` (not the
cache's own count), and the memory Python still holds after highlighting a large document,
measured with ``tracemalloc``.
"""

import gc
import sys
import tracemalloc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from articles.bounded_cache import ByteBoundedCache, digest_key
from articles.templatetags import article_tags


def held_bytes(cache: ByteBoundedCache) -> int:
    return sum(sys.getsizeof(key) + sys.getsizeof(value) for key, value in cache.items())


BUDGET = 4096
OPERATIONS = st.lists(
    st.tuples(st.sampled_from(["put", "get"]), st.integers(0, 30), st.integers(0, 2 * BUDGET)),
    max_size=200,
)


@settings(max_examples=200, deadline=None)
@given(OPERATIONS, st.sampled_from([1.0, 1 / 2, 1 / 8]))
def test_entries_never_hold_more_than_the_budget(operations, fraction):
    cache = ByteBoundedCache(BUDGET, max_entry_fraction=fraction)
    for operation, key, length in operations:
        if operation == "get":
            cache.get(digest_key(str(key)))
            continue
        key, value = digest_key(str(key)), "x" * length
        size = sys.getsizeof(key) + sys.getsizeof(value)
        stored = cache.put(key, value)
        assert stored == (size <= BUDGET * fraction)
        if stored:  # the newest entry is always kept
            assert cache.get(key) == value
        held = held_bytes(cache)
        assert held <= BUDGET, (held, len(cache))
        assert all(sys.getsizeof(k) + sys.getsizeof(v) <= BUDGET * fraction for k, v in cache.items())
        assert cache.total_bytes == held


def test_the_least_recently_used_entry_goes_first():
    value_size = sys.getsizeof(digest_key("a")) + sys.getsizeof("v" * 100)
    cache = ByteBoundedCache(3 * value_size, max_entry_fraction=1 / 2)
    for name in "abc":
        assert cache.put(digest_key(name), "v" * 100)
    assert cache.get(digest_key("a")) == "v" * 100  # "a" is now the most recently used
    assert cache.put(digest_key("d"), "v" * 100)
    assert [key for key, _ in cache.items()] == [digest_key(name) for name in "cad"]


def test_an_entry_over_the_fraction_is_not_stored_and_evicts_nothing():
    cache = ByteBoundedCache(10_000, max_entry_fraction=1 / 4)
    assert cache.put(digest_key("small"), "s" * 100)
    assert not cache.put(digest_key("large"), "l" * 3_000)
    assert digest_key("large") not in cache and cache.get(digest_key("small")) == "s" * 100
    made = []
    assert cache.get_or_make(digest_key("large"), lambda: made.append(1) or "l" * 3_000) == "l" * 3_000
    assert cache.get_or_make(digest_key("large"), lambda: made.append(1) or "l" * 3_000) == "l" * 3_000
    assert made == [1, 1]  # made each time, never kept


def test_digest_keys_tell_parts_apart():
    assert digest_key("ab", "c") != digest_key("a", "bc")
    assert digest_key("python", "x") != digest_key("x", "python")
    assert len(digest_key("x" * 2_000_000)) == 32


@pytest.mark.parametrize(("max_bytes", "fraction"), [(0, 0.5), (100, 0), (100, 1.5)])
def test_a_budget_that_bounds_nothing_is_refused(max_bytes, fraction):
    with pytest.raises(ValueError):
        ByteBoundedCache(max_bytes, max_entry_fraction=fraction)


def code_block(number: int, lines: int) -> dict:
    text = "\n".join(
        f"value_{number}_{line} = compute({line}, 'text {number}')  # note" for line in range(lines)
    )
    return {"type": "code", "language": "python", "text": text}


def test_highlighting_a_large_document_keeps_at_most_the_budget(monkeypatch):
    """Distinct code blocks whose HTML adds up to many times the budget: the memory Python still
    holds once the pages are gone is within the budget, and the blocks that fit are reused."""
    budget = 256 * 1024
    monkeypatch.setattr(article_tags, "HIGHLIGHTED", ByteBoundedCache(budget, max_entry_fraction=1 / 8))
    blocks = [code_block(number, 60) for number in range(200)]
    article_tags.highlight_code(blocks[0])  # lexer and formatter set up before measuring
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        produced = sum(len(article_tags.highlight_code(block)) for block in blocks)
        gc.collect()
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert produced > 10 * budget, produced  # the document's HTML is far over the budget
    assert kept <= budget * 1.1, (kept, budget)
    assert held_bytes(article_tags.HIGHLIGHTED) <= budget
    text, language = blocks[-1]["text"], blocks[-1]["language"]
    assert article_tags._highlighted(text, language) is article_tags._highlighted(text, language)  # kept


def test_a_block_larger_than_the_fraction_is_highlighted_but_not_kept(monkeypatch):
    monkeypatch.setattr(article_tags, "HIGHLIGHTED", ByteBoundedCache(64 * 1024, max_entry_fraction=1 / 8))
    block = code_block(1, 400)
    html = article_tags.highlight_code(block)
    assert 'class="highlight"' in html and "value_1_399" in html
    assert len(article_tags.HIGHLIGHTED) == 0
