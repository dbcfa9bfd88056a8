"""Distributed counters and statistics: sharded counters, and count/sum/min/max/histogram bins.

    views = ShardedCounter(client, "views:home", shards=8)
    views.add()                   # one increment on one of 8 records
    views.value()                 # the sum of the 8, read in one batch

    latency = Stats(client, "latency:get", bounds=(1, 2, 5, 10, 20, 50))
    latency.record(7)             # count, sum, histogram bucket (and min/max when they move)
    latency.summary()             # {"count": 1, "sum": 7, "min": 7, "max": 7, "buckets": {...}}

**Counting is a write.** `increment` is applied by the record's master under the record's lock,
so concurrent increments never lose one another: no read-modify-write race. But every increment
of one counter goes to one record, which lives in one partition, mastered by one node. Under
heavy concurrent load that record is a **hot key**: its requests queue one behind the other, and
once more than `transaction-pending-limit` (20) wait, the node answers `RecordBusy` (KEY_BUSY, 14).

**Sharding** spreads one logical counter over `shards` records, `name#0` ... `name#7`. Each
`add` picks a shard at random; the digests of the shard keys fall in different partitions and so,
usually, on different master nodes. Reads pay instead: `value()` reads every shard (one batch)
and adds them up. Choose `shards` around the number of concurrent writers you expect.

**Statistics** keep several bins in one record: `count`, `sum`, one bin per histogram bucket,
`min` and `max`. `record(x)` updates count, sum and the bucket in a single atomic `operate` and
reads min and max in the same request. Increments commute, so they need no check; min and max do
not (a max is a read-compare-write), so they are changed only when `x` beats them, with a
check-and-set on the generation the operate returned, retried if another writer got in first.

Portable: only `operate`, `put`, `batch_read` and the policy constants; with `import aerospike`
it runs on a real cluster. Real Aerospike can also keep min/max on the server without the retry
loop (expressions, or map operations), and HyperLogLog bins count distinct values; minikv has
only the scalar operations.
"""

from __future__ import annotations

import bisect
import random
from typing import Any

from minikv import exception, operations
from minikv.policies import POLICY_GEN_EQ

COUNTER_SET = "counters"
MAX_TRIES = 10  # generation conflicts a min/max update retries before it gives up


class ShardedCounter:
    """One logical counter kept in `shards` records, bin `n`, summed on read."""

    def __init__(self, client: Any, name: str, shards: int = 8, ns: str = "test", set_name: str = COUNTER_SET,
                 rng: random.Random | None = None):
        if shards < 1:
            raise ValueError(f"a counter needs at least one shard, not {shards}")
        self.client, self.name, self.shards, self.ns, self.set_name = client, name, shards, ns, set_name
        self.rng = rng or random.Random()  # which shard an add goes to; seed it to replay a run

    def shard_key(self, shard: int) -> tuple:
        return (self.ns, self.set_name, f"{self.name}#{shard}")

    def keys(self) -> list[tuple]:
        return [self.shard_key(shard) for shard in range(self.shards)]

    def add(self, amount: int = 1) -> int:
        """Add `amount` to a random shard; returns the shard's index."""
        shard = self.rng.randrange(self.shards)
        self.client.increment(self.shard_key(shard), "n", amount)
        return shard

    def shard_values(self) -> list[int]:
        """Each shard's count, in shard order (0 for a shard never written)."""
        batch = self.client.batch_read(self.keys(), ["n"])
        return [record.record[2].get("n", 0) if record.record else 0 for record in batch.batch_records]

    def value(self) -> int:
        """The counter: the sum of its shards, read in one batch."""
        return sum(self.shard_values())


class Stats:
    """Count, sum, min, max and a histogram of recorded values, in one record's bins.

    `bounds` are the buckets' upper edges: with (1, 5, 10), bin b0 counts x <= 1, b1 counts
    1 < x <= 5, b2 counts 5 < x <= 10 and b3 everything above. Record ints (milliseconds, bytes)
    or floats, not a mix: a bin keeps one type, and adding a float to an int bin is refused.
    """

    def __init__(self, client: Any, name: str, bounds: tuple[float, ...] = (1, 2, 5, 10, 20, 50, 100),
                 ns: str = "test", set_name: str = COUNTER_SET):
        if list(bounds) != sorted(set(bounds)):
            raise ValueError(f"bucket bounds must be strictly increasing: {bounds}")
        self.client, self.key, self.bounds = client, (ns, set_name, name), tuple(bounds)

    def bucket(self, value: float) -> int:
        """The index of the histogram bucket `value` falls in."""
        return bisect.bisect_left(self.bounds, value)

    def record(self, value: int | float) -> None:
        """Count `value`: one operate for count, sum and bucket, then min/max if it beats them."""
        ops = [operations.increment("count", 1), operations.increment("sum", value),
               operations.increment(f"b{self.bucket(value)}", 1),
               operations.read("min"), operations.read("max")]
        _, meta, bins = self.client.operate(self.key, ops)
        for _ in range(MAX_TRIES):
            changes = _extremes(bins, value)
            if not changes:
                return
            try:
                self.client.put(self.key, changes, meta={"gen": meta["gen"]}, policy={"gen": POLICY_GEN_EQ})
                return
            except exception.RecordGenerationError:
                _, meta, bins = self.client.get(self.key)  # another writer got in first: look again
        raise exception.RecordGenerationError(f"{self.key}: min/max kept changing under us")

    def summary(self) -> dict:
        """{"count", "sum", "min", "max", "mean", "buckets": {"<=5": n, ..., ">100": n}}."""
        try:
            _, _, bins = self.client.get(self.key)
        except exception.RecordNotFound:
            bins = {}
        count = bins.get("count", 0)
        labels = [f"<={b:g}" for b in self.bounds] + [f">{self.bounds[-1]:g}"]
        return {"count": count, "sum": bins.get("sum", 0), "min": bins.get("min"), "max": bins.get("max"),
                "mean": bins.get("sum", 0) / count if count else None,
                "buckets": {label: bins.get(f"b{i}", 0) for i, label in enumerate(labels)}}

    def reset(self) -> None:
        """Start again from nothing (deletes the record)."""
        try:
            self.client.remove(self.key)
        except exception.RecordNotFound:
            pass


def _extremes(bins: dict, value: int | float) -> dict:
    """The min/max bins `value` must replace: {} when it beats neither."""
    changes = {}
    if bins.get("min") is None or value < bins["min"]:
        changes["min"] = value
    if bins.get("max") is None or value > bins["max"]:
        changes["max"] = value
    return changes

