"""Multi-record transactions, the node's half: provisional versions, locks, monitors, recovery.

Aerospike 8 runs a transaction as a two-phase commit driven by the client (minikv/txn_client.py)
around one durable coordinator record per transaction, the *monitor*. What a node does:

- A write inside a transaction keeps the committed version and stores the new one beside it,
  *provisional*, in the same packed record (`Record.txn`), which is then locked: other writers get
  MRT_BLOCKED, other readers the committed version. Replication and migration copy packed records,
  so locks reach replicas and new masters unchanged: a failover in the middle changes nothing.
- The monitor is an ordinary record (set "<ERO~MRT", keyed by the txn id; bins `id`, `keyds` =
  digests written, `fwd`, `deadline`). The client lists each digest there before writing it.
- Commit: verify the reads (TxnVerify), mark the monitor `fwd` (MonitorMark: the commit point,
  refused after the deadline), roll each write forward (TxnRoll), close the monitor. Abort rolls
  back and closes. Recovery: the master of a monitor past its deadline finishes the transaction
  itself (TxnService.tick): forward if `fwd` is set, back otherwise.

As atomic as the monitor's single master: in AP mode a split brain gives it two masters that may
decide differently, which is why Aerospike allows transactions only in SC namespaces. Left out:
`on_locking_only` and batch writes, `mrt-duration` config (a constant here), metrics, and resolving
a lock when another request meets it (Aerospike does; here only the sweeper does).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from minikv.core.messages import MonitorAdd, MonitorClose, MonitorMark, Operate, Put, Remove, Reply, TxnRoll, TxnVerify
from minikv.core.records import MONITOR_SET, Record, next_generation
from minikv.core.writes import WriteOutcome
from minikv.errors import (InvalidRequest, MRTAborted, MRTBlocked, MRTCommitted, MRTExpired, MRTMonitorExists,
                           MRTTooManyWrites, MRTVersionMismatch, ResultCode)
from minikv.keys import partition_id

if TYPE_CHECKING:
    from minikv.core.node import Node
    from minikv.core.storage import NamespaceStore

MRT_DURATION = 10  # seconds a transaction lives when the client asks for 0 (Aerospike: mrt-duration)
MRT_MAX_DURATION = 120  # seconds; Aerospike accepts 1..120
MAX_WRITES = 4096  # records one transaction may write (Aerospike's limit)
SWEEP_INTERVAL = 0.5  # seconds between two looks at the monitors this node holds
TOMBSTONE_TTL = 120  # seconds a closed monitor remembers its outcome, for a late commit()
NO_VERSION = (0, 0.0)  # the version of a record that does not exist


def version_of(record: Record | None) -> tuple[int, float]:
    """A record's committed version, as a transaction records it: (generation, last-update time).
    Aerospike packs the same pair in 7 bytes; the time tells a deleted-and-recreated record apart."""
    return (record.gen, record.lut) if record is not None and record.gen else NO_VERSION


def visible(record: Record | None, txn_id: int = 0) -> Record | None:
    """What a reader sees: its own transaction's provisional version; anyone else the committed
    one (None for a record that exists only provisionally: generation 0)."""
    if record is None or record.txn is None:
        return record
    if txn_id and record.txn[0] == txn_id:
        return None if record.txn[1] is None else Record.unpack(record.txn[1])
    return record if record.gen else None


def with_version(result: list, record: Record, txn_id: int) -> list:
    """A read's result, plus the version read when a transaction read it (verified at commit)."""
    return [*result, version_of(record)] if txn_id else result


# ---- a write inside a transaction ----------------------------------------------------------------


class TxnView:
    """The store as one transaction's write sees it, so writes.py runs on it unchanged: `put` and
    `delete` land beside the committed version, as the provisional one (`blob`, to replicate)."""

    def __init__(self, store: NamespaceStore, msg: Put | Operate | Remove, now: float):
        self.store, self.config, self.msg = store, store.config, msg
        self.stored = store.get(msg.digest, now)  # the committed version, with any lock
        self.blob: bytes | None = None
        check_lock(self.stored, msg, now)

    def get(self, digest: bytes, now: float) -> Record | None:
        return visible(self.stored, self.msg.txn_id)

    def put(self, digest: bytes, blob: bytes | None) -> None:
        committed = self.stored or Record(0, 0.0, 0.0, {}, self.msg.set_name)  # generation 0: none yet
        self.blob = committed._replace(txn=(self.msg.txn_id, blob)).pack()
        self.store.put(digest, self.blob)

    def delete(self, digest: bytes) -> bool:
        existed = self.get(digest, 0.0) is not None
        self.put(digest, None)  # the provisional version is "no record"
        return existed


def check_lock(stored: Record | None, msg: Put | Operate | Remove, now: float) -> None:
    """May this transaction write the record? Not after its deadline (the sweeper may have rolled
    it back already: a late write would leave a lock nobody releases), not over another's lock,
    and not if the record changed since the transaction read it (a lost update)."""
    if now >= msg.txn_deadline:
        raise MRTExpired("the transaction passed its deadline")
    if stored is not None and stored.txn is not None:
        if stored.txn[0] != msg.txn_id:
            raise MRTBlocked("the record is locked by another transaction")
    elif msg.read_version is not None and version_of(stored) != tuple(msg.read_version):
        raise MRTVersionMismatch("the record changed since this transaction read it")


