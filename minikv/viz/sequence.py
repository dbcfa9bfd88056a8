"""A message sequence diagram of a simulator run: who sent what to whom, and when it arrived.

Lamport's picture, on its side: one horizontal lane per node (and one for the client), time
running to the right, and one arrow per message from (sender, time sent) to (receiver, time
delivered). A message the network lost ends in an X halfway to its receiver. Hovering an arrow
shows the message: its type and its main fields. Turn tracing on before the story you want:

    sim.trace()
    sim.kill("n2"); sim.wait_stable()
    sequence_diagram(sim, exclude=("Heartbeat", "MigrateAck"))

Heartbeats are left out by default: ten a second per pair of nodes would hide everything else.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Iterable

import plotly.graph_objects as go

from minikv.runtime.sim import TracedMessage
from minikv.viz.common import sorted_nodes, styled
from minikv.viz.palette import GRID, LOST, MESSAGE_KINDS

CLUSTERING = {"Prepare", "Promise", "Accept", "Accepted", "Commit"}
REPLICATION = {"ReplicaWrite", "ReplicaAck", "DupResRequest", "DupResReply"}
LOST_SPAN = 0.0006  # s: how far right a lost message's X sits in "time" spacing (a typical latency)
TICKS = 8  # tick labels on the time axis in "order" spacing
SCALARS = (str, int, float, bool, type(None))
FIELDS_SHOWN = 6  # fields of a message in its hover text; the rest are elided


def kind_of(traced: TracedMessage) -> str:
    """The message's family, which picks its colour (palette.MESSAGE_KINDS)."""
    name = traced.name
    if "client" in (traced.src, traced.dst):
        return "client"
    if name in CLUSTERING:
        return "clustering"
    if name.startswith("Migrate"):
        return "migration"
    if name in REPLICATION:
        return "replication"
    if name.startswith("Proxy"):
        return "proxy"
    return "heartbeat" if name == "Heartbeat" else "other"


def describe(message: Any) -> str:
    """`Name(field=value, ...)` with long values summarised, for hover text."""
    if not dataclasses.is_dataclass(message):
        return repr(message)[:80]
    fields = [f"{f.name}={_short(f.name, getattr(message, f.name))}" for f in dataclasses.fields(message)]
    shown = fields[:FIELDS_SHOWN] + (["…"] if len(fields) > FIELDS_SHOWN else [])
    lines = [", ".join(shown[i:i + 3]) for i in range(0, len(shown), 3)]
    return f"<b>{type(message).__name__}</b><br>" + "<br>".join(lines)


def _short(name: str, value: Any) -> str:
    """A field's value in a few characters: keys in hex as the logs print them, times rounded,
    byte strings and long containers by their size."""
    if name == "ckey" and isinstance(value, int):
        return f"{value:X}"
    if isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>" if len(value) > 8 else repr(value)
    if isinstance(value, (list, tuple)) and len(value) <= 4 and all(isinstance(v, SCALARS) for v in value):
        return "(" + ", ".join(_short("", v) for v in value) + ")"
    if isinstance(value, (list, tuple, dict, set)) and not _small_dict(value):
        return f"<{len(value)} item{'' if len(value) == 1 else 's'}>"
    text = repr(value)
    return text if len(text) <= 32 else text[:29] + "…"


def _small_dict(value: Any) -> bool:
    return isinstance(value, dict) and len(value) <= 4 and all(isinstance(v, SCALARS) for v in value.values())


# ---- the figure --------------------------------------------------------------------------------

def sequence_diagram(messages: Any, start: float | None = None, end: float | None = None,
                     include: Iterable[str] | None = None, exclude: Iterable[str] = ("Heartbeat",),
                     spacing: str = "order", title: str | None = None) -> go.Figure:
    """Lanes per node, one arrow per message sent between `start` and `end` (virtual seconds).
    `messages` is a SimCluster (its traced messages) or a list of TracedMessage; `include`
    keeps only those message types, `exclude` drops others. spacing="order" spreads the
    moments evenly, in order (Lamport's logical time: bursts become readable); "time" puts
    them at their virtual time."""
    traced = select(getattr(messages, "messages", messages), start, end, include, exclude)
    lanes, x = lane_numbers(traced), _x_scale(traced, spacing)
    traces = [_arrows(kind, [m for m in traced if m.delivered is not None and kind_of(m) == kind], lanes, x)
              for kind in MESSAGE_KINDS]
    fig = go.Figure([t for t in traces if t.x] + [_lost([m for m in traced if m.delivered is None], lanes, x, spacing)])
    fig.update_yaxes(tickvals=list(lanes.values()), ticktext=list(lanes), autorange="reversed",
                     showgrid=True, gridcolor=GRID, zeroline=False)
    fig.update_xaxes(showgrid=False, zeroline=False, **_x_axis(traced, spacing, x))
    lost = sum(1 for m in traced if m.delivered is None)
    heading = title or f"{len(traced)} messages" + (f", {lost} lost" if lost else "")
    return styled(fig, heading, height=180 + 55 * max(len(lanes), 2), width=1100)


