"""How fast is the linearizability checker, and what does SC cost per write? Run with `make bench`.

Two sections (issue 4's bench):

    checker   check_register on register histories of 1,000 and 10,000 operations over 100 keys,
              valid ones and ones with a few impossible reads (then the checker also has to find
              each culprit, by binary search over prefixes)                     seconds, ops/s
    writes    sequential puts by one client to a 3-node LocalCluster in AP mode and to one in SC
              mode, side by side in the same run                       latency (p50, p99), ops/s

The histories are synthetic and linearizable by construction: 10 client processes each run one
operation at a time (reads 50 %, writes 30 %, generation CAS 20 %, 2 % of writes in doubt) on
keys drawn uniformly; every operation takes effect at a random instant inside its interval, and
reads return what a single register would hold at their instant. Seeded: the same histories
every run. An "invalid" history is the same one with a read of a value nobody wrote on every
tenth key.

Every figure is a median over interleaved rounds: each round runs every case once, in one order,
so a slow spell of the machine hits all of them alike. The bench process is pinned to one CPU
(os.sched_setaffinity) and so are all six node processes (LocalCluster(cpus=[cpu]): the nodes'
--cpu), so client and nodes take turns on one core, as in bench/throughput.py.

    .venv/bin/python bench/checker.py [--rounds 5] [--writes 2000] [--cpu 0] [--quick]
                                      [--sections checker,writes]

Results are printed and written to bench/results/checker.json. See bench/README.md.
"""

from __future__ import annotations

import argparse
import gc
import heapq
import json
import os
import platform
import random
import signal
import statistics
import sys
import time
from contextlib import ExitStack
from pathlib import Path

import minikv
from minikv.exception import AerospikeError
from minikv.jepsen import Op, check_register
from minikv.jepsen.linearizability import NO_RECORD, next_generation

RESULTS_FILE = Path(__file__).resolve().parent / "results" / "checker.json"
SIZES = (1_000, 10_000)  # operations per history
KEYS = 100
PROCESSES = 10
SECTIONS = ("checker", "writes")
WRITE_KEYS = 1_000  # the writes section cycles over this many keys
NEVER_WRITTEN = -1  # the value an impossible read returns


# ---- synthetic histories ---------------------------------------------------------------------------


def intervals(ops: int, rng: random.Random) -> list[tuple[int, float, float, float]]:
    """[(process, invoke, complete, instant)]: each process one op at a time, with think time."""
    free = [(rng.uniform(0, 0.01), p) for p in range(PROCESSES)]  # heap of (free at, process)
    spans = []
    for _ in range(ops):
        start, process = heapq.heappop(free)
        end = start + rng.uniform(0.001, 0.02)
        spans.append((process, start, end, rng.uniform(start, end)))
        heapq.heappush(free, (end + rng.uniform(0.0, 0.01), process))
    return spans


def synthetic_history(ops: int, seed: int, invalid: bool = False) -> list[Op]:
    """A linearizable register history (see the module docstring); `invalid` spoils every tenth key."""
    rng = random.Random(seed)
    planned = [(rng.randrange(KEYS), rng.random(), rng.random() < 0.02, span) for span in intervals(ops, rng)]
    state: dict[int, tuple] = {}  # {key: (value, gen)}, the register at each instant
    history = []
    for index, (key, choice, doubt, (process, start, end, _)) in sorted(
            enumerate(planned), key=lambda item: item[1][3][3]):  # in the order of the instants
        history.append(apply(index, process, key, choice, doubt, start, end, state, rng))
    history.sort(key=lambda op: op.index)
    return spoil(history) if invalid else history


def apply(index: int, process: int, key: int, choice: float, doubt: bool, start: float, end: float,
          state: dict[int, tuple], rng: random.Random) -> Op:
    """One op at its instant: a read sees the state; a write or cas changes it (an in-doubt one
    half the time); a cas expects the current generation four times in five."""
    value, gen = state.get(key, NO_RECORD)
    if choice < 0.5:
        return Op(index, process, "read", key, None, None, start, end, "ok", value, gen)
    kind = "write" if choice < 0.8 else "cas"
    expected = gen if rng.random() < 0.8 else gen + 1
    applies = kind == "write" or expected == gen or gen == 0
    outcome = "info" if doubt else ("ok" if applies else "fail")
    if applies and (not doubt or rng.random() < 0.5):
        state[key] = (index, next_generation(gen))
    return Op(index, process, kind, key, index, expected if kind == "cas" else None, start, end, outcome)


