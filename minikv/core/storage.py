"""The records of one namespace on one node, kept per partition.

Aerospike's unit of ownership, replication and migration is the partition, so we store records
the same way: 4096 small dicts, one per partition id, each `{digest: packed record}`. Moving or
dropping a partition (the cluster notebooks) is then moving or dropping one dict.

Expired records stay in the dicts until the background purge (Aerospike's namespace supervisor,
`nsup`) removes them, but `get` never returns them: expiry is visible at once.
"""

from __future__ import annotations

from minikv.config import NamespaceConfig
from minikv.core.records import MONITOR_SET, Record, blob_expired
from minikv.keys import N_PARTITIONS, partition_id

_MONITOR_MARK = MONITOR_SET.encode()  # a monitor's set name, as it appears in its packed bytes


class NamespaceStore:
    """All records of one namespace held by this node."""

    def __init__(self, config: NamespaceConfig):
        self.config = config
        self.partitions: list[dict[bytes, bytes]] = [{} for _ in range(N_PARTITIONS)]
        self._purge_cursor = 0  # next partition the background purge looks at
        # records that may be transaction monitors (their bytes hold the set name), for the
        # sweeper (transactions.py), which drops stale entries as it meets them
        self.monitors: set[bytes] = set()

    def get(self, digest: bytes, now: float) -> Record | None:
        """The live record under `digest`, or None if absent or expired."""
        blob = self.partitions[partition_id(digest)].get(digest)
        if blob is None:
            return None
        record = Record.unpack(blob)
        return None if record.expired(now) else record

    def put(self, digest: bytes, blob: bytes) -> None:
        """Store an already packed record (packing first lets the caller check its size)."""
        self.partitions[partition_id(digest)][digest] = blob
        if _MONITOR_MARK in blob:
            self.monitors.add(digest)

    def delete(self, digest: bytes) -> bool:
        """Remove the record; True if there was one."""
        return self.partitions[partition_id(digest)].pop(digest, None) is not None

    def blob(self, digest: bytes) -> bytes | None:
        """The packed record as stored (even if expired): what migrations and replicas exchange."""
        return self.partitions[partition_id(digest)].get(digest)

    def digests(self, pid: int) -> list[bytes]:
        """The digests in partition `pid` right now (a migration's snapshot)."""
        return list(self.partitions[pid])

    def blobs(self, digests: list[bytes]) -> tuple[tuple[bytes, bytes], ...]:
        """(digest, packed record) for those of `digests` still present."""
        found = ((d, self.blob(d)) for d in digests)
        return tuple((d, b) for d, b in found if b is not None)

    def count(self) -> int:
        """Records held, including expired ones not yet purged (as Aerospike's `objects`)."""
        return sum(len(records) for records in self.partitions)

    def live_records(self, pid: int, now: float):
        """(digest, record) for every live record of partition `pid`, in storage order."""
        for digest, blob in self.partitions[pid].items():
            record = Record.unpack(blob)
            if not record.expired(now):
                yield digest, record

    def purge_expired(self, now: float, n_partitions: int) -> int:
        """Delete expired records from the next `n_partitions` partitions; returns how many.

        Like nsup, the purge walks the partitions round-robin in slices so one pass never holds
        the node for long.
        """
        purged = 0
        for _ in range(n_partitions):
            records = self.partitions[self._purge_cursor]
            self._purge_cursor = (self._purge_cursor + 1) % N_PARTITIONS
            expired = [d for d, blob in records.items() if blob_expired(blob, now)]
            for digest in expired:
                del records[digest]
            purged += len(expired)
        return purged
