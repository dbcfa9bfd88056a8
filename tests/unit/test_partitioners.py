"""The alternative partitioners of notebook 01 (minikv/partitioners.py) and the measures it reports."""

import struct
from functools import partial

from minikv.core.partitions import succession_list, succession_row
from minikv.keys import N_PARTITIONS
from minikv.partitioners import (imbalance, masters_gained, masters_per_node, modulo_row, moves, ring_arcs,
                                ring_position, ring_row)
from minikv.runtime.sim import SimCluster

FIVE = succession_list(["n1", "n2", "n3", "n4", "n5"])
FOUR = tuple(n for n in FIVE if n != "n3")


def table(row, members, rf=2):
    """{pid: [master, replica]} for every partition, as a cluster with RF 2 would place them."""
    return {pid: list(row(pid, members))[:rf] for pid in range(N_PARTITIONS)}


def test_a_ring_row_orders_every_member_once():
    """ring_row returns each member exactly once, whatever the number of virtual nodes."""
    for vnodes in (1, 16):
        for pid in range(0, N_PARTITIONS, 97):
            assert sorted(ring_row(pid, FIVE, vnodes)) == sorted(FIVE)


def test_a_ring_row_depends_on_the_members_not_their_order():
    """The ring is built from node ids alone: listing the members in another order changes nothing."""
    assert all(ring_row(pid, FIVE) == ring_row(pid, tuple(reversed(FIVE))) for pid in range(0, N_PARTITIONS, 31))


def test_a_lost_node_leaves_every_ring_row_otherwise_unchanged():
    """On the ring, as in Aerospike, a node's loss deletes it from each row and keeps the others' order."""
    for row in (ring_row, partial(ring_row, vnodes=1), succession_row):
        for pid in range(N_PARTITIONS):
            assert list(row(pid, FOUR)) == [n for n in row(pid, FIVE) if n != "n3"]


def test_more_virtual_nodes_balance_the_ring_better():
    """One token per node leaves masters badly skewed; 256 tokens bring the ring close to even."""
    assert imbalance(table(partial(ring_row, vnodes=1), FIVE)) > 2.0
    assert imbalance(table(partial(ring_row, vnodes=256), FIVE)) < 1.3


def test_modulo_balances_perfectly_and_moves_almost_everything():
    """pid % n spreads masters within one of each other, and a node's loss moves most masters."""
    before, after = table(modulo_row, FIVE), table(modulo_row, FOUR)
    counts = masters_per_node(before).values()
    assert max(counts) - min(counts) <= 1
    assert moves(before, after).masters > 3 * N_PARTITIONS // 4


def test_aerospike_and_the_ring_move_only_what_the_lost_node_held():
    """Losing n3 changes the master exactly of the partitions n3 mastered, for both partitioners."""
    for row in (succession_row, ring_row):
        before, after = table(row, FIVE), table(row, FOUR)
        assert moves(before, after).masters == masters_per_node(before)["n3"]
        assert moves(before, after).partitions == sum("n3" in holders for holders in before.values())


def test_moves_counts_masters_partitions_and_copies():
    """moves() counts changed masters, changed holder sets, and copies that must migrate in."""
    before = {0: ["n1", "n2"], 1: ["n2", "n3"], 2: ["n3", "n1"]}
    after = {0: ["n2", "n1"], 1: ["n2", "n1"], 2: ["n1", "n2"]}
    result = moves(before, after)
    assert (result.masters, result.partitions, result.copies) == (2, 2, 2)
    assert masters_gained(before, after) == {"n1": 1, "n2": 1}


def test_a_ring_partitioner_drives_a_simulated_cluster():
    """Plugged in as the succession_row hook, ring_row decides the cluster's partition table."""
    with SimCluster(3, seed=3, plugins={"succession_row": ring_row}) as sim:
        members = succession_list(sim.node_ids)
        assert sim.partition_table() == table(ring_row, members)


def test_ring_arcs_cover_the_ring_once_and_match_ring_row():
    """The drawn arcs tile the whole ring, and a partition's master owns the arc its position falls in."""
    arcs = ring_arcs(FIVE, vnodes=4)
    assert len(arcs) == 20 and abs(sum(end - start for start, end, _ in arcs) - 1.0) < 1e-12
    for pid in range(0, N_PARTITIONS, 113):
        point = ring_position(struct.pack("<I", pid)) / 2**64
        owner = next(node for start, end, node in arcs if start < point <= end or start < point - 1 <= end)
        assert owner == ring_row(pid, FIVE, vnodes=4)[0]
