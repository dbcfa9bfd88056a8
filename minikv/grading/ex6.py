"""Checks for exercise 6: a read-modify-write loop with in-doubt handling (notebook 06).

The learner's `increment_field(client, key, bin_name, delta, request_id, attempts)` must apply
each increment exactly once. The checks give it a `Scripted` client: a thin wrapper around a real
SimCluster client that writes a trace and, at chosen writes, lets a rival increment the record
first (a race, made deterministic) or turns the write into an in-doubt failure, either after
forwarding it (it landed) or without forwarding it (it did not). Every case names its seed and
prints the trace, so a failure can be replayed step by step.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from types import ModuleType
from typing import Any

import minikv
from minikv.errors import TimeoutError
from minikv.grading.registry import CheckFailed, Exercise

BIN = "count"
APPLIED = "applied"
SEEDS = (61, 62, 63)


class Scripted:
    """A client as the learner sees it: get/put/exists/operate forward to `client`. Before the
    n-th put, `before_put[n]()` runs (a rival's write); `faults[n]` makes that put fail in doubt,
    "landed" after forwarding it, "lost" without."""

    def __init__(self, client: Any, name: str, trace: list[str]):
        self.client, self.name, self.trace = client, name, trace
        self.puts = 0
        self.before_put: dict[int, Callable[[], None]] = {}
        self.faults: dict[int, str] = {}

    def __getattr__(self, attr: str) -> Any:
        return getattr(self.client, attr)  # exists, select, operate...: forwarded untouched

    def get(self, key: tuple, *args: Any, **kwargs: Any) -> Any:
        try:
            result = self.client.get(key, *args, **kwargs)
        except minikv.exception.RecordNotFound:
            self.trace.append(f"{self.name}: get -> RecordNotFound")
            raise
        self.trace.append(f"{self.name}: get -> gen {result[1]['gen']} {result[2]}")
        return result

    def put(self, key: tuple, bins: dict, meta: dict | None = None, policy: dict | None = None, **kw: Any) -> Any:
        self.puts += 1
        if self.puts in self.before_put:
            self.before_put.pop(self.puts)()
        shown = f"{self.name}: put {bins} meta={meta} policy={policy}"
        fault = self.faults.get(self.puts)
        if fault == "lost":
            self.trace.append(f"{shown} -> injected TimeoutError (in doubt; it did NOT land)")
            raise TimeoutError("injected: no reply (the write was lost)", in_doubt=True)
        try:
            result = self.client.put(key, bins, meta, policy, **kw)
        except minikv.exception.AerospikeError as error:
            self.trace.append(f"{shown} -> {type(error).__name__}")
            raise
        if fault == "landed":
            self.trace.append(f"{shown} -> applied, then injected TimeoutError (in doubt; it DID land)")
            raise TimeoutError("injected: no reply (the write was applied)", in_doubt=True)
        self.trace.append(f"{shown} -> ok")
        return result


def _failed(what: str, seed: int, expected: Any, got: Any, trace: list[str]) -> CheckFailed:
    lines = "\n  ".join(trace[-30:])
    return CheckFailed(f"{what} (SimCluster seed {seed})\nexpected: {expected}\ngot:      {got}\ntrace:\n  {lines}")


def _increment(learner: ModuleType, client: Any, key: tuple, delta: int, rid: str, seed: int,
               trace: list[str]) -> Any:
    try:
        return learner.increment_field(client, key, BIN, delta, rid, 20)
    except NotImplementedError:
        raise
    except Exception as error:
        raise _failed(f"increment_field(..., {BIN!r}, {delta}, {rid!r}) raised {type(error).__name__}: {error}",
                      seed, "no exception", repr(error), trace) from error


def _record(client: Any, key: tuple) -> tuple[int | None, list]:
    try:
        bins = client.get(key)[2]
    except minikv.exception.RecordNotFound:
        return None, []
    return bins.get(BIN), list(bins.get(APPLIED, []))


def _expect_total(what: str, client: Any, key: tuple, deltas: dict[str, int], seed: int, trace: list[str]) -> None:
    """The record holds the sum of the deltas and lists each request id exactly once."""
    count, applied = _record(client, key)
    expected = (sum(deltas.values()), sorted(deltas))
    if (count, sorted(applied)) != expected:
        raise _failed(what, seed, f"{BIN}={expected[0]}, {APPLIED} (sorted)={expected[1]}",
                      f"{BIN}={count}, {APPLIED} (sorted)={sorted(applied)}", trace)


# ---- the checks -------------------------------------------------------------------------------


def check_one_client(learner: ModuleType) -> None:
    """One client, no faults: every increment counts once, a repeated request id not at all."""
    seed = SEEDS[0]
    with minikv.SimCluster(nodes=1, seed=seed) as sim:
        trace: list[str] = []
        client, key = Scripted(sim.client(), "A", trace), ("test", "ex6", "one")
        deltas = {"r1": 1, "r2": 2, "r3": 3}
        for rid, delta in deltas.items():
            if _increment(learner, client, key, delta, rid, seed, trace) is not True:
                raise _failed(f"increment_field for new request {rid!r} must return True", seed, True,
                              "something else", trace)
        again = _increment(learner, client, key, 2, "r2", seed, trace)
        if again is not False:
            raise _failed("increment_field for request 'r2' again must return False", seed, False, again, trace)
        _expect_total("three increments and one repeat", client, key, deltas, seed, trace)


def check_interleaved_clients(learner: ModuleType) -> None:
    """Three clients whose writes race (a rival increments between a read and its write): the
    total is exact, so no update was lost."""
    for seed in SEEDS:
        rng = random.Random(seed)
        with minikv.SimCluster(nodes=2, seed=seed) as sim:
            trace: list[str] = []
            clients = [Scripted(sim.client(), name, trace) for name in "ABC"]
            key, deltas = ("test", "ex6", f"race{seed}"), {}
            for n in range(12):
                me, rival = rng.sample(clients, 2)
                rid, rival_rid = f"{me.name}{n}", f"{rival.name}{n}x"
                deltas[rid] = rng.randint(1, 9)
                if rng.random() < 0.6:  # a rival writes between my read and my write
                    deltas[rival_rid] = rng.randint(1, 9)
                    me.before_put[me.puts + 1] = (lambda r=rival, i=rival_rid, d=deltas[rival_rid], k=key, s=seed,
                                                  t=trace: _increment(learner, r, k, d, i, s, t))
                _increment(learner, me, key, deltas[rid], rid, seed, trace)
            _expect_total("12 racing increments", clients[0], key, deltas, seed, trace)


def check_in_doubt_landed(learner: ModuleType) -> None:
    """A write that was applied but answered with an in-doubt error is found on the next read
    and not applied again, even if a rival wrote in between."""
    for seed, rival_writes in zip(SEEDS, (False, True, False)):
        _in_doubt_case(learner, seed, "landed", rival_writes)


def check_in_doubt_lost(learner: ModuleType) -> None:
    """A write that never arrived but was answered with an in-doubt error is tried again, so the
    increment is not lost, even if a rival wrote in between."""
    for seed, rival_writes in zip(SEEDS, (False, True, True)):
        _in_doubt_case(learner, seed, "lost", rival_writes)


def _in_doubt_case(learner: ModuleType, seed: int, fault: str, rival_writes: bool) -> None:
    with minikv.SimCluster(nodes=1, seed=seed) as sim:
        trace: list[str] = []
        me, rival = Scripted(sim.client(), "A", trace), Scripted(sim.client(), "B", trace)
        key = ("test", "ex6", f"doubt{seed}")
        deltas = {"setup": 10}
        _increment(learner, rival, key, 10, "setup", seed, trace)
        me.faults[1] = fault
        if rival_writes:  # the rival increments right after the in-doubt write, before my re-read
            deltas["B1"] = 5
            original_get = me.get
            def get_after_rival(key_: tuple, *args: Any, **kw: Any) -> Any:
                if me.puts == 1 and "B1" not in _record(rival.client, key)[1]:
                    _increment(learner, rival, key, 5, "B1", seed, trace)
                return original_get(key_, *args, **kw)
            me.get = get_after_rival  # type: ignore[method-assign]
        deltas["A1"] = 3
        got = _increment(learner, me, key, 3, "A1", seed, trace)
        story = f"A's first write failed in doubt ({'it landed' if fault == 'landed' else 'it never arrived'})" + (
            ", then B incremented" if rival_writes else "")
        if got is not True:
            raise _failed(f"{story}: increment_field must return True (this call's increment was applied)",
                          seed, True, got, trace)
        _expect_total(story, rival, key, deltas, seed, trace)


EXERCISE = Exercise(
    id="ex6",
    title="A read-modify-write loop with in-doubt handling",
    module="ex6_read_modify_write",
    checks=[check_one_client, check_interleaved_clients, check_in_doubt_landed, check_in_doubt_lost],
)
