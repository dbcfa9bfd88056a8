"""Distributed locks on minikv records: leases, fencing tokens, and a naive lock that breaks.

    lock = FencedLock(client, "report", owner="worker-1", lease=10)
    token = lock.acquire()                 # 7, or None while someone else holds the lease
    if token is not None:
        guarded_write(client, resource_key, "new contents", token)   # False: a newer holder wrote

**A lease.** The lock is a record `("test", "locks", name)`, created with
`POLICY_EXISTS_CREATE` and `meta={"ttl": lease}`. Creating succeeds for exactly one client; the
others get `RecordExistsError` and must wait. The TTL is the lease: if the holder crashes, the
record expires and the lock frees itself, nobody needs to clean up.

**Why a lease alone is not enough** (Martin Kleppmann, "How to do distributed locking", 2016).
The holder cannot know that its lease is still valid at the moment its write reaches the data: it
may stall between checking and writing (a garbage-collection pause, a swapped-out VM) or its
write may sit in the network. Meanwhile the lease expires, a second client takes the lock and
writes, and then the first client's late write lands on top: two holders, one lost update. That
is `NaiveLock`.

**Fencing tokens.** Every acquisition also takes a number from a counter that only grows, and
the protected resource remembers the highest token that wrote to it and refuses anything lower.
A late write from an old holder carries an old token, so it is refused whatever the timing.
Here the counter is a second record, `("test", "locks", name + ".fence")`, that never expires:
it must outlive every lease record, or tokens would start again at 1. `acquire` takes the token
*first* and then creates the lease record carrying it; a token taken by a client that then fails
to get the lease is simply never used (tokens may skip; they never repeat or go back). The
resource here is itself a record, bins `value` and `token`, and `guarded_write` checks and
writes it atomically with a generation check (read, compare, `put` with `POLICY_GEN_EQ`).

Fencing is only as good as the counter and the resource: both must be linearizable. In an AP
namespace a network partition lets both sides of a split create the lease record and increment
their own copy of the counter (notebook 05); use a strong-consistency namespace for locks.

Portable: only the public client API (`put`, `get`, `exists`, `operate`, `remove`, the policy
constants and `minikv.exception`); with `import aerospike` it runs on a real cluster.
Notebook 07 draws both locks under a paused holder and a partitioned one; exercise 7 asks you to
write `acquire` and `guarded_write` yourself.
"""

from __future__ import annotations

from typing import Any

from minikv import exception, operations
from minikv.policies import POLICY_EXISTS_CREATE, POLICY_GEN_EQ, TTL_NEVER_EXPIRE

LOCK_SET = "locks"
MAX_TRIES = 10  # generation conflicts a guarded write retries before it gives up


def lock_key(name: str, ns: str = "test") -> tuple:
    """The lease record: bins owner and token, ttl = the lease."""
    return (ns, LOCK_SET, name)


def fence_key(name: str, ns: str = "test") -> tuple:
    """The fencing counter: bin token, the last token handed out. It never expires."""
    return (ns, LOCK_SET, f"{name}.fence")


# ---- the fenced lock, as two functions (exercise 7 asks for exactly these) ---------------------


def acquire(client: Any, name: str, owner: str, lease: int, ns: str = "test") -> int | None:
    """Take the lock for `lease` seconds: its fencing token, or None if someone holds it."""
    if client.exists(lock_key(name, ns))[1] is not None:
        return None  # held: do not burn a token (the create below would fail anyway)
    ops = [operations.increment("token", 1), operations.read("token")]
    _, _, bins = client.operate(fence_key(name, ns), ops, meta={"ttl": TTL_NEVER_EXPIRE})
    token = bins["token"]
    try:
        client.put(lock_key(name, ns), {"owner": owner, "token": token}, meta={"ttl": lease},
                   policy={"exists": POLICY_EXISTS_CREATE})
    except exception.RecordExistsError:
        return None  # someone created it between our exists() and our put(): they hold it
    return token


def guarded_write(client: Any, key: tuple, value: Any, token: int) -> bool:
    """Write `value` to the resource record `key` unless a newer token already wrote there.

    True: written (bins value and token). False: refused, the record has a higher token. The
    check and the write are one atomic step: the put applies only at the generation we read.
    """
    for _ in range(MAX_TRIES):
        try:
            _, meta, bins = client.get(key)
        except exception.RecordNotFound:
            meta, bins = None, {}
        if token < bins.get("token", 0):
            return False
        try:
            _put_if_unchanged(client, key, {"value": value, "token": token}, meta)
            return True
        except (exception.RecordGenerationError, exception.RecordExistsError):
            continue  # someone wrote between our read and our put: look again
    raise exception.RecordGenerationError(f"{key} changed under us {MAX_TRIES} times in a row")


