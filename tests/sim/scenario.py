"""Scenario transcripts: failure stories as commands and the events they produce.

A file in tests/testdata/ reads like this (etcd's raft tests use the same shape):

    # A comment says what the case shows.
    cluster nodes=3 seed=7
    ----
    t=0.453 n3/Clustering joined view 5E0C06B2A1F4 as principal: n3,n2,n1 (generation 2)
    ...

Each command is followed by `----` and the lines it produced: the events logged while it ran
(heartbeat-level noise such as expiry purges left out) and whatever the command prints. Running
a file replays it in the simulator and compares; `pytest --rewrite` writes the new output back,
so a reviewer reads a behaviour change as a diff of prose.
"""

from __future__ import annotations

import shlex
from pathlib import Path

import minikv

TESTDATA = Path(__file__).resolve().parents[1] / "testdata"
QUIET_ROLES = {"Nsup"}


class Scenario:
    """Runs commands against a SimCluster and returns what each one printed."""

    def __init__(self) -> None:
        self.sim: minikv.SimCluster | None = None
        self.client = None
        self.seen = 0  # events already shown

    def run(self, command: str) -> list[str]:
        verb, *words = shlex.split(command)
        args = dict(w.split("=", 1) for w in words if "=" in w)
        plain = [w for w in words if "=" not in w]
        printed = getattr(self, "do_" + verb.replace("-", "_"))(*plain, **args) or []
        return self._new_events() + printed

    def _new_events(self) -> list[str]:
        events = self.sim.events()
        fresh, self.seen = events[self.seen:], len(events)
        return [str(e) for e in fresh if e.role not in QUIET_ROLES]

    # ---- commands ------------------------------------------------------------------------------

    def do_cluster(self, nodes: str = "3", seed: str = "1") -> list[str]:
        self.sim = minikv.SimCluster(nodes=int(nodes), seed=int(seed))
        self.client = self.sim.client()
        return [f"stable: {view}" for view in self._views()]

    def do_write(self, keys: str = "100", value: str = "1") -> list[str]:
        for i in range(int(keys)):
            self.client.put(("test", "demo", i), {"v": int(value)})
        return [f"wrote {keys} keys"]

    def do_check(self, keys: str = "100") -> list[str]:
        found = sum(1 for i in range(int(keys)) if self.client.exists(("test", "demo", i))[1] is not None)
        return [f"{found} of {keys} keys readable"]

    def do_kill(self, node: str) -> None:
        self.sim.kill(node)

    def do_restart(self, node: str) -> None:
        self.sim.restart(node)

    def do_pause(self, node: str) -> None:
        self.sim.pause(node)

    def do_resume(self, node: str) -> None:
        self.sim.resume(node)

    def do_add_node(self) -> list[str]:
        return [f"added {self.sim.add_node()}"]

    def do_partition(self, *groups: str) -> None:
        self.sim.partition(*[g.split(",") for g in groups])

    def do_heal(self) -> None:
        self.sim.heal()

    def do_slow(self, a: str, b: str, delay: str = "0.2") -> None:
        self.sim.slow_link(a, b, float(delay))

    def do_run(self, seconds: str) -> None:
        self.sim.run_for(float(seconds))

    def do_wait_stable(self) -> list[str]:
        self.sim.wait_stable()
        return [f"stable: {view}" for view in self._views()]

    def do_masters(self) -> list[str]:
        """Masters per node, like asadm's `show pmap`."""
        table = self.sim.partition_table()
        counts: dict[str, int] = {}
        for row in table.values():
            counts[row[0]] = counts.get(row[0], 0) + 1
        return ["masters: " + " ".join(f"{n}={counts[n]}" for n in sorted(counts))]

    def _views(self) -> list[str]:
        return [f"{n} {v}" for n, v in self.sim.views().items()]


def parse(path: Path) -> list[tuple[list[str], str, list[str]]]:
    """[(comment lines, command, expected lines)] from a transcript file."""
    cases, comments, lines = [], [], path.read_text().splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("#") or not line.strip():
            comments.append(line)
            i += 1
            continue
        assert lines[i + 1] == "----", f"{path.name}:{i + 2}: expected ---- after a command"
        j = i + 2
        while j < len(lines) and lines[j].strip():
            j += 1
        cases.append((comments, line, lines[i + 2:j]))
        comments, i = [], j
    return cases


def render(cases: list[tuple[list[str], str, list[str]]]) -> str:
    out = []
    for comments, command, output in cases:
        out += [c for c in comments if c.strip()] + [command, "----", *output, ""]
    return "\n".join(out)
