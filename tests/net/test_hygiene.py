"""Process hygiene of LocalCluster: node processes never outlive the process that started them.

Issue 2: "Node processes die with the process that started them: Ctrl-C, kernel restart, kill -9
of the parent. Ports are picked free at start; two clusters can run side by side. Node output
goes to log files the cluster object can show, never to the notebook from a background thread."

A Jupyter kernel restart is a SIGKILL (or SIGTERM) of the kernel process, so the tests stand in
a small parent script for the kernel: it starts a LocalCluster, prints its node pids, and waits
to be killed. The guards under test live in minikv/runtime/process.py (parent-death signal,
stdin EOF) and local_cluster.py (one long-lived spawner thread, a finalizer).
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

import minikv
from conftest import (
    all_gone,
    is_gone,
    kill_leftover_nodes,
    node_children,
    process_state,
    wait_until,
)
from minikv.exception import RecordNotFound

# The stand-in for a notebook kernel. argv[1] says how it builds its cluster; it prints
# {"pids": [...], "hosts": [...]} on one line, then blocks (or, in "return" mode, just ends).
PARENT = """
import json, sys, threading
import minikv

mode = sys.argv[1]
if mode == "thread":  # created in a thread that ends at once, while this process lives on
    box = []
    worker = threading.Thread(target=lambda: box.append(minikv.LocalCluster(nodes=2)))
    worker.start()
    worker.join()
    cluster = box[0]
else:
    cluster = minikv.LocalCluster(nodes=2)
if mode == "pause":
    cluster.pause("n1")
print(json.dumps({"pids": cluster.pids(), "hosts": cluster.hosts}), flush=True)
if mode != "return":  # "return": the script ends without close(), as a finished program does
    threading.Event().wait()
