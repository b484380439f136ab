"""Every chapter runs clean in a real JupyterLab, the way a learner runs it.

A session fixture starts JupyterLab from this environment on a copy of chapters/
(running cells never touches the committed notebooks), with its own config, data,
runtime, settings and workspace folders, and nothing that reaches for the network.
Each test opens a notebook in headless Chromium through the JupyterLab UI, clears the
outputs (Edit > Clear Outputs of All Cells), runs it (Run > Run All Cells), waits until
the kernel is idle and no cell is pending, then checks what the page shows:

- every code cell has an execution count ("[3]:", not "[ ]:" or "[*]:"), and
- no cell shows an error. JupyterLab 4 renders an error exactly like text written to
  stderr (`.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]`, no
  class of its own), so the page check looks for traceback text in those outputs; the
  notebook is then saved (File > Save Notebook) and the saved copy is checked too, where
  an error is unambiguous (`"output_type": "error"`).

Scratch notebooks written into the server's folder prove the checks can fail: an error
with a cell left unrun after it, a SyntaxError in the last cell, a cell that never
finishes, an image fetched from the web (every request that would leave 127.0.0.1 is
blocked and fails the test). A clean one proves that a warning on stderr is not taken
for an error and that jupyterlab-myst renders MyST markdown. On failure a full-page
screenshot (and the server log) goes to test-output/.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import nbformat
import pytest
from playwright.sync_api import Page

from conftest import OUTPUT_DIR, screenshot_if_failed

REPO = Path(__file__).resolve().parent.parent
CHAPTERS = REPO / "chapters"

SERVER_START_TIMEOUT = 60  # seconds until /api/status must answer
SERVER_STOP_TIMEOUT = 15  # seconds between SIGTERM and SIGKILL
PAGE_TIMEOUT = 60  # seconds for the notebook to appear and its kernel to be idle
RUN_TIMEOUT = 180  # seconds for "Run All Cells" to finish, per notebook
POLL = 0.25  # seconds between two looks at the page

# Fetches the JupyterLab news feed and asks PyPI for updates: off, with news_url=None.
ANNOUNCEMENTS_PLUGIN = "@jupyterlab/apputils-extension:announcements"

# A stderr output is an error when it looks like a Python traceback. IPython's own
# tracebacks contain "Traceback (most recent call last)"; a SyntaxError's starts with
# "Cell In[n], line m"; both end with "SomeError: message".
ERROR_TEXT = re.compile(
    r"Traceback \(most recent call last\)"
    r"|^\s*Cell In\[\d*\], line \d+"
    r"|^[A-Za-z_][\w.]*(Error|Exception|Interrupt|Exit)\b"
    r"|^Javascript Error:",  # a renderer that failed
    re.MULTILINE,
)
FINISHED_PROMPT = re.compile(r"^\[\d+\]:$")  # "[7]:"; "[ ]:" never ran, "[*]:" pending

# What the visible notebook shows, read in one go from the page. The kernel's state is
# read from the status bar ("Python 3 (ipykernel) | Idle"): the notebook toolbar's
# indicator already says "idle" while the status bar still says "No Kernel | Initializing".
NOTEBOOK_STATE_JS = """
() => {
  const panels = [...document.querySelectorAll('.jp-NotebookPanel')]
    .filter(panel => !panel.classList.contains('lm-mod-hidden'));
  const status = document.querySelector(
    '#jp-main-statusbar .jp-StatusBar-TextItem[title^="Change kernel"]');
  if (panels.length !== 1 || !status) return null;
  const [kernel, kernelState] = status.textContent.split('|').map(part => part.trim());
  const stderr = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]';
  const cells = [...panels[0].querySelectorAll('.jp-Notebook-cell')].map(cell => {
    const code = cell.classList.contains('jp-CodeCell');
    const prompt = cell.querySelector('.jp-InputArea-prompt');
    return {
      code,
      prompt: code && prompt ? prompt.textContent.trim() : null,
      stderr: [...cell.querySelectorAll(stderr)].map(output => output.textContent),
    };
  });
  // A code cell has no prompt while it is being drawn, or while its input is collapsed:
  // its prompt is null then, and counts as pending (NotebookState.pending).
  return {kernel, kernel_state: (kernelState || '').toLowerCase(), cells};
}
"""


# --------------------------------------------------------------------------- server


@dataclass
class Lab:
    """A running JupyterLab: where it listens, the token, and the folder it serves."""

    port: int
    token: str
    root: Path
    log: Path
    process: subprocess.Popen

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def fetch(self, path: str, method: str = "GET") -> bytes:
        request = urllib.request.Request(
            self.base + path, method=method, headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.read()

    def api(self, path: str, method: str = "GET"):
        body = self.fetch(path, method)
        return json.loads(body) if body else None

    def notebook_url(self, name: str, workspace: str) -> str:
        # A workspace of its own, reset, so no layout saved by an earlier page reopens tabs.
        return f"{self.base}/lab/workspaces/{workspace}/tree/{name}?reset&token={self.token}"

    def shut_down_kernels(self) -> None:
        for session in self.api("/api/sessions"):
            self.api(f"/api/sessions/{session['id']}", method="DELETE")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_json(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2))


def lab_command(port: int, token: str, tmp: Path) -> list[str]:
    return [
        sys.executable, "-m", "jupyterlab",
        "--no-browser",
        "--allow-root",  # CI runs as root
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",  # this port or fail, never another one
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={tmp / 'chapters'}",
        f"--LabApp.user_settings_dir={tmp / 'settings'}",
        f"--LabApp.workspaces_dir={tmp / 'workspaces'}",
        # Nothing leaves the machine: no news feed, no update check, no PyPI search.
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
    ]  # fmt: skip


def prepare(tmp: Path) -> dict[str, str]:
    """Fill tmp with the copy of chapters/ and the settings; return the server's environment."""
    shutil.copytree(
        CHAPTERS,
        tmp / "chapters",
        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"),
    )
    # The copies open without their stored outputs (nbval checks those), so every output
    # on the page comes from this run.
    for path in (tmp / "chapters").glob("*.ipynb"):
        notebook = nbformat.read(path, as_version=4)
        for cell in notebook.cells:
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        nbformat.write(notebook, path)
    # Config and data dirs replace the user's (~/.jupyter, ~/.local/share/jupyter). The
    # environment's own (.venv/etc/jupyter, .venv/share/jupyter) stay on the search path:
    # they hold the kernelspec, the server extensions and the lab extensions.
    write_json(
        tmp / "config" / "labconfig" / "page_config.json",
        {"disabledExtensions": {ANNOUNCEMENTS_PLUGIN: True}},
    )
    # Every cell stays in the page, however long the notebook ("windowing" would drop
    # the cells scrolled out of view, and with them their prompts and outputs).
    write_json(
        tmp / "settings" / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings",
        {"windowingMode": "none"},
    )
    return {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(tmp / "config"),
        "JUPYTER_DATA_DIR": str(tmp / "data"),
        "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"),
        "IPYTHONDIR": str(tmp / "ipython"),  # no startup files from the user's profile
    }


