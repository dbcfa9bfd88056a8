"""Heartbeats: how a node knows which other nodes are alive.

Every `heartbeat_interval` a node sends each peer a `Heartbeat` carrying its address, the view it
is in and the list of nodes it hears from (its *adjacency*). A peer not heard from for
`heartbeat_timeout_intervals` intervals is considered dead. That is the whole failure detector,
and its trade-off is the lesson of notebook 02: a short timeout notices a crash quickly but also
"detects" a node that was merely paused or behind a slow link (false suspicion).

Aerospike's mesh mode works the same way (150 ms x 10 by default): nodes start from seed addresses
and learn the rest from the adjacency lists in each other's pulses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from minikv.config import NodeConfig
from minikv.core.fabric import Heartbeat

Address = tuple[str, int]


@dataclass(frozen=True, slots=True)
class Send:
    """Effect: deliver a fabric message to a node (by id when known, else by seed address)."""

    to: str | None
    address: Address
    message: object


class HeartbeatMonitor:
    """Tracks when each peer was last heard, where it lives, and what it reports."""

    def __init__(self, node_id: str, config: NodeConfig, clock: Callable[[], float],
                 peer_alive: Callable[[float | None, float, float], bool]):
        self.node_id = node_id
        self.peer_alive = peer_alive  # the failure detector (hooks.py; a learner's in notebook 02)
        self.clock = clock  # reads the node's `now`: the time of the message being handled
        self.config = config
        self.address: Address = ("127.0.0.1", 0)  # our own service address, set by the runtime
        self.aerospike_port = 0  # our Aerospike-protocol port (0: none), set by the runtime
        self.aerospike_ports: dict[str, int] = {}  # {node_id: its Aerospike-protocol port}
        self.seeds: set[Address] = set()  # addresses to pulse before we know who is there
        self.addresses: dict[str, Address] = {}  # {node_id: service address}
        self.last_heard: dict[str, float] = {}  # {node_id: when its last heartbeat arrived}
        self.reports: dict[str, Heartbeat] = {}  # {node_id: its last heartbeat}

    def on_Heartbeat(self, msg: Heartbeat) -> None:
        """Record a pulse (its time is the node's `now`, set by the runtime's receive)."""
        now = self.clock()
        self.last_heard[msg.src] = now
        self.addresses[msg.src] = tuple(msg.address)  # type: ignore[assignment]
        self.aerospike_ports[msg.src] = msg.aerospike_port
        self.reports[msg.src] = msg

    def is_alive(self, node_id: str, now: float) -> bool:
        return self.peer_alive(self.last_heard.get(node_id), now, self.config.node_timeout)

    def alive(self, now: float) -> set[str]:
        """Peers heard from within the timeout (not including ourselves)."""
        return {n for n in self.last_heard if self.is_alive(n, now)}

    def pulses(self, ckey: int, succession: tuple[str, ...], now: float) -> list[Send]:
        """One heartbeat to every known peer and to every seed not yet known by id."""
        pulse = Heartbeat(self.node_id, self.address, ckey, succession, tuple(sorted(self.alive(now))),
                          self.aerospike_port)
        known = set(self.addresses.values())
        sends = [Send(n, a, pulse) for n, a in sorted(self.addresses.items()) if n != self.node_id]
        sends += [Send(None, a, pulse) for a in sorted(self.seeds - known) if a != self.address]
        return sends

    def hears(self, a: str, b: str, now: float) -> bool:
        """Does `a` hear `b`? Our own ears for ourselves, the peer's last report otherwise."""
        if a == self.node_id:
            return self.is_alive(b, now)
        report = self.reports.get(a)
        return report is not None and b in report.adjacency

    def forget(self, node_id: str) -> None:
        """A node left gracefully: stop expecting its heartbeats."""
        for table in (self.addresses, self.last_heard, self.reports, self.aerospike_ports):
            table.pop(node_id, None)
