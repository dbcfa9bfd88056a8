"""Exercise 8: design a nemesis that breaks AP mode and not SC mode (notebook 08_chaos_lab).

Jepsen's nemesis is the process that breaks the cluster while the clients work. Here you are the
nemesis: you write the schedule of faults. The grader runs it against three simulated nodes
while three clients add unique elements to a grow-only set (Jepsen's "set" workload), then reads
the set once everything is repaired and counts the acknowledged adds that are missing.

Your schedule must, within a budget,

- make **AP mode lose acknowledged writes** on seeds 1 and 2, and
- leave **SC mode clean** on seed 1: nothing lost, linearizable, and the final read succeeds.

The budget: one or two faults, one at a time (a fault starts once the previous one has ended),
all inside the 6-second run. A fault is a `minikv.jepsen.nemesis.Fault(start, end, kind, nodes)`,
with times in seconds from the start of the run. The kinds are the ones `Nemesis` knows:

    Fault(1.0, 2.0, "halves", (("n1",), ("n2", "n3")))   split the network into these two groups
    Fault(1.0, 2.0, "isolate-master", ())                 cut off whoever masters the hot key
    Fault(1.0, 2.0, "kill", (("n2",),))                   kill -9 n2 at 1.0, restart it at 2.0
    Fault(1.0, 2.0, "pause", (("n2",),))                  SIGSTOP n2 at 1.0, SIGCONT at 2.0

Every fault is repaired at its end (heal, restart or resume), so the cluster is whole for the
final read. Replay any run with `minikv.grading.ex8.run_schedule(faults, mode, seed)`.

Check your work with `minikv.grading.check("ex8")`, or `python -m minikv.grade ex8`.
"""

from __future__ import annotations

from minikv.jepsen.nemesis import Fault


def chaos_schedule(node_ids: list[str]) -> list[Fault]:
    """Your nemesis: the faults to inject into a cluster of `node_ids` (["n1", "n2", "n3"]).

    A worked example that does **not** pass: kill one node, then another.

        [Fault(1.0, 2.0, "kill", (("n1",),)), Fault(3.5, 4.5, "kill", (("n2",),))]

    AP mode loses nothing here. Every write is acknowledged only once both copies have it (commit
    level ALL), so when one node dies the other copy still holds every acknowledged write; the
    restarted node gets its partitions back by migration. A crash costs availability for a
    moment, not data. Something else must let **both** copies of a record take writes that the
    other never sees. Think about what the clients on each side of your fault can do, and for how
    long the fault must last before the cluster notices it (notebook 02: 0.5 s of silence).
    """
    raise NotImplementedError("Exercise 8.1: return a list of at most two Faults that make AP mode lose "
                              "acknowledged writes while SC mode stays clean")
