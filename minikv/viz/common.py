"""What every figure shares: turning its input into a snapshot, ordering nodes, a common look.

Each figure takes a cluster (SimCluster or LocalCluster) or a ClusterSnapshot taken earlier, so a
notebook can draw "now" or draw a moment it kept (the replay keeps many).
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from minikv.runtime.snapshot import ClusterSnapshot
from minikv.viz.palette import FONT


def as_snapshot(cluster_or_snapshot: Any) -> ClusterSnapshot:
    """The snapshot itself, or a fresh one from a cluster."""
    if isinstance(cluster_or_snapshot, ClusterSnapshot):
        return cluster_or_snapshot
    return cluster_or_snapshot.snapshot()


def node_key(node_id: str) -> tuple[int, str]:
    """Sort "n2" before "n10": node ids in the order learners count them."""
    digits = node_id[1:]
    return (int(digits), node_id) if digits.isdigit() else (10**9, node_id)


def sorted_nodes(node_ids: Any) -> list[str]:
    return sorted(node_ids, key=node_key)


def styled(fig: go.Figure, title: str, height: int = 420, width: int | None = None,
           legend: str = "top") -> go.Figure:
    """The look every figure shares: white background, readable font, and a legend "top"
    (horizontal, above the plot), "below" (when subplot titles take the space above) or
    "right" (a column, for figures with many entries)."""
    place = {"top": dict(orientation="h", yanchor="bottom", y=1.0, x=0.0, xanchor="left"),
             "below": dict(orientation="h", yanchor="top", y=-0.02, x=0.0, xanchor="left"),
             "right": dict(orientation="v", yanchor="top", y=1.0, x=1.02, xanchor="left")}[legend]
    margin = dict(l=60, r=30, t=70 if legend != "top" else 90, b=90 if legend == "below" else 50)
    fig.update_layout(title=dict(text=title, x=0.01, xanchor="left"), height=height, width=width,
                      font=FONT, template="plotly_white", margin=margin, legend=place)
    return fig


def legend_swatch(name: str, colour: str, symbol: str = "square", group: str | None = None,
                  line: dict | None = None) -> go.Scatter:
    """An invisible point that only adds an entry to the legend (for heatmap categories, states)."""
    return go.Scatter(x=[None], y=[None], mode="markers", name=name, legendgroup=group or name,
                      marker=dict(color=colour, symbol=symbol, size=12, line=line or dict(width=0)),
                      hoverinfo="skip", showlegend=True)
