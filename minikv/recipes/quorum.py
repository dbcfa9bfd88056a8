"""Quorum reads and writes, the Dynamo and Cassandra way, emulated on minikv (notebook 03).

Cassandra, after Amazon's Dynamo, lets every request say how many of a key's N replicas must
take part. A write is acknowledged once W replicas have it; a read asks R replicas and keeps the
newest answer. When R + W > N every read quorum overlaps every write quorum in at least one
replica, so a read sees the latest acknowledged write; with R = W = 1 it may not.

Aerospike works differently: one master per partition applies every write and copies it to all
the other replicas ("replicate to all"), and reads go to the master unless the client asks for a
replica. This module puts Cassandra's two knobs on top of that, so notebook 03 can compare them:

- **W** is how long the client waits. The master always sends the write to every replica; the
  client can wait for the master alone (W = 1: commit level MASTER) or for all replicas (W = N:
  commit level ALL). Aerospike offers nothing in between, so other values of W are refused.
- **R** is how many replicas the client reads, one by one, keeping the copy with the highest
  generation. `prefer` says which replicas to ask first; a Cassandra coordinator would pick the
  ones its "snitch" rates fastest, which may well be the one that lags.

Unlike the other recipes, this one is not portable to the official client: it reads a chosen
replica directly (one Get sent to that node), which the official client's API does not offer.
That needs two things from the client's internals, kept in `_owners` and `_read_at` below.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from minikv import policies as P
from minikv.client import Client
from minikv.core.messages import Get
from minikv.errors import RecordNotFound
from minikv.keys import key_digest, partition_id

Answer = tuple[int, dict[str, Any]] | None  # (generation, bins) from one replica; None: it has no record


@dataclass(frozen=True, slots=True)
class QuorumRead:
    """What a quorum read saw: the newest copy, and each asked replica's answer."""

    gen: int  # 0 when no replica asked had the record
    bins: dict[str, Any] | None
    answers: dict[str, Answer]  # {node_id: answer}, in the order the replicas were asked


class QuorumClient:
    """Cassandra-style `put(key, bins, w)` and `get(key, r)` over a connected minikv client."""

    def __init__(self, client: Client):
        self.client = client

    def replicas(self, key: tuple) -> list[str]:
        """The key's replicas as the client's partition map has them: [master, replica, ...]."""
        return _owners(self.client, key)

    def put(self, key: tuple, bins: dict[str, Any], w: int) -> None:
        """Write, and return once `w` replicas have it: 1 (the master) or N (all of them)."""
        n = len(self.replicas(key))
        levels = {1: P.POLICY_COMMIT_LEVEL_MASTER, n: P.POLICY_COMMIT_LEVEL_ALL}
        if w not in levels:
            raise ValueError(f"w={w}: with N={n} replicas a minikv client can wait for the master alone "
                             f"(w=1) or for all replicas (w={n}); the master always sends to all of them")
        self.client.put(key, bins, policy={"commit_level": levels[w]})

    def get(self, key: tuple, r: int, prefer: list[str] | None = None) -> QuorumRead:
        """Read `r` replicas (those in `prefer` first, then in map order) and keep the copy with
        the highest generation. A replica without the record counts as generation 0."""
        owners = self.replicas(key)
        if not 1 <= r <= len(owners):
            raise ValueError(f"r={r}: the key has {len(owners)} replicas")
        order = [n for n in (prefer or []) if n in owners] + [n for n in owners if n not in (prefer or [])]
        answers = {node_id: _read_at(self.client, node_id, key) for node_id in order[:r]}
        newest = max((a for a in answers.values() if a is not None), key=lambda a: a[0], default=None)
        return QuorumRead(newest[0], newest[1], answers) if newest else QuorumRead(0, None, answers)


# ---- the two reaches into the client's internals ----------------------------------------------------

def _owners(client: Client, key: tuple) -> list[str]:
    """[master, replica, ...] of the key's partition, from the client's partition map
    (`ClusterMap.pmap`: {ns: [replica index][pid] -> node_id})."""
    digest = key_digest(key)
    client._map.route(key[0], digest, P.POLICY_REPLICA_MASTER, 0)  # re-tends the map when it is due
    pid = partition_id(digest)
    return [row[pid] for row in client._map.pmap.get(key[0], ()) if row[pid] is not None]


def _read_at(client: Client, node_id: str, key: tuple) -> Answer:
    """One Get sent to this node, no routing and no retries. A replica with a full copy answers
    from its own store; any other node would proxy the request to the master."""
    ns, set_name = key[0], key[1] or ""
    try:
        gen, _ttl, bins, _user_key = client._call_node(client._map.nodes[node_id],
                                                        Get(ns, set_name, key_digest(key)), {})[:4]
    except RecordNotFound:
        return None
    return gen, bins
