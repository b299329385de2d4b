"""Django's in-memory and file caches, bounded by the bytes they hold instead of by entry count.

A count bound says nothing about memory or disk when one entry can be a 60-byte token and the
next a whole rendered page. Both backends here keep Django's storage format and API (get, set,
add, get_many, set_many, delete_many, incr, touch, has_key, clear) and change only what they
keep:

- ``ByteBoundedLocMemCache`` (the default cache when ``CACHE_URL`` is unset, and ``locmem://``)
  holds at most ``MAX_BYTES`` (default 64 MiB) per process, counting each entry as its key, its
  pickled value and a fixed allowance for the dictionaries that hold them (``ENTRY_OVERHEAD``).
  It evicts the least recently used entries first (Django's LocMemCache already keeps its
  entries in that order) and keeps a running total, so a write never walks the entries.
- ``ByteBoundedFileBasedCache`` (the read cache's files under ``var/read-cache/``, and
  ``file://``) holds at most ``MAX_BYTES`` (default 512 MiB) on disk in its directory, which
  several processes share. When a write would pass the bound it removes the files written or
  read longest ago (by mtime) until the rest fit in ``CULL_TO`` (90 %) of it. What is on disk is
  measured by listing the directory (``os.scandir`` and each file's stat), never by a counter of
  this process alone, but not on every write: a process lists it on its first write, when its
  own writes since it last looked would pass the bound, and after it has written a twentieth of
  the bound. So each further process sharing the directory can pass the bound by at most a
  twentieth of it before one of them looks.

A value larger than ``MAX_ENTRY_BYTES`` (default an eighth of ``MAX_BYTES``) is not kept, and a
``set`` of one removes the value it replaces, so one huge value cannot empty the cache of
everything else and a read never returns what a later write replaced. Count options
(``MAX_ENTRIES``, ``CULL_FREQUENCY``) are ignored by both.
"""

import os
import pickle
import sys
import tempfile
import threading
import time
import zlib
from dataclasses import dataclass, field

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.filebased import FileBasedCache
from django.core.cache.backends.locmem import LocMemCache
from django.core.exceptions import ImproperlyConfigured
from django.core.files.move import file_move_safe

MIB = 1024 * 1024
DEFAULT_MEMORY_MAX_BYTES = 64 * MIB
DEFAULT_FILE_MAX_BYTES = 512 * MIB
# What one entry costs beyond its key and pickled value: its slots in the OrderedDict and in the
# expiry dict, the linked-list node and the expiry float. Measured with tracemalloc on CPython
# 3.11: 110 to 170 bytes an entry while the cache fills, up to about 280 once evictions leave the
# dictionaries' tables sparse (a table grows to three times its live entries), and about 340 in the
# worst case that growth allows. tests/config/test_cache_backends.py holds the total to it.
ENTRY_OVERHEAD = 384


