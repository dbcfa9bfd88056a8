"""minikv: a small key-value cluster modelled on Aerospike, to read, run and break.

The public API, re-exported here and pinned by tests/test_exports.py (notebooks depend on it):

    import minikv
    with minikv.LocalCluster(nodes=1) as cluster:     # real processes on 127.0.0.1
        client = cluster.client()
        client.put(("test", "demo", "k"), {"n": 1})

    sim = minikv.SimCluster(nodes=1, seed=7)          # the same nodes in virtual time

Layout: `core/` is the pure node logic (no sockets, no clocks); `runtime/` moves bytes and time
(processes, asyncio, the simulator); `client.py` is the aerospike-style client. See
docs/architecture.md for the map.
"""

from minikv import exception, grading, operations
from minikv.client import Client, client
from minikv.config import NamespaceConfig, NodeConfig
from minikv.core.events import Event
from minikv.errors import ResultCode
from minikv.keys import N_PARTITIONS, calc_digest, partition_id
from minikv.policies import (
    OPERATOR_APPEND,
    OPERATOR_DELETE,
    OPERATOR_INCR,
    OPERATOR_PREPEND,
    OPERATOR_READ,
    OPERATOR_TOUCH,
    OPERATOR_WRITE,
    POLICY_COMMIT_LEVEL_ALL,
    POLICY_COMMIT_LEVEL_MASTER,
    POLICY_EXISTS_CREATE,
    POLICY_EXISTS_CREATE_OR_REPLACE,
    POLICY_EXISTS_IGNORE,
    POLICY_EXISTS_REPLACE,
    POLICY_EXISTS_UPDATE,
    POLICY_GEN_EQ,
    POLICY_GEN_GT,
    POLICY_GEN_IGNORE,
    POLICY_KEY_DIGEST,
    POLICY_KEY_SEND,
    POLICY_REPLICA_ANY,
    POLICY_REPLICA_MASTER,
    POLICY_REPLICA_SEQUENCE,
    TTL_CLIENT_DEFAULT,
    TTL_DONT_UPDATE,
    TTL_NAMESPACE_DEFAULT,
    TTL_NEVER_EXPIRE,
)
from minikv.results import BatchRecord, BatchRecords, Scan
from minikv.runtime.local_cluster import LocalCluster
from minikv.runtime.sim import SimCluster
from minikv.transaction import (
    ABORT_ALREADY_ABORTED,
    ABORT_CLOSE_ABANDONED,
    ABORT_OK,
    ABORT_ROLL_BACK_ABANDONED,
    COMMIT_ALREADY_COMMITTED,
    COMMIT_CLOSE_ABANDONED,
    COMMIT_OK,
    COMMIT_ROLL_FORWARD_ABANDONED,
    TXN_STATE_ABORTED,
    TXN_STATE_COMMITTED,
    TXN_STATE_OPEN,
    TXN_STATE_VERIFIED,
    Transaction,
)

__version__ = "0.1.0"

__all__ = [
    "BatchRecord", "BatchRecords", "Client", "Event", "LocalCluster", "N_PARTITIONS",
    "NamespaceConfig", "NodeConfig", "ResultCode", "Scan", "SimCluster", "calc_digest", "client",
    "exception", "grading", "operations", "partition_id",
    "OPERATOR_APPEND", "OPERATOR_DELETE", "OPERATOR_INCR", "OPERATOR_PREPEND", "OPERATOR_READ",
    "OPERATOR_TOUCH", "OPERATOR_WRITE",
    "POLICY_COMMIT_LEVEL_ALL", "POLICY_COMMIT_LEVEL_MASTER",
    "POLICY_EXISTS_CREATE", "POLICY_EXISTS_CREATE_OR_REPLACE", "POLICY_EXISTS_IGNORE",
    "POLICY_EXISTS_REPLACE", "POLICY_EXISTS_UPDATE",
    "POLICY_GEN_EQ", "POLICY_GEN_GT", "POLICY_GEN_IGNORE",
    "POLICY_KEY_DIGEST", "POLICY_KEY_SEND",
    "POLICY_REPLICA_ANY", "POLICY_REPLICA_MASTER", "POLICY_REPLICA_SEQUENCE",
    "TTL_CLIENT_DEFAULT", "TTL_DONT_UPDATE", "TTL_NAMESPACE_DEFAULT", "TTL_NEVER_EXPIRE",
    "Transaction", "COMMIT_OK", "COMMIT_ALREADY_COMMITTED", "COMMIT_ROLL_FORWARD_ABANDONED",
    "COMMIT_CLOSE_ABANDONED", "ABORT_OK", "ABORT_ALREADY_ABORTED", "ABORT_ROLL_BACK_ABANDONED",
    "ABORT_CLOSE_ABANDONED", "TXN_STATE_OPEN", "TXN_STATE_VERIFIED", "TXN_STATE_COMMITTED", "TXN_STATE_ABORTED",
]
