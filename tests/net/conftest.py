"""Shared helpers for the real-process tests: waiting on conditions, reading process states.

These tests run real `python -m minikv node` processes, so nothing happens at a known instant.
A test never sleeps a fixed time to let something happen; it polls a condition with a deadline
(`wait_until`), which is fast when the machine is fast and patient when it is loaded.

Process states come from /proc (Linux): a zombie ('Z') has exited and only waits for its parent
to collect its status, so it counts as gone.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest

from minikv import Client, LocalCluster

DEADLINE = 10.0  # seconds; generous, because a loaded CI machine is slow, not broken
POLL = 0.02  # seconds between two looks at a condition

T = TypeVar("T")


def wait_until(predicate: Callable[[], T], timeout: float = DEADLINE, what: str = "") -> T:
    """Poll `predicate` until it returns something truthy (returned); fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"not true within {timeout} s: {what or predicate}")
        time.sleep(POLL)


def process_state(pid: int) -> str | None:
    """The state letter of a process ('R', 'S', 'T' stopped, 'Z' zombie...), None if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[0]  # the command name in (...) may contain spaces


def is_gone(pid: int) -> bool:
    return process_state(pid) in (None, "Z")


def all_gone(pids: list[int]) -> bool:
    return all(is_gone(pid) for pid in pids)


def is_minikv_node(pid: int) -> bool:
    """True if `pid` is a running minikv node process (guards against a reused pid)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"minikv" in cmdline and b"node" in cmdline and not is_gone(pid)


def node_children(parent_pid: int) -> list[int]:
    """Pids of the live minikv node processes whose parent is `parent_pid`."""
    children = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            ppid = int(proc.joinpath("stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if ppid == parent_pid and is_minikv_node(int(proc.name)):
            children.append(int(proc.name))
    return sorted(children)


def kill_leftover_nodes(pids: list[int]) -> None:
    """Teardown safety net: SIGKILL nodes a failed test left behind, so one failure stays one."""
    for pid in pids:
        if is_minikv_node(pid):
            os.kill(pid, signal.SIGKILL)


@pytest.fixture
def cluster() -> Iterator[LocalCluster]:
    """A fresh one-node LocalCluster, closed after the test."""
    with LocalCluster(nodes=1) as local:
        yield local


@pytest.fixture
def client(cluster: LocalCluster) -> Iterator[Client]:
    """A client connected to the `cluster` fixture."""
    connected = cluster.client()
    yield connected
    connected.close()
