"""Outgoing node-to-node connections ("fabric"), with the fault rules a node was told to apply.

Each node opens one TCP connection per peer address and writes fabric frames on it; nothing comes
back on that connection (the peer answers on its own connection to us). A broken link drops what
was queued and is reopened on the next send: heartbeats and migration retransmits make the
protocols robust to that, exactly as they must be to a real network.

Faults are enforced here, at the sender, for the addresses LocalCluster names: `blocked`
(a partition: nothing is sent), `delay` (a slow link: each frame waits) and `loss` (a lossy link:
each frame is dropped with that probability). LocalCluster gives both ends the same rules, so a
link is cut, slowed or made lossy in both directions.
"""

from __future__ import annotations

import asyncio
import random

from minikv.runtime.codec import HEADER, KIND_FABRIC, PROTOCOL_VERSION

Address = tuple[str, int]
MAX_QUEUED = 10_000  # frames waiting for a connection to open; beyond that they are dropped


class PeerLink(asyncio.Protocol):
    """One outgoing connection; frames written before it opens wait in `pending`."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.pending: list[bytes] = []
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        for frame in self.pending:
            self.transport.write(frame)
        self.pending.clear()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True

    def write(self, frame: bytes) -> None:
        if self.transport is not None:
            self.transport.write(frame)
        elif len(self.pending) < MAX_QUEUED:
            self.pending.append(frame)


class PeerLinks:
    """All of a node's outgoing fabric connections, and its fault rules."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.links: dict[Address, PeerLink] = {}
        self.blocked: set[Address] = set()
        self.delay: dict[Address, float] = {}  # {address: seconds added to each frame}
        self.loss: dict[Address, float] = {}  # {address: probability a frame is dropped}

    def set_faults(self, rules: dict) -> None:
        """Replace the rules: {"blocked": [[h, p]], "delay": [[h, p, s]], "loss": [[h, p, rate]]}."""
        self.blocked = {(h, p) for h, p in rules.get("blocked", [])}
        self.delay = {(h, p): s for h, p, s in rules.get("delay", [])}
        self.loss = {(h, p): r for h, p, r in rules.get("loss", [])}

    def send(self, address: Address, body: bytes) -> None:
        if address in self.blocked or self.rng.random() < self.loss.get(address, 0.0):
            return
        frame = HEADER.pack(PROTOCOL_VERSION, KIND_FABRIC, 0, len(body)) + body
        delay = self.delay.get(address, 0.0)
        if delay:
            asyncio.get_running_loop().call_later(delay, self._write, address, frame)
        else:
            self._write(address, frame)

    def _write(self, address: Address, frame: bytes) -> None:
        link = self.links.get(address)
        if link is None or link.closed:
            link = self.links[address] = PeerLink()
            asyncio.get_running_loop().create_task(self._connect(address, link))
        link.write(frame)

    async def _connect(self, address: Address, link: PeerLink) -> None:
        try:
            await asyncio.get_running_loop().create_connection(lambda: link, *address)
        except OSError:  # the peer is down: drop what waited; the next send tries again
            link.closed = True
            link.pending.clear()

    def close(self) -> None:
        for link in self.links.values():
            if link.transport is not None:
                link.transport.close()
