"""Run a Jepsen test: client processes work through a workload while a nemesis breaks the cluster.

    report = run_test(minikv.SimCluster(3, seed=4), workload="register", nemesis="partitions",
                      duration=10.0, seed=4)
    report                        # VALID / INVALID, counts, anomalies
    report.figure_timeline()      # one row per client process, nemesis windows shaded

The same call takes a LocalCluster. Either way: `processes` client processes (each with its own
client, seeded with a different node first, as Jepsen binds each client to one node) perform
random operations of the workload for `duration` seconds, each recorded invoke -> ok / fail / info;
the nemesis runs its seeded schedule meanwhile; then every fault is repaired, the cluster is left
to settle, one last process reads every key (the quiescent final read), and the history is checked.

Real processes: one thread per client process, times from time.monotonic (seconds since start).

The simulator needs more care, because a SimCluster client call is synchronous: it runs the whole
simulation until its own reply lands. Called one after another, the processes would never have
two operations in flight at once, and a history without overlap tests nothing. So each simulated
client process is a thread too, but one that runs only while the simulation waits for it:

- its transport (`_SimProcessTransport`) sends the request into the simulation, schedules a
  timeout, and then *parks* the thread, handing control back to the simulation;
- the simulation runs on: other processes' requests, node ticks, nemesis faults;
- when the reply (or the timeout) event fires, that event hands control to the parked thread,
  which records the completion at that virtual instant and continues until it parks again.

Exactly one thread runs at any moment and control passes at scheduled events only, so the
run is as deterministic as the simulator: the same seed gives the identical history (a test
checks it). Python's threads are only a way to keep each process's stack while it waits, like
a coroutine; nothing ever runs in parallel. sim.py is unchanged: the driver uses its public
`send_request` and `schedule`.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from typing import Any

from minikv.client import Client
from minikv.core.messages import Reply
from minikv.jepsen.history import History, Recorder
from minikv.jepsen.nemesis import Nemesis
from minikv.jepsen.report import Report
from minikv.jepsen.workloads import Workload, make_workload
from minikv.runtime.codec import KIND_REPLY, KIND_REQUEST, FrameReader, decode, encode
from minikv.runtime.sim import SimCluster
from minikv.runtime.transport import Address, ReplyLost

THINK_TIME = (0.0, 0.02)  # seconds a client process waits between two operations
SETTLE_TIMEOUT = 30.0  # seconds (virtual or real) the cluster may take to settle before final reads
DRAIN_TIMEOUT = 10.0  # seconds the processes' last operations may take after `duration`


def run_test(cluster: Any, workload: str | Workload = "register", nemesis: str | Nemesis = "partitions",
             duration: float = 10.0, seed: int = 0, processes: int = 5, keys: int | None = None,
             think: tuple[float, float] = THINK_TIME) -> Report:
    """Run the workload under the nemesis on `cluster` (SimCluster or LocalCluster) and check it."""
    load = make_workload(workload, keys)
    schedule = nemesis if isinstance(nemesis, Nemesis) else Nemesis(nemesis, seed, load.hot_key)
    run = _Run(cluster, load, schedule, duration, seed, processes, think)
    history = run.in_simulator() if isinstance(cluster, SimCluster) else run.in_processes()
    return Report.check(history, nemesis=schedule.windows, notes=run.notes)


def client_loop(load: Workload, client: Client, recorder: Recorder, process: int, rng: random.Random,
                until: Callable[[], bool], pause: Callable[[float], None], think: tuple[float, float]) -> None:
    """One client process: random operations of the workload, a short think time between them."""
    while not until():
        load.step(client, recorder, process, rng)
        pause(rng.uniform(*think))


def rotated(hosts: list[Address], process: int) -> list[Address]:
    """The seed hosts starting at this process's own node. During a split both sides claim the
    same partitions; which claim a client's map keeps depends on the order it met the nodes, so
    clients bound to different nodes can write one key on both sides, as in Jepsen's runs (with
    one order for all, the simulated AP registers stayed linearizable; rotated, they do not)."""
    first = process % len(hosts)
    return hosts[first:] + hosts[:first]


class _Run:
    """What one test run needs, and the two ways to drive it."""

    def __init__(self, cluster: Any, load: Workload, schedule: Nemesis, duration: float, seed: int,
                 processes: int, think: tuple[float, float]):
        self.cluster, self.load, self.schedule = cluster, load, schedule
        self.duration, self.seed, self.processes, self.think = duration, seed, processes, think
        self.history = History()
        self.notes: list[str] = []  # for the report: what went wrong around the checked history

    def rng(self, process: int) -> random.Random:
        """Each process draws from its own seeded generator: its choices do not depend on timing."""
        return random.Random(self.seed * 1009 + process)

    def finish(self, recorder: Recorder, client: Client, now: Callable[[], float]) -> History:
        """Repair every fault, let the cluster settle, read every key once (process = processes)."""
        self.schedule.repair(self.cluster, now)
        try:
            self.cluster.wait_stable(SETTLE_TIMEOUT)
        except TimeoutError as error:  # read anyway: what the clients see is what gets checked
            self.notes.append(f"not settled before the final reads: {error}")
        self.load.final(client, recorder, self.processes)
        return self.history

    # ---- in the simulator ----------------------------------------------------------------------

    def in_simulator(self) -> History:
        sim, start = self.cluster, self.cluster.now
        clock = lambda: sim.now - start  # run time, in virtual seconds
        recorder = Recorder(self.history, clock)
        for fault in self.schedule.plan(self.duration, sim.node_ids):
            sim.schedule(fault.start, lambda f=fault: self.schedule.begin(sim, f, clock))
            sim.schedule(fault.end, lambda f=fault: self.schedule.end(sim, f, clock))
        procs = [_SimProcess(sim, self._sim_body(recorder, clock, p)) for p in range(self.processes)]
        starts = random.Random(self.seed)
        for proc in procs:  # staggered starts, so the processes' operations interleave from the off
            sim.schedule(starts.uniform(*self.think), proc.start)
        sim.run_for(self.duration)
        sim.run_until(lambda: all(proc.done for proc in procs), DRAIN_TIMEOUT)
        for proc in procs:
            proc.abort()
        errors = [proc.error for proc in procs if proc.error is not None]
        if errors:
            raise errors[0]
        return self.finish(recorder, sim.client(), clock)

    def _sim_body(self, recorder: Recorder, clock: Callable[[], float], process: int) -> Callable:
        def body(proc: _SimProcess) -> None:
            transport = _SimProcessTransport(self.cluster, proc)
            client = Client({"hosts": rotated(self.cluster.hosts, process)}, transport=transport).connect()
            client_loop(self.load, client, recorder, process, self.rng(process),
                        lambda: clock() >= self.duration, transport.sleep, self.think)

        return body

    # ---- in real processes ---------------------------------------------------------------------

    def in_processes(self) -> History:
        start = time.monotonic()
        clock = lambda: time.monotonic() - start  # run time, in seconds
        recorder = Recorder(self.history, clock)
        errors: list[BaseException] = []
        threads = [threading.Thread(target=_catching(errors, self._real_body(recorder, clock, p)),
                                    name=f"jepsen-p{p}") for p in range(self.processes)]
        threads.append(threading.Thread(target=_catching(errors, lambda: self._real_nemesis(clock)),
                                        name="jepsen-nemesis"))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            self.schedule.repair(self.cluster, clock)
            raise errors[0]
        client = self.cluster.client()
        try:
            return self.finish(recorder, client, clock)
        finally:
            client.close()

    def _real_body(self, recorder: Recorder, clock: Callable[[], float], process: int) -> Callable[[], None]:
        def body() -> None:
            client = Client({"hosts": rotated(self.cluster.hosts, process)}).connect()
            try:
                client_loop(self.load, client, recorder, process, self.rng(process),
                            lambda: clock() >= self.duration, time.sleep, self.think)
            finally:
                client.close()

        return body

    def _real_nemesis(self, clock: Callable[[], float]) -> None:
        """Play the schedule on the wall clock (sleeping until each fault is due is the schedule
        itself, not a wait for something to happen)."""
        for fault in self.schedule.plan(self.duration, self.cluster.node_ids):
            time.sleep(max(0.0, fault.start - clock()))
            self.schedule.begin(self.cluster, fault, clock)
            time.sleep(max(0.0, fault.end - clock()))
            self.schedule.end(self.cluster, fault, clock)


def _catching(errors: list[BaseException], fn: Callable[[], None]) -> Callable[[], None]:
    """A thread target that keeps its exception for the main thread to raise."""
    def target() -> None:
        try:
            fn()
        except BaseException as error:  # noqa: BLE001 - handed to the main thread
            errors.append(error)

    return target


# ---- simulated client processes ------------------------------------------------------------------


class _Aborted(Exception):
    """Raised inside a parked process when the run ends without waking it."""


class _SimProcess:
    """A client process in the simulator: a thread that runs only while the simulation waits.

    Two semaphores pass control back and forth, so exactly one of (the simulation, this thread)
    runs at a time: `resume()` (called by a simulation event) lets the thread run until it calls
    `park()` again or finishes; `park()` (called by the thread) hands control back."""

    def __init__(self, sim: SimCluster, body: Callable[[_SimProcess], None]):
        self.sim = sim
        self.done = False
        self.error: BaseException | None = None
        self._aborted = False
        self._turn = threading.Semaphore(0)  # released: this thread may run
        self._back = threading.Semaphore(0)  # released: the simulation may run
        self._thread = threading.Thread(target=self._main, args=(body,), daemon=True)

    def start(self) -> None:
        """Begin the process (from a simulation event); it runs until it first parks."""
        self._thread.start()
        self._back.acquire()  # until it parks for the first time, or finishes

    def resume(self) -> None:
        """Run the process until it parks again (from a simulation event)."""
        if not self.done:
            self._turn.release()
            self._back.acquire()

    def park(self) -> None:
        """Give control back to the simulation until resume() (from the process thread)."""
        self._back.release()
        self._turn.acquire()
        if self._aborted:
            raise _Aborted("the run ended while this process waited")

    def abort(self) -> None:
        """End a process still parked: its pending operation stays in doubt."""
        if self._thread.is_alive() and not self.done:
            self._aborted = True
            self.resume()
        self._thread.join()

    def _main(self, body: Callable[[_SimProcess], None]) -> None:
        try:
            body(self)
        except _Aborted:
            pass
        except BaseException as error:  # noqa: BLE001 - re-raised by the runner
            self.error = error
        finally:
            self.done = True
            self._back.release()


class _SimProcessTransport:
    """The client transport of one simulated process: send, park until the reply or the timeout."""

    def __init__(self, sim: SimCluster, process: _SimProcess):
        self.sim, self.process = sim, process
        self._ids = iter(range(1, 2**31))

    def now(self) -> float:
        return self.sim.now

    def sleep(self, seconds: float) -> None:
        self.sim.schedule(seconds, self.process.resume)
        self.process.park()

    def call(self, address: Address, request: Any, timeout: float) -> Reply:
        box: list[tuple[str, bytes | None]] = []  # the first of (reply, timeout) to happen

        def wake(outcome: str, frame: bytes | None) -> None:
            if not box:
                box.append((outcome, frame))
                self.process.resume()

        frame = encode(KIND_REQUEST, next(self._ids), request)
        self.sim.send_request(address, frame, lambda reply: wake("reply", reply))  # NoConnection: not sent
        self.sim.schedule(timeout, lambda: wake("timeout", None))
        self.process.park()
        outcome, reply = box[0]
        if outcome == "timeout":
            raise ReplyLost("no reply before the deadline (virtual time)", timed_out=True)
        if reply is None:
            raise ReplyLost("the node died with the request in flight", timed_out=False)
        (reply_frame,) = FrameReader(2**31, kinds=(KIND_REPLY,)).feed(reply)
        return decode(reply_frame.body)

    def close(self) -> None:
        pass