def wait_for_status(lab: Lab) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if lab.process.poll() is not None:
            raise RuntimeError(
                f"JupyterLab exited with {lab.process.returncode}:\n{tail(lab.log)}"
            )
        try:
            lab.api("/api/status")
            return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(POLL)
    raise RuntimeError(f"JupyterLab did not answer in {SERVER_START_TIMEOUT} s:\n{tail(lab.log)}")


def stop(process: subprocess.Popen) -> None:
    """SIGTERM (the server then shuts its kernels down), SIGKILL the group if that hangs."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=SERVER_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            pass
    try:  # the server had its own process group: it and any kernel left behind
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


def tail(path: Path, lines: int = 40) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


@pytest.fixture(scope="session")
def lab(request):
    tmp = Path(tempfile.mkdtemp(prefix="jupyterlab-test-"))
    process = None
    try:
        env = prepare(tmp)
        log = tmp / "server.log"
        port, token = free_port(), secrets.token_hex(24)
        with log.open("w") as out:
            process = subprocess.Popen(
                lab_command(port, token, tmp),
                env=env,
                cwd=tmp,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, for stop()
            )
        server = Lab(port, token, tmp / "chapters", log, process)
        wait_for_status(server)
        yield server
    finally:  # also on a failed start, a failed test and Ctrl-C
        if process is not None:
            stop(process)
        if request.session.testsfailed and (tmp / "server.log").exists():
            OUTPUT_DIR.mkdir(exist_ok=True)
            shutil.copy(tmp / "server.log", OUTPUT_DIR / "jupyterlab-server.log")
        shutil.rmtree(tmp, ignore_errors=True)


# -------------------------------------------------------------------------- browser
# `browser` is the session fixture in conftest.py: Playwright allows one per process.


@dataclass
class Tab:
    page: Page
    offsite: list[str] = field(default_factory=list)  # requests blocked for leaving 127.0.0.1


@pytest.fixture(scope="module")
def lab_context(browser):
    """One browser context for all the tests here, so JupyterLab's assets are cached."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(PAGE_TIMEOUT * 1000)
    yield context
    context.close()


