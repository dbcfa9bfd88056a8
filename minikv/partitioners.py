"""Other ways to place partitions, to measure against Aerospike's (notebook 01).

Aerospike scores every (node, partition) pair independently and sorts (core/partitions.py). This
module holds two other partitioners with the same signature, `(pid, members) -> row`, so each
plugs into a cluster as the `succession_row` hook:

- `ring_row`, consistent hashing with virtual nodes, as in Amazon's Dynamo paper and Cassandra:
  every node puts `vnodes` tokens on a ring of 2**64 positions; a partition hashes to a position
  and its row is the distinct nodes met walking clockwise from there. Dynamo hashed with MD5, as
  we do; Cassandra uses Murmur3 and, since version 4.0, 16 tokens per node (256 before).
- `modulo_row`, the naive rule `pid % len(members)`: it balances perfectly and moves almost
  everything when a node leaves. It is here to show why the other two exist.

And the measures the notebook reports: masters per node, and what moves between two tables.
Unlike Aerospike's rows these are not capped at 8 nodes; the cluster still is.
"""

from __future__ import annotations

import bisect
import hashlib
import struct
from dataclasses import dataclass
from functools import lru_cache

from minikv.core.partitions import node_number
from minikv.keys import N_PARTITIONS

DEFAULT_VNODES = 16  # Cassandra's num_tokens default since 4.0
Table = dict[int, list[str]]  # {pid: [master, replica, ...]}, as cluster.partition_table() returns


# ---- consistent hashing with virtual nodes -----------------------------------------------------

def ring_position(data: bytes) -> int:
    """A point on the ring (0 .. 2**64 - 1): the first 8 bytes of MD5, as Dynamo placed keys."""
    return int.from_bytes(hashlib.md5(data).digest()[:8], "big")


@lru_cache(maxsize=32)
def token_ring(members: tuple[str, ...], vnodes: int) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """The ring for these members: token positions in ascending order, and the node owning each.

    Node "n3"'s tokens are the positions of "n3#0", "n3#1", ...: a node's tokens never depend on
    who else is in the cluster, which is what keeps movement small when membership changes.
    """
    tokens = sorted((ring_position(f"{node_id}#{i}".encode()), node_id) for node_id in members for i in range(vnodes))
    return tuple(position for position, _ in tokens), tuple(node_id for _, node_id in tokens)


def ring_row(pid: int, members: tuple[str, ...], vnodes: int = DEFAULT_VNODES) -> list[str]:
    """Partition `pid`'s row on a consistent-hash ring: distinct nodes clockwise from its position."""
    return list(ring_rows(tuple(members), vnodes)[pid])


@lru_cache(maxsize=32)
def ring_rows(members: tuple[str, ...], vnodes: int) -> tuple[tuple[str, ...], ...]:
    """`ring_row` for every partition, walked once per member list (every node asks for all 4096)."""
    positions, owners = token_ring(members, vnodes)
    rows = []
    for pid in range(N_PARTITIONS):
        start = bisect.bisect_left(positions, ring_position(struct.pack("<I", pid)))  # first token at or after
        row: dict[str, None] = {}  # an ordered set
        for step in range(len(owners)):
            row.setdefault(owners[(start + step) % len(owners)])  # past the last token, wrap to the first
            if len(row) == len(members):
                break
        rows.append(tuple(row))
    return tuple(rows)


def ring_arcs(members: tuple[str, ...], vnodes: int = DEFAULT_VNODES) -> list[tuple[float, float, str]]:
    """The ring cut into arcs, for drawing: (start, end, owner) as fractions of the ring (0..1).

    A position belongs to the first token clockwise from it, so the arc ending at a token is its
    node's. The first arc starts at the last token, one full turn back (start < 0).
    """
    positions, owners = token_ring(tuple(members), vnodes)
    ends = [position / 2**64 for position in positions]
    starts = [ends[-1] - 1.0] + ends[:-1]
    return list(zip(starts, ends, owners))


# ---- the naive rule ----------------------------------------------------------------------------

def modulo_row(pid: int, members: tuple[str, ...]) -> list[str]:
    """`pid % n` picks the master among the members in node-id order; the next ones follow."""
    ordered = sorted(members, key=node_number)
    first = pid % len(ordered)
    return ordered[first:] + ordered[:first]


# ---- measuring a table -------------------------------------------------------------------------

def masters_per_node(table: Table) -> dict[str, int]:
    """{node_id: partitions it masters}, in node-id order."""
    counts: dict[str, int] = {}
    for row in table.values():
        counts[row[0]] = counts.get(row[0], 0) + 1
    return dict(sorted(counts.items(), key=lambda item: node_number(item[0])))


def imbalance(table: Table) -> float:
    """Most masters on one node divided by fewest: 1.0 is perfect balance."""
    counts = masters_per_node(table).values()
    return max(counts) / min(counts)


@dataclass(frozen=True, slots=True)
class Moves:
    """What changes between two partition tables (before and after a node leaves or joins)."""

    masters: int  # partitions whose master is another node
    partitions: int  # partitions whose set of holders changed (at least one copy must migrate)
    copies: int  # copies a node must receive: (pid, node) pairs in the new table, not in the old


def moves(before: Table, after: Table) -> Moves:
    """Count what migrates when `before` becomes `after` (only partitions in both count)."""
    pids = before.keys() & after.keys()
    return Moves(masters=sum(before[p][0] != after[p][0] for p in pids),
                 partitions=sum(set(before[p]) != set(after[p]) for p in pids),
                 copies=sum(len(set(after[p]) - set(before[p])) for p in pids))


def masters_gained(before: Table, after: Table) -> dict[str, int]:
    """{node_id: partitions it masters in `after` but did not in `before`}: who takes the load."""
    gained: dict[str, int] = {}
    for pid in before.keys() & after.keys():
        if before[pid][0] != after[pid][0]:
            gained[after[pid][0]] = gained.get(after[pid][0], 0) + 1
    return dict(sorted(gained.items(), key=lambda item: node_number(item[0])))
