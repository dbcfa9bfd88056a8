"""Exercise 7: a distributed lock with fencing tokens (notebook 07_applications).

A lease lock alone is not safe: a holder that stalls, or whose write sits in the network, can
write after its lease expired and after the next holder wrote (notebook 07 shows it happen).
The cure is a *fencing token*: every acquisition gets a number larger than any before it, and
the protected resource refuses a write whose token is lower than the highest it has seen.
Write the two halves, using only the client API (so your code would run on real Aerospike):

- Part 7.1, `acquire(client, name, owner, lease)`: take the lock and return its token, or None
  if someone holds it.
- Part 7.2, `guarded_write(client, key, value, token)`: write `value` to the resource record
  unless a newer token already wrote there.

The records (use these keys and bin names; the checks read them):

    lock_key(name)   ("test", "locks", name)            the lease: bins "owner" and "token",
                                                          ttl = lease seconds
    fence_key(name)  ("test", "locks", name + ".fence")  the counter: bin "token", the last token
                                                          handed out; it must never expire
    the resource     any key you are given               bins "value" and "token" (the token of
                                                          the write that put the value there)

Useful calls: `client.exists(key)[1]` (None when absent); `client.operate(key, [operations.
increment("token", 1), operations.read("token")], meta={"ttl": minikv.TTL_NEVER_EXPIRE})`
returns `(key, meta, {"token": new value})`; `client.put(key, bins, meta={"ttl": lease},
policy={"exists": minikv.POLICY_EXISTS_CREATE})` raises `exception.RecordExistsError` if the
record exists; `client.put(key, bins, meta={"gen": g}, policy={"gen": minikv.POLICY_GEN_EQ})`
raises `exception.RecordGenerationError` unless the record is still at generation g.

Check your work with `minikv.grading.check("ex7")` in the notebook, or
`python -m minikv.grade ex7` in a terminal. The checks run your functions in the stories of
notebook 07 (a paused holder, a partitioned one) on a simulated cluster, with fixed seeds.
"""

from __future__ import annotations

from typing import Any

import minikv
from minikv import exception, operations

MAX_TRIES = 10  # generation conflicts guarded_write retries before it gives up


def lock_key(name: str) -> tuple:
    """The lease record of lock `name`."""
    return ("test", "locks", name)


def fence_key(name: str) -> tuple:
    """The fencing counter of lock `name`: it outlives every lease, so tokens never go back."""
    return ("test", "locks", f"{name}.fence")


def acquire(client: Any, name: str, owner: str, lease: int) -> int | None:
    """Take lock `name` for `lease` seconds on behalf of `owner`: the fencing token, or None.

    1. Take a token: increment the counter at fence_key(name) and read it back, in one operate,
       with meta {"ttl": minikv.TTL_NEVER_EXPIRE} so the counter never expires.
    2. Create the lease record lock_key(name) with bins {"owner": owner, "token": token},
       meta {"ttl": lease} and policy {"exists": minikv.POLICY_EXISTS_CREATE}. If it already
       exists (RecordExistsError), someone holds the lock: return None.
    3. Return the token.

    Take the token *before* creating the lease: then a lease record never exists without its
    token, and a token that went unused (the create failed) is simply skipped. Optionally, look
    first with client.exists(lock_key(name)) and return None at once if the lock is held, so
    that waiting clients do not burn tokens.

    Example: on a fresh cluster, acquire(c, "report", "A", 2) -> 1; at once
    acquire(c, "report", "B", 2) -> None; three seconds later acquire(c, "report", "B", 2) -> 2
    (or more, never less).
    """
    if client.exists(lock_key(name))[1] is not None:
        return None  # held: do not burn a token
    ops = [operations.increment("token", 1), operations.read("token")]
    _, _, bins = client.operate(fence_key(name), ops, meta={"ttl": minikv.TTL_NEVER_EXPIRE})
    token = bins["token"]
    try:
        client.put(lock_key(name), {"owner": owner, "token": token}, meta={"ttl": lease},
                   policy={"exists": minikv.POLICY_EXISTS_CREATE})
    except exception.RecordExistsError:
        return None  # someone created it between our exists() and our put()
    return token


def guarded_write(client: Any, key: tuple, value: Any, token: int) -> bool:
    """Write {"value": value, "token": token} to the resource record `key`, unless it holds a
    higher token. True if written, False if refused.

    1. Read the record (RecordNotFound: it does not exist yet; its token counts as 0).
    2. If `token` is lower than the record's "token" bin, return False: a newer holder wrote.
       An equal token is the same holder writing again: allowed.
    3. Write, but only if nobody wrote since step 1: with policy {"gen": minikv.POLICY_GEN_EQ}
       and meta {"gen": the generation you read}, or, if the record did not exist, with
       {"exists": minikv.POLICY_EXISTS_CREATE}. On RecordGenerationError (or RecordExistsError)
       someone got in between: go back to step 1 (a few tries are plenty).

    Step 3 makes the check and the write one atomic step. Without it, a put sent after a good
    check can still land after another holder's write (one of the checks makes that happen).

    Example, on a fresh resource: guarded_write(c, k, "v5", 5) -> True;
    guarded_write(c, k, "v7", 7) -> True; guarded_write(c, k, "v6", 6) -> False, and the record
    still holds {"value": "v7", "token": 7}.
    """
    for _ in range(MAX_TRIES):
        try:
            _, meta, bins = client.get(key)
        except exception.RecordNotFound:
            meta, bins = None, {}
        if token < bins.get("token", 0):
            return False
        new_bins = {"value": value, "token": token}
        try:
            if meta is None:
                client.put(key, new_bins, policy={"exists": minikv.POLICY_EXISTS_CREATE})
            else:
                client.put(key, new_bins, meta={"gen": meta["gen"]}, policy={"gen": minikv.POLICY_GEN_EQ})
            return True
        except (exception.RecordGenerationError, exception.RecordExistsError):
            continue  # someone wrote between our read and our put: look again
    raise exception.RecordGenerationError(f"{key} changed under us {MAX_TRIES} times in a row")

