"""Clustering (minikv.core.clustering.ClusterManager) on bare `Node` objects: no simulator, no
codec. A tiny fake network ticks the nodes and hands each `Send` to its target at once (a filter
can drop messages); single messages are fed by hand where the rule is about one step.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from minikv.config import NodeConfig
from minikv.core.fabric import Accept, Commit, Heartbeat, Prepare, Promise
from minikv.core.heartbeat import Send
from minikv.core.node import TICK_INTERVAL, Node
from minikv.core.partitions import node_number

# a short round timeout, so an abandoned round shows within the first quanta
CONFIG = NodeConfig(round_timeout=0.3)
Drop = Callable[[str, str, object], bool]  # (src, dst, message) -> lose it?


def address(node_id: str) -> tuple[str, int]:
    return ("fake", 3000 + int(node_id[1:]))


def make_node(node_id: str, peers: list[str] = (), now: float = 0.0) -> Node:
    node = Node(node_id, CONFIG, now, random.Random(node_number(node_id)))
    node.heartbeat.address = address(node_id)
    node.heartbeat.seeds = {address(p) for p in peers}
    return node


class FakeNet:
    """Nodes ticked every TICK_INTERVAL; sends delivered at once, in order, unless dropped."""

    def __init__(self, *ids: str, drop: Drop | None = None):
        self.nodes = {n: make_node(n, list(ids)) for n in ids}
        self.now = 0.0
        self.drop = drop or (lambda src, dst, msg: False)
        self.sent: list[tuple[str, str, object]] = []  # (src, dst, message), everything sent

    def run(self, seconds: float) -> None:
        for _ in range(round(seconds / TICK_INTERVAL)):
            self.now += TICK_INTERVAL
            for node_id, node in self.nodes.items():
                self._deliver(node_id, node.tick(self.now))

    def _deliver(self, src: str, effects: list) -> None:
        queue = [(src, e) for e in effects]
        while queue:
            sender, send = queue.pop(0)
            assert isinstance(send, Send), f"unexpected effect {send}"
            dst = send.to or next(n for n in self.nodes if address(n) == send.address)
            self.sent.append((sender, dst, send.message))
            if dst in self.nodes and not self.drop(sender, dst, send.message):
                queue += [(dst, e) for e in self.nodes[dst].receive(None, send.message, self.now)]

    def views(self) -> set[tuple[int, tuple[str, ...]]]:
        return {(n.cluster.view.ckey, n.cluster.view.succession) for n in self.nodes.values()}


def hear(node: Node, src: str, adjacency: tuple[str, ...], now: float, ckey: int = 0) -> None:
    """Feed `node` one heartbeat from `src`, which reports hearing `adjacency`."""
    node.receive(None, Heartbeat(src, address(src), ckey, (), adjacency), now)


def sent(effects: list, kind: type) -> list:
    return [e.message for e in effects if isinstance(e, Send) and isinstance(e.message, kind)]


# ---- forming views -------------------------------------------------------------------------------


def test_a_lone_node_forms_a_view_of_itself() -> None:
    """A node that hears nobody forms a one-node view at its first quantum, as principal."""
    net = FakeNet("n1")
    net.run(0.5)
    view = net.nodes["n1"].cluster.view
    assert view.succession == ("n1",) and view.principal == "n1" and view.generation == 1
    assert 0 < view.ckey < 2**48  # Aerospike: a random, non-zero 48-bit cluster key
    assert any("joined view" in e.text and "as principal: n1" in e.text for e in net.nodes["n1"].events)


def test_three_nodes_agree_on_one_view_led_by_the_highest_id() -> None:
    """Three nodes that hear each other end in one view, same key, principal n3, members by
    descending id; each node ran its own rebalance for it."""
    net = FakeNet("n1", "n2", "n3")
    net.run(1.0)
    ((ckey, succession),) = net.views()
    assert ckey and succession == ("n3", "n2", "n1")
    assert {n.cluster.view.generation for n in net.nodes.values()} == {1}
    assert all(n.partitions.state("test", 0).plan is not None for n in net.nodes.values())


def test_only_the_principal_proposes() -> None:
    """Only the highest node sends Prepare; the others only answer."""
    net = FakeNet("n1", "n2", "n3")
    net.run(1.0)
    assert {src for src, _, msg in net.sent if isinstance(msg, Prepare)} == {"n3"}


def test_a_dead_member_is_dropped_at_a_later_quantum() -> None:
    """When a member stops heartbeating, the principal forms a new view without it once the node
    timeout has passed; the survivors get a new cluster key and generation 2."""
    net = FakeNet("n1", "n2", "n3")
    net.run(1.0)
    (first, _), = net.views()
    del net.nodes["n2"]
    net.run(CONFIG.node_timeout + 2 * CONFIG.quantum_interval)
    ((ckey, succession),) = net.views()
    assert succession == ("n3", "n1") and ckey != first
    assert {n.cluster.view.generation for n in net.nodes.values()} == {2}


def test_departures_in_one_quantum_make_one_view_change() -> None:
    """Two members dying at the same time cost one view change, not two (quantum batching)."""
    net = FakeNet("n1", "n2", "n3", "n4")
    net.run(1.0)
    del net.nodes["n1"], net.nodes["n2"]
    net.run(CONFIG.node_timeout + 3 * CONFIG.quantum_interval)
    assert net.views() == {(net.nodes["n4"].ckey, ("n4", "n3"))}
    assert {n.cluster.view.generation for n in net.nodes.values()} == {2}


def test_no_majority_of_promises_abandons_the_round() -> None:
    """A principal that gets Promises from no majority of its group abandons the round and
    keeps its view."""
    net = FakeNet("n1", "n2", "n3", drop=lambda src, dst, msg: isinstance(msg, Promise))
    net.run(0.6)
    principal = net.nodes["n3"]
    assert principal.cluster.view.succession == ()
    assert any("round abandoned: only 1 of 3 promised" in e.text for e in principal.events)


def test_the_view_is_those_who_answered_both_phases() -> None:
    """A node that promised but whose Accepted never arrives is left out of the committed view."""
    lost = lambda src, dst, msg: src == "n1" and type(msg).__name__ == "Accepted"
    net = FakeNet("n1", "n2", "n3", drop=lost)
    net.run(2 * CONFIG.quantum_interval + CONFIG.round_timeout + TICK_INTERVAL)
    assert net.nodes["n3"].cluster.view.succession == ("n3", "n2")
    assert net.nodes["n2"].cluster.view.succession == ("n3", "n2")


# ---- the acceptor's rules, one message at a time ----------------------------------------------------


def acceptor_hearing(*peers: str) -> Node:
    """n2 hearing the given peers, each of which hears everyone (so they are in n2's clique)."""
    node = make_node("n2")
    everyone = ("n1", "n2", "n3")
    for peer in peers:
        hear(node, peer, everyone, now=0.0)
    return node


def test_prepare_from_below_the_highest_live_peer_is_refused() -> None:
    """n2 hearing n3 refuses a Prepare from n1: only the highest node it hears may lead it."""
    node = acceptor_hearing("n1", "n3")
    (promise,) = sent(node.receive(None, Prepare("n1", (0.1, node_number("n1"))), 0.1), Promise)
    assert promise.ok is False


def test_prepare_from_the_highest_live_peer_is_promised() -> None:
    """n2 hearing n1 and n3 promises to n3."""
    node = acceptor_hearing("n1", "n3")
    (promise,) = sent(node.receive(None, Prepare("n3", (0.1, node_number("n3"))), 0.1), Promise)
    assert promise.ok is True and promise.proposal == (0.1, node_number("n3"))


def test_an_older_proposal_is_refused_after_a_newer_promise() -> None:
    """Once it promised a proposal, an acceptor refuses any proposal not above it."""
    node = acceptor_hearing("n3")
    node.receive(None, Prepare("n3", (0.2, node_number("n3"))), 0.1)
    for proposal in [(0.2, node_number("n3")), (0.1, node_number("n3"))]:
        (promise,) = sent(node.receive(None, Prepare("n3", proposal), 0.1), Promise)
        assert promise.ok is False


def test_commit_from_a_node_we_did_not_accept_is_ignored() -> None:
    """A Commit counts only from the node whose Accept we answered last; others change nothing."""
    node = acceptor_hearing("n1", "n3")
    proposal = (0.1, node_number("n3"))
    node.receive(None, Prepare("n3", proposal), 0.1)
    node.receive(None, Accept("n3", proposal, 0xABC, ("n3", "n2")), 0.1)
    node.receive(None, Commit("n1", 0xDEF, ("n2", "n1"), {}), 0.1)
    assert node.cluster.view.ckey == 0
    node.receive(None, Commit("n3", 0xABC, ("n3", "n2"), {"n3": {}, "n2": {}}), 0.1)
    assert node.cluster.view.ckey == 0xABC and node.members == ("n3", "n2")


def test_commit_that_leaves_us_out_is_ignored() -> None:
    """A Commit whose members do not include this node does not become its view."""
    node = acceptor_hearing("n3")
    proposal = (0.1, node_number("n3"))
    node.receive(None, Prepare("n3", proposal), 0.1)
    node.receive(None, Accept("n3", proposal, 0xABC, ("n3", "n2")), 0.1)
    node.receive(None, Commit("n3", 0xABC, ("n3", "n1"), {}), 0.1)
    assert node.cluster.view.ckey == 0


def test_accept_is_answered_with_partition_versions() -> None:
    """An acceptor answers Accept with Accepted carrying its partition versions (the exchange)."""
    node = acceptor_hearing("n3")
    proposal = (0.1, node_number("n3"))
    node.receive(None, Prepare("n3", proposal), 0.1)
    effects = node.receive(None, Accept("n3", proposal, 0xABC, ("n3", "n2")), 0.1)
    (accepted,) = [e.message for e in effects if type(e.message).__name__ == "Accepted"]
    assert accepted.proposal == proposal and accepted.versions == {"test": []}