def spoil(history: list[Op]) -> list[Op]:
    """Make the last read of every tenth key return a value no write wrote."""
    spoiled = list(history)
    for key in range(0, KEYS, 10):
        reads = [op for op in history if op.key == key and op.kind == "read"]
        if reads:
            last = reads[-1]
            spoiled[last.index] = Op(last.index, last.process, "read", key, None, None, last.invoke,
                                     last.complete, "ok", NEVER_WRITTEN, None)
    return spoiled


# ---- the checker section -------------------------------------------------------------------------


def checker_rounds(rounds: int) -> dict[str, dict]:
    """{case: {seconds: [...], valid: bool}}, every case once per round."""
    cases = {f"{size:,} ops {kind}": synthetic_history(size, seed=size, invalid=kind == "invalid")
             for size in SIZES for kind in ("valid", "invalid")}
    results: dict[str, dict] = {name: {"seconds": [], "ops": len(ops)} for name, ops in cases.items()}
    for number in range(1, rounds + 1):
        for name, ops in cases.items():
            gc.collect()
            start = time.perf_counter()
            verdict = check_register(ops)
            results[name]["seconds"].append(time.perf_counter() - start)
            results[name]["valid"] = verdict.valid
            results[name]["invalid_keys"] = len(verdict.failures)
        print(f"  round {number}/{rounds}: " + ", ".join(
            f"{name} {results[name]['seconds'][-1]:.3f} s" for name in cases), flush=True)
    return results


def print_checker(results: dict[str, dict]) -> None:
    print(f"\n{'history (100 keys)':<22} {'verdict':<22} {'median s':>9} {'min s':>8} {'max s':>8} {'ops/s':>9}")
    for name, r in results.items():
        verdict = "linearizable" if r["valid"] else f"{r['invalid_keys']} keys NOT linearizable"
        seconds = r["seconds"]
        print(f"{name:<22} {verdict:<22} {statistics.median(seconds):>9.3f} {min(seconds):>8.3f} "
              f"{max(seconds):>8.3f} {r['ops'] / statistics.median(seconds):>9,.0f}")


# ---- the writes section --------------------------------------------------------------------------


