"""ClusterPanel: one widget to watch a cluster live and break it with a click.

    panel = ClusterPanel(cluster)   # a SimCluster or a LocalCluster
    panel                           # naming it at the end of a cell shows it
    panel.close()                   # stops its threads or timers (closing the cluster does too)

A panel runs until it or its cluster is closed: re-running the cell that made it leaves the old
one running beside the new, so close the old one first.

On top, the cluster graph and masters/replicas per node, redrawn in place from
`cluster.snapshot()`; below, a status line and rows of controls: per-node kill / restart / pause /
resume / remove, a partition builder, slow and lossy links, add node, a background load with its
throughput, errors and in-doubt counts and, for a SimCluster, play / pause / step and the speed of
simulated time. Each button calls the same verb a notebook cell would (`cluster.kill("n2")`).

Everything the panel reports goes into widget state (labels, figure data), never `print`: output
printed from a thread or a timer lands in whichever cell happens to run. The two figures are
plotly FigureWidgets created once; a redraw builds fresh figures and copies their data into the
live ones, so the browser updates the plot it has instead of drawing a new one. Who may touch the
cluster from where (threads for real processes, the kernel's event loop for the simulator) is
explained in panel_drivers.py.
"""

from __future__ import annotations

import threading
from typing import Any

import ipywidgets as widgets
import plotly.graph_objects as go

from minikv.keys import N_PARTITIONS
from minikv.runtime.sim import SimCluster
from minikv.runtime.snapshot import ClusterSnapshot
from minikv.viz.common import sorted_nodes
from minikv.viz.figures import node_bar_traces, node_bars
from minikv.viz.graph import cluster_graph, graph_title, graph_traces, view_annotations
from minikv.viz.palette import NODE_STATES
from minikv.viz.panel_controls import (Buttons, Verb, forget_node, link_row, load_row, node_row,
                                       partition_row, time_row, verb_button)
from minikv.viz.panel_drivers import SimDriver, ThreadDriver

GRAPH_SIZE = (580, 480)  # pixels (width, height) of the cluster graph in the panel
BARS_SIZE = (440, 480)  # pixels of the masters/replicas bars beside it
BARS_TITLE = "masters and replicas per node"


