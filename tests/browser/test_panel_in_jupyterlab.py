"""The ClusterPanel in a real browser: JupyterLab, headless Chromium, a click on "kill n2".

The unit tests press the panel's buttons from Python (`button.click()`); this one checks what a
learner sees. It starts JupyterLab on 127.0.0.1 with a random token in a temporary folder holding
one generated notebook, opens that notebook in Debian's Chromium driven by Playwright (its Python
package, pointed at the system browser: no browser download exists on these machines), runs all
cells from the Run menu, clicks the "kill n2" button and waits until the plotly graph in the page
shows n2 dead. Any error in the browser's console fails the test.

Everything waits on a condition with a deadline, never a fixed sleep. The server, its kernel and
anything the kernel started are shut down in a finalizer, and the test checks none is left.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import nbformat
import psutil
import pytest

CHROMIUM = shutil.which("chromium")
sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright Python package is not installed "
                               "(pip install -r requirements.txt)")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH (apt-get install chromium)")

SERVER_START_S = 60  # deadline for JupyterLab to answer on /api
UI_TIMEOUT_MS = 45_000  # deadline for the page, the kernel and the panel to appear
KILL_TIMEOUT_MS = 15_000  # deadline for the graph to show the killed node dead
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker": {"autoStartDefaultKernel": True},
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
}

CELLS = [
    "import minikv\nimport minikv.viz",
    "cluster = minikv.SimCluster(nodes=3, seed=1)",
    "panel = minikv.viz.ClusterPanel(cluster)",
    "panel",
]

# The state of node `id` as the rendered plotly figure has it: the graph's "nodes" trace carries
# customdata [node_id, state, ...] (minikv/viz/graph.py). Read from every plot on the page.
NODE_STATE_JS = """id => {
    for (const plot of document.querySelectorAll('.js-plotly-plot')) {
        const nodes = (plot.data || []).find(trace => trace.name === 'nodes');
        const row = nodes && (nodes.customdata || []).find(row => row[0] === id);
        if (row) return row[1];
    }
    return null;
}"""

# The words drawn in the graph's SVG: node names and the state labels beside them.
SVG_TEXTS_JS = """() => Array.from(document.querySelectorAll('.js-plotly-plot .textpoint text'),
                              t => t.textContent)"""


@dataclass
class Lab:
    url: str  # http://127.0.0.1:<port>
    token: str
    root: Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_settings(settings_dir: Path) -> None:
    """User settings for a fresh JupyterLab: start the notebook's kernel without asking (else a
    "Select Kernel" dialog may come first), and no news or update checks (requests to the
    internet, and a toast over the page)."""
    for plugin, values in LAB_SETTINGS.items():
        path = settings_dir / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


def write_notebook(path: Path) -> None:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(src) for src in CELLS])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, path)


def api(lab: Lab, path: str, method: str = "GET") -> object:
    request = urllib.request.Request(f"{lab.url}/api{path}", method=method,
                                     headers={"Authorization": f"token {lab.token}"})
    with urllib.request.urlopen(request, timeout=5) as response:
        body = response.read()
    return json.loads(body) if body else None


def wait_for_server(lab: Lab, server: subprocess.Popen) -> None:
    """Poll /api until it answers; fail early if the server died."""
    deadline = time.monotonic() + SERVER_START_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"JupyterLab exited with {server.returncode} before answering")
        try:
            api(lab, "")
            return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)  # polling interval, not synchronisation: the loop waits on the answer
    pytest.fail(f"JupyterLab did not answer on {lab.url}/api within {SERVER_START_S} s")


def shut_down(lab: Lab, server: subprocess.Popen) -> None:
    """Ask the server to stop (it shuts its kernels down), then make sure that it and every
    process it started (the kernel is in its own session, so a process group would miss it)
    are gone, killing stragglers, and fail if any had to be killed."""
    try:
        family = psutil.Process(server.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        family = []
    try:
        api(lab, "/shutdown", method="POST")
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=10)
    _, alive = psutil.wait_procs(family, timeout=15)
    for process in alive:
        process.kill()
    assert not alive, f"processes left after the server shut down: {alive}"


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    root = tmp_path / "lab"
    root.mkdir()
    write_notebook(root / "panel.ipynb")
    home = tmp_path / "jupyter"  # settings, workspaces, runtime: nothing shared with the user's
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(home / "config"), "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
           "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"), "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces")}
    write_settings(home / "settings")
    port, token = free_port(), secrets.token_hex(16)
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", "--ServerApp.ip=127.0.0.1",
               f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
               f"--ServerApp.root_dir={root}", "--LabApp.news_url=None", "--LabApp.check_for_updates_class="
               "jupyterlab.NeverCheckForUpdate"]
    log = (tmp_path / "jupyterlab.log").open("w")
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=root)
    lab = Lab(f"http://127.0.0.1:{port}", token, root)
    try:
        wait_for_server(lab, server)
        yield lab
    finally:
        shut_down(lab, server)
        log.close()


def wait_for_kernel(lab: Lab) -> None:
    """Wait until the notebook's kernel is idle with the page connected to it (the server counts
    the page's websocket). Before that, Run All Cells may find no kernel yet and quietly run
    nothing, even when the page already shows the kernel as idle."""
    deadline = time.monotonic() + UI_TIMEOUT_MS / 1000
    kernels: object = []
    while time.monotonic() < deadline:
        try:
            kernels = api(lab, "/kernels")
        except urllib.error.HTTPError:  # jupyter_server answers 500 (KeyError 'last_activity')
            kernels = []  # when asked while a kernel is starting: ask again
        if any(k["execution_state"] == "idle" and k["connections"] >= 1 for k in kernels):
            return
        time.sleep(0.2)  # polling interval
    pytest.fail(f"no idle kernel with the page connected within {UI_TIMEOUT_MS / 1000:.0f} s: {kernels}")


def run_all_cells(page) -> None:
    """Run > Run All Cells from the menu bar, as a learner would. The item stays disabled until
    the notebook is the current widget and its kernel is up, which may come after the page looks
    ready (a click on a disabled item does nothing), so: open the menu until the item is enabled."""
    page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for(timeout=UI_TIMEOUT_MS)
    deadline = time.monotonic() + UI_TIMEOUT_MS / 1000
    item = page.locator(".lm-Menu-item[data-command='runmenu:run-all']")
    while True:
        page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
        item.wait_for(timeout=UI_TIMEOUT_MS)
        if item.get_attribute("aria-disabled") != "true":
            item.click()
            # the first cell runs, or has run: its prompt is no longer "[ ]:"
            page.locator(".jp-InputPrompt").first.filter(has_text=re.compile(r"\[(\*|1)\]")).wait_for(
                timeout=UI_TIMEOUT_MS)
            return
        page.keyboard.press("Escape")
        if time.monotonic() > deadline:
            pytest.fail("Run All Cells stayed disabled")
        page.wait_for_timeout(200)  # polling interval before looking at the menu again


def test_kill_button_turns_node_dead_in_the_graph(lab: Lab, tmp_path: Path):
    """In JupyterLab, clicking the panel's "kill n2" button redraws the cluster graph with n2 dead,
    without a single browser console error."""
    errors: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1600})
            page.on("console", lambda msg: errors.append(f"console: {msg.text}") if msg.type == "error" else None)
            page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
            page.goto(f"{lab.url}/lab/tree/panel.ipynb?token={lab.token}", timeout=UI_TIMEOUT_MS)
            wait_for_kernel(lab)
            run_all_cells(page)
            kill = page.get_by_role("button", name="kill n2", exact=True)
            kill.wait_for(timeout=UI_TIMEOUT_MS)
            page.wait_for_function(NODE_STATE_JS, arg="n1", timeout=UI_TIMEOUT_MS)  # the graph is drawn
            assert page.evaluate(NODE_STATE_JS, "n2") == "alive"
            assert "dead" not in page.evaluate(SVG_TEXTS_JS)
            kill.click()
            page.wait_for_function(f"() => ({NODE_STATE_JS})('n2') === 'dead'", timeout=KILL_TIMEOUT_MS)
            page.wait_for_function(f"() => ({SVG_TEXTS_JS})().includes('dead')", timeout=KILL_TIMEOUT_MS)
            page.get_by_text("kill n2: done").wait_for(timeout=KILL_TIMEOUT_MS)
            screenshot = tmp_path / "panel_after_kill_n2.png"
            page.screenshot(path=screenshot, full_page=True)
            print(f"screenshot: {screenshot}")
            assert page.evaluate(NODE_STATE_JS, "n1") == "alive"
        except Exception:
            page.screenshot(path=tmp_path / "failure.png", full_page=True)  # to see what went wrong
            print(f"screenshot of the failure: {tmp_path / 'failure.png'}")
            raise
        finally:
            browser.close()
    assert not errors, "browser console errors:\n" + "\n".join(errors)
