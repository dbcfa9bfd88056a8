"""The ClusterPanel: clicking a button changes the cluster as the button's label says.

Buttons are clicked the way the browser does (`button.click()` runs the same callbacks), on a
SimCluster (fixed seed) and on one real 3-node LocalCluster shared by the module. The simulator's
clock and load run from timers on an asyncio event loop, as in a Jupyter kernel, so those tests
run inside `asyncio.run`. Nothing waits a fixed time: conditions are polled with deadlines.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from minikv import LocalCluster, SimCluster
from minikv.viz.panel import ClusterPanel
from minikv.viz.panel_controls import parse_groups
from tests.net.conftest import DEADLINE, wait_until

SEED = 11


def marker_states(panel: ClusterPanel) -> dict[str, str]:
    """{node_id: state} as the graph's node markers show it (customdata = [id, state, ...])."""
    (nodes,) = [trace for trace in panel.graph.data if trace.name == "nodes"]
    return {row[0]: row[1] for row in nodes.customdata}


def panel_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("minikv-panel")]


async def until(predicate: Callable[[], object], what: str) -> None:
    """Let the event loop run (the panel's timers live there) until `predicate()` holds."""
    deadline = time.monotonic() + DEADLINE
    while not predicate():
        assert time.monotonic() < deadline, f"not true within {DEADLINE} s: {what}"
        await asyncio.sleep(0.01)  # hands the loop to the panel's timers; polling, not waiting


@pytest.fixture
def sim() -> Iterator[SimCluster]:
    with SimCluster(nodes=3, seed=SEED) as cluster:
        yield cluster


@pytest.fixture
def sim_panel(sim: SimCluster) -> Iterator[ClusterPanel]:
    panel = ClusterPanel(sim)
    yield panel
    panel.close()


# ---- node buttons (simulator) ------------------------------------------------------------------

def test_kill_button_kills_the_node_and_the_graph_shows_it_dead(sim, sim_panel):
    """"kill n2" kills n2, says so in the status line, and the same graph widget shows n2 dead."""
    graph = sim_panel.graph
    sim_panel.buttons["kill n2"].click()
    assert sim.node_states()["n2"] == "dead"
    assert sim_panel.status.value == "kill n2: done"
    sim_panel.refresh()
    assert sim_panel.graph is graph and marker_states(sim_panel)["n2"] == "dead"


def test_pause_and_resume_buttons_pause_and_resume_the_node(sim, sim_panel):
    """"pause n3" pauses n3 (the graph shows it paused); "resume n3" brings it back alive."""
    sim_panel.buttons["pause n3"].click()
    assert sim.node_states()["n3"] == "paused" and marker_states(sim_panel)["n3"] == "paused"
    sim_panel.buttons["resume n3"].click()
    assert sim.node_states()["n3"] == "alive" and marker_states(sim_panel)["n3"] == "alive"


def test_a_refused_verb_shows_in_the_status_line_instead_of_raising(sim, sim_panel):
    """Pausing a dead node fails in the status line; the click itself raises nothing."""
    sim_panel.buttons["kill n1"].click()
    sim_panel.buttons["pause n1"].click()
    assert sim_panel.status.value == "pause n1 failed: RuntimeError: n1 is dead, not alive"
    assert sim.node_states()["n1"] == "dead"


def test_restart_button_brings_a_dead_node_back(sim, sim_panel):
    """"restart n2" on a dead n2 returns once n2 is alive and serving again."""
    sim_panel.buttons["kill n2"].click()
    sim_panel.buttons["restart n2"].click()
    assert sim.node_states()["n2"] == "alive" and "n2" in sim.node("n2").members


# ---- network and membership (simulator) --------------------------------------------------------

def test_partition_builder_cuts_the_links_between_groups_and_heal_restores_them(sim, sim_panel):
    """Groups "n1 | n2,n3" cut n1-n2 and n1-n3 (the graph draws them cut); heal restores all."""
    sim_panel.partition_groups.value = "n1 | n2,n3"
    sim_panel.buttons["apply partition"].click()
    assert sim_panel.status.value == "apply partition: n1 | n2,n3"
    assert sim.net.faults.cut == {frozenset(("n1", "n2")), frozenset(("n1", "n3"))}
    (cut,) = [t for t in sim_panel.graph.data if t.name == "link cut"]
    assert len([x for x in cut.x if x is not None]) == 4  # two segments, two ends each
    sim_panel.buttons["heal"].click()
    assert not sim.net.faults.cut


