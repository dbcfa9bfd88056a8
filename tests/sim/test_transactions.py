"""Check-and-set and multi-record transactions in the simulator: what issue 5 says must hold.

The API (Transaction, commit, abort and their status names), locks and provisional versions as
other clients see them, version checks, recovery when the client stops at each step of commit
(the nodes' sweeper finishes after the deadline, forward or back as the commit point says), a
node failover in the middle, and the isolation anomalies. Fixed seeds; masters are looked up.
Tests without faults share one cluster (a 3-node SimCluster takes most of a second to form),
each on its own keys; failover tests start their own.
"""

from __future__ import annotations

import random

import pytest

import minikv
from minikv import exception as ex
from minikv import txn_client
from minikv.cas import read_modify_write, run_in_transaction
from minikv.core.records import MONITOR_SET
from minikv.jepsen.isolation import check_isolation
from minikv.keys import calc_digest, key_digest, partition_id

TIMEOUT = 2  # seconds each transaction may live: recoveries happen in a few virtual seconds
A, B = ("test", "bank", "a"), ("test", "bank", "b")  # replaced per test by the `keys` fixture


@pytest.fixture(scope="module")
def shared() -> minikv.SimCluster:
    return minikv.SimCluster(nodes=3, seed=11)


@pytest.fixture
def sim(shared: minikv.SimCluster, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> minikv.SimCluster:
    """The shared cluster, with A and B renamed after the test so no two tests touch one record."""
    monkeypatch.setitem(globals(), "A", ("test", "bank", f"{request.node.name}-a"))
    monkeypatch.setitem(globals(), "B", ("test", "bank", f"{request.node.name}-b"))
    return shared


def txn(n: int = 1) -> minikv.Transaction:
    """A transaction whose id is seeded by the test's keys: repeatable, and unique across tests."""
    return minikv.Transaction(timeout=TIMEOUT, rng=random.Random(f"{A[2]}-{n}"))


def master_of(sim: minikv.SimCluster, key: tuple) -> str:
    return sim.partition_table()[partition_id(key_digest(key))][0]


def bins(client: minikv.Client, key: tuple) -> dict | None:
    try:
        return client.get(key)[2]
    except ex.RecordNotFound:
        return None


def transfer_written(client: minikv.Client, t: minikv.Transaction) -> None:
    """A = 100, B = 0, then inside `t`: A = 90, B = 10 (not committed)."""
    client.put(A, {"v": 100})
    client.put(B, {"v": 0})
    client.put(A, {"v": 90}, policy={"txn": t})
    client.put(B, {"v": 10}, policy={"txn": t})


def finished(sim: minikv.SimCluster) -> None:
    """Let every deadline pass and the sweepers run."""
    sim.run_for(TIMEOUT + 1.5)


# ---- check-and-set ------------------------------------------------------------------------------


def test_generation_check_refuses_a_stale_write(sim):
    """A put with POLICY_GEN_EQ at an old generation fails with RecordGenerationError; at the current one it applies."""
    client = sim.client()
    client.put(A, {"v": 1})
    client.put(A, {"v": 2})
    with pytest.raises(ex.RecordGenerationError):
        client.put(A, {"v": 3}, meta={"gen": 1}, policy={"gen": minikv.POLICY_GEN_EQ})
    client.put(A, {"v": 3}, meta={"gen": 2}, policy={"gen": minikv.POLICY_GEN_EQ})
    assert client.get(A)[1]["gen"] == 3


def test_read_modify_write_retries_after_someone_else_wrote(sim):
    """read_modify_write reads again after a RecordGenerationError, so no increment is lost."""
    client, other = sim.client(), sim.client()
    client.put(A, {"v": 0})

    def increment(current: dict | None) -> dict:
        if current["v"] == 0 and not interfered:
            interfered.append(other.increment(A, "v", 10))  # someone writes between our read and write
        return {"v": current["v"] + 1}

    interfered: list = []
    assert read_modify_write(client, A, increment) == {"v": 11}
    assert bins(client, A)["v"] == 11


def test_read_modify_write_applies_an_in_doubt_write_once(sim):
    """A check-and-set whose reply is lost (the master paused) is recognised by its token on the next read: applied once."""
    client = sim.client()
    client.put(A, {"v": 0})
    master = master_of(sim, A)
    sim.pause(master)  # shorter than a heartbeat timeout: it stays master
    sim.schedule(0.4, lambda: sim.resume(master))  # after the put gave up waiting (0.2 s): in doubt
    written = read_modify_write(client, A, lambda current: {"v": current["v"] + 1}, policy={"total_timeout": 200})
    assert written == {"v": 1}
    assert bins(client, A)["v"] == 1


# ---- transactions: the API and what others see --------------------------------------------------


def test_commit_makes_every_write_visible_at_once(sim):
    """Writes in a transaction are invisible to others until commit, which answers COMMIT_OK."""
    client, t = sim.client(), txn()
    transfer_written(client, t)
    assert (bins(client, A), bins(client, B)) == ({"v": 100}, {"v": 0})
    assert client.get(A, policy={"txn": t})[2] == {"v": 90}  # the transaction reads its own writes
    assert client.commit(t) == minikv.COMMIT_OK and t.state == minikv.TXN_STATE_COMMITTED
    assert (bins(client, A), bins(client, B)) == ({"v": 90}, {"v": 10})
    assert client.commit(t) == minikv.COMMIT_ALREADY_COMMITTED
    with pytest.raises(ex.TransactionAlreadyCommitted):
        client.abort(t)


def test_abort_restores_every_record(sim):
    """Abort rolls every write back (a record created in the transaction disappears) and answers ABORT_OK."""
    client, t = sim.client(), txn()
    transfer_written(client, t)
    created = ("test", "bank", A[2] + "-new")
    client.put(created, {"v": 1}, policy={"txn": t})
    assert bins(client, created) is None
    assert client.abort(t) == minikv.ABORT_OK
    assert (bins(client, A), bins(client, B), bins(client, created)) == ({"v": 100}, {"v": 0}, None)
    assert client.abort(t) == minikv.ABORT_ALREADY_ABORTED
    with pytest.raises(ex.TransactionAlreadyAborted):
        client.commit(t)
    client.put(A, {"v": 1})  # unlocked again


def test_a_locked_record_blocks_other_writers(sim):
    """Other writers, in or out of a transaction, get MRT_BLOCKED until the transaction ends."""
    client, t, other = sim.client(), txn(1), txn(2)
    transfer_written(client, t)
    with pytest.raises(ex.MRTBlocked):
        client.put(A, {"v": 5})
    with pytest.raises(ex.MRTBlocked):
        client.put(A, {"v": 5}, policy={"txn": other})
    with pytest.raises(ex.MRTBlocked):
        client.remove(B)
    client.commit(t)
    client.put(A, {"v": 5})


def test_commit_fails_when_a_record_read_changed(sim):
    """A record read in the transaction and changed by someone else fails the commit (verify): everything is rolled back."""
    client, t = sim.client(), txn()
    client.put(A, {"v": 100})
    client.put(B, {"v": 0})
    have = client.get(A, policy={"txn": t})[2]["v"]
    client.put(B, {"v": have}, policy={"txn": t})
    client.put(A, {"v": 7})  # someone else, after our read
    with pytest.raises(ex.TransactionFailed) as failed:
        client.commit(t)
    assert not failed.value.in_doubt and t.state == minikv.TXN_STATE_ABORTED
    assert (bins(client, A), bins(client, B)) == ({"v": 7}, {"v": 0})


def test_a_transaction_stays_in_one_namespace_and_ends_once(sim):
    """A second namespace, or a command after commit, is a ParamError; read-only transactions commit without a monitor."""
    client, t = sim.client(), txn()
    client.put(A, {"v": 1})
    client.get(A, policy={"txn": t})
    with pytest.raises(ex.ParamError):
        client.get(("other", "bank", "a"), policy={"txn": t})
    assert client.commit(t) == minikv.COMMIT_OK and t.deadline is None
    with pytest.raises(ex.ParamError):
        client.get(A, policy={"txn": t})


def test_transaction_ids_are_random_non_zero_64_bit():
    """Transaction ids are random non-zero 64-bit integers; a seeded rng repeats them."""
    ids = {minikv.Transaction().id for _ in range(50)}
    assert len(ids) == 50 and all(0 < i < 2**64 for i in ids)
    assert txn(5).id == txn(5).id != txn(6).id


def test_run_in_transaction_waits_out_a_lock(sim):
    """run_in_transaction aborts and retries on MRT_BLOCKED until the other transaction is gone."""
    client, holder = sim.client(), txn(3)
    client.put(A, {"v": 1})
    client.put(A, {"v": 2}, policy={"txn": holder})  # and its client dies: the sweeper frees A later

    def double(t: minikv.Transaction) -> int:
        value = client.get(A, policy={"txn": t})[2]["v"]
        client.put(A, {"v": value * 2}, policy={"txn": t})
        return value

    assert run_in_transaction(client, double, retries=60, timeout=TIMEOUT, rng=random.Random(1)) == 1
    assert bins(client, A) == {"v": 2}


# ---- the client dies: at each step of commit, the outcome matches the commit point ---------------


def test_client_dies_before_its_first_write(sim):
    """A transaction that only read leaves no monitor and no lock behind."""
    client, t = sim.client(), txn()
    client.put(A, {"v": 100})
    client.get(A, policy={"txn": t})
    finished(sim)
    client.put(A, {"v": 1})
    monitor = key_digest(t.monitor_key)
    assert not any(sim.node(n).stores["test"].blob(monitor) for n in sim.node_ids)


def test_client_dies_after_some_writes(sim):
    """Writes without a commit point are rolled back by the nodes after the deadline; a late commit() fails definitely."""
    client, t = sim.client(), txn()
    client.put(A, {"v": 100})
    client.put(B, {"v": 0})
    client.put(A, {"v": 90}, policy={"txn": t})  # ...and the client stops before writing B
    finished(sim)
    assert (bins(client, A), bins(client, B)) == ({"v": 100}, {"v": 0})
    client.put(A, {"v": 1})  # unlocked
    with pytest.raises(ex.TransactionFailed) as failed:
        client.commit(t)
    assert not failed.value.in_doubt


def test_client_dies_right_after_the_commit_point(sim):
    """Once the monitor is marked roll-forward, the nodes roll every write forward after the deadline."""
    client, t = sim.client(), txn()
    transfer_written(client, t)
    txn_client.verify(client, t)
    txn_client.mark(client, t)  # the commit point... and the client stops
    assert (bins(client, A), bins(client, B)) == ({"v": 100}, {"v": 0})  # still locked, old values
    finished(sim)
    assert (bins(client, A), bins(client, B)) == ({"v": 90}, {"v": 10})
    assert any("rolling 2 records forward" in e.text for e in sim.events())


def test_client_dies_during_roll_forward(sim):
    """A client that rolled one record forward and stopped: the other is locked until the nodes finish it."""
    client, t = sim.client(), txn()
    transfer_written(client, t)
    txn_client.verify(client, t)
    txn_client.mark(client, t)
    txn_client.roll(client, t, True, [key_digest(A)])
    assert bins(client, A) == {"v": 90}
    with pytest.raises(ex.MRTBlocked):
        client.put(B, {"v": 5})
    finished(sim)
    assert (bins(client, A), bins(client, B)) == ({"v": 90}, {"v": 10})
    assert client.commit(t) == minikv.COMMIT_ALREADY_COMMITTED


def test_a_commit_asked_again_after_recovery_hears_the_outcome(sim):
    """After the nodes finished a transaction, its monitor remembers the outcome: marking again says committed."""
    client, t = sim.client(), txn()
    transfer_written(client, t)
    txn_client.verify(client, t)
    txn_client.mark(client, t)
    finished(sim)
    t.state = minikv.TXN_STATE_VERIFIED  # as if the mark's reply had been lost: ask again
    assert client.commit(t) == minikv.COMMIT_OK
    monitor = calc_digest("test", MONITOR_SET, t.monitor_key[2])
    assert any(sim.node(n).stores["test"].get(monitor, sim.now).bins["closed"] for n in sim.node_ids
               if sim.node(n).stores["test"].blob(monitor))  # the tombstone


# ---- a node fails in the middle ---------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["ap", "sc"])
def test_failover_of_a_written_records_master_keeps_the_transaction_atomic(mode):
    """Killing the master of a written record before commit: its replica holds the lock and the provisional version, commit applies both writes."""
    sim = minikv.SimCluster(nodes=3, seed=4, mode=mode)
    client, t = sim.client(), txn()
    transfer_written(client, t)
    sim.kill(master_of(sim, A))
    sim.wait_stable()
    assert client.commit(t) == minikv.COMMIT_OK
    assert (bins(client, A), bins(client, B)) == ({"v": 90}, {"v": 10})


@pytest.mark.parametrize("mode", ["ap", "sc"])
def test_failover_of_the_monitors_master_after_the_commit_point(mode):
    """The client stops after the commit point and the monitor's master dies: the new master rolls forward."""
    sim = minikv.SimCluster(nodes=3, seed=5, mode=mode)
    client, t = sim.client(), txn()
    transfer_written(client, t)
    txn_client.verify(client, t)
    txn_client.mark(client, t)
    sim.kill(master_of(sim, t.monitor_key))
    sim.wait_stable()
    finished(sim)
    assert (bins(client, A), bins(client, B)) == ({"v": 90}, {"v": 10})


@pytest.mark.parametrize("mode", ["ap", "sc"])
def test_failover_of_the_monitors_master_before_the_commit_point(mode):
    """The client stops before the commit point and the monitor's master dies: the new master rolls back."""
    sim = minikv.SimCluster(nodes=3, seed=6, mode=mode)
    client, t = sim.client(), txn()
    transfer_written(client, t)
    sim.kill(master_of(sim, t.monitor_key))
    sim.wait_stable()
    finished(sim)
    assert (bins(client, A), bins(client, B)) == ({"v": 100}, {"v": 0})


# ---- isolation ----------------------------------------------------------------------------------------


def test_isolation_anomalies_are_prevented_inside_transactions(sim):
    """Dirty reads, lost updates, write skew and read skew are prevented for transactions; reads outside them can see a fractured transaction."""
    findings = {f.name: f for f in check_isolation(sim.client(), seed=2)}
    assert {name for name, f in findings.items() if not f.prevented} == {"read skew outside transactions"}
    for finding in findings.values():
        assert finding.describe().startswith(f"{finding.anomaly} ({finding.name}): ")
    assert "x = 0" in findings["dirty read"].story
    assert "MRTVersionMismatch" in findings["lost update"].story
    assert "final x + y = 1" in findings["write skew"].story
