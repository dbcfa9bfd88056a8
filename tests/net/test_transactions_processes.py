"""Multi-record transactions on real node processes: a short bank run over TCP (issue 5).

Three processes in SC mode, three clients taking turns, a node SIGKILLed in the middle. Time is
real, so the run waits on conditions (the bank's final read retries until a snapshot commits),
never on fixed sleeps for synchronisation; the only pause is the bank's own wait for every
transaction's deadline to pass, which is what recovery needs.
"""

from __future__ import annotations

import time

import pytest

from minikv import LocalCluster, NodeConfig
from minikv.jepsen.bank import Bank

# 2 s of silence before a peer is dead (default 0.5 s): on a loaded machine a starved node would
# look dead and the view would flap; this test is about transactions, not the failure detector.
PATIENT = NodeConfig(heartbeat_timeout_intervals=20)


@pytest.mark.slow
def test_bank_over_tcp_with_a_node_killed() -> None:
    """Concurrent transfers over TCP, a node killed mid-run: totals conserved, no acknowledged transfer lost."""
    with LocalCluster(nodes=3, config=PATIENT, mode="sc") as cluster:
        clients = [cluster.client(policies={"total_timeout": 3000}) for _ in range(3)]
        start = time.monotonic()

        def kill_once(step: int) -> None:
            if step == 60:
                cluster.kill("n3")

        bank = Bank(clients, sleep=time.sleep, clock=lambda: time.monotonic() - start, accounts=6, seed=1,
                    on_step=kill_once)
        result = bank.run(transfers=40, settle=cluster.wait_stable)
    assert result.valid, result.describe()
    assert result.count("ok") > 0 and result.explained
