"""SC mode in real processes: the roster, a minority that refuses, regimes kept across a restart."""

from __future__ import annotations

import pytest

import minikv
from conftest import wait_until
from minikv.exception import ClusterError

LINEARIZE = {"read_mode_sc": minikv.policies.POLICY_READ_MODE_SC_LINEARIZE}


@pytest.fixture(scope="module")
def sc_cluster():
    with minikv.LocalCluster(3, mode="sc") as cluster:
        yield cluster


def unavailable(cluster, node_id: str) -> int:
    return cluster.info(node_id, "namespace/test")["unavailable_partitions"]


def test_an_sc_cluster_starts_with_its_roster_and_serves(sc_cluster):
    """mode="sc" gives a roster of the three nodes and every partition available."""
    assert sc_cluster.roster()["roster"] == ["n1", "n2", "n3"]
    assert all(unavailable(sc_cluster, n) == 0 for n in sc_cluster.node_ids)
    client = sc_cluster.client()
    client.put(("test", None, "k"), {"v": 1})
    assert client.get(("test", None, "k"), policy=LINEARIZE)[2] == {"v": 1}


def test_an_isolated_node_serves_nothing_and_the_majority_everything(sc_cluster):
    """Isolating n1: n1 finds all 4096 partitions unavailable, n2 and n3 none; healed, all serve."""
    sc_cluster.isolate("n1")
    try:
        assert wait_until(lambda: unavailable(sc_cluster, "n1") == 4096, 10.0)
        assert wait_until(lambda: unavailable(sc_cluster, "n2") == 0 and "n1" not in
                          sc_cluster.info("n2")["cluster_members"], 10.0)
    finally:
        sc_cluster.heal()
    sc_cluster.wait_stable()
    assert all(unavailable(sc_cluster, n) == 0 for n in sc_cluster.node_ids)


def test_a_restarted_node_reads_its_regimes_back_from_disk(sc_cluster):
    """kill -9 and restart: the node's records are gone but its roster comes back from its
    state file (it knows it is on the roster before any view forms), and no partition is dead."""
    client = sc_cluster.client()
    client.put(("test", None, "survives"), {"v": 2})
    sc_cluster.kill("n3")
    sc_cluster.wait_stable()
    sc_cluster.restart("n3")
    sc_cluster.wait_stable()
    assert sc_cluster.info("n3", "roster:namespace=test")["roster"].startswith("n1,n2,n3")
    assert all(sc_cluster.info(n, "namespace/test")["dead_partitions"] == 0 for n in sc_cluster.node_ids)
    assert client.get(("test", None, "survives"), policy=LINEARIZE)[2] == {"v": 2}


def test_a_write_to_an_unavailable_partition_is_a_cluster_error():
    """With two of three nodes dead, nothing has a majority: writes fail with ClusterError."""
    with minikv.LocalCluster(3, mode="sc") as cluster:
        cluster.kill("n1")
        cluster.kill("n2")
        assert wait_until(lambda: unavailable(cluster, "n3") == 4096, 10.0)
        client = cluster.client()  # a fresh map: n3 is all it finds, and it masters nothing
        with pytest.raises(ClusterError):
            client.put(("test", None, "nope"), {"v": 1}, policy={"total_timeout": 2000})
