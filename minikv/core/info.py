"""The info protocol: asinfo-style text answers about a node (`statistics`, `namespace/test`...).

Aerospike's `asinfo -v <command>` returns `name=value` pairs separated by `;`. We answer the same
commands with the same statistic names where minikv has the concept, so what a learner reads in
a notebook is what an operator reads on a real cluster. Ours only: `events` (the node's recent
event log, one event per line, fields separated by tabs), `peers` as `node=host:port` pairs and
`aerospike-peers`, the same with the peers' Aerospike-protocol ports.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any, Callable

from minikv.core.messages import Info
from minikv.keys import N_PARTITIONS

if TYPE_CHECKING:
    from minikv.core.node import Node

VERSION = "minikv 0.2.0"
UNKNOWN = "ERROR::unrecognized command"


class InfoService:
    """Answers info commands from the node's current state."""

    def __init__(self, node: Node):
        self.node = node
        self.commands: dict[str, Callable[[], str]] = {
            "node": lambda: node.node_id,
            "build": lambda: VERSION,
            "version": lambda: VERSION,
            "namespaces": lambda: ";".join(node.stores),
            "statistics": self.statistics,
            "partition-generation": lambda: str(node.partitions.generation),
            "cluster-stable": self.cluster_stable,
            "replicas": self.replicas,
            "partition-info": self.partition_info,
            "peers": self.peers,
            "aerospike-peers": self.aerospike_peers,
            "events": self.events,
        }

    def on_Info(self, msg: Info, origin: Any) -> dict[str, str]:
        return {command: self.answer(command) for command in msg.commands}

    def answer(self, command: str) -> str:
        if command.startswith("namespace/"):
            return self.namespace(command.removeprefix("namespace/"))
        name, colon, params = command.partition(":")
        if colon and name in ("roster", "roster-set", "recluster", "revive"):
            return self.sc_command(name, dict(p.split("=", 1) for p in params.split(";") if "=" in p))
        handler = self.commands.get(command)
        return handler() if handler else UNKNOWN

    def sc_command(self, name: str, params: dict[str, str]) -> str:
        """Aerospike's SC commands: roster:, roster-set: (namespace=ns;nodes=a,b), recluster:, revive:."""
        sc, ns = self.node.consistency, params.get("namespace", "")
        if name == "recluster":
            sc.recluster()
            return "ok"
        if not sc.is_sc(ns):
            return f"ERROR::namespace {ns} is not a strong-consistency namespace"
        if name == "roster-set":
            sc.roster_set(ns, tuple(n for n in params.get("nodes", "").split(",") if n))
            return "ok"
        if name == "revive":
            sc.revive(ns)
            return "ok"
        roster = sc.rosters[ns]
        pending = roster.nodes if roster.pending is None else roster.pending
        return (f"roster={','.join(roster.nodes) or 'null'}:pending_roster={','.join(pending) or 'null'}"
                f":observed_nodes={','.join(sorted(self.node.members))}")

    def statistics(self) -> str:
        node, view = self.node, self.node.cluster.view
        return _pairs({
            "cluster_size": len(view.succession),
            "cluster_key": f"{view.ckey:X}",
            "cluster_generation": view.generation,
            "cluster_principal": view.principal or "",
            "cluster_members": ",".join(view.succession),
            "cluster_integrity": "true" if view.ckey else "false",
            "cluster_is_member": "true" if node.node_id in view.succession else "false",
            "uptime": int(node.now - node.started),
            "objects": sum(store.count() for store in node.stores.values()),
            "migrate_partitions_remaining": sum(sum(node.partitions.migrations_remaining(ns))
                                                for ns in node.stores),
            "migrate_records_transmitted": node.migrator.tx_records,
            "migrate_records_received": node.migrator.rx_records,
            "aerospike_port": node.heartbeat.aerospike_port,
            **node.stats,
        })

    def namespace(self, name: str) -> str:
        store = self.node.stores.get(name)
        if store is None:
            return f"ERROR::namespace {name} not found"
        tx, rx = self.node.partitions.migrations_remaining(name)
        size = len(self.node.members)
        return _pairs({
            "objects": store.count(),
            "replication-factor": store.config.replication_factor,
            "effective_replication_factor": min(store.config.replication_factor, size) if size else 0,
            "default-ttl": store.config.default_ttl,
            "max-record-size": store.config.max_record_size,
            "conflict-resolution-policy": store.config.conflict_resolution,
            "ns_cluster_size": size,
            "migrate_tx_partitions_remaining": tx,
            "migrate_rx_partitions_remaining": rx,
            "strong-consistency": "true" if self.node.consistency.is_sc(name) else "false",
            "unavailable_partitions": len(self.node.consistency.unavailable.get(name, ())),
            "dead_partitions": len(self.node.consistency.dead.get(name, ())),
        })

    def cluster_stable(self) -> str:
        """The cluster key once this node has no migrations left, as Aerospike's command."""
        remaining = sum(sum(self.node.partitions.migrations_remaining(ns)) for ns in self.node.stores)
        if not self.node.ckey or remaining:
            return "ERROR::unstable-cluster"
        return f"{self.node.ckey:X}"

    def replicas(self) -> str:
        """The client's partition map, Aerospike-style: per namespace `ns:regime,count,bitmap...`
        (regime: 0 in AP; in SC the highest partition regime we know, so a client can ignore a
        deposed master's older claims; Aerospike sends its namespace's rebalance regime)
        where bitmap i has bit pid set if this node claims replica index i of pid
        (index 0 as working master, i > 0 as a replica holding a full copy)."""
        entries = []
        for ns in self.node.stores:
            claims = self.node.partitions.claims(ns)
            bitmaps = [_bitmap(pids) for pids in claims]
            regime = max(self.node.consistency.known.get(ns, [0]))  # SC: our view's newest regime
            entries.append(f"{ns}:{regime},{len(claims)},{','.join(bitmaps)}")
        return ";".join(entries)

    def partition_info(self) -> str:
        """One row per namespace and partition: ns:pid:state:replica:working_master:dupl:records.
        States as asinfo: S synced replica, D replica still receiving, Z non-replica with data,
        A absent; and U for an SC partition unavailable in our view."""
        rows = ["namespace:partition:state:replica:working_master:n_dupl:records"]
        for ns, parts in self.node.partitions.parts.items():
            for pid, state in enumerate(parts):
                rows.append(":".join(map(str, (ns, pid, *self._partition_row(ns, pid, state)))))
        return ";".join(rows)

    def _partition_row(self, ns: str, pid: int, state: Any) -> tuple:
        me, plan = self.node.node_id, state.plan
        replicas = plan.replicas if plan else ()
        records = len(self.node.stores[ns].partitions[pid])
        index = replicas.index(me) if me in replicas else -1
        if plan is not None and not plan.working_master:
            letter = "U"  # SC: unavailable in our view (Aerospike reports such partitions apart too)
        elif me in replicas:
            letter = "S" if state.copy and state.copy.full else "D"
        else:
            letter = "Z" if records or state.copy else "A"
        dupl = len(plan.duplicates) if plan else 0
        return letter, index, state.working_master or "", dupl, records

    def peers(self) -> str:
        addresses = self.node.heartbeat.addresses
        return ";".join(f"{n}={addresses[n][0]}:{addresses[n][1]}"
                        for n in self.node.members if n in addresses and n != self.node.node_id)

    def aerospike_peers(self) -> str:
        """`peers` with each member's Aerospike-protocol port, which heartbeats carry (the
        runtime's second listener turns this into Aerospike's `peers-clear-std`)."""
        hb = self.node.heartbeat
        return ";".join(f"{n}={hb.addresses[n][0]}:{hb.aerospike_ports[n]}" for n in self.node.members
                        if n != self.node.node_id and hb.aerospike_ports.get(n) and n in hb.addresses)

    def events(self) -> str:
        return "\n".join(f"{e.t!r}\t{e.role}\t{e.text}" for e in self.node.events)


def _bitmap(pids: list[int]) -> str:
    """Base64 of a 4096-bit map; pid p is bit (0x80 >> p % 8) of byte p // 8."""
    bits = bytearray(N_PARTITIONS // 8)
    for pid in pids:
        bits[pid >> 3] |= 0x80 >> (pid & 7)
    return base64.b64encode(bytes(bits)).decode()


def _pairs(values: dict) -> str:
    return ";".join(f"{name}={value}" for name, value in values.items())


def parse_info(text: str) -> dict | str:
    """`a=1;b=x` -> {"a": 1, "b": "x"}; anything else is returned as it is."""
    if "=" not in text:
        return text
    pairs = dict(item.split("=", 1) for item in text.split(";") if "=" in item)
    return {name: int(value) if value.lstrip("-").isdigit() else value for name, value in pairs.items()}
