"""Checks for exercise 4: plan the migrations for a view change (notebook 04).

The learner's `plan_migrations(row, rf, versions)` takes plain values (node ids, a replication
factor, `{node_id: version label}`) and returns a plain dict. The expected answer always comes
from minikv's own planner, `minikv.core.balance.plan_partition`, so the exercise cannot drift from
the cluster it describes: `_expected` turns the learner's inputs into the planner's (a version
label becomes a cluster key, every copy is full) and the planner's PartitionPlan back into the
learner's dict. Hand-written cases tell the stories of notebook 04 (a node dies, a node joins or
comes back, a split heals); seeded random views then cover the corners.
"""

from __future__ import annotations

import random
from types import ModuleType
from typing import Any

from minikv.core.balance import Copy, plan_partition
from minikv.core.partitions import succession_list, succession_row
from minikv.grading.registry import CheckFailed, Exercise

KEYS = ("replicas", "working_master", "leads", "fills", "drops")
NEW_CKEY = 1000  # the new view's cluster key: above every version's, as a fresh key would be
RANDOM_SEED = 4
RANDOM_CASES = 400
NODES = tuple(f"n{i}" for i in range(1, 7))

# (story, row, rf, versions): the row is the partition's succession row in the new view
NODE_DEATH = [
    ("n2, the master, died; n3 held the replica", ("n3", "n1"), 2, {"n3": "A"}),
    ("n1, the replica, died; n2 is still the master", ("n2", "n3"), 2, {"n2": "A"}),
    ("rf 3 on four nodes: n4, the master, died", ("n1", "n3", "n2"), 3, {"n1": "A", "n3": "A"}),
    ("n2 died, but it held nothing of this partition", ("n3", "n1"), 2, {"n3": "A", "n1": "A"}),
    ("rf 1: the only copy died with n2", ("n1", "n3"), 1, {}),
]
NODE_JOIN = [
    ("n4 joined and is this partition's new master", ("n4", "n2", "n1", "n3"), 2, {"n2": "A", "n1": "A"}),
    ("n4 joined as this partition's replica", ("n2", "n4", "n1", "n3"), 2, {"n2": "A", "n1": "A"}),
    ("n4 joined outside this partition's replicas", ("n2", "n1", "n4", "n3"), 2, {"n2": "A", "n1": "A"}),
    ("n1 restarted empty and is the master again", ("n1", "n3", "n2"), 2, {"n3": "A"}),
    ("rf 3: n4 joined as master, the old master is now the last replica",
     ("n4", "n1", "n2", "n3"), 3, {"n2": "A", "n1": "A", "n3": "A"}),
]
SPLIT_AND_HEAL = [
    ("healed: the final master holds A, the other side wrote B", ("n3", "n2", "n1"), 2,
     {"n3": "A", "n2": "A", "n1": "B"}),
    ("healed: the final master holds nothing; n2 holds A, n3 holds B", ("n1", "n2", "n3"), 2,
     {"n2": "A", "n3": "B"}),
    ("healed: the final master holds B, both others hold A", ("n1", "n2", "n3"), 2,
     {"n1": "B", "n2": "A", "n3": "A"}),
    ("healed three ways: A, B and C meet, rf 3", ("n4", "n3", "n2", "n1"), 3,
     {"n4": "A", "n3": "A", "n2": "B", "n1": "C"}),
]


# ---- the reference: minikv's planner, on the learner's inputs ---------------------------------

def _expected(row: tuple[str, ...], rf: int, versions: dict[str, str]) -> dict[str, Any]:
    """plan_partition's answer, in the exercise's shape."""
    ckeys = {label: i + 1 for i, label in enumerate(sorted(set(versions.values())))}
    copies = {node: Copy(ckeys[label], True, tuple(n for n in row if versions.get(n) == label))
              for node, label in versions.items()}
    plan = plan_partition(0, row, rf, copies, NEW_CKEY)
    return {"replicas": plan.replicas, "working_master": plan.working_master,
            "leads": tuple(sorted(plan.sources, key=row.index)),  # the planner orders them by version
            "fills": plan.fills, "drops": plan.witnesses}


def _normalised(got: Any) -> dict[str, Any]:
    """The learner's answer with lists made tuples; a wrong shape fails with a clear message."""
    if not isinstance(got, dict):
        raise CheckFailed(f"plan_migrations must return a dict with the keys {list(KEYS)}, "
                          f"not a {type(got).__name__}: {got!r}")
    missing = [key for key in KEYS if key not in got]
    if missing:
        raise CheckFailed(f"the plan has no {', '.join(repr(k) for k in missing)}; it must have {list(KEYS)}.\n"
                          f"got: {got!r}")
    return {key: tuple(got[key]) if isinstance(got[key], list | tuple) else got[key] for key in KEYS}


def _check_case(learner: ModuleType, story: str, row: tuple[str, ...], rf: int, versions: dict[str, str],
                where: str = "") -> None:
    """Run one case; on a wrong answer raise CheckFailed showing inputs, expected, got."""
    expected = _expected(row, rf, versions)
    got = _normalised(learner.plan_migrations(row, rf, dict(versions)))  # a copy: it may be changed
    wrong = [key for key in KEYS if got[key] != expected[key]]
    if wrong:
        lines = [f"{story}{where}", f"  plan_migrations(row={row!r}, rf={rf}, versions={versions!r})"]
        lines += [f"  {key!r}: expected {expected[key]!r}, got {got[key]!r}" for key in wrong]
        lines.append(f"  expected plan: {expected!r}")
        raise CheckFailed("\n".join(lines))


def _check_all(learner: ModuleType, cases: list[tuple]) -> None:
    for story, row, rf, versions in cases:
        _check_case(learner, story, row, rf, versions)


# ---- the checks --------------------------------------------------------------------------------

def check_node_death(learner: ModuleType) -> None:
    """A node dies: its replicas take over and the missing copies are filled again."""
    _check_all(learner, NODE_DEATH)


def check_node_join(learner: ModuleType) -> None:
    """A node joins or restarts empty: the old holder keeps serving while it leads the data in."""
    _check_all(learner, NODE_JOIN)


def check_split_and_heal(learner: ModuleType) -> None:
    """Two versions meet after a split heals: one lead per version, then every replica is filled."""
    _check_all(learner, SPLIT_AND_HEAL)


def check_random_views(learner: ModuleType) -> None:
    """Random views (1-6 members, rf 1-3, up to three versions) agree with minikv's planner."""
    rng = random.Random(RANDOM_SEED)
    for index in range(RANDOM_CASES):
        story, row, rf, versions = _random_case(rng)
        _check_case(learner, story, row, rf, versions,
                    f" (random case {index} of seed {RANDOM_SEED}, minikv/grading/ex4.py)")


def _random_case(rng: random.Random) -> tuple[str, tuple[str, ...], int, dict[str, str]]:
    """A view of 1-6 nodes, a real succession row of a random partition, and random copies."""
    members = succession_list(rng.sample(NODES, rng.randint(1, len(NODES))))
    pid = rng.randrange(4096)
    row = tuple(succession_row(pid, members))
    rf = rng.randint(1, min(3, len(row)))
    labels = "ABC"[:rng.randint(1, 3)]
    versions = {node: rng.choice(labels) for node in row if rng.random() < 0.6}
    return f"partition {pid} in a view of {len(row)} nodes", row, rf, versions


EXERCISE = Exercise(
    id="ex4",
    title="Plan the migrations for a view change",
    module="ex4_migrations",
    checks=[check_node_death, check_node_join, check_split_and_heal, check_random_views],
)
