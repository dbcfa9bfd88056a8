"""Checks for exercise 2, the failure detector (exercises/ex2_failure_detector.py, notebook 02).

Part 2.1 is checked on cases, then plugged into a simulated cluster as the `peer_alive` hook: a
killed node must leave every survivor's view in good time, and a slow link or a short pause,
both shorter than the timeout, must not cost anyone their place. Part 2.2 (the accrual
detector φ) is checked on values, then run over heartbeats recorded from a simulated cluster
whose link n1-n2 loses half its messages. Every scenario has a fixed seed, so a failing report
can be replayed exactly.
"""

from __future__ import annotations

import math
import statistics
from functools import lru_cache
from types import ModuleType

import minikv
from minikv.grading.registry import CheckFailed, Exercise

SEED = 7  # the cluster scenarios of part 2.1
TIMEOUT = minikv.NodeConfig().node_timeout  # 0.5 s: 5 heartbeats of 0.1 s
QUANTUM = minikv.NodeConfig().quantum_interval  # 0.2 s
# A killed node must be out of every view this soon: the timeout, then up to two quanta for the
# principal to notice and run its round. minikv's own detector takes about 0.6 s.
DETECTION_BOUND = TIMEOUT + 2 * QUANTUM + 0.1
HICCUP = 0.3  # s: the slow link's extra delay and the pause, both shorter than TIMEOUT
WATCH = 3.0  # virtual s to watch for a false death after the hiccup

LOSSY_SEED, LOSS = 2, 0.5  # part 2.2: the recorded link n1-n2 loses half its messages
RECORD_FOR, WARM_UP = 12.0, 3.0  # virtual s of heartbeats recorded; s before φ is judged
PHI_THRESHOLD = 8.0
LOSSY_BOUND, HEALTHY_BOUND = 2.0, 0.5  # s of silence after which φ must have passed the threshold


# ---- part 2.1: peer_alive -------------------------------------------------------------------------

ALIVE_CASES = [  # (last_heard, now, timeout, expected, why)
    (None, 3.0, 0.5, False, "a peer never heard from is not alive"),
    (2.75, 3.0, 0.5, True, "silent for 0.25 s, less than the timeout"),
    (3.0, 3.0, 0.5, True, "heard this very moment"),
    (2.5, 3.0, 0.5, False, "silent for exactly the timeout counts as dead"),
    (1.0, 3.0, 0.5, False, "silent for 2 s"),
    (0.0, 1.0, 1.5, True, "a longer timeout (Aerospike's 1.5 s) keeps a peer silent for 1 s alive"),
    (0.0, 2.0, 1.5, False, "...but not one silent for 2 s"),
    (None, 0.0, 0.5, False, "never heard from, even at time 0"),
]


def check_2_1_peer_alive_cases(learner: ModuleType) -> None:
    """peer_alive answers eight cases of silence against a timeout correctly."""
    for last_heard, now, timeout, expected, why in ALIVE_CASES:
        got = learner.peer_alive(last_heard, now, timeout)
        if bool(got) != expected or got is None:
            raise CheckFailed(f"peer_alive(last_heard={last_heard}, now={now}, timeout={timeout}) "
                              f"returned {got!r}; expected {expected}: {why}")


def check_2_1_kill_leaves_the_view(learner: ModuleType) -> None:
    """In a 3-node SimCluster your peer_alive lets the cluster form and drops a killed node within 1 s.

    Every node uses the learner's function (plugins={"peer_alive": ...}); minikv's own takes 0.6 s."""
    sim = _formed_cluster(learner)
    killed_at = sim.now
    sim.kill("n2")
    gone = sim.run_until(lambda: all("n2" not in sim.node(n).members for n in ("n1", "n3")), DETECTION_BOUND)
    if not gone:
        raise CheckFailed(f"{_setup()}: killed n2 at t={killed_at:.3f}; {DETECTION_BOUND:.1f} virtual s later "
                          f"it is still in a survivor's view (minikv's own detector needs about 0.6 s).\n"
                          f"views: {sim.views()}\n{_story(sim, killed_at)}")


