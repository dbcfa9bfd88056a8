"""Client operations over time: thin doors into the Jepsen report's two figures.

The checker's report (minikv/jepsen/report.py) already draws the operation timeline (porcupine's
picture: a bar per operation per client process, ok / fail / in doubt, nemesis windows shaded)
and the latency scatter (Maelstrom's). They live there because they mark what the checker found
(the operation that cannot be linearized); these functions only let a notebook reach them from
minikv.viz with the other figures.
"""

from __future__ import annotations

from typing import Any, Iterable

import plotly.graph_objects as go

from minikv.jepsen.report import Report, Window


def _report(history: Any, nemesis: Iterable[Window] | None) -> Report:
    """A Report as given, or one checked from a History or a list of ops."""
    if isinstance(history, Report):
        return history
    return Report.check(history, nemesis=nemesis or ())


def op_timeline(history: Any, nemesis: Iterable[Window] | None = None) -> go.Figure:
    """One row per client process, a bar per operation coloured by outcome; nemesis windows
    [(start, end, label)] shaded. `history` is a History, a list of Op or a checked Report."""
    return _report(history, nemesis).figure_timeline()


def latency_scatter(history: Any, nemesis: Iterable[Window] | None = None) -> go.Figure:
    """Every operation at (invocation time, latency), coloured by outcome, nemesis shaded."""
    return _report(history, nemesis).figure_latency()
