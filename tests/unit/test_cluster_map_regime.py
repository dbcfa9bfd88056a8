"""The client ignores partition claims from a node advertising an older SC regime."""

from minikv.cluster_map import ClusterMap
from minikv.core.info import _bitmap


def replicas_answer(regime: int, masters: list[int]) -> dict:
    return {"replicas": f"test:{regime},1,{_bitmap(masters)}"}


def load(cmap: ClusterMap, node_id: str, answer: dict) -> None:
    cmap._ask = lambda address, commands, deadline=None: answer  # the node's `replicas` answer
    cmap._load_replicas(node_id, ("127.0.0.1", 0))


def test_a_claim_with_a_lower_regime_is_ignored():
    """A deposed master (regime 3) cannot take back a partition a newer master claimed (regime 5)."""
    cmap = ClusterMap([], transport=None)
    load(cmap, "n2", replicas_answer(5, [7]))
    load(cmap, "n1", replicas_answer(3, [7, 8]))
    assert cmap.pmap["test"][0][7] == "n2"
    assert cmap.pmap["test"][0][8] == "n1"  # nobody newer claimed 8


def test_ap_claims_all_say_regime_zero_and_are_believed():
    """In AP every node advertises regime 0, so the latest answer wins as before."""
    cmap = ClusterMap([], transport=None)
    load(cmap, "n1", replicas_answer(0, [7]))
    load(cmap, "n2", replicas_answer(0, [7]))
    assert cmap.pmap["test"][0][7] == "n2"