@pytest.fixture
def tab(lab_context, lab, request):
    """A fresh page that notes every request leaving the machine.

    Chromium resolves no host but 127.0.0.1 (conftest.CHROMIUM_ARGS), so such a request
    fails; it is noted here. (Routing requests through Playwright instead would switch
    off the HTTP cache and reload JupyterLab's assets for every test.) On failure a
    full-page screenshot goes to test-output/.
    """
    opened = Tab(lab_context.new_page())
    opened.page.on(
        "request",
        lambda request: (
            urlsplit(request.url).hostname not in (None, "127.0.0.1")
            and opened.offsite.append(request.url)
        ),
    )
    try:
        yield opened
        screenshot_if_failed(request, opened.page)
    finally:
        opened.page.close()
        lab.shut_down_kernels()


# ------------------------------------------------------------------- the UI, driven


@dataclass
class Cell:
    code: bool
    prompt: str | None  # "[3]:", "[*]:", "[ ]:"; None for markdown, or while not drawn
    stderr: list[str]


@dataclass
class NotebookState:
    kernel: str  # "Python 3 (ipykernel)", or "No Kernel" while it starts
    kernel_state: str  # "initializing", "connecting", "idle", "busy", ...
    cells: list[Cell]

    @property
    def idle(self) -> bool:
        return self.kernel != "No Kernel" and self.kernel_state == "idle"

    @property
    def code_cells(self) -> list[Cell]:
        return [cell for cell in self.cells if cell.code]

    @property
    def prompts(self) -> list[str | None]:
        return [cell.prompt for cell in self.code_cells]

    @property
    def pending(self) -> bool:
        return any(prompt is None or "*" in prompt for prompt in self.prompts)

    @property
    def any_finished(self) -> bool:
        return any(FINISHED_PROMPT.match(prompt or "") for prompt in self.prompts)


def read_state(page: Page) -> NotebookState | None:
    state = page.evaluate(NOTEBOOK_STATE_JS)
    if state is None:
        return None
    cells = [Cell(**cell) for cell in state.pop("cells")]
    return NotebookState(**state, cells=cells)


def wait_for(page: Page, condition, timeout: float, what: str) -> NotebookState:
    """Look at the notebook every POLL seconds until condition(state) holds."""
    deadline = time.monotonic() + timeout
    state = None
    while time.monotonic() < deadline:
        state = read_state(page)
        if state is not None and condition(state):
            return state
        time.sleep(POLL)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}; last state: {state}")


def menu(page: Page, title: str, command: str) -> None:
    """Click a menu bar title, then the item bound to command (e.g. Run > Run All Cells)."""
    page.get_by_role("menuitem", name=title, exact=True).click()
    page.locator(f'.lm-Menu-item[data-command="{command}"]').click()


def open_notebook(page: Page, lab: Lab, name: str) -> NotebookState:
    """Open name from its URL; wait for all its cells and its kernel, started and idle."""
    cells = len(nbformat.read(lab.root / name, as_version=4).cells)
    page.goto(lab.notebook_url(name, workspace=f"test-{secrets.token_hex(4)}"))
    return wait_for(
        page,
        lambda state: state.idle and len(state.cells) == cells,
        PAGE_TIMEOUT,
        f"{cells} cells and an idle kernel",
    )


def run_all_cells(page: Page, timeout: float = RUN_TIMEOUT) -> NotebookState:
    # A collapsed input hides its "[n]:" prompt; a collapsed output hides its errors.
    menu(page, "View", "notebook:show-all-cell-code")
    menu(page, "View", "notebook:show-all-cell-outputs")
    menu(page, "Edit", "editmenu:clear-all")  # outputs and counts gone: "[ ]:" everywhere
    wait_for(page, lambda state: not state.any_finished, PAGE_TIMEOUT, "cleared outputs")
    menu(page, "Run", "runmenu:run-all")
    # Run All marks every code cell "[*]:" at once; each gets its count as it finishes, and
    # the ones after an error go back to "[ ]:". Done: every prompt drawn, none pending, a
    # count shown, an idle kernel, twice in a row.
    settled = []

    def finished(state: NotebookState) -> bool:
        done = state.idle and not state.pending and state.any_finished
        settled.append(done)
        return settled[-2:] == [True, True]

    return wait_for(page, finished, timeout, "Run All Cells to finish")