def test_link_controls_slow_and_lossy_the_chosen_link(sim, sim_panel):
    """Picking n1 and n3 with a delay and a loss rate makes that link slow and lossy."""
    sim_panel.link_ends[0].value, sim_panel.link_ends[1].value = "n1", "n3"
    sim_panel.link_delay.value, sim_panel.link_loss.value = 0.3, 0.5
    sim_panel.buttons["apply link faults"].click()
    link = frozenset(("n1", "n3"))
    assert sim.net.faults.delay[link] == pytest.approx(0.3) and sim.net.faults.loss[link] == pytest.approx(0.5)
    assert sim.snapshot().links[("n1", "n3")] == "lossy"


def test_add_node_adds_a_node_with_its_own_buttons_and_remove_takes_it_away(sim, sim_panel):
    """"add node" makes 4 nodes (n4 gets a row and is a link choice); "remove n4" takes it out."""
    sim_panel.buttons["add node"].click()
    assert sim.node_ids == ["n1", "n2", "n3", "n4"] and sim_panel.status.value == "add node: n4 started"
    assert "kill n4" in sim_panel.buttons and "n4" in sim_panel.link_ends[0].options
    assert len(marker_states(sim_panel)) == 4
    sim_panel.buttons["remove n4"].click()
    assert sim.node_ids == ["n1", "n2", "n3"] and "kill n4" not in sim_panel.buttons


def test_parse_groups_reads_the_partition_field_and_refuses_nonsense():
    """"n1 | n2,n3" is two groups; unknown nodes and a node on two sides are refused."""
    assert parse_groups(" n1 | n2, n3 ", ["n1", "n2", "n3"]) == [["n1"], ["n2", "n3"]]
    for bad in ("", "n9 | n1", "n1 | n1,n2"):
        with pytest.raises(ValueError):
            parse_groups(bad, ["n1", "n2", "n3"])


# ---- simulated time and load -------------------------------------------------------------------

def test_step_advances_simulated_time_by_one_small_step(sim, sim_panel):
    """"step" moves virtual time forward by 0.1 s and nothing else runs it."""
    before = sim.now
    sim_panel.buttons["step"].click()
    assert sim.now == pytest.approx(before + 0.1)


def test_play_runs_simulated_time_from_the_event_loop_until_pause(sim, sim_panel):
    """"play" advances virtual time from timers on the running event loop; "pause" stops it."""
    async def scenario() -> None:
        start = sim.now
        sim_panel.buttons["play"].click()
        await until(lambda: sim.now > start + 0.5, "virtual time advances")
        sim_panel.buttons["pause"].click()
        assert sim_panel.driver._timer is None and not sim_panel.driver.playing  # nothing left to run

    asyncio.run(scenario())


def test_play_outside_an_event_loop_explains_itself(sim_panel):
    """Without a running event loop (no Jupyter kernel) "play" says to use step instead, and the
    load toggle springs back off, since simulated load needs the clock."""
    sim_panel.buttons["play"].click()
    assert "no running asyncio event loop" in sim_panel.status.value
    sim_panel.load_toggle.value = True
    assert sim_panel.status.value.startswith("load on failed: RuntimeError: no running asyncio event loop")
    assert sim_panel.load_toggle.value is False and not sim_panel.driver.load_running


def test_simulated_load_shows_throughput_and_stops_when_the_panel_closes(sim, sim_panel):
    """The load toggle runs operations in simulated time, the labels show a nonzero throughput,
    and closing the panel stops both time and load."""
    async def scenario() -> None:
        sim_panel.load_toggle.value = True
        await until(lambda: sim_panel.driver.load.done > 20, "load operations complete")
        sim_panel.refresh()
        assert not sim_panel.load_labels["throughput"].value.startswith("throughput 0 ")
        sim_panel.close()
        assert sim_panel.driver._timer is None and not sim_panel.driver.playing  # nothing left to run

    asyncio.run(scenario())