def _byte_options(params: dict, default_max_bytes: int) -> tuple[int, int]:
    """``(MAX_BYTES, MAX_ENTRY_BYTES)`` from a cache's OPTIONS, both positive whole numbers."""
    options = params.get("OPTIONS", {})
    values = []
    for name, default in (("MAX_BYTES", default_max_bytes), ("MAX_ENTRY_BYTES", None)):
        value = options.get(name, default)
        if value is None:  # MAX_ENTRY_BYTES: an eighth of the bound
            value = max(1, values[0] // 8)
        try:
            value = int(value)
        except (TypeError, ValueError):
            value = 0
        if value <= 0:
            raise ImproperlyConfigured(f"The cache option {name} must be a positive number of bytes.")
        values.append(value)
    return values[0], values[1]


# -- in memory ----------------------------------------------------------------------------------


@dataclass
class _Held:
    """The bytes one named in-memory cache holds, shared by its instances (one per thread)."""

    bytes: int = 0


_held: dict[str, _Held] = {}


class ByteBoundedLocMemCache(LocMemCache):
    """LocMemCache whose entries total at most ``MAX_BYTES``, least recently used evicted first."""

    def __init__(self, name, params):
        # Apart from a plain LocMemCache of the same LOCATION, whose writes this count would miss.
        name = f"byte-bounded:{name}"
        super().__init__(name, params)
        self._max_bytes, self._max_entry_bytes = _byte_options(params, DEFAULT_MEMORY_MAX_BYTES)
        self._held = _held.setdefault(name, _Held())

    @property
    def held_bytes(self) -> int:
        """The bytes the entries take, as this cache counts them."""
        return self._held.bytes

    @staticmethod
    def entry_bytes(key: str, pickled: bytes) -> int:
        return sys.getsizeof(key) + sys.getsizeof(pickled) + ENTRY_OVERHEAD

    # Django's LocMemCache calls these with its lock held; every change of an entry goes through
    # _set, _delete, _evict or clear, so the total follows each one.

    def _set(self, key, value, timeout=DEFAULT_TIMEOUT) -> bool:
        self._delete(key)  # the value it replaces goes, whether the new one is kept or not
        size = self.entry_bytes(key, value)
        if size > self._max_entry_bytes:
            return False
        self._evict(self._max_bytes - size)
        self._cache[key] = value
        self._cache.move_to_end(key, last=False)  # the front is the most recently used
        self._expire_info[key] = self.get_backend_timeout(timeout)
        self._held.bytes += size
        return True

    def _delete(self, key) -> bool:
        pickled = self._cache.pop(key, None)
        if pickled is None:
            return False
        self._expire_info.pop(key, None)
        self._held.bytes -= self.entry_bytes(key, pickled)
        return True

    def _evict(self, limit: int) -> None:
        """Drop the least recently used entries (the back) until at most ``limit`` bytes are held."""
        while self._cache and self._held.bytes > limit:
            key, pickled = self._cache.popitem()
            self._expire_info.pop(key, None)
            self._held.bytes -= self.entry_bytes(key, pickled)

    def _cull(self) -> None:
        self._evict(self._max_bytes)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None) -> bool:
        """False when the key holds a live value, or the value is over the entry limit."""
        key = self.make_and_validate_key(key, version=version)
        pickled = pickle.dumps(value, self.pickle_protocol)
        with self._lock:
            if self._has_expired(key):
                return self._set(key, pickled, timeout)
            return False

    def incr(self, key, delta=1, version=None):
        key = self.make_and_validate_key(key, version=version)
        with self._lock:
            if self._has_expired(key):
                self._delete(key)
                raise ValueError(f"Key '{key}' not found")
            old = self._cache[key]
            new_value = pickle.loads(old) + delta
            pickled = pickle.dumps(new_value, self.pickle_protocol)
            self._cache[key] = pickled
            self._cache.move_to_end(key, last=False)
            self._held.bytes += self.entry_bytes(key, pickled) - self.entry_bytes(key, old)
            if self.entry_bytes(key, pickled) > self._max_entry_bytes:
                self._delete(key)
            self._evict(self._max_bytes)
        return new_value

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()
            self._expire_info.clear()
            self._held.bytes = 0


# -- on disk ------------------------------------------------------------------------------------


def disk_bytes(stat: os.stat_result) -> int:
    """What a file takes: its allocated blocks, or its length when that is more."""
    return max(stat.st_size, getattr(stat, "st_blocks", 0) * 512)


@dataclass
class _DiskUsage:
    """This process's view of one cache directory: the bytes its last listing left there (None:
    not listed yet) and the bytes this process wrote since."""

    listed: int | None = None
    written: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


_disk_usage: dict[str, _DiskUsage] = {}


