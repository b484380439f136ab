"""Shared fixtures for the browser tests: the built book, served locally, in Chromium.

The book is built before the tests run (`make test` runs `make book` first); these
fixtures never build it. Set BOOK_HTML to test another build directory.
"""

import contextlib
import functools
import http.server
import os
import re
import sys
import threading
from pathlib import Path
from urllib.parse import urlsplit

# One thread for torch's operations, here and in every kernel and process the tests start
# (they inherit it). Two workers, their kernels and Chromium already fill the two cores; a
# second OpenMP thread each only waits for a core, spinning: page 3.3's training loops took
# eight times as long that way on a busy machine. The same numbers: the chapters' tensors are
# far below the size at which torch splits an operation between threads.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import pytest  # noqa: E402
import torch  # noqa: E402
from playwright.sync_api import Error as PlaywrightError  # noqa: E402
from playwright.sync_api import sync_playwright

torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))  # if torch came in already

ROOT = Path(__file__).resolve().parents[1]
HTML_DIR = Path(os.environ.get("BOOK_HTML", ROOT / "_build" / "html")).resolve()
OUTPUT_DIR = ROOT / "test-output"
REDIRECT = re.compile(r'<meta\s+http-equiv="refresh"', re.IGNORECASE)


def site_pages(html_dir, redirects=False):
    """Every HTML page of a build, as its path in the site ("chapters/01_1_chain_rule.html"):
    not the theme's assets, not the sources; the redirect stubs (index.html) only when
    ``redirects`` is true. Nothing when the build is missing."""
    if not html_dir.is_dir():
        return []
    pages = []
    for path in sorted(html_dir.rglob("*.html")):
        relative = path.relative_to(html_dir).as_posix()
        if relative.startswith(("_static/", "_sources/", "_images/")):
            continue
        head = path.read_text(encoding="utf-8", errors="replace")[:2000]
        if redirects or not REDIRECT.search(head):
            pages.append(relative)
    return pages


CHROMIUM = os.environ.get(
    "CHROMIUM", "/usr/bin/chromium"
)  # Debian's; Playwright's own is not used
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # No host name resolves but the test servers' 127.0.0.1: nothing leaves the machine.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
TIMEOUT_MS = 30_000  # the longest any one step (load, typeset, click) may take


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item, so fixtures can see a failure."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def html_dir():
    """The built book; a clear failure, not a skip, when it has not been built."""
    if not (HTML_DIR / "index.html").is_file():
        pytest.fail(
            f"The built book is missing: {HTML_DIR / 'index.html'} does not exist. "
            "Build it first with: make book   (`make test` builds it, then runs pytest)",
            pytrace=False,
        )
    return HTML_DIR


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        pass


class _QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        """A connection the browser closed before its file was sent (a page left while it
        loads) is not an error; anything else is printed as before."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@contextlib.contextmanager
def served(directory):
    """http://127.0.0.1:<free port>/ serving ``directory`` from a background thread."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = _QuietServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="session")
