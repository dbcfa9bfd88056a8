"""Checks for exercise 1 (notebook 01): partition id, node score, succession row.

Every answer is compared with minikv's own functions (`minikv.keys.partition_id`,
`minikv.core.partitions.succession_row`), which reproduce Aerospike's bit for bit, on cases drawn
from a fixed seed: the same code always gets the same verdict. The last check runs a simulated
cluster on the learner's `succession_row` and compares its partition table with Aerospike's.
"""

from __future__ import annotations

import random
import struct
from types import ModuleType

from minikv.core.partitions import MASK64, fnv1a_64, jenkins_64, node_number, succession_list, succession_row
from minikv.grading.registry import CheckFailed, Exercise, call
from minikv.keys import N_PARTITIONS, partition_id
from minikv.runtime.sim import SimCluster

SEED = 1  # the cases of every check come from random.Random(SEED)
CASES = 300  # random cases per check (all three together take well under a second)
CLUSTER_NODES = 4
REPLICATION_FACTOR = 2  # NamespaceConfig's default: a row's master and one replica are placed
# digests whose partitions Aerospike's own client tests pin, plus the two extremes
KNOWN_DIGESTS = [bytes.fromhex("607cddba7cd111745ef0a3d783d57f0e83c8f311"),  # ("set", "s") -> 3168
                 bytes.fromhex("93191e549f8f3548d7e2cfc958ddc8c65bcbe4c6"),  # ("set", -128) -> 2451
                 bytes(20), bytes([0xFF] * 20)]


def check_partition_id(learner: ModuleType) -> None:
    """partition_id gives Aerospike's partition for its test digests and 300 random ones."""
    rng = random.Random(SEED)
    for digest in KNOWN_DIGESTS + [rng.randbytes(20) for _ in range(CASES)]:
        expected, got = partition_id(digest), call(learner.partition_id, digest)
        if got != expected:
            raise CheckFailed(f"partition_id(bytes.fromhex({digest.hex()!r}))\n"
                              f"  expected {expected}\n  got      {got!r}{_pid_hint(digest, got)}")


def _pid_hint(digest: bytes, got: object) -> str:
    if got == int.from_bytes(digest[:2], "big") & 0xFFF:
        return "\n  hint: that is the first two bytes read big-endian; Aerospike reads little-endian"
    if isinstance(got, int) and not 0 <= got < N_PARTITIONS:
        return f"\n  hint: a partition id is 0..{N_PARTITIONS - 1}: keep only 12 bits"
    return ""


def aerospike_score(pid: int, node_id: str, index: int) -> int:
    """The score minikv's succession_row sorts by (core/partitions.py), spelled out."""
    hashed_node = fnv1a_64(struct.pack("<Q", node_number(node_id)))
    raw = jenkins_64(struct.pack("<QQ", hashed_node, fnv1a_64(struct.pack("<I", pid))))
    return (raw & ~0b111 & MASK64) | index


def check_node_score(learner: ModuleType) -> None:
    """node_score equals Aerospike's score for 300 random (partition, node, index) triples."""
    rng = random.Random(SEED)
    for _ in range(CASES):
        pid, node_id, index = rng.randrange(N_PARTITIONS), f"n{rng.randint(1, 20)}", rng.randrange(8)
        expected, got = aerospike_score(pid, node_id, index), call(learner.node_score, pid, node_id, index)
        if got != expected:
            raise CheckFailed(f"node_score({pid}, {node_id!r}, {index})\n"
                              f"  expected {expected}\n  got      {got!r}{_score_hint(pid, node_id, index, got)}")


def _score_hint(pid: int, node_id: str, index: int, got: object) -> str:
    if not isinstance(got, int):
        return "\n  hint: a score is an int"
    if got >> 3 == aerospike_score(pid, node_id, index) >> 3:
        return "\n  hint: the hash is right; the low 3 bits must be cleared and then hold `index`"
    swapped = jenkins_64(struct.pack("<QQ", fnv1a_64(struct.pack("<I", pid)),
                                     fnv1a_64(struct.pack("<Q", node_number(node_id)))))
    if got >> 3 == swapped >> 3:
        return "\n  hint: pack the node's hash first, then the partition's"
    return ""


def random_members(rng: random.Random) -> tuple[str, ...]:
    """A succession list of 1..8 distinct nodes among n1..n20, by descending node id."""
    return succession_list(rng.sample([f"n{k}" for k in range(1, 21)], rng.randint(1, 8)))


def check_succession_row(learner: ModuleType) -> None:
    """succession_row gives Aerospike's row for 300 random partitions and member lists."""
    rng = random.Random(SEED)
    cases = [(0, ("n3", "n2", "n1")), (N_PARTITIONS - 1, ("n8", "n7", "n6", "n5", "n4", "n3", "n2", "n1"))]
    cases += [(rng.randrange(N_PARTITIONS), random_members(rng)) for _ in range(CASES)]
    for pid, members in cases:
        expected, got = succession_row(pid, members), call(learner.succession_row, pid, members)
        if not isinstance(got, (list, tuple)) or list(got) != expected:
            hint = "\n  hint: highest score first (sort in reverse)" if got == expected[::-1] else ""
            raise CheckFailed(f"succession_row({pid}, {members!r})\n"
                              f"  expected {expected}\n  got      {got!r}{hint}")


def check_cluster_runs_on_your_rows(learner: ModuleType) -> None:
    """A SimCluster on your succession_row places every partition as Aerospike does, also after a node dies."""
    members = ("n4", "n3", "n2", "n1")
    expected, got = succession_row(7, members), call(learner.succession_row, 7, members)
    # fail fast, before a cluster is built on a wrong partitioner
    if not isinstance(got, (list, tuple)) or list(got) != expected:
        raise CheckFailed(f"succession_row(7, {members!r})\n  expected {expected}\n  got      {got!r}")
    setup = f"SimCluster({CLUSTER_NODES}, seed={SEED}, plugins={{'succession_row': succession_row}})"
    with SimCluster(CLUSTER_NODES, seed=SEED, plugins={"succession_row": learner.succession_row}) as sim:
        _compare_tables(sim, setup)
        sim.kill("n2")
        sim.wait_stable()
        _compare_tables(sim, setup + "; then sim.kill('n2'); sim.wait_stable()")


def _compare_tables(sim: SimCluster, setup: str) -> None:
    """Every partition's [master, replica] in the cluster equals the first two of Aerospike's row."""
    members = succession_list([n for n, state in sim.node_states().items() if state == "alive"])
    rf = min(REPLICATION_FACTOR, len(members))
    table = sim.partition_table()
    if len(table) != N_PARTITIONS:
        raise CheckFailed(f"{setup}\n  only {len(table)} of {N_PARTITIONS} partitions are placed")
    for pid, placed in sorted(table.items()):
        aerospike = succession_row(pid, members)[:rf]
        if placed != aerospike:
            raise CheckFailed(f"{setup}\n  partition {pid}: the cluster placed it on {placed}, "
                              f"Aerospike on {aerospike} (master first)")


EXERCISE = Exercise(
    id="ex1",
    title="Keys and partitions",
    module="ex1_partitions",
    checks=[check_partition_id, check_node_score, check_succession_row, check_cluster_runs_on_your_rows],
)
