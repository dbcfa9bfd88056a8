"""Fabric messages: what nodes say to each other (Aerospike calls node-to-node messaging "fabric").

Grouped by protocol, in the order a view change uses them: heartbeats (who is alive), the
clustering round (agree on the members), migrations (move partitions into place), replication
(copy each write to the replicas), duplicate resolution and proxying. Client messages are in
`messages.py`; both cross the same codec.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from minikv.core.messages import CLIENT_REQUESTS, Reply, Request

# Every fabric message names its sender (`src`). Messages of one view carry its cluster key
# (`ckey`); a node drops those whose key is not its own, as Aerospike does, so nothing from an
# old view can change the new one.

# heartbeat: who is alive, and what cluster each node thinks it is in


@dataclass(frozen=True, slots=True)
class Heartbeat:
    src: str
    address: tuple[str, int]  # the sender's service address, so peers learn each other (mesh)
    ckey: int  # 0 while the sender is an orphan (in no cluster)
    succession: tuple[str, ...]  # the sender's current view
    adjacency: tuple[str, ...]  # the nodes the sender hears from
    aerospike_port: int = 0  # the sender's Aerospike-protocol port (0: none), for `peers-clear-std`


# clustering: the principal's two-phase round (prepare to a majority, accept by everyone)


@dataclass(frozen=True, slots=True)
class Prepare:
    src: str
    proposal: tuple[float, int]  # (proposer's clock, proposer's node number): unique, ordered


@dataclass(frozen=True, slots=True)
class Promise:
    src: str
    proposal: tuple[float, int]
    ok: bool


@dataclass(frozen=True, slots=True)
class Accept:
    src: str
    proposal: tuple[float, int]
    ckey: int
    succession: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Accepted:
    """The acceptor's yes, carrying its partition versions (Aerospike's exchange, folded in)."""

    src: str
    proposal: tuple[float, int]
    versions: dict[str, Any]  # {ns: [[ckey, full, [pids]], ...]} what this node holds


@dataclass(frozen=True, slots=True)
class Commit:
    """The new view and everyone's partition versions: each node now rebalances by itself."""

    src: str
    ckey: int
    succession: tuple[str, ...]
    versions: dict[str, Any]  # {node_id: that node's Accepted.versions}


# migration: a partition's records stream from one node to another


@dataclass(frozen=True, slots=True)
class MigrateInsert:
    src: str
    ckey: int
    ns: str
    pid: int
    seq: int  # batch number; acknowledged by number, so retransmits are harmless
    records: tuple[tuple[bytes, bytes], ...]  # ((digest, packed record), ...)


@dataclass(frozen=True, slots=True)
class MigrateDone:
    src: str
    ckey: int
    ns: str
    pid: int
    batches: int  # how many MigrateInsert batches were sent


@dataclass(frozen=True, slots=True)
class MigrateAck:
    """Acknowledges an Insert (its seq) or a Done (seq = batches, done=True)."""

    src: str
    ckey: int
    ns: str
    pid: int
    seq: int
    done: bool = False


@dataclass(frozen=True, slots=True)
class MigrateSettled:
    """The final master has every lead migration of these partitions: it masters them now."""

    src: str
    ckey: int
    ns: str
    pids: tuple[int, ...]
    aid: int = 0  # announcement id, echoed in an AnnounceAck (resent until acknowledged)


@dataclass(frozen=True, slots=True)
class MigrateDropped:
    """Aerospike's ALL_DONE signal: replicas are filled, non-replicas may drop these partitions."""

    src: str
    ckey: int
    ns: str
    pids: tuple[int, ...]
    aid: int = 0


@dataclass(frozen=True, slots=True)
class AnnounceAck:
    """Acknowledges a MigrateSettled or MigrateDropped, so a lossy link cannot leave two
    masters, or a copy nobody will ever drop."""

    src: str
    aid: int


# replication: the master's writes to the replicas of a partition


@dataclass(frozen=True, slots=True)
class ReplicaWrite:
    src: str
    ckey: int
    ns: str
    digest: bytes
    record: bytes | None  # packed record, or None for a delete
    tid: int  # the master's transaction id, echoed in the ack
    regime: int = 0  # SC: the partition's regime; a replica in another regime refuses the write


@dataclass(frozen=True, slots=True)
class ReplicaAck:
    src: str
    tid: int
    ok: bool = True  # SC: False when the replica refused (another regime, view or master)


@dataclass(frozen=True, slots=True)
class RegimeCheck:
    """SC linearize read: "am I still your master in this regime?" Answered by a ReplicaAck."""

    src: str
    ckey: int
    ns: str
    pid: int
    regime: int
    tid: int


# duplicate resolution: before writing, the master asks other holders for their copy


@dataclass(frozen=True, slots=True)
class DupResRequest:
    src: str
    ckey: int
    ns: str
    digest: bytes
    tid: int


@dataclass(frozen=True, slots=True)
class DupResReply:
    src: str
    tid: int
    record: bytes | None


# proxy: a request that reached a node which is not the partition's master


@dataclass(frozen=True, slots=True)
class Proxy:
    src: str
    tid: int
    request: Request


@dataclass(frozen=True, slots=True)
class ProxyReply:
    src: str
    tid: int
    reply: Reply


FABRIC: tuple[type, ...] = (
    Heartbeat, Prepare, Promise, Accept, Accepted, Commit, MigrateInsert,
    MigrateDone, MigrateAck, MigrateSettled, MigrateDropped, AnnounceAck, ReplicaWrite, ReplicaAck,
    RegimeCheck, DupResRequest, DupResReply, Proxy, ProxyReply,
)
ALL_MESSAGES: tuple[type, ...] = CLIENT_REQUESTS + (Reply,) + FABRIC
