"""The info protocol: asinfo-style text answers about a node (`statistics`, `namespace/test`...).

Aerospike's `asinfo -v <command>` returns `name=value` pairs separated by `;`. We answer the same
commands with the same statistic names where minikv has the concept, so what a learner reads in
a notebook is what an operator reads on a real cluster. `events` is ours: the node's recent event
log, one event per line, fields separated by tabs.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Callable

from minikv.core.messages import Info
from minikv.keys import N_PARTITIONS

if TYPE_CHECKING:
    from minikv.core.node import Node

VERSION = "minikv 0.1.0"
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
            "partition-generation": lambda: str(node.partition_generation),
            "cluster-stable": lambda: f"{node.cluster_key:x}",
            "replicas": self.replicas,
            "events": self.events,
        }

    def on_Info(self, msg: Info) -> dict[str, str]:
        return {command: self.answer(command) for command in msg.commands}

    def answer(self, command: str) -> str:
        if command.startswith("namespace/"):
            return self.namespace(command.removeprefix("namespace/"))
        handler = self.commands.get(command)
        return handler() if handler else UNKNOWN

    def statistics(self) -> str:
        node = self.node
        stats = {
            "cluster_size": 1,
            "cluster_key": f"{node.cluster_key:X}",
            "cluster_generation": 1,
            "cluster_principal": node.node_id,
            "cluster_integrity": "true",
            "uptime": int(node.now - node.started),
            "objects": sum(store.count() for store in node.stores.values()),
            "migrate_partitions_remaining": 0,
            **node.stats,
        }
        return _pairs(stats)

    def namespace(self, name: str) -> str:
        store = self.node.stores.get(name)
        if store is None:
            return f"ERROR::namespace {name} not found"
        config = store.config
        return _pairs({
            "objects": store.count(),
            "replication-factor": config.replication_factor,
            "effective_replication_factor": 1,
            "default-ttl": config.default_ttl,
            "max-record-size": config.max_record_size,
            "ns_cluster_size": 1,
            "migrate_tx_partitions_remaining": 0,
            "migrate_rx_partitions_remaining": 0,
        })

    def replicas(self) -> str:
        """The client's partition map, Aerospike-style: per namespace `ns:regime,count,bitmap...`
        where each base64 bitmap has bit pid set if this node holds replica index i of pid.
        A node alone is master of all 4096 partitions."""
        everything = base64.b64encode(bytes([0xFF]) * (N_PARTITIONS // 8)).decode()
        return ";".join(f"{ns}:0,1,{everything}" for ns in self.node.stores)

    def events(self) -> str:
        return "\n".join(f"{e.t!r}\t{e.role}\t{e.text}" for e in self.node.events)


def _pairs(values: dict) -> str:
    return ";".join(f"{name}={value}" for name, value in values.items())


def parse_info(text: str) -> dict | str:
    """`a=1;b=x` -> {"a": 1, "b": "x"}; anything else is returned as it is."""
    if "=" not in text:
        return text
    pairs = dict(item.split("=", 1) for item in text.split(";") if "=" in item)
    return {name: int(value) if value.lstrip("-").isdigit() else value for name, value in pairs.items()}