def _put_if_unchanged(client: Any, key: tuple, bins: dict, meta: dict | None) -> None:
    """Put only if the record is still as read: same generation, or still absent."""
    if meta is None:
        client.put(key, bins, policy={"exists": POLICY_EXISTS_CREATE})
    else:
        client.put(key, bins, meta={"gen": meta["gen"]}, policy={"gen": POLICY_GEN_EQ})


# ---- the same as objects, with renew and release -----------------------------------------------


class FencedLock:
    """A lease lock with fencing tokens for one `owner` (a name for this client or process)."""

    def __init__(self, client: Any, name: str, owner: str, lease: int = 10, ns: str = "test"):
        self.client, self.name, self.owner, self.lease, self.ns = client, name, owner, lease, ns
        self.token: int | None = None  # the token of our current lease, if we think we hold one

    def acquire(self) -> int | None:
        """Our fencing token, or None if another owner holds the lease."""
        self.token = acquire(self.client, self.name, self.owner, self.lease, self.ns)
        return self.token

    def held(self) -> dict | None:
        """The lease record's meta if it is still ours (owner and token match), else None."""
        try:
            _, meta, bins = self.client.get(lock_key(self.name, self.ns))
        except exception.RecordNotFound:
            return None
        return meta if bins == {"owner": self.owner, "token": self.token} else None

    def renew(self) -> bool:
        """Extend our lease by `lease` seconds from now; False if it is no longer ours."""
        meta = self.held()
        if meta is None:
            return False
        try:
            self.client.touch(lock_key(self.name, self.ns), self.lease, meta={"gen": meta["gen"]},
                              policy={"gen": POLICY_GEN_EQ})
        except (exception.RecordGenerationError, exception.RecordNotFound):
            return False  # it changed hands (or expired) between the read and the touch
        return True

    def release(self) -> bool:
        """Give the lock up if it is still ours; False if our lease had already gone."""
        meta = self.held()
        self.token = None
        if meta is None:
            return False
        try:
            self.client.remove(lock_key(self.name, self.ns), meta={"gen": meta["gen"]},
                               policy={"gen": POLICY_GEN_EQ})
        except (exception.RecordGenerationError, exception.RecordNotFound):
            return False
        return True


class NaiveLock:
    """A lease and nothing else: exclusive while the holder is fast, broken when it is not.

    `write` checks nothing, so a holder that stalled past its lease, or whose write sat in the
    network, overwrites whatever the next holder wrote. Kept to show why fencing exists.
    """

    def __init__(self, client: Any, name: str, owner: str, lease: int = 10, ns: str = "test"):
        self.client, self.name, self.owner, self.lease, self.ns = client, name, owner, lease, ns

    def acquire(self) -> bool:
        """True if we created the lease record, False if someone holds it."""
        try:
            self.client.put(lock_key(self.name, self.ns), {"owner": self.owner}, meta={"ttl": self.lease},
                            policy={"exists": POLICY_EXISTS_CREATE})
        except exception.RecordExistsError:
            return False
        return True

    def write(self, key: tuple, value: Any) -> None:
        """Write the resource, trusting that we still hold the lock."""
        self.client.put(key, {"value": value})

    def release(self) -> None:
        """Delete the lease record, whoever holds it now (another flaw: it may not be ours)."""
        try:
            self.client.remove(lock_key(self.name, self.ns))
        except exception.RecordNotFound:
            pass


# ---- the two locks behind one interface, for scenarios that run either -------------------------


def naive_acquire(client: Any, name: str, owner: str, lease: int, ns: str = "test") -> int | None:
    """NaiveLock.acquire as acquire() is called: 0 (a token nobody checks) or None."""
    return 0 if NaiveLock(client, name, owner, lease, ns).acquire() else None


def naive_write(client: Any, key: tuple, value: Any, token: int) -> bool:
    """NaiveLock.write as guarded_write() is called: ignores the token, always writes."""
    client.put(key, {"value": value, "token": token})
    return True
