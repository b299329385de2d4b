"""A process-local cache bounded by the bytes it holds, not by how many entries it has.

A count bound says nothing about memory when one entry can be a few bytes or several megabytes
(a highlighted code block of a 2 MB document is larger than the document). ``ByteBoundedCache``
keeps the most recently used entries whose sizes add up to at most ``max_bytes``, evicting the
least recently used first, and never stores an entry larger than ``max_entry_bytes`` (a fraction
of the budget), so one huge value cannot empty the cache of everything else.

An entry's size is what its key and value occupy in memory (``sys.getsizeof``): keys are meant
to be short digests (``digest_key``), values flat objects such as ``str`` or ``bytes``, whose
``getsizeof`` is their whole footprint. Every process-local cache of the runtime code uses this
class, so this module is the one place where such memory is bounded.
"""

import hashlib
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator

MISSING = object()


def digest_key(*parts: str) -> bytes:
    """A fixed-size key for parts of any length (SHA-256 of the parts, each length-prefixed)."""
    hasher = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8", "surrogatepass")
        hasher.update(len(data).to_bytes(8, "big"))
        hasher.update(data)
    return hasher.digest()


def entry_size(key: Hashable, value: object) -> int:
    """Bytes an entry keeps alive: its key and its value (both flat objects)."""
    return sys.getsizeof(key) + sys.getsizeof(value)


class ByteBoundedCache:
    """A least-recently-used cache whose entries total at most ``max_bytes``."""

    def __init__(self, max_bytes: int, *, max_entry_fraction: float = 1 / 8):
        if max_bytes <= 0 or not 0 < max_entry_fraction <= 1:
            raise ValueError("max_bytes must be positive and max_entry_fraction in (0, 1]")
        self.max_bytes = max_bytes
        self.max_entry_bytes = int(max_bytes * max_entry_fraction)
        self._entries: OrderedDict[Hashable, tuple[object, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    @property
    def total_bytes(self) -> int:
        """The sum of the stored entries' sizes, as this cache counts them."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._entries

    def items(self) -> Iterator[tuple[Hashable, object]]:
        """The stored (key, value) pairs, least recently used first (a copy: safe to iterate)."""
        with self._lock:
            return iter([(key, value) for key, (value, _) in self._entries.items()])

    def get(self, key: Hashable, default: object = None) -> object:
        with self._lock:
            found = self._entries.get(key, MISSING)
            if found is MISSING:
                return default
            self._entries.move_to_end(key)
            return found[0]

    def put(self, key: Hashable, value: object) -> bool:
        """Store an entry, evicting the least recently used ones to make room. An entry over
        ``max_entry_bytes`` is not stored (and replaces nothing); returns whether it was stored."""
        size = entry_size(key, value)
        if size > self.max_entry_bytes:
            return False
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            while self._entries and self._bytes + size > self.max_bytes:
                _, (_, evicted) = self._entries.popitem(last=False)
                self._bytes -= evicted
            self._entries[key] = (value, size)
            self._bytes += size
            return True

    def get_or_make(self, key: Hashable, make: Callable[[], object]) -> object:
        """The cached value of ``key``, or ``make()``'s, stored when it fits. ``make`` runs
        outside the lock: two threads may both make a missing value, and the last one is kept."""
        value = self.get(key, MISSING)
        if value is MISSING:
            value = make()
            self.put(key, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0