def save_notebook(page: Page) -> None:
    menu(page, "File", "docmanager:save")
    page.locator(".lm-TabBar-tab.jp-mod-current:not(.jp-mod-dirty)").wait_for()


def problems_on_page(state: NotebookState) -> list[str]:
    """What is wrong, as the page shows it: code cells without a count, error outputs."""
    found = []
    for number, cell in enumerate(state.cells, start=1):
        if not cell.code:
            continue
        if not FINISHED_PROMPT.match(cell.prompt or ""):
            found.append(f"cell {number}: no execution count (prompt {cell.prompt!r})")
        for text in cell.stderr:
            if ERROR_TEXT.search(text):
                found.append(f"cell {number}: error output:\n{text.strip()}")
    return found


def problems_in_file(path: Path) -> list[str]:
    """The same two checks on the notebook as JupyterLab saved it."""
    found = []
    for number, cell in enumerate(nbformat.read(path, as_version=4).cells, start=1):
        if cell.cell_type != "code":
            continue
        if cell.execution_count is None:
            found.append(f"cell {number}: no execution count (saved file)")
        for output in cell.outputs:
            if output.output_type == "error":
                found.append(f"cell {number}: {output.ename}: {output.evalue} (saved file)")
    return found


@dataclass
class Run:
    on_page: list[str]
    in_file: list[str]
    state: NotebookState


def run_in_lab(tab: Tab, lab: Lab, name: str) -> Run:
    """Open name in JupyterLab, run every cell from the menu, save, and report problems."""
    opened = open_notebook(tab.page, lab, name)
    if not opened.code_cells:
        return Run([], [], opened)
    state = run_all_cells(tab.page)
    save_notebook(tab.page)
    assert tab.offsite == [], f"requests that would have left the machine: {tab.offsite}"
    saved = nbformat.read(lab.root / name, as_version=4).cells
    saved_counts = [
        f"[{cell.execution_count or ' '}]:" for cell in saved if cell.cell_type == "code"
    ]
    assert saved_counts == state.prompts, "the save did not land"
    return Run(problems_on_page(state), problems_in_file(lab.root / name), state)


def write_scratch(lab: Lab, name: str, cells: list) -> str:
    """Write a small notebook into the server's (temporary) folder; return its name."""
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    nbformat.write(notebook, lab.root / name)
    return name


# --------------------------------------------------------------------------- tests

CHAPTER_NOTEBOOKS = sorted(path.name for path in CHAPTERS.glob("*.ipynb"))


@pytest.mark.parametrize("name", CHAPTER_NOTEBOOKS or [None], ids=lambda name: str(name))
def test_chapter_runs_clean_in_jupyterlab(tab, lab, name):
    assert name is not None, f"no notebooks found in {CHAPTERS}"
    run = run_in_lab(tab, lab, name)
    assert run.on_page == [], "\n".join(run.on_page)
    assert run.in_file == [], "\n".join(run.in_file)
    # A fresh kernel, top to bottom: 1, 2, 3, ...
    counts = run.state.prompts
    assert counts == [f"[{n}]:" for n in range(1, len(counts) + 1)]


def page_config(lab: Lab) -> dict:
    """The settings the server hands to the JupyterLab page (embedded in /lab)."""
    html = lab.fetch("/lab").decode()
    data = re.search(
        r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', html, re.S
    )
    return json.loads(data.group(1))


def test_lab_is_isolated_offline_and_has_myst(lab):
    config = page_config(lab)
    assert config["news"] == {"disabled": True}
    assert ANNOUNCEMENTS_PLUGIN in config["disabledExtensions"]
    # Settings and workspaces come from the test's own folders, not the user's.
    for key in ("userSettingsDir", "workspacesDir"):
        assert Path(config[key]).is_relative_to(lab.root.parent), (key, config[key])
    # The environment's lab extensions are still found.
    assert "jupyterlab-myst" in [extension["name"] for extension in config["federated_extensions"]]


def test_clean_notebook_passes_and_myst_renders(tab, lab):
    """No false alarm for a warning on stderr; MyST markdown is rendered by jupyterlab-myst."""
    code, markdown = nbformat.v4.new_code_cell, nbformat.v4.new_markdown_cell
    name = write_scratch(lab, "scratch_clean.ipynb", [
        markdown("# Scratch\n\n:::{note}\nRendered by MyST.\n:::\n"),
        code("import torch\nprint(torch.__version__)"),
        code("import warnings\nwarnings.warn('only a warning')\n2 + 2"),
    ])  # fmt: skip
    run = run_in_lab(tab, lab, name)
    assert (run.on_page, run.in_file) == ([], [])
    assert run.state.prompts == ["[1]:", "[2]:"]
    assert any("only a warning" in text for text in run.state.code_cells[1].stderr)
    admonition = tab.page.locator(".jp-MarkdownCell .myst .myst-admonition-note")
    assert admonition.inner_text().strip().endswith("Rendered by MyST.")


