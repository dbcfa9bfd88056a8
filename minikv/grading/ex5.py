"""Checks for exercise 5, the SC availability rule (exercises/ex5_availability.py, notebook 05).

The learner's `is_available` is compared with minikv's own (`minikv.core.consistency`) on named
cases (splits 3|2 and 2|2, every roster replica in a minority, the roster master present or
absent, nodes off the roster), then on seeded random cases, then exhaustively for the property
that matters: no two-way split of a roster ever lets both sides serve a partition. Last, it is
plugged into a SimCluster in SC mode as the `is_available` hook, the cluster is split 2|2, and
what each side serves must be what the rule says, with no partition served on both sides.
"""

from __future__ import annotations

import itertools
import random
from types import ModuleType

import minikv
from minikv.core.consistency import is_available as reference
from minikv.core.partitions import partition_rows, succession_list
from minikv.grading.registry import CheckFailed, Exercise, call
from minikv.keys import N_PARTITIONS

R5 = ("n1", "n2", "n3", "n4", "n5")
R4 = ("n1", "n2", "n3", "n4")
RANDOM_SEED, RANDOM_CASES = 5, 400
SPLIT_SEED = 7  # the cluster scenario: SimCluster(4, seed=7, mode="sc"), split n1,n2 | n3,n4
SPLIT = (["n1", "n2"], ["n3", "n4"])
SETTLE = 3.0  # virtual s after the split: both sides have formed their views by then

CASES = [  # (roster replicas, roster, members, expected, why)
    (("n1", "n4"), R5, {"n1", "n2", "n3"}, True, "split 3|2: the majority holds the roster replica n1"),
    (("n1", "n4"), R5, {"n4", "n5"}, False, "split 3|2: the minority holds only one of the two roster replicas"),
    (("n4", "n5"), R5, {"n1", "n2", "n3"}, False, "split 3|2: a majority, but both roster replicas are on the other side"),
    (("n4", "n5"), R5, {"n4", "n5"}, True, "split 3|2: a minority holding every roster replica serves (clause 1)"),
    (("n3", "n1"), R4, {"n3", "n4"}, True, "split 2|2: exactly half, with the roster master n3"),
    (("n3", "n1"), R4, {"n1", "n2"}, False, "split 2|2: exactly half, without the roster master (n1 is only its replica)"),
    (("n1", "n2"), R4, {"n3", "n4"}, False, "split 2|2: exactly half, no roster replica at all"),
    (("n1", "n2"), R5, {"n1"}, False, "a lone node with one roster replica of two"),
    (("n1", "n2"), R5, set(R5), True, "the whole roster"),
    (("n1", "n4"), R4, {"n3", "n4", "n9"}, False,
     "n9 is not on the roster: 2 of the 4 roster nodes is exactly half, and the roster master n1 is absent"),
    (("n1", "n4"), R4, {"n1", "n8", "n9"}, False,
     "n8 and n9 are not on the roster: 1 of 4 roster nodes is neither a majority nor half"),
    (("n2",), R4, {"n2"}, True, "replication factor 1: the only roster replica is here"),
    (("n2",), R4, {"n1", "n3", "n4"}, False, "replication factor 1: a majority, but the only roster replica is away"),
    (("n1", "n2", "n3"), R5, {"n1", "n2"}, False, "replication factor 3: a minority with two of three roster replicas"),
    ((), (), {"n1"}, False, "no roster, no roster replicas: nothing is available"),
]


def check_5_1_named_cases(learner: ModuleType) -> None:
    """is_available answers fifteen named cases: splits 3|2 and 2|2, all replicas in a minority, the roster master present or absent, nodes off the roster."""
    for replicas, roster, members, expected, why in CASES:
        _expect(learner, replicas, roster, members, expected, why)


def check_5_1_random_cases(learner: ModuleType) -> None:
    """is_available agrees with minikv's rule on 400 seeded random rosters, replicas and sub-clusters."""
    rng = random.Random(RANDOM_SEED)
    for _ in range(RANDOM_CASES):
        replicas, roster, members = _random_case(rng)
        _expect(learner, replicas, roster, members, reference(replicas, roster, members),
                f"what minikv's rule answers (random case, seed {RANDOM_SEED})")


