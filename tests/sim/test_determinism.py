"""The simulator is deterministic, and its faults give the errors a real network gives.

Same seed and same calls: the same event log, the same cluster key, the same virtual clock, even
in another process with another hash seed. A paused node makes calls time out in virtual time
(a write in doubt, a read not); a killed node refuses connections (definite) or loses a request
in flight (a write in doubt).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import minikv
from minikv import exception as ex

KEY = ("test", "demo", "k")
FAST = {"total_timeout": 200}  # ms: a call gives up after 0.2 s of virtual time


def scenario(seed: int) -> dict:
    """A short story touching every source of events: writes, expiry and purge, pause, kill, restart."""
    sim = minikv.SimCluster(nodes=1, seed=seed)
    client = sim.client()
    for i in range(20):
        client.put(("test", "demo", i), {"n": i}, meta={"ttl": 1 + i % 3})
    client.increment(KEY, "n", 1)
    sim.run_for(5)
    sim.pause("n1")
    with pytest.raises(ex.TimeoutError):
        client.get(KEY, policy=FAST)
    sim.resume("n1")
    ttl_seen = client.get(KEY)[1]
    sim.kill("n1")
    sim.restart("n1")
    client.put(KEY, {"n": 1})
    return {
        "events": [(e.t, e.node, e.role, e.text) for e in sim.events()],
        "cluster_key": sim.info("n1")["cluster_key"],
        "now": sim.now,
        "meta": ttl_seen,
    }


def test_same_seed_same_run() -> None:
    """Two runs with the same seed and calls give identical event logs, cluster keys and clocks."""
    first, second = scenario(seed=42), scenario(seed=42)
    assert first == second
    roles = {role for _, _, role, _ in first["events"]}
    assert {"Node", "Nsup", "SimCluster"} <= roles  # the story did log all kinds of events


def test_same_seed_in_another_process() -> None:
    """The run is the same in a fresh interpreter with a different PYTHONHASHSEED."""
    code = (
        "import json, sys; sys.path.insert(0, 'tests/sim');"
        "from test_determinism import scenario; print(json.dumps(scenario(42)))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    output = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True, timeout=60,
        cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
    ).stdout
    assert json.loads(output) == json.loads(json.dumps(scenario(42)))


def test_different_seeds_different_cluster_keys() -> None:
    """Different seeds give different cluster keys (a random 48-bit id, as in Aerospike)."""
    keys = {minikv.SimCluster(nodes=1, seed=seed).info("n1")["cluster_key"] for seed in range(1, 6)}
    assert len(keys) == 5


def test_different_seeds_different_timing() -> None:
    """The seed drives the network latencies, so the virtual clock after the same calls differs."""
    assert scenario(1)["now"] != scenario(2)["now"]


def test_restart_gets_a_new_cluster_key() -> None:
    """A restarted node is a new process: a new cluster key and an empty store."""
    sim = minikv.SimCluster(nodes=1, seed=3)
    client = sim.client()
    client.put(KEY, {"n": 1})
    before = sim.info("n1")["cluster_key"]
    sim.kill("n1")
    sim.restart("n1")
    assert sim.info("n1")["cluster_key"] != before
    with pytest.raises(ex.RecordNotFound):
        client.get(KEY)


# ---- a paused node ------------------------------------------------------------------------------


@pytest.fixture
def paused() -> tuple[minikv.SimCluster, minikv.Client]:
    """A one-node cluster holding KEY = {"n": 1}, its node paused (as if SIGSTOPped)."""
    sim = minikv.SimCluster(nodes=1, seed=5)
    client = sim.client()
    client.put(KEY, {"n": 1})
    sim.pause("n1")
    return sim, client


def test_paused_write_times_out_in_doubt(paused: tuple[minikv.SimCluster, minikv.Client]) -> None:
    """A write to a paused node times out after total_timeout of virtual time, with in_doubt True."""
    sim, client = paused
    start = sim.now
    with pytest.raises(ex.TimeoutError) as caught:
        client.put(KEY, {"n": 2}, policy=FAST)
    assert caught.value.in_doubt is True
    assert caught.value.code == 9
    assert 0.2 <= sim.now - start < 0.3


def test_paused_read_times_out_not_in_doubt(paused: tuple[minikv.SimCluster, minikv.Client]) -> None:
    """A read that times out is not in doubt: a read changes nothing."""
    _, client = paused
    with pytest.raises(ex.TimeoutError) as caught:
        client.get(KEY, policy=FAST)
    assert caught.value.in_doubt is False


def test_default_timeout_is_one_second(paused: tuple[minikv.SimCluster, minikv.Client]) -> None:
    """Without a policy the client waits Aerospike's default total_timeout, 1 s of virtual time."""
    sim, client = paused
    start = sim.now
    with pytest.raises(ex.TimeoutError):
        client.put(KEY, {"n": 2})
    assert 1.0 <= sim.now - start < 1.1


