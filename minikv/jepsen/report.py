"""A checked history as something a notebook can show: a verdict, counts, anomalies, two figures.

`Report.check(history, nemesis=[(start, end, "partition")])` runs every checker that fits the
history's keys (registers: linearizability; counters: lost increments; sets: lost elements) and
keeps the results. Printing it, or leaving it as a cell's last line, gives a short summary.

The figures follow the two tools learners meet in the Jepsen world. figure_timeline() is
porcupine's picture: one row per client process, one bar per operation from invocation to
completion, coloured by outcome, with the impossible operation crossed out and the ops around it
outlined. figure_latency() is Maelstrom's: every operation as a dot, invocation time against
latency, coloured by outcome. Both shade the nemesis windows, because the anomalies cluster in
and just after them. plotly is imported inside the methods: the checkers work without it.
The colours are Okabe & Ito's palette, which stays distinct for colour-blind readers.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from minikv.jepsen.anomalies import (
    CounterResult,
    SetResult,
    check_set,
    count_lost_updates,
)
from minikv.jepsen.history import History, Op, as_ops, workloads
from minikv.jepsen.linearizability import RegisterResult, check_register

# Okabe-Ito colours, by outcome
COLOURS = {"ok": "#0072B2", "fail": "#CC79A7", "info": "#E69F00", "impossible": "#D55E00"}
OUTCOME_NAMES = {"ok": "ok", "fail": "fail (did not happen)", "info": "info (in doubt)"}
NEMESIS_COLOUR = "#999999"
FONT = {"family": "DejaVu Sans, Arial, sans-serif", "size": 13}  # as minikv.viz
LABELLED_OPS = 60  # write a label on each bar up to this many ops; beyond, hover only
Window = tuple[float, float, str]  # (start, end, label) of a nemesis fault, in history time


@dataclass
class Report:
    """The outcome of checking one history. Build it with Report.check(history)."""

    ops: list[Op]
    register: RegisterResult | None = None
    counters: list[CounterResult] = field(default_factory=list)
    sets: list[SetResult] = field(default_factory=list)
    nemesis: list[Window] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what the run itself noticed (not anomalies)

    @classmethod
    def check(cls, history: History | Iterable[Op], nemesis: Iterable[Window] = (),
              notes: Iterable[str] = ()) -> Report:
        """Run the checkers that fit: linearizability for register keys, lost updates for counter
        and set keys."""
        ops = as_ops(history)
        kinds = workloads(ops)
        keys_of = {w: [k for k, kind in kinds.items() if kind == w] for w in ("register", "counter", "set")}
        return cls(ops,
                   check_register(ops) if keys_of["register"] else None,
                   [count_lost_updates(ops, key) for key in keys_of["counter"]],
                   [check_set(ops, key) for key in keys_of["set"]],
                   [tuple(w) for w in nemesis], list(notes))

    # the verdict in numbers and words
    @property
    def valid(self) -> bool:
        """True when no checker found an anomaly."""
        register_ok = self.register is None or self.register.valid
        return register_ok and all(r.valid for r in [*self.counters, *self.sets])

    @property
    def counts(self) -> dict[str, int]:
        """How many ops, by outcome, and how many processes, keys and anomalies."""
        counts = {outcome: sum(1 for op in self.ops if op.outcome == outcome) for outcome in OUTCOME_NAMES}
        return {"ops": len(self.ops), **counts, "processes": len({op.process for op in self.ops}),
                "keys": len({op.key for op in self.ops}), "anomalies": len(self.anomalies),
                "lost_increments": sum(r.lost for r in self.counters),
                "lost_elements": sum(len(r.lost) for r in self.sets)}

    @property
    def lost_writes(self) -> int:
        """Acknowledged writes the final reads are missing: lost increments plus lost set elements
        (a register's lost write shows as a non-linearizable read instead)."""
        return sum(r.lost for r in self.counters) + sum(len(r.lost) for r in self.sets)

    @property
    def anomalies(self) -> list[str]:
        """Every anomaly found, one plain sentence each."""
        found = [v.explanation for v in self.register.failures] if self.register else []
        return found + [r.describe() for r in [*self.counters, *self.sets] if not r.valid]

    def __str__(self) -> str:
        c = self.counts
        head = (f"{'VALID' if self.valid else 'INVALID'}: {c['ops']:,} ops ({c['ok']:,} ok, {c['fail']:,} fail, "
                f"{c['info']:,} in doubt) by {_plural(c['processes'], 'process')} over {_plural(c['keys'], 'key')}")
        lines = [head]
        if self.register:
            lines.append(f"  registers: {str(self.register).splitlines()[0]}")
        lines += [f"  {r.describe()}" for r in [*self.counters, *self.sets]]
        lines += [f"  - {v.explanation}" for v in (self.register.failures if self.register else [])]
        lines += [f"  note: {note}" for note in self.notes]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        colour = COLOURS["ok"] if self.valid else COLOURS["impossible"]
        head, _, rest = str(self).partition("\n")
        return (f'<pre><b style="color:{colour}">{html.escape(head)}</b>\n{html.escape(rest)}</pre>')

    # figures
    def figure_timeline(self, title: str = "operations by client process") -> Any:
        """Porcupine-style: a bar per op from invocation to completion, one row per process."""
        import plotly.graph_objects as go

        failures = self.register.failures if self.register else []
        culprits = {v.culprit.index for v in failures}
        style = _BarStyle(self.ops, {op.index for v in failures for op in v.window})
        fig = go.Figure()
        for outcome in OUTCOME_NAMES:
            ops = [op for op in self.ops if op.outcome == outcome and op.index not in culprits]
            fig.add_trace(style.bars(go, ops, OUTCOME_NAMES[outcome], COLOURS[outcome], outcome == "info"))
        bad = [op for op in self.ops if op.index in culprits]
        if bad:
            fig.add_trace(style.bars(go, bad, "impossible", COLOURS["impossible"], False))
            fig.add_trace(go.Scatter(x=[op.complete for op in bad], y=[_row(op) for op in bad], mode="markers",
                                     name="cannot be linearized", hoverinfo="skip",
                                     marker=dict(symbol="x", size=16, color="black", line_width=1)))
        rows = sorted({op.process for op in self.ops})
        fig.update_layout(title=title, font=FONT, barmode="overlay", height=max(340, 180 + 30 * len(rows)),
                          plot_bgcolor="white", xaxis_title="time (s)", yaxis_title="client process",
                          uniformtext=dict(minsize=9, mode="hide"))  # no labels too small to read
        fig.update_yaxes(categoryorder="array", categoryarray=[f"p{p}" for p in reversed(rows)])
        fig.update_xaxes(showgrid=True, gridcolor="#eeeeee")
        return _shade(fig, self.nemesis)

    def figure_latency(self, title: str = "latency by outcome") -> Any:
        """Maelstrom-style: each op at (invocation time, latency), coloured by outcome."""
        import plotly.graph_objects as go

        fig = go.Figure()
        for outcome, name in OUTCOME_NAMES.items():
            ops = [op for op in self.ops if op.outcome == outcome and op.complete is not None]
            fig.add_trace(go.Scattergl(
                x=[op.invoke for op in ops], y=[max(op.latency * 1000, 0.001) for op in ops], mode="markers",
                name=name, marker=dict(color=COLOURS[outcome], size=6, opacity=0.8),
                hovertext=[f"p{op.process} key {op.key}: {op.describe()}" for op in ops]))
        fig.update_layout(title=title, font=FONT, plot_bgcolor="white", xaxis_title="invocation time (s)",
                          yaxis_title="latency (ms, log scale)")
        fig.update_xaxes(showgrid=True, gridcolor="#eeeeee")
        fig.update_yaxes(type="log", dtick=1, showgrid=True, gridcolor="#dddddd",  # a label per power of 10
                         minor=dict(showgrid=True, gridcolor="#f3f3f3"))
        return _shade(fig, self.nemesis)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}{'es' if noun.endswith('s') else 's'}"


