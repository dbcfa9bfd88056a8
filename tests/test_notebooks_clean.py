"""Course notebooks are committed clean: stripped, with a few golden cells and nothing else kept.

The rule (issue 7): a notebook file passes through `nbstripout --keep-count`, so it holds outputs
only in *golden* cells. A golden cell has the cell metadata `keep_output: true` (which makes
nbstripout keep its outputs) and starts with `# NBVAL_CHECK_OUTPUT` (which makes nbval compare
them on every `make test`); it prints short text from the simulator or from pure functions, never
a figure or a widget, whose JSON changes between library versions. Every other output is stripped,
so diffs stay readable and no port, pid or temporary path is ever committed.

To fix a failure here, run `.venv/bin/python tools/run_notebook.py notebooks/NAME.ipynb`, which
executes the notebook and strips it.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
GOLDEN_MARKER = "# NBVAL_CHECK_OUTPUT"
MIN_GOLDEN_CELLS = 3
TEXT_MIME = "text/plain"

each_notebook = pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.name for path in NOTEBOOKS])


def code_cells(path: Path) -> list[nbformat.NotebookNode]:
    return [cell for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code"]


def is_golden(cell: nbformat.NotebookNode) -> bool:
    return cell.metadata.get("keep_output") is True


def first_line(cell: nbformat.NotebookNode) -> str:
    return cell.source.lstrip("\n").split("\n", 1)[0].strip()


def test_welcome_notebook_exists():
    """The course opens on notebooks/00_welcome.ipynb, which `make lab` shows first."""
    assert "00_welcome.ipynb" in [path.name for path in NOTEBOOKS]


@each_notebook
def test_notebook_is_stripped(path: Path):
    """nbstripout --keep-count would leave the notebook unchanged."""
    result = subprocess.run([sys.executable, "-m", "nbstripout", "--verify", "--keep-count", str(path)],
                            capture_output=True, text=True)
    assert result.returncode == 0, (
        f"{path.name} has outputs or metadata nbstripout would remove; run "
        f"'.venv/bin/nbstripout --keep-count notebooks/{path.name}'\n{result.stdout}{result.stderr}")


@each_notebook
def test_notebook_has_enough_golden_cells(path: Path):
    """A notebook has at least three golden cells, so nbval checks what it teaches."""
    golden = [cell for cell in code_cells(path) if is_golden(cell)]
    assert len(golden) >= MIN_GOLDEN_CELLS, f"{path.name}: {len(golden)} golden cells, need {MIN_GOLDEN_CELLS}"


@each_notebook
def test_golden_metadata_and_marker_go_together(path: Path):
    """A cell keeps its outputs (keep_output: true) exactly when it starts with # NBVAL_CHECK_OUTPUT."""
    for index, cell in enumerate(code_cells(path)):
        marked = first_line(cell) == GOLDEN_MARKER
        assert marked == is_golden(cell), (
            f"{path.name} code cell {index}: marker {'present' if marked else 'absent'} but "
            f"keep_output is {cell.metadata.get('keep_output')!r}:\n{cell.source[:200]}")


@each_notebook
def test_golden_cells_keep_short_text_only(path: Path):
    """Golden cells have saved outputs, all plain text: no errors, figures or widgets."""
    for cell in filter(is_golden, code_cells(path)):
        assert cell.outputs, f"{path.name}: golden cell was never run:\n{cell.source[:200]}"
        for output in cell.outputs:
            assert output.output_type in ("stream", "execute_result"), (
                f"{path.name}: golden cell has a {output.output_type} output:\n{cell.source[:200]}")
            if output.output_type == "stream":
                assert output.name == "stdout", f"{path.name}: golden cell writes to stderr:\n{cell.source[:200]}"
            else:
                assert set(output.data) == {TEXT_MIME}, (
                    f"{path.name}: golden result is {sorted(output.data)}, not plain text:\n{cell.source[:200]}")


@each_notebook
def test_other_cells_keep_no_outputs(path: Path):
    """Every cell that is not golden is committed without outputs."""
    for index, cell in enumerate(code_cells(path)):
        if not is_golden(cell):
            assert not cell.outputs, f"{path.name} code cell {index} kept outputs:\n{cell.source[:200]}"


@each_notebook
def test_first_code_cell_imports_minikv_and_seeds(path: Path):
    """The first code cell imports minikv and fixes the simulator's seed in a SEED constant."""
    source = code_cells(path)[0].source
    assert re.search(r"^import minikv\b|^from minikv\b", source, re.MULTILINE), f"{path.name}: no minikv import"
    assert re.search(r"^SEED = \d+", source, re.MULTILINE), f"{path.name}: no 'SEED = <int>' line"
