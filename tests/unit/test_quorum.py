"""QuorumClient (minikv.recipes.quorum): Cassandra's R and W knobs emulated on minikv, in the
simulator. Notebook 03 runs the same experiment: with R + W > N no read is stale.
"""

from __future__ import annotations

import pytest

import minikv
from minikv.recipes.quorum import QuorumClient

KEY = ("test", "demo", "balance")


@pytest.fixture
def lagging() -> tuple[minikv.SimCluster, QuorumClient, str, str]:
    """A 3-node cluster (RF 2) with KEY written, and the link between its master and replica
    slowed by 0.3 s, so a replica write arrives 0.3 s after the master applied it."""
    sim = minikv.SimCluster(nodes=3, seed=7)
    quorum = QuorumClient(sim.client())
    quorum.put(KEY, {"v": 0}, w=2)
    master, replica = quorum.replicas(KEY)
    sim.slow_link(master, replica, 0.3)
    return sim, quorum, master, replica


def test_replicas_are_the_partition_table_row(lagging) -> None:
    """replicas() lists the key's master then its replica, as the cluster's partition table does."""
    sim, quorum, _, _ = lagging
    pid = minikv.partition_id(minikv.calc_digest(*KEY))
    assert quorum.replicas(KEY) == sim.partition_table()[pid]


def test_r1_w1_can_read_a_stale_replica(lagging) -> None:
    """With W=1 (commit level MASTER) and R=1 on the lagging replica, a read right after the write
    returns the previous value; once the replica write lands, the same read is fresh."""
    sim, quorum, _, replica = lagging
    quorum.put(KEY, {"v": 1}, w=1)
    seen = quorum.get(KEY, r=1, prefer=[replica])
    assert seen.bins == {"v": 0} and list(seen.answers) == [replica]
    sim.run_for(0.5)
    assert quorum.get(KEY, r=1, prefer=[replica]).bins == {"v": 1}


@pytest.mark.parametrize(("r", "w"), [(1, 2), (2, 1), (2, 2)])
def test_r_plus_w_above_n_never_reads_stale(lagging, r: int, w: int) -> None:
    """Whenever R + W > N (N = 2), every read right after a write returns that write, even when
    the replica asked first is the lagging one."""
    _, quorum, _, replica = lagging
    for i in range(1, 6):
        quorum.put(KEY, {"v": i}, w=w)
        assert quorum.get(KEY, r=r, prefer=[replica]).bins == {"v": i}


def test_read_keeps_the_highest_generation_and_reports_each_answer(lagging) -> None:
    """An R=2 read returns the copy with the highest generation and each replica's own answer."""
    _, quorum, master, replica = lagging
    quorum.put(KEY, {"v": 1}, w=1)
    seen = quorum.get(KEY, r=2, prefer=[replica])
    assert seen.answers == {replica: (1, {"v": 0}), master: (2, {"v": 1})}
    assert (seen.gen, seen.bins) == (2, {"v": 1})


def test_a_missing_record_reads_as_generation_zero(lagging) -> None:
    """A key no replica holds reads as generation 0 with no bins; each answer is None."""
    _, quorum, _, _ = lagging
    missing = ("test", "demo", "nobody")
    seen = quorum.get(missing, r=2)
    assert (seen.gen, seen.bins) == (0, None)
    assert list(seen.answers.values()) == [None, None]


def test_impossible_r_and_w_are_refused(lagging) -> None:
    """W must be 1 or N (a minikv master always replicates to all) and R between 1 and N."""
    _, quorum, _, _ = lagging
    with pytest.raises(ValueError, match="w=3"):
        quorum.put(KEY, {"v": 1}, w=3)
    with pytest.raises(ValueError, match="r=0"):
        quorum.get(KEY, r=0)