def check_5_1_never_both_sides(learner: ModuleType) -> None:
    """For every two-way split of rosters of 2 to 6 nodes and every pair of roster replicas, at most one side may serve."""
    for size in range(2, 7):
        roster = tuple(f"n{i}" for i in range(1, size + 1))
        for replicas in itertools.permutations(roster, 2):
            for mask in range(2 ** size):
                left = {n for i, n in enumerate(roster) if mask >> i & 1}
                right = set(roster) - left
                if call(learner.is_available, replicas, roster, left) and \
                        call(learner.is_available, replicas, roster, right):
                    raise CheckFailed(f"roster {roster}, roster replicas {replicas}: both sides of the split "
                                      f"{sorted(left)} | {sorted(right)} may serve the partition; "
                                      "after the heal one side's acknowledged writes would be lost")


def check_5_1_drives_a_split_cluster(learner: ModuleType) -> None:
    """Plugged into SimCluster(4, mode="sc") split 2|2, your rule decides what each side serves: the counts match the rule and no partition is served twice."""
    _expect(learner, ("n3", "n1"), R4, {"n3", "n4"}, True, "a stub fails here, not deep inside a node")
    sim = minikv.SimCluster(4, seed=SPLIT_SEED, mode="sc", plugins={"is_available": learner.is_available})
    try:
        sim.partition(*SPLIT)
        sim.run_for(SETTLE)
        served = [served_pids(sim, side[0]) for side in SPLIT]
        errors = [str(e) for e in sim.events() if "dropped" in e.text or "error" in e.text][:3]
    finally:
        sim.close()
    expected = expected_pids(R4, SPLIT)
    setup = (f"SimCluster(nodes=4, seed={SPLIT_SEED}, mode='sc', plugins={{'is_available': yours}}); "
             f"partition({SPLIT[0]}, {SPLIT[1]}); run_for({SETTLE})")
    if errors:  # the rule raised inside a node: that node never applied the new view
        setup += "\nYour function raised inside the nodes, which then kept serving their old view:\n  " + \
            "\n  ".join(errors)
    both = served[0] & served[1]
    if errors or both:
        raise CheckFailed(f"{setup}\n{len(both)} partitions are served on both sides"
                          + (f", e.g. partition {min(both)}" if both else ""))
    if [len(s) for s in served] != [len(s) for s in expected]:
        raise CheckFailed(f"{setup}\nside {SPLIT[0]} serves {len(served[0])} partitions and side {SPLIT[1]} "
                          f"{len(served[1])}; the rule says {len(expected[0])} and {len(expected[1])}")


# ---- helpers (the notebook uses served_pids and expected_pids too) -------------------------------

def served_pids(sim: minikv.SimCluster, node_id: str) -> set[int]:
    """The partitions `node_id`'s side serves: those with a working master in its view."""
    table = sim.node(node_id).partitions.parts["test"]
    return {pid for pid in range(N_PARTITIONS) if table[pid].working_master}


def expected_pids(roster: tuple[str, ...], sides: tuple[list[str], ...], rf: int = 2) -> list[set[int]]:
    """What minikv's rule lets each side serve, computed from the roster's succession rows."""
    rows = partition_rows(succession_list(roster))
    return [{pid for pid in range(N_PARTITIONS) if reference(rows[pid][:rf], roster, set(side))} for side in sides]


def _expect(learner: ModuleType, replicas: tuple, roster: tuple, members: set, expected: bool, why: str) -> None:
    got = call(learner.is_available, replicas, roster, set(members))
    if got is None or bool(got) != expected:
        raise CheckFailed(f"is_available(roster_replicas={replicas}, roster={roster}, members={sorted(members)})\n"
                          f"  expected {expected}\n  got      {got!r}\n  why: {why}")


def _random_case(rng: random.Random) -> tuple[tuple[str, ...], tuple[str, ...], set[str]]:
    """A roster of 1-7 nodes out of n1..n9, 1-3 roster replicas, and a sub-cluster that may
    include nodes off the roster."""
    nodes = [f"n{i}" for i in range(1, 10)]
    roster = tuple(sorted(rng.sample(nodes, rng.randint(1, 7)), key=lambda n: int(n[1:])))
    replicas = tuple(rng.sample(roster, min(rng.randint(1, 3), len(roster))))
    members = {n for n in nodes if rng.random() < (0.5 if n in roster else 0.2)}
    return replicas, roster, members


EXERCISE = Exercise(id="ex5", title="The SC availability rule", module="ex5_availability",
                    checks=[check_5_1_named_cases, check_5_1_random_cases, check_5_1_never_both_sides,
                            check_5_1_drives_a_split_cluster])
