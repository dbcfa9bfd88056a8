"""Session-wide guard: no minikv node process may outlive the test run (tests and notebooks).

A leaked node on a learner's laptop keeps a port and memory until reboot, so a leak is a test
failure. Node processes present before the session started (a learner's open lab) are ignored.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

GRACE = 10.0  # seconds for nodes of the last test or notebook to finish exiting


def minikv_node_pids() -> set[int]:
    """Pids of running `python -m minikv node` processes (zombies count as gone)."""
    pids = set()
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if b"minikv" in cmdline and b"node" in cmdline and state != "Z":
            pids.add(int(proc.name))
    return pids


def pytest_sessionstart(session: pytest.Session) -> None:
    session.config._minikv_preexisting = minikv_node_pids()  # type: ignore[attr-defined]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not os.path.isdir("/proc"):
        return
    before = session.config._minikv_preexisting  # type: ignore[attr-defined]
    deadline = time.monotonic() + GRACE
    while (leaked := minikv_node_pids() - before - {os.getpid()}) and time.monotonic() < deadline:
        time.sleep(0.1)
    if leaked:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter:
            reporter.write_line(f"LEAKED minikv node processes: {sorted(leaked)}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