@pytest.mark.parametrize(
    "failing, unfinished",
    [
        pytest.param("1/0", True, id="error-then-a-cell-left-unrun"),
        pytest.param("def broken(:", False, id="syntax-error-in-last-cell"),
    ],
)
def test_errors_and_unfinished_cells_are_reported(tab, lab, failing, unfinished):
    """The checks above can fail: a notebook that raises must be reported."""
    code = nbformat.v4.new_code_cell
    cells = [code("x = 1"), code(failing)] + ([code("y = 2")] if unfinished else [])
    name = write_scratch(lab, f"scratch_failing_{len(cells)}.ipynb", cells)
    run = run_in_lab(tab, lab, name)
    assert any(p.startswith("cell 2: error output") for p in run.on_page), run.on_page
    assert any(p.startswith("cell 2: ") and "Error" in p for p in run.in_file), run.in_file
    unrun = [p for p in run.on_page if "no execution count" in p]
    assert unrun == (["cell 3: no execution count (prompt '[ ]:')"] if unfinished else [])


def test_a_cell_that_never_finishes_is_reported(tab, lab):
    code = nbformat.v4.new_code_cell
    name = write_scratch(
        lab, "scratch_hangs.ipynb", [code("x = 1"), code("import time\ntime.sleep(600)")]
    )
    open_notebook(tab.page, lab, name)
    with pytest.raises(AssertionError, match="timed out"):
        run_all_cells(tab.page, timeout=2)
    still_running = problems_on_page(read_state(tab.page))
    assert still_running == ["cell 2: no execution count (prompt '[*]:')"]


def test_a_request_off_the_machine_is_caught(tab, lab):
    """The guard behind `tab.offsite == []` works: an image from the web is blocked and noted."""
    url = "https://example.invalid/figure.png"
    name = write_scratch(
        lab, "scratch_offsite.ipynb", [nbformat.v4.new_markdown_cell(f"![x]({url})")]
    )
    open_notebook(tab.page, lab, name)
    deadline = time.monotonic() + PAGE_TIMEOUT
    while url not in tab.offsite and time.monotonic() < deadline:
        time.sleep(POLL)
    assert tab.offsite == [url]


NOT_ATTEMPTED = """\
from exercises import Exercise, check_gradient

exercise = Exercise(
    name="Scratch", loss=lambda w, x: (w * x).sum(), wrt="w", batched=("x",),
    cases=[{"w": [2.0], "x": [1.0, 3.0]}],
)


def my_d_loss(w, x):
    raise NotImplementedError


check_gradient(exercise, my_d_loss)
"""


def test_the_checkers_words_for_the_book_stay_hidden_in_jupyterlab(tab, lab):
    """A not-attempted check says "run this chapter in JupyterLab" in the book only: its
    HTML holds the words in a hidden span. Stored (an untrusted output, which JupyterLab
    cleans) or run here, JupyterLab keeps them hidden (issue 26)."""
    sys.path.insert(0, str(CHAPTERS))
    from exercises import Exercise, check_gradient

    stub = Exercise(
        "Scratch", lambda w, x: (w * x).sum(), "w", [{"w": [2.0], "x": [1.0, 3.0]}], ("x",)
    )
    verdict = check_gradient(stub, None)
    stored = nbformat.v4.new_code_cell(NOT_ATTEMPTED, execution_count=1)
    stored.outputs = [
        nbformat.v4.new_output(
            "execute_result",
            data={"text/plain": repr(verdict), "text/html": verdict._repr_html_()},
            execution_count=1,
        )
    ]
    name = write_scratch(lab, "scratch_book_only.ipynb", [stored])
    open_notebook(tab.page, lab, name)
    words = tab.page.locator(".jp-OutputArea-output", has_text="not attempted yet")
    words.first.wait_for()
    assert "run this chapter in JupyterLab" not in words.first.inner_text()
    run = run_in_lab(tab, lab, name)
    assert (run.on_page, run.in_file) == ([], [])
    shown = tab.page.locator(".jp-OutputArea-output", has_text="not attempted yet").first
    assert "replace `raise NotImplementedError` in `my_d_loss`" in shown.inner_text()
    assert "run this chapter in JupyterLab" not in shown.inner_text()
