"""The node's half of multi-record transactions (minikv.core.transactions), one store, no cluster:
provisional versions beside committed ones, locks, versions read, the monitor's life, rolls.
"""

from __future__ import annotations

import pytest

from minikv import policies as P
from minikv.config import NamespaceConfig
from minikv.core import messages as m
from minikv.core import transactions as t
from minikv.core.records import MONITOR_SET, Record
from minikv.core.storage import NamespaceStore
from minikv.core.writes import WriteOutcome, apply_remove, apply_write
from minikv.errors import (InvalidRequest, MRTAborted, MRTBlocked, MRTCommitted, MRTExpired, MRTTooManyWrites,
                           MRTVersionMismatch)
from minikv.keys import calc_digest

X = calc_digest("test", "bank", "x")
MONITOR = calc_digest("test", MONITOR_SET, 7)
TXN, OTHER = 7, 8
DEADLINE = 10.0


def store_with(**bins: int) -> NamespaceStore:
    """A store holding record X (generation 1, written at t=1) with these bins, or nothing."""
    store = NamespaceStore(NamespaceConfig())
    if bins:
        store.put(X, Record(1, 0.0, 1.0, dict(bins), "bank").pack())
    return store


def put(store: NamespaceStore, txn_id: int = 0, now: float = 2.0, read_version: tuple | None = None,
        **bins: int) -> None:
    """A Put of `bins` to X, inside transaction `txn_id` (0: outside any), as service.py runs it."""
    msg = m.Put("test", "bank", X, dict(bins), txn_id=txn_id, txn_deadline=DEADLINE, read_version=read_version)
    ops = [(P.OPERATOR_WRITE, name, value) for name, value in bins.items()]
    t.in_txn(msg, lambda s: apply_write(s, msg, ops, False, now), _Clock(now))(store)


class _Clock:
    """What in_txn needs of a node: the time."""

    def __init__(self, now: float):
        self.now = now


def seen(store: NamespaceStore, txn_id: int = 0) -> dict | None:
    record = t.visible(store.get(X, 5.0), txn_id)
    return None if record is None else record.bins


# ---- provisional versions and locks ----------------------------------------------------------------


def test_a_write_in_a_transaction_is_provisional_beside_the_committed_version():
    """Inside a transaction a write leaves the committed version in place; only the transaction sees its own."""
    store = store_with(n=1)
    put(store, TXN, n=2)
    assert seen(store) == {"n": 1}
    assert seen(store, OTHER) == {"n": 1}
    assert seen(store, TXN) == {"n": 2}
    assert store.get(X, 5.0).txn[0] == TXN


def test_the_lock_travels_in_the_packed_record():
    """The lock and the provisional version are part of the record's bytes, so a copy carries them."""
    store = store_with(n=1)
    put(store, TXN, n=2)
    copy = NamespaceStore(NamespaceConfig())
    copy.put(X, store.blob(X))
    assert seen(copy, TXN) == {"n": 2} and seen(copy) == {"n": 1}


def test_other_writers_are_blocked():
    """A locked record refuses writes from outside the transaction and from other transactions."""
    store = store_with(n=1)
    put(store, TXN, n=2)
    with pytest.raises(MRTBlocked):
        put(store, n=3)
    with pytest.raises(MRTBlocked):
        put(store, OTHER, n=3)
    with pytest.raises(MRTBlocked):
        apply_remove(store, m.Remove("test", "bank", X), 2.0)


def test_the_transaction_writes_again_over_its_own_provisional_version():
    """A second write of the same transaction builds on its provisional version."""
    store = store_with(n=1)
    put(store, TXN, n=2)
    put(store, TXN, k=5)
    assert seen(store, TXN) == {"n": 2, "k": 5} and seen(store) == {"n": 1}


