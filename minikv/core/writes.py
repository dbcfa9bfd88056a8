"""The local write path: what one node does to one record, cluster aside.

Check the exists and generation policies, apply the bin operations to a copy (all or nothing),
bump the generation (16 bits, wrapping to 1), compute the expiry, check the size, store. The
result says what to replicate: the packed record, or None when the record was deleted.
`service.py` wraps this in routing, per-key serialisation and replication.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from minikv import policies as P
from minikv.core.bin_ops import OpsOutcome, apply_ops
from minikv.core.messages import Operate, Put, Remove
from minikv.core.records import Record, next_generation, void_time_for
from minikv.core.storage import NamespaceStore
from minikv.errors import (
    InvalidRequest,
    MRTBlocked,
    RecordExistsError,
    RecordGenerationError,
    RecordKeyMismatch,
    RecordNotFound,
    RecordTooBig,
)

_KEY_TYPES = (str, int, float, bytes)


@dataclass(frozen=True, slots=True)
class WriteOutcome:
    record: Record | None  # the record now (None: absent or deleted)
    reads: list  # [(bin, value)] read by operate
    changed: bool  # something was written: replicate it
    blob: bytes | None  # what to replicate: the packed record, or None for a delete


def apply_write(store: NamespaceStore, msg: Put | Operate, ops: list, replace: bool, now: float) -> WriteOutcome:
    """Apply a Put or Operate to the store under the request's policies."""
    current = store.get(msg.digest, now)
    if current is not None and current.txn is not None:  # a transaction's lock (transactions.py)
        raise MRTBlocked("the record is locked by a multi-record transaction")
    check_exists(msg.exists, current)
    check_generation(msg.gen_policy, msg.gen, current)
    user_key = _user_key(msg.user_key, current)
    base = {} if current is None or replace else current.bins
    outcome = apply_ops(base, ops, exists=current is not None)
    # a delete followed by writes leaves a record with only the new bins, as in Aerospike
    if (outcome.delete_record or outcome.wrote) and not outcome.bins:
        deleted = current is not None and store.delete(msg.digest)
        return WriteOutcome(None, outcome.reads, deleted, None)
    if not (outcome.wrote or outcome.touched):
        if current is None:
            raise RecordNotFound("record not found")
        return WriteOutcome(current, outcome.reads, False, None)
    if current is None and not outcome.wrote:
        raise RecordNotFound("cannot touch a record that does not exist")
    record = _next_version(store, msg, current, outcome, user_key, now)
    blob = _store_checked(store, msg.digest, record)
    return WriteOutcome(record, outcome.reads, True, blob)


def apply_remove(store: NamespaceStore, msg: Remove, now: float) -> WriteOutcome:
    current = store.get(msg.digest, now)
    if current is not None and current.txn is not None:
        raise MRTBlocked("the record is locked by a multi-record transaction")
    if current is None:
        raise RecordNotFound("record not found")
    check_generation(msg.gen_policy, msg.gen, current)
    store.delete(msg.digest)
    return WriteOutcome(None, [], True, None)


def _next_version(store: NamespaceStore, msg: Put | Operate, current: Record | None,
                  outcome: OpsOutcome, user_key: Any, now: float) -> Record:
    ttl = outcome.ttl if outcome.ttl is not None else msg.ttl
    if not 0 <= ttl <= 0xFFFFFFFF:
        raise InvalidRequest(f"ttl {ttl} is not a valid 32-bit ttl")
    void_time = void_time_for(ttl, now, store.config.default_ttl, current)
    gen = next_generation(current.gen if current else 0)
    lut = max(now, current.lut) if current else now
    return Record(gen, void_time, lut, outcome.bins, msg.set_name, user_key)


def _store_checked(store: NamespaceStore, digest: bytes, record: Record) -> bytes:
    blob = record.pack()
    limit = store.config.max_record_size
    if len(blob) > limit:
        raise RecordTooBig(f"record of {len(blob)} bytes exceeds the {limit} byte limit")
    store.put(digest, blob)
    return blob


def _user_key(sent: Any, current: Record | None) -> Any:
    """The key to store: the one sent (POLICY_KEY_SEND), else the one already stored."""
    if sent is None:
        return current.user_key if current else None
    if isinstance(sent, bool) or not isinstance(sent, _KEY_TYPES):
        raise InvalidRequest(f"a user key is str, int, float or bytes, not {type(sent).__name__}")
    if current is not None and current.user_key is not None and current.user_key != sent:
        raise RecordKeyMismatch("the stored key differs from the key sent")
    return sent


def check_exists(policy: int, current: Record | None) -> None:
    """The exists policy: may this write create, update or replace?"""
    if policy not in range(5):
        raise InvalidRequest(f"unknown exists policy {policy}")
    if policy == P.POLICY_EXISTS_CREATE and current is not None:
        raise RecordExistsError("record already exists (POLICY_EXISTS_CREATE)")
    if policy in (P.POLICY_EXISTS_UPDATE, P.POLICY_EXISTS_REPLACE) and current is None:
        raise RecordNotFound("record not found (the exists policy requires it)")


def check_generation(policy: int, gen: int, current: Record | None) -> None:
    """Optimistic concurrency. A missing record has no generation to compare, so a checked
    write to it proceeds as a create (add POLICY_EXISTS_UPDATE to require the record)."""
    if policy not in range(3):
        raise InvalidRequest(f"unknown generation policy {policy}")
    if current is None or policy == P.POLICY_GEN_IGNORE:
        return
    if policy == P.POLICY_GEN_EQ and gen != current.gen:
        raise RecordGenerationError(f"record is at generation {current.gen}, not {gen}")
    if policy == P.POLICY_GEN_GT and not gen > current.gen:
        raise RecordGenerationError(f"generation {gen} is not greater than {current.gen}")
