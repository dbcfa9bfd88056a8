"""Checks for exercise 3, replace-if-better (exercises/ex3_conflicts.py, notebook 03).

The cases pin each rule of both policies, ties included. The cluster checks plug the learner's
`incoming_wins` into a SimCluster as a hook and replay the classic AP story: a split, writes on
both sides (three on n1's side, then one later write on the side of n2 and n3), a heal. Which
version every key ends with, on every copy, is decided by the learner's function.
"""

from __future__ import annotations

from collections import Counter
from types import ModuleType

import minikv
from minikv.core.records import Record
from minikv.grading.registry import CheckFailed, Exercise
from minikv.runtime.sim import SimTransport

SEED = 8
_last_sim: list[minikv.SimCluster] = []  # the scenario's cluster, to report its errors if it never settles
KEYS = 20
HEAL_TIMEOUT = 10.0  # virtual s; minikv's own resolver settles in about 0.3 s
GENERATION, LUT = "generation", "last-update-time"


def rec(gen: int, lut: float) -> Record:
    return Record(gen, 0.0, lut, {"v": f"gen {gen}, lut {lut}"})


GENERATION_CASES = [  # (local, incoming, expected, why)
    (None, rec(1, 5.0), True, "any copy beats no copy"),
    (rec(2, 9.0), rec(3, 1.0), True, "the higher generation wins, even though it is older"),
    (rec(3, 1.0), rec(2, 9.0), False, "the lower generation loses, even though it is newer"),
    (rec(4, 1.0), rec(4, 2.0), True, "equal generations: the later update wins"),
    (rec(4, 2.0), rec(4, 1.0), False, "equal generations: the earlier update loses"),
    (rec(4, 1.0), rec(4, 1.0), False, "a full tie keeps the local copy"),
    (rec(65535, 1.0), rec(1, 2.0), False, "under 'generation' generations compare as plain numbers: 65535 > 1"),
]

GEN_NEWER_CASES = [  # (a, b, expected, why)
    (5, 3, True, "two writes ahead"),
    (3, 5, False, "two writes behind"),
    (7, 7, False, "the same generation is not newer"),
    (1, 65535, True, "(1 - 65535) % 65536 = 2: two steps ahead, across the wrap"),
    (65535, 1, False, "65535 is behind 1 once the counter wrapped"),
    (32768, 1, True, "distance 32767: still less than half the circle"),
    (32769, 1, False, "distance 32768: half the circle or more counts as behind"),
    (100, 40000, True, "distance (100 - 40000) % 65536 = 25636: ahead"),
]

LUT_CASES = [  # (local, incoming, expected, why)
    (None, rec(1, 5.0), True, "any copy beats no copy"),
    (rec(9, 1.0), rec(2, 5.0), True, "the later update wins, with fewer writes"),
    (rec(2, 5.0), rec(9, 1.0), False, "the earlier update loses, with more writes"),
    (rec(3, 4.0), rec(5, 4.0), True, "equal update times: the newer generation wins"),
    (rec(5, 4.0), rec(3, 4.0), False, "equal update times: the older generation loses"),
    (rec(65535, 4.0), rec(1, 4.0), True, "equal update times: generation 1 is newer than 65535 (it wrapped)"),
    (rec(1, 4.0), rec(65535, 4.0), False, "equal update times: 65535 is older than a wrapped 1"),
    (rec(6, 4.0), rec(6, 4.0), False, "a full tie keeps the local copy"),
]


def check_3_1_generation_policy(learner: ModuleType) -> None:
    """incoming_wins follows the "generation" policy in seven cases, ties included."""
    _cases(learner, GENERATION, GENERATION_CASES)


def check_3_2_gen_newer(learner: ModuleType) -> None:
    """gen_newer compares 16-bit generations on the circle, across the wrap, in eight cases."""
    for a, b, expected, why in GEN_NEWER_CASES:
        got = learner.gen_newer(a, b)
        if bool(got) != expected or got is None:
            raise CheckFailed(f"gen_newer({a}, {b}) returned {got!r}; expected {expected}: {why}")


def check_3_2_last_update_time_policy(learner: ModuleType) -> None:
    """incoming_wins follows the "last-update-time" policy in eight cases, ties and the wrap included."""
    _cases(learner, LUT, LUT_CASES)


def check_3_1_split_and_heal_generation(learner: ModuleType) -> None:
    """In a SimCluster under "generation", your incoming_wins lets the side with more writes win after a heal."""
    _split_and_heal(learner, GENERATION, winner="left")


def check_3_2_split_and_heal_last_update_time(learner: ModuleType) -> None:
    """In a SimCluster under "last-update-time", your incoming_wins lets the later write win after a heal."""
    _split_and_heal(learner, LUT, winner="right")