def test_a_record_created_in_a_transaction_does_not_exist_for_others():
    """A record created inside a transaction is invisible outside it (committed generation 0)."""
    store = store_with()
    put(store, TXN, n=1)
    assert seen(store) is None and seen(store, TXN) == {"n": 1}
    assert store.get(X, 5.0).gen == 0


def test_a_write_after_the_deadline_is_refused():
    """Past its deadline a transaction writes nothing: the sweeper may already have rolled it back."""
    with pytest.raises(MRTExpired):
        put(store_with(n=1), TXN, now=DEADLINE, n=2)


def test_a_write_checks_the_version_the_transaction_read():
    """A first write with a stale read version is refused (MRT_VERSION_MISMATCH): no lost update."""
    store = store_with(n=1)
    with pytest.raises(MRTVersionMismatch):
        put(store, TXN, read_version=(1, 0.5), n=2)
    put(store, TXN, read_version=(1, 1.0), n=2)
    assert seen(store, TXN) == {"n": 2}


# ---- verify and roll -----------------------------------------------------------------------------------


def test_verify_passes_on_the_version_read_and_fails_on_a_change_or_a_lock():
    """Verify accepts the version read; a newer version or another transaction's lock fails it."""
    store = store_with(n=1)
    t.verify(store, m.TxnVerify("test", X, TXN, (1, 1.0)), 5.0)
    with pytest.raises(MRTVersionMismatch):
        t.verify(store, m.TxnVerify("test", X, TXN, (0, 0.0)), 5.0)
    put(store, OTHER, n=2)
    with pytest.raises(MRTBlocked):
        t.verify(store, m.TxnVerify("test", X, TXN, (1, 1.0)), 5.0)


def test_verify_of_an_absent_record():
    """A record read as missing verifies as version (0, 0.0) while it stays missing."""
    store = store_with()
    t.verify(store, m.TxnVerify("test", X, TXN, t.NO_VERSION), 5.0)


def test_roll_forward_makes_the_provisional_version_the_record():
    """Rolling forward replaces the record by the provisional version, unlocked, one generation up."""
    store = store_with(n=1)
    put(store, TXN, n=2)
    out = t.roll(store, m.TxnRoll("test", X, TXN, True), 5.0)
    record = store.get(X, 5.0)
    assert (record.bins, record.gen, record.txn) == ({"n": 2}, 2, None)
    assert out.changed and out.blob == store.blob(X)


def test_roll_back_restores_the_committed_version_or_removes_a_created_record():
    """Rolling back keeps the committed version; a record the transaction created goes away."""
    store = store_with(n=1)
    put(store, TXN, n=2)
    t.roll(store, m.TxnRoll("test", X, TXN, False), 5.0)
    assert store.get(X, 5.0) == Record(1, 0.0, 1.0, {"n": 1}, "bank")
    created = store_with()
    put(created, TXN, n=1)
    out = t.roll(created, m.TxnRoll("test", X, TXN, False), 5.0)
    assert created.get(X, 5.0) is None and out.changed and out.blob is None


def test_a_delete_in_a_transaction_rolls_forward_to_no_record():
    """A Remove inside a transaction hides nothing until rolled forward, then the record is gone."""
    store = store_with(n=1)
    msg = m.Remove("test", "bank", X, txn_id=TXN, txn_deadline=DEADLINE)
    t.in_txn(msg, lambda s: apply_remove(s, msg, 2.0), _Clock(2.0))(store)
    assert seen(store) == {"n": 1} and seen(store, TXN) is None
    t.roll(store, m.TxnRoll("test", X, TXN, True), 5.0)
    assert store.get(X, 5.0) is None


def test_rolling_is_idempotent_and_ignores_other_transactions():
    """A second roll, or a roll by another transaction's id, leaves the record as it is."""
    store = store_with(n=1)
    put(store, TXN, n=2)
    t.roll(store, m.TxnRoll("test", X, OTHER, False), 5.0)
    assert store.get(X, 5.0).txn[0] == TXN
    t.roll(store, m.TxnRoll("test", X, TXN, True), 5.0)
    before = store.blob(X)
    out = t.roll(store, m.TxnRoll("test", X, TXN, False), 5.0)
    assert store.blob(X) == before and out.changed  # replicated again all the same


