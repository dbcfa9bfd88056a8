"""Strong consistency (SC): the roster, the availability rule and regimes (notebook 05).

In AP mode every side of a split serves every partition it can, and when the sides meet again
their writes are merged: some acknowledged writes lose. An SC namespace (Aerospike's
`strong-consistency true`) gives up availability instead:

- The **roster** lists the nodes expected to hold the namespace. It is staged (`roster-set`) and
  applied (`recluster`); nodes off the roster hold no partitions.
- A partition is **available** in a view only under the rule below, so at most one side of any
  split serves it, and only if a member holds a full copy of its **latest regime**.
- The **regime** is a per-partition counter, advanced each time a view hands out mastership. Every
  member remembers the latest regime it has seen for every partition, even without data, and two
  views that may serve a partition always share a member, so that knowledge survives splits.
  Copies of an older regime may lack acknowledged writes: they are never used, only cleared.
- Replica writes carry the regime; replicas refuse another regime or another master.

Aerospike keeps its partition versions and roster on disk (system metadata). Our nodes keep
their data in memory only, so the runtimes save `durable_state()` (roster and regimes, not
records) and hand it back on restart: a restarted node knows what it lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from minikv.core.balance import Copy, PartitionPlan
from minikv.core.partitions import succession_list
from minikv.keys import N_PARTITIONS

if TYPE_CHECKING:
    from minikv.core.clustering import View
    from minikv.core.node import Node

Rows = Callable[[tuple[str, ...]], tuple[tuple[str, ...], ...]]


def is_available(roster_replicas: tuple[str, ...], roster: tuple[str, ...], members: set[str]) -> bool:
    """Aerospike's availability rule for one partition inside one sub-cluster (`members`)."""
    if not roster_replicas:
        return False
    present = sum(1 for n in roster if n in members)
    # (1) every roster replica is here. UNCONFIRMED: Aerospike's docs as we recall them; the
    # TLA+ sketch in Jepsen's repository has this clause commented out. The rule stays exclusive:
    # any other side lacks all of them, and clauses 2 and 3 need one.
    if all(n in members for n in roster_replicas):
        return True
    # (2) a strict majority of the roster and at least one roster replica
    if 2 * present > len(roster) and any(n in members for n in roster_replicas):
        return True
    # (3) exactly half of the roster, including the roster master
    return 2 * present == len(roster) and roster_replicas[0] in members


@dataclass(slots=True)
class Roster:
    nodes: tuple[str, ...] = ()
    version: int = 0  # bumped by each recluster that applies a new roster; the highest wins
    pending: tuple[str, ...] | None = None  # staged by roster-set, applied by recluster


def unavailable(pid: int, replicas: tuple[str, ...], regime: int) -> PartitionPlan:
    """A plan with no working master: nobody serves the partition in this view."""
    return PartitionPlan(pid, replicas, "", regime, (), (), (), ())


