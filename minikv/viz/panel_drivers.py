"""What keeps a ClusterPanel moving: the background load and the clock that redraws it.

Two drivers, because the two clusters differ in what may touch them from where:

- `ThreadDriver` (LocalCluster): real nodes run on their own, so a daemon thread redraws the
  panel every `REFRESH_INTERVAL` and another runs the load. The load has its own client (clients
  are thread-safe); the redraw and the buttons take turns on the cluster through the panel's lock.
- `SimDriver` (SimCluster): nothing happens unless someone advances virtual time, and a
  SimCluster is not thread-safe. So everything runs on the kernel's main thread, from timers on
  its asyncio event loop (`loop.call_later`), the loop that also delivers button clicks: time
  advances in small steps, load operations run inside those steps, and the panel redraws.

Neither ever prints: what they have to say goes into the panel's labels (widget state).
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections import deque
from typing import TYPE_CHECKING, Callable

from minikv.client import Client
from minikv.errors import AerospikeError, RecordNotFound

if TYPE_CHECKING:  # the panel imports this module; this import is for type hints only
    from minikv.viz.panel import ClusterPanel

REFRESH_INTERVAL = 0.5  # wall seconds between redraws, at least
REDRAW_SHARE = 0.25  # at most this share of wall time goes to redrawing (a snapshot asks every
#                      node about 4096 partitions: ~50 ms per node in the simulator)
TICK_INTERVAL = 0.1  # wall seconds between two advances of a simulation
MAX_VIRTUAL_PER_TICK = 2.0  # virtual seconds one tick may advance, however late it runs
STEP_SECONDS = 0.1  # virtual seconds per press of "step": one heartbeat interval
MAX_OPS_PER_TICK = 200  # load operations one simulation tick may run, so the kernel stays responsive
LOAD_KEYS = 1000  # the load writes and reads keys ("test", "load", 0..999)
WRITE_SHARE = 0.5  # fraction of load operations that are puts
LOAD_TIMEOUT_MS = 500  # total_timeout of a load operation: a paused node costs at most this
RATE_WINDOW = 2.0  # seconds over which throughput is measured
JOIN_TIMEOUT = 5.0  # wall seconds close() waits for a thread to finish its current operation


def timed(action: Callable[[], object]) -> float:
    """Run `action()`; how many wall seconds it took."""
    start = time.monotonic()
    action()
    return time.monotonic() - start


def next_redraw_in(took: float) -> float:
    """Seconds until the next redraw, so that redrawing takes at most REDRAW_SHARE of the time."""
    return max(REFRESH_INTERVAL, took / REDRAW_SHARE)


class Load:
    """Puts and gets on random keys through one client, counting what came of them: answered,
    failed for sure (definite error), or in doubt (a write that may have happened)."""

    def __init__(self, client: Client, now: float, seed: int = 0):
        self.client = client
        self.rng = random.Random(seed)
        self.ok = self.errors = self.in_doubt = 0
        self.last_error = ""
        self._samples = deque([(now, 0)])  # (time, operations done) when the rate was read

    @property
    def done(self) -> int:
        return self.ok + self.errors + self.in_doubt

    def one(self) -> None:
        """One put or get; never raises (the outcome is counted instead)."""
        key = ("test", "load", self.rng.randrange(LOAD_KEYS))
        try:
            if self.rng.random() < WRITE_SHARE:
                self.client.put(key, {"v": self.done})
            else:
                self.client.get(key)
        except RecordNotFound:  # a key not written yet: the cluster answered, that is success
            self.ok += 1
        except AerospikeError as exc:
            if exc.in_doubt:  # a write that may have happened: retrying it blindly is unsafe
                self.in_doubt += 1
            else:
                self.errors += 1
            self.last_error = f"{type(exc).__name__}: {exc.msg}"
        except Exception as exc:  # anything else must not end the load: count and show it
            self.errors += 1
            self.last_error = f"{type(exc).__name__}: {exc}"
        else:
            self.ok += 1

    def rate(self, now: float) -> float:
        """Operations per second over the last RATE_WINDOW seconds or so of `now`'s clock."""
        self._samples.append((now, self.done))
        while len(self._samples) > 2 and now - self._samples[1][0] >= RATE_WINDOW:
            self._samples.popleft()  # keep one sample at least a window old, if there is one
        then, done = self._samples[0]
        return (self.done - done) / (now - then) if now > then else 0.0

    def close(self) -> None:
        self.client.close()