# ---- the monitor -------------------------------------------------------------------------------------


def add(store: NamespaceStore, keyd: bytes, now: float = 1.0, timeout: int = 5) -> WriteOutcome:
    return t.monitor_add(store, m.MonitorAdd("test", MONITOR, TXN, timeout, keyd), now)


def test_the_monitor_lists_each_written_digest_once_and_sets_the_deadline():
    """The first add creates the monitor with its deadline; each digest is listed once, in order."""
    store = NamespaceStore(NamespaceConfig())
    add(store, X)
    add(store, b"y" * 20, now=2.0)
    out = add(store, X, now=3.0)
    bins = store.get(MONITOR, 3.0).bins
    assert bins == {"id": TXN, "keyds": [X, b"y" * 20], "fwd": False, "deadline": 6.0}
    assert out.changed and MONITOR in store.monitors  # rewritten every time, and indexed for the sweeper


def test_the_monitor_takes_no_writes_after_the_deadline_or_the_commit_point():
    """Adds are refused once the deadline passed or the monitor is marked roll-forward."""
    store = NamespaceStore(NamespaceConfig())
    add(store, X)
    with pytest.raises(MRTExpired):
        add(store, X, now=6.0)
    t.monitor_mark(store, m.MonitorMark("test", MONITOR, TXN), 2.0)
    with pytest.raises(MRTCommitted):
        add(store, b"y" * 20, now=3.0)


def test_the_commit_point_is_refused_after_the_deadline():
    """The mark sets fwd before the deadline, any number of times; after it, it is MRT_EXPIRED."""
    store = NamespaceStore(NamespaceConfig())
    add(store, X)
    with pytest.raises(MRTExpired):
        t.monitor_mark(store, m.MonitorMark("test", MONITOR, TXN), 6.0)
    t.monitor_mark(store, m.MonitorMark("test", MONITOR, TXN), 5.9)
    t.monitor_mark(store, m.MonitorMark("test", MONITOR, TXN), 7.0)  # already marked: harmless
    assert store.get(MONITOR, 7.0).bins["fwd"] is True
    with pytest.raises(MRTExpired):
        t.monitor_mark(NamespaceStore(NamespaceConfig()), m.MonitorMark("test", MONITOR, TXN), 1.0)


def test_a_closed_monitor_remembers_its_outcome():
    """Closing keeps a tombstone: later marks hear MRT_COMMITTED or MRT_ABORTED, then it expires."""
    for fwd, error in ((True, MRTCommitted), (False, MRTAborted)):
        store = NamespaceStore(NamespaceConfig())
        add(store, X)
        if fwd:
            t.monitor_mark(store, m.MonitorMark("test", MONITOR, TXN), 2.0)
        t.monitor_close(store, m.MonitorClose("test", MONITOR, TXN, True), 3.0)
        assert store.get(MONITOR, 3.0).bins["keyds"] == []
        with pytest.raises(error):
            t.monitor_mark(store, m.MonitorMark("test", MONITOR, TXN), 4.0)
        assert store.get(MONITOR, 3.0 + t.TOMBSTONE_TTL) is None


def test_monitor_limits():
    """A timeout outside 1..120 s is refused; so is a write past 4096 records."""
    with pytest.raises(InvalidRequest):
        add(NamespaceStore(NamespaceConfig()), X, timeout=121)
    store = NamespaceStore(NamespaceConfig())
    store.put(MONITOR, Record(1, 0.0, 0.0, {"id": TXN, "keyds": [bytes(20)] * t.MAX_WRITES, "fwd": False,
                                            "deadline": 9.0}, MONITOR_SET).pack())
    with pytest.raises(MRTTooManyWrites):
        add(store, X)
