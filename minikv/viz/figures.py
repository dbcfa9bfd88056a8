"""Who holds which partition: the partition map (4096 cells per node) and per-node bars.

The map is asinfo's `partition-info` drawn: for every node a 64 x 64 grid, one cell per partition
(pid = row * 64 + column, pid 0 at the top left), coloured by what the node holds: final master,
replica, working master (serving while the final master still waits for data), a replica still
migrating in (asinfo D), a non-replica copy it will drop (Z), nothing, or in SC mode a partition
nobody may serve in this node's view (U). The same pid sits in
the same cell on every node, so a learner can compare nodes cell by cell, and watch a killed
node's cells turn pale and its neighbours' turn blue. The bars are asadm's `show pmap`: how many
partitions each node masters and replicates.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from minikv.runtime.snapshot import ClusterSnapshot
from minikv.viz.common import as_snapshot, legend_swatch, sorted_nodes, styled
from minikv.viz.palette import OUTLINE, ROLES

ROLE_NAMES = list(ROLES)  # the heatmap value of a role is its index here
GRID = 64  # 64 x 64 = 4096 partitions per node
COLUMNS = 4  # nodes per row of the map before it wraps


def partition_role(snapshot: ClusterSnapshot, pid: int, node_id: str) -> tuple[str, int]:
    """What `node_id` holds of partition `pid`, in ROLES' words, and how many records."""
    held = snapshot.partitions[pid].get(node_id)
    if held is None:  # the node is dead or did not answer
        return "absent", 0
    letter, index, records = held
    if letter == "U":
        return "unavailable (SC)", records
    if snapshot.working_masters[pid] == node_id:
        return ("master" if index == 0 else "working master"), records
    if letter == "D":
        return "migrating", records
    if letter == "S":  # a full copy; index 0 is the final master
        return ("master" if index == 0 else "replica"), records
    return ("non-replica" if letter == "Z" else "absent"), records


def role_counts(snapshot: ClusterSnapshot, node_id: str) -> dict[str, int]:
    """{role: partitions} for one node, every role present (zeros included)."""
    counts = dict.fromkeys(ROLE_NAMES, 0)
    for pid in range(len(snapshot.partitions)):
        counts[partition_role(snapshot, pid, node_id)[0]] += 1
    return counts


# ---- the partition map -------------------------------------------------------------------------