def test_closing_the_simulation_stops_the_panels_clock(sim, sim_panel):
    """A panel whose SimCluster is closed stops advancing time by itself."""
    async def scenario() -> None:
        sim_panel.buttons["play"].click()
        await until(lambda: sim.now > 1.0, "virtual time advances")
        sim.close()
        await until(lambda: sim_panel.driver._timer is None, "the clock stops")
        assert sim_panel.status.value == "the cluster is closed: the panel stopped"

    asyncio.run(scenario())


# ---- a real cluster ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def local() -> Iterator[LocalCluster]:
    with LocalCluster(nodes=3) as cluster:
        yield cluster


@pytest.fixture
def local_panel(local: LocalCluster) -> Iterator[ClusterPanel]:
    local.wait_stable()  # every test starts from a settled cluster
    panel = ClusterPanel(local)
    yield panel
    panel.close()


def test_local_kill_and_restart_buttons_act_on_real_processes(local, local_panel):
    """On real processes "kill n2" leaves n2 dead (and drawn dead); "restart n2" revives it."""
    local_panel.buttons["kill n2"].click()
    assert local.node_states()["n2"] == "dead"
    local_panel.refresh()
    assert marker_states(local_panel)["n2"] == "dead"
    local_panel.buttons["restart n2"].click()
    assert local.node_states()["n2"] == "alive" and local_panel.status.value == "restart n2: done"


def test_local_pause_resume_and_partition_buttons(local, local_panel):
    """Pause/resume send SIGSTOP/SIGCONT; a partition cuts the links and heal restores them."""
    local_panel.buttons["pause n3"].click()
    assert local.node_states()["n3"] == "paused"
    local_panel.buttons["resume n3"].click()
    assert local.node_states()["n3"] == "alive"
    local_panel.partition_groups.value = "n1 | n2,n3"
    local_panel.buttons["apply partition"].click()
    assert local.faults.cut == {frozenset(("n1", "n2")), frozenset(("n1", "n3"))}
    local_panel.buttons["heal"].click()
    assert not local.faults.cut


def test_local_redraws_run_in_the_background(local, local_panel):
    """Without any call from the test, the panel's thread redraws what a cell did to the cluster."""
    local.pause("n1")
    wait_until(lambda: marker_states(local_panel)["n1"] == "paused", what="the graph shows n1 paused")
    local.resume("n1")
    wait_until(lambda: marker_states(local_panel)["n1"] == "alive", what="the graph shows n1 alive")


def test_local_load_toggle_shows_throughput_and_close_ends_every_panel_thread(local, local_panel):
    """The load thread's operations show as nonzero throughput; after close no panel thread runs."""
    local_panel.load_toggle.value = True
    wait_until(lambda: local_panel.driver.load.ok > 20, what="load operations succeed")
    local_panel.refresh()
    assert not local_panel.load_labels["throughput"].value.startswith("throughput 0 ")
    assert {t.name for t in panel_threads()} == {"minikv-panel-refresh", "minikv-panel-load"}
    local_panel.close()
    assert not panel_threads()


def test_local_add_node_makes_four_nodes(local, local_panel):
    """"add node" starts n4 and gives it buttons; "remove n4" stops it again."""
    local_panel.buttons["add node"].click()
    assert local.node_ids == ["n1", "n2", "n3", "n4"] and "kill n4" in local_panel.buttons
    local_panel.buttons["remove n4"].click()
    assert local.node_ids == ["n1", "n2", "n3"] and "kill n4" not in local_panel.buttons


def test_closing_a_local_cluster_stops_the_panels_threads():
    """Closing the cluster (not the panel) ends the panel's redraw and load threads."""
    cluster = LocalCluster(nodes=1)
    panel = ClusterPanel(cluster)
    try:
        panel.load_toggle.value = True
        wait_until(lambda: panel.driver.load.ok > 0, what="load operations succeed")
        cluster.close()
        wait_until(lambda: not panel_threads(), what="the panel's threads end")
        assert panel.status.value == "the cluster is closed: the panel stopped"
    finally:
        panel.close()
        cluster.close()
