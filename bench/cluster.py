"""How does a minikv cluster behave while it changes? Run with `make bench`.

Four measurements on real node processes (LocalCluster) with the default NodeConfig:

    start        LocalCluster(nodes=3) and (nodes=5) until stable; SimCluster too     seconds
    failover     SIGKILL the master of a key a client is writing to; time until the
                 writes succeed again, and the view change inside that time           seconds
    migration    a 4th node joins 3 nodes holding 100,000 records (RF 2)              records/s
    throughput   3 nodes, RF 2, 4 client processes doing puts and gets on random keys ops/s

The issue's target is a failover median under 1 s with the default knobs (heartbeats every
0.1 s, 5 missed = dead, a 0.2 s quantum). Aerospike's defaults need about 1.5 s to detect a dead
node (150 ms x 10) plus a 1.8 s quantum, so minikv is a fast-forward of the same protocol.

Node processes are left unpinned here: a cluster on a 2-vCPU VM is a set of processes sharing
two cores, and the figures are for that. The throughput section also runs with everything
pinned to one CPU, to show what placement alone does. Every figure is a median over trials or
rounds; rounds of comparable runs (3 and 5 nodes, unpinned and pinned) are interleaved so a
slow spell of the machine hits both alike.

    .venv/bin/python bench/cluster.py [--quick] [--trials 12] [--rounds 5] [--records 100000]
                                      [--seconds 5] [--cpu 0] [--sections start,failover,...]

Results are printed and written to bench/results/cluster.json. See bench/README.md.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import multiprocessing as mp
import os
import platform
import random
import signal
import statistics
import sys
import textwrap
import threading
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import minikv
from minikv.exception import AerospikeError

RESULTS_FILE = Path(__file__).resolve().parent / "results" / "cluster.json"
NAMESPACE = "test"
SECTIONS = ("start", "failover", "migration", "throughput")
PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>

# failover: a short total_timeout so a write stuck on a dead node gives up quickly and the writer
# tries again; a short pause after a failed attempt so the writer does not spin on refused
# connections and take the CPU the surviving nodes need for their clustering round.
WRITE_TIMEOUT_MS = 100
PAUSE_AFTER_FAILURE = 0.01  # seconds; bounds the resolution of the failover figure
WARMUP_SUCCESSES = 20  # successful writes before the kill: the client routes straight to the master
RECOVERY_DEADLINE = 20.0  # seconds a trial waits for writes to succeed again
MIGRATION_TIMEOUT = 180.0  # seconds a join may take before the round is reported as stuck

THROUGHPUT_KEYS = 10_000  # the key space the throughput clients pick from
PUT_SHARE = 0.5  # of the throughput operations
CLIENT_PROCESSES = 4
WORKER_START_TIMEOUT = 60.0  # seconds for client processes to import minikv and connect


# ---- small helpers -----------------------------------------------------------------------------


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def distribution(values: list[float]) -> dict:
    """Median, p90, min and max (p90 by linear interpolation between the trials)."""
    if not values:
        return {"n": 0, "median": None, "p90": None, "min": None, "max": None}
    p90 = statistics.quantiles(values, n=10, method="inclusive")[8] if len(values) > 1 else values[0]
    return {"n": len(values), "median": statistics.median(values), "p90": p90,
            "min": min(values), "max": max(values)}


def fmt(value: float | None, spec: str = ".3f") -> str:
    return "-" if value is None else format(value, spec)


def wait_until(condition, timeout: float, what: str) -> None:
    """Poll a condition with a deadline (a bench waits on states, not on fixed sleeps)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} within {timeout} s")
        time.sleep(0.005)


