"""The event log: what a node did, in the domain's words, stamped with its clock and its name.

Nodes never print. They append events here; the simulator collects them in virtual time, node
processes keep the last few thousand for `cluster.events()`, and notebooks render them on demand.
A line reads like `t=1.300 n2/Migrator became master of 117 partitions at view 4`.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Event:
    t: float  # the node's clock: virtual seconds in the simulator, epoch seconds in processes
    node: str
    role: str  # which part of the node spoke (Node, Service, Nsup, ...)
    text: str

    def __str__(self) -> str:
        return f"t={self.t:.3f} {self.node}/{self.role} {self.text}"

    def shifted(self, origin: float) -> Event:
        """The same event with time measured from `origin` (a cluster's start)."""
        return Event(self.t - origin, self.node, self.role, self.text)


class EventLog:
    """A bounded list of a node's recent events, oldest first."""

    def __init__(self, node: str, size: int):
        self.node = node
        self._events: deque[Event] = deque(maxlen=size)
        self._total = 0  # events ever logged, so readers can ask for "everything after n"

    def log(self, t: float, role: str, text: str) -> Event:
        event = Event(t, self.node, role, text)
        self._events.append(event)
        self._total += 1
        return event

    def since(self, seen: int) -> tuple[int, list[Event]]:
        """Events logged after the first `seen` ones (as many as are still kept), and the new count."""
        unseen = min(self._total - seen, len(self._events))
        return self._total, list(self._events)[len(self._events) - unseen :]

    def __iter__(self):
        return iter(self._events)
