"""Every tunable of a minikv node, with its unit, its Aerospike counterpart and why we chose it.

Defaults are sized for a laptop course: loopback networking, a few nodes, small data. Where
Aerospike's default differs, it is written beside ours. Configs are plain frozen dataclasses so
they can be shown in a notebook, compared in tests and sent to a node process as JSON.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

MiB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class NamespaceConfig:
    """One namespace: a named collection of records with its own rules (Aerospike's `namespace`)."""

    name: str = "test"
    # copies of each partition; Aerospike's default is 2 as well (effective RF = min(RF, nodes))
    replication_factor: int = 2
    # seconds; TTL used when a write says 0. Aerospike's current default is 0 = never expire.
    default_ttl: int = 0
    # bytes; larger writes fail with RecordTooBig. Aerospike: max-record-size, default 1 MiB.
    max_record_size: int = 1 * MiB
    # which copy wins when two versions of a record meet (migrations, duplicate resolution):
    # "generation" (Aerospike's AP default: more writes win, then the later update) or
    # "last-update-time" (the later update wins, then the generation).
    conflict_resolution: str = "generation"
    # Aerospike's `strong-consistency true`: the namespace keeps a roster, serves a partition
    # only where the availability rule allows, and never loses an acknowledged write (notebook 05).
    strong_consistency: bool = False


@dataclass(frozen=True, slots=True)
class NodeConfig:
    """Node-wide settings. Times are seconds of the node's clock (virtual in the simulator)."""

    namespaces: tuple[NamespaceConfig, ...] = (NamespaceConfig(),)
    # requests queued behind one key before the node answers RecordBusy.
    # Aerospike: transaction-pending-limit, default 20.
    transaction_pending_limit: int = 20
    # seconds between background purges of expired records. Aerospike's nsup-period defaults
    # to 0 (off); we run it every second so learners see expired records go.
    nsup_period: float = 1.0
    # bytes; a request frame larger than this is refused with RecordTooBig and skipped.
    # Aerospike's fixed write block is 8 MiB in 7.x, the ceiling for max-record-size.
    max_frame_size: int = 8 * MiB
    # how many recent events a node keeps for `cluster.events()` (a ring buffer, never printed)
    event_log_size: int = 2000

    # -- membership (notebook 02) --
    # seconds between heartbeats. Aerospike: heartbeat interval 150 ms.
    heartbeat_interval: float = 0.1
    # missed heartbeats before a peer is declared dead. Aerospike: timeout 10 (so 1.5 s).
    heartbeat_timeout_intervals: int = 5
    # seconds between membership decisions; arrivals and departures inside one quantum become a
    # single view change. Aerospike computes ~1.8 s from its defaults; we keep demos snappy.
    quantum_interval: float = 0.2
    # seconds the principal waits for answers in each phase of a clustering round. A phase ends
    # early once everyone answered, so this only bites on slow or lossy links: it must exceed the
    # slowest round trip we want to tolerate (a 0.2 s slow_link each way is 0.4 s).
    round_timeout: float = 1.0
    # quanta a node waits outside any view it can join before it forms a cluster of its own
    orphan_quanta: int = 5

    # -- migrations (notebook 04) --
    migrate_batch_records: int = 200  # records per MigrateInsert message
    migrate_max_emigrations: int = 64  # partitions a node sends at once (Aerospike: migrate-threads 1)
    migrate_retransmit: float = 0.5  # seconds before an unacknowledged migration message is resent

    # -- transactions (notebook 03) --
    # seconds a node waits for replica acks, duplicate copies or a proxied answer before
    # failing the request as in doubt. Aerospike: transaction-max-ms 1000.
    transaction_max: float = 1.0

    # learner functions replacing a decision of the node: ((hook name, "module:function"), ...);
    # see minikv/plugins.py and minikv/core/hooks.py (exercises plug in here)
    plugins: tuple[tuple[str, str], ...] = ()

    @property
    def node_timeout(self) -> float:
        """Seconds of silence after which a peer is considered dead."""
        return self.heartbeat_interval * self.heartbeat_timeout_intervals

    def namespace(self, name: str) -> NamespaceConfig | None:
        """The namespace called `name`, or None when the node has no such namespace."""
        return next((ns for ns in self.namespaces if ns.name == name), None)

    def to_json(self) -> dict:
        """A JSON-safe dict, to hand the config to a node process on its command line."""
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> NodeConfig:
        namespaces = tuple(NamespaceConfig(**ns) for ns in data.pop("namespaces"))
        plugins = tuple(tuple(pair) for pair in data.pop("plugins", ()))
        return cls(namespaces=namespaces, plugins=plugins, **data)


MODES = ("ap", "sc")


def with_plugins(config: NodeConfig, plugins: dict[str, str]) -> NodeConfig:
    """`config` with these hook plugins ("module:function" strings) added."""
    merged = dict(config.plugins) | dict(plugins)
    return dataclasses.replace(config, plugins=tuple(sorted(merged.items())))


def with_mode(config: NodeConfig, mode: str, namespace: str = "test") -> NodeConfig:
    """`config` with `namespace` switched to AP (availability) or SC (strong consistency) mode."""
    if mode not in MODES:
        raise ValueError(f"mode must be 'ap' or 'sc', not {mode!r}")
    namespaces = tuple(dataclasses.replace(ns, strong_consistency=mode == "sc") if ns.name == namespace else ns
                       for ns in config.namespaces)
    return dataclasses.replace(config, namespaces=namespaces)


# Kept apart from NodeConfig because they are client settings, as in the aerospike client.
@dataclass(frozen=True, slots=True)
class ClientDefaults:
    """Client policy defaults, matching the aerospike Python client's."""

    total_timeout: float = 1.0  # seconds (Aerospike: total_timeout 1000 ms)
    read_max_retries: int = 2  # Aerospike: 2 for reads
    write_max_retries: int = 0  # Aerospike: 0 for writes (a retried write may apply twice)
    sleep_between_retries: float = 0.0  # seconds
    batch_chunk: int = 5000  # keys per batch request (keeps frames far below max_frame_size)
    scan_page: int = 1000  # records per scan page
    tend_interval: float = 1.0  # seconds between partition-map checks (Aerospike: 1000 ms)


DEFAULT_CLIENT = ClientDefaults()