def _x_scale(traced: list[TracedMessage], spacing: str) -> dict[float, float]:
    """{virtual time: x}: the identity for "time", the rank among all moments for "order"."""
    moments = sorted({m.sent for m in traced} | {m.delivered for m in traced if m.delivered is not None})
    if spacing == "time":
        return {t: t for t in moments}
    if spacing != "order":
        raise ValueError(f'spacing is "order" or "time", not {spacing!r}')
    return {t: float(i) for i, t in enumerate(moments)}


def _x_axis(traced: list[TracedMessage], spacing: str, x: dict[float, float]) -> dict:
    """Axis title and, in "order" spacing, ticks that still read in virtual seconds."""
    if spacing == "time" or not x:
        return dict(title="virtual time (s)")
    moments = list(x)
    picked = moments[:: max(1, len(moments) // TICKS)]
    decimals = 3
    while len({f"{t:.{decimals}f}" for t in picked}) < len(picked) and decimals < 6:
        decimals += 1  # enough digits that no two ticks read the same
    return dict(title="events in order (ticks show virtual time, s)", tickvals=[x[t] for t in picked],
                ticktext=[f"{t:.{decimals}f}" for t in picked])


def select(messages: list[TracedMessage], start: float | None, end: float | None,
           include: Iterable[str] | None, exclude: Iterable[str]) -> list[TracedMessage]:
    """The messages sent in [start, end] whose type passes include/exclude."""
    keep = set(include) if include is not None else None
    drop = set(exclude) - (keep or set())
    return [m for m in messages
            if (start is None or m.sent >= start) and (end is None or m.sent <= end)
            and (keep is None or m.name in keep) and m.name not in drop]


def lane_numbers(traced: list[TracedMessage]) -> dict[str, int]:
    """{lane name: y}: the client on top (when it took part), then the nodes in id order."""
    nodes = sorted_nodes(({m.src for m in traced} | {m.dst for m in traced}) - {"client"})
    client = ["client"] if any("client" in (m.src, m.dst) for m in traced) else []
    return {name: i for i, name in enumerate(client + nodes)}


def _arrows(kind: str, traced: list[TracedMessage], lanes: dict[str, int], x: dict) -> go.Scatter:
    """One trace per family: each message a segment (sent, src) -> (delivered, dst), arrowhead."""
    xs, ys, text = [], [], []
    for m in traced:
        xs += [x[m.sent], x[m.delivered], None]
        ys += [lanes[m.src], lanes[m.dst], None]
        hover = f"{m.src} → {m.dst}, sent {m.sent:.4f} s, delivered {m.delivered:.4f} s<br>{describe(m.message)}"
        text += [hover, hover, ""]
    colour = MESSAGE_KINDS[kind]
    return go.Scatter(x=xs, y=ys, mode="lines+markers", name=kind, text=text, line=dict(color=colour, width=1.5),
                      marker=dict(symbol=["circle", "arrow", "circle"] * len(traced), angleref="previous",
                                  size=[5, 11, 0] * len(traced), color=colour),
                      hovertemplate="%{text}<extra></extra>")


def _lost(traced: list[TracedMessage], lanes: dict[str, int], x: dict, spacing: str) -> go.Scatter:
    """Lost messages: a dotted segment about halfway towards the receiver, ending in an X."""
    xs, ys, text = [], [], []
    for m in traced:
        xs += [x[m.sent], x[m.sent] + (LOST_SPAN if spacing == "time" else 0.5), None]
        ys += [lanes[m.src], _halfway(lanes[m.src], lanes[m.dst]), None]
        hover = f"LOST {m.src} → {m.dst}, sent {m.sent:.4f} s<br>{describe(m.message)}"
        text += [hover, hover, ""]
    return go.Scatter(x=xs, y=ys, mode="lines+markers", name="lost", text=text, line=dict(color=LOST, dash="dot"),
                      marker=dict(symbol=["circle", "x", "circle"] * len(traced), size=[5, 11, 0] * len(traced),
                                  color=LOST),
                      hovertemplate="%{text}<extra></extra>", visible=True if traced else "legendonly")



def _halfway(src: float, dst: float) -> float:
    """Halfway between two lanes, nudged back towards the sender if that is a third node's lane
    (an X on n2's lane would say n2 was involved)."""
    middle = (src + dst) / 2
    return middle - 0.25 * (1 if dst > src else -1) if middle == int(middle) else middle
