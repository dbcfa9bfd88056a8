"""LocalCluster's verbs on real processes, and bad input through the client against a real node.

The fault verbs (kill, restart, pause, resume) are what the course uses to break a cluster, so
each one is checked against what the operating system says about the process, not only against
the cluster object's own bookkeeping. The second half sends what a learner might get wrong
(a record too big, a namespace that does not exist, a value of the wrong type) and checks that
the error is the one Aerospike gives and that the node keeps serving.
"""

from __future__ import annotations

import pytest

import minikv
from conftest import all_gone, is_gone, process_state, wait_until
from minikv.core.messages import Info
from minikv.exception import (
    BinIncompatibleType,
    InvalidRequest,
    NamespaceNotFound,
    ParamError,
    RecordNotFound,
    RecordTooBig,
    TimeoutError,
)
from minikv.runtime.transport import TcpTransport

KEY = ("test", "demo", "user:1")
MiB = 1024 * 1024
SHORT = {"total_timeout": 300}  # ms; enough for a loopback round trip, short for a frozen node


# ---- lifecycle -----------------------------------------------------------------------------------


def test_close_is_idempotent(cluster):
    """close() stops every node, and a second close() does nothing."""
    pids = cluster.pids()
    cluster.close()
    cluster.close()
    assert all_gone(pids)
    assert cluster.node_states() == {"n1": "dead"}
    assert cluster.pids() == []


def test_with_block_closes():
    """Leaving the `with` block stops the nodes, even when the block raised."""
    with pytest.raises(RuntimeError, match="boom"), minikv.LocalCluster(nodes=2) as cluster:
        pids = cluster.pids()
        assert len(pids) == 2 and not any(is_gone(pid) for pid in pids)
        raise RuntimeError("boom")
    assert all_gone(pids)


def test_kill_and_restart(cluster):
    """kill makes the node dead with no pid; restart brings a new process on the same port."""
    [old_pid] = cluster.pids()
    cluster.kill("n1")
    assert cluster.node_states() == {"n1": "dead"}
    assert cluster.pids() == []
    assert is_gone(old_pid)
    cluster.restart("n1")
    assert cluster.node_states() == {"n1": "alive"}
    [new_pid] = cluster.pids()
    assert new_pid != old_pid and not is_gone(new_pid)


def test_pause_freezes_and_resume_thaws(cluster, client):
    """A paused node keeps its pid but answers nothing (reads time out); resumed, it answers again."""
    client.put(KEY, {"n": 1})
    [pid] = cluster.pids()
    cluster.pause("n1")
    assert cluster.node_states() == {"n1": "paused"}
    assert cluster.pids() == [pid]
    wait_until(lambda: process_state(pid) == "T", what="the node is stopped")
    with pytest.raises(TimeoutError) as caught:
        client.get(KEY, policy=SHORT)
    assert not caught.value.in_doubt  # a read that timed out changed nothing
    cluster.resume("n1")
    assert cluster.node_states() == {"n1": "alive"}
    assert client.get(KEY)[2] == {"n": 1}


def test_pause_and_resume_refuse_wrong_states(cluster):
    """Only a live node can be paused and only a paused one resumed; unknown nodes are KeyErrors."""
    with pytest.raises(RuntimeError, match="not paused"):
        cluster.resume("n1")
    cluster.kill("n1")
    with pytest.raises(RuntimeError, match="not alive"):
        cluster.pause("n1")
    with pytest.raises(KeyError, match="n7"):
        cluster.kill("n7")


def test_restart_comes_back_empty(cluster, client):
    """Records live in memory only: a restarted node has none, and the same client reconnects."""
    client.put(KEY, {"n": 1})
    cluster.restart("n1")
    with pytest.raises(RecordNotFound):
        client.get(KEY)
    assert cluster.info("n1")["objects"] == 0


def test_events_record_the_verbs(cluster):
    """cluster.events() tells the story of the verbs in order, in the node's vocabulary."""
    cluster.pause("n1")
    cluster.resume("n1")
    cluster.kill("n1")
    texts = [event.text for event in cluster.events() if event.role == "LocalCluster"]
    assert [text.split(" ")[0] for text in texts] == ["started,", "paused", "resumed", "killed"]


def test_node_runs_the_real_handler_unless_asked(cluster):
    """A default LocalCluster serves real node logic, not the benchmark's empty handler."""
    transport = TcpTransport()
    try:
        reply = transport.call(cluster.hosts[0], Info(("node",)), 2.0)
    finally:
        transport.close()
    assert reply.result == {"node": "n1"}  # the empty handler answers [1, 0, {}, None] to anything


# ---- bad input through the client ----------------------------------------------------------------


def test_record_over_one_mib_is_refused_and_node_keeps_serving(cluster, client):
    """A record over max-record-size (1 MiB) is RecordTooBig, nothing is stored, the node serves on."""
    [pid] = cluster.pids()
    with pytest.raises(RecordTooBig):
        client.put(KEY, {"blob": b"x" * (MiB + 1)})
    assert client.exists(KEY)[1] is None
    client.put(KEY, {"blob": b"x" * (MiB // 2)})
    assert len(client.get(KEY)[2]["blob"]) == MiB // 2
    assert cluster.pids() == [pid]


def test_unknown_namespace(client):
    """A namespace the node does not have is NamespaceNotFound, for writes and reads alike."""
    with pytest.raises(NamespaceNotFound):
        client.put(("nope", "demo", "k"), {"n": 1})
    with pytest.raises(NamespaceNotFound):
        client.get(("nope", "demo", "k"))


@pytest.mark.parametrize(
    ("value", "error"),
    [({1, 2}, ParamError), (object(), ParamError), (2**63, InvalidRequest), (2**64, ParamError)],
    ids=["set", "object", "int-over-int64", "int-over-uint64"],
)
def test_wrong_bin_value_type_stores_nothing(client, value, error):
    """A bin value minikv cannot store is refused (by the client or the node) and nothing is written."""
    with pytest.raises(error):
        client.put(KEY, {"ok": 1, "bad": value})
    assert client.exists(KEY)[1] is None


def test_increment_of_a_string_bin(client):
    """Incrementing a str bin is BinIncompatibleType and leaves the record as it was."""
    client.put(KEY, {"name": "Ada"})
    with pytest.raises(BinIncompatibleType):
        client.increment(KEY, "name", 1)
    _, meta, bins = client.get(KEY)
    assert (meta["gen"], bins) == (1, {"name": "Ada"})


def test_a_plugin_reaches_the_node_processes():
    """A module-level learner function given to LocalCluster runs inside every node process."""
    # by path: pytest imports test modules under names a node process would not find
    with minikv.LocalCluster(2, plugins={"succession_row": "tests.unit.test_plugins:by_name"}) as cluster:
        assert {row[0] for row in cluster.partition_table().values()} == {"n1"}
