"""The client's half of a multi-record transaction: bookkeeping on each command, then commit()
and abort(), step by step as Aerospike's client does them (aerospike_txn.c):

    every write   MonitorAdd (list the digest in the monitor, first)   then the write itself
    commit        TxnVerify each record read       a change, or another's lock -> roll back, fail
                  MonitorMark                      the COMMIT POINT: from here on it will happen
                  TxnRoll forward each write       a failure is fine: the nodes finish after the deadline
                  MonitorClose                     idem
    abort         TxnRoll back each write, MonitorClose

Why the order: the monitor must know a record before it can hold a provisional version (else a
client crash would leave a lock nobody knows about); the reads must be verified before the
commit point (after it, nothing may fail); and the commit point is one write of one record, so
the decision is atomic. Every step is idempotent, so unlike ordinary writes the steps are retried.

What each outcome means for the caller:

- commit() returns COMMIT_OK (or *_ABANDONED: committed all the same, the nodes finish the rest);
- raises TransactionFailed with in_doubt False: nothing happened (rolled back): run it again;
- raises TransactionFailed with in_doubt True: the commit point may have been reached: call
  commit() again until it answers (abort() is refused, it could undo a committed transaction).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from minikv.core import messages as m
from minikv.core.transactions import NO_VERSION
from minikv.errors import (AerospikeError, MRTCommitted, ParamError, RecordNotFound, TransactionAlreadyAborted,
                           TransactionAlreadyCommitted, TransactionFailed)
from minikv.keys import key_digest
from minikv.transaction import (
    ABORT_ALREADY_ABORTED, ABORT_CLOSE_ABANDONED, ABORT_OK, ABORT_ROLL_BACK_ABANDONED, COMMIT_ALREADY_COMMITTED,
    COMMIT_CLOSE_ABANDONED, COMMIT_MARK_ROLL_FORWARD_ABANDONED, COMMIT_OK, COMMIT_ROLL_FORWARD_ABANDONED,
    COMMIT_VERIFY_FAILED, TXN_STATE_ABORTED, TXN_STATE_COMMITTED, TXN_STATE_OPEN, TXN_STATE_VERIFIED, Transaction,
)

if TYPE_CHECKING:
    from minikv.client import Client

STEP_POLICY = {"max_retries": 2}  # the steps are idempotent: retrying one cannot apply it twice


# ---- each command inside a transaction ------------------------------------------------------------


def joined(txn: Any, ns: str) -> Transaction | None:
    """The policy's transaction, checked: open, and every command in one namespace."""
    if txn is None:
        return None
    if not isinstance(txn, Transaction):
        raise ParamError('policy "txn" takes a minikv.Transaction')
    if txn.state != TXN_STATE_OPEN:
        raise ParamError("this transaction is no longer open: start a new Transaction")
    if txn.ns is None:
        txn.ns = ns
    elif txn.ns != ns:
        raise ParamError(f"a transaction covers one namespace ({txn.ns!r}), not {ns!r} too")
    return txn


def read(client: Client, txn: Transaction, digest: bytes, request: m.Get, policy: dict) -> list:
    """A read inside the transaction; remembers the version seen (a missing record too)."""
    try:
        result = client._send(txn.ns, digest, request, policy, False)
    except RecordNotFound:
        txn.on_read(digest, NO_VERSION)
        raise
    txn.on_read(digest, result[4])
    return result


def write_fields(client: Client, txn: Transaction, digest: bytes) -> dict:
    """List the digest in the monitor first; returns the transaction fields of the write."""
    monitor = key_digest(txn.monitor_key)
    deadline = _step(client, txn, monitor, m.MonitorAdd(txn.ns, monitor, txn.id, txn.timeout, digest))[0]
    txn.deadline = deadline
    return {"txn_id": txn.id, "txn_deadline": deadline, "read_version": txn.reads.get(digest)}


def write(client: Client, txn: Transaction, digest: bytes, request: Any, policy: dict) -> Any:
    """A write inside the transaction. The digest joins the write set before the request goes:
    a write in doubt may hold a provisional version, which commit or abort must roll."""
    first = digest not in txn.writes
    txn.writes[digest] = None
    try:
        return client._send(txn.ns, digest, request, policy, True)
    except AerospikeError as exc:
        if first and not exc.in_doubt:  # definitely not written: nothing to roll
            del txn.writes[digest]
        raise


# ---- commit and abort -----------------------------------------------------------------------------


