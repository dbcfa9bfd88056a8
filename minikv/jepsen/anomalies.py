"""Lost updates in counters and grow-only sets: Jepsen's other two workloads.

A counter gets increments ("incr", value = the delta) and a final read. Every increment
acknowledged before the final read began must be in it; in-doubt increments, and acknowledged
ones still running when the read began, may or may not be. So the final read must fall in a
range [lower, upper]; below it, acknowledged increments were lost (Aerospike's AP mode under a
partition, 2015); above it, something was counted that never happened (a retried in-doubt
increment counted twice, or a "failed" one that did happen).

A grow-only set gets adds ("add", value = the element) and a final read returning every element.
Acknowledged adds finished before the final read began and missing from it are *lost*; in-doubt
adds present are *recovered* (they did happen); elements nobody could have added, including those
of definitely failed adds, are *unexpected*.

Both look only at the final read: the last acknowledged read of the key. Jepsen's counter checker
also bounds every intermediate read the same way; one final read after the nemesis heals is the
clearest lesson, so that is what we count.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from minikv.jepsen.history import History, Op, as_ops, workloads


@dataclass(frozen=True)
class CounterResult:
    """A counter's final read against the range the increments allow."""

    key: Any
    valid: bool
    final: int | None  # the final read (None: there was no acknowledged read)
    acknowledged: int  # increments certainly in the final read
    in_doubt: int  # increments that may or may not be in it
    lower: int  # the final read must be at least this...
    upper: int  # ...and at most this
    lost: int = 0  # how far the final read fell below `lower`
    excess: int = 0  # how far it rose above `upper`

    def describe(self) -> str:
        """The finding in one sentence."""
        if self.final is None:
            return f"counter {self.key}: no final read, nothing to compare"
        head = f"counter {self.key}: final read {self.final}, expected {self.lower}..{self.upper}"
        if self.lost:
            return f"{head}: {self.lost} acknowledged increment(s) lost"
        if self.excess:
            return f"{head}: {self.excess} more than any possible count"
        return f"{head}: ok"


@dataclass(frozen=True)
class SetResult:
    """A grow-only set's final read against its adds."""

    key: Any
    valid: bool
    final_size: int | None  # elements in the final read (None: no acknowledged read)
    acknowledged: int  # adds acknowledged
    in_doubt: int  # adds in doubt
    lost: tuple = ()  # acknowledged, finished before the final read, missing from it
    recovered: tuple = ()  # in doubt, present: they did happen
    unexpected: tuple = ()  # present though no add could have put them there

    def describe(self) -> str:
        """The finding in one sentence."""
        if self.final_size is None:
            return f"set {self.key}: no final read, nothing to compare"
        head = f"set {self.key}: {self.final_size} elements, {self.acknowledged} adds acknowledged"
        parts = [f"{len(self.lost)} lost {_some(self.lost)}" if self.lost else "",
                 f"{len(self.unexpected)} unexpected {_some(self.unexpected)}" if self.unexpected else "",
                 f"{len(self.recovered)} in-doubt adds recovered" if self.recovered else ""]
        return ", ".join([head] + [p for p in parts if p])


def _some(values: tuple, shown: int = 5) -> str:
    """'(3, 8, 12)' or '(3, 8, 12, 15, 21, ...)': enough to go and look."""
    more = ", ..." if len(values) > shown else ""
    return "(" + ", ".join(str(v) for v in values[:shown]) + more + ")"


def _keys_of(ops: list[Op], workload: str, key: Any) -> Any:
    """The key to check: the one given, or the history's only key of this workload."""
    if key is not None:
        return key
    keys = [k for k, kind in workloads(ops).items() if kind == workload]
    if len(keys) != 1:
        raise ValueError(f"the history has {len(keys)} {workload} keys: pass key=")
    return keys[0]


def _final_read(ops: list[Op], key: Any) -> Op | None:
    """The last acknowledged read of `key`, by completion time."""
    reads = [op for op in ops if op.key == key and op.kind == "read" and op.outcome == "ok"]
    return max(reads, key=lambda op: (op.complete, op.index)) if reads else None


def _split(ops: list[Op], key: Any, kind: str, final: Op) -> tuple[list[Op], list[Op]]:
    """(certain, maybe) ops of `kind` on `key`, as seen from the final read: certain =
    acknowledged before it began; maybe = in doubt, or still running, when it ended."""
    mine = [op for op in ops if op.key == key and op.kind == kind]
    certain = [op for op in mine if op.outcome == "ok" and op.complete < final.invoke]
    done = {op.index for op in certain}
    maybe = [op for op in mine if op.outcome != "fail" and op.index not in done and op.invoke <= final.complete]
    return certain, maybe


def count_lost_updates(history: History | Iterable[Op], key: Any = None) -> CounterResult:
    """Compare a counter's final read with its acknowledged and in-doubt increments."""
    ops = as_ops(history)
    key = _keys_of(ops, "counter", key)
    final = _final_read(ops, key)
    if final is None:
        acked = sum(1 for op in ops if op.key == key and op.kind == "incr" and op.outcome == "ok")
        return CounterResult(key, True, None, acked, 0, 0, 0)
    certain, maybe = _split(ops, key, "incr", final)
    base = sum(op.value for op in certain)
    lower = base + sum(min(0, op.value) for op in maybe)  # deltas may be negative
    upper = base + sum(max(0, op.value) for op in maybe)
    value = final.result or 0  # no record yet reads as 0
    lost, excess = max(0, lower - value), max(0, value - upper)
    return CounterResult(key, not (lost or excess), value, len(certain), len(maybe), lower, upper,
                         lost, excess)


def check_set(history: History | Iterable[Op], key: Any = None) -> SetResult:
    """Compare a grow-only set's final read with its adds: lost, recovered and unexpected elements."""
    ops = as_ops(history)
    key = _keys_of(ops, "set", key)
    final = _final_read(ops, key)
    adds = [op for op in ops if op.key == key and op.kind == "add"]
    acked, doubtful = (sum(1 for op in adds if op.outcome == o) for o in ("ok", "info"))
    if final is None:
        return SetResult(key, True, None, acked, doubtful)
    certain, maybe = _split(ops, key, "add", final)
    seen = set(final.result or ())
    lost = sorted({op.value for op in certain} - seen, key=str)
    possible = {op.value for op in certain + maybe}
    unexpected = sorted(seen - possible, key=str)
    in_doubt_present = {op.value for op in adds if op.outcome == "info"} & seen
    recovered = sorted(in_doubt_present - {op.value for op in certain}, key=str)
    return SetResult(key, not (lost or unexpected), len(seen), acked, doubtful,
                     tuple(lost), tuple(recovered), tuple(unexpected))
