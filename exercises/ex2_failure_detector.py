"""Exercise 2: a failure detector (notebook 02_membership_and_failure_detection).

Every minikv node sends each peer a heartbeat every `heartbeat_interval` (0.1 s). Whether a peer
is alive is decided from one number: how long ago its last heartbeat arrived. Write two
detectors:

- Part 2.1, `peer_alive`: the fixed timeout that minikv and Aerospike use. It is a *hook*: plug
  it into a cluster and your function decides, on every node, who is alive:

      sim = minikv.SimCluster(nodes=3, seed=7, plugins={"peer_alive": peer_alive})

- Part 2.2, `phi`: the *accrual* failure detector of Hayashibara et al. (2004), used by Cassandra
  and Akka. Instead of "alive or dead" it returns a suspicion level φ that grows with the
  silence, measured against how regular the peer's heartbeats have been so far.

Check your work with `minikv.grading.check("ex2")` in the notebook, or
`python -m minikv.grade ex2` in a terminal.
"""

from __future__ import annotations

import math
import statistics

PHI_THRESHOLD = 8.0  # suspicion level at which a peer counts as dead (Cassandra's and Akka's default)
MIN_STD = 0.05  # seconds: the smallest spread φ assumes, so a metronome-regular peer is not
# convicted the instant one heartbeat is a millisecond late (Akka: min-std-deviation)


def peer_alive(last_heard: float | None, now: float, timeout: float) -> bool:
    """Is a peer alive, given when its last heartbeat arrived?

    `last_heard` is the time (seconds on this node's clock) of the last heartbeat received from
    the peer, or None if none ever arrived; `now` is the current time on the same clock;
    `timeout` is how many seconds of silence make a peer dead (minikv: 5 intervals of 0.1 s).

    A peer is alive when it was heard, and heard *less than* `timeout` seconds ago. Silence of
    exactly `timeout` seconds already counts as dead. Examples with `timeout` 0.5:

        peer_alive(None, 3.0, 0.5)  -> False   never heard from: not alive (yet)
        peer_alive(2.75, 3.0, 0.5)  -> True    silent for 0.25 s
        peer_alive(2.5, 3.0, 0.5)   -> False   silent for exactly the timeout: dead
        peer_alive(1.0, 3.0, 0.5)   -> False   silent for 2 s
    """
    raise NotImplementedError("Exercise 2.1: return whether the peer was heard less than `timeout` seconds ago")


def phi(intervals: list[float], silence: float, min_std: float = MIN_STD) -> float:
    """The suspicion level φ of a peer that has now been silent for `silence` seconds.

    `intervals` are the gaps (seconds) between the peer's recent heartbeats, at least one of
    them. Model the next gap as normally distributed, with the mean of `intervals` and their
    *population* standard deviation (`statistics.pstdev`), but never less than `min_std`. Then

        P = probability that a gap is longer than `silence`
          = 0.5 * erfc((silence - mean) / (std * sqrt(2)))        (math.erfc)
        φ = -log10(P)

    so φ = 1 means "a heartbeat is this late one time in 10", φ = 8 "one time in 100 million".
    When P is so small that it rounds to 0.0, return `math.inf`.

    Worked example: heartbeats every 0.1 s exactly, so mean 0.1 and std max(0, 0.05) = 0.05.
    After 0.2 s of silence, (0.2 - 0.1) / (0.05 * sqrt(2)) = 1.414, P = 0.5 * erfc(1.414) = 0.0228
    and φ = 1.64. After 0.5 s, P = 6.2e-16 and φ = 15.2: dead by any threshold. For a peer whose
    gaps were [0.1, 0.1, 0.1, 0.4] (mean 0.175, std 0.130) the same 0.5 s gives φ = 2.2 only:
    from a jittery peer, half a second of silence is nothing unusual.
    """
    raise NotImplementedError("Exercise 2.2: return -log10 of the chance that a heartbeat gap is longer than `silence`")
