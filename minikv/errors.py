"""Result codes and the exception tree: what went wrong, and whether it may still have happened.

Aerospike answers every request with a numeric result code; its Python client turns a non-zero
code into an exception from `aerospike.exception`. We keep both halves, with Aerospike's numbers
and names, so code written against minikv catches the same exceptions on a real cluster.

    AerospikeError                     code, msg, in_doubt
     ├── ClientError (-1)              the client itself failed (bad argument, no connection)
     │    ├── ParamError (-2)          you passed something the API does not accept
     │    ├── InvalidHostError (-4)    no seed host answered
     │    ├── ConnectionError (-10)    a connection broke
     │    ├── TransactionFailed (-17)  commit() did not commit (rolled back, or in doubt)
     │    └── TransactionAlreadyCommitted (-18), TransactionAlreadyAborted (-19)
     ├── TimeoutError (9)              no answer in time: a write MAY have happened (in_doubt)
     └── ServerError (1)               the node answered with an error code
          ├── InvalidRequest (4)       the node could not understand the request
          ├── ClusterError (11)        partition unavailable (the cluster is changing or split)
          ├── UnsupportedFeature (16)  an operation this node does not implement
          ├── NamespaceNotFound (20)
          ├── MRTBlocked (120) ... MRTMonitorExists (127)   multi-record transactions
          └── RecordError              about one record
               ├── RecordNotFound (2), RecordGenerationError (3), RecordExistsError (5)
               ├── BinIncompatibleType (12), RecordTooBig (13), RecordBusy (14)
               └── RecordKeyMismatch (19), BinNameError (21)

Definite vs indefinite (Jepsen's vocabulary): an error reply from a node is *definite* — the
operation did not happen. A timeout or a connection lost after a write was sent is *indefinite*:
the write may or may not have been applied, and `in_doubt` is True. Retrying an in-doubt
increment can count it twice; the transactions notebook shows how to make retries safe.
"""

from __future__ import annotations

from enum import IntEnum


class ResultCode(IntEnum):
    """Aerospike's wire result codes (server codes >= 0, client-side codes < 0)."""

    # client-side codes (never sent by a node)
    TXN_ALREADY_ABORTED = -19
    TXN_ALREADY_COMMITTED = -18
    TXN_FAILED = -17
    CONNECTION_ERROR = -10
    INVALID_HOST = -4
    PARAM_ERROR = -2
    CLIENT_ERROR = -1
    # server codes
    OK = 0
    SERVER_ERROR = 1
    KEY_NOT_FOUND_ERROR = 2
    GENERATION_ERROR = 3
    PARAMETER_ERROR = 4
    KEY_EXISTS_ERROR = 5
    TIMEOUT = 9
    PARTITION_UNAVAILABLE = 11
    BIN_TYPE_ERROR = 12
    RECORD_TOO_BIG = 13
    KEY_BUSY = 14
    UNSUPPORTED_FEATURE = 16
    KEY_MISMATCH = 19
    NAMESPACE_NOT_FOUND = 20
    BIN_NAME_TOO_LONG = 21
    # multi-record transactions (Aerospike 8.0)
    MRT_BLOCKED = 120
    MRT_VERSION_MISMATCH = 121
    MRT_EXPIRED = 122
    MRT_TOO_MANY_WRITES = 123
    MRT_COMMITTED = 124
    MRT_ABORTED = 125
    MRT_ALREADY_LOCKED = 126
    MRT_MONITOR_EXISTS = 127


class AerospikeError(Exception):
    """Base of every minikv error. `code` is a ResultCode, `msg` says what happened,
    `in_doubt` is True when a write may have been applied although it failed."""

    code: int = ResultCode.CLIENT_ERROR

    def __init__(self, msg: str = "", *, code: int | None = None, in_doubt: bool = False):
        super().__init__(msg)
        self.msg = msg
        self.in_doubt = in_doubt
        if code is not None:
            self.code = code

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={int(self.code)}, msg={self.msg!r}, in_doubt={self.in_doubt})"


class ClientError(AerospikeError):
    """The client failed before or while talking to a node. Usually definite."""

    code = ResultCode.CLIENT_ERROR


class ParamError(ClientError):
    """An argument the API does not accept (a key that is not a tuple, a bin name too long...).
    Raised before anything is sent: definite. Fix the call."""

    code = ResultCode.PARAM_ERROR


class InvalidHostError(ClientError):
    """None of the seed hosts answered at connect(). Is the cluster running? Check `cluster.hosts`."""

    code = ResultCode.INVALID_HOST


class ConnectionError(ClientError):  # noqa: A001 - Aerospike's name
    """A connection to a node failed. In doubt if it broke after a write was sent."""

    code = ResultCode.CONNECTION_ERROR


class TransactionFailed(ClientError):
    """commit() could not commit. `commit_status` says where it stopped (minikv.transaction's
    COMMIT_VERIFY_FAILED: a record read changed, the transaction was rolled back;
    COMMIT_MARK_ROLL_FORWARD_ABANDONED: the commit point was not reached). If `in_doubt` is False
    nothing was committed: run the transaction again. If True the commit point may have been
    reached: call commit() again (never abort), it answers once the cluster knows."""

    code = ResultCode.TXN_FAILED

    def __init__(self, msg: str = "", *, code: int | None = None, in_doubt: bool = False,
                 commit_status: int | None = None):
        super().__init__(msg, code=code, in_doubt=in_doubt)
        self.commit_status = commit_status


