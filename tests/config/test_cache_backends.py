"""The in-memory and file caches hold a bounded number of bytes, whatever their entries' sizes.

Each bound is checked on what is really held, not on the backend's own count: for memory the
entries' keys and pickled values in the store (``sys.getsizeof``) and the memory Python still
holds (``tracemalloc``); for files the sizes of the directory's files on disk. Both backends stay
Django caches: the same API, and the read cache served through them end to end.
"""

import gc
import os
import random
import subprocess
import sys
import textwrap
import time
import tracemalloc

import pytest
from django.core.cache.backends.base import BaseCache
from django.test import Client
from hypothesis import given, settings
from hypothesis import strategies as st

from articles import read_cache
from config import cache_backends
from config.cache_backends import ENTRY_OVERHEAD, ByteBoundedFileBasedCache, ByteBoundedLocMemCache
from tests.conftest import BASE_DIR, run_python

KIB = 1024


def memory_cache(name: str, max_bytes: int, **options) -> ByteBoundedLocMemCache:
    cache = ByteBoundedLocMemCache(name, {"OPTIONS": {"MAX_BYTES": max_bytes, **options}})
    cache.clear()
    return cache


def file_cache(directory, max_bytes: int, **options) -> ByteBoundedFileBasedCache:
    # A directory seen by no earlier cache of this process: its own view of the disk.
    cache_backends._disk_usage.pop(os.path.abspath(directory), None)
    return ByteBoundedFileBasedCache(str(directory), {"OPTIONS": {"MAX_BYTES": max_bytes, **options}})


def held_in_memory(cache: ByteBoundedLocMemCache) -> int:
    """What the store holds, measured on its entries."""
    return sum(
        sys.getsizeof(key) + sys.getsizeof(pickled) + ENTRY_OVERHEAD for key, pickled in cache._cache.items()
    )


def on_disk(directory) -> int:
    """What the cache files take on disk: allocated blocks (or length when more), as `du` counts."""
    total = 0
    with os.scandir(directory) as entries:
        for entry in entries:
            if entry.name.endswith(".djcache"):
                try:
                    stat = entry.stat()
                except FileNotFoundError:  # culled by a writer meanwhile
                    continue
                total += max(stat.st_size, stat.st_blocks * 512)
    return total


def noise(length: int, seed: int) -> bytes:
    """Bytes zlib cannot shrink, so a file's size follows the value's."""
    return random.Random(seed).randbytes(length)


# -- the same Django cache API ----------------------------------------------------------------------


@pytest.fixture(params=["memory", "files"])
def bounded(request, tmp_path) -> BaseCache:
    if request.param == "memory":
        return memory_cache("api", 1024 * KIB)
    return file_cache(tmp_path / "files", 1024 * KIB)


def test_both_caches_keep_djangos_api(bounded):
    bounded.set("a", {"x": 1})
    assert bounded.get("a") == {"x": 1}
    assert bounded.get("missing", "default") == "default"
    assert bounded.add("a", "other") is False
    assert bounded.add("b", 2) is True
    assert bounded.get_many(["a", "b", "missing"]) == {"a": {"x": 1}, "b": 2}
    assert bounded.set_many({"c": 3, "d": "four"}) == []
    assert bounded.has_key("c") and not bounded.has_key("missing")
    assert bounded.incr("b") == 3 and bounded.decr("b", 2) == 1 and bounded.get("b") == 1
    with pytest.raises(ValueError):
        bounded.incr("missing")
    assert bounded.touch("c", 100) is True and bounded.touch("missing") is False
    assert bounded.get_or_set("e", "made") == "made" and bounded.get("e") == "made"
    bounded.delete_many(["c", "d"])
    assert bounded.get_many(["c", "d"]) == {}
    assert bounded.delete("a") is True and bounded.delete("a") is False
    bounded.set("gone", 1, 0)  # a zero timeout expires at once
    assert bounded.get("gone") is None
    bounded.clear()
    assert bounded.get("b") is None and bounded.get("e") is None


def test_an_oversized_value_is_not_kept_and_takes_the_value_it_replaces(bounded):
    limit = 1024 * KIB // 8
    bounded.set("small", "s")
    bounded.set("key", "old")
    bounded.set("key", noise(limit + 1, 1))
    assert bounded.get("key") is None  # never the value the write replaced
    assert bounded.add("big", noise(limit + 1, 2)) is False
    assert not bounded.has_key("big")
    assert bounded.get("small") == "s"  # and it evicted nothing


# -- memory --------------------------------------------------------------------------------------------

BUDGET = 64 * KIB
OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(["set", "add", "get", "delete", "incr", "touch", "expire", "clear"]),
        st.integers(0, 40),
        st.integers(0, BUDGET // 4),
    ),
    max_size=150,
)