"""

READ_TIMEOUT = 30.0  # seconds for the parent to start python, import minikv and start 2 nodes


def read_line(proc: subprocess.Popen, timeout: float = READ_TIMEOUT) -> str:
    """One line of the child's stdout, with a deadline (a bare readline could block forever).

    Reads the pipe a byte at a time, so no line waits in a Python buffer that select() cannot see.
    """
    line = b""
    deadline = time.monotonic() + timeout
    while not line.endswith(b"\n"):
        ready, _, _ = select.select([proc.stdout], [], [], max(0.0, deadline - time.monotonic()))
        assert ready, f"no full line from pid {proc.pid} within {timeout} s (got {line!r})"
        byte = os.read(proc.stdout.fileno(), 1)
        assert byte, f"pid {proc.pid} exited with {proc.wait()} after printing {line!r}"
        line += byte
    return line.decode()


class Spawner:
    """Starts child processes and remembers them and their nodes, for the teardown to clean."""

    def __init__(self) -> None:
        self.children: list[subprocess.Popen] = []
        self.nodes: list[int] = []  # node pids the children reported or were seen with

    def start(self, argv: list[str], new_session: bool = False) -> subprocess.Popen:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, bufsize=0, start_new_session=new_session)
        self.children.append(proc)
        return proc

    def cleanup(self) -> None:
        for proc in self.children:
            if proc.poll() is None:
                self.nodes += node_children(proc.pid)
                proc.kill()
            proc.wait()
            proc.stdout.close()
        kill_leftover_nodes(self.nodes)


@pytest.fixture
def spawn() -> Iterator[Spawner]:
    """A Spawner; whatever a test leaves running (after a failure) is killed at teardown."""
    spawner = Spawner()
    yield spawner
    spawner.cleanup()


def start_parent(spawn: Spawner, mode: str) -> tuple[subprocess.Popen, dict]:
    """Run the PARENT script in `mode`; returns it and what it printed (pids, hosts)."""
    proc = spawn.start([sys.executable, "-c", PARENT, mode])
    started = json.loads(read_line(proc))
    spawn.nodes += started["pids"]
    assert len(started["pids"]) == 2
    if mode != "return":  # a returning parent may already be gone, and its nodes with it
        assert not any(is_gone(pid) for pid in started["pids"])
    return proc, started


# ---- the parent dies -----------------------------------------------------------------------------


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_nodes_die_when_parent_is_killed(spawn, signum):
    """When the process that started a LocalCluster is killed (kill -9 or kill), its nodes exit."""
    parent, started = start_parent(spawn, "block")
    parent.send_signal(signum)
    parent.wait()
    wait_until(lambda: all_gone(started["pids"]), what=f"nodes {started['pids']} gone")


def test_paused_node_dies_when_parent_is_killed(spawn):
    """A SIGSTOPped node cannot notice anything itself, yet it still dies with a SIGKILLed parent."""
    parent, started = start_parent(spawn, "pause")
    paused = started["pids"][0]
    wait_until(lambda: process_state(paused) == "T", what=f"node {paused} stopped")
    parent.kill()
    parent.wait()
    wait_until(lambda: all_gone(started["pids"]), what=f"nodes {started['pids']} gone")


def test_nodes_die_when_parent_ends_without_close(spawn):
    """A program that creates a LocalCluster and simply ends (no close()) leaves no node behind."""
    parent, started = start_parent(spawn, "return")
    assert parent.wait(timeout=READ_TIMEOUT) == 0
    wait_until(lambda: all_gone(started["pids"]), what=f"nodes {started['pids']} gone")


def test_cluster_made_in_a_finished_thread_lives_on_then_dies_with_parent(spawn):
    """Nodes started from a thread that has ended keep serving, and still die with the process."""
    parent, started = start_parent(spawn, "thread")  # the creating thread has been joined
    client = minikv.client({"hosts": started["hosts"]}).connect()
    try:
        assert sorted(client.get_node_names()) == ["n1", "n2"]
        with pytest.raises(RecordNotFound):  # an answer from a live node, not a timeout
            client.get(("test", "demo", "nobody"))
    finally:
        client.close()
    assert not any(is_gone(pid) for pid in started["pids"])
    parent.kill()
    parent.wait()
    wait_until(lambda: all_gone(started["pids"]), what=f"nodes {started['pids']} gone")


@pytest.mark.parametrize(
    ("signum", "to_group"),
    [(signal.SIGINT, True), (signal.SIGINT, False), (signal.SIGTERM, False)],
    ids=["ctrl-c", "SIGINT", "SIGTERM"],
)
def test_cluster_command_stops_on_ctrl_c(spawn, signum, to_group):
    """`python -m minikv cluster` stops its nodes on Ctrl-C (or SIGTERM), says so and exits 0.

    A terminal's Ctrl-C signals the whole foreground process group ("ctrl-c"); the nodes run in
    sessions of their own, so only the cluster command hears it and stops them in order."""
    argv = [sys.executable, "-m", "minikv", "cluster", "--nodes", "2"]
    proc = spawn.start(argv, new_session=to_group)  # its own group, so killpg spares pytest
    lines = [read_line(proc) for _ in range(3)]
    assert [line.split()[:3] for line in lines[:2]] == [["n1", "listening", "on"], ["n2", "listening", "on"]]
    assert lines[2].startswith("Ctrl-C stops the cluster")
    nodes = node_children(proc.pid)
    spawn.nodes += nodes
    assert len(nodes) == 2
    if to_group:
        os.killpg(proc.pid, signum)
    else:
        proc.send_signal(signum)
    rest, _ = proc.communicate(timeout=READ_TIMEOUT)
    assert proc.returncode == 0
    assert b"cluster stopped" in rest
    wait_until(lambda: all_gone(nodes), what=f"nodes {nodes} gone")


# ---- ports and output ----------------------------------------------------------------------------


def test_two_clusters_side_by_side():
    """Two LocalClusters get distinct free ports, and each serves its own records."""
    key = ("test", "demo", "where")
    with minikv.LocalCluster(nodes=1) as first, minikv.LocalCluster(nodes=1) as second:
        assert not set(first.hosts) & set(second.hosts)
        first_client, second_client = first.client(), second.client()
        first_client.put(key, {"cluster": "first"})
        second_client.put(key, {"cluster": "second"})
        assert first_client.get(key)[2] == {"cluster": "first"}
        assert second_client.get(key)[2] == {"cluster": "second"}
        first_client.close()
        second_client.close()


def test_restart_keeps_the_port(cluster):
    """A restarted node listens on the port it had, so clients and notebooks keep their address."""
    hosts, pids = cluster.hosts, cluster.pids()
    cluster.restart("n1")
    assert cluster.hosts == hosts
    assert cluster.pids() != pids


def test_node_output_goes_to_log_files_only(capfd):
    """Node output lands in cluster.logs(node), and nothing a node writes reaches our stdout/stderr."""
    with minikv.LocalCluster(nodes=1) as cluster:
        client = cluster.client()
        client.put(("test", "demo", "k"), {"n": 1})
        with pytest.raises(minikv.exception.NamespaceNotFound):
            client.put(("nope", "demo", "k"), {"n": 1})
        client.close()
        cluster.restart("n1")  # a killed process and a new one: both write only to the log
        log = cluster.logs("n1")
        assert log.count("n1 listening on 127.0.0.1:") == 2
    captured = capfd.readouterr()
    assert (captured.out, captured.err) == ("", "")


def test_logs_of_unknown_node_raise(cluster):
    """Asking for the log of a node the cluster does not have is a KeyError naming the nodes."""
    with pytest.raises(KeyError, match="n9"):
        cluster.logs("n9")


def test_close_waits_for_the_nodes(cluster):
    """After close() returns, no node process of the cluster is left, not even as a zombie."""
    pids = cluster.pids()
    cluster.close()
    assert all_gone(pids), f"still there after close(): {pids}"
