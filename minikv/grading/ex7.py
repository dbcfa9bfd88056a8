"""Checks for exercise 7, the fencing-token lock (exercises/ex7_fencing_lock.py, notebook 07).

Part 7.1 (`acquire`) is checked for exclusion and for tokens that only grow, even across lease
records that expired and were purged. Part 7.2 (`guarded_write`) is checked on a sequence of
tokens. Then both run together in three stories on a 3-node SimCluster, each with fixed seeds:

- **pause**: A holds the lock and stalls (a long GC pause) past its lease; B takes the lock and
  writes; A wakes up, still believing it holds the lock, and writes with its old token.
- **partition**: A is cut off from the cluster in the middle of a write. Its requests wait in
  the network, as in a TCP buffer, and reach the nodes when the partition heals, after B took
  the lock and wrote. Then A retries its write, which had timed out in doubt.
- **cut after read**: A's link fails right after the first reply of its write, so whatever A
  sends next (its put) arrives only after B has written. A check-and-write that is not atomic
  lets that put land.

In every story B's write must survive and each of A's late writes must be refused. The same
story functions serve notebook 07 (which runs them with `minikv.recipes.lock`'s NaiveLock and
FencedLock) and tests/sim/test_recipes.py; a failing check prints the seed and the whole story,
and `pause_story(learner.acquire, learner.guarded_write, seed)` replays it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Callable

from minikv.client import Client
from minikv.errors import AerospikeError, RecordNotFound
from minikv.grading.registry import CheckFailed, Exercise
from minikv.runtime.sim import SimCluster, SimTransport

LEASE = 2  # seconds: the lease every story uses
STALL = 4.0  # virtual seconds A is paused, or cut off: twice the lease
POLL = 0.5  # seconds between B's tries to take the lock
LOCK = "report"  # the lock's name
RESOURCE = ("test", "files", "report")  # the protected resource: bins value and token
SEEDS = (1, 2)
Acquire = Callable[[Any, str, str, int], "int | None"]
Write = Callable[[Any, tuple, Any, int], bool]


# ---- a client whose network link a story can cut ------------------------------------------------


class ClientLink:
    """The network between one client and the cluster. While cut, the client's requests wait in
    the network and are delivered when the link heals; the client itself times out meanwhile.

    It stands in for the SimCluster a SimTransport drives, so the client is the ordinary one.
    """

    def __init__(self, sim: SimCluster):
        self.sim = sim
        self.cut = False
        self.cut_after_reply = False  # cut the link as soon as the next reply arrives
        self._held: list[tuple] = []  # [(address, frame, on_reply)] sent while cut

    def client(self) -> Client:
        return Client({"hosts": self.sim.hosts}, transport=SimTransport(self)).connect()

    @property
    def now(self) -> float:
        return self.sim.now

    def run_for(self, seconds: float) -> None:
        self.sim.run_for(seconds)

    def run_until(self, done: Callable[[], bool], timeout: float) -> bool:
        return self.sim.run_until(done, timeout)

    def send_request(self, address: Any, frame: bytes, on_reply: Callable) -> None:
        if self.cut:
            self._held.append((address, frame, on_reply))
            return

        def arrived(reply: bytes | None) -> None:
            if self.cut_after_reply:
                self.cut, self.cut_after_reply = True, False
            on_reply(reply)

        self.sim.send_request(address, frame, arrived)

    def heal(self) -> int:
        """Reconnect and deliver what was held; returns how many requests were waiting."""
        held, self._held, self.cut = self._held, [], False
        for address, frame, on_reply in held:
            self.sim.send_request(address, frame, on_reply)
        return len(held)


# ---- stories -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Step:
    """One thing that happened: `who` ("A", "B" or "net") did `what`, with this outcome."""

    t: float
    who: str
    what: str
    outcome: str
    ok: bool | None = None  # for writes: True written, False refused, None in doubt / error


@dataclass
class Story:
    """What happened in one run of a story: its steps, the windows A was stalled or cut off, the
    leases each client took, and the resource's value at the end."""

    name: str
    seed: int
    steps: list[Step] = field(default_factory=list)
    windows: list[tuple[float, float, str]] = field(default_factory=list)  # [(start, end, label)]
    tokens: dict[str, int | None] = field(default_factory=dict)  # {who: token}
    leases: list[tuple[str, float, float]] = field(default_factory=list)  # [(who, start, end)]
    final: Any = None

    def writes(self, who: str) -> list[Step]:
        return [s for s in self.steps if s.who == who and s.what.startswith("write")]

    def __str__(self) -> str:
        lines = [f"{self.name} story, seed {self.seed}:"]
        lines += [f"  t={s.t:7.3f} {s.who:>3}: {s.what}{f' -> {s.outcome}' if s.outcome else ''}"
                  for s in self.steps]
        return "\n".join(lines + [f"  final value of the resource: {self.final!r}"])


