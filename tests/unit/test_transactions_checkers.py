"""The bank checker and the isolation sentences (minikv.jepsen.bank, minikv.jepsen.isolation),
on hand-made results: what counts as money lost, a transfer half applied, or explained.
"""

from __future__ import annotations

from minikv.jepsen.bank import Bank, BankResult, Transfer
from minikv.jepsen.isolation import Finding


def checked(transfers: list[Transfer], final: dict[int, int], snapshots: list | None = None) -> BankResult:
    """A 3-account bank (100 each) that saw these transfers and ended with these balances."""
    bank = Bank([], sleep=lambda s: None, clock=lambda: 0.0, accounts=3, balance=100)
    bank.result.transfers, bank.result.final = transfers, final
    bank.result.snapshots = snapshots or []
    bank.result.explained = bank._explained()
    return bank.result


def test_conserved_and_explained_balances_are_valid():
    """Final balances equal to the start plus the acknowledged transfers make a valid run."""
    result = checked([Transfer(0, 0, 1, 10, "ok"), Transfer(1, 1, 2, 5, "fail")], {0: 90, 1: 110, 2: 100})
    assert result.valid and result.explained
    assert result.describe()[-1].startswith("final total 300: conserved")


def test_in_doubt_transfers_may_or_may_not_be_applied():
    """An in-doubt transfer explains the balances whether or not it happened."""
    doubtful = [Transfer(0, 0, 1, 10, "info"), Transfer(1, 1, 2, 7, "info")]
    assert checked(doubtful, {0: 90, 1: 110, 2: 100}).explained
    assert checked(doubtful, {0: 100, 1: 100, 2: 100}).explained


def test_a_lost_acknowledged_transfer_is_caught():
    """Balances missing an acknowledged transfer are flagged even though the total is right."""
    result = checked([Transfer(0, 0, 1, 10, "ok")], {0: 100, 1: 100, 2: 100})
    assert not result.valid and result.explained is False
    assert "a transfer was lost, half applied, or applied although it failed" in result.describe()[-1]


def test_a_half_applied_transfer_shows_in_the_total_and_the_snapshot():
    """A debit without its credit destroys money: the final total and the snapshot say so."""
    half = {0: 90, 1: 100, 2: 100}
    result = checked([Transfer(0, 0, 1, 10, "ok")], half, snapshots=[(1.5, half)])
    assert not result.valid
    assert result.describe()[1] == ("snapshot at t=1.500 saw a total of 290, not 300: a transfer was seen "
                                    "half applied ({0: 90, 1: 100, 2: 100})")
    assert result.describe()[-1] == "final total 290, not 300: money was destroyed"


def test_findings_read_like_elle():
    """A finding names the anomaly's code, its name, the verdict and the story."""
    finding = Finding("G2", "write skew", True, "T1 and T2 each read x = 1 and y = 1.")
    assert finding.describe() == "G2 (write skew): prevented. T1 and T2 each read x = 1 and y = 1."
    assert Finding("G-single", "read skew", False, "...").describe().startswith("G-single (read skew): NOT prevented.")
