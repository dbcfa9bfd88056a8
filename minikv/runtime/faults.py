"""Link faults between nodes: the same verbs and the same rules for processes and the simulator.

A link is an unordered pair of node ids. It can be *cut* (a network partition: nothing crosses),
*slowed* (each message waits `delay` seconds more) or made *lossy* (each message is lost with
probability `rate`). The simulator consults these rules for every message it delivers;
LocalCluster turns them into per-node rules that each node process enforces when it sends.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

Address = tuple[str, int]


@dataclass(slots=True)
class LinkFaults:
    cut: set[frozenset[str]] = field(default_factory=set)
    delay: dict[frozenset[str], float] = field(default_factory=dict)  # {link: extra seconds each way}
    loss: dict[frozenset[str], float] = field(default_factory=dict)  # {link: probability of loss}

    def partition(self, groups: list[list[str]], everyone: list[str]) -> None:
        """Cut every link between different groups; nodes named in no group form one more group."""
        named = {n for group in groups for n in group}
        groups = [list(g) for g in groups] + [[n for n in everyone if n not in named]]
        side = {n: i for i, group in enumerate(groups) for n in group}
        for a, b in itertools.combinations(everyone, 2):
            if side[a] != side[b]:
                self.cut.add(frozenset((a, b)))

    def splits(self, nodes: set[str]) -> bool:
        """Is any link between these nodes cut? (Then they cannot stay one view.)"""
        return any(link <= nodes for link in self.cut)

    def slow(self, a: str, b: str, delay: float) -> None:
        self.delay[frozenset((a, b))] = delay

    def lossy(self, a: str, b: str, rate: float) -> None:
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"a loss rate is between 0 and 1, not {rate}")
        self.loss[frozenset((a, b))] = rate

    def heal(self) -> None:
        self.cut.clear()
        self.delay.clear()
        self.loss.clear()

    def rules_for(self, node_id: str, addresses: dict[str, Address]) -> dict:
        """What `node_id` must enforce on what it sends, by peer address (see fabric_links)."""
        def peers(links: dict | set) -> list[tuple[str, float]]:
            return [(next(iter(link - {node_id})), links[link] if isinstance(links, dict) else 0.0)
                    for link in links if node_id in link and len(link) == 2]
        return {
            "blocked": [list(addresses[p]) for p, _ in peers(self.cut) if p in addresses],
            "delay": [[*addresses[p], s] for p, s in peers(self.delay) if p in addresses],
            "loss": [[*addresses[p], r] for p, r in peers(self.loss) if p in addresses],
        }

    def describe(self) -> list[str]:
        """One line per faulty link, for notebooks and logs."""
        lines = [f"{'-'.join(sorted(link))} cut" for link in sorted(self.cut, key=sorted)]
        lines += [f"{'-'.join(sorted(link))} slow +{d:.3f}s" for link, d in self.delay.items()]
        lines += [f"{'-'.join(sorted(link))} loses {r:.0%}" for link, r in self.loss.items()]
        return lines