class Scene:
    """A 3-node SimCluster, client A (behind a ClientLink) and client B, running one lock."""

    def __init__(self, name: str, acquire: Acquire, write: Write, seed: int):
        self.sim = SimCluster(nodes=3, seed=seed)
        self.link = ClientLink(self.sim)
        self.clients = {"A": self.link.client(), "B": self.sim.client()}
        self.acquire_fn, self.write_fn = acquire, write
        self.story = Story(name, seed)

    def note(self, who: str, what: str, outcome: str, ok: bool | None = None) -> None:
        self.story.steps.append(Step(round(self.sim.now, 6), who, what, outcome, ok))

    def acquire(self, who: str) -> int | None:
        start = self.sim.now
        token = self.acquire_fn(self.clients[who], LOCK, who, LEASE)
        self.note(who, "acquire", "none: the lock is held" if token is None else f"got the lease, {_token(token)}")
        if token is not None:
            self.story.tokens[who] = token
            self.story.leases.append((who, start, start + LEASE))
        return token

    def poll_acquire(self, who: str, until: float) -> int | None:
        """Try every POLL seconds until the lock is ours or `until` passes (the failures unnoted)."""
        while self.sim.now < until:
            start = self.sim.now
            token = self.acquire_fn(self.clients[who], LOCK, who, LEASE)
            if token is not None:
                self.story.steps.append(Step(round(self.sim.now, 6), who, "acquire", f"got the lease, {_token(token)}"))
                self.story.tokens[who] = token
                self.story.leases.append((who, start, start + LEASE))
                return token
            self.sim.run_for(POLL)
        self.note(who, "acquire", f"none: still held at t={until:.1f}")
        return None

    def write(self, who: str, value: str, token: int | None) -> bool | None:
        try:
            ok = bool(self.write_fn(self.clients[who], RESOURCE, value, token))
        except AerospikeError as error:
            doubt = " (in doubt)" if error.in_doubt else ""
            self.note(who, f"write {value!r} with {_token(token)}", f"{type(error).__name__}{doubt}")
            return None
        self.note(who, f"write {value!r} with {_token(token)}", "written" if ok else "refused", ok)
        return ok

    def resource(self) -> Any:
        try:
            return self.clients["B"].get(RESOURCE)[2].get("value")
        except RecordNotFound:
            return None

    def finish(self) -> Story:
        self.story.final = self.resource()
        self.sim.close()
        return self.story


def _token(token: int | None) -> str:
    """How a story names a token; 0 is the naive lock's "no token" (real tokens start at 1)."""
    return "no token" if token == 0 else f"token {token}"


def pause_story(acquire: Acquire, write: Write, seed: int) -> Story:
    """A stalls past its lease; B takes the lock and writes; A wakes and writes with its old token."""
    scene = Scene("pause", acquire, write, seed)
    token_a = scene.acquire("A")
    scene.write("A", "A1", token_a)
    stall_start = scene.sim.now
    scene.note("A", f"pauses for {STALL:g} s (a GC pause)", "A still believes it holds the lock")
    token_b = scene.poll_acquire("B", stall_start + STALL)
    if token_b is not None:
        scene.write("B", "B1", token_b)
    scene.sim.run_for(max(0.0, stall_start + STALL - scene.sim.now))
    scene.story.windows.append((stall_start, scene.sim.now, "A paused"))
    scene.write("A", "A2", token_a)
    return scene.finish()