def _die_with_parent() -> None:
    """Linux kills this process when the bench dies, even by SIGKILL."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def event_time(cluster: minikv.LocalCluster, event: minikv.Event) -> float:
    """An event's epoch time (cluster.events() counts from the cluster's start)."""
    return cluster.started_at + event.t


def view_members(event: minikv.Event) -> list[str] | None:
    """The members of a "joined view KEY as who: n3,n2,n1 (generation 4)" event, else None."""
    if event.role != "Clustering" or not event.text.startswith("joined view "):
        return None
    return event.text.split(": ", 1)[1].split(" (", 1)[0].split(",")


# ---- client processes (throughput and bulk loads) ----------------------------------------------


def worker_main(job: dict, barrier, results) -> None:
    """One client process: connect, wait for the others, then load keys or run the mix."""
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the bench handles Ctrl-C and stops us
    if job["cpu"] is not None:
        os.sched_setaffinity(0, {job["cpu"]})
    client = minikv.client({"hosts": job["hosts"]}).connect()
    barrier.wait(WORKER_START_TIMEOUT)
    run = run_load if job["mode"] == "load" else run_mix
    results.put(run(client, job))
    client.close()


def run_load(client: minikv.Client, job: dict) -> dict:
    """Put keys [first, end) once each."""
    errors: Counter[str] = Counter()
    start = time.perf_counter()
    for i in range(*job["keys"]):
        try:
            client.put((NAMESPACE, "bench", i), {"i": i, "pad": "x" * 16})
        except AerospikeError as exc:
            errors[type(exc).__name__] += 1
    return {"puts": job["keys"][1] - job["keys"][0] - sum(errors.values()), "gets": 0,
            "elapsed": time.perf_counter() - start, "errors": dict(errors), "latency": {}}


def run_mix(client: minikv.Client, job: dict) -> dict:
    """Puts and gets on random keys of the key space for `seconds`, timing every operation."""
    rng, keyspace = random.Random(job["seed"]), job["keyspace"]
    latency: dict[str, list[float]] = {"put": [], "get": []}
    errors: Counter[str] = Counter()
    clock = time.perf_counter
    start = clock()
    end = start + job["seconds"]
    while (now := clock()) < end:
        key, is_put = (NAMESPACE, "bench", rng.randrange(keyspace)), rng.random() < PUT_SHARE
        try:
            client.put(key, {"i": key[2], "pad": "y" * 16}) if is_put else client.get(key)
        except AerospikeError as exc:
            errors[type(exc).__name__] += 1
            continue
        latency["put" if is_put else "get"].append(clock() - now)
    return {"puts": len(latency["put"]), "gets": len(latency["get"]), "elapsed": clock() - start,
            "errors": dict(errors), "latency": latency}


def run_workers(jobs: list[dict]) -> list[dict]:
    """Start one process per job, release them together, collect their results; the processes
    are stopped on any exit (Ctrl-C included)."""
    ctx = mp.get_context("spawn")  # not fork: this process has threads (LocalCluster's spawner)
    barrier, results = ctx.Barrier(len(jobs) + 1), ctx.Queue()
    procs = [ctx.Process(target=worker_main, args=(job, barrier, results), daemon=True) for job in jobs]
    try:
        for proc in procs:
            proc.start()
        barrier.wait(WORKER_START_TIMEOUT)
        longest = max(job.get("seconds", 0) for job in jobs) + 600  # a bulk load may take minutes
        collected = [results.get(timeout=longest) for _ in jobs]
        for proc in procs:
            proc.join(timeout=10)
        return collected
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
                proc.join(timeout=5)


def load_keys(cluster: minikv.LocalCluster, count: int, cpu: int | None = None) -> dict:
    """Put keys 0..count-1 through the client, split over the client processes."""
    bounds = [count * i // CLIENT_PROCESSES for i in range(CLIENT_PROCESSES + 1)]
    jobs = [{"hosts": cluster.hosts, "mode": "load", "keys": (bounds[i], bounds[i + 1]), "cpu": cpu}
            for i in range(CLIENT_PROCESSES)]
    start = time.perf_counter()
    results = run_workers(jobs)
    elapsed = time.perf_counter() - start
    loaded = sum(r["puts"] for r in results)
    slowest = max(r["elapsed"] for r in results)  # from the common start, without process start-up
    return {"records": loaded, "seconds": slowest, "puts_per_s": loaded / slowest,
            "with_process_start_s": elapsed, "errors": _merge_errors(results)}


def _merge_errors(results: list[dict]) -> dict[str, int]:
    total: Counter[str] = Counter()
    for result in results:
        total.update(result["errors"])
    return dict(total)


# ---- start to stable ---------------------------------------------------------------------------


def start_local(nodes: int) -> dict:
    """Seconds for LocalCluster(nodes) to return (it waits until stable), and how that splits:
    processes started and reporting their ports, then the first view with everyone."""
    start = time.perf_counter()
    with minikv.LocalCluster(nodes=nodes) as cluster:
        total = time.perf_counter() - start
        events = cluster.events()
    spawned = max(e.t for e in events if e.role == "LocalCluster" and e.text.startswith("started"))
    views = [e.t for e in events if (m := view_members(e)) is not None and len(m) == nodes]
    return {"seconds": total, "spawned_s": spawned, "full_view_s": min(views) if views else None}


def start_sim(nodes: int, seed: int) -> dict:
    start = time.perf_counter()
    sim = minikv.SimCluster(nodes=nodes, seed=seed)
    wall = time.perf_counter() - start
    virtual = sim.now
    sim.close()
    return {"virtual_s": virtual, "wall_s": wall}


def bench_start(args: argparse.Namespace) -> dict:
    """Interleaved rounds: 3 nodes then 5 nodes, in processes and in the simulator."""
    runs: dict[int, dict[str, list]] = {n: {"local": [], "sim": []} for n in (3, 5)}
    for number in range(1, args.start_rounds + 1):
        for nodes in (3, 5):
            runs[nodes]["local"].append(start_local(nodes))
            runs[nodes]["sim"].append(start_sim(nodes, seed=number))
        print(f"  round {number}/{args.start_rounds}: " + ", ".join(
            f"{n} nodes {runs[n]['local'][-1]['seconds']:.3f} s" for n in (3, 5)), flush=True)
    return {str(n): summarise_start(r) for n, r in runs.items()}


def summarise_start(runs: dict[str, list]) -> dict:
    local, sim = runs["local"], runs["sim"]
    return {"local_s": distribution([r["seconds"] for r in local]),
            "spawned_s": median([r["spawned_s"] for r in local]),
            "full_view_s": median([r["full_view_s"] for r in local if r["full_view_s"] is not None]),
            "sim_virtual_s": distribution([r["virtual_s"] for r in sim]),
            "sim_wall_s": distribution([r["wall_s"] for r in sim]), "rounds": runs}


def print_start(result: dict) -> None:
    print(f"\n{'nodes':<6}{'LocalCluster s':>15}{'min':>8}{'max':>8}{'spawned':>9}{'full view':>10}"
          f"{'sim virtual s':>15}{'sim wall s':>12}")
    for nodes, row in result.items():
        local = row["local_s"]
        print(f"{nodes:<6}{fmt(local['median']):>15}{fmt(local['min']):>8}{fmt(local['max']):>8}"
              f"{fmt(row['spawned_s']):>9}{fmt(row['full_view_s']):>10}"
              f"{fmt(row['sim_virtual_s']['median']):>15}{fmt(row['sim_wall_s']['median']):>12}")
    print("  spawned: every node process has reported its port; full view: the first node joined a "
          "view of all of them;\n  LocalCluster s: the constructor returned (same view everywhere, "
          "no migrations left). Medians.")


# ---- failover ----------------------------------------------------------------------------------


@dataclass
class Attempt:
    start: float  # time.monotonic() when the put was called
    end: float
    error: str = ""  # the exception's class name; "" for a successful write


@dataclass
class Writer:
    """A thread that puts to one key again and again, recording every attempt."""

    client: minikv.Client
    key: tuple
    attempts: list[Attempt] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    def start(self) -> None:
        self.thread = threading.Thread(target=self._run, name="failover-writer", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        policy, count = {"total_timeout": WRITE_TIMEOUT_MS}, 0
        while not self.stop.is_set():
            count += 1
            start = time.monotonic()
            try:
                self.client.put(self.key, {"count": count}, policy=policy)
                self.attempts.append(Attempt(start, time.monotonic()))
            except AerospikeError as exc:
                self.attempts.append(Attempt(start, time.monotonic(), type(exc).__name__))
                time.sleep(PAUSE_AFTER_FAILURE)

    def successes(self, after: float = float("-inf")) -> list[Attempt]:
        return [a for a in list(self.attempts) if not a.error and a.start > after]

    def halt(self) -> None:
        self.stop.set()
        if self.thread is not None:
            self.thread.join(timeout=10)


def key_mastered_by(cluster: minikv.LocalCluster, node_id: str, trial: int) -> tuple:
    """A key whose partition's master is `node_id` (asking the cluster, never guessing)."""
    table = cluster.partition_table(NAMESPACE)
    for i in range(100_000):
        key = (NAMESPACE, "failover", f"trial{trial}-{i}")
        if table[minikv.partition_id(minikv.calc_digest(*key))][0] == node_id:
            return key
    raise RuntimeError(f"no key mastered by {node_id}")