class ThreadDriver:
    """LocalCluster: a redraw thread for the panel's lifetime, a load thread while load is on."""

    simulated = False

    def __init__(self, panel: ClusterPanel):
        self.panel = panel
        self.load: Load | None = None  # the last load switched on (its counts stay on show)
        self._stop = threading.Event()  # the panel closed
        self._load_stop = threading.Event()  # the load was switched off
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        self._spawn("minikv-panel-refresh", self._refresh_loop)

    def set_load(self, on: bool) -> str:
        if not on:
            self._load_stop.set()
            return "the load thread stops after its current operation"
        self._load_stop = threading.Event()  # a fresh one: the old thread may still be finishing
        self.load = Load(self.panel.cluster.client(policies={"total_timeout": LOAD_TIMEOUT_MS}), time.monotonic())
        self._spawn("minikv-panel-load", self._load_loop, self.load, self._load_stop)
        return "a thread puts and gets random keys"

    def now(self) -> float:
        return time.monotonic()

    @property
    def load_running(self) -> bool:
        return self.load is not None and not self._load_stop.is_set()

    def stop(self) -> None:
        self._stop.set()
        self._load_stop.set()
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(JOIN_TIMEOUT)

    def _spawn(self, name: str, target: Callable[..., None], *args: object) -> None:
        self._threads = [t for t in self._threads if t.is_alive()]
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _refresh_loop(self) -> None:
        pause = REFRESH_INTERVAL
        while not self._stop.wait(pause):  # a timer, not a synchronisation
            if self.panel.cluster.closed:
                self._load_stop.set()
                self.panel.show_status("the cluster is closed: the panel stopped")
                return
            pause = next_redraw_in(timed(self.panel.refresh_quietly))

    def _load_loop(self, load: Load, load_stop: threading.Event) -> None:
        try:
            while not (load_stop.is_set() or self._stop.is_set() or self.panel.cluster.closed):
                load.one()
        finally:
            load.close()


class SimDriver:
    """SimCluster: play, pause, step and the load, all on the kernel's main thread."""

    simulated = True

    def __init__(self, panel: ClusterPanel):
        self.panel = panel
        self.sim = panel.cluster
        self.speed = 1.0  # virtual seconds per wall second while playing
        self.playing = False
        self.load: Load | None = None  # the last load switched on (its counts stay on show)
        self.load_on = False
        self._timer: asyncio.TimerHandle | None = None
        self._last_tick = self._next_refresh = time.monotonic()

    def start(self) -> None:
        """Nothing runs until play: a simulation stands still unless asked to move."""

    def now(self) -> float:
        return self.sim.now

    @property
    def load_running(self) -> bool:
        return self.load_on

    def play(self) -> str:
        self.playing = True
        self._last_tick = time.monotonic()
        self._schedule()
        return f"playing at {self.speed:g}x real time"

    def pause(self) -> str:
        self.stop()
        return f"paused at t={self.sim.now:.3f} s"

    def step(self) -> str:
        self.sim.run_for(STEP_SECONDS)
        return f"t={self.sim.now:.3f} s"

    def set_load(self, on: bool) -> str:
        """The load runs in simulated time, so switching it on also presses play."""
        if not on:
            self.load_on = False
            return "no more operations"
        playing = self.play()  # raises outside an event loop: then there is no load either
        self.load = Load(self.sim.client(policies={"total_timeout": LOAD_TIMEOUT_MS}), self.sim.now)
        self.load_on = True
        return f"operations run in simulated time; {playing}"

    def stop(self) -> None:
        self.playing = False
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _schedule(self) -> None:
        if self._timer is not None:  # one chain of timers, however often play is pressed
            return
        try:
            loop = asyncio.get_running_loop()  # in Jupyter: the kernel's, on the main thread
        except RuntimeError:
            self.playing = False
            raise RuntimeError("no running asyncio event loop (Jupyter has one): use step") from None
        self._timer = loop.call_later(TICK_INTERVAL, self._tick)

    def _tick(self) -> None:
        """Advance virtual time by speed x the wall time since the last tick, running load."""
        self._timer = None
        if self.panel.closed or not self.playing:
            return
        if self.sim.closed:
            self.playing = False
            self.panel.show_status("the cluster is closed: the panel stopped")
            return
        wall = time.monotonic()
        budget = min(self.speed * (wall - self._last_tick), MAX_VIRTUAL_PER_TICK)
        self._last_tick = wall
        try:
            self._advance(self.sim.now + budget)
            if wall >= self._next_refresh:
                self._next_refresh = wall + next_redraw_in(timed(self.panel.refresh))
        except Exception as exc:  # shown, and the clock stops: a timer must never raise
            self.playing = False
            self.panel.show_status(f"simulation stopped: {type(exc).__name__}: {exc}")
            return
        self._schedule()

    def _advance(self, until: float) -> None:
        ops = 0
        while self.load_on and self.sim.now < until and ops < MAX_OPS_PER_TICK:
            self.load.one()  # each operation moves virtual time by its round trips
            ops += 1
        if self.sim.now < until:
            self.sim.run_for(until - self.sim.now)
