"""The client service: how a node serves reads and writes in a cluster.

A request for a key first finds its partition. If this node is not the partition's working
master, it *proxies* the request there and relays the answer (the client's map was stale; it
will catch up). On the master a write then follows Aerospike's transaction path:

    serialise behind other writes to the key (RwRequestTable; > 20 waiting -> RecordBusy)
    -> resolve duplicates if the partition has them (ask their holders, keep the best copy)
    -> apply locally (writes.py: policies, operations, generation, expiry, size)
    -> replicate to the other replicas; with commit level ALL wait for their acks
    -> answer, release the key, start the next waiting write.

Any step may wait for other nodes, so handlers return PENDING and the answer goes out later.
Reads are served by the master, or by a replica holding a full copy when the client chose one.
Notebooks 00 and 03 follow this path; notebook 06 leans on the generation checks.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from minikv import policies as P
from minikv.core.fabric import Proxy, ProxyReply
from minikv.core.messages import Admin, BatchRead, Get, Operate, Put, Remove, ScanPage
from minikv.core.records import Record, check_bins
from minikv.core.rw_requests import Admission, RwRequestTable
from minikv.core.storage import NamespaceStore
from minikv.core.transactions import in_txn, visible, with_version
from minikv.core.writes import WriteOutcome, apply_remove, apply_write
from minikv.errors import (
    AerospikeError,
    ClusterError,
    InvalidRequest,
    NamespaceNotFound,
    RecordBusy,
    RecordNotFound,
    ResultCode,
    TimeoutError,
)
from minikv.keys import DIGEST_SIZE, N_PARTITIONS, partition_id

if TYPE_CHECKING:
    from minikv.core.node import Node

PENDING = object()  # a handler's "the answer will come later"
POPULATE_SLICE = 20_000  # records a bulk load writes per tick (~0.1 s of work: beats still go out)


@dataclass(frozen=True, slots=True)
class ProxyOrigin:
    """Where a proxied request came from: answer with a ProxyReply to that node."""

    src: str
    tid: int


class ClientService:
    """Serves client requests on one node. Request handlers take (message, origin)."""

    def __init__(self, node: Node):
        self.node = node
        self.rw = RwRequestTable(node.config.transaction_pending_limit)
        self._tids = itertools.count(1)
        self.proxies: dict[int, tuple[Any, str, float]] = {}  # {tid: (origin, request name, deadline)}
        self.populating: list[list] = []  # bulk loads in progress: [ns, next index, end]

    # ---- reads -----------------------------------------------------------------------------------

    def on_Get(self, msg: Get, origin: Any) -> Any:
        if self.node.consistency.is_sc(msg.ns):
            return self.node.sc_reads.on_Get(msg, origin)  # read modes, regimes (sc_reads.py)
        store, pid = self._store(msg.ns), partition_id(self._digest(msg.digest))
        if not self._can_read(msg.ns, pid):
            return self._proxy(msg, origin, msg.ns, pid)
        return self.read_local(store, msg)

    def read_local(self, store: NamespaceStore, msg: Get) -> list:
        """Answer a read from this node's copy."""
        record = visible(store.get(msg.digest, self.node.now), msg.txn_id)  # a lock hides provisional data
        if record is None:
            raise RecordNotFound("record not found")
        return with_version(self._read_result(record, msg.bins, msg.header_only), record, msg.txn_id)

    def on_BatchRead(self, msg: BatchRead, origin: Any) -> list:
        return [self._batch_item(ns, digest, msg) for ns, digest in msg.keys]

    def _batch_item(self, ns: str, digest: bytes, msg: BatchRead) -> list:
        try:
            store, pid = self._store(ns), partition_id(self._digest(digest))
            if not self._can_read(ns, pid):
                raise ClusterError("this node does not hold the partition")
            record = visible(store.get(digest, self.node.now))
            if record is None:
                raise RecordNotFound("record not found")
        except AerospikeError as exc:
            return [int(exc.code), 0, 0, None]
        gen, ttl, bins, _ = self._read_result(record, msg.bins, msg.header_only)
        return [int(ResultCode.OK), gen, ttl, bins]

    def on_ScanPage(self, msg: ScanPage, origin: Any) -> dict:
        """Whole partitions we master, in the order asked, up to about max_records; pids we do
        not master come back in "missed" for the client to ask their master."""
        store, rows, done, missed = self._store(msg.ns), [], 0, []
        for pid in msg.pids:
            if not 0 <= pid < N_PARTITIONS:
                raise InvalidRequest(f"partition id {pid} outside 0..{N_PARTITIONS - 1}")
            done += 1
            if not self._is_master(msg.ns, pid):
                missed.append(pid)
                continue
            for digest, record in store.live_records(pid, self.node.now):
                if visible(record) and (msg.set_name is None or record.set_name == msg.set_name):
                    _, ttl, bins, user_key = self._read_result(record, msg.bins, False)
                    rows.append([digest, user_key, record.gen, ttl, bins])
            if len(rows) >= msg.max_records:
                break
        return {"records": rows, "done": done, "missed": missed}

    def _read_result(self, record: Record, bins: tuple[str, ...] | None, header_only: bool) -> list:
        ttl = record.ttl(self.node.now)
        if header_only:
            return [record.gen, ttl, None, record.user_key]
        if bins is not None:
            return [record.gen, ttl, {b: record.bins[b] for b in bins if b in record.bins}, record.user_key]
        return [record.gen, ttl, record.bins, record.user_key]

    # ---- writes ----------------------------------------------------------------------------------

    def on_Put(self, msg: Put, origin: Any) -> Any:
        check_bins(msg.bins)
        if not msg.bins:
            raise InvalidRequest("a put needs at least one bin")
        ops = [(P.OPERATOR_WRITE, name, value) for name, value in msg.bins.items()]
        replace = msg.exists in (P.POLICY_EXISTS_REPLACE, P.POLICY_EXISTS_CREATE_OR_REPLACE)
        return self._write(msg, origin, lambda store: apply_write(store, msg, ops, replace, self.node.now),
                           lambda out: [out.record.gen, out.record.ttl(self.node.now)] if out.record else [0, 0])

    def on_Operate(self, msg: Operate, origin: Any) -> Any:
        if not msg.ops:
            raise InvalidRequest("operate needs at least one operation")
        def result(out: WriteOutcome) -> list:
            return [out.record.gen, out.record.ttl(self.node.now), out.reads] if out.record else [0, 0, out.reads]
        return self._write(msg, origin, lambda store: apply_write(store, msg, list(msg.ops), False, self.node.now),
                           result)

    def on_Remove(self, msg: Remove, origin: Any) -> Any:
        return self._write(msg, origin, lambda store: apply_remove(store, msg, self.node.now), lambda out: [0, 0])

    def _write(self, msg: Put | Operate | Remove, origin: Any, apply: Callable[[NamespaceStore], WriteOutcome],
               result: Callable[[WriteOutcome], Any]) -> Any:
        """Route to the master, then run the write while holding its key."""
        store, pid = self._store(msg.ns), partition_id(self._digest(msg.digest))
        if not self._is_master(msg.ns, pid):
            return self._proxy(msg, origin, msg.ns, pid)
        apply = in_txn(msg, apply, self.node)  # inside a transaction, on a TxnView (transactions.py)
        return self.hold_key(msg, lambda: self._resolve_then_apply(msg, origin, store, pid, apply, result))

    def hold_key(self, msg: Any, job: Callable[[], None]) -> Any:
        """Run `job` once no earlier request holds the key; it must end with `_complete`."""
        admission = self.rw.admit(msg.digest, job)
        if admission is Admission.BUSY:
            raise RecordBusy(f"more than {self.rw.pending_limit} requests queued on this key")
        if admission is Admission.RUN:
            job()
        return PENDING

    def _resolve_then_apply(self, msg: Any, origin: Any, store: NamespaceStore, pid: int,
                            apply: Callable, result: Callable) -> None:
        duplicates = self._duplicates(msg.ns, pid)
        if not duplicates:
            self._apply(msg, origin, store, pid, apply, result)
            return
        def resolved(ok: bool) -> None:
            if ok:
                self._apply(msg, origin, store, pid, apply, result)
            else:
                self._complete(msg, origin, TimeoutError("duplicate resolution timed out"))
        self.node.replication.dup_resolve(msg.ns, msg.digest, duplicates, resolved)

    def _apply(self, msg: Any, origin: Any, store: NamespaceStore, pid: int, apply: Callable,
               result: Callable) -> None:
        sc = self.node.consistency.is_sc(msg.ns)
        if sc and not self._is_master(msg.ns, pid):  # SC: the view changed while it waited
            self._complete(msg, origin, ClusterError(f"{self.node.node_id} no longer masters partition {pid}"))
            return
        try:
            outcome = apply(store)
        except Exception as exc:  # noqa: BLE001 - refused: answer it and free the key
            self._complete(msg, origin, exc)
            return
        if not outcome.changed:
            self._complete(msg, origin, result(outcome))
            return
        def replicated(ok: bool) -> None:
            if sc:
                self.node.sc_reads.written(msg.ns, msg.digest, ok)
            answer = result(outcome) if ok else TimeoutError("replica acks timed out", in_doubt=True)
            self._complete(msg, origin, answer)
        wait = msg.commit_level == P.POLICY_COMMIT_LEVEL_ALL or sc  # SC: always every replica
        regime = self.node.consistency.regime(msg.ns, pid) if sc else 0
        self.node.replication.replicate(msg.ns, msg.digest, outcome.blob, self._targets(msg.ns, pid),
                                        wait, replicated, regime)

    def _complete(self, msg: Any, origin: Any, outcome: Any) -> None:
        self.node.finish(origin, type(msg).__name__, outcome)
        waiting = self.rw.release(msg.digest)
        if waiting is not None:
            waiting()

    # ---- where a partition lives -----------------------------------------------------------------

    def _is_master(self, ns: str, pid: int) -> bool:
        return self.node.partitions.state(ns, pid).working_master == self.node.node_id

    def _can_read(self, ns: str, pid: int) -> bool:
        state = self.node.partitions.state(ns, pid)
        return state.working_master == self.node.node_id or (
            state.plan is not None and bool(state.plan.working_master) and self.node.node_id in state.plan.replicas
            and state.copy is not None and state.copy.full)

    def _targets(self, ns: str, pid: int) -> list[str]:
        """Every other replica, plus the final master if it is still gathering data."""
        plan, me, members = self.node.partitions.state(ns, pid).plan, self.node.node_id, self.node.members
        return [n for n in plan.replicas if n != me and n in members]

    def _duplicates(self, ns: str, pid: int) -> list[str]:
        state = self.node.partitions.state(ns, pid)
        if state.plan is None or not (state.leads_pending or state.working_master != state.plan.final_master):
            return []
        return [n for n in state.plan.duplicates if n != self.node.node_id]

    # ---- proxies ---------------------------------------------------------------------------------

    def _proxy(self, msg: Any, origin: Any, ns: str, pid: int) -> Any:
        master = self.node.partitions.state(ns, pid).working_master
        if isinstance(origin, ProxyOrigin) or master is None or master == self.node.node_id:
            raise ClusterError(f"partition {pid} of {ns} is unavailable on {self.node.node_id}")
        tid = next(self._tids)
        self.proxies[tid] = (origin, type(msg).__name__, self.node.now + self.node.config.transaction_max)
        self.node.send(master, Proxy(self.node.node_id, tid, msg))
        return PENDING

    def on_Proxy(self, msg: Proxy) -> None:
        self.node.serve(ProxyOrigin(msg.src, msg.tid), msg.request)

    def on_ProxyReply(self, msg: ProxyReply) -> None:
        entry = self.proxies.pop(msg.tid, None)
        if entry is not None:
            self.node.reply(entry[0], msg.reply)

    def tick(self, now: float) -> None:
        for tid, (origin, name, deadline) in list(self.proxies.items()):
            if now >= deadline:
                del self.proxies[tid]
                self.node.finish(origin, name, TimeoutError("proxied request timed out", in_doubt=True))

    # ---- administration and checks ---------------------------------------------------------------

    def on_Admin(self, msg: Admin, origin: Any) -> str:
        if msg.command == "seeds":
            self.node.heartbeat.address = tuple(msg.args["self"])
            self.node.heartbeat.seeds = {tuple(a) for a in msg.args["addresses"]}
            return "ok"
        if msg.command == "populate":  # bulk-load test data (benchmarks, the GC-pause test)
            self.populating.append([msg.args.get("ns", "test"), 0, int(msg.args["count"])])
            return "ok"
        raise InvalidRequest(f"unknown admin command {msg.command!r}")

    def populate_slice(self, now: float) -> None:
        """Write the next slice of a bulk load straight into the store, without replication.
        Sliced across ticks so heartbeats keep flowing while a million records go in."""
        if not self.populating:
            return
        job = self.populating[0]
        ns, start, end = job
        store = self._store(ns)
        stop = min(end, start + POPULATE_SLICE)
        for i in range(start, stop):  # random digests: the load is only there to be held
            store.put(self.node.rng.randbytes(DIGEST_SIZE), Record(1, 0.0, now, {"i": i, "pad": "x" * 16}, "bulk").pack())
        job[1] = stop
        if stop == end:
            self.populating.pop(0)
            self.node.log("Service", f"populated {end} records into {ns}")

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