def timed_puts(client: minikv.Client, writes: int, round_number: int) -> dict:
    """`writes` sequential puts; per-write latencies, the elapsed time and the errors."""
    latencies, errors = [], 0
    gc.collect()
    begin = time.perf_counter()
    for i in range(writes):
        key = ("test", "bench", i % WRITE_KEYS)
        start = time.perf_counter()
        try:
            client.put(key, {"v": i, "round": round_number})
        except AerospikeError:
            errors += 1
            continue
        latencies.append(time.perf_counter() - start)
    elapsed = time.perf_counter() - begin
    latencies.sort()
    return {"p50_ms": 1000 * latencies[len(latencies) // 2], "p99_ms": 1000 * latencies[int(len(latencies) * 0.99)],
            "ops_per_s": len(latencies) / elapsed, "errors": errors}


def write_rounds(stack: ExitStack, rounds: int, writes: int, cpu: int) -> dict[str, list[dict]]:
    """{mode: [figures per round]}: AP then SC in each round, the other cluster idle meanwhile."""
    clients = {}
    for mode in ("ap", "sc"):
        print(f"Starting a 3-node LocalCluster in {mode.upper()} mode on CPU {cpu}...", flush=True)
        cluster = stack.enter_context(minikv.LocalCluster(nodes=3, cpus=[cpu], mode=mode))
        clients[mode] = cluster.client()
        timed_puts(clients[mode], min(writes, WRITE_KEYS), 0)  # warm-up: creates the records
    results: dict[str, list[dict]] = {mode: [] for mode in clients}
    for number in range(1, rounds + 1):
        for mode, client in clients.items():
            results[mode].append(timed_puts(client, writes, number))
        print(f"  round {number}/{rounds}: " + ", ".join(
            f"{mode} p50 {results[mode][-1]['p50_ms']:.2f} ms {results[mode][-1]['ops_per_s']:,.0f}/s"
            for mode in clients), flush=True)
    return results


def print_writes(results: dict[str, list[dict]]) -> dict:
    """The table, and the SC/AP ratios (medians of the per-round ratios)."""
    print(f"\n{'mode':<6} {'p50 ms':>8} {'p99 ms':>8} {'writes/s':>9} {'errors':>7}")
    for mode, per_round in results.items():
        med = {field: statistics.median(r[field] for r in per_round) for field in ("p50_ms", "p99_ms", "ops_per_s")}
        print(f"{mode.upper():<6} {med['p50_ms']:>8.3f} {med['p99_ms']:>8.3f} {med['ops_per_s']:>9,.0f} "
              f"{sum(r['errors'] for r in per_round):>7}")
    ratios = {field: statistics.median(s[field] / a[field] for s, a in zip(results["sc"], results["ap"]))
              for field in ("p50_ms", "ops_per_s")}
    print(f"SC/AP: latency p50 x{ratios['p50_ms']:.2f}, throughput x{ratios['ops_per_s']:.2f} "
          f"(medians of the per-round ratios)")
    return ratios


# ---- entry point -----------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, help="interleaved rounds (default 5, quick 2)")
    parser.add_argument("--writes", type=int, help="puts per mode and round (default 2,000, quick 300)")
    parser.add_argument("--cpu", type=int, default=0, help="the one CPU everything is pinned to (default 0)")
    parser.add_argument("--sections", default=",".join(SECTIONS), help="comma-separated: checker,writes")
    parser.add_argument("--quick", action="store_true", help="a smoke run")
    args = parser.parse_args(argv)
    rounds, writes = (2, 300) if args.quick else (5, 2_000)
    args.rounds = rounds if args.rounds is None else args.rounds
    args.writes = writes if args.writes is None else args.writes
    args.sections = [s for s in args.sections.split(",") if s]
    if unknown := set(args.sections) - set(SECTIONS):
        parser.error(f"unknown sections {sorted(unknown)}; choose from {SECTIONS}")
    return args


def pin_self(cpu: int) -> None:
    """Pin this process (and every thread it starts) to one CPU."""
    if cpu not in os.sched_getaffinity(0):
        sys.exit(f"--cpu {cpu} is not available to this process (allowed: {sorted(os.sched_getaffinity(0))})")
    os.sched_setaffinity(0, {cpu})


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    pin_self(args.cpu)
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # SIGTERM unwinds like Ctrl-C
    document: dict = {"when": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "cpu": args.cpu, "rounds": args.rounds,
                      "python": platform.python_version(), "machine": platform.platform(),
                      "cpus": os.cpu_count(), "load_before": os.getloadavg()[0]}
    try:
        if "checker" in args.sections:
            print(f"Checker: {args.rounds} interleaved rounds over histories of {SIZES} ops, {KEYS} keys")
            document["checker"] = checker_rounds(args.rounds)
            print_checker(document["checker"])
        if "writes" in args.sections:
            with ExitStack() as stack:
                document["writes"] = write_rounds(stack, args.rounds, args.writes, args.cpu)
            document["sc_over_ap"] = print_writes(document["writes"])
    except KeyboardInterrupt:
        print("\nInterrupted: nodes stopped.", file=sys.stderr)
        return 130
    document["load_after"] = os.getloadavg()[0]
    print(f"\nPlacement: this bench process and all six node processes pinned to CPU {args.cpu}. "
          f"Load average {document['load_before']:.1f} before, {document['load_after']:.1f} after.")
    RESULTS_FILE.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_FILE.write_text(json.dumps(document, indent=2) + "\n")
    print(f"Wrote {RESULTS_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
