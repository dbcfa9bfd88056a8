"""The cluster as a graph: nodes on a circle, links between them, every fault visible.

A node's fill says its state (alive, paused, orphan: running but in no view, dead); its border
colour says which view it belongs to, so the two sides of a split brain differ at a glance; a ring
marks each view's principal. A link's colour and dash say whether it is up, cut (a partition),
slow or lossy. The title names the cluster key and generation of the largest view, as
`asinfo -v statistics` would.

Nodes sit on a circle in id order (n1 at the top, then clockwise), so a node keeps its place from
one picture to the next and the replay scrubs time without the graph jumping around. (This is
networkx's circular layout, written out: networkx's own layouts need numpy, which nothing else
in the course does.) networkx does the graph work: the sides of a partition are the connected
components of the links that are not cut. Every trace is always present (empty when nothing is
in that state), so the replay's frames line up trace by trace.
"""

from __future__ import annotations

import math
from typing import Any

import networkx as nx
import plotly.graph_objects as go

from minikv.runtime.snapshot import ClusterSnapshot, NodeView
from minikv.viz.common import as_snapshot, legend_swatch, sorted_nodes, styled
from minikv.viz.palette import BLACK, GREY, LINK_STATES, NODE_STATES, view_border

NODE_SIZE = 46  # px: room for a label like "n10" inside
LINE_HEIGHT = 22  # px per line of the notes under the graph
AXIS_RANGE = [-1.6, 1.6]  # the circle has radius 1; the rest is room for labels


def positions(node_ids: Any) -> dict[str, tuple[float, float]]:
    """{node_id: (x, y)} on the unit circle, n1 at the top, then clockwise."""
    nodes = sorted_nodes(node_ids)
    angles = {n: math.pi / 2 - 2 * math.pi * i / len(nodes) for i, n in enumerate(nodes)}
    return {n: (round(math.cos(a), 9), round(math.sin(a), 9)) for n, a in angles.items()}


def sides(snapshot: ClusterSnapshot) -> list[list[str]]:
    """Groups of nodes that can reach each other over links that are not cut (dead nodes left
    out): one group when the network is whole, two or more under a partition."""
    graph = nx.Graph()
    graph.add_nodes_from(n for n, v in snapshot.nodes.items() if v.state != "dead")
    graph.add_edges_from(link for link, state in snapshot.links.items()
                         if state != "cut" and set(link) <= set(graph))
    return sorted((sorted_nodes(side) for side in nx.connected_components(graph)), key=lambda s: s[0])


def views(snapshot: ClusterSnapshot) -> list[NodeView]:
    """One NodeView per distinct view (by cluster key), the one most nodes hold first (a node
    that missed a Commit may still list more members in a view nobody else holds)."""
    holders: dict[str, list[NodeView]] = {}
    for node_id in sorted_nodes(snapshot.nodes):
        view = snapshot.nodes[node_id]
        if view.ckey:
            holders.setdefault(view.ckey, []).append(view)
    ranked = sorted(holders.values(), key=lambda held: (-len(held), -held[0].generation, held[0].ckey))
    return [held[0] for held in ranked]


# ---- the figure --------------------------------------------------------------------------------

def cluster_graph(cluster_or_snapshot: Any, title: str | None = None) -> go.Figure:
    """Nodes by state, links by state, views by border colour, the principal ringed."""
    snapshot = as_snapshot(cluster_or_snapshot)
    fig = go.Figure(graph_traces(snapshot))
    notes = view_annotations(snapshot)
    fig.update_xaxes(visible=False, range=AXIS_RANGE)
    fig.update_yaxes(visible=False, range=AXIS_RANGE, scaleanchor="x")
    styled(fig, title or graph_title(snapshot), height=600 + LINE_HEIGHT * len(notes), width=760, legend="right")
    return fig.update_layout(annotations=notes, margin_b=20 + LINE_HEIGHT * len(notes))


def graph_traces(snapshot: ClusterSnapshot, xaxis: str = "x", yaxis: str = "y") -> list[go.Scatter]:
    """The graph's traces, always the same ones in the same order (the replay's frames and the
    panel's redraws rely on it): a trace per link state, link hover points, the nodes, principal
    rings, state labels, then the legend swatches of the node states."""
    pos = positions(snapshot.nodes)
    traces = [_links(snapshot, pos, state) for state in LINK_STATES]
    traces += [_link_hovers(snapshot, pos), _nodes(snapshot, pos), _principals(snapshot, pos),
               _labels(snapshot, pos)]
    traces += [legend_swatch(state, colour, "circle", line=dict(width=1, color=BLACK))
               for state, colour in NODE_STATES.items()]
    for trace in traces:
        trace.update(xaxis=xaxis, yaxis=yaxis)
    return traces


def graph_title(snapshot: ClusterSnapshot) -> str:
    main, sub = headline(snapshot)
    return f"{main}<br><sup>{sub}</sup>"


def headline(snapshot: ClusterSnapshot) -> tuple[str, str]:
    """(the largest view's key, generation and principal; split brain and time)."""
    found = views(snapshot)
    if not found:
        return "no view", f"t={snapshot.t:.2f} s"
    main = found[0]
    split = f"split brain: {len(found)} views · " if len(found) > 1 else ""
    return (f"cluster key {main.ckey} · generation {main.generation} · principal {main.members[0]}",
            f"{split}t={snapshot.t:.2f} s")