class Consistency:
    """One node's SC state for every SC namespace (AP namespaces have none)."""

    def __init__(self, node: Node):
        self.node = node
        self.namespaces = {ns.name for ns in node.config.namespaces if ns.strong_consistency}
        self.rosters = {ns: Roster() for ns in self.namespaces}
        self.known = {ns: [0] * N_PARTITIONS for ns in self.namespaces}  # latest regime seen
        self.trusted: dict[str, list[frozenset[str]]] = {}  # full holders of the latest regime
        self.dead: dict[str, set[int]] = {ns: set() for ns in self.namespaces}
        self.unavailable: dict[str, set[int]] = {ns: set() for ns in self.namespaces}
        self.reviving: set[str] = set()  # namespaces an operator asked to revive
        self.changes = 0  # bumped when durable_state() changes: the runtime saves it then

    # ---- operator commands (info) ----------------------------------------------------------------

    def roster_set(self, ns: str, nodes: tuple[str, ...]) -> None:
        self.rosters[ns].pending = tuple(sorted(set(nodes)))

    def recluster(self) -> None:
        """Apply staged rosters; the principal then runs a round even if nobody came or went."""
        for roster in self.rosters.values():
            if roster.pending is not None and roster.pending != roster.nodes:
                roster.nodes, roster.version, roster.pending = roster.pending, roster.version + 1, None
                self.changes += 1
        if self.node.ckey:  # in a view: rebalance now (a node in none will at its first view)
            self.node.cluster.recluster_requested = True

    def revive(self, ns: str) -> None:
        """The operator accepts the loss: dead partitions restart from the best copy left."""
        self.reviving.add(ns)

    # ---- the exchange ----------------------------------------------------------------------------

    def report(self) -> dict:
        """What this node adds to its partition versions: roster, regimes seen, revive flag."""
        out = {}
        for ns in self.namespaces:
            by_regime: dict[int, list[int]] = {}
            for pid, regime in enumerate(self.known[ns]):
                by_regime.setdefault(regime, []).append(pid)
            roster = self.rosters[ns]
            out[f"{ns}#sc"] = {"roster": [roster.version, list(roster.nodes)], "revive": ns in self.reviving,
                               "known": [[regime, pids] for regime, pids in by_regime.items()]}
        return out

    def plan_namespace(self, ns: str, view: View, versions: dict[str, dict], rows: Rows,
                       copies: dict[int, dict[str, Copy]]) -> list[PartitionPlan]:
        """Plan every partition of `ns` for `view` under the SC rules."""
        reports = {n: v[f"{ns}#sc"] for n, v in versions.items() if f"{ns}#sc" in v}
        roster = self._agree_roster(ns, reports)
        members = set(view.succession)
        latest = self._latest(ns, reports)
        on_roster = tuple(n for n in view.succession if n in roster)
        configured = self.node.stores[ns].config.replication_factor
        rf, roster_rf = min(configured, len(on_roster)), min(configured, len(roster))
        roster_rows = rows(succession_list(roster)) if roster else ()
        view_rows = rows(on_roster) if on_roster else ()
        revive = any(r["revive"] for r in reports.values()) and set(roster) <= members
        plans, trusted, rule = [], [], {}
        for pid in range(N_PARTITIONS):
            holders = _holders(copies.get(pid, {}), latest[pid], revive)
            trusted.append(frozenset(holders))
            replicas = roster_rows[pid][:roster_rf] if on_roster else ()
            if replicas not in rule:  # few distinct replica sets: decide each once
                rule[replicas] = bool(replicas) and self.node.hooks.is_available(replicas, roster, members)
            fresh = latest[pid] == 0 or revive
            if rule[replicas] and (holders or fresh):
                # the copies kept are at the latest regime (a revived one at most that): bump it
                plans.append(_plan(pid, view_rows[pid], rf, holders, latest[pid] + 1))
            else:
                plans.append(unavailable(pid, view_rows[pid][:rf] if view_rows else (), latest[pid]))
        self._record(ns, plans, trusted, set(roster) <= members)
        self.changes += 1
        self.reviving.discard(ns)
        return plans

    def _agree_roster(self, ns: str, reports: dict[str, dict]) -> tuple[str, ...]:
        """The roster with the highest version among the members (they adopt it)."""
        mine = self.rosters[ns]
        best = max([(mine.version, list(mine.nodes))] + [tuple(r["roster"]) for r in reports.values()])
        mine.version, mine.nodes = best[0], tuple(best[1])
        return mine.nodes

    def _latest(self, ns: str, reports: dict[str, dict]) -> list[int]:
        latest = list(self.known[ns])
        for report in reports.values():
            for regime, pids in report["known"]:
                for pid in pids:
                    if regime > latest[pid]:
                        latest[pid] = regime
        return latest

    def _record(self, ns: str, plans: list[PartitionPlan], trusted: list, whole_roster: bool) -> None:
        self.known[ns] = [p.version for p in plans]
        self.trusted[ns] = trusted
        self.unavailable[ns] = {p.pid for p in plans if not p.working_master}
        self.dead[ns] = {pid for pid in self.unavailable[ns] if whole_roster and not trusted[pid]
                         and self.known[ns][pid] > 0}

    # ---- questions -------------------------------------------------------------------------------

    def is_sc(self, ns: str) -> bool:
        return ns in self.namespaces

    def trusts(self, ns: str, pid: int) -> bool:
        """Is our copy a full copy of the partition's latest regime (kept across the view change)?"""
        return self.node.node_id in self.trusted[ns][pid]

    def regime(self, ns: str, pid: int) -> int:
        return self.known[ns][pid]

    def durable_state(self) -> dict:
        """What Aerospike keeps on disk and we must not forget on restart: rosters and regimes."""
        return {ns: {"roster": [r.version, list(r.nodes)], "known": list(self.known[ns])}
                for ns, r in self.rosters.items()}

    def restore(self, state: dict) -> None:
        """After a restart: remember rosters and regimes; our records are gone, so we hold nothing."""
        for ns, saved in state.items():
            if ns in self.namespaces:
                self.rosters[ns].version, self.rosters[ns].nodes = saved["roster"][0], tuple(saved["roster"][1])
                self.known[ns] = list(saved["known"])


def _holders(copies: dict[str, Copy], latest: int, reviving: bool) -> dict[str, Copy]:
    """Members holding a full copy of the latest regime; when reviving a partition that has
    none, the best copies left (highest regime, full or not), trusted by the operator's word."""
    full = {n: c for n, c in copies.items() if c.full and c.ckey == latest}
    if full or not reviving or not copies:
        return full
    best = max(c.ckey for c in copies.values())
    return {n: Copy(c.ckey, True, c.holders) for n, c in copies.items() if c.ckey == best}


def _plan(pid: int, row: tuple[str, ...], rf: int, holders: dict[str, Copy], version: int) -> PartitionPlan:
    """balance.plan_partition for SC, where every copy kept is the same (latest) regime: no
    duplicates, one lead at most. A holder off the roster (so outside `row`) can still lead."""
    replicas = row[:rf]
    if not holders:
        return PartitionPlan(pid, replicas, replicas[0], version, (), (), (), ())
    ordered = [n for n in row if n in holders] + sorted(n for n in holders if n not in row)
    working = replicas[0] if replicas[0] in holders else ordered[0]
    sources = () if working == replicas[0] else (working,)
    fills = tuple(r for r in replicas[1:] if r not in holders)
    witnesses = tuple(n for n in ordered if n not in replicas)
    return PartitionPlan(pid, replicas, working, version, sources, fills, witnesses, ())