def base_url(html_dir):
    """The built book, served (``served``)."""
    with served(html_dir) as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium (Debian's) for the whole session.

    Playwright's sync API allows one instance per process (a second one fails with
    "using Playwright Sync API inside the asyncio loop"), so every browser test in
    tests/ should use this fixture rather than start its own.
    """
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"Chromium is missing: {CHROMIUM} does not exist, and the browser tests need it. "
            "Install it with: make chromium   (as root that runs "
            "`apt-get install -y chromium`; otherwise run: sudo apt-get install -y chromium)",
            pytrace=False,
        )
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=TIMEOUT_MS
        )
        yield browser
        browser.close()


class Visit:
    """A browser tab on the served book, recording everything that went wrong."""

    def __init__(self, page, base_url):
        self.page = page
        self.base_url = base_url
        self.path = None  # the book page last loaded here
        self.console_errors = []
        self.failed_requests = []
        self.external_requests = []

    def url(self, path):
        return self.base_url + path.lstrip("/")

    def goto(self, path):
        response = self.page.goto(self.url(path), wait_until="load")
        assert response is not None and response.ok, f"{path}: HTTP {response and response.status}"
        return response

    def problems(self):
        """Everything recorded so far that the book's content or config caused.

        Not the book's:
        - axe-core fetches the theme's style sheets to read them and resolves their
          `@import "../basic.css"` against the page instead of the sheet, asking for
          <root>/basic.css, which no page of the book refers to;
        - a request the browser cancelled (net::ERR_ABORTED) because the test moved on to
          another page before it finished, such as the favicon of a page left at once. A file
          that is missing still counts: the server answers it with 404, recorded apart.
        """
        axe_fetch = self.url("basic.css")
        lines = []
        lines += [f"request leaving 127.0.0.1 (blocked): {u}" for u in self.external_requests]
        lines += [
            f"failed request: {r}"
            for r in self.failed_requests
            if axe_fetch not in r and not r.endswith("(net::ERR_ABORTED)")
        ]
        lines += [f"console error: {e}" for e in self.console_errors if axe_fetch not in e]
        return lines

    def assert_clean(self):
        problems = self.problems()
        assert not problems, f"{self.page.url}:\n" + "\n".join(problems)


LAPTOP = {"viewport": {"width": 1280, "height": 900}}
# Lighthouse's mobile screen, with touch, as a phone's browser reports it.
PHONE = {"viewport": {"width": 412, "height": 823}, "has_touch": True, "is_mobile": True}


@contextlib.contextmanager
def open_visit(browser, base_url, device=LAPTOP):
    """A fresh tab on the served book, recording everything that goes wrong in it."""
    context = browser.new_context(**device)
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    page = context.new_page()
    visit = Visit(page, base_url)

    def route(route):
        # Nothing may leave the machine: the book must work offline.
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            visit.external_requests.append(route.request.url)
            route.abort()

    context.route(re.compile(r"^https?://"), route)
    page.on(
        "console",
        lambda msg: (
            msg.type == "error"
            and visit.console_errors.append(f"{msg.text} ({msg.location.get('url', '')})")
        ),
    )
    page.on("pageerror", lambda exc: visit.console_errors.append(f"uncaught: {exc}"))
    page.on(
        "requestfailed",
        lambda req: (
            req.url not in visit.external_requests
            and visit.failed_requests.append(f"{req.url} ({req.failure})")
        ),
    )
    page.on(
        "response",
        lambda resp: (
            resp.status >= 400 and visit.failed_requests.append(f"{resp.url} (HTTP {resp.status})")
        ),
    )
    try:
        yield visit
    finally:
        context.close()


def screenshot_if_failed(request, page):
    """After a failed test, a full-page screenshot of `page` goes to test-output/."""
    report = getattr(request.node, "report_call", None)
    if report is None or not report.failed:
        return
    OUTPUT_DIR.mkdir(exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid).strip("_")
    path = OUTPUT_DIR / f"{name}.png"
    try:
        page.screenshot(path=str(path), full_page=True, timeout=TIMEOUT_MS)
        print(f"screenshot of the failure: {path}")
    except PlaywrightError as exc:  # a screenshot must not hide the real failure
        print(f"could not save a screenshot to {path}: {exc}")


@pytest.fixture
def visit(browser, base_url, request):
    """A fresh tab; on failure a full-page screenshot goes to test-output/."""
    with open_visit(browser, base_url) as visit:
        yield visit
        screenshot_if_failed(request, visit.page)


def pytest_terminal_summary(terminalreporter):
    """The mutation test's kill rate, from every worker's reports (tests/test_mutations.py)."""
    outcomes = [
        value
        for report in terminalreporter.stats.get("passed", [])
        + terminalreporter.stats.get("failed", [])
        for name, value in report.user_properties
        if name == "mutant"
    ]
    if outcomes:
        killed = sum(outcome.endswith(": killed") for outcome in outcomes)
        terminalreporter.write_sep("-", "mutation testing")
        for outcome in sorted(outcomes):
            terminalreporter.write_line(outcome)
        terminalreporter.write_line(
            f"kill rate: {killed}/{len(outcomes)} ({100 * killed / len(outcomes):.0f}%)"
        )


# How `make test` shares the work between its two xdist workers (`--dist loadgroup`, and
# --no-loadscope-reorder from pyproject.toml): each test goes with its group, a group is
# handed out whole, groups in the order of their first test. xdist 3.8's own loadgroup
# does not work with pytest 9 (it renames item._nodeid, which pytest 9 no longer reads),
# so the scheduler below gives xdist the groups, from each test's node id. (Without
# loadgroup, as in `make nbval`, xdist hands out whole files.)
# - A module is a group: its module-scoped fixtures (a loaded page, a vnu run, a build) are
#   set up once, and a notebook's nbval cells share one kernel.
# - The tests that read the notebooks' shared in-process runs (tests/chapter_runner.py's
#   run_notebook), marked `shares_notebook_runs`, are one group, so each notebook runs once.
#   SHARES_NOTEBOOK_RUNS lists them by node id (the scheduler sees no marks); the
#   collection checks that the list and the marks agree.
# - In a module of SPREAD, each test's first parameter (up to a ":") names its group: the
#   mutants and the other-input runs, a group per notebook, which both workers share.
# - The longest groups go first (JupyterLab running every chapter, the browser visiting
#   every page, the shared runs), so that the short ones fill in beside them at the end.
SHARED_RUNS = "shares_notebook_runs"
SHARES_NOTEBOOK_RUNS = (
    "tests/test_chapter_figures.py::",
    "tests/test_softmax_figure.py::",
    "tests/test_figure_text.py::",
    "tests/test_exercise_slips.py::",
    "tests/test_exercises.py::",
    "tests/test_mutations.py::test_the_correct_chapter_passes_the_same_harness[",
)
SPREAD = ("tests/test_mutations.py", "tests/test_parameters.py")
SLOW_FIRST = ("tests/test_jupyterlab.py", "tests/test_browser.py", SHARED_RUNS)


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        f"{SHARED_RUNS}: reads tests/chapter_runner.py's shared notebook runs; "
        "kept on one xdist worker (conftest.SHARES_NOTEBOOK_RUNS)",
    )
    config.addinivalue_line(
        "markers",
        "slow: a real install that nothing can share; run by `make test-slow`, not `make test`",
    )


def group_of(nodeid):
    """The group a test is handed out with, from its node id (see above)."""
    if nodeid.startswith(SHARES_NOTEBOOK_RUNS):
        return SHARED_RUNS
    module = nodeid.split("::")[0]
    if module in SPREAD and nodeid.endswith("]") and "[" in nodeid:
        return f"{module}:{nodeid[nodeid.index('[') + 1 : -1].split(':')[0]}"
    return module


def pytest_xdist_make_scheduler(config, log):
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class Groups(LoadScopeScheduling):
        def _split_scope(self, nodeid):
            return group_of(nodeid)

    return Groups(config, log)


def pytest_collection_modifyitems(items):
    wrong = [
        item.nodeid
        for item in items
        if (item.get_closest_marker(SHARED_RUNS) is not None)
        != (group_of(item.nodeid) == SHARED_RUNS)
    ]
    if wrong:
        raise pytest.UsageError(
            f"tests/conftest.py: SHARES_NOTEBOOK_RUNS and the {SHARED_RUNS} marks disagree "
            f"on: {wrong[:5]} (a test that reads run_notebook carries the mark and is listed)"
        )

    def rank(item):
        group = group_of(item.nodeid).split(":")[0]
        return SLOW_FIRST.index(group) if group in SLOW_FIRST else len(SLOW_FIRST)

    items.sort(key=rank)
