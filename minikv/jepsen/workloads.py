"""Workloads: what each Jepsen client process asks the database, and how its answers are recorded.

Jepsen's Aerospike analyses (2015 and 2018) used three workloads; we keep all three:

    register  single keys read, written and compare-and-set by generation (a put with policy
              {"gen": POLICY_GEN_EQ} and meta {"gen": g}, g being the generation this process
              last read): checked for linearizability
    counter   increments of one bin through operate(), and reads: checked for lost increments
    set       a grow-only set: each add appends one element to a bin, reads return them all:
              checked for lost elements

`mixed` draws each operation from the three, so one run feeds every checker. A workload only
decides *what* to do; `step` performs one random operation through a Recorder (which writes
invoke, then ok / fail / info), and `final` reads every key once after the nemesis has healed:
the quiescent read that shows what the cluster kept.

Values are unique per run (process * 1,000,000 + a per-process sequence number), so a read says
exactly which write it saw. The grow-only set is a string bin of space-separated elements grown
with OPERATOR_APPEND, because minikv has no list operations (Aerospike would use list_append):
the append is atomic on the node all the same, which is what the set checker relies on.
Nothing here knows whether it runs in the simulator or against real processes.
"""

from __future__ import annotations

import random
from typing import Any

from minikv import policies as P
from minikv.client import Client

# Jepsen checked Aerospike's SC mode with linearizable reads; the default (session) reads promise
# less: a master cut off with its replicas' last pulses still naming it may answer stale for a
# moment. AP namespaces ignore the setting.
LINEARIZE = {"read_mode_sc": P.POLICY_READ_MODE_SC_LINEARIZE}
from minikv.jepsen.history import Recorder

NAMESPACE, SET_NAME = "test", "jepsen"
VALUES_PER_PROCESS = 1_000_000  # a process's values are process * this + its sequence number


def record_key(name: str) -> tuple[str, str, str]:
    """The client key of a workload key: the history says "r0", the client ("test", "jepsen", "r0")."""
    return (NAMESPACE, SET_NAME, name)


class Workload:
    """One kind of client traffic over a few keys. Subclasses define `update` (or `step`) and
    `read_key`."""

    name = "workload"
    prefix = "k"

    def __init__(self, keys: int = 3):
        self.keys = [f"{self.prefix}{i}" for i in range(keys)]  # history keys, e.g. ["r0", "r1"]
        self._sequence: dict[int, int] = {}  # {process: values used}; each process owns its entry

    @property
    def hot_key(self) -> tuple[str, str, str]:
        """The client key the "isolate-master" nemesis aims at: the workload's first key."""
        return record_key(self.keys[0])

    def unique_value(self, process: int) -> int:
        """A value no other operation of this run uses."""
        self._sequence[process] = self._sequence.get(process, 0) + 1
        return process * VALUES_PER_PROCESS + self._sequence[process]

    def step(self, client: Client, recorder: Recorder, process: int, rng: random.Random) -> None:
        """Perform and record one randomly chosen operation: a read one time in five, else the
        workload's update (Register overrides this with its own mix)."""
        key = rng.choice(self.keys)
        if rng.random() < 0.2:
            self.read_key(client, recorder, process, key)
        else:
            self.update(client, recorder, process, key)

    def update(self, client: Client, recorder: Recorder, process: int, key: str) -> None:
        """Perform and record the workload's write to `key`."""
        raise NotImplementedError

    def read_key(self, client: Client, recorder: Recorder, process: int, key: str) -> None:
        """Read one key and record what was seen."""
        raise NotImplementedError

    def final(self, client: Client, recorder: Recorder, process: int) -> None:
        """Read every key once (after the faults healed): the reads the checkers judge by."""
        for key in self.keys:
            self.read_key(client, recorder, process, key)