@settings(max_examples=150, deadline=None)
@given(OPERATIONS)
def test_memory_never_holds_more_than_its_bound_and_counts_exactly(operations):
    """After every operation the entries in the store take at most MAX_BYTES, and the running
    total is what they take: a total that drifts (a delete, expiry, incr or cull it missed) fails
    here at once."""
    cache = memory_cache("property", BUDGET)
    limit = BUDGET // 8
    for operation, number, length in operations:
        key = f"k{number}"
        if operation == "set":
            cache.set(key, "x" * length)
        elif operation == "add":
            cache.add(key, "x" * length)
        elif operation == "get":
            cache.get(key)
        elif operation == "delete":
            cache.delete(key)
        elif operation == "incr":
            cache.set(key, 10**length, None)  # a number whose pickle grows with it
            cache.incr(key, 10 ** (length % 5000))
        elif operation == "touch":
            cache.touch(key, 0)  # expired: its next read deletes it
            cache.has_key(key)
        elif operation == "expire":
            cache.set(key, "e" * length, 0)
            cache.get(key)
        else:
            cache.clear()
        held = held_in_memory(cache)
        assert held <= BUDGET, (operation, held)
        assert cache.held_bytes == held, operation
        assert all(
            sys.getsizeof(k) + sys.getsizeof(v) + ENTRY_OVERHEAD <= limit for k, v in cache._cache.items()
        )


