"""Why a register history is not linearizable, in one sentence a learner can check on the timeline.

The search (linearizability.py) only says "no order works" and which op broke the history first.
This module looks at that op and its neighbours and names the familiar anomaly when it sees one:
a value nobody could have written (a failed write, or one invoked later), a record that vanished
after an acknowledged write (a lost write), or a stale value after a newer write was acknowledged.
Otherwise it says so plainly: no order of the operations explains the answer.
"""

from __future__ import annotations

from typing import Any

from minikv.jepsen.history import Op


def explain(key: Any, culprit: Op, ops: list[Op]) -> str:
    """One sentence about the culprit, in the words of the timeline."""
    at = f"t={culprit.complete:.3f}"
    if culprit.kind == "cas":
        return (f"cas of key {key} (generation {culprit.gen} -> {culprit.value}) was acknowledged at "
                f"{at} but key {key} could not have been at generation {culprit.gen} then")
    if culprit.kind != "read":
        return f"{culprit.describe()} on key {key} acknowledged at {at} fits no order of the operations"
    value = culprit.result
    seen = f"{value}" if culprit.result_gen is None else f"{value} (generation {culprit.result_gen})"
    writes = [op for op in ops if op.kind in ("write", "cas") and op.value == value]
    possible = [op for op in writes if op.outcome != "fail" and op.invoke <= culprit.complete]
    last = last_ack_before(ops, culprit)
    if value is None and last is not None:
        return (f"read of key {key} found no record at {at} although {_what(last)} had been "
                f"acknowledged at t={last.complete:.3f}")
    if not possible and value is not None:
        return (f"read of key {key} returned {value} at {at} but no write of {value} could have been "
                f"visible then{_why_not(writes)}")
    if last is not None and last.value != value:
        return (f"read of key {key} returned {seen} at {at}, a stale value: {_what(last)} had "
                f"been acknowledged at t={last.complete:.3f}, before the read began")
    return f"read of key {key} returned {seen} at {at} but no order of the operations explains it"


def _what(op: Op) -> str:
    return f"a write of {op.value}" if op.kind == "write" else f"a cas to {op.value}"


def last_ack_before(ops: list[Op], culprit: Op) -> Op | None:
    """The write or cas acknowledged last before `culprit` was invoked, if any."""
    acked = [op for op in ops if op.kind != "read" and op.outcome == "ok" and op.complete < culprit.invoke]
    return max(acked, key=lambda op: op.complete) if acked else None


def _why_not(writes: list[Op]) -> str:
    """Say what became of the writes of that value, if there were any."""
    if not writes:
        return ""
    first = writes[0]
    if first.outcome == "fail":
        return f" (the write of {first.value} at t={first.invoke:.3f} failed: it definitely did not happen)"
    return f" (a write of {first.value} was invoked only later, at t={first.invoke:.3f})"
