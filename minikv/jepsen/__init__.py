"""Jepsen-style testing for minikv: record what clients saw, then check it could have happened.

    from minikv.jepsen import History, Recorder, Report
    history = History()
    recorder = Recorder(history, clock=lambda: sim.now)  # or time.monotonic in real processes
    recorder.call(0, "write", 7, lambda: client.put(key, {"v": 3}), value=3)
    report = Report.check(history, nemesis=[(2.0, 5.0, "partition")])
    report                                             # verdict, counts, anomalies
    report.figure_timeline()                           # porcupine-style timeline

history.py records operations (ok / fail / in doubt); linearizability.py checks registers by the
Wing–Gong–Lowe search; anomalies.py counts lost increments and lost set elements; report.py
gathers the verdicts and draws them. Pure Python: nothing here talks to a cluster, so the same
checkers judge simulated and real runs (and hand-written histories in the notebooks).

Running a test against a cluster lives in three modules imported on their own, so that
`import minikv.jepsen` stays free of the client and the runtimes: workloads.py (register, counter,
grow-only set), nemesis.py (seeded fault schedules) and runner.py:

    from minikv.jepsen.runner import run_test
    report = run_test(minikv.SimCluster(3, seed=4), workload="mixed", nemesis="partitions", seed=4)
"""

from minikv.jepsen.anomalies import (
    CounterResult,
    SetResult,
    check_set,
    count_lost_updates,
)
from minikv.jepsen.history import History, Op, Recorder
from minikv.jepsen.linearizability import KeyVerdict, RegisterResult, check_register
from minikv.jepsen.report import Report

__all__ = [
    "CounterResult", "History", "KeyVerdict", "Op", "Recorder", "RegisterResult", "Report", "SetResult",
    "check_register", "check_set", "count_lost_updates",
]
