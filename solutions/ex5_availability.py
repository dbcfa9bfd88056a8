"""Exercise 5: the strong-consistency availability rule (notebook 05_consistency_ap_vs_sc).

In SC mode a network split must never let two sides serve the same partition: if both sides
took writes, one side's acknowledged writes would be thrown away when they meet again (that is
exactly what AP mode does). So every node, in every view, asks of each of the 4096 partitions:
"may the sub-cluster I am in serve this one?" The answer depends only on the **roster** (the
nodes expected to hold the namespace), the partition's **roster replicas** (the first RF nodes of
its succession row computed as if the cluster were exactly the roster; the first of them is the
**roster master**) and the **members** of this sub-cluster. You write that question's answer.

minikv's own rule is `is_available` in minikv/core/consistency.py; the grader compares yours with
it on cases, then plugs yours into a SimCluster and splits it. Try it before you read that file.

`is_available` is a hook: plug it into a cluster and your function decides every partition:

    sim = minikv.SimCluster(nodes=4, seed=7, mode="sc", plugins={"is_available": is_available})

Check your work with `minikv.grading.check("ex5")`, or `python -m minikv.grade ex5`.
"""

from __future__ import annotations


def is_available(roster_replicas: tuple[str, ...], roster: tuple[str, ...], members: set[str]) -> bool:
    """May the sub-cluster `members` serve a partition whose roster replicas are `roster_replicas`?

    Aerospike's rule has three clauses. The partition is available if any of them holds:

    1. every roster replica is in `members` (Aerospike's documentation as we recall it; Jepsen's
       TLA+ sketch of the rule leaves this clause out, so minikv flags it as unconfirmed);
    2. a **strict majority** of the roster is in `members`, and at least one roster replica;
    3. **exactly half** of the roster is in `members`, and the roster master
       (`roster_replicas[0]`) is one of them.

    Count only roster nodes: a member that is not on the roster (a node just added, say) holds
    nothing and must not tip a majority. No roster replicas at all (an empty roster) means
    nothing is available.

    Examples, with the roster ("n1", "n2", "n3", "n4", "n5") and roster replicas ("n1", "n4"):

        members {"n1", "n2", "n3"}  -> True    3 of 5 is a strict majority, and n1 is here
        members {"n2", "n3", "n5"}  -> False   a majority, but neither roster replica
        members {"n4", "n5"}        -> False   2 of 5, and only one of the two roster replicas

    and with the roster ("n1", "n2", "n3", "n4"), roster replicas ("n3", "n1"):

        members {"n3", "n4"}        -> True    exactly half, with the roster master n3
        members {"n1", "n2"}        -> False   exactly half, without it (n1 is only a replica)
    """
    if not roster_replicas:
        return False
    present = sum(1 for node in roster if node in members)  # roster nodes only
    if all(node in members for node in roster_replicas):  # clause 1
        return True
    if 2 * present > len(roster) and any(node in members for node in roster_replicas):  # clause 2
        return True
    return 2 * present == len(roster) and roster_replicas[0] in members  # clause 3