def partition_map(cluster_or_snapshot: Any, title: str | None = None) -> go.Figure:
    """A 64 x 64 grid per node, one cell per partition, coloured by the node's role in it."""
    snapshot = as_snapshot(cluster_or_snapshot)
    nodes = sorted_nodes(snapshot.nodes)
    rows = -(-len(nodes) // COLUMNS)
    cols = -(-len(nodes) // rows)  # balanced rows: 5 nodes draw as 3 + 2, not 4 + 1
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[_node_title(snapshot, n) for n in nodes],
                        horizontal_spacing=0.04, vertical_spacing=0.12 / rows)
    for i, node_id in enumerate(nodes):
        fig.add_trace(_node_grid(snapshot, node_id), row=i // cols + 1, col=i % cols + 1)
    for name, colour in ROLES.items():
        fig.add_trace(legend_swatch(name, colour, line=dict(width=1, color=OUTLINE)))
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False, constrain="domain")
    fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False, autorange="reversed",
                     scaleanchor="x", constrain="domain")
    for i in range(2, len(nodes) + 1):  # every grid square, not only the first
        fig.update_yaxes(scaleanchor=f"x{i}", row=(i - 1) // cols + 1, col=(i - 1) % cols + 1)
    heading = title or f"partition map at t={snapshot.t:.2f} s ({len(snapshot.partitions)} partitions per node)"
    styled(fig, heading, height=140 + 330 * rows, width=max(560, 300 * cols + 120), legend="below")
    fig.update_annotations(font_size=12)
    return fig


def _node_grid(snapshot: ClusterSnapshot, node_id: str) -> go.Heatmap:
    cells = [partition_role(snapshot, pid, node_id) for pid in range(len(snapshot.partitions))]
    z = [[ROLE_NAMES.index(role) for role, _ in cells[r * GRID:(r + 1) * GRID]] for r in range(GRID)]
    text = [[f"{node_id} · pid {r * GRID + c}<br>{cells[r * GRID + c][0]} · {cells[r * GRID + c][1]} records"
             for c in range(GRID)] for r in range(GRID)]
    return go.Heatmap(z=z, text=text, hovertemplate="%{text}<extra></extra>", colorscale=_role_scale(),
                      zmin=-0.5, zmax=len(ROLE_NAMES) - 0.5, showscale=False, name=node_id)


def _role_scale() -> list[tuple[float, str]]:
    """A stepped colour scale: value i (a role's index) gets exactly that role's colour."""
    steps, n = [], len(ROLE_NAMES)
    for i, colour in enumerate(ROLES.values()):
        steps += [(i / n, colour), ((i + 1) / n, colour)]
    return steps


def _node_title(snapshot: ClusterSnapshot, node_id: str) -> str:
    view, counts = snapshot.nodes[node_id], role_counts(snapshot, node_id)
    if view.state == "dead":
        return f"<b>{node_id}</b> · dead"
    return (f"<b>{node_id}</b> · {view.state} · {counts['master']} M, {counts['replica']} R"
            + (f", {counts['migrating']} D" if counts["migrating"] else ""))


# ---- per-node bars -----------------------------------------------------------------------------

def pmap_counts(snapshot: ClusterSnapshot) -> dict[str, dict[str, int]]:
    """asadm's `show pmap` from a snapshot: {node_id: {"masters": n, "replicas": n}}, counting each
    node's place in the succession row (index 0 = final master), as cluster.pmap() does."""
    counts = {n: {"masters": 0, "replicas": 0} for n in sorted_nodes(snapshot.nodes)}
    for holders in snapshot.partitions:
        for node_id, (_letter, index, _records) in holders.items():
            if index >= 0:
                counts[node_id]["masters" if index == 0 else "replicas"] += 1
    return counts


def node_bars(cluster_or_snapshot: Any, title: str | None = None) -> go.Figure:
    """Masters and replicas per node as horizontal bars: is the load balanced?"""
    snapshot = as_snapshot(cluster_or_snapshot)
    fig = go.Figure(node_bar_traces(snapshot))
    fig.update_layout(barmode="group", bargap=0.25)
    fig.update_xaxes(title="partitions", range=[0, bar_room(snapshot)])
    fig.update_yaxes(autorange="reversed")
    nodes = len(snapshot.nodes)
    return styled(fig, title or f"masters and replicas per node at t={snapshot.t:.2f} s",
                  height=160 + 60 * nodes, width=760)


def bar_room(snapshot: ClusterSnapshot) -> float:
    """The x range the bars need, with room for their labels."""
    return 1.15 * max((c for counts in pmap_counts(snapshot).values() for c in counts.values()), default=1)


def node_bar_traces(snapshot: ClusterSnapshot, xaxis: str = "x", yaxis: str = "y",
                    with_states: bool = True) -> list[go.Bar]:
    """The two bar traces (masters, replicas), reused by the replay's side panel (which keeps
    plain node ids: a browser does not relabel a category axis from frame to frame)."""
    counts = pmap_counts(snapshot)
    nodes = [f"{n} ({snapshot.nodes[n].state})" if with_states and snapshot.nodes[n].state != "alive" else n
             for n in counts]
    return [go.Bar(y=nodes, x=[c[kind] for c in counts.values()], orientation="h", name=kind,
                   marker_color=ROLES["master" if kind == "masters" else "replica"],
                   text=[c[kind] for c in counts.values()], textposition="outside", cliponaxis=False,
                   xaxis=xaxis, yaxis=yaxis, hovertemplate="%{y}: %{x} " + kind + "<extra></extra>")
            for kind in ("masters", "replicas")]
