"""A frozen picture of a whole cluster at one moment: what the figures and the panel draw.

Both runtimes build it the same way, by asking every live node the questions an operator would
(`statistics` and `partition-info`), so a figure of a SimCluster and of a LocalCluster come from
the same code. Nothing here changes the cluster.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from minikv.core.info import parse_info
from minikv.keys import N_PARTITIONS
from minikv.runtime.faults import LinkFaults

Ask = Callable[[str, str], str | None]  # (node_id, info command) -> answer, None if unreachable


@dataclass(frozen=True, slots=True)
class NodeView:
    """One node as it sees itself."""

    node_id: str
    state: str  # "alive" | "paused" | "dead" | "orphan" (alive but in no view)
    ckey: str = ""  # hex cluster key of its view ("" when it is in none)
    members: tuple[str, ...] = ()
    generation: int = 0
    objects: int = 0
    migrations_remaining: int = 0


@dataclass(frozen=True, slots=True)
class ClusterSnapshot:
    """Nodes, links and, per partition, who holds it in which state (asinfo letters S/D/Z/A)."""

    t: float  # seconds (virtual in the simulator, since the start for processes)
    nodes: dict[str, NodeView]
    links: dict[tuple[str, str], str]  # {(a, b): "up" | "cut" | "slow" | "lossy"}, a < b
    ns: str = "test"
    # [pid] -> {node_id: (state letter, replica index or -1, records)}
    partitions: list[dict[str, tuple[str, int, int]]] = field(default_factory=list)
    working_masters: list[str] = field(default_factory=list)  # [pid] -> node id ("" if none)

    @property
    def principal(self) -> str | None:
        """The principal of the largest view (the first member of its succession list)."""
        views = [v for v in self.nodes.values() if v.members]
        return max(views, key=lambda v: len(v.members)).members[0] if views else None

    def view_of(self, node_id: str) -> NodeView:
        return self.nodes[node_id]


def build_snapshot(t: float, node_ids: list[str], states: dict[str, str], ask: Ask,
                   faults: LinkFaults, ns: str = "test") -> ClusterSnapshot:
    """Ask every live node for its statistics and partition-info and assemble the picture."""
    nodes, partitions = {}, [dict() for _ in range(N_PARTITIONS)]
    masters = [""] * N_PARTITIONS
    for node_id in node_ids:
        nodes[node_id] = _node_view(node_id, states.get(node_id, "dead"), ask)
        if nodes[node_id].state in ("alive", "orphan"):
            _add_partition_info(node_id, ask(node_id, "partition-info") or "", ns, partitions, masters)
    return ClusterSnapshot(t, nodes, _links(node_ids, faults), ns, partitions, masters)


def _node_view(node_id: str, state: str, ask: Ask) -> NodeView:
    answer = ask(node_id, "statistics") if state == "alive" else None
    if answer is None:
        return NodeView(node_id, "dead" if state == "alive" else state)
    stats = parse_info(answer)
    members = tuple(filter(None, str(stats.get("cluster_members", "")).split(",")))
    in_view = node_id in members
    return NodeView(node_id, "alive" if in_view else "orphan", str(stats["cluster_key"]) if in_view else "",
                    members, int(stats["cluster_generation"]), int(stats["objects"]),
                    int(stats["migrate_partitions_remaining"]))


def _add_partition_info(node_id: str, text: str, ns: str, partitions: list, masters: list) -> None:
    for row in text.split(";")[1:]:
        row_ns, pid, letter, index, working, _dupl, records = row.split(":")
        if row_ns != ns:
            continue
        pid = int(pid)
        partitions[pid][node_id] = (letter, int(index), int(records))
        if working == node_id:
            masters[pid] = node_id


def _links(node_ids: list[str], faults: LinkFaults) -> dict[tuple[str, str], str]:
    links = {}
    for i, a in enumerate(node_ids):
        for b in node_ids[i + 1:]:
            link = frozenset((a, b))
            state = ("cut" if link in faults.cut else "lossy" if link in faults.loss
                     else "slow" if link in faults.delay else "up")
            links[(a, b)] = state
    return links
