"""The Jepsen runner, nemesis and workloads in the simulator (issue 4: histories, workloads, nemesis).

The runner drives several client processes with operations truly in flight at once in virtual
time, records each invoke/ok/fail/info, and is as deterministic as the simulator: one seed, one
history. The nemesis plans its faults from its seed and records a window per fault.
"""

from __future__ import annotations

import functools
import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import minikv
from minikv.jepsen import History, Report
from minikv.jepsen.nemesis import SCHEDULES, Fault, Nemesis
from minikv.jepsen.runner import run_test
from minikv.jepsen.workloads import Mixed, make_workload, record_key

ROOT = Path(__file__).resolve().parents[2]


def small_run(seed: int, nemesis: str = "partitions", workload: str = "mixed", mode: str = "ap") -> Report:
    """Three nodes, four processes, three virtual seconds."""
    sim = minikv.SimCluster(3, seed=seed, mode=mode)
    schedule = Nemesis(nemesis, seed, fault_time=(0.8, 1.2), quiet_time=(0.5, 0.8))
    try:
        return run_test(sim, workload=workload, nemesis=schedule, duration=3.0, seed=seed, processes=4)
    finally:
        sim.close()


def fingerprint(seed: int) -> str:
    """Everything a run recorded, as JSON: the history and the nemesis windows."""
    report = small_run(seed)
    return json.dumps({"ops": History.of(report.ops).to_dicts(), "windows": report.nemesis}, default=str)


@functools.cache
def reference() -> str:
    """fingerprint(5), computed once for the tests that compare against it."""
    return fingerprint(5)


# ---- the driver ---------------------------------------------------------------------------------


def test_same_seed_gives_the_identical_history():
    """Two simulated runs with one seed record the same operations, outcomes, times and windows."""
    assert fingerprint(5) == reference()


def test_same_seed_same_history_in_another_process():
    """The history is the same in a fresh interpreter with another PYTHONHASHSEED."""
    code = "import sys; sys.path.insert(0, 'tests/sim'); from test_jepsen_runner import fingerprint; print(fingerprint(5))"
    env = {**os.environ, "PYTHONHASHSEED": "4321"}
    output = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True,
                            check=True, timeout=60).stdout
    assert output.strip() == reference()


def test_different_seeds_give_different_histories():
    """The seed drives the operations and the faults, so another seed records another history."""
    assert fingerprint(6) != reference()


def test_processes_have_operations_in_flight_at_the_same_time():
    """Operations of different processes overlap in virtual time (the point of concurrency)."""
    ops = [op for op in small_run(3, nemesis="none").ops if op.complete is not None]
    overlapping = sum(1 for a, b in itertools.pairwise(ops) if a.process != b.process and b.invoke < a.complete)
    assert overlapping > len(ops) // 4
    assert len({op.process for op in ops}) == 5  # four client processes and the final reader


def test_without_a_nemesis_the_history_is_valid():
    """The control run: no faults, so AP mode loses nothing and every register is linearizable."""
    report = small_run(3, nemesis="none")
    assert report.valid and report.lost_writes == 0 and report.nemesis == []
    assert report.counts["ok"] > 200 and report.register is not None and len(report.counters) == 1


def test_final_reads_come_after_the_run_from_their_own_process():
    """After the run, process `processes` reads every key once, after every fault is repaired."""
    report = small_run(4)
    finals = [op for op in report.ops if op.process == 4]
    assert [op.key for op in finals] == Mixed().keys
    assert all(op.kind == "read" and op.outcome == "ok" for op in finals)
    last_window_end = max(end for _, end, _ in report.nemesis)
    assert min(op.invoke for op in finals) >= max(3.0, last_window_end)


@pytest.mark.parametrize("workload", ["register", "counter", "set"])
def test_each_workload_records_its_own_kinds(workload: str):
    """Registers read/write/cas, counters incr/read, sets add/read; all on the workload's keys."""
    report = small_run(2, nemesis="none", workload=workload)
    kinds = {op.kind for op in report.ops}
    expected = {"register": {"read", "write", "cas"}, "counter": {"incr", "read"}, "set": {"add", "read"}}
    assert kinds == expected[workload]
    assert {op.key for op in report.ops} == set(make_workload(workload).keys)


def test_a_paused_node_leaves_operations_in_doubt():
    """SIGSTOP-like pauses make requests time out: some writes end in doubt ("info")."""
    report = small_run(1, nemesis="pause", workload="register")
    assert report.counts["info"] > 0
    assert all(op.outcome == "info" for op in report.ops if op.complete is not None and op.latency >= 1.0)


# ---- the nemesis ---------------------------------------------------------------------------------


def test_a_plan_depends_only_on_the_seed():
    """The same seed plans the same faults; faults do not overlap and end within the duration."""
    nodes = ["n1", "n2", "n3"]
    plan = Nemesis("mix", 9).plan(30.0, nodes)
    assert plan == Nemesis("mix", 9).plan(30.0, nodes) != Nemesis("mix", 10).plan(30.0, nodes)
    assert all(a.end < b.start for a, b in itertools.pairwise(plan)) and plan[-1].end <= 30.0
    assert {fault.kind for fault in plan} <= set(SCHEDULES["mix"])


def test_halves_split_every_node_into_two_groups():
    """A halves fault names two groups that together hold every node, the smaller first."""
    for fault in Nemesis("halves", 2).plan(20.0, ["n1", "n2", "n3", "n4", "n5"]):
        small, large = fault.nodes
        assert (len(small), len(large)) == (2, 3) and sorted(small + large) == ["n1", "n2", "n3", "n4", "n5"]


def test_isolate_master_cuts_off_the_hot_keys_master():
    """The isolate-master fault isolates whoever masters the hot key when it begins; its window
    names that node, and ending it heals the cluster."""
    sim = minikv.SimCluster(3, seed=1)
    nemesis = Nemesis("isolate-master", 1, hot_key=record_key("r0"))
    master = nemesis.master_of_hot_key(sim)
    fault = Fault(0.0, 1.0, "isolate-master", ())
    nemesis.begin(sim, fault, lambda: 0.5)
    assert sim.net.faults.splits(set(sim.node_ids))
    nemesis.end(sim, fault, lambda: 1.5)
    assert nemesis.windows == [(0.5, 1.5, f"isolate {master} (master of r0)")]
    assert not sim.net.faults.cut


def test_kill_restarts_and_pause_resumes():
    """Ending a kill restarts the node; ending a pause resumes it; repair() ends what is open."""
    sim = minikv.SimCluster(3, seed=2)
    nemesis = Nemesis("mix", 2)
    kill, pause = Fault(0, 1, "kill", (("n2",),)), Fault(1, 2, "pause", (("n3",),))
    nemesis.begin(sim, kill, lambda: 0.0)
    nemesis.begin(sim, pause, lambda: 0.1)
    assert sim.node_states() == {"n1": "alive", "n2": "dead", "n3": "paused"}
    nemesis.repair(sim, lambda: 2.0)
    assert set(sim.node_states().values()) == {"alive"}
    assert [what for _, _, what in nemesis.windows] == ["kill -9 n2", "pause n3"]


def test_unknown_names_are_refused():
    """A misspelt nemesis or workload fails loudly, naming the choices."""
    with pytest.raises(ValueError, match="partitions"):
        Nemesis("partition")
    with pytest.raises(ValueError, match="register"):
        make_workload("registers")
