"""Every message a minikv node understands or sends, declared in one place.

Messages are frozen dataclasses: a node never shares an object with another node or a client,
because every message crosses a codec (`minikv.runtime.codec`) on its way, in the simulator too.
Field types are checked when a message is decoded, so a handler can trust them.

Aerospike's wire protocol has one "message" type whose header bits and operation list say what
to do; we give each request its own class because it reads better. The Aerospike-protocol port
(a later issue) translates between the two.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# ---- client requests (client -> node, answered by one Reply) -----------------------------------
# Every single-record request names the record by namespace, set and digest; `user_key` is sent
# only with POLICY_KEY_SEND (the node then stores it and checks it on later writes).


@dataclass(frozen=True, slots=True)
class Get:
    """Read a record: all bins (bins=None), some bins, or only its metadata (header_only)."""

    ns: str
    set_name: str
    digest: bytes
    bins: tuple[str, ...] | None = None
    header_only: bool = False
    read_mode_sc: int = 0  # policies.POLICY_READ_MODE_SC_*; only SC namespaces look at it
    txn_id: int = 0  # read inside this multi-record transaction (0: none); the reply adds the version


@dataclass(frozen=True, slots=True)
class Put:
    """Write bins (None deletes a bin), subject to the exists and generation policies."""

    ns: str
    set_name: str
    digest: bytes
    bins: dict[str, Any]
    user_key: Any = None
    ttl: int = 0
    gen: int = 0
    gen_policy: int = 0
    exists: int = 0
    commit_level: int = 0  # POLICY_COMMIT_LEVEL_ALL: reply after every replica has it
    txn_id: int = 0  # written inside this multi-record transaction (0: none): see TxnRoll
    txn_deadline: float = 0.0  # the transaction's deadline (node clock), from its MonitorAdd
    read_version: tuple[int, float] | None = None  # (gen, lut) the transaction read, to check


@dataclass(frozen=True, slots=True)
class Operate:
    """Apply ordered operations `(operator, bin, value)` atomically with one generation bump."""

    ns: str
    set_name: str
    digest: bytes
    ops: tuple[tuple[int, str | None, Any], ...]
    user_key: Any = None
    ttl: int = 0
    gen: int = 0
    gen_policy: int = 0
    exists: int = 0
    commit_level: int = 0  # POLICY_COMMIT_LEVEL_ALL: reply after every replica has it
    txn_id: int = 0  # written inside this multi-record transaction (0: none): see TxnRoll
    txn_deadline: float = 0.0  # the transaction's deadline (node clock), from its MonitorAdd
    read_version: tuple[int, float] | None = None  # (gen, lut) the transaction read, to check


@dataclass(frozen=True, slots=True)
class Remove:
    """Delete a record, optionally only at generation `gen` (gen_policy EQ)."""

    ns: str
    set_name: str
    digest: bytes
    gen: int = 0
    gen_policy: int = 0
    commit_level: int = 0  # POLICY_COMMIT_LEVEL_ALL: reply after every replica has it
    txn_id: int = 0  # written inside this multi-record transaction (0: none): see TxnRoll
    txn_deadline: float = 0.0  # the transaction's deadline (node clock), from its MonitorAdd
    read_version: tuple[int, float] | None = None  # (gen, lut) the transaction read, to check


@dataclass(frozen=True, slots=True)
class BatchRead:
    """Read many records at once; `keys` are (namespace, digest) pairs."""

    keys: tuple[tuple[str, bytes], ...]
    bins: tuple[str, ...] | None = None
    header_only: bool = False


@dataclass(frozen=True, slots=True)
class ScanPage:
    """Records of the listed partitions, whole partitions at a time, up to about `max_records`."""

    ns: str
    set_name: str | None
    pids: tuple[int, ...]
    max_records: int = 1000
    bins: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class Info:
    """asinfo-style commands ("statistics", "namespace/test", ...), answered name -> text."""

    commands: tuple[str, ...]


# ---- multi-record transactions (client -> the master of a monitor or of a written record) -------
# The monitor is an ordinary record (set "<ERO~MRT", key = txn id) listing the written digests;
# core/transactions.py explains the protocol. Every step is replicated at commit level ALL.


@dataclass(frozen=True, slots=True)
class MonitorAdd:
    """Before a transaction writes `keyd`: list it in the monitor (created with its deadline)."""

    ns: str
    digest: bytes  # the monitor's
    txn_id: int
    timeout: int  # seconds the transaction may live (0: the node's default, 10 s)
    keyd: bytes  # the digest about to be written
    commit_level = 0  # not a field: every step waits for all replicas (service.py reads it)


@dataclass(frozen=True, slots=True)
class MonitorMark:
    """The commit point: mark the monitor roll-forward (`fwd`), unless its deadline passed."""

    ns: str
    digest: bytes
    txn_id: int
    commit_level = 0


@dataclass(frozen=True, slots=True)
class MonitorClose:
    """Close the monitor to adds and marks, with its outcome as it is; the sweeper does this first
    and gets (fwd, keyds). `done` (every write rolled): drop the digests, keep a tombstone."""

    ns: str
    digest: bytes
    txn_id: int
    done: bool
    commit_level = 0


@dataclass(frozen=True, slots=True)
class TxnVerify:
    """At commit: is this record still at the version the transaction read, and unlocked?"""

    ns: str
    digest: bytes
    txn_id: int
    version: tuple[int, float]  # (gen, lut); (0, 0.0) when the record did not exist


@dataclass(frozen=True, slots=True)
class TxnRoll:
    """Roll one written record forward (the provisional version becomes the record) or back."""

    ns: str
    digest: bytes
    txn_id: int
    forward: bool
    commit_level = 0


# ---- replies (node -> client) -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reply:
    """The answer to one request: a result code (0 = OK), a message for errors, and a result.

    Result shapes: a record read is [gen, ttl, bins, user_key]; a write [gen, ttl]; operate
    [gen, ttl, [[bin, value], ...]]; a batch [[code, gen, ttl, bins], ...]; a scan page
    {"records": [[digest, user_key, gen, ttl, bins], ...], "done": n_pids_covered}; info
    {command: text}.
    """

    rc: int
    msg: str = ""
    result: Any = None


# ---- cluster administration (LocalCluster / SimCluster -> node, answered by a Reply) ------------


@dataclass(frozen=True, slots=True)
class Admin:
    """Operator commands: `seeds` (addresses of peers to heartbeat), `faults` (link rules this
    node applies to what it sends), `leave` (graceful removal). Real Aerospike has asinfo
    commands and config files for these; fault injection is ours."""

    command: str
    args: dict[str, Any]


TXN_REQUESTS: tuple[type, ...] = (MonitorAdd, MonitorMark, MonitorClose, TxnVerify, TxnRoll)
CLIENT_REQUESTS: tuple[type, ...] = (Get, Put, Operate, Remove, BatchRead, ScanPage, Info, Admin, *TXN_REQUESTS)
Request = (Get | Put | Operate | Remove | BatchRead | ScanPage | Info  # what a node may proxy
           | MonitorAdd | MonitorMark | MonitorClose | TxnVerify | TxnRoll)
