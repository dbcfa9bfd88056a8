"""How fast is one minikv node, and compared with what? Run with `make bench`.

For one node and one client doing one request at a time, this measures:

    put          sequential puts of small records (2 bins)             ops/s
    get          sequential gets of existing keys                      ops/s
    batch_read   batch_read of 1000-key batches                        keys/s
    empty        round trips to a node that answers without decoding  ops/s
    redis_set    redis-py SET against a local redis-server             ops/s
    redis_get    redis-py GET against a local redis-server             ops/s

Two baselines put the minikv figures in context. `empty` is the ceiling of the transport: the
same client code path (`TcpTransport.call` with a real `Get`) against a node whose handler
replies OK without even decoding the frame, so get/empty is the share of a round trip left
after minikv's own logic. `redis_*` is a well-known server on the same machine, skipped with a
message when `redis-server` is not on PATH.

Every figure is a median over several rounds, and the rounds are interleaved (round 1 runs each
workload once, then round 2, ...) so a slow spell of the machine hits every workload alike.
The bench process, the node processes and redis-server are all pinned to one CPU: on a small VM
an unpinned client and server land on the same or on different CPUs from one run to the next,
and loopback round trips swing by ~8x with that placement alone.

    .venv/bin/python bench/throughput.py [--rounds 5] [--ops 20000] [--cpu 0] [--quick]

Results are printed and written to bench/results/throughput.json. See bench/README.md.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import msgpack

import minikv
from minikv.core.messages import Get
from minikv.runtime.transport import TcpTransport

RESULTS_FILE = Path(__file__).resolve().parent / "results" / "throughput.json"
NAMESPACE, SET_NAME = "test", "bench"
BATCH_SIZE = 1000  # keys per batch_read call
CALL_TIMEOUT = 5.0  # seconds; generous, a loaded CPU must not turn into errors
REDIS_START_TIMEOUT = 10.0  # seconds for redis-server to answer PING
PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>

# The targets: get at least half the empty-handler limit, and at least redis-py's GET rate
TARGETS = {"get/empty": 0.5, "get/redis_get": 1.0}

# (workload, unit) in the order each round runs them
WORKLOADS = [("put", "ops/s"), ("get", "ops/s"), ("batch_read", "keys/s"), ("empty", "ops/s"),
             ("redis_set", "ops/s"), ("redis_get", "ops/s")]


@dataclass
class Setup:
    """Everything the workloads talk to, started once for the whole run."""

    ops: int
    client: minikv.Client  # against the real node
    keys: list[tuple]  # [(ns, set, user_key)], `ops` of them
    transport: TcpTransport  # against the empty-handler node
    empty_address: tuple[str, int]
    redis: object | None = None  # a redis.Redis, or None when skipped
    notes: list[str] = field(default_factory=list)


# ---- the workloads: each runs `setup.ops` operations and returns how many items it moved ---------


def run_put(setup: Setup) -> int:
    for i, key in enumerate(setup.keys):
        setup.client.put(key, {"name": f"user-{i}", "visits": i})
    return len(setup.keys)


def run_get(setup: Setup) -> int:
    for key in setup.keys:
        setup.client.get(key)
    return len(setup.keys)


def run_batch_read(setup: Setup) -> int:
    for start in range(0, len(setup.keys), BATCH_SIZE):
        setup.client.batch_read(setup.keys[start : start + BATCH_SIZE])
    return len(setup.keys)


def run_empty(setup: Setup) -> int:
    """The same transport call a client.get makes, with a real Get, to the empty handler."""
    request = Get(NAMESPACE, SET_NAME, minikv.calc_digest(*setup.keys[0]))
    call, address = setup.transport.call, setup.empty_address
    for _ in range(setup.ops):
        call(address, request, CALL_TIMEOUT)
    return setup.ops


def run_redis_set(setup: Setup) -> int:
    for i in range(setup.ops):  # the same two bins, packed, as the value
        setup.redis.set(f"bench:{i}", msgpack.packb({"name": f"user-{i}", "visits": i}))
    return setup.ops


def run_redis_get(setup: Setup) -> int:
    for i in range(setup.ops):
        setup.redis.get(f"bench:{i}")
    return setup.ops


RUNNERS: dict[str, Callable[[Setup], int]] = {
    "put": run_put, "get": run_get, "batch_read": run_batch_read, "empty": run_empty,
    "redis_set": run_redis_set, "redis_get": run_redis_get,
}


def timed(runner: Callable[[Setup], int], setup: Setup) -> float:
    """Items per second for one run. A full collection first, so no run pays for the garbage
    of the one before it."""
    gc.collect()
    start = time.perf_counter()
    count = runner(setup)
    return count / (time.perf_counter() - start)


# ---- running the rounds ------------------------------------------------------------------------


def active_workloads(setup: Setup) -> list[str]:
    with_redis = setup.redis is not None
    return [name for name, _ in WORKLOADS if with_redis or not name.startswith("redis")]


def run_rounds(setup: Setup, rounds: int) -> dict[str, list[float]]:
    """{workload: [rate per round]}, one run of every workload per round, always in one order."""
    names = active_workloads(setup)
    for name in names:  # warm-up, untimed: creates the records, opens connections
        RUNNERS[name](setup)
    rates: dict[str, list[float]] = {name: [] for name in names}
    for number in range(1, rounds + 1):
        for name in names:
            rates[name].append(timed(RUNNERS[name], setup))
        print(f"  round {number}/{rounds}: " + ", ".join(f"{n} {rates[n][-1]:,.0f}" for n in names),
              flush=True)
    return rates


def summarise(rates: dict[str, list[float]]) -> dict:
    """Median, min and max per workload, and the ratios the targets are stated in."""
    units = dict(WORKLOADS)
    summary = {name: {"unit": units[name], "median": statistics.median(values), "min": min(values),
                      "max": max(values), "rounds": values} for name, values in rates.items()}
    ratios = {"get/empty": _ratio(rates, "get", "empty"),
              "get/redis_get": _ratio(rates, "get", "redis_get"),
              "put/redis_set": _ratio(rates, "put", "redis_set")}
    return {"workloads": summary, "ratios": ratios}


def _ratio(rates: dict[str, list[float]], top: str, bottom: str) -> float | None:
    """The median of the per-round ratios: the two runs of one round are seconds apart, so a slow
    spell of the machine that hits a round hits both; a ratio of medians would mix rounds."""
    if top not in rates or bottom not in rates:
        return None
    return statistics.median(t / b for t, b in zip(rates[top], rates[bottom], strict=True))


# ---- starting what the workloads talk to -------------------------------------------------------


def pin_self(cpu: int) -> None:
    """Pin this process (and so every thread and child it starts) to one CPU."""
    allowed = os.sched_getaffinity(0)
    if cpu not in allowed:
        sys.exit(f"--cpu {cpu} is not available to this process (allowed: {sorted(allowed)})")
    os.sched_setaffinity(0, {cpu})


def start_redis(stack: ExitStack, cpu: int, notes: list[str]) -> object | None:
    """A private redis-server on a free port, pinned to `cpu`; None (with a note) if unavailable."""
    executable = shutil.which("redis-server")
    if executable is None:
        notes.append("redis: skipped, no `redis-server` on PATH (e.g. `apt-get install redis-server`)")
        return None
    try:
        import redis
    except ImportError:
        notes.append("redis: skipped, the `redis` Python package is not installed")
        return None
    port = _free_port()
    # redis-server inherits this process's one-CPU affinity anyway; taskset says so in `ps`
    pin = ["taskset", "-c", str(cpu)] if shutil.which("taskset") else []
    proc = subprocess.Popen(
        [*pin, executable, "--port", str(port), "--bind", "127.0.0.1",
         "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        preexec_fn=_die_with_parent)  # noqa: PLW1509 (no other thread exists yet, see build_setup)
    stack.callback(_stop_process, proc)
    client = redis.Redis("127.0.0.1", port, socket_timeout=CALL_TIMEOUT)
    _wait_for_redis(client, proc)
    parser = "hiredis" if redis.utils.HIREDIS_AVAILABLE else "pure-Python parser"
    version = client.info("server")["redis_version"]
    notes.append(f"redis: redis-server {version} on port {port}, redis-py {redis.__version__} with {parser}")
    return client


def _wait_for_redis(client: object, proc: subprocess.Popen) -> None:
    from redis.exceptions import ConnectionError as RedisConnectionError

    deadline = time.monotonic() + REDIS_START_TIMEOUT
    while True:
        try:
            client.ping()
            return
        except RedisConnectionError:  # refused until it listens, then LOADING for a moment
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start (is the port taken?)") from None
            time.sleep(0.02)  # polling a start-up with a deadline, not synchronising a test


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _die_with_parent() -> None:
    """Runs in the redis child before exec: Linux kills it if the bench dies, even by SIGKILL.
    Safe as a preexec_fn because redis starts before the bench has any other thread."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def _stop_process(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def build_setup(stack: ExitStack, args: argparse.Namespace) -> Setup:
    """Start redis-server (first: no threads yet), the real node and the empty-handler node."""
    notes: list[str] = []
    redis_client = start_redis(stack, args.cpu, notes)
    node = stack.enter_context(minikv.LocalCluster(nodes=1, cpus=[args.cpu]))
    empty = stack.enter_context(minikv.LocalCluster(nodes=1, cpus=[args.cpu], empty_handler=True))
    client = node.client()
    stack.callback(client.close)
    transport = TcpTransport()
    stack.callback(transport.close)
    keys = [(NAMESPACE, SET_NAME, i) for i in range(args.ops)]
    notes.append(f"minikv: node pid {node.pids()[0]}, empty-handler node pid {empty.pids()[0]}")
    return Setup(args.ops, client, keys, transport, empty.hosts[0], redis_client, notes)