def in_txn(msg: Any, apply: Callable, node: Node) -> Callable:
    """service.py's apply function for a write: as it is, or, inside a transaction, on a TxnView."""
    if not isinstance(msg, (Put, Operate, Remove)) or not msg.txn_id:
        return apply

    def provisional(store: NamespaceStore) -> WriteOutcome:
        view = TxnView(store, msg, node.now)
        outcome = apply(view)
        return WriteOutcome(outcome.record, outcome.reads, True, view.blob) if outcome.changed else outcome

    return provisional


# ---- the steps of commit and abort, each applied by the master of one record ---------------------
# Each step rewrites its record and replicates it even when nothing changed: a step retried after
# an in-doubt reply must not succeed on the master's word alone while a replica lacks the change.


def roll(store: NamespaceStore, msg: TxnRoll, now: float) -> WriteOutcome:
    """Forward: the provisional version becomes the record; back: the committed one stays (if any).
    Without this transaction's lock nothing changes: client and sweeper may roll any number of times."""
    stored = store.get(msg.digest, now)
    if stored is not None and stored.txn is not None and stored.txn[0] == msg.txn_id:
        committed = stored._replace(txn=None).pack() if stored.gen else None
        blob = stored.txn[1] if msg.forward else committed
        if blob is None:
            store.delete(msg.digest)
        else:
            store.put(msg.digest, blob)
    return WriteOutcome(None, [], True, store.blob(msg.digest))


def verify(store: NamespaceStore, msg: TxnVerify, now: float) -> WriteOutcome:
    """A read still holds at commit if the record is at the version read and no other transaction
    holds it (a locked record's committed version may change at any moment). Writes nothing."""
    stored = store.get(msg.digest, now)
    if stored is not None and stored.txn is not None and stored.txn[0] != msg.txn_id:
        raise MRTBlocked("a record read is locked by another transaction")
    if version_of(stored) != tuple(msg.version):
        raise MRTVersionMismatch("a record read was changed by someone else")
    return WriteOutcome(stored, [], False, None)


def monitor_add(store: NamespaceStore, msg: MonitorAdd, now: float) -> WriteOutcome:
    """List `keyd` in the monitor, creating it (and the deadline) on the first write."""
    monitor = store.get(msg.digest, now)
    if monitor is None:
        duration = msg.timeout or MRT_DURATION
        if not 1 <= duration <= MRT_MAX_DURATION:
            raise InvalidRequest(f"transaction timeout {duration} s is outside 1..{MRT_MAX_DURATION}")
        bins = {"id": msg.txn_id, "keyds": [], "fwd": False, "deadline": now + duration}
    elif (bins := _open(monitor, msg.txn_id, now))["fwd"]:
        raise MRTCommitted("the transaction is committing: it takes no more writes")
    if msg.keyd not in bins["keyds"]:
        if len(bins["keyds"]) >= MAX_WRITES:
            raise MRTTooManyWrites(f"a transaction writes at most {MAX_WRITES} records")
        bins = {**bins, "keyds": [*bins["keyds"], msg.keyd]}
    return _store_monitor(store, msg.digest, monitor, bins, now)


def monitor_mark(store: NamespaceStore, msg: MonitorMark, now: float) -> WriteOutcome:
    """The commit point: `fwd` is set, unless the deadline passed first (the sweeper then rolls
    back). Marking again is harmless."""
    monitor = store.get(msg.digest, now)
    if monitor is None:
        raise MRTExpired("no monitor: the transaction was rolled back after its deadline")
    bins = _open(monitor, msg.txn_id, now)
    return _store_monitor(store, msg.digest, monitor, {**bins, "fwd": True}, now)


def monitor_close(store: NamespaceStore, msg: MonitorClose, now: float) -> WriteOutcome:
    """Close the monitor to adds and marks, its outcome (`fwd`) fixed; with `done`, drop the digests:
    the tombstone tells a late commit() MRT_COMMITTED or MRT_ABORTED (Aerospike deletes it)."""
    monitor = store.get(msg.digest, now)
    if monitor is None or monitor.bins.get("id") != msg.txn_id:
        return WriteOutcome(None, [], False, None)
    bins = {**monitor.bins, "closed": True, "keyds": [] if msg.done else monitor.bins["keyds"]}
    return _store_monitor(store, msg.digest, monitor, bins, now, now + TOMBSTONE_TTL)


def _open(monitor: Record, txn_id: int, now: float) -> dict[str, Any]:
    """The bins of a monitor still open to this transaction's adds and marks."""
    bins = monitor.bins
    if bins.get("id") != txn_id:
        raise MRTMonitorExists("the monitor's key holds another record")
    if bins.get("closed"):
        raise (MRTCommitted if bins["fwd"] else MRTAborted)("the node finished this transaction")
    if not bins["fwd"] and now >= bins["deadline"]:
        raise MRTExpired("the transaction passed its deadline: it is being rolled back")
    return bins