def commit(client: Client, txn: Transaction) -> int:
    """Verify, mark (the commit point), roll forward, close. See the module docstring."""
    if txn.state == TXN_STATE_COMMITTED:
        return COMMIT_ALREADY_COMMITTED
    if txn.state == TXN_STATE_ABORTED:
        raise TransactionAlreadyAborted("this transaction was aborted: run it again in a new one")
    if txn.state == TXN_STATE_OPEN:
        verify(client, txn)
    mark(client, txn)
    if txn.deadline is None:  # read only: no monitor, nothing to roll
        return COMMIT_OK
    if not roll(client, txn, forward=True):
        return COMMIT_ROLL_FORWARD_ABANDONED
    return COMMIT_OK if close(client, txn) else COMMIT_CLOSE_ABANDONED


def abort(client: Client, txn: Transaction) -> int:
    """Roll every write back and close the monitor; the nodes finish whatever this cannot."""
    if txn.state == TXN_STATE_ABORTED:
        return ABORT_ALREADY_ABORTED
    if txn.state == TXN_STATE_COMMITTED:
        raise TransactionAlreadyCommitted("this transaction is committed: nothing to abort")
    if txn.in_doubt:
        raise TransactionFailed("the commit is in doubt: call commit() again (abort could undo it)",
                                in_doubt=True, commit_status=COMMIT_MARK_ROLL_FORWARD_ABANDONED)
    txn.state = TXN_STATE_ABORTED
    if txn.deadline is None:
        return ABORT_OK
    if not roll(client, txn, forward=False):
        return ABORT_ROLL_BACK_ABANDONED
    return ABORT_OK if close(client, txn) else ABORT_CLOSE_ABANDONED


# ---- the phases, one function each (tests and the isolation lessons stop between them) -------------


def verify(client: Client, txn: Transaction) -> None:
    """Every record read must still be at the version read, and locked by nobody else."""
    for digest, version in txn.reads.items():
        try:
            _step(client, txn, digest, m.TxnVerify(txn.ns, digest, txn.id, version))
        except AerospikeError as exc:
            abort(client, txn)
            raise TransactionFailed(f"verify failed, rolled back: {exc.msg}",
                                    commit_status=COMMIT_VERIFY_FAILED) from exc
    txn.state = TXN_STATE_VERIFIED


def mark(client: Client, txn: Transaction) -> None:
    """The commit point: from its success on, the transaction is committed whatever happens.
    MRT_COMMITTED means a node already finished it (after an earlier mark in doubt)."""
    if txn.deadline is not None:  # it wrote: there is a monitor to mark
        _mark(client, txn)
    txn.state, txn.in_doubt = TXN_STATE_COMMITTED, False


def _mark(client: Client, txn: Transaction) -> None:
    monitor = key_digest(txn.monitor_key)
    try:
        _step(client, txn, monitor, m.MonitorMark(txn.ns, monitor, txn.id))
    except MRTCommitted:
        return
    except AerospikeError as exc:
        if exc.in_doubt:
            txn.in_doubt = True
            raise TransactionFailed(f"the commit is in doubt, call commit() again: {exc.msg}", in_doubt=True,
                                    commit_status=COMMIT_MARK_ROLL_FORWARD_ABANDONED) from exc
        abort(client, txn)  # definite: not marked, so it never will be (the nodes roll back anyway)
        raise TransactionFailed(f"the commit point was not reached, rolled back: {exc.msg}",
                                commit_status=COMMIT_MARK_ROLL_FORWARD_ABANDONED) from exc


def roll(client: Client, txn: Transaction, forward: bool, digests: list[bytes] | None = None) -> bool:
    """Roll every write (or these); True if all were rolled (else the nodes do it after the deadline)."""
    rolled = True
    for digest in txn.writes if digests is None else digests:
        try:
            _step(client, txn, digest, m.TxnRoll(txn.ns, digest, txn.id, forward))
        except AerospikeError:
            rolled = False
    return rolled


def close(client: Client, txn: Transaction) -> bool:
    """Close the monitor for good (a tombstone remembers the outcome for a while)."""
    monitor = key_digest(txn.monitor_key)
    try:
        _step(client, txn, monitor, m.MonitorClose(txn.ns, monitor, txn.id, True))
    except AerospikeError:
        return False
    return True


def _step(client: Client, txn: Transaction, digest: bytes, request: Any) -> Any:
    return client._send(txn.ns, digest, request, client._policy("write", STEP_POLICY), is_write=True)
