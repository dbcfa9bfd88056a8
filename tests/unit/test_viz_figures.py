"""The figure builders in minikv.viz draw what the cluster says: right traces, counts and states.

Each test builds a figure from a known simulator state (3 nodes, fixed seed; after a kill; after a
partition) and reads the figure's data, never rendering it. Snapshots are frozen, so the module
fixtures share them between tests.
"""

from __future__ import annotations

import dataclasses

import pytest

from minikv import SimCluster
from minikv.jepsen import History
from minikv.viz import (cluster_graph, failover_milestones, failover_timeline, latency_scatter,
                        migration_progress, node_bars, op_timeline, partition_map, replay,
                        sample_progress, sequence_diagram)
from minikv.viz.figures import ROLE_NAMES, pmap_counts
from minikv.viz.palette import LINK_STATES, NODE_STATES, ROLES
from minikv.viz.sequence import describe

SEED = 7


def _trace(fig, name):
    (found,) = [t for t in fig.data if t.name == name]
    return found


def _node_states(fig) -> dict[str, str]:
    """{node_id: state} as the graph's node markers carry them in customdata."""
    return {row[0]: row[1] for row in _trace(fig, "nodes").customdata}


def _segments(trace) -> int:
    return sum(1 for x in trace.x if x is not None) // 2


@pytest.fixture(scope="module")
def killed():
    """A 3-node sim, written to, then n2 killed and the cluster stable again; with its snapshots
    before and after and the traced messages of the failover."""
    sim = SimCluster(nodes=3, seed=SEED)
    client = sim.client()
    for i in range(50):
        client.put(("test", "demo", i), {"v": i})
    before, pmap_before = sim.snapshot(), sim.pmap()
    sim.trace()
    client.put(("test", "demo", "traced"), {"v": 1})
    sim.kill("n2")
    progress = sample_progress(sim, duration=1.5, every=0.1)
    sim.wait_stable()
    return dict(sim=sim, before=before, pmap_before=pmap_before, after=sim.snapshot(),
                pmap_after=sim.pmap(), progress=progress)


@pytest.fixture(scope="module")
def split():
    """A 3-node sim partitioned into {n1} and {n2, n3}, each side in its own view."""
    sim = SimCluster(nodes=3, seed=SEED)
    sim.trace()
    sim.partition(["n1"], ["n2", "n3"])
    sim.wait_stable()
    return dict(sim=sim, snapshot=sim.snapshot())


# ---- cluster graph -------------------------------------------------------------------------------

def test_graph_has_one_marker_per_node_in_id_order_with_its_state(killed):
    """The graph's node trace lists n1, n2, n3 in order, each with its id and state in customdata."""
    fig = cluster_graph(killed["before"])
    assert list(_node_states(fig).items()) == [("n1", "alive"), ("n2", "alive"), ("n3", "alive")]
    assert list(_trace(fig, "nodes").marker.color) == [NODE_STATES["alive"]] * 3


def test_graph_shows_a_killed_node_as_dead(killed):
    """After kill("n2"), n2's marker says dead and has the dead colour; the others stay alive."""
    fig = cluster_graph(killed["after"])
    assert _node_states(fig) == {"n1": "alive", "n2": "dead", "n3": "alive"}
    assert _trace(fig, "nodes").marker.color[1] == NODE_STATES["dead"]


def test_graph_title_names_the_view_key_generation_and_principal(killed):
    """The title carries the cluster key and generation of the view, and marks its principal."""
    sim, fig = killed["sim"], cluster_graph(killed["after"])
    stats = sim.info("n1")
    assert f"cluster key {stats['cluster_key']} · generation {stats['cluster_generation']}" in fig.layout.title.text
    ring = _trace(fig, "principal")
    principal = stats["cluster_principal"]
    positions = {row[0]: (x, y) for row, x, y in zip(_trace(fig, "nodes").customdata,
                                                     _trace(fig, "nodes").x, _trace(fig, "nodes").y)}
    assert list(zip(ring.x, ring.y)) == [positions[principal]]


def test_graph_draws_cut_links_after_a_partition(split):
    """partition([n1], [n2, n3]) cuts two links (n1-n2, n1-n3) and leaves n2-n3 up."""
    fig = cluster_graph(split["snapshot"])
    assert _segments(_trace(fig, "link cut")) == 2
    assert _segments(_trace(fig, "link up")) == 1
    assert _trace(fig, "link cut").line.dash == LINK_STATES["cut"][1]