def failover_trial(cluster: minikv.LocalCluster, trial: int) -> dict:
    """Kill the master of the key a writer is writing, measure, then bring the node back."""
    victim = cluster.node_ids[trial % len(cluster.node_ids)]
    principal = cluster.info(victim)["cluster_principal"]
    writer = Writer(cluster.client(), key_mastered_by(cluster, victim, trial))
    try:
        writer.start()
        wait_until(lambda: len(writer.successes()) >= WARMUP_SUCCESSES, 10, "warm-up writes")
        cluster.kill(victim)
        killed_at, killed_wall = time.monotonic(), time.time()
        recovered = True
        try:
            wait_until(lambda: writer.successes(killed_at), RECOVERY_DEADLINE, "writes succeed again")
        except TimeoutError:
            recovered = False
    finally:
        writer.halt()
        writer.client.close()
    result = trial_figures(cluster, writer, victim, killed_at, killed_wall, recovered)
    result["principal"] = victim == principal
    cluster.restart(victim)
    cluster.wait_stable()
    return result


def trial_figures(cluster: minikv.LocalCluster, writer: Writer, victim: str, killed_at: float,
                  killed_wall: float, recovered: bool) -> dict:
    """Writes back: kill -> end of the first write that started after the kill and succeeded.
    View: kill -> the first survivor (and the last) joining a view without the victim."""
    failed = [a for a in writer.attempts if a.start > killed_at and a.error]
    first_ok = writer.successes(killed_at)[0] if recovered else None
    first_view: dict[str, float] = {}  # {survivor: seconds from the kill to its first view without the victim}
    for event in cluster.events():  # in time order
        members, at = view_members(event), event_time(cluster, event) - killed_wall
        if members is not None and victim not in members and at > 0:
            first_view.setdefault(event.node, at)
    writes_back = first_ok.end - killed_at if first_ok else None
    view_first = min(first_view.values()) if first_view else None
    view_all = max(first_view.values()) if first_view else None
    return {"killed": victim, "writes_back_s": writes_back, "view_first_s": view_first,
            "view_all_s": view_all,
            "client_lag_s": None if writes_back is None or view_all is None else writes_back - view_all,
            "failed_attempts": len(failed), "errors": dict(Counter(a.error for a in failed))}