def note_lines(snapshot: ClusterSnapshot) -> list[tuple[str, str]]:
    """[(text, colour)]: one line per view in that view's border colour, then the network's
    sides when a partition splits it."""
    lines = [(f"<b>view {v.ckey}</b> · generation {v.generation} · {', '.join(v.members)}", view_border(i))
             for i, v in enumerate(views(snapshot))]
    groups = sides(snapshot)
    if len(groups) > 1:
        lines.append(("network sides: " + " | ".join(", ".join(g) for g in groups), GREY))
    return lines


def view_annotations(snapshot: ClusterSnapshot) -> list[dict]:
    """The note lines as annotations under the graph."""
    return [dict(text=text, x=0.0, y=0.0, yshift=-LINE_HEIGHT * i, xref="paper", yref="paper",
                 xanchor="left", yanchor="top", showarrow=False, font=dict(color=colour, size=13))
            for i, (text, colour) in enumerate(note_lines(snapshot))]


# ---- the traces --------------------------------------------------------------------------------

def _links(snapshot: ClusterSnapshot, pos: dict, state: str) -> go.Scatter:
    xs, ys = [], []
    for (a, b), link in snapshot.links.items():
        if link == state:
            xs += [pos[a][0], pos[b][0], None]
            ys += [pos[a][1], pos[b][1], None]
    colour, dash = LINK_STATES[state]
    xs, ys = (xs, ys) if xs else ([None], [None])  # an empty trace would drop out of the legend
    return go.Scatter(x=xs, y=ys, mode="lines", name=f"link {state}", hoverinfo="skip",
                      line=dict(color=colour, dash=dash, width=2 if state == "up" else 3.5))


def _link_hovers(snapshot: ClusterSnapshot, pos: dict) -> go.Scatter:
    """An invisible point in the middle of each link, so hovering a link names it."""
    links = list(snapshot.links.items())
    return go.Scatter(x=[(pos[a][0] + pos[b][0]) / 2 for (a, b), _ in links],
                      y=[(pos[a][1] + pos[b][1]) / 2 for (a, b), _ in links],
                      mode="markers", marker=dict(size=14, opacity=0), showlegend=False, name="links",
                      customdata=[[a, b, state] for (a, b), state in links],
                      hovertemplate="%{customdata[0]}–%{customdata[1]}: %{customdata[2]}<extra></extra>")


def _nodes(snapshot: ClusterSnapshot, pos: dict) -> go.Scatter:
    """One marker per node in node-id order; customdata = [id, state, cluster key, generation]."""
    nodes = sorted_nodes(snapshot.nodes)
    border = {v.ckey: view_border(i) for i, v in enumerate(views(snapshot))}
    info = [snapshot.nodes[n] for n in nodes]
    return go.Scatter(
        x=[pos[n][0] for n in nodes], y=[pos[n][1] for n in nodes], mode="markers+text", name="nodes",
        showlegend=False, text=[f"<b>{n}</b>" for n in nodes], textfont=dict(color=BLACK, size=14),
        marker=dict(size=NODE_SIZE, color=[NODE_STATES[v.state] for v in info],
                    line=dict(width=5, color=[border.get(v.ckey, GREY) for v in info])),
        customdata=[[v.node_id, v.state, v.ckey, v.generation, _hover(v)] for v in info],
        hovertemplate="%{customdata[4]}<extra></extra>")


def _hover(view: NodeView) -> str:
    if view.state == "dead":
        return f"<b>{view.node_id}</b>: dead"
    where = f"view {view.ckey} (generation {view.generation}): {', '.join(view.members)}" if view.ckey else "in no view"
    return (f"<b>{view.node_id}</b>: {view.state}<br>{where}<br>{view.objects} objects, "
            f"{view.migrations_remaining} migrations remaining")


def _principals(snapshot: ClusterSnapshot, pos: dict) -> go.Scatter:
    """A ring around each view's principal (the label outside says "principal")."""
    chiefs = [v.members[0] for v in views(snapshot) if v.members[0] in pos]
    return go.Scatter(x=[pos[n][0] for n in chiefs], y=[pos[n][1] for n in chiefs], name="principal",
                      mode="markers", hoverinfo="skip",
                      marker=dict(size=NODE_SIZE + 22, symbol="circle-open", color=BLACK,
                                  line=dict(width=2.5, color=BLACK)))


def _labels(snapshot: ClusterSnapshot, pos: dict) -> go.Scatter:
    """Each node's state in words beside it, so the state reads without colour. The invisible
    markers, a ring's size, push the words clear of the node at any zoom."""
    chiefs = {v.members[0] for v in views(snapshot)}
    nodes = sorted_nodes(snapshot.nodes)
    return go.Scatter(x=[pos[n][0] for n in nodes], y=[pos[n][1] for n in nodes], mode="markers+text",
                      marker=dict(size=NODE_SIZE + 26, opacity=0), showlegend=False, hoverinfo="skip",
                      name="states", cliponaxis=False,
                      text=[snapshot.nodes[n].state + (" · principal" if n in chiefs else "") for n in nodes],
                      textposition=[_outward(*pos[n]) for n in nodes], textfont=dict(size=13, color=BLACK))


def _outward(x: float, y: float) -> str:
    """Where a label goes so that it grows away from the circle, never across a node."""
    if abs(x) > 0.35:
        return "middle right" if x > 0 else "middle left"
    return "top center" if y > 0 else "bottom center"