def test_memory_python_holds_stays_under_the_bound():
    """Thousands of writes from nothing to over a hundred kilobytes, then thousands of tiny ones
    (where the dictionaries cost more than the values): after each run the memory Python holds
    for the cache (tracemalloc) is at most MAX_BYTES, so ENTRY_OVERHEAD covers what an entry
    really costs."""
    max_bytes = 1024 * KIB
    cache = memory_cache("tracemalloc", max_bytes)
    sizes = random.Random(3)
    runs = {
        "varied": lambda number: (
            sizes.choice([0, 10, 100, 1000]) if number % 4 else sizes.randint(1000, max_bytes // 8)
        ),
        "tiny": lambda number: sizes.randint(0, 8),
    }
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for run, length in runs.items():
            for number in range(8000):
                cache.set(f"{run}:{number}", b"v" * length(number))
            gc.collect()
            held = tracemalloc.get_traced_memory()[0] - before
            assert held <= max_bytes, (run, held)
            assert held_in_memory(cache) > max_bytes // 2, run  # it keeps what fits, not next to nothing
    finally:
        tracemalloc.stop()


def test_memory_evicts_the_least_recently_used_first():
    entry = sys.getsizeof("k:a") + sys.getsizeof(b"v" * 5000) + 50 + ENTRY_OVERHEAD  # 50: pickle's framing
    cache = memory_cache("lru", 3 * entry, MAX_ENTRY_BYTES=entry)
    for name in "abc":
        cache.set(f"k:{name}", b"v" * 5000)
    assert cache.get("k:a")  # "a" is now the most recently used, "b" the least
    cache.set("k:d", b"v" * 5000)
    cache.set("k:e", b"v" * 5000)
    assert set(cache.get_many(["k:a", "k:b", "k:c", "k:d", "k:e"])) == {"k:a", "k:d", "k:e"}


def test_memory_that_was_deleted_expired_or_cleared_is_room_again(monkeypatch):
    """Write, delete, expire and clear thirty times the bound; then entries that fit the bound
    together must all be kept. A total that forgot any of those removals would evict them."""
    max_bytes = 256 * KIB
    cache = memory_cache("room", max_bytes)
    now = [time.time()]
    monkeypatch.setattr(time, "time", lambda: now[0])
    value = b"r" * 4000
    for round_ in range(60):
        for number in range(30):
            cache.set(f"r{round_}:{number}", value, 10)
        cache.delete_many([f"r{round_}:{number}" for number in range(0, 30, 3)])
        cache.set("counter", 1)
        cache.incr("counter", 5)
        cache.touch(f"r{round_}:1", 1)
        now[0] += 5
        cache.has_key(f"r{round_}:1")  # expired now (touched to 1 s): deleted on this read
        now[0] += 10  # the rest of the round expires; the next round's reads delete some
        for number in range(30):
            cache.get(f"r{round_}:{number}")
        if round_ % 20 == 19:
            cache.clear()
    assert cache.held_bytes == held_in_memory(cache)
    fitting = (max_bytes - 4 * KIB) // (sys.getsizeof(value) + sys.getsizeof("keep:00") + ENTRY_OVERHEAD)
    cache.clear()
    for number in range(fitting):
        cache.set(f"keep:{number:02d}", value)
    assert len(cache.get_many([f"keep:{number:02d}" for number in range(fitting)])) == fitting
    for number in range(fitting):
        cache.delete(f"keep:{number:02d}")
    assert cache.held_bytes == 0


def test_every_instance_of_a_named_cache_shares_one_count():
    """Django makes one cache instance per thread over one store: their counts are one."""
    first, second = memory_cache("shared", 64 * KIB), ByteBoundedLocMemCache("shared", {"OPTIONS": {}})
    first.set("a", b"x" * 1000)
    second.set("b", b"y" * 1000)
    assert second.delete("a") and first.delete("b")
    assert first.held_bytes == second.held_bytes == 0


# -- files ---------------------------------------------------------------------------------------------


def test_files_never_take_more_than_the_bound_on_disk(tmp_path):
    max_bytes = 256 * KIB
    cache = file_cache(tmp_path, max_bytes)
    sizes = random.Random(5)
    for number in range(400):
        length = sizes.choice([20, 300, 3000]) if number % 3 else sizes.randint(3000, max_bytes // 8 - 200)
        cache.set(f"entry:{number}", noise(length, number))
        assert on_disk(tmp_path) <= max_bytes, number
    assert on_disk(tmp_path) > max_bytes // 2  # culled to 90 % at most, not emptied
    assert cache.get("entry:399") is not None


def test_files_are_listed_only_now_and_then(tmp_path, monkeypatch):
    """A write does not stat the whole directory: a few hundred small writes list it a few times."""
    listings = []
    real_scandir = os.scandir

    def counting_scandir(path):
        listings.append(path)
        return real_scandir(path)

    cache = file_cache(tmp_path, 8 * 1024 * KIB)
    monkeypatch.setattr(os, "scandir", counting_scandir)
    for number in range(300):
        cache.set(f"entry:{number}", number)
    assert 1 <= len(listings) <= 4, len(listings)  # the first write, then about every 20th of the bound


def test_the_oldest_files_go_first_and_a_read_makes_a_file_recent(tmp_path):
    max_bytes = 200 * KIB
    cache = file_cache(tmp_path, max_bytes)
    for number in range(8):
        cache.set(f"k{number}", noise(20 * KIB, number))
    hour_ago = time.time() - 3600
    for number in range(8):  # k0 written first, k7 last
        path = cache._key_to_file(f"k{number}")
        os.utime(path, (hour_ago + number, hour_ago + number))
    assert cache.get("k0") is not None  # read: now the most recent
    for number in range(8, 12):  # past the bound: a cull
        cache.set(f"k{number}", noise(20 * KIB, number))
    kept = {number for number in range(12) if cache.has_key(f"k{number}")}
    assert 0 in kept and 1 not in kept and {9, 10, 11} <= kept, kept
    assert on_disk(tmp_path) <= max_bytes


def test_deleted_and_cleared_files_are_room_again(tmp_path):
    """Removed files are not counted against the bound: after writing, deleting and clearing
    several times the bound, what fits in 80 % of it is all kept."""
    max_bytes = 256 * KIB
    cache = file_cache(tmp_path, max_bytes)
    for round_ in range(6):
        keys = [f"r{round_}:{number}" for number in range(20)]
        for number, key in enumerate(keys):
            cache.set(key, noise(10 * KIB, number))
        if round_ % 2:
            cache.clear()
        else:
            cache.delete_many(keys)
        cache.set(f"expired:{round_}", noise(10 * KIB, round_), 0)
        assert cache.get(f"expired:{round_}") is None  # its read deletes the file
    assert on_disk(tmp_path) == 0
    keys = [f"keep:{number}" for number in range(int(0.8 * max_bytes) // (12 * KIB))]
    for number, key in enumerate(keys):
        cache.set(key, noise(10 * KIB, number))
    assert len(cache.get_many(keys)) == len(keys)


def test_writers_with_their_own_view_hold_the_bound_together(tmp_path):
    """Three writers sharing the directory, each with its own view of it (as processes are),
    taking turns: after every write the directory passes the bound by at most a twentieth of it
    for each writer beyond the first, since each looks again after writing that much."""
    max_bytes = 512 * KIB
    writers = [file_cache(tmp_path, max_bytes) for _ in range(3)]
    sizes = random.Random(11)
    for number in range(600):
        writers[number % 3].set(f"entry:{number}", noise(sizes.randint(100, 12000), number))
        assert on_disk(tmp_path) <= max_bytes * (1 + 2 / 20), number
    assert on_disk(tmp_path) > max_bytes // 2


def test_processes_sharing_the_directory_hold_the_bound(tmp_path):
    """The same with three real processes writing at once, culling beside one another: the
    directory, watched while they write, stays within that bound."""
    max_bytes = 512 * KIB
    script = textwrap.dedent(
        f"""
        import random, sys
        from config.cache_backends import ByteBoundedFileBasedCache
        cache = ByteBoundedFileBasedCache({str(tmp_path)!r}, {{"OPTIONS": {{"MAX_BYTES": {max_bytes}}}}})
        sizes = random.Random(int(sys.argv[1]))
        for number in range(400):
            cache.set(f"{{sys.argv[1]}}:{{number}}", sizes.randbytes(sizes.randint(100, 12000)))
        """
    )
    workers = [
        subprocess.Popen([sys.executable, "-c", script, str(seed)], cwd=BASE_DIR, stderr=subprocess.PIPE)
        for seed in range(3)
    ]
    peak = 0
    while any(worker.poll() is None for worker in workers):
        peak = max(peak, on_disk(tmp_path))
    for worker in workers:
        _, errors = worker.communicate(timeout=120)
        assert worker.returncode == 0, errors.decode()
    assert peak <= max_bytes * (1 + 2 / 20), peak
    assert max_bytes // 2 < on_disk(tmp_path) <= max_bytes * (1 + 2 / 20)


# -- wiring ---------------------------------------------------------------------------------------------


def test_the_defaults_are_bounded_in_bytes(monkeypatch):
    from config import settings as configured
    from config.settings import cache_from_url, env_bytes

    if not any(name in os.environ for name in ("CACHE_URL", "READ_CACHE_URL")):
        assert configured.CACHES["default"]["BACKEND"] == "config.cache_backends.ByteBoundedLocMemCache"
        assert configured.CACHES["read"]["BACKEND"] == "config.cache_backends.ByteBoundedFileBasedCache"
    assert cache_from_url("locmem://", 1000)["OPTIONS"] == {"MAX_BYTES": 1000}
    assert cache_from_url("file:///tmp/x")["OPTIONS"] == {}  # the backend's default
    assert "OPTIONS" not in cache_from_url("redis://127.0.0.1:6379/0")  # Redis: its own maxmemory
    for value, expected in [("1048576", 1 << 20), ("64M", 64 << 20), ("512MiB", 512 << 20), ("1g", 1 << 30)]:
        monkeypatch.setenv("CACHE_MAX_BYTES", value)
        assert env_bytes("CACHE_MAX_BYTES") == expected


def test_sizes_come_from_the_environment():
    code = (
        "import django; django.setup(); from django.core.cache import caches; "
        "print(caches['default']._max_bytes, caches['read']._max_bytes)"
    )
    env = {"DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "1", "CACHE_URL": None}
    result = run_python(
        ["-c", code],
        env={**env, "CACHE_MAX_BYTES": "2M", "READ_CACHE_MAX_BYTES": "300M", "READ_CACHE_URL": None},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(2 << 20), str(300 << 20)]
    refused = run_python(["-c", code], env={**env, "CACHE_MAX_BYTES": "lots"})
    assert refused.returncode != 0 and "CACHE_MAX_BYTES must be a size" in refused.stderr


# -- the read cache through them ------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("backend", ["memory", "files"])
def test_the_read_cache_serves_through_the_bounded_caches(backend, settings, tmp_path, sample_article):
    if backend == "memory":
        read = {"BACKEND": "config.cache_backends.ByteBoundedLocMemCache", "LOCATION": "read-bounded"}
    else:
        cache_backends._disk_usage.pop(str(tmp_path / "read"), None)
        read = {
            "BACKEND": "config.cache_backends.ByteBoundedFileBasedCache",
            "LOCATION": str(tmp_path / "read"),
        }
    settings.CACHES = {**settings.CACHES, "read": {**read, "KEY_PREFIX": "e2e"}}
    from django.core.cache import caches

    caches["read"].clear()
    page = f"/articles/{sample_article.slug}/"
    first = Client().get(page)
    assert first.status_code == 200 and first[read_cache.HEADER] == "miss"
    second = Client().get(page)
    assert second[read_cache.HEADER] == "hit" and second.content == first.content
    read_cache.invalidate([read_cache.article_namespace(sample_article.slug)])
    assert Client().get(page)[read_cache.HEADER] == "miss"

    # A page over the entry limit is served whole every time, never stored.
    settings.CACHES = {
        **settings.CACHES,
        "read": {**read, "KEY_PREFIX": "tiny", "OPTIONS": {"MAX_BYTES": 8 * KIB}},
    }
    caches["read"].clear()
    for _ in range(2):
        answer = Client().get(page)
        assert answer.status_code == 200 and answer[read_cache.HEADER] == "miss"
        assert answer.content == first.content
