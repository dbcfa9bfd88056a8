"""The partition table of one node: for each partition, its plan in the current view and what
this node holds, and the bookkeeping that moves it from "planned" to "done".

On every view change the node balances all 4096 partitions of each namespace (`balance.py`) and
starts its part of the migrations. As leads arrive, the final master *settles* a partition (it
becomes the working master and tells everyone); as fills finish, it tells non-replicas to drop
their copies. Clients learn who masters what from the `replicas` bitmaps built here.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from minikv.core.balance import Copy, PartitionPlan, plan_partition
from minikv.core.fabric import AnnounceAck, MigrateDropped, MigrateSettled
from minikv.core.hooks import DEFAULT_HOOKS
from minikv.core.partitions import partition_rows
from minikv.keys import N_PARTITIONS

if TYPE_CHECKING:
    from minikv.core.clustering import View
    from minikv.core.node import Node


@dataclass(slots=True)
class PartitionState:
    """One partition on this node."""

    copy: Copy | None = None  # what we hold (None: nothing)
    held: Copy | None = None  # our last full copy when a view began: reported while `copy` fills
    plan: PartitionPlan | None = None  # None until the first view
    working_master: str | None = None
    leads_pending: set[str] = field(default_factory=set)  # final master: sources not done yet
    fills_pending: set[str] = field(default_factory=set)  # final master: replicas not filled yet


class PartitionTable:
    """All partitions of all namespaces on this node."""

    def __init__(self, node: Node):
        self.node = node
        self.parts: dict[str, list[PartitionState]] = {
            ns: [PartitionState() for _ in range(N_PARTITIONS)] for ns in node.stores}
        self._settled: dict[str, list[int]] = {}  # {ns: pids} to announce at the next tick
        self._dropped: dict[tuple[str, str], list[int]] = {}  # {(ns, witness): pids} likewise
        self.generation = 0  # Aerospike's partition-generation: bumps whenever claims change
        self._aids = itertools.count(1)  # announcement ids
        self._unacked: dict[int, tuple[str, Any, float]] = {}  # {aid: (peer, message, sent at)}

    # ---- a new view ------------------------------------------------------------------------------

    def _rows(self, succession: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
        """Every partition's succession row: Aerospike's (cached), or a learner's partitioner."""
        row = self.node.hooks.succession_row
        if row is DEFAULT_HOOKS.succession_row:
            return partition_rows(succession)
        return tuple(tuple(row(pid, succession)) for pid in range(N_PARTITIONS))

    def rebalance(self, view: View, versions: dict[str, dict]) -> None:
        """Plan every partition of every namespace for `view`, then start our migrations."""
        self._unacked.clear()  # announcements of the old view are moot
        for ns, parts in self.parts.items():
            for state, plan in zip(parts, self._plans(ns, view, versions)):
                self._adopt(ns, state, plan)
        self.generation += 1
        self._log_summary(view)

    def _plans(self, ns: str, view: View, versions: dict[str, dict]) -> list[PartitionPlan]:
        copies = _copies_by_pid(ns, versions)
        if self.node.consistency.is_sc(ns):
            return self.node.consistency.plan_namespace(ns, view, versions, self._rows, copies)
        rows = self._rows(view.succession)
        rf = min(self.node.stores[ns].config.replication_factor, len(view.succession))
        return [plan_partition(pid, rows[pid], rf, copies.get(pid, {}), view.ckey) for pid in range(N_PARTITIONS)]

    def _adopt(self, ns: str, state: PartitionState, plan: PartitionPlan) -> None:
        me, sc = self.node.node_id, self.node.consistency.is_sc(ns)
        state.leads_pending, state.fills_pending = set(), set()
        state.plan, state.working_master = plan, plan.working_master or None
        if not plan.working_master:  # SC: unavailable here; keep what we hold, serve nothing
            return
        if sc and not self.node.consistency.trusts(ns, plan.pid):
            self._drop(ns, plan.pid)  # SC: a stale or partial copy may lack acknowledged writes
        if state.copy is not None and state.copy.full:
            state.held = state.copy
        if me == plan.final_master:
            state.leads_pending = set(plan.sources)
        if sc and me == plan.working_master != plan.final_master:
            state.copy = Copy(plan.version, True, plan.replicas)  # serves (and is written) in the new regime
        if me in plan.sources:
            self.node.migrator.emigrate(ns, plan.pid, plan.final_master, "lead")
        if me == plan.final_master:
            state.copy = Copy(plan.version, not plan.sources, plan.replicas)
            if not plan.sources:
                self._settle(ns, state)
        elif me in plan.fills:
            state.copy = Copy(plan.version, False, plan.replicas)
        elif me in plan.replicas:
            state.copy = Copy(plan.version, True, plan.replicas)
        elif state.copy is not None and (not plan.migrating or me not in plan.witnesses):
            # a non-replica lets go at once when nothing waits on its copy (no migrations, or
            # its copy was empty or incomplete: then the plan counts on it for nothing)
            self._drop(ns, plan.pid)

    def _log_summary(self, view: View) -> None:
        me = self.node.node_id
        for ns, parts in self.parts.items():
            masters = sum(1 for s in parts if s.plan.replicas and s.plan.final_master == me)
            replicas = sum(1 for s in parts if me in s.plan.replicas[1:])
            moving = sum(1 for s in parts if s.plan.migrating)
            down = sum(1 for s in parts if not s.plan.working_master)
            self.node.log("Balance", f"{ns}: final master of {masters}, replica of {replicas}; "
                          f"{moving} partitions to migrate" + (f"; {down} unavailable" if down else ""))

    # ---- migrations finishing --------------------------------------------------------------------

    def immigration_done(self, ns: str, pid: int, src: str) -> None:
        state = self.parts[ns][pid]
        if state.plan is None:
            return
        if src in state.leads_pending:  # we are the final master gathering leads
            state.leads_pending.discard(src)
            if not state.leads_pending:
                self._settle(ns, state)
        elif src == state.plan.final_master and state.copy and not state.copy.full:
            state.copy = Copy(state.copy.ckey, True, state.copy.holders)  # a fill arrived
            self.generation += 1

    def _settle(self, ns: str, state: PartitionState) -> None:
        """The final master has every lead: it masters the partition and fills the replicas."""
        plan = state.plan
        state.copy = Copy(plan.version, True, plan.replicas)
        state.working_master = self.node.node_id
        self._settled.setdefault(ns, []).append(plan.pid)
        state.fills_pending = set(plan.fills)
        for target in plan.fills:
            self.node.migrator.emigrate(ns, plan.pid, target, "fill")
        if not plan.fills:
            self._release_witnesses(ns, plan)
        self.generation += 1

    def emigration_done(self, ns: str, pid: int, dst: str, purpose: str) -> None:
        state = self.parts[ns][pid]
        if purpose == "fill" and dst in state.fills_pending:
            state.fills_pending.discard(dst)
            if not state.fills_pending:
                self._release_witnesses(ns, state.plan)

    def _release_witnesses(self, ns: str, plan: PartitionPlan) -> None:
        for witness in plan.witnesses:
            self._dropped.setdefault((ns, witness), []).append(plan.pid)

    def on_MigrateSettled(self, msg: MigrateSettled) -> None:
        self.node.send(msg.src, AnnounceAck(self.node.node_id, msg.aid))  # even if stale: stop resends
        if msg.ckey == self.node.ckey:
            for pid in msg.pids:
                state = self.parts[msg.ns][pid]
                if self.node.consistency.is_sc(msg.ns) and state.working_master == self.node.node_id \
                        and state.copy and self.node.node_id not in state.plan.replicas:
                    # SC: writes now go to the final master, not to us: our copy falls behind
                    state.copy = Copy(state.copy.ckey, False, state.copy.holders)
                state.working_master = msg.src
            self.generation += 1

    def on_MigrateDropped(self, msg: MigrateDropped) -> None:
        self.node.send(msg.src, AnnounceAck(self.node.node_id, msg.aid))
        if msg.ckey == self.node.ckey:
            for pid in msg.pids:
                self._drop(msg.ns, pid)

    def _drop(self, ns: str, pid: int) -> None:
        self.parts[ns][pid].copy = self.parts[ns][pid].held = None
        self.node.stores[ns].partitions[pid].clear()

    def tick(self) -> None:
        """Announce settled partitions and drop signals, batched per tick; resend the ones not
        acknowledged within `migrate_retransmit`."""
        ckey, me, members = self.node.ckey, self.node.node_id, self.node.members
        for ns, pids in self._settled.items():
            for peer in members:
                if peer != me:
                    self._announce(peer, MigrateSettled(me, ckey, ns, tuple(pids), next(self._aids)))
        for (ns, witness), pids in self._dropped.items():
            self._announce(witness, MigrateDropped(me, ckey, ns, tuple(pids), next(self._aids)))
        self._settled, self._dropped = {}, {}
        for aid, (peer, msg, sent) in list(self._unacked.items()):
            if self.node.now - sent >= self.node.config.migrate_retransmit:
                self._announce(peer, msg)

    def _announce(self, peer: str, msg: MigrateSettled | MigrateDropped) -> None:
        self._unacked[msg.aid] = (peer, msg, self.node.now)
        self.node.send(peer, msg)

    def on_AnnounceAck(self, msg: AnnounceAck) -> None:
        self._unacked.pop(msg.aid, None)

    # ---- questions the rest of the node asks -----------------------------------------------------

    def state(self, ns: str, pid: int) -> PartitionState:
        return self.parts[ns][pid]

    def versions(self) -> dict[str, list]:
        """What we hold, for the clustering round: {ns: [[ckey, full, holders, [pids]], ...]}."""
        out: dict[str, list] = {}
        for ns, parts in self.parts.items():
            groups: dict[Copy, list[int]] = {}
            sc = self.node.consistency.is_sc(ns)
            for pid, state in enumerate(parts):
                # An empty copy is reported as no copy: there is nothing to move or merge.
                # (Without tombstones a delete is not data either; Aerospike AP behaves alike.)
                # A copy still filling is reported as the full copy it grew from, if any: the
                # next view must not take it for a whole copy of the new version (and drop the
                # one that really is whole) nor forget the older data it holds in full.
                copy = state.copy if state.copy is None or state.copy.full else state.held or state.copy
                # SC reports empty copies too: an empty partition is data ("nothing here") too
                if copy is not None and (sc or self.node.stores[ns].partitions[pid]):
                    groups.setdefault(copy, []).append(pid)
            out[ns] = [[c.ckey, c.full, list(c.holders), pids] for c, pids in groups.items()]
        return out

    def claims(self, ns: str) -> list[list[int]]:
        """pids we claim per replica index: index 0 as working master, i > 0 as a full replica."""
        me, parts = self.node.node_id, self.parts[ns]
        rf = max((len(s.plan.replicas) for s in parts if s.plan), default=1)
        claimed: list[list[int]] = [[] for _ in range(rf)]
        for pid, state in enumerate(parts):
            if state.plan is None or not state.plan.working_master:
                continue
            if state.working_master == me:
                claimed[0].append(pid)
            elif me in state.plan.replicas[1:] and state.copy and state.copy.full:
                claimed[state.plan.replicas.index(me)].append(pid)
        return claimed

    def migrations_remaining(self, ns: str) -> tuple[int, int]:
        """(tx, rx): partitions this node still has to send, and to receive."""
        parts = self.parts[ns]
        rx = sum(1 for s in parts if s.leads_pending or (s.copy and not s.copy.full))
        return self.node.migrator.remaining_for(ns), rx


def _copies_by_pid(ns: str, versions: dict[str, dict]) -> dict[int, dict[str, Copy]]:
    """Invert {node: {ns: [[ckey, full, holders, pids]...]}} into {pid: {node: Copy}}."""
    by_pid: dict[int, dict[str, Copy]] = {}
    for node_id, tables in versions.items():
        for ckey, full, holders, pids in tables.get(ns, []):
            copy = Copy(ckey, full, tuple(holders))
            for pid in pids:
                by_pid.setdefault(pid, {})[node_id] = copy
    return by_pid
