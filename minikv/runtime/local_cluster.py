"""LocalCluster: a minikv cluster of real OS processes on 127.0.0.1, driven from Python.

    with minikv.LocalCluster(nodes=1) as cluster:
        client = cluster.client()
        cluster.kill("n1"); cluster.restart("n1")

Each node is `python -m minikv node` in its own process and session, listening on a port it picks
itself (port 0) and reports back through a pipe, so two clusters never clash. Node output goes to
log files (`cluster.logs("n1")`), never to a notebook. Nodes die with the cluster's process: see
the guards in `process.py`; `close()` (or leaving the `with` block, or interpreter exit) stops them.

Nodes keep records in memory only, as an Aerospike namespace without persistence: a restarted node
comes back empty (in a cluster, migrations bring its partitions back).
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import time
import weakref
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from minikv.client import Client, client as make_client
from minikv.config import NodeConfig, with_mode, with_plugins
from minikv.runtime.roster_commands import RosterCommands
from minikv.plugins import Plugin, import_path, load_hooks
from minikv.core.events import Event
from minikv.core.info import parse_info
from minikv.core.messages import Admin, Info
from minikv.core.partitions import pmap_summary
from minikv.keys import N_PARTITIONS
from minikv.runtime.faults import LinkFaults
from minikv.runtime.snapshot import ClusterSnapshot, build_snapshot
from minikv.runtime.transport import NoConnection, ReplyLost, TcpTransport

START_TIMEOUT = 15.0  # seconds for a node process to report its port
STOP_TIMEOUT = 5.0  # seconds for a node to exit after SIGTERM before it gets SIGKILL
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])  # the folder holding minikv/


class LocalCluster(RosterCommands):
    """Real node processes on this machine, with the fault verbs the course uses."""

    def __init__(self, nodes: int = 1, config: NodeConfig | None = None, host: str = "127.0.0.1",
                 cpus: list[int] | None = None, empty_handler: bool = False, wait: bool = True,
                 mode: str = "ap", plugins: dict[str, Plugin] | None = None):
        # node processes import plugins by path, so a function becomes "module:function" here
        config = with_plugins(config or NodeConfig(), {k: import_path(f) for k, f in (plugins or {}).items()})
        self.config = with_mode(config, mode)
        load_hooks(dict(self.config.plugins))  # fail here, clearly, rather than in every node
        self.mode = mode
        self.host = host
        self._cpus = cpus  # pin node i to cpus[i % len(cpus)] (benchmarks)
        self._empty_handler = empty_handler
        self._ids = [f"n{i}" for i in range(1, nodes + 1)]
        self._procs: dict[str, subprocess.Popen] = {}
        self._ports: dict[str, int] = {}
        self._aerospike_ports: dict[str, int] = {}  # {node_id: its Aerospike-protocol port}
        self._states: dict[str, str] = {}  # {node_id: "alive" | "paused" | "dead"}
        self._logdir = tempfile.TemporaryDirectory(prefix="minikv-")
        self._transport = TcpTransport()
        self._events: dict[str, list[Event]] = {}  # {node_id: events of its running process}
        self._past_events: list[Event] = []  # events of node processes that are gone
        self._own_events: list[Event] = []
        # PR_SET_PDEATHSIG fires when the *thread* that forked a node exits, so every node is
        # forked from this one long-lived thread rather than from whichever thread asked.
        self._spawner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="minikv-spawner")
        self._finalizer = weakref.finalize(self, _stop_all, self._procs)
        self.faults = LinkFaults()
        self.closed = False  # set by close(): background drivers (the panel) stop on it
        self.started_at = time.time()
        for node_id in self._ids:
            self._spawn(node_id, port=0)
        if not empty_handler:
            for node_id in self._ids:
                self._introduce(node_id)
            if mode == "sc":
                self._start_roster()
            if wait:
                self.wait_stable()

    # ---- what the cluster is -------------------------------------------------------------------

    @property
    def hosts(self) -> list[tuple[str, int]]:
        return [(self.host, self._ports[n]) for n in self._ids]

    @property
    def aerospike_hosts(self) -> list[tuple[str, int]]:
        """Where the nodes speak Aerospike's wire protocol, for the official client:
        `aerospike.client({"hosts": cluster.aerospike_hosts}).connect()`."""
        return [(self.host, self._aerospike_ports[n]) for n in self._ids if n in self._aerospike_ports]

    @property
    def node_ids(self) -> list[str]:
        return list(self._ids)

    def pids(self) -> list[int]:
        """OS pids of the node processes that are running (alive or paused)."""
        return [self._procs[n].pid for n in self._ids if self._states[n] != "dead"]

    def node_states(self) -> dict[str, str]:
        return dict(self._states)

    def client(self, **config: Any) -> Client:
        """A connected client; same as minikv.client({"hosts": cluster.hosts}).connect()."""
        return make_client({"hosts": self.hosts, **config}).connect()

    # ---- fault verbs ---------------------------------------------------------------------------

    def kill(self, node_id: str) -> None:
        """SIGKILL the node: no goodbye, in-memory records gone."""
        proc = self._proc(node_id)
        if self._states[node_id] == "alive":
            self._fetch_events(node_id)  # its last words, before they are gone with it
        self._past_events += self._events.pop(node_id, [])
        if self._states[node_id] != "dead":
            proc.kill()
            proc.wait()
            self._set_state(node_id, "dead", "killed (SIGKILL)")

    def restart(self, node_id: str) -> None:
        """Start the node again on its port (killing it first if it runs); it comes back empty.
        Returns once the node is a member of a view again, i.e. serving."""
        self.kill(node_id)
        self._spawn(node_id, port=self._ports[node_id])
        self._introduce(node_id)
        self._log(node_id, "restarted")
        deadline = time.monotonic() + START_TIMEOUT
        while (self._stats(node_id) or {}).get("cluster_is_member") != "true":  # until it serves
            if time.monotonic() > deadline:
                raise TimeoutError(f"{node_id} joined no view after its restart: {self.views()}")
            time.sleep(0.02)  # polling a condition, with a deadline

    def pause(self, node_id: str) -> None:
        """SIGSTOP: the process freezes with its sockets open, like a long GC pause or a VM stall."""
        self._require(node_id, "alive").send_signal(signal.SIGSTOP)
        self._set_state(node_id, "paused", "paused (SIGSTOP)")

    def resume(self, node_id: str) -> None:
        self._require(node_id, "paused").send_signal(signal.SIGCONT)
        self._set_state(node_id, "alive", "resumed (SIGCONT)")

    def add_node(self) -> str:
        """Start one more node; it finds the others through its seeds. Returns its id."""
        node_id = f"n{max(int(n[1:]) for n in self._procs) + 1}"
        self._ids.append(node_id)
        self._spawn(node_id, port=0)
        self._introduce(node_id)
        self._log(node_id, "added")
        return node_id

    def remove_node(self, node_id: str) -> None:
        """Take a node out for good: SIGTERM (a clean exit), and forget it. (Aerospike would
        first quiesce it so clients move away; the others here notice by its silence.)"""
        proc = self._require(node_id, "alive")
        proc.terminate()
        proc.wait()
        self._ids.remove(node_id)
        self._set_state(node_id, "dead", "removed (SIGTERM)")

    def partition(self, *groups: list[str]) -> None:
        """Cut every link between the groups, e.g. partition(["n1"], ["n2", "n3"])."""
        self.faults.partition([list(g) for g in groups], self._ids)
        self._push_faults(f"partitioned {' | '.join(','.join(g) for g in groups)}")

    def isolate(self, node_id: str) -> None:
        self.partition([node_id])

    def heal(self) -> None:
        self.faults.heal()
        self._push_faults("healed all links")

    def slow_link(self, a: str, b: str, delay: float = 0.2) -> None:
        self.faults.slow(a, b, delay)
        self._push_faults(f"link {a}-{b} slowed by {delay:.3f} s")

    def drop(self, a: str, b: str, rate: float = 0.3) -> None:
        self.faults.lossy(a, b, rate)
        self._push_faults(f"link {a}-{b} loses {rate:.0%} of messages")

    def wait_stable(self, timeout: float = 30.0) -> None:
        """Wait until every group of connected nodes agrees on a view and has no migrations
        left (one group when no link is cut). Raises TimeoutError with what each node thinks."""
        deadline = time.monotonic() + timeout
        while not self._is_stable():
            if time.monotonic() > deadline:
                raise TimeoutError(f"cluster not stable after {timeout} s: {self.views()}")
            time.sleep(0.05)  # polling a condition, with a deadline

    def views(self) -> dict[str, str]:
        """{node_id: "cluster_key members"} for every node that answers."""
        views = {}
        for node_id in self._ids:
            stats = self._stats(node_id)
            if stats is not None:
                views[node_id] = f"{stats['cluster_key']} {stats['cluster_members']}"
        return views

    def snapshot(self, ns: str = "test") -> ClusterSnapshot:
        """Everything the figures draw, at this moment (see runtime/snapshot.py)."""
        def ask(node_id: str, command: str) -> str | None:
            try:
                reply = self._transport.call((self.host, self._ports[node_id]), Info((command,)), 2.0)
            except (NoConnection, ReplyLost):
                return None
            return reply.result[command]

        return build_snapshot(time.time() - self.started_at, self._ids, self._states, ask, self.faults, ns)

    def pmap(self, ns: str = "test") -> dict[str, dict[str, int]]:
        """Masters and replicas per node, like asadm's `show pmap`."""
        return pmap_summary(self.partition_table(ns))

    def partition_table(self, ns: str = "test", node_id: str | None = None) -> dict[int, list[str]]:
        """{pid: [final master, replica, ...]} as `node_id` (default: first answering) sees it.
        Computed here from the node's member list (roster members in SC): the rows every node computes."""
        for candidate in [node_id] if node_id else self._ids:
            stats = self._stats(candidate)
            if stats is not None:
                members = tuple(filter(None, str(stats["cluster_members"]).split(",")))
                if self.mode == "sc":  # SC: only roster nodes hold partitions
                    roster = self.roster(ns)["roster"]
                    members = tuple(m for m in members if m in roster)
                rf = min(next(c.replication_factor for c in self.config.namespaces if c.name == ns), len(members))
                row = load_hooks(dict(self.config.plugins)).succession_row  # a learner's partitioner too
                return {pid: row(pid, members)[:rf] for pid in range(N_PARTITIONS)}
        raise RuntimeError("no node answered")

    # ---- looking inside ------------------------------------------------------------------------

    def info(self, node_id: str, command: str = "statistics") -> dict | str:
        """An asinfo command on one node: `k=v;...` answers as a dict (numbers as int), else text."""
        self._proc(node_id)  # raises KeyError for an unknown node
        reply = self._transport.call((self.host, self._ports[node_id]), Info((command,)), 2.0)
        return parse_info(reply.result[command])

    def events(self) -> list[Event]:
        """Every node's event log merged in time order, seconds since the cluster started."""
        for node_id in self._ids:
            if self._states[node_id] == "alive":
                self._fetch_events(node_id)
        current = [e for events in self._events.values() for e in events]
        merged = self._own_events + self._past_events + current
        return sorted((e.shifted(self.started_at) for e in merged), key=lambda e: e.t)

    def logs(self, node_id: str) -> str:
        """What the node process wrote to stdout/stderr."""
        self._proc(node_id)  # raises KeyError for an unknown node
        return self._logfile(node_id).read_text(errors="replace")

    # ---- lifecycle -----------------------------------------------------------------------------

    def close(self) -> None:
        """Stop every node and clean up. Safe to call twice."""
        self.closed = True
        self._finalizer()
        self._transport.close()
        self._spawner.shutdown(wait=True)
        self._logdir.cleanup()
        for node_id in self._ids:
            self._states[node_id] = "dead"

    def __enter__(self) -> LocalCluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        nodes = ", ".join(f"{n}={self._states[n]}@{self._ports[n]}" for n in self._ids)
        return f"LocalCluster({nodes})"

    # ---- internals -----------------------------------------------------------------------------

    def _spawn(self, node_id: str, port: int) -> None:
        ready_r, ready_w = os.pipe()
        try:
            proc = self._spawner.submit(self._popen, node_id, port, ready_w).result()
        finally:
            os.close(ready_w)
        self._procs[node_id] = proc
        try:
            ports = _read_ports(ready_r, proc, START_TIMEOUT)
        except RuntimeError as exc:
            proc.kill()
            proc.wait()
            raise RuntimeError(f"{node_id} did not start: {exc}\n{self.logs(node_id)[-2000:]}") from None
        finally:
            os.close(ready_r)
        self._ports[node_id] = ports[0]
        if len(ports) > 1:
            self._aerospike_ports[node_id] = ports[1]
        self._set_state(node_id, "alive", f"started, pid {proc.pid}, port {self._ports[node_id]}")

    def _popen(self, node_id: str, port: int, ready_w: int) -> subprocess.Popen:
        index = self._ids.index(node_id)
        cmd = [sys.executable, "-m", "minikv", "node", "--id", node_id, "--host", self.host,
               "--port", str(port), "--config", json.dumps(self.config.to_json()),
               "--ready-fd", str(ready_w), "--parent-pid", str(os.getpid()),
               "--state-file", str(Path(self._logdir.name) / f"{node_id}.state.json")]
        if self._cpus:
            cmd += ["--cpu", str(self._cpus[index % len(self._cpus)])]
        if self._empty_handler:
            cmd.append("--empty-handler")
        else:  # a restarted node takes back its Aerospike port too, so clients find it again
            cmd += ["--aerospike-port", str(self._aerospike_ports.get(node_id, 0))]
        # the package root and our working directory, so plugins in exercises/ import in the node
        paths = [_PACKAGE_ROOT, os.getcwd(), os.environ.get("PYTHONPATH")]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, paths))}
        with open(self._logfile(node_id), "ab") as log:
            return subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT,
                                    pass_fds=(ready_w,), start_new_session=True, env=env)

    def _logfile(self, node_id: str) -> Path:
        return Path(self._logdir.name) / f"{node_id}.log"

    def _proc(self, node_id: str) -> subprocess.Popen:
        if node_id not in self._procs:
            raise KeyError(f"no node {node_id!r}; nodes are {self._ids}")
        return self._procs[node_id]

    def _require(self, node_id: str, state: str) -> subprocess.Popen:
        proc = self._proc(node_id)
        if self._states[node_id] != state:
            raise RuntimeError(f"{node_id} is {self._states[node_id]}, not {state}")
        return proc

    def _set_state(self, node_id: str, state: str, what: str) -> None:
        self._states[node_id] = state
        self._log(node_id, what)

    def _introduce(self, node_id: str) -> None:
        """Tell a (re)started node its address, everyone's addresses and the link rules."""
        addresses = [[self.host, self._ports[n]] for n in self._ids]
        self._admin(node_id, "seeds", {"self": [self.host, self._ports[node_id]], "addresses": addresses})
        self._admin(node_id, "faults", self.faults.rules_for(node_id, self._addresses()))

    def _push_faults(self, what: str) -> None:
        for node_id in self._ids:
            if self._states[node_id] == "alive":
                self._admin(node_id, "faults", self.faults.rules_for(node_id, self._addresses()))
        self._log("cluster", what)

    def _addresses(self) -> dict[str, tuple[str, int]]:
        return {n: (self.host, self._ports[n]) for n in self._ids}

    def _admin(self, node_id: str, command: str, args: dict) -> None:
        reply = self._transport.call((self.host, self._ports[node_id]), Admin(command, args), 2.0)
        if reply.rc != 0:
            raise RuntimeError(f"{node_id} refused {command}: {reply.msg}")

    def _stats(self, node_id: str) -> dict | None:
        if self._states.get(node_id) != "alive":
            return None
        try:
            reply = self._transport.call((self.host, self._ports[node_id]),
                                         Info(("statistics", "cluster-stable")), 1.0)
        except (NoConnection, ReplyLost):
            return None
        stats = parse_info(reply.result["statistics"])
        stats["stable"] = not reply.result["cluster-stable"].startswith("ERROR")
        return stats

    def _is_stable(self) -> bool:
        stats = {n: s for n in self._ids if (s := self._stats(n)) is not None}
        for s in stats.values():
            same = {n for n, t in stats.items() if t["cluster_key"] == s["cluster_key"]}
            if not s["stable"] or set(str(s["cluster_members"]).split(",")) != same:
                return False
            if self.faults.splits(same):  # they have not noticed a cut yet
                return False
        # two nodes may be in different views only if the link between them is cut: nodes that
        # hear each other but sit in views of one (a flap under load) are not a stable split
        return all(s["cluster_key"] == t["cluster_key"] or frozenset((a, b)) in self.faults.cut
                   for a, s in stats.items() for b, t in stats.items())

    def _log(self, node_id: str, text: str) -> None:
        self._own_events.append(Event(time.time(), node_id, "LocalCluster", text))

    def _fetch_events(self, node_id: str) -> None:
        """Refresh the events of this node's running process (kept in a ring buffer there)."""
        try:
            reply = self._transport.call((self.host, self._ports[node_id]), Info(("events",)), 1.0)
        except Exception:  # unreachable right now: keep what we had
            return
        self._events[node_id] = [_parse_event(node_id, line) for line in reply.result["events"].splitlines()]


def _parse_event(node_id: str, line: str) -> Event:
    t, role, text = line.split("\t", 2)
    return Event(float(t), node_id, role, text)


def _read_ports(fd: int, proc: subprocess.Popen, timeout: float) -> list[int]:
    """Wait (with a deadline) for the node to write its port(s) on the ready pipe: the native
    port, then the Aerospike-protocol port if it has one."""
    deadline, data = time.monotonic() + timeout, b""
    while not data.endswith(b"\n"):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise RuntimeError(f"no port reported within {timeout} s")
        readable, _, _ = select.select([fd], [], [], remaining)
        if readable:
            chunk = os.read(fd, 64)
            if not chunk:
                raise RuntimeError(f"exited with status {proc.wait()} before reporting a port")
            data += chunk
    return [int(port) for port in data.split()]


def _stop_all(procs: dict[str, subprocess.Popen]) -> None:
    """SIGTERM every node (SIGCONT first, so paused ones can act on it), then SIGKILL stragglers."""
    for proc in procs.values():
        if proc.poll() is None:
            proc.send_signal(signal.SIGCONT)
            proc.terminate()
    deadline = time.monotonic() + STOP_TIMEOUT
    for proc in procs.values():
        try:
            proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
