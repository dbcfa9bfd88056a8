"""Exercise 4: plan the migrations for a view change (notebook 04_failover_and_migrations).

When a node dies, joins or comes back, the cluster forms a new view, and every member plans each
of the 4096 partitions again. Nobody sends the plan around: every member computes it from the
same inputs (the new members and what each of them holds) and gets the same answer. Here you write
that plan for one partition.

minikv's own planner is `plan_partition` in minikv/core/balance.py; the grader compares your
answers with it. It works on richer inputs (cluster keys, copies still filling); this exercise
keeps what tells the story. Try it before you read that file.

Check your work with `minikv.grading.check("ex4")` in the notebook, or from a terminal with
`python -m minikv.grade ex4`.
"""

from __future__ import annotations

Plan = dict[str, tuple[str, ...] | str]  # {"replicas": (...), "working_master": "n1", "leads": (...), ...}


def plan_migrations(row: tuple[str, ...], rf: int, versions: dict[str, str]) -> Plan:
    """The plan for one partition in a new view: who will hold it, who serves it meanwhile, and
    which copies move where.

    Inputs:

    - `row`: the partition's succession row in the new view: every member, in this partition's
      order (notebook 01). The first `rf` nodes will hold the partition.
    - `rf`: the replication factor (1 <= rf <= len(row)).
    - `versions`: `{node_id: version}` for the members that hold data of this partition; a member
      missing from the dict holds nothing. A version is a label such as "A" that names a history
      of the partition: copies with the same version hold the same records; copies with different
      versions were written apart (say, on the two sides of a network split) and must be merged.

    Return a dict with five entries:

    - "replicas": the first `rf` nodes of `row`. replicas[0] is the *final master*; the others
      are its replicas (Aerospike calls them proles).
    - "working_master": the node that serves the partition until the final master has all the
      data: the final master itself if it holds a copy; otherwise the first node in `row` that
      holds one; and if nobody holds a copy, the final master.
    - "leads": the nodes that send their copy to the final master first ("lead" migrations): for
      each version the final master does not hold already, the first node in `row` that holds it.
      In `row` order.
    - "fills": the replicas (not the final master) that the final master sends the partition to
      once every lead has arrived. With a single version: the replicas that hold nothing. With two
      or more versions: every replica, because the merged copy is new to all of them. In `row` order.
    - "drops": the nodes outside "replicas" that hold a copy: they drop it once the migrations
      are done. In `row` order.

    If nobody holds a copy, nothing moves: "leads", "fills" and "drops" are empty and the replicas
    start empty. Tuples or lists are both fine for the sequences.

    A worked example. Four nodes, rf 2; n4 has just joined and this partition's row is
    ("n4", "n2", "n1", "n3"). n2 (the old master) and n1 (the old replica) hold version "A":

    >>> plan = plan_migrations(("n4", "n2", "n1", "n3"), 2, {"n2": "A", "n1": "A"})
    >>> plan["replicas"], plan["working_master"], plan["leads"], plan["fills"], plan["drops"]
    (('n4', 'n2'), 'n2', ('n2',), (), ('n1',))

    n4 is the final master but holds nothing, so n2 keeps serving (working master) while it sends
    its copy to n4 (a lead). n2 is a replica already holding the only version: no fill. n1 is no
    longer a replica: it drops its copy at the end.
    """
    # Your code here (4.1). One way in: replicas and the final master first; then the holders in
    # row order; then the working master; then leads, fills and drops, one rule each.
    raise NotImplementedError("Exercise 4.1: write plan_migrations (replicas, working master, leads, fills, drops)")