def test_resume_delivers_held_write(paused: tuple[minikv.SimCluster, minikv.Client]) -> None:
    """The timed-out write was held, not lost: after resume it is applied. In doubt meant maybe."""
    sim, client = paused
    with pytest.raises(ex.TimeoutError):
        client.put(KEY, {"n": 2}, policy=FAST)
    sim.resume("n1")
    _, meta, bins = client.get(KEY)
    assert bins == {"n": 2} and meta["gen"] == 2


def test_resume_serves_new_calls(paused: tuple[minikv.SimCluster, minikv.Client]) -> None:
    """After resume the node answers new calls normally."""
    sim, client = paused
    sim.resume("n1")
    client.increment(KEY, "n", 1)
    assert client.get(KEY)[2] == {"n": 2}


# ---- a killed node --------------------------------------------------------------------------------


def test_killed_node_refuses_definitely() -> None:
    """Calls to a killed node fail with ConnectionError (a ClientError), definite: nothing was sent."""
    sim = minikv.SimCluster(nodes=1, seed=6)
    client = sim.client()
    client.put(KEY, {"n": 1})
    sim.kill("n1")
    for call, args in [(client.put, ({"n": 2},)), (client.get, ()), (client.increment, ("n", 1))]:
        with pytest.raises(ex.ConnectionError) as caught:
            call(KEY, *args)
        assert isinstance(caught.value, ex.ClientError)
        assert caught.value.in_doubt is False
        assert caught.value.code == -10


def test_kill_with_write_in_flight_is_in_doubt() -> None:
    """A node killed after a write was sent but before it arrived: ConnectionError with in_doubt True."""
    sim = minikv.SimCluster(nodes=1, seed=6)
    client = sim.client()
    sim.schedule(0.0001, lambda: sim.kill("n1"))  # fires before the request's network latency ends
    with pytest.raises(ex.ConnectionError) as caught:
        client.put(KEY, {"n": 1})
    assert caught.value.in_doubt is True


def test_kill_with_read_in_flight_is_not_in_doubt() -> None:
    """A read lost the same way is not in doubt; the retries then find the node dead."""
    sim = minikv.SimCluster(nodes=1, seed=6)
    client = sim.client()
    sim.schedule(0.0001, lambda: sim.kill("n1"))
    with pytest.raises(ex.ConnectionError) as caught:
        client.get(KEY)
    assert caught.value.in_doubt is False


def test_restarted_node_serves_again() -> None:
    """After restart the same client reaches the node again (its store starts empty)."""
    sim = minikv.SimCluster(nodes=1, seed=6)
    client = sim.client()
    sim.kill("n1")
    with pytest.raises(ex.ConnectionError):
        client.get(KEY)
    sim.restart("n1")
    client.put(KEY, {"n": 1})
    assert client.get(KEY)[2] == {"n": 1}
    assert [e.text for e in sim.events() if e.role == "SimCluster"] == ["killed", "restarted"]