def test_graph_tells_the_views_of_a_split_brain_apart(split):
    """Each side forms its own view: n1's border colour differs from n2's and n3's, and the
    notes under the graph list two views and the network's two sides."""
    fig = cluster_graph(split["snapshot"])
    borders = list(_trace(fig, "nodes").marker.line.color)
    assert borders[1] == borders[2] != borders[0]
    notes = [a.text for a in fig.layout.annotations]
    assert sum(text.startswith("<b>view ") for text in notes) == 2
    assert notes[-1] == "network sides: n1 | n2, n3"
    assert "split brain: 2 views" in fig.layout.title.text


def test_graph_accepts_a_cluster_or_its_snapshot(killed):
    """cluster_graph(sim) draws the same picture as cluster_graph(sim.snapshot())."""
    sim = killed["sim"]
    assert cluster_graph(sim).to_dict()["data"] == cluster_graph(sim.snapshot()).to_dict()["data"]


# ---- partition map and bars ----------------------------------------------------------------------

def _role_counts(fig) -> dict[str, dict[str, int]]:
    counts = {}
    for grid in (t for t in fig.data if t.type == "heatmap"):
        cells = [ROLE_NAMES[z] for row in grid.z for z in row]
        counts[grid.name] = {role: cells.count(role) for role in ROLE_NAMES}
    return counts


def test_partition_map_masters_per_node_equal_pmap(killed):
    """In a stable cluster each node's master and replica cells equal pmap()'s counts."""
    counts = _role_counts(partition_map(killed["before"]))
    assert {n: {"masters": c["master"], "replicas": c["replica"]} for n, c in counts.items()} == killed["pmap_before"]
    assert all(sum(c.values()) == 4096 for c in counts.values())


def test_partition_map_after_a_kill(killed):
    """After n2 dies its 4096 cells are absent and n1 and n3 master every partition between them."""
    counts = _role_counts(partition_map(killed["after"]))
    assert counts["n2"]["absent"] == 4096
    assert counts["n1"]["master"] + counts["n3"]["master"] == 4096
    assert {n: c["master"] for n, c in counts.items() if n != "n2"} == {
        n: c["masters"] for n, c in killed["pmap_after"].items()}


def test_partition_map_hover_names_pid_role_and_records(killed):
    """Hovering a cell shows its node, pid, role and record count; the legend lists every role."""
    fig = partition_map(killed["before"])
    grid = next(t for t in fig.data if t.type == "heatmap")
    pid = 64 * 2 + 5
    role = ROLE_NAMES[grid.z[2][5]]
    assert grid.text[2][5].startswith(f"n1 · pid {pid}<br>{role} · ")
    assert grid.text[2][5].endswith(" records")
    assert [t.name for t in fig.data if t.type == "scatter"] == list(ROLES)


def test_node_bars_equal_pmap(killed):
    """node_bars draws, per node, exactly pmap()'s masters and replicas."""
    fig = node_bars(killed["before"])
    masters, replicas = _trace(fig, "masters"), _trace(fig, "replicas")
    assert list(masters.y) == ["n1", "n2", "n3"]
    drawn = {n: {"masters": m, "replicas": r} for n, m, r in zip(masters.y, masters.x, replicas.x)}
    assert drawn == killed["pmap_before"] == pmap_counts(killed["before"])


# ---- sequence diagram ----------------------------------------------------------------------------

def test_sequence_diagram_draws_one_arrow_per_message(killed):
    """Every traced message but heartbeats is one segment, in the trace of its family."""
    messages = killed["sim"].messages
    fig = sequence_diagram(messages)
    shown = [m for m in messages if m.name != "Heartbeat"]
    assert sum(_segments(t) for t in fig.data) == len(shown)
    assert _segments(_trace(fig, "client")) == sum(1 for m in shown if "client" in (m.src, m.dst))
    assert "heartbeat" not in [t.name for t in fig.data]


def test_sequence_diagram_has_a_client_lane_and_node_lanes(killed):
    """Lanes are the client on top, then the nodes in id order."""
    fig = sequence_diagram(killed["sim"])
    assert list(fig.layout.yaxis.ticktext) == ["client", "n1", "n2", "n3"]