class TransactionAlreadyCommitted(ClientError):
    """abort() of a transaction that is committed (or whose commit is in doubt). Nothing to undo."""

    code = ResultCode.TXN_ALREADY_COMMITTED


class TransactionAlreadyAborted(ClientError):
    """commit() of a transaction that was aborted. Start a new Transaction and do the work again."""

    code = ResultCode.TXN_ALREADY_ABORTED


class TimeoutError(AerospikeError):  # noqa: A001 - Aerospike's name
    """No answer within `total_timeout`. For a write this is indefinite (`in_doubt=True`):
    read the record back, or make the write idempotent, before retrying."""

    code = ResultCode.TIMEOUT


class ServerError(AerospikeError):
    """A node answered with an error code: definite, the operation did not happen."""

    code = ResultCode.SERVER_ERROR


class InvalidRequest(ServerError):
    """The node could not decode the request or a value had the wrong type. It keeps serving."""

    code = ResultCode.PARAMETER_ERROR


class ClusterError(ServerError):
    """The partition is unavailable on this node right now. Retry after the cluster settles."""

    code = ResultCode.PARTITION_UNAVAILABLE


class UnsupportedFeature(ServerError):
    """The node does not implement this operation."""

    code = ResultCode.UNSUPPORTED_FEATURE


class NamespaceNotFound(ServerError):
    """The namespace is not configured on the node (the default one is "test")."""

    code = ResultCode.NAMESPACE_NOT_FOUND


# Multi-record transactions. The official Python client raises a plain ServerError carrying these
# codes; minikv gives each its own ServerError subclass so the lesson can name it.


class MRTBlocked(ServerError):
    """The record is locked by another transaction's provisional write. Abort your transaction
    (or wait for the other one to finish) and try again."""

    code = ResultCode.MRT_BLOCKED


class MRTVersionMismatch(ServerError):
    """A record this transaction read was changed by someone else before the commit: the
    transaction would have acted on stale data. It is rolled back; run it again."""

    code = ResultCode.MRT_VERSION_MISMATCH


class MRTExpired(ServerError):
    """The transaction passed its deadline (its `timeout`) before committing: the nodes roll it back."""

    code = ResultCode.MRT_EXPIRED


class MRTTooManyWrites(ServerError):
    """More than 4096 records written in one transaction."""

    code = ResultCode.MRT_TOO_MANY_WRITES


class MRTCommitted(ServerError):
    """The transaction is already committed (the nodes may have finished it): no more writes."""

    code = ResultCode.MRT_COMMITTED


class MRTAborted(ServerError):
    """The transaction is already aborted (the nodes rolled it back after its deadline)."""

    code = ResultCode.MRT_ABORTED


class MRTAlreadyLocked(ServerError):
    """Aerospike's answer to an `on_locking_only` write of a record the transaction already
    locked. minikv has no such writes, so no node sends it."""

    code = ResultCode.MRT_ALREADY_LOCKED


class MRTMonitorExists(ServerError):
    """The monitor record's key holds something that is not this transaction's monitor."""

    code = ResultCode.MRT_MONITOR_EXISTS


class RecordError(ServerError):
    """An error about one record; the node is fine."""


class RecordNotFound(RecordError):
    """No live record under this key (never written, removed, or expired)."""

    code = ResultCode.KEY_NOT_FOUND_ERROR


class RecordGenerationError(RecordError):
    """A generation check failed: someone else wrote the record since you read it.
    Read again and retry your read-modify-write."""

    code = ResultCode.GENERATION_ERROR


class RecordExistsError(RecordError):
    """POLICY_EXISTS_CREATE and the record already exists."""

    code = ResultCode.KEY_EXISTS_ERROR


class BinIncompatibleType(RecordError):
    """An operation does not fit the bin's type (increment a string, append to an int)."""

    code = ResultCode.BIN_TYPE_ERROR


class RecordTooBig(RecordError):
    """The record would exceed the namespace's max record size (1 MiB by default)."""

    code = ResultCode.RECORD_TOO_BIG


class RecordBusy(RecordError):
    """Too many requests are queued on this one key (a hot key). Back off and retry."""

    code = ResultCode.KEY_BUSY


class RecordKeyMismatch(RecordError):
    """The stored user key differs from the one sent with the same digest."""

    code = ResultCode.KEY_MISMATCH


class BinNameError(RecordError):
    """A bin name longer than 15 bytes."""

    code = ResultCode.BIN_NAME_TOO_LONG


# result code -> exception class, for turning a node's reply into the right exception
_BY_CODE: dict[int, type[AerospikeError]] = {
    cls.code: cls
    for cls in (
        ClientError, ParamError, InvalidHostError, ConnectionError, TimeoutError, ServerError,
        InvalidRequest, ClusterError, UnsupportedFeature, NamespaceNotFound, RecordNotFound,
        RecordGenerationError, RecordExistsError, BinIncompatibleType, RecordTooBig, RecordBusy,
        RecordKeyMismatch, BinNameError, TransactionFailed, TransactionAlreadyCommitted,
        TransactionAlreadyAborted, MRTBlocked, MRTVersionMismatch, MRTExpired, MRTTooManyWrites,
        MRTCommitted, MRTAborted, MRTAlreadyLocked, MRTMonitorExists,
    )
}


def error_for(code: int, msg: str = "", *, in_doubt: bool = False) -> AerospikeError:
    """The exception for a result code; unknown codes become a plain ServerError carrying it."""
    cls = _BY_CODE.get(code, ServerError)
    return cls(msg, code=code, in_doubt=in_doubt)
