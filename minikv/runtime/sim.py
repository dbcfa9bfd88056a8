"""SimCluster: the same node code in one process, under a virtual clock and a seeded network.

Nothing here sleeps or reads the wall clock. Time is a number that jumps from one scheduled
action to the next (a delivery, a tick), so a scenario that takes 30 s of cluster time runs in
milliseconds and, with the same seed and the same calls, produces the identical event log. That
is what makes failures replayable in notebooks and tests deterministic.

Messages still cross the real codec (encoded to bytes and decoded again), so nodes never share
objects and the simulator exercises the wire format too. Fault verbs mirror LocalCluster's:
a killed node refuses connections and loses requests in flight; a paused node holds what it is
sent until it is resumed, as a SIGSTOPped process's socket buffers do.
"""

from __future__ import annotations

import heapq
import itertools
import random
from typing import Any, Callable

from minikv.client import Client
from minikv.config import NodeConfig
from minikv.core.events import Event
from minikv.core.info import parse_info
from minikv.core.messages import Reply
from minikv.core.node import TICK_INTERVAL, Node
from minikv.runtime.codec import KIND_REPLY, KIND_REQUEST, FrameReader, decode, encode, parse_request
from minikv.runtime.transport import Address, NoConnection, ReplyLost

BASE_PORT = 3000  # sim node i listens on ("sim", 3000 + i): addresses look like real ones
LATENCY = (0.0002, 0.0010)  # seconds, one way; drawn from the seeded RNG per message
OnReply = Callable[[bytes | None], None]  # gets the reply frame, or None if the request was lost


