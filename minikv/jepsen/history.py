"""Histories: what each client asked for, when, and what it was told.

Jepsen's method starts here. A test does not look inside the database; it records, for every
operation a client process performs, an *invocation* (process, kind, key, argument, time) and a
*completion* (time, and one of three outcomes), then asks afterwards whether any correct database
could have produced those answers. The three outcomes are the errors.py vocabulary:

    ok    the database acknowledged it: it happened (and a read returned `result`)
    fail  a definite error: it certainly did not happen
    info  in doubt (a timeout, a connection lost after sending): it may have happened, at any
          moment after it was invoked, even long after the client gave up waiting

Operation kinds used by the workloads: "read", "write", "cas" (a put with POLICY_GEN_EQ and
meta {"gen": g}) on registers; "incr" on counters; "add" (and "read") on grow-only sets.

Times come from a clock the caller passes in (the simulator's virtual clock, or time.monotonic in
real processes): this module never reads a clock itself, so a simulated run records the same
history every time. Jepsen gives a process a fresh id after an `info`, because its op stays open
forever; we keep the id (the timeline stays readable) and let the checker treat every in-doubt op
as open until +infinity on its own.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, replace
from typing import Any

from minikv.errors import AerospikeError, RecordNotFound, TimeoutError

@dataclass(frozen=True, slots=True)
class Op:
    """One operation: an invocation and, once known, its completion.

    `value` is the argument (the value written, the new value of a cas, the increment, the element
    added); `gen` is the generation a cas expects. `result` is what a read returned (None: no
    record) and `result_gen` the generation it saw, if the workload recorded it. `complete` is
    None while the op is pending or if it never completed.
    """

    index: int  # position in the history, in invocation order: an op's identity
    process: int
    kind: str  # "read" | "write" | "cas" | "incr" | "add"
    key: Any
    value: Any = None
    gen: int | None = None
    invoke: float = 0.0
    complete: float | None = None
    outcome: str | None = None  # "ok" | "fail" | "info"; None while pending
    result: Any = None
    result_gen: int | None = None

    @property
    def latency(self) -> float | None:
        """Seconds from invocation to completion (None if it never completed)."""
        return None if self.complete is None else self.complete - self.invoke

    def describe(self) -> str:
        """A few words a timeline label or a sentence can use: 'write 3', 'read → 3'."""
        if self.kind == "read":
            seen = "no record" if self.result is None and self.outcome == "ok" else self.result
            return f"read → {seen}" if self.outcome == "ok" else "read"
        if self.kind == "cas":
            return f"cas gen {self.gen} → {self.value}"
        return f"{self.kind} {self.value}"


class History:
    """A thread-safe log of operations, built with invoke() then ok(), fail() or info().

    Each process has at most one operation pending at a time, as in Jepsen: a client process is
    one thread of requests, and its next request starts only after the previous one ended.
    """

    def __init__(self) -> None:
        self._ops: list[Op] = []
        self._pending: dict[int, int] = {}  # {process: index of its open op}
        self._lock = threading.Lock()  # real-process workloads record from several threads

    # recording
    def invoke(self, process: int, kind: str, key: Any, value: Any = None, *, gen: int | None = None,
               time: float) -> Op:
        """Record that `process` asked for an operation at `time`; returns the pending Op."""
        with self._lock:
            if process in self._pending:
                raise ValueError(f"process {process} already has an operation pending")
            op = Op(len(self._ops), process, kind, key, value, gen, float(time))
            self._ops.append(op)
            self._pending[process] = op.index
            return op

    def ok(self, process: int, *, time: float, result: Any = None, gen: int | None = None) -> Op:
        """The pending op of `process` succeeded; a read passes what it read (and its generation)."""
        return self._complete(process, "ok", time, result, gen)

    def fail(self, process: int, *, time: float) -> Op:
        """The pending op of `process` definitely did not happen."""
        return self._complete(process, "fail", time, None, None)

    def info(self, process: int, *, time: float) -> Op:
        """The pending op of `process` is in doubt: it may have happened, now or later."""
        return self._complete(process, "info", time, None, None)

    def _complete(self, process: int, outcome: str, time: float, result: Any, gen: int | None) -> Op:
        with self._lock:
            if process not in self._pending:
                raise ValueError(f"process {process} has no operation pending")
            index = self._pending.pop(process)
            op = replace(self._ops[index], complete=float(time), outcome=outcome, result=result,
                         result_gen=gen)
            assert op.complete >= op.invoke, f"op {index} completes before it was invoked"
            self._ops[index] = op
            return op

    # reading
    def ops(self) -> list[Op]:
        """Every op in invocation order. Ops still pending are reported as in doubt ("info",
        complete=None): the run ended before they did, so they may or may not have happened."""
        with self._lock:
            return [op if op.outcome else replace(op, outcome="info") for op in self._ops]

    def __len__(self) -> int:
        return len(self._ops)

    def to_dicts(self) -> list[dict]:
        """Plain dicts, one per op (JSON-safe when keys and values are)."""
        return [asdict(op) for op in self.ops()]

    @classmethod
    def from_dicts(cls, rows: Iterable[dict]) -> History:
        """Rebuild a history from to_dicts() output (for instance after a JSON round trip)."""
        history = cls()
        for index, row in enumerate(rows):
            history._ops.append(Op(**{**row, "index": index, "value": _frozen(row.get("value")),
                                      "result": _frozen(row.get("result"))}))
        return history

    @classmethod
    def of(cls, ops: Iterable[Op]) -> History:
        """A history holding these (completed) ops, renumbered in invocation order."""
        ordered = sorted(ops, key=lambda op: op.invoke)
        return cls.from_dicts(asdict(op) for op in ordered)


def _frozen(value: Any) -> Any:
    """JSON turns tuples into lists; values must be hashable for the checker's memo."""
    return tuple(_frozen(v) for v in value) if isinstance(value, list) else value