def partition_story(acquire: Acquire, write: Write, seed: int) -> Story:
    """A is cut off mid-write; B takes the lock and writes; the link heals and A's held requests
    arrive; A retries its in-doubt write."""
    scene = Scene("partition", acquire, write, seed)
    token_a = scene.acquire("A")
    scene.write("A", "A1", token_a)
    cut_start = scene.link.now
    scene.link.cut = True
    scene.note("net", "A is cut off from the cluster", "A's requests wait in the network")
    scene.write("A", "A2", token_a)
    token_b = scene.poll_acquire("B", cut_start + STALL)
    if token_b is not None:
        scene.write("B", "B1", token_b)
    _heal_at(scene, cut_start + STALL, "A cut off")
    scene.write("A", "A2", token_a)  # the retry of a write that was in doubt
    return scene.finish()


def cut_after_read_story(acquire: Acquire, write: Write, seed: int) -> Story:
    """A's link fails right after the first reply of its write, so its next request (the put)
    arrives after B's write."""
    scene = Scene("cut after read", acquire, write, seed)
    token_a = scene.acquire("A")
    scene.write("A", "A1", token_a)
    scene.link.cut_after_reply = True
    cut_start = scene.link.now
    scene.note("net", "A's link will fail right after its next reply", "")
    scene.write("A", "A2", token_a)
    token_b = scene.poll_acquire("B", cut_start + STALL)
    if token_b is not None:
        scene.write("B", "B1", token_b)
    _heal_at(scene, cut_start + STALL, "A cut off")
    return scene.finish()


def _heal_at(scene: Scene, at: float, label: str) -> None:
    """Run to `at`, heal A's link, let the held requests land, and note what the resource holds."""
    scene.sim.run_for(max(0.0, at - scene.sim.now))
    start = next(s.t for s in scene.story.steps if s.who == "net")
    scene.story.windows.append((start, scene.sim.now, label))
    held = scene.link.heal()
    scene.sim.run_for(0.05)  # the held requests cross the network and are applied (or refused)
    scene.note("net", f"heals; {held} held request(s) of A arrive", f"resource holds {scene.resource()!r}")


STORIES = {"pause": pause_story, "partition": partition_story, "cut after read": cut_after_read_story}


# ---- the checks ---------------------------------------------------------------------------------


def check_7_1_acquire_is_exclusive(learner: ModuleType) -> None:
    """acquire gives a free lock to one client only, and to the next one once the lease has expired, with a larger token."""
    sim = SimCluster(nodes=3, seed=SEEDS[0])
    a, b = sim.client(), sim.client()
    token_a = learner.acquire(a, LOCK, "A", LEASE)
    _expect(isinstance(token_a, int), f"acquire(client, {LOCK!r}, 'A', {LEASE}) on a free lock returned "
                                      f"{token_a!r}; expected an int token")
    token_b = learner.acquire(b, LOCK, "B", LEASE)
    _expect(token_b is None, f"A holds the lock with token {token_a}; B's acquire returned {token_b!r}, "
                             f"expected None (the lease record exists: POLICY_EXISTS_CREATE fails)")
    sim.run_for(LEASE + 0.5)
    token_b = learner.acquire(b, LOCK, "B", LEASE)
    hint = "is the lease record written with meta={'ttl': lease}?" if token_b is None else "tokens must only grow"
    _expect(isinstance(token_b, int) and token_b > token_a,
            f"A's lease of {LEASE} s expired 0.5 s ago; B's acquire returned {token_b!r}, expected a token "
            f"greater than A's {token_a} ({hint})")
    sim.close()


