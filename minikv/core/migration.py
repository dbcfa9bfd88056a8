"""Migrations: moving partitions into place after a view change.

For each partition the plan (`balance.py`) names *lead* sources, which send their copy to the
final master, and *fill* targets, which the final master fills once it has every lead. Then the
final master tells the non-replicas still holding the partition to drop it (Aerospike's ALL_DONE
signal). The order explains the transient states notebook 04 draws: a replica still receiving is
"D" (desync), a non-replica still holding data is "Z".

One migration is a conversation between two nodes about one partition:

    MigrateInsert(seq 0..n-1) -> ack each, then MigrateDone(n) -> ack

(Aerospike opens with START / START_ACK, so a busy receiver can say "try again later"; we let
the first batch open the conversation.)

Every message carries the cluster key and is ignored under another key, so a view change simply
abandons what was in flight; the next plan starts again from whatever copies exist. Messages that
go unacknowledged are resent (`migrate_retransmit`); receiving one twice is harmless because
records merge with replace-if-better.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from minikv.core.fabric import MigrateAck, MigrateDone, MigrateInsert

if TYPE_CHECKING:
    from minikv.core.node import Node

WINDOW = 4  # insert batches in flight per migration


@dataclass(slots=True)
class Emigration:
    """One partition being sent from this node to `dst`."""

    ns: str
    pid: int
    dst: str
    purpose: str  # "lead" (to the final master) or "fill" (from it, to a replica)
    digests: list[bytes] = field(default_factory=list)  # snapshot taken at start
    next_seq: int = 0  # next batch to send
    unacked: dict[int, tuple[object, float]] = field(default_factory=dict)  # {seq: (message, sent at)}
    done_sent: bool = False

    @property
    def batches(self) -> int:
        return self.next_seq


class Migrator:
    """Sends and receives this node's migrations for the current view."""

    def __init__(self, node: Node):
        self.node = node
        self.queue: deque[Emigration] = deque()  # waiting to start (bounded concurrency)
        self.active: dict[tuple[str, int, str], Emigration] = {}  # {(ns, pid, dst): emigration}
        self.tx_records = 0  # records sent (asinfo migrate_records_transmitted)
        self.rx_records = 0

    def reset(self) -> None:
        """A new view: whatever was in flight belongs to the old one."""
        self.queue.clear()
        self.active.clear()

    def emigrate(self, ns: str, pid: int, dst: str, purpose: str) -> None:
        self.queue.append(Emigration(ns, pid, dst, purpose))
        self._start_queued()

    def remaining_for(self, ns: str) -> int:
        """Partitions of `ns` this node still has to send (queued or in flight)."""
        pending = list(self.queue) + list(self.active.values())
        return len({em.pid for em in pending if em.ns == ns})

    # ---- sending ---------------------------------------------------------------------------------

    def _start_queued(self) -> None:
        while self.queue and len(self.active) < self.node.config.migrate_max_emigrations:
            em = self.queue.popleft()
            em.digests = self.node.stores[em.ns].digests(em.pid)
            self.active[(em.ns, em.pid, em.dst)] = em
            self._pump(em)

    def _send(self, em: Emigration, seq: int, msg: object) -> None:
        em.unacked[seq] = (msg, self.node.now)
        self.node.send(em.dst, msg)

    def _pump(self, em: Emigration) -> None:
        """Keep WINDOW batches in flight; after the last one is acknowledged, send Done."""
        size = self.node.config.migrate_batch_records
        while len(em.unacked) < WINDOW and em.next_seq * size < len(em.digests):
            seq, em.next_seq = em.next_seq, em.next_seq + 1
            records = self.node.stores[em.ns].blobs(em.digests[seq * size:(seq + 1) * size])
            self.tx_records += len(records)
            self._send(em, seq, MigrateInsert(self.node.node_id, self.node.ckey, em.ns, em.pid, seq, records))
        if not em.unacked and em.next_seq * size >= len(em.digests) and not em.done_sent:
            em.done_sent = True
            self._send(em, em.batches, MigrateDone(self.node.node_id, self.node.ckey, em.ns, em.pid, em.batches))

    def on_MigrateAck(self, msg: MigrateAck) -> None:
        em = self.active.get((msg.ns, msg.pid, msg.src))
        if em is None or msg.ckey != self.node.ckey:
            return
        em.unacked.pop(msg.seq, None)
        if msg.done:
            del self.active[(msg.ns, msg.pid, msg.src)]
            self.node.partitions.emigration_done(em.ns, em.pid, em.dst, em.purpose)
            self._start_queued()
            return
        self._pump(em)

    def tick(self, now: float) -> None:
        """Resend what was not acknowledged in time (a lossy link, a paused peer)."""
        for em in self.active.values():
            for seq, (msg, sent) in list(em.unacked.items()):
                if now - sent >= self.node.config.migrate_retransmit:
                    self._send(em, seq, msg)

    # ---- receiving -------------------------------------------------------------------------------

    def on_MigrateInsert(self, msg: MigrateInsert) -> None:
        if msg.ckey != self.node.ckey:
            return
        store = self.node.stores[msg.ns]
        for digest, blob in msg.records:
            self.node.replication.merge(store, digest, blob)
        self.rx_records += len(msg.records)
        self.node.send(msg.src, MigrateAck(self.node.node_id, msg.ckey, msg.ns, msg.pid, msg.seq))

    def on_MigrateDone(self, msg: MigrateDone) -> None:
        if msg.ckey != self.node.ckey:
            return
        self.node.partitions.immigration_done(msg.ns, msg.pid, msg.src)
        self.node.send(msg.src, MigrateAck(self.node.node_id, msg.ckey, msg.ns, msg.pid, msg.batches, done=True))
