"""Issue 4, must hold (SC half): the same partition-heavy nemesis in SC mode loses nothing.

Jepsen, 2018: with strong consistency a partition is served by at most one side (the roster
availability rule), replicas refuse an older regime, and a write is acknowledged only once every
replica has it; through partitions no acknowledged write was lost and every register history was
linearizable. These are the very seeds and settings of test_jepsen_ap.py, in mode="sc".
"""

from __future__ import annotations

import pytest

from minikv.jepsen import Report

from .test_jepsen_ap import every_seed

pytestmark = [pytest.mark.timeout(300)]  # 50 seeds


@pytest.fixture(scope="module")
def sc_reports() -> dict[int, Report]:
    return every_seed("sc")


def test_sc_loses_no_acknowledged_write(sc_reports: dict[int, Report]) -> None:
    """In SC mode no seed loses an acknowledged increment or set element."""
    assert {seed: r.lost_writes for seed, r in sc_reports.items() if r.lost_writes} == {}


def test_sc_register_histories_are_all_linearizable(sc_reports: dict[int, Report]) -> None:
    """In SC mode every seed's register history is linearizable, and nothing else is anomalous."""
    assert {seed: r.anomalies for seed, r in sc_reports.items() if not r.valid} == {}
