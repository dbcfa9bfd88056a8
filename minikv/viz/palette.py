"""Every colour the figures use, defined once: Okabe & Ito's palette, safe for colour-blind readers.

Okabe and Ito chose eight colours that stay distinct under the common forms of colour blindness
(https://jfly.uni-koeln.de/color/). Each figure maps its categories onto them here, so "dead" is
the same vermillion in the cluster graph, the replay and the failover timeline, and a master is
the same blue in the partition map and the per-node bars. Where colour alone would carry meaning,
the figures add a second cue (a dash pattern, a marker symbol, a label).
"""

from __future__ import annotations

# Okabe-Ito, by its authors' names
BLACK = "#000000"
ORANGE = "#E69F00"
SKY_BLUE = "#56B4E9"
BLUISH_GREEN = "#009E73"
YELLOW = "#F0E442"
BLUE = "#0072B2"
VERMILLION = "#D55E00"
REDDISH_PURPLE = "#CC79A7"
GREY = "#999999"  # not Okabe-Ito: the neutral for "nothing special"
PALE = "#EEEEEE"  # not Okabe-Ito: empty cells, so that what is there stands out
OUTLINE = "#777777"  # edges of legend swatches (a pale swatch needs one to be seen)
GRID = "#DDDDDD"  # lane lines of the sequence diagram
CYCLE = [BLUE, ORANGE, BLUISH_GREEN, VERMILLION, SKY_BLUE, REDDISH_PURPLE, YELLOW, BLACK]

# what a node holds of one partition (partition map, node bars), in legend order
ROLES = {
    "master": BLUE,  # final master, serving
    "replica": SKY_BLUE,  # a full replica copy (asinfo S)
    "working master": ORANGE,  # serving while the final master still waits for data
    "migrating": YELLOW,  # a replica still receiving (asinfo D)
    "non-replica": REDDISH_PURPLE,  # holds data it will drop (asinfo Z)
    "absent": PALE,  # nothing (asinfo A), or the node did not answer
    "unavailable (SC)": BLACK,  # SC: nobody may serve it in this node's view (partition-info U)
}

# a node (cluster graph, replay)
NODE_STATES = {
    "alive": BLUISH_GREEN,
    "paused": YELLOW,
    "orphan": REDDISH_PURPLE,  # running, but in no view
    "dead": VERMILLION,
}

# a link between two nodes: (colour, dash) so the state reads without colour too
LINK_STATES = {
    "up": (GREY, "solid"),
    "cut": (VERMILLION, "dot"),
    "slow": (ORANGE, "dash"),
    "lossy": (REDDISH_PURPLE, "dashdot"),
}

# node border per view, so the sides of a split brain differ at a glance (fills carry the state)
VIEW_BORDERS = [BLACK, BLUE, ORANGE, SKY_BLUE, REDDISH_PURPLE]

# message families in the sequence diagram
MESSAGE_KINDS = {
    "client": SKY_BLUE,  # requests and replies between the client and a node
    "clustering": VERMILLION,  # Prepare, Promise, Accept, Accepted, Commit
    "migration": BLUE,  # Migrate*
    "replication": BLUISH_GREEN,  # ReplicaWrite/Ack, duplicate resolution
    "proxy": ORANGE,  # a request forwarded to the working master
    "heartbeat": GREY,
    "other": REDDISH_PURPLE,
}
LOST = BLACK  # a message the network dropped ends in a black X

# failover milestones, in the order they happen
MILESTONES = {
    "killed": VERMILLION,
    "detected": ORANGE,
    "new view": BLUE,
    "writable": BLUISH_GREEN,
    "balanced": BLACK,
}

FONT = dict(family="DejaVu Sans, Arial, sans-serif", size=13)


def node_colour(index: int) -> str:
    """A stable colour for the index-th node of a cluster (lines per node)."""
    return CYCLE[index % len(CYCLE)]


def view_border(index: int) -> str:
    return VIEW_BORDERS[index % len(VIEW_BORDERS)]
