"""A namespace's records on one node (minikv.core.storage): per-partition dicts, expiry visible at
once, and a background purge that walks the partitions in slices.
"""

from __future__ import annotations

from minikv.config import NamespaceConfig
from minikv.core.records import Record
from minikv.core.storage import NamespaceStore
from minikv.keys import N_PARTITIONS, calc_digest, partition_id


def digest_in(pid: int, n: int = 0) -> bytes:
    """A digest that lands in partition `pid` (the low 12 bits), made distinct by `n`."""
    return bytes([pid & 0xFF, pid >> 8]) + n.to_bytes(18, "big")


def blob(void_time: float = 0.0, **bins: object) -> bytes:
    return Record(1, void_time, 0.0, bins or {"a": 1}).pack()


def test_put_get_delete() -> None:
    """A stored record is read back; delete removes it and says whether there was one."""
    store = NamespaceStore(NamespaceConfig())
    digest = calc_digest("test", "s", 1)
    store.put(digest, blob(n=5))
    assert store.get(digest, 0.0).bins == {"n": 5}
    assert store.delete(digest) is True
    assert store.get(digest, 0.0) is None
    assert store.delete(digest) is False


def test_records_live_in_their_partition() -> None:
    """A record is kept in the dict of its digest's partition."""
    store = NamespaceStore(NamespaceConfig())
    digest = calc_digest("test", "set", "s")
    store.put(digest, blob())
    assert len(store.partitions) == N_PARTITIONS
    assert digest in store.partitions[partition_id(digest)] and partition_id(digest) == 3168


def test_expired_invisible_at_once_but_counted() -> None:
    """An expired record is invisible to get from its void time on, yet counts in objects until purged."""
    store = NamespaceStore(NamespaceConfig())
    digest = digest_in(7)
    store.put(digest, blob(void_time=10.0))
    assert store.get(digest, 9.9) is not None
    assert store.get(digest, 10.0) is None
    assert store.count() == 1


def test_live_records_skip_expired() -> None:
    """live_records lists the partition's live records and skips expired ones."""
    store = NamespaceStore(NamespaceConfig())
    store.put(digest_in(3, 1), blob(void_time=5.0))
    store.put(digest_in(3, 2), blob(void_time=0.0))
    store.put(digest_in(3, 3), blob(void_time=50.0))
    live = [digest for digest, _ in store.live_records(3, 10.0)]
    assert live == [digest_in(3, 2), digest_in(3, 3)]


def test_purge_removes_only_expired() -> None:
    """A full purge pass deletes expired records and keeps live and never-expiring ones."""
    store = NamespaceStore(NamespaceConfig())
    store.put(digest_in(1, 1), blob(void_time=5.0))
    store.put(digest_in(1, 2), blob(void_time=50.0))
    store.put(digest_in(2, 1), blob(void_time=0.0))
    assert store.purge_expired(10.0, N_PARTITIONS) == 1
    assert store.count() == 2
    assert store.get(digest_in(1, 2), 10.0) is not None


def test_purge_walks_partitions_in_slices() -> None:
    """Each purge call looks at the next n partitions only, continuing where the last one stopped."""
    store = NamespaceStore(NamespaceConfig())
    for pid in (0, 1, 2, 3):
        store.put(digest_in(pid), blob(void_time=1.0))
    assert store.purge_expired(10.0, 2) == 2  # partitions 0 and 1
    assert store.get(digest_in(2), 0.0) is not None and store.count() == 2
    assert store.purge_expired(10.0, 1) == 1  # partition 2
    assert store.purge_expired(10.0, 1) == 1  # partition 3
    assert store.count() == 0


def test_purge_cursor_wraps_around() -> None:
    """After the last partition the purge starts again at partition 0."""
    store = NamespaceStore(NamespaceConfig())
    assert store.purge_expired(10.0, N_PARTITIONS - 1) == 0  # 0 .. 4094
    store.put(digest_in(N_PARTITIONS - 1), blob(void_time=1.0))
    store.put(digest_in(0), blob(void_time=1.0))
    assert store.purge_expired(10.0, 2) == 2  # 4095, then 0 again
    assert store.count() == 0


def test_purge_before_expiry_keeps_record() -> None:
    """A record whose void time has not come is not purged."""
    store = NamespaceStore(NamespaceConfig())
    store.put(digest_in(0), blob(void_time=10.0))
    assert store.purge_expired(9.0, N_PARTITIONS) == 0
    assert store.count() == 1