def bench_failover(args: argparse.Namespace, stack: ExitStack) -> dict:
    cluster = stack.enter_context(minikv.LocalCluster(nodes=3))
    trials, aborted = [], None
    for number in range(args.trials):
        try:
            trials.append(failover_trial(cluster, number))
        except TimeoutError as exc:  # the cluster did not come back: report it, keep what we have
            aborted = f"trial {number + 1}: {exc}"
            print(f"  {aborted}", flush=True)
            break
        t = trials[-1]
        print(f"  trial {number + 1}/{args.trials}: killed {t['killed']}"
              f"{' (principal)' if t['principal'] else ''}, writes back after {fmt(t['writes_back_s'])} s, "
              f"view after {fmt(t['view_first_s'])} s, {t['failed_attempts']} failed attempts "
              f"{t['errors']}", flush=True)
    cluster.close()
    return {**summarise_failover(trials), "aborted": aborted}


def summarise_failover(trials: list[dict]) -> dict:
    def figures(name: str, rows: list[dict] = trials) -> dict:
        return distribution([t[name] for t in rows if t[name] is not None])
    return {"writes_back_s": figures("writes_back_s"), "view_first_s": figures("view_first_s"),
            "view_all_s": figures("view_all_s"), "client_lag_s": figures("client_lag_s"),
            "writes_back_principal_s": figures("writes_back_s", [t for t in trials if t["principal"]]),
            "writes_back_other_s": figures("writes_back_s", [t for t in trials if not t["principal"]]),
            "not_recovered": sum(t["writes_back_s"] is None for t in trials), "trials": trials}


