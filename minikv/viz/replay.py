"""Scrub through a simulator run: the cluster graph and per-node partitions at every moment.

In the spirit of RaftScope (the Raft paper's animation): run the simulation forward, keep a
snapshot every `every` virtual seconds, and give the learner a slider over them. Schedule the
story first, then replay it:

    sim.schedule(1.0, lambda: sim.kill("n2"))
    sim.schedule(4.0, lambda: sim.restart("n2"))
    replay(sim, duration=8.0, every=0.25)

Each frame holds the whole picture (graph traces, then the two bar traces), so dragging the slider
or pressing play redraws that moment exactly as cluster_graph and node_bars would have drawn it.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from minikv.runtime.snapshot import ClusterSnapshot
from minikv.viz.common import styled
from minikv.viz.figures import bar_room, node_bar_traces
from minikv.viz.graph import AXIS_RANGE, graph_traces, headline, note_lines
from minikv.viz.palette import BLACK, GREY

CAPTION_LINES = 5  # headline, time, up to three views or sides
CAPTION_TOP, CAPTION_STEP = -1.75, 0.2  # graph units: the circle has radius 1
PLAY_FRAME_MS = 400  # how long each moment shows when playing
SLIDER_LABELS = 16  # beyond this many moments, tick labels would overlap: show none


def collect_snapshots(sim: Any, duration: float, every: float) -> list[ClusterSnapshot]:
    """Run `sim` for `duration` virtual seconds, snapshotting now and every `every` seconds."""
    if every <= 0:
        raise ValueError(f"every must be positive, not {every}")
    snapshots, end = [sim.snapshot()], sim.now + duration
    while sim.now < end - 1e-9:
        sim.run_for(min(every, end - sim.now))
        snapshots.append(sim.snapshot())
    return snapshots


def replay(sim_or_snapshots: Any, duration: float = 5.0, every: float = 0.25) -> go.Figure:
    """A figure with a time slider: the cluster graph (left) and masters/replicas per node
    (right) at each snapshot. Pass a SimCluster (it runs `duration` virtual seconds) or a list
    of snapshots taken earlier."""
    snapshots = (list(sim_or_snapshots) if isinstance(sim_or_snapshots, list)
                 else collect_snapshots(sim_or_snapshots, duration, every))
    fig = make_subplots(rows=1, cols=2, column_widths=[0.6, 0.4], horizontal_spacing=0.1)
    fig.add_traces(_frame_data(snapshots[0]))
    fig.frames = [go.Frame(data=_frame_data(s), name=_name(s)) for s in snapshots]
    fig.update_layout(sliders=[_slider(snapshots)], updatemenus=[_buttons()], barmode="group")
    fig.update_xaxes(visible=False, range=AXIS_RANGE, row=1, col=1)
    fig.update_yaxes(visible=False, range=[CAPTION_TOP - CAPTION_STEP * CAPTION_LINES, AXIS_RANGE[1]],
                     scaleanchor="x", row=1, col=1)
    fig.update_xaxes(title="partitions", range=[0, max(bar_room(s) for s in snapshots)], row=1, col=2)
    fig.update_yaxes(autorange="reversed", row=1, col=2)
    title = f"replay: {len(snapshots)} moments, t={snapshots[0].t:.2f} to {snapshots[-1].t:.2f} s (virtual)"
    styled(fig, title, height=760, width=1150)
    return fig.update_layout(margin=dict(b=120), legend=dict(orientation="v", x=1.01, y=1.0, yanchor="top"))


def _name(snapshot: ClusterSnapshot) -> str:
    return f"{snapshot.t:.2f}"


def _frame_data(snapshot: ClusterSnapshot) -> list:
    """Every trace of one moment. The words are a trace too: a browser animates traces, but
    keeps the layout's title and annotations of the first frame."""
    graph = graph_traces(snapshot, "x", "y") + [_caption(snapshot)]
    return graph + node_bar_traces(snapshot, "x2", "y2", with_states=False)


def _caption(snapshot: ClusterSnapshot) -> go.Scatter:
    """Under the graph: the view's key, generation and principal, then one line per view."""
    main, sub = headline(snapshot)
    lines = ([(f"<b>{main}</b>", BLACK), (sub, GREY)] + note_lines(snapshot))[:CAPTION_LINES]
    # every frame has the same lines, none empty: a browser animating text only rewrites text
    # that was drawn in the first frame, and it draws nothing for an empty string
    lines += [("\u00a0", BLACK)] * (CAPTION_LINES - len(lines))
    return go.Scatter(x=[AXIS_RANGE[0]] * CAPTION_LINES, y=[CAPTION_TOP - CAPTION_STEP * i for i in range(CAPTION_LINES)],
                      mode="text", text=[text for text, _ in lines], textposition="middle right",
                      textfont=dict(color=[colour for _, colour in lines], size=13), cliponaxis=False,
                      showlegend=False, hoverinfo="skip", name="caption", xaxis="x", yaxis="y")


def _slider(snapshots: list[ClusterSnapshot]) -> dict:
    steps = [dict(label=_name(s), method="animate",
                  args=[[_name(s)], dict(mode="immediate", frame=dict(duration=0, redraw=True),
                                         transition=dict(duration=0))])
             for s in snapshots]
    crowded = len(steps) > SLIDER_LABELS  # then only the current value is written, not every tick
    return dict(steps=steps, active=0, x=0.2, len=0.78, y=-0.02, yanchor="top", pad=dict(t=70),
                currentvalue=dict(prefix="t = ", suffix=" s (virtual)", font=dict(size=14)),
                font=dict(color="rgba(0,0,0,0)" if crowded else "#444444"))


def _buttons() -> dict:
    play = dict(label="▶ play", method="animate",
                args=[None, dict(frame=dict(duration=PLAY_FRAME_MS, redraw=True), fromcurrent=True,
                                 transition=dict(duration=0))])
    pause = dict(label="❚❚ pause", method="animate",
                 args=[[None], dict(mode="immediate", frame=dict(duration=0, redraw=False))])
    return dict(type="buttons", direction="left", buttons=[play, pause], x=0.0, y=-0.02,
                xanchor="left", yanchor="top", pad=dict(t=70))