# ---- reporting ---------------------------------------------------------------------------------


def print_report(summary: dict, setup: Setup, args: argparse.Namespace) -> None:
    print()
    print(f"{'workload':<12} {'unit':<7} {'median':>10} {'min':>10} {'max':>10}")
    for name, row in summary["workloads"].items():
        figures = " ".join(f"{row[column]:>10,.0f}" for column in ("median", "min", "max"))
        print(f"{name:<12} {row['unit']:<7} {figures}")
    if "redis_get" not in summary["workloads"]:
        print(f"{'redis_*':<12} skipped (see the notes below)")
    print()
    for name, value in summary["ratios"].items():
        print(ratio_line(name, value))
    print()
    print(placement_note(args, setup.redis is not None))
    for note in setup.notes:
        print(f"  {note}")


def ratio_line(name: str, value: float | None) -> str:
    """One ratio, with the issue's target where it sets one."""
    if value is None:
        return f"{name:<14} n/a (redis skipped)"
    target = TARGETS.get(name)
    if target is None:
        return f"{name:<14} {value:.3f}"
    verdict = "met" if value >= target else "NOT met"
    return f"{name:<14} {value:.3f}  (target >= {target}: {verdict})"


def placement_note(args: argparse.Namespace, with_redis: bool) -> str:
    """The paragraph that says where everything ran, printed under every table."""
    who = ("this bench process, both node processes and redis-server" if with_redis
           else "this bench process and both node processes")
    return textwrap.fill(
        f"Placement: {who} were all pinned to CPU {args.cpu} (os.sched_setaffinity, the nodes' "
        f"--cpu, taskset), so client and server take turns on one core and every figure is a "
        f"one-core figure. Unpinned, a client and server on a small VM may share a core or not "
        f"from one run to the next, and loopback round trips swing by up to ~8x with that "
        f"placement alone. Medians of {args.rounds} interleaved rounds of {args.ops:,} operations "
        f"each; Python {platform.python_version()}, {os.cpu_count()} CPUs.", width=100,
        break_on_hyphens=False)