def _row(op: Op) -> str:
    return f"p{op.process}"


class _BarStyle:
    """What every bar trace of one timeline shares: where time ends (for ops that never did), the
    shortest visible bar, whether the bars are few enough to label, and which ops to outline."""

    def __init__(self, ops: list[Op], window: set[int]):
        times = [t for op in ops for t in (op.invoke, op.complete) if t is not None] or [0.0]
        self.end = max(times)
        self.shortest = (self.end - min(times)) / 400 or 0.001  # an instant reply still gets a sliver
        self.labelled = len(ops) <= LABELLED_OPS
        self.window = window

    def bars(self, go: Any, ops: list[Op], name: str, colour: str, hatched: bool) -> Any:
        """One horizontal bar per op; in-doubt bars hatched (their end is unknown), window ops outlined."""
        finish = [op.complete if op.complete is not None else self.end for op in ops]
        return go.Bar(
            base=[op.invoke for op in ops], x=[max(f - op.invoke, self.shortest) for op, f in zip(ops, finish)],
            y=[_row(op) for op in ops], orientation="h", name=name, width=0.6,
            text=[f"{op.key}: {op.describe()}" for op in ops] if self.labelled else None,
            textposition="inside", insidetextanchor="middle", textfont=dict(color="white", size=11),
            hovertext=[f"p{op.process} key {op.key}: {op.describe()} ({op.outcome}) "
                       f"{op.invoke:.3f}..{f:.3f}" for op, f in zip(ops, finish)], hoverinfo="text",
            marker=dict(color=colour, pattern_shape="/" if hatched else "",
                        line=dict(color="black", width=[2 if op.index in self.window else 0 for op in ops])))


def _shade(fig: Any, nemesis: list[Window]) -> Any:
    """Grey bands over the nemesis windows, labelled at the top."""
    for start, stop, label in nemesis:
        fig.add_vrect(x0=start, x1=stop, fillcolor=NEMESIS_COLOUR, opacity=0.25, line_width=0, layer="below")
        fig.add_annotation(x=start, y=1, xref="x", yref="paper", xanchor="left", yanchor="bottom",
                           text=label, showarrow=False, font=dict(size=11, color="#555555"))
    return fig
