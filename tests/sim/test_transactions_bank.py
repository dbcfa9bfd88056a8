"""The bank workload on multi-record transactions, in the simulator (issue 5, "must hold").

Four client processes make random transfers between eight accounts while others take read-only
snapshots; every committed snapshot and the final balances must sum to the starting total, and
the final balances must be the start plus the acknowledged transfers (none lost, none half
applied). AP mode is run without faults; SC mode with node kills and a partition, the setting
Aerospike requires for transactions. Each seed replays identically.
"""

from __future__ import annotations

import pytest

import minikv
from minikv.jepsen.bank import Bank, BankResult

ACCOUNTS = 8
PROCESSES = 4


def bank_run(mode: str, seed: int, transfers: int, faults: bool) -> BankResult:
    sim = minikv.SimCluster(nodes=3, seed=seed, mode=mode)
    if faults:  # a node dies and comes back (empty), then one node is cut off from the other two
        for at, action in [(0.3, lambda: sim.kill("n2")), (1.3, lambda: sim.restart("n2")),
                           (1.6, lambda: sim.partition(["n1"], ["n2", "n3"])), (3.2, sim.heal)]:
            sim.schedule(at, action)

    def settle() -> None:
        sim.heal()
        for node, state in sim.node_states().items():
            if state == "dead":
                sim.restart(node)
        sim.wait_stable()

    clients = [sim.client() for _ in range(PROCESSES)]
    bank = Bank(clients, sleep=sim.run_for, clock=lambda: sim.now, accounts=ACCOUNTS, seed=seed)
    return bank.run(transfers=transfers, settle=settle)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_bank_in_ap_mode_without_faults(seed: int) -> None:
    """Without faults, concurrent transfers conserve the total in every snapshot and at the end, and none is lost."""
    result = bank_run("ap", seed, transfers=60, faults=False)
    assert result.valid, result.describe()
    assert result.count("ok") > 0 and result.snapshots and result.explained


@pytest.mark.parametrize("seed", [1, 3])
def test_bank_in_sc_mode_with_kills_and_a_partition(seed: int) -> None:
    """In SC mode, with a node killed and restarted and a partition, no transfer is half applied or lost."""
    result = bank_run("sc", seed, transfers=50, faults=True)
    assert result.valid, result.describe()
    assert result.count("ok") > 0 and result.snapshots and result.explained


def test_bank_runs_replay_identically() -> None:
    """The same seed gives the same transfers, outcomes and snapshots."""
    first, second = (bank_run("ap", 7, transfers=15, faults=False) for _ in range(2))
    assert first.transfers == second.transfers and first.snapshots == second.snapshots