def as_ops(history: History | Iterable[Op]) -> list[Op]:
    """Checkers accept a History or a plain list of Ops."""
    return history.ops() if isinstance(history, History) else list(history)


def workloads(ops: Iterable[Op]) -> dict[Any, str]:
    """{key: "register" | "counter" | "set"}: a key with increments is a counter, one with adds a
    set, any other a register (reads, writes and cas). Each checker takes the keys it understands."""
    kinds: dict[Any, str] = {}
    for op in ops:
        if op.kind == "incr":
            kinds[op.key] = "counter"
        elif op.kind == "add":
            kinds[op.key] = "set"
        else:
            kinds.setdefault(op.key, "register")
    return kinds


def outcome_of(error: BaseException) -> str:
    """Jepsen's rule on minikv's exceptions: in doubt -> "info", other minikv errors -> "fail".

    A TimeoutError is in doubt even if whoever raised it forgot to set in_doubt: no answer never
    proves that nothing happened. Any other exception (a bug in the workload) is in doubt too.
    """
    if isinstance(error, TimeoutError) or getattr(error, "in_doubt", False):
        return "info"
    return "fail" if isinstance(error, AerospikeError) else "info"


class Recorder:
    """Runs client calls and records each one in a History, with times from `clock`.

        recorder = Recorder(history, clock=sim.now)          # virtual time in the simulator
        recorder.call(0, "write", 7, lambda: client.put(key, {"v": 3}), value=3)
        recorder.read(1, 7, lambda: read_value_and_gen(client, key))

    In real processes pass a monotonic clock that starts at zero, so figures read in seconds of
    the run: `start = time.monotonic(); Recorder(history, lambda: time.monotonic() - start)`.
    """

    def __init__(self, history: History, clock: Callable[[], float]):
        self.history = history
        self.clock = clock

    def call(self, process: int, kind: str, key: Any, fn: Callable[[], Any], *, value: Any = None,
             gen: int | None = None) -> Any:
        """Invoke, run `fn`, record ok/fail/info. Returns fn's result, or None if it raised a
        minikv error (the history says which); other exceptions are recorded in doubt, re-raised."""
        self.history.invoke(process, kind, key, value, gen=gen, time=self.clock())
        try:
            result = fn()
        except AerospikeError as error:
            if not (kind == "read" and isinstance(error, RecordNotFound)):
                self._record_error(process, error)
                return None
            result = None  # a read that found no record got an answer: nothing is there
        except BaseException:
            self.history.info(process, time=self.clock())
            raise
        self.history.ok(process, time=self.clock(), result=result if kind == "read" else None)
        return result

    def read(self, process: int, key: Any, fn: Callable[[], tuple[Any, int | None]]) -> tuple[Any, int] | None:
        """Record a register read. `fn` returns (value, gen); RecordNotFound counts as an ok
        read of (None, 0): finding no record is an answer, not an error."""
        self.history.invoke(process, "read", key, time=self.clock())
        try:
            value, gen = fn()
        except RecordNotFound:
            value, gen = None, 0
        except AerospikeError as error:
            self._record_error(process, error)
            return None
        except BaseException:
            self.history.info(process, time=self.clock())
            raise
        self.history.ok(process, time=self.clock(), result=value, gen=gen)
        return value, gen

    def _record_error(self, process: int, error: AerospikeError) -> None:
        if outcome_of(error) == "info":
            self.history.info(process, time=self.clock())
        else:
            self.history.fail(process, time=self.clock())
