"""A TTL cache on minikv records: entries expire by themselves, reads can keep hot ones alive.

    cache = TTLCache(client, ttl=60)
    cache.put("user:1", {"name": "Ada"})
    cache.get("user:1")                      # a hit: the value, and 60 s more to live
    cache.get_or_load("user:2", load_user)   # a miss calls load_user() and caches the answer
    cache.stats                              # CacheStats(hits=1, misses=1, touches=1)

This is the first job the course's seed article gives Aerospike: a cache in front of a slower
store. Each entry is one record whose bin `value` holds the cached value, written with
`meta={"ttl": ttl}`. The node makes an expired record invisible at once and its namespace
supervisor (nsup) deletes it later, so the cache never has to clean up: **eviction is by TTL**.

**Read-touch.** A plain read leaves the expiry where it is, so an entry read every second still
dies `ttl` seconds after it was written. To keep hot entries and let cold ones go (an LRU in
effect), a hit can *touch* the record: reset its expiry to `ttl` from now. With
`read_touch_percent=100` (the default) every hit does, in one request: `operate` with `touch` and
`read`, applied atomically by the node. A touch is a write, though: it bumps the generation and
is replicated. With a lower percentage a hit touches only when the entry is in the last
`read_touch_percent` % of its life, as Aerospike 7.1's `read-touch-ttl-percent` does on the
server; the other hits are plain reads. 0 turns read-touch off.

The hit and miss counters live in this object, one per process; a cluster-wide hit ratio would
add them up with `minikv.recipes.counters`.

Portable: only the public client API (`put`, `get`, `operate`, `touch`, `remove`, and
`minikv.exception`), so with `import aerospike` and `aerospike_helpers.operations` this runs on a
real Aerospike cluster. What differs there: a namespace with a non-zero `default-ttl` needs nsup
switched on (`nsup-period`, 0 = off by default), and under memory or disk pressure Aerospike also
evicts TTL-bearing records early, soonest-to-expire first; minikv never evicts early.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from minikv import exception, operations

VALUE_BIN = "value"  # the bin holding a cached value
_MISSING = object()  # "no entry": None cannot be cached (writing None deletes a bin)


@dataclass(slots=True)
class CacheStats:
    """What this cache object saw: hits, misses, and the touches its hits paid for."""

    hits: int = 0
    misses: int = 0
    touches: int = 0  # hits that reset the entry's expiry (each one a write on the node)

    @property
    def hit_ratio(self) -> float:
        lookups = self.hits + self.misses
        return self.hits / lookups if lookups else 0.0


class TTLCache:
    """A cache whose entries are records in `set_name` that expire `ttl` seconds after their
    last write or touch. Keys are any user key (str, int, bytes)."""

    def __init__(self, client: Any, set_name: str = "cache", ttl: int = 60, read_touch_percent: int = 100,
                 ns: str = "test"):
        if not 0 <= read_touch_percent <= 100:
            raise ValueError(f"read_touch_percent is 0..100, not {read_touch_percent}")
        self.client = client
        self.ns, self.set_name, self.ttl = ns, set_name, ttl
        self.read_touch_percent = read_touch_percent
        self.stats = CacheStats()

    def key(self, user_key: Any) -> tuple:
        return (self.ns, self.set_name, user_key)

    def put(self, user_key: Any, value: Any) -> None:
        """Cache `value` for `ttl` seconds (replacing what was there)."""
        self.client.put(self.key(user_key), {VALUE_BIN: value}, meta={"ttl": self.ttl})

    def get(self, user_key: Any, default: Any = None) -> Any:
        """The cached value (a hit), or `default` if there is none or it expired (a miss)."""
        try:
            value = self._touch_read(user_key) if self.read_touch_percent == 100 else self._read(user_key)
        except exception.RecordNotFound:
            value = _MISSING
        if value is _MISSING:
            self.stats.misses += 1
            return default
        self.stats.hits += 1
        return value

    def get_or_load(self, user_key: Any, load: Callable[[], Any]) -> Any:
        """The cached value; on a miss, `load()` it from the slow store and cache it (read-through)."""
        value = self.get(user_key, _MISSING)
        if value is _MISSING:
            value = load()
            self.put(user_key, value)
        return value

    def delete(self, user_key: Any) -> None:
        """Drop an entry now (when the source changed), rather than wait for its TTL."""
        try:
            self.client.remove(self.key(user_key))
        except exception.RecordNotFound:
            pass  # already gone: expired, or never cached

    # ---- the two ways to read -------------------------------------------------------------------

    def _touch_read(self, user_key: Any) -> Any:
        """Touch and read in one atomic request; RecordNotFound if there is no live entry."""
        ops = [operations.touch(self.ttl), operations.read(VALUE_BIN)]
        _, _, bins = self.client.operate(self.key(user_key), ops)
        self.stats.touches += 1
        return bins.get(VALUE_BIN, _MISSING)

    def _read(self, user_key: Any) -> Any:
        """A plain read; a touch too when the entry is in the last read_touch_percent % of its life."""
        _, meta, bins = self.client.get(self.key(user_key))
        if meta["ttl"] * 100 <= self.ttl * self.read_touch_percent:
            try:
                self.client.touch(self.key(user_key), self.ttl)
                self.stats.touches += 1
            except exception.RecordNotFound:
                pass  # it expired between the read and the touch: the read still counts as a hit
        return bins.get(VALUE_BIN, _MISSING)
