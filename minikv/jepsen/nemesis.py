"""The nemesis: Jepsen's name for the process that breaks the cluster while the clients work.

A schedule alternates quiet periods and faults, all drawn in advance from one seeded
random.Random, so a seed names a run. The faults are the ones Jepsen used on Aerospike:

    halves          cut the cluster into two random halves (3 nodes: 1 | 2), then heal
    isolate-master  cut off the node that masters the hot key's partition, then heal: its
                    clients keep writing to it while the others elect a new master
    kill            kill -9 a node (its records are in memory: it comes back empty), restart it
    pause           SIGSTOP a node, then SIGCONT: a process that stops, as in a long GC pause

Named schedules pick each fault from a few kinds: "partitions" (halves or isolate-master: the
partition-heavy one), "partitions-kill" (those and kill), "mix" (all four), one kind by its own
name, or "none".

The schedule talks to the cluster only through the verbs LocalCluster and SimCluster share
(partition, isolate, heal, kill, restart, pause, resume, partition_table), so one Nemesis object
drives either; the runner decides *when* (virtual time in the simulator, the wall clock for real
processes). Every fault is recorded as a window (start, end, description) in the run's time, and
the report shades those windows on its figures. A fault ends with everything repaired, so the
cluster is whole again at the end of the schedule, ready for the final reads.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from minikv.jepsen.report import Window
from minikv.keys import key_digest, partition_id

SCHEDULES: dict[str, tuple[str, ...]] = {
    "none": (),
    "partitions": ("halves", "isolate-master"),
    "halves": ("halves",),
    "isolate-master": ("isolate-master",),
    "kill": ("kill",),
    "pause": ("pause",),
    "partitions-kill": ("halves", "isolate-master", "kill"),
    "mix": ("halves", "isolate-master", "kill", "pause"),
}
FAULT_TIME = (1.0, 3.0)  # seconds a fault lasts, drawn uniformly (long enough for a new view)
QUIET_TIME = (1.0, 2.0)  # seconds between faults (time to heal, merge and migrate)


@dataclass(frozen=True, slots=True)
class Fault:
    """One planned fault: what, to whom, from `start` to `end` seconds into the run."""

    start: float
    end: float
    kind: str  # one of the kinds above
    nodes: tuple[tuple[str, ...], ...]  # halves: the two groups; kill/pause: (node,); isolate-master: ()


class Nemesis:
    """A seeded schedule of faults, and the windows of the ones that happened."""

    def __init__(self, schedule: str = "partitions", seed: int = 0, hot_key: tuple | None = None,
                 fault_time: tuple[float, float] = FAULT_TIME, quiet_time: tuple[float, float] = QUIET_TIME):
        if schedule not in SCHEDULES:
            raise ValueError(f"unknown nemesis {schedule!r}; choose from {sorted(SCHEDULES)}")
        self.schedule, self.seed = schedule, seed
        self.hot_key = hot_key or ("test", "jepsen", "r0")
        self.fault_time, self.quiet_time = fault_time, quiet_time
        self.windows: list[Window] = []  # [(start, end, description)] of faults that happened
        self._open: dict[int, tuple[Fault, float, str]] = {}  # {id(fault): (fault, start, what)} while active

    # ---- planning ------------------------------------------------------------------------------

    def plan(self, duration: float, node_ids: list[str]) -> list[Fault]:
        """Faults that start and end within `duration` seconds, quiet time before each. A function
        of the seed, the duration and the nodes only: planning twice gives the same plan."""
        rng, faults, t = random.Random(self.seed), [], 0.0
        kinds = SCHEDULES[self.schedule]
        while kinds:
            start = t + rng.uniform(*self.quiet_time)
            end = start + rng.uniform(*self.fault_time)
            if end > duration:
                break
            kind = rng.choice(kinds)
            faults.append(Fault(start, end, kind, self._targets(rng, kind, node_ids)))
            t = end
        return faults

    def _targets(self, rng: random.Random, kind: str, node_ids: list[str]) -> tuple[tuple[str, ...], ...]:
        if kind == "halves":
            shuffled = rng.sample(node_ids, len(node_ids))
            half = len(shuffled) // 2
            return (tuple(sorted(shuffled[:half])), tuple(sorted(shuffled[half:])))
        if kind in ("kill", "pause"):
            return ((rng.choice(node_ids),),)
        return ()  # isolate-master: the master is whoever holds the hot key when the fault starts

    # ---- acting on a cluster -------------------------------------------------------------------

    def begin(self, cluster: Any, fault: Fault, now: Callable[[], float]) -> None:
        """Start `fault` on `cluster` (a LocalCluster or SimCluster); `now` gives run time."""
        start = now()
        if fault.kind == "halves":
            cluster.partition(*[list(group) for group in fault.nodes])
            what = "partition " + " | ".join(",".join(group) for group in fault.nodes)
        elif fault.kind == "isolate-master":
            master = self.master_of_hot_key(cluster)
            cluster.isolate(master)
            what = f"isolate {master} (master of {self.hot_key[2]})"
        elif fault.kind == "kill":
            cluster.kill(fault.nodes[0][0])
            what = f"kill -9 {fault.nodes[0][0]}"
        elif fault.kind == "pause":
            cluster.pause(fault.nodes[0][0])
            what = f"pause {fault.nodes[0][0]}"
        else:
            raise ValueError(f"unknown fault kind {fault.kind!r}; choose from {SCHEDULES['mix']}")
        self._open[id(fault)] = (fault, start, what)  # by identity: a fault's nodes may be lists

    def end(self, cluster: Any, fault: Fault, now: Callable[[], float]) -> None:
        """Repair what `fault` broke, and record its window (until the repair returned)."""
        if id(fault) not in self._open:
            return  # it never began (the run stopped first)
        if fault.kind in ("halves", "isolate-master"):
            cluster.heal()
        elif fault.kind == "kill":
            cluster.restart(fault.nodes[0][0])  # returns once the node serves again
        else:
            cluster.resume(fault.nodes[0][0])
        _, start, what = self._open.pop(id(fault))
        self.windows.append((start, now(), what))

    def master_of_hot_key(self, cluster: Any) -> str:
        """The node that masters the hot key's partition, as the cluster sees it now."""
        pid = partition_id(key_digest(self.hot_key))
        return cluster.partition_table()[pid][0]

    def repair(self, cluster: Any, now: Callable[[], float]) -> None:
        """End every fault still active (a run cut short must leave the cluster whole)."""
        for fault, _, _ in list(self._open.values()):
            self.end(cluster, fault, now)