class ClusterPanel(widgets.VBox):
    """A live view of `cluster` with buttons for every fault verb; see the module docstring."""

    def __init__(self, cluster: Any):
        super().__init__()
        self.cluster = cluster
        self.closed = False
        self.buttons: Buttons = {}  # {description: button}, e.g. self.buttons["kill n2"].click()
        self._lock = threading.RLock()  # one user of the cluster at a time: a button or a redraw
        self._rows: dict[str, tuple[widgets.HBox, widgets.HTML]] = {}  # {node_id: (row, state)}
        self.driver = SimDriver(self) if isinstance(cluster, SimCluster) else ThreadDriver(self)
        snapshot = cluster.snapshot()
        self.graph = go.FigureWidget(_sized(cluster_graph(snapshot), GRAPH_SIZE))
        self.bars = go.FigureWidget(_sized(node_bars(snapshot, title=BARS_TITLE), BARS_SIZE))
        self.bars.update_xaxes(range=[0, N_PARTITIONS * 1.12])  # fixed: bars grow, the axis stays
        self.summary = widgets.HTML()
        self.status = widgets.Label("ready", layout=widgets.Layout(width="auto"))
        self.node_box = widgets.VBox()
        partition, self.partition_groups = partition_row(cluster, self.act, self.buttons)
        links = link_row(cluster, self.act, self.buttons)
        self.link_ends, self.link_delay, self.link_loss = links.ends, links.delay, links.loss
        load, self.load_toggle, self.load_labels = load_row(self._set_load)
        self.children = self._arrange(partition, links.box, load)
        self._describe(snapshot)
        self.driver.start()

    def _arrange(self, partition: widgets.HBox, links: widgets.HBox, load: widgets.HBox) -> list[widgets.Widget]:
        membership = widgets.HBox([verb_button("add node", self.act, self._add_node, self.buttons, "primary")])
        rows = [self.summary, widgets.HBox([self.graph, self.bars]),
                widgets.HBox([widgets.HTML("<b>status</b>&nbsp;"), self.status]),
                _heading("nodes"), self.node_box, membership,
                _heading("network"), partition, links,
                _heading("load"), load]
        if self.driver.simulated:
            rows += [_heading("simulated time"), time_row(self.driver, self.act, self.buttons)]
        return rows

    # ---- acting on the cluster -----------------------------------------------------------------

    def act(self, what: str, verb: Verb) -> None:
        """Run one verb for a button and show what came of it in the status line. Errors are
        shown, not raised: "pause n2 failed: n2 is dead, not alive" teaches; a traceback from a
        widget callback would land in the log console where nobody sees it."""
        if self.closed or self.cluster.closed:
            self.show_status(f"{what}: the {'panel' if self.closed else 'cluster'} is closed")
            return
        self.show_status(f"{what} ...")
        try:
            with self._lock:
                detail = verb()
        except Exception as exc:
            self.show_status(f"{what} failed: {type(exc).__name__}: {exc}")
        else:
            self.show_status(f"{what}: {detail or 'done'}")
        self.refresh_quietly()

    def show_status(self, text: str) -> None:
        self.status.value = text

    def _add_node(self) -> str:
        return f"{self.cluster.add_node()} started"

    def _set_load(self, on: bool) -> None:
        if on == self.driver.load_running:
            return  # the toggle was only put back in line with the truth (below)
        self.act("load on" if on else "load off", lambda: self.driver.set_load(on))
        if self.load_toggle.value != self.driver.load_running:  # switching failed: say so
            self.load_toggle.value = self.driver.load_running

    # ---- drawing -------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Redraw from a fresh snapshot: the figures change in place, rows follow membership."""
        with self._lock:
            self._show(self.cluster.snapshot())

    def refresh_quietly(self) -> None:
        """refresh() for callers that must not raise (threads, timers, callbacks)."""
        try:
            self.refresh()
        except Exception as exc:
            self.show_status(f"redraw failed: {type(exc).__name__}: {exc}")

    def _show(self, snapshot: ClusterSnapshot) -> None:
        """Only traces, the graph's title and its view lines change; the figures' style was set
        once (building a whole styled figure costs ten times more than its traces)."""
        redraw(self.graph, graph_traces(snapshot),
               dict(title_text=graph_title(snapshot), annotations=view_annotations(snapshot)))
        redraw(self.bars, node_bar_traces(snapshot))
        self._describe(snapshot)

    def _describe(self, snapshot: ClusterSnapshot) -> None:
        """Everything but the figures: node rows, the summary line, the load's numbers."""
        self._sync_rows(snapshot)
        self.summary.value = _summary(self.cluster, snapshot)
        self._show_load()

    def _sync_rows(self, snapshot: ClusterSnapshot) -> None:
        """One row per node of the cluster: rows for added nodes, none for removed ones."""
        ids = sorted_nodes(snapshot.nodes)
        for node_id in [n for n in self._rows if n not in snapshot.nodes]:
            self._rows.pop(node_id)[0].close()
            forget_node(node_id, self.buttons)
        for node_id in ids:
            if node_id not in self._rows:
                self._rows[node_id] = node_row(self.cluster, node_id, self.act, self.buttons)
            self._rows[node_id][1].value = _state_html(node_id, snapshot.nodes[node_id].state)
        if list(self._rows) != ids:
            self._rows = {n: self._rows[n] for n in ids}
        if [row for row, _ in self._rows.values()] != list(self.node_box.children):
            self.node_box.children = [row for row, _ in self._rows.values()]
        for end in self.link_ends:
            if list(end.options) != ids:
                end.options, end.value = ids, end.value if end.value in ids else ids[0]

    def _show_load(self) -> None:
        load, labels = self.driver.load, self.load_labels
        if load is None:
            labels["throughput"].value = "load is off"
            return
        unit = "ops/s (virtual)" if self.driver.simulated else "ops/s"
        labels["throughput"].value = f"throughput {load.rate(self.driver.now()):,.0f} {unit}"
        labels["errors"].value = f"errors {load.errors:,}"
        labels["in doubt"].value = f"in doubt {load.in_doubt:,}"
        labels["last error"].value = load.last_error

    # ---- closing -------------------------------------------------------------------------------

    def close(self) -> None:
        """Stop the background work (threads, timers, the load's client), then close every
        widget of the panel. Safe to call twice."""
        if self.closed:
            return
        self.closed = True
        self.driver.stop()
        for widget in _descendants(self):
            widget.close()
        super().close()


def redraw(live: go.FigureWidget, traces: list, layout: dict | None = None) -> None:
    """Copy fresh traces (and layout changes) into the FigureWidget `live`, in place: the browser
    updates the plot it has, and values that did not change are not sent again. Traces that
    differ in number or kind from the live ones replace them (the figure stays the same)."""
    if [t.type for t in live.data] != [t.type for t in traces]:
        live.data = []
        live.add_traces(traces)
        traces = []
    with live.batch_update():
        for trace, new in zip(live.data, traces):
            properties = new.to_plotly_json()
            trace.update({k: v for k, v in properties.items() if k not in ("type", "uid")}, overwrite=True)
        live.layout.update(layout or {})


def _sized(fig: go.Figure, size: tuple[int, int]) -> go.Figure:
    return fig.update_layout(width=size[0], height=size[1])


def _heading(text: str) -> widgets.HTML:
    return widgets.HTML(f"<b>{text}</b>", layout=widgets.Layout(margin="6px 0 0 0"))


def _state_html(node_id: str, state: str) -> str:
    colour = NODE_STATES.get(state, "#999999")
    return f'<span style="color:{colour}; font-size:1.2em">&#9679;</span> <b>{node_id}</b> {state}'


def _summary(cluster: Any, snapshot: ClusterSnapshot) -> str:
    """One line above the figures: which cluster, what time, who leads, what is moving."""
    clock = f"t={snapshot.t:.3f} s virtual" if isinstance(cluster, SimCluster) else f"t={snapshot.t:.1f} s"
    views = {v.ckey for v in snapshot.nodes.values() if v.ckey}
    migrations = sum(v.migrations_remaining for v in snapshot.nodes.values())
    return (f"<b>{type(cluster).__name__}</b> &middot; {clock} &middot; principal "
            f"{snapshot.principal or 'none'} &middot; {len(views)} view(s) &middot; "
            f"{migrations} migrations remaining")


def _descendants(box: widgets.Box) -> list[widgets.Widget]:
    found = []
    for child in box.children:
        found += [child, *(_descendants(child) if isinstance(child, widgets.Box) else [])]
    return found