class Register(Workload):
    """Read, write and compare-and-set single-bin records; the checker wants them linearizable."""

    name, prefix = "register", "r"

    def __init__(self, keys: int = 3):
        super().__init__(keys)
        self._seen_gen: dict[tuple[int, str], int] = {}  # {(process, key): generation it last read}

    def step(self, client: Client, recorder: Recorder, process: int, rng: random.Random) -> None:
        key, choice = rng.choice(self.keys), rng.random()
        if choice < 0.4:
            self.read_key(client, recorder, process, key)
        elif choice < 0.7:
            value = self.unique_value(process)
            recorder.call(process, "write", key, lambda: client.put(record_key(key), {"v": value}), value=value)
        else:
            self.cas(client, recorder, process, key)

    def cas(self, client: Client, recorder: Recorder, process: int, key: str) -> None:
        """Write only if the record is still at the generation this process last read."""
        value, gen = self.unique_value(process), self._seen_gen.get((process, key), 0)
        policy, meta = {"gen": P.POLICY_GEN_EQ}, {"gen": gen}
        recorder.call(process, "cas", key, lambda: client.put(record_key(key), {"v": value}, meta, policy),
                      value=value, gen=gen)

    def read_key(self, client: Client, recorder: Recorder, process: int, key: str) -> None:
        def get() -> tuple[Any, int]:
            _, meta, bins = client.get(record_key(key), policy=LINEARIZE)
            return bins.get("v"), meta["gen"]

        seen = recorder.read(process, key, get)
        if seen is not None:
            self._seen_gen[(process, key)] = seen[1]


class Counter(Workload):
    """Increment a bin by one (mostly) and read it; the checker counts lost increments."""

    name, prefix = "counter", "c"

    def __init__(self, keys: int = 1):
        super().__init__(keys)

    def update(self, client: Client, recorder: Recorder, process: int, key: str) -> None:
        increment = [{"op": P.OPERATOR_INCR, "bin": "n", "val": 1}]
        recorder.call(process, "incr", key, lambda: client.operate(record_key(key), increment), value=1)

    def read_key(self, client: Client, recorder: Recorder, process: int, key: str) -> None:
        recorder.call(process, "read", key, lambda: client.get(record_key(key), policy=LINEARIZE)[2].get("n"))


class GrowSet(Workload):
    """Add unique elements to a set (an appended string bin) and read it; the checker counts
    acknowledged elements the final read is missing."""

    name, prefix = "set", "s"

    def __init__(self, keys: int = 1):
        super().__init__(keys)

    def update(self, client: Client, recorder: Recorder, process: int, key: str) -> None:
        element = self.unique_value(process)
        add = [{"op": P.OPERATOR_APPEND, "bin": "s", "val": f"{element} "}]
        recorder.call(process, "add", key, lambda: client.operate(record_key(key), add), value=element)

    def read_key(self, client: Client, recorder: Recorder, process: int, key: str) -> None:
        def elements() -> tuple[int, ...]:
            text = client.get(record_key(key), policy=LINEARIZE)[2].get("s", "")
            return tuple(sorted(int(word) for word in text.split()))

        recorder.call(process, "read", key, elements)


class Mixed(Workload):
    """Each operation picks one of the three workloads: one run exercises every checker."""

    name = "mixed"

    def __init__(self, keys: int = 3):
        self.parts: list[Workload] = [Register(keys), Counter(1), GrowSet(1)]
        self.keys = [key for part in self.parts for key in part.keys]

    @property
    def hot_key(self) -> tuple[str, str, str]:
        return self.parts[0].hot_key

    def step(self, client: Client, recorder: Recorder, process: int, rng: random.Random) -> None:
        rng.choice(self.parts).step(client, recorder, process, rng)

    def final(self, client: Client, recorder: Recorder, process: int) -> None:
        for part in self.parts:
            part.final(client, recorder, process)


WORKLOADS: dict[str, type[Workload]] = {"register": Register, "counter": Counter, "set": GrowSet, "mixed": Mixed}


def make_workload(name: str | Workload, keys: int | None = None) -> Workload:
    """A workload by name ("register", "counter", "set", "mixed"), or the one given."""
    if isinstance(name, Workload):
        return name
    if name not in WORKLOADS:
        raise ValueError(f"unknown workload {name!r}; choose from {sorted(WORKLOADS)}")
    return WORKLOADS[name]() if keys is None else WORKLOADS[name](keys)
