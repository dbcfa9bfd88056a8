"""The public API is a contract: notebooks, exercises and outside checks call these names.

Adding a name is fine (add it here too); removing or renaming one breaks learners' code.
"""



import minikv
import minikv.exception
import minikv.viz

PUBLIC = {
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
}

# minikv.viz: the figures and the panel the notebooks draw with
VIZ = {
    "ClusterPanel", "cluster_graph", "failover_milestones", "failover_timeline", "latency_scatter",
    "migration_progress", "node_bars", "op_timeline", "partition_map", "replay", "sample_progress",
    "sequence_diagram",
}

EXCEPTIONS = {
    "AerospikeError": None, "ClientError": -1, "ParamError": -2, "InvalidHostError": -4,
    "ConnectionError": -10, "TimeoutError": 9, "ServerError": 1, "InvalidRequest": 4,
    "ClusterError": 11, "UnsupportedFeature": 16, "NamespaceNotFound": 20, "RecordError": None,
    "RecordNotFound": 2, "RecordGenerationError": 3, "RecordExistsError": 5,
    "BinIncompatibleType": 12, "RecordTooBig": 13, "RecordBusy": 14, "RecordKeyMismatch": 19,
    "BinNameError": 21,
    "TransactionFailed": -17, "TransactionAlreadyCommitted": -18, "TransactionAlreadyAborted": -19,
    "MRTBlocked": 120, "MRTVersionMismatch": 121, "MRTExpired": 122, "MRTTooManyWrites": 123,
    "MRTCommitted": 124, "MRTAborted": 125, "MRTAlreadyLocked": 126, "MRTMonitorExists": 127,
}

# The official aerospike client's values: policy dicts must carry over unchanged.
AEROSPIKE_VALUES = {
    "POLICY_EXISTS_IGNORE": 0, "POLICY_EXISTS_CREATE": 1, "POLICY_EXISTS_UPDATE": 2,
    "POLICY_EXISTS_REPLACE": 3, "POLICY_EXISTS_CREATE_OR_REPLACE": 4,
    "POLICY_GEN_IGNORE": 0, "POLICY_GEN_EQ": 1, "POLICY_GEN_GT": 2,
    "POLICY_KEY_DIGEST": 0, "POLICY_KEY_SEND": 1,
    "POLICY_COMMIT_LEVEL_ALL": 0, "POLICY_COMMIT_LEVEL_MASTER": 1,
    "POLICY_REPLICA_MASTER": 0, "POLICY_REPLICA_ANY": 1, "POLICY_REPLICA_SEQUENCE": 2,
    "OPERATOR_READ": 0, "OPERATOR_WRITE": 1, "OPERATOR_INCR": 6, "OPERATOR_APPEND": 9,
    "OPERATOR_PREPEND": 10, "OPERATOR_TOUCH": 11, "OPERATOR_DELETE": 14,
    "TTL_NAMESPACE_DEFAULT": 0, "TTL_NEVER_EXPIRE": 0xFFFFFFFF, "TTL_DONT_UPDATE": 0xFFFFFFFE,
    "TTL_CLIENT_DEFAULT": 0xFFFFFFFD,
    "COMMIT_OK": 0, "COMMIT_ALREADY_COMMITTED": 1, "COMMIT_ROLL_FORWARD_ABANDONED": 5,
    "COMMIT_CLOSE_ABANDONED": 6, "ABORT_OK": 0, "ABORT_ALREADY_ABORTED": 1, "ABORT_ROLL_BACK_ABANDONED": 3,
    "ABORT_CLOSE_ABANDONED": 4, "TXN_STATE_OPEN": 0, "TXN_STATE_VERIFIED": 1, "TXN_STATE_COMMITTED": 2,
    "TXN_STATE_ABORTED": 3,
}


def test_public_names_are_exactly_the_pinned_ones():
    """minikv.__all__ lists exactly the pinned public names, and each is importable."""
    assert set(minikv.__all__) == PUBLIC
    for name in PUBLIC:
        assert hasattr(minikv, name), name


def test_viz_names_are_exactly_the_pinned_ones():
    """minikv.viz.__all__ lists exactly the pinned figure and panel names, and each is importable."""
    assert set(minikv.viz.__all__) == VIZ
    for name in VIZ - {"ClusterPanel"}:
        assert callable(getattr(minikv.viz, name)), name


def test_viz_exports_the_cluster_panel():
    """minikv.viz.ClusterPanel is the panel class from minikv/viz/panel.py."""
    assert minikv.viz.ClusterPanel.__module__ == "minikv.viz.panel"


def test_constants_have_the_official_clients_values():
    """Policy, operator and TTL constants equal the aerospike client's, so code ports unchanged."""
    assert {name: getattr(minikv, name) for name in AEROSPIKE_VALUES} == AEROSPIKE_VALUES


def test_exception_names_and_codes_mirror_aerospike():
    """minikv.exception has Aerospike's class names with Aerospike's result codes."""
    for name, code in EXCEPTIONS.items():
        cls = getattr(minikv.exception, name)
        assert issubclass(cls, minikv.exception.AerospikeError)
        if code is not None:
            assert cls.code == code, name


def test_exception_tree_matches_aerospike():
    """Record errors are ServerErrors; ParamError is a ClientError; every error carries in_doubt."""
    exc = minikv.exception
    assert issubclass(exc.RecordNotFound, exc.RecordError)
    assert issubclass(exc.RecordError, exc.ServerError)
    assert issubclass(exc.ParamError, exc.ClientError)
    assert not issubclass(exc.TimeoutError, exc.ServerError)
    error = exc.TimeoutError("no reply", in_doubt=True)
    assert (error.code, error.msg, error.in_doubt) == (9, "no reply", True)


JEPSEN = {
    "CounterResult", "History", "KeyVerdict", "Op", "Recorder", "RegisterResult", "Report", "SetResult",
    "check_register", "check_set", "count_lost_updates",
}


def test_jepsen_names_are_exactly_the_pinned_ones():
    """minikv.jepsen.__all__ lists exactly the pinned history and checker names."""
    import minikv.jepsen

    assert set(minikv.jepsen.__all__) == JEPSEN
    for name in JEPSEN:
        assert hasattr(minikv.jepsen, name), name

