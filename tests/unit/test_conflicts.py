"""Replace-if-better (minikv.core.conflicts.incoming_wins and ReplicaWriter.merge): which copy of
a record survives when two meet, under Aerospike's two AP policies.
"""

from __future__ import annotations

import random

import pytest

from minikv.config import NamespaceConfig, NodeConfig
from minikv.core.conflicts import incoming_wins
from minikv.core.node import Node
from minikv.core.records import Record

GENERATION, LUT = "generation", "last-update-time"


def rec(gen: int, lut: float, value: str = "x") -> Record:
    return Record(gen, 0.0, lut, {"v": value})


def test_anything_beats_no_record() -> None:
    """An incoming copy always replaces a missing one."""
    assert incoming_wins(None, rec(1, 0.0), GENERATION)
    assert incoming_wins(None, rec(1, 0.0), LUT)


def test_generation_policy_more_writes_win() -> None:
    """Under "generation" the higher generation wins even if it is older: more history wins."""
    assert incoming_wins(rec(2, lut=9.0), rec(3, lut=1.0), GENERATION)
    assert not incoming_wins(rec(3, lut=1.0), rec(2, lut=9.0), GENERATION)


def test_generation_policy_compares_directly_not_wrap_aware() -> None:
    """Aerospike compares generations directly under this policy: 65535 beats 1 (a wrapped one)."""
    assert not incoming_wins(rec(65535, 1.0), rec(1, 2.0), GENERATION)


def test_generation_tie_goes_to_the_later_update() -> None:
    """Equal generations: the later last-update time wins."""
    assert incoming_wins(rec(4, 1.0), rec(4, 2.0), GENERATION)
    assert not incoming_wins(rec(4, 2.0), rec(4, 1.0), GENERATION)


def test_last_update_time_policy_later_write_wins() -> None:
    """Under "last-update-time" the later update wins even with fewer writes."""
    assert incoming_wins(rec(9, lut=1.0), rec(2, lut=5.0), LUT)
    assert not incoming_wins(rec(2, lut=5.0), rec(9, lut=1.0), LUT)


def test_last_update_time_tie_uses_wrap_aware_generation() -> None:
    """Equal update times: the newer generation wins, allowing for the 16-bit wrap (1 is newer
    than 65535, 3 newer than 2)."""
    assert incoming_wins(rec(2, 1.0), rec(3, 1.0), LUT)
    assert incoming_wins(rec(65535, 1.0), rec(1, 1.0), LUT)
    assert not incoming_wins(rec(1, 1.0), rec(65535, 1.0), LUT)


@pytest.mark.parametrize("policy", [GENERATION, LUT])
def test_full_tie_keeps_the_local_copy(policy: str) -> None:
    """Same generation and update time: the local copy stays (Aerospike's RECORD_EXISTS no-op)."""
    assert not incoming_wins(rec(3, 1.0, "local"), rec(3, 1.0, "incoming"), policy)


@pytest.mark.parametrize(("policy", "winner"), [(GENERATION, "more writes"), (LUT, "later write")])
def test_merge_keeps_the_winner_in_the_store(policy: str, winner: str) -> None:
    """ReplicaWriter.merge (used by migrations and duplicate resolution) stores the incoming copy
    only when it wins under the namespace's policy."""
    config = NodeConfig(namespaces=(NamespaceConfig(conflict_resolution=policy),))
    node = Node("n1", config, 0.0, random.Random(1))
    store, digest = node.stores["test"], bytes(20)
    store.put(digest, rec(5, 1.0, "more writes").pack())
    kept = node.replication.merge(store, digest, rec(2, 7.0, "later write").pack())
    assert kept is (winner == "later write")
    assert store.get(digest, 10.0).bins == {"v": winner}
