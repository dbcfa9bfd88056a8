"""What a node process keeps on disk: its SC rosters and regimes, never its records.

Aerospike stores the roster and partition versions in system metadata on disk, so a node that
crashes knows on restart which partitions it may have lost. minikv keeps records in memory only;
without this file a restarted node would have forgotten the latest regime of every partition, and
a later view could take an older copy for the latest (see core/consistency.py). The file is
written before the node's messages go out, as a write-ahead rule: nothing another node learns
from us can be newer than what we would remember after a crash.
"""

from __future__ import annotations

import json
import os

from minikv.core.node import Node


class DurableState:
    """Saves `node.consistency.durable_state()` to `path` whenever it changed."""

    def __init__(self, node: Node, path: str):
        self.node, self.path = node, path
        self.saved = -1  # the consistency change counter last written

    def restore(self) -> None:
        if os.path.exists(self.path):
            with open(self.path) as f:
                self.node.consistency.restore(json.load(f))

    def save_if_changed(self) -> None:
        changes = self.node.consistency.changes
        if changes == self.saved:
            return
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.node.consistency.durable_state(), f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)  # atomic: a crash leaves the old file or the new one
        self.saved = changes
