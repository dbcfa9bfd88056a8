"""The simulator's world: a virtual clock, a queue of scheduled actions and a faulty network.

Nothing here sleeps or reads the wall clock. Time is a number that jumps from one scheduled
action to the next, so 30 s of cluster life runs in a fraction of a second and, with the same
seed and the same calls, happens identically. Links between nodes deliver in order (like TCP)
after a seeded latency, and obey the same fault verbs as real processes: a cut link (partition),
extra delay (slow link), and a loss rate (lossy link).
"""

from __future__ import annotations

import heapq
import itertools
import random
from typing import Callable

from minikv.runtime.faults import LinkFaults

LATENCY = (0.0002, 0.0010)  # seconds, one way; drawn from the seeded RNG per message


class SimNetwork:
    """Scheduler plus links. Faults are symmetric: they apply to both directions of a link."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)  # the only source of randomness in a simulation
        self.now = 0.0
        self._queue: list[tuple[float, int, Callable[[], None]]] = []  # heap of (time, seq, action)
        self._seq = itertools.count()  # tie-break: same-time actions run in scheduling order
        self._last_delivery: dict[tuple[str, str], float] = {}  # {(src, dst): time}: keeps FIFO
        self.faults = LinkFaults()

    # ---- time ----------------------------------------------------------------------------------

    def schedule(self, delay: float, action: Callable[[], None]) -> None:
        heapq.heappush(self._queue, (self.now + delay, next(self._seq), action))

    def step(self) -> bool:
        """Run the next scheduled action; False when nothing is scheduled."""
        if not self._queue:
            return False
        t, _, action = heapq.heappop(self._queue)
        self.now = max(self.now, t)
        action()
        return True

    def run_until(self, done: Callable[[], bool], deadline: float) -> bool:
        """Run actions until `done()` or virtual time reaches `deadline`; returns done()."""
        while not done():
            if not self._queue or self._queue[0][0] > deadline:
                self.now = max(self.now, deadline)
                return done()
            self.step()
        return True

    # ---- links ---------------------------------------------------------------------------------

    def latency(self) -> float:
        return self.rng.uniform(*LATENCY)

    def transmit(self, src: str, dst: str, deliver: Callable[[], None]) -> float | None:
        """Send over the src->dst link; returns the delivery time, or None if the link lost the
        message (cut, or by the loss rate)."""
        link, faults = frozenset((src, dst)), self.faults
        if link in faults.cut or (link in faults.loss and self.rng.random() < faults.loss[link]):
            return None
        at = self.now + self.latency() + faults.delay.get(link, 0.0)
        at = max(at, self._last_delivery.get((src, dst), 0.0))  # in order, like a TCP stream
        self._last_delivery[(src, dst)] = at
        self.schedule(at - self.now, deliver)
        return at
