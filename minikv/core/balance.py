"""Partition balance: after a view change, who masters, who replicates, and what must move.

Every member runs `plan_partition` on the same inputs (the new members and every member's
partition versions, from the Commit) and gets the same answer, so no partition map is shipped.

A node's copy of a partition has a *version*: the cluster key of the view that created that copy's
history, whether it is *full* or still immigrating, and the nodes expected to hold it. Copies with
the same version hold the same records. When some expected holder of a version is outside the new
view (it died, or it is on the other side of a split), that holder may go on writing, so the
copies in this view take a new version. Two versions of one partition meeting in a view are
*duplicates*: their records merge into the final master record by record (replace-if-better).

Aerospike's partition version has more (a family, master/subset/evade/revived flags) and chooses
the working master among them with a preference order; we keep the part that tells the story.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Copy:
    """What one node holds of one partition."""

    ckey: int  # the version: the cluster key of the view that began this copy's history
    full: bool  # False while it is still receiving a migration (Aerospike's "subset")
    holders: tuple[str, ...]  # the nodes expected to hold this version (the replicas)


@dataclass(frozen=True, slots=True)
class PartitionPlan:
    """The outcome of balancing one partition in one view (identical on every member)."""

    pid: int
    replicas: tuple[str, ...]  # final master first, then the replicas (proles)
    working_master: str  # who serves writes until the final master has all the data
    version: int  # the version every replica holds once migrations are done
    sources: tuple[str, ...]  # "lead" migrations: holders that send to the final master first
    fills: tuple[str, ...]  # replicas the final master fills afterwards
    witnesses: tuple[str, ...]  # non-replicas holding data: they drop it when told
    duplicates: tuple[str, ...]  # holders of other versions the working master must consult

    @property
    def final_master(self) -> str:
        return self.replicas[0]

    @property
    def migrating(self) -> bool:
        return bool(self.sources or self.fills)


def plan_partition(pid: int, row: tuple[str, ...], rf: int, copies: dict[str, Copy], ckey: int) -> PartitionPlan:
    """Balance one partition. `row` is its succession row over the members; `copies` the
    members' copies ({node_id: Copy}, absent = no copy); `ckey` the new view's key.
    (SC namespaces are planned by consistency.py, where every copy kept is of one regime.)"""
    replicas = row[:rf]
    final = replicas[0]
    holders = {n: c for n, c in copies.items() if c.full} or dict(copies)
    if not holders:  # nobody has it: every replica starts empty ("fresh" partitions)
        return PartitionPlan(pid, replicas, final, ckey, (), (), (), ())
    versions = sorted({c.ckey for c in holders.values()})
    ordered = [n for n in row if n in holders]
    sources = tuple(_first_holder(v, ordered, holders) for v in versions
                    if not (final in holders and holders[final].ckey == v))
    working = final if final in holders else ordered[0]
    forked = len(versions) > 1 or any(h not in row for c in holders.values() for h in c.holders)
    version = ckey if forked else versions[0]
    # With one version, a replica already holding it is in sync (writes reach every replica
    # during migrations); merged duplicates give a new data set every other replica needs.
    fills = tuple(r for r in replicas[1:]
                  if len(versions) > 1 or r not in holders or holders[r].ckey != versions[0])
    witnesses = tuple(n for n in ordered if n not in replicas)
    duplicates = tuple(n for n in ordered if holders[n].ckey != holders[working].ckey)
    return PartitionPlan(pid, replicas, working, version, sources, fills, witnesses, duplicates)


def _first_holder(version: int, ordered: list[str], holders: dict[str, Copy]) -> str:
    """The holder of `version` that comes first in the partition's row."""
    return next(n for n in ordered if holders[n].ckey == version)
