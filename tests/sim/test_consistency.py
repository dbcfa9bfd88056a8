"""Strong-consistency mode in the simulator: roster, availability rule, regimes, dead partitions."""

from __future__ import annotations

import pytest

import minikv
from minikv import policies as P
from minikv.core.consistency import is_available
from minikv.exception import ClusterError
from minikv.runtime.sim import SimCluster

LINEARIZE = {"read_mode_sc": P.POLICY_READ_MODE_SC_LINEARIZE}


def served_by(sim: SimCluster, nodes: list[str]) -> int:
    """Partitions the group `nodes` serves (4096 minus what its first member finds unavailable)."""
    return 4096 - sim.info(nodes[0], "namespace/test")["unavailable_partitions"]


def master_of(sim: SimCluster, key: tuple) -> str:
    pid = minikv.partition_id(minikv.calc_digest(*key))
    return sim.partition_table()[pid][0]


# ---- the rule itself -----------------------------------------------------------------------------


def test_rule_majority_needs_one_roster_replica():
    """A strict majority serves a partition only if it holds at least one roster replica."""
    roster = ("n1", "n2", "n3", "n4", "n5")
    assert is_available(("n1", "n2"), roster, {"n1", "n3", "n4"})
    assert not is_available(("n1", "n2"), roster, {"n3", "n4", "n5"})


def test_rule_exactly_half_needs_the_roster_master():
    """With exactly half the roster, only the side holding the roster master serves."""
    roster = ("n1", "n2", "n3", "n4")
    assert is_available(("n1", "n3"), roster, {"n1", "n2"})
    assert not is_available(("n1", "n3"), roster, {"n3", "n4"})


def test_rule_all_roster_replicas_serve_even_in_a_minority():
    """The (unconfirmed) first clause: a minority holding every roster replica serves."""
    roster = ("n1", "n2", "n3", "n4", "n5")
    assert is_available(("n1", "n2"), roster, {"n1", "n2"})
    assert not is_available(("n1", "n2"), roster, {"n1"})


# ---- the roster -----------------------------------------------------------------------------------


def test_sc_cluster_starts_with_every_node_on_the_roster():
    """mode="sc" applies a roster of the starting nodes; everything is available."""
    with SimCluster(3, seed=1, mode="sc") as sim:
        assert sim.roster()["roster"] == ["n1", "n2", "n3"]
        assert all(sim.info(n, "namespace/test")["unavailable_partitions"] == 0 for n in sim.node_ids)


def test_a_node_off_the_roster_holds_nothing_until_the_roster_changes():
    """A new node serves no partition until the operator stages and applies a new roster."""
    with SimCluster(3, seed=2, mode="sc") as sim:
        new = sim.add_node()
        sim.wait_stable()
        assert new not in {n for row in sim.partition_table().values() for n in row[:1]}
        assert sim.roster()["observed_nodes"] == ["n1", "n2", "n3", new]
        assert sim.set_roster() == ["n1", "n2", "n3", new]
        sim.recluster()
        assert sim.roster()["roster"] == ["n1", "n2", "n3", new]
        assert sim.pmap()[new]["masters"] > 0


def test_roster_commands_refuse_an_ap_namespace():
    """roster: on an AP namespace is a clear error."""
    with SimCluster(1, seed=3) as sim, pytest.raises(ValueError, match="not a strong-consistency"):
        sim.roster()


# ---- splits ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("groups", "seed"), [((["n1", "n2", "n3"], ["n4", "n5"]), 4),
                                               ((["n1", "n2"], ["n3", "n4"]), 5)])
def test_every_partition_is_served_by_exactly_one_side(groups, seed):
    """Split 3|2 and 2|2: the two sides serve disjoint sets of partitions that cover all 4096."""
    with SimCluster(sum(map(len, groups)), seed=seed, mode="sc") as sim:
        sim.partition(*groups)
        sim.run_for(3.0)
        a, b = (served_by(sim, g) for g in groups)
        assert a + b == 4096 and a > 0 and b > 0
        tables = [sim.node(g[0]).partitions.parts["test"] for g in groups]
        both = [pid for pid in range(4096) if tables[0][pid].working_master and tables[1][pid].working_master]
        assert both == []


def test_minority_writes_fail_and_no_acknowledged_write_is_lost():
    """In a 3|2 split the minority refuses writes (ClusterError); after the heal every
    acknowledged write is there."""
    with SimCluster(5, seed=6, mode="sc") as sim:
        client = sim.client()
        sim.partition(["n1", "n2", "n3"], ["n4", "n5"])
        sim.run_for(3.0)
        acked, refused = {}, 0
        for i in range(60):
            try:
                client.put(("test", None, i), {"v": i})
                acked[i] = i
            except ClusterError:
                refused += 1
        sim.heal()
        sim.wait_stable()
        assert acked and refused == 0  # the client reaches the majority, which serves everything
        for i, v in acked.items():
            assert client.get(("test", None, i), policy=LINEARIZE)[2] == {"v": v}


