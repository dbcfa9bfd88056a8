"""Exercise 6: a read-modify-write loop that survives races and in-doubt writes (notebook 06).

Adding to a counter bin looks like one line, `client.increment(key, bin, delta)`. But when that
write times out you cannot tell whether it happened, and a blind retry may count it twice. Here
you write an increment that is applied **exactly once**, whatever the other clients and the
network do, using only the client API (so it would run on real Aerospike too):

- Part 6.1, `increment_field(client, key, bin_name, delta, request_id, attempts)`.

Two tools make it exact:

1. **Check-and-set.** Read the record and its generation g; write the new value with
   `meta={"gen": g}` and `policy={"gen": minikv.POLICY_GEN_EQ}`. If anyone wrote in between, the
   node refuses with `exception.RecordGenerationError` and nothing changed: read again, try again.
   A record that does not exist yet has no generation: create it with
   `policy={"exists": minikv.POLICY_EXISTS_CREATE}` (`exception.RecordExistsError` if someone
   created it first: read again, try again).
2. **An idempotency marker.** The record keeps, in the list bin `APPLIED_BIN`, the request id of
   every increment applied to it. Your write adds `request_id` to that list *in the same write*
   as the new value, and keeps every id already there. So the list says exactly which increments
   are in the value.

In-doubt errors (any `exception.AerospikeError` whose `in_doubt` is True, such as a
`TimeoutError` after the write was sent): do not guess, read again. If `request_id` is in the
list, your write landed: you are done. If it is not, your write has not landed, and it never
will once the generation has moved on (it was checked against the old one); if the generation is
still g, a new attempt at g is also safe: both are checked against g, so at most one can land.
Either way, just go round the loop again. Any other error (in_doubt False, not one of the two
above) is definite and not yours to hide: let it propagate.

Worked example, one client, `counter` at 5 with `applied == ["r1"]` at generation 3:

    increment_field(client, key, "count", 2, "r2")
      get      -> gen 3, bins {"count": 5, "applied": ["r1"]}
      put      {"count": 7, "applied": ["r1", "r2"]} with gen 3, POLICY_GEN_EQ -> TimeoutError, in doubt
      get      -> gen 4, bins {"count": 7, "applied": ["r1", "r2"]}: "r2" is there, it landed
      return True
    increment_field(client, key, "count", 2, "r2")   # the same request again: already applied
      get      -> "r2" is in the list
      return False

Check your work with `minikv.grading.check("ex6")` in the notebook, or `python -m minikv.grade
ex6` in a terminal. The checks run several clients interleaved on a simulated cluster and inject
in-doubt failures, with fixed seeds.
"""

from __future__ import annotations

from typing import Any

import minikv  # noqa: F401 - the policy constants, for your code
from minikv import exception

APPLIED_BIN = "applied"  # list of the request ids whose increments are in the record


def increment_field(client: Any, key: tuple, bin_name: str, delta: int, request_id: str,
                    attempts: int = 20) -> bool:
    """Add `delta` to the integer bin `bin_name` of `key` exactly once per `request_id`.

    Returns True if this call applied the increment, False if it found `request_id` already in
    the record's `APPLIED_BIN` list (an earlier call applied it). A missing record or bin counts
    as 0. Raises `exception.RecordGenerationError` if all `attempts` writes lost a race.

    Each attempt: read the record with `read_record(client, key)` below (generation 0 and no
    bins for a record that does not exist). If `request_id` is in the list, return (True if this call sent a write, since one of
    its writes landed; otherwise False). Else write `{bin_name: value + delta, APPLIED_BIN: list +
    [request_id]}` with a generation check (or a create-only policy for a new record). On
    RecordGenerationError or RecordExistsError, or on an in-doubt error, go round again.
    """
    raise NotImplementedError("Exercise 6.1: write increment_field: read, check-and-set, and on an "
                              "in-doubt error read again to decide")


def read_record(client: Any, key: tuple) -> tuple[int, dict]:
    """(generation, bins) of `key`; (0, {}) for a record that does not exist. Given: use it."""
    try:
        _, meta, bins = client.get(key)
    except exception.RecordNotFound:
        return 0, {}
    return meta["gen"], bins
