"""The command line: `python -m minikv info HOST:PORT [commands...]` against a real node.

`python -m minikv node` is exercised by every LocalCluster (it is how nodes start), and
`python -m minikv cluster` by the Ctrl-C test in test_hygiene.py.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest

CLI_TIMEOUT = 30.0  # seconds for python to start, import minikv and ask one question


def minikv_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "minikv", *args], capture_output=True, text=True, check=False,
                          timeout=CLI_TIMEOUT)


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port bound but not listening while the test runs, so connecting to it is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def test_info_statistics(cluster):
    """`info HOST:PORT statistics` prints one asinfo name=value pair per line."""
    host, port = cluster.hosts[0]
    done = minikv_cli("info", f"{host}:{port}", "statistics")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "cluster_size=1" in lines
    assert "objects=0" in lines
    assert all("=" in line for line in lines)


def test_info_namespace(cluster, client):
    """`info HOST:PORT namespace/test` prints the namespace's own figures, one per line."""
    client.put(("test", "demo", "k"), {"n": 1})
    host, port = cluster.hosts[0]
    done = minikv_cli("info", f"{host}:{port}", "namespace/test")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "objects=1" in lines
    assert "max-record-size=1048576" in lines


def test_info_of_wrong_port_fails_clearly(closed_port):
    """`info` against a port where no node listens exits non-zero with a one-line error, no traceback."""
    done = minikv_cli("info", f"127.0.0.1:{closed_port}", "statistics")
    assert done.returncode != 0
    assert done.stdout == ""
    assert done.stderr.startswith(f"error: cannot connect to 127.0.0.1:{closed_port}")
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("address", ["127.0.0.1", "127.0.0.1:http", "127.0.0.1:70000"])
def test_info_of_malformed_address_fails_clearly(address):
    """`info` with an address that is not HOST:PORT exits non-zero with an error, no traceback."""
    done = minikv_cli("info", address, "statistics")
    assert done.returncode != 0
    assert done.stderr.startswith("error:")
    assert "Traceback" not in done.stderr
