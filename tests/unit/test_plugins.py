"""Learner functions plug into a cluster through hooks (minikv/plugins.py, core/hooks.py)."""

import pytest

from minikv.core.hooks import DEFAULT_HOOKS, HOOK_NAMES
from minikv.core.partitions import succession_row
from minikv.plugins import import_path, load_hooks, resolve
from minikv.runtime.sim import SimCluster


def by_name(pid: int, members: tuple[str, ...]) -> list[str]:
    """A deliberately bad partitioner: every partition in the same order (n1 masters everything)."""
    return sorted(members)


def test_without_plugins_the_defaults_are_used():
    """No plugins gives minikv's own functions."""
    assert load_hooks(None) is DEFAULT_HOOKS and not DEFAULT_HOOKS.custom
    assert set(HOOK_NAMES) == {"succession_row", "peer_alive", "incoming_wins", "is_available"}


def test_a_function_becomes_an_import_path_and_back():
    """A module-level function travels to a node process as "module:function"."""
    path = import_path(succession_row)
    assert path == "minikv.core.partitions:succession_row"
    assert resolve(path) is succession_row


def test_a_notebook_function_is_refused_with_a_clear_error():
    """A function a node process cannot import (defined in __main__ or nested) is refused."""
    def nested(pid, members):
        return list(members)
    with pytest.raises(ValueError, match="cannot import"):
        import_path(nested)


def test_unknown_hooks_are_refused():
    """A misspelt hook name is an error that lists the real ones."""
    with pytest.raises(ValueError, match="succession_row"):
        load_hooks({"partitioner": by_name})


def test_a_learner_partitioner_drives_the_simulated_cluster():
    """With a plugged-in partitioner, the cluster's masters follow the learner's rows."""
    with SimCluster(3, seed=1, plugins={"succession_row": by_name}) as sim:
        table = sim.partition_table()
        assert {row[0] for row in table.values()} == {"n1"}
        client = sim.client()
        client.put(("test", None, "k"), {"v": 1})
        assert client.get(("test", None, "k"))[2] == {"v": 1}


def test_a_learner_failure_detector_drives_the_simulated_cluster():
    """A failure detector that never trusts a peer leaves every node alone in its own view."""
    def never_alive(last_heard, now, timeout):
        return False
    with SimCluster(3, seed=2, plugins={"peer_alive": never_alive}, wait=False) as sim:
        sim.run_for(3.0)
        assert {node: view.split()[1] for node, view in sim.views().items()} == {"n1": "n1", "n2": "n2", "n3": "n3"}