def _cases(learner: ModuleType, policy: str, cases: list) -> None:
    for local, incoming, expected, why in cases:
        got = learner.incoming_wins(local, incoming, policy)
        if bool(got) != expected or got is None:
            raise CheckFailed(f"incoming_wins(local={_show(local)}, incoming={_show(incoming)}, policy={policy!r}) "
                              f"returned {got!r}; expected {expected}: {why}")


def _show(record: Record | None) -> str:
    return "None" if record is None else f"Record(gen={record.gen}, lut={record.lut})"


# ---- the cluster scenario --------------------------------------------------------------------------

def _split_and_heal(learner: ModuleType, policy: str, winner: str) -> None:
    """Split n1 | n2,n3; n1's side writes every key 3 times, n2,n3's side once, a second later;
    heal. Every copy of every key must then hold the winner's value."""
    learner.incoming_wins(rec(1, 1.0), rec(2, 2.0), policy)  # a stub fails here, not deep in a node
    try:
        sim = split_write_heal(policy, learner.incoming_wins)
    except TimeoutError as error:  # the cluster never settled: usually the hook raised in a node
        raise CheckFailed(f"{_scenario(policy)}\nThe cluster did not settle after the heal ({error}).\n"
                          f"{_errors(error)}") from None
    client = sim.client()
    seen = Counter(client.get(key(i))[2]["v"] for i in range(KEYS))
    wrong = [(i, node, stored) for i in range(KEYS) for node, stored in copies(sim, key(i)).items()
             if stored != winner]
    if seen[winner] != KEYS or wrong:
        i, node, stored = wrong[0] if wrong else (None, None, None)
        raise CheckFailed(f"{_scenario(policy)}\nExpected every key to read v={winner!r}; reads gave {dict(seen)}"
                          + (f"; key {i} on {node} holds v={stored!r}" if wrong else ""))


def _scenario(policy: str) -> str:
    return (f"SimCluster(nodes=3, seed={SEED}, conflict_resolution={policy!r}, plugins={{'incoming_wins': yours}}): "
            f"put {KEYS} keys; partition(['n1'], ['n2', 'n3']); n1's side writes each key 3 times "
            f"(v='left', generation 4); 1 s later n3's side writes each once (v='right', generation 2, later "
            f"update time); heal().")


def _errors(error: Exception) -> str:
    """The errors the nodes logged while the scenario ran (a hook that raises shows up here)."""
    sim = _last_sim[0] if _last_sim else None
    found = [str(e) for e in (sim.events() if sim else []) if "error" in e.text or "dropped" in e.text]
    return "Errors the nodes logged:\n" + "\n".join(f"  {line}" for line in found[:5]) if found else ""


def split_write_heal(policy: str, incoming_wins: object) -> minikv.SimCluster:
    """The scenario, with `incoming_wins` deciding every merge; returns the healed cluster."""
    config = minikv.NodeConfig(namespaces=(minikv.NamespaceConfig(conflict_resolution=policy),))
    sim = minikv.SimCluster(nodes=3, seed=SEED, config=config, plugins={"incoming_wins": incoming_wins})
    _last_sim[:] = [sim]
    everyone = sim.client()
    for i in range(KEYS):
        everyone.put(key(i), {"v": "before"})
    sim.partition(["n1"], ["n2", "n3"])
    sim.wait_stable()
    left, right = side_client(sim, "n1"), side_client(sim, "n3")
    for _ in range(3):
        for i in range(KEYS):
            left.put(key(i), {"v": "left"})
    sim.run_for(1.0)
    for i in range(KEYS):
        right.put(key(i), {"v": "right"})
    sim.heal()
    sim.wait_stable(timeout=HEAL_TIMEOUT)
    sim.run_for(0.5)  # witnesses drop their copies a tick or two after the cluster is stable
    return sim


def key(i: int) -> tuple:
    return ("test", "demo", i)


def side_client(sim: minikv.SimCluster, node_id: str) -> minikv.Client:
    """A client seeded with one node only: it learns that node's side of a split, nobody else."""
    return minikv.Client({"hosts": [sim.address(node_id)]}, transport=SimTransport(sim)).connect()


def copies(sim: minikv.SimCluster, k: tuple) -> dict[str, object]:
    """{node_id: value of bin v} for every replica of the key's partition."""
    digest = bytes(minikv.calc_digest(*k))
    table = sim.partition_table()[minikv.partition_id(digest)]
    found = {}
    for node_id in table:
        record = sim.node(node_id).stores["test"].get(digest, sim.now)
        found[node_id] = None if record is None else record.bins.get("v")
    return found


EXERCISE = Exercise(id="ex3", title="Replace-if-better conflict resolution", module="ex3_conflicts",
                    checks=[check_3_1_generation_policy, check_3_2_gen_newer, check_3_2_last_update_time_policy,
                            check_3_1_split_and_heal_generation, check_3_2_split_and_heal_last_update_time])
