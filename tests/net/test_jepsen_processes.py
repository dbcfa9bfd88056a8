"""Issue 4, must hold (real processes): a 30-second run with partitions and kills, in both modes.

Three node processes, four client threads (one client each) on the "mixed" workload, and the
"partitions-kill" nemesis with a fixed seed whose plan has random halves, an isolated master and
kill -9 with restart. In AP mode the report says what was lost, and these tests check that it is
produced and consistent with itself (how much is lost depends on timing); in SC mode nothing may
be lost and every register history must be linearizable. Each run takes ~40 s, hence `slow`.
"""

from __future__ import annotations

import pytest

from minikv import LocalCluster
from minikv.jepsen import Report
from minikv.jepsen.nemesis import Nemesis
from minikv.jepsen.runner import run_test
from minikv.jepsen.workloads import Mixed

SEED = 2  # its 30 s plan on n1..n3: halves, kill, halves, kill, then isolated masters
DURATION, PROCESSES = 30.0, 4

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]


def real_run(mode: str) -> Report:
    with LocalCluster(3, mode=mode) as cluster:
        return run_test(cluster, workload="mixed", nemesis=Nemesis("partitions-kill", SEED),
                        duration=DURATION, seed=SEED, processes=PROCESSES)


def test_the_plan_has_partitions_and_kills():
    """The seeded plan exercises both fault families the issue names."""
    kinds = {fault.kind for fault in Nemesis("partitions-kill", SEED).plan(DURATION, ["n1", "n2", "n3"])}
    assert {"halves", "isolate-master", "kill"} <= kinds


def test_ap_run_in_real_processes_reports_what_it_lost():
    """AP mode: the report counts every op once, shades every planned fault, ends with a final read
    of every key, and its lost-write count and anomalies agree with the per-key results."""
    report = real_run("ap")
    counts = report.counts
    assert counts["ok"] + counts["fail"] + counts["info"] == counts["ops"] == len(report.ops) > 100
    assert counts["processes"] == PROCESSES + 1 and counts["keys"] == len(Mixed().keys)
    plan = Nemesis("partitions-kill", SEED).plan(DURATION, ["n1", "n2", "n3"])
    assert len(report.nemesis) == len(plan)
    assert sum(what.startswith("kill") for _, _, what in report.nemesis) == sum(f.kind == "kill" for f in plan)
    finals = [op for op in report.ops if op.process == PROCESSES]
    assert sorted(op.key for op in finals) == sorted(Mixed().keys)
    assert min(op.invoke for op in finals) >= max(end for _, end, _ in report.nemesis)
    assert report.lost_writes == counts["lost_increments"] + counts["lost_elements"]
    assert report.valid == (report.anomalies == []) and all(a in str(report) for a in report.anomalies)
    assert len(report.figure_timeline().layout.shapes) == len(report.nemesis)


def test_sc_run_in_real_processes_has_no_anomaly():
    """SC mode: the same run loses no acknowledged write and every register is linearizable."""
    report = real_run("sc")
    assert report.lost_writes == 0 and report.anomalies == []
    assert report.valid and report.register.valid
    assert report.notes == []  # and the cluster settled once the faults were repaired
