"""The info protocol on the Aerospike port: the text commands a client tends a cluster with.

The official client (its C core) asks each node, in this order (as_lookup.c, as_node.c):

    node, partition-generation, build       when it first meets a node (build must parse as a
                                            version: it decides which protocol features to use)
    node, peers-generation, partition-generation      every tend_interval (1 s by default)
    peers-clear-std                         when peers-generation moved: the other nodes, with
                                            their Aerospike-protocol addresses
    partition-generation, replicas          when partition-generation moved: the partition map
                                            (per namespace, one base64 bitmap per replica index)

plus whatever the application asks with `info_all` / `info_single_node` (statistics,
namespace/test, partition-info...). Most answers are the node's own (`Info` native requests
through `node.receive`, exactly as minikv's client asks); the few that only make sense on this
port (our build as an Aerospike version, the peers in Aerospike's format, its generation) are
composed here from native answers.
"""

from __future__ import annotations

import sys
from collections import Counter

from minikv.keys import N_PARTITIONS

# The Aerospike server version we speak as. The client turns features on by version
# (as_lookup.c): >= 4.9 partition scans (required), >= 6.0 partition queries and the newer
# batch layout; >= 8.1 would make it send `user-agent-set`. 7.0 needs neither extra.
AEROSPIKE_BUILD = "7.0.0.0"
FEATURES = "peers;replicas;batch-index;float;blob-bits;pipelining;cluster-stable;query-show"
CLUSTER_NAME = "minikv"
PEERS_COMMANDS = ("peers-clear-std", "peers-clear-alt", "peers-tls-std", "peers-tls-alt")


class InfoAdapter:
    """Answers one node's info requests on the Aerospike port."""

    def __init__(self, node_id: str, host: str, port: int, stats: Counter):
        self.node_id, self.host, self.port = node_id, host, port
        self.stats = stats  # the listener's own counters, appended to `statistics`
        self.peers_generation = 0  # bumped whenever the peers answer changes
        self._last_peers: str | None = None
        self._seen: set[str] = set()  # commands logged once to the node's log (what clients ask)

    def native_commands(self, names: list[str]) -> tuple[str, ...]:
        """The native info commands to ask the node to answer these Aerospike ones."""
        wanted: list[str] = []
        for name in names:
            self._log_first(name)
            if name in PEERS_COMMANDS or name in ("peers-generation", "services"):
                wanted.append("aerospike-peers")
            elif name not in _LOCAL and not name.startswith("user-agent-set"):
                wanted.append(name)
        return tuple(dict.fromkeys(wanted))

    def compose(self, names: list[str], native: dict[str, str]) -> list[tuple[str, str]]:
        """One (name, value) per asked command, from the node's answers and our own."""
        peers = native.get("aerospike-peers")
        if peers is not None and peers != self._last_peers:
            self._last_peers = peers
            self.peers_generation += 1
        return [(name, self._answer(name, native)) for name in names]

    def _answer(self, name: str, native: dict[str, str]) -> str:
        if name in _LOCAL:
            return _LOCAL[name](self)
        if name.startswith("user-agent-set"):
            return "ok"
        if name in PEERS_COMMANDS:
            return self._peers(native["aerospike-peers"])
        if name == "peers-generation":
            return str(self.peers_generation)
        if name == "services":  # the legacy form: host:port;host:port
            return ";".join(item.split("=", 1)[1] for item in _items(native["aerospike-peers"]))
        if name == "statistics":
            own = ";".join(f"{k}={v}" for k, v in sorted(self.stats.items()))
            return f"{native[name]};{own}" if own else native[name]
        return native.get(name, "ERROR::unrecognized command")

    def _peers(self, text: str) -> str:
        """Aerospike's peers format: `generation,default port,[[name,tls name,[host:port]],...]`."""
        peers = ",".join(f"[{node},,[{address}]]" for node, _, address in
                         (item.partition("=") for item in _items(text)))
        return f"{self.peers_generation},3000,[{peers}]"

    def _log_first(self, name: str) -> None:
        """Note in the node's log the first time a client asks each command (the course uses
        the log to show what a smart client asks while it tends)."""
        key = name.split(":", 1)[0]
        if key not in self._seen:
            self._seen.add(key)
            print(f"{self.node_id} aerospike port: first info request for {key!r}", file=sys.stderr, flush=True)


def _items(text: str) -> list[str]:
    return [item for item in text.split(";") if "=" in item]


_LOCAL = {  # answers that need nothing from the node
    "build": lambda info: AEROSPIKE_BUILD,
    "edition": lambda info: "minikv",
    "features": lambda info: FEATURES,
    "cluster-name": lambda info: CLUSTER_NAME,
    "partitions": lambda info: str(N_PARTITIONS),
    "service": lambda info: f"{info.host}:{info.port}",
    "service-clear-std": lambda info: f"{info.host}:{info.port}",
    "service-clear-alt": lambda info: f"{info.host}:{info.port}",
}
