"""The client service: how one node serves reads and writes of single records.

This is Aerospike's transaction path on one node, in order: find the namespace, serialise the
request behind any other on the same key (`RwRequestTable`), check the exists and generation
policies, apply the bin operations to a copy, bump the generation, compute the expiry, check the
size, store. A handler raises an `errors.ServerError` subclass to refuse; the node turns it into
an error reply with that result code, so the node itself never fails on a bad request.

Notebook 00 uses these through the client; notebook 06 leans on the generation checks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from minikv import policies as P
from minikv.core.bin_ops import OpsOutcome, apply_ops
from minikv.core.messages import BatchRead, Get, Operate, Put, Remove, ScanPage
from minikv.core.records import Record, check_bins, next_generation, void_time_for
from minikv.core.rw_requests import Admission, RwRequestTable
from minikv.core.storage import NamespaceStore
from minikv.errors import (
    AerospikeError,
    InvalidRequest,
    NamespaceNotFound,
    RecordBusy,
    RecordExistsError,
    RecordGenerationError,
    RecordKeyMismatch,
    RecordNotFound,
    RecordTooBig,
    ResultCode,
)
from minikv.keys import DIGEST_SIZE, N_PARTITIONS

if TYPE_CHECKING:
    from minikv.core.node import Node

MAX_SET_NAME = 63  # bytes, Aerospike's limit
_KEY_TYPES = (str, int, float, bytes)


class ClientService:
    """Handles the client requests of one node. Each `on_<Request>` returns the reply's result."""

    def __init__(self, node: Node):
        self.node = node
        self.rw = RwRequestTable(node.config.transaction_pending_limit)

    # ---- reads ----------------------------------------------------------------------------------

    def on_Get(self, msg: Get) -> list:
        record = self._store(msg.ns).get(self._digest(msg.digest), self.node.now)
        if record is None:
            raise RecordNotFound("record not found")
        return self._read_result(record, msg.bins, msg.header_only)

    def on_BatchRead(self, msg: BatchRead) -> list:
        return [self._batch_item(ns, digest, msg) for ns, digest in msg.keys]

    def on_ScanPage(self, msg: ScanPage) -> dict:
        """Whole partitions in the order asked, stopping after the one that reaches max_records."""
        store, rows, done = self._store(msg.ns), [], 0
        for pid in msg.pids:
            if not 0 <= pid < N_PARTITIONS:
                raise InvalidRequest(f"partition id {pid} outside 0..{N_PARTITIONS - 1}")
            for digest, record in store.live_records(pid, self.node.now):
                if msg.set_name is None or record.set_name == msg.set_name:
                    _, ttl, bins, user_key = self._read_result(record, msg.bins, False)
                    rows.append([digest, user_key, record.gen, ttl, bins])
            done += 1
            if len(rows) >= msg.max_records:
                break
        return {"records": rows, "done": done}

    def _batch_item(self, ns: str, digest: bytes, msg: BatchRead) -> list:
        try:
            gen, ttl, bins, _ = self.on_Get(Get(ns, "", digest, msg.bins, msg.header_only))
        except AerospikeError as exc:
            return [int(exc.code), 0, 0, None]
        return [int(ResultCode.OK), gen, ttl, bins]

    def _read_result(self, record: Record, bins: tuple[str, ...] | None, header_only: bool) -> list:
        ttl = record.ttl(self.node.now)
        if header_only:
            return [record.gen, ttl, None, record.user_key]
        if bins is None:
            return [record.gen, ttl, record.bins, record.user_key]
        picked = {name: record.bins[name] for name in bins if name in record.bins}
        return [record.gen, ttl, picked, record.user_key]

    # ---- writes: each one holds its key in the rw-request table while it runs ------------------

    def on_Put(self, msg: Put) -> list:
        check_bins(msg.bins)
        if not msg.bins:
            raise InvalidRequest("a put needs at least one bin")
        ops = [(P.OPERATOR_WRITE, name, value) for name, value in msg.bins.items()]
        replace = msg.exists in (P.POLICY_EXISTS_REPLACE, P.POLICY_EXISTS_CREATE_OR_REPLACE)
        record, _ = self._serialised(msg.digest, lambda: self._write(msg, ops, replace))
        return [record.gen, record.ttl(self.node.now)] if record else [0, 0]

    def on_Operate(self, msg: Operate) -> list:
        if not msg.ops:
            raise InvalidRequest("operate needs at least one operation")
        record, reads = self._serialised(msg.digest, lambda: self._write(msg, list(msg.ops), False))
        if record is None:
            return [0, 0, reads]
        return [record.gen, record.ttl(self.node.now), reads]

    def on_Remove(self, msg: Remove) -> list:
        def remove() -> tuple[None, list]:
            store = self._store(msg.ns)
            current = store.get(self._digest(msg.digest), self.node.now)
            if current is None:
                raise RecordNotFound("record not found")
            _check_generation(msg.gen_policy, msg.gen, current)
            store.delete(msg.digest)
            return None, []

        self._serialised(msg.digest, remove)
        return [0, 0]

    def _serialised(self, digest: bytes, run: Any) -> Any:
        """Run a write while holding its key. Queued writes wait for replication (later issues);
        here every write completes at once, so admission is RUN unless the key is held."""
        admission = self.rw.admit(self._digest(digest), run)
        if admission is Admission.BUSY:
            raise RecordBusy(f"more than {self.rw.pending_limit} requests queued on this key")
        assert admission is Admission.RUN, "writes complete in one step, so none can be queued"
        try:
            return run()
        finally:
            nxt = self.rw.release(digest)
            assert nxt is None, "nothing can have queued while a one-step write ran"

    def _write(self, msg: Put | Operate, ops: list, replace: bool) -> tuple[Record | None, list]:
        """The write path after serialisation: policies, operations, generation, expiry, size."""
        store, now = self._store(msg.ns), self.node.now
        current = store.get(self._digest(msg.digest), now)
        _check_exists(msg.exists, current)
        _check_generation(msg.gen_policy, msg.gen, current)
        user_key = self._user_key(msg.user_key, current)
        base = {} if current is None or replace else current.bins
        outcome = apply_ops(base, ops, exists=current is not None)
        # a delete followed by writes leaves a record with only the new bins, as in Aerospike
        if (outcome.delete_record or outcome.wrote) and not outcome.bins:
            if current is not None:
                store.delete(msg.digest)
            return None, outcome.reads
        if not (outcome.wrote or outcome.touched):
            if current is None:
                raise RecordNotFound("record not found")
            return current, outcome.reads
        if current is None and not outcome.wrote:
            raise RecordNotFound("cannot touch a record that does not exist")
        record = self._next_version(msg, current, outcome, user_key)
        self._store_checked(store, msg.digest, record)
        return record, outcome.reads

    def _next_version(self, msg: Put | Operate, current: Record | None, outcome: OpsOutcome,
                      user_key: Any) -> Record:
        now = self.node.now
        ttl = outcome.ttl if outcome.ttl is not None else msg.ttl
        if not 0 <= ttl <= 0xFFFFFFFF:
            raise InvalidRequest(f"ttl {ttl} is not a valid 32-bit ttl")
        void_time = void_time_for(ttl, now, self._store(msg.ns).config.default_ttl, current)
        gen = next_generation(current.gen if current else 0)
        lut = max(now, current.lut) if current else now
        return Record(gen, void_time, lut, outcome.bins, msg.set_name, user_key)

    def _store_checked(self, store: NamespaceStore, digest: bytes, record: Record) -> None:
        blob = record.pack()
        limit = store.config.max_record_size
        if len(blob) > limit:
            raise RecordTooBig(f"record of {len(blob)} bytes exceeds the {limit} byte limit")
        store.put(digest, blob)

    # ---- checks shared by every request ---------------------------------------------------------

    def _store(self, ns: str) -> NamespaceStore:
        store = self.node.stores.get(ns)
        if store is None:
            raise NamespaceNotFound(f"namespace {ns!r} is not configured on {self.node.node_id}")
        return store

    @staticmethod
    def _digest(digest: bytes) -> bytes:
        if len(digest) != DIGEST_SIZE:
            raise InvalidRequest(f"a digest is {DIGEST_SIZE} bytes, not {len(digest)}")
        return digest

    @staticmethod
    def _user_key(sent: Any, current: Record | None) -> Any:
        """The key to store: the one sent (POLICY_KEY_SEND), else the one already stored."""
        if sent is None:
            return current.user_key if current else None
        if isinstance(sent, bool) or not isinstance(sent, _KEY_TYPES):
            raise InvalidRequest(f"a user key is str, int, float or bytes, not {type(sent).__name__}")
        if current is not None and current.user_key is not None and current.user_key != sent:
            raise RecordKeyMismatch("the stored key differs from the key sent")
        return sent


def _check_exists(policy: int, current: Record | None) -> None:
    """The exists policy: may this write create, update or replace?"""
    if policy not in range(5):
        raise InvalidRequest(f"unknown exists policy {policy}")
    if policy == P.POLICY_EXISTS_CREATE and current is not None:
        raise RecordExistsError("record already exists (POLICY_EXISTS_CREATE)")
    if policy in (P.POLICY_EXISTS_UPDATE, P.POLICY_EXISTS_REPLACE) and current is None:
        raise RecordNotFound("record not found (the exists policy requires it)")


def _check_generation(policy: int, gen: int, current: Record | None) -> None:
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