def print_failover(result: dict, config: minikv.NodeConfig) -> None:
    print(f"\n{'failover (s after SIGKILL)':<36}{'n':>4}{'median':>9}{'p90':>9}{'min':>9}{'max':>9}")
    rows = [("writes succeed again", "writes_back_s"),
            ("  when the principal was killed", "writes_back_principal_s"),
            ("  when another node was killed", "writes_back_other_s"),
            ("first survivor in a view without it", "view_first_s"),
            ("every survivor in that view", "view_all_s"),
            ("client catches up after that", "client_lag_s")]
    for label, name in rows:
        d = result[name]
        print(f"{label:<36}{d['n']:>4}" + "".join(f"{fmt(d[c]):>9}" for c in ("median", "p90", "min", "max")))
    if result["aborted"]:
        print(f"  stopped early, {result['aborted']}")
    if result["not_recovered"]:
        print(f"  {result['not_recovered']} trial(s) did not recover within {RECOVERY_DEADLINE} s")
    print(textwrap.fill(
        f"How it splits: a peer is declared dead {config.node_timeout:.1f} s "
        f"({config.heartbeat_timeout_intervals} x {config.heartbeat_interval} s) after its last heartbeat, "
        f"so {config.node_timeout - config.heartbeat_interval:.1f}-{config.node_timeout:.1f} s after the kill; "
        f"the principal looks every quantum ({config.quantum_interval} s), adding 0-{config.quantum_interval} s; "
        f"the Prepare/Accept/Commit messages take milliseconds on loopback (a phase waits up to "
        f"{config.round_timeout} s only for a missing answer), but the principal's Commit leaves only "
        f"after the principal has rebalanced its 4096 partitions (tens of ms of Python), and each member "
        f"rebalances before it serves as the new master: the gap between the first and the last "
        f"survivor. Then the client: its first try after the kill is refused and makes it re-tend; the "
        f"next ones go to the replica, which proxies to the dead master until it adopts the view, so they "
        f"time out (total_timeout {WRITE_TIMEOUT_MS} ms; the writer pauses "
        f"{PAUSE_AFTER_FAILURE * 1000:.0f} ms after a failure): the last row is mostly that timeout.",
        width=100, initial_indent="  ",
        subsequent_indent="  "))


# ---- migration ---------------------------------------------------------------------------------


def migration_round(records: int) -> dict:
    """3 nodes get `records` records through the client; a 4th joins; time until stable, and
    until the non-replicas have dropped their copies (they are told just after)."""
    with minikv.LocalCluster(nodes=3) as cluster:
        load = load_keys(cluster, records)
        cluster.wait_stable()
        before = sum(cluster.info(n)["migrate_records_received"] for n in cluster.node_ids)
        start_wall = time.time()
        new = cluster.add_node()
        added_wall = time.time()
        try:
            cluster.wait_stable(timeout=MIGRATION_TIMEOUT)
        except TimeoutError as exc:
            return {"load": load, "stuck": str(exc), **stuck_diagnostics(cluster)}
        stable_wall = time.time()
        dropped_wall = wait_for_drops(cluster, 2 * load["records"])
        stats = {n: cluster.info(n) for n in cluster.node_ids}
        events = cluster.events()
    joined = {e.text.split()[2]: event_time(cluster, e) for e in reversed(events)  # {view key: first seen}
              if (m := view_members(e)) is not None and new in m and len(m) > 1
              and event_time(cluster, e) > start_wall}
    moved = sum(s["migrate_records_received"] for s in stats.values()) - before
    view_wall = min(joined.values()) if joined else added_wall
    return {"load": load, "moved": moved, "objects": sum(s["objects"] for s in stats.values()),
            "partitions": partitions_to_migrate(events, cluster.started_at, start_wall),
            "views": len(joined), "add_node_s": added_wall - start_wall,
            "view_s": view_wall - start_wall, "migrate_s": stable_wall - view_wall,
            "total_s": stable_wall - start_wall,
            "drops_s": None if dropped_wall is None else dropped_wall - stable_wall,
            "records_per_s": moved / (stable_wall - view_wall),
            "records_per_s_total": moved / (stable_wall - start_wall)}


def stuck_diagnostics(cluster: minikv.LocalCluster) -> dict:
    """What a bug report needs when migrations never finish: every node's statistics, every
    node's partition-info rows for the partitions some node is still receiving (state D), and
    the last events."""
    stats = {n: cluster.info(n) for n in cluster.node_ids}
    rows = {n: str(cluster.info(n, "partition-info")).split(";")[1:] for n in cluster.node_ids}
    pending = {row.split(":")[1] for node_rows in rows.values() for row in node_rows if row.split(":")[2] == "D"}
    return {"stats": stats,
            "pending_rows": {n: [r for r in node_rows if r.split(":")[1] in pending] for n, node_rows in rows.items()},
            "events": [str(e) for e in cluster.events()[-400:]]}


def wait_for_drops(cluster: minikv.LocalCluster, copies: int) -> float | None:
    """When the nodes hold exactly `copies` records in all (None if not within 10 s)."""
    try:
        wait_until(lambda: sum(cluster.info(n)["objects"] for n in cluster.node_ids) == copies,
                   10, "non-replicas dropped their copies")
    except TimeoutError:
        return None
    return time.time()


