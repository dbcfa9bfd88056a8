"""A minikv node: a pure state machine composed of roles, driven by messages and ticks.

    effects = node.receive(origin, message, now)   # a request or a fabric message arrived
    effects = node.tick(now)                       # time passed

Both return the effects the runtime must carry out: `ToClient` replies and `Send`s to other
nodes. The node never reads a clock, opens a socket or prints: `now` is an argument, randomness
comes from the `rng` it is given, and everything it wants to say goes into its event log. That is
what lets the simulator replay a run exactly.

Dispatch is by message name: a `Heartbeat` goes to the role method called `on_Heartbeat`.
The roles, in Aerospike's vocabulary:

    HeartbeatMonitor  who is alive                       (heartbeat.py)
    ClusterManager    which view we are in               (clustering.py)
    PartitionTable    what we master, replicate, hold    (ownership.py, balance.py)
    Migrator          moving partitions into place       (migration.py)
    ReplicaWriter     copying writes, resolving dups     (replication.py)
    ClientService     serving reads and writes           (service.py)
    Consistency       SC: roster, availability, regimes  (consistency.py)
    TxnService        multi-record transaction steps     (transactions.py)
    InfoService       asinfo-style answers               (info.py)
"""

from __future__ import annotations

import random
from collections import Counter
from typing import Any, Callable, NamedTuple

from minikv.config import NodeConfig
from minikv.core.clustering import ClusterManager, View
from minikv.core.consistency import Consistency
from minikv.core.events import EventLog
from minikv.core.heartbeat import HeartbeatMonitor, Send
from minikv.core.hooks import DEFAULT_HOOKS, Hooks
from minikv.core.info import InfoService
from minikv.core.messages import CLIENT_REQUESTS, Reply
from minikv.core.fabric import ProxyReply
from minikv.core.migration import Migrator
from minikv.core.ownership import PartitionTable
from minikv.core.replication import ReplicaWriter
from minikv.core.sc_reads import ScReads
from minikv.core.service import PENDING, ClientService, ProxyOrigin
from minikv.core.storage import NamespaceStore
from minikv.core.transactions import InternalOrigin, TxnService
from minikv.errors import AerospikeError, RecordNotFound, ResultCode
from minikv.keys import N_PARTITIONS

TICK_INTERVAL = 0.05  # seconds between ticks the runtimes give a node


class ToClient(NamedTuple):
    """Effect: send `reply` back to where a request came from. `origin` is the runtime's handle
    (a connection and request id); the node only hands it back. A NamedTuple: as immutable as a
    frozen dataclass and cheaper to build, and one is built for every request."""

    origin: Any
    reply: Reply


# Which counter a request's outcome bumps, asinfo-style: client_<kind>_<outcome>
_KIND = {"Get": "read", "BatchRead": "read", "ScanPage": "read", "Put": "write",
         "Operate": "write", "Remove": "delete", "Info": "info", "Admin": "info"}
_FAIL_COUNTERS = {ResultCode.GENERATION_ERROR: "fail_generation", ResultCode.KEY_BUSY: "fail_key_busy",
                  ResultCode.RECORD_TOO_BIG: "fail_record_too_big"}


