"""Hooks: the few decisions a learner may replace with their own function (exercises).

The course asks learners to write pieces of the cluster: the partitioner, the failure detector,
the conflict resolver, the SC availability rule. A `Hooks` object carries those functions into a
node, so a learner's code can drive a real SimCluster or LocalCluster. Each field defaults to
minikv's own function, and the core calls the hook, never the default directly.

The core stays pure: it never imports a learner's module. The runtimes resolve the config's
`plugins` ("module:function" strings, importable by a node process too) into a Hooks object
(`minikv/plugins.py`) and hand it to `Node`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields

from minikv.core.conflicts import incoming_wins
from minikv.core.consistency import is_available
from minikv.core.partitions import succession_row


def peer_alive(last_heard: float | None, now: float, timeout: float) -> bool:
    """minikv's failure detector: a peer is alive if its last heartbeat is younger than `timeout`."""
    return last_heard is not None and now - last_heard < timeout


@dataclass(frozen=True, slots=True)
class Hooks:
    """The replaceable decisions, each with minikv's own function as the default."""

    # (pid, members by descending node id) -> members in the partition's order (master first)
    succession_row: Callable[[int, tuple[str, ...]], list[str]] = succession_row
    # (time of the peer's last heartbeat or None, now, timeout seconds) -> is it alive?
    peer_alive: Callable[[float | None, float, float], bool] = peer_alive
    # (local Record or None, incoming Record, policy name) -> should the incoming copy win?
    incoming_wins: Callable = incoming_wins
    # (roster replicas of a partition, roster, members of this sub-cluster) -> may it serve? (SC)
    is_available: Callable[[tuple[str, ...], tuple[str, ...], set[str]], bool] = is_available

    @property
    def custom(self) -> bool:
        """True when any hook is not minikv's own (caches keyed on the defaults must step aside)."""
        return any(getattr(self, f.name) is not f.default for f in fields(self))


HOOK_NAMES = tuple(f.name for f in fields(Hooks))
DEFAULT_HOOKS = Hooks()