def check_7_1_tokens_only_grow(learner: ModuleType) -> None:
    """Tokens keep growing across leases that expired and were purged: the counter outlives the lease record."""
    sim = SimCluster(nodes=3, seed=SEEDS[0])
    client, tokens = sim.client(), []
    for round_ in range(4):
        tokens.append(learner.acquire(client, LOCK, f"owner{round_}", LEASE))
        sim.run_for(LEASE + 2)  # the lease expires and nsup purges the record
    sim.close()
    refused = [i for i, token in enumerate(tokens) if token is None]
    _expect(not refused, f"four acquisitions, each {LEASE + 2} s after the previous one, gave {tokens}: "
                         f"acquisition {refused[0] + 1 if refused else 0} found the lock still held "
                         f"(is the lease record written with meta={{'ttl': lease}}?)")
    _expect(all(isinstance(t, int) for t in tokens) and tokens == sorted(set(tokens)),
            f"four acquisitions, each after the previous lease expired and its record was purged, gave "
            f"tokens {tokens}; expected strictly increasing ints. A counter kept in the lease record "
            f"dies with it: keep it in a record that never expires (fence_key).")


def check_7_2_guarded_write_refuses_stale_tokens(learner: ModuleType) -> None:
    """guarded_write writes with the newest token or an equal one and refuses an older one, leaving the record as it was."""
    sim = SimCluster(nodes=1, seed=SEEDS[0])
    client, done = sim.client(), []
    for value, token, expected in [("v5", 5, True), ("v7", 7, True), ("v6", 6, False), ("v7b", 7, True),
                                   ("v1", 1, False)]:
        got = learner.guarded_write(client, RESOURCE, value, token)
        done.append(f"guarded_write(..., {value!r}, token={token}) -> {got!r}")
        _expect(got is expected, "\n".join(done) + f"\nexpected {expected} for the last call")
    bins = client.get(RESOURCE)[2]
    sim.close()
    _expect(bins.get("value") == "v7b" and bins.get("token") == 7,
            "\n".join(done) + f"\nthe resource holds {bins}; expected value 'v7b' and token 7")


def _check_story(learner: ModuleType, story_fn: Callable[..., Story]) -> None:
    for seed in SEEDS:
        story = story_fn(learner.acquire, learner.guarded_write, seed)
        _expect(_problem(story) is None,
                f"seed {seed}: {_problem(story)}.\n{story}\nreplay it in the notebook:\n"
                f"  from minikv.grading import ex7\n  import {learner.__name__} as mine\n"
                f"  print(ex7.{story_fn.__name__}(mine.acquire, mine.guarded_write, seed={seed}))")


def _problem(story: Story) -> str | None:
    """What went wrong in a story told with a fenced lock, or None."""
    token_a, token_b = story.tokens.get("A"), story.tokens.get("B")
    late = [s for s in story.writes("A")[1:] if s.ok]
    if token_a is None:
        return "A could not take the free lock"
    if token_b is None:
        return "B never got the lock after A's lease expired"
    if not token_b > token_a:
        return f"B's token {token_b} is not greater than A's {token_a}: tokens must only grow"
    if story.final != "B1":
        return f"the resource ends as {story.final!r}, not B's 'B1': a stale write of A landed"
    if late:
        return f"A's late write was reported written at t={late[0].t:.3f}; expected refused"
    return None


def check_7_paused_holder_is_fenced(learner: ModuleType) -> None:
    """A holder paused past its lease cannot overwrite the next holder's write (seeds 1, 2)."""
    _check_story(learner, pause_story)


def check_7_partitioned_holder_is_fenced(learner: ModuleType) -> None:
    """Requests of a holder cut off from the cluster, delivered after the next holder wrote, change nothing (seeds 1, 2)."""
    _check_story(learner, partition_story)


def check_7_check_and_write_are_atomic(learner: ModuleType) -> None:
    """A put that arrives after another holder wrote is refused: the token check and the write are one atomic step."""
    _check_story(learner, cut_after_read_story)


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


EXERCISE = Exercise(
    id="ex7", title="A lock with fencing tokens", module="ex7_fencing_lock",
    checks=[check_7_1_acquire_is_exclusive, check_7_1_tokens_only_grow, check_7_2_guarded_write_refuses_stale_tokens,
            check_7_paused_holder_is_fenced, check_7_partitioned_holder_is_fenced,
            check_7_check_and_write_are_atomic],
)
