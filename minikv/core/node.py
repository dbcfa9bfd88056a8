"""A minikv node: a pure state machine composed of roles, driven by messages and ticks.

    effects = node.receive(origin, message, now)   # a request arrived
    effects = node.tick(now)                       # time passed

Both return the effects the runtime must carry out (for now, replies to clients). The node never
reads a clock, opens a socket or prints: `now` is an argument, and everything it wants to say
goes into its event log. That is what lets the simulator replay a run exactly.

Dispatch is by message name: a `Get` goes to the role method called `on_Get`. Today the roles are
the client service, the info service and the namespace supervisor's purge; the cluster issues add
heartbeats, partition balance and migrations as further roles.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable

from minikv.config import NodeConfig
from minikv.core.events import EventLog
from minikv.core.info import InfoService
from minikv.core.messages import Reply
from minikv.core.service import ClientService
from minikv.core.storage import NamespaceStore
from minikv.errors import AerospikeError, RecordNotFound, ResultCode
from minikv.keys import N_PARTITIONS

TICK_INTERVAL = 0.05  # seconds between ticks the runtimes give a node


@dataclass(frozen=True, slots=True)
class ToClient:
    """Effect: send `reply` back to where a request came from. `origin` is the runtime's handle
    (a connection and request id); the node only hands it back."""

    origin: Any
    reply: Reply


# Which counter a request's outcome bumps, asinfo-style: (request kind, outcome) -> statistic
_KIND = {"Get": "read", "BatchRead": "read", "ScanPage": "read", "Put": "write",
         "Operate": "write", "Remove": "delete", "Info": "info"}
_FAIL_COUNTERS = {ResultCode.GENERATION_ERROR: "fail_generation", ResultCode.KEY_BUSY: "fail_key_busy",
                  ResultCode.RECORD_TOO_BIG: "fail_record_too_big"}


class Node:
    """One minikv node. Create it with its id and config; feed it messages and ticks."""

    def __init__(self, node_id: str, config: NodeConfig, now: float, rng: random.Random):
        self.node_id = node_id
        self.config = config
        self.now = now
        self.started = now
        self.stats: Counter[str] = Counter()  # asinfo counters: client_read_success, ...
        self.events = EventLog(node_id, config.event_log_size)
        self.stores = {ns.name: NamespaceStore(ns) for ns in config.namespaces}
        # Aerospike: a random 48-bit non-zero key names each cluster view. A lone node is a
        # cluster of one; the cluster issues rebuild this with every view change.
        self.cluster_key = rng.getrandbits(48) | 1
        self.partition_generation = 1
        self.service = ClientService(self)
        self.info = InfoService(self)
        self._handlers = _handlers_of(self.service, self.info)
        self._next_purge_slice = now
        self.log("Node", f"{node_id} started: namespaces {', '.join(self.stores)}")

    def receive(self, origin: Any, message: Any, now: float) -> list[ToClient]:
        """Handle one request; returns the reply effect (errors become error replies)."""
        self.now = now
        name = type(message).__name__
        handler = self._handlers.get(name)
        if handler is None:  # a known message this node does not serve: say so, never drop it
            reply = Reply(ResultCode.UNSUPPORTED_FEATURE, f"{name} is not served by a node")
        else:
            reply = self._answer(name, handler, message)
        return [ToClient(origin, reply)]

    def tick(self, now: float) -> list[ToClient]:
        """Time passed: purge a slice of expired records (a whole pass per nsup_period)."""
        self.now = now
        if now >= self._next_purge_slice:
            self._next_purge_slice = now + TICK_INTERVAL
            self._purge_slice()
        return []

    def log(self, role: str, text: str) -> None:
        self.events.log(self.now, role, text)

    # ---- internals ------------------------------------------------------------------------------

    def _answer(self, name: str, handler: Callable[[Any], Any], message: Any) -> Reply:
        kind = _KIND.get(name, "other")
        try:
            result = handler(message)
        except RecordNotFound as exc:
            self.stats[f"client_{kind}_not_found"] += 1
            return Reply(exc.code, exc.msg)
        except AerospikeError as exc:
            self.stats[f"client_{kind}_error"] += 1
            if exc.code in _FAIL_COUNTERS:
                self.stats[_FAIL_COUNTERS[exc.code]] += 1
            return Reply(exc.code, exc.msg)
        except Exception as exc:  # a bug in minikv: answer, log, keep serving
            self.stats[f"client_{kind}_error"] += 1
            self.log("Node", f"internal error on {name}: {type(exc).__name__}: {exc}")
            return Reply(ResultCode.SERVER_ERROR, f"internal error: {type(exc).__name__}: {exc}")
        self.stats[f"client_{kind}_success"] += 1
        return Reply(ResultCode.OK, "", result)

    def _purge_slice(self) -> None:
        share = TICK_INTERVAL / self.config.nsup_period
        n_partitions = max(1, min(N_PARTITIONS, round(N_PARTITIONS * share)))
        for name, store in self.stores.items():
            purged = store.purge_expired(self.now, n_partitions)
            if purged:
                self.stats["expired_objects"] += purged
                self.log("Nsup", f"purged {purged} expired records from namespace {name}")


def _handlers_of(*roles: Any) -> dict[str, Callable[[Any], Any]]:
    """{message name: bound method} for every `on_<Message>` method of the roles."""
    handlers: dict[str, Callable[[Any], Any]] = {}
    for role in roles:
        for attr in dir(role):
            if attr.startswith("on_"):
                assert attr[3:] not in handlers, f"two roles handle {attr[3:]}"
                handlers[attr[3:]] = getattr(role, attr)
    return handlers
