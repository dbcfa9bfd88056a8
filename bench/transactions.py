"""What does a multi-record transaction cost? Run with `make bench`.

One client, one request at a time, against a LocalCluster (3 nodes, RF 2 by default). For k = 2,
5 and 10 records, a *transfer* reads k records and writes k records:

    plain_k   k gets, then k puts, no transaction                        transfers/s, ms each
    txn_k     the same reads and writes inside a Transaction, then commit transfers/s, ms each

A transaction adds, per record written, a MonitorAdd before the write, a TxnRoll after the commit
point, and per record read a TxnVerify; per transaction a MonitorMark and a MonitorClose. So a
transfer of k records is 2k requests plain and 5k + 2 in a transaction: the ratio tends to 2.5
from above as k grows, and the figures say how close the real cost comes to that count.

Keys are drawn at random from a pool far larger than k, so transfers never contend: this is the
protocol's price, not the price of conflicts (the bank test measures nothing, it checks). The
bench process and every node are pinned to one CPU (on a small VM an unpinned client and server
land on the same or different CPUs from run to run, and loopback latency swings with that
alone). Rounds are interleaved (each round runs every workload once) and every figure is a median
over rounds; ratios are medians of per-round ratios.

    .venv/bin/python bench/transactions.py [--rounds 5] [--transfers 300] [--nodes 3] [--cpu 0] [--quick]

Results are printed and written to bench/results/transactions.json. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import signal
import statistics
import sys
import time
from pathlib import Path

import minikv

RESULTS_FILE = Path(__file__).resolve().parent / "results" / "transactions.json"
SIZES = (2, 5, 10)  # records per transfer
KEYS = 5_000  # the pool transfers draw their records from


def key(i: int) -> tuple[str, str, int]:
    return ("test", "bench", i)


def transfer(client: minikv.Client, keys: list[int], txn: minikv.Transaction | None) -> None:
    """Read every record, then write each one back incremented: in `txn`, or plainly."""
    policy = {"txn": txn} if txn is not None else None
    values = [client.get(key(i), policy=policy)[2]["v"] for i in keys]
    for i, value in zip(keys, values, strict=True):
        client.put(key(i), {"v": value + 1}, policy=policy)
    if txn is not None:
        status = client.commit(txn)
        assert status == minikv.COMMIT_OK, status


def run_workload(client: minikv.Client, size: int, in_txn: bool, transfers: int, rng: random.Random) -> dict:
    """Throughput and per-transfer latencies of `transfers` transfers of `size` records."""
    latencies = []
    started = time.perf_counter()
    for _ in range(transfers):
        keys = rng.sample(range(KEYS), size)
        begin = time.perf_counter()
        transfer(client, keys, minikv.Transaction() if in_txn else None)
        latencies.append(time.perf_counter() - begin)
    elapsed = time.perf_counter() - started
    return {"rate": transfers / elapsed, "median_ms": 1000 * statistics.median(latencies),
            "p90_ms": 1000 * statistics.quantiles(latencies, n=10)[-1]}


def run_rounds(client: minikv.Client, rounds: int, transfers: int) -> dict[str, list[dict]]:
    """{workload: [figures per round]}; each round runs plain_k then txn_k for every k."""
    rng = random.Random(1)
    names = [f"{kind}_{size}" for size in SIZES for kind in ("plain", "txn")]
    for name in names:  # warm-up, untimed
        run_workload(client, int(name.split("_")[1]), name.startswith("txn"), max(10, transfers // 10), rng)
    figures: dict[str, list[dict]] = {name: [] for name in names}
    for number in range(1, rounds + 1):
        for name in names:
            figures[name].append(run_workload(client, int(name.split("_")[1]), name.startswith("txn"),
                                              transfers, rng))
        print(f"  round {number}/{rounds}: " + ", ".join(f"{n} {figures[n][-1]['rate']:,.0f}/s" for n in names),
              flush=True)
    return figures


def summarise(figures: dict[str, list[dict]]) -> dict:
    workloads = {name: {field: statistics.median(r[field] for r in runs) for field in ("rate", "median_ms", "p90_ms")}
                 | {"rounds": [r["rate"] for r in runs]} for name, runs in figures.items()}
    ratios = {}
    for size in SIZES:
        plain, txn = figures[f"plain_{size}"], figures[f"txn_{size}"]
        ratios[f"plain/txn throughput, k={size}"] = statistics.median(p["rate"] / t["rate"] for p, t in zip(plain, txn, strict=True))
        ratios[f"txn/plain latency, k={size}"] = statistics.median(t["median_ms"] / p["median_ms"]
                                                                   for p, t in zip(plain, txn, strict=True))
    return {"workloads": workloads, "ratios": ratios}


def print_report(summary: dict, args: argparse.Namespace) -> None:
    print(f"\n{'workload':<10} {'requests':>8} {'transfers/s':>12} {'median ms':>10} {'p90 ms':>8}")
    for name, row in summary["workloads"].items():
        size = int(name.split("_")[1])
        requests = 5 * size + 2 if name.startswith("txn") else 2 * size
        print(f"{name:<10} {requests:>8} {row['rate']:>12,.0f} {row['median_ms']:>10.2f} {row['p90_ms']:>8.2f}")
    print()
    for name, value in summary["ratios"].items():
        print(f"{name:<32} {value:.2f}x")
    print(f"\n{args.nodes} node(s), RF {min(2, args.nodes)}, everything pinned to CPU {args.cpu}; medians of "
          f"{args.rounds} interleaved rounds of {args.transfers} transfers per workload.")


def write_json(summary: dict, args: argparse.Namespace) -> None:
    RESULTS_FILE.parent.mkdir(exist_ok=True)
    data = {"machine": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count(),
            "nodes": args.nodes, "rounds": args.rounds, "transfers": args.transfers, "cpu": args.cpu, **summary}
    RESULTS_FILE.write_text(json.dumps(data, indent=2) + "\n")
    print(f"Written to {RESULTS_FILE.relative_to(Path.cwd()) if RESULTS_FILE.is_relative_to(Path.cwd()) else RESULTS_FILE}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, help="interleaved rounds (default 5, quick 2)")
    parser.add_argument("--transfers", type=int, help="transfers per workload and round (default 300, quick 30)")
    parser.add_argument("--nodes", type=int, default=3, help="cluster size (default 3)")
    parser.add_argument("--cpu", type=int, default=0, help="the one CPU everything is pinned to (default 0)")
    parser.add_argument("--quick", action="store_true", help="a smoke run of a few seconds")
    args = parser.parse_args(argv)
    args.rounds = args.rounds or (2 if args.quick else 5)
    args.transfers = args.transfers or (30 if args.quick else 300)
    if args.rounds < 1 or args.transfers < 2 or args.nodes < 1:
        parser.error("--rounds and --nodes must be positive, --transfers at least 2")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    allowed = os.sched_getaffinity(0)
    if args.cpu not in allowed:
        sys.exit(f"--cpu {args.cpu} is not available to this process (allowed: {sorted(allowed)})")
    os.sched_setaffinity(0, {args.cpu})  # this process and every node it starts
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # unwind: the cluster stops either way
    try:
        with minikv.LocalCluster(nodes=args.nodes, cpus=[args.cpu]) as cluster:
            client = cluster.client()
            for i in range(KEYS):
                client.put(key(i), {"v": 0})
            print(f"Running {args.rounds} interleaved rounds of {args.transfers} transfers per workload "
                  f"({args.nodes} nodes on CPU {args.cpu})")
            summary = summarise(run_rounds(client, args.rounds, args.transfers))
        print_report(summary, args)
        write_json(summary, args)
    except KeyboardInterrupt:
        print("\nInterrupted: nodes stopped.", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
