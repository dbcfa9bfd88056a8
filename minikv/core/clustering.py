"""Clustering: agreeing on who is in the cluster, one view at a time.

The *principal* is the node with the highest node id among those that can all hear each other.
At every quantum (`quantum_interval`) it compares that group with the current view; if they
differ it runs a two-phase round, as Aerospike's clustering does:

1. `Prepare(proposal)` to the group; it needs `Promise`s from a **majority** to go on;
2. `Accept(proposal, new cluster key, members)` to those who promised; the new view is made of
   **everyone who answered both phases** (their `Accepted` also carries their partition
   versions, which Aerospike exchanges in a separate step right after);
3. `Commit` of the view and all versions; every member then rebalances partitions by itself.

Batching changes per quantum turns several arrivals and departures into one view change. A node
that hears no principal willing to take it in for `orphan_quanta` quanta forms a cluster of its
own; that is how both halves of a split keep serving in AP mode (notebook 05).

Simplified: Aerospike's proposal numbers are hybrid logical clock values and it evicts nodes
outside the maximal clique of mutual adjacency; we use (clock, node number) and a greedy clique.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from minikv.core.fabric import Accept, Accepted, Commit, Prepare, Promise
from minikv.core.partitions import node_number, succession_list

if TYPE_CHECKING:
    from minikv.core.node import Node

Proposal = tuple[float, int]
NO_PROPOSAL: Proposal = (0.0, 0)


@dataclass(frozen=True, slots=True)
class View:
    """A cluster view: its random key, its members (principal first) and this node's count."""

    ckey: int = 0  # 0 = not in any cluster (an orphan)
    succession: tuple[str, ...] = ()
    generation: int = 0  # Aerospike's cluster_generation: views this node has adopted

    @property
    def principal(self) -> str | None:
        return self.succession[0] if self.succession else None


@dataclass(slots=True)
class Round:
    """The principal's clustering round in progress."""

    proposal: Proposal
    group: tuple[str, ...]  # who we asked
    deadline: float
    phase: str = "prepare"  # -> "accept"
    answered: set[str] = field(default_factory=set)
    promised: set[str] = field(default_factory=set)
    ckey: int = 0
    versions: dict[str, dict] = field(default_factory=dict)  # {node_id: its partition versions}