def partitions_to_migrate(events: list[minikv.Event], started_at: float, after: float) -> int:
    """Sum over nodes of "N partitions to migrate" in each node's first Balance after `after`."""
    first: dict[str, int] = {}
    for event in events:
        if event.role == "Balance" and started_at + event.t > after and "partitions to migrate" in event.text:
            first.setdefault(event.node, int(event.text.rsplit("; ", 1)[1].split()[0]))
    return sum(first.values())


def bench_migration(args: argparse.Namespace) -> dict:
    rounds = []
    for number in range(1, args.migration_rounds + 1):
        rounds.append(migration_round(args.records))
        r, head = rounds[-1], f"  round {number}/{args.migration_rounds}: "
        head += f"loaded {r['load']['records']:,} in {r['load']['seconds']:.1f} s, n4 joined: "
        if "stuck" in r:
            print(head + f"NOT stable within {MIGRATION_TIMEOUT:.0f} s: " + ", ".join(
                f"{n} {s['migrate_partitions_remaining']} partitions left" for n, s in r["stats"].items()))
        else:
            print(head + f"{r['moved']:,} records moved in {r['migrate_s']:.2f} s "
                  f"({r['records_per_s']:,.0f}/s), {r['views']} view(s)", flush=True)
    done = [r for r in rounds if "stuck" not in r]
    keys = ("moved", "partitions", "views", "view_s", "migrate_s", "total_s", "drops_s", "records_per_s",
            "records_per_s_total")
    summary = {k: distribution([r[k] for r in done if r[k] is not None]) for k in keys}
    summary["load_puts_per_s"] = distribution([r["load"]["puts_per_s"] for r in rounds])
    summary["load_s"] = distribution([r["load"]["seconds"] for r in rounds])
    return {"records": args.records, **summary, "stuck": len(rounds) - len(done), "rounds": rounds}


def print_migration(result: dict) -> None:
    print(f"\nmigration: n4 joins 3 nodes holding {result['records']:,} records (RF 2), "
          f"{result['records_per_s']['n']} round(s) reached stable")
    print(f"{'':<42}{'median':>11}{'min':>11}{'max':>11}")
    rows = [("load through the client (puts/s)", "load_puts_per_s", ",.0f"), ("load (s)", "load_s", ".1f"),
            ("records moved", "moved", ",.0f"), ("partitions to migrate (all nodes)", "partitions", ",.0f"),
            ("views with n4 until stable (1 = no churn)", "views", ".0f"),
            ("add_node() -> first view (s)", "view_s", ".3f"), ("first view -> stable (s)", "migrate_s", ".3f"),
            ("add_node() -> stable (s)", "total_s", ".3f"), ("stable -> copies dropped (s)", "drops_s", ".3f"),
            ("records/s (view -> stable)", "records_per_s", ",.0f"),
            ("records/s (add_node -> stable)", "records_per_s_total", ",.0f")]
    for label, name, spec in rows:
        d = result[name]
        print(f"{label:<42}" + "".join(f"{fmt(d[c], spec):>11}" for c in ("median", "min", "max")))
    if result["stuck"]:
        print(f"  {result['stuck']} round(s) did not reach stable within {MIGRATION_TIMEOUT:.0f} s "
              f"(see 'stats' in the JSON)")
    print("  stable: wait_stable() saw one view and no migrations left on any node; the nodes that "
          "no longer\n  replicate a partition drop their copies once told, just after (the last row).")


# ---- cluster throughput ------------------------------------------------------------------------


def throughput_run(cluster: minikv.LocalCluster, seconds: float, cpu: int | None, seed: int) -> dict:
    jobs = [{"hosts": cluster.hosts, "mode": "mix", "keyspace": THROUGHPUT_KEYS, "seconds": seconds,
             "cpu": cpu, "seed": seed * 100 + i} for i in range(CLIENT_PROCESSES)]
    results = run_workers(jobs)
    puts = sum(r["puts"] / r["elapsed"] for r in results)
    gets = sum(r["gets"] / r["elapsed"] for r in results)
    latencies = {op: sorted(x for r in results for x in r["latency"][op]) for op in ("put", "get")}
    return {"total": puts + gets, "put": puts, "get": gets, "errors": _merge_errors(results),
            **{f"{op}_p50_ms": _percentile(lat, 0.5) * 1000 for op, lat in latencies.items()},
            **{f"{op}_p99_ms": _percentile(lat, 0.99) * 1000 for op, lat in latencies.items()}}


