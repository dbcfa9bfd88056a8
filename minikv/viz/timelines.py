"""Time on the x axis: migrations draining after a view change, and a failover step by step.

migration_progress draws what `asinfo -v statistics` reports as migrate_partitions_remaining,
sampled over a simulator run by sample_progress: stacked per node, so the top of the stack is
the whole cluster's remaining work and the area shows who carries it.

failover_timeline reads the event log and marks the moments of a node failure, with the time
between them: killed -> detected (the first view without the node: its principal saw it gone and
formed one) -> new view (every survivor has joined it) -> writable (the first successful write
afterwards, when the caller measured one) -> balanced (no migrations left). The nodes log no
"migrations done" event, so "balanced" comes from progress samples, or is the new view itself
when every node's balance found nothing to migrate.
"""

from __future__ import annotations

import re
from typing import Any

import plotly.graph_objects as go

from minikv.core.events import Event
from minikv.viz.common import sorted_nodes, styled
from minikv.viz.palette import GREY, MILESTONES, node_colour

Sample = tuple[float, dict[str, int]]  # (t, {node_id: migrate_partitions_remaining})
JOINED = re.compile(r"joined view (\w+) as \w+: ([\w,]+) \(generation (\d+)\)")
LABEL_OFFSETS = [-50, 50, -110, 110]  # px above/below the line, so neighbouring labels never collide


# ---- migration progress ------------------------------------------------------------------------

def sample_progress(sim: Any, duration: float, every: float) -> list[Sample]:
    """Run a SimCluster for `duration` virtual seconds and note every node's remaining migrations
    every `every` seconds (and once at the start)."""
    samples, end = [_remaining(sim)], sim.now + duration
    while sim.now < end - 1e-9:
        sim.run_for(min(every, end - sim.now))
        samples.append(_remaining(sim))
    return samples


def _remaining(sim: Any) -> Sample:
    alive = [n for n, state in sim.node_states().items() if state == "alive"]
    return sim.now, {n: int(sim.info(n)["migrate_partitions_remaining"]) for n in alive}


def migration_progress(samples: list[Sample], title: str | None = None) -> go.Figure:
    """Partitions each node still has to migrate, stacked, over time."""
    nodes = sorted_nodes({n for _, counts in samples for n in counts})
    times = [t for t, _ in samples]
    fig = go.Figure([go.Scatter(x=times, y=[counts.get(n, 0) for _, counts in samples], name=n,
                                stackgroup="nodes", mode="lines", line=dict(color=node_colour(i), width=1.5),
                                hovertemplate=n + ": %{y} partitions to migrate at t=%{x:.2f} s<extra></extra>")
                     for i, n in enumerate(nodes)])
    fig.update_xaxes(title="virtual time (s)")
    fig.update_yaxes(title="partitions left to migrate", rangemode="tozero")
    return styled(fig, title or "migrations remaining, per node (stacked)", height=420, width=900)


# ---- failover ----------------------------------------------------------------------------------

def failover_milestones(events: Any, kill_time: float | None = None, writable: float | None = None,
                        progress: list[Sample] | None = None) -> dict[str, float]:
    """{milestone: t} for the first kill in the log (or the one at `kill_time`); milestones that
    did not happen (yet) are left out."""
    log = list(events.events() if hasattr(events, "events") else events)
    killed = [e for e in log if e.text.startswith("killed") and (kill_time is None or e.t >= kill_time - 1e-9)]
    if not killed:
        raise ValueError("no kill in the event log: pass kill_time, or kill a node first")
    victim, t_kill = killed[0].node, kill_time if kill_time is not None else killed[0].t
    found = {"killed": t_kill, **_view_change(log, victim, t_kill)}
    if writable is not None:
        found["writable"] = writable
    balanced = _balanced(log, found, progress)
    return found | ({"balanced": balanced} if balanced is not None else {})


def _view_change(log: list[Event], victim: str, after: float) -> dict[str, float]:
    """The first view formed without the victim, and when its last member joined."""
    joins = [(e, JOINED.search(e.text)) for e in log if e.t >= after and e.role == "Clustering"]
    without = [(e, m) for e, m in joins if m and victim not in m.group(2).split(",")]
    if not without:
        return {}
    ckey = without[0][1].group(1)
    return {"detected": without[0][0].t, "new view": max(e.t for e, m in without if m.group(1) == ckey)}


def _balanced(log: list[Event], found: dict[str, float], progress: list[Sample] | None) -> float | None:
    """When migrations were done: the first progress sample after the new view with none left,
    or the new view itself if every node's balance found nothing to migrate."""
    if "new view" not in found:
        return None
    if progress is not None:
        done = [t for t, counts in progress if t >= found["new view"] and not any(counts.values())]
        return done[0] if done else None
    plans = [e for e in log if e.role == "Balance" and abs(e.t - found["new view"]) < 1e-6]
    return found["new view"] if plans and all(" 0 partitions to migrate" in e.text for e in plans) else None


def failover_timeline(events: Any, kill_time: float | None = None, writable: float | None = None,
                      progress: list[Sample] | None = None, title: str | None = None) -> go.Figure:
    """The failover's milestones on one line, labelled, with the time each step took."""
    found = failover_milestones(events, kill_time, writable, progress)
    times = list(found.values())
    fig = go.Figure(go.Scatter(x=[min(times), max(times)], y=[0, 0], mode="lines", showlegend=False,
                               line=dict(color=GREY, width=2), hoverinfo="skip"))
    for name, t in found.items():
        fig.add_trace(go.Scatter(x=[t], y=[0], mode="markers", name=name, showlegend=False, marker=dict(
            size=16, color=MILESTONES[name], symbol="diamond", line=dict(width=1, color="white")),
            hovertemplate=f"{name} at t=%{{x:.3f}} s<extra></extra>"))
    fig.update_layout(annotations=_milestone_labels(found))
    fig.update_yaxes(visible=False, range=[-1, 1])
    span = max(times) - min(times) or 1.0
    fig.update_xaxes(title="time (s)", range=[min(times) - 0.08 * span, max(times) + 0.08 * span])
    total = f"{span:.3f} s from kill to {list(found)[-1]}" if len(found) > 1 else "no recovery yet"
    return styled(fig, title or f"failover: {total}", height=380, width=1000)


def _milestone_labels(found: dict[str, float]) -> list[dict]:
    """A label per milestone, alternating above and below the line, with the step's duration."""
    labels, previous = [], None
    for i, (name, t) in enumerate(found.items()):
        step = f"<br>+{t - previous:.3f} s" if previous is not None else ""
        labels.append(dict(x=t, y=0, text=f"<b>{name}</b><br>t={t:.3f}{step}", showarrow=True,
                           arrowhead=0, ax=0, ay=LABEL_OFFSETS[i % len(LABEL_OFFSETS)],
                           font=dict(size=12, color=MILESTONES[name]), bgcolor="rgba(255,255,255,0.85)"))
        previous = t
    return labels