def check_2_1_slow_link_and_pause_are_not_deaths(learner: ModuleType) -> None:
    """In a SimCluster your peer_alive survives a 0.3 s slow link and a 0.3 s pause without a view change.

    Both hiccups are shorter than the 0.5 s timeout, so any view change would be a false death."""
    for name, hiccup in [("slow_link('n1', 'n2', 0.3)", _slow_link), ("pause('n2') for 0.3 s", _pause)]:
        sim = _formed_cluster(learner)
        started, view = sim.now, sim.views()
        hiccup(sim)
        sim.run_for(WATCH)
        changes = [e for e in sim.events() if e.t >= started and e.role == "Clustering"]
        if changes or sim.views() != view:
            raise CheckFailed(f"{_setup()}: after {name} at t={started:.3f} the view changed, yet no node "
                              f"was silent for the whole {TIMEOUT} s timeout (a false death).\n"
                              f"{_story(sim, started)}")


def _formed_cluster(learner: ModuleType) -> minikv.SimCluster:
    """A 3-node SimCluster driven by the learner's detector, once all three share one view."""
    sim = minikv.SimCluster(nodes=3, seed=SEED, wait=False, plugins={"peer_alive": learner.peer_alive})
    formed = sim.run_until(lambda: all(len(sim.node(n).members) == 3 and sim.node(n).ckey == sim.node("n1").ckey
                                       for n in sim.node_ids), 5.0)
    if not formed:
        raise CheckFailed(f"{_setup()}: the three nodes never formed one cluster in 5 virtual s "
                          f"(does peer_alive say True for a peer heard a moment ago?)\nviews: {sim.views()}")
    sim.run_for(0.1)  # let the last members' Balance finish before the story starts
    return sim


def _slow_link(sim: minikv.SimCluster) -> None:
    sim.slow_link("n1", "n2", HICCUP)


def _pause(sim: minikv.SimCluster) -> None:
    sim.pause("n2")
    sim.run_for(HICCUP)
    sim.resume("n2")


def _setup() -> str:
    return f"SimCluster(nodes=3, seed={SEED}, plugins={{'peer_alive': your peer_alive}})"


def _story(sim: minikv.SimCluster, since: float, limit: int = 12) -> str:
    """The membership events since `since`, as the trace of a failing scenario."""
    lines = [f"  {e}" for e in sim.events() if e.t >= since and e.role in ("Clustering", "SimCluster")]
    shown = lines[:limit] + ([f"  ... {len(lines) - limit} more"] if len(lines) > limit else [])
    return "events:\n" + "\n".join(shown or ["  (none)"])


# ---- part 2.2: phi -------------------------------------------------------------------------------

PHI_CASES = [  # (intervals, silence, keyword arguments, expected φ, what it shows)
    ([0.1] * 10, 0.1, {}, 0.3010299956639812, "silence equal to the mean gap: P = 0.5"),
    ([0.1] * 10, 0.2, {}, 1.6430160801409368, "the docstring's worked example"),
    ([0.1] * 10, 0.5, {}, 15.206142551017152, "the docstring's worked example"),
    ([0.1, 0.1, 0.1, 0.4], 0.5, {}, 2.209201833337867, "a jittery peer: the same silence, far less suspicion"),
    ([0.1] * 10, 0.2, {"min_std": 0.1}, 0.7995455414919704, "min_std is a parameter"),
    ([0.2, 0.3], 0.0, {}, 1.2449121375808637e-07, "mean 0.25, spread 0.05, no silence yet: hardly suspect"),
    ([0.1] * 10, 5.0, {}, math.inf, "P rounds to 0.0: φ is infinite"),
]


def check_2_2_phi_values(learner: ModuleType) -> None:
    """phi gives the accrual detector's suspicion level for seven histories and silences, and grows with the silence."""
    for intervals, silence, kwargs, expected, why in PHI_CASES:
        got = learner.phi(list(intervals), silence, **kwargs)
        if not _close(got, expected):
            extra = "".join(f", {k}={v}" for k, v in kwargs.items())
            raise CheckFailed(f"phi({_short(intervals)}, silence={silence}{extra}) returned {got!r}; "
                              f"expected {expected:.6g} ({why}){_hint(intervals, silence, kwargs, got)}")
    levels = [learner.phi([0.1, 0.12, 0.09, 0.11], s / 10) for s in range(1, 8)]
    if any(b < a for a, b in zip(levels, levels[1:])):
        raise CheckFailed(f"phi should grow with the silence; for silences 0.1..0.7 s it gave {levels}")