class Node:
    """One minikv node. Create it with its id, config, clock reading and RNG; feed it messages."""

    def __init__(self, node_id: str, config: NodeConfig, now: float, rng: random.Random,
                 hooks: Hooks = DEFAULT_HOOKS):
        self.node_id = node_id
        self.config = config
        self.hooks = hooks  # the learner-replaceable decisions (hooks.py)
        self.now = now
        self.started = now
        self.rng = rng
        self.stats: Counter[str] = Counter()  # asinfo counters: client_read_success, ...
        self.events = EventLog(node_id, config.event_log_size)
        self.stores = {ns.name: NamespaceStore(ns) for ns in config.namespaces}
        self.heartbeat = HeartbeatMonitor(node_id, config, lambda: self.now, hooks.peer_alive)
        self.cluster = ClusterManager(self)
        self.consistency = Consistency(self)
        self.partitions = PartitionTable(self)
        self.migrator = Migrator(self)
        self.replication = ReplicaWriter(self)
        self.service = ClientService(self)
        self.txns = TxnService(self)
        self.sc_reads = ScReads(self)
        self.info = InfoService(self)
        self._handlers = _handlers_of(self.heartbeat, self.cluster, self.partitions, self.migrator,
                                      self.replication, self.service, self.info, self.txns)
        self._outbox: list[ToClient | Send] = []
        self._next_pulse = self._next_purge_slice = now
        self.log("Node", f"{node_id} started: namespaces {', '.join(self.stores)}")

    # ---- the two entry points --------------------------------------------------------------------

    def receive(self, origin: Any, message: Any, now: float) -> list[ToClient | Send]:
        """Handle one message: a client request (answered now or later) or a fabric message."""
        self.now = now
        if isinstance(message, CLIENT_REQUESTS):
            self.serve(origin, message)
            return self._drain()
        name = type(message).__name__
        handler = self._handlers.get(name)
        if handler is not None:
            self._fabric(name, handler, message)
        else:  # a reply or a message nobody here handles: say so, never drop it silently
            self.reply(origin, Reply(ResultCode.UNSUPPORTED_FEATURE, f"{name} is not served by a node"))
        return self._drain()

    def tick(self, now: float) -> list[ToClient | Send]:
        """Time passed: heartbeats, clustering quanta, retransmits, timeouts, expiry purge."""
        self.now = now
        if now >= self._next_pulse:
            self._next_pulse = now + self.config.heartbeat_interval
            for send in self.heartbeat.pulses(self.ckey, self.members, now):
                self._outbox.append(send)
        self.cluster.tick(now)
        self.migrator.tick(now)
        self.replication.tick(now)
        self.partitions.tick()
        self.service.tick(now)
        self.service.populate_slice(now)
        self.txns.tick(now)
        if now >= self._next_purge_slice:
            self._next_purge_slice = now + TICK_INTERVAL
            self._purge_slice()
        return self._drain()

    # ---- what roles use --------------------------------------------------------------------------

    @property
    def ckey(self) -> int:
        return self.cluster.view.ckey

    @property
    def members(self) -> tuple[str, ...]:
        return self.cluster.view.succession

    def send(self, to: str, message: Any) -> None:
        """Queue a fabric message to node `to` (dropped if we never learned its address)."""
        address = self.heartbeat.addresses.get(to)
        if address is not None:
            self._outbox.append(Send(to, address, message))

    def reply(self, origin: Any, reply: Reply) -> None:
        if isinstance(origin, ProxyOrigin):
            self.send(origin.src, ProxyReply(self.node_id, origin.tid, reply))
        elif isinstance(origin, InternalOrigin):  # the node asked itself (transactions.py)
            origin.done(reply)
        else:
            self._outbox.append(ToClient(origin, reply))

    def log(self, role: str, text: str) -> None:
        self.events.log(self.now, role, text)

    def partition_versions(self) -> dict:
        return {**self.partitions.versions(), **self.consistency.report()}

    def on_view_change(self, view: View, versions: dict[str, dict]) -> None:
        """A new view was committed: stop old migrations, rebalance, stop waiting for leavers."""
        self.migrator.reset()
        self.partitions.rebalance(view, versions)
        self.replication.forget_departed(set(view.succession))
        self.sc_reads.forget_untrusted()

    # ---- internals -------------------------------------------------------------------------------

    def serve(self, origin: Any, message: Any) -> None:
        """Run a client request (from a client, or proxied by another node)."""
        name = type(message).__name__
        handler = self._handlers[name]
        try:
            result = handler(message, origin)
        except Exception as exc:  # noqa: BLE001 - every failure becomes an answer
            self.finish(origin, name, exc)
            return
        if result is not PENDING:
            self.finish(origin, name, result)

    def finish(self, origin: Any, name: str, outcome: Any) -> None:
        """Answer a client request with a result or an exception, counting it asinfo-style."""
        kind = _KIND.get(name, "other")
        if not isinstance(outcome, Exception):  # success, the usual case, decided first
            self.stats[f"client_{kind}_success"] += 1
            self.reply(origin, Reply(ResultCode.OK, "", outcome))
        elif isinstance(outcome, RecordNotFound):
            self.stats[f"client_{kind}_not_found"] += 1
            self.reply(origin, Reply(outcome.code, outcome.msg))
        elif isinstance(outcome, AerospikeError):
            self.stats[f"client_{kind}_error"] += 1
            if outcome.code in _FAIL_COUNTERS:
                self.stats[_FAIL_COUNTERS[outcome.code]] += 1
            self.reply(origin, Reply(outcome.code, outcome.msg))
        else:  # a bug in minikv: answer, log, keep serving
            self.stats[f"client_{kind}_error"] += 1
            self.log("Node", f"internal error on {name}: {type(outcome).__name__}: {outcome}")
            self.reply(origin, Reply(ResultCode.SERVER_ERROR, f"internal error: {type(outcome).__name__}: {outcome}"))

    def _fabric(self, name: str, handler: Callable, message: Any) -> None:
        try:
            handler(message)
        except Exception as exc:  # noqa: BLE001 - a bad peer message must not stop the node
            self.log("Node", f"dropped {name} from {getattr(message, 'src', '?')}: {type(exc).__name__}: {exc}")

    def _drain(self) -> list[ToClient | Send]:
        out, self._outbox = self._outbox, []
        return out

    def _purge_slice(self) -> None:
        share = TICK_INTERVAL / self.config.nsup_period
        n_partitions = max(1, min(N_PARTITIONS, round(N_PARTITIONS * share)))
        for name, store in self.stores.items():
            purged = store.purge_expired(self.now, n_partitions)
            if purged:
                self.stats["expired_objects"] += purged
                self.log("Nsup", f"purged {purged} expired records from namespace {name}")


def _handlers_of(*roles: Any) -> dict[str, Callable]:
    """{message name: bound method} for every `on_<Message>` method of the roles."""
    handlers: dict[str, Callable] = {}
    for role in roles:
        for attr in dir(role):
            if attr.startswith("on_") and attr[3].isupper():
                assert attr[3:] not in handlers, f"two roles handle {attr[3:]}"
                handlers[attr[3:]] = getattr(role, attr)
    return handlers
