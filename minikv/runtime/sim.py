"""SimCluster: the same node code in one process, under a virtual clock and a seeded network.

A scenario that takes 30 s of cluster time runs in milliseconds and, with the same seed and the
same calls, produces the identical event log: failures replay step by step in notebooks and tests.
Messages cross the real codec (encoded to bytes and decoded again), so nodes never share objects
and the simulator exercises the wire format too. The fault verbs are LocalCluster's: a killed
node refuses connections and loses what was in flight; a paused node holds what it is sent until
resumed, as a SIGSTOPped process's socket buffers do; links can be cut, slowed or made lossy.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Callable

from minikv.client import Client
from minikv.config import NodeConfig, with_mode
from minikv.runtime.roster_commands import RosterCommands
from minikv.plugins import Plugin, load_hooks
from minikv.core.events import Event
from minikv.core.heartbeat import Send
from minikv.core.info import parse_info
from minikv.core.messages import Reply
from minikv.core.node import TICK_INTERVAL, Node, ToClient
from minikv.core.partitions import pmap_summary
from minikv.runtime.codec import KIND_REPLY, KIND_REQUEST, FrameReader, decode, encode, encode_body, parse_request
from minikv.runtime.sim_network import SimNetwork
from minikv.runtime.snapshot import ClusterSnapshot, build_snapshot
from minikv.runtime.transport import Address, NoConnection, ReplyLost

BASE_PORT = 3000  # sim node "nK" listens on ("sim", 3000 + K): addresses look like real ones
STABLE_TIMEOUT = 60.0  # virtual seconds wait_stable waits
OnReply = Callable[[bytes | None], None]  # gets the reply frame, or None if the request was lost


@dataclass(frozen=True, slots=True)
class TracedMessage:
    """One node-to-node message, for sequence diagrams: sent at `sent`, delivered at
    `delivered` (None: the link lost it)."""

    sent: float
    delivered: float | None
    src: str
    dst: str
    message: Any

    @property
    def name(self) -> str:
        return type(self.message).__name__


@dataclass(frozen=True, slots=True)
class SimOrigin:
    """Where a client request came from in the simulator: the callback that takes the reply."""

    on_reply: OnReply
    request_id: int


class SimCluster(RosterCommands):
    """Nodes in one process, in virtual time. Same verbs as LocalCluster, plus run_for and step."""

    def __init__(self, nodes: int = 1, seed: int = 0, config: NodeConfig | None = None, wait: bool = True,
                 mode: str = "ap", plugins: dict[str, Plugin] | None = None):
        self.config = with_mode(config or NodeConfig(), mode)
        self.mode = mode
        # learner functions run in this process as they are; config.plugins holds import paths
        self.hooks = load_hooks({**dict(self.config.plugins), **(plugins or {})})
        self.seed = seed
        self.net = SimNetwork(seed)
        self._ids: list[str] = []
        self._nodes: dict[str, Node] = {}
        self._states: dict[str, str] = {}  # {node_id: "alive" | "paused" | "dead"}
        self._incarnation: dict[str, int] = {}  # bumps on restart, cancelling the old tick chain
        self._held: dict[str, list[Callable[[], None]]] = {}  # deliveries waiting for a paused node
        self._past_events: list[Event] = []
        self._own_events: list[Event] = []
        self.tracing = False  # record node-to-node messages in `messages` (see trace())
        self.messages: list[TracedMessage] = []
        self.closed = False  # set by close(): background drivers (the panel) stop on it
        for _ in range(nodes):
            self._add()
        for node_id in self._ids:  # everyone seeds with everyone, as LocalCluster does
            self._nodes[node_id].heartbeat.seeds = {self.address(n) for n in self._ids}
        if mode == "sc":
            self._start_roster()
        if wait:
            self.wait_stable()

    # ---- what the cluster is -------------------------------------------------------------------

    @property
    def now(self) -> float:
        return self.net.now

    @property
    def hosts(self) -> list[Address]:
        return [self.address(n) for n in self._ids]

    @property
    def node_ids(self) -> list[str]:
        return list(self._ids)

    def address(self, node_id: str) -> Address:
        return ("sim", BASE_PORT + int(node_id[1:]))

    def node(self, node_id: str) -> Node:
        """The node object itself, to look inside in tests and notebooks."""
        return self._nodes[node_id]

    def node_states(self) -> dict[str, str]:
        return dict(self._states)

    def client(self, **config: Any) -> Client:
        return Client({"hosts": self.hosts, **config}, transport=SimTransport(self)).connect()

    # ---- time ----------------------------------------------------------------------------------

    def step(self) -> bool:
        """Run the next scheduled action (a delivery or a tick); False when nothing is left."""
        return self.net.step()

    def run_for(self, seconds: float) -> None:
        """Advance virtual time by `seconds`, running everything due on the way."""
        self.net.run_until(lambda: False, self.now + seconds)

    def run_until(self, done: Callable[[], bool], timeout: float) -> bool:
        """Run until `done()` or `timeout` virtual seconds pass; returns done()."""
        return self.net.run_until(done, self.now + timeout)

    def trace(self, on: bool = True) -> None:
        """Start (or stop) recording every node-to-node message in `self.messages`."""
        self.tracing = on

    def schedule(self, delay: float, action: Callable[[], None]) -> None:
        """Run `action()` after `delay` virtual seconds (e.g. a kill in the middle of a request)."""
        self.net.schedule(delay, action)

    def wait_stable(self, timeout: float = STABLE_TIMEOUT) -> None:
        """Run until every group of connected nodes agrees on a view and has no migrations left."""
        deadline = self.now + timeout
        while not self.is_stable():  # checked every tick, not after every message: it is costly
            if self.now >= deadline:
                raise TimeoutError(f"cluster not stable after {timeout} virtual seconds: {self.views()}")
            self.run_for(TICK_INTERVAL)

    def is_stable(self) -> bool:
        alive = [n for n in self._ids if self._states[n] == "alive"]
        views = {n: self._nodes[n].cluster.view for n in alive}
        for n in alive:
            same = {m for m in alive if views[m].ckey == views[n].ckey}
            if not views[n].ckey or set(views[n].succession) != same or self.net.faults.splits(same):
                return False
            if self._nodes[n].info.cluster_stable().startswith("ERROR"):
                return False
        return not (len({v.ckey for v in views.values()}) > 1 and not self.net.faults.cut)

    def views(self) -> dict[str, str]:
        """{node_id: "ckey members"} for every node that is not dead: who thinks what."""
        return {n: f"{self._nodes[n].ckey:X} {','.join(self._nodes[n].members)}"
                for n in self._ids if self._states[n] != "dead"}

    # ---- fault verbs ---------------------------------------------------------------------------

    def kill(self, node_id: str) -> None:
        self._past_events += list(self._nodes[node_id].events)
        self._states[node_id] = "dead"
        self._held[node_id] = []
        self._log(node_id, "killed")

    def restart(self, node_id: str) -> None:
        """Start the node again, empty; returns once it is a member of a view (it serves)."""
        if self._states[node_id] != "dead":
            self.kill(node_id)
        self._start(node_id)
        self._log(node_id, "restarted")
        node = self._nodes[node_id]
        if not self.run_until(lambda: node_id in node.members, STABLE_TIMEOUT):
            raise TimeoutError(f"{node_id} joined no view after its restart: {self.views()}")

    def pause(self, node_id: str) -> None:
        self._require(node_id, "alive")
        self._states[node_id] = "paused"
        self._log(node_id, "paused")

    def resume(self, node_id: str) -> None:
        self._require(node_id, "paused")  # a dead node comes back with restart(), not resume()
        self._states[node_id] = "alive"
        self._log(node_id, "resumed")
        held, self._held[node_id] = self._held[node_id], []
        for deliver in held:
            self.net.schedule(0.0, deliver)

    def add_node(self) -> str:
        node_id = self._add()
        self._log(node_id, "added")
        return node_id

    def remove_node(self, node_id: str) -> None:
        """Graceful leave: the node stops; the others notice and rebalance without it."""
        self.kill(node_id)
        self._ids.remove(node_id)
        self._log(node_id, "removed")

    def partition(self, *groups: list[str]) -> None:
        """Cut every link between the groups, e.g. partition(["n1"], ["n2", "n3"])."""
        self.net.faults.partition([list(g) for g in groups], self._ids)
        self._log("cluster", f"partitioned {' | '.join(','.join(g) for g in groups)}")

    def isolate(self, node_id: str) -> None:
        self.partition([node_id])

    def heal(self) -> None:
        self.net.faults.heal()
        self._log("cluster", "healed all links")

    def slow_link(self, a: str, b: str, delay: float = 0.2) -> None:
        self.net.faults.slow(a, b, delay)
        self._log("cluster", f"link {a}-{b} slowed by {delay:.3f} s")

    def drop(self, a: str, b: str, rate: float = 0.3) -> None:
        self.net.faults.lossy(a, b, rate)
        self._log("cluster", f"link {a}-{b} loses {rate:.0%} of messages")

    # ---- looking inside ------------------------------------------------------------------------

    def info(self, node_id: str, command: str = "statistics") -> dict | str:
        if self._states[node_id] == "dead":
            raise RuntimeError(f"{node_id} is dead")
        return parse_info(self._nodes[node_id].info.answer(command))

    def snapshot(self, ns: str = "test") -> ClusterSnapshot:
        """Everything the figures draw, at this moment (see runtime/snapshot.py)."""
        def ask(node_id: str, command: str) -> str | None:
            return None if self._states[node_id] != "alive" else self._nodes[node_id].info.answer(command)

        return build_snapshot(self.now, self._ids, self._states, ask, self.net.faults, ns)

    def pmap(self, ns: str = "test") -> dict[str, dict[str, int]]:
        """Masters and replicas per node, like asadm's `show pmap`."""
        return pmap_summary(self.partition_table(ns))

    def partition_table(self, ns: str = "test", node_id: str | None = None) -> dict[int, list[str]]:
        """{pid: [final master, replica, ...]} as `node_id` (default: the first live node) sees it."""
        node_id = node_id or next(n for n in self._ids if self._states[n] == "alive")
        parts = self._nodes[node_id].partitions.parts[ns]
        return {pid: list(s.plan.replicas) for pid, s in enumerate(parts) if s.plan}

    def events(self) -> list[Event]:
        """Every node's events (including earlier incarnations) and the cluster's, in time order."""
        live = [e for n in self._ids if self._states[n] != "dead" for e in self._nodes[n].events]
        return sorted(self._past_events + self._own_events + live, key=lambda e: e.t)

    def close(self) -> None:
        self.net._queue.clear()
        self.closed = True

    def __enter__(self) -> SimCluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- delivering ----------------------------------------------------------------------------

    def send_request(self, address: Address, frame: bytes, on_reply: OnReply) -> None:
        """A client's request frame; NoConnection if nobody listens there."""
        node_id = self._node_at(address)
        if node_id is None or self._states[node_id] == "dead":
            raise NoConnection(f"{address[0]}:{address[1]}: connection refused")
        incarnation, latency = self._incarnation[node_id], self.net.latency()
        self.net.schedule(latency, lambda: self._arrive(node_id, incarnation, frame, on_reply))
        if self.tracing:
            self.messages.append(TracedMessage(self.now, self.now + latency, "client", node_id, decode(frame[10:])))

    def _arrive(self, node_id: str, incarnation: int, frame: bytes, on_reply: OnReply) -> None:
        if self._states[node_id] == "dead" or self._incarnation[node_id] != incarnation:
            on_reply(None)  # the connection died with the process
        elif self._states[node_id] == "paused":
            self._held[node_id].append(lambda: self._arrive(node_id, incarnation, frame, on_reply))
        else:
            (request,) = FrameReader(self.config.max_frame_size).feed(frame)
            message, refusal = parse_request(request, self.config.max_frame_size)
            if refusal is not None:
                self._perform(node_id, [ToClient(SimOrigin(on_reply, request.request_id), refusal)])
                return
            origin = SimOrigin(on_reply, request.request_id)
            self._perform(node_id, self._nodes[node_id].receive(origin, message, self.now))

    def _perform(self, node_id: str, effects: list) -> None:
        for effect in effects:
            if isinstance(effect, ToClient):
                frame, latency = encode(KIND_REPLY, effect.origin.request_id, effect.reply), self.net.latency()
                self.net.schedule(latency, lambda f=frame, o=effect.origin: o.on_reply(f))
                if self.tracing:
                    self.messages.append(TracedMessage(self.now, self.now + latency, node_id, "client", effect.reply))
            else:
                self._send_fabric(node_id, effect)

    def _send_fabric(self, src: str, send: Send) -> None:
        dst = send.to or self._node_at(send.address)
        if dst is None or dst not in self._nodes:
            return
        body = encode_body(send.message)
        incarnation = self._incarnation[dst]
        at = self.net.transmit(src, dst, lambda: self._deliver(dst, incarnation, body))
        if self.tracing:
            delivered = at if self._states[dst] != "dead" else None  # a dead node receives nothing
            self.messages.append(TracedMessage(self.now, delivered, src, dst, send.message))

    def _deliver(self, dst: str, incarnation: int, body: bytes) -> None:
        if self._states[dst] == "dead" or self._incarnation[dst] != incarnation:
            return
        if self._states[dst] == "paused":
            self._held[dst].append(lambda: self._deliver(dst, incarnation, body))
            return
        self._perform(dst, self._nodes[dst].receive(None, decode(body), self.now))

    def _node_at(self, address: Address) -> str | None:
        if address[0] != "sim":
            return None
        node_id = f"n{address[1] - BASE_PORT}"
        return node_id if node_id in self._nodes else None

    # ---- node lifecycle ------------------------------------------------------------------------

    def _add(self) -> str:
        node_id = f"n{max((int(n[1:]) for n in self._nodes), default=0) + 1}"
        self._ids.append(node_id)
        self._start(node_id)
        return node_id

    def _start(self, node_id: str) -> None:
        self._incarnation[node_id] = self._incarnation.get(node_id, 0) + 1
        node = Node(node_id, self.config, self.now, random.Random(self.net.rng.getrandbits(64)), self.hooks)
        if node_id in self._nodes:  # a restart: records are gone, what Aerospike keeps on disk is not
            node.consistency.restore(self._nodes[node_id].consistency.durable_state())
        node.heartbeat.address = self.address(node_id)
        node.heartbeat.seeds = {self.address(n) for n in self._ids}
        self._nodes[node_id] = node
        self._states[node_id] = "alive"
        self._held[node_id] = []
        self._schedule_tick(node_id, self._incarnation[node_id])

    def _schedule_tick(self, node_id: str, incarnation: int) -> None:
        def tick() -> None:
            if self._incarnation[node_id] != incarnation or self._states[node_id] == "dead":
                return  # this tick chain belonged to a process that is gone
            if self._states[node_id] == "alive":
                self._perform(node_id, self._nodes[node_id].tick(self.now))
            self._schedule_tick(node_id, incarnation)

        self.net.schedule(TICK_INTERVAL, tick)

    def _require(self, node_id: str, state: str) -> None:
        if self._states[node_id] != state:  # as LocalCluster: SIGCONT does not revive the dead
            raise RuntimeError(f"{node_id} is {self._states[node_id]}, not {state}")

    def _log(self, node_id: str, text: str) -> None:
        self._own_events.append(Event(self.now, node_id, "SimCluster", text))


class SimTransport:
    """The client's transport inside a SimCluster: a call runs the simulation until the reply
    arrives or the virtual deadline passes."""

    def __init__(self, sim: SimCluster):
        self.sim = sim
        self._ids = iter(range(1, 2**31))

    def now(self) -> float:
        return self.sim.now

    def sleep(self, seconds: float) -> None:
        self.sim.run_for(seconds)

    def call(self, address: Address, request: Any, timeout: float) -> Reply:
        box: list[bytes | None] = []
        self.sim.send_request(address, encode(KIND_REQUEST, next(self._ids), request), box.append)
        if not self.sim.run_until(lambda: bool(box), timeout):
            raise ReplyLost("no reply before the deadline (virtual time)", timed_out=True)
        if box[0] is None:
            raise ReplyLost("the node died with the request in flight", timed_out=False)
        (frame,) = FrameReader(2**31, kinds=(KIND_REPLY,)).feed(box[0])
        return decode(frame.body)

    def close(self) -> None:
        pass
