"""History recording and the Recorder's ok / fail / info classification (issue 4: histories)."""

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from minikv.errors import (
    ClusterError,
    ConnectionError,
    RecordGenerationError,
    RecordNotFound,
    TimeoutError,
)
from minikv.jepsen import History, Recorder
from minikv.jepsen.history import workloads

JEPSEN = Path(__file__).resolve().parents[2] / "minikv" / "jepsen"


class FakeClock:
    """A clock that advances one tick per reading, so every recorded time is predictable."""

    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


def test_invoke_then_ok_pairs_into_one_op():
    """An invocation and its completion become one Op carrying both times, outcome and result."""
    history = History()
    history.invoke(3, "read", "k", time=1.5)
    history.ok(3, time=2.0, result=7, gen=2)
    [op] = history.ops()
    assert (op.process, op.kind, op.key, op.invoke, op.complete) == (3, "read", "k", 1.5, 2.0)
    assert (op.outcome, op.result, op.result_gen, op.latency) == ("ok", 7, 2, 0.5)


def test_a_process_has_at_most_one_pending_op():
    """Invoking twice on one process without completing is an error, as in Jepsen."""
    history = History()
    history.invoke(0, "write", 1, 1, time=0.0)
    with pytest.raises(ValueError):
        history.invoke(0, "write", 1, 2, time=0.1)


def test_completing_without_a_pending_op_is_an_error():
    """ok/fail/info need an invocation on that process first."""
    with pytest.raises(ValueError):
        History().ok(0, time=1.0)


def test_ops_still_pending_at_the_end_are_in_doubt():
    """An op the run never saw complete is reported as info with no completion time."""
    history = History()
    history.invoke(0, "write", 1, 5, time=0.0)
    [op] = history.ops()
    assert (op.outcome, op.complete, op.latency) == ("info", None, None)


def test_fail_and_info_are_recorded():
    """fail() and info() close the op with their outcome."""
    history = History()
    history.invoke(0, "write", 1, 5, time=0.0)
    history.fail(0, time=1.0)
    history.invoke(0, "cas", 1, 6, gen=1, time=2.0)
    history.info(0, time=3.0)
    assert [(op.outcome, op.gen) for op in history.ops()] == [("fail", None), ("info", 1)]


def test_dicts_survive_a_json_round_trip():
    """to_dicts() is JSON-safe and from_dicts() rebuilds the same ops (lists back to tuples)."""
    history = History()
    history.invoke(0, "write", 1, (1, 2), time=0.0)
    history.ok(0, time=1.0)
    history.invoke(1, "read", 1, time=0.5)
    history.ok(1, time=2.0, result=(1, 2), gen=1)
    history.invoke(2, "write", 1, 3, time=2.5)
    again = History.from_dicts(json.loads(json.dumps(history.to_dicts())))
    assert again.ops() == history.ops()


def test_recorder_marks_success_ok_with_clock_times():
    """A call that returns is ok, timed by the injected clock, and returns the callable's result."""
    history, clock = History(), FakeClock()
    assert Recorder(history, clock).call(0, "write", 7, lambda: "done", value=3) == "done"
    [op] = history.ops()
    assert (op.outcome, op.invoke, op.complete, op.value) == ("ok", 1.0, 2.0, 3)


@pytest.mark.parametrize("error, outcome", [
    (ClusterError("partition unavailable"), "fail"),
    (RecordGenerationError("gen moved"), "fail"),
    (TimeoutError("no answer"), "info"),  # in doubt even without the flag
    (ConnectionError("broke after send", in_doubt=True), "info"),
    (ConnectionError("refused"), "fail"),
])
def test_recorder_classifies_minikv_errors(error, outcome):
    """in_doubt or TimeoutError -> info; any other minikv error -> fail (definite)."""
    history = History()

    def raise_it():
        raise error

    assert Recorder(history, FakeClock()).call(0, "write", 7, raise_it, value=1) is None
    assert history.ops()[0].outcome == outcome


def test_recorder_records_other_exceptions_in_doubt_and_reraises():
    """A bug in the workload is not a definite failure: recorded info, then re-raised."""
    history = History()
    with pytest.raises(ZeroDivisionError):
        Recorder(history, FakeClock()).call(0, "write", 7, lambda: 1 / 0, value=1)
    assert history.ops()[0].outcome == "info"


def test_recorder_read_records_value_and_generation():
    """read() records what the read saw and the generation; a missing record reads as (None, 0)."""
    history = History()
    recorder = Recorder(history, FakeClock())
    assert recorder.read(0, 7, lambda: (3, 2)) == (3, 2)

    def missing():
        raise RecordNotFound("no record")

    assert recorder.read(0, 8, missing) == (None, 0)
    assert [(op.result, op.result_gen, op.outcome) for op in history.ops()] == [(3, 2, "ok"), (None, 0, "ok")]


def test_workloads_classify_keys_by_their_operations():
    """Keys with increments are counters, with adds sets, otherwise registers."""
    history = History()
    for process, (kind, key) in enumerate([("incr", "c"), ("read", "c"), ("add", "s"), ("cas", "r")]):
        history.invoke(process, kind, key, 1, time=0.0)
    assert workloads(history.ops()) == {"c": "counter", "s": "set", "r": "register"}


def test_jepsen_package_is_independent_of_the_cluster():
    """minikv.jepsen's checkers import neither the runtime, nor the client, nor a clock (the two
    modules that drive a cluster, workloads.py and runner.py, are the exception)."""
    imported = set()
    for path in JEPSEN.glob("*.py"):
        if path.name in ("workloads.py", "runner.py"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module)
            elif isinstance(node, ast.Import):
                imported |= {alias.name for alias in node.names}
    forbidden = {"minikv.runtime", "minikv.client", "time", "asyncio", "socket"}
    assert not {name for name in imported if any(name == f or name.startswith(f + ".") for f in forbidden)}


def test_jepsen_package_imports_without_plotly():
    """Importing minikv.jepsen does not import plotly (figures import it lazily)."""
    code = "import sys, minikv.jepsen; assert 'plotly' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_recorder_call_counts_a_missing_record_as_an_ok_read_of_nothing():
    """A counter or set read that finds no record is an answer (None), not a failure."""
    history = History()

    def missing():
        raise RecordNotFound("no record")

    assert Recorder(history, FakeClock()).call(0, "read", "c", missing) is None
    assert [(op.outcome, op.result) for op in history.ops()] == [("ok", None)]
    Recorder(history, FakeClock()).call(0, "incr", "c", missing, value=1)
    assert history.ops()[1].outcome == "fail"  # for a write it is a definite error


def test_jepsen_public_names_are_pinned():
    """minikv.jepsen exports exactly the names notebooks use (adding one means adding it here)."""
    import minikv.jepsen

    assert set(minikv.jepsen.__all__) == {
        "CounterResult", "History", "KeyVerdict", "Op", "Recorder", "RegisterResult", "Report", "SetResult",
        "check_register", "check_set", "count_lost_updates",
    }
    assert all(hasattr(minikv.jepsen, name) for name in minikv.jepsen.__all__)