def _percentile(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def bench_throughput(args: argparse.Namespace, stack: ExitStack) -> dict:
    """Two clusters side by side, one unpinned and one pinned to --cpu, run alternately."""
    placements = {"unpinned": None, "one CPU": args.cpu}
    clusters = {}
    for name, cpu in placements.items():
        clusters[name] = stack.enter_context(minikv.LocalCluster(nodes=3, cpus=None if cpu is None else [cpu]))
        load_keys(clusters[name], THROUGHPUT_KEYS, cpu)
    runs: dict[str, list[dict]] = {name: [] for name in placements}
    for number in range(1, args.throughput_rounds + 1):
        for name, cpu in placements.items():
            runs[name].append(throughput_run(clusters[name], args.seconds, cpu, number))
        print(f"  round {number}/{args.throughput_rounds}: " + ", ".join(
            f"{n} {runs[n][-1]['total']:,.0f} ops/s" for n in placements), flush=True)
    for cluster in clusters.values():
        cluster.close()
    columns = ("total", "put", "get", "put_p50_ms", "put_p99_ms", "get_p50_ms", "get_p99_ms")
    return {name: {**{c: distribution([r[c] for r in rs]) for c in columns},
                   "errors": _merge_errors(rs), "rounds": rs} for name, rs in runs.items()}


def print_throughput(result: dict, args: argparse.Namespace) -> None:
    print(f"\ncluster throughput: 3 nodes, RF 2, {CLIENT_PROCESSES} client processes, "
          f"{PUT_SHARE:.0%} puts / {1 - PUT_SHARE:.0%} gets on {THROUGHPUT_KEYS:,} keys, "
          f"{args.seconds:g} s per run, median of {args.throughput_rounds} round(s)")
    print(f"{'placement':<10}{'ops/s':>9}{'min':>9}{'max':>9}{'puts/s':>9}{'gets/s':>9}"
          f"{'put p50':>9}{'put p99':>9}{'get p50':>9}{'get p99':>9}  errors")
    for name, row in result.items():
        figures = [row["total"]["median"], row["total"]["min"], row["total"]["max"],
                   row["put"]["median"], row["get"]["median"]]
        latency = [row[c]["median"] for c in ("put_p50_ms", "put_p99_ms", "get_p50_ms", "get_p99_ms")]
        print(f"{name:<10}" + "".join(f"{fmt(v, ',.0f'):>9}" for v in figures)
              + "".join(f"{fmt(v, '.2f'):>9}" for v in latency) + f"  {row['errors'] or 'none'}")
    print("  latencies in ms (median over rounds of each round's percentile)")


# ---- reporting ---------------------------------------------------------------------------------


def placement_note(args: argparse.Namespace) -> str:
    return textwrap.fill(
        f"Placement: {os.cpu_count()} CPUs. Node processes, client processes and this bench were "
        f"left unpinned (the Linux scheduler places them) for start, failover and migration, and "
        f"for the 'unpinned' throughput rows; the 'one CPU' rows pin the three nodes "
        f"(LocalCluster(cpus=[{args.cpu}])) and the four client processes to CPU {args.cpu}, while "
        f"this bench only waits. A cluster is several busy processes, so on a small VM unpinned "
        f"figures depend on how the scheduler spreads them, and vary more from run to run than the "
        f"one-CPU ones. Load average (1 min) before and after the run: {args.load_before:.2f} and "
        f"{os.getloadavg()[0]:.2f}: anything else running on the machine shows in every figure. "
        f"Python {platform.python_version()}.", width=100, break_on_hyphens=False)


def closing_note(results: dict) -> str:
    lines = ["Figures (medians):"]
    if "start" in results:
        s = results["start"]
        lines.append(f"  start to stable: 3 nodes {fmt(s['3']['local_s']['median'])} s, 5 nodes "
                     f"{fmt(s['5']['local_s']['median'])} s (SimCluster: {fmt(s['3']['sim_virtual_s']['median'])} / "
                     f"{fmt(s['5']['sim_virtual_s']['median'])} virtual s in {fmt(s['3']['sim_wall_s']['median'])} / "
                     f"{fmt(s['5']['sim_wall_s']['median'])} wall s)")
    if "failover" in results:
        f = results["failover"]
        w = f["writes_back_s"]
        verdict = "met" if w["median"] is not None and w["median"] < 1.0 else "NOT met"
        lines.append(f"  failover: writes succeed again {fmt(w['median'])} s after SIGKILL (p90 {fmt(w['p90'])}, "
                     f"{fmt(w['min'])}-{fmt(w['max'])}, {w['n']} trials; target median < 1 s: {verdict}); "
                     f"view change {fmt(f['view_first_s']['median'])} s")
    if "migration" in results:
        m = results["migration"]
        lines.append(f"  migration: {fmt(m['records_per_s']['median'], ',.0f')} records/s "
                     f"({fmt(m['moved']['median'], ',.0f')} records in {fmt(m['migrate_s']['median'])} s "
                     f"from the view change; {fmt(m['total_s']['median'])} s from add_node())"
                     + (f"; {m['stuck']} round(s) NOT stable" if m["stuck"] else ""))
    if "throughput" in results:
        t = results["throughput"]
        lines.append("  throughput (RF 2, 4 client processes): " + ", ".join(
            f"{name} {fmt(row['total']['median'], ',.0f')} ops/s" for name, row in t.items()))
    return "\n".join(lines)


def write_json(results: dict, args: argparse.Namespace) -> None:
    RESULTS_FILE.parent.mkdir(parents=True, exist_ok=True)
    document = {"when": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "python": platform.python_version(),
                "machine": platform.platform(), "cpus": os.cpu_count(), "args": vars(args),
                "load_after": os.getloadavg()[0], "config": minikv.NodeConfig().to_json(), **results}
    RESULTS_FILE.write_text(json.dumps(document, indent=2, default=str) + "\n")
    print(f"\nWrote {RESULTS_FILE}")


# ---- entry point -------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run of about a minute")
    parser.add_argument("--trials", type=int, help="failover trials (default 12, quick 3)")
    parser.add_argument("--rounds", type=int, help="start and throughput rounds (default 5 and 3, quick 1)")
    parser.add_argument("--migration-rounds", type=int, help="migration rounds (default 3, quick 1)")
    parser.add_argument("--records", type=int, help="records before the join (default 100,000, quick 10,000)")
    parser.add_argument("--seconds", type=float, help="seconds per throughput run (default 5, quick 2)")
    parser.add_argument("--cpu", type=int, default=0, help="the CPU of the one-CPU throughput rows")
    parser.add_argument("--sections", default=",".join(SECTIONS), help=f"some of {','.join(SECTIONS)}")
    args = parser.parse_args(argv)
    # {option: (quick, full)} for the options left unset; --rounds is settled per section
    defaults = {"trials": (3, 12), "migration_rounds": (1, 3), "records": (10_000, 100_000),
                "seconds": (2.0, 5.0)}
    for name, (quick, full) in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, quick if args.quick else full)
    args.sections = [s for s in args.sections.split(",") if s]
    if unknown := set(args.sections) - set(SECTIONS):
        parser.error(f"unknown sections {sorted(unknown)}; choose from {SECTIONS}")
    args.start_rounds = args.rounds or (1 if args.quick else 5)
    args.throughput_rounds = args.rounds or (1 if args.quick else 3)
    if min(args.trials, args.migration_rounds, args.records, args.start_rounds) < 1 or args.seconds <= 0:
        parser.error("counts and --seconds must be positive")
    return args


