"""The SC operator's verbs, shared by LocalCluster and SimCluster (notebook 05).

Aerospike's operator stages a roster with `roster-set`, applies it with `recluster`, and
revives dead partitions with `revive`; asinfo's `roster:` shows roster, pending roster and the
nodes observed in the cluster. These methods send the same info commands to every live node
(Aerospike spreads the roster through its system metadata; the cluster's members then agree on
the highest roster version during the next clustering round).
"""

from __future__ import annotations

import time
from typing import Any, Callable


class RosterCommands:
    """Mixed into both runtimes; needs `info`, `node_states`, `wait_stable` and `node_ids`."""

    def roster(self, ns: str = "test") -> dict[str, list[str]]:
        """{"roster": [...], "pending_roster": [...], "observed_nodes": [...]} as a live node sees it."""
        answer = self.info(self._any_live(), f"roster:namespace={ns}")
        if isinstance(answer, str):  # an error: info() returns text that has no k=v pairs as is
            raise ValueError(answer.removeprefix("ERROR::"))
        # Aerospike separates the fields with ':', which info()'s k=v;k=v parser leaves joined
        text = ":".join(f"{name}={value}" for name, value in answer.items())
        fields = dict(part.split("=", 1) for part in text.split(":"))
        return {name: [] if value == "null" else value.split(",") for name, value in fields.items()}

    def set_roster(self, nodes: list[str] | None = None, ns: str = "test") -> list[str]:
        """Stage a roster (default: every node observed now); `recluster()` applies it."""
        nodes = sorted(nodes if nodes is not None else self.roster(ns)["observed_nodes"])
        for node_id in self._live():
            self._expect_ok(self.info(node_id, f"roster-set:namespace={ns};nodes={','.join(nodes)}"))
        return nodes

    def recluster(self, wait: bool = True) -> None:
        """Apply staged rosters and rebalance (Aerospike's `recluster:`)."""
        before = self.views()
        for node_id in self._live():
            self._expect_ok(self.info(node_id, "recluster:"))
        if wait:  # until the principal's round gave every live node a new view, then settled
            self._await(lambda: all(view != before.get(n) for n, view in self.views().items()))
            self.wait_stable()

    def revive(self, ns: str = "test", wait: bool = True) -> None:
        """Accept data loss: dead partitions come back from the best copy left, then recluster."""
        for node_id in self._live():
            self._expect_ok(self.info(node_id, f"revive:namespace={ns}"))
        self.recluster(wait)

    def _start_roster(self, ns: str = "test") -> None:
        """mode="sc": the roster is every node we started with, applied before the first view."""
        for node_id in self._live():
            self._expect_ok(self.info(node_id, f"roster-set:namespace={ns};nodes={','.join(self.node_ids)}"))
            self._expect_ok(self.info(node_id, "recluster:"))

    def _await(self, done: Callable[[], bool], timeout: float = 10.0) -> None:
        """Wait for `done`: in virtual time for the simulator, by polling for processes."""
        if hasattr(self, "run_until"):
            ok = self.run_until(done, timeout)
        else:
            deadline = time.monotonic() + timeout
            while not (ok := done()) and time.monotonic() < deadline:
                time.sleep(0.02)  # polling a condition, with a deadline
        if not ok:
            raise TimeoutError(f"no new view after recluster within {timeout} s: {self.views()}")

    def _live(self) -> list[str]:
        return [n for n, state in self.node_states().items() if state == "alive"]

    def _any_live(self) -> str:
        live = self._live()
        if not live:
            raise RuntimeError("no node is alive")
        return live[0]

    @staticmethod
    def _expect_ok(answer: Any) -> None:
        if answer != "ok":
            raise ValueError(str(answer).removeprefix("ERROR::"))
