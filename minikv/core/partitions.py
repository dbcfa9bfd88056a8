"""Succession rows: which nodes hold each of the 4096 partitions, computed, never shipped.

For every partition Aerospike orders the cluster's nodes by a score that depends only on the node
id and the partition id: FNV-1a-64 of each, then Jenkins one-at-a-time-64 over the pair, sorted
descending. Position 0 of a partition's row is its *master*, positions 1..RF-1 its *replicas*
(Aerospike says "proles"); the rest hold nothing. Every node computes the same rows from the same
member list, so no partition map is ever sent around.

Because a (node, pid) score ignores the other nodes, removing a node deletes it from each row and
keeps everyone else's order: only the partitions it held move. Notebook 01 measures that.

We reproduce Aerospike's hashing exactly, over our numeric node ids (see `node_number`). Aerospike
Enterprise can also re-balance rows for uniform counts (`prefer-uniform-balance`); we do not.
"""

from __future__ import annotations

import struct
from functools import lru_cache

from minikv.keys import N_PARTITIONS

MASK64 = 0xFFFF_FFFF_FFFF_FFFF
MAX_CLUSTER_SIZE = 8  # Aerospike CE's AS_CLUSTER_SZ: the low 3 bits of a score carry the tie-break
_INDEX_BITS = MAX_CLUSTER_SIZE - 1
# Aerospike derives a node id from a MAC address and the fabric port. Ours are "n1", "n2"...; as a
# 64-bit number we put 3001 (a fabric-like port) in the top 16 bits and the node's index below,
# so ids keep their order: "n5" > "n4", and the principal (highest id) is the highest n.
_NODE_BASE = 3001 << 48


def node_number(node_id: str) -> int:
    """The 64-bit number behind a node id like "n3" (Aerospike node ids are 64-bit)."""
    if not node_id.startswith("n") or not node_id[1:].isdigit():
        raise ValueError(f"node ids look like 'n1', 'n2', ... not {node_id!r}")
    return _NODE_BASE + int(node_id[1:])


def fnv1a_64(data: bytes) -> int:
    """64-bit FNV-1a, as Aerospike's cf_hash_fnv64."""
    value = 0xCBF2_9CE4_8422_2325
    for byte in data:
        value = ((value ^ byte) * 0x100_0000_01B3) & MASK64
    return value


def jenkins_64(data: bytes) -> int:
    """64-bit Jenkins one-at-a-time, as Aerospike's cf_hash_jen64."""
    value = 0
    for byte in data:
        value = (value + byte) & MASK64
        value = (value + (value << 10)) & MASK64
        value ^= value >> 6
    value = (value + (value << 3)) & MASK64
    value ^= value >> 11
    return (value + (value << 15)) & MASK64


@lru_cache(maxsize=None)
def _hashed_pid(pid: int) -> int:
    return fnv1a_64(struct.pack("<I", pid))


@lru_cache(maxsize=64)
def _hashed_node(node_id: str) -> int:
    return fnv1a_64(struct.pack("<Q", node_number(node_id)))


def succession_row(pid: int, members: tuple[str, ...]) -> list[str]:
    """The nodes of `members` in partition `pid`'s order: master first, then replicas, then the rest.

    `members` is the cluster's succession list (sorted by descending node id); a node's index in
    it replaces the low bits of its score, which makes ties impossible, as in Aerospike.
    """
    assert len(members) <= MAX_CLUSTER_SIZE, f"at most {MAX_CLUSTER_SIZE} nodes (Aerospike CE's limit)"
    scores = []
    for index, node_id in enumerate(members):
        inter = struct.pack("<QQ", _hashed_node(node_id), _hashed_pid(pid))
        scores.append(((jenkins_64(inter) & ~_INDEX_BITS & MASK64) + index, node_id))
    return [node_id for _, node_id in sorted(scores, reverse=True)]


def succession_list(node_ids: set[str] | list[str]) -> tuple[str, ...]:
    """Aerospike's cluster succession list: members by descending node id (principal first)."""
    return tuple(sorted(node_ids, key=node_number, reverse=True))


@lru_cache(maxsize=16)
def partition_rows(members: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    """`succession_row` for all 4096 partitions (cached: views repeat while a node flaps)."""
    return tuple(tuple(succession_row(pid, members)) for pid in range(N_PARTITIONS))


def pmap_summary(table: dict[int, list[str]]) -> dict[str, dict[str, int]]:
    """asadm's `show pmap` in miniature: {node_id: {"masters": n, "replicas": n}} for a
    partition table {pid: [master, replica, ...]}."""
    summary: dict[str, dict[str, int]] = {}
    for row in table.values():
        for index, node_id in enumerate(row):
            counts = summary.setdefault(node_id, {"masters": 0, "replicas": 0})
            counts["masters" if index == 0 else "replicas"] += 1
    return dict(sorted(summary.items(), key=lambda item: node_number(item[0])))
