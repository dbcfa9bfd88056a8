"""The core is pure: messages and `now` in, replies and effects out.

That is what lets SimCluster replay a run exactly, so it is checked mechanically: no module in
minikv/core imports sockets, clocks, threads, processes or the viz layer, and none prints.
"""

import ast
from pathlib import Path

CORE = Path(__file__).resolve().parents[1] / "minikv" / "core"
FORBIDDEN = {"socket", "asyncio", "time", "threading", "subprocess", "os", "select", "signal",
             "selectors", "multiprocessing", "uvloop", "minikv.runtime", "minikv.viz", "minikv.client"}


def _imports(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_core_imports_no_io_clock_or_threads():
    """No core module imports socket, asyncio, time, threading, os, the runtime, client or viz."""
    offenders = {}
    for path in CORE.glob("*.py"):
        bad = {name for name in _imports(ast.parse(path.read_text()))
               if any(name == f or name.startswith(f + ".") for f in FORBIDDEN)}
        if bad:
            offenders[path.name] = sorted(bad)
    assert not offenders


def test_core_never_prints():
    """Core modules log to the event log instead of printing."""
    printing = [
        path.name
        for path in CORE.glob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print"
    ]
    assert not printing


def test_core_uses_no_module_level_randomness():
    """Randomness comes from an injected random.Random (the simulator's seed), never the module."""
    calls = [
        f"{path.name}:{node.lineno}"
        for path in CORE.glob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
        and node.value.id == "random" and node.attr != "Random"
    ]
    assert not calls
