"""`minikv.Transaction`: one multi-record transaction, as the client keeps track of it.

    txn = minikv.Transaction(timeout=10)                 # seconds it may live before nodes roll it back
    _, meta, bins = client.get(a, policy={"txn": txn})   # the version read is remembered
    client.put(b, {"n": 1}, policy={"txn": txn})          # provisional: locked until commit or abort
    status = client.commit(txn)                           # COMMIT_OK, or raises TransactionFailed

Mirrors `aerospike.Transaction` (Aerospike 8.0): a random non-zero 64-bit `id`, a `state`
(TXN_STATE_OPEN -> VERIFIED -> COMMITTED or ABORTED), `in_doubt` after a commit whose commit point
may or may not have been reached, and `timeout` in seconds (0: the node's default, 10 s). Every
record of one transaction lives in one namespace. The client remembers the version of each record
read (checked again at commit) and the digests written (rolled forward or back at the end); the
protocol itself is in txn_client.py, the nodes' half in core/transactions.py, the story in
docs/transactions.md. The status constants have the official client's names and values.
"""

from __future__ import annotations

import random
import secrets

from minikv.core.records import MONITOR_SET
from minikv.errors import ParamError

# client.commit() answers (aerospike.COMMIT_*); the two failures travel in TransactionFailed.commit_status
COMMIT_OK = 0
COMMIT_ALREADY_COMMITTED = 1
COMMIT_VERIFY_FAILED = 3  # a record read changed: rolled back (the C client's AS_COMMIT_VERIFY_FAILED)
COMMIT_MARK_ROLL_FORWARD_ABANDONED = 4  # the commit point was not (or maybe not) reached
COMMIT_ROLL_FORWARD_ABANDONED = 5  # committed; the nodes finish rolling forward after the deadline
COMMIT_CLOSE_ABANDONED = 6  # committed and rolled forward; the nodes close the monitor

# client.abort() answers (aerospike.ABORT_*)
ABORT_OK = 0
ABORT_ALREADY_ABORTED = 1
ABORT_ROLL_BACK_ABANDONED = 3  # aborted; the nodes finish rolling back after the deadline
ABORT_CLOSE_ABANDONED = 4  # rolled back; the nodes close the monitor

# Transaction.state (aerospike.TXN_STATE_*)
TXN_STATE_OPEN = 0
TXN_STATE_VERIFIED = 1
TXN_STATE_COMMITTED = 2
TXN_STATE_ABORTED = 3


def _new_id(rng: random.Random | None) -> int:
    """A random non-zero 64-bit id: two clients must never pick the same one, so no counter will
    do. From the OS by default; from a seeded `rng` when a simulation must repeat exactly."""
    while True:
        txn_id = rng.getrandbits(64) if rng is not None else secrets.randbits(64)
        if txn_id:
            return txn_id


class Transaction:
    """One multi-record transaction. Pass it as `policy={"txn": txn}` to get/put/operate/remove,
    then `client.commit(txn)` or `client.abort(txn)`. Not reusable once committed or aborted."""

    def __init__(self, reads_capacity: int = 128, writes_capacity: int = 128, timeout: int = 0, *,
                 rng: random.Random | None = None):
        # the capacities size the official client's hash maps; Python dicts grow by themselves
        if not isinstance(timeout, int) or not 0 <= timeout <= 120:
            raise ParamError("timeout is whole seconds in 0..120 (0: the node's default, 10 s)")
        self.id = _new_id(rng)
        self.timeout = timeout
        self.state = TXN_STATE_OPEN
        self.in_doubt = False  # the commit point may have been reached: call commit() again
        self.ns: str | None = None  # the namespace, fixed by the first command
        self.reads: dict[bytes, tuple[int, float]] = {}  # {digest: (gen, lut) read}, checked at commit
        self.writes: dict[bytes, None] = {}  # digests written, in order (a dict as an ordered set)
        self.deadline: float | None = None  # node clock; set once the monitor exists

    def __repr__(self) -> str:
        state = ("OPEN", "VERIFIED", "COMMITTED", "ABORTED")[self.state]
        return f"Transaction(id={self.id:016x}, {state}, {len(self.reads)} read, {len(self.writes)} written)"

    @property
    def monitor_key(self) -> tuple[str, str, int]:
        """The monitor record's key. Aerospike keys it by the id as a signed 64-bit integer."""
        signed = self.id - 2**64 if self.id >= 2**63 else self.id
        return (self.ns or "", MONITOR_SET, signed)

    def on_read(self, digest: bytes, version: tuple[int, float]) -> None:
        """Remember the first version read of a record this transaction has not written (a read of
        its own provisional version proves nothing about others)."""
        if digest not in self.writes:
            self.reads.setdefault(digest, (int(version[0]), float(version[1])))