class ClusterManager:
    """One node's part in clustering: principal when it is the highest, acceptor otherwise."""

    def __init__(self, node: Node):
        self.node = node
        self.view = View()
        self.promised: Proposal = NO_PROPOSAL
        self.commit_from: str | None = None  # whose Accept we answered last: only it may commit
        self.round: Round | None = None
        self.next_quantum = node.now + 2 * node.config.heartbeat_interval  # hear peers first
        self.orphan_quanta = 0
        self.adopted_at = node.now  # when this node adopted its current view
        self.recluster_requested = False  # an operator's `recluster`: run a round even if no change

    # ---- every quantum ---------------------------------------------------------------------------

    def tick(self, now: float) -> None:
        if self.round and now >= self.round.deadline:
            self._advance_round(now)
        if now < self.next_quantum:
            return
        self.next_quantum = now + self.node.config.quantum_interval
        group = self.clique(now)
        self._count_orphan_quanta(now)
        if self.orphan_quanta >= self.node.config.orphan_quanta:
            group = {self.node.node_id}  # nobody takes us in: become a cluster of one
        if max(group, key=node_number) == self.node.node_id and self.round is None:
            if succession_list(group) != self.view.succession or self._astray(group, now) \
                    or self.recluster_requested:
                self.recluster_requested = False
                self._start_round(tuple(sorted(group)), now)

    def _astray(self, group: set[str], now: float) -> bool:
        """Does a member still announce another view a node timeout after ours began? Then it
        restarted faster than the timeout (nobody saw it leave) or lost our Commit, and it would
        stay outside the view we count it in; a new round takes it back in. Aerospike's pulses
        carry each node's cluster key for checks like this one."""
        if now < self.adopted_at + self.node.config.node_timeout:
            return False  # pulses sent before a member adopted our view may still be arriving
        reports = self.node.heartbeat.reports
        return any(reports[n].ckey != self.view.ckey for n in group if n != self.node.node_id and n in reports)

    def clique(self, now: float) -> set[str]:
        """Ourselves and the live peers that all hear each other (greedy: drop the worst linked)."""
        hb = self.node.heartbeat
        group = {self.node.node_id} | hb.alive(now)
        while True:
            missing = {n: sum(1 for m in group if m != n and not (hb.hears(n, m, now) and hb.hears(m, n, now)))
                       for n in group}
            # ties: drop a newcomer before a member of our view (its links are still forming)
            worst = max((n for n in group if n != self.node.node_id), default=None,
                        key=lambda n: (missing[n], n not in self.view.succession, -node_number(n)))
            if worst is None or missing[worst] == 0:
                return group
            group.discard(worst)

    def _count_orphan_quanta(self, now: float) -> None:
        """Quanta spent outside a live view: no view, a dead principal, or a principal whose
        heartbeats announce another view (it re-formed without us, e.g. after a one-way cut)."""
        principal, hb = self.view.principal, self.node.heartbeat
        report = hb.reports.get(principal) if principal else None
        in_view = principal == self.node.node_id or (
            principal is not None and hb.is_alive(principal, now)
            and report is not None and report.ckey == self.view.ckey)
        self.orphan_quanta = 0 if in_view else self.orphan_quanta + 1

    # ---- the principal's round ---------------------------------------------------------------

    def _start_round(self, group: tuple[str, ...], now: float) -> None:
        proposal = (now, node_number(self.node.node_id))
        self.round = Round(proposal, group, now + self.node.config.round_timeout)
        self.promised = proposal
        self.round.promised.add(self.node.node_id)
        self.round.answered.add(self.node.node_id)
        for peer in group:
            if peer != self.node.node_id:
                self.node.send(peer, Prepare(self.node.node_id, proposal))
        self._advance_round(now)

    def on_Promise(self, msg: Promise) -> None:
        if self.round and self.round.phase == "prepare" and msg.proposal == self.round.proposal:
            self.round.answered.add(msg.src)
            if msg.ok:
                self.round.promised.add(msg.src)
            self._advance_round(self.node.now)

    def on_Accepted(self, msg: Accepted) -> None:
        if self.round and self.round.phase == "accept" and msg.proposal == self.round.proposal:
            self.round.versions[msg.src] = msg.versions
            self._advance_round(self.node.now)

    def _advance_round(self, now: float) -> None:
        r = self.round
        assert r is not None
        expired = now >= r.deadline
        if r.phase == "prepare" and (expired or r.answered == set(r.group)):
            if 2 * len(r.promised) <= len(r.group):
                self._abandon(f"only {len(r.promised)} of {len(r.group)} promised")
            else:
                self._send_accepts(now)
        elif r.phase == "accept" and (expired or set(r.versions) == r.promised):
            self._commit()

    def _send_accepts(self, now: float) -> None:
        r = self.round
        r.phase, r.deadline = "accept", now + self.node.config.round_timeout
        r.ckey = self.node.rng.getrandbits(48) | 1  # Aerospike: random, non-zero, 48 bits
        r.versions[self.node.node_id] = self.node.partition_versions()
        members = succession_list(r.promised)
        for peer in members:
            if peer != self.node.node_id:
                self.node.send(peer, Accept(self.node.node_id, r.proposal, r.ckey, members))
        self._advance_round(now)

    def _commit(self) -> None:
        r, self.round = self.round, None
        members = succession_list(r.versions)
        commit = Commit(self.node.node_id, r.ckey, members, r.versions)
        for peer in members:
            if peer != self.node.node_id:
                self.node.send(peer, commit)
        self._adopt(commit)

    def _abandon(self, why: str) -> None:
        self.node.log("Clustering", f"round abandoned: {why}")
        self.round = None

    # ---- acceptor ----------------------------------------------------------------------------

    def on_Prepare(self, msg: Prepare) -> None:
        now = self.node.now
        highest_alive = max(self.clique(now), key=node_number)
        ok = msg.proposal > self.promised and node_number(msg.src) >= node_number(highest_alive)
        if ok:
            self.promised = msg.proposal
            self.round = None  # a higher principal is forming a view: stand down
        self.node.send(msg.src, Promise(self.node.node_id, msg.proposal, ok))

    def on_Accept(self, msg: Accept) -> None:
        if msg.proposal >= self.promised:
            self.promised, self.commit_from = msg.proposal, msg.src
            self.node.send(msg.src, Accepted(self.node.node_id, msg.proposal, self.node.partition_versions()))

    def on_Commit(self, msg: Commit) -> None:
        if msg.src == self.commit_from and self.node.node_id in msg.succession:
            self._adopt(msg)

    def _adopt(self, commit: Commit) -> None:
        self.view = View(commit.ckey, tuple(commit.succession), self.view.generation + 1)
        self.orphan_quanta, self.adopted_at = 0, self.node.now
        who = "principal" if self.view.principal == self.node.node_id else "member"
        self.node.log("Clustering", f"joined view {commit.ckey:X} as {who}: "
                      f"{','.join(self.view.succession)} (generation {self.view.generation})")
        self.node.on_view_change(self.view, commit.versions)
