"""Size is a feature: learners read this code line by line, so it must stay small.

Budgets (README states them): each module of the pure core at most 300 lines, the core at most
3,500 lines in all (room for the cluster, consistency and transaction roles), any other module at
most 450, and no function longer than 40 lines anywhere in minikv/.
"""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "minikv"
CORE_MODULE_MAX = 300
CORE_TOTAL_MAX = 3500
MODULE_MAX = 450
FUNCTION_MAX = 40


def _lines(path: Path) -> int:
    return len(path.read_text().splitlines())


def test_core_modules_fit_their_budget():
    """Every module in minikv/core has at most 300 lines."""
    too_big = {p.name: _lines(p) for p in (PACKAGE / "core").glob("*.py") if _lines(p) > CORE_MODULE_MAX}
    assert not too_big


def test_core_total_fits_its_budget():
    """The pure core stays under 3,500 lines in total."""
    assert sum(_lines(p) for p in (PACKAGE / "core").glob("*.py")) <= CORE_TOTAL_MAX


def test_other_modules_fit_their_budget():
    """No module anywhere in minikv/ passes 450 lines."""
    too_big = {str(p.relative_to(PACKAGE)): _lines(p) for p in PACKAGE.rglob("*.py") if _lines(p) > MODULE_MAX}
    assert not too_big


def test_no_function_is_longer_than_40_lines():
    """No function or method in minikv/ is longer than 40 lines (split by protocol phase instead)."""
    long_ones = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > FUNCTION_MAX:
                    long_ones.append(f"{path.name}:{node.name} ({length} lines)")
    assert not long_ones