def write_json(summary: dict, setup: Setup, args: argparse.Namespace) -> None:
    RESULTS_FILE.parent.mkdir(parents=True, exist_ok=True)
    document = {"when": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "cpu": args.cpu,
                "rounds": args.rounds, "ops": args.ops, "batch_size": BATCH_SIZE,
                "python": platform.python_version(), "machine": platform.platform(),
                "cpus": os.cpu_count(), "notes": setup.notes, **summary}
    RESULTS_FILE.write_text(json.dumps(document, indent=2) + "\n")
    print(f"\nWrote {RESULTS_FILE}")


# ---- entry point -------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, help="interleaved rounds (default 5, quick 2)")
    parser.add_argument("--ops", type=int,
                        help="operations per workload and round (default 20,000, quick 2,000)")
    parser.add_argument("--cpu", type=int, default=0,
                        help="the one CPU everything is pinned to (default 0)")
    parser.add_argument("--quick", action="store_true", help="a smoke run of a few seconds")
    args = parser.parse_args(argv)
    rounds, ops = (2, 2_000) if args.quick else (5, 20_000)
    args.rounds = rounds if args.rounds is None else args.rounds
    args.ops = ops if args.ops is None else args.ops
    if args.rounds < 1 or args.ops < 1:
        parser.error("--rounds and --ops must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    pin_self(args.cpu)
    # SIGTERM unwinds like Ctrl-C, so the ExitStack stops redis-server and the nodes either way
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        with ExitStack() as stack:
            print(f"Starting a minikv node, an empty-handler node and redis-server on CPU {args.cpu}...")
            setup = build_setup(stack, args)
            print(f"Running {args.rounds} interleaved rounds of {args.ops:,} operations per workload")
            summary = summarise(run_rounds(setup, args.rounds))
            print_report(summary, setup, args)
            write_json(summary, setup, args)
    except KeyboardInterrupt:
        print("\nInterrupted: nodes and redis-server stopped.", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