def check_2_2_phi_on_recorded_heartbeats(learner: ModuleType) -> None:
    """On recorded heartbeats over a link losing half its messages, your φ stays below 8 yet convicts a silence.

    The fixed 0.5 s timeout falsely kills n2 several times on that recording; φ must never reach 8
    there, yet must reach it within 2 s of silence (and within 0.5 s on a healthy link)."""
    learner.phi([0.1, 0.1], 0.1)  # a stub fails here, before the recordings are made
    lossy, healthy = _gaps(LOSSY_SEED, LOSS), _gaps(LOSSY_SEED, 0.0)
    where = _recording(LOSS)
    for i, (t, gap) in enumerate(lossy):
        if t >= WARM_UP + lossy[0][0]:
            level = learner.phi([g for _, g in lossy[:i]], gap)
            if level >= PHI_THRESHOLD:
                raise CheckFailed(f"{where}: at t={t:.3f} a heartbeat came after {gap:.3f} s of silence and "
                                  f"your phi said {level:.2f} >= {PHI_THRESHOLD}, a false death; "
                                  f"the earlier gaps were {_short([g for _, g in lossy[:i]])}")
    for gaps, loss, bound in [(lossy, LOSS, LOSSY_BOUND), (healthy, 0.0, HEALTHY_BOUND)]:
        intervals = [g for _, g in gaps]
        level = learner.phi(intervals, bound)
        if not level >= PHI_THRESHOLD:
            raise CheckFailed(f"{_recording(loss)}: once n2 falls silent, {bound} s of silence should give "
                              f"phi >= {PHI_THRESHOLD} (a dead node must be convicted), but your phi said "
                              f"{level!r} over the {len(intervals)} gaps recorded")


def _recording(loss: float) -> str:
    link = f" with drop('n1', 'n2', {loss})" if loss else " (no faults)"
    return f"heartbeats n2 -> n1 in SimCluster(nodes=3, seed={LOSSY_SEED}){link}"


@lru_cache(maxsize=4)
def _gaps(seed: int, loss: float) -> tuple[tuple[float, float], ...]:
    """((arrival time, gap before it), ...) of n2's heartbeats at n1 over RECORD_FOR virtual s.
    The recording does not involve the learner's code, so it is made once per process."""
    sim = minikv.SimCluster(nodes=3, seed=seed)
    sim.trace()
    if loss:
        sim.drop("n1", "n2", loss)
    sim.run_for(RECORD_FOR)
    arrivals = [m.delivered for m in sim.messages
                if m.name == "Heartbeat" and (m.src, m.dst) == ("n2", "n1") and m.delivered is not None]
    return tuple((b, b - a) for a, b in zip(arrivals, arrivals[1:]))


def _close(got: object, expected: float) -> bool:
    if not isinstance(got, (int, float)):
        return False
    if math.isinf(expected):
        return got == expected
    return math.isclose(got, expected, rel_tol=1e-6, abs_tol=1e-12)


def _hint(intervals: list[float], silence: float, kwargs: dict, got: object) -> str:
    """Name a common slip when the learner's number matches it."""
    min_std = kwargs.get("min_std", 0.05)
    mean = statistics.fmean(intervals)
    slips = {"did you use statistics.stdev (the sample deviation) instead of pstdev?":
             max(statistics.stdev(intervals), min_std) if len(intervals) > 1 else None,
             "did you forget the floor at min_std?": statistics.pstdev(intervals) or None}
    right = max(statistics.pstdev(intervals), min_std)
    for hint, std in slips.items():
        if std and not math.isclose(std, right) and isinstance(got, float) and not math.isinf(got):
            p = 0.5 * math.erfc((silence - mean) / (std * math.sqrt(2)))
            if p > 0 and math.isclose(got, -math.log10(p), rel_tol=1e-6):
                return f"; {hint}"
    return ""


def _short(values: list[float], shown: int = 10) -> str:
    text = ", ".join(f"{v:.3f}".rstrip("0").rstrip(".") for v in values[-shown:])
    return f"[..., {text}] ({len(values)} gaps)" if len(values) > shown else f"[{text}]"


EXERCISE = Exercise(id="ex2", title="A failure detector", module="ex2_failure_detector",
                    checks=[check_2_1_peer_alive_cases, check_2_1_kill_leaves_the_view,
                            check_2_1_slow_link_and_pause_are_not_deaths, check_2_2_phi_values,
                            check_2_2_phi_on_recorded_heartbeats])
