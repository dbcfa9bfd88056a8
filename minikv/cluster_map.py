"""The smart client's picture of the cluster: its nodes and who holds each partition.

"Tending" is Aerospike's word for it: ask every known node who it is, which peers it has and its
`partition-generation`; when a generation moved or a node came or went, fetch every node's
`replicas` bitmaps again and rebuild `{ns: [replica index][pid] -> node_id}`. The client then
sends each request straight to the node that masters the key's partition. Nodes claim index 0
only while they are the working master, and a replica index only once their copy is complete,
so the map never sends a read to a replica that is still filling.
"""

from __future__ import annotations

import base64

from minikv import policies as P
from minikv.config import DEFAULT_CLIENT
from minikv.core import messages as m
from minikv.errors import ClientError, ResultCode
from minikv.keys import N_PARTITIONS, partition_id
from minikv.runtime.transport import Address, NoConnection, ReplyLost, Transport

INFO_TIMEOUT = 1.0  # seconds for one tend question outside a request (connect)
# A node answers info on loopback within milliseconds; one that has not answered in this time is
# paused, dead or cut off, and a request's tend must not spend its whole deadline waiting on it.
TEND_QUESTION_TIMEOUT = 0.2


class ClusterMap:
    """Nodes and the partition map, refreshed at most every tend_interval or when told it is stale."""

    def __init__(self, seeds: list[Address], transport: Transport):
        self.seeds = seeds
        self.transport = transport
        self.nodes: dict[str, Address] = {}  # {node_id: address}
        self.generations: dict[str, int] = {}  # {node_id: partition-generation last seen}
        self.pmap: dict[str, list[list[str | None]]] = {}  # {ns: [replica index][pid] -> node_id}
        # SC: the highest regime a node advertised for each pid we route by; a node advertising
        # less (a deposed master still in an old view) is not believed. Never reset.
        self.regimes: dict[str, list[int]] = {}
        self.last_tend = float("-inf")

    def stale(self) -> None:
        """Something failed in a way that suggests the map moved: re-tend before the next request."""
        self.last_tend = float("-inf")

    def refresh(self, deadline: float | None = None) -> None:
        """Tend, asking the nodes that answered last time first and the other seeds last."""
        known = list(self.nodes.values())
        self.tend(known + [a for a in self.seeds if a not in known], deadline)

    def tend(self, addresses: list[Address], deadline: float | None = None) -> None:
        """Find every node (seeds, then the peers each node names) and, when any node's
        partition-generation moved or a node came or went, rebuild the partition map.
        Inside a request it spends no more than the request's remaining time (`deadline`)."""
        started = self.transport.now()
        found: dict[str, Address] = {}
        queue, asked, changed = list(dict.fromkeys(addresses)), set(), False
        while queue:
            address = queue.pop(0)
            if address in asked:
                continue
            asked.add(address)
            answer = self._ask(address, ("node", "partition-generation", "peers"), deadline)
            if answer is None:
                continue
            found[answer["node"]] = address
            queue += [_address(a) for a in _peer_addresses(answer["peers"])]
            generation = int(answer["partition-generation"])
            changed |= self.generations.get(answer["node"]) != generation
            self.generations[answer["node"]] = generation
        if found:  # a tend nobody answered (no time left, all unreachable) refreshes nothing
            self.last_tend = started
        if found and (changed or set(found) != set(self.nodes)):
            self.nodes = found
            self.pmap = {}
            for node_id, address in found.items():
                self._load_replicas(node_id, address, deadline)

    def _ask(self, address: Address, commands: tuple[str, ...], deadline: float | None = None) -> dict | None:
        timeout = INFO_TIMEOUT if deadline is None else min(TEND_QUESTION_TIMEOUT, deadline - self.transport.now())
        if timeout <= 0:
            return None
        try:
            reply = self.transport.call(address, m.Info(commands), timeout)
        except (NoConnection, ReplyLost):
            return None
        return reply.result if reply.rc == ResultCode.OK else None

    def _load_replicas(self, node_id: str, address: Address, deadline: float | None = None) -> None:
        """Apply one node's `replicas` answer: `ns:regime,count,bitmap0,bitmap1...;...`."""
        answer = self._ask(address, ("replicas",), deadline)
        for entry in filter(None, (answer or {}).get("replicas", "").split(";")):
            ns, _, fields = entry.partition(":")
            regime, count, *bitmaps = fields.split(",")
            table = self.pmap.setdefault(ns, [])
            regimes = self.regimes.setdefault(ns, [0] * N_PARTITIONS)
            while len(table) < int(count):
                table.append([None] * N_PARTITIONS)
            for index, bitmap in enumerate(bitmaps):
                for pid in _pids_in_bitmap(base64.b64decode(bitmap)):
                    if int(regime) >= regimes[pid]:  # AP nodes all say 0: always believed
                        table[index][pid], regimes[pid] = node_id, int(regime)

    def route(self, ns: str, digest: bytes, replica: int, attempt: int,
               deadline: float | None = None) -> Address:
        """The node to ask: the master, or for reads a replica as the replica policy says.
        Refreshes the map first when it is older than tend_interval (the official client does
        that in a background thread; we do it inline, within the request's deadline)."""
        if self.transport.now() - self.last_tend > DEFAULT_CLIENT.tend_interval:
            self.refresh(deadline)
        pid = partition_id(digest)
        owners = [row[pid] for row in self.pmap.get(ns, ()) if row[pid] in self.nodes]
        if not owners:  # unknown namespace or no map yet: any node will answer (or refuse)
            owners = list(self.nodes)
        if not owners:
            raise ClientError("the client knows no node; call connect() first")
        if replica == P.POLICY_REPLICA_MASTER:
            choice = owners[0]
        else:  # SEQUENCE moves down the list on each retry; ANY spreads first attempts too,
            # by a digest byte rather than hash(), which changes from process to process
            choice = owners[(attempt + (digest[-1] if replica == P.POLICY_REPLICA_ANY else 0)) % len(owners)]
        return self.nodes[choice]


def _peer_addresses(text: str) -> list[str]:
    """`n2=127.0.0.1:3002;n3=...` -> ["127.0.0.1:3002", ...]"""
    return [item.split("=", 1)[1] for item in text.split(";") if "=" in item]


def _address(text: str) -> Address:
    host, _, port = text.rpartition(":")
    return host, int(port)


def _pids_in_bitmap(bitmap: bytes):
    """Partition ids whose bit is set; pid p is bit (0x80 >> p % 8) of byte p // 8."""
    for byte_index, byte in enumerate(bitmap):
        if byte:
            for bit in range(8):
                if byte & (0x80 >> bit):
                    yield byte_index * 8 + bit
