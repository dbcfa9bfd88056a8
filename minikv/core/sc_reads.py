"""Reads in a strong-consistency namespace, and the writes that did not reach every replica.

A master may apply a write and not hear back from a replica (the write is in doubt). Served, then
lost with the master, that record would make a later read go back in time. Aerospike flags such
records (`repl_state`) and re-replicates them before use; we keep their keys and do the same
before any read of them, holding the key so no write slips in between.

Read modes (the read policy's `read_mode_sc`, as Aerospike's):

    SESSION            the master answers (the default)
    LINEARIZE          the master first asks every replica to confirm its regime: a deposed master
                       (paused, or on the wrong side of a split) hears "no", the read fails
    ALLOW_REPLICA      the master or any replica with a full copy answers
    ALLOW_UNAVAILABLE  as ALLOW_REPLICA, and any copy of an unavailable partition too
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from minikv import policies as P
from minikv.core.messages import Get
from minikv.core.storage import NamespaceStore
from minikv.errors import AerospikeError, ClusterError
from minikv.keys import partition_id

if TYPE_CHECKING:
    from minikv.core.node import Node
    from minikv.core.ownership import PartitionState


class ScReads:
    """SC reads on one node, and its keys whose last write may be missing on a replica."""

    def __init__(self, node: Node):
        self.node = node
        self.unreplicated: set[tuple[str, bytes]] = set()  # (ns, digest) to re-replicate before use

    def on_Get(self, msg: Get, origin: Any) -> Any:
        service = self.node.service
        store, pid = service._store(msg.ns), partition_id(service._digest(msg.digest))
        state = self.node.partitions.state(msg.ns, pid)
        if self._local_ok(msg.read_mode_sc, state):
            return service.read_local(store, msg)
        if state.working_master != self.node.node_id:
            return service._proxy(msg, origin, msg.ns, pid)
        return service.hold_key(msg, lambda: self._master_read(msg, origin, store, pid))

    def _local_ok(self, mode: int, state: PartitionState) -> bool:
        """May this node answer from its own copy without being the master?"""
        full = state.copy is not None and state.copy.full
        if mode == P.POLICY_READ_MODE_SC_ALLOW_UNAVAILABLE and state.working_master is None:
            return state.copy is not None
        if mode in (P.POLICY_READ_MODE_SC_ALLOW_REPLICA, P.POLICY_READ_MODE_SC_ALLOW_UNAVAILABLE):
            return full and state.working_master is not None and self.node.node_id in state.plan.replicas
        return False

    def _master_read(self, msg: Get, origin: Any, store: NamespaceStore, pid: int) -> None:
        """Holding the key: re-replicate if needed, confirm the regime if linearizing, answer."""
        service, targets = self.node.service, self.node.service._targets(msg.ns, pid)

        def answer(ok: bool) -> None:
            if not ok:
                error = ClusterError(f"{self.node.node_id} could not confirm it still masters partition {pid}")
                service._complete(msg, origin, error)
                return
            try:
                service._complete(msg, origin, service.read_local(store, msg))
            except AerospikeError as exc:
                service._complete(msg, origin, exc)

        def confirm(ok: bool) -> None:
            if ok and msg.read_mode_sc == P.POLICY_READ_MODE_SC_LINEARIZE:
                self.node.replication.confirm_regime(msg.ns, pid, targets, answer)
            else:
                answer(ok)

        if self.node.partitions.state(msg.ns, pid).working_master != self.node.node_id \
                or not self._replicas_share_our_view(targets):
            answer(False)  # the view changed while the read waited, or we are the one left behind
        elif (msg.ns, msg.digest) in self.unreplicated:
            self.rereplicate(msg.ns, msg.digest, store, pid, targets, confirm)
        else:
            confirm(True)

    def _replicas_share_our_view(self, replicas: list[str]) -> bool:
        """Do our replicas' latest pulses still count us in their view? A master that was paused
        or cut off hears, before its own view changes, that the others formed a view without it:
        it must not serve reads then. (Aerospike's clients avoid a deposed master by its lower
        regime; ours do too, but only once they re-tend.)"""
        reports, me = self.node.heartbeat.reports, self.node.node_id
        return all(me in reports[n].succession for n in replicas if n in reports)

    def rereplicate(self, ns: str, digest: bytes, store: NamespaceStore, pid: int, targets: list[str],
                    done: Callable[[bool], None]) -> None:
        """Send our current copy of a record whose last write was not acknowledged by everyone."""
        def replicated(ok: bool) -> None:
            self.written(ns, digest, ok)
            done(ok)
        regime = self.node.consistency.regime(ns, pid)
        self.node.replication.replicate(ns, digest, store.blob(digest), targets, True, replicated, regime)

    def written(self, ns: str, digest: bytes, replicated: bool) -> None:
        """A write (or a re-replication) finished: remember the key if a replica may lack it."""
        if replicated:
            self.unreplicated.discard((ns, digest))
        else:
            self.unreplicated.add((ns, digest))

    def forget_untrusted(self) -> None:
        """A new view: keys of partitions whose copy we dropped have nothing left to send."""
        sc = self.node.consistency
        self.unreplicated = {(ns, d) for ns, d in self.unreplicated if sc.trusts(ns, partition_id(d))}
