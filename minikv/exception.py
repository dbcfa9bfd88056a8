"""`minikv.exception` mirrors `aerospike.exception`: the same class names and codes.

The classes live in `minikv.errors` (with the tree drawn in its docstring); this module exists
so that `from minikv import exception` reads like `from aerospike import exception`.
"""

from minikv.errors import (  # noqa: F401 - re-exported on purpose
    AerospikeError,
    BinIncompatibleType,
    BinNameError,
    ClientError,
    ClusterError,
    ConnectionError,
    InvalidHostError,
    InvalidRequest,
    MRTAborted,
    MRTAlreadyLocked,
    MRTBlocked,
    MRTCommitted,
    MRTExpired,
    MRTMonitorExists,
    MRTTooManyWrites,
    MRTVersionMismatch,
    NamespaceNotFound,
    ParamError,
    RecordBusy,
    RecordError,
    RecordExistsError,
    RecordGenerationError,
    RecordKeyMismatch,
    RecordNotFound,
    RecordTooBig,
    ServerError,
    TimeoutError,
    TransactionAlreadyAborted,
    TransactionAlreadyCommitted,
    TransactionFailed,
    UnsupportedFeature,
)