class ByteBoundedFileBasedCache(FileBasedCache):
    """FileBasedCache whose directory holds at most ``MAX_BYTES``, the oldest files culled first."""

    cull_to = 0.9  # a cull leaves at most this share of the bound
    look_every = 1 / 20  # a process lists the directory again after writing this share of it
    refresh_after = 60  # seconds: a file read is made recent again at most this often

    def __init__(self, dir, params):
        super().__init__(dir, params)
        self._max_bytes, self._max_entry_bytes = _byte_options(params, DEFAULT_FILE_MAX_BYTES)
        self._look_bytes = max(1, int(self._max_bytes * self.look_every))
        self._usage = _disk_usage.setdefault(self._dir, _DiskUsage())
        try:
            self._block = os.statvfs(self._dir).f_frsize or 1
        except (AttributeError, OSError):  # no statvfs (Windows)
            self._block = 1

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None) -> None:
        self._store(self._key_to_file(key, version), value, timeout)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None) -> bool:
        """False when the key holds a live value, or the value is over the entry limit."""
        if self.has_key(key, version):
            return False
        return self._store(self._key_to_file(key, version), value, timeout)

    def _store(self, fname: str, value, timeout) -> bool:
        """Write one entry in Django's format (the pickled expiry, then the compressed pickled
        value), making room first; an entry over the limit is not written and removes the file."""
        expiry = self.get_backend_timeout(timeout)
        content = pickle.dumps(expiry, self.pickle_protocol) + zlib.compress(
            pickle.dumps(value, self.pickle_protocol)
        )
        if len(content) > self._max_entry_bytes:
            self._delete(fname)
            return False
        self._createdir()  # the directory can be deleted at any time
        self._make_room(-(-len(content) // self._block) * self._block)
        fd, tmp_path = tempfile.mkstemp(dir=self._dir)
        renamed = False
        try:
            with open(fd, "wb") as f:
                f.write(content)
                f.flush()
                written = disk_bytes(os.fstat(f.fileno()))
            file_move_safe(tmp_path, fname, allow_overwrite=True)
            renamed = True
        finally:
            if not renamed:
                os.remove(tmp_path)
        with self._usage.lock:
            self._usage.written += written
        return True

    def _make_room(self, incoming: int) -> None:
        """Before writing ``incoming`` bytes: list the directory when this process's estimate
        says the bound could be passed, or when it has written enough since it last looked that
        other processes' writes may have gone unseen; then cull."""
        usage = self._usage
        with usage.lock:
            if (
                usage.listed is not None
                and usage.listed + usage.written + incoming <= self._max_bytes
                and usage.written + incoming <= self._look_bytes
            ):
                return
            usage.listed = self._cull_to_fit(incoming)
            usage.written = 0

    def _cull_to_fit(self, incoming: int) -> int:
        """The bytes the directory's cache files take, after removing the oldest (by mtime) when
        they and ``incoming`` would pass the bound, until they fit in ``cull_to`` of it."""
        files = []
        total = 0
        try:
            with os.scandir(self._dir) as entries:
                for entry in entries:
                    if not entry.name.endswith(self.cache_suffix):
                        continue
                    try:
                        stat = entry.stat()
                    except FileNotFoundError:  # removed by another process meanwhile
                        continue
                    size = disk_bytes(stat)
                    total += size
                    files.append((stat.st_mtime, size, entry.path))
        except FileNotFoundError:
            return 0
        if total + incoming <= self._max_bytes:
            return total
        target = int(self._max_bytes * self.cull_to) - incoming
        files.sort()
        for _mtime, size, path in files:
            if total <= target:
                break
            self._delete(path)  # gone either way: another process may have removed it first
            total -= size
        return total

    def _cull(self) -> None:
        self._make_room(0)

    def get(self, key, default=None, version=None):
        fname = self._key_to_file(key, version)
        try:
            with open(fname, "rb") as f:
                if not self._is_expired(f):
                    value = pickle.loads(zlib.decompress(f.read()))
                    self._mark_used(f)
                    return value
        except FileNotFoundError:
            pass
        return default

    def _mark_used(self, f) -> None:
        """Culling goes by mtime, so a file that is read is made recent: at most once every
        ``refresh_after`` seconds, so a hit costs one fstat and rarely a utime."""
        try:
            if time.time() - os.fstat(f.fileno()).st_mtime > self.refresh_after:
                os.utime(f.name)
        except OSError:  # replaced or removed meanwhile: nothing to keep
            pass

    def clear(self) -> None:
        super().clear()
        with self._usage.lock:
            self._usage.listed = None
            self._usage.written = 0
