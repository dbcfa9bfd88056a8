"""Checks for exercise 8, design a nemesis (exercises/ex8_nemesis.py, notebook 08_chaos_lab).

The learner's `chaos_schedule(node_ids)` returns a list of `minikv.jepsen.nemesis.Fault`s: what
breaks, for whom, from when to when. The checks hold it to a budget (at most two faults, one at a
time, inside a six-second run), then run it with `minikv.jepsen.runner.run_test` on fixed seeds:
the grow-only-set workload on three simulated nodes must lose acknowledged writes in AP mode on
every seed, and the same schedule in SC mode must lose nothing, stay linearizable and end with a
successful final read. Every run is a SimCluster with a fixed seed, so a failing report can be
replayed exactly with `run_schedule(faults, mode, seed)`.

`ScheduledNemesis` is the small adapter that lets run_test play a fixed list of faults instead
of drawing them at random; notebook 08 uses it too.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType
from typing import Any

import minikv
from minikv.grading.registry import CheckFailed, Exercise, call
from minikv.jepsen import Report
from minikv.jepsen.nemesis import Fault, Nemesis
from minikv.jepsen.runner import run_test
from minikv.jepsen.workloads import make_workload

NODES = ["n1", "n2", "n3"]
RUN_TIME = 6.0  # virtual seconds of client traffic; every fault must end by then
MAX_FAULTS = 2  # the budget
KINDS = ("halves", "isolate-master", "kill", "pause")  # what Nemesis.begin knows how to do
WORKLOAD, PROCESSES, THINK = "set", 3, (0.05, 0.15)  # three clients adding to a grow-only set
AP_SEEDS, SC_SEEDS = (1, 2), (1,)


class ScheduledNemesis(Nemesis):
    """A nemesis that plays the faults it is given, in order, instead of drawing them at random.
    Everything else (doing each fault, repairing it, recording its window) is Nemesis's own."""

    def __init__(self, faults: Sequence[Fault], hot_key: tuple | None = None):
        super().__init__("none", 0, hot_key)
        self.faults = sorted(faults, key=lambda fault: fault.start)

    def plan(self, duration: float, node_ids: list[str]) -> list[Fault]:
        """The given faults that end within the run."""
        return [fault for fault in self.faults if fault.end <= duration]


def run_schedule(faults: Sequence[Fault], mode: str = "ap", seed: int = 1, duration: float = RUN_TIME,
                 workload: str = WORKLOAD, processes: int = PROCESSES) -> Report:
    """Run `workload` on a fresh 3-node SimCluster in `mode` while `faults` happen; the report."""
    load = make_workload(workload)
    sim = minikv.SimCluster(len(NODES), seed=seed, mode=mode)
    try:
        return run_test(sim, workload=load, nemesis=ScheduledNemesis(faults, load.hot_key), duration=duration,
                        seed=seed, processes=processes, think=THINK)
    finally:
        sim.close()


def budget_problems(faults: Any, node_ids: list[str] = NODES) -> list[str]:
    """What is wrong with a schedule, in plain sentences (an empty list: within the budget)."""
    if not isinstance(faults, (list, tuple)) or not all(isinstance(f, Fault) for f in faults):
        return [f"expected a list of Fault(start, end, kind, nodes), got {faults!r}"]
    problems = [] if 1 <= len(faults) <= MAX_FAULTS else [f"{len(faults)} faults; the budget is 1 to {MAX_FAULTS}"]
    previous_end = 0.0
    for fault in sorted(faults, key=lambda f: f.start):
        problems += [f"{fault}: {p}" for p in _fault_problems(fault, node_ids)]
        if fault.start < previous_end:
            problems.append(f"{fault}: starts at {fault.start} before the previous fault ended ({previous_end}); "
                            "one fault at a time")
        previous_end = max(previous_end, fault.end)
    return problems


def _fault_problems(fault: Fault, node_ids: list[str]) -> list[str]:
    if fault.kind not in KINDS:
        return [f"unknown kind {fault.kind!r}; the kinds are {list(KINDS)}"]
    if not all(isinstance(t, (int, float)) for t in (fault.start, fault.end)):
        return ["start and end must be numbers of seconds into the run"]
    problems = [] if 0 <= fault.start < fault.end <= RUN_TIME else \
        [f"must satisfy 0 <= start < end <= {RUN_TIME} (the run's length)"]
    if not isinstance(fault.nodes, tuple) or not all(isinstance(group, tuple) for group in fault.nodes):
        return problems + ["nodes must be a tuple of tuples, e.g. (('n1',), ('n2', 'n3'))"]
    groups = list(fault.nodes)
    named = sorted(n for group in groups for n in group)
    if fault.kind == "halves" and (len(groups) != 2 or not all(groups) or named != sorted(node_ids)):
        problems.append(f"a split needs nodes=(group, other_group): two non-empty groups sharing out {node_ids}")
    if fault.kind in ("kill", "pause") and (len(groups) != 1 or len(named) != 1 or named[0] not in node_ids):
        problems.append(f"a {fault.kind} needs nodes=((node,),), one node of {node_ids}")
    if fault.kind == "isolate-master" and named:
        problems.append("isolate-master finds its node itself: nodes=()")
    return problems


# ---- the checks -------------------------------------------------------------------------------------

def check_8_1_within_budget(learner: ModuleType) -> None:
    """chaos_schedule returns one or two Faults of known kinds, one at a time, inside the 6-second run."""
    problems = budget_problems(_schedule(learner))
    if problems:
        raise CheckFailed("chaos_schedule(['n1', 'n2', 'n3']) is outside the budget:\n  " + "\n  ".join(problems))


def check_8_2_ap_loses_acknowledged_writes(learner: ModuleType) -> None:
    """In AP mode your schedule makes the grow-only set lose acknowledged adds on seeds 1 and 2."""
    faults = _within_budget(learner)
    for seed in AP_SEEDS:
        report = run_schedule(faults, "ap", seed)
        if report.lost_writes == 0:
            raise CheckFailed(f"{_replay(faults, 'ap', seed)}\nlost no acknowledged write:\n{report}\n"
                              "A fault must last long enough for the cluster to split its view (the failure "
                              "detector needs 0.5 s), and clients must write on both sides.")


def check_8_3_sc_stays_clean(learner: ModuleType) -> None:
    """In SC mode the same schedule loses nothing, stays linearizable and ends with a successful final read."""
    faults = _within_budget(learner)
    for seed in SC_SEEDS:
        report = run_schedule(faults, "sc", seed)
        no_final = [r.key for r in report.sets if r.final_size is None]
        if not report.valid or report.lost_writes or no_final:
            why = f"no successful final read of {no_final} (still unavailable)" if no_final else "anomalies"
            raise CheckFailed(f"{_replay(faults, 'sc', seed)}\n{why}:\n{report}")


def _schedule(learner: ModuleType) -> Any:
    return call(learner.chaos_schedule, list(NODES))


def _within_budget(learner: ModuleType) -> list[Fault]:
    faults = _schedule(learner)
    problems = budget_problems(faults)
    if problems:
        raise CheckFailed("outside the budget (see 8_1), so not run:\n  " + "\n  ".join(problems))
    return list(faults)


def _replay(faults: Sequence[Fault], mode: str, seed: int) -> str:
    return f"run_schedule({list(faults)}, mode={mode!r}, seed={seed})"


EXERCISE = Exercise(id="ex8", title="Design a nemesis", module="ex8_nemesis",
                    checks=[check_8_1_within_budget, check_8_2_ap_loses_acknowledged_writes,
                            check_8_3_sc_stays_clean])
