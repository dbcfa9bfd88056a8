"""Sequential gets through the official aerospike client (C core) vs minikv's own client.

Both clients read the same existing keys from the same one-node LocalCluster, one request at a
time: the official client through the node's Aerospike-protocol port (aerospike_server.py
translates each frame into the native Get), minikv's client through the native port. The bench
process (with the C client's tend thread) and the node are pinned to one CPU, as in
throughput.py, and the rounds are interleaved (each round runs both, in the same order), so a
slow spell of the machine hits both alike. The ratio reported is the median of the per-round
ratios official/minikv.

    .venv/bin/python bench/aerospike_client.py [--rounds 5] [--ops 20000] [--cpu 0] [--quick]

Results are printed and written to bench/results/aerospike_client.json. See bench/README.md.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import minikv

RESULTS_FILE = Path(__file__).resolve().parent / "results" / "aerospike_client.json"
NAMESPACE, SET_NAME = "test", "bench"
N_KEYS = 1000  # distinct keys read in turn (all in memory on the one node)
WORKLOADS = ("official_get", "minikv_get")


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    try:
        import aerospike
    except ImportError:
        print("skipped: the official aerospike client is not installed (pip install aerospike)")
        return 0
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.cpu})  # the bench and the C client's threads
    with minikv.LocalCluster(nodes=1, cpus=[args.cpu]) as cluster:
        official = aerospike.client({"hosts": cluster.aerospike_hosts}).connect()
        native = cluster.client()
        keys = [(NAMESPACE, SET_NAME, i) for i in range(N_KEYS)]
        for i, key in enumerate(keys):
            native.put(key, {"name": f"user-{i}", "visits": i})
        runs = {"official_get": lambda: _gets(official.get, keys, args.ops),
                "minikv_get": lambda: _gets(native.get, keys, args.ops)}
        for run in runs.values():  # warm-up: connections, caches
            run()
        rounds = [{name: _timed(run, args.ops) for name, run in runs.items()} for _ in range(args.rounds)]
        official.close()
        native.close()
    report = _report(rounds, args)
    RESULTS_FILE.parent.mkdir(exist_ok=True)
    RESULTS_FILE.write_text(json.dumps(report, indent=2))
    return 0


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--ops", type=int, default=20_000, help="gets per workload per round")
    parser.add_argument("--cpu", type=int, default=0, help="the CPU everything is pinned to")
    parser.add_argument("--quick", action="store_true", help="3 rounds of 2,000: a smoke run")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.ops = 3, 2_000
    return args


def _gets(get: Callable, keys: list[tuple], ops: int) -> None:
    for i in range(ops):
        get(keys[i % len(keys)])


def _timed(run: Callable[[], None], ops: int) -> float:
    gc.collect()  # collect before, not during, the timed run
    started = time.perf_counter()
    run()
    return ops / (time.perf_counter() - started)


def _report(rounds: list[dict[str, float]], args: argparse.Namespace) -> dict:
    print(f"sequential gets, one node and the bench pinned to CPU {args.cpu}, "
          f"{args.rounds} interleaved rounds of {args.ops:,}")
    print(f"{'workload':<14}{'median':>10}{'min':>10}{'max':>10}  ops/s")
    summary = {}
    for name in WORKLOADS:
        rates = [r[name] for r in rounds]
        summary[name] = {"median": statistics.median(rates), "min": min(rates), "max": max(rates)}
        print(f"{name:<14}{summary[name]['median']:>10,.0f}{min(rates):>10,.0f}{max(rates):>10,.0f}")
    ratio = statistics.median(r["official_get"] / r["minikv_get"] for r in rounds)
    print(f"official/minikv (median of the per-round ratios): {ratio:.3f}")
    return {"python": platform.python_version(), "machine": platform.machine(), "cpu": args.cpu,
            "rounds": rounds, "summary": summary, "official/minikv": ratio, "ops": args.ops,
            "argv": sys.argv[1:]}


if __name__ == "__main__":
    sys.exit(main())
