"""The per-key request queue (minikv.core.rw_requests): one request per key at a time, a bounded
FIFO of waiters, and KEY_BUSY once the queue is deeper than transaction-pending-limit.
"""

from __future__ import annotations

from minikv.config import NodeConfig
from minikv.core.rw_requests import Admission, RwRequestTable

KEY = b"k" * 20
OTHER = b"o" * 20


def test_free_key_runs() -> None:
    """The first request on a key runs at once and holds the key."""
    table = RwRequestTable(20)
    assert table.admit(KEY, "r0") is Admission.RUN
    assert table.held() == 1
    assert table.waiting(KEY) == 0


def test_held_key_queues() -> None:
    """A second request on a held key waits."""
    table = RwRequestTable(20)
    table.admit(KEY, "r0")
    assert table.admit(KEY, "r1") is Admission.QUEUED
    assert table.waiting(KEY) == 1


def test_keys_are_independent() -> None:
    """Requests on different keys never wait for each other."""
    table = RwRequestTable(20)
    table.admit(KEY, "r0")
    assert table.admit(OTHER, "o0") is Admission.RUN
    assert table.held() == 2


def test_release_hands_over_in_fifo_order() -> None:
    """Each release hands the key to the oldest waiter; the last release frees the key."""
    table = RwRequestTable(20)
    table.admit(KEY, "r0")
    for name in ("r1", "r2", "r3"):
        table.admit(KEY, name)
    assert [table.release(KEY) for _ in range(3)] == ["r1", "r2", "r3"]
    assert table.held() == 1  # r3 holds it now
    assert table.release(KEY) is None
    assert table.held() == 0


def test_key_free_again_after_release() -> None:
    """Once the last holder releases, the next request on the key runs at once."""
    table = RwRequestTable(20)
    table.admit(KEY, "r0")
    table.release(KEY)
    assert table.admit(KEY, "r1") is Admission.RUN


def test_busy_when_queue_deeper_than_limit() -> None:
    """With limit 20, the holder plus 21 waiters are admitted and the 22nd waiter is BUSY
    (Aerospike refuses when wait_queue_depth > transaction-pending-limit)."""
    table = RwRequestTable(20)
    assert table.admit(KEY, "holder") is Admission.RUN
    outcomes = [table.admit(KEY, f"w{i}") for i in range(1, 22)]
    assert set(outcomes) == {Admission.QUEUED}
    assert table.admit(KEY, "w22") is Admission.BUSY
    assert table.waiting(KEY) == 21  # the refused request was not queued


def test_busy_clears_after_release() -> None:
    """After a waiter moves up, a new request can queue again."""
    table = RwRequestTable(2)
    table.admit(KEY, "holder")
    for name in ("w1", "w2", "w3"):
        table.admit(KEY, name)
    assert table.admit(KEY, "w4") is Admission.BUSY
    table.release(KEY)
    assert table.admit(KEY, "w4") is Admission.QUEUED
    assert [table.release(KEY) for _ in range(3)] == ["w2", "w3", "w4"]


def test_busy_only_on_the_hot_key() -> None:
    """A full queue on one key does not refuse requests on another key."""
    table = RwRequestTable(1)
    table.admit(KEY, "holder")
    table.admit(KEY, "w1")
    table.admit(KEY, "w2")
    assert table.admit(KEY, "w3") is Admission.BUSY
    assert table.admit(OTHER, "o0") is Admission.RUN


def test_zero_limit_is_unlimited() -> None:
    """transaction-pending-limit 0 means no limit, as in Aerospike."""
    table = RwRequestTable(0)
    table.admit(KEY, "holder")
    outcomes = {table.admit(KEY, i) for i in range(1000)}
    assert outcomes == {Admission.QUEUED}
    assert table.waiting(KEY) == 1000


def test_default_limit_is_aerospikes() -> None:
    """A node's default transaction_pending_limit is Aerospike's 20."""
    assert NodeConfig().transaction_pending_limit == 20