def _store_monitor(store: NamespaceStore, digest: bytes, old: Record | None, bins: dict, now: float,
                   void_time: float = 0.0) -> WriteOutcome:
    lut = max(now, old.lut) if old else now
    record = Record(next_generation(old.gen if old else 0), void_time, lut, bins, MONITOR_SET)
    store.put(digest, blob := record.pack())
    return WriteOutcome(record, [], True, blob)


# ---- the role: serving the steps, finishing transactions past their deadline ---------------------


@dataclass(frozen=True, slots=True)
class InternalOrigin:
    """A request the node sends itself (the sweeper's): the reply goes to `done`, not a client."""

    done: Callable[[Reply], None]


@dataclass(slots=True)
class _Sweep:
    ns: str
    digest: bytes  # the monitor's
    txn_id: int
    left: int = 0  # rolls not answered yet
    failed: bool = False


class TxnService:
    """Serves the transaction steps; finishes transactions past their deadline (the sweeper)."""

    def __init__(self, node: Node):
        self.node, self._next_sweep = node, node.now
        self.sweeping: set[tuple[str, bytes]] = set()  # monitors being finished: {(ns, digest)}

    def on_MonitorAdd(self, msg: MonitorAdd, origin: Any) -> Any:
        return self._step(msg, origin, monitor_add, lambda out: [out.record.bins["deadline"]])

    def on_MonitorMark(self, msg: MonitorMark, origin: Any) -> Any:
        return self._step(msg, origin, monitor_mark, lambda out: [])

    def on_MonitorClose(self, msg: MonitorClose, origin: Any) -> Any:
        return self._step(msg, origin, monitor_close,
                          lambda out: [out.record.bins["fwd"], out.record.bins["keyds"]] if out.record else None)

    def on_TxnRoll(self, msg: TxnRoll, origin: Any) -> Any:
        return self._step(msg, origin, roll, lambda out: [])

    def on_TxnVerify(self, msg: TxnVerify, origin: Any) -> Any:
        return self._step(msg, origin, verify, lambda out: [])  # queued behind writes to the record

    def _step(self, msg: Any, origin: Any, apply: Callable, result: Callable) -> Any:
        """A step is a write of one record: routed to its master, serialised, replicated."""
        return self.node.service._write(msg, origin, lambda store: apply(store, msg, self.node.now), result)

    # ---- the sweeper -------------------------------------------------------------------------

    def tick(self, now: float) -> None:
        """Find monitors past their deadline (or closed by a node that died before rolling all)."""
        if now < self._next_sweep:
            return
        self._next_sweep = now + SWEEP_INTERVAL
        for ns, store in self.node.stores.items():
            for digest in list(store.monitors):
                monitor = store.get(digest, now)
                bins = monitor.bins if monitor is not None and monitor.set_name == MONITOR_SET else {}
                if not bins or (bins.get("closed") and not bins["keyds"]):  # gone, or a tombstone
                    store.monitors.discard(digest)
                elif ((bins.get("closed") or now >= bins["deadline"]) and (ns, digest) not in self.sweeping
                        and self.node.service._is_master(ns, partition_id(digest))):
                    self.sweeping.add((ns, digest))
                    self._close(_Sweep(ns, digest, bins["id"]), done=False)

    def _close(self, sweep: _Sweep, done: bool) -> None:
        """Closing first makes the outcome final on every replica before anything is rolled."""
        def closed(reply: Reply) -> None:
            if done or reply.rc != ResultCode.OK or reply.result is None:
                self.sweeping.discard((sweep.ns, sweep.digest))  # finished, or again next sweep
            else:
                self._roll_all(sweep, *reply.result)

        self.node.serve(InternalOrigin(closed), MonitorClose(sweep.ns, sweep.digest, sweep.txn_id, done))

    def _roll_all(self, sweep: _Sweep, fwd: bool, keyds: list[bytes]) -> None:
        self.node.log("TxnService", f"txn {sweep.txn_id:016x} is past its deadline: rolling {len(keyds)} "
                                    f"records {'forward' if fwd else 'back'}")
        sweep.left = len(keyds)
        for keyd in keyds:  # served as if a client had sent them: here, or proxied to their master
            self.node.serve(InternalOrigin(lambda reply: self._rolled(sweep, reply)),
                            TxnRoll(sweep.ns, keyd, sweep.txn_id, fwd))
        if not keyds:
            self._close(sweep, done=True)

    def _rolled(self, sweep: _Sweep, reply: Reply) -> None:
        sweep.left -= 1
        sweep.failed |= reply.rc != ResultCode.OK
        if sweep.left == 0 and sweep.failed:
            self.sweeping.discard((sweep.ns, sweep.digest))  # roll them all again at the next sweep
        elif sweep.left == 0:
            self._close(sweep, done=True)
