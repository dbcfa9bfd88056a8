"""Exercise 1 (notebook 01): the partition of a digest, and the row of nodes of a partition.

You write three small functions; together they decide where every record of a cluster lives.

- 1.1 `partition_id(digest)`: which of the 4096 partitions a 20-byte digest falls in.
- 1.2 `node_score(pid, node_id, index)`: how much partition `pid` "wants" node `node_id`.
- 1.3 `succession_row(pid, members)`: the members in the partition's order, best score first.
  Position 0 is the partition's master, positions 1..RF-1 its replicas.

Check your work from the notebook with `minikv.grading.check("ex1")`. Your `succession_row` has
the signature of minikv's partitioner hook, so you can also run a cluster on it:
`minikv.SimCluster(3, plugins={"succession_row": succession_row})`.

The helpers above the exercises are given: leave them as they are.
"""

from __future__ import annotations

import struct

from minikv.core.partitions import MASK64, fnv1a_64, jenkins_64, node_number

INDEX_BITS = 0b111  # the low 3 bits of a score: room for a node's index among at most 8 members


# given: the two FNV-1a hashes a score starts from


def hashed_pid(pid: int) -> int:
    """FNV-1a-64 of the partition id as 4 little-endian bytes (Aerospike computes it once per pid)."""
    return fnv1a_64(struct.pack("<I", pid))


def hashed_node(node_id: str) -> int:
    """FNV-1a-64 of the node's 64-bit number as 8 little-endian bytes ("n3" -> its number)."""
    return fnv1a_64(struct.pack("<Q", node_number(node_id)))


# Exercise 1.1


def partition_id(digest: bytes) -> int:
    """The partition (0..4095) a 20-byte digest falls in.

    Aerospike takes the low 12 bits of the digest read little-endian: all 8 bits of byte 0, and
    the low 4 bits of byte 1 above them. Bytes 2..19 play no part.

    Worked example: the digest of ("test", "set", "s") starts 60 7c dd ...; byte 0 is 0x60 and
    the low 4 bits of byte 1 (0x7c) are 0xc, so the partition is 0xc60 = 3168:

        >>> partition_id(bytes.fromhex("607cddba7cd111745ef0a3d783d57f0e83c8f311"))
        3168
    """
    return digest[0] | ((digest[1] & 0x0F) << 8)


# Exercise 1.2


def node_score(pid: int, node_id: str, index: int) -> int:
    """Partition `pid`'s 64-bit score for node `node_id`, which sits at `index` in the member list.

    Three steps, as in Aerospike's partition_balance.c:
    1. pack the two FNV hashes, the node's first, as two unsigned 64-bit little-endian integers:
       `struct.pack("<QQ", hashed_node(node_id), hashed_pid(pid))` (16 bytes);
    2. hash those 16 bytes with `jenkins_64`;
    3. clear the low 3 bits of that hash (`& ~INDEX_BITS & MASK64`) and put `index` there
       (`| index`). Two nodes can then never tie: their indexes differ.

    Worked example, for partition 3168 and the members ("n3", "n2", "n1"):

        >>> node_score(3168, "n2", 1)
        785878781294653233
    """
    raw = jenkins_64(struct.pack("<QQ", hashed_node(node_id), hashed_pid(pid)))
    return (raw & ~INDEX_BITS & MASK64) | index


# Exercise 1.3


def succession_row(pid: int, members: tuple[str, ...]) -> list[str]:
    """The nodes of `members` ordered for partition `pid`: highest `node_score` first.

    `members` is the cluster's succession list (node ids by descending node number, e.g.
    ("n3", "n2", "n1")); a node's `index` is its position in that tuple. Return a new list of
    the same node ids, sorted by their scores, largest first.

    Worked example: partition 3168 scores n3 highest, then n1, then n2:

        >>> succession_row(3168, ("n3", "n2", "n1"))
        ['n3', 'n1', 'n2']
        >>> succession_row(3168, ("n3", "n1"))    # without n2, the others keep their order
        ['n3', 'n1']
    """
    scored = [(node_score(pid, node_id, index), node_id) for index, node_id in enumerate(members)]
    return [node_id for _, node_id in sorted(scored, reverse=True)]
