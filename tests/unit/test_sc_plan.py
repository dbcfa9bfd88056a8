"""SC planning agrees with the general balance whenever every copy kept is of one regime."""

import random
from dataclasses import replace

from minikv.core.balance import Copy, plan_partition
from minikv.core.consistency import _plan
from minikv.core.partitions import succession_list, succession_row


def test_sc_plan_matches_plan_partition_for_single_regime_copies():
    """Over seeded random rows and holder sets, _plan equals plan_partition with the version set."""
    rng = random.Random(4)
    for _ in range(500):
        members = succession_list(rng.sample([f"n{i}" for i in range(1, 8)], rng.randint(1, 6)))
        pid, rf = rng.randrange(4096), rng.randint(1, 3)
        row = tuple(succession_row(pid, members))
        holders = {n: Copy(5, True, row[:rf]) for n in rng.sample(members, rng.randint(0, len(members)))}
        expected = replace(plan_partition(pid, row, min(rf, len(row)), holders, 0), version=6)
        assert _plan(pid, row, min(rf, len(row)), holders, 6) == expected


def test_a_holder_off_the_roster_can_still_lead():
    """A node removed from the roster that alone holds the data sends it to the new master."""
    plan = _plan(7, ("n1", "n2"), 2, {"n9": Copy(3, True, ("n9",))}, 4)
    assert plan.working_master == "n9" and plan.sources == ("n9",) and plan.witnesses == ("n9",)
    assert plan.fills == ("n2",)