def test_an_isolated_node_serves_nothing():
    """A node cut off alone (1 of 3) has every partition unavailable and refuses requests."""
    with SimCluster(3, seed=7, mode="sc") as sim:
        sim.isolate("n1")
        sim.run_for(3.0)
        assert sim.info("n1", "namespace/test")["unavailable_partitions"] == 4096
        with pytest.raises(ClusterError):
            _direct_get(sim, "n1", minikv.calc_digest("test", None, "x"))


def _direct_get(sim: SimCluster, node_id: str, digest: bytes):
    from minikv.core.messages import Get
    return sim.node(node_id).service.on_Get(Get("test", "", digest), object())


# ---- regimes fence a deposed master ---------------------------------------------------------------


@pytest.mark.parametrize("mode", [P.POLICY_READ_MODE_SC_SESSION, P.POLICY_READ_MODE_SC_LINEARIZE])
def test_a_paused_master_never_serves_a_stale_read_after_the_cluster_moved_on(mode):
    """Pause a key's master; the others take over in a new regime; resumed, the old master
    refuses a session or linearize read (its replicas left its view), never answers stale."""
    with SimCluster(3, seed=8, mode="sc") as sim:
        client = sim.client()
        key = ("test", None, "hot")
        client.put(key, {"v": 1})
        old = master_of(sim, key)
        sim.pause(old)
        sim.run_for(3.0)
        client.put(key, {"v": 2})  # served by the new master
        node = sim.node(old)
        pid = minikv.partition_id(minikv.calc_digest(*key))
        stale_view = node.ckey
        sim.resume(old)
        # resumed, it still holds its old view for a moment: a linearize read sent straight to it
        # must fail (its replicas moved to a new regime) or, once it caught up, be proxied to
        # the new master; it must never return the stale {"v": 1}
        from minikv.core.messages import Get
        from minikv.runtime.sim import SimTransport
        reply = SimTransport(sim).call(sim.address(old), Get("test", "", minikv.calc_digest(*key), None, False, mode), 2.0)
        assert node.ckey == stale_view or reply.rc == 0
        assert (reply.rc, reply.result[2] if reply.rc == 0 else None) in [(11, None), (0, {"v": 2})]
        assert client.get(key, policy=LINEARIZE)[2] == {"v": 2}


def test_replicas_refuse_a_replica_write_from_another_regime():
    """A ReplicaWrite carrying an older regime is refused with a negative ack."""
    from minikv.core.fabric import ReplicaAck, ReplicaWrite
    with SimCluster(3, seed=9, mode="sc") as sim:
        key = ("test", None, "k")
        digest = minikv.calc_digest(*key)
        pid = minikv.partition_id(digest)
        master, replica = sim.partition_table()[pid][:2]
        node = sim.node(replica)
        regime = node.consistency.regime("test", pid)
        stale = ReplicaWrite(master, node.ckey, "test", digest, None, 1, regime - 1)
        effects = node.receive(None, stale, sim.now)
        acks = [e.message for e in effects if isinstance(getattr(e, "message", None), ReplicaAck)]
        assert acks == [ReplicaAck(replica, 1, False)]
        fresh = ReplicaWrite(master, node.ckey, "test", digest, None, 2, regime)
        acks = [e.message for e in node.receive(None, fresh, sim.now) if isinstance(getattr(e, "message", None), ReplicaAck)]
        assert acks == [ReplicaAck(replica, 2, True)]


# ---- crashes, dead partitions, revive ---------------------------------------------------------------


def test_a_restarted_node_remembers_regimes_but_not_records():
    """After kill and restart a node holds no records but still knows every partition's regime."""
    with SimCluster(3, seed=10, mode="sc") as sim:
        before = list(sim.node("n2").consistency.known["test"])
        sim.kill("n2")
        sim.restart("n2")
        node = sim.node("n2")
        assert all(now >= then for now, then in zip(node.consistency.known["test"], before))


def test_losing_every_copy_makes_partitions_dead_until_revived():
    """Kill both replicas of a key's partition and restart them: the whole roster is back but no
    full copy exists, so the partition is dead; revive brings it back, empty."""
    with SimCluster(3, seed=11, mode="sc") as sim:
        client = sim.client()
        key = ("test", None, "lost")
        client.put(key, {"v": 1})
        pid = minikv.partition_id(minikv.calc_digest(*key))
        a, b = sim.partition_table()[pid][:2]
        sim.kill(a)
        sim.kill(b)
        sim.restart(a)
        sim.restart(b)
        sim.wait_stable()
        dead = sim.info(a, "namespace/test")["dead_partitions"]
        assert dead > 0 and pid in sim.node(a).consistency.dead["test"]
        with pytest.raises(ClusterError):
            client.get(key)
        sim.revive()
        assert sim.info(a, "namespace/test")["dead_partitions"] == 0
        with pytest.raises(minikv.exception.RecordNotFound):
            client.get(key, policy=LINEARIZE)


def test_ap_mode_is_unchanged_by_the_sc_machinery():
    """In AP both sides of a split keep serving every partition (the lesson of notebook 05)."""
    with SimCluster(5, seed=12) as sim:
        sim.partition(["n1", "n2", "n3"], ["n4", "n5"])
        sim.run_for(3.0)
        assert sim.info("n4", "namespace/test")["unavailable_partitions"] == 0
        assert sim.info("n1", "namespace/test")["unavailable_partitions"] == 0