class SimCluster:
    """Nodes in one process, in virtual time. Same verbs as LocalCluster, plus run_for and step."""

    def __init__(self, nodes: int = 1, seed: int = 0, config: NodeConfig | None = None):
        self.config = config or NodeConfig()
        self.seed = seed
        self.rng = random.Random(seed)  # the only source of randomness in a simulation
        self.now = 0.0
        self._queue: list[tuple[float, int, Callable[[], None]]] = []  # heap of (time, seq, action)
        self._seq = itertools.count()  # tie-break: same-time actions run in scheduling order
        self._ids = [f"n{i}" for i in range(1, nodes + 1)]
        self._nodes: dict[str, Node] = {}
        self._states: dict[str, str] = {}  # {node_id: "alive" | "paused" | "dead"}
        self._incarnation: dict[str, int] = {}  # bumps on restart, cancelling the old tick chain
        self._held: dict[str, list[Callable[[], None]]] = {}  # deliveries waiting for a paused node
        self._past_events: list[Event] = []
        self._own_events: list[Event] = []
        for node_id in self._ids:
            self._start(node_id)

    # ---- what the cluster is -------------------------------------------------------------------

    @property
    def hosts(self) -> list[Address]:
        return [("sim", BASE_PORT + i) for i in range(1, len(self._ids) + 1)]

    @property
    def node_ids(self) -> list[str]:
        return list(self._ids)

    def node(self, node_id: str) -> Node:
        """The node object itself, to look inside in tests and notebooks."""
        return self._nodes[node_id]

    def node_states(self) -> dict[str, str]:
        return dict(self._states)

    def client(self, **config: Any) -> Client:
        return Client({"hosts": self.hosts, **config}, transport=SimTransport(self)).connect()

    # ---- time ----------------------------------------------------------------------------------

    def step(self) -> bool:
        """Run the next scheduled action; False when nothing is scheduled."""
        if not self._queue:
            return False
        t, _, action = heapq.heappop(self._queue)
        self.now = max(self.now, t)
        action()
        return True

    def run_for(self, seconds: float) -> None:
        """Advance virtual time by `seconds`, running everything due on the way."""
        self.run_until(lambda: False, self.now + seconds)

    def run_until(self, done: Callable[[], bool], deadline: float) -> bool:
        """Run actions until `done()` or virtual time reaches `deadline`; returns done()."""
        while not done():
            if not self._queue or self._queue[0][0] > deadline:
                self.now = max(self.now, deadline)
                return done()
            self.step()
        return True

    def schedule(self, delay: float, action: Callable[[], None]) -> None:
        heapq.heappush(self._queue, (self.now + delay, next(self._seq), action))

    # ---- fault verbs ---------------------------------------------------------------------------

    def kill(self, node_id: str) -> None:
        self._past_events += list(self._nodes[node_id].events)
        self._states[node_id] = "dead"
        self._held[node_id] = []
        self._log(node_id, "killed")

    def restart(self, node_id: str) -> None:
        if self._states[node_id] != "dead":
            self.kill(node_id)
        self._start(node_id)
        self._log(node_id, "restarted")

    def pause(self, node_id: str) -> None:
        self._states[node_id] = "paused"
        self._log(node_id, "paused")

    def resume(self, node_id: str) -> None:
        self._states[node_id] = "alive"
        self._log(node_id, "resumed")
        held, self._held[node_id] = self._held[node_id], []
        for deliver in held:
            self.schedule(0.0, deliver)

    # ---- looking inside ------------------------------------------------------------------------

    def info(self, node_id: str, command: str = "statistics") -> dict | str:
        if self._states[node_id] == "dead":
            raise RuntimeError(f"{node_id} is dead")
        return parse_info(self._nodes[node_id].info.answer(command))

    def events(self) -> list[Event]:
        """Every node's events (including earlier incarnations) and the cluster's, in time order."""
        live = [e for n in self._ids if self._states[n] != "dead" for e in self._nodes[n].events]
        return sorted(self._past_events + self._own_events + live, key=lambda e: e.t)

    def close(self) -> None:
        self._queue.clear()

    def __enter__(self) -> SimCluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- the simulated network -----------------------------------------------------------------

    def send_request(self, address: Address, frame: bytes, on_reply: OnReply) -> None:
        """Deliver a client's request frame after a seeded latency; NoConnection if refused."""
        node_id = self._node_at(address)
        if self._states[node_id] == "dead":
            raise NoConnection(f"{address[0]}:{address[1]}: connection refused ({node_id} is dead)")
        incarnation = self._incarnation[node_id]
        self.schedule(self._latency(), lambda: self._arrive(node_id, incarnation, frame, on_reply))

    def _arrive(self, node_id: str, incarnation: int, frame: bytes, on_reply: OnReply) -> None:
        if self._states[node_id] == "dead" or self._incarnation[node_id] != incarnation:
            on_reply(None)  # the connection died with the process
            return
        if self._states[node_id] == "paused":
            self._held[node_id].append(lambda: self._arrive(node_id, incarnation, frame, on_reply))
            return
        (request_frame,) = FrameReader(self.config.max_frame_size).feed(frame)
        message, refusal = parse_request(request_frame, self.config.max_frame_size)
        if refusal is not None:
            self._reply(on_reply, request_frame.request_id, refusal)
            return
        for effect in self._nodes[node_id].receive(request_frame.request_id, message, self.now):
            self._reply(on_reply, effect.origin, effect.reply)

    def _reply(self, on_reply: OnReply, request_id: int, reply: Reply) -> None:
        frame = encode(KIND_REPLY, request_id, reply)
        self.schedule(self._latency(), lambda: on_reply(frame))

    def _latency(self) -> float:
        return self.rng.uniform(*LATENCY)

    def _node_at(self, address: Address) -> str:
        index = address[1] - BASE_PORT - 1
        if address[0] != "sim" or not 0 <= index < len(self._ids):
            raise NoConnection(f"no simulated node at {address[0]}:{address[1]}")
        return self._ids[index]

    # ---- node lifecycle ------------------------------------------------------------------------

    def _start(self, node_id: str) -> None:
        self._incarnation[node_id] = self._incarnation.get(node_id, 0) + 1
        self._nodes[node_id] = Node(node_id, self.config, self.now, random.Random(self.rng.getrandbits(64)))
        self._states[node_id] = "alive"
        self._held[node_id] = []
        self._schedule_tick(node_id, self._incarnation[node_id])

    def _schedule_tick(self, node_id: str, incarnation: int) -> None:
        def tick() -> None:
            if self._incarnation[node_id] != incarnation or self._states[node_id] == "dead":
                return  # this tick chain belonged to a process that is gone
            if self._states[node_id] == "alive":
                self._nodes[node_id].tick(self.now)
            self._schedule_tick(node_id, incarnation)

        self.schedule(TICK_INTERVAL, tick)

    def _log(self, node_id: str, text: str) -> None:
        self._own_events.append(Event(self.now, node_id, "SimCluster", text))


class SimTransport:
    """The client's transport inside a SimCluster: a call runs the simulation until the reply
    arrives or the virtual deadline passes."""

    def __init__(self, sim: SimCluster):
        self.sim = sim
        self._ids = itertools.count(1)

    def now(self) -> float:
        return self.sim.now

    def sleep(self, seconds: float) -> None:
        self.sim.run_for(seconds)

    def call(self, address: Address, request: Any, timeout: float) -> Reply:
        box: list[bytes | None] = []
        request_id = next(self._ids)
        self.sim.send_request(address, encode(KIND_REQUEST, request_id, request), box.append)
        if not self.sim.run_until(lambda: bool(box), self.sim.now + timeout):
            raise ReplyLost("no reply before the deadline (virtual time)", timed_out=True)
        if box[0] is None:
            raise ReplyLost("the node died with the request in flight", timed_out=False)
        (frame,) = FrameReader(2**31, kinds=(KIND_REPLY,)).feed(box[0])
        return decode(frame.body)

    def close(self) -> None:
        pass
