"""Replication: the master copies each write to the partition's other replicas.

After applying a write, the working master sends the new record (or its deletion) to every other
replica of the partition, and to the final master if that is another node still gathering data.
With commit level ALL (the default) the client's reply waits for every acknowledgement; with
MASTER it goes out at once and the copies follow. A replica that leaves the view stops being
waited for; if acknowledgements do not arrive within `transaction_max`, the client gets a
timeout: the write is on the master but maybe not on every replica, so it is in doubt.

Before writing to a partition with *duplicates* (copies of another version, e.g. after a split
brain heals) the master asks their holders for their copy of the record and keeps the better one:
Aerospike's duplicate resolution. In AP replicas apply what the master sends, from any view (per-key
order on the master and in-order links keep the order); in SC only from their master, in their
view and regime (`_serves`), as Aerospike checks source and regime: that fences a deposed master.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

from minikv.core.fabric import DupResReply, DupResRequest, RegimeCheck, ReplicaAck, ReplicaWrite
from minikv.core.records import Record
from minikv.core.storage import NamespaceStore
from minikv.keys import partition_id

if TYPE_CHECKING:
    from minikv.core.node import Node

Done = Callable[[bool], None]  # called once: True when complete, False on timeout


@dataclass(slots=True)
class Pending:
    """A write waiting for acks, or a duplicate resolution waiting for copies."""

    waiting: set[str]
    deadline: float
    done: Done
    ns: str = ""
    digest: bytes = b""
    copies: list[bytes] = field(default_factory=list)  # duplicate resolution: blobs received


class ReplicaWriter:
    """This node's outstanding replications and duplicate resolutions."""

    def __init__(self, node: Node):
        self.node = node
        self._tids = itertools.count(1)  # per node, so runs replay identically
        self.pending: dict[int, Pending] = {}  # {tid: what we wait for}

    # ---- master side -----------------------------------------------------------------------------

    def replicate(self, ns: str, digest: bytes, blob: bytes | None, targets: list[str],
                  wait: bool, done: Done, regime: int = 0) -> None:
        """Send the write to `targets`; call `done` when all acked (or at once if not waiting)."""
        tid = next(self._tids)
        for target in targets:
            self.node.send(target, ReplicaWrite(self.node.node_id, self.node.ckey, ns, digest, blob, tid, regime))
        if not wait or not targets:
            done(True)
            return
        self.pending[tid] = Pending(set(targets), self._deadline(), done, ns)

    def confirm_regime(self, ns: str, pid: int, targets: list[str], done: Done) -> None:
        """SC linearize read: ask every replica whether we still master `pid` in our regime."""
        if not targets:
            done(True)
            return
        tid = next(self._tids)
        check = RegimeCheck(self.node.node_id, self.node.ckey, ns, pid, self.node.consistency.regime(ns, pid), tid)
        for target in targets:
            self.node.send(target, check)
        self.pending[tid] = Pending(set(targets), self._deadline(), done, ns)

    def dup_resolve(self, ns: str, digest: bytes, holders: list[str], done: Done) -> None:
        """Fetch the record from each duplicate holder, keep the winner locally, then `done`."""
        tid = next(self._tids)
        for holder in holders:
            self.node.send(holder, DupResRequest(self.node.node_id, self.node.ckey, ns, digest, tid))
        self.pending[tid] = Pending(set(holders), self._deadline(), done, ns, digest)

    def on_ReplicaAck(self, msg: ReplicaAck) -> None:
        if msg.ok:
            self._heard(msg.tid, msg.src)
        elif msg.tid in self.pending:  # SC: a replica refused: the write (or the read) fails now
            self.pending.pop(msg.tid).done(False)

    def on_DupResReply(self, msg: DupResReply) -> None:
        pending = self.pending.get(msg.tid)
        if pending is not None and msg.record is not None:
            self.merge(self.node.stores[pending.ns], pending.digest, msg.record)
        self._heard(msg.tid, msg.src)

    def _heard(self, tid: int, src: str) -> None:
        pending = self.pending.get(tid)
        if pending is not None:
            pending.waiting.discard(src)
            if not pending.waiting:
                del self.pending[tid]
                pending.done(True)

    def forget_departed(self, members: set[str]) -> None:
        """A new view: stop waiting for nodes that are no longer in it."""
        for tid, pending in list(self.pending.items()):
            if self.node.consistency.is_sc(pending.ns):  # SC: no ack from every replica, no success
                del self.pending[tid]
                pending.done(False)
                continue
            pending.waiting &= members
            if not pending.waiting:
                del self.pending[tid]
                pending.done(True)

    def tick(self, now: float) -> None:
        for tid, pending in list(self.pending.items()):
            if now >= pending.deadline:
                del self.pending[tid]
                pending.done(False)

    def _deadline(self) -> float:
        return self.node.now + self.node.config.transaction_max

    # ---- replica side ----------------------------------------------------------------------------

    def on_ReplicaWrite(self, msg: ReplicaWrite) -> None:
        store = self.node.stores.get(msg.ns)
        if store is None:
            return
        if self.node.consistency.is_sc(msg.ns) and not self._serves(msg, partition_id(msg.digest), msg.regime):
            self.node.send(msg.src, ReplicaAck(self.node.node_id, msg.tid, False))
            return
        if msg.record is None:
            store.delete(msg.digest)
        else:
            store.put(msg.digest, msg.record)
        self.node.send(msg.src, ReplicaAck(self.node.node_id, msg.tid))

    def on_RegimeCheck(self, msg: RegimeCheck) -> None:
        ok = self.node.consistency.is_sc(msg.ns) and self._serves(msg, msg.pid, msg.regime)
        self.node.send(msg.src, ReplicaAck(self.node.node_id, msg.tid, ok))

    def _serves(self, msg: ReplicaWrite | RegimeCheck, pid: int, regime: int) -> bool:
        """SC: is the sender our master for `pid`, in our view and our regime? Aerospike checks
        the source and the regime of replica writes the same way; it fences a deposed master."""
        state = self.node.partitions.state(msg.ns, pid)
        masters = (state.working_master, state.plan.final_master if state.plan and state.plan.replicas else None)
        return (msg.ckey == self.node.ckey and regime == self.node.consistency.regime(msg.ns, pid)
                and msg.src in masters)

    def on_DupResRequest(self, msg: DupResRequest) -> None:
        store = self.node.stores.get(msg.ns)
        blob = store.blob(msg.digest) if store else None
        self.node.send(msg.src, DupResReply(self.node.node_id, msg.tid, blob))

    # ---- both ------------------------------------------------------------------------------------

    def merge(self, store: NamespaceStore, digest: bytes, blob: bytes) -> bool:
        """Keep `blob` if it beats our copy under the namespace's conflict policy."""
        local = store.blob(digest)
        incoming = Record.unpack(blob)
        if local is not None and not self.node.hooks.incoming_wins(Record.unpack(local), incoming,
                                                    store.config.conflict_resolution):
            return False
        store.put(digest, blob)
        return True
