"""Exercise 3: replace-if-better, the rule that picks which copy of a record survives (notebook 03).

Two copies of one record meet when a migration brings a node a record it already holds, and when
a master resolves duplicates before a write (after a split brain heals, say). The receiver keeps
one whole copy and throws the other away: Aerospike calls this *replace-if-better*, and the
namespace's `conflict-resolution-policy` says what "better" means. A record here is a
`minikv.core.records.Record` with, among other fields, `gen` (its generation: how many times it
was written, 16 bits, wrapping from 65535 to 1) and `lut` (its last-update time, in seconds).

- Part 3.1, `incoming_wins` under the policy "generation" (Aerospike's default in AP mode).
- Part 3.2, `gen_newer`, then `incoming_wins` under the policy "last-update-time".

`incoming_wins` is a hook: plug it into a cluster and your function decides every merge:

    sim = minikv.SimCluster(nodes=3, seed=8, plugins={"incoming_wins": incoming_wins})

Check your work with `minikv.grading.check("ex3")`, or `python -m minikv.grade ex3`.
"""

from __future__ import annotations

from minikv.core.records import Record

GENERATION = "generation"
LAST_UPDATE_TIME = "last-update-time"


def incoming_wins(local: Record | None, incoming: Record, policy: str) -> bool:
    """Should the `incoming` copy replace the `local` one? Return True to take it.

    - No local copy (`local` is None): the incoming copy always wins.
    - Policy "generation" (part 3.1): the higher `gen` wins, compared as plain numbers, so the
      copy with more writes behind it wins even if it is older. Equal generations: the later
      `lut` wins.
    - Policy "last-update-time" (part 3.2): the later `lut` wins, however many writes either
      copy has. Equal `lut`s: the newer generation by `gen_newer`, which knows about the wrap.
    - A full tie (same generation, same lut) keeps the local copy: return False. Taking the
      incoming one would change nothing but cost a write.

    Examples, with Record(gen, void_time, lut, bins):

        incoming_wins(None, Record(1, 0, 5.0, {}), "generation")                    -> True
        incoming_wins(Record(2, 0, 9.0, {}), Record(3, 0, 1.0, {}), "generation")   -> True   (3 > 2)
        incoming_wins(Record(2, 0, 9.0, {}), Record(3, 0, 1.0, {}), "last-update-time") -> False (1.0 < 9.0)
        incoming_wins(Record(4, 0, 1.0, {}), Record(4, 0, 1.0, {}), "generation")   -> False  (a full tie)
    """
    if local is None:
        return True
    if policy == LAST_UPDATE_TIME:
        if incoming.lut != local.lut:
            return incoming.lut > local.lut
        return gen_newer(incoming.gen, local.gen)
    if incoming.gen != local.gen:
        return incoming.gen > local.gen
    return incoming.lut > local.lut


def gen_newer(a: int, b: int) -> bool:
    """Is generation `a` newer than generation `b`, allowing for the 16-bit wrap? (Part 3.2)

    Generations count writes modulo 65536 and skip 0, so after 65535 comes 1: 1 may be newer
    than 65535. Aerospike decides by the distance from `b` forward to `a`, modulo 65536: `a` is
    newer when that distance is not 0 and less than half the circle, 32768 (0x8000).

        gen_newer(5, 3)      -> True    two writes ahead
        gen_newer(3, 5)      -> False
        gen_newer(7, 7)      -> False   the same generation is not newer
        gen_newer(1, 65535)  -> True    (1 - 65535) % 65536 = 2: one wrap ahead
        gen_newer(65535, 1)  -> False   (65535 - 1) % 65536 = 65534: behind
    """
    return a != b and (a - b) % 0x10000 < 0x8000