def test_sequence_diagram_include_and_time_window(killed):
    """include picks message types (even excluded ones); start/end keep messages sent in between."""
    messages = killed["sim"].messages
    start = messages[len(messages) // 2].sent
    fig = sequence_diagram(messages, start=start, include=["Heartbeat"])
    expected = [m for m in messages if m.name == "Heartbeat" and m.sent >= start]
    assert [t.name for t in fig.data] == ["heartbeat", "lost"]
    assert sum(_segments(t) for t in fig.data) == len(expected)


def test_sequence_diagram_marks_messages_lost_to_a_partition(split):
    """Messages sent over a cut link end in the "lost" trace, drawn with an X."""
    messages = split["sim"].messages
    fig = sequence_diagram(messages, include=["Heartbeat"])
    lost = [m for m in messages if m.delivered is None and m.name == "Heartbeat"]
    assert lost and _segments(_trace(fig, "lost")) == len(lost)
    assert {frozenset((m.src, m.dst)) for m in lost} <= {frozenset(("n1", "n2")), frozenset(("n1", "n3"))}
    assert "x" in _trace(fig, "lost").marker.symbol


def test_describe_shows_the_message_type_and_fields(killed):
    """A message's hover text starts with its type and lists its fields by name."""
    message = next(m.message for m in killed["sim"].messages if m.name == "Commit")
    text = describe(message)
    assert text.startswith("<b>Commit</b>")
    assert all(f"{f.name}=" in text for f in dataclasses.fields(message)[:3])


# ---- migrations, failover, replay ----------------------------------------------------------------

def test_migration_progress_stacks_one_series_per_node(killed):
    """sample_progress notes every 0.1 s of 1.5 s; the figure stacks one series per surviving node."""
    samples = killed["progress"]
    assert len(samples) == 16 and all(b[0] > a[0] for a, b in zip(samples, samples[1:]))
    fig = migration_progress(samples)
    assert [t.name for t in fig.data] == ["n1", "n3"]
    assert list(fig.data[0].y) == [counts["n1"] for _, counts in samples]
    assert {t.stackgroup for t in fig.data} == {"nodes"}


def test_failover_milestones_come_in_order(killed):
    """From the event log: killed, then detected (first view without n2), new view, balanced."""
    found = failover_milestones(killed["sim"], progress=killed["progress"])
    assert list(found) == ["killed", "detected", "new view", "balanced"]
    times = list(found.values())
    assert times == sorted(times)
    assert found["detected"] - found["killed"] > 0


def test_failover_timeline_marks_each_milestone(killed):
    """The timeline has a marker and a label per milestone, a given write time included."""
    found = failover_milestones(killed["sim"], progress=killed["progress"])
    writable = found["new view"] + 0.01
    fig = failover_timeline(killed["sim"], writable=writable, progress=killed["progress"])
    assert [t.name for t in fig.data if t.mode == "markers"] == ["killed", "detected", "new view", "writable", "balanced"]
    assert len(fig.layout.annotations) == 5


def test_replay_has_a_frame_per_snapshot_and_sees_the_kill():
    """replay() keeps a frame every `every` seconds, each with all traces; a kill shows in later frames."""
    sim = SimCluster(nodes=3, seed=SEED)
    sim.schedule(0.2, lambda: sim.kill("n2"))
    fig = replay(sim, duration=1.0, every=0.5)
    assert len(fig.frames) == 3 and len(fig.layout.sliders[0].steps) == 3
    assert all(len(frame.data) == len(fig.data) for frame in fig.frames)
    states = [next(t for t in frame.data if t.name == "nodes").customdata[1][1] for frame in fig.frames]
    assert states == ["alive", "dead", "dead"]


# ---- operations (the Jepsen report's figures) ----------------------------------------------------

def test_op_timeline_and_latency_scatter_draw_a_history():
    """op_timeline and latency_scatter draw a hand-written history through the Jepsen report."""
    history = History()
    history.invoke(0, "write", "k", 1, time=0.0)
    history.ok(0, time=0.1)
    history.invoke(1, "read", "k", time=0.2)
    history.ok(1, time=0.3, result=1)
    assert op_timeline(history, nemesis=[(0.05, 0.25, "partition")]).data
    assert latency_scatter(history).data


def test_sc_unavailable_partitions_have_their_own_colour():
    """In SC, an isolated node's partitions are drawn as unavailable, not as migrating."""
    from minikv.viz.figures import partition_role
    with SimCluster(3, seed=3, mode="sc") as sim:
        sim.isolate("n1")
        sim.run_for(3.0)
        snapshot = sim.snapshot()
        assert {partition_role(snapshot, pid, "n1")[0] for pid in range(4096)} == {"unavailable (SC)"}
        assert "unavailable (SC)" not in {partition_role(snapshot, pid, "n2")[0] for pid in range(4096)}