def run_sections(args: argparse.Namespace, stack: ExitStack) -> dict:
    results: dict = {}
    if "start" in args.sections:
        print(f"Start to stable: {args.start_rounds} interleaved rounds of 3 and 5 nodes", flush=True)
        results["start"] = bench_start(args)
        print_start(results["start"])
    if "failover" in args.sections:
        print(f"\nFailover: {args.trials} trials on 3 nodes", flush=True)
        results["failover"] = bench_failover(args, stack)
        print_failover(results["failover"], minikv.NodeConfig())
    if "migration" in args.sections:
        print(f"\nMigration: {args.migration_rounds} round(s) of {args.records:,} records", flush=True)
        results["migration"] = bench_migration(args)
        print_migration(results["migration"])
    if "throughput" in args.sections:
        print(f"\nThroughput: {args.throughput_rounds} interleaved rounds, unpinned and on CPU {args.cpu}",
              flush=True)
        results["throughput"] = bench_throughput(args, stack)
        print_throughput(results["throughput"], args)
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.load_before = os.getloadavg()[0]
    if args.cpu not in os.sched_getaffinity(0):
        sys.exit(f"--cpu {args.cpu} is not available to this process")
    # SIGTERM unwinds like Ctrl-C: the ExitStack and run_workers stop every node and client process
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        with ExitStack() as stack:
            results = run_sections(args, stack)
    except KeyboardInterrupt:
        print("\nInterrupted: nodes and client processes stopped.", file=sys.stderr)
        return 130
    print()
    print(placement_note(args))
    print()
    print(closing_note(results))
    write_json(results, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
