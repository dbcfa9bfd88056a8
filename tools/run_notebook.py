"""Run a course notebook as a learner would, then strip it for committing.

    .venv/bin/python tools/run_notebook.py notebooks/00_welcome.ipynb [--html /tmp/00_welcome.html]

This is what an author does after editing a notebook. It runs every cell in a fresh kernel, in
order (JupyterLab's "Restart Kernel and Run All Cells"), writes the outputs back into the file
and prints the wall time; with --html it also renders the executed notebook, outputs and all, so
you can look at what a learner sees. Last, it runs `nbstripout --keep-count`, which removes every
output except those of golden cells (cell metadata `keep_output: true`): their outputs are the
expected values nbval compares on `make test`, so they must come from a real run.

A cell that raises stops the run with the error and leaves the file untouched.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

CELL_TIMEOUT = 60  # seconds; a whole notebook must run in under 60 s, so no cell may take longer


def execute(path: Path) -> tuple[nbformat.NotebookNode, float]:
    """The notebook with fresh outputs from a new kernel started in its folder, and the seconds it took."""
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=CELL_TIMEOUT, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    started = time.monotonic()
    client.execute()
    return notebook, time.monotonic() - started


def render_html(notebook: nbformat.NotebookNode, target: Path) -> None:
    from nbconvert import HTMLExporter  # only needed for --html

    body, _ = HTMLExporter().from_notebook_node(notebook)
    target.write_text(body, encoding="utf-8")


def strip(path: Path) -> None:
    """Keep golden outputs and execution counts, drop everything else (the repository's rule)."""
    subprocess.run([sys.executable, "-m", "nbstripout", "--keep-count", str(path)], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebook", type=Path)
    parser.add_argument("--html", type=Path, help="also write the executed notebook as HTML here")
    args = parser.parse_args()
    notebook, seconds = execute(args.notebook)
    nbformat.write(notebook, args.notebook)
    if args.html:
        render_html(notebook, args.html)
    strip(args.notebook)
    print(f"{args.notebook}: ran in {seconds:.1f} s, stripped with nbstripout --keep-count")


if __name__ == "__main__":
    main()
