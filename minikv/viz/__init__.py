"""Seeing the cluster: plotly figures of a SimCluster or LocalCluster, and a panel to break it.

    import minikv, minikv.viz as viz
    sim = minikv.SimCluster(nodes=3, seed=7)
    viz.cluster_graph(sim)        # nodes by state, links by state, views, the principal
    viz.partition_map(sim)        # 4096 partitions per node, coloured by role
    sim.trace(); sim.kill("n2"); sim.wait_stable()
    viz.sequence_diagram(sim)     # every message since trace(), lane by lane
    viz.ClusterPanel(sim)         # buttons: kill, pause, partition, load...

Every figure takes a cluster or a ClusterSnapshot (`cluster.snapshot()`, runtime/snapshot.py) and
returns a plotly Figure; nothing here changes the cluster except the functions that run a
simulator forward on purpose (sample_progress, replay). The colours come from palette.py
(Okabe & Ito's, safe for colour-blind readers). The core never imports this package.
"""

from minikv.viz.figures import node_bars, partition_map
from minikv.viz.graph import cluster_graph
from minikv.viz.operations import latency_scatter, op_timeline
from minikv.viz.replay import replay
from minikv.viz.sequence import sequence_diagram
from minikv.viz.timelines import failover_milestones, failover_timeline, migration_progress, sample_progress

try:  # the panel is written alongside the figures; the figures must import without it
    from minikv.viz.panel import ClusterPanel
except ModuleNotFoundError as missing:
    if missing.name != "minikv.viz.panel":
        raise  # the panel exists but something it needs is missing: say so

__all__ = [
    "ClusterPanel", "cluster_graph", "failover_milestones", "failover_timeline", "latency_scatter",
    "migration_progress", "node_bars", "op_timeline", "partition_map", "replay", "sample_progress",
    "sequence_diagram",
]
